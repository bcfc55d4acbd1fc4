"""Schema 3: files of schema 2 (and 1) compute what they computed. Their "gelu"
was the tanh approximation (now "gelu_tanh"), and their GRU had the update gate
the other way round, h = (1 − z)⊙hₜ₋₁ + z⊙h̃ (now Keras's z⊙hₜ₋₁ + (1 − z)⊙h̃):
loading renames the one and negates the z columns of the other's weights and
of its optimizer state."""

import io
import json
import math
import os
import shutil
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

import anndesigner as ad
from anndesigner.engine import optimizers
from anndesigner.io import CURRENT_SCHEMA, migrate
from anndesigner.io.annfile import OptimizerStateWarning, _npz_bytes
from anndesigner.io.migrations import SIGNED_SLOTS, SQUARED_SLOTS, migrate_optimizer_state, migrate_weights

REPO = Path(__file__).resolve().parents[2]
#: the last commit with the old GRU and GELU (schema 2), for the test against the old code itself
OLD_COMMIT = "63325e0"
T, F, U = 5, 3, 4


# ------------------------------------------------------- the old arithmetic
def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def old_gru(x, W, Uk, b, u):
    """Schema 2's GRU: h = (1 − z)⊙hₜ₋₁ + z⊙h̃ (last state)."""
    h = np.zeros((x.shape[0], u))
    for t in range(x.shape[1]):
        xt = x[:, t]
        z = _sigmoid(xt @ W[:, :u] + h @ Uk[:, :u] + b[:u])
        r = _sigmoid(xt @ W[:, u:2 * u] + h @ Uk[:, u:2 * u] + b[u:2 * u])
        hh = np.tanh(xt @ W[:, 2 * u:] + (r * h) @ Uk[:, 2 * u:] + b[2 * u:])
        h = (1 - z) * h + z * hh
    return h


def old_gelu(x):
    """Schema 2's "gelu": the tanh approximation."""
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


def old_prediction(x, w):
    h = old_gru(x, w["gru_1/kernel"], w["gru_1/recurrent_kernel"], w["gru_1/bias"], U)
    d = old_gelu(h @ w["dense_1/kernel"] + w["dense_1/bias"])
    return d @ w["output_1/kernel"] + w["output_1/bias"]


# ---------------------------------------------------------------- networks
GRAPH_CODE = '''
def build(ad, activation):
    g = ad.Graph()
    x = g.add_node("Input", shape=[5, 3])
    r = g.add_node("GRU", units=4)
    d = g.add_node("Dense", units=3, activation=activation)
    y = g.add_node("Output", units=2, activation="linear", loss="mse")
    g.connect(x, r)
    g.connect(r, d)
    g.connect(d, y)
    return g
'''
_ns: dict = {}
exec(compile(GRAPH_CODE, "graph", "exec"), _ns)  # the same source builds the network for the old code below


def network(activation="gelu_tanh", dtype="float64"):
    net = ad.Network(_ns["build"](ad, activation), seed=1, dtype=dtype)
    assert set(net.graph.nodes) == {"input_1", "gru_1", "dense_1", "output_1"}
    return net


def data(n=12, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, T, F)), rng.normal(size=(n, 2))


def random_weights(net, seed=2):
    rng = np.random.default_rng(seed)
    return {k: rng.normal(scale=0.7, size=v.shape) for k, v in net.get_weights().items()}


def negate_z(w):
    """The weights with the z columns of the GRU negated (the schema 2 -> 3 map, its own inverse)."""
    out = dict(w)
    for name in ("gru_1/kernel", "gru_1/recurrent_kernel", "gru_1/bias"):
        if name in out:
            a = np.array(w[name], copy=True)
            a[..., :U] *= -1
            out[name] = a
    return out


def read_members(path):
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def write_members(path, members):
    with zipfile.ZipFile(path, "w") as z:
        for n, data_ in members.items():
            z.writestr(n, data_)
    return path


