"""Regenerate the sample networks in ``samples/`` (run from the repository root).

    python tools/make_samples.py              # every sample
    python tools/make_samples.py xor spirals  # some of them

Each sample stores its graph, layout, data reference, training settings, seed,
a description (shown when it opens) and a target that ``anndesigner train FILE``
reaches with those settings (``python tools/train_samples.py`` checks them all).
The files are saved untrained, except ``mp-neuron.ann`` whose weights are the
point of it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import anndesigner as ad
from anndesigner.graph.layout import apply_layout, layered_layout

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def builtin(name: str, standardize: bool = False, reconstruct: bool = False, **params) -> dict:
    src = {"kind": "builtin", "name": name, "params": params}
    if standardize:
        src["standardize"] = True
    if reconstruct:
        src["reconstruct"] = True  # the inputs are the targets (an autoencoder)
    return src


def finish(g: ad.Graph, name: str, title: str, description: str, *, data: dict, training: dict,
           target: dict, seed: int = 0, weights: dict | None = None, layout: bool = True) -> ad.Network:
    if layout:  # long chains wrap after 4 columns, so they read at a normal zoom
        apply_layout(g, layered_layout(g, dx=220, dy=110, wrap=4))
    g.set_meta(title=title, description=description, target=target)
    net = ad.Network(g, seed=seed, training=training, data=data)
    if weights:
        net.set_weights(weights)
    net.save(SAMPLES / name)
    print(f"wrote samples/{name}: {len(g.nodes)} nodes, {net.count_params()} parameters")
    return net


def chain(g: ad.Graph, *nodes):
    for a, b in zip(nodes, nodes[1:]):
        g.connect(a, b)
    return nodes[-1]


# ------------------------------------------------------------- classics
def mp_neuron() -> None:
    g = ad.Graph()
    x = g.add_node("Input", units=2, label="x₁, x₂")
    n = g.add_node("Neuron", activation="step", label="threshold unit")
    y = g.add_node("Output", units=1, activation="linear", loss="mse", use_weights=False, label="x₁ AND x₂")
    chain(g, x, n, y)
    finish(g, "mp-neuron.ann", "The McCulloch-Pitts neuron (1943)",
           "The first model of a neuron: it fires (1) when the weighted sum of its inputs reaches a "
           "threshold, else it stays silent (0). Here both weights are 1 and the threshold is 1.5 "
           "(bias −1.5), so it fires only when both inputs are on: it computes AND. Nothing is learned; "
           "the weights were set by hand. Training uses the 'fixed weights' rule and only measures the "
           "accuracy. Try a bias of −0.5: it computes OR.",
           data=builtin("and", n_samples=4, noise=0.0, seed=0),
           training={"epochs": 1, "batch_size": 4, "learning_rate": 0.1, "rule": "fixed", "shuffle": False},
           target={"metric": "accuracy", "min": 1.0},
           weights={f"{n.id}/kernel": np.array([1.0, 1.0], np.float32), f"{n.id}/bias": np.float32(-1.5)})


def perceptron() -> None:
    g = ad.Graph()
    x = g.add_node("Input", units=2, label="x₁, x₂")
    n = g.add_node("Neuron", activation="step", kernel_initializer="zeros", label="perceptron")
    y = g.add_node("Output", units=1, activation="linear", loss="mse", use_weights=False, label="x₁ AND x₂")
    chain(g, x, n, y)
    finish(g, "perceptron.ann", "Rosenblatt's perceptron learning AND (1958)",
           "One neuron with a step activation: y = step(w₁x₁ + w₂x₂ + b). The perceptron rule "
           "w ← w + η (t − y) x changes the weights only when the answer is wrong, and it finds a "
           "separating line for AND in a few epochs. Switch the data to OR and train again; switch it "
           "to XOR and it never converges, because no single line separates XOR.",
           data=builtin("and", n_samples=4, noise=0.0, seed=0),
           training={"epochs": 20, "batch_size": 1, "learning_rate": 0.1, "rule": "perceptron", "shuffle": False},
           target={"metric": "accuracy", "min": 1.0})


def hebbian() -> None:
    g = ad.Graph()
    x = g.add_node("Input", shape=[25], label="5×5 pattern (±1)")
    y = g.add_node("Output", units=25, activation="sign", loss="mse", use_bias=False,
                   kernel_initializer="zeros", label="recalled pattern")
    chain(g, x, y)
    finish(g, "hebbian.ann", "Hebb's rule: an associative memory (1949)",
           "\"Neurons that fire together wire together.\" Hebb's rule w ← w + η x t strengthens a weight "
           "whenever its input and its target are active together. Shown noisy copies of four 5×5 letter "
           "patterns (±1 pixels) with the clean letter as target, one pass stores them all in the weights; "
           "a sign unit per pixel then recalls the clean letter from a noisy one. Accuracy counts patterns "
           "recalled with every pixel right.",
           data=builtin("letters", n_samples=200, noise=0.08, seed=0),
           training={"epochs": 1, "batch_size": 1, "learning_rate": 0.01, "rule": "hebbian", "shuffle": False,
                     "validation_split": 0.25},
           target={"metric": "val_accuracy", "min": 0.95})


def xor() -> None:
    g = ad.Graph()
    x = g.add_node("Input", units=2, label="x₁, x₂")
    h = g.add_node("Dense", units=4, activation="tanh", label="hidden")
    y = g.add_node("Output", units=1, activation="sigmoid", loss="binary_crossentropy", label="x₁ XOR x₂")
    chain(g, x, h, y)
    finish(g, "xor.ann", "XOR with a 2-4-1 network",
           "XOR is not linearly separable: no single neuron can learn it. Four tanh neurons in a hidden "
           "layer bend the plane so that a sigmoid output can. Press Train and watch the loss fall.",
           data=builtin("xor", n_samples=4, noise=0.0, seed=0),
           training={"epochs": 300, "batch_size": 4, "optimizer": "adam", "learning_rate": 0.05},
           target={"metric": "accuracy", "min": 1.0})


def xor_neurons() -> None:
    g = ad.Graph()
    x1 = g.add_node("Input", units=1, label="x₁", position=(0, 60))
    x2 = g.add_node("Input", units=1, label="x₂", position=(0, 280))
    hs = []
    for i in range(4):
        h = g.add_node("Neuron", activation="tanh", label=f"h{i + 1}", position=(240, 110 * i - 40))
        g.connect(x1, h)
        g.connect(x2, h)
        hs.append(h)
    o = g.add_node("Neuron", activation="sigmoid", label="out", position=(480, 170))
    for h in hs:
        g.connect(h, o)
    y = g.add_node("Output", units=1, activation="linear", loss="binary_crossentropy", use_weights=False,
                   label="x₁ XOR x₂", position=(700, 170))
    g.connect(o, y)
    finish(g, "xor-neurons.ann", "XOR drawn neuron by neuron",
           "The 2-4-1 XOR network with every neuron and every connection drawn: each wire is one weight, "
           "each neuron computes y = tanh(Σ wᵢxᵢ + b). The two Inputs take the data's two columns in the "
           "order they were added. While it trains, wires turn blue (positive) or orange (negative) and "
           "thicken with the size of their weight; hover a neuron to see its weights, bias and its output "
           "over the plane. The engine fuses the neurons into matrix products, so it trains as fast as "
           "the layer version.",
           data=builtin("xor", n_samples=4, noise=0.0, seed=0),
           training={"epochs": 300, "batch_size": 4, "optimizer": "adam", "learning_rate": 0.05},
           target={"metric": "accuracy", "min": 1.0}, layout=False)


def house_prices() -> None:
    g = ad.Graph()
    x = g.add_node("Input", units=4, label="location, crime, area, population")
    h1 = g.add_node("Dense", units=32, activation="relu", label="hidden 1")
    h2 = g.add_node("Dense", units=16, activation="relu", label="hidden 2")
    y = g.add_node("Output", units=1, activation="linear", loss="mse", label="price (k)")
    chain(g, x, h1, h2, y)
    finish(g, "house-prices.ann", "House prices: regression",
           "Predict a house's price (in thousands) from its location score, the crime rate, its floor "
           "area and the town's population. The inputs are standardized (mean 0, standard deviation 1) "
           "because they live on very different scales; the output is linear, trained on the mean "
           "squared error. 20 % of the rows are held out: R² on them tells how much of the price "
           "variation the network explains.",
           data=builtin("house_prices", standardize=True, n_samples=1000, noise=0.05, seed=0),
           training={"epochs": 200, "batch_size": 32, "optimizer": "adam", "learning_rate": 0.01,
                     "validation_split": 0.2},
           target={"metric": "val_r2", "min": 0.9})


def spirals() -> None:
    g = ad.Graph()
    x = g.add_node("Input", units=2, label="x, y")
    h1 = g.add_node("Dense", units=32, activation="tanh", label="hidden 1")
    h2 = g.add_node("Dense", units=32, activation="tanh", label="hidden 2")
    y = g.add_node("Output", units=1, activation="sigmoid", loss="binary_crossentropy", label="which spiral")
    chain(g, x, h1, h2, y)
    finish(g, "spirals.ann", "Two spirals",
           "Two interleaved spirals: a classic hard problem for small networks, because the boundary "
           "winds around the centre. Two tanh layers of 32 learn it; watch the decision surface curl "
           "while it trains. A quarter of the points are held out for validation.",
           data=builtin("spirals", n_samples=1000, noise=0.05, seed=0),
           training={"epochs": 500, "batch_size": 16, "optimizer": "adam", "learning_rate": 0.02,
                     "validation_split": 0.25},
           target={"metric": "val_accuracy", "min": 0.95})


# ------------------------------------------------------------- digits
def digits_mlp() -> None:
    g = ad.Graph()
    x = g.add_node("Input", units=64, label="8×8 pixels")
    h = g.add_node("Dense", units=64, activation="relu", label="hidden")
    d = g.add_node("Dropout", rate=0.2)
    y = g.add_node("Output", units=10, activation="softmax", loss="categorical_crossentropy", label="digit 0-9")
    chain(g, x, h, d, y)
    finish(g, "digits-mlp.ann", "Handwritten digits with an MLP",
           "1,797 handwritten digits of 8×8 pixels (UCI optical digits, CC BY 4.0). A hidden layer of 64 "
           "ReLU units and a softmax over the ten classes; dropout against overfitting. The pixels are "
           "one flat row of 64 values: the network does not know which pixels are neighbours. 20 % of "
           "the digits are held out.",
           data=builtin("digits"),
           training={"epochs": 60, "batch_size": 32, "optimizer": "adam", "learning_rate": 0.003,
                     "validation_split": 0.2},
           target={"metric": "val_accuracy", "min": 0.95})


def digits_cnn() -> None:
    g = ad.Graph()
    x = g.add_node("Input", shape=[8, 8, 1], label="8×8 image")
    c1 = g.add_node("Conv2D", filters=16, kernel_size=[3, 3], padding="same", activation="relu")
    c2 = g.add_node("Conv2D", filters=32, kernel_size=[3, 3], padding="same", activation="relu")
    p = g.add_node("MaxPool2D", pool_size=[2, 2], strides=[2, 2])
    f = g.add_node("Flatten")
    h = g.add_node("Dense", units=64, activation="relu", label="hidden")
    d = g.add_node("Dropout", rate=0.3)
    y = g.add_node("Output", units=10, activation="softmax", loss="categorical_crossentropy", label="digit 0-9")
    chain(g, x, c1, c2, p, f, h, d, y)
    finish(g, "digits-cnn.ann", "Handwritten digits with a convolutional network",
           "The same digits seen as 8×8×1 images. Each Conv2D slides small 3×3 filters over the image, so "
           "a stroke is recognised wherever it is; max pooling keeps the strongest response in each 2×2 "
           "patch. With far fewer weights per layer than the MLP, it generalizes better.",
           data=builtin("digits"),
           training={"epochs": 40, "batch_size": 32, "optimizer": "adam", "learning_rate": 0.002,
                     "validation_split": 0.2},
           target={"metric": "val_accuracy", "min": 0.97})


def autoencoder() -> None:
    g = ad.Graph()
    x = g.add_node("Input", units=64, label="8×8 pixels")
    e = g.add_node("Dense", units=32, activation="relu", label="encoder")
    z = g.add_node("Dense", units=3, activation="linear", label="code (3)")
    dd = g.add_node("Dense", units=32, activation="relu", label="decoder")
    y = g.add_node("Output", units=64, activation="sigmoid", loss="mse", label="reconstruction")
    chain(g, x, e, z, dd, y)
    finish(g, "autoencoder.ann", "An autoencoder squeezing digits through 3 numbers",
           "The network learns to reproduce its input, a digit's 64 pixels, through a bottleneck of just "
           "3 units. To succeed it must find a compact code for digits: similar digits get similar codes. "
           "The target is the input itself (the data source's 'reconstruct' option). The reconstruction "
           "error it reaches, the mean squared error per pixel on held-out digits with pixels in 0..1, "
           "is about 0.03 (a blurry but recognisable digit); the 3 code values can be read off the "
           "bottleneck node.",
           data=builtin("digits", reconstruct=True),
           training={"epochs": 80, "batch_size": 32, "optimizer": "adam", "learning_rate": 0.003,
                     "validation_split": 0.2},
           target={"metric": "val_loss", "max": 0.035})


# ------------------------------------------------------------- sequences
def sine_lstm() -> None:
    g = ad.Graph()
    x = g.add_node("Input", shape=[20, 1], label="last 20 values")
    r = g.add_node("LSTM", units=32, label="memory")
    y = g.add_node("Output", units=1, activation="linear", loss="mse", label="next value")
    chain(g, x, r, y)
    finish(g, "sine-lstm.ann", "An LSTM predicting the next value of a wave",
           "Each sample is 20 consecutive values of a noisy sine wave (random phase and frequency); the "
           "target is the next value. The LSTM reads them one time step at a time, keeping a cell state "
           "that its gates write, keep or forget, and is trained by backpropagation through time. "
           "On held-out waves (amplitude 1, noise 0.05) it reaches a mean squared error of about "
           "0.005; the noise alone accounts for 0.0025 of that.",
           data=builtin("sine_sequence"),
           training={"epochs": 30, "batch_size": 32, "optimizer": "adam", "learning_rate": 0.005,
                     "validation_split": 0.2},
           target={"metric": "val_loss", "max": 0.01})


def tiny_transformer() -> None:
    g = ad.Graph()
    x = g.add_node("Input", shape=[10], label="10 tokens")
    emb = g.add_node("Embedding", input_dim=6, output_dim=16)
    pos = g.add_node("PositionalEncoding", kind="learned")
    att = g.add_node("SelfAttention", heads=2, key_dim=8)
    add = g.add_node("Add", label="residual")
    ln = g.add_node("LayerNorm")
    ff = g.add_node("Dense", units=32, activation="relu", label="feed-forward")
    pool = g.add_node("GlobalAvgPool")
    y = g.add_node("Output", units=1, activation="sigmoid", loss="binary_crossentropy", label="1 before 2?")
    chain(g, x, emb, pos, att, add)
    g.connect(pos, add)
    chain(g, add, ln, ff, pool, y)
    finish(g, "tiny-transformer.ann", "A tiny transformer block",
           "Does token 1 occur somewhere before token 2? Each of the 10 tokens becomes a learned vector "
           "(Embedding) plus its position (PositionalEncoding). Self-attention lets every position look "
           "at every other one: a query·key match decides how much of each value it takes. A residual "
           "Add and LayerNorm complete the block, as in a transformer; a feed-forward layer and an "
           "average over positions give the answer.",
           data=builtin("pattern"),
           training={"epochs": 60, "batch_size": 32, "optimizer": "adam", "learning_rate": 0.003,
                     "validation_split": 0.2},
           target={"metric": "val_accuracy", "min": 0.95})


ALL = {
    "mp-neuron": mp_neuron, "perceptron": perceptron, "hebbian": hebbian, "xor": xor,
    "xor-neurons": xor_neurons, "house-prices": house_prices, "spirals": spirals,
    "digits-mlp": digits_mlp, "digits-cnn": digits_cnn, "autoencoder": autoencoder,
    "sine-lstm": sine_lstm, "tiny-transformer": tiny_transformer,
}

if __name__ == "__main__":
    SAMPLES.mkdir(exist_ok=True)
    for key in sys.argv[1:] or ALL:
        ALL[key]()
