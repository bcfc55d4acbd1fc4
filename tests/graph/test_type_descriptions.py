"""Node types describe themselves: the node body's lines, whether a node owns
weights, its role and its formula.

The expected body lines are what ``ui/canvas/items.node_details`` printed at
commit eb0fd50, before the types took over (captured by running that function on
every case below); the node bodies on the canvas must not change.
"""

import pytest

from anndesigner.graph import BUILTIN_REGISTRY, Graph, NodeType, NodeTypeRegistry, ParamSpec
from anndesigner.graph import types_core
from anndesigner.graph.nodetypes import CORE_TYPES

#: (type id, parameters over the defaults, the lines the old node_details printed)
OLD_BODY_LINES = [
    ('Input', {}, ['shape (2)']),
    ('Input', {'shape': [1, 1]}, ['shape (1, 1)']),
    ('Input', {'shape': [2, 3]}, ['shape (2, 3)']),
    ('Input', {'shape': [5]}, ['shape (5)']),
    ('Neuron', {}, ['sigmoid']),
    ('Neuron', {'activation': 'linear'}, ['linear']),
    ('Neuron', {'activation': 'step'}, ['step']),
    ('Neuron', {'activation': 'sign'}, ['sign']),
    ('Neuron', {'activation': 'tanh'}, ['tanh']),
    ('Neuron', {'activation': 'relu'}, ['relu']),
    ('Neuron', {'activation': 'leaky_relu'}, ['leaky relu']),
    ('Neuron', {'activation': 'elu'}, ['elu']),
    ('Neuron', {'activation': 'softplus'}, ['softplus']),
    ('Neuron', {'activation': 'gelu'}, ['gelu']),
    ('Neuron', {'activation': 'softmax'}, ['softmax']),
    ('Neuron', {'use_bias': False}, ['sigmoid']),
    ('Dense', {}, ['8 units · relu']),
    ('Dense', {'units': 1}, ['1 unit · relu']),
    ('Dense', {'units': 3}, ['3 units · relu']),
    ('Dense', {'units': 1000}, ['1000 units · relu']),
    ('Dense', {'activation': 'linear'}, ['8 units · linear']),
    ('Dense', {'activation': 'step'}, ['8 units · step']),
    ('Dense', {'activation': 'sign'}, ['8 units · sign']),
    ('Dense', {'activation': 'sigmoid'}, ['8 units · sigmoid']),
    ('Dense', {'activation': 'tanh'}, ['8 units · tanh']),
    ('Dense', {'activation': 'leaky_relu'}, ['8 units · leaky relu']),
    ('Dense', {'activation': 'elu'}, ['8 units · elu']),
    ('Dense', {'activation': 'softplus'}, ['8 units · softplus']),
    ('Dense', {'activation': 'gelu'}, ['8 units · gelu']),
    ('Dense', {'activation': 'softmax'}, ['8 units · softmax']),
    ('Dense', {'use_bias': False}, ['8 units · relu']),
    ('Dense', {'units': 1, 'activation': 'leaky_relu'}, ['1 unit · leaky relu']),
    ('Activation', {}, ['relu']),
    ('Activation', {'activation': 'linear'}, ['linear']),
    ('Activation', {'activation': 'step'}, ['step']),
    ('Activation', {'activation': 'sign'}, ['sign']),
    ('Activation', {'activation': 'sigmoid'}, ['sigmoid']),
    ('Activation', {'activation': 'tanh'}, ['tanh']),
    ('Activation', {'activation': 'leaky_relu'}, ['leaky relu']),
    ('Activation', {'activation': 'elu'}, ['elu']),
    ('Activation', {'activation': 'softplus'}, ['softplus']),
    ('Activation', {'activation': 'gelu'}, ['gelu']),
    ('Activation', {'activation': 'softmax'}, ['softmax']),
    ('Dropout', {}, ['rate 0.5']),
    ('Dropout', {'rate': 0.0}, ['rate 0']),
    ('Dropout', {'rate': 0.25}, ['rate 0.25']),
    ('Dropout', {'rate': 0.125}, ['rate 0.125']),
    ('Concatenate', {}, ['joins on the last axis']),
    ('Add', {}, ['elementwise sum']),
    ('Output', {}, ['1 unit · sigmoid', 'loss: binary CE']),
    ('Output', {'units': 3}, ['3 units · sigmoid', 'loss: binary CE']),
    ('Output', {'units': 1000}, ['1000 units · sigmoid', 'loss: binary CE']),
    ('Output', {'activation': 'linear'}, ['1 unit · linear', 'loss: binary CE']),
    ('Output', {'activation': 'step'}, ['1 unit · step', 'loss: binary CE']),
    ('Output', {'activation': 'sign'}, ['1 unit · sign', 'loss: binary CE']),
    ('Output', {'activation': 'tanh'}, ['1 unit · tanh', 'loss: binary CE']),
    ('Output', {'activation': 'relu'}, ['1 unit · relu', 'loss: binary CE']),
    ('Output', {'activation': 'leaky_relu'}, ['1 unit · leaky relu', 'loss: binary CE']),
    ('Output', {'activation': 'elu'}, ['1 unit · elu', 'loss: binary CE']),
    ('Output', {'activation': 'softplus'}, ['1 unit · softplus', 'loss: binary CE']),
    ('Output', {'activation': 'gelu'}, ['1 unit · gelu', 'loss: binary CE']),
    ('Output', {'activation': 'softmax'}, ['1 unit · softmax', 'loss: binary CE']),
    ('Output', {'loss': 'mse'}, ['1 unit · sigmoid', 'loss: MSE']),
    ('Output', {'loss': 'mae'}, ['1 unit · sigmoid', 'loss: MAE']),
    ('Output', {'loss': 'huber'}, ['1 unit · sigmoid', 'loss: Huber']),
    ('Output', {'loss': 'categorical_crossentropy'}, ['1 unit · sigmoid', 'loss: categorical CE']),
    ('Output', {'loss': 'kl_divergence'}, ['1 unit · sigmoid', 'loss: KL divergence']),
    ('Output', {'use_weights': False}, ['sigmoid · no weights', 'loss: binary CE']),
    ('Output', {'use_bias': False}, ['1 unit · sigmoid', 'loss: binary CE']),
    ('Output', {'units': 1, 'activation': 'leaky_relu'}, ['1 unit · leaky relu', 'loss: binary CE']),
    ('Output', {'use_weights': False, 'activation': 'linear', 'loss': 'mse'}, ['linear · no weights', 'loss: MSE']),
    ('Conv2D', {}, ['8 filters 3×3', 'valid · relu']),
    ('Conv2D', {'filters': 1}, ['1 filters 3×3', 'valid · relu']),
    ('Conv2D', {'filters': 3}, ['3 filters 3×3', 'valid · relu']),
    ('Conv2D', {'filters': 1000}, ['1000 filters 3×3', 'valid · relu']),
    ('Conv2D', {'kernel_size': [1, 1]}, ['8 filters 1×1', 'valid · relu']),
    ('Conv2D', {'kernel_size': [2, 3]}, ['8 filters 2×3', 'valid · relu']),
    ('Conv2D', {'kernel_size': [5]}, ['8 filters 5×5', 'valid · relu']),
    ('Conv2D', {'strides': [1, 1]}, ['8 filters 3×3', 'valid · relu']),
    ('Conv2D', {'strides': [2, 3]}, ['8 filters 3×3 /2×3', 'valid · relu']),
    ('Conv2D', {'strides': [5]}, ['8 filters 3×3 /5×5', 'valid · relu']),
    ('Conv2D', {'padding': 'same'}, ['8 filters 3×3', 'same · relu']),
    ('Conv2D', {'activation': 'linear'}, ['8 filters 3×3', 'valid · linear']),
    ('Conv2D', {'activation': 'step'}, ['8 filters 3×3', 'valid · step']),
    ('Conv2D', {'activation': 'sign'}, ['8 filters 3×3', 'valid · sign']),
    ('Conv2D', {'activation': 'sigmoid'}, ['8 filters 3×3', 'valid · sigmoid']),
    ('Conv2D', {'activation': 'tanh'}, ['8 filters 3×3', 'valid · tanh']),
    ('Conv2D', {'activation': 'leaky_relu'}, ['8 filters 3×3', 'valid · leaky relu']),
    ('Conv2D', {'activation': 'elu'}, ['8 filters 3×3', 'valid · elu']),
    ('Conv2D', {'activation': 'softplus'}, ['8 filters 3×3', 'valid · softplus']),
    ('Conv2D', {'activation': 'gelu'}, ['8 filters 3×3', 'valid · gelu']),
    ('Conv2D', {'activation': 'softmax'}, ['8 filters 3×3', 'valid · softmax']),
    ('Conv2D', {'use_bias': False}, ['8 filters 3×3', 'valid · relu']),
    ('MaxPool2D', {}, ['2×2 · stride 2×2']),
    ('MaxPool2D', {'pool_size': [1, 1]}, ['1×1 · stride 2×2']),
    ('MaxPool2D', {'pool_size': [2, 3]}, ['2×3 · stride 2×2']),
    ('MaxPool2D', {'pool_size': [5]}, ['5×5 · stride 2×2']),
    ('MaxPool2D', {'strides': [1, 1]}, ['2×2 · stride 1×1']),
    ('MaxPool2D', {'strides': [2, 3]}, ['2×2 · stride 2×3']),
    ('MaxPool2D', {'strides': [5]}, ['2×2 · stride 5×5']),
    ('MaxPool2D', {'padding': 'same'}, ['2×2 · stride 2×2']),
    ('AvgPool2D', {}, ['2×2 · stride 2×2']),
    ('AvgPool2D', {'pool_size': [1, 1]}, ['1×1 · stride 2×2']),
    ('AvgPool2D', {'pool_size': [2, 3]}, ['2×3 · stride 2×2']),
    ('AvgPool2D', {'pool_size': [5]}, ['5×5 · stride 2×2']),
    ('AvgPool2D', {'strides': [1, 1]}, ['2×2 · stride 1×1']),
    ('AvgPool2D', {'strides': [2, 3]}, ['2×2 · stride 2×3']),
    ('AvgPool2D', {'strides': [5]}, ['2×2 · stride 5×5']),
    ('AvgPool2D', {'padding': 'same'}, ['2×2 · stride 2×2']),
    ('GlobalAvgPool', {}, ['mean over positions']),
    ('SimpleRNN', {}, ['16 units', 'last step']),
    ('SimpleRNN', {'units': 1}, ['1 unit', 'last step']),
    ('SimpleRNN', {'units': 3}, ['3 units', 'last step']),
    ('SimpleRNN', {'units': 1000}, ['1000 units', 'last step']),
    ('SimpleRNN', {'activation': 'linear'}, ['16 units', 'last step']),
    ('SimpleRNN', {'activation': 'step'}, ['16 units', 'last step']),
    ('SimpleRNN', {'activation': 'sign'}, ['16 units', 'last step']),
    ('SimpleRNN', {'activation': 'sigmoid'}, ['16 units', 'last step']),
    ('SimpleRNN', {'activation': 'relu'}, ['16 units', 'last step']),
    ('SimpleRNN', {'activation': 'leaky_relu'}, ['16 units', 'last step']),
    ('SimpleRNN', {'activation': 'elu'}, ['16 units', 'last step']),
    ('SimpleRNN', {'activation': 'softplus'}, ['16 units', 'last step']),
    ('SimpleRNN', {'activation': 'gelu'}, ['16 units', 'last step']),
    ('SimpleRNN', {'activation': 'softmax'}, ['16 units', 'last step']),
    ('SimpleRNN', {'return_sequences': True}, ['16 units', 'every step']),
    ('SimpleRNN', {'use_bias': False}, ['16 units', 'last step']),
    ('SimpleRNN', {'units': 1, 'activation': 'leaky_relu'}, ['1 unit', 'last step']),
    ('LSTM', {}, ['16 units', 'last step']),
    ('LSTM', {'units': 1}, ['1 unit', 'last step']),
    ('LSTM', {'units': 3}, ['3 units', 'last step']),
    ('LSTM', {'units': 1000}, ['1000 units', 'last step']),
    ('LSTM', {'return_sequences': True}, ['16 units', 'every step']),
    ('LSTM', {'use_bias': False}, ['16 units', 'last step']),
    ('LSTM', {'unit_forget_bias': False}, ['16 units', 'last step']),
    ('GRU', {}, ['16 units', 'last step']),
    ('GRU', {'units': 1}, ['1 unit', 'last step']),
    ('GRU', {'units': 3}, ['3 units', 'last step']),
    ('GRU', {'units': 1000}, ['1000 units', 'last step']),
    ('GRU', {'return_sequences': True}, ['16 units', 'every step']),
    ('GRU', {'use_bias': False}, ['16 units', 'last step']),
    ('Embedding', {}, ['10 tokens → 8']),
    ('Embedding', {'input_dim': 1}, ['1 tokens → 8']),
    ('Embedding', {'input_dim': 3}, ['3 tokens → 8']),
    ('Embedding', {'input_dim': 1000}, ['1000 tokens → 8']),
    ('Embedding', {'output_dim': 1}, ['10 tokens → 1']),
    ('Embedding', {'output_dim': 3}, ['10 tokens → 3']),
    ('Embedding', {'output_dim': 1000}, ['10 tokens → 1000']),
    ('PositionalEncoding', {}, ['sinusoidal']),
    ('PositionalEncoding', {'kind': 'learned'}, ['learned']),
    ('SelfAttention', {}, ['2 heads × 8']),
    ('SelfAttention', {'heads': 1}, ['1 heads × 8']),
    ('SelfAttention', {'heads': 3}, ['3 heads × 8']),
    ('SelfAttention', {'heads': 1000}, ['1000 heads × 8']),
    ('SelfAttention', {'key_dim': 1}, ['2 heads × 1']),
    ('SelfAttention', {'key_dim': 3}, ['2 heads × 3']),
    ('SelfAttention', {'key_dim': 1000}, ['2 heads × 1000']),
    ('SelfAttention', {'causal': True}, ['2 heads × 8 · causal']),
    ('SelfAttention', {'use_bias': False}, ['2 heads × 8']),
    ('SelfAttention', {'heads': 1, 'key_dim': 4, 'causal': True}, ['1 heads × 4 · causal']),
    ('BatchNorm', {}, ['momentum 0.99']),
    ('BatchNorm', {'momentum': 0.0}, ['momentum 0']),
    ('BatchNorm', {'momentum': 0.25}, ['momentum 0.25']),
    ('BatchNorm', {'momentum': 0.125}, ['momentum 0.125']),
    ('BatchNorm', {'epsilon': 0.25}, ['momentum 0.99']),
    ('BatchNorm', {'epsilon': 0.125}, ['momentum 0.99']),
    ('BatchNorm', {'center': False}, ['momentum 0.99']),
    ('BatchNorm', {'scale': False}, ['momentum 0.99']),
    ('LayerNorm', {}, ['per sample']),
    ('LayerNorm', {'epsilon': 0.25}, ['per sample']),
    ('LayerNorm', {'epsilon': 0.125}, ['per sample']),
    ('LayerNorm', {'center': False}, ['per sample']),
    ('LayerNorm', {'scale': False}, ['per sample']),
    ('Flatten', {}, ['to one row']),
    ('Reshape', {}, ['to (8, 8, 1)']),
    ('Reshape', {'shape': [1, 1]}, ['to (1, 1)']),
    ('Reshape', {'shape': [2, 3]}, ['to (2, 3)']),
    ('Reshape', {'shape': [5]}, ['to (5)']),
]


