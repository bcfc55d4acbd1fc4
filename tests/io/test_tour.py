"""tour.json: a guided tour stored as data in the network file. It survives save
and load, a network without one writes no member, a damaged one is dropped with
a warning naming the problem (the network still opens), and parse_tour only
ever returns a Tour or raises FileFormatError, whatever it is given."""

from __future__ import annotations

import copy
import json
import random
import time
import zipfile

import numpy as np
import pytest

import anndesigner as ad
from anndesigner.errors import FileFormatError
from anndesigner.io import load_network, save_network
from anndesigner.io.tour import (ACTIONS, MAX_STEPS, MAX_TEXT, VIEWS, Tour, TourWarning, parse_tour, text_html,
                                 tour_from_bytes)
from anndesigner.paths import samples_dir
from helpers import mlp

GOOD = {
    "version": 1,
    "title": "A walk",
    "steps": [
        {"text": "The **input**.", "highlight": ["input_1"], "open": "data"},
        {"text": "Explain row 2.", "highlight": ["dense_1"], "open": "explain",
         "action": {"do": "explain-sample", "row": 2, "granularity": "node"}},
        {"text": "On.", "action": {"do": "explain-forward", "steps": 3}},
        {"text": "Select.", "action": {"do": "select-node", "node": "dense_1"}},
    ],
}


def net_with_tour(tour_obj=GOOD):
    g = mlp([2, 3, 1])
    net = ad.Network(g, seed=1)
    net.tour = parse_tour(tour_obj, node_ids=g.nodes)
    return net


def test_mlp_helper_ids_are_the_tour_ids():
    assert {"input_1", "dense_1"} <= set(mlp([2, 3, 1]).nodes)


def test_round_trip_keeps_the_tour(tmp_path):
    net = net_with_tour()
    path = tmp_path / "t.ann"
    save_network(net, path)
    with zipfile.ZipFile(path) as z:
        assert "tour.json" in z.namelist()
        assert json.loads(z.read("tour.json")) == GOOD  # written as it was given (defaults left out)
    back = load_network(path)
    assert isinstance(back.tour, Tour) and back.tour == net.tour
    assert back.tour.steps[1].action.row == 2 and back.tour.steps[1].action.granularity == "node"
    assert back.tour.steps[0].highlight == ("input_1",)
    for k, v in net.get_weights().items():
        np.testing.assert_array_equal(back.get_weights()[k], v)
    # and again: what was read is what is written
    save_network(back, tmp_path / "u.ann")
    assert load_network(tmp_path / "u.ann").tour == net.tour


def test_a_network_without_a_tour_writes_no_member(tmp_path):
    net = ad.Network(mlp([2, 3, 1]), seed=1)
    assert net.tour is None
    save_network(net, tmp_path / "n.ann")
    with zipfile.ZipFile(tmp_path / "n.ann") as z:
        assert "tour.json" not in z.namelist()
    assert load_network(tmp_path / "n.ann").tour is None


def test_snapshot_keeps_the_tour():
    net = net_with_tour()
    assert net.snapshot().tour == net.tour


def rewrite(src, dst, tour_bytes=None, drop=False, extra=()):
    with zipfile.ZipFile(src) as zi, zipfile.ZipFile(dst, "w") as zo:
        for info in zi.infolist():
            if info.filename == "tour.json":
                if drop:
                    continue
                zo.writestr("tour.json", tour_bytes)
            else:
                zo.writestr(info, zi.read(info))
        for name, data in extra:
            zo.writestr(name, data)


