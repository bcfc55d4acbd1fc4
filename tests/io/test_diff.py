"""anndesigner.io.diff: what differs between two networks (issue 14, "Diff")."""

import json
from pathlib import Path

import numpy as np
import pytest

import anndesigner as ad
from anndesigner.io.diff import EdgeRef, NodeRef, ParamChange, SettingChange, WeightRef, diff_networks

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
SAME = "The networks are the same: structure, settings and weights."

#: the change made to output_1's kernel in the edited xor (shape (4, 1))
DELTA = np.array([[0.1], [-0.3], [0.0], [0.05]])


@pytest.mark.parametrize("sample", ["xor", "xor-neurons", "digits-cnn", "tiny-transformer", "sine-lstm"])
def test_a_sample_against_itself_is_the_same(sample):
    a, b = ad.Network.load(SAMPLES / f"{sample}.ann"), ad.Network.load(SAMPLES / f"{sample}.ann")
    d = diff_networks(a, b)
    assert d.same and d.structure_same
    assert d.to_text() == SAME
    assert len(d.weights) == len(a.get_weights()) > 0
    assert all(w.max_abs == 0 and w.mean_abs == 0 and w.relative == 0 for w in d.weights)
    assert d.to_dict()["same"] is True


@pytest.fixture(scope="module")
def edited(tmp_path_factory):
    """xor.ann, and a copy with dense_1's units 4 -> 6, a Dense dense_2 (4 units) wired
    between dense_1 and output_1, output_1's kernel edited by DELTA and the learning
    rate 0.05 -> 0.02, saved and opened again."""
    a = ad.Network.load(SAMPLES / "xor.ann")
    b = ad.Network.load(SAMPLES / "xor.ann")
    g = b.graph
    g.set_params("dense_1", units=6)
    extra = g.add_node("Dense", units=4, activation="relu")
    old = next(e for e in g.edges.values() if e.src == "dense_1" and e.dst == "output_1")
    g.disconnect(old.id)
    g.connect("dense_1", extra)
    g.connect(extra, "output_1")
    kernel = b.get_weights()["output_1/kernel"]
    b.set_weights({"output_1/kernel": kernel + DELTA.astype(kernel.dtype)})
    b.set_training(b.training.replace(learning_rate=0.02))
    path = tmp_path_factory.mktemp("diff") / "edited.ann"
    b.save(path)
    return a, ad.Network.load(path), extra.id, path


def test_each_edit_is_reported(edited):
    a, b, extra, _ = edited
    d = diff_networks(a, b)
    assert not d.same and not d.structure_same
    assert d.nodes_added == (NodeRef(extra, "Dense", ""),)
    assert d.nodes_removed == ()
    assert [(c.id, c.old_type, c.new_type, c.params) for c in d.nodes_changed] == \
        [("dense_1", "Dense", "Dense", (ParamChange("units", 4, 6),))]
    assert d.labels_changed == ()
    assert set(d.edges_added) == {EdgeRef("dense_1", "out", extra, "in"), EdgeRef(extra, "out", "output_1", "in")}
    assert d.edges_removed == (EdgeRef("dense_1", "out", "output_1", "in"),)
    assert d.settings_changed == (SettingChange("learning_rate", 0.05, 0.02),)
    assert d.data_changed is None and d.meta_changed == ()
    assert set(d.weights_added) == {WeightRef(f"{extra}/kernel", (6, 4)), WeightRef(f"{extra}/bias", (4,))}
    assert d.weights_removed == ()


def test_weight_figures_are_those_of_the_arrays(edited):
    a, b, _, _ = edited
    d = diff_networks(a, b)
    wa, wb = a.get_weights(), b.get_weights()
    k = d.weight("output_1/kernel")
    delta = wb["output_1/kernel"].astype(np.float64) - wa["output_1/kernel"].astype(np.float64)
    assert k.old_shape == k.new_shape == (4, 1) and not k.shape_changed and k.changed
    assert k.max_abs == pytest.approx(np.abs(delta).max(), rel=1e-12)
    assert k.mean_abs == pytest.approx(np.abs(delta).mean(), rel=1e-12)
    assert k.relative == pytest.approx(np.sqrt((delta ** 2).sum() / (wa["output_1/kernel"].astype(np.float64) ** 2).sum()),
                                       rel=1e-12)
    assert k.max_abs == pytest.approx(0.3, abs=1e-6) and k.mean_abs == pytest.approx(0.1125, abs=1e-6)
    # shapes that differ are said, without figures
    k1 = d.weight("dense_1/kernel")
    assert (k1.old_shape, k1.new_shape, k1.shape_changed, k1.max_abs) == ((2, 4), (2, 6), True, None)
    assert d.weight("dense_1/bias").new_shape == (6,)
    bias = d.weight("output_1/bias")  # kept by name and shape through the edits
    assert not bias.changed and bias.max_abs == 0
    assert [w.name for w in d.weights_changed] == ["dense_1/kernel", "dense_1/bias", "output_1/kernel"]


