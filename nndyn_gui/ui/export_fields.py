"""The Export dialog's fields: what can be exported, how, and why something cannot.

Why it exists: the fields (format, content, size, timing, look, title, caption, file)
and the rules between them — which contents a format and this net allow, with the
reason as a tooltip and under the list; which numbers a format uses — are one job; the
dialog (ui/export_dialog.py) adds the preview, the checks of the whole request and the
running export. Names, ranges, defaults and file names come from
`render/export_spec.py`, the table the exporter and `nndyn render` read too.

Another export kind (HTML, ...): its format in `export_spec.FORMATS` appears in the
Format list by itself and `content_problem` says what it cannot hold; a field only it
uses is one row in `ExportFields.form`, enabled for it in `follow_format`.
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

FORMATS = tuple((f.label, f.key) for f in spec.FORMATS)
CONTENTS = tuple((c.label, c.key) for c in spec.CONTENTS)
SIZES = (*spec.SIZES, ("Custom…", 0, 0))
BACKGROUNDS = tuple((b.label, b.key) for b in spec.BACKGROUNDS)
VIDEO = spec.VIDEO_EXTENSIONS
VECTOR = spec.VECTOR_EXTENSIONS
ERROR_STYLE = "color: #c62828;"
NOTE_STYLE = "color: #8a6d00;"
OK_STYLE = "color: #1a7f37;"


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
) -> str:
    """Where the export looks from, in words (the dialog's Camera row)."""
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
        self.legend_check.setToolTip("The class colours, named, in the top-right corner")
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
        form.addRow("Title", self.title_edit)
        form.addRow("Caption", self.caption_edit)
        form.addRow("Snapshot", self.snapshot_label)
        form.addRow("Camera", self.camera_label)
        form.addRow("File", self._path_row)
        return form

    def ext(self) -> str:
        return str(self.format_combo.currentData())

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

    def follow_format(self, enabled: bool = True) -> None:
        """The numbers a format uses (timing for videos, quality for MP4, the GIF frame
        rate's limit) and its backgrounds (MP4 has no transparency)."""
        ext = self.ext()
        video = ext in VIDEO
        for w in (self.fps_spin, self.seconds_spin, self.hold_spin):
            w.setEnabled(video and enabled)
        self.quality_spin.setEnabled(ext == ".mp4" and enabled)
        if ext == ".gif":
            self.fps_spin.setMaximum(spec.GIF_MAX_FPS)  # hundredths of a second per frame
        else:
            self.fps_spin.setMaximum(int(spec.FPS.hi))
        bg_model = self.background_combo.model()
        assert isinstance(bg_model, QStandardItemModel)
        tr = bg_model.item(2)
        tr.setEnabled(ext != ".mp4")
        tr.setToolTip("MP4 has no transparency" if ext == ".mp4" else "")
        if ext == ".mp4" and self.background_combo.currentIndex() == 2:
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
            self.content_combo,
            self.size_combo,
            self.background_combo,
            self.legend_check,
            self.title_edit,
            self.caption_edit,
            self.path_edit,
            self.browse_button,
        ):
            w.setEnabled(on)
        video = self.ext() in VIDEO
        for sp in (self.fps_spin, self.seconds_spin, self.hold_spin):
            sp.setEnabled(on and video)
        self.quality_spin.setEnabled(on and self.ext() == ".mp4")
        custom = self.size_combo.currentData()[0] == 0
        self.width_spin.setEnabled(on and custom)
        self.height_spin.setEnabled(on and custom)
