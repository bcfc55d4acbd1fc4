"""Tests of CSV import (anndesigner.data.csvfile)."""

import json

import numpy as np
import pytest

from anndesigner.data import load_csv, load_source, read_csv_preview
from anndesigner.errors import DataError

IRIS_LIKE = """sepal,petal,species
5.1,1.4,setosa
7.0,4.7,versicolor
6.3,6.0,virginica
4.9,1.5,setosa
6.4,4.5,versicolor
5.8,5.1,virginica
"""


def write(tmp_path, text, name="data.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


# ------------------------------------------------------------------ header
def test_header_detected_and_one_hot_classes(tmp_path):
    ds = load_csv(write(tmp_path, IRIS_LIKE), standardize=False)
    assert ds.input_names == ["sepal", "petal"]
    assert ds.task == "classification"
    assert ds.classes == ["setosa", "versicolor", "virginica"]
    assert ds.target_names == ["species=setosa", "species=versicolor", "species=virginica"]
    assert ds.X.dtype == np.float32 and ds.X.shape == (6, 2)
    assert ds.X[0].tolist() == pytest.approx([5.1, 1.4])
    assert ds.Y.tolist() == [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]]
    assert ds.source["header"] is True and ds.source["delimiter"] == ","
    assert ds.name == "data"


def test_no_header_detected_names_columns(tmp_path):
    path = write(tmp_path, "1,2,0.5\n3,4,1.5\n5,6,2.25\n")
    ds = load_csv(path, standardize=False)
    assert ds.input_names == ["col1", "col2"] and ds.target_names == ["col3"]
    assert ds.task == "regression" and ds.classes is None
    assert ds.X.tolist() == [[1, 2], [3, 4], [5, 6]]
    assert ds.Y[:, 0].tolist() == [0.5, 1.5, 2.25]
    assert ds.source["header"] is False


def test_header_forced_on_and_off(tmp_path):
    path = write(tmp_path, "10,20,1.5\n1,2,0.5\n3,4,2.5\n")
    forced = load_csv(path, header=True, standardize=False)
    assert forced.input_names == ["10", "20"] and len(forced) == 2
    text_path = write(tmp_path, "a,b,y\n1,2,0.5\n", name="t.csv")
    with pytest.raises(DataError) as info:
        load_csv(text_path, header=False, standardize=False)
    # the header line is now data, and its cells are not numbers
    assert info.value.line == 1 and info.value.column == "col1"


def test_preview(tmp_path):
    path = write(tmp_path, IRIS_LIKE)
    names, rows, header = read_csv_preview(path, max_rows=2)
    assert names == ["sepal", "petal", "species"]
    assert rows == [["5.1", "1.4", "setosa"], ["7.0", "4.7", "versicolor"]]
    assert header is True
    names, rows, header = read_csv_preview(write(tmp_path, "1;2\n3;4\n", name="p.csv"))
    assert names == ["col1", "col2"] and rows == [["1", "2"], ["3", "4"]] and header is False


# -------------------------------------------------------------- delimiters
def test_semicolon_delimiter_with_decimal_comma(tmp_path):
    path = write(tmp_path, "x;y;label\n1,5;2;yes\n2,5;3;no\n3,0;1;yes\n")
    ds = load_csv(path, standardize=False)
    assert ds.source["delimiter"] == ";"
    assert ds.X.tolist() == [[1.5, 2], [2.5, 3], [3.0, 1]]
    assert ds.classes == ["no", "yes"] and ds.Y[:, 0].tolist() == [1, 0, 1]


def test_tab_delimiter(tmp_path):
    path = write(tmp_path, "a\tb\tc\n1\t2\t3.5\n4\t5\t6.5\n")
    ds = load_csv(path, standardize=False)
    assert ds.source["delimiter"] == "\t"
    assert ds.input_names == ["a", "b"] and ds.X.tolist() == [[1, 2], [4, 5]]


