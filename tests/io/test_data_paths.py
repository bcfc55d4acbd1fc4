"""A network's CSV data path: absolute in memory, relative to the network file
in the file when the CSV lies in its folder, so that both can move together
and saving into another folder never points at another file."""

from __future__ import annotations

import json
import os
import shutil
import zipfile

import numpy as np

import anndesigner as ad
from anndesigner.data import load_csv, load_source, source_for_file, source_from_file
from helpers import mlp


def _csv(path):
    rows = ["a,b,label"] + [f"{i % 2},{(i // 2) % 2},{(i % 2) ^ ((i // 2) % 2)}" for i in range(16)]
    path.write_text("\n".join(rows) + "\n")
    return path


def _net_with(csv_path):
    ds = load_csv(csv_path, inputs=["a", "b"], targets=["label"], task="classification")
    net = ad.Network(mlp([2, 3, 2], out_act="softmax", loss="categorical_crossentropy"), seed=0)
    net.data_source = ds.source
    return net


def _stored_path(ann):
    with zipfile.ZipFile(ann) as z:
        return json.loads(z.read("network.json"))["data"]["path"]


def test_load_csv_records_an_absolute_path(tmp_path, monkeypatch):
    _csv(tmp_path / "d.csv")
    monkeypatch.chdir(tmp_path)
    assert load_csv("d.csv", targets=["label"]).source["path"] == os.path.join(str(tmp_path), "d.csv")


def test_csv_in_the_files_folder_is_stored_relative_and_moves_with_it(tmp_path):
    proj = tmp_path / "project"
    (proj / "data").mkdir(parents=True)
    csv = _csv(proj / "data" / "xor.csv")
    net = _net_with(csv)
    net.save(proj / "net.ann")
    assert _stored_path(proj / "net.ann") == "data/xor.csv"
    assert net.data_source["path"] == str(csv)  # the network in memory is unchanged

    moved = tmp_path / "moved"
    shutil.move(str(proj), str(moved))
    again = ad.load(moved / "net.ann")
    assert again.data_source["path"] == str(moved / "data" / "xor.csv")
    ds = load_source(again.data_source)
    np.testing.assert_array_equal(ds.X, load_csv(moved / "data" / "xor.csv", inputs=["a", "b"], targets=["label"]).X)


def test_saving_into_another_folder_keeps_pointing_at_the_same_csv(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    csv = _csv(a / "xor.csv")
    net = _net_with(csv)
    net.save(a / "net.ann")
    opened = ad.load(a / "net.ann")
    opened.save(b / "copy.ann")  # "Save As" into a folder the CSV is not in
    assert _stored_path(b / "copy.ann") == str(csv)  # absolute: it lies outside b
    reopened = ad.load(b / "copy.ann")
    assert reopened.data_source["path"] == str(csv)
    assert load_source(reopened.data_source).X.shape == (16, 2)


def test_source_helpers_leave_other_sources_alone(tmp_path):
    builtin = {"kind": "builtin", "name": "xor", "params": {}}
    assert source_for_file(builtin, tmp_path) is builtin
    assert source_from_file(builtin, tmp_path) is builtin
    assert source_for_file(None, tmp_path) is None
    rel = {"kind": "csv", "path": "x.csv"}
    assert source_for_file(rel, tmp_path) is rel  # already relative (a script set it): kept as written
    absolute = source_from_file(rel, tmp_path)
    assert absolute == {"kind": "csv", "path": str(tmp_path / "x.csv")} and rel["path"] == "x.csv"
    assert source_from_file({"kind": "csv", "path": "../up/x.csv"}, tmp_path / "sub")["path"] == str(tmp_path / "up" / "x.csv")
