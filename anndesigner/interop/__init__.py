"""Networks in and out of ANN Designer: PyTorch code, ONNX both ways, NumPy code.

Headless (no Qt). Each format lives in a module of its own, imported only when
used, so the optional libraries it needs (the ``interop`` extra: onnx,
onnxruntime, torch) are never needed to run the app:

- :func:`export` — ``export(network, "onnx" | "pytorch" | "numpy", out)``;
- :func:`import_model` — ``import_model(path)`` -> a Network (``.onnx``).

A missing library gives an :class:`InteropError` saying what to install.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

from ..errors import AnnError

#: format -> (module, function) of its exporter: function(network, out: Path, **options) -> list[Path]
EXPORTERS: dict[str, tuple[str, str]] = {
    "onnx": ("anndesigner.interop.onnx_export", "export_onnx"),
    "pytorch": ("anndesigner.interop.torch_export", "export_pytorch"),
    "numpy": ("anndesigner.interop.numpy_export", "export_numpy"),
}
#: file suffix -> (module, function) of its importer: function(path: Path) -> Network
IMPORTERS: dict[str, tuple[str, str]] = {
    ".onnx": ("anndesigner.interop.onnx_import", "import_onnx"),
}
#: what each optional library is for, in the message when it is missing
EXTRA = "pip install 'anndesigner[interop]'"


class InteropError(AnnError):
    """An export or import that cannot be done (a missing library, an unsupported layer or operator)."""


def require(module: str, purpose: str) -> Any:
    """Import an optional library, or raise InteropError naming it and how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise InteropError(f"{purpose} needs the Python package '{module}', which is not installed: "
                           f"{EXTRA}") from None


def _function(table: dict[str, tuple[str, str]], key: str, what: str):
    if key not in table:
        raise InteropError(f"cannot {what} '{key}': choose one of {', '.join(sorted(table))}")
    mod, fn = table[key]
    return getattr(importlib.import_module(mod), fn)


def export(network, to: str, out: str | os.PathLike, **options) -> list[Path]:
    """Write ``network`` as ``to`` ("onnx", "pytorch" or "numpy") at ``out``; the files written."""
    return _function(EXPORTERS, to, "export to")(network, Path(out), **options)


def import_model(path: str | os.PathLike):
    """A Network made from a model file of another framework (by its suffix: ``.onnx``)."""
    path = Path(path)
    return _function(IMPORTERS, path.suffix.lower(), "import files of type")(path)


__all__ = ["EXPORTERS", "IMPORTERS", "InteropError", "export", "import_model", "require"]
