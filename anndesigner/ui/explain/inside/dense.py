"""Inside a Dense layer, for the sample explained: its output vector as a strip of
bars (by unit index, coloured by value; scrolling sideways above ~64 units), and
for the clicked unit its weighted sum written out: the largest contributions w·x
first (at most 12, the rest summed), the bias, z and f(z).

The terms come from :func:`dense_unit` (the engine's input and weights, multiplied
here); z and the output are the trace's own.
"""

from __future__ import annotations

import html

import numpy as np
from PySide6.QtCore import QEvent, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import (
    QHBoxLayout, QLabel, QScrollArea, QSizePolicy, QSpinBox, QToolTip, QVBoxLayout, QWidget,
)

from ....engine import dense_unit
from ... import style
from ..stages import num
from . import InsideContext, inside_view, z_and_activation
from .conv import _hex, legend_html, scale_of, signed_rgb

SHOWN_TERMS = 12


class BarStrip(QWidget):
    """One bar per value, by index, from a zero line (up positive, down negative), coloured
    by value on the shared scale. Wider than its scroll area when the bars would be too thin."""

    barClicked = Signal(int)

    MIN_BAR = 7  # px, a bar and its gap
    MAX_BAR = 40
    MARGIN = 10
    AXIS = 16  # px under the bars for the index labels

    def __init__(self, values: np.ndarray, parent: QWidget | None = None):
        super().__init__(parent)
        self.values = np.asarray(values, np.float64).reshape(-1)
        self.scale = scale_of(self.values)
        self.selected: int | None = None
        self._colors = [QColor(_hex(c)) for c in signed_rgb(self.values, self.scale)]
        self.setMinimumWidth(2 * self.MARGIN + self.MIN_BAR * len(self.values))
        self.setMinimumHeight(120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_values(self, values: np.ndarray) -> None:
        self.values = np.asarray(values, np.float64).reshape(-1)
        self.scale = scale_of(self.values)
        self._colors = [QColor(_hex(c)) for c in signed_rgb(self.values, self.scale)]
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(max(self.minimumWidth(), 600), 180)

    # ------------------------------------------------------------ geometry
    def _pitch(self) -> float:
        n = max(1, len(self.values))
        return min(self.MAX_BAR, max(self.MIN_BAR, (self.width() - 2 * self.MARGIN) / n))

    def _zero_y(self) -> float:
        top, bottom = self.MARGIN, self.height() - self.AXIS - self.MARGIN
        if (self.values >= 0).all():
            return bottom
        if (self.values <= 0).all():
            return top
        return (top + bottom) / 2

    def bar_rect(self, i: int) -> QRect:
        """The clickable column of bar ``i`` (the whole height), in widget coordinates."""
        p = self._pitch()
        x0 = int(round(self.MARGIN + i * p))
        x1 = int(round(self.MARGIN + (i + 1) * p))
        return QRect(x0, self.MARGIN, max(1, x1 - x0), self.height() - self.AXIS - 2 * self.MARGIN)

    def index_at(self, x: float) -> int | None:
        """The bar whose column (:meth:`bar_rect`, rounded to pixels) holds ``x``."""
        i = int((x - self.MARGIN) // self._pitch())
        for j in (i, i - 1, i + 1):
            if 0 <= j < len(self.values):
                r = self.bar_rect(j)
                if r.x() <= x < r.x() + r.width():
                    return j
        return None

    def event(self, e):
        if e.type() == QEvent.Type.ToolTip:
            i = self.index_at(e.pos().x())
            if i is None:
                QToolTip.hideText()
            else:
                QToolTip.showText(e.globalPos(), f"unit {i}: {num(self.values[i])}", self)
            return True
        return super().event(e)

    def mousePressEvent(self, e):
        if e.button() == Qt.MouseButton.LeftButton:
            i = self.index_at(e.position().x())
            if i is not None and self.MARGIN <= e.position().y() < self.height() - self.AXIS - self.MARGIN:
                self.selected = i
                self.update()
                self.barClicked.emit(i)
                e.accept()
                return
        super().mousePressEvent(e)

    def paintEvent(self, _e):
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#FFFFFF"))
        zero = self._zero_y()
        top, bottom = self.MARGIN, self.height() - self.AXIS - self.MARGIN
        span = max(zero - top, bottom - zero)
        pitch = self._pitch()
        gap = 1 if pitch < 10 else 2
        for i, v in enumerate(self.values):
            r = self.bar_rect(i)
            if not np.isfinite(v):
                continue
            hgt = 0.0 if self.scale == 0 else abs(v) / self.scale * span
            y0 = zero - hgt if v >= 0 else zero
            p.fillRect(QRect(r.x() + gap // 2 + (gap > 1), int(y0), max(1, r.width() - gap), max(1, int(round(hgt)))),
                       self._colors[i])
        p.setPen(QPen(style.MUTED_TEXT, 1))
        p.drawLine(self.MARGIN, int(zero), self.width() - self.MARGIN, int(zero))
        f = QFont(self.font())
        f.setPointSizeF(max(7.0, f.pointSizeF() * 0.85))
        p.setFont(f)
        every = next(k for k in (1, 2, 4, 5, 8, 10, 16, 20, 32, 50, 64, 100, 128, 10 ** 9) if k * pitch >= 26)
        for i in range(0, len(self.values), every):
            r = self.bar_rect(i)
            p.drawText(QRect(r.x() - 14, bottom + 2, r.width() + 28, self.AXIS), Qt.AlignmentFlag.AlignHCenter, str(i))
        if self.selected is not None and 0 <= self.selected < len(self.values):
            p.setPen(QPen(style.TEXT_COLOR, 2))
            p.drawRect(self.bar_rect(self.selected).adjusted(0, -2, -1, 2))
        p.end()


def _flattened(trace, node_ids) -> dict[str, tuple[str, tuple[int, ...]]]:
    """Input node -> (the node it flattens, that node's shape), for Flatten inputs of images or
    sequences: a term then also names the cell it came from."""
    out = {}
    for nid in set(node_ids):
        try:
            n = trace.node(nid)
        except KeyError:
            continue
        if n.type_id == "Flatten" and n.inputs and np.ndim(n.input_values[0]) > 1:
            out[nid] = (n.inputs[0], tuple(np.shape(n.input_values[0])))
    return out


def _term_source(t, one_source: bool, flat: dict) -> str:
    text = f"x[{t.index}]" if one_source else f"{html.escape(t.source)}[{t.source_index}]"
    if t.source in flat:  # C order, as the engine's Flatten
        src, shape = flat[t.source]
        cell = ", ".join(str(int(i)) for i in np.unravel_index(t.source_index, shape))
        text += f" <font color='#607D8B'>= {html.escape(src)}[{cell}]</font>"
    return text


class DenseInside(QWidget):
    """A Dense layer's output as bars; click one → that unit's weighted sum."""

    def __init__(self, ctx: InsideContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("insideDense")
        self.ctx = ctx
        n = ctx.trace.node(ctx.node_id)
        self.node = n
        self.out = np.asarray(n.output, np.float64)
        self.position: tuple[int, ...] = (0,) * (self.out.ndim - 1)
        self.unit_info = None  # the DenseUnit shown
        ins = ", ".join(f"{html.escape(s)} ({v.shape[-1]})" for s, v in zip(n.inputs, n.input_values))
        act = html.escape(str(n.activation or "linear"))
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        head = QLabel(f"<b>{html.escape(ctx.node_id)}</b> · Dense · {self.out.shape[-1]} units, {act} · "
                      f"input {ins}")
        head.setWordWrap(True)
        lay.addWidget(head)
        self.pos_box = None
        if self.out.ndim > 1:  # a Dense over a sequence: one position at a time
            row = QHBoxLayout()
            row.addWidget(QLabel("position (leading index):"))
            self.pos_box = QSpinBox()
            self.pos_box.setObjectName("insideDensePosition")
            self.pos_box.setRange(0, int(np.prod(self.out.shape[:-1])) - 1)
            self.pos_box.valueChanged.connect(self._position_changed)
            row.addWidget(self.pos_box)
            row.addStretch(1)
            lay.addLayout(row)
        self.summary = QLabel()
        self.summary.setObjectName("insideDenseSummary")
        self.summary.setWordWrap(True)
        lay.addWidget(self.summary)
        self.bars = BarStrip(self.out[self.position])
        self.bars.setObjectName("insideDenseBars")
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(self.bars)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setMinimumHeight(170)
        lay.addWidget(self.scroll, 2)
        self.detail = QLabel()
        self.detail.setObjectName("insideDenseDetail")
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        dscroll = QScrollArea()
        dscroll.setWidgetResizable(True)
        dscroll.setFrameShape(QScrollArea.Shape.NoFrame)
        dscroll.setWidget(self.detail)
        lay.addWidget(dscroll, 3)
        self.bars.barClicked.connect(self.show_unit)
        self._summarize()
        v = self.out[self.position]
        self.show_unit(int(np.nanargmax(np.abs(v))) if np.isfinite(v).any() else 0)

    def sizeHint(self) -> QSize:
        return QSize(900, 640)

    def _position_changed(self, flat: int) -> None:
        self.position = tuple(int(i) for i in np.unravel_index(flat, self.out.shape[:-1]))
        self.bars.set_values(self.out[self.position])
        self._summarize()
        if self.unit_info is not None:
            self.show_unit(self.unit_info.unit)

    def _summarize(self) -> None:
        v = self.out[self.position]
        order = np.argsort(-v, kind="stable")[:5]
        top = ", ".join(f"{int(i)}: {num(v[i])}" for i in order)
        size = len(v)
        how = " (scroll sideways for all of them)" if size > 64 else ""
        self.summary.setText(
            f"output f(z) of the {size} units{how}: min {num(v.min())}, mean {num(v.mean())}, "
            f"max {num(v.max())}; {int((v > 0).sum())} above 0 · largest: {top}<br>"
            f"{legend_html(self.bars.scale, 'one scale for every bar')} — click a bar to see its weighted sum")

    def show_unit(self, unit: int) -> None:
        """Write out unit ``unit``'s weighted sum (the bar is selected and scrolled into view)."""
        d = dense_unit(self.ctx.trace, None, self.ctx.node_id, unit, self.position)
        self.unit_info = d
        self.bars.selected = unit
        self.bars.update()
        r = self.bars.bar_rect(unit)
        self.scroll.ensureVisible(r.center().x(), r.center().y(), 40, 0)
        shown, more, rest = d.top(SHOWN_TERMS)
        one = len(set(self.node.inputs)) <= 1
        flat = _flattened(self.ctx.trace, self.node.inputs)
        scale = scale_of([t.product for t in d.terms])
        rows = ["<tr><th align='right'>#</th><th align='left'>input</th><th align='right'>x</th>"
                "<th></th><th align='right'>w</th><th></th><th align='right'>w·x</th></tr>"]
        rgb = signed_rgb(np.array([t.product for t in shown]), scale, pale=0.55)
        for k, t in enumerate(shown):
            rows.append(f"<tr><td align='right'>{k + 1}</td><td>{_term_source(t, one, flat)}</td>"
                        f"<td align='right'>{num(t.x)}</td><td>×</td><td align='right'>{num(t.w)}</td>"
                        f"<td>=</td><td align='right' bgcolor='{_hex(rgb[k])}'>{num(t.product)}</td></tr>")
        if more:
            rows.append(f"<tr><td></td><td colspan='5'>+ ({more} more) …</td>"
                        f"<td align='right'>{num(rest)}</td></tr>")
        where = "" if not self.position else f" at position {list(self.position)}"
        act = d.activation
        lines = [f"<b>unit {unit}</b>{where}: z = Σ wᵢ·xᵢ + b over {len(d.terms)} inputs, "
                 f"the largest |w·x| first",
                 "<table cellspacing='0' cellpadding='3'>" + "".join(rows) + "</table>",
                 f"Σ w·x = <b>{num(d.total)}</b>"]
        lines += z_and_activation(d.total, d.bias if d.has_bias else None, d.z, act, d.output)
        self.detail.setText("<br>".join(lines))


@inside_view("Dense")
def dense_view(ctx: InsideContext) -> QWidget:
    return DenseInside(ctx)
