"""engine/tracing_conv.py: one Conv2D / pool / Dense cell written out term by term,
checked cell by cell against the engine's own trace (z and output), on digits-cnn and
on small graphs with every stride/padding/kernel shape combination."""

from pathlib import Path

import numpy as np
import pytest

import anndesigner as ad
from anndesigner.data import load_source
from anndesigner.engine import explain
from anndesigner.engine.tracing_conv import conv_cell, dense_unit, pool_cell
from anndesigner.errors import AnnError

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def _jittered(net, scale=0.05, seed=2):
    """The network with noise on every weight (the sample's zero biases make many z exactly 0)."""
    rng = np.random.default_rng(seed)
    w = {k: v + scale * rng.normal(size=v.shape).astype(v.dtype) for k, v in net.get_weights().items()}
    return ad.Network(net.graph.copy(), net.seed, dtype=net.dtype, weights=w, training=net.training.to_dict(),
                      data=net.data_source)


@pytest.fixture(scope="module")
def digits():
    net = _jittered(ad.Network.load(SAMPLES / "digits-cnn.ann"))
    data = load_source(net.data_source, base_dir=SAMPLES)
    return net, explain(net, data.X[3], data.Y[3])


def _params(net, nid):
    return net.graph.nodes[nid].params


def _check_conv(net, trace, nid):
    n = trace.node(nid)
    ho, wo, f = n.output.shape
    weights = net.get_weights()
    z = np.empty(n.output.shape)
    out = np.empty(n.output.shape)
    kern = weights[f"{nid}/kernel"]
    for i in range(ho):
        for j in range(wo):
            for c in range(f):
                cell = conv_cell(trace, weights, nid, i, j, c, params=_params(net, nid))
                z[i, j, c], out[i, j, c] = cell.z_computed, cell.output_computed
                assert cell.z == float(n.z[i, j, c]) and cell.output == float(n.output[i, j, c])
                assert len(cell.channels) == n.input_values[0].shape[2]
                t = cell.channels[-1]
                assert np.array_equal(t.kernel, kern[:, :, t.channel, c].astype(np.float64))
                assert np.array_equal(t.products, t.patch * t.kernel)
                assert np.isclose(t.total, t.products.sum())
                assert np.array_equal(t.patch[~t.inside], np.zeros((~t.inside).sum()))
    tol = 1e-12 if trace.dtype == np.float64 else 2e-5
    np.testing.assert_allclose(z, n.z, rtol=tol, atol=tol)
    np.testing.assert_allclose(out, n.output, rtol=tol, atol=tol)
    return z


def test_every_cell_of_digits_cnns_conv_layers_equals_the_trace(digits):
    net, trace = digits
    convs = [n.node_id for n in trace.nodes if n.type_id == "Conv2D"]
    assert convs == ["conv2d_1", "conv2d_2"]
    for nid in convs:
        z = _check_conv(net, trace, nid)
        assert (z > 0).any() and (z < 0).any()  # relu on both sides: the check is not all zeros


def test_padding_cells_are_marked_at_the_border(digits):
    net, trace = digits
    cell = conv_cell(trace, None, "conv2d_2", 0, 7, 5, params=_params(net, "conv2d_2"))  # top-right, "same"
    t = cell.channels[3]
    assert cell.origin == (-1, 6)
    assert t.inside.tolist() == [[False] * 3, [True, True, False], [True, True, False]]
    assert t.rows.tolist() == [-1, 0, 1] and t.cols.tolist() == [6, 7, 8]
    x = trace.node("conv2d_2").input_values[0]
    assert t.patch[1, 0] == x[0, 6, 3] and t.patch[2, 1] == x[1, 7, 3]
    # the trace's own weights are the same as the network's
    same = conv_cell(trace, net.get_weights(), "conv2d_2", 0, 7, 5, params=_params(net, "conv2d_2"))
    assert same.z_computed == cell.z_computed and same.bias == cell.bias


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("strides,kernel", [([1, 1], [3, 3]), ([2, 2], [3, 3]), ([2, 1], [2, 3]),
                                            ([3, 2], [4, 2]), ([1, 1], [1, 1])])
@pytest.mark.parametrize("activation", ["tanh", "softmax"])
def test_stride_padding_and_kernel_variants_match_the_engine(padding, strides, kernel, activation):
    g = ad.Graph()
    i = g.add_node("Input", shape=[7, 6, 2]).id
    c = g.add_node("Conv2D", filters=3, kernel_size=kernel, strides=strides, padding=padding,
                   activation=activation, bias_initializer="normal").id
    o = g.add_node("Output", units=2, activation="linear", loss="mse").id
    f = g.add_node("Flatten").id
    g.connect(i, c)
    g.connect(c, f)
    g.connect(f, o)
    net = ad.Network(g, seed=4, dtype=np.float64)
    x = np.random.default_rng(1).normal(size=(7, 6, 2))
    trace = explain(net, x, np.zeros(2))
    z = _check_conv(net, trace, c)
    assert z.shape == trace.node(c).z.shape