def as_schema_2(src, dst, weights=None, optimizer=None):
    """The file an old version wrote: schema 2, "gelu" for the tanh form, and
    (when given) the old weights and optimizer state."""
    m = read_members(src)
    doc = json.loads(m["network.json"])
    assert doc["schema_version"] == CURRENT_SCHEMA == 3
    doc["schema_version"] = 2
    for n in doc["nodes"]:
        for k, v in (n.get("params") or {}).items():
            if v == "gelu_tanh":
                n["params"][k] = "gelu"
    m["network.json"] = json.dumps(doc).encode()
    if weights is not None:
        m["weights.npz"] = _npz_bytes(weights)
    if optimizer is not None:
        m["optimizer.npz"] = _npz_bytes({k: np.asarray(v) for k, v in optimizer.items()})
    return write_members(dst, m)


# ------------------------------------------------------------------- tests
@pytest.mark.parametrize("dtype,tol", [("float64", 1e-12), ("float32", 2e-6)])
def test_a_schema_2_file_predicts_what_the_old_engine_predicted(tmp_path, dtype, tol):
    net = network(dtype=dtype)
    w_old = random_weights(net)
    net.save(tmp_path / "now.ann")
    old = as_schema_2(tmp_path / "now.ann", tmp_path / "old.ann",
                      weights={k: v.astype(dtype) for k, v in w_old.items()})
    x, _ = data()
    want = old_prediction(x, {k: v.astype(dtype).astype(np.float64) for k, v in w_old.items()})
    loaded = ad.load(old)
    assert loaded.graph.nodes["dense_1"].params["activation"] == "gelu_tanh"
    got = loaded.predict(x.astype(dtype))
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
    # the same weights read as schema 3 (no migration) compute something else
    as_new = network(dtype=dtype)
    as_new.set_weights(w_old)
    assert np.abs(as_new.predict(x.astype(dtype)) - want).max() > 0.01
    # only the GRU's z columns changed; saved again it is a schema-3 file that loads as it is
    lw = loaded.get_weights()
    for k, v in negate_z(w_old).items():
        np.testing.assert_array_equal(lw[k], v.astype(dtype))
    loaded.save(tmp_path / "again.ann")
    assert json.loads(read_members(tmp_path / "again.ann")["network.json"])["schema_version"] == 3
    np.testing.assert_array_equal(ad.load(tmp_path / "again.ann").predict(x.astype(dtype)), got)


def test_a_schema_3_gelu_is_exact_and_stays_so(tmp_path):
    net = network("gelu")
    net.save(tmp_path / "a.ann")
    assert ad.load(tmp_path / "a.ann").graph.nodes["dense_1"].params["activation"] == "gelu"


def test_every_activation_parameter_is_renamed_and_nothing_else():
    doc = {"format": "anndesigner-network", "schema_version": 2, "nodes": [
        {"id": "a", "type": "Dense", "params": {"activation": "gelu", "units": 3}, "label": "gelu"},
        {"id": "b", "type": "Neuron", "params": {"activation": "gelu"}},
        {"id": "c", "type": "Conv2D", "params": {"activation": "relu"}},
        {"id": "d", "type": "Plugin", "params": {"recurrent_activation": "gelu", "mode": "gelu"}},
        {"id": "e", "type": "Output", "params": {"activation": "gelu", "loss": "mse"}},
        {"id": "f", "type": "Input"},
    ], "edges": [], "meta": {"title": "gelu"}}
    out = migrate(doc)
    assert out["schema_version"] == 3
    p = {n["id"]: n.get("params") for n in out["nodes"]}
    assert p == {"a": {"activation": "gelu_tanh", "units": 3}, "b": {"activation": "gelu_tanh"},
                 "c": {"activation": "relu"}, "d": {"recurrent_activation": "gelu_tanh", "mode": "gelu"},
                 "e": {"activation": "gelu_tanh", "loss": "mse"}, "f": None}
    assert out["nodes"][0]["label"] == "gelu" and out["meta"] == {"title": "gelu"}
    assert doc["nodes"][0]["params"]["activation"] == "gelu"  # the caller's dict is not changed
    # a schema-1 document passes through both steps
    v1 = {"format": "anndesigner-network", "schema_version": 1, "layout": {"a": [1, 2]},
          "nodes": [{"id": "a", "type_id": "Activation", "params": {"activation": "gelu"}}], "edges": []}
    n = migrate(v1)["nodes"][0]
    assert n["type"] == "Activation" and n["position"] == [1, 2] and n["params"] == {"activation": "gelu_tanh"}


