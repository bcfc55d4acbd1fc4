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


def test_info_says_whether_the_files_data_fit(tmp_path, capsys):
    """info reports engine.datafit's check of the file's own data: each mismatch with its
    fix, the notes, a data set that cannot be loaded; nothing more when the data fit."""
    assert main(["info", str(SAMPLES / "xor.ann")]) == 0
    assert capsys.readouterr().out.rstrip().endswith("Data: builtin xor")
    net = ad.load(SAMPLES / "xor.ann")
    net.data_source = {"kind": "builtin", "name": "blobs", "params": {}, "standardize": False}
    net.save(tmp_path / "b.ann")
    assert main(["info", str(tmp_path / "b.ann")]) == 0
    assert capsys.readouterr().out.rstrip().endswith(
        "Data: builtin blobs\n  does not fit: Output 'output_1' has 1 unit but the data has 3 outputs (one per "
        "class); fix: 3 softmax units with categorical cross-entropy")
    net.data_source = {"kind": "csv", "path": "gone.csv", "inputs": ["a"], "targets": ["b"]}
    net.save(tmp_path / "c.ann")
    assert main(["info", str(tmp_path / "c.ann")]) == 0
    out = capsys.readouterr().out
    assert "  cannot be loaded: file not found:" in out and "gone.csv" in out
    assert main(["info", str(SAMPLES / "xor-neurons.ann")]) == 0
    assert "  The data's 2 input columns are dealt to the 2 Input nodes" in capsys.readouterr().out


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


# ------------------------------------------------------------ hostile data paths, CSV choices
import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def csv_network(tmp_path, csv_path, inputs=("a", "b"), targets=("y",)):
    """xor.ann pointing at ``csv_path`` (kept as given: it may be a FIFO or a device)."""
    net = ad.load(SAMPLES / "xor.ann")
    net.data_source = {"kind": "csv", "path": str(csv_path), "inputs": list(inputs), "targets": list(targets),
                       "task": "classification", "standardize": False, "header": True, "delimiter": ","}
    f = tmp_path / "net.ann"
    net.save(f)
    return f


