"""Recurrent layers: SimpleRNN, LSTM and GRU over sequences (time, features).

Weights follow Keras: the gates sit side by side in one ``kernel`` (F, k·units),
one ``recurrent_kernel`` (units, k·units) and one ``bias`` (k·units), with
k = 1 (SimpleRNN), 4 (LSTM: i, f, g, o) or 3 (GRU: z, r, h̃).

The GRU is exactly Keras's ``keras.layers.GRU(units, activation="tanh",
recurrent_activation="sigmoid", reset_after=False)``: the reset gate multiplies
hₜ₋₁ *before* the recurrent matmul, h̃ = tanh(xW_h + (r⊙hₜ₋₁)U_h + b_h), one
bias of 3·units, and hₜ = z⊙hₜ₋₁ + (1 − z)⊙h̃ (z near 1 keeps the old state).
That is also ONNX's GRU with ``linear_before_reset=0`` (its default; ONNX
orders the gates z, r, h too, with W and R transposed and the bias split into
Wb and Rb). Keras 3's default ``reset_after=True`` and PyTorch's ``nn.GRU``
(gates r, z, n; biases b_ih and b_hh) are the other variant,
n = tanh(xW_n + b_in + r⊙(hₜ₋₁U_n + b_hn)), which equals ours only where
r⊙(hU_n) = (r⊙h)U_n (e.g. U_n diagonal) and b_hn = 0. Files of schema 2 and
older had the update gate the other way round; loading migrates them.

With ``reset_after=True`` the GRU is that other variant, exactly Keras's
``GRU(reset_after=True)`` (its default): the reset gate multiplies the
recurrent product, h̃ = tanh(xW_h + b_h + r⊙(hₜ₋₁U_h + b_hh)), and the bias is
Keras's (2, 3·units) array: row 0 the input bias (added to xW, gates z, r, h̃),
row 1 the recurrent bias (added to hₜ₋₁U, gates z, r, h̃), so
z = σ(xW_z + b[0]_z + hU_z + b[1]_z), likewise r. PyTorch's ``nn.GRU`` is the
same function with its gates in the order r, z, n: weight_ih = kernel's
blocks (r, z, h̃) transposed, bias_ih = b[0] and bias_hh = b[1] in that order.
The parameter is off by default, so files without it compute as before.
"""

from __future__ import annotations

from ..errors import ShapeError
from .registry import NodeType, ParamSpec, Shape, WeightSpec
from .typekit import INITIALIZERS, IN, _act, _binit, _kinit, _use_bias, fmt_shape, single_input, units_text

#: gate blocks per layer type (columns of the kernels: k·units)
GATES = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}


def _sequence(inputs) -> Shape:
    s = single_input(inputs)
    if len(s) != 2:
        raise ShapeError(f"takes sequences (time, features), not {fmt_shape(s)}; add a Reshape first")
    return s


def _infer(params, inputs) -> Shape:
    t, _ = _sequence(inputs)
    return (t, params["units"]) if params["return_sequences"] else (params["units"],)


def _weights(kind: str):
    k = GATES[kind]

    def weights(params, inputs) -> list[WeightSpec]:
        """kernel (F, k·u), recurrent_kernel (u, k·u), bias (k·u); a GRU with
        reset_after has Keras's bias (2, 3·u): the input row and the recurrent row."""
        _, f = _sequence(inputs)
        u = params["units"]
        out = [
            WeightSpec("kernel", (f, k * u), params["kernel_initializer"], True, f, k * u),
            WeightSpec("recurrent_kernel", (u, k * u), params["recurrent_initializer"], True, u, k * u),
        ]
        if params["use_bias"]:
            if kind == "LSTM":
                init = "forget_gate_ones" if params["unit_forget_bias"] else "zeros"
            else:
                init = params["bias_initializer"]
            shape = (2, k * u) if kind == "GRU" and params.get("reset_after") else (k * u,)
            out.append(WeightSpec("bias", shape, init, False, f, k * u))
        return out

    return weights


def _units() -> ParamSpec:
    return ParamSpec("units", "int", 16, "Units", "Size of the hidden state h", minimum=1, maximum=100_000)


def _return_sequences() -> ParamSpec:
    return ParamSpec("return_sequences", "bool", False, "Return sequences",
                     "On: the output at every time step (T, units); off: only the last (units)")


