"""The core layers' steps (engine/op_core.py) and the compiler building every
node type the same way, through its registered builder."""

import ast
import inspect

import numpy as np
import pytest

import anndesigner as ad
from anndesigner.engine import compiler, op_core, ops
from anndesigner.engine.compiler import compile_graph
from anndesigner.engine.step import FeedStep, FusingBuilder, Segment, Step
from anndesigner.graph import BUILTIN_REGISTRY, NodeType, NodeTypeRegistry
from anndesigner.graph.typekit import IN, concat_shapes
from layercheck import check_accumulates, check_layer


# ------------------------------------------------------------- gradients
@pytest.mark.parametrize("type_id,in_shape,params", [
    ("Dense", (3,), {"units": 2, "activation": "tanh"}),
    ("Dense", (4, 3), {"units": 2, "activation": "gelu"}),
    ("Dense", (3,), {"units": 2, "activation": "elu", "use_bias": False}),
    ("Neuron", (3,), {"activation": "softplus"}),
    ("Activation", (4,), {"activation": "softmax"}),
    ("Activation", (2, 3), {"activation": "leaky_relu"}),
    ("Add", (3,), {}),
])
def test_core_step_gradients_match_finite_differences(type_id, in_shape, params):
    check_layer(type_id, in_shape, **params)
    check_accumulates(type_id, in_shape, **params)


def test_dropout_gradient_is_its_mask_and_prediction_passes_values_through():
    step = check_layer("Dropout", (6,), batch=4, rate=0.5, training=False)
    x = np.arange(24, dtype=np.float64).reshape(4, 6)
    assert step.forward([x], False) is x
    y = step.forward([x], True)
    kept = y != 0
    np.testing.assert_allclose(y[kept], 2 * x[kept])
    g = np.ones_like(x)
    np.testing.assert_allclose(step.backward(g, [True])[0], step.mask)


# ---------------------------------------------------------------- compiler
def test_the_compiler_names_no_node_type():
    """Every node goes through its registered builder: no type id is spelled in compiler.py."""
    tree = ast.parse(inspect.getsource(compiler))
    strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    type_ids = {t.type_id for t in BUILTIN_REGISTRY} | {a for t in BUILTIN_REGISTRY for a in t.aliases}
    assert not strings & type_ids
    assert set(ops.STEP_BUILDERS) == {t.type_id for t in BUILTIN_REGISTRY}
    assert set(op_core.BUILDERS) == {"Input", "Neuron", "Dense", "Activation", "Dropout", "Concatenate",
                                     "Add", "Output"}


def _neurons(fuse=True):
    g = ad.Graph()
    x = g.add_node("Input", shape=[3])
    a = g.add_node("Neuron", activation="tanh")
    b = g.add_node("Neuron", activation="relu")  # another activation: a step of its own
    c = g.add_node("Neuron", activation="tanh")
    d = g.add_node("Neuron", activation="tanh", use_bias=False)  # no bias: a step of its own
    for n in (a, b, c, d):
        g.connect(x, n)
    cat = g.add_node("Concatenate")
    for n in (a, b, c, d):
        g.connect(n, cat)
    o = g.add_node("Output", units=4, activation="linear", loss="mse", use_weights=False)
    g.connect(cat, o)
    return g, compile_graph(g, seed=1, fuse=fuse)


def test_neurons_reading_the_same_inputs_fuse_into_one_matrix_product():
    g, prog = _neurons()
    dense = [s for s in prog.steps if isinstance(s, op_core.DenseStep)]
    assert [s.node_ids for s in dense] == [("neuron_1", "neuron_3"), ("neuron_2",), ("neuron_4",)]
    group = dense[0]
    assert group.W.value.shape == (3, 2) and group.b.value.shape == (2,)
    assert group.W.name == "neuron_1/kernel" and group.W.parts == [("neuron_1/kernel", 0), ("neuron_3/kernel", 1)]
    assert dense[2].b is None
    # each neuron's value is its column of the group's buffer; the weights keep the neurons' names
    assert prog.node_values["neuron_3"] == (Segment(group.out, 1, 2),)
    assert prog.weight_shape("neuron_3/kernel") == (3,) and prog.weight_shape("neuron_3/bias") == ()
    assert sorted(prog.weight_names()) == sorted(
        ["neuron_1/kernel", "neuron_1/bias", "neuron_2/kernel", "neuron_2/bias", "neuron_3/kernel",
         "neuron_3/bias", "neuron_4/kernel"])
    # the fused program computes what one step per neuron computes
    _, apart = _neurons(fuse=False)
    assert len([s for s in apart.steps if isinstance(s, op_core.DenseStep)]) == 4
    x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    np.testing.assert_allclose(prog.forward([x])[0], apart.forward([x])[0], rtol=1e-6)


