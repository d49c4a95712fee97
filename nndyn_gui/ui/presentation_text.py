"""Presentation mode's words: the run's title, the layer, the step and its accuracy,
the class legend and the view's note, beside the picture, never on it.

Why its own module: ui/presentation.py enters and leaves the mode; this lays out what a
lecture hall reads. Sizes are shares of the screen's height (the title's letters >= 4 %,
everything else >= 2.5 %), the texts are the narrator's and ui/steps' (never our own),
and they sit in margins of the layer panel, so the view keeps the rest of the screen
and no text covers a point or the boundary:

- 3-D: a band above the view (title) and one below it (layer, step and accuracy,
  legend, note): the fitted box fills the width, the bands take the height it leaves.
- 2-D: a column left of the plot (the same texts, stacked): a plot with locked aspect
  is rarely as wide as a 16:9 screen, and a band would take the height the data needs;
  data much wider than high get the bands instead (the width is then what limits them).

Only the layer's name changes while Play runs (a setText on a label of fixed size: no
re-layout of the window).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QLabel, QWidget

from nndyn_gui.render.export.layout import legend_entries
from nndyn_gui.render.palette import palette_for

TITLE_SHARE = 0.05  # the title's font size, share of the screen's height (letters >= 4 %)
TEXT_SHARE = 0.035  # layer, step, legend (a capital >= 2.5 %)
NOTE_SHARE = 0.026  # the view's note (projection, field caption)
COLUMN_SHARE = 0.3  # the 2-D text column, share of the screen's width
AXES_SHARE = 0.11  # a 2-D plot's tick numbers and axis names, share of the height


class PresentationText:
    """The labels of presentation mode, children of the layer panel, and their layout."""

    def __init__(self, panel: QWidget) -> None:
        self.panel = panel
        self.backdrop = QWidget(panel)  # the page colour behind the margins
        self.backdrop.setObjectName("presentationBackdrop")
        self.title = self._label("presentationTitle", wrap=True)
        self.layer = self._label("presentationLayer")
        self.caption = self._label("presentationCaption", wrap=True)  # step · accuracy
        self.legend = self._label("presentationLegend")
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.note = self._label("presentationNote", wrap=True)
        self.labels = [self.title, self.layer, self.caption, self.legend, self.note]
        self.margins: tuple[int, int, int, int] = (0, 0, 0, 0)
        self.bands = False  # words in bands above and below the view, or in a column
        self.hide()

    def _label(self, name: str, wrap: bool = False) -> QLabel:
        label = QLabel("", self.panel)
        label.setObjectName(name)
        label.setWordWrap(wrap)
        label.setTextFormat(Qt.TextFormat.PlainText)
        return label

    # ------------------------------------------------------------------ public
    def hide(self) -> None:
        for w in (self.backdrop, *self.labels):
            w.hide()

    def set_texts(
        self,
        title: str,
        layer: str,
        caption: str,
        note: str,
        labels: Any,
        background: str,
        names: tuple[str, ...] = (),
    ) -> None:
        """The words to show and the legend's classes (the scene's labels, named by
        `names`: DataConfig.names)."""
        pal = palette_for(background)
        fg = QColor(*pal.foreground[:3]).name()
        bg = QColor(*pal.background[:3]).name() if pal.background[3] else "#ffffff"
        self.backdrop.setStyleSheet(f"QWidget#presentationBackdrop {{ background: {bg}; }}")
        for label in self.labels:
            label.setStyleSheet(f"color: {fg}; background: transparent;")
        self.title.setText(title)
        self.layer.setText(layer)
        self.caption.setText(caption)
        self.note.setText(note)
        parts = []
        for k, name in legend_entries(labels, names) if labels is not None else []:
            colour = QColor(*pal.class_color(k)[:3]).name()
            parts.append(f"<span style='color:{colour}'>&#9679;</span>&nbsp;{name}")
        self.legend.setText("&nbsp;&nbsp;&nbsp;".join(parts))

    def set_layer(self, text: str) -> None:
        """The layer's name (Play moves it; the label's size stays)."""
        self.layer.setText(text)

    def lay_out(
        self,
        screen_w: int,
        screen_h: int,
        dims: int,
        widest_layer: str = "",
        aspect: float = 1.0,
    ) -> tuple[int, int, int, int]:
        """Place the labels for a screen of this size and a view of `dims` (2 or 3) whose
        data box is `aspect` times as wide as high; returns the panel's margins (left,
        top, right, bottom) the view must leave."""
        fonts = {
            self.title: (TITLE_SHARE, True),
            self.layer: (TEXT_SHARE, True),
            self.caption: (TEXT_SHARE, False),
            self.legend: (TEXT_SHARE, False),
            self.note: (NOTE_SHARE, False),
        }
        for label, (share, bold) in fonts.items():
            font = QFont(label.font())
            font.setPixelSize(max(12, round(share * screen_h)))
            font.setBold(bold)
            label.setFont(font)
        pad = max(6, round(0.008 * screen_h))
        w, h = self.panel.width() or screen_w, self.panel.height() or screen_h
        col = round(COLUMN_SHARE * screen_w)
        self.bands = dims == 3 or self.bands_fit_better(w, h, aspect, self.bands)
        if self.bands:
            margins = self._bands(w, h, pad, widest_layer)
        else:
            margins = self._column(w, h, pad, col)
        self.backdrop.setGeometry(0, 0, w, h)
        self.backdrop.lower()
        self.backdrop.show()
        for label in self.labels:
            label.setVisible(bool(label.text()))
            label.raise_()
        self.margins = margins
        return margins

    # ------------------------------------------------------------------ internals
    def bands_fit_better(self, w: int, h: int, aspect: float, now: bool = False) -> bool:
        """A 2-D plot keeps its aspect: data wider than ~1.5:1 get more height from the
        screen's full width (bands) than from the column's full height. `now`: the
        layout in use, kept unless the other one is 10 % better (no flicker in Play)."""
        if not np.isfinite(aspect) or aspect <= 0:
            return now
        col = round(COLUMN_SHARE * w)
        axes = AXES_SHARE * h  # ticks and axis names below and left of the plot
        bands = self.title.fontMetrics().height() + self.caption.fontMetrics().height()
        column_fill = min(h - axes, (w - col - axes) / aspect)
        band_fill = min(h - bands - axes, (w - axes) / aspect)
        if now:
            return band_fill * 1.1 > column_fill
        return band_fill > 1.1 * column_fill

    def _height(self, label: QLabel, width: int) -> int:
        if not label.text():
            return 0
        if label.wordWrap():
            return max(label.heightForWidth(width), label.fontMetrics().height())
        return label.sizeHint().height()

    def _bands(self, w: int, h: int, pad: int, widest: str) -> tuple[int, int, int, int]:
        inner = w - 2 * pad
        top_h = self._height(self.title, inner)
        self.title.setGeometry(QRect(pad, 0, inner, top_h))
        top = top_h
        # below: layer name | step · accuracy | legend in one row, the note under them
        legend_w = self.legend.sizeHint().width() if self.legend.text() else 0
        layer_w = self.layer.fontMetrics().horizontalAdvance(widest or self.layer.text()) + pad
        cap_w = max(10, inner - legend_w - layer_w - 2 * pad)
        row_h = max(self._height(self.layer, layer_w), self._height(self.caption, cap_w))
        row_h = max(row_h, self._height(self.legend, legend_w))
        note_h = self._height(self.note, inner)
        bottom = row_h + note_h
        y = h - bottom
        self.layer.setGeometry(QRect(pad, y, layer_w, row_h))
        self.caption.setGeometry(QRect(pad + layer_w + pad, y, cap_w, row_h))
        self.legend.setGeometry(QRect(w - pad - legend_w, y, legend_w, row_h))
        self.note.setGeometry(QRect(pad, y + row_h, inner, note_h))
        return 0, top, 0, bottom

    def _column(self, w: int, h: int, pad: int, col: int) -> tuple[int, int, int, int]:
        inner = col - 2 * pad
        y = pad
        for label in self.labels:
            lh = self._height(label, inner)
            label.setGeometry(QRect(pad, y, inner, lh))
            if lh:
                y += lh + pad
        return col, 0, pad, 0  # the plot's own axes leave room enough at its edges
