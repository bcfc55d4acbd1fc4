"""The inside views of Conv2D, the pools and Dense, opened from the Explain panel's
"Look inside…" button and driven by real clicks at the mapped pixel positions
(cell corners, not only centres); every number shown is checked against the
engine's trace (and tracing_conv's cell, which is checked against it)."""

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

pytest.importorskip("pytestqt")

from PySide6.QtGui import QTextDocument  # noqa: E402
from PySide6.QtWidgets import QWidget  # noqa: E402

import anndesigner as ad  # noqa: E402
from anndesigner.engine import explain  # noqa: E402
from anndesigner.engine.tracing_conv import conv_cell, dense_unit, pool_cell  # noqa: E402
from anndesigner.ui.document import Document  # noqa: E402
from anndesigner.ui.explain import inside  # noqa: E402
from anndesigner.ui.explain.inside import InsideContext  # noqa: E402
from anndesigner.ui.explain.stages import num  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[3] / "samples"
LEFT = Qt.MouseButton.LeftButton


def plain(label) -> str:
    d = QTextDocument()
    d.setHtml(label.text())
    return d.toPlainText()


def tokens(label) -> list[str]:
    return [t.strip() for t in plain(label).split("\n") if t.strip()]


def contains_run(seq: list[str], run: list[str]) -> bool:
    return any(seq[i:i + len(run)] == run for i in range(len(seq) - len(run) + 1))


@pytest.fixture(scope="module")
def panel_doc():
    return Document.open(SAMPLES / "digits-cnn.ann")


@pytest.fixture
def panel(qtbot, panel_doc, explain_panel):
    _, p = explain_panel(panel_doc)
    p.row.setValue(5)
    qtbot.mouseClick(p.go, LEFT)
    assert p.trace is not None
    return p


@pytest.fixture
def open_view(look_inside):
    """Step the panel to ``nid``'s frame, click Look inside…, return the view by its object name."""

    def open_it(qtbot, p, nid, object_name):
        view = look_inside(p, nid).findChild(QWidget, object_name)
        assert view is not None
        return view

    return open_it


def corners(rect):
    return [rect.topLeft(), rect.bottomRight(), QPoint(rect.right(), rect.top()), rect.center()]


def visible_in(widget, pos, scroll):
    vp = scroll.viewport()
    return vp.rect().contains(widget.mapTo(vp, pos))


