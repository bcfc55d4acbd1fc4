"""Small networks and rows for the tests that compare another runtime with ours
(the exports, the imports): built in a row, every weight random so that no term
hides at 0, and rows of a sample's data as in its file."""

from pathlib import Path

import numpy as np

import anndesigner as ad
from anndesigner.data import load_source

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def chain(*layers, in_shape, out_units=2, out_activation="linear", loss="mse", use_weights=True):
    """Input -> layers (type id, params) in a row -> Output."""
    g = ad.Graph()
    prev = g.add_node("Input", shape=list(in_shape)).id
    for type_id, params in layers:
        nid = g.add_node(type_id, **params).id
        g.connect(prev, nid)
        prev = nid
    out = g.add_node("Output", units=out_units, activation=out_activation, loss=loss, use_weights=use_weights).id
    g.connect(prev, out)
    return g


def randomized(net, seed=1):
    """``net`` with every weight random (biases, BatchNorm statistics too; variances positive)."""
    rng = np.random.default_rng(seed)
    w = {}
    for k, v in net.get_weights().items():
        r = rng.normal(scale=0.5, size=v.shape).astype(v.dtype)
        w[k] = np.abs(r) + 0.5 if k.endswith("moving_variance") else r
    net.set_weights(w)
    return net


def raw_rows(net, n=37):
    """``n`` rows of the network's data set as in its file (not standardized), cycled."""
    src = dict(net.data_source)
    src["standardize"] = False
    X = load_source(src, base_dir=SAMPLES).X
    return np.resize(X, (n,) + X.shape[1:]).astype(np.float32)
