#!/usr/bin/env python
"""Network-file benchmark (a script, not a test).

    python benchmarks/bench_annfile.py            # 20 rounds
    python benchmarks/bench_annfile.py --rounds 5

What it measures:

1. Loading each of the 12 samples (median of the rounds, milliseconds), and
   all 12 together; the checks a file goes through before anything is built
   (zip, JSON, structure, limits, .npy headers) are included.
2. Saving each sample to a temp folder (median), which also looks for stale
   temp files beside the target.
3. Loading and saving a network of 1 M parameters (Input 1000, Dense 1000,
   Output 1), and the traced memory of the load against its weights' size.

Every figure is wall-clock on a shared machine (the load average is printed).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import anndesigner as ad  # noqa: E402


def median_ms(fn, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=20)
    args = ap.parse_args()
    samples = sorted((ROOT / "samples").glob("*.ann"))
    print(f"load average {os.getloadavg()[0]:.2f}; {args.rounds} rounds; median times")
    nets = {p.stem: ad.load(p) for p in samples}  # imports and caches warm
    total_load = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'sample':18s} {'load ms':>8s} {'save ms':>8s} {'weights':>9s}")
        for p in samples:
            load = median_ms(lambda: ad.load(p), args.rounds)
            out = Path(tmp) / p.name
            save = median_ms(lambda: nets[p.stem].save(out), args.rounds)
            total_load += load
            with zipfile.ZipFile(p) as z:
                size = z.getinfo("weights.npz").file_size
            print(f"{p.stem:18s} {load:8.2f} {save:8.2f} {size / 1024:8.1f}K")
        print(f"{'all 12':18s} {total_load:8.2f}")
        g = ad.Graph()
        x = g.add_node("Input", units=1000)
        d = g.add_node("Dense", units=1000)
        o = g.add_node("Output", units=1)
        g.connect(x, d)
        g.connect(d, o)
        big = ad.Network(g)
        path = Path(tmp) / "big.ann"
        save = median_ms(lambda: big.save(path), max(3, args.rounds // 4))
        load = median_ms(lambda: ad.load(path), max(3, args.rounds // 4))
        tracemalloc.start()
        ad.load(path)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        with zipfile.ZipFile(path) as z:
            size = z.getinfo("weights.npz").file_size
        print(f"1 M parameters: save {save:.1f} ms, load {load:.1f} ms; load traced peak "
              f"{peak / 2**20:.1f} MiB = {peak / size:.2f} x its {size / 2**20:.1f} MiB of weights")
    return 0


if __name__ == "__main__":
    sys.exit(main())