def test_the_weight_step_touches_only_the_gru_gate_arrays_and_copies():
    doc = migrate({"format": "anndesigner-network", "schema_version": 2, "edges": [], "nodes": [
        {"id": "g", "type": "GRU", "params": {}}, {"id": "l", "type": "LSTM", "params": {}}]})
    w = {"g/kernel": np.arange(6.0).reshape(1, 6), "g/recurrent_kernel": np.ones((2, 6)), "g/bias": np.ones(6),
         "g/odd": np.ones(6), "l/kernel": np.ones((1, 8)), "g/mid_edit": np.ones(4)}
    before = {k: v.copy() for k, v in w.items()}
    out = migrate_weights(w, doc, 2)
    np.testing.assert_array_equal(out["g/kernel"], [[-0.0, -1, 2, 3, 4, 5]])
    np.testing.assert_array_equal(out["g/recurrent_kernel"], np.r_[[-1, -1, 1, 1, 1, 1]] * np.ones((2, 1)))
    np.testing.assert_array_equal(out["g/bias"], [-1, -1, 1, 1, 1, 1])
    for k in ("g/odd", "l/kernel", "g/mid_edit"):
        np.testing.assert_array_equal(out[k], before[k])
    for k in w:
        np.testing.assert_array_equal(w[k], before[k])  # the given arrays are not changed
    assert migrate_weights(w, doc, 3) is w  # a current file: nothing to do


def test_every_optimizer_slot_is_known_to_the_migration():
    slots = {s for cls in vars(optimizers).values() if isinstance(cls, type) and issubclass(cls, optimizers.Optimizer)
             for s in cls.SLOTS}
    assert slots and slots <= SIGNED_SLOTS | SQUARED_SLOTS and not SIGNED_SLOTS & SQUARED_SLOTS


@pytest.mark.parametrize("optimizer,settings", [("adam", {}), ("sgd", {"optimizer_params": {"momentum": 0.9}}),
                                                ("rmsprop", {"optimizer_params": {"momentum": 0.5}}),
                                                ("adagrad", {})])
def test_training_continues_exactly_from_a_migrated_optimizer_state(tmp_path, optimizer, settings):
    """A new GRU trained from W equals an old one trained from W with the z
    columns negated: its gradients there are negated, so momentum-like slots
    negate and squared ones stay. The migrated file continues as the new one does."""
    x, y = data()
    fit = dict(epochs=2, batch_size=4, optimizer=optimizer, learning_rate=0.01, shuffle=False, **settings)
    net = network()
    net.fit(x, y, **fit)
    state, w_new = net.optimizer_state, net.get_weights()
    signed = [k for k in state if k.startswith("state.") and k.split(".")[1] in SIGNED_SLOTS and "gru_1/" in k]
    assert bool(signed) == (optimizer != "adagrad")
    old_state = {k: (next(iter(negate_z({k.split(".", 2)[2]: v}).values())) if k in signed else v)
                 for k, v in state.items()}
    net.save(tmp_path / "now.ann")
    old = as_schema_2(tmp_path / "now.ann", tmp_path / "old.ann", weights=negate_z(w_new), optimizer=old_state)
    with warnings.catch_warnings():
        warnings.simplefilter("error", OptimizerStateWarning)
        loaded = ad.load(old)
    for k, v in state.items():
        np.testing.assert_array_equal(loaded.optimizer_state[k], v)
    net.fit(x, y, **fit)
    loaded.fit(x, y, **fit)
    assert loaded.history.to_dict() == net.history.to_dict()
    for k, v in net.get_weights().items():
        np.testing.assert_array_equal(loaded.get_weights()[k], v)


