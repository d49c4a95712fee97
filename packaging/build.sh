#!/usr/bin/env bash
# Build the one-folder desktop bundle (PyInstaller) and, with --wheel, the wheel.
#
#   bash packaging/build.sh                 # bundle -> /tmp/nndyn-build/dist/nndyn/
#   bash packaging/build.sh --wheel         # wheel  -> /tmp/nndyn-build/wheels/
#   bash packaging/build.sh --smoke         # bundle, then start it once under X (Xvfb)
#   NNDYN_BUILD=/somewhere bash packaging/build.sh   # other output folder
#
# Nothing is written into the source tree: the sources are copied to a scratch folder
# first (setuptools would otherwise leave build/ and *.egg-info behind), the build venv,
# PyInstaller's work folder and the results all live under $NNDYN_BUILD (default
# /tmp/nndyn-build). The build venv is kept and reused; delete it for a clean build.
# Expect about 2 GB of downloads/disk (TensorFlow) and several minutes on 2 cores.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${NNDYN_BUILD:-/tmp/nndyn-build}
PY=${PY:-python3}
VENV="$OUT/venv"
SRC="$OUT/src"
DO_BUNDLE=1
DO_WHEEL=0
DO_SMOKE=0
for arg in "$@"; do
    case $arg in
        --wheel) DO_WHEEL=1; DO_BUNDLE=0 ;;
        --all) DO_WHEEL=1; DO_BUNDLE=1 ;;
        --smoke) DO_SMOKE=1 ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) echo "build.sh: unknown option $arg (try --help)" >&2; exit 2 ;;
    esac
done
case $OUT in
    "$ROOT"|"$ROOT"/*) echo "build.sh: NNDYN_BUILD must be outside the source tree" >&2; exit 2 ;;
esac
mkdir -p "$OUT"
t0=$(date +%s)

# ---- a clean copy of the sources (only what a checkout has; no venv, caches, builds)
rm -rf "$SRC"
mkdir -p "$SRC"
tar -C "$ROOT" \
    --exclude=./.git --exclude=./.venv --exclude=./build --exclude=./dist \
    --exclude='*.egg-info' --exclude='__pycache__' --exclude='.*_cache' \
    --exclude=./out --exclude='*.nndyn' \
    -cf - . | tar -C "$SRC" -xf -
echo "== sources copied to $SRC"

# ---- the wheel (pure Python; dependencies are resolved at install time)
if [[ $DO_WHEEL == 1 ]]; then
    "$PY" -m venv "$OUT/wheel-venv"
    "$OUT/wheel-venv/bin/python" -m pip install -q --upgrade pip setuptools wheel
    rm -rf "$OUT/wheels"
    "$OUT/wheel-venv/bin/python" -m pip wheel -q --no-deps "$SRC" -w "$OUT/wheels"
    echo "== wheel: $(ls "$OUT"/wheels/*.whl)"
fi

# ---- the bundle
if [[ $DO_BUNDLE == 1 ]]; then
    if [[ ! -x "$VENV/bin/python" ]]; then
        "$PY" -m venv "$VENV"
    fi
    "$VENV/bin/python" -m pip install -q --upgrade pip
    # nndyn itself non-editable (so its resources are an ordinary installed package),
    # with its dependencies (tensorflow-cpu on x86_64), plus PyInstaller.
    "$VENV/bin/python" -m pip install -q "$SRC" "pyinstaller>=6.10" "pyinstaller-hooks-contrib"
    echo "== build venv: $("$VENV/bin/python" -m pip list 2>/dev/null \
        | grep -Ei '^(pyinstaller|pyinstaller-hooks-contrib|tensorflow|tensorflow[-_]cpu|pyside6[-_]essentials|pyqtgraph) ' \
        | tr -s ' ' | paste -sd ',' -)"
    t1=$(date +%s)
    # run from the scratch copy so the spec finds resources/ and packaging/ there
    (cd "$SRC" && "$VENV/bin/pyinstaller" --noconfirm --clean --log-level WARN \
        --distpath "$OUT/dist" --workpath "$OUT/work" packaging/nndyn.spec)
    t2=$(date +%s)

    # desktop integration files beside the executable (XDG layout under share/)
    DIST="$OUT/dist/nndyn"
    mkdir -p "$DIST/share/applications" "$DIST/share/metainfo"
    # the bundle has one executable, `nndyn` (no argument = the window)
    sed -e 's/^Exec=nndyn-gui/Exec=nndyn/' -e 's/^TryExec=nndyn-gui/TryExec=nndyn/' \
        "$SRC/packaging/nndyn.desktop" >"$DIST/share/applications/io.github.nndyn.desktop"
    cp "$SRC/packaging/io.github.nndyn.metainfo.xml" "$DIST/share/metainfo/"
    for png in "$SRC"/resources/icons/nndyn-*.png; do
        size=$(basename "$png" .png); size=${size#nndyn-}
        mkdir -p "$DIST/share/icons/hicolor/${size}x${size}/apps"
        cp "$png" "$DIST/share/icons/hicolor/${size}x${size}/apps/nndyn.png"
    done
    mkdir -p "$DIST/share/icons/hicolor/scalable/apps"
    cp "$SRC/resources/icons/nndyn.svg" "$DIST/share/icons/hicolor/scalable/apps/nndyn.svg"

    echo "== bundle: $DIST ($(du -sh "$DIST" | cut -f1), $(find "$DIST" -type f | wc -l) files)"
    echo "== PyInstaller took $((t2 - t1)) s; total $((t2 - t0)) s"
    echo "   run it:  $DIST/nndyn          (the window)"
    echo "            $DIST/nndyn presets  (the command line)"

    if [[ $DO_SMOKE == 1 ]]; then
        echo "== smoke: $DIST/nndyn presets"
        "$DIST/nndyn" presets
        echo "== smoke: window screenshot -> $OUT/bundle-smoke.png"
        bash "$ROOT/scripts/with-x.sh" "$DIST/nndyn" --screenshot "$OUT/bundle-smoke.png" --quit
        ls -l "$OUT/bundle-smoke.png"
    fi
fi
