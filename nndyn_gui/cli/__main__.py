"""`python -m nndyn_gui.cli`: the `nndyn` command."""

import sys

from nndyn_gui.cli.commands import main

sys.exit(main())
