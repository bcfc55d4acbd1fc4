"""Inside views: a layer's own arithmetic, drawn for the sample being explained.

A view is registered under a node type id (``@inside_view("Conv2D")``) as a
factory taking an :class:`InsideContext` and returning a widget. The Explain
panel's "Look inside…" button opens the view for the node of the frame shown,
in a window of its own. Views read the numbers from the engine (the trace and
the network), never recompute them differently from the engine.

The views live in this package's modules, which are imported on first use
(:func:`views`), so a new view is a new module and nothing else.
"""

from __future__ import annotations

import html
import importlib
import pkgutil
from dataclasses import dataclass
from typing import Any, Callable

from PySide6.QtWidgets import QWidget


@dataclass(frozen=True)
class InsideContext:
    network: Any  # the compiled Network the trace came from
    trace: Any  # the engine's Trace for the sample
    node_id: str  # the node to look inside
    document: Any = None  # the window's Document, or None in tests


Factory = Callable[[InsideContext], QWidget]

#: node type id -> factory
INSIDE_VIEWS: dict[str, Factory] = {}
_loaded = False


def z_and_activation(total: float, bias: float | None, z: float, activation: str, output: float,
                     bias_name: str = "b") -> list[str]:
    """The last lines of a weighted sum, the same in every view: z = Σ + b, then f(z)."""
    from ..stages import num

    b = f" {'−' if bias < 0 else '+'} {bias_name} {num(abs(bias))}" if bias is not None else " (no bias)"
    lines = [f"z = {num(total)}{b} = <b>{num(z)}</b>"]
    if activation != "linear":
        a = html.escape(activation)
        lines.append(f"{a}(z) = {a}({num(z)}) = <b>{num(output)}</b>")
    else:
        lines.append(f"output = z = <b>{num(output)}</b>")
    return lines


def inside_view(*type_ids: str) -> Callable[[Factory], Factory]:
    """Register a factory as the inside view of the given node types."""

    def register(factory: Factory) -> Factory:
        for t in type_ids:
            INSIDE_VIEWS[t] = factory
        return factory

    return register


def views() -> dict[str, Factory]:
    """All registered views (importing this package's modules the first time)."""
    global _loaded
    if not _loaded:
        _loaded = True
        for info in pkgutil.iter_modules(__path__):
            importlib.import_module(f"{__name__}.{info.name}")
    return INSIDE_VIEWS


def view_for(type_id: str | None) -> Factory | None:
    return views().get(type_id) if type_id else None
