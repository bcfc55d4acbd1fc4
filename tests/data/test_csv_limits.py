"""CSV files met in the wild and hostile paths: only regular files are read, with
bounds; scikit-learn's counts-row layout; header / skip-row overrides; long cells and
huge numbers named by line and column; streaming memory."""

import json
import os
import subprocess
import sys
import threading
import warnings
from pathlib import Path

import numpy as np
import pytest

from anndesigner.data import load_csv, load_source, read_csv_preview
from anndesigner.data import csvfile
from anndesigner.data.csvfile import MAX_CELL_CHARS, preview_csv
from anndesigner.errors import DataError

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def both(path, **kw):
    """The DataError of load_csv and of read_csv_preview for ``path`` (each must raise one)."""
    errors = []
    for f in (lambda: load_csv(path, **kw), lambda: read_csv_preview(path)):
        with pytest.raises(DataError) as info:
            f()
        errors.append(info.value)
    return errors


def in_thread(fn, timeout=20.0):
    """Run ``fn`` in a daemon thread; fail (instead of hanging the suite) if it blocks."""
    out = {}

    def run():
        try:
            out["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - handed to the test
            out["error"] = e

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(timeout)
    assert not t.is_alive(), "the reader blocked"
    return out


# ------------------------------------------------------------- special paths
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "data.csv"
    os.mkfifo(fifo)
    for f in (load_csv, read_csv_preview):
        out = in_thread(lambda f=f: f(fifo))
        assert isinstance(out.get("error"), DataError), out
        assert str(fifo) in out["error"].message and "pipe" in out["error"].message


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null", "/dev/urandom"])
def test_devices_are_refused(device):
    if not os.path.exists(device):
        pytest.skip(f"{device} does not exist here")
    for e in both(device):
        assert device in e.message and "device" in e.message


def test_stdin_is_refused():
    if not os.path.exists("/dev/stdin"):
        pytest.skip("no /dev/stdin")
    out = in_thread(lambda: load_csv("/dev/stdin"))
    assert isinstance(out.get("error"), DataError) and "/dev/stdin" in out["error"].message


def test_a_huge_sparse_file_is_refused_by_its_size(tmp_path):
    big = tmp_path / "big.csv"
    with open(big, "wb") as f:
        f.truncate(10 * 2**30)  # 10 GiB of holes: costs no disk
    for e in both(big):
        assert str(big) in e.message and "200 MB" in e.message


def test_a_folder_and_a_missing_file(tmp_path):
    for e in both(tmp_path):
        assert e.message == f"{tmp_path} is a folder, not a CSV file"
    for e in both(tmp_path / "nope" / "x.csv"):
        assert str(tmp_path / "nope" / "x.csv") in e.message


def test_the_size_limit_is_checked_before_reading(tmp_path, monkeypatch):
    path = write(tmp_path, "a,y\n" + "1,2\n" * 100)
    monkeypatch.setattr(csvfile, "MAX_FILE_BYTES", 200)
    for e in both(path):
        assert "at most" in e.message and str(path) in e.message


def test_a_network_file_naming_a_fifo_loads_nothing(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs")
    fifo = tmp_path / "d.csv"
    os.mkfifo(fifo)
    source = {"kind": "csv", "path": "d.csv", "inputs": ["a"], "targets": ["y"], "task": "regression"}
    out = in_thread(lambda: load_source(source, base_dir=tmp_path))
    assert isinstance(out.get("error"), DataError) and "pipe" in out["error"].message


# ----------------------------------------------------------- bounded reading
def test_preview_reads_only_the_start(tmp_path, monkeypatch):
    monkeypatch.setattr(csvfile, "PREVIEW_BYTES", 4096)
    rows = "".join(f"{i},{i % 3}\n" for i in range(5000))  # ~40 kB
    path = write(tmp_path, "x,k\n" + rows)
    p = preview_csv(path, max_rows=5)
    assert p.rows == [["0", "0"], ["1", "1"], ["2", "2"], ["3", "0"], ["4", "1"]]
    assert p.lines == [2, 3, 4, 5, 6]
    assert not p.complete and p.n_rows is None
    small = preview_csv(write(tmp_path, "x,k\n1,2\n3,4\n", name="s.csv"))
    assert small.complete and small.n_rows == 2


def test_too_many_columns_and_cells(tmp_path, monkeypatch):
    wide = write(tmp_path, ",".join(f"c{i}" for i in range(12)) + "\n" + ",".join("1" * 12) + "\n")
    monkeypatch.setattr(csvfile, "MAX_COLUMNS", 10)
    with pytest.raises(DataError, match="12 columns; at most 10"):
        load_csv(wide)
    monkeypatch.setattr(csvfile, "MAX_COLUMNS", 10_000)
    monkeypatch.setattr(csvfile, "MAX_CELLS", 30)
    tall = write(tmp_path, "a,b,y\n" + "1,2,3\n" * 11, name="tall.csv")
    with pytest.raises(DataError) as info:
        load_csv(tall)
    assert info.value.line == 12 and "more than 30 cells" in info.value.message


def test_a_line_without_end_is_refused_by_its_length(tmp_path, monkeypatch):
    monkeypatch.setattr(csvfile, "MAX_LINE_BYTES", 1000)
    path = write(tmp_path, "a,y\n1,2\n" + "3," * 1000 + "\n")
    with pytest.raises(DataError) as info:
        load_csv(path)
    assert info.value.line == 3 and "longer than" in info.value.message


# ------------------------------------------------------------ cells and numbers
def test_a_cell_longer_than_the_csv_limit_names_line_and_column(tmp_path):
    long = "5" * (MAX_CELL_CHARS + 10)
    path = write(tmp_path, f"a,b,y\n1,2,3\n4,{long},6\n")
    for f in (load_csv, read_csv_preview):
        with pytest.raises(DataError) as info:
            f(path)
        assert info.value.line == 3 and info.value.column == "b"
        assert "longer than 131,072 characters" in info.value.message
    # in the header row the columns have no names yet: the number is given
    path = write(tmp_path, f'a,"{long}",y\n1,2,3\n', name="h.csv")
    with pytest.raises(DataError) as info:
        load_csv(path)
    assert info.value.line == 1 and info.value.column == 2


def test_values_near_the_float64_limit_standardize_without_overflow(tmp_path):
    path = write(tmp_path, "a,b,y\n1e308,2,0\n-1e308,5,1\n1.7e308,1,0\n-1.7e308,3,1\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning either
        ds = load_csv(path)
    a = np.array([1e308, -1e308, 1.7e308, -1.7e308])
    expected = (a / 1e308 - (a / 1e308).mean()) / (a / 1e308).std()
    assert np.all(np.isfinite(ds.X))
    np.testing.assert_allclose(ds.X[:, 0], expected, rtol=1e-6)
    np.testing.assert_allclose(ds.scaler.mean, [a.mean() if np.isfinite(a.sum()) else 0.0, 2.75], rtol=1e-9,
                               atol=1e295)
    assert np.isfinite(ds.scaler.std).all() and ds.scaler.std[0] > 1e307
    json.dumps(ds.source)  # the saved statistics are finite numbers
    again = load_source(json.loads(json.dumps(ds.source)))
    np.testing.assert_array_equal(again.X, ds.X)


def test_huge_values_without_standardization_name_the_cell(tmp_path):
    path = write(tmp_path, "a,b,y\n1,2,3\n4,5e300,6\n")
    with pytest.raises(DataError) as info:
        load_csv(path, standardize=False)
    assert info.value.line == 3 and info.value.column == "b" and "standardize" in info.value.message
    target = write(tmp_path, "a,y\n1,2.5\n2,1e200\n3,0.5\n", name="t.csv")
    with pytest.raises(DataError) as info:
        load_csv(target, task="regression")
    assert info.value.line == 3 and info.value.column == "y"
    over = write(tmp_path, "a,y\n1,2.5\n1e999,1\n", name="o.csv")
    with pytest.raises(DataError) as info:
        load_csv(over)
    assert info.value.line == 3 and info.value.column == "a" and "too large" in info.value.message


def test_a_saved_standardization_far_from_the_data_names_the_cell(tmp_path):
    path = write(tmp_path, "a,y\n1,0\n2,1\n1e300,0\n")
    with pytest.raises(DataError) as info:
        load_csv(path, scaler={"mean": [0.0], "std": [1.0]})
    assert info.value.line == 4 and info.value.column == "a"


def test_lone_carriage_returns_end_lines(tmp_path):
    ds = load_csv(write(tmp_path, "a,y\r1,0.5\r2,1.5\r"), standardize=False)
    assert ds.X[:, 0].tolist() == [1, 2] and ds.Y[:, 0].tolist() == [0.5, 1.5]


def test_a_file_of_lone_carriage_returns_longer_than_a_line_may_be(tmp_path, monkeypatch):
    """Lines ending in lone CRs (classic Mac CSV) come as one read until a LF: a file of
    them longer than the line limit loads line by line (it was refused as one long line),
    its preview shows rows (a file longer than the preview read as empty), line numbers
    hold, and a CRLF cut between two reads stays one line end."""
    monkeypatch.setattr(csvfile, "MAX_LINE_BYTES", 100)
    monkeypatch.setattr(csvfile, "PREVIEW_BYTES", 300)
    rows = "".join(f"{i},{i % 2}\r" for i in range(300))
    path = write(tmp_path, "a,y\r" + rows)
    ds = load_csv(path, standardize=False)
    assert ds.X[:, 0].tolist() == list(range(300)) and ds.Y[:, 0].tolist() == [i % 2 for i in range(300)]
    p = preview_csv(path, max_rows=5)
    assert p.names == ["a", "y"] and p.rows[:2] == [["0", "0"], ["1", "1"]] and not p.complete
    with pytest.raises(DataError, match=r"line 302, column 'a': 'x' is not a number"):
        load_csv(write(tmp_path, "a,y\r" + rows + "x,1\r", name="bad.csv"))
    # a lone-CR run whose read ends on a CR followed by LF: the next line is not a blank one
    head = "a,y\r" + "1,0\r" * 23 + "11,0\r"  # lines 1-25; a read of 101 bytes (the limit + 1) ends on its CR
    assert len(head.encode()) == 101
    mixed = write(tmp_path, head + "\n7,1\r\nz,0\r\n", name="mixed.csv")
    with pytest.raises(DataError, match=r"line 27, column 'a': 'z' is not a number"):
        load_csv(mixed)
    with pytest.raises(DataError, match="longer than"):  # a line with no end at all is still refused
        load_csv(write(tmp_path, "a,y\r" + "1" * 200 + ",1\r", name="long.csv"))


def test_nul_byte_names_its_line(tmp_path):
    with pytest.raises(DataError) as info:
        load_csv(write(tmp_path, b"a,y\n1,2\n3\x00,4\n"))
    assert info.value.line == 3


# ------------------------------------------------------------ scikit-learn layout
IRIS_HEAD = "6,4,setosa,versicolor,virginica\n"
IRIS_ROWS = ("5.1,3.5,1.4,0.2,0\n4.9,3.0,1.4,0.2,0\n7.0,3.2,4.7,1.4,1\n"
             "6.4,3.2,4.5,1.5,1\n6.3,3.3,6.0,2.5,2\n5.8,2.7,5.1,1.9,2\n")


def test_sklearn_layout_is_recognized_with_class_names(tmp_path):
    ds = load_csv(write(tmp_path, IRIS_HEAD + IRIS_ROWS, name="iris.csv"), standardize=False)
    assert ds.input_names == ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]
    assert ds.classes == ["setosa", "versicolor", "virginica"]
    assert ds.target_names == ["species=setosa", "species=versicolor", "species=virginica"]
    assert ds.Y.argmax(axis=1).tolist() == [0, 0, 1, 1, 2, 2]
    assert ds.X[0].tolist() == pytest.approx([5.1, 3.5, 1.4, 0.2])
    assert ds.source["header"] == "sklearn" and len(ds) == 6
    again = load_source(json.loads(json.dumps(ds.source)))
    np.testing.assert_array_equal(again.Y, ds.Y)
    assert again.classes == ds.classes


def test_sklearn_layout_with_unknown_names_and_two_classes(tmp_path):
    rows = "".join(f"{i},{i * 2},{i % 2}\n" for i in range(5))
    ds = load_csv(write(tmp_path, "5,2,bad,good\n" + rows), standardize=False)
    assert ds.input_names == ["feature1", "feature2"] and ds.target_names == ["class"]
    assert ds.classes == ["bad", "good"]  # the order of the first row, not sorted
    assert ds.Y[:, 0].tolist() == [0, 1, 0, 1, 0]
    # wine-like: 13 features, first row shorter than the data rows (refused before)
    rows = "".join(",".join(str(j + i) for j in range(13)) + f",{i % 3}\n" for i in range(4))
    wine = load_csv(write(tmp_path, "4,13,class_0,class_1,class_2\n" + rows, name="w.csv"))
    assert wine.input_names[0] == "alcohol" and wine.n_inputs == 13 and wine.classes == ["class_0", "class_1",
                                                                                           "class_2"]


def test_counts_that_do_not_match_the_file_are_a_plain_header(tmp_path):
    path = write(tmp_path, "7,4,setosa,versicolor,virginica\n" + IRIS_ROWS)  # says 7 rows, has 6
    ds = load_csv(path, standardize=False)
    assert ds.source["header"] is True and ds.input_names == ["7", "4", "setosa", "versicolor"]
    assert preview_csv(path).header is True
    # a class index beyond the names is not the layout either
    bad = write(tmp_path, IRIS_HEAD + IRIS_ROWS.replace(",2\n", ",3\n", 1), name="b.csv")
    assert load_csv(bad, standardize=False).source["header"] is True
    with pytest.raises(DataError) as info:
        load_csv(bad, header="sklearn")
    assert info.value.line == 6 and "not one of the 3 classes" in info.value.message


def test_overrides_header_and_skip_rows(tmp_path):
    path = write(tmp_path, IRIS_HEAD + IRIS_ROWS)
    plain = load_csv(path, header=False, skip_rows=1, standardize=False)
    assert plain.input_names == ["col1", "col2", "col3", "col4"] and plain.classes == ["0", "1", "2"]
    assert plain.source["skip_rows"] == 1 and plain.source["header"] is False
    np.testing.assert_array_equal(load_source(plain.source).X, plain.X)
    with pytest.raises(DataError) as info:
        load_csv(path, header=False)  # the counts row is data now, and too short
    assert info.value.line == 1 and info.value.column == "col3"
    titled = write(tmp_path, "My measurements\n(made in May)\na,y\n1,2.5\n2,3.5\n", name="t.csv")
    ds = load_csv(titled, skip_rows=2, standardize=False)
    assert ds.input_names == ["a"] and ds.Y[:, 0].tolist() == [2.5, 3.5]
    with pytest.raises(DataError) as info:
        load_csv(write(tmp_path, "x\na,y\n1,b\n", name="e.csv"), skip_rows=1, task="regression")
    assert info.value.line == 3  # line numbers count the skipped lines
    for bad in (-1, 1.5, True, "2"):
        with pytest.raises(DataError, match="skip_rows"):
            load_csv(titled, skip_rows=bad)
    with pytest.raises(DataError, match="header must be"):
        load_csv(titled, header="maybe")


def test_sklearn_header_forced_on_a_plain_file(tmp_path):
    with pytest.raises(DataError) as info:
        load_csv(write(tmp_path, "a,b,y\n1,2,0\n"), header="sklearn")
    assert "scikit-learn's counts row" in info.value.message and info.value.line == 1


SKLEARN_DATA = None
try:  # the real files, when scikit-learn is installed (not a dependency of ANN Designer)
    import sklearn

    SKLEARN_DATA = Path(sklearn.__file__).parent / "datasets" / "data"
except ImportError:  # pragma: no cover - depends on the environment
    pass


@pytest.mark.skipif(SKLEARN_DATA is None, reason="scikit-learn is not installed")
@pytest.mark.parametrize("name,rows,features,classes", [
    ("iris.csv", 150, 4, ["setosa", "versicolor", "virginica"]),
    ("wine_data.csv", 178, 13, ["class_0", "class_1", "class_2"]),
    ("breast_cancer.csv", 569, 30, ["malignant", "benign"]),
])
def test_scikit_learns_own_files(name, rows, features, classes):
    from sklearn import datasets

    loader = {"iris.csv": datasets.load_iris, "wine_data.csv": datasets.load_wine,
              "breast_cancer.csv": datasets.load_breast_cancer}[name]
    ref = loader()
    ds = load_csv(SKLEARN_DATA / name, standardize=False)
    assert (len(ds), ds.n_inputs, ds.classes) == (rows, features, classes)
    assert ds.input_names == [str(n) for n in ref.feature_names]
    np.testing.assert_allclose(ds.X, ref.data, rtol=1e-6)
    codes = ds.Y[:, 0].astype(int) if len(classes) == 2 else ds.Y.argmax(axis=1)
    np.testing.assert_array_equal(codes, ref.target)


# ------------------------------------------------------------------- memory
def test_memory_of_a_large_file_stays_near_its_size(tmp_path):
    """An 8 MB file: the load's peak memory over the interpreter's stays below 4x the file."""
    path = tmp_path / "big.csv"
    rng = np.random.default_rng(0)
    block = rng.normal(size=(20_000, 8))
    text = "\n".join(",".join(f"{v:.6f}" for v in row) + f",{int(row[0] > 0)}" for row in block) + "\n"
    with open(path, "w") as f:
        f.write(",".join(f"x{i}" for i in range(8)) + ",y\n")
        for _ in range(4):
            f.write(text)
    size = path.stat().st_size
    code = ("import resource, sys\nimport anndesigner.data as d\n"
            "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
            "ds = d.load_csv(sys.argv[1])\n"
            "print(len(ds), base, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True,
                         cwd=REPO)
    n, base, peak = map(int, out.stdout.split())
    assert n == 80_000
    grown = (peak - base) * 1024  # ru_maxrss is in KiB on Linux
    assert grown < 4 * size, f"{grown / 2**20:.0f} MiB for a {size / 2**20:.0f} MiB file"


# ------------------------------------------------------------------ one-hot
def test_one_hot_two_classes_from_a_source(tmp_path):
    path = write(tmp_path, "a,b,result\n0,1,pass\n1,1,fail\n0,0,pass\n")
    ds = load_csv(path, standardize=False)
    src = dict(ds.source, one_hot=True)
    hot = load_source(json.loads(json.dumps(src)))
    assert hot.Y.tolist() == [[0, 1], [1, 0], [0, 1]] and hot.target_names == ["result=fail", "result=pass"]
    assert hot.classes == ["fail", "pass"] and hot.source["one_hot"] is True
    train, val = hot.split(0.34, seed=1)
    assert load_source(val.source).Y.shape[1] == 2  # a split part keeps the columns
    with pytest.raises(DataError, match="'one_hot' is for two classes"):
        load_source({"kind": "builtin", "name": "blobs", "params": {}, "one_hot": True})
    with pytest.raises(DataError, match="true or false"):
        load_source(dict(ds.source, one_hot="yes"))


def test_max_bytes_reads_the_start_of_a_large_file_only(tmp_path):
    """load_csv(max_bytes=N): the rows of the first N bytes, with the same choices (the
    import dialog's quick check of a large file); scikit-learn's counts row still holds."""
    path = tmp_path / "big.csv"
    path.write_text("a,b,y\n" + "".join(f"{i},{i / 2},{i % 2}\n" for i in range(2000)) + "x,1,0\n")
    head = path.read_bytes()[:4096]
    whole_lines = head[: head.rindex(b"\n") + 1].count(b"\n") - 1  # minus the header
    ds = load_csv(path, max_bytes=4096)
    assert len(ds) == whole_lines and ds.Y[:, 0].tolist() == [i % 2 for i in range(whole_lines)]
    with pytest.raises(DataError, match=r"line 2002, column 'a': 'x' is not a number"):
        load_csv(path)
    counted = tmp_path / "counted.csv"
    counted.write_text("2000,2,no,yes\n" + "".join(f"{i},{i / 2},{i % 2}\n" for i in range(2000)))
    part = load_csv(counted, max_bytes=4096)
    assert part.classes == ["no", "yes"] and part.input_names == ["feature1", "feature2"] and len(part) < 2000
    assert len(load_csv(counted)) == 2000
    with pytest.raises(DataError, match="max_bytes"):
        load_csv(path, max_bytes=0)