def _rinit() -> ParamSpec:
    return ParamSpec("recurrent_initializer", "choice", "orthogonal", "Recurrent init",
                     "How the recurrent weights U start", choices=INITIALIZERS)


def _recurrent_summary(p, in_shape, out_shape) -> list[str]:
    return [units_text(p["units"]), "every step" if p["return_sequences"] else "last step"]


_SHAPES = ("Takes a sequence (T, F), one row per time step, and starts from h₀ = 0. "
           "Output: the last state (units), or every state (T, units) with Return sequences.")

SIMPLE_RNN = NodeType(
    "SimpleRNN", 1, "Simple RNN", "Sequence",
    "A fully connected recurrent layer: hₜ = f(xₜW + hₜ₋₁U + b). " + _SHAPES
    + " Trained by backpropagation through time.",
    (_units(), _act("tanh"), _return_sequences(), _use_bias(), _kinit(), _rinit(), _binit()),
    IN, ("out",),
    infer=_infer,
    weights=_weights("SimpleRNN"),
    formula="hₜ = f(xₜW + hₜ₋₁U + b)",
    summary=_recurrent_summary,
)

LSTM = NodeType(
    "LSTM", 1, "LSTM", "Sequence",
    "Long short-term memory (Hochreiter & Schmidhuber 1997): gates iₜ = σ(xₜWᵢ + hₜ₋₁Uᵢ + bᵢ), "
    "fₜ = σ(xₜW_f + hₜ₋₁U_f + b_f), oₜ = σ(xₜWₒ + hₜ₋₁Uₒ + bₒ), candidate gₜ = tanh(xₜW_g + hₜ₋₁U_g + b_g); "
    "cell cₜ = fₜ⊙cₜ₋₁ + iₜ⊙gₜ, state hₜ = oₜ⊙tanh(cₜ). " + _SHAPES
    + " Weight columns in the order i, f, g, o (as Keras).",
    (
        _units(), _return_sequences(), _use_bias(), _kinit(), _rinit(),
        ParamSpec("unit_forget_bias", "bool", True, "Forget bias 1",
                  "Start the forget-gate bias at 1 (the others at 0), so the cell remembers at first"),
    ),
    IN, ("out",),
    infer=_infer,
    weights=_weights("LSTM"),
    formula="cₜ = fₜ⊙cₜ₋₁ + iₜ⊙gₜ, hₜ = oₜ⊙tanh(cₜ)",
    summary=_recurrent_summary,
)

RESET_AFTER_HELP = ("Reset after the recurrent product (PyTorch's and Keras's default): "
                    "h̃ₜ = tanh(xₜW_h + b_h + rₜ⊙(hₜ₋₁U_h + b_hh)), with a second bias row b_hh "
                    "(bias (2, 3·units): input row, recurrent row). Off: h̃ₜ = tanh(xₜW_h + (rₜ⊙hₜ₋₁)U_h + b_h)")

GRU = NodeType(
    "GRU", 1, "GRU", "Sequence",
    "Gated recurrent unit (Cho et al. 2014): update gate zₜ = σ(xₜW_z + hₜ₋₁U_z + b_z), "
    "reset gate rₜ = σ(xₜWᵣ + hₜ₋₁Uᵣ + bᵣ), candidate h̃ₜ = tanh(xₜW_h + (rₜ⊙hₜ₋₁)U_h + b_h), "
    "state hₜ = zₜ⊙hₜ₋₁ + (1 − zₜ)⊙h̃ₜ (zₜ near 1 keeps the old state). " + _SHAPES
    + " Weight columns in the order z, r, h̃; the same as Keras's GRU with reset_after=False. "
    "With Reset after on, h̃ₜ = tanh(xₜW_h + b_h + rₜ⊙(hₜ₋₁U_h + b_hh)) and the bias has two rows "
    "(input, recurrent), each added in z and r too: Keras's GRU(reset_after=True) and PyTorch's nn.GRU.",
    (_units(), _return_sequences(), _use_bias(),
     ParamSpec("reset_after", "bool", False, "Reset after", RESET_AFTER_HELP),
     _kinit(), _rinit(), _binit()),
    IN, ("out",),
    infer=_infer,
    weights=_weights("GRU"),
    formula="hₜ = zₜ⊙hₜ₋₁ + (1 − zₜ)⊙h̃ₜ",
    summary=_recurrent_summary,
)

TYPES = (SIMPLE_RNN, LSTM, GRU)
