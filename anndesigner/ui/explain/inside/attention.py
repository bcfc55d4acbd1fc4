"""Inside a SelfAttention layer, for the sample explained.

Per head (a selector on top) the attention matrix softmax(QKᵀ/√d): query
positions in rows, key positions in columns, coloured by weight (numbers in the
cells up to 12 positions; masked cells crossed out). Click a cell, or a row's
label, and the drill-down below shows that query's arithmetic: qᵢ, then per key
position j: kⱼ, qᵢ·kⱼ, ÷√d, the mask, the softmax weight aⱼ and aⱼvⱼ; then
Σⱼ aⱼvⱼ (the head's output row) and the layer's output row
[head₁ … head_H]ᵢ W_O + b_O.

The numbers come from :func:`anndesigner.engine.tracing_seq.attention_steps`,
which redoes the engine's arithmetic piece by piece (tests check it equals the
trace's output and the engine's attention weights).
"""

from __future__ import annotations

import html
import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import (
    QComboBox, QHBoxLayout, QHeaderView, QLabel, QSizePolicy, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

from ....engine import AttentionSteps, attention_steps
from ... import style
from ..stages import num, vec
from . import InsideContext, inside_view

NUMBERS_UP_TO = 12  # positions: numbers in the matrix cells up to this many
MASKED_BG = QColor("#ECEFF1")
SELECT_PEN = QColor("#212121")
ROW_PEN = QColor("#FFB300")
VALUE_ROLE = Qt.ItemDataRole.UserRole  # the float behind a drill-down cell's text


def weight_color(a: float) -> QColor:
    """0 → white, 1 → the positive-weight blue (attention weights lie in [0, 1])."""
    t = min(max(float(a), 0.0), 1.0) if math.isfinite(a) else 0.0
    c = style.POSITIVE_WEIGHT
    return QColor(round(255 + (c.red() - 255) * t), round(255 + (c.green() - 255) * t),
                  round(255 + (c.blue() - 255) * t))


def short(a, k: int = 3) -> str:
    """The first ``k`` values of a vector, "…" when there are more (the whole vector goes in a tooltip)."""
    flat = np.asarray(a, np.float64).reshape(-1)
    return "[" + ", ".join(num(v) for v in flat[:k]) + (", …]" if flat.size > k else "]")


def node_weights(ctx: InsideContext) -> dict[str, np.ndarray]:
    """The weights the trace ran with: its own record when it has one, else the network's."""
    own = {w.name: w.value for w in ctx.trace.weights if w.node_id == ctx.node_id}
    return own or ctx.network.get_weights()


def node_params(ctx: InsideContext) -> dict:
    return dict(ctx.network.graph.nodes[ctx.node_id].params)


# ------------------------------------------------------------------ matrix
class AttentionMatrix(QWidget):
    """A T × T heat map; ``cellClicked(row, column)`` (column −1: the row's label)."""

    cellClicked = Signal(int, int)
    LEFT, TOP, MAX_CELL = 40, 36, 56

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("attentionMatrix")
        self.values = np.zeros((0, 0))
        self.mask = np.zeros((0, 0), bool)
        self.row: int | None = None
        self.col: int | None = None
        self.setMinimumSize(220, 220)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMouseTracking(True)

    def set_matrix(self, values: np.ndarray, mask: np.ndarray) -> None:
        self.values = np.asarray(values, np.float64)
        self.mask = np.asarray(mask, bool)
        self.update()

    def select(self, row: int | None, col: int | None) -> None:
        self.row, self.col = row, col
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(360, 300)

    # geometry ------------------------------------------------------------
    def cell_size(self) -> float:
        t = max(1, self.values.shape[0])
        room = min(self.width() - self.LEFT - 6, self.height() - self.TOP - 6)
        return max(6.0, min(float(self.MAX_CELL), math.floor(room / t)))

    def cell_rect(self, i: int, j: int) -> QRectF:
        s = self.cell_size()
        return QRectF(self.LEFT + j * s, self.TOP + i * s, s, s)

    def row_label_rect(self, i: int) -> QRectF:
        s = self.cell_size()
        return QRectF(0, self.TOP + i * s, self.LEFT - 2, s)

    def hit(self, p: QPointF) -> tuple[int, int] | None:
        t = self.values.shape[0]
        s = self.cell_size()
        i = math.floor((p.y() - self.TOP) / s)
        if not 0 <= i < t:
            return None
        if p.x() < self.LEFT:
            return (i, -1)
        j = math.floor((p.x() - self.LEFT) / s)
        return (i, j) if 0 <= j < t else None

    # events --------------------------------------------------------------
    def mousePressEvent(self, e) -> None:
        h = self.hit(e.position())
        if h is None or e.button() != Qt.MouseButton.LeftButton:
            return super().mousePressEvent(e)
        self.cellClicked.emit(*h)

    def mouseMoveEvent(self, e) -> None:
        h = self.hit(e.position())
        if h is None or h[1] < 0:
            self.setToolTip("")
        else:
            i, j = h
            what = "masked (causal: a later position)" if self.mask[i, j] else f"weight {num(self.values[i, j])}"
            self.setToolTip(f"query {i} → key {j}: {what}")

    def paintEvent(self, _e) -> None:
        t = self.values.shape[0]
        if not t:
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        s = self.cell_size()
        f = QFont(self.font())
        f.setPointSizeF(max(7.0, min(9.0, s / 4.2)))
        p.setFont(f)
        muted = style.MUTED_TEXT
        # axis titles and labels
        p.setPen(muted)
        p.drawText(QRectF(self.LEFT, 0, t * s, 16), Qt.AlignmentFlag.AlignCenter, "key position j →")
        p.save()
        p.translate(10, self.TOP + t * s / 2)
        p.rotate(-90)
        p.drawText(QRectF(-60, -8, 120, 16), Qt.AlignmentFlag.AlignCenter, "query i ↓")
        p.restore()
        step = max(1, math.ceil(14 / s))
        for k in range(0, t, step):
            p.drawText(QRectF(self.LEFT + k * s, 16, s, self.TOP - 18), Qt.AlignmentFlag.AlignCenter, str(k))
            r = self.row_label_rect(k).adjusted(14, 0, -3, 0)
            p.setPen(style.TEXT_COLOR if k == self.row else muted)
            p.drawText(r, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, str(k))
            p.setPen(muted)
        # cells
        for i in range(t):
            for j in range(t):
                r = self.cell_rect(i, j)
                if self.mask[i, j]:
                    p.fillRect(r, MASKED_BG)
                    p.setPen(QPen(QColor("#B0BEC5"), 1))
                    p.drawLine(r.topLeft() + QPointF(3, 3), r.bottomRight() - QPointF(3, 3))
                    continue
                a = self.values[i, j]
                p.fillRect(r, weight_color(a))
                if t <= NUMBERS_UP_TO and s >= 24:
                    p.setPen(QColor("white") if a > 0.55 else style.TEXT_COLOR)
                    p.drawText(r, Qt.AlignmentFlag.AlignCenter, f"{a:.2f}")
        p.setPen(QPen(QColor("#CFD8DC"), 1))
        p.drawRect(QRectF(self.LEFT, self.TOP, t * s, t * s))
        if self.row is not None:
            p.setPen(QPen(ROW_PEN, 2))
            p.drawRect(QRectF(self.LEFT, self.TOP + self.row * s, t * s, s).adjusted(1, 1, -1, -1))
            if self.col is not None and self.col >= 0:
                p.setPen(QPen(SELECT_PEN, 2))
                p.drawRect(self.cell_rect(self.row, self.col).adjusted(1, 1, -1, -1))
        p.end()


# ------------------------------------------------------------------ the view
DRILL_COLUMNS = ("key j", "kⱼ", "qᵢ·kⱼ", "÷ √d", "mask", "aⱼ = softmax", "aⱼ·vⱼ")


class AttentionInside(QWidget):
    """The inside view of one SelfAttention node."""

    def __init__(self, steps: AttentionSteps, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("attentionInside")
        self.steps = steps
        s = steps
        self.head = 0
        self.query: int | None = None
        self.key: int | None = None

        title = QLabel(
            f"<b>{html.escape(s.node_id)}</b> · {s.n_heads} head{'s' if s.n_heads > 1 else ''} × key size "
            f"{s.key_dim} · {s.T} positions × {s.D} features{' · causal' if s.causal else ''}<br>"
            f"<span style='color:{style.MUTED_TEXT.name()}'>per head: A = softmax(QKᵀ / √{s.key_dim}), "
            f"head = AV; y = [head₁ … head_{s.n_heads}] W_O + b_O. Click a cell or a row's number. "
            f"Colour: white 0 → blue 1; crossed out: masked.</span>")
        title.setWordWrap(True)
        self.heads = QComboBox()
        self.heads.setObjectName("attentionHead")
        for h in range(s.n_heads):
            self.heads.addItem(f"Head {h + 1} of {s.n_heads}", h)
        self.heads.currentIndexChanged.connect(self._head_changed)
        top = QHBoxLayout()
        top.addWidget(title, 1)
        top.addWidget(self.heads, 0, Qt.AlignmentFlag.AlignTop)

        self.matrix = AttentionMatrix()
        self.matrix.cellClicked.connect(self._clicked)
        self.info = QLabel()
        self.info.setObjectName("attentionInfo")
        self.info.setWordWrap(True)
        self.info.setTextFormat(Qt.TextFormat.RichText)
        self.info.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.info.setMinimumWidth(300)
        mid = QHBoxLayout()
        mid.addWidget(self.matrix, 3)
        mid.addWidget(self.info, 2)

        self.drill = QTableWidget(0, len(DRILL_COLUMNS))
        self.drill.setObjectName("attentionDrill")
        self.drill.setHorizontalHeaderLabels(list(DRILL_COLUMNS))
        self.drill.verticalHeader().setVisible(False)
        self.drill.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.drill.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        hh = self.drill.horizontalHeader()
        for c in range(len(DRILL_COLUMNS)):
            hh.setSectionResizeMode(c, QHeaderView.ResizeMode.Stretch if c in (1, 6)
                                    else QHeaderView.ResizeMode.ResizeToContents)
        self.drill.verticalHeader().setDefaultSectionSize(22)
        self.drill.setMinimumHeight(min(steps.T, 10) * 22 + 30)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(top)
        lay.addLayout(mid, 5)
        lay.addWidget(self.drill, 4)
        self._head_changed(0)

    def sizeHint(self) -> QSize:
        return QSize(900, 700)

    # --------------------------------------------------------------- state
    @property
    def head_steps(self):
        return self.steps.heads[self.head]

    def _head_changed(self, index: int) -> None:
        self.head = max(0, index)
        self.matrix.set_matrix(self.head_steps.weights, self.steps.mask)
        if self.query is None:
            self.show_query(0, None)
        else:
            self.show_query(self.query, self.key)

    def _clicked(self, row: int, col: int) -> None:
        self.show_query(row, col if col >= 0 else None)

    def output_row(self, i: int) -> np.ndarray:
        """Row i of the layer's output, [head₁ … head_H]ᵢ W_O + b_O."""
        return self.steps.output[i]

    def show_query(self, i: int, j: int | None) -> None:
        """The drill-down of query position ``i`` in the current head (key ``j`` highlighted)."""
        s, hs = self.steps, self.head_steps
        self.query, self.key = i, j
        self.matrix.select(i, j)
        d = s.key_dim
        q = hs.q[i]
        self.drill.setRowCount(s.T)
        for jj in range(s.T):
            masked = bool(s.mask[i, jj])
            a = float(hs.weights[i, jj])
            cells = [
                (str(jj), None),
                (short(hs.k[jj]), None),
                (num(hs.scores[i, jj]), float(hs.scores[i, jj])),
                (num(hs.scaled[i, jj]), float(hs.scaled[i, jj])),
                ("−∞ (j > i)" if masked else "", float(hs.masked[i, jj])),
                (num(a), a),
                (short(a * hs.v[jj]), None),
            ]
            for c, (text, value) in enumerate(cells):
                it = QTableWidgetItem(text)
                if value is not None:
                    it.setData(VALUE_ROLE, value)
                if c == 1:
                    it.setToolTip(f"k{jj} = {vec(hs.k[jj], 64)}")
                elif c == 6:
                    it.setToolTip(f"a·v{jj} = {num(a)} · {vec(hs.v[jj], 64)}")
                if c == 5 and not masked:
                    it.setBackground(weight_color(a))
                    if a > 0.55:
                        it.setForeground(QColor("white"))
                if masked:
                    it.setForeground(style.MUTED_TEXT)
                self.drill.setItem(jj, c, it)
        if j is not None:
            self.drill.selectRow(j)
            self.drill.scrollToItem(self.drill.item(j, 0))
        else:
            self.drill.clearSelection()
        mu = style.MUTED_TEXT.name()
        lines = [
            f"<b>Head {self.head + 1}, query position {i}</b>",
            f"qᵢ = xᵢW_Q + b_Q = {vec(q, d)}",
            f"<span style='color:{mu}'>scores qᵢ·kⱼ, ÷ √{d} = {num(math.sqrt(d))}"
            + (", masked (−∞) where j &gt; i" if s.causal else "")
            + f", softmax over the row: Σⱼ aⱼ = {num(hs.weights[i].sum())}</span>",
        ]
        if j is not None:
            lines += [
                f"<b>key position {j}</b>: kⱼ = {vec(hs.k[j], d)}",
                f"qᵢ·kⱼ = {num(hs.scores[i, j])} → ÷ √{d} = {num(hs.scaled[i, j])}"
                + (" → masked: −∞" if s.mask[i, j] else "")
                + f" → aᵢⱼ = {num(hs.weights[i, j])}",
                f"vⱼ = {vec(hs.v[j], d)}",
            ]
        lines += [
            f"<b>head output</b> Σⱼ aⱼvⱼ = {vec(hs.output[i], d)}",
            f"<b>layer output row</b> yᵢ = [head₁ … head_{s.n_heads}]ᵢ W_O + b_O = {vec(self.output_row(i), 16)}",
        ]
        self.info.setText("<br>".join(lines))


@inside_view("SelfAttention")
def attention_inside(ctx: InsideContext) -> QWidget:
    steps = attention_steps(ctx.trace, node_weights(ctx), ctx.node_id, node_params(ctx))
    return AttentionInside(steps)
