"""Seeded fuzzing of the ``.ann`` loader over all 12 samples: every damaged or
hostile file loads or raises FileFormatError whose message names the file.

The mutations are those of ``tools/fuzz_annfile.py`` (which runs longer and
prints figures): byte flips (anywhere, and inside deflated members),
truncation, member removal/duplication/swaps/renames, zip header fields, JSON
type confusion at every path of network.json, version-1 files, deep nesting,
hostile .npy headers, zip bombs (32 MiB here) and huge graphs.
"""

import importlib.util
import json
import math
import random
import tracemalloc
import warnings
from pathlib import Path

import pytest

import anndesigner as ad
from anndesigner.graph.model import LIMITS
from anndesigner.io.annfile import OptimizerStateWarning
from anndesigner.io.tour import TourWarning

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("fuzz_annfile", ROOT / "tools" / "fuzz_annfile.py")
fz = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fz)

SAMPLES = fz.load_samples()
BOMB = 32 * 2**20
#: cases per mutation kind (each over randomly chosen samples); about 700 files in all
COUNTS = {"byteflip": 120, "byteflip-deflated": 80, "truncate": 60, "members": 80, "zip-fields": 80,
          "json-type": 80, "json-v1": 30, "json-deep": 12, "npy-header": 80, "zip-bomb": 6, "hostile-graph": 30, "history": 24}


def outcome(tmp_path, data, name):
    path = tmp_path / name
    path.write_bytes(data)
    try:
        with warnings.catch_warnings(record=True) as dropped:
            warnings.simplefilter("error")
            # a damaged optional member (tour.json, optimizer.npz) is dropped with a warning naming the file
            warnings.simplefilter("always", TourWarning)
            warnings.simplefilter("always", OptimizerStateWarning)
            net = ad.load(path)
        assert all(str(w.message).startswith(name + ": ") for w in dropped), [str(w.message) for w in dropped]
    except ad.FileFormatError as e:
        msg = str(e)
        assert msg.startswith(name + ": "), f"the message does not name the file: {msg}"
        assert "Traceback" not in msg and len(msg) < 600
        return "error"
    finally:
        path.unlink()
    # what loads is within the network's limits, or is an unfinished design (never built)
    a = net.graph.analyze()
    assert (a.total_params <= LIMITS.params and all(
        s is None or math.prod(s) <= LIMITS.values_per_node for s in a.shapes.values())) or not net.compiles
    return "load"


def test_every_kind_is_fuzzed():
    assert set(COUNTS) == set(fz.KINDS)
    assert len(SAMPLES) == 12


@pytest.mark.parametrize("kind", sorted(COUNTS))
def test_damaged_files_load_or_raise_file_format_error(tmp_path, kind):
    rng = random.Random(f"annfile-{kind}")
    seen = {"load": 0, "error": 0}
    for i in range(COUNTS[kind]):
        sample, case = fz.make_case(rng, SAMPLES, BOMB, kind)
        seen[outcome(tmp_path, case.data, f"{i:03d}-{sample}.ann")] += 1
    # the mutations do damage: most files are refused (a few are still legal, e.g. a byte flip in a
    # name; a huge graph opens as an unfinished design)
    assert seen["error"] >= COUNTS[kind] // (10 if kind == "hostile-graph" else 3), seen


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_json_type_confusion_at_every_path(tmp_path, sample):
    """Every path of network.json gets a value of another kind (or a raw 1e400,
    a 5000-digit number, a 5000-deep array ...); some paths are deleted."""
    doc0 = json.loads(fz.read_members(SAMPLES[sample])["network.json"])
    members = fz.read_members(SAMPLES[sample])
    rng = random.Random(f"paths-{sample}")
    values = fz.PLAIN_VALUES + [None] * 3
    for i, path in enumerate(fz.json_paths(doc0)):
        doc = json.loads(json.dumps(doc0))
        raw = None
        r = rng.random()
        if r < 0.25:
            raw = fz.RAW_VALUES[i % len(fz.RAW_VALUES)]
            doc = fz.set_path(doc, path, fz.SENTINEL)
        elif r < 0.35 and path:
            doc = fz.set_path(doc, path, None, delete=True)
        else:
            doc = fz.set_path(doc, path, json.loads(json.dumps(values[i % len(values)])))
        members["network.json"] = fz.dump_with_raw(doc, raw)
        outcome(tmp_path, fz.write_members(members), f"p{i:03d}.ann")


@pytest.mark.parametrize("where", ["outer", "inner", "json"])
def test_zip_bombs_cost_a_small_multiple_of_the_real_weights(tmp_path, where):
    for sample in ("xor", "digits-cnn"):
        data = fz._bomb(sample, SAMPLES[sample], where, BOMB)
        real = len(fz.read_members(SAMPLES[sample])["weights.npz"])
        path = tmp_path / f"bomb-{sample}.ann"
        path.write_bytes(data)
        tracemalloc.start()
        try:
            with pytest.raises(ad.FileFormatError, match=f"^bomb-{sample}.ann: "):
                ad.load(path)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 8 * real + 2 * 2**20, f"{where} bomb in {sample}: {peak / 2**20:.1f} MiB traced"


def test_the_samples_themselves_load(tmp_path):
    for name, data in SAMPLES.items():
        assert outcome(tmp_path, data, f"{name}.ann") == "load"
