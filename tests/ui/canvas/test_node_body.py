"""What a node item shows comes from its node type and the engine: the body's
lines (NodeType.describe), whether it counts weights (has_weights), how it is
drawn (drawn_as), its colours, and the activation glyph (the engine's own f)."""

import math

import numpy as np
import pytest

pytest.importorskip("PySide6")

from PySide6.QtGui import QPainterPath  # noqa: E402

import anndesigner as ad  # noqa: E402
from anndesigner.engine import activations  # noqa: E402
from anndesigner.graph import ACTIVATIONS, BUILTIN_REGISTRY, NodeType, NodeTypeRegistry  # noqa: E402
from anndesigner.graph.typekit import IN  # noqa: E402
from anndesigner.ui import style  # noqa: E402
from anndesigner.ui.canvas.items import (  # noqa: E402
    GLYPH_X, BlockItem, NeuronItem, activation_glyph, make_node_item,
)

pytestmark = pytest.mark.usefixtures("qapp")


def _points(path: QPainterPath) -> list[tuple[float, float]]:
    return [(path.elementAt(i).x, path.elementAt(i).y) for i in range(path.elementCount())]


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_a_glyph_plots_the_engines_activation(name):
    xs = np.array([-3.0 + 6.0 * i / 40 for i in range(41)])
    if name == "softmax":  # the first of two classes with logits (x, -x)
        ys = activations.forward("softmax", np.stack([xs, -xs], axis=-1))[:, 0]
    else:
        ys = activations.forward(name, xs.copy())
    lo, hi = ys.min(), ys.max()
    expected = [(x / 3.0, 1.0 - 2.0 * (y - lo) / ((hi - lo) or 1.0)) for x, y in zip(xs, ys)]
    got = _points(activation_glyph(name))
    if name in ("step", "sign"):  # a jump is drawn as a vertical line: one extra point there
        jumps = [i for i in range(1, len(ys)) if ys[i] != ys[i - 1]]
        assert len(got) == len(expected) + len(jumps) == 42
        for i in reversed(jumps):
            assert got[i] == pytest.approx((xs[i] / 3.0, expected[i - 1][1]))
            del got[i]
    assert np.allclose(got, expected, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(GLYPH_X, xs)


def test_the_fixed_glyphs_follow_the_engine_not_the_old_ui_copies():
    # leaky ReLU: slope 0.01 left of 0 (the old glyph drew 0.15)
    leaky = _points(activation_glyph("leaky_relu"))
    lo, hi = -3 * activations.LEAKY_ALPHA, 3.0
    assert leaky[0][1] == pytest.approx(1.0) and leaky[20][1] == pytest.approx(1.0 - 2.0 * (0 - lo) / (hi - lo))
    assert leaky[20][1] > 0.97  # almost flat: 0.15 put x = 0 at 0.74
    # GELU: "gelu" draws the exact erf form and "gelu_tanh" the tanh approximation, each what the engine computes
    erf = np.array([0.5 * x * (1 + math.erf(x / math.sqrt(2))) for x in GLYPH_X])
    c = math.sqrt(2 / math.pi)
    tanh = np.array([0.5 * x * (1 + math.tanh(c * (x + 0.044715 * x ** 3))) for x in GLYPH_X])
    assert not np.allclose(tanh, erf, atol=1e-5)
    for name, ys in (("gelu", erf), ("gelu_tanh", tanh)):
        glyph = _points(activation_glyph(name))
        lo, hi = ys.min(), ys.max()
        assert [p[1] for p in glyph] == pytest.approx([1 - 2 * (y - lo) / (hi - lo) for y in ys], abs=1e-12), name


def test_an_unknown_activation_has_no_glyph():
    assert activation_glyph("no_such_thing").isEmpty()


def test_a_node_body_shows_what_its_type_describes_and_follows_its_parameters():
    g = ad.Graph()
    out = g.add_node("Output", units=3, activation="softmax", loss="categorical_crossentropy")
    t = g.node_type(out)
    item = make_node_item(out, t)
    assert isinstance(item, BlockItem)
    assert item.details == t.describe(out.params) == ["3 units · softmax", "loss: categorical CE"]
    assert item.weighted
    g.set_params(out.id, use_weights=False, activation="linear", loss="mse")
    item.set_node(g.nodes[out.id], t)
    assert item.details == ["linear · no weights", "loss: MSE"]
    assert not item.weighted and "params" not in item.status_text()


def test_a_type_drawn_as_a_neuron_gets_a_circle_and_the_neuron_colours():
    ring = NodeType("Ring", 1, "Ring", "Merge", "", BUILTIN_REGISTRY.get("Neuron").params, IN, ("out",),
                    infer=lambda p, i: (1,), drawn_as="neuron")
    g = ad.Graph(registry=NodeTypeRegistry(list(BUILTIN_REGISTRY) + [ring]))
    n = g.add_node("Ring", activation="tanh")
    item = make_node_item(n, ring)
    assert isinstance(item, NeuronItem) and item.role == "neuron"
    assert isinstance(make_node_item(g.add_node("Neuron"), BUILTIN_REGISTRY.get("Neuron")), NeuronItem)


def test_every_builtin_type_keeps_its_colours():
    # the colours of eb0fd50: the Neuron orange, every other type its category's
    for t in BUILTIN_REGISTRY:
        expected = "neuron" if t.type_id == "Neuron" else style.CATEGORY_ROLE.get(t.category, "layer")
        assert style.node_role(t) == expected, t.type_id


def test_only_weighted_sums_colour_their_wires_by_weight():
    assert {t.type_id for t in BUILTIN_REGISTRY if t.wire_weights} == {"Dense", "Neuron", "Output"}
