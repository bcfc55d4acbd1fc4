"""Inside views of SelfAttention and of the recurrent layers, opened from the
Explain panel's "Look inside…" button and driven with real clicks at the
positions the views map their cells to (centres and edges); the numbers shown
are checked against attention_steps / recurrent_steps and the trace."""

import re
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

pytest.importorskip("pytestqt")

import anndesigner as ad  # noqa: E402
from anndesigner.engine.tracing_seq import attention_steps, recurrent_steps  # noqa: E402
from anndesigner.ui.document import Document  # noqa: E402
from anndesigner.ui.explain.inside.attention import AttentionInside, VALUE_ROLE  # noqa: E402
from anndesigner.ui.explain.inside.recurrent import SHOWN_UNITS, SYMBOL, RecurrentInside  # noqa: E402
from anndesigner.ui.explain.stages import num  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[3] / "samples"
LEFT = Qt.MouseButton.LeftButton
@pytest.fixture
def _panel(explain_panel):
    return lambda qtbot, doc, typed=None: _explained(qtbot, explain_panel(doc)[1], typed)


def _explained(qtbot, p, typed):
    if typed is not None:
        qtbot.keyClicks(p.typed, typed)
    qtbot.mouseClick(p.go, LEFT)
    assert p.trace is not None, p.message.text()
    return p


@pytest.fixture
def _open_inside(look_inside):
    """Step to the node's first frame, click Look inside…, return the window and its view."""

    def open_it(qtbot, p, node_id, cls):
        dlg = look_inside(p, node_id)
        view = dlg.findChild(cls)
        assert view is not None
        return dlg, view

    return open_it


def _points(r):
    """The centre and the corners of a cell (the last pixel inside on the right and bottom)."""
    x0, y0 = int(np.ceil(r.left())), int(np.ceil(r.top()))
    x1, y1 = int(np.floor(r.right() - 0.01)), int(np.floor(r.bottom() - 0.01))
    return [QPoint(int(r.center().x()), int(r.center().y())), QPoint(x0, y0), QPoint(x1, y1), QPoint(x0, y1),
            QPoint(x1, y0)]


# ---------------------------------------------------------------- attention
def _check_drill(view, steps, head, i, j):
    hs = steps.heads[head]
    assert (view.head, view.query, view.key) == (head, i, j)
    table = view.drill
    assert table.rowCount() == steps.T
    for jj in range(steps.T):
        for col, want in ((2, hs.scores[i, jj]), (3, hs.scaled[i, jj]), (5, hs.weights[i, jj])):
            item = table.item(jj, col)
            assert item.data(VALUE_ROLE) == pytest.approx(float(want), rel=1e-6, abs=1e-12)
            assert item.text() == num(want)
        assert (table.item(jj, 4).text() != "") == bool(steps.mask[i, jj])
    assert sum(table.item(jj, 5).data(VALUE_ROLE) for jj in range(steps.T)) == pytest.approx(1, abs=1e-5)
    if j is not None:
        assert [x.row() for x in table.selectionModel().selectedRows()] == [j]
    info = view.info.text()
    assert num(hs.q[i][0]) in info and num(hs.output[i][0]) in info
    if j is not None:
        assert f"key position {j}" in info and f"aᵢⱼ = {num(hs.weights[i, j])}" in info


