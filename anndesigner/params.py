"""One description of a parameter, for every kind of thing that has parameters:
node types, optimizers, learning-rate schedules and built-in data sets.

A :class:`ParamSpec` says what a value is (its kind, default, limits, choices),
how to show it (label, help, unit, decimals, step) and, for node types, how to
check it (:meth:`ParamSpec.validate`). The Qt form (``anndesigner.ui.form``) is
built from a sequence of them and is the only form builder of the window.

No Qt, no NumPy: this module sits at the bottom beside ``errors``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

from .errors import ParameterError, short_repr

__all__ = ["ParamSpec", "spec_named", "defaults_of"]

KINDS = ("int", "float", "bool", "choice", "shape", "str")


@dataclass(frozen=True)
class ParamSpec:
    """One parameter, described well enough to check it and to build its editor.

    kind: ``int``, ``float``, ``bool``, ``choice``, ``shape`` (a list of
    positive ints) or ``str``. ``minimum``/``maximum`` are inclusive unless
    ``open_min``/``open_max`` say the bound itself is refused. ``optional``:
    ``None`` is a value too (clipnorm's "off"). ``log``: a float over many
    magnitudes (a learning rate), shown as typed and stepped by a tenth of its
    magnitude. ``decimals`` and ``step`` are the editor's; None lets the form
    choose from the default.
    """

    name: str
    kind: str
    default: Any
    label: str = ""
    help: str = ""
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    #: True when changing the value needs no recompile (the GUI may allow it while training)
    live: bool = False
    unit: str = ""
    decimals: int | None = None
    step: float | None = None
    open_min: bool = False
    open_max: bool = False
    optional: bool = False
    log: bool = False

    @property
    def title(self) -> str:
        """The label shown beside the editor: ``label``, else the name in words."""
        return self.label or self.name.replace("_", " ").capitalize()

    def validate(self, value: Any, node_id: str | None = None) -> Any:
        """Return the normalized value or raise :class:`ParameterError` (messages name the node)."""
        where = f"node '{node_id}'" if node_id else "node"

        def bad(msg: str) -> ParameterError:
            return ParameterError(f"{where}: parameter '{self.name}' {msg}", node_id=node_id, param=self.name)

        k = self.kind
        if value is None and self.optional:
            return None
        if k == "bool":
            if isinstance(value, bool):
                return value
            raise bad(f"must be true or false, not {short_repr(value)}")
        if k == "int":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                isinstance(value, float) and not value.is_integer()
            ):
                raise bad(f"must be a whole number, not {short_repr(value)}")
            value = int(value)
            self._check_range(value, bad)
            return value
        if k == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise bad(f"must be a number, not {short_repr(value)}")
            value = float(value)
            if not math.isfinite(value):
                raise bad(f"must be a finite number, not {short_repr(value)}")
            self._check_range(value, bad)
            return value
        if k == "choice":
            if value not in self.choices:
                raise bad(f"must be one of {', '.join(self.choices)}; got {short_repr(value)}")
            return value
        if k == "shape":
            if isinstance(value, (int,)) and not isinstance(value, bool):
                value = [value]
            if not isinstance(value, (list, tuple)) or not value:
                raise bad(f"must be a non-empty list of positive whole numbers, not {short_repr(value)}")
            out = []
            for v in value:
                if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                    raise bad(f"must be a list of positive whole numbers; {short_repr(v)} is not")
                out.append(int(v))
            if math.prod(out) > 100_000_000:
                raise bad("is too large")
            return out
        if k == "str":
            if not isinstance(value, str):
                raise bad(f"must be text, not {short_repr(value)}")
            return value
        raise AssertionError(f"unknown parameter kind {k}")

    def in_range(self, value: float) -> bool:
        """Whether a number lies within the limits (open bounds excluded)."""
        lo, hi = self.minimum, self.maximum
        if lo is not None and (value < lo or (self.open_min and value == lo)):
            return False
        return not (hi is not None and (value > hi or (self.open_max and value == hi)))

    def interval(self) -> str:
        """The limits written as an interval: ``[0, 1)``, ``(0, inf]``."""
        lo = "-inf" if self.minimum is None else f"{self.minimum:g}"
        hi = "inf" if self.maximum is None or self.maximum == math.inf else f"{self.maximum:g}"
        return f"{'(' if self.open_min else '['}{lo}, {hi}{')' if self.open_max else ']'}"

    def _check_range(self, value: float, bad: Callable[[str], ParameterError]) -> None:
        if self.minimum is not None and value < self.minimum:
            raise bad(f"must be at least {self.minimum:g}; got {value:g}")
        if self.maximum is not None and value > self.maximum:
            raise bad(f"must be at most {self.maximum:g}; got {value:g}")
        if not self.in_range(value):
            raise bad(f"must be in {self.interval()}; got {value:g}")


def spec_named(specs: Iterable[ParamSpec], name: str) -> ParamSpec:
    """The spec called ``name`` (KeyError when there is none)."""
    for s in specs:
        if s.name == name:
            return s
    raise KeyError(name)


def defaults_of(specs: Sequence[ParamSpec]) -> dict[str, Any]:
    """``{name: default}`` (a list default is copied)."""
    return {s.name: list(s.default) if isinstance(s.default, list) else s.default for s in specs}
