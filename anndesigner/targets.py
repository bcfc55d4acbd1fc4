"""A network file's stated quality target, e.g. "validation accuracy ≥ 95 %".

Stored in the graph's metadata as ``{"metric": "val_accuracy", "min": 0.95}``
(or ``"max"`` for losses and errors). ``anndesigner train`` reports whether the
target was reached; the window shows it under the description.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

from .errors import AnnError

METRIC_NAMES = {
    "loss": "training loss",
    "val_loss": "validation loss",
    "accuracy": "training accuracy",
    "val_accuracy": "validation accuracy",
    "r2": "training R²",
    "val_r2": "validation R²",
    "mae": "training MAE",
    "val_mae": "validation MAE",
}
PERCENT = frozenset({"accuracy", "val_accuracy"})


def check(target: Any) -> dict[str, Any]:
    """A valid target dict, or :class:`AnnError` naming what is wrong."""
    if not isinstance(target, Mapping) or not isinstance(target.get("metric"), str):
        raise AnnError(f"a target needs a metric name, e.g. {{'metric': 'val_accuracy', 'min': 0.95}}; got {target!r}")
    bounds = [k for k in ("min", "max") if k in target]
    if len(bounds) != 1:
        raise AnnError("a target needs exactly one of 'min' or 'max'")
    v = target[bounds[0]]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise AnnError(f"a target's {bounds[0]} must be a number, not {v!r}")
    return dict(target)


def fmt_value(metric: str, v: float) -> str:
    if metric in PERCENT:
        return f"{100 * v:.1f} %"
    return f"{v:.4g}"


def describe(target: Mapping[str, Any]) -> str:
    """'validation accuracy ≥ 95.0 %'."""
    m = target["metric"]
    name = METRIC_NAMES.get(m, m.replace("_", " "))
    if "min" in target:
        return f"{name} ≥ {fmt_value(m, target['min'])}"
    return f"{name} ≤ {fmt_value(m, target['max'])}"


def reached(target: Mapping[str, Any], history_last: Mapping[str, float]) -> tuple[float | None, bool]:
    """(the value reached, whether it meets the target) from the last epoch's metrics."""
    v = history_last.get(target["metric"])
    if v is None or not math.isfinite(v):
        return None, False
    ok = v >= target["min"] if "min" in target else v <= target["max"]
    return float(v), bool(ok)