def test_attention_inside_the_tiny_transformer(qtbot, _panel, _open_inside):
    doc = Document.open(SAMPLES / "tiny-transformer.ann")
    p = _panel(qtbot, doc)
    dlg, view = _open_inside(qtbot, p, "selfattention_1", AttentionInside)
    net = doc.network
    want = attention_steps(p.trace, net.get_weights(), "selfattention_1", net.graph.nodes["selfattention_1"].params)
    assert view.heads.count() == 2
    m = view.matrix
    np.testing.assert_array_equal(m.values, want.heads[0].weights.astype(np.float64))
    for i, j in ((0, 0), (3, 5), (9, 9), (7, 2)):
        for pt in _points(m.cell_rect(i, j)):
            qtbot.mouseClick(m, LEFT, pos=pt)
            _check_drill(view, want, 0, i, j)
        # the layer's output row equals the engine's
        np.testing.assert_allclose(view.output_row(i), p.trace.node("selfattention_1").output[i], rtol=1e-4,
                                   atol=1e-6)
    # a neighbour's pixel is the neighbour's
    r = m.cell_rect(3, 5)
    qtbot.mouseClick(m, LEFT, pos=QPoint(int(r.right()) + 1, int(r.center().y())))
    assert (view.query, view.key) == (3, 6)
    # a row's label: the query without a key
    qtbot.mouseClick(m, LEFT, pos=m.row_label_rect(4).center().toPoint())
    _check_drill(view, want, 0, 4, None)
    # the second head
    view.heads.setFocus()
    qtbot.keyClick(view.heads, Qt.Key.Key_Down)
    assert view.head == 1
    np.testing.assert_array_equal(m.values, want.heads[1].weights.astype(np.float64))
    qtbot.mouseClick(m, LEFT, pos=m.cell_rect(2, 8).center().toPoint())
    _check_drill(view, want, 1, 2, 8)
    # readable at 900 × 700: every cell's number fits (cells of at least 24 px)
    dlg.resize(900, 700)
    qtbot.waitUntil(lambda: view.width() > 800)
    assert m.cell_size() >= 24
    dlg.close()


def _net(graph):
    return ad.Network(graph, seed=4, dtype=np.float64)


def test_causal_attention_masks_the_later_positions(qtbot, _panel, _open_inside):
    g = ad.Graph()
    x = g.add_node("Input", shape=[4, 3])
    a = g.add_node("SelfAttention", heads=3, key_dim=2, causal=True)
    f = g.add_node("Flatten")
    y = g.add_node("Output", units=1, activation="linear", loss="mse")
    g.connect(x, a)
    g.connect(a, f)
    g.connect(f, y)
    net = _net(g)
    rng = np.random.default_rng(1)
    net.set_weights({k: rng.normal(size=v.shape) for k, v in net.get_weights().items()})
    doc = Document(net)
    values = rng.normal(size=12).round(3)
    p = _panel(qtbot, doc, ", ".join(map(str, values)) + "; 0.5")
    dlg, view = _open_inside(qtbot, p, a.id, AttentionInside)
    want = attention_steps(p.trace, net, a.id)
    assert view.heads.count() == 3
    m = view.matrix
    for pt in _points(m.cell_rect(1, 3)):  # a masked cell: still its query's drill-down
        qtbot.mouseClick(m, LEFT, pos=pt)
        _check_drill(view, want, 0, 1, 3)
    assert view.drill.item(3, 4).text().startswith("−∞") and view.drill.item(3, 5).data(VALUE_ROLE) == 0
    assert view.drill.item(0, 4).text() == "" and view.drill.item(1, 4).text() == ""
    np.testing.assert_allclose(view.output_row(1), p.trace.node(a.id).output[1], rtol=1e-10)
    dlg.close()


# ---------------------------------------------------------------- recurrent
LINE = re.compile(r"^(\S+)\[(\d+)\] = .* = (\S+)$")


def _equation_values(view):
    """{(symbol, unit): the number after the last '='} of every per-unit line shown."""
    out = {}
    for line in view.equations_text().splitlines():
        m = LINE.match(line.strip())
        if m:
            out[(m.group(1), int(m.group(2)))] = m.group(3)
    return out


def _check_step(view, steps, t):
    assert view.step == t and view.map.step == t
    shown = _equation_values(view)
    n = view.units_shown()
    keys = [k for k in steps.rows if k not in ("x", "tanh_c")]
    for key in keys:
        rows = steps.rows[key]
        for j in range(steps.units):
            got = shown.get((SYMBOL[key], j))
            if j < n:
                assert got == num(rows[t, j]), (key, j)
            else:
                assert got is None
    text = view.equations_text()
    assert f"Step t = {t}" in text
    if steps.units > n:
        assert f"all {steps.units}: min {num(steps.rows['h'][t].min())}" in text


