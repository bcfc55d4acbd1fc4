"""``anndesigner diff A.ann B.ann [--json]`` (issue 14): exit 0 the same, 1 different, 2 a bad file."""

import json
import shutil
from pathlib import Path

import numpy as np

import anndesigner as ad
from anndesigner.cli import main
from anndesigner.io.diff import diff_networks

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def test_a_file_against_a_copy_is_the_same(tmp_path, capsys):
    copy = shutil.copy(SAMPLES / "xor.ann", tmp_path / "copy.ann")
    assert main(["diff", str(SAMPLES / "xor.ann"), str(copy)]) == 0
    out = capsys.readouterr()
    assert out.out == "The networks are the same: structure, settings and weights.\n" and out.err == ""
    assert main(["diff", str(SAMPLES / "xor.ann"), str(copy), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["same"] is True


def _edited(tmp_path):
    net = ad.Network.load(SAMPLES / "xor.ann")
    net.graph.set_params("dense_1", units=3)
    w = net.get_weights()["output_1/bias"]
    net.set_weights({"output_1/bias": w + np.float32(0.125)})
    net.set_training(net.training.replace(learning_rate=0.1))
    path = tmp_path / "edited.ann"
    net.save(path)
    return path


def test_differences_exit_1_with_the_report(tmp_path, capsys):
    a, b = SAMPLES / "xor.ann", _edited(tmp_path)
    assert main(["diff", str(a), str(b)]) == 1
    out = capsys.readouterr().out
    want = diff_networks(ad.Network.load(a), ad.Network.load(b), a_name=str(a), b_name=str(b))
    assert out == want.to_text() + "\n"
    lines = out.splitlines()
    assert lines[0] == f"Differences from {a} to {b} (nodes matched by id)"
    assert "  dense_1  units  4 → 3" in lines
    assert "  learning_rate  0.05 → 0.1" in lines
    assert next(line for line in lines if line.startswith("  output_1/bias")).split()[2:4] == ["0.125", "0.125"]


def test_json(tmp_path, capsys):
    a, b = SAMPLES / "xor.ann", _edited(tmp_path)
    assert main(["diff", str(a), str(b), "--json"]) == 1
    got = json.loads(capsys.readouterr().out)
    want = diff_networks(ad.Network.load(a), ad.Network.load(b), a_name=str(a), b_name=str(b)).to_dict()
    assert got == json.loads(json.dumps(want))
    assert got["settings_changed"] == [{"name": "learning_rate", "old": 0.05, "new": 0.1}]


def test_two_different_samples(capsys):
    assert main(["diff", str(SAMPLES / "xor.ann"), str(SAMPLES / "spirals.ann")]) == 1
    out = capsys.readouterr().out
    assert "Nodes added (only in" in out and "Weights" in out


def test_a_damaged_or_missing_file_exits_2_naming_it(tmp_path, capsys):
    bad = tmp_path / "damaged.ann"
    bad.write_bytes((SAMPLES / "xor.ann").read_bytes()[:200])
    assert main(["diff", str(SAMPLES / "xor.ann"), str(bad)]) == 2
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err.count("\n") == 1 and out.err.startswith("anndesigner: error: ") and "damaged.ann" in out.err
    assert main(["diff", str(tmp_path / "gone.ann"), str(SAMPLES / "xor.ann")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "gone.ann" in err
