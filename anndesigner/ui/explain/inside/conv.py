"""Inside a Conv2D or a pool, for the sample explained.

Conv2D: every feature map of the layer's output as a tile (one colour scale for
all), click a cell → its arithmetic per input channel: the input patch (padding
shown greyed as 0), the kernel slice, their products and sum; then the sum over
channels + bias = z and f(z) = output. "Previous/next channel" walk through the
input channels, and a small map shows where the window lies on that channel.

MaxPool2D / AvgPool2D: the input and output maps side by side; click an output
cell → its window on the input, the winner highlighted (max) or the average
written out.

The numbers come from the trace (:func:`conv_cell`, :func:`pool_cell` redo only the
products and sums on the engine's arrays; z and the output are the engine's).
"""

from __future__ import annotations

import html
import math

import numpy as np
from PySide6.QtCore import QEvent, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen
from PySide6.QtWidgets import (
    QHBoxLayout, QLabel, QPushButton, QScrollArea, QSizePolicy, QSplitter, QToolTip, QVBoxLayout, QWidget,
)

from ....engine import conv_cell, pool_cell
from ... import style
from ..stages import num
from . import InsideContext, inside_view, z_and_activation

PAD_BG = "#ECEFF1"  # padding cells in the number grids
WINNER_BG = "#FFD54F"  # the max pool's winner
SELECT_PEN = QColor("#212121")
WINDOW_PEN = QColor("#FFB300")
CELL_W = 52  # px, a number grid's cell


# ------------------------------------------------------------------ colours
def _rgb(c: QColor) -> np.ndarray:
    return np.array([c.red(), c.green(), c.blue()], np.float64)


def signed_rgb(values: np.ndarray, scale: float, pale: float = 0.0) -> np.ndarray:
    """(..., 3) uint8: blue for positive values, orange-red for negative ones, white at 0,
    full colour at ±``scale``; ``pale`` mixes the colour with white (for text on top)."""
    v = np.asarray(values, np.float64)
    t = np.clip(np.nan_to_num(v / scale if scale > 0 else v * 0, nan=0.0), -1, 1)[..., None]
    white = np.array([255.0, 255.0, 255.0])
    col = np.where(t >= 0, _rgb(style.POSITIVE_WEIGHT), _rgb(style.NEGATIVE_WEIGHT))
    return np.rint(white + (col - white) * np.abs(t) * (1 - pale)).astype(np.uint8)


def _hex(rgb) -> str:
    return "#{:02X}{:02X}{:02X}".format(*(int(c) for c in rgb))


def scale_of(*arrays) -> float:
    """The largest finite magnitude over the arrays (the shared colour scale)."""
    m = 0.0
    for a in arrays:
        a = np.asarray(a, np.float64)
        fin = a[np.isfinite(a)]
        if fin.size:
            m = max(m, float(np.abs(fin).max()))
    return m


def legend_html(scale: float, what: str = "one scale for every map") -> str:
    neg, pos = _hex(_rgb(style.NEGATIVE_WEIGHT)), _hex(_rgb(style.POSITIVE_WEIGHT))
    return (f"colour: <span style='background:{neg};color:white'>&nbsp;−{num(scale)}&nbsp;</span>"
            f"<span style='background:#FFFFFF'>&nbsp;0&nbsp;</span>"
            f"<span style='background:{pos};color:white'>&nbsp;+{num(scale)}&nbsp;</span>"
            f" ({what})")


