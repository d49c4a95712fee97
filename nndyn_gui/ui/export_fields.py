"""The Export dialog's fields: what can be exported, how, and why something cannot.

Why it exists: the fields (format, content, size, timing, look, title, caption, file)
and the rules between them — which contents a format and this net allow, with the
reason as a tooltip and under the list; which numbers a format uses — are one job; the
dialog (ui/export_dialog.py) wires them to the preview (ui/export_preview.py), the
checks of the whole request (ui/export_request.py) and the running export. Names,
ranges, defaults and file names come from `render/export_spec.py`, the table the
exporter and `nndyn render` read too.

Another export kind: its format in `export_spec.FORMATS` appears in the Format list by
itself and `content_problem` says what it cannot hold; a field only it uses is one row in
`ExportFields.form`, enabled for it in `follow_format`. The web page (.html, written by
render/web) is one: its row is "Page" (snapshots, layers, points and grid kept), and
`WEB_UNUSED` says why each field it has no use for is off (tooltip and the note under
Content).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from nndyn_gui.render import export_spec as spec
from nndyn_gui.render.camera import CameraKey
from nndyn_gui.render.web import WebOptions
from nndyn_gui.render.web.flowdata import LIMITS as WEB_LIMITS

FORMATS = tuple((f.label, f.key) for f in spec.FORMATS)
CONTENTS = tuple((c.label, c.key) for c in spec.CONTENTS)
SIZES = (*spec.SIZES, ("Custom…", 0, 0))
BACKGROUNDS = tuple((b.label, b.key) for b in spec.BACKGROUNDS)
VIDEO = spec.VIDEO_EXTENSIONS
VECTOR = spec.VECTOR_EXTENSIONS
WEB = spec.WEB_EXTENSION
ERROR_STYLE = "color: #c62828;"
NOTE_STYLE = "color: #8a6d00;"
OK_STYLE = "color: #1a7f37;"

#: the web page's numbers: WebOptions field -> (label, tooltip); ranges from render/web
WEB_NUMBERS = {
    "snapshots": ("Snapshots", "At most this many snapshots, evenly over training, the first "
                  "and the last kept (all: every snapshot); the page's slider moves over them"),
    "layers": ("Layers", "At most this many layers, the input and the output kept (all: "
               "every layer); the page's layer slider and Play move over them"),
    "points": ("Points", "At most this many data points (fewer make a smaller page)"),
    "grid": ("Grid", "N x N grid lines carried through the layers"),
}  # fmt: skip
WEB_ONLY = "Only for a web page (Format: Web page)"
#: the fields a web page has no use for, and why (tooltips and the note under Content)
WEB_UNUSED = {
    "Content": "it holds the layers flow and the training at once, each with a slider",
    "Size": "the page fills the browser window",
    "Timing": "Play in the page has its own pace",
    "Class legend": "the page always names the classes",
    "Caption": "a page has its title only",
}
WEB_NOTE = (
    "A web page holds the whole run, with sliders and Play, and opens offline in a "
    "browser. Not used for it:\n"
    + "\n".join(f"• {name}: {why}" for name, why in WEB_UNUSED.items())
)
NO_TRANSPARENT = {".mp4": "MP4 has no transparency", WEB: "a web page is white or dark"}


def content_problem(
    ext: str, content: str, width: int, n_snapshots: int, partner: bool = False
) -> str:
    """Why `content` cannot be exported as `ext` for this net, in a few words ("" if it can).

    The dialog also wants a replay to have something to replay: two snapshots at least;
    with a partner (opened from Compare) it exports the two runs and nothing else.
    """
    if partner and content != "compare":
        return "Compare exports its two runs side by side"
    if content == "training" and n_snapshots < 2:
        return "train the network first"
    return spec.content_problem(ext, content, width, n_snapshots, partner)


def number_spin(n: spec.NumberOption) -> QSpinBox | QDoubleSpinBox:
    """A spin box with the option's range, default, unit and tooltip (export_spec)."""
    box: QSpinBox | QDoubleSpinBox
    if n.integer:
        box = QSpinBox()
        box.setRange(int(n.lo), int(n.hi))
        box.setValue(int(n.default))
    else:
        box = QDoubleSpinBox()
        box.setDecimals(1)
        box.setRange(float(n.lo), float(n.hi))
        box.setValue(float(n.default))
    if n.unit:
        box.setSuffix(f" {n.unit}")
    box.setToolTip(f"{n.label}: {n.help}")
    return box


