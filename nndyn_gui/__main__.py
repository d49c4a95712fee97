"""`python -m nndyn_gui` opens the desktop app (same as `nndyn-gui`)."""

import sys

from nndyn_gui.ui.app import main

if __name__ == "__main__":
    sys.exit(main())