# ------------------------------------------------------------------ Conv2D
@pytest.mark.parametrize("nid", ["conv2d_1", "conv2d_2"])
def test_clicking_a_feature_map_cell_writes_out_its_convolution(qtbot, panel, nid, open_view):
    view = open_view(qtbot, panel, nid, "insideConv")
    trace = panel.trace
    n = trace.node(nid)
    params = panel.document.network.graph.nodes[nid].params
    ho, wo, f = n.output.shape
    grid = view.maps
    assert grid.shape == (ho, wo, f)
    for k, r, c in [(0, 0, 0), (f - 1, ho - 1, wo - 1), (f // 2, 3, 6), (1, ho - 1, 0)]:
        for pt in corners(grid.cell_rect(k, r, c)):
            grid.set_selected(None)
            qtbot.mouseClick(grid, LEFT, pos=pt)
            assert grid.selected == (k, r, c), (pt, k, r, c)
            cell = view.cell
            assert (cell.row, cell.col, cell.out_channel) == (r, c, k)
        ref = conv_cell(trace, None, nid, r, c, k, params=params)
        assert cell.z == ref.z == float(n.z[r, c, k]) and cell.output == float(n.output[r, c, k])
        total = plain(view.total)
        assert f"= {num(n.z[r, c, k])}" in total
        assert f"relu({num(n.z[r, c, k])}) = {num(n.output[r, c, k])}" in total
        assert f"= {num(ref.total)}" in total
        # the first input channel's grids, number by number
        t = ref.channels[view.channel]
        seq = tokens(view.detail)
        for grid_values in (t.patch, t.kernel, t.products):
            assert contains_run(seq, [num(v) for v in grid_values.reshape(-1)])
        assert f"Σ = {num(t.total)}" in seq
        assert np.isclose(ref.z_computed, ref.z, rtol=1e-4, atol=1e-5)


def test_next_and_previous_step_through_the_input_channels(qtbot, panel, open_view):
    view = open_view(qtbot, panel, "conv2d_2", "insideConv")
    grid = view.maps
    qtbot.mouseClick(grid, LEFT, pos=grid.cell_rect(7, 0, 7).topLeft())  # a corner cell: padding
    cell = view.cell
    assert (cell.row, cell.col, cell.out_channel) == (0, 7, 7)
    assert view.channel == 0 and not view.b_prev.isEnabled()
    shown = []
    while True:
        seq = tokens(view.detail)
        t = cell.channels[view.channel]
        assert contains_run(seq, [num(v) for v in t.products.reshape(-1)])
        assert f"input channel {view.channel} of 16" in plain(view.channel_text)
        assert "padding" in plain(view.detail)  # the window reaches past the top and right edges
        shown.append(t.total)
        if not view.b_next.isEnabled():
            break
        qtbot.mouseClick(view.b_next, LEFT)
    assert len(shown) == 16 and view.channel == 15
    assert np.isclose(sum(shown) + cell.bias, panel.trace.node("conv2d_2").z[0, 7, 7], rtol=1e-4, atol=1e-5)
    qtbot.mouseClick(view.b_prev, LEFT)
    assert view.channel == 14 and view.b_next.isEnabled()
    # the small input map marks the window on the channel shown: rows -1..1, columns 6..8
    assert view.in_map.window == (0, (-1, 6, 1, 8), None)
    assert view.in_map.channels == [14]


# ------------------------------------------------------------------ pooling
def test_clicking_a_pooled_cell_shows_its_window_and_winner(qtbot, panel, open_view):
    view = open_view(qtbot, panel, "maxpool2d_1", "insidePool")
    trace = panel.trace
    n = trace.node("maxpool2d_1")
    x = n.input_values[0]
    grid = view.outputs
    for k, r, c in [(0, 0, 0), (31, 3, 3), (12, 2, 1), (5, 0, 3)]:
        for pt in corners(grid.cell_rect(k, r, c)):
            qtbot.mouseClick(grid, LEFT, pos=pt)
            assert grid.selected == (k, r, c)
        cell = view.cell
        win = x[2 * r:2 * r + 2, 2 * c:2 * c + 2, k]
        u, v = np.unravel_index(np.argmax(win), win.shape)
        assert cell.winner == (u, v) and cell.output == float(n.output[r, c, k]) == float(win[u, v])
        # the input map marks the window and its winner
        assert view.inputs.window == (k, (2 * r, 2 * c, 2 * r + 1, 2 * c + 1), (2 * r + u, 2 * c + v))
        text = plain(view.detail)
        assert f"max = {num(win[u, v])}, the winner at input row {2 * r + u}, column {2 * c + v}" in text
        assert contains_run(tokens(view.detail), [num(a) for a in win.reshape(-1)])
    # pixels of the winner cell itself are drawn with the window's frame
    img = view.inputs.grab().toImage()
    wr = view.inputs.tile_rect(5)
    assert img.pixelColor(wr.x() - 2, wr.center().y()).name().upper() == "#FFB300"


def _pool_ctx(kind, padding):
    g = ad.Graph()
    i = g.add_node("Input", shape=[5, 5, 2]).id
    p = g.add_node(kind, pool_size=[3, 3], strides=[2, 2], padding=padding).id
    f = g.add_node("Flatten").id
    o = g.add_node("Output", units=1, activation="linear", loss="mse").id
    g.connect(i, p)
    g.connect(p, f)
    g.connect(f, o)
    net = ad.Network(g, seed=2)
    x = np.random.default_rng(3).normal(size=(5, 5, 2))
    return InsideContext(net, explain(net, x, [0.0]), p), x


def test_average_pool_with_padding_writes_out_the_mean(qtbot):
    ctx, x = _pool_ctx("AvgPool2D", "same")
    view = inside.view_for("AvgPool2D")(ctx)
    qtbot.addWidget(view)
    view.resize(900, 640)
    view.show()
    qtbot.waitExposed(view)
    grid = view.outputs
    n = ctx.trace.node(ctx.node_id)
    qtbot.mouseClick(grid, LEFT, pos=grid.cell_rect(1, 2, 2).bottomRight())  # the bottom-right window: 4 cells
    cell = view.cell
    assert (cell.row, cell.col, cell.channel) == (2, 2, 1) and cell.count == 4
    cells = x[3:5, 3:5, 1].reshape(-1).astype(np.float32)
    assert cell.output == float(n.output[2, 2, 1])
    assert np.isclose(cells.mean(), cell.output, rtol=1e-6)
    text = plain(view.detail)
    assert f"/ 4 = {num(cell.total)} / 4 = {num(cell.value)}" in text
    assert f"output = {num(n.output[2, 2, 1])}" in text
    assert num(cells[0]) in text and num(cells[3]) in text


def test_max_pool_view_of_a_same_padded_pool(qtbot):
    ctx, _ = _pool_ctx("MaxPool2D", "same")
    view = inside.view_for("MaxPool2D")(ctx)
    qtbot.addWidget(view)
    view.resize(900, 640)
    view.show()
    grid = view.outputs
    n = ctx.trace.node(ctx.node_id)
    for r in range(3):
        for c in range(3):
            qtbot.mouseClick(grid, LEFT, pos=grid.cell_rect(0, r, c).topLeft())
            ref = pool_cell(ctx.trace, ctx.node_id, r, c, 0, params=ctx.network.graph.nodes[ctx.node_id].params)
            assert view.cell.winner == ref.winner and view.cell.output == float(n.output[r, c, 0])
            assert f"max = {num(n.output[r, c, 0])}" in plain(view.detail)


# ------------------------------------------------------------------ Dense
def test_clicking_a_dense_bar_writes_out_the_units_sum(qtbot, panel, open_view):
    view = open_view(qtbot, panel, "dense_1", "insideDense")
    trace = panel.trace
    n = trace.node("dense_1")
    bars = view.bars
    assert len(bars.values) == 64
    for u in (0, 63, 17, 40):
        r = bars.bar_rect(u)
        for pt in (r.topLeft(), r.bottomRight(), r.center()):
            bars.selected = None
            qtbot.mouseClick(bars, LEFT, pos=pt)
            assert bars.selected == u and view.unit_info.unit == u
        d = view.unit_info
        assert d.z == float(n.z[u]) and d.output == float(n.output[u])
        assert np.isclose(d.z_computed, d.z, rtol=1e-4, atol=1e-5)
        ref = dense_unit(trace, panel.document.network.get_weights(), "dense_1", u)
        text = plain(view.detail)
        assert f"= {num(n.z[u])}" in text and f"relu({num(n.z[u])}) = {num(n.output[u])}" in text
        shown, more, rest = ref.top(12)
        assert more == 500 and "+ (500 more) …" in text
        seq = tokens(view.detail)
        pooled = trace.node("maxpool2d_1").output  # flatten_1 is its (4, 4, 32) output in C order
        for i, t in enumerate(shown):
            r, c, ch = t.index // 128, t.index // 32 % 4, t.index % 32
            assert pooled[r, c, ch] == t.x
            assert contains_run(seq, [str(i + 1), f"x[{t.index}] = maxpool2d_1[{r}, {c}, {ch}]", num(t.x), "×",
                                      num(t.w), "=", num(t.product)])
        assert contains_run(seq, ["+ (500 more) …", num(rest)])


def test_a_wide_dense_layer_scrolls_and_its_far_bars_click(qtbot):
    g = ad.Graph()
    i = g.add_node("Input", shape=[6]).id
    d = g.add_node("Dense", units=300, activation="tanh", bias_initializer="normal").id
    o = g.add_node("Output", units=1, activation="linear", loss="mse").id
    g.connect(i, d)
    g.connect(d, o)
    net = ad.Network(g, seed=1)
    trace = explain(net, np.linspace(-1, 1, 6), [0.0])
    view = inside.view_for("Dense")(InsideContext(net, trace, d))
    qtbot.addWidget(view)
    view.resize(900, 640)
    view.show()
    qtbot.waitExposed(view)
    bars, scroll = view.bars, view.scroll
    assert bars.width() > scroll.viewport().width()  # wider than the window: it scrolls
    assert "scroll sideways" in plain(view.summary)
    n = trace.node(d)
    for u in (299, 150, 0):
        scroll.horizontalScrollBar().setValue(max(0, bars.bar_rect(u).x() - 100))
        pt = bars.bar_rect(u).bottomRight()
        assert visible_in(bars, pt, scroll)
        qtbot.mouseClick(bars, LEFT, pos=pt)
        assert view.unit_info.unit == u and view.unit_info.z == float(n.z[u])
        text = plain(view.detail)
        assert f"tanh({num(n.z[u])}) = {num(n.output[u])}" in text
        assert "more" not in text  # 6 inputs: every term written out
        assert len(view.unit_info.terms) == 6


def test_a_dense_layer_over_a_sequence_steps_through_its_positions(qtbot):
    g = ad.Graph()
    i = g.add_node("Input", shape=[3, 4]).id
    d = g.add_node("Dense", units=5, activation="sigmoid", bias_initializer="normal").id
    f = g.add_node("Flatten").id
    o = g.add_node("Output", units=1, activation="linear", loss="mse").id
    g.connect(i, d)
    g.connect(d, f)
    g.connect(f, o)
    net = ad.Network(g, seed=3)
    trace = explain(net, np.arange(12.0).reshape(3, 4) / 10 - 0.5, [0.0])
    view = inside.view_for("Dense")(InsideContext(net, trace, d))
    qtbot.addWidget(view)
    view.resize(900, 640)
    view.show()
    qtbot.waitExposed(view)
    n = trace.node(d)
    assert n.z.shape == (3, 5)
    spin = view.pos_box
    for pos in (0, 1, 2):
        assert spin.value() == pos
        assert np.array_equal(view.bars.values, n.output[pos].astype(np.float64))
        qtbot.mouseClick(view.bars, LEFT, pos=view.bars.bar_rect(3).center())
        u = view.unit_info
        assert (u.unit, u.position) == (3, (pos,)) and u.z == float(n.z[pos, 3])
        assert f"sigmoid({num(n.z[pos, 3])}) = {num(n.output[pos, 3])}" in plain(view.detail)
        qtbot.keyClick(spin, Qt.Key.Key_Up)


@pytest.mark.qt_log_ignore("This plugin does not support raise")  # the offscreen platform, for the tooltip
def test_hovering_a_cell_or_a_bar_tells_its_value(qtbot, panel, open_view):
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QHelpEvent
    from PySide6.QtWidgets import QApplication, QToolTip

    view = open_view(qtbot, panel, "conv2d_1", "insideConv")
    grid = view.maps
    out = panel.trace.node("conv2d_1").output
    pt = grid.cell_rect(9, 5, 2).bottomRight()
    QApplication.sendEvent(grid, QHelpEvent(QEvent.Type.ToolTip, pt, grid.mapToGlobal(pt)))
    assert QToolTip.text() == f"filter 9 [5, 2] = {num(out[5, 2, 9])}"
    QToolTip.hideText()
    view = open_view(qtbot, panel, "dense_1", "insideDense")
    bars = view.bars
    pt = bars.bar_rect(40).topLeft()
    QApplication.sendEvent(bars, QHelpEvent(QEvent.Type.ToolTip, pt, bars.mapToGlobal(pt)))
    assert QToolTip.text() == f"unit 40: {num(panel.trace.node('dense_1').output[40])}"
    QToolTip.hideText()
