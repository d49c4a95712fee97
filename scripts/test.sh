#!/usr/bin/env bash
# The README's test command runs this: lint, types, layering, then the tests in phases:
#   1. side by side:
#      - everything that needs no OpenGL and measures no time, under Qt's offscreen
#        platform, in NNDYN_TEST_PROCESSES (default 2) pytest processes (pytest-xdist, a
#        whole file per process, so a file's shared fixtures start once);
#      - the OpenGL (3-D) tests under an X server (Xvfb), one process per file, since Qt
#        picks one platform per process; their output is printed once phase 1 is over;
#   2. the tests marked `timing` (stall budgets, "returns within", first frame in 0.5 s),
#      offscreen, alone: a second test process on the machine would eat their budget.
# Any failure anywhere makes the exit status non-zero; "ALL CHECKS PASSED" only then not.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PROCESSES=${NNDYN_TEST_PROCESSES:-2}
status=0
step() { echo "== $*"; }
# pytest's exit status 5 is "no test collected" (e.g. `-k` matched none of a phase's)
check() { [[ $1 == 0 || $1 == 5 ]] || status=1; }

step "ruff check";        $BIN/ruff check . || status=1
step "ruff format";       $BIN/ruff format --check . || status=1
step "mypy";              $BIN/mypy || status=1
step "import-linter";     $BIN/lint-imports || status=1
[[ "${1:-}" == "--lint-only" ]] && exit $status

# One process per file, so that one file's OpenGL contexts and windows cannot disturb
# another's. (Mesa's llvmpipe and TensorFlow both bundle LLVM and crash in one process:
# the app trains in the engine's worker process, core/engine/session.py, and no GL test
# imports TensorFlow itself.) In a session of its own, so that an early exit ends all of it.
GL_FILES=$(grep -rl "pytest.mark.gl" tests --include="test_*.py" | sort)
GL_LOG=$(mktemp)
setsid -w bash scripts/with-x.sh bash -c '
    rc=0
    for f in '"$(echo $GL_FILES)"'; do
        '"$BIN"'/python -m pytest -m gl -p no:cacheprovider "$f" "$@"; r=$?
        [[ $r == 0 || $r == 5 ]] || rc=1
    done
    exit $rc' _ "$@" >"$GL_LOG" 2>&1 &
GL_PID=$!
trap 'kill -- -$GL_PID 2>/dev/null; rm -f "$GL_LOG"' EXIT

step "pytest (offscreen, $PROCESSES processes; the OpenGL tests run meanwhile, shown below)"
QT_QPA_PLATFORM=offscreen $BIN/python -m pytest -m "not gl and not timing" -p no:cacheprovider \
    -n "$PROCESSES" --dist loadfile "$@"
check $?

wait $GL_PID
rc=$?
step "pytest (OpenGL under X)"
cat "$GL_LOG"
case $rc in
    0) ;;
    5) echo "no OpenGL tests collected" ;;
    77) echo "OpenGL tests skipped: no X server available" ;;
    *) status=1 ;;
esac

step "pytest (offscreen, tests that measure time: one process, alone)"
QT_QPA_PLATFORM=offscreen $BIN/python -m pytest -m "timing and not gl" -p no:cacheprovider "$@"
check $?

if [[ $status == 0 ]]; then echo "ALL CHECKS PASSED"; else echo "SOME CHECKS FAILED"; fi
exit $status