def run_cli(*args, timeout=60):
    return subprocess.run([sys.executable, "-m", "anndesigner", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, cwd=REPO, env=dict(os.environ, PYTHONWARNINGS="default"))


@pytest.mark.parametrize("special", ["fifo", "/dev/zero", "sparse"])
def test_train_with_a_special_data_path_exits_with_one_line(tmp_path, special):
    if special == "fifo":
        if not hasattr(os, "mkfifo"):
            pytest.skip("no FIFOs here")
        path = tmp_path / "d.csv"
        os.mkfifo(path)
    elif special == "sparse":
        path = tmp_path / "d.csv"
        with open(path, "wb") as f:
            f.truncate(10 * 2**30)
    else:
        path = Path(special)
        if not path.exists():
            pytest.skip(f"no {special}")
    f = csv_network(tmp_path, path)
    before = f.read_bytes()
    proc = run_cli("train", f, "--epochs", "1")  # a hang fails with TimeoutExpired
    assert proc.returncode == 1
    assert proc.stderr.startswith("anndesigner: error:") and str(path) in proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr and "Warning" not in proc.stderr
    assert f.read_bytes() == before


def test_train_with_huge_values_prints_one_line_and_no_warning(tmp_path):
    csv = tmp_path / "h.csv"
    csv.write_text("a,b,y\n1e308,1,0\n-1e308,0,1\n1.5e308,1,1\n0,0,0\n")
    out = tmp_path / "o.ann"
    proc = run_cli("train", SAMPLES / "xor.ann", "--data", csv, "--epochs", "2", "--out", out)
    assert proc.returncode == 0, proc.stderr  # standardized in float64: it loads
    assert "Warning" not in proc.stderr and proc.stderr == ""
    proc = run_cli("train", SAMPLES / "xor.ann", "--data", csv, "--no-standardize", "--out", out)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1 and "Warning" not in proc.stderr
    assert "line 2, column 'a'" in proc.stderr


def test_train_csv_choices_from_the_command_line(tmp_path, capsys):
    csv = tmp_path / "iris.csv"
    rows = "".join(f"{i % 5},{(i * 7) % 3},{i % 2},{i},{i % 2}\n" for i in range(8))
    csv.write_text("Measured in May\n8,4,no,yes\n" + rows)
    out = tmp_path / "o.ann"
    args = ["train", str(SAMPLES / "xor.ann"), "--data", str(csv), "--skip-rows", "1", "--inputs", "1,3",
            "--target", "class", "--no-standardize", "--epochs", "2", "--out", str(out)]
    assert main(args) == 0, capsys.readouterr().err
    src = ad.load(out).data_source
    assert src["skip_rows"] == 1 and src["header"] == "sklearn" and src["standardize"] is False
    assert src["inputs"] == ["feature1", "feature3"] and src["targets"] == ["class"]
    assert src["classes"] == ["no", "yes"]
    # --no-header: the counts row is data now; column numbers work without names
    args = ["train", str(SAMPLES / "xor.ann"), "--data", str(csv), "--skip-rows", "2", "--no-header",
            "--inputs", "1,2", "--target", "5", "--epochs", "1", "--out", str(out)]
    assert main(args) == 0, capsys.readouterr().err
    src = ad.load(out).data_source
    assert (src["header"], src["inputs"], src["targets"], src["classes"]) == (False, ["col1", "col2"], ["col5"],
                                                                              ["0", "1"])
    # the saved CSV is reloaded with a new choice when --data is left out
    assert main(["train", str(out), "--no-standardize", "--epochs", "1", "--quiet"]) == 0


@pytest.mark.parametrize("extra,message", [
    (["--target", "nope"], "missing target column 'nope'"),
    (["--inputs", "0"], "column numbers start at 1"),
    (["--no-header", "--header", "names"], "contradict"),
    (["--skip-rows", "-2"], "--skip-rows must be 0 or more"),
])
def test_bad_csv_choices_print_one_line(tmp_path, capsys, extra, message):
    csv = tmp_path / "d.csv"
    csv.write_text("a,b,y\n" + "".join(f"{i},{i % 2},{i % 2}\n" for i in range(6)))
    assert main(["train", str(SAMPLES / "xor.ann"), "--data", str(csv), *extra]) == 1
    err = capsys.readouterr().err
    assert err.startswith("anndesigner: error:") and message in err and err.count("\n") == 1


def test_csv_choices_need_csv_data(capsys):
    assert main(["train", str(SAMPLES / "xor.ann"), "--target", "y"]) == 1
    assert "are for CSV data" in capsys.readouterr().err
    assert main(["train", str(SAMPLES / "xor.ann"), "--data", "moons", "--no-header"]) == 1
    assert "are for CSV data" in capsys.readouterr().err


def test_skip_rows_zero_on_the_files_own_csv_is_saved(tmp_path, capsys):
    """--skip-rows 0 is a choice like any other: the file written names the data it was
    trained on (0 read as 'not given' kept the old source's skip_rows and columns)."""
    csv = tmp_path / "d.csv"
    csv.write_text("x,y,t\n0,1,0\n" + "".join(f"{i % 3},{i % 2},{i % 2}\n" for i in range(8)))
    first = tmp_path / "first.ann"
    assert main(["train", str(SAMPLES / "xor.ann"), "--data", str(csv), "--skip-rows", "1", "--header", "names",
                 "--epochs", "1", "--quiet", "--out", str(first)]) == 0, capsys.readouterr().err
    src = ad.load(first).data_source
    assert (src["skip_rows"], src["inputs"], src["targets"]) == (1, ["0", "1"], ["0_2"])
    second = tmp_path / "second.ann"
    assert main(["train", str(first), "--skip-rows", "0", "--epochs", "1", "--quiet", "--out", str(second)]) == 0
    src = ad.load(second).data_source
    assert "skip_rows" not in src and (src["inputs"], src["targets"]) == (["x", "y"], ["t"])


def test_the_files_own_csv_keeps_its_scaling_with_other_choices(tmp_path, capsys):
    """A CSV option on the file's own CSV changes that choice only: inputs saved unscaled stay
    unscaled (they were standardized again); --standardize turns scaling on."""
    csv = tmp_path / "d.csv"
    csv.write_text("a,b,y\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(10)))
    first, second = tmp_path / "first.ann", tmp_path / "second.ann"
    assert main(["train", str(SAMPLES / "xor.ann"), "--data", str(csv), "--no-standardize", "--epochs", "1",
                 "--quiet", "--out", str(first)]) == 0, capsys.readouterr().err
    assert main(["train", str(first), "--target", "y", "--epochs", "1", "--quiet", "--out", str(second)]) == 0
    src = ad.load(second).data_source
    assert src["standardize"] is False and src["scaler"] is None and src["inputs"] == ["a", "b"]
    assert main(["train", str(first), "--standardize", "--epochs", "1", "--quiet", "--out", str(second)]) == 0
    src = ad.load(second).data_source
    assert src["standardize"] is True and src["scaler"]["mean"] == pytest.approx([4.5, 0.9])
    capsys.readouterr()
    assert main(["train", str(first), "--standardize", "--no-standardize"]) == 1
    assert "contradict" in capsys.readouterr().err
