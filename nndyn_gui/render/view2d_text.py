"""The 2-D layer view's words: the label above the plot, the axes' names and ticks, the notice.

Why its own module: render/view2d.py draws the data; this writes about them. The layer's
name, its projection note and the overlays' captions go in a band reserved above the
plot (never over the data or the boundary line; a tile of All layers keeps just the
name in its corner), the axes are named as the scene names them, and a notice (e.g. why
3-D is not shown) sits in the bottom-left corner — all sized for the view's scale, text
growing faster for a lecture hall (render/scene_view.text_scale).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyqtgraph as pg
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QGraphicsTextItem

from nndyn_gui.render.scene import FrameState
from nndyn_gui.render.scene_view import held_weakly

if TYPE_CHECKING:
    from nndyn_gui.render.view2d import LayerView2D

LABEL_PX, NOTE_PX, AXIS_PX, COMPACT_PX = 14, 12, 12, 12  # px at ViewOptions.scale 1 (>= 12)


class ViewText2D:
    """The text items of one 2-D view and when they are rewritten."""

    def __init__(self, view: LayerView2D, compact: bool) -> None:
        self._view = held_weakly(view)
        self._compact = compact
        pi = view.getPlotItem()
        vb = pi.getViewBox()
        self.label = QGraphicsTextItem()
        self.label.setParentItem(vb if compact else pi)
        self.label.setPos(4, 2)
        self.label.setZValue(1e6)
        self._band = -1.0  # the label band's height now reserved above the plot
        self._last = ""  # what the label shows now (rewritten only when it changes)
        self._axes_shown: tuple[str, ...] = ()
        self.notice = QGraphicsTextItem()
        self.notice.setParentItem(vb)
        self.notice.setZValue(1e6)
        # the view connects vb.sigResized to place_notice (signals go to QObjects)

    def forget(self) -> None:
        """Write the label anew at the next frame (a new scene, a new look)."""
        self._last = ""

    def apply_style(self) -> None:
        """Fonts, pens and margins of the axes and the label at the view's scale."""
        v = self._view
        k_px, text_k = v._scale(), v._text_scale()
        fg = QColor(*v._pal.foreground)
        pi = v.getPlotItem()
        tick_font = QFont()
        tick_px = max(6, round(AXIS_PX * text_k))
        tick_font.setPixelSize(tick_px)
        for name in ("left", "bottom"):
            ax = pi.getAxis(name)
            ax.setPen(pg.mkPen(fg, width=k_px))
            ax.setTextPen(pg.mkPen(fg))
            ax.setTickFont(tick_font)
            ax.label.document().setDocumentMargin(2.0 * text_k)  # not 4 px fixed
            # the room for tick text only ever grows (from 30 x 18 px): start it from this
            # font's, so a small export is the big one shrunk, not a wider margin
            ax.textWidth, ax.textHeight = round(1.5 * tick_px), round(1.1 * tick_px)
            ax.setStyle(
                tickLength=round(-5 * k_px),
                tickTextOffset=round(3 * k_px),
            )
        self._axes_shown = ()  # labels again, at the new size
        label_font = QFont()
        label_k = k_px if self._compact else text_k
        label_font.setPixelSize(
            max(6, round((COMPACT_PX if self._compact else LABEL_PX) * label_k))
        )
        self.label.setFont(label_font)
        self.label.document().setDocumentMargin(2.0 * label_k)  # grows with the text
        self.label.setPos(4 * k_px, 2 * k_px if self._compact else 0.0)
        self._last = ""
        self.style_notice()

    def update_label(self, st: FrameState) -> None:
        """The layer's name, note and captions at frame `st`, and the axes' names."""
        v = self._view
        sc = v.flow_scene()
        assert sc is not None
        text = sc.layer_label(st.t)
        note = sc.view_note(st.t)
        caption = "" if self._compact else " · ".join(v.layers.captions())
        axes = sc.axis_labels(st.t)
        key = f"{text}|{note}|{axes}|{caption}|{v.in_picture_text}"
        if key == self._last:
            return
        self._last = key
        if not self._compact and axes != self._axes_shown:  # a new label re-lays out the plot
            self._axes_shown = axes
            pi = v.getPlotItem()
            size = {"font-size": f"{round(AXIS_PX * v._text_scale())}px"}
            pi.setLabel("bottom", axes[0], **size)
            pi.setLabel("left", axes[1], **size)
        if not self._compact and not v.in_picture_text:
            self.label.setHtml("")
            self._reserve_band(0.0)
            return
        fg = QColor(*v._pal.foreground)
        html = f"<b>{_esc(st.label)}</b>"
        if not self._compact:
            veil = ""
            if caption:  # over a field of arrows the text lies on a veil of the background
                r, g, b, _a = v._pal.background
                veil = f"background-color: #d2{r:02x}{g:02x}{b:02x}"  # Qt's #AARRGGBB
            html = f"<b style='{veil}'>{_esc(text)}</b>"
            px = round(NOTE_PX * v._text_scale())
            for line in (note, caption):
                if line:
                    html += f"<br/><span style='font-size:{px}px; {veil}'>{_esc(line)}</span>"
        self.label.setDefaultTextColor(fg)
        self.label.setHtml(html)
        if not self._compact:
            self._reserve_band(self.label.boundingRect().height())

    def _reserve_band(self, height: float) -> None:
        """Keep `height` px free above the plot for the label (a re-layout of the plot
        only when the label's height changes: a new note, caption or size, not a step)."""
        if abs(height - self._band) < 0.5:
            return
        self._band = height
        layout = self._view.getPlotItem().layout
        left, _top, right, bottom = layout.getContentsMargins()
        top = height if height > 0 else 1.0
        layout.setContentsMargins(left, top, right, bottom)

    def style_notice(self) -> None:
        """The view's `notice()` in its font and the palette's warning colour."""
        v = self._view
        font = QFont()
        font.setPixelSize(max(6, round(NOTE_PX * v._text_scale())))
        self.notice.setFont(font)
        self.notice.setDefaultTextColor(QColor(*v._pal.wrong))
        text = v.notice()
        self.notice.setHtml(f"<b>{_esc(text)}</b>" if text else "")
        self.place_notice()

    def place_notice(self, *_: object) -> None:
        h = self.notice.parentItem().boundingRect().height()
        self.notice.setPos(4, max(0.0, h - self.notice.boundingRect().height() - 2))


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
