"""`anndesigner train` with a learning rate that makes training diverge, run as a user runs it
(a subprocess): every sample exits 1 with one line naming the node and the batch, and writes
nothing; the sample whose weights are fixed trains as usual."""

import subprocess
import sys
from pathlib import Path

import numpy as np

import anndesigner as ad
from anndesigner.cli import main
from anndesigner.paths import sample_files

ARGS = ["--learning-rate", "1e300", "--optimizer", "sgd", "--epochs", "1", "--batch-size", "4"]


def test_every_sample_diverging_exits_1_and_writes_nothing(tmp_path):
    samples = sample_files()
    assert len(samples) == 12
    procs = {}
    for path in samples:  # all at once: each run is one import and a batch or so
        out = tmp_path / path.name
        procs[path] = (out, subprocess.Popen([sys.executable, "-m", "anndesigner", "train", str(path), *ARGS,
                                              "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                             text=True, cwd=tmp_path))
    for path, (out, p) in procs.items():
        stdout, stderr = p.communicate(timeout=120)
        net = ad.load(path)
        if net.training.rule == "fixed":  # a McCulloch-Pitts neuron: nothing changes, nothing diverges
            assert p.returncode == 0, stderr
            assert stderr == "" and f"wrote {out}" in stdout
            again = ad.load(out)
            for k, v in net.get_weights().items():
                np.testing.assert_array_equal(again.get_weights()[k], v)
            continue
        assert p.returncode == 1, (path.stem, stdout, stderr)
        lines = stderr.splitlines()
        assert len(lines) == 1, (path.stem, stderr)  # one line, no traceback, no NumPy warning
        line = lines[0]
        assert line.startswith("anndesigner: error: training stopped at epoch 1, batch 1: the weight '"), line
        assert "became NaN or infinite" in line and line.endswith("nothing was written")
        node = line.split("the weight '")[1].split("/")[0]
        assert net.describe_node(node) in line
        assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mp-neuron.ann"]  # no temp file left either


def test_divergence_leaves_the_trained_file_as_it_was(tmp_path, capsys):
    """Without --out the file itself would be overwritten: it is not."""
    f = tmp_path / "xor.ann"
    f.write_bytes((Path(sample_files()[0]).parent / "xor.ann").read_bytes())
    before = f.read_bytes()
    assert main(["train", str(f), *ARGS]) == 1
    err = capsys.readouterr().err
    assert "Dense layer 'dense_1'" in err and "nothing was written" in err
    assert f.read_bytes() == before and sorted(tmp_path.iterdir()) == [f]
