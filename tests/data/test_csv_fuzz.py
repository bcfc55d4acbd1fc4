"""Seeded CSV fuzzing (the generator of tools/fuzz_csv.py): random cells, delimiters,
quotes, long cells, huge numbers, BOMs, blank lines, ragged rows and bad bytes. Each
file loads (finite float32 data) or raises DataError naming its line when the
problem has a place; no other exception. A few hundred files, about two seconds."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from anndesigner.data import load_csv, read_csv_preview
from anndesigner.errors import DataError

TOOL = Path(__file__).resolve().parents[2] / "tools" / "fuzz_csv.py"
spec = importlib.util.spec_from_file_location("fuzz_csv", TOOL)
fuzz = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fuzz)


@pytest.mark.parametrize("seed", [11, 12])
def test_random_files_load_or_raise_data_error(tmp_path, seed):
    counts, failures = fuzz.run(150, seed, tmp_path)
    assert failures == []
    # the generator reaches both outcomes for both readers
    for what in ("load", "check", "preview"):
        assert counts[(what, "loaded")] > 10 and counts[(what, "DataError")] > 10, counts


def test_cell_errors_point_at_a_real_cell(tmp_path):
    """A bad cell's line and column name the cell that holds the bad text."""
    rng = np.random.default_rng(5)
    path = tmp_path / "f.csv"
    for _ in range(60):
        rows = [[f"{v:.3f}" for v in rng.normal(size=3)] for _ in range(int(rng.integers(2, 12)))]
        r, c = int(rng.integers(0, len(rows))), int(rng.integers(0, 2))
        bad = str(rng.choice(["abc", "nan", "inf", "1_0", "--1", "0x10"]))
        rows[r][c] = bad
        path.write_text("a,b,y\n" + "".join(",".join(row) + "\n" for row in rows))
        with pytest.raises(DataError) as info:
            load_csv(path, task="regression")
        assert (info.value.line, info.value.column) == (r + 2, "ab"[c])
        assert f"'{bad}' is not a number" in info.value.message
    assert read_csv_preview(path)[0] == ["a", "b", "y"]