def test_comma_file_with_quoted_semicolon_text(tmp_path):
    path = write(tmp_path, 'x,y,note\n1,2,"a;b"\n3,4,"c;d"\n5,6,"a;b"\n')
    ds = load_csv(path, inputs=["x"], targets=["y"], standardize=False)
    assert ds.source["delimiter"] == ","
    assert ds.X[:, 0].tolist() == [1, 3, 5]


# ----------------------------------------------------------------- classes
def test_two_classes_single_column(tmp_path):
    path = write(tmp_path, "a,b,result\n0,1,pass\n1,1,fail\n0,0,pass\n")
    ds = load_csv(path, standardize=False)
    assert ds.Y.shape == (3, 1) and ds.classes == ["fail", "pass"]
    assert ds.Y[:, 0].tolist() == [1, 0, 1] and ds.target_names == ["result"]


def test_numeric_labels_sorted_numerically_and_task_auto(tmp_path):
    rows = "".join(f"{i},{[10, 2, 1][i % 3]}\n" for i in range(9))
    ds = load_csv(write(tmp_path, "x,k\n" + rows), standardize=False)
    assert ds.task == "classification" and ds.classes == ["1", "2", "10"]
    assert ds.Y.shape == (9, 3)
    # forcing regression keeps the numbers
    reg = load_csv(write(tmp_path, "x,k\n" + rows, name="r.csv"), task="regression", standardize=False)
    assert reg.task == "regression" and reg.Y[:3, 0].tolist() == [10, 2, 1]
    # more than 10 distinct integers -> regression
    many = "".join(f"{i},{i * 3}\n" for i in range(12))
    assert load_csv(write(tmp_path, "x,y\n" + many, name="m.csv")).task == "regression"


# ---------------------------------------------------- choosing columns
def test_inputs_and_targets_by_name_and_index(tmp_path):
    path = write(tmp_path, "id,age,height,weight\n1,30,1.80,80\n2,40,1.70,70\n3,50,1.60,65\n")
    by_name = load_csv(path, inputs=["age", "height"], targets=["weight"], standardize=False)
    by_index = load_csv(path, inputs=[1, 2], targets=[3], standardize=False)
    assert by_name.input_names == by_index.input_names == ["age", "height"]
    assert np.array_equal(by_name.X, by_index.X) and np.array_equal(by_name.Y, by_index.Y)
    assert by_name.source["inputs"] == ["age", "height"] and by_name.source["targets"] == ["weight"]
    reverse = load_csv(path, targets=["age"], standardize=False)
    assert reverse.input_names == ["id", "height", "weight"]
    multi = load_csv(path, inputs=["age"], targets=["height", "weight"], standardize=False)
    assert multi.task == "regression" and multi.Y.shape == (3, 2)


# ----------------------------------------------------------- standardize
def test_standardization_stats_and_inverse(tmp_path):
    rng = np.random.default_rng(1)
    data = np.column_stack([rng.normal(50, 10, 40), rng.normal(-3, 0.5, 40), rng.normal(0, 1, 40)])
    text = "a,b,y\n" + "".join(f"{a:.6f},{b:.6f},{y:.6f}\n" for a, b, y in data)
    ds = load_csv(write(tmp_path, text))
    assert np.allclose(ds.X.mean(axis=0), 0, atol=1e-5)
    assert np.allclose(ds.X.std(axis=0), 1, atol=1e-5)
    assert np.allclose(ds.scaler.mean, data[:, :2].mean(axis=0), atol=1e-5)
    assert np.allclose(ds.scaler.inverse_transform(ds.X), data[:, :2], atol=1e-4)
    # targets are not standardized
    assert np.allclose(ds.Y[:, 0], data[:, 2], atol=1e-5)
    assert ds.source["scaler"] == ds.scaler.to_dict()


