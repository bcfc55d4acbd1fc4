"""Every shipped sample opens, validates, states a target and learns."""

import numpy as np
import pytest

import anndesigner as ad
from anndesigner import targets
from anndesigner.data import load_source
from anndesigner.paths import sample_files

GALLERY = {
    "mp-neuron", "perceptron", "hebbian", "xor", "xor-neurons", "house-prices", "spirals",
    "digits-mlp", "digits-cnn", "autoencoder", "sine-lstm", "tiny-transformer",
}
SAMPLES = sample_files()


def test_the_gallery_is_complete():
    assert {p.stem for p in SAMPLES} == GALLERY


@pytest.fixture(params=SAMPLES, ids=lambda p: p.stem)
def sample(request):
    return ad.load(request.param)


def test_sample_validates_and_describes_itself(sample):
    meta = sample.graph.meta
    assert meta.get("title") and len(meta.get("description", "")) > 80
    target = targets.check(meta["target"])
    assert targets.describe(target)
    a = sample.graph.analyze()
    assert not a.errors
    assert sample.count_params() > 0
    data = load_source(sample.data_source)
    # the data fits the network as saved: no "match network to data" needed
    P = sample.predict(data.X[:8], standardized=True)
    assert P.shape == (min(8, len(data.X)),) + tuple(a.shapes[sample.graph.outputs()[0].id])
    assert np.isfinite(P).all()


def test_sample_learns_in_a_few_steps(sample):
    """A few batches with the saved settings lower the loss on the rows they saw
    (classic rules: the weights change; fixed weights: they do not)."""
    data = load_source(sample.data_source)
    rule = sample.training.rule
    bs = sample.training.batch_size
    n = min(len(data.X), bs * 8)
    X, Y = data.X[:n], data.Y[:n]
    before_w = sample.get_weights()
    before = sample.evaluate(X, Y, standardized=True)["loss"]
    epochs = 25 if n <= 16 else 3
    sample.fit(X, Y, epochs=epochs, validation_split=0.0, shuffle=False)
    after = sample.evaluate(X, Y, standardized=True)["loss"]
    changed = any(not np.array_equal(v, before_w[k]) for k, v in sample.get_weights().items())
    if rule == "fixed":
        assert not changed and after == before
    elif rule == "backprop":
        assert after < before * 0.98, f"loss {before:.4f} -> {after:.4f}"
    else:
        assert changed