def camera_text(
    width: int,
    content: str,
    camera_keys: list[CameraKey],
    camera: tuple[float, float, float] | None,
    web: bool = False,
) -> str:
    """Where the export looks from, in words (the dialog's Camera row)."""
    if web:  # render/web/figure.py: 3-D for width >= 3, facing the plane (camera.default_angles)
        if width < 3:
            return "2-D, as in the window"
        unused = "; saved views are for videos" if camera_keys else ""
        return f"3-D, first facing the separating plane; turned with the mouse in the page{unused}"
    three_d = width >= 3 and content in ("layers", "training", "orbit", "compare")
    if not three_d:
        return "2-D: the view frames all layers"
    if camera_keys and content == "layers":
        return f"a path through {len(camera_keys)} saved views (View → Camera)"
    if camera is not None:
        az, el, zoom = camera
        return f"as in the window (azimuth {az:.0f}°, elevation {el:.0f}°, zoom {zoom:.2g})"
    return "facing the separating plane"


class ExportFields:
    """The dialog's field widgets, their form, and the rules between them.

    `title`: the title proposed for the picture; `compare`: opened from Compare (the
    content is its two runs)."""

    def __init__(self, title: str, compare: bool = False) -> None:
        #: why the user's content choice was changed, shown until they pick one
        self.switch_note = ""
        self.format_combo = QComboBox()
        for name, ext in FORMATS:
            self.format_combo.addItem(name, ext)
        if compare:  # a page holds one run (render/web)
            fmt_model = self.format_combo.model()
            assert isinstance(fmt_model, QStandardItemModel)
            web_item = fmt_model.item(self.format_combo.findData(WEB))
            web_item.setEnabled(False)
            web_item.setToolTip("Not available: a web page holds one run")
        self._enabled = True  # False while exporting
        self.content_combo = QComboBox()
        for name, key in CONTENTS:
            self.content_combo.addItem(name, key)
        if compare:
            self.content_combo.setCurrentIndex(self.content_combo.findData("compare"))
        self.content_note = QLabel()
        self.content_note.setWordWrap(True)
        self.content_note.setStyleSheet(NOTE_STYLE)
        self.size_combo = QComboBox()
        for name, w, h in SIZES:
            self.size_combo.addItem(name, (w, h))
        self.width_spin = QSpinBox()
        self.height_spin = QSpinBox()
        for sp, v, hi in (
            (self.width_spin, spec.DEFAULT_WIDTH, spec.MAX_WIDTH),
            (self.height_spin, spec.DEFAULT_HEIGHT, spec.MAX_HEIGHT),
        ):
            sp.setRange(spec.MIN_SIDE, hi)
            sp.setValue(v)
            sp.setSuffix(" px")
        size_row = self._size_row = QHBoxLayout()
        size_row.addWidget(self.size_combo, 1)
        size_row.addWidget(self.width_spin)
        size_row.addWidget(QLabel("×"))
        size_row.addWidget(self.height_spin)
        self.spins: dict[str, QSpinBox | QDoubleSpinBox] = {
            n.field: number_spin(n) for n in spec.NUMBERS
        }
        self.fps_spin = self.spins[spec.FPS.field]
        self.seconds_spin = self.spins[spec.SECONDS.field]
        self.hold_spin = self.spins[spec.HOLD.field]
        self.quality_spin = self.spins[spec.QUALITY.field]
        self.hold_spin.setSuffix(" s hold")
        time_row = self._time_row = QHBoxLayout()
        time_row.addWidget(self.fps_spin)
        time_row.addWidget(self.seconds_spin)
        time_row.addWidget(self.hold_spin)
        self.background_combo = QComboBox()
        for name, key in BACKGROUNDS:
            self.background_combo.addItem(name, key)
        self.legend_check = QCheckBox("Class legend")
        self.legend_check.setChecked(spec.DEFAULT_LEGEND)
        self.legend_check.setToolTip(
            "The class colours, named, in the corner that hides the fewest points"
        )
        look_row = self._look_row = QHBoxLayout()
        look_row.addWidget(self.background_combo, 1)
        look_row.addWidget(self.legend_check)
        look_row.addWidget(QLabel("Quality"))
        look_row.addWidget(self.quality_spin)
        self.title_edit = QLineEdit(title)
        self.title_edit.setPlaceholderText("shown above the picture (optional)")
        self.caption_edit = QLineEdit()
        self.caption_edit.setPlaceholderText("shown below the picture (optional)")
        self.camera_label = QLabel()
        self.camera_label.setWordWrap(True)
        self.camera_label.setStyleSheet("color: #6B6F76;")
        self.snapshot_label = QLabel()  # the step(s) the picture will show (ui/steps)
        self.snapshot_label.setObjectName("exportSnapshot")
        self.snapshot_label.setWordWrap(True)
        defaults = WebOptions()
        self.web_spins: dict[str, QSpinBox] = {}
        web_row = self._web_row = QHBoxLayout()
        for name, (label, tip) in WEB_NUMBERS.items():
            box = self.web_spins[name] = QSpinBox()
            lo, hi = WEB_LIMITS[name]
            box.setRange(lo, hi)
            box.setValue(int(getattr(defaults, name)))
            box.setToolTip(tip)
            if lo == 0:
                box.setSpecialValueText("all")
            if name == "grid":  # "20 × 20"
                box.setSuffix(f" × {box.value()}")
                box.valueChanged.connect(lambda v, b=box: b.setSuffix(f" × {v}"))
            box.setProperty("tip", tip)
            web_row.addWidget(QLabel(label))
            web_row.addWidget(box, 1)
        self.web_spins["layers"].valueChanged.connect(self._skip_one_layer)
        self._layers_before = self.web_spins["layers"].value()
        self.path_edit = QLineEdit()
        self.browse_button = QPushButton("Choose…")
        path_row = self._path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(self.browse_button)

    def form(self) -> QFormLayout:
        """The fields in rows, as the dialog shows them."""
        form = QFormLayout()
        form.addRow("Format", self.format_combo)
        form.addRow("Content", self.content_combo)
        form.addRow("", self.content_note)
        form.addRow("Size", self._size_row)
        form.addRow("Timing", self._time_row)
        form.addRow("Look", self._look_row)
        form.addRow("Page", self._web_row)
        form.addRow("Title", self.title_edit)
        form.addRow("Caption", self.caption_edit)
        form.addRow("Snapshot", self.snapshot_label)
        form.addRow("Camera", self.camera_label)
        form.addRow("File", self._path_row)
        return form

    def ext(self) -> str:
        return str(self.format_combo.currentData())

    def is_web(self) -> bool:
        return self.ext() == WEB

    def web_options(self, background: str, title: str) -> WebOptions:
        """The WebOptions the Page row, the background and the title describe (not
        validated); 3-D for nets of width >= 3, as `nndyn render --kind html`."""
        n = {name: box.value() for name, box in self.web_spins.items()}
        return WebOptions(**n, dims=0, background=background, title=title)

    def _skip_one_layer(self, value: int) -> None:
        """Layers: 1 cannot be kept (the input and the output are); the arrows step over it."""
        box = self.web_spins["layers"]
        if value == 1:
            box.setValue(2 if self._layers_before == 0 else 0)
            return
        self._layers_before = value

    # ------------------------------------------------------------------ rules
    def explain_contents(self, problem: Callable[[str], str]) -> None:
        """Disable the contents `problem` names a reason for (the reason as tooltip and
        under the list); a chosen one that became impossible switches to the first
        possible one, saying so."""
        combo = self.content_combo
        model = combo.model()
        assert isinstance(model, QStandardItemModel)
        for i in range(combo.count()):
            why = problem(str(combo.itemData(i)))
            model.item(i).setEnabled(not why)
            model.item(i).setToolTip(f"Not available: {why}" if why else "")
        current_why = problem(str(combo.currentData()))
        if current_why:
            for i in range(combo.count()):
                if model.item(i).isEnabled():
                    self.switch_note = (
                        f"{combo.currentText()} is not possible here "
                        f"({current_why}): switched to {combo.itemText(i)}."
                    )
                    combo.blockSignals(True)
                    combo.setCurrentIndex(i)
                    combo.blockSignals(False)
                    break
        disabled = [
            f"• {combo.itemText(i)}: " + problem(str(combo.itemData(i)))
            for i in range(combo.count())
            if not model.item(i).isEnabled()
        ]
        note = self.switch_note
        if not note and disabled:
            note = "Not available:\n" + "\n".join(disabled)
        self.content_note.setText(note)
        self.content_note.setVisible(bool(note))

    def follow_format(self, enabled: bool | None = None) -> None:
        """Turn on the fields the format uses (timing for videos, quality for MP4, the
        Page row for a web page, the GIF frame rate's limit) and its backgrounds; a field
        it has no use for is off with the reason as its tooltip. `enabled` False: all off
        (exporting); None: as last set."""
        if enabled is not None:
            self._enabled = enabled
        on = self._enabled
        ext = self.ext()
        web = ext == WEB
        video = ext in VIDEO
        for w in (self.fps_spin, self.seconds_spin, self.hold_spin):
            w.setEnabled(video and on)
        self.quality_spin.setEnabled(ext == ".mp4" and on)
        if ext == ".gif":
            self.fps_spin.setMaximum(spec.GIF_MAX_FPS)  # hundredths of a second per frame
        else:
            self.fps_spin.setMaximum(int(spec.FPS.hi))
        custom = self.size_combo.currentData()[0] == 0
        self.size_combo.setEnabled(on and not web)
        self.width_spin.setEnabled(on and custom and not web)
        self.height_spin.setEnabled(on and custom and not web)
        unused: dict[str, tuple[QWidget, ...]] = {
            "Content": (self.content_combo,),
            "Size": (self.size_combo, self.width_spin, self.height_spin),
            "Timing": (self.fps_spin, self.seconds_spin, self.hold_spin),
            "Class legend": (self.legend_check,),
            "Caption": (self.caption_edit,),
        }
        for name, widgets in unused.items():
            for widget in widgets:
                if widget.property("tip") is None:  # its own tooltip, for the other formats
                    widget.setProperty("tip", widget.toolTip())
                own = str(widget.property("tip"))
                widget.setToolTip(f"Not used for a web page: {WEB_UNUSED[name]}" if web else own)
        self.content_combo.setEnabled(on and not web)
        self.legend_check.setEnabled(on and not web)
        self.caption_edit.setEnabled(on and not web)
        for box in self.web_spins.values():
            box.setEnabled(on and web)
            box.setToolTip(str(box.property("tip")) if web else WEB_ONLY)
        if web:
            self.content_note.setText(WEB_NOTE)
            self.content_note.setVisible(True)
        bg_model = self.background_combo.model()
        assert isinstance(bg_model, QStandardItemModel)
        tr = bg_model.item(2)
        why = NO_TRANSPARENT.get(ext, "")
        tr.setEnabled(not why)
        tr.setToolTip(why)
        if why and self.background_combo.currentIndex() == 2:
            self.background_combo.setCurrentIndex(0)

    def follow_size(self) -> None:
        """A listed size fills in width and height; Custom… lets them be typed."""
        w, h = self.size_combo.currentData()
        custom = w == 0
        self.width_spin.setEnabled(custom)
        self.height_spin.setEnabled(custom)
        if not custom:
            self.width_spin.setValue(w)
            self.height_spin.setValue(h)

    def browse(self, parent: QWidget) -> None:
        """Choose… : a file of the chosen format (replacing is asked on Export)."""
        ext = self.ext()
        name = dict((e, n) for n, e in FORMATS)[ext]
        path, _ = QFileDialog.getSaveFileName(
            parent,
            "Export to",
            self.path_edit.text(),
            f"{name} (*{ext})",
            options=QFileDialog.Option.DontConfirmOverwrite,  # we ask ourselves, on Export
        )
        if path:
            if Path(path).suffix.lower() != ext:
                path += ext
            self.path_edit.setText(path)

    def set_enabled(self, on: bool) -> None:
        """All fields on (as the format and size allow) or off (while exporting)."""
        for w in (
            self.format_combo,
            self.background_combo,
            self.title_edit,
            self.path_edit,
            self.browse_button,
        ):
            w.setEnabled(on)
        self.follow_format(on)
