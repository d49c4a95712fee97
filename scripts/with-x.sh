#!/usr/bin/env bash
# Run a command with an X server: the current $DISPLAY if it answers, else a private Xvfb.
# OpenGL views (pyqtgraph.opengl) need one; Qt's offscreen platform cannot do OpenGL.
set -euo pipefail
if [[ -n "${DISPLAY:-}" ]] && xdpyinfo >/dev/null 2>&1; then
    exec env QT_QPA_PLATFORM=xcb "$@"
fi
if ! command -v Xvfb >/dev/null 2>&1; then
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
        echo "with-x: installing Xvfb (apt-get install xvfb)" >&2
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            xvfb x11-utils libgl1 libegl1 libgl1-mesa-dri libglx-mesa0 libxkbcommon-x11-0 \
            libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0 \
            libxcb-image0 libxcb-render-util0 libfontconfig1 libdbus-1-3) >/dev/null
    else
        echo "with-x: no X server and no Xvfb (apt-get install xvfb); cannot run: $*" >&2
        exit 77
    fi
fi
for n in $(seq 90 130); do
    [[ -e /tmp/.X11-unix/X$n || -e /tmp/.X$n-lock ]] && continue
    Xvfb ":$n" -screen 0 1920x1080x24 -nolisten tcp >/dev/null 2>&1 &
    XPID=$!
    trap 'kill $XPID 2>/dev/null || true' EXIT
    for _ in $(seq 50); do
        DISPLAY=":$n" xdpyinfo >/dev/null 2>&1 && break
        sleep 0.1
    done
    export DISPLAY=":$n" QT_QPA_PLATFORM=xcb
    "$@"
    exit $?
done
echo "with-x: no free display number" >&2
exit 1
