"""What the 2-D and the 3-D view do alike with the hover readout.

Why its own module: both views name the item under the mouse (render/picking.py) and
keep its numbers current while the time moves (Play, the slider), and both put the
readout's box beside the mouse, turned to the other side where it would leave the
view; only how they find the item and draw the box differ (render/view2d_hover.py,
render/view3d_hover.py).
"""

from __future__ import annotations

from PySide6.QtGui import QColor

from nndyn_gui.render import picking
from nndyn_gui.render.scene import FlowScene

TIP_OFFSET_PX = 14.0  # the readout's corner from the mouse
TIP_BORDER = QColor(120, 120, 120, 200)
TIP_FILL = QColor(255, 255, 255, 235)  # light under dark text: reads over any picture
TIP_TEXT = QColor(30, 30, 30)


def follow(scene: FlowScene, hover: picking.Hover, t: float) -> picking.Hover | None:
    """The hovered item described at time t; None when there is nothing to follow: a
    region's readout is about the input only, and a new scene may lack the row."""
    if hover.kind == "region":
        return None
    n = scene.points.shape[1] if hover.kind == "point" else scene.grid.shape[1]
    if hover.row >= n:
        return None
    return picking.describe(scene, t, hover.kind, hover.row)


def tip_position(
    anchor: tuple[float, float], tip: tuple[float, float], box: tuple[float, float]
) -> tuple[float, float]:
    """Top-left of a `tip` (width, height) box beside `anchor` in a `box` (width, height)
    area: below right of it, above or left where it would leave the area."""
    x, y = anchor[0] + TIP_OFFSET_PX, anchor[1] + TIP_OFFSET_PX
    if x + tip[0] > box[0]:
        x = anchor[0] - TIP_OFFSET_PX - tip[0]
    if y + tip[1] > box[1]:
        y = anchor[1] - TIP_OFFSET_PX - tip[1]
    return max(0.0, x), max(0.0, y)
