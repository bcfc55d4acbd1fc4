"""Fuzz the CSV reader: random cells, delimiters, quotes, long cells, huge numbers,
BOMs, blank lines, ragged rows, bad bytes. Every file must load or raise DataError
(with a line when the problem is at a place in the file); anything else is a bug.

    python tools/fuzz_csv.py                 # 2,000 files, seed 0
    python tools/fuzz_csv.py --files 20000 --seed 7

Prints the outcome counts (loaded, DataError with/without line, other exceptions by
kind) for load_csv, load_csv of the first 200 bytes (max_bytes, the import dialog's check)
and read_csv_preview, and the first few failures in full.
Exit status 1 when any other exception occurred. The test suite runs the same
generator for a few hundred files (tests/data/test_csv_fuzz.py).
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from anndesigner.data import load_csv, read_csv_preview  # noqa: E402
from anndesigner.errors import DataError  # noqa: E402

#: messages of DataErrors that concern the whole file (no line to name)
WHOLE_FILE = ("is empty", "choose at least one", "only one class", "classification needs", "different labels",
              "different values", "standardization", "classes can only", "has text", "the sample shape")


#: the start that "check" reads: the generated files are a few hundred bytes, so most are cut
CHECK_BYTES = 200


def random_cell(rng: np.random.Generator, delimiter: str, wild: float = 1.0) -> str:
    """One cell; with ``wild`` < 1 most cells are plain numbers (files that should load)."""
    kind = rng.integers(0, 16) if rng.random() < wild else rng.integers(0, 7)
    if kind <= 5:
        return f"{rng.normal() * 10.0 ** int(rng.integers(-3, 4)):.{rng.integers(0, 7)}f}"
    if kind == 6:
        return str(int(rng.integers(0, 4)))
    if kind == 7:
        return str(rng.choice(["yes", "no", "cat", "dog", "ä", "ß€", ""]))
    if kind == 8:  # huge or tiny numbers
        return str(rng.choice(["1e308", "-1.7e308", "1e309", "4e38", "-3.5e38", "1e-320", "nan", "inf", "1_0"]))
    if kind == 9:  # quotes
        inner = rng.choice(["a,b", 'say ""hi""', "1;2", "x\ny", "3.5", ""])
        return f'"{inner}"'
    if kind == 10:
        return '"unclosed'
    if kind == 11 and rng.random() < 0.15:  # a long cell (beyond the csv module's limit, sometimes)
        return "7" * int(rng.choice([1000, 131_072, 131_073, 200_000]))
    if kind == 12:
        return "1,5" if delimiter != "," else "1.5"
    if kind == 13:
        return " 2 "
    if kind == 14:
        return "\t"
    return "0"


def random_file(rng: np.random.Generator) -> bytes:
    delimiter = str(rng.choice([",", ";", "\t"]))
    width = int(rng.integers(1, 7))
    n_rows = int(rng.integers(0, 30))
    wild = 1.0 if rng.random() < 0.5 else 0.01
    lines = []
    if rng.random() < 0.6:
        lines.append(delimiter.join(f"h{i}" if rng.random() < 0.9 else "" for i in range(width)))
    if rng.random() < 0.15:  # scikit-learn's counts row, right or wrong
        k = int(rng.integers(0, 4))
        lines.insert(0, f"{n_rows + int(rng.integers(-1, 2))},{width - 1}" + "".join(f",c{i}" for i in range(k)))
    for _ in range(n_rows):
        w = width if rng.random() < (0.9 if wild == 1.0 else 0.995) else int(rng.integers(0, width + 3))
        lines.append(delimiter.join(random_cell(rng, delimiter, wild) for _ in range(w)))
        if rng.random() < 0.1:
            lines.append("")  # blank line
    newline = str(rng.choice(["\n", "\r\n", "\r"])) if rng.random() < 0.3 else "\n"
    text = newline.join(lines) + (newline if rng.random() < 0.8 else "")
    data = text.encode("utf-8")
    if rng.random() < 0.1:
        data = b"\xef\xbb\xbf" + data
    if rng.random() < 0.05 and data:  # a bad byte or a NUL
        i = int(rng.integers(0, len(data)))
        data = data[:i] + bytes([int(rng.choice([0x00, 0xff, 0xe9, 0x80]))]) + data[i:]
    return data


def random_options(rng: np.random.Generator) -> dict:
    opts: dict = {}
    if rng.random() < 0.3:
        opts["header"] = [True, False, "sklearn", "auto"][int(rng.integers(0, 4))]
    if rng.random() < 0.2:
        opts["skip_rows"] = int(rng.integers(0, 3))
    if rng.random() < 0.3:
        opts["standardize"] = False
    if rng.random() < 0.2:
        opts["task"] = ["classification", "regression"][int(rng.integers(0, 2))]
    return opts


def check(path: Path, opts: dict) -> dict[str, str]:
    """``{"load": outcome, "check": outcome, "preview": outcome}`` ("check" reads only the
    first :data:`CHECK_BYTES`, as the import dialog's check of a large file does); an outcome
    is ``loaded``, ``DataError``, ``DataError without line`` (for a problem that has a place)
    or the exception's name."""
    out = {}
    for name, fn in (("load", lambda: load_csv(path, **opts)),
                     ("check", lambda: load_csv(path, **opts, max_bytes=CHECK_BYTES)),
                     ("preview", lambda: read_csv_preview(path))):
        try:
            ds = fn()
            if name != "preview":
                assert np.all(np.isfinite(ds.X)) and np.all(np.isfinite(ds.Y)), "non-finite data loaded"
                assert ds.X.dtype == np.float32 and len(ds.X) == len(ds.Y)
            out[name] = "loaded"
        except DataError as e:
            placed = e.line is not None or any(w in e.message for w in WHOLE_FILE) or "line" not in e.message
            out[name] = "DataError" if placed else "DataError naming no line"
        except Exception as e:  # noqa: BLE001 - the point of fuzzing
            out[name] = f"{type(e).__name__}: {traceback.format_exc(limit=-3)}"
    return out


def run(files: int, seed: int, folder: Path) -> tuple[collections.Counter, list[str]]:
    rng = np.random.default_rng(seed)
    counts: collections.Counter = collections.Counter()
    failures: list[str] = []
    path = folder / "fuzz.csv"
    for i in range(files):
        path.write_bytes(random_file(rng))
        opts = random_options(rng)
        for what, outcome in check(path, opts).items():
            kind = outcome.split(":")[0]
            counts[(what, kind)] += 1
            if kind not in ("loaded", "DataError"):
                failures.append(f"file {i} ({opts}): {what}: {outcome}\n{path.read_bytes()[:300]!r}")
    return counts, failures


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        counts, failures = run(args.files, args.seed, Path(tmp))
    print(f"{args.files} files, seed {args.seed}, {time.perf_counter() - t0:.1f} s")
    for (what, kind), n in sorted(counts.items()):
        print(f"  {what:8s} {kind:28s} {n:6d}")
    for f in failures[:5]:
        print("\n" + f)
    print(f"\n{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
