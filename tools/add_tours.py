"""Write the guided tours into the sample networks (run from the repository root).

    python tools/add_tours.py              # every sample that has a tour here
    python tools/add_tours.py xor          # some of them
    python tools/add_tours.py --check      # only check that the files hold these tours

The tours are data (the format is :mod:`anndesigner.io.tour`), kept here so
they can be edited and written again. Only ``tour.json`` changes: the script
loads each sample, checks every node id of its tour against the graph (strict),
sets ``network.tour`` and saves; it then reads the file back and refuses to
keep it unless network.json, the weights and the history are exactly what they
were. Run it after ``tools/make_samples.py``, which writes the samples afresh
without tours.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import warnings
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from anndesigner.io import load_network, save_network  # noqa: E402
from anndesigner.io.tour import parse_tour  # noqa: E402

SAMPLES = ROOT / "samples"


def step(text: str, highlight=(), open=None, **action) -> dict:
    d: dict = {"text": text}
    if highlight:
        d["highlight"] = list(highlight)
    if open:
        d["open"] = open
    if action:
        d["action"] = {"do": action.pop("do"), **action}
    return d


TOURS: dict[str, dict] = {
    "perceptron": {
        "version": 1,
        "title": "One neuron: weighted sum, bias, activation",
        "steps": [
            step("This network is a single artificial neuron, Rosenblatt's **perceptron**. Two numbers come in "
                 "at `input_1`, the neuron `neuron_1` decides, and `output_1` reports its answer: the logical "
                 "AND of the two inputs.\n\nPress **Next** to look inside.",
                 ["input_1", "neuron_1", "output_1"], "canvas"),
            step("A neuron does three things. It multiplies each input by a **weight** (w₁x₁ and w₂x₂), adds "
                 "the products and a **bias** b: z = w₁x₁ + w₂x₂ + b. Then an **activation** turns z into the "
                 "output: here a *step*, y = 1 when z ≥ 0 and y = 0 otherwise.\n\nThe Inspector shows "
                 "`neuron_1`'s settings: its activation is `step`.",
                 ["neuron_1"], "inspector", do="select-node", node="neuron_1"),
            step("The data are AND's four rows: (0, 0), (0, 1) and (1, 0) should give 0, only (1, 1) gives 1. "
                 "The Data panel shows them.",
                 ["input_1"], "data"),
            step("Explain mode follows one sample through the network with the real numbers. This is row 3, "
                 "x = (1, 1) with target 1. The first frame shows the values arriving at `input_1`.",
                 ["input_1"], "explain", do="explain-sample", row=3, granularity="operation"),
            step("Two operations on: the products wᵢxᵢ, then their sum with the bias, z = Σ wx + b, with "
                 "the weights the network has now. An untrained perceptron starts with every weight and its "
                 "bias at zero, so z = 0 whatever the input.",
                 ["neuron_1"], "explain", do="explain-forward", steps=2),
            step("One more: the step activation turns z into 0 or 1. The curve under the numbers is "
                 "step(z), with this sample's z marked on it.",
                 ["neuron_1"], "explain", do="explain-forward", steps=1),
            step("After the loss comes the **perceptron rule**: w ← w + η (t − y) x, and the same for b. "
                 "When the answer is right, t − y = 0 and nothing changes; when it is wrong, each weight "
                 "moves by the input it saw. There is no backward pass: one neuron needs none.\n\nUntrained, "
                 "z = 0 and step(0) = 1: right for (1, 1), so nothing moves here. Set Row to 1 in the Explain "
                 "dock, x = (0, 1) with target 0, press Explain and then ⏭ (to the end): a wrong answer, "
                 "and w₂ and b move.",
                 ["neuron_1"], "explain", do="explain-forward", steps=3),
            step("The **decision surface** shows where the neuron says 1: the line w₁x₁ + w₂x₂ + b = 0 splits "
                 "the plane. Press **Train** (F5) and watch the line move until it separates (1, 1) from the "
                 "rest. Then try the data set *or*, and *xor*: for XOR no line works, which is why the next "
                 "sample needs a hidden layer.",
                 ["neuron_1"], "surface"),
        ],
    },
    "xor": {
        "version": 1,
        "title": "Why XOR needs a hidden layer",
        "steps": [
            step("XOR is 1 when exactly one input is 1: (0, 1) and (1, 0) give 1, (0, 0) and (1, 1) give 0. "
                 "On the **decision surface** these four points sit at the corners of a square, the 1s on one "
                 "diagonal and the 0s on the other. No single straight line puts both 1s on one side and both "
                 "0s on the other, so one neuron alone can never learn XOR.",
                 ["input_1", "output_1"], "surface"),
            step("The fix is a **hidden layer**. `dense_1` holds four tanh neurons; each computes its own "
                 "weighted sum of x₁ and x₂ plus a bias, so each draws its own line across the plane. Their "
                 "four outputs are a new description of the point, in which the 1s and 0s *can* be "
                 "separated.",
                 ["dense_1"], "inspector", do="select-node", node="dense_1"),
            step("`output_1` is one sigmoid neuron on top: it takes a weighted sum of the four hidden values "
                 "and squashes it to a probability between 0 and 1. It still draws a straight line, but in "
                 "the hidden layer's space, which is a bent line in the input plane.",
                 ["output_1"], "inspector", do="select-node", node="output_1"),
            step("Let us follow one sample. This is row 1, x = (0, 1), target 1, in **Explain** mode, stepping "
                 "node by node.",
                 ["input_1"], "explain", do="explain-sample", row=1, granularity="node"),
            step("Through `dense_1`: the products, the sums z = Σ wx + b of the four neurons, then tanh(z). "
                 "These four numbers are all the output layer will see of the input.",
                 ["input_1", "dense_1"], "explain", do="explain-forward", steps=1),
            step("Through `output_1`: one weighted sum of the hidden values, then the sigmoid. Its value is "
                 "the network's belief that x₁ XOR x₂ is 1. One step on, the **loss** (binary cross-entropy) "
                 "says how far that is from the target.",
                 ["dense_1", "output_1"], "explain", do="explain-forward", steps=2),
            step("Now a whole pass at once: **backpropagation**. The error δ at `output_1` gives the gradients "
                 "of its weights, and is sent back through them to `dense_1`, scaled by tanh's slope, for the "
                 "hidden weights' gradients. The Explain dock's back button steps through each one.",
                 ["output_1", "dense_1"], "explain", do="explain-forward", steps=1, granularity="pass"),
            step("Press **Train** (F5). The Training plots show the loss falling, and the decision surface "
                 "bends until the two 1s sit in a band of their own. Open the *xor-neurons* sample for the same "
                 "network with every neuron and every weight drawn on its own.",
                 ["dense_1", "output_1"], "plots"),
        ],
    },
    "digits-cnn": {
        "version": 1,
        "title": "Convolution, feature maps and pooling",
        "steps": [
            step("Each sample is an 8×8 greyscale image of a handwritten digit, 64 pixels; `input_1` keeps "
                 "it as an image, 8 × 8 × 1 (height, width, channels), so that the layers after it know which "
                 "pixels are neighbours.",
                 ["input_1"], "data"),
            step("`conv2d_1` is a **convolution**: 16 small 3×3 filters. Each filter slides over the image and "
                 "at every position takes the weighted sum of the 3×3 pixels under it, plus a bias, then ReLU. "
                 "The result is one **feature map** per filter: where in the image the filter's pattern (an "
                 "edge, a corner, a stroke) appears. The same 9 weights are used everywhere, so a stroke is "
                 "found wherever it is.",
                 ["conv2d_1"], "inspector", do="select-node", node="conv2d_1"),
            step("`conv2d_2` does the same on `conv2d_1`'s 16 maps: each of its 32 filters looks at a 3×3 patch "
                 "of all 16 maps at once, so it responds to combinations of strokes, the parts of a digit.",
                 ["conv2d_1", "conv2d_2"]),
            step("`maxpool2d_1` keeps the largest value of each 2×2 patch: the 8×8 maps become 4×4. The network "
                 "now knows *that* a part is there, and roughly where, while a shift by a pixel hardly matters. "
                 "`flatten_1` lays the 4 × 4 × 32 values out in a row for `dense_1`, `dropout_1` switches some "
                 "of them off while training, and `output_1` gives a softmax over the ten digits.",
                 ["maxpool2d_1", "flatten_1", "dense_1", "dropout_1", "output_1"]),
            step("In **Explain** mode, row 0 of the data set: a handwritten 6. The first frame is the image "
                 "at `input_1`.",
                 ["input_1"], "explain", do="explain-sample", row=0, granularity="node"),
            step("One node on: the 16 feature maps of `conv2d_1` for this 6. Press **Look inside…** in the "
                 "Explain dock to see one filter slide over the image, with the products of one position "
                 "written out.",
                 ["conv2d_1"], "explain", do="explain-forward", steps=1),
            step("Two nodes on: `conv2d_2`'s 32 maps, then `maxpool2d_1` halving each of them. Look inside the "
                 "pooling too: each output is the largest of its 2×2 patch.",
                 ["conv2d_2", "maxpool2d_1"], "explain", do="explain-forward", steps=2),
            step("The rest of the forward pass at once, up to the softmax at `output_1`: ten probabilities, "
                 "one per digit. Before training they are a guess spread over all ten; press **Train** (F5), "
                 "explain row 0 again, and the 6 takes nearly all of it.",
                 ["output_1"], "explain", do="explain-forward", steps=1, granularity="pass"),
        ],
    },
    "tiny-transformer": {
        "version": 1,
        "title": "Attention: every position looks at every other",
        "steps": [
            step("Each sample is a sequence of 10 tokens, whole numbers from 0 to 5. The question: does a "
                 "token 1 occur somewhere before a token 2? The answer depends on *pairs* of positions, "
                 "which is what attention is good at.",
                 ["input_1"], "data"),
            step("`embedding_1` turns each token into a learned vector of 16 numbers (a lookup in a table of "
                 "6 rows), and `positionalencoding_1` adds a learned vector for each position, so the same "
                 "token at position 2 and at position 7 look different.",
                 ["embedding_1", "positionalencoding_1"]),
            step("`selfattention_1` is the heart of the block. For every position it computes a **query**, a "
                 "**key** and a **value** (three weighted sums of its vector). The query of position i is "
                 "matched with the key of every position j (a dot product, divided by √8); a softmax turns "
                 "these scores into weights that add up to 1, and position i takes that mix of the values. "
                 "Two heads do this side by side, each with its own weights.",
                 ["selfattention_1"], "inspector", do="select-node", node="selfattention_1"),
            step("`add_1` adds the attention's output to its input (a **residual** connection: the block only "
                 "has to learn a change), `layernorm_1` rescales each position's vector, `dense_1` is the "
                 "feed-forward layer applied at every position, `globalavgpool_1` averages the positions, and "
                 "`output_1` gives the probability of \"yes\".",
                 ["add_1", "layernorm_1", "dense_1", "globalavgpool_1", "output_1"]),
            step("In **Explain** mode, row 0: tokens 5 1 1 3 5 2 5 5 5 1, with a 1 before a 2, so the target is "
                 "1. Three nodes on are the embedding, the position and the attention.",
                 ["input_1"], "explain", do="explain-sample", row=0, granularity="node"),
            step("Each token's vector after `embedding_1` and `positionalencoding_1`, then the output of "
                 "`selfattention_1`: each row now mixes in what the other positions hold.",
                 ["embedding_1", "positionalencoding_1", "selfattention_1"], "explain",
                 do="explain-forward", steps=3),
            step("The rest of the forward pass, the loss, and then backpropagation: the gradients reach back "
                 "through `layernorm_1` and the residual `add_1` into the query, key and value weights of "
                 "`selfattention_1`. The Explain dock's back and forward buttons step through them.",
                 ["selfattention_1", "output_1"], "explain", do="explain-forward", steps=3, granularity="pass"),
            step("Press **Train** (F5) and watch the validation accuracy climb in the Training plots: the heads "
                 "learn to make a 2 attend to the 1s before it.",
                 ["selfattention_1"], "plots"),
        ],
    },
}


def _snapshot(path: Path) -> tuple[dict, dict, dict]:
    with zipfile.ZipFile(path) as z:
        doc = json.loads(z.read("network.json"))
        hist = json.loads(z.read("history.json")) if "history.json" in z.namelist() else {}
    doc.pop("app_version", None)
    net = load_network(path)
    return doc, net.get_weights() if net.compiles else {}, hist


def _same(a, b) -> bool:
    da, wa, ha = a
    db, wb, hb = b
    return (da == db and ha == hb and wa.keys() == wb.keys()
            and all(wa[k].dtype == wb[k].dtype and np.array_equal(wa[k], wb[k]) for k in wa))


def add_tour(name: str, check_only: bool = False) -> bool:
    path = SAMPLES / f"{name}.ann"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a sample's file must open cleanly
        net = load_network(path)
    tour = parse_tour(TOURS[name], f"{name}: tour", node_ids=net.graph.nodes, strict=True)
    if check_only:
        ok = net.tour == tour
        print(f"{path.name}: {'holds its tour' if ok else 'tour differs; run tools/add_tours.py'}")
        return ok
    before = _snapshot(path)
    net.tour = tour
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / path.name
        save_network(net, out)
        if not _same(before, _snapshot(out)) or load_network(out).tour != tour:
            print(f"{path.name}: the re-saved file differs beyond its tour; not written", file=sys.stderr)
            return False
        mode = os.stat(path).st_mode
        shutil.copyfile(out, path)
        os.chmod(path, mode)
    print(f"{path.name}: tour of {len(tour.steps)} steps written")
    return True


def main(argv: list[str]) -> int:
    check = "--check" in argv
    names = [a for a in argv if not a.startswith("--")] or list(TOURS)
    return 0 if all([add_tour(n, check) for n in names]) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
