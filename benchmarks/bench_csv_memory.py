"""Peak memory and time of CSV import (run from the repository root):

    python benchmarks/bench_csv_memory.py            # a 50 MB file
    python benchmarks/bench_csv_memory.py --mb 10    # another size

Writes a CSV of random numbers (10 input columns and a 0/1 class) of about the
given size into a temporary folder, then in a fresh process for each step
measures the peak resident memory (``ru_maxrss``) of Python with NumPy and
ANN Designer imported, and of the same after ``load_csv``, after
``read_csv_preview`` and after the import dialog's check of a change on a large
file (``load_csv(max_bytes=PREVIEW_BYTES)``, its start only). Prints the file size, the peaks, the increase over the
baseline as a multiple of the file size, and the seconds taken.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

CHILD = r"""
import resource, sys, time
import numpy as np
import anndesigner.data as d
what, path = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
if what == "load":
    ds = d.load_csv(path)
    info = f"{len(ds)} rows x {ds.n_inputs} inputs"
elif what == "check":
    ds = d.load_csv(path, max_bytes=d.csvfile.PREVIEW_BYTES)
    info = f"{len(ds)} rows checked"
elif what == "preview":
    names, rows, header = d.read_csv_preview(path)
    info = f"{len(rows)} rows previewed"
else:
    info = "baseline"
dt = time.perf_counter() - t0
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, dt, info)
"""


def write_csv(path: Path, megabytes: float, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    target = int(megabytes * 1e6)
    written = 0
    with open(path, "w", encoding="utf-8") as f:
        f.write(",".join(f"x{i}" for i in range(10)) + ",label\n")
        while written < target:
            block = rng.normal(size=(20_000, 10))
            labels = (block[:, 0] > 0).astype(int)
            lines = "\n".join(",".join(f"{v:.6f}" for v in row) + f",{c}" for row, c in zip(block, labels)) + "\n"
            f.write(lines)
            written += len(lines)


def run(what: str, path: Path) -> tuple[int, float, str]:
    out = subprocess.run([sys.executable, "-c", CHILD, what, str(path)], capture_output=True, text=True,
                         check=True, env=dict(os.environ, PYTHONWARNINGS="error"))
    peak, dt, info = out.stdout.split(" ", 2)
    return int(peak), float(dt), info.strip()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=50.0, help="file size in MB (default 50)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.csv"
        write_csv(path, args.mb)
        size = path.stat().st_size
        print(f"file: {size / 2**20:.1f} MiB")
        base, _, _ = run("baseline", path)
        print(f"baseline (python + numpy + anndesigner.data): {base / 2**20:.0f} MiB")
        for what in ("load", "check", "preview"):
            peak, dt, info = run(what, path)
            print(f"{what:8s} peak {peak / 2**20:7.0f} MiB  (+{(peak - base) / 2**20:.0f} MiB = "
                  f"{(peak - base) / size:.2f} x the file)  {dt:.2f} s  {info}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
