"""Regenerate the sample networks in ``samples/`` (run from the repository root).

    python tools/make_samples.py
"""

from __future__ import annotations

from pathlib import Path

import anndesigner as ad
from anndesigner.graph.layout import apply_layout, layered_layout

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def finish(g: ad.Graph, name: str, title: str, description: str, *, data: dict, training: dict, seed: int = 0):
    apply_layout(g, layered_layout(g, dx=220, dy=110))
    g.set_meta(title=title, description=description)
    net = ad.Network(g, seed=seed, training=training, data=data)
    net.save(SAMPLES / name)
    print(f"wrote samples/{name}: {len(g.nodes)} nodes, {net.count_params()} parameters")
    return net


def xor() -> None:
    g = ad.Graph()
    x = g.add_node("Input", units=2, label="x₁, x₂")
    h = g.add_node("Dense", units=4, activation="tanh", label="hidden")
    y = g.add_node("Output", units=1, activation="sigmoid", loss="binary_crossentropy", label="x₁ XOR x₂")
    g.connect(x, h)
    g.connect(h, y)
    finish(g, "xor.ann", "XOR with a 2-4-1 network",
           "XOR is not linearly separable: no single neuron can learn it. Four tanh neurons in a hidden "
           "layer bend the plane so that a sigmoid output can. Press Train and watch the loss fall.",
           data={"kind": "builtin", "name": "xor", "params": {"n_samples": 4, "noise": 0.0, "seed": 0}},
           training={"epochs": 300, "batch_size": 4, "optimizer": "adam", "learning_rate": 0.05})


def perceptron() -> None:
    g = ad.Graph()
    x = g.add_node("Input", units=2, label="x₁, x₂")
    n = g.add_node("Neuron", activation="step", kernel_initializer="zeros", label="perceptron")
    y = g.add_node("Output", units=1, activation="linear", loss="mse", use_weights=False, label="x₁ AND x₂")
    g.connect(x, n)
    g.connect(n, y)
    finish(g, "perceptron.ann", "Rosenblatt's perceptron learning AND",
           "One neuron with a step activation: y = step(w₁x₁ + w₂x₂ + b). The perceptron rule "
           "w ← w + η (t − y) x changes the weights only when the answer is wrong, and it finds a "
           "separating line for AND in a few epochs.",
           data={"kind": "builtin", "name": "and", "params": {"n_samples": 4, "noise": 0.0, "seed": 0}},
           training={"epochs": 20, "batch_size": 1, "learning_rate": 0.1, "rule": "perceptron", "shuffle": False})


if __name__ == "__main__":
    SAMPLES.mkdir(exist_ok=True)
    xor()
    perceptron()
