"""``anndesigner explain FILE --sample N``: the trace of one training step, printed."""

from pathlib import Path

import numpy as np

import anndesigner as ad
from anndesigner.cli import main
from anndesigner.data import load_source
from anndesigner.engine.tracing import explain

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def test_explain_prints_the_loss_of_xor_sample_1(capsys):
    assert main(["explain", str(SAMPLES / "xor.ann"), "--sample", "1"]) == 0
    out = capsys.readouterr().out
    net = ad.load(SAMPLES / "xor.ann")
    data = load_source(net.data_source, base_dir=SAMPLES)
    np.testing.assert_array_equal(data.X[1], [0, 1])
    trace = explain(net, data.X[1], data.Y[1])
    assert out.startswith("xor.ann, sample 1 of XOR (rows 0 to 3)\n")
    assert f"  L = {trace.loss:.6g}\n" in out
    assert "binary_crossentropy" in out and "sample x = [0, 1]" in out and "target t = [1]" in out
    for piece in ("dense_1 (Dense)", "tanh(z) =", "Backward", "dense_1/kernel", "Δw =", "Loss after the update"):
        assert piece in out, piece


def test_explain_max_values_and_other_data(capsys):
    assert main(["explain", str(SAMPLES / "digits-cnn.ann"), "--sample", "0", "--max-values", "2"]) == 0
    out = capsys.readouterr().out
    assert "conv2d_1 (Conv2D)" in out and "(8×8×16, 1024 values)" in out
    assert main(["explain", str(SAMPLES / "xor.ann"), "--sample", "3", "--data", "and"]) == 0
    assert "target t = [1]" in capsys.readouterr().out  # AND of (1, 1)


def test_explain_errors_are_one_clear_line(tmp_path, capsys):
    xor = str(SAMPLES / "xor.ann")
    assert main(["explain", xor, "--sample", "4"]) == 1
    assert capsys.readouterr().err == ("anndesigner: error: --sample 4: the data set XOR has 4 samples, "
                                       "numbered 0 to 3\n")
    assert main(["explain", xor, "--sample", "-1"]) == 1
    assert "--sample -1: the data set XOR has 4 samples" in capsys.readouterr().err
    assert main(["explain", xor, "--sample", "0", "--max-values", "0"]) == 1
    assert "--max-values must be 1 or more" in capsys.readouterr().err
    net = ad.load(SAMPLES / "xor.ann")
    net.data_source = None
    net.save(tmp_path / "nodata.ann")
    assert main(["explain", str(tmp_path / "nodata.ann"), "--sample", "0"]) == 1
    err = capsys.readouterr().err
    assert "nodata.ann names no data set; pass --data NAME" in err and "Traceback" not in err
    assert main(["explain", str(tmp_path / "missing.ann"), "--sample", "0"]) == 1
    assert capsys.readouterr().err.startswith("anndesigner: error:")
    net = ad.load(SAMPLES / "xor.ann")
    net.data_source = {"kind": "builtin", "name": "blobs", "params": {}, "standardize": False}
    net.save(tmp_path / "misfit.ann")
    assert main(["explain", str(tmp_path / "misfit.ann"), "--sample", "0"]) == 1
    assert "output_1" in capsys.readouterr().err  # the data's 3 outputs do not fit the 1 unit
