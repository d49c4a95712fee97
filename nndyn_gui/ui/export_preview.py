"""The Export dialog's live preview: a miniature of the very frame the export will write.

Why a module: drawing a frame takes long enough to be felt while typing, so the
miniature is drawn a moment after the last change (each change restarts the wait), never
while an export runs, and a drawing that fails says why in its place instead of taking
the dialog down. A web page is previewed as the still it opens on, with a note saying
what the miniature is and what it is not (ui/export_web.py). The dialog
(ui/export_dialog.py) places the two labels and says when the fields changed.
"""

from __future__ import annotations

import logging

import numpy as np
from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QLabel
from superqt.utils import qdebounced

from nndyn_gui.render.export import ExportError, preview_frame
from nndyn_gui.ui.export_request import ExportRequest
from nndyn_gui.ui.export_web import preview_request

log = logging.getLogger(__name__)

PREVIEW_W, PREVIEW_H = 384, 216
PREVIEW_DELAY_MS = 250  # the preview is drawn this long after the last change


class ExportPreview(QObject):
    """The miniature (`label`) of what `request` describes, and the note under it."""

    def __init__(self, request: ExportRequest, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.request = request
        self.label = QLabel()
        self.label.setObjectName("exportPreview")
        self.label.setFixedSize(PREVIEW_W, PREVIEW_H)
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setStyleSheet("QLabel#exportPreview { background: #e8e8e8; }")
        self.label.setToolTip("What the export will show (the last layer of a video)")
        self.note = QLabel()  # a web page: what the miniature is, and what it is not
        self.note.setObjectName("exportPreviewNote")
        self.note.setWordWrap(True)
        self.note.setFixedWidth(PREVIEW_W)
        self.note.setStyleSheet("color: #6B6F76;")
        self.note.setVisible(False)

    @qdebounced(timeout=PREVIEW_DELAY_MS)
    def when_settled(self) -> None:
        """Each change restarts the wait: the miniature is drawn once the fields settle."""
        self.draw()

    def cancel(self) -> None:
        """Forget a miniature waiting to be drawn (an export starts: it would stall it)."""
        self.when_settled.cancel()

    def draw(self) -> bool:
        """Draw the miniature now; False (and the reason shown in its place) if it fails."""
        self.cancel()
        req = self.request
        opts = req.options()
        self.note.setVisible(req.is_web())
        if req.is_web():
            run = req.run_for_export(req.content())
            opts, note = preview_request(run, opts.background, opts.title, opts.view)
            self.note.setText(note)
        try:
            rgba, _warnings = preview_frame(
                req.run_for_export(opts.content), opts, PREVIEW_W, PREVIEW_H
            )
        except ExportError as e:
            self.label.setPixmap(QPixmap())
            self.label.setText("no preview:\n" + str(e))
            return False
        except Exception:  # a bug in drawing must not take the dialog down; the log keeps it
            log.exception("the export preview could not be drawn")
            self.label.setPixmap(QPixmap())
            self.label.setText("no preview")
            return False
        h, w = rgba.shape[:2]
        buf = np.ascontiguousarray(rgba)
        img = QImage(buf.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()
        self.label.setPixmap(QPixmap.fromImage(img))
        return True
