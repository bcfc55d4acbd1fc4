"""Convolution and pooling over images (height, width, channels), channels last:
Conv2D, MaxPool2D, AvgPool2D and GlobalAvgPool.

Window geometry follows TensorFlow: with padding "valid" the windows stay inside
the image, out = ⌊(size − k) / s⌋ + 1; with "same" the image is padded so that
out = ⌈size / s⌉, the extra row/column going to the bottom/right.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from ..errors import ParameterError, ShapeError
from .registry import NodeType, ParamSpec, Shape, WeightSpec
from .typekit import (
    IN, _act, _binit, _kinit, _use_bias, act_name, fixed_summary, fmt_shape, single_input, window_text,
)

PADDINGS = ("valid", "same")


# ----------------------------------------------------------------- geometry
def out_size(size: int, k: int, s: int, padding: str) -> int:
    """Output length of one axis (0 when a "valid" window does not fit)."""
    if padding == "same":
        return -(-size // s)
    return max(0, (size - k) // s + 1)


def pad_before(size: int, k: int, s: int, padding: str) -> int:
    """Padding rows (columns) before the image; the rest of the total goes after it."""
    if padding != "same":
        return 0
    total = max((out_size(size, k, s, padding) - 1) * s + k - size, 0)
    return total // 2


def _pair(params: Mapping[str, Any], name: str, what: str) -> tuple[int, int]:
    v = params[name]
    if len(v) != 2:
        raise ParameterError(
            f"needs '{name}' as 2 numbers ({what} over height, width), e.g. 3, 3; got {fmt_shape(v)}",
            param=name,
        )
    return int(v[0]), int(v[1])


def image_input(inputs: Mapping[str, Sequence[Shape]]) -> Shape:
    s = single_input(inputs)
    if len(s) != 3:
        raise ShapeError(f"takes images (height, width, channels), not {fmt_shape(s)}; add a Reshape first")
    return s


def window_infer(params: Mapping[str, Any], inputs: Mapping[str, Sequence[Shape]], kname: str,
                 channels: int | None = None) -> Shape:
    """Output shape of a sliding-window layer whose window size is ``params[kname]``."""
    h, w, c = image_input(inputs)
    kh, kw = _pair(params, kname, "window size")
    sh, sw = _pair(params, "strides", "steps")
    pad = params["padding"]
    if pad == "valid" and (kh > h or kw > w):
        raise ShapeError(
            f"has a {kh}×{kw} window ({kname}), larger than its {h}×{w} input; "
            f"use a smaller {kname} or padding 'same'"
        )
    return (out_size(h, kh, sh, pad), out_size(w, kw, sw, pad), c if channels is None else channels)


def _normalize(*names: str):
    """Let a single number (or a 1-number list) stand for a square window: 3 -> [3, 3]."""

    def normalize(p: dict[str, Any]) -> dict[str, Any]:
        p = dict(p)
        for n in names:
            v = p.get(n)
            if isinstance(v, int) and not isinstance(v, bool):
                p[n] = [v, v]
            elif isinstance(v, (list, tuple)) and len(v) == 1:
                p[n] = [v[0], v[0]]
        return p

    return normalize


def _padding(help_same: str) -> ParamSpec:
    return ParamSpec(
        "padding", "choice", "valid", "Padding",
        "valid: windows stay inside the image; same: " + help_same, choices=PADDINGS,
    )


# ------------------------------------------------------------------- Conv2D
def _conv_weights(params, inputs) -> list[WeightSpec]:
    c_in = image_input(inputs)[2]
    kh, kw = _pair(params, "kernel_size", "window size")
    f = params["filters"]
    out = [WeightSpec("kernel", (kh, kw, c_in, f), params["kernel_initializer"], True, kh * kw * c_in, kh * kw * f)]
    if params["use_bias"]:
        out.append(WeightSpec("bias", (f,), params["bias_initializer"], False, kh * kw * c_in, kh * kw * f))
    return out


def _conv_summary(p, in_shape, out_shape) -> list[str]:
    strides = "" if list(p["strides"]) == [1, 1] else f" /{window_text(p['strides'])}"
    return [f"{p['filters']} filters {window_text(p['kernel_size'])}{strides}",
            f"{p['padding']} · {act_name(p['activation'])}"]


CONV2D = NodeType(
    "Conv2D", 1, "Conv2D", "Convolution",
    "Slides its learned k×k×c filters over the image: "
    "y[i,j,f] = f(Σ x[i·s+u, j·s+v, c]·K[u,v,c,f] + b[f]).",
    (
        ParamSpec("filters", "int", 8, "Filters", "Number of kernels, i.e. output channels",
                  minimum=1, maximum=100_000),
        ParamSpec("kernel_size", "shape", [3, 3], "Kernel size", "Window height, width, e.g. 3, 3"),
        ParamSpec("strides", "shape", [1, 1], "Strides", "Step between windows: down, across"),
        _padding("zero-pad so that the output is ⌈size / stride⌉"),
        _act("relu"), _use_bias(), _kinit("he_uniform"), _binit(),
    ),
    IN, ("out",),
    infer=lambda params, inputs: window_infer(params, inputs, "kernel_size", params["filters"]),
    weights=_conv_weights,
    normalize=_normalize("kernel_size", "strides"),
    formula="y = f(x ∗ K + b)",
    summary=_conv_summary,
)


# ------------------------------------------------------------------ pooling
def _pool_params() -> tuple[ParamSpec, ...]:
    return (
        ParamSpec("pool_size", "shape", [2, 2], "Pool size", "Window height, width, e.g. 2, 2"),
        ParamSpec("strides", "shape", [2, 2], "Strides", "Step between windows: down, across"),
    )


def _pool_summary(p, in_shape, out_shape) -> list[str]:
    return [f"{window_text(p['pool_size'])} · stride {window_text(p['strides'])}"]


MAXPOOL2D = NodeType(
    "MaxPool2D", 1, "Max pool 2D", "Convolution",
    "Keeps the largest value of each p×p window, per channel: y[i,j,c] = max over u,v of "
    "x[i·s+u, j·s+v, c]. Nothing is learned.",
    _pool_params() + (_padding("windows may reach past the edge, where padding is ignored"),),
    IN, ("out",),
    infer=lambda params, inputs: window_infer(params, inputs, "pool_size"),
    normalize=_normalize("pool_size", "strides"),
    formula="y[i,j,c] = max over the window of x",
    summary=_pool_summary,
)

AVGPOOL2D = NodeType(
    "AvgPool2D", 1, "Average pool 2D", "Convolution",
    "Averages each p×p window, per channel: y[i,j,c] = mean over u,v of x[i·s+u, j·s+v, c] "
    "(with padding 'same', over the cells inside the image only). Nothing is learned.",
    _pool_params() + (_padding("windows may reach past the edge; only cells inside the image are averaged"),),
    IN, ("out",),
    infer=lambda params, inputs: window_infer(params, inputs, "pool_size"),
    normalize=_normalize("pool_size", "strides"),
    formula="y[i,j,c] = mean over the window of x",
    summary=_pool_summary,
)


# ------------------------------------------------------------ GlobalAvgPool
def _global_infer(params, inputs) -> Shape:
    s = single_input(inputs)
    if len(s) < 2:
        raise ShapeError(
            f"averages over positions and takes images (height, width, channels) or sequences "
            f"(steps, features), not {fmt_shape(s)}"
        )
    return (s[-1],)


GLOBALAVGPOOL = NodeType(
    "GlobalAvgPool", 1, "Global average pool", "Convolution",
    "Averages each channel over all positions: y[c] = mean over i,j of x[i,j,c], "
    "so (h, w, c) → (c) and (t, d) → (d). Nothing is learned.",
    (),
    IN, ("out",),
    infer=_global_infer,
    formula="y[c] = mean over i,j of x[i,j,c]",
    summary=fixed_summary("mean over positions"),
)

TYPES = (CONV2D, MAXPOOL2D, AVGPOOL2D, GLOBALAVGPOOL)
