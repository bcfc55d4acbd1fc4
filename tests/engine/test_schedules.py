"""Tests of anndesigner.engine.schedules."""

from __future__ import annotations

import math

import numpy as np
import pytest

from anndesigner.engine.schedules import (
    SCHEDULES,
    ConstantSchedule,
    CosineSchedule,
    ExponentialSchedule,
    Schedule,
    StepSchedule,
    make_schedule,
)
from anndesigner.errors import TrainingError
from anndesigner.params import ParamSpec


def test_none_is_constant():
    s = make_schedule(None)
    assert isinstance(s, ConstantSchedule)
    assert [s.lr_at(e, 0.1) for e in (0, 1, 50)] == [0.1, 0.1, 0.1]
    assert make_schedule({"kind": "constant"}).lr_at(7, 0.3) == 0.3
    assert s.to_dict() == {"kind": "constant"}


def test_step():
    s = make_schedule({"kind": "step", "step_size": 10, "gamma": 0.5})
    assert isinstance(s, StepSchedule)
    expected = {0: 1.0, 9: 1.0, 10: 0.5, 19: 0.5, 20: 0.25, 35: 0.125}
    for epoch, factor in expected.items():
        assert s.lr_at(epoch, 0.2) == pytest.approx(0.2 * factor, rel=1e-15)
    s3 = make_schedule({"kind": "step", "step_size": 3, "gamma": 0.1})
    assert s3.lr_at(2, 1.0) == 1.0
    assert s3.lr_at(3, 1.0) == pytest.approx(0.1)
    assert s3.lr_at(6, 1.0) == pytest.approx(0.01)


def test_step_defaults():
    s = make_schedule({"kind": "step"})
    assert s.to_dict() == {"kind": "step", "step_size": 10, "gamma": 0.1}
    assert s.lr_at(10, 1.0) == pytest.approx(0.1)


def test_exponential():
    s = make_schedule({"kind": "exponential", "gamma": 0.9})
    assert isinstance(s, ExponentialSchedule)
    assert s.lr_at(0, 0.1) == 0.1
    assert s.lr_at(1, 0.1) == pytest.approx(0.09, rel=1e-15)
    assert s.lr_at(2, 0.1) == pytest.approx(0.081, rel=1e-14)
    assert s.lr_at(10, 0.1) == pytest.approx(0.1 * 0.9**10, rel=1e-15)


def test_cosine():
    s = make_schedule({"kind": "cosine", "epochs": 10, "min_lr": 0.001})
    assert isinstance(s, CosineSchedule)
    assert s.lr_at(0, 0.1) == pytest.approx(0.1, rel=1e-15)
    # half-way: cos(pi/2) = 0 -> the mean of base and min
    assert s.lr_at(5, 0.1) == pytest.approx((0.1 + 0.001) / 2, rel=1e-12)
    # epoch 2: min + (base - min) * (1 + cos(0.2 pi)) / 2
    assert s.lr_at(2, 0.1) == pytest.approx(0.001 + 0.099 * (1 + math.cos(0.2 * math.pi)) / 2, rel=1e-12)
    assert s.lr_at(10, 0.1) == pytest.approx(0.001, rel=1e-12)
    assert s.lr_at(25, 0.1) == pytest.approx(0.001, rel=1e-12)
    values = [s.lr_at(e, 0.1) for e in range(11)]
    assert all(a > b for a, b in zip(values, values[1:]))


def test_cosine_default_min_lr():
    s = make_schedule({"kind": "cosine", "epochs": 4})
    assert s.lr_at(2, 1.0) == pytest.approx(0.5)
    assert s.lr_at(4, 1.0) == pytest.approx(0.0, abs=1e-15)
    assert s.to_dict() == {"kind": "cosine", "epochs": 4, "min_lr": 0.0}


def test_returns_python_float_and_accepts_numpy_scalars():
    s = make_schedule({"kind": "step", "step_size": np.int64(2), "gamma": np.float32(0.5)})
    lr = s.lr_at(np.int64(2), np.float64(0.1))
    assert type(lr) is float
    assert lr == pytest.approx(0.05)
    assert type(s.to_dict()["step_size"]) is int
    assert type(s.to_dict()["gamma"]) is float


@pytest.mark.parametrize(
    "spec",
    [
        {"kind": "constant"},
        {"kind": "step", "step_size": 5, "gamma": 0.5},
        {"kind": "exponential", "gamma": 0.97},
        {"kind": "cosine", "epochs": 30, "min_lr": 1e-5},
    ],
)
def test_to_dict_round_trip(spec):
    s = make_schedule(spec)
    d = s.to_dict()
    assert d == spec
    again = make_schedule(d)
    assert again == s
    assert type(again) is type(s)
    assert [again.lr_at(e, 0.1) for e in range(40)] == [s.lr_at(e, 0.1) for e in range(40)]


def test_whole_float_step_size_accepted():
    s = make_schedule({"kind": "step", "step_size": 4.0, "gamma": 0.5})
    assert s.to_dict()["step_size"] == 4
    assert type(s.to_dict()["step_size"]) is int


def test_schedule_instance_passes_through():
    s = StepSchedule(step_size=2, gamma=0.5)
    assert make_schedule(s) is s


def test_registry_and_params_tables():
    assert set(SCHEDULES) == {"constant", "step", "exponential", "cosine"}
    for kind, cls in SCHEDULES.items():
        assert issubclass(cls, Schedule)
        assert cls.kind == kind
        for spec in cls.PARAMS:
            assert isinstance(spec, ParamSpec) and spec.kind in ("int", "float")
            key, default, help_text = spec.name, spec.default, spec.help
            assert cls.param(key) is spec and spec.minimum <= spec.maximum
            assert isinstance(help_text, str) and help_text
            assert cls.validate_param(key, default) == default


@pytest.mark.parametrize(
    "spec,words",
    [
        ({"kind": "linear"}, ["linear", "constant", "step", "exponential", "cosine"]),
        ({"step_size": 3}, ["kind"]),
        ("step", ["dict"]),
        ({"kind": 3}, ["3"]),
        ({"kind": "step", "gamma": 0.5, "steps": 3}, ["steps", "step_size"]),
        ({"kind": "constant", "gamma": 0.5}, ["gamma"]),
        ({"kind": "step", "step_size": 0}, ["step_size"]),
        ({"kind": "step", "step_size": -2}, ["step_size"]),
        ({"kind": "step", "step_size": 2.5}, ["step_size", "whole"]),
        ({"kind": "step", "step_size": True}, ["step_size"]),
        ({"kind": "step", "gamma": 0.0}, ["gamma"]),
        ({"kind": "step", "gamma": -0.5}, ["gamma"]),
        ({"kind": "step", "gamma": "0.5"}, ["gamma"]),
        ({"kind": "exponential", "gamma": float("nan")}, ["gamma"]),
        ({"kind": "exponential", "gamma": None}, ["gamma"]),
        ({"kind": "cosine", "epochs": 0}, ["epochs"]),
        ({"kind": "cosine", "epochs": 10, "min_lr": -0.1}, ["min_lr"]),
        ({"kind": "cosine", "epochs": float("inf")}, ["epochs"]),
    ],
)
def test_bad_specs(spec, words):
    with pytest.raises(TrainingError) as exc:
        make_schedule(spec)
    for w in words:
        assert w in str(exc.value)


@pytest.mark.parametrize("epoch", [-1, 1.5, "3", None, True])
def test_bad_epoch(epoch):
    s = make_schedule({"kind": "exponential", "gamma": 0.9})
    with pytest.raises(TrainingError, match="Epoch"):
        s.lr_at(epoch, 0.1)
