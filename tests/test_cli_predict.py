"""``anndesigner predict`` / ``evaluate`` on held-out CSV files, and ``export`` / ``import``
dispatching to anndesigner.interop (issue 13)."""

import csv
import io
import random
from pathlib import Path

import numpy as np
import pytest

import anndesigner as ad
from anndesigner.cli import main
from anndesigner.data import load_builtin, load_csv

from helpers import mlp

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def write_rows(path, head, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(head)
        w.writerows(rows)
    return path


@pytest.fixture(scope="module")
def moons(tmp_path_factory):
    """A classifier trained on a standardized CSV (class names "flat"/"round") and
    held-out raw rows of the same kind."""
    tmp = tmp_path_factory.mktemp("cli_predict")
    scale, shift = np.array([300.0, 0.004]), np.array([1000.0, -0.5])

    def raw(seed, n):
        ds = load_builtin("moons", n_samples=n, noise=0.1, seed=seed)
        return ds.X.astype(np.float64) * scale + shift, np.where(ds.Y[:, 0] > 0.5, "round", "flat")

    X, labels = raw(1, 200)
    write_rows(tmp / "train.csv", ["size", "weight", "kind"], [[*(repr(float(v)) for v in x), lab] for x, lab in zip(X, labels)])
    ds = load_csv(tmp / "train.csv")
    net = ad.Network(mlp([2, 12, 1]), seed=1, data=ds.source)
    net.fit(ds.X, ds.Y, epochs=150, optimizer="adam", learning_rate=0.03, batch_size=32)
    net.save(tmp / "moons.ann")
    Xt, lt = raw(7, 60)
    # held-out file: the columns in another order, an extra id column, the target in the middle
    test = write_rows(tmp / "test.csv", ["weight", "id", "kind", "size"],
                      [[repr(float(x[1])), i, lab, repr(float(x[0]))] for i, (x, lab) in enumerate(zip(Xt, lt))])
    return ad.Network.load(tmp / "moons.ann"), tmp / "moons.ann", test, Xt, lt


def test_predict_writes_a_class_name_per_row(moons, tmp_path, capsys):
    net, file, test, Xt, lt = moons
    assert main(["predict", str(file), "--data", str(test)]) == 0
    printed = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    want = list(net.predict_classes(Xt))
    assert printed == [["class"]] + [[c] for c in want]
    assert np.mean(np.array(want) == lt) > 0.85  # raw rows, scaled as the training CSV was
    out = tmp_path / "pred.csv"
    assert main(["predict", str(file), "--data", str(test), "-o", str(out)]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {out} (60 rows)"
    with open(out, newline="") as f:
        assert list(csv.reader(f)) == printed


def test_evaluate_prints_the_engines_numbers_and_a_confusion_matrix(moons, capsys):
    net, file, test, Xt, lt = moons
    assert main(["evaluate", str(file), "--data", str(test)]) == 0
    out = capsys.readouterr().out.splitlines()
    m = net.evaluate(Xt, lt)
    assert out[0] == "moons.ann on test.csv: 60 rows"
    assert out[1] == f"loss      {m['loss']:.6g}"
    assert out[2] == f"accuracy  {m['accuracy']:.6g} ({m['accuracy'] * 100:.1f} %)"
    pred = net.predict_classes(Xt)
    counts = [[int(np.sum((lt == a) & (pred == p))) for p in ("flat", "round")] for a in ("flat", "round")]
    assert out[4].split() == ["actual", "\\", "predicted", "flat", "round"]
    assert out[5].split() == ["flat", *map(str, counts[0])]
    assert out[6].split() == ["round", *map(str, counts[1])]
    assert sum(map(sum, counts)) == 60 and counts[0][0] + counts[1][1] == round(m["accuracy"] * 60)


def test_regression_sample_on_a_csv_of_its_raw_data(tmp_path, capsys):
    net = ad.load(SAMPLES / "house-prices.ann")
    src = net.data_source
    raw = load_builtin(src["name"], standardize=False, **src["params"])
    net.fit(load_builtin(src["name"], standardize=True, **src["params"]).X, raw.Y, epochs=20, learning_rate=0.01,
            optimizer="adam")
    net.save(tmp_path / "house.ann")
    X, Y = raw.X[:40].astype(np.float64), raw.Y[:40]
    data = write_rows(tmp_path / "houses.csv", [*raw.input_names, *raw.target_names],
                      [[*map(repr, map(float, x)), repr(float(y[0]))] for x, y in zip(X, Y)])
    assert main(["predict", str(tmp_path / "house.ann"), "--data", str(data)]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0] == ["price"]
    np.testing.assert_allclose([float(r[0]) for r in rows[1:]], net.predict(X)[:, 0], rtol=1e-6)
    assert main(["evaluate", str(tmp_path / "house.ann"), "--data", str(data)]) == 0
    out = capsys.readouterr().out
    m = net.evaluate(X, Y)
    assert f"R²        {m['r2']:.6g}" in out and f"loss      {m['loss']:.6g}" in out and "actual" not in out
    assert m["r2"] > 0.5


@pytest.mark.parametrize("text, message", [
    ("weight,id,kind\n0.1,1,flat\n", "test.csv: missing input column 'size'"),
    ("size,weight,kind\n1000,0.1,flat\n1100,abc,round\n", "test.csv, line 3, column 'weight': 'abc' is not a number"),
    ("size,weight,kind\n1000,,flat\n", "test.csv, line 2, column 'weight': empty cell"),
    ("", "test.csv is empty"),
    ("size,weight,kind\n", "test.csv has a header but no data rows"),
    ("size,weight,kind\n1000,0.1\n", "test.csv, line 2: 2 cells, but the header has 3 columns"),
    ("size,weight,kind\n1000,0.1,square\n", "test.csv, line 2, column 'kind': 'square' is not one of the network's "
                                            "classes (flat, round)"),
    ("size,weight,kind\n1e999,0.1,flat\n", "test.csv, line 2, column 'size': '1e999' is not a number"),
])
def test_bad_csvs_name_the_place(moons, tmp_path, capsys, text, message):
    file = moons[1]
    bad = tmp_path / "test.csv"
    bad.write_text(text)
    for cmd in ("predict", "evaluate"):
        if "classes" in message and cmd == "predict":
            continue  # predict does not read the target column
        capsys.readouterr()
        assert main([cmd, str(file), "--data", str(bad)]) == 1
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err


def test_a_value_too_far_from_the_standardization_names_its_line(moons, tmp_path, capsys):
    bad = write_rows(tmp_path / "far.csv", ["size", "weight"], [["1000", "0.1"], ["1e300", "0.1"]])
    assert main(["predict", str(moons[1]), "--data", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "far.csv, line 3, column 'size'" in err and "does not fit float32" in err


def test_missing_files_and_the_data_option(moons, tmp_path, capsys):
    assert main(["predict", str(moons[1]), "--data", str(tmp_path / "gone.csv")]) == 1
    assert "gone.csv" in capsys.readouterr().err
    assert main(["predict", str(tmp_path / "gone.ann"), "--data", str(moons[2])]) == 1
    with pytest.raises(SystemExit):  # argparse: --data is required
        main(["evaluate", str(moons[1])])


def test_fuzzed_csvs_give_a_result_or_one_clear_line(moons, tmp_path, capsys):
    """Seeded random CSV texts: predict exits 0 with a row per data row, or 1 with one line."""
    file = moons[1]
    rng = random.Random(13)
    cells = ["1000", "0.25", "-3e2", "", " ", "abc", "nan", "inf", "1,5", "flat", "round", "1e400", "\"q\"",
             "0x10", "+.5", "7."]
    ok = 0
    for i in range(150):
        width = rng.choice([1, 2, 3, 4])
        head = rng.sample(["size", "weight", "kind", "id", "x"], k=min(width, 5)) if rng.random() < 0.7 else None
        lines = [",".join(head)] if head else []
        for _ in range(rng.randint(0, 5)):
            lines.append(rng.choice([",", ";", "\t"]).join(rng.choice(cells) for _ in range(rng.choice([width, width,
                                                                                                    width + 1]))))
        path = tmp_path / f"f{i}.csv"
        path.write_text("\n".join(lines) + rng.choice(["", "\n"]))
        capsys.readouterr()
        code = main(["predict", str(file), "--data", str(path)])
        out, err = capsys.readouterr()
        assert "Traceback" not in err
        if code == 0:
            ok += 1
            assert out.splitlines()[0] == "class" and set(out.splitlines()[1:]) <= {"flat", "round"}
        else:
            assert code == 1 and err.startswith("anndesigner: error: ") and len(err.strip().splitlines()) == 1
    assert ok > 0


def test_export_and_import_dispatch_to_interop(tmp_path, capsys):
    assert main(["import", str(SAMPLES / "xor.ann"), "-o", str(tmp_path / "x.ann")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("anndesigner: error: cannot import files of type '.ann'")
    assert not (tmp_path / "x.ann").exists()
    assert main(["import", str(tmp_path / "none.onnx")]) == 1
    assert main(["export", str(SAMPLES / "xor.ann"), "--to", "numpy", "-o", str(tmp_path / "xor.py")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [f"wrote {tmp_path / 'xor.py'}", f"wrote {tmp_path / 'xor.npz'}"]
    assert (tmp_path / "xor.py").read_text().startswith('"""')
