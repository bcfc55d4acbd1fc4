"""Applying a training result keeps its optimizer state, resetting the weights
clears it, and undo brings the previous state back (bit for bit)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("PySide6")

import anndesigner as ad  # noqa: E402
from anndesigner.ui.document import Document  # noqa: E402
from helpers import XOR_X, XOR_Y, mlp  # noqa: E402


def trained(epochs=2, seed=0):
    net = ad.Network(mlp([2, 4, 1]), seed=seed)
    net.fit(XOR_X, XOR_Y, epochs=epochs, optimizer="adam", batch_size=2)
    return net


def same(a, b):
    if a is None or b is None:
        return a is b
    return a.keys() == b.keys() and all(
        np.array_equal(a[k], b[k]) if isinstance(a[k], np.ndarray) else a[k] == b[k] for k in a)


@pytest.fixture
def doc(qapp):
    return Document(trained())


def test_training_result_stores_the_state_and_undo_restores(doc):
    before = dict(doc.network.optimizer_state)
    other = trained(epochs=5)  # a run's result: its weights, history and state
    cmd = doc.editor.apply_training_result(other.get_weights(), other.history, 3,
                                           optimizer_state=other.optimizer_state)
    assert same(doc.network.optimizer_state, other.optimizer_state)
    assert doc.network.optimizer_state is not other.optimizer_state
    doc.undo_stack.undo()
    assert same(doc.network.optimizer_state, before)
    doc.undo_stack.redo()
    assert same(doc.network.optimizer_state, other.optimizer_state)
    assert cmd is not None


def test_a_result_without_state_leaves_none(doc):
    other = trained(epochs=3)
    doc.editor.apply_training_result(other.get_weights(), other.history, 1)
    assert doc.network.optimizer_state is None
    doc.undo_stack.undo()
    assert doc.network.optimizer_state is not None


def test_reset_weights_clears_the_state_and_undo_restores(doc):
    before = {k: np.array(v) if isinstance(v, np.ndarray) else v for k, v in doc.network.optimizer_state.items()}
    doc.editor.reset_weights()
    assert doc.network.optimizer_state is None
    doc.undo_stack.undo()
    assert same(doc.network.optimizer_state, before)
    # the restored state is used by the next run (it fits the restored weights)
    assert doc.network.trainer(XOR_X, XOR_Y).resumed_state
    doc.undo_stack.redo()
    assert doc.network.optimizer_state is None