# ------------------------------------------------------------------ tiles
class MapGrid(QWidget):
    """The channels of an (h, w, c) array as tiles, one colour scale for all, laid out to
    fit the widget (scrolling below a few pixels a cell). Click a cell: ``cellClicked``."""

    cellClicked = Signal(int, int, int)  # channel, row, col

    GAP = 8
    LABEL = 14
    MIN_CELL = 3
    MAX_CELL = 28

    def __init__(self, maps: np.ndarray, scale: float | None = None, *, prefix: str = "ch ",
                 channels: list[int] | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.prefix = prefix
        self._set(maps, scale, channels)
        self.selected: tuple[int, int, int] | None = None
        #: (channel, (r0, c0, r1, c1) window rows/cols inclusive (may reach past the edge), winner (r, c) | None)
        self.window: tuple[int, tuple[int, int, int, int], tuple[int, int] | None] | None = None
        self._cols, self._cell = 1, self.MIN_CELL
        self.setMouseTracking(False)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._relayout()

    def _set(self, maps, scale, channels) -> None:
        self.maps = np.asarray(maps, np.float64)
        h, w, c = self.maps.shape
        self.shape = (h, w, c)
        self.channels = list(range(c)) if channels is None else list(channels)
        self.scale = scale_of(self.maps) if scale is None else float(scale)
        rgb = signed_rgb(self.maps, self.scale)
        self._images = []
        for k in range(c):
            arr = np.ascontiguousarray(rgb[:, :, k, :])
            self._images.append(QImage(arr.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy())

    def set_maps(self, maps: np.ndarray, scale: float | None = None, channels: list[int] | None = None) -> None:
        """Show other maps (the selection and window are kept)."""
        self._set(maps, scale, channels)
        self._relayout()
        self.update()

    # ------------------------------------------------------------ layout
    def _fit(self, W: int, H: int) -> tuple[int, int]:
        h, w, c = self.shape
        best = (max(1, min(c, (W - self.GAP) // (self.MIN_CELL * w + self.GAP))), 0)
        for cols in range(1, c + 1):
            rows = math.ceil(c / cols)
            cw = ((W - self.GAP) / cols - self.GAP) / w
            ch = ((H - self.GAP) / rows - self.GAP - self.LABEL) / h
            cell = int(min(cw, ch, self.MAX_CELL))
            if cell > best[1]:
                best = (cols, cell)
        return best

    def _avail(self) -> tuple[int, int]:
        p = self.parentWidget()
        if p is not None and isinstance(p.parentWidget(), QScrollArea):  # the scroll area's viewport
            return p.width(), p.height()
        return self.width(), self.height()

    def _relayout(self) -> None:
        W, H = self._avail()
        cols, cell = self._fit(max(W, 40), max(H, 40))
        need = 0
        if cell < self.MIN_CELL:  # too many to fit: the smallest cells, scrolling down
            cell = self.MIN_CELL
            cols = max(1, min(self.shape[2], (W - self.GAP) // (cell * self.shape[1] + self.GAP)))
            need = self.GAP + math.ceil(self.shape[2] / cols) * (cell * self.shape[0] + self.GAP + self.LABEL)
        self._cols, self._cell = cols, cell
        if need and self.minimumHeight() != need:
            self.setMinimumHeight(need)
        elif not need and self.minimumHeight():
            self.setMinimumHeight(0)

    def resizeEvent(self, e):
        self._relayout()
        super().resizeEvent(e)

    def sizeHint(self) -> QSize:
        h, w, c = self.shape
        cols = max(1, math.ceil(math.sqrt(c)))
        cell = max(self.MIN_CELL, min(12, 96 // max(h, w)))
        rows = math.ceil(c / cols)
        return QSize(self.GAP + cols * (cell * w + self.GAP), self.GAP + rows * (cell * h + self.GAP + self.LABEL))

    def minimumSizeHint(self) -> QSize:
        h, w, _ = self.shape
        return QSize(2 * self.GAP + self.MIN_CELL * w, 2 * self.GAP + self.LABEL + self.MIN_CELL * h)

    # ------------------------------------------------------------ geometry
    def tile_rect(self, k: int) -> QRect:
        """Where tile ``k`` (the k-th channel shown) is drawn, in widget coordinates."""
        h, w, _ = self.shape
        tw, th = self._cell * w, self._cell * h
        r, c = divmod(k, self._cols)
        x = self.GAP + c * (tw + self.GAP)
        y = self.GAP + r * (th + self.GAP + self.LABEL) + self.LABEL
        return QRect(x, y, tw, th)

    def cell_rect(self, k: int, row: int, col: int) -> QRect:
        """The pixels of cell (row, col) of tile ``k`` (inclusive of both corners)."""
        t = self.tile_rect(k)
        return QRect(t.x() + col * self._cell, t.y() + row * self._cell, self._cell, self._cell)

    def cell_at(self, x: float, y: float) -> tuple[int, int, int] | None:
        h, w, c = self.shape
        for k in range(c):
            t = self.tile_rect(k)
            if t.x() <= x < t.x() + t.width() and t.y() <= y < t.y() + t.height():
                return k, int((y - t.y()) // self._cell), int((x - t.x()) // self._cell)
        return None

    # ------------------------------------------------------------ state
    def set_selected(self, sel: tuple[int, int, int] | None) -> None:
        self.selected = sel
        self.update()

    def set_window(self, window) -> None:
        self.window = window
        self.update()

    # ------------------------------------------------------------ events
    def event(self, e):
        if e.type() == QEvent.Type.ToolTip:
            hit = self.cell_at(e.pos().x(), e.pos().y())
            if hit is None:
                QToolTip.hideText()
            else:
                k, r, c = hit
                QToolTip.showText(e.globalPos(), f"{self.prefix}{self.channels[k]} [{r}, {c}] = "
                                                 f"{num(self.maps[r, c, k])}", self)
            return True
        return super().event(e)

    def mousePressEvent(self, e):
        if e.button() == Qt.MouseButton.LeftButton:
            hit = self.cell_at(e.position().x(), e.position().y())
            if hit is not None:
                self.set_selected(hit)
                self.cellClicked.emit(*hit)
                e.accept()
                return
        super().mousePressEvent(e)

    def paintEvent(self, _e):
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#FFFFFF"))
        f = QFont(self.font())
        f.setPointSizeF(max(7.0, f.pointSizeF() * 0.85))
        p.setFont(f)
        border = QPen(QColor("#B0BEC5"))
        fm = p.fontMetrics()
        for k, img in enumerate(self._images):
            t = self.tile_rect(k)
            p.setPen(style.MUTED_TEXT)
            label = f"{self.prefix}{self.channels[k]}"
            room = t.width() + self.GAP - 2 if len(self._images) > 1 else self.width() - t.x()
            if fm.horizontalAdvance(label) > room:  # narrow tiles: the number alone
                label = str(self.channels[k])
            p.drawText(QRect(t.x(), t.y() - self.LABEL, max(room, 10), self.LABEL),
                       Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, label)
            p.drawImage(t, img)
            p.setPen(border)
            p.drawRect(t.adjusted(-1, -1, 0, 0))
        if self.window is not None:
            k, (r0, c0, r1, c1), winner = self.window
            t = self.tile_rect(k)
            if len(self._images) > 1:  # which tile the window is on
                p.setPen(QPen(WINDOW_PEN, 2))
                p.drawRect(t.adjusted(-2, -2, 1, 1))
            p.setClipRect(t.adjusted(-3, -3, 3, 3))
            if winner is not None:
                p.setPen(QPen(SELECT_PEN, 2))
                p.drawRect(self.cell_rect(k, *winner).adjusted(1, 1, -1, -1))
            p.setPen(QPen(WINDOW_PEN, 2))
            a, b = self.cell_rect(k, r0, c0), self.cell_rect(k, r1, c1)
            p.drawRect(QRect(a.topLeft(), b.bottomRight()))
            p.setClipping(False)
        if self.selected is not None:
            k, r, c = self.selected
            p.setPen(QPen(style.TEXT_COLOR, 2))
            p.drawRect(self.tile_rect(k).adjusted(-2, -2, 1, 1))
            p.setPen(QPen(SELECT_PEN, 2))
            p.drawRect(self.cell_rect(k, r, c).adjusted(0, 0, -1, -1))
            p.setPen(QPen(QColor("#FFFFFF"), 1))
            p.drawRect(self.cell_rect(k, r, c).adjusted(2, 2, -3, -3))
        p.end()


def scrolled(w: QWidget) -> QScrollArea:
    s = QScrollArea()
    s.setWidgetResizable(True)
    s.setFrameShape(QScrollArea.Shape.NoFrame)
    s.setWidget(w)
    return s


# ------------------------------------------------------------------ numbers as tables
def grid_html(values: np.ndarray, scale: float, inside: np.ndarray | None = None,
              mark: tuple[int, int] | None = None, blank_outside: bool = False) -> str:
    """An HTML table of the numbers, each cell tinted by its value; cells outside the image
    greyed (0, or empty with ``blank_outside``); ``mark``: the cell to highlight."""
    rgb = signed_rgb(values, scale, pale=0.55)
    rows = []
    for u in range(values.shape[0]):
        cells = []
        for v in range(values.shape[1]):
            out = inside is not None and not inside[u, v]
            if (u, v) == mark:
                cells.append(f"<td align='right' width='{CELL_W}' bgcolor='{WINNER_BG}'>"
                             f"<b>{num(values[u, v])}</b></td>")
            elif out:
                cells.append(f"<td align='right' width='{CELL_W}' bgcolor='{PAD_BG}'><font color='#90A4AE'>"
                             f"{'' if blank_outside else '<i>0</i>'}</font></td>")
            else:
                cells.append(f"<td align='right' width='{CELL_W}' bgcolor='{_hex(rgb[u, v])}'>{num(values[u, v])}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return ("<table border='1' cellspacing='0' cellpadding='3' style='border-color:#B0BEC5'>"
            + "".join(rows) + "</table>")


def signed_sum(values, bold: int | None = None) -> str:
    """'a + b − c' for the numbers (the first with its own sign); term ``bold`` in bold."""
    out = []
    for i, v in enumerate(values):
        v = float(v)
        t = num(v) if i == 0 else (f"− {num(-v)}" if v < 0 else f"+ {num(v)}")
        out.append(f"<b><u>{t}</u></b>" if i == bold else t)
    return " ".join(out)


def _span(a: np.ndarray) -> str:
    return f"{int(a[0])}" if len(a) == 1 else f"{int(a[0])}–{int(a[-1])}"


def _header(ctx: InsideContext, text: str) -> QLabel:
    n = ctx.trace.node(ctx.node_id)
    shapes = ", ".join("×".join(map(str, np.shape(v))) for v in n.input_values)
    out = "×".join(map(str, np.shape(n.output)))
    lab = QLabel(f"<b>{html.escape(ctx.node_id)}</b> · {html.escape(n.type_id)} · {text} · "
                 f"input {shapes} → output {out}")
    lab.setWordWrap(True)
    return lab


def _params(ctx: InsideContext) -> dict:
    graph = getattr(ctx.network, "graph", None)
    node = graph.nodes.get(ctx.node_id) if graph is not None else None
    return dict(node.params) if node is not None else {}


def _w(p, name, default) -> str:
    v = p.get(name, default)
    return "×".join(map(str, v)) if isinstance(v, (list, tuple)) else f"{v}×{v}"


# ------------------------------------------------------------------ Conv2D
class ConvInside(QWidget):
    """Feature maps of a Conv2D node, and the arithmetic of the clicked cell."""

    def __init__(self, ctx: InsideContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("insideConv")
        self.ctx = ctx
        self.params = _params(ctx)
        n = ctx.trace.node(ctx.node_id)
        self.node = n
        self.x = np.asarray(n.input_values[0], np.float64)
        out = np.asarray(n.output, np.float64)
        p = self.params
        desc = (f"{out.shape[2]} filters {_w(p, 'kernel_size', 3)}, stride {_w(p, 'strides', 1)}, "
                f"padding {p.get('padding', 'valid')}, {html.escape(str(n.activation or 'linear'))}")
        self.maps = MapGrid(out, prefix="filter ")
        self.maps.setObjectName("insideConvMaps")
        self.x_scale = scale_of(self.x)
        self.in_map = MapGrid(self.x[:, :, :1], self.x_scale, prefix="input channel ", channels=[0])
        self.in_map.setObjectName("insideConvInputMap")
        side = max(60, min(140, 12 * max(self.x.shape[:2]) + 20))
        self.in_map.setFixedSize(side + 60, side + 30)
        self.cell = None  # the ConvCell shown
        self.channel = 0  # the input channel shown

        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(_header(ctx, desc))
        legend = QLabel(legend_html(self.maps.scale) + " — the output f(z) of every filter; "
                        "click a cell to see how it is computed")
        legend.setWordWrap(True)
        lay.addWidget(legend)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(scrolled(self.maps))

        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(6, 0, 0, 0)
        self.title = QLabel()
        self.title.setObjectName("insideConvTitle")
        self.title.setWordWrap(True)
        rl.addWidget(self.title)
        nav = QHBoxLayout()
        nav.addWidget(self.in_map)
        step = QVBoxLayout()
        self.b_prev = QPushButton("◀ Previous channel")
        self.b_prev.setObjectName("insidePrevChannel")
        self.b_next = QPushButton("Next channel ▶")
        self.b_next.setObjectName("insideNextChannel")
        self.channel_text = QLabel()
        self.channel_text.setObjectName("insideChannelText")
        self.channel_text.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.b_prev)
        buttons.addWidget(self.b_next)
        step.addLayout(buttons)
        step.addWidget(self.channel_text)
        step.addStretch(1)
        nav.addLayout(step, 1)
        rl.addLayout(nav)
        self.detail = QLabel()
        self.detail.setObjectName("insideConvDetail")
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        rl.addWidget(self.detail)
        self.total = QLabel()
        self.total.setObjectName("insideConvTotal")
        self.total.setWordWrap(True)
        self.total.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        rl.addWidget(self.total)
        rl.addStretch(1)
        split.addWidget(scrolled(right))
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        split.setSizes([370, 520])
        lay.addWidget(split, 1)

        self.maps.cellClicked.connect(lambda k, r, c: self.show_cell(r, c, k))
        self.b_prev.clicked.connect(lambda: self.show_channel(self.channel - 1))
        self.b_next.clicked.connect(lambda: self.show_channel(self.channel + 1))
        # start on the strongest cell, so that the view shows something at once
        r, c, k = np.unravel_index(int(np.nanargmax(np.abs(out))) if np.isfinite(out).any() else 0, out.shape)
        self.show_cell(int(r), int(c), int(k))

    def sizeHint(self) -> QSize:
        return QSize(900, 640)

    # ------------------------------------------------------------ showing
    def show_cell(self, row: int, col: int, out_channel: int) -> None:
        """Open the arithmetic of output cell (row, col) of filter ``out_channel``."""
        self.cell = conv_cell(self.ctx.trace, None, self.ctx.node_id, row, col, out_channel, params=self.params)
        self.maps.set_selected((out_channel, row, col))
        c = self.cell
        over = "its one input channel" if len(c.channels) == 1 else f"all {len(c.channels)} input channels"
        self.title.setText(f"<b>output[{row}, {col}] of filter {out_channel}</b> — a {c.kernel_size[0]}×"
                           f"{c.kernel_size[1]} window from input row {c.origin[0]}, column {c.origin[1]} "
                           f"over {over}")
        self.show_channel(min(self.channel, len(c.channels) - 1))

    def show_channel(self, k: int) -> None:
        """Show input channel ``k``'s share of the cell (clamped to the channels there are)."""
        c = self.cell
        k = max(0, min(k, len(c.channels) - 1))
        self.channel = k
        t = c.channels[k]
        self.b_prev.setEnabled(k > 0)
        self.b_next.setEnabled(k < len(c.channels) - 1)
        self._show_total()
        self.channel_text.setText(f"input channel <b>{k}</b> of {len(c.channels)} (0–{len(c.channels) - 1}): "
                                  f"sum {num(t.total)}")
        # the input channel, with the window on it
        self.in_map.set_maps(self.x[:, :, k:k + 1], self.x_scale, [k])
        self.in_map.set_window((0, (int(t.rows[0]), int(t.cols[0]), int(t.rows[-1]), int(t.cols[-1])), None))
        scale = scale_of(t.patch, t.kernel, t.products)
        where = f"rows {_span(t.rows)}, columns {_span(t.cols)}"
        pad = "" if t.inside.all() else (f"<br><span style='background:{PAD_BG}'>&nbsp;<i>0</i>&nbsp;</span> "
                                         "padding: the window reaches past the image's edge")
        P = f"<td>{grid_html(t.patch, scale, t.inside)}</td>"
        K = f"<td>{grid_html(t.kernel, scale)}</td>"
        X = f"<td>{grid_html(t.products, scale, t.inside)}</td>"
        p_title = f"<td>patch x (channel {k}, {where})</td>"
        k_title = f"<td>kernel K[:, :, {k}, {c.out_channel}]</td>"
        x_title = "<td>products x·K</td>"
        s_cell = f"<td valign='middle'>Σ = <b>{num(t.total)}</b><br>(channel {k}'s sum)</td>"
        op = "<td valign='middle'><b>{}</b></td>".format
        if c.kernel_size[1] <= 4:  # patch ⊙ kernel side by side, the products under them
            body = (f"<tr>{p_title}<td></td>{k_title}</tr><tr>{P}{op('⊙')}{K}</tr>"
                    f"<tr>{x_title}</tr><tr>{X}{op('→')}{s_cell}</tr>")
        else:  # wide kernels: one grid under the other
            body = (f"<tr>{p_title}</tr><tr>{P}</tr><tr>{op('⊙')}</tr><tr>{k_title}</tr><tr>{K}</tr>"
                    f"<tr>{op('=')}</tr><tr>{x_title}</tr><tr>{X}</tr><tr>{s_cell}</tr>")
        self.detail.setText(f"<table cellspacing='4'>{body}</table>{pad}")

    def _show_total(self) -> None:
        c = self.cell
        sums = [t.total for t in c.channels]
        listed = signed_sum(sums[:24], bold=self.channel)
        if len(sums) > 24:
            listed += f" + ({len(sums) - 24} more: {num(sum(sums[24:]))})"
        lines = []
        if len(c.channels) > 1:
            lines.append(f"Σ over the {len(c.channels)} input channels = {listed} = <b>{num(c.total)}</b>")
        else:
            lines.append(f"Σ = <b>{num(c.total)}</b>")
        lines += z_and_activation(c.total, c.bias if c.has_bias else None, c.z, c.activation, c.output, "bias")
        self.total.setText("<br>".join(lines))


@inside_view("Conv2D")
def conv_view(ctx: InsideContext) -> QWidget:
    return ConvInside(ctx)


# ------------------------------------------------------------------ pooling
class PoolInside(QWidget):
    """A pool's input and output maps; click an output cell → its window."""

    def __init__(self, ctx: InsideContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("insidePool")
        self.ctx = ctx
        self.params = _params(ctx)
        n = ctx.trace.node(ctx.node_id)
        self.kind = "max" if n.type_id == "MaxPool2D" else "average"
        x = np.asarray(n.input_values[0], np.float64)
        y = np.asarray(n.output, np.float64)
        scale = scale_of(x, y)
        p = self.params
        self.inputs = MapGrid(x, scale)
        self.inputs.setObjectName("insidePoolInput")
        self.outputs = MapGrid(y, scale)
        self.outputs.setObjectName("insidePoolOutput")
        self.cell = None
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(_header(ctx, f"{self.kind} of each {_w(p, 'pool_size', 2)} window, stride "
                                   f"{_w(p, 'strides', 2)}, padding {p.get('padding', 'valid')}"))
        legend = QLabel(legend_html(scale) + " — click a cell of an output map to see its window")
        legend.setWordWrap(True)
        lay.addWidget(legend)
        split = QSplitter(Qt.Orientation.Horizontal)
        for title, grid in (("input", self.inputs), ("output", self.outputs)):
            box = QWidget()
            bl = QVBoxLayout(box)
            bl.setContentsMargins(0, 0, 0, 0)
            bl.addWidget(QLabel(f"<b>{title}</b>"))
            bl.addWidget(scrolled(grid), 1)
            split.addWidget(box)
        split.setSizes([480, 400])
        lay.addWidget(split, 3)
        self.detail = QLabel()
        self.detail.setObjectName("insidePoolDetail")
        self.detail.setMinimumHeight(150)
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        lay.addWidget(scrolled(self.detail), 1)
        self.outputs.cellClicked.connect(lambda k, r, c: self.show_cell(r, c, k))
        r, c, k = np.unravel_index(int(np.nanargmax(np.abs(y))) if np.isfinite(y).any() else 0, y.shape)
        self.show_cell(int(r), int(c), int(k))

    def sizeHint(self) -> QSize:
        return QSize(900, 640)

    def show_cell(self, row: int, col: int, channel: int) -> None:
        self.cell = c = pool_cell(self.ctx.trace, self.ctx.node_id, row, col, channel, params=self.params)
        self.outputs.set_selected((channel, row, col))
        winner = None if c.winner is None else (int(c.rows[c.winner[0]]), int(c.cols[c.winner[1]]))
        self.inputs.set_window((channel, (int(c.rows[0]), int(c.cols[0]), int(c.rows[-1]), int(c.cols[-1])),
                                winner))
        where = f"input rows {_span(c.rows)}, columns {_span(c.cols)}"
        scale = scale_of(c.window)
        table = grid_html(c.window, scale, c.inside, mark=c.winner, blank_outside=True)
        lines = [f"<b>output[{row}, {col}] of channel {channel}</b> — the window over {where}", table]
        if not c.inside.all():
            lines.append(f"grey: past the image's edge, left out of the {c.kind}")
        if c.kind == "max":
            lines.append(f"max = <b>{num(c.value)}</b>, the winner at input row {winner[0]}, column "
                         f"{winner[1]} (highlighted; on ties the first, row by row)")
        else:
            lines.append(f"average = ({signed_sum(c.window[c.inside])}) / {c.count} = {num(c.total)} / {c.count} = "
                         f"<b>{num(c.value)}</b>")
        lines.append(f"output = <b>{num(c.output)}</b>")
        self.detail.setText("<br>".join(lines))


@inside_view("MaxPool2D", "AvgPool2D")
def pool_view(ctx: InsideContext) -> QWidget:
    return PoolInside(ctx)