DAMAGED = [
    (b"{not json", "is not valid JSON"),
    (b"\xff\xfe\x00", "is not UTF-8"),
    (b"[1, 2]", "must hold an object"),
    (json.dumps({**GOOD, "version": 7}).encode(), "tour version 7"),
    (json.dumps({**GOOD, "steps": []}).encode(), "'steps' is empty"),
    (json.dumps({**GOOD, "colour": "red"}).encode(), "unknown key 'colour'"),
    (json.dumps({**GOOD, "steps": [{"text": 5}]}).encode(), "step 1.text must be text"),
    (json.dumps({**GOOD, "steps": [{"text": "a", "open": "settings"}]}).encode(), "step 1.open must be one of"),
    (json.dumps({**GOOD, "steps": [{"text": "a"}, {"text": "b", "action": {"do": "train-epochs", "epochs": 9}}]})
     .encode(), "step 2.action.do must be one of"),
    (json.dumps({**GOOD, "steps": [{"text": "a", "action": {"do": "explain-sample"}}]}).encode(),
     "step 1.action (explain-sample) needs 'row'"),
    (json.dumps({**GOOD, "steps": [{"text": "a", "action": {"do": "explain-forward", "steps": 0}}]}).encode(),
     "step 1.action.steps must be from 1"),
    (json.dumps({**GOOD, "steps": [{"text": "x" * (MAX_TEXT + 1)}]}).encode(), "at most 2,000"),
    (json.dumps({**GOOD, "steps": [{"text": "a"}] * (MAX_STEPS + 1)}).encode(), "at most 50 are allowed"),
    (b"[" * 5000 + b"]" * 5000, "tour.json"),
    (b"x" * (300 * 1024), "would unpack to"),
]


@pytest.mark.parametrize("raw,needle", DAMAGED)
def test_a_damaged_tour_is_dropped_with_a_warning(raw, needle, tmp_path):
    src = tmp_path / "good.ann"
    save_network(net_with_tour(), src)
    bad = tmp_path / "bad.ann"
    rewrite(src, bad, raw)
    with pytest.warns(TourWarning) as rec:
        net = load_network(bad)
    assert net.tour is None
    msg = " ".join(str(w.message) for w in rec)
    assert needle in msg and "bad.ann" in msg and "opens without its tour" in msg
    # the rest of the file is intact
    good = load_network(src)
    for k, v in good.get_weights().items():
        np.testing.assert_array_equal(net.get_weights()[k], v)


def test_a_corrupt_tour_member_is_dropped(tmp_path):
    src = tmp_path / "good.ann"
    save_network(net_with_tour(), src)
    raw = bytearray(src.read_bytes())
    with zipfile.ZipFile(src) as z:
        info = z.getinfo("tour.json")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    raw[start + 5] ^= 0xFF  # inside the compressed data: the checksum or the inflate fails
    bad = tmp_path / "bad.ann"
    bad.write_bytes(bytes(raw))
    with pytest.warns(TourWarning, match="tour.json' cannot be unpacked"):
        net = load_network(bad)
    assert net.tour is None and net.compiles


def test_unknown_node_ids_are_dropped_with_a_warning(tmp_path):
    obj = copy.deepcopy(GOOD)
    obj["steps"][0]["highlight"] = ["input_1", "gone_7"]
    obj["steps"][3]["action"]["node"] = "gone_8"
    net = ad.Network(mlp([2, 3, 1]), seed=1)
    net.tour = parse_tour(obj)  # no graph given: nothing checked
    save_network(net, tmp_path / "a.ann")
    with pytest.warns(TourWarning) as rec:
        back = load_network(tmp_path / "a.ann")
    msgs = [str(w.message) for w in rec]
    assert any("step 1.highlight" in m and "'gone_7'" in m for m in msgs)
    assert any("step 4.action.node" in m and "'gone_8'" in m for m in msgs)
    assert back.tour.steps[0].highlight == ("input_1",)
    assert back.tour.steps[3].action is None and back.tour.steps[3].text == "Select."
    with pytest.raises(FileFormatError, match=r"step 1\.highlight: the network has no node 'gone_7'"):
        parse_tour(obj, node_ids=net.graph.nodes, strict=True)


def test_text_html_escapes_everything_but_its_own_markup():
    h = text_html("a <script>x</script> **b** *i* `c` & d\n\nnext")
    assert "<script>" not in h and "&lt;script&gt;" in h and "&amp; d" in h
    assert "<b>b</b>" in h and "<i>i</i>" in h and "<code>c</code>" in h
    assert h.count("<p>") == 2


