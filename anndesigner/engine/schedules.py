"""Learning-rate schedules.

A schedule maps a 0-based epoch number and the base learning rate to the
learning rate used during that epoch::

    sched = make_schedule({"kind": "step", "step_size": 10, "gamma": 0.5})
    lr = sched.lr_at(epoch, base_lr)        # -> Python float
    optimizer.step(grads, lr=lr)

Kinds (``spec["kind"]``) and their parameters:

``constant``
    ``lr = base_lr``.
``step``  (``step_size`` epochs, default 10; ``gamma``, default 0.1)
    ``lr = base_lr * gamma ** (epoch // step_size)``  (PyTorch ``StepLR``).
``exponential``  (``gamma`` per epoch, default 0.95)
    ``lr = base_lr * gamma ** epoch``  (PyTorch ``ExponentialLR``).
``cosine``  (``epochs`` = T, default 100; ``min_lr``, default 0)
    ``lr = min_lr + (base_lr - min_lr) * (1 + cos(pi * min(epoch, T) / T)) / 2``
    (PyTorch ``CosineAnnealingLR`` with ``T_max = epochs``): ``base_lr`` at
    epoch 0, ``min_lr`` from epoch T on.

Specs are JSON-native dicts; :meth:`Schedule.to_dict` gives one back, and
``make_schedule(s.to_dict())`` rebuilds an equal schedule. Each schedule class
describes its parameters in ``PARAMS``, a tuple of
:class:`~anndesigner.params.ParamSpec` (kind ``int`` or ``float``; bounds inclusive
unless ``open_min``). Every bad spec raises
:class:`~anndesigner.errors.TrainingError` naming the problem.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from anndesigner.errors import TrainingError, short_repr
from anndesigner.params import ParamSpec

__all__ = [
    "Schedule",
    "ConstantSchedule",
    "StepSchedule",
    "ExponentialSchedule",
    "CosineSchedule",
    "SCHEDULES",
    "make_schedule",
]

_INF = math.inf


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, (int, float, np.integer, np.floating))


class Schedule:
    """Base class. Subclasses set ``kind``, ``PARAMS`` and implement :meth:`_lr`."""

    kind: ClassVar[str] = ""
    PARAMS: ClassVar[tuple[ParamSpec, ...]] = ()

    def __init__(self, **params: Any) -> None:
        cls = type(self)
        values = {p.name: p.default for p in cls.PARAMS}
        for key, value in params.items():
            values[key] = cls.validate_param(key, value)
        self.params: dict[str, Any] = values
        for key, value in values.items():
            setattr(self, key, value)

    @classmethod
    def param(cls, key: str) -> ParamSpec:
        """The description of parameter ``key`` (TrainingError when there is none)."""
        for p in cls.PARAMS:
            if p.name == key:
                return p
        known = ", ".join(p.name for p in cls.PARAMS) or "none"
        raise TrainingError(f"Learning-rate schedule '{cls.kind}' has no parameter '{key}'. Known: {known}.")

    @classmethod
    def validate_param(cls, key: str, value: Any) -> Any:
        """Check one parameter; return it as a Python int/float."""
        spec = cls.param(key)
        if not _is_number(value):
            raise TrainingError(
                f"Learning-rate schedule '{cls.kind}': '{key}' must be a number, not {short_repr(value)}."
            )
        v = float(value)
        if not math.isfinite(v):
            raise TrainingError(f"Learning-rate schedule '{cls.kind}': '{key}' must be finite, not {v}.")
        if spec.kind == "int":
            if v != int(v):
                raise TrainingError(
                    f"Learning-rate schedule '{cls.kind}': '{key}' must be a whole number, not {short_repr(value)}."
                )
            v = int(v)
        if not spec.in_range(v):
            raise TrainingError(
                f"Learning-rate schedule '{cls.kind}': '{key}' = {v:g} is out of range; "
                f"it must be in {spec.interval()}."
            )
        return v

    def lr_at(self, epoch: int, base_lr: float) -> float:
        """Learning rate for the 0-based ``epoch`` given the base rate."""
        if not _is_number(epoch) or not math.isfinite(epoch) or epoch != int(epoch) or epoch < 0:
            raise TrainingError(f"Epoch must be a whole number >= 0, not {epoch!r}.")
        return float(self._lr(int(epoch), float(base_lr)))

    def _lr(self, epoch: int, base_lr: float) -> float:
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        """JSON-native spec accepted by :func:`make_schedule`."""
        return {"kind": self.kind, **self.params}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Schedule):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(tuple(sorted(self.to_dict().items())))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{type(self).__name__}({args})"


class ConstantSchedule(Schedule):
    """``lr = base_lr`` for every epoch."""

    kind = "constant"
    PARAMS = ()

    def _lr(self, epoch: int, base_lr: float) -> float:
        return base_lr


class StepSchedule(Schedule):
    """``lr = base_lr * gamma ** (epoch // step_size)`` (PyTorch ``StepLR``)."""

    kind = "step"
    PARAMS = (
        ParamSpec("step_size", "int", 10, label="Step every", minimum=1, maximum=_INF, unit="epochs",
                  help="Number of epochs between two reductions."),
        ParamSpec("gamma", "float", 0.1, label="Factor", minimum=0.0, maximum=_INF, open_min=True,
                  help="Factor applied to the learning rate every step_size epochs."),
    )

    step_size: int
    gamma: float

    def _lr(self, epoch: int, base_lr: float) -> float:
        return base_lr * self.gamma ** (epoch // self.step_size)


class ExponentialSchedule(Schedule):
    """``lr = base_lr * gamma ** epoch`` (PyTorch ``ExponentialLR``)."""

    kind = "exponential"
    PARAMS = (
        ParamSpec("gamma", "float", 0.95, label="Factor", minimum=0.0, maximum=_INF, open_min=True,
                  help="Factor applied to the learning rate after every epoch."),
    )

    gamma: float

    def _lr(self, epoch: int, base_lr: float) -> float:
        return base_lr * self.gamma**epoch


class CosineSchedule(Schedule):
    """Cosine annealing from ``base_lr`` (epoch 0) to ``min_lr`` (epoch ``epochs`` on).

    ``lr = min_lr + (base_lr - min_lr) * (1 + cos(pi * min(epoch, epochs) / epochs)) / 2``
    (PyTorch ``CosineAnnealingLR`` with ``T_max = epochs``, without restarts).
    """

    kind = "cosine"
    PARAMS = (
        ParamSpec("epochs", "int", 100, label="Decay over", minimum=1, maximum=_INF, unit="epochs",
                  help="Number of epochs over which the rate decays."),
        ParamSpec("min_lr", "float", 0.0, label="Final rate", minimum=0.0, maximum=_INF, log=True,
                  help="Learning rate reached at the end of the decay."),
    )

    epochs: int
    min_lr: float

    def _lr(self, epoch: int, base_lr: float) -> float:
        frac = min(epoch, self.epochs) / self.epochs
        return self.min_lr + (base_lr - self.min_lr) * (1.0 + math.cos(math.pi * frac)) / 2.0


SCHEDULES: dict[str, type[Schedule]] = {
    "constant": ConstantSchedule,
    "step": StepSchedule,
    "exponential": ExponentialSchedule,
    "cosine": CosineSchedule,
}


def make_schedule(spec: dict[str, Any] | Schedule | None) -> Schedule:
    """Build a schedule from a JSON-native spec such as
    ``{"kind": "step", "step_size": 10, "gamma": 0.5}``.

    ``None`` gives the constant schedule; a :class:`Schedule` is returned
    as is. Missing parameters take their defaults. Raises
    :class:`TrainingError` for a spec that is not a dict, lacks ``kind``,
    names an unknown kind or parameter, or has a bad value.
    """
    if spec is None:
        return ConstantSchedule()
    if isinstance(spec, Schedule):
        return spec
    if not isinstance(spec, dict):
        raise TrainingError(f"A learning-rate schedule must be a dict with a 'kind', not {short_repr(spec)}.")
    if "kind" not in spec:
        raise TrainingError(
            f"Learning-rate schedule {short_repr(spec)} has no 'kind'. Known kinds: {', '.join(SCHEDULES)}."
        )
    kind = spec["kind"]
    cls = SCHEDULES.get(kind.strip().lower()) if isinstance(kind, str) else None
    if cls is None:
        raise TrainingError(f"Unknown learning-rate schedule {short_repr(kind)}. Known kinds: {', '.join(SCHEDULES)}.")
    params = {k: v for k, v in spec.items() if k != "kind"}
    for key in params:
        if not isinstance(key, str):
            raise TrainingError(f"Learning-rate schedule '{cls.kind}': parameter names must be strings, "
                                f"not {short_repr(key)}.")
    return cls(**params)