@pytest.mark.parametrize("kind", ["MaxPool2D", "AvgPool2D"])
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("pool,strides", [([2, 2], [2, 2]), ([3, 3], [2, 2]), ([2, 3], [1, 2])])
def test_pool_cells_match_the_engine(kind, padding, pool, strides):
    g = ad.Graph()
    i = g.add_node("Input", shape=[7, 5, 3]).id
    p = g.add_node(kind, pool_size=pool, strides=strides, padding=padding).id
    f = g.add_node("Flatten").id
    o = g.add_node("Output", units=2, activation="linear", loss="mse").id
    g.connect(i, p)
    g.connect(p, f)
    g.connect(f, o)
    net = ad.Network(g, seed=4, dtype=np.float64)
    x = np.random.default_rng(2).normal(size=(7, 5, 3))
    trace = explain(net, x, np.zeros(2))
    n = trace.node(p)
    ho, wo, ch = n.output.shape
    for r in range(ho):
        for cc in range(wo):
            for k in range(ch):
                cell = pool_cell(trace, p, r, cc, k, params=net.graph.nodes[p].params)
                assert cell.output == n.output[r, cc, k]
                assert np.isclose(cell.value, cell.output, rtol=1e-12, atol=1e-12)
                inside = cell.window[cell.inside]
                assert cell.count == inside.size and np.isnan(cell.window[~cell.inside]).all()
                if kind == "MaxPool2D":
                    u, v = cell.winner
                    flat = np.where(cell.inside, cell.window, -np.inf)
                    assert (u, v) == np.unravel_index(np.argmax(flat), flat.shape)
                    assert cell.window[u, v] == n.output[r, cc, k]
                    assert x[cell.rows[u], cell.cols[v], k] == cell.output
                else:
                    assert cell.winner is None and np.isclose(cell.total, inside.sum())


def test_digits_maxpool_winners_are_the_argmax(digits):
    net, trace = digits
    n = trace.node("maxpool2d_1")
    x = n.input_values[0]
    params = net.graph.nodes["maxpool2d_1"].params
    for r in range(4):
        for c in range(4):
            for k in range(32):
                cell = pool_cell(trace, "maxpool2d_1", r, c, k, params=params)
                win = x[2 * r:2 * r + 2, 2 * c:2 * c + 2, k]
                assert cell.winner == np.unravel_index(np.argmax(win), win.shape)
                assert cell.value == cell.output == n.output[r, c, k]


def test_dense_units_equal_the_trace(digits):
    net, trace = digits
    n = trace.node("dense_1")
    for u in range(64):
        d = dense_unit(trace, net.get_weights(), "dense_1", u)
        assert d.z == float(n.z[u]) and d.output == float(n.output[u])
        assert np.isclose(d.z_computed, d.z, rtol=2e-5, atol=2e-5)
        assert np.isclose(d.output_computed, d.output, rtol=1e-6, atol=1e-7)
        mags = [abs(t.product) for t in d.terms]
        assert mags == sorted(mags, reverse=True) and len(d.terms) == 512
        shown, more, rest = d.top(12)
        assert len(shown) == 12 and more == 500
        assert np.isclose(sum(t.product for t in shown) + rest, d.total)
        t = shown[0]
        assert t.source == "flatten_1" and t.x == n.input_values[0][t.index]
        assert t.w == net.get_weights()["dense_1/kernel"][t.index, u]


def test_dense_with_two_inputs_and_a_sequence_position():
    g = ad.Graph()
    a = g.add_node("Input", shape=[3]).id
    b = g.add_node("Input", shape=[2]).id
    d = g.add_node("Dense", units=4, activation="softmax", bias_initializer="normal").id
    o = g.add_node("Output", units=1, activation="linear", loss="mse").id
    g.connect(a, d)
    g.connect(b, d)
    g.connect(d, o)
    net = ad.Network(g, seed=1, dtype=np.float64)
    trace = explain(net, {a: [1.0, -2.0, 0.5], b: [3.0, 0.25]}, [0.0])
    n = trace.node(d)
    for u in range(4):
        du = dense_unit(trace, None, d, u)
        assert np.isclose(du.z_computed, n.z[u], rtol=1e-12) and np.isclose(du.output_computed, n.output[u])
        assert {(t.source, t.source_index) for t in du.terms} == {(a, 0), (a, 1), (a, 2), (b, 0), (b, 1)}


def test_bad_requests_name_the_problem(digits):
    net, trace = digits
    p = _params(net, "conv2d_1")
    with pytest.raises(AnnError, match="outside its 8×8"):
        conv_cell(trace, None, "conv2d_1", 8, 0, 0, params=p)
    with pytest.raises(AnnError, match="filter 16 is out of range"):
        conv_cell(trace, None, "conv2d_1", 0, 0, 16, params=p)
    with pytest.raises(AnnError, match="is a Dense, not a Conv2D"):
        conv_cell(trace, None, "dense_1", 0, 0, 0, params=p)
    with pytest.raises(AnnError, match="no node 'nope'"):
        pool_cell(trace, "nope", 0, 0, 0, params={})
    with pytest.raises(AnnError, match="unit 64 is out of range"):
        dense_unit(trace, None, "dense_1", 64)