def test_the_samples_have_tours_on_their_own_nodes():
    for name in ("perceptron", "xor", "digits-cnn", "tiny-transformer"):
        net = load_network(samples_dir() / f"{name}.ann")
        t = net.tour
        assert t is not None and 3 <= len(t.steps) <= 8, name
        ids = [n for s in t.steps for n in s.node_ids()]
        assert ids and set(ids) <= set(net.graph.nodes), name
        assert all(s.open in VIEWS + (None,) for s in t.steps)
        assert any(s.action is not None and s.action.do == "explain-sample" for s in t.steps), name
        # a tour only shows: it never trains
        assert all(s.action is None or s.action.do in ACTIONS for s in t.steps)


# ---------------------------------------------------------------- fuzz
def _mutate(obj, rnd: random.Random, depth=0):
    """One random change somewhere in obj (a copy)."""
    junk = [None, True, 0, -1, 2**70, 1.5, float("nan"), "", "x" * rnd.randint(0, 3000), [], {}, [1], {"a": 1},
            "explain", "explain-sample", "input_1", "\x00", "é" * 10]
    if isinstance(obj, dict) and obj and rnd.random() < 0.85:
        k = rnd.choice(list(obj))
        r = rnd.random()
        out = dict(obj)
        if r < 0.15:
            del out[k]
        elif r < 0.25:
            out[rnd.choice(["extra", "do", "row", "steps", "node", k + "_"])] = rnd.choice(junk)
        elif r < 0.55 or depth > 4:
            out[k] = rnd.choice(junk)
        else:
            out[k] = _mutate(obj[k], rnd, depth + 1)
        return out
    if isinstance(obj, list) and obj and rnd.random() < 0.85:
        i = rnd.randrange(len(obj))
        out = list(obj)
        r = rnd.random()
        if r < 0.2:
            del out[i]
        elif r < 0.3:
            out.extend([out[i]] * rnd.randint(1, 60))
        elif r < 0.55:
            out[i] = rnd.choice(junk)
        else:
            out[i] = _mutate(obj[i], rnd, depth + 1)
        return out
    return rnd.choice(junk)


def test_fuzz_parse_tour_returns_a_tour_or_raises_file_format_error():
    rnd = random.Random(1234)
    ids = {"input_1", "dense_1", "output_1"}
    outcomes = {"tour": 0, "error": 0}
    deadline = time.perf_counter() + 3.0
    n = 0
    while n < 20000 and time.perf_counter() < deadline:
        obj = GOOD
        for _ in range(rnd.randint(1, 4)):
            obj = _mutate(obj, rnd)
        try:
            t = parse_tour(obj, "fz", node_ids=ids if rnd.random() < 0.5 else None)
        except FileFormatError as e:
            assert str(e).startswith("fz")
            outcomes["error"] += 1
        else:
            assert isinstance(t, Tour) and 1 <= len(t.steps) <= MAX_STEPS
            assert all(isinstance(s.text, str) and len(s.text) <= MAX_TEXT for s in t.steps)
            assert all(s.open in VIEWS + (None,) for s in t.steps)
            # what parses is written back and parses to the same tour
            assert parse_tour(json.loads(t.to_json()), "again") == t
            outcomes["tour"] += 1
        n += 1
    assert n >= 1000 and outcomes["tour"] > 0 and outcomes["error"] > 0, (n, outcomes)


def test_fuzz_tour_bytes():
    rnd = random.Random(99)
    base = json.dumps(GOOD).encode()
    for _ in range(2000):
        raw = bytearray(base)
        for _ in range(rnd.randint(1, 8)):
            raw[rnd.randrange(len(raw))] = rnd.randrange(256)
        try:
            t = tour_from_bytes(bytes(raw), "fb")
        except FileFormatError:
            continue
        assert isinstance(t, Tour)


def test_the_samples_hold_the_tours_of_tools_add_tours():
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "add_tours", Path(__file__).resolve().parents[2] / "tools" / "add_tours.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    assert set(tool.TOURS) == {"perceptron", "xor", "digits-cnn", "tiny-transformer"}
    for name, obj in tool.TOURS.items():
        net = load_network(samples_dir() / f"{name}.ann")
        assert net.tour == parse_tour(obj, node_ids=net.graph.nodes, strict=True), \
            f"{name}.ann: run python tools/add_tours.py"
