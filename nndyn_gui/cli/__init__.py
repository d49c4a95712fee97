"""Every command: `nndyn` (commands.py: the parser, info, presets; train.py; verify.py),
`nndyn sweep` and `sweep-plot` (sweep.py), `nndyn render` (render.py).
`python -m nndyn_gui.cli` runs `nndyn`.
"""

from __future__ import annotations

from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """The `nndyn` command (its console script and `python -m nndyn_gui.cli`)."""
    from nndyn_gui.cli.commands import main as nndyn

    return nndyn(argv)
