#!/usr/bin/env bash
# The README's test command runs this: lint, types, layering, then the tests in two
# processes - everything that needs no OpenGL under Qt's offscreen platform, and the
# OpenGL (3-D) tests under an X server (Xvfb), since Qt picks one platform per process.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
status=0
step() { echo "== $*"; }

step "ruff check";        $BIN/ruff check . || status=1
step "ruff format";       $BIN/ruff format --check . || status=1
step "mypy";              $BIN/mypy || status=1
step "import-linter";     $BIN/lint-imports || status=1
[[ "${1:-}" == "--lint-only" ]] && exit $status

step "pytest (offscreen)"
QT_QPA_PLATFORM=offscreen $BIN/python -m pytest -m "not gl" -p no:cacheprovider "$@"
rc=$?; [[ $rc != 0 ]] && status=1

step "pytest (OpenGL under X)"
# One process per file, so that one file's OpenGL contexts and windows cannot disturb
# another's. (Mesa's llvmpipe and TensorFlow both bundle LLVM and crash in one process:
# the app trains in the engine's worker process, core/engine/session.py, and no GL test imports
# TensorFlow itself.)
GL_FILES=$(grep -rl "pytest.mark.gl" tests --include="test_*.py" | sort)
bash scripts/with-x.sh bash -c '
    rc=0
    for f in '"$(echo $GL_FILES)"'; do
        '"$BIN"'/python -m pytest -m gl -p no:cacheprovider "$f" "$@"; r=$?
        [[ $r == 0 || $r == 5 ]] || rc=1
    done
    exit $rc' _ "$@"
rc=$?
case $rc in
    0) ;;
    5) echo "no OpenGL tests collected" ;;
    77) echo "OpenGL tests skipped: no X server available" ;;
    *) status=1 ;;
esac
if [[ $status == 0 ]]; then echo "ALL CHECKS PASSED"; else echo "SOME CHECKS FAILED"; fi
exit $status
