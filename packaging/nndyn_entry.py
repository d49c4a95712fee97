"""Entry point of the PyInstaller bundle: one executable, `nndyn`.

    dist/nndyn/nndyn                      opens the window (nndyn_gui.ui.app:main)
    dist/nndyn/nndyn --screenshot a.png --quit   any GUI option goes to the window
    dist/nndyn/nndyn train|presets|info|render ...   the command line (nndyn_gui.cli:main)

A wheel install has two commands instead (`nndyn-gui` and `nndyn`); a bundle has one, so
the first argument decides. Only used by packaging/nndyn.spec.
"""

from __future__ import annotations

import multiprocessing
import os
import sys

CLI_COMMANDS = {"train", "presets", "info", "render", "--version"}


def main() -> int:
    # First: when multiprocessing starts this executable as the training worker (core/
    # engine.py, spawn), this runs the worker and exits; nothing below runs there.
    multiprocessing.freeze_support()
    # TensorFlow's C++ start-up chatter off unless the user asks for it.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if len(sys.argv) > 1 and sys.argv[1] in CLI_COMMANDS:
        from nndyn_gui.cli.commands import main as cli_main

        return int(cli_main(sys.argv[1:]) or 0)
    from nndyn_gui.ui.app import main as gui_main

    return int(gui_main() or 0)


if __name__ == "__main__":
    sys.exit(main())
