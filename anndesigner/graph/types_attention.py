"""Embedding, PositionalEncoding and multi-head SelfAttention: the pieces of a
transformer block over a sequence of T positions with D features each."""

from __future__ import annotations

from ..errors import ShapeError
from .registry import NodeType, ParamSpec, WeightSpec
from .typekit import INITIALIZERS, IN, _kinit, _use_bias, fmt_shape, single_input


def _sequence_input(inputs, what: str) -> tuple[int, int]:
    s = single_input(inputs)
    if len(s) != 2:
        raise ShapeError(f"takes a sequence of shape (T, D) (T positions of D features each), not {fmt_shape(s)}"
                         + (f"; {what}" if what else ""))
    return s


# ---------------------------------------------------------------- Embedding
def _embedding_infer(params, inputs):
    s = single_input(inputs)
    if len(s) == 1 or (len(s) == 2 and s[1] == 1):
        return (s[0], params["output_dim"])
    raise ShapeError(f"takes a sequence of token ids of shape (T) or (T, 1), not {fmt_shape(s)}")


EMBEDDING = NodeType(
    "Embedding", 1, "Embedding", "Sequence",
    "Looks up a learned vector for every token id: a sequence of T whole numbers in 0 … input_dim − 1 "
    "(shape (T) or (T, 1)) becomes a (T, output_dim) array whose row t is row x_t of the table E "
    "(input_dim × output_dim). Same as a one-hot vector times E; only the rows of tokens seen get "
    "a gradient. Ids that are not whole numbers in range are an error.",
    (
        ParamSpec("input_dim", "int", 10, "Vocabulary size", "Number of different tokens (ids 0 … size − 1)",
                  minimum=1, maximum=10_000_000),
        ParamSpec("output_dim", "int", 8, "Vector size", "Features per token", minimum=1, maximum=100_000),
        ParamSpec("embeddings_initializer", "choice", "uniform", "Table init", "How the vectors start",
                  choices=INITIALIZERS),
    ),
    IN, ("out",),
    infer=_embedding_infer,
    weights=lambda params, inputs: [
        WeightSpec("embeddings", (params["input_dim"], params["output_dim"]), params["embeddings_initializer"],
                   True, params["input_dim"], params["output_dim"]),
    ],
    formula="yₜ = E[xₜ]",
    summary=lambda p, i, o: [f"{p['input_dim']} tokens → {p['output_dim']}"],
)


# ------------------------------------------------------- PositionalEncoding
def _posenc_weights(params, inputs):
    if params["kind"] != "learned":
        return []
    t, d = _sequence_input(inputs, "")
    return [WeightSpec("positions", (t, d), "normal", True, t, d)]


POSITIONAL_ENCODING = NodeType(
    "PositionalEncoding", 1, "Positional encoding", "Sequence",
    "Tells later layers where each position is: y = x + P for a (T, D) input. "
    "Sinusoidal (Vaswani et al. 2017, fixed, no weights): P[t, 2i] = sin(t / 10000^(2i/D)), "
    "P[t, 2i+1] = cos(t / 10000^(2i/D)). Learned: P is a trained (T, D) table.",
    (
        ParamSpec("kind", "choice", "sinusoidal", "Kind", "Fixed sin/cos waves, or a learned table",
                  choices=("sinusoidal", "learned")),
    ),
    IN, ("out",),
    infer=lambda params, inputs: _sequence_input(inputs, ""),
    weights=_posenc_weights,
    formula="y = x + P",
    summary=lambda p, i, o: [p["kind"]],
    weighted=lambda p: p["kind"] == "learned",
)


# ------------------------------------------------------------ SelfAttention
def _attention_weights(params, inputs):
    t, d = _sequence_input(inputs, "")
    hk = params["heads"] * params["key_dim"]
    init = params["kernel_initializer"]
    out = [
        WeightSpec("query_kernel", (d, hk), init, True, d, hk),
        WeightSpec("key_kernel", (d, hk), init, True, d, hk),
        WeightSpec("value_kernel", (d, hk), init, True, d, hk),
        WeightSpec("output_kernel", (hk, d), init, True, hk, d),
    ]
    if params["use_bias"]:
        out += [
            WeightSpec("query_bias", (hk,), "zeros", False, d, hk),
            WeightSpec("key_bias", (hk,), "zeros", False, d, hk),
            WeightSpec("value_bias", (hk,), "zeros", False, d, hk),
            WeightSpec("output_bias", (d,), "zeros", False, hk, d),
        ]
    return out


SELF_ATTENTION = NodeType(
    "SelfAttention", 1, "Multi-head self-attention", "Attention",
    "Every position looks at every position (of the same sample) and takes a weighted mix of them. "
    "Per head h: Q = xW_Q + b_Q, K = xW_K + b_K, V = xW_V + b_V (each T × key_dim), "
    "A = softmax(QKᵀ / √key_dim) over the positions looked at, head_h = AV; "
    "y = [head_1 … head_H] W_O + b_O. Input and output are (T, D), so a residual Add and a "
    "LayerNorm can follow, as in a transformer block. Causal: position t sees only positions ≤ t.",
    (
        ParamSpec("heads", "int", 2, "Heads", "Number of attention heads, each with its own Q, K, V",
                  minimum=1, maximum=1024),
        ParamSpec("key_dim", "int", 8, "Key size", "Size of each head's queries, keys and values",
                  minimum=1, maximum=100_000),
        ParamSpec("causal", "bool", False, "Causal", "Each position sees only itself and earlier positions"),
        _use_bias(),
        _kinit(),
    ),
    IN, ("out",),
    infer=lambda params, inputs: _sequence_input(inputs, "add a Reshape to (T, D) first"),
    weights=_attention_weights,
    formula="y = [softmax(QKᵀ / √d)V]ₕ W_O + b_O",
    summary=lambda p, i, o: [f"{p['heads']} heads × {p['key_dim']}" + (" · causal" if p["causal"] else "")],
)

TYPES = (EMBEDDING, POSITIONAL_ENCODING, SELF_ATTENTION)
