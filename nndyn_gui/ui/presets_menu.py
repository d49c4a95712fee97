"""The Presets menu: human titles, grouped under the article's sections, in its order.

Why a module: the window only wires menus; what a preset is called and where it sits
comes from the preset files (core/io/presets.py: "title", "section"), so the menu, the
command line and the docs cannot drift apart.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from nndyn_gui.core.io.presets import PresetError, grouped_presets

log = logging.getLogger(__name__)


def fill_presets_menu(menu: QMenu, load: Callable[[str], object]) -> dict[str, QAction]:
    """Fill `menu` with one action per preset (keyed by preset name) under section headers."""
    menu.clear()
    actions: dict[str, QAction] = {}
    try:
        groups = grouped_presets()
    except (PresetError, OSError) as e:  # a broken preset file must not take the window down
        log.warning("presets unavailable: %s", e)
        menu.addAction(f"(presets unavailable: {e})").setEnabled(False)
        return actions
    menu.setToolTipsVisible(True)
    for section, infos in groups:
        menu.addSection(section)
        for info in infos:
            act = QAction(info.display_title, menu)
            tip = f"{info.description}\n(preset {info.name})"
            act.setToolTip(tip)
            act.setStatusTip(info.description)
            act.setData(info.name)
            act.triggered.connect(lambda _=False, n=info.name: load(n))
            menu.addAction(act)
            actions[info.name] = act
    return actions