def test_an_optimizer_state_that_cannot_be_mapped_is_dropped_with_a_warning(tmp_path):
    x, y = data()
    net = network()
    net.fit(x, y, epochs=1, batch_size=6, optimizer="adam", learning_rate=0.01)
    net.save(tmp_path / "now.ann")
    state = net.optimizer_state
    by_index = {k: v for k, v in state.items() if not k.startswith("state.")}
    by_index["state.grad_sum.0"] = state["state.grad_sum.gru_1/kernel"]
    old = as_schema_2(tmp_path / "now.ann", tmp_path / "old.ann", optimizer=by_index)
    with pytest.warns(OptimizerStateWarning, match="named by position.*GRU update-gate"):
        loaded = ad.load(old)
    assert loaded.optimizer_state is None
    with pytest.raises(ValueError, match="slot 'mystery' of GRU weight 'gru_1/bias'"):
        migrate_optimizer_state({"iterations": 1, "state.mystery.gru_1/bias": np.ones(12)},
                                {"nodes": [{"id": "gru_1", "type": "GRU"}]}, 2)
    # without a GRU any state carries over as it is
    st = {"iterations": 1, "state.mystery.d/bias": np.ones(3)}
    assert migrate_optimizer_state(st, {"nodes": [{"id": "d", "type": "Dense"}]}, 2) is st


OLD_SCRIPT = GRAPH_CODE + '''
import sys
import numpy as np
import anndesigner as ad
from anndesigner.io import CURRENT_SCHEMA
assert CURRENT_SCHEMA == 2, CURRENT_SCHEMA
out = sys.argv[1]
d = np.load(out + "/data.npz")
net = ad.Network(build(ad, "gelu"), seed=1, dtype="float64")
net.set_weights({k[2:]: d[k] for k in d.files if k.startswith("w:")})
fit = dict(batch_size=4, optimizer="adam", learning_rate=0.01, shuffle=False)
net.fit(d["x"], d["y"], epochs=2, **fit)
net.save(out + "/old.ann")
pred = net.predict(d["x"])
net.fit(d["x"], d["y"], epochs=1, **fit)
np.savez(out + "/old_out.npz", pred=pred, **{"w:" + k: v for k, v in net.get_weights().items()})
'''


def _old_tree(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git is not installed: the old code cannot be checked out")
    if subprocess.run(["git", "-C", str(REPO), "cat-file", "-e", OLD_COMMIT + "^{commit}"],
                      capture_output=True).returncode:
        pytest.skip(f"commit {OLD_COMMIT} (schema 2) is not in this checkout's history")
    tree = tmp_path / "old"
    tree.mkdir()
    archive = subprocess.run(["git", "-C", str(REPO), "archive", OLD_COMMIT, "anndesigner"],
                             capture_output=True, check=True).stdout
    import tarfile

    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(tree, filter="data")
    return tree


def test_a_file_written_by_the_old_code_predicts_and_trains_on_as_it_did(tmp_path):
    """The previous version (git archive of OLD_COMMIT) writes a trained schema-2
    file with a GRU, a "gelu" and Adam's state; this version opens it, predicts
    what the old one predicted and continues training to the old weights (the
    GRU's z columns negated)."""
    tree = _old_tree(tmp_path)
    x, y = data()
    w0 = random_weights(network())
    np.savez(tmp_path / "data.npz", x=x, y=y, **{"w:" + k: v for k, v in w0.items()})
    env = dict(os.environ, PYTHONPATH=str(tree), ANNDESIGNER_KERNELS="numpy")
    run = subprocess.run([sys.executable, "-c", OLD_SCRIPT, str(tmp_path)], env=env, cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    old = np.load(tmp_path / "old_out.npz")
    with warnings.catch_warnings():
        warnings.simplefilter("error", OptimizerStateWarning)
        net = ad.load(tmp_path / "old.ann")
    assert net.graph.nodes["dense_1"].params["activation"] == "gelu_tanh"
    np.testing.assert_allclose(net.predict(x), old["pred"], rtol=1e-12, atol=1e-13)
    net.fit(x, y, epochs=1, batch_size=4, optimizer="adam", learning_rate=0.01, shuffle=False)
    want = negate_z({k[2:]: old[k] for k in old.files if k.startswith("w:")})
    for k, v in net.get_weights().items():
        np.testing.assert_allclose(v, want[k], rtol=1e-9, atol=1e-11, err_msg=k)