def test_lstm_inside_the_sine_sample(qtbot, _panel, _open_inside):
    doc = Document.open(SAMPLES / "sine-lstm.ann")
    p = _panel(qtbot, doc)
    dlg, view = _open_inside(qtbot, p, "lstm_1", RecurrentInside)
    net = doc.network
    want = recurrent_steps(p.trace, net.get_weights(), "lstm_1", net.graph.nodes["lstm_1"].params)
    assert want.units == 32 > SHOWN_UNITS
    np.testing.assert_allclose(want.output, p.trace.node("lstm_1").output, rtol=1e-4, atol=1e-6)
    m = view.map
    for key, unit, t in (("f", 0, 4), ("x", 0, 0), ("h", 7, 19), ("c", 3, 11)):
        for pt in _points(m.cell_rect(key, unit, t)):
            qtbot.mouseClick(m, LEFT, pos=pt)
            _check_step(view, want, t)
    # the equation of a gate with its numbers
    t = view.step
    line = next(s for s in view.equations_text().splitlines() if s.startswith("fₜ[2] = "))
    assert line == (f"fₜ[2] = σ({num(want.xw['f'][t, 2])} + {num(want.hu['f'][t, 2])} + "
                    f"{num(want.bias['f'][2])}) = σ({num(want.pre['f'][t, 2])}) = {num(want.rows['f'][t, 2])}"
                    ).replace("+ -", "− ")
    # the whole vector on demand
    qtbot.mouseClick(view.all_units, LEFT, pos=QPoint(8, view.all_units.height() // 2))  # on the box
    assert view.all_units.isChecked() and view.units_shown() == 32
    _check_step(view, want, t)
    # the last step: the layer's output, the engine's
    qtbot.mouseClick(m, LEFT, pos=m.column_rect(19).center().toPoint())
    _check_step(view, want, 19)
    assert f"h_19 = [{num(want.output[0])}" in view.equations_text()
    dlg.close()


@pytest.mark.parametrize("kind", ["GRU", "SimpleRNN"])
def test_gru_and_simple_rnn_inside_a_graph_of_the_test(qtbot, kind, _panel, _open_inside):
    g = ad.Graph()
    x = g.add_node("Input", shape=[6, 2])
    r = g.add_node(kind, units=3, return_sequences=True)
    f = g.add_node("Flatten")
    y = g.add_node("Output", units=1, activation="linear", loss="mse")
    g.connect(x, r)
    g.connect(r, f)
    g.connect(f, y)
    net = _net(g)
    rng = np.random.default_rng(2)
    net.set_weights({k: rng.normal(size=v.shape) for k, v in net.get_weights().items()})
    doc = Document(net)
    values = rng.normal(size=12).round(3)
    p = _panel(qtbot, doc, ", ".join(map(str, values)) + "; 1")
    dlg, view = _open_inside(qtbot, p, r.id, RecurrentInside)
    want = recurrent_steps(p.trace, net, r.id)
    np.testing.assert_allclose(want.output, p.trace.node(r.id).output, rtol=1e-10, atol=1e-12)
    assert not view.all_units.isVisibleTo(view)  # 3 units: nothing to summarise
    m = view.map
    gate = "z" if kind == "GRU" else "z_rnn"
    for t in (0, 2, 5):
        for pt in _points(m.cell_rect(gate, 1, t)):
            qtbot.mouseClick(m, LEFT, pos=pt)
            _check_step(view, want, t)
    if kind == "GRU":
        line = next(s for s in view.equations_text().splitlines() if s.startswith("hₜ[0] = "))
        r_ = want.rows
        par = lambda v: f"({num(v)})" if v < 0 else num(v)  # noqa: E731
        assert line == (f"hₜ[0] = {par(r_['z'][5, 0])}·{par(want.h_prev[5, 0])} + "
                        f"(1 − {num(r_['z'][5, 0])})·{par(r_['h̃'][5, 0])} = {num(r_['h'][5, 0])}")
    # the shown states are the layer's output rows
    np.testing.assert_allclose(want.rows["h"], p.trace.node(r.id).output, rtol=1e-10, atol=1e-12)
    dlg.close()
