"""Inside a SimpleRNN, LSTM or GRU layer, for the sample explained.

The layer unrolled over its time steps: a heat map with one column per step
and a band of rows for the input xₜ, each gate, the cell cₜ (LSTM) and the
state hₜ (the first 8 units of each when there are more). Click a step (any
cell of its column) and the panel beside it writes that step's equations with
the numbers, e.g. fₜ[0] = σ(W_f·xₜ + U_f·hₜ₋₁ + b_f) = σ(0.12 − 0.3 + 1) = …;
with more than 8 units it shows the first ones and min / mean / max of the
whole vector, and "Show all units" writes every unit out.

The numbers come from :func:`anndesigner.engine.tracing_seq.recurrent_steps`
(tests check they equal the trace's output and the engine's own states).
"""

from __future__ import annotations

import html
import math
import re

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import (
    QCheckBox, QHBoxLayout, QLabel, QScrollArea, QSizePolicy, QSplitter, QVBoxLayout, QWidget,
)

from ....engine import GATE_LABELS, RECURRENT_TYPES, RecurrentSteps, recurrent_steps
from ... import style
from ..stages import num
from . import InsideContext, inside_view
from .attention import node_params, node_weights

SHOWN_UNITS = 8  # units drawn and written out per row before summarising
SELECT_PEN = QColor("#212121")

#: the symbol of each row in the equations
SYMBOL = {"x": "xₜ", "i": "iₜ", "f": "fₜ", "g": "gₜ", "o": "oₜ", "c": "cₜ", "tanh_c": "tanh(cₜ)",
          "z": "zₜ", "r": "rₜ", "h̃": "h̃ₜ", "h": "hₜ", "z_rnn": "zₜ"}
#: the subscript of each gate's weights (W_f, U_f, b_f)
SUB = {"i": "i", "f": "f", "g": "g", "o": "o", "z": "z", "r": "r", "h̃": "h", "z_rnn": ""}


def signed_color(v: float, scale: float) -> QColor:
    """White at 0, the positive-weight blue at +scale, the negative orange-red at −scale."""
    t = 0.0 if scale <= 0 or not math.isfinite(v) else max(-1.0, min(1.0, v / scale))
    c = style.POSITIVE_WEIGHT if t >= 0 else style.NEGATIVE_WEIGHT
    a = abs(t)
    return QColor(round(255 + (c.red() - 255) * a), round(255 + (c.green() - 255) * a),
                  round(255 + (c.blue() - 255) * a))


def terms(*values: float) -> str:
    """'0.1 − 0.2 + 1': a sum written out with its signs."""
    out = ""
    for k, v in enumerate(values):
        v = float(v)
        if k == 0:
            out = num(v)
        else:
            out += f" − {num(abs(v))}" if v < 0 else f" + {num(v)}"
    return out


def factor(v: float) -> str:
    """A number as a factor of a product: negative ones in parentheses."""
    return f"({num(v)})" if float(v) < 0 else num(v)


def summary(a: np.ndarray) -> str:
    a = np.asarray(a, np.float64)
    return f"min {num(a.min())}, mean {num(a.mean())}, max {num(a.max())}"