@pytest.mark.parametrize("type_id,given,expected", OLD_BODY_LINES,
                         ids=[f"{t}-{i}" for i, (t, _, _) in enumerate(OLD_BODY_LINES)])
def test_describe_says_what_the_node_body_said(type_id, given, expected):
    t = BUILTIN_REGISTRY.get(type_id)
    assert t.describe(t.make_params(given)) == expected


#: the built-in types at eb0fd50 (a layer added later describes itself; it has no old text to match)
OLD_TYPES = {
    "Input", "Neuron", "Dense", "Activation", "Dropout", "Concatenate", "Add", "Output", "Conv2D", "MaxPool2D",
    "AvgPool2D", "GlobalAvgPool", "SimpleRNN", "LSTM", "GRU", "Embedding", "PositionalEncoding",
    "SelfAttention", "BatchNorm", "LayerNorm", "Flatten", "Reshape",
}


def test_every_old_type_is_covered_with_its_defaults():
    with_defaults = {t for t, given, _ in OLD_BODY_LINES if not given}
    assert with_defaults == OLD_TYPES and OLD_TYPES <= {t.type_id for t in BUILTIN_REGISTRY}


def test_an_alias_describes_itself_as_its_type():
    g = Graph()
    n = g.add_node("FullyConnected", units=1, activation="tanh")
    assert g.node_type(n.id).describe(n.params) == ["1 unit · tanh"]


