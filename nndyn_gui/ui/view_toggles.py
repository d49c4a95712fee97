"""The row of view toggles under the main view: what is drawn, 3-D, and Draw data.

Why it exists: each box is one `ViewOptions` field; the row knows which of them apply
to the run (Sub-steps only for an MLP, 3-D only from width 3 and not while drawing) and
reports a toggle as the options it changes, so the panel has one road to new options.
"""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QToolButton, QWidget

from nndyn_gui.core.config import RunConfig
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
    ("substeps", "Sub-steps", "MLP: show A x, A x + b and s(A x + b) as separate frames"),
)
SUBSTEPS_RESNET_TIP = "MLP only: a ResNet block is a single small step"


class ViewToggles(QWidget):
    """`checks[field]` per option, `check_3d`, `draw_button`; `toggled(changes)` on a click."""

    toggled = Signal(dict)  # {ViewOptions field: bool} as the boxes are now

    def __init__(self, options: ViewOptions, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(12)
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
        row.addStretch(1)
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
        """Which boxes apply to this net (Sub-steps: MLP; 3-D: width >= 3, not drawing)."""
        mlp = cfg.model.kind == "mlp"
        box = self.checks["substeps"]
        box.setEnabled(mlp)
        box.setToolTip(OPTION_BOXES[-1][2] if mlp else SUBSTEPS_RESNET_TIP)
        self.check_3d.setEnabled(cfg.model.width >= 3 and not self.draw_button.isChecked())

    @Slot(bool)
    def _on_box(self, _on: bool) -> None:
        self.toggled.emit({key: box.isChecked() for key, box in self.checks.items()})