def test_concatenate_and_a_plain_output_marker_make_no_step():
    g, prog = _neurons()
    assert not any(s.node_ids in (("concatenate_1",), ("output_1",)) for s in prog.steps)
    assert prog.node_values["output_1"] == prog.node_values["concatenate_1"]
    assert len(prog.widths) == 4  # the Input and three neuron steps
    assert isinstance(prog.steps[0], FeedStep) and prog.inputs == [("input_1", 0, (3,))]
    out = prog.outputs[0]
    assert out.producer is None and not out.fused and out.units == 4


def test_a_fused_output_keeps_its_pre_activation():
    g = ad.Graph()
    x = g.add_node("Input", shape=[2])
    o = g.add_node("Output", units=3, activation="softmax", loss="categorical_crossentropy")
    g.connect(x, o)
    prog = compile_graph(g)
    out = prog.outputs[0]
    assert out.fused and isinstance(out.producer, op_core.DenseStep) and out.producer.keep_z
    g.set_params(o.id, use_weights=False, units=2)
    prog = compile_graph(g)
    assert prog.outputs[0].fused and isinstance(prog.outputs[0].producer, op_core.ActivationStep)


class _ScaleStep(Step):
    def __init__(self, ctx):
        self.node_ids = (ctx.node_id,)
        self.ins = (ctx.ins[0],)
        self.out = ctx.out
        self.k = ctx.params["k"]

    def forward(self, xs, training):
        return xs[0] * self.k

    def backward(self, g, need):
        return [g * self.k if need[0] else None]


def test_a_new_type_needs_only_its_node_type_and_its_builder(monkeypatch):
    from anndesigner.graph import ParamSpec
    scale = NodeType("Scaled", 1, "Scaled", "Shape", "y = kx", (ParamSpec("k", "float", 2.0),), IN, ("out",),
                     infer=lambda p, i: concat_shapes(i))
    same = NodeType("Same", 1, "Same", "Shape", "y = x", (), IN, ("out",), infer=lambda p, i: concat_shapes(i))
    monkeypatch.setitem(ops.STEP_BUILDERS, "Scaled", _ScaleStep)
    monkeypatch.setitem(ops.STEP_BUILDERS, "Same", lambda ctx: ctx.ins[0])  # a value, no step
    reg = NodeTypeRegistry(list(BUILTIN_REGISTRY) + [scale, same])
    g = ad.Graph(registry=reg)
    x = g.add_node("Input", shape=[2])
    s = g.add_node("Scaled", k=3.0)
    m = g.add_node("Same")
    o = g.add_node("Output", units=2, activation="linear", loss="mse", use_weights=False)
    g.connect(x, s)
    g.connect(s, m)
    g.connect(m, o)
    prog = compile_graph(g)
    assert [type(st).__name__ for st in prog.steps] == ["InputStep", "_ScaleStep"]
    y = prog.forward([np.array([[1.0, -2.0]], np.float32)])[0]
    np.testing.assert_array_equal(y, [[3.0, -6.0]])


def test_an_unregistered_type_is_a_graph_error(monkeypatch):
    monkeypatch.delitem(ops.STEP_BUILDERS, "Dropout")
    g = ad.Graph()
    x = g.add_node("Input", shape=[2])
    d = g.add_node("Dropout")
    o = g.add_node("Output", units=2, activation="linear", loss="mse", use_weights=False)
    g.connect(x, d)
    g.connect(d, o)
    with pytest.raises(ad.GraphError, match="cannot run node type 'Dropout'"):
        compile_graph(g)


def test_the_neuron_builder_fuses_on_activation_and_bias():
    b = op_core.BUILDERS["Neuron"]
    assert isinstance(b, FusingBuilder)
    assert b.key({"activation": "tanh", "use_bias": True}) != b.key({"activation": "tanh", "use_bias": False})
