"""The one parameter description (anndesigner.params): checks and limits."""

import math

import pytest

from anndesigner.errors import ParameterError
from anndesigner.params import ParamSpec, defaults_of, spec_named


def test_validate_normalizes_and_names_the_node():
    units = ParamSpec("units", "int", 8, minimum=1)
    assert units.validate(3.0, "dense_1") == 3 and isinstance(units.validate(3.0), int)
    with pytest.raises(ParameterError) as exc:
        units.validate(0, "dense_1")
    assert str(exc.value) == "node 'dense_1': parameter 'units' must be at least 1; got 0"
    assert exc.value.node_id == "dense_1" and exc.value.param == "units"
    with pytest.raises(ParameterError, match=r"^node: parameter 'units' must be a whole number, not 2.5$"):
        units.validate(2.5)
    shape = ParamSpec("shape", "shape", [2])
    assert shape.validate(4) == [4] and shape.validate((2, 3)) == [2, 3]
    with pytest.raises(ParameterError, match="is too large"):
        shape.validate([100_000, 100_000])
    rate = ParamSpec("rate", "float", 0.5, minimum=0.0, maximum=1.0)
    with pytest.raises(ParameterError, match="must be a finite number"):
        rate.validate(math.nan)
    with pytest.raises(ParameterError, match=r"must be at most 1; got 2"):
        rate.validate(2)
    act = ParamSpec("activation", "choice", "relu", choices=("relu", "tanh"))
    with pytest.raises(ParameterError, match="must be one of relu, tanh; got 'gelu'"):
        act.validate("gelu")


def test_open_bounds_and_optional_values():
    eps = ParamSpec("epsilon", "float", 1e-7, minimum=0.0, maximum=math.inf, open_min=True)
    assert eps.interval() == "(0, inf]"
    assert not eps.in_range(0.0) and eps.in_range(1e-30)
    with pytest.raises(ParameterError, match=r"must be in \(0, inf\]; got 0"):
        eps.validate(0.0)
    clip = ParamSpec("clipnorm", "float", None, minimum=0.0, open_min=True, optional=True)
    assert clip.validate(None) is None and clip.validate(2) == 2.0
    with pytest.raises(ParameterError):
        ParamSpec("units", "int", 8).validate(None)
    m = ParamSpec("momentum", "float", 0.0, minimum=0.0, maximum=1.0, open_max=True)
    assert m.interval() == "[0, 1)" and not m.in_range(1.0) and m.in_range(0.0)


def test_title_lookup_and_defaults():
    specs = (ParamSpec("beta_1", "float", 0.9), ParamSpec("shape", "shape", [2, 3], label="Shape of x"))
    assert specs[0].title == "Beta 1" and specs[1].title == "Shape of x"
    assert spec_named(specs, "shape") is specs[1]
    with pytest.raises(KeyError):
        spec_named(specs, "gamma")
    d = defaults_of(specs)
    assert d == {"beta_1": 0.9, "shape": [2, 3]} and d["shape"] is not specs[1].default


def test_registry_messages_match():
    """Node types check values with this description (graph.registry re-exports it or has
    the same checks): the messages the tests of node types assert are these."""
    from anndesigner.graph.registry import ParamSpec as RegistrySpec

    for value in (0, 2.5, "x", True):
        a = ParamSpec("units", "int", 8, minimum=1, maximum=10)
        b = RegistrySpec("units", "int", 8, minimum=1, maximum=10)
        msgs = []
        for spec in (a, b):
            try:
                spec.validate(value, "n")
                msgs.append(None)
            except ParameterError as e:
                msgs.append(str(e))
        assert msgs[0] == msgs[1]
