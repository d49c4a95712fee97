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
bash scripts/with-x.sh $BIN/python -m pytest -m gl -p no:cacheprovider "$@"
rc=$?
case $rc in
    0) ;;
    5) echo "no OpenGL tests collected" ;;
    77) echo "OpenGL tests skipped: no X server available" ;;
    *) status=1 ;;
esac
if [[ $status == 0 ]]; then echo "ALL CHECKS PASSED"; else echo "SOME CHECKS FAILED"; fi
exit $status