def test_a_type_without_a_summary_shows_its_first_two_parameters():
    odd = NodeType("Odd", 1, "Odd one", "Shape", "", (
        ParamSpec("k", "int", 3, "Size"), ParamSpec("dims", "shape", [2, 4]), ParamSpec("z", "bool", True)),
        types_core.IN, ("out",), infer=lambda p, i: (1,))
    assert odd.describe(odd.defaults()) == ["Size: 3", "dims: (2, 4)"]
    bare = NodeType("Bare", 1, "Bare one", "Shape", "", (), types_core.IN, ("out",), infer=lambda p, i: (1,))
    assert bare.describe({}) == ["Bare one"]
    assert not bare.has_weights({}) and bare.role == "" and bare.drawn_as == "block"


@pytest.mark.parametrize("type_id,given,weighted", [
    ("Input", {}, False), ("Neuron", {}, True), ("Dense", {}, True), ("Activation", {}, False),
    ("Dropout", {}, False), ("Concatenate", {}, False), ("Add", {}, False),
    ("Output", {}, True), ("Output", {"use_weights": False}, False),
    ("Conv2D", {}, True), ("MaxPool2D", {}, False), ("GlobalAvgPool", {}, False), ("LSTM", {}, True),
    ("Embedding", {}, True), ("SelfAttention", {}, True),
    ("PositionalEncoding", {}, False), ("PositionalEncoding", {"kind": "learned"}, True),
    ("BatchNorm", {"scale": False, "center": False}, True),  # the moving statistics
    ("LayerNorm", {}, True), ("LayerNorm", {"scale": False, "center": False}, False),
    ("Flatten", {}, False), ("Reshape", {}, False),
])
def test_has_weights_agrees_with_the_weights_a_connected_node_gets(type_id, given, weighted):
    t = BUILTIN_REGISTRY.get(type_id)
    params = t.make_params(given)
    assert t.has_weights(params) is weighted
    if t.inputs:  # the weights the analysis gives a node fed a shape it takes
        g = Graph()
        shape = {"Conv2D": [6, 6, 2], "MaxPool2D": [6, 6, 2], "GlobalAvgPool": [6, 6, 2], "LSTM": [5, 3],
                 "SelfAttention": [5, 4], "PositionalEncoding": [5, 4], "Embedding": [5], "Reshape": [64]}.get(type_id, [4])
        x = g.add_node("Input", shape=shape)
        n = g.add_node(type_id, **given, **({"units": 4} if type_id == "Output" and not params["use_weights"] else {}))
        g.connect(x, n)
        a = g.analyze()
        assert not a.errors_for(n.id), a.errors
        assert bool(a.weights.get(n.id)) is weighted


def test_roles_mark_the_inputs_and_outputs_only():
    roles = {t.type_id: t.role for t in BUILTIN_REGISTRY if t.role}
    assert roles == {"Input": "input", "Output": "output"}
    assert [t.type_id for t in BUILTIN_REGISTRY if t.drawn_as == "neuron"] == ["Neuron"]
    assert all(t.drawn_as in ("block", "neuron") for t in BUILTIN_REGISTRY)


def test_every_builtin_type_states_a_formula():
    assert all(t.formula for t in BUILTIN_REGISTRY)


def test_the_core_types_live_in_types_core_and_assemble_into_the_registry():
    assert CORE_TYPES == types_core.TYPES
    assert [t.type_id for t in CORE_TYPES] == [
        "Input", "Neuron", "Dense", "Activation", "Dropout", "Concatenate", "Add", "Output"]
    reg = NodeTypeRegistry(CORE_TYPES)
    assert all(BUILTIN_REGISTRY.get(t.type_id) is t for t in reg)


def test_node_types_use_the_one_parameter_description():
    from anndesigner import params
    from anndesigner.graph import registry

    assert registry.ParamSpec is params.ParamSpec
    assert all(isinstance(p, params.ParamSpec) for t in BUILTIN_REGISTRY for p in t.params)