def test_load_source_round_trip_reuses_saved_statistics(tmp_path):
    path = write(tmp_path, IRIS_LIKE)
    ds = load_csv(path)
    source = json.loads(json.dumps(ds.source))
    again = load_source(source)
    assert np.array_equal(ds.X, again.X) and np.array_equal(ds.Y, again.Y)
    assert again.classes == ds.classes and again.target_names == ds.target_names

    # relative path resolved against base_dir
    rel = dict(source, path="data.csv")
    assert np.array_equal(load_source(rel, base_dir=tmp_path).X, ds.X)

    # the file grows: saved scaling is reused, not refitted
    write(tmp_path, IRIS_LIKE + "100,100,setosa\n")
    grown = load_source(source)
    assert np.array_equal(grown.X[:6], ds.X)
    assert np.array_equal(grown.scaler.mean, ds.scaler.mean)

    # a class appears that the saved encoding does not know
    write(tmp_path, IRIS_LIKE + "1,1,unknown\n")
    with pytest.raises(DataError) as info:
        load_source(source)
    assert "differ from the saved ones" in info.value.message


def test_load_source_keeps_saved_class_order(tmp_path):
    path = write(tmp_path, IRIS_LIKE)
    ds = load_csv(path, standardize=False)
    source = dict(ds.source, classes=["virginica", "setosa", "versicolor"])
    again = load_source(source)
    assert again.classes == ["virginica", "setosa", "versicolor"]
    assert again.Y[0].tolist() == [0, 1, 0]


# -------------------------------------------------------------- bad cases
def test_non_numeric_cell(tmp_path):
    text = "age,height,y\n" + "".join(f"{20 + i},1.{i},0.{i}\n" for i in range(5)) + "abc,1.5,0.5\n"
    with pytest.raises(DataError) as info:
        load_csv(write(tmp_path, text))
    assert info.value.message == "data.csv, line 7, column 'age': 'abc' is not a number"
    assert info.value.line == 7 and info.value.column == "age"


def test_empty_input_cell_counts_blank_lines(tmp_path):
    text = "a,b,y\n\n1,2,3.5\n\n4,,6.5\n"
    with pytest.raises(DataError) as info:
        load_csv(write(tmp_path, text))
    assert info.value.line == 5 and info.value.column == "b"
    assert "empty cell" in info.value.message


def test_blank_lines_and_missing_trailing_newline_are_fine(tmp_path):
    ds = load_csv(write(tmp_path, "\na,b,y\n\n1,2,0.5\n\n\n3,4,1.5"), standardize=False)
    assert ds.X.tolist() == [[1, 2], [3, 4]]


def test_ragged_row(tmp_path):
    with pytest.raises(DataError) as info:
        load_csv(write(tmp_path, "a,b,c\n1,2,3\n4,5\n"))
    assert info.value.line == 3
    assert "3 cells" not in info.value.message
    assert "2 cells" in info.value.message and "3 columns" in info.value.message


def test_empty_file(tmp_path):
    for text in ("", "\n\n  \n"):
        with pytest.raises(DataError) as info:
            load_csv(write(tmp_path, text))
        assert "data.csv is empty" in info.value.message


def test_header_only_file(tmp_path):
    with pytest.raises(DataError) as info:
        load_csv(write(tmp_path, "a,b,target\n"))
    assert "header but no data rows" in info.value.message
    assert info.value.line == 1


def test_missing_target_column(tmp_path):
    path = write(tmp_path, IRIS_LIKE)
    with pytest.raises(DataError) as info:
        load_csv(path, targets=["color"])
    msg = info.value.message
    assert "missing target column 'color'" in msg and "sepal, petal, species" in msg
    assert info.value.column == "color"
    with pytest.raises(DataError) as info:
        load_csv(path, targets=[7])
    assert "missing target column index 7" in info.value.message
    with pytest.raises(DataError) as info:
        load_csv(path, inputs=["sepal", "weight"])
    assert "missing input column 'weight'" in info.value.message


def test_missing_file(tmp_path):
    path = tmp_path / "nope.csv"
    with pytest.raises(DataError) as info:
        load_csv(path)
    assert info.value.message == f"file not found: {path}"
    with pytest.raises(DataError):
        read_csv_preview(path)