def test_text_report(edited):
    a, b, extra, _ = edited
    d = diff_networks(a, b, a_name="xor.ann", b_name="edited.ann")
    text = d.to_text()
    lines = text.splitlines()
    assert lines[0] == "Differences from xor.ann to edited.ann (nodes matched by id)"
    assert "Nodes added (only in edited.ann):" in lines
    assert f"  {extra}  Dense" in lines
    assert "  dense_1  units  4 → 6" in lines
    assert f"  dense_1.out → {extra}.in" in lines and "  dense_1.out → output_1.in" in lines
    assert "  learning_rate  0.05 → 0.02" in lines
    assert "Nodes removed" not in text and "Labels" not in text and "Data set" not in text
    k = d.weight("output_1/kernel")
    row = next(line for line in lines if line.startswith("  output_1/kernel"))
    assert row.split() == ["output_1/kernel", "(4,", "1)", f"{k.max_abs:.4g}", f"{k.mean_abs:.4g}", f"{k.relative:.4g}"]
    row = next(line for line in lines if line.startswith("  dense_1/kernel"))
    assert "(2, 4) → (2, 6)" in row and "shape differs" in row
    # columns line up: each figure starts where its heading does
    head = next(line for line in lines if line.startswith("  tensor"))
    assert head.index("max |Δ|") == next(line for line in lines if line.startswith("  output_1/kernel")).index(
        f"{k.max_abs:.4g}")
    assert "Weights changed (1 other tensor in both equal):" in lines
    assert f"  {extra}/kernel  (6, 4)" in lines


def test_to_dict_is_json(edited):
    a, b, extra, _ = edited
    d = diff_networks(a, b)
    back = json.loads(json.dumps(d.to_dict()))
    assert back["same"] is False
    assert back["nodes_added"] == [{"id": extra, "type": "Dense", "label": ""}]
    assert back["nodes_changed"][0]["params"] == [{"name": "units", "old": 4, "new": 6}]
    assert back["settings_changed"] == [{"name": "learning_rate", "old": 0.05, "new": 0.02}]
    w = {x["name"]: x for x in back["weights"]}
    assert w["output_1/kernel"]["max_abs"] == d.weight("output_1/kernel").max_abs
    assert w["dense_1/kernel"]["old_shape"] == [2, 4] and w["dense_1/kernel"]["new_shape"] == [2, 6]
    assert w["dense_1/kernel"]["max_abs"] is None


def test_two_different_samples_give_a_structural_report():
    a, b = ad.Network.load(SAMPLES / "xor.ann"), ad.Network.load(SAMPLES / "xor-neurons.ann")
    d = diff_networks(a, b)
    assert {n.id for n in d.nodes_removed} == {"dense_1"}
    assert {n.id for n in d.nodes_added} == {"input_2", *(f"neuron_{i}" for i in range(1, 6))}
    assert {c.id for c in d.nodes_changed} == {"input_1", "output_1"}
    assert ParamChange("shape", [2], [1]) in next(c for c in d.nodes_changed if c.id == "input_1").params
    assert len(d.edges_added) == len(b.graph.edges) and len(d.edges_removed) == len(a.graph.edges)
    assert {w.name for w in d.weights_removed} == set(a.get_weights()) - set(b.get_weights())
    assert {w.name for w in d.weights_added} == set(b.get_weights()) - set(a.get_weights())
    assert [m.name for m in d.meta_changed] == ["title", "description"]
    text = d.to_text()
    assert "  input_1  'x₁, x₂' → 'x₁'" in text
    assert "  input_1.out → neuron_1.in" in text
    json.dumps(d.to_dict())
    # and the other way round: added and removed swap
    r = diff_networks(b, a)
    assert {n.id for n in r.nodes_added} == {n.id for n in d.nodes_removed}
    assert set(r.edges_removed) == set(d.edges_added)


def test_positions_do_not_count_labels_data_and_seed_do(tmp_path):
    a = ad.Network.load(SAMPLES / "xor.ann")
    b = ad.Network.load(SAMPLES / "xor.ann")
    b.graph.move_node("dense_1", (999.0, -5.0))
    assert diff_networks(a, b).same
    b.graph.set_label("dense_1", "middle")
    b.set_data_source({"kind": "builtin", "name": "spirals", "params": {}})
    b.seed = 7
    d = diff_networks(a, b)
    assert not d.same and d.structure_same
    assert [(c.id, c.old, c.new) for c in d.labels_changed] == [("dense_1", "hidden", "middle")]
    assert d.data_changed.old == a.data_source and d.data_changed.new == b.data_source
    assert SettingChange("seed", 0, 7) in d.settings_changed
    text = d.to_text()
    assert "  dense_1  'hidden' → 'middle'" in text
    assert "Data set changed:" in text and "builtin spirals" in text


def test_a_tensor_that_was_zero():
    """‖Δ‖/‖A‖ of a tensor that was all zeros is infinite: said as inf, null in JSON."""
    a = ad.Network.load(SAMPLES / "xor.ann")
    b = ad.Network.load(SAMPLES / "xor.ann")
    a.set_weights({"output_1/bias": np.zeros(1, np.float32)})
    b.set_weights({"output_1/bias": np.full(1, -0.25, np.float32)})
    d = diff_networks(a, b)
    w = d.weight("output_1/bias")
    assert (w.max_abs, w.mean_abs, w.relative) == (0.25, 0.25, float("inf"))
    assert next(x for x in d.to_dict()["weights"] if x["name"] == "output_1/bias")["relative"] is None
    assert next(line for line in d.to_text().splitlines() if "output_1/bias" in line).split()[-1] == "inf"