# ------------------------------------------------------------------ heat map
class UnrolledMap(QWidget):
    """Columns = time steps, bands of rows = xₜ, the gates, cₜ, hₜ; ``stepClicked(t)``."""

    stepClicked = Signal(int)
    LEFT, TOP, GAP = 118, 20, 6

    def __init__(self, steps: RecurrentSteps, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("recurrentMap")
        self.steps = steps
        self.bands = [(key, a, min(a.shape[1], SHOWN_UNITS)) for key, a in steps.rows.items()]
        self.scales = {key: float(np.abs(a[np.isfinite(a)]).max(initial=0.0)) for key, a in steps.rows.items()}
        self.step: int | None = None
        self.setMinimumSize(300, 240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMouseTracking(True)

    def sizeHint(self) -> QSize:
        return QSize(480, 600)

    def select(self, t: int | None) -> None:
        self.step = t
        self.update()

    # geometry ------------------------------------------------------------
    def column_width(self) -> float:
        return max(6.0, min(60.0, math.floor((self.width() - self.LEFT - 4) / max(1, self.steps.T))))

    def row_height(self) -> float:
        rows = sum(n for _, _, n in self.bands)
        room = self.height() - self.TOP - 4 - self.GAP * (len(self.bands) - 1)
        return max(3.0, min(22.0, math.floor(room / max(1, rows))))

    def _band_top(self, index: int) -> float:
        rh = self.row_height()
        return self.TOP + sum(n for _, _, n in self.bands[:index]) * rh + self.GAP * index

    def cell_rect(self, key: str, unit: int, t: int) -> QRectF:
        index = [k for k, _, _ in self.bands].index(key)
        cw, rh = self.column_width(), self.row_height()
        return QRectF(self.LEFT + t * cw, self._band_top(index) + unit * rh, cw, rh)

    def column_rect(self, t: int) -> QRectF:
        cw = self.column_width()
        bottom = self._band_top(len(self.bands) - 1) + self.bands[-1][2] * self.row_height()
        return QRectF(self.LEFT + t * cw, self.TOP, cw, bottom - self.TOP)

    def hit(self, p: QPointF) -> tuple[int, str | None, int | None] | None:
        """(step, row key, unit) under the point; key and unit None in a gap or the step numbers."""
        cw, rh = self.column_width(), self.row_height()
        t = math.floor((p.x() - self.LEFT) / cw)
        if p.x() < self.LEFT or not 0 <= t < self.steps.T:
            return None
        for index, (key, _, n) in enumerate(self.bands):
            top = self._band_top(index)
            if top <= p.y() < top + n * rh:
                return (t, key, min(n - 1, math.floor((p.y() - top) / rh)))
        if 0 <= p.y() < self._band_top(len(self.bands) - 1) + self.bands[-1][2] * rh:
            return (t, None, None)
        return None

    # events --------------------------------------------------------------
    def mousePressEvent(self, e) -> None:
        h = self.hit(e.position())
        if h is None or e.button() != Qt.MouseButton.LeftButton:
            return super().mousePressEvent(e)
        self.stepClicked.emit(h[0])

    def mouseMoveEvent(self, e) -> None:
        h = self.hit(e.position())
        if h is None or h[1] is None:
            self.setToolTip("")
            return
        t, key, unit = h
        self.setToolTip(f"{SYMBOL[key]}[{unit}] at t = {t}: {num(self.steps.rows[key][t, unit])}")

    def paintEvent(self, _e) -> None:
        p = QPainter(self)
        cw, rh = self.column_width(), self.row_height()
        T = self.steps.T
        f = QFont(self.font())
        f.setPointSizeF(8.0)
        p.setFont(f)
        p.setPen(style.MUTED_TEXT)
        every = max(1, math.ceil(18 / cw))
        for t in range(0, T, every):
            p.drawText(QRectF(self.LEFT + t * cw, 0, cw * every, self.TOP - 2),
                       Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom, f" {t}")
        p.drawText(QRectF(0, 0, self.LEFT - 4, self.TOP - 2),
                   Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom, "step t →")
        numbers = cw >= 34 and rh >= 13
        small = QFont(f)
        small.setPointSizeF(max(6.0, min(8.0, rh * 0.5)))
        for index, (key, a, n) in enumerate(self.bands):
            top = self._band_top(index)
            label = GATE_LABELS[key] + (f" ({n} of {a.shape[1]})" if a.shape[1] > n else "")
            p.setPen(style.TEXT_COLOR)
            p.setFont(f)
            p.drawText(QRectF(2, top, self.LEFT - 8, max(n * rh, 14)),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter | Qt.TextFlag.TextWordWrap,
                       label)
            scale = self.scales[key]
            p.setFont(small)
            for t in range(T):
                for j in range(n):
                    r = QRectF(self.LEFT + t * cw, top + j * rh, cw, rh)
                    v = float(a[t, j])
                    p.fillRect(r, signed_color(v, scale))
                    if numbers:
                        dark = scale > 0 and abs(v) / scale > 0.6
                        p.setPen(QColor("white") if dark else style.TEXT_COLOR)
                        p.drawText(r, Qt.AlignmentFlag.AlignCenter, f"{v:.2f}")
            p.setPen(QPen(QColor("#CFD8DC"), 1))
            p.drawRect(QRectF(self.LEFT, top, T * cw, n * rh))
        if self.step is not None:
            p.setPen(QPen(SELECT_PEN, 2))
            p.drawRect(self.column_rect(self.step).adjusted(1, 1, -1, -1))
        p.end()


# ------------------------------------------------------------------ the view
def _formulas(s: RecurrentSteps) -> list[str]:
    if s.kind == "SimpleRNN":
        return [f"zₜ = W·xₜ + U·hₜ₋₁ + b, hₜ = {s.activation}(zₜ)"]
    if s.kind == "LSTM":
        return ["iₜ, fₜ, oₜ = σ(W·xₜ + U·hₜ₋₁ + b) (each with its own W, U, b), gₜ = tanh(W_g·xₜ + U_g·hₜ₋₁ + b_g)",
                "cₜ = fₜ⊙cₜ₋₁ + iₜ⊙gₜ, hₜ = oₜ⊙tanh(cₜ)"]
    if s.reset_after:  # Keras's GRU(reset_after=True), PyTorch's nn.GRU
        return ["zₜ, rₜ = σ(W·xₜ + b + U·hₜ₋₁ + b_hh), h̃ₜ = tanh(W_h·xₜ + b_h + rₜ⊙(U_h·hₜ₋₁ + b_hh)) "
                "(reset after the recurrent product; b: the input bias row, b_hh: the recurrent row)",
                "hₜ = zₜ⊙hₜ₋₁ + (1 − zₜ)⊙h̃ₜ"]
    return ["zₜ, rₜ = σ(W·xₜ + U·hₜ₋₁ + b), h̃ₜ = tanh(W_h·xₜ + U_h·(rₜ⊙hₜ₋₁) + b_h)",
            "hₜ = zₜ⊙hₜ₋₁ + (1 − zₜ)⊙h̃ₜ"]


class RecurrentInside(QWidget):
    """The inside view of one recurrent node."""

    def __init__(self, steps: RecurrentSteps, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("recurrentInside")
        self.steps = s = steps
        self.step: int | None = None
        mu = style.MUTED_TEXT.name()
        title = QLabel(
            f"<b>{html.escape(s.node_id)}</b> · {s.kind}, {s.units} unit{'s' if s.units > 1 else ''} · "
            f"{s.T} steps of {s.F} feature{'s' if s.F > 1 else ''} · h₀ = 0 · output: "
            + ("every hₜ" if s.return_sequences else f"the last state h_{s.T - 1}")
            + "<br>" + "<br>".join(f"<span style='color:{mu}'>{html.escape(f)}</span>" for f in _formulas(s))
            + f"<br><span style='color:{mu}'>Click a step (a column) for its equations with the numbers. "
            f"Colour: blue &gt; 0, white 0, orange &lt; 0, each band on its own scale (its largest |value|); "
            f"hover a cell for its value.</span>")
        title.setWordWrap(True)
        self.map = UnrolledMap(s)
        self.map.stepClicked.connect(self.show_step)
        self.all_units = QCheckBox(f"Show all {s.units} units")
        self.all_units.setObjectName("recurrentAllUnits")
        self.all_units.setVisible(s.units > SHOWN_UNITS)
        self.all_units.toggled.connect(lambda *_: self._refresh())
        self.equations = QLabel()
        self.equations.setObjectName("recurrentEquations")
        self.equations.setTextFormat(Qt.TextFormat.RichText)
        self.equations.setWordWrap(True)
        self.equations.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.equations.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.equations)
        self.scroll = scroll
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.all_units)
        rl.addWidget(scroll, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.map)
        split.addWidget(right)
        split.setStretchFactor(0, 5)
        split.setStretchFactor(1, 4)
        split.setSizes([500, 400])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(title)
        lay.addWidget(split, 1)
        self.show_step(s.T - 1)

    def sizeHint(self) -> QSize:
        return QSize(900, 700)

    def _refresh(self) -> None:
        if self.step is not None:
            self.show_step(self.step)

    def units_shown(self) -> int:
        return self.steps.units if self.all_units.isChecked() else min(self.steps.units, SHOWN_UNITS)

    # --------------------------------------------------------------- text
    def step_lines(self, t: int) -> list[str]:
        """The equations of step ``t`` (rich text lines)."""
        s = self.steps
        n = self.units_shown()
        more = s.units > n
        mu = style.MUTED_TEXT.name()
        hp = s.h_prev[t]
        lines = [f"<b>Step t = {t}</b>",
                 f"xₜ = [{', '.join(num(v) for v in s.rows['x'][t])}]",
                 f"hₜ₋₁ = {self._vector(hp, n)}" + (" (h₀ = 0)" if t == 0 else "")]
        if s.kind == "LSTM":
            lines.append(f"cₜ₋₁ = {self._vector(s.c_prev[t], n)}")

        def gate(g: str, fn: str, recurrent: str = "hₜ₋₁", head: str = "") -> None:
            sub = f"_{SUB[g]}" if SUB[g] else ""
            rows = s.pre[g] if g == "z_rnn" else s.rows[g]
            head = head or f"W{sub}·xₜ + U{sub}·{recurrent} + b{sub}"
            lines.append("")
            lines.append(f"<b>{SYMBOL[g]} = {fn + '(' if fn else ''}{head}{')' if fn else ''}</b>")
            for j in range(n):
                parts = terms(s.xw[g][t, j], s.hu[g][t, j], s.bias[g][j])
                if fn:
                    lines.append(f"{SYMBOL[g]}[{j}] = {fn}({parts}) = {fn}({num(s.pre[g][t, j])}) = "
                                 f"{num(rows[t, j])}")
                else:
                    lines.append(f"{SYMBOL[g]}[{j}] = {parts} = {num(rows[t, j])}")
            if more:
                lines.append(f"<span style='color:{mu}'>… all {s.units}: {summary(rows[t])}</span>")

        def combine(key: str, head: str, value_of) -> None:
            lines.append("")
            lines.append(f"<b>{head}</b>")
            for j in range(n):
                lines.append(f"{SYMBOL[key]}[{j}] = {value_of(j)} = {num(s.rows[key][t, j])}")
            if more:
                lines.append(f"<span style='color:{mu}'>… all {s.units}: {summary(s.rows[key][t])}</span>")

        if s.kind == "SimpleRNN":
            gate("z_rnn", "")
            combine("h", f"hₜ = {s.activation}(zₜ)", lambda j: f"{s.activation}({num(s.pre['z_rnn'][t, j])})")
        elif s.kind == "LSTM":
            for g in ("i", "f", "g", "o"):
                gate(g, "tanh" if g == "g" else "σ")
            r = s.rows
            combine("c", "cₜ = fₜ⊙cₜ₋₁ + iₜ⊙gₜ",
                    lambda j: f"{factor(r['f'][t, j])}·{factor(s.c_prev[t, j])} + "
                              f"{factor(r['i'][t, j])}·{factor(r['g'][t, j])}")
            combine("h", "hₜ = oₜ⊙tanh(cₜ)",
                    lambda j: f"{factor(r['o'][t, j])}·tanh({num(r['c'][t, j])}) = "
                              f"{factor(r['o'][t, j])}·{factor(r['tanh_c'][t, j])}")
        else:
            gate("z", "σ")
            gate("r", "σ")
            if s.reset_after:  # the middle term is rₜ⊙(U_h·hₜ₋₁ + b_hh); b_h the input row
                gate("h̃", "tanh", head="W_h·xₜ + rₜ⊙(U_h·hₜ₋₁ + b_hh) + b_h")
            else:
                gate("h̃", "tanh", "(rₜ⊙hₜ₋₁)")
            r = s.rows
            combine("h", "hₜ = zₜ⊙hₜ₋₁ + (1 − zₜ)⊙h̃ₜ",
                    lambda j: f"{factor(r['z'][t, j])}·{factor(hp[j])} + "
                              f"(1 − {num(r['z'][t, j])})·{factor(r['h̃'][t, j])}")
        lines.append("")
        if s.return_sequences:
            lines.append(f"<span style='color:{mu}'>output row {t} = hₜ</span>")
        elif t == s.T - 1:
            lines.append(f"<b>layer output</b> = h_{t} = {self._vector(s.output, n)}")
        else:
            lines.append(f"<span style='color:{mu}'>hₜ goes on to step {t + 1}; the layer outputs only "
                         f"h_{s.T - 1}</span>")
        return lines

    def _vector(self, a: np.ndarray, n: int) -> str:
        shown = ", ".join(num(v) for v in a[:n])
        if a.size > n:
            return f"[{shown}, …] ({a.size} values: {summary(a)})"
        return f"[{shown}]"

    def show_step(self, t: int) -> None:
        self.step = t
        self.map.select(t)
        self.equations.setText("<br>".join(self.step_lines(t)))

    def equations_text(self) -> str:
        """The equations as plain text, one line each (what the panel shows)."""
        doc = self.equations.text().replace("<br>", "\n")
        return html.unescape(re.sub(r"<[^>]+>", "", doc))


@inside_view(*RECURRENT_TYPES)
def recurrent_inside(ctx: InsideContext) -> QWidget:
    steps = recurrent_steps(ctx.trace, node_weights(ctx), ctx.node_id, node_params(ctx))
    return RecurrentInside(steps)