def test_bad_encoding(tmp_path):
    path = write(tmp_path, "name,y\n1,2\n3,4\n".encode() + "5,\xe9t\xe9\n".encode("latin-1"))
    with pytest.raises(DataError) as info:
        load_csv(path)
    assert info.value.line == 4
    assert "not UTF-8" in info.value.message


def test_utf8_bom_accepted(tmp_path):
    ds = load_csv(write(tmp_path, "size,y\n1,2.5\n2,3.5\n", encoding="utf-8-sig"), standardize=False)
    assert ds.input_names == ["size"]


def test_non_numeric_regression_target_and_bad_options(tmp_path):
    path = write(tmp_path, "x,y\n1,2.5\n2,oops\n")
    with pytest.raises(DataError) as info:
        load_csv(path, task="regression")
    assert info.value.line == 3 and info.value.column == "y"
    with pytest.raises(DataError):
        load_csv(path, task="clustering")
    with pytest.raises(DataError):
        load_csv(path, inputs=["x"], targets=["x"])
    with pytest.raises(DataError) as info:
        load_csv(write(tmp_path, "x,y\n1,a\n2,a\n", name="one.csv"))
    assert "only one class" in info.value.message


# ------------------------------------------------------------ sample shape
def eight_input_csv(tmp_path):
    rows = "".join(",".join(str((i * 7 + j) % 5) for j in range(8)) + f",{i % 2}\n" for i in range(6))
    return write(tmp_path, ",".join(f"p{j}" for j in range(8)) + ",label\n" + rows, name="pix.csv")


def test_sample_shape_is_applied_and_round_trips(tmp_path):
    path = eight_input_csv(tmp_path)
    ds = load_csv(path, standardize=False, input_shape=(2, 4, 1))
    assert ds.input_shape == (2, 4, 1) and ds.sample_shape == (2, 4, 1)
    assert ds.source["input_shape"] == [2, 4, 1]
    assert json.loads(json.dumps(ds.source)) == ds.source
    # the columns, in the chosen order, fill each sample row by row
    assert ds.samples()[1, 0, :, 0].tolist() == ds.X[1, :4].tolist()
    assert ds.samples()[1, 1, :, 0].tolist() == ds.X[1, 4:].tolist()
    again = load_source(json.loads(json.dumps(ds.source)), tmp_path)
    assert again.input_shape == (2, 4, 1)
    np.testing.assert_array_equal(again.X, ds.X)
    # standardized, the shape stays
    assert load_csv(path, input_shape=[8, 1]).input_shape == (8, 1)
    # without a shape the source has no such key and the samples are flat
    flat = load_csv(path, standardize=False)
    assert flat.input_shape is None and "input_shape" not in flat.source


def test_wrong_sample_shape_names_both_sizes(tmp_path):
    path = eight_input_csv(tmp_path)
    with pytest.raises(DataError) as info:
        load_csv(path, input_shape=(2, 4, 2))
    msg = str(info.value)
    assert "(2, 4, 2)" in msg and "16 values" in msg and "8 input columns" in msg
    with pytest.raises(DataError, match="1 input column is chosen"):
        load_csv(path, inputs=["p0"], input_shape=(2, 2))
    with pytest.raises(DataError, match="positive integers"):
        load_csv(path, input_shape=(2, 0, 4))
    bad = load_csv(path, standardize=False).source
    bad["input_shape"] = "2x4"
    with pytest.raises(DataError, match="input_shape"):
        load_source(bad, tmp_path)


def test_parse_sample_shape():
    from anndesigner.data.csvfile import parse_sample_shape

    assert parse_sample_shape("8, 8, 1") == (8, 8, 1)
    assert parse_sample_shape("(20, 1)") == (20, 1)
    assert parse_sample_shape("8x8") == (8, 8)
    assert parse_sample_shape("  ") is None
    for text in ("8, a", "8.5", "8, 0", "²"):
        with pytest.raises(DataError, match="sample shape"):
            parse_sample_shape(text)
