import shutil
from pathlib import Path

import numpy as np
import pytest

import anndesigner as ad
from anndesigner.cli import main

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def test_info_prints_a_table(capsys):
    assert main(["info", str(SAMPLES / "xor.ann")]) == 0
    out = capsys.readouterr().out
    assert "dense_1   Dense   (4)               12" in out
    assert "Total: 3 nodes, 2 edges, 17 parameters" in out


def test_train_writes_a_trained_file(tmp_path, capsys):
    out = tmp_path / "trained.ann"
    assert main(["train", str(SAMPLES / "xor.ann"), "--epochs", "300", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "epoch 300/300" in text and "ETA" in text and "accuracy 1.0000" in text
    net = ad.load(out)
    assert len(net.history) == 300 and net.history["accuracy"][-1] == 1.0
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
    np.testing.assert_array_equal(net.predict(X).ravel() > 0.5, [False, True, True, False])
    assert ad.load(SAMPLES / "xor.ann").history.data == {}  # the sample itself is untouched


def test_train_reports_the_files_target(tmp_path, capsys):
    out = tmp_path / "m.ann"
    assert main(["train", str(SAMPLES / "mp-neuron.ann"), "--out", str(out), "--quiet"]) == 0
    assert "target training accuracy ≥ 100.0 %: 100.0 % (reached)" in capsys.readouterr().out
    # a target the training cannot meet is reported as such, and training still succeeds
    net = ad.load(SAMPLES / "xor.ann")
    net.graph.set_meta(target={"metric": "accuracy", "min": 1.0})
    net.training = net.training.replace(epochs=1, learning_rate=1e-6)
    net.save(tmp_path / "x.ann")
    assert main(["train", str(tmp_path / "x.ann"), "--quiet"]) == 0
    assert "(NOT reached)" in capsys.readouterr().out
    assert main(["info", str(SAMPLES / "spirals.ann")]) == 0
    assert "Target: validation accuracy ≥ 95.0 %" in capsys.readouterr().out


def test_train_perceptron_sample(tmp_path, capsys):
    f = tmp_path / "p.ann"
    shutil.copy(SAMPLES / "perceptron.ann", f)
    assert main(["train", str(f), "--quiet"]) == 0
    assert ad.load(f).history["accuracy"][-1] == 1.0


def test_train_with_csv(tmp_path, capsys):
    csv = tmp_path / "d.csv"
    rows = ["a,b,label"] + [f"{a},{b},{'yes' if a != b else 'no'}" for a in (0, 1) for b in (0, 1)] * 3
    csv.write_text("\n".join(rows) + "\n")
    out = tmp_path / "o.ann"
    assert main(["train", str(SAMPLES / "xor.ann"), "--data", str(csv), "--epochs", "5", "--out", str(out)]) == 0
    assert ad.load(out).data_source["kind"] == "csv"


@pytest.mark.parametrize("args,message", [
    (["info", "nowhere.ann"], "no such file"),
    (["train", "nowhere.ann"], "no such file"),
    (["train", "{xor}", "--data", "mnist-of-doom"], "not a built-in data set"),
    (["train", "{xor}", "--data", "spirals", "--epochs", "0"], "'epochs' must be"),
    (["train", "{xor}", "--data", "blobs"], "3 target column"),
    (["train", "{xor}", "--learning-rate", "-1"], "'learning_rate' must be > 0"),
    (["info", "{bad}"], "not a zip archive"),
])
def test_user_errors_print_one_line(tmp_path, capsys, args, message):
    bad = tmp_path / "bad.ann"
    bad.write_text("nope")
    args = [a.replace("{xor}", str(SAMPLES / "xor.ann")).replace("{bad}", str(bad)) for a in args]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert err.startswith("anndesigner: error:") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_nan_during_training_writes_nothing(tmp_path, capsys):
    f = tmp_path / "x.ann"
    net = ad.load(SAMPLES / "xor.ann")
    net.training = net.training.replace(optimizer="sgd", learning_rate=1e12, epochs=50)
    net.graph.set_params("output_1", activation="linear", loss="mse")
    net.save(f)
    before = f.read_bytes()
    assert main(["train", str(f)]) == 1
    err = capsys.readouterr().err
    assert "NaN or infinite" in err and "nothing was written" in err
    assert f.read_bytes() == before
