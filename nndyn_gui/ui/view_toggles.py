"""The row of view toggles under the main view: what is drawn, 3-D, and Draw data.

Why it exists: each box is one `ViewOptions` field; the row knows which of them apply
to the run (Sub-steps only for an MLP, 3-D only from width 3 and not while drawing) and
reports a toggle as the options it changes, so the panel has one road to new options.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize, Qt, Signal, Slot
from PySide6.QtWidgets import QCheckBox, QLayout, QLayoutItem, QToolButton, QWidget

from nndyn_gui.core.config import RunConfig
from nndyn_gui.render.costate_layer import ARROW_POINTS
from nndyn_gui.render.scene import ViewOptions

OPTION_BOXES = (
    ("show_grid", "Grid", "the regular grid carried through the layers"),
    ("show_points", "Points", "the data points"),
    ("show_plane", "Plane", "the head's separating line / plane at the last layer"),
    ("show_regions", "Regions", "the network's decision regions in the input space"),
    ("show_loop", "Loop", "a closed loop in the outer class (ring data): topology"),
    ("show_trajectories", "Trajectories", "tails behind the points: where they came from"),
    (
        "show_field",
        "Field",
        "the velocity field of the current block, h·σ(A_k x + b_k) (MLP: the displacement "
        "σ(A_k x + b_k) − x), coloured and scaled by speed; fixed points of tied nets",
    ),
    (
        "show_density",
        "Density",
        "the distribution, not just the training sample: each class's density of ~50,000 "
        "fresh points of the data set carried through the layers (2-D: shaded by density; "
        "3-D: a cloud, opacity by density)",
    ),
    (
        "show_costate",
        "Costate",
        "the adjoint: at each layer t, an arrow at training points spread over the input "
        f"(at most {ARROW_POINTS}) along "
        "p_t = −∂loss/∂x_t, where moving the point would lower the loss fastest (coloured "
        "by class; scaled per layer, the factor in the caption); the Hamiltonian per layer "
        "is plotted in Diagnostics",
    ),
    ("substeps", "Sub-steps", "MLP: show A x, A x + b and s(A x + b) as separate frames"),
)
SUBSTEPS_RESNET_TIP = "MLP only: a ResNet block is a single small step"


SPACING = 6  # px between boxes (and between lines when the row wraps), Qt's own: 12 made the
# window wider than a 1280x720 screen once Costate joined the row


class _FlowRow(QLayout):
    """The boxes in one line; when the row is short of room (a 1280x720 projector: the
    window must not grow wider than the screen for them) the last item, Draw data, goes
    to a second line, at its right end as in the first."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._place(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._place(rect, move=True)

    def sizeHint(self) -> QSize:
        return self._line([it.sizeHint() for it in self._items if not it.isEmpty()])

    def minimumSize(self) -> QSize:
        """The check boxes in one line (the view keeps the width it had before there were
        this many); only the last item, Draw data, moves under them when short of room."""
        shown = [it.sizeHint() for it in self._items if not it.isEmpty()]
        return self._line(shown[:-1] if len(shown) > 1 else shown)

    @staticmethod
    def _line(sizes: list[QSize]) -> QSize:
        w = sum(sz.width() for sz in sizes) + SPACING * max(0, len(sizes) - 1)
        return QSize(w, max((sz.height() for sz in sizes), default=0))

    def _place(self, rect: QRect, move: bool) -> int:
        """Lay the items out in `rect` (or only measure); returns the height used."""
        shown = [it for it in self._items if not it.isEmpty()]
        x, y, line = rect.x(), rect.y(), 0
        for i, it in enumerate(shown):
            size = it.sizeHint()
            if x > rect.x() and x + size.width() > rect.right() + 1:
                x, y, line = rect.x(), y + line + SPACING // 2, 0
            at = x
            if i == len(shown) - 1:  # the last (Draw data): at the right end of its line
                at = max(x, rect.right() + 1 - size.width())
            if move:
                it.setGeometry(QRect(QPoint(at, y), size))
            x += size.width() + SPACING
            line = max(line, size.height())
        return y + line - rect.y()


class ViewToggles(QWidget):
    """`checks[field]` per option, `check_3d`, `draw_button`; `toggled(changes)` on a click."""

    toggled = Signal(dict)  # {ViewOptions field: bool} as the boxes are now

    def __init__(self, options: ViewOptions, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = _FlowRow(self)
        self.checks: dict[str, QCheckBox] = {}
        for key, text, tip in OPTION_BOXES:
            box = QCheckBox(text)
            box.setToolTip(tip)
            box.setChecked(bool(getattr(options, key)))
            box.toggled.connect(self._on_box)
            self.checks[key] = box
            row.addWidget(box)
        self.check_3d = QCheckBox("3-D")
        self.check_3d.setToolTip("Rotatable 3-D view for width >= 3 (needs OpenGL)")
        self.check_3d.setChecked(True)
        row.addWidget(self.check_3d)
        self.draw_button = QToolButton()
        self.draw_button.setText("✎ Draw data")
        self.draw_button.setCheckable(True)
        self.draw_button.setToolTip(
            "Draw your own data at the input layer: click adds a point of the chosen class, "
            "shift-click or right-click removes one, dragging paints (shift / right: erases)"
        )
        row.addWidget(self.draw_button)

    def show_options(self, options: ViewOptions) -> None:
        """The boxes as `options` say, without reporting it back."""
        for key, box in self.checks.items():
            box.blockSignals(True)
            box.setChecked(bool(getattr(options, key)))
            box.blockSignals(False)

    def follow_config(self, cfg: RunConfig) -> None:
        """Which boxes apply to this net (Sub-steps: MLP; 3-D: width >= 3, not drawing).

        Sub-steps is hidden, not only greyed, for a ResNet: with Costate the row of boxes
        made the window wider than a 1280x720 screen (and narrowed the per-block table
        at 1080p); an MLP's row still fits (SPACING)."""
        mlp = cfg.model.kind == "mlp"
        box = self.checks["substeps"]
        box.setEnabled(mlp)
        box.setVisible(mlp)
        box.setToolTip(OPTION_BOXES[-1][2] if mlp else SUBSTEPS_RESNET_TIP)
        self.check_3d.setEnabled(cfg.model.width >= 3 and not self.draw_button.isChecked())

    @Slot(bool)
    def _on_box(self, _on: bool) -> None:
        self.toggled.emit({key: box.isChecked() for key, box in self.checks.items()})
