#!/usr/bin/env python
"""Layer benchmark: Conv2D and LSTM speed against np.matmul (a script, not a test).

    python benchmarks/bench_layers.py            # ~15 s on 2 cores
    python benchmarks/bench_layers.py --strict   # exit 1 when conv is below target

Measured side by side in one run, float32, best of several repeats:

1. Conv2D forward + backward on a batch of 32 images 28×28×1 with 32 filters
   of 3×3 (the node's defaults: "valid" padding, ReLU): achieved GFLOP/s,
   counting the multiply-adds of the convolution (2·N·Ho·Wo·kh·kw·c_in·filters
   per pass; backward has two such products: the kernel gradient and the input
   gradient, ×3 in all). Two references: np.matmul on the same products the
   convolution does as im2col ((N·Ho·Wo, kh·kw·c_in) @ (kh·kw·c_in, filters)
   and its two backward shapes) -- the target, ≥ 30 % -- and np.matmul on
   large square matrices (1024³), the machine's best, for scale. With one
   input channel the products sum over only 9 values, so they are bound by
   memory, not arithmetic, and no implementation gets near the square-matrix
   rate.
   Also a second case with more input channels (N=32, 14×14×16 → 32), where
   the products are larger and BLAS matters more than the data movement.
2. LSTM forward + backward (backprop through time) for N=32, T=20, F=32,
   64 units: GFLOP/s counting its matrix products (per step
   2·N·(F + units)·4·units forward, ×3 with backward) against np.matmul on
   the same product shapes.

The layer runs through the engine exactly as in training: the compiled step's
``forward`` and ``backward`` (the kernel gradient is accumulated into its
Param as during training).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import anndesigner as ad  # noqa: E402
from anndesigner.engine.compiler import compile_graph  # noqa: E402

from bench_engine import best_seconds  # noqa: E402  (this folder is on sys.path when run as a script)

TARGET_CONV = 0.30


def layer_step(type_id: str, in_shape, **params):
    g = ad.Graph()
    x = g.add_node("Input", shape=list(in_shape))
    n = g.add_node(type_id, **params)
    g.connect(x, n)
    out_shape = g.analyze().shapes[n.id]
    y = g.add_node("Output", units=out_shape[-1], activation="linear", loss="mse", use_weights=False)
    g.connect(n, y)
    prog = compile_graph(g, seed=0, dtype=np.float32)
    step = next(s for s in prog.steps if n.id in s.node_ids)
    return step, tuple(out_shape)


def fwd_bwd(step, x, g):
    def run():
        step.forward([x], True)
        for p in step.params:
            p.touched = False
        step.backward(g, [True])
    return run


def matmul_gflops(shapes, repeats: int) -> float:
    """GFLOP/s of np.matmul doing these (m, k, n) products one after another."""
    rng = np.random.default_rng(0)
    mats = [(rng.standard_normal((m, k), dtype=np.float32), rng.standard_normal((k, n), dtype=np.float32),
             np.empty((m, n), np.float32)) for m, k, n in shapes]

    def run():
        for a, b, out in mats:
            np.matmul(a, b, out=out)
    t = best_seconds(run, repeats, 1)
    return sum(2 * m * k * n for m, k, n in shapes) / t / 1e9


def conv_case(n, h, w, cin, filters, k, repeats):
    step, out = layer_step("Conv2D", (h, w, cin), filters=filters, kernel_size=[k, k], padding="valid",
                           activation="relu")
    rng = np.random.default_rng(1)
    x = rng.standard_normal((n, h, w, cin), dtype=np.float32)
    g = rng.standard_normal((n,) + out, dtype=np.float32)
    t = best_seconds(fwd_bwd(step, x, g), repeats, 1)
    ho, wo = out[0], out[1]
    flops = 3 * 2 * n * ho * wo * k * k * cin * filters
    rows, depth = n * ho * wo, k * k * cin
    ref = matmul_gflops([(rows, depth, filters), (depth, rows, filters), (rows, filters, depth)], repeats)
    return t, flops / t / 1e9, ref


def lstm_case(n, steps, f, units, repeats):
    step, out = layer_step("LSTM", (steps, f), units=units, return_sequences=False)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((n, steps, f), dtype=np.float32)
    g = rng.standard_normal((n,) + out, dtype=np.float32)
    t = best_seconds(fwd_bwd(step, x, g), repeats, 1)
    flops = 3 * steps * 2 * n * (f + units) * 4 * units
    # the same products as matmuls: per step, (N, F+units) @ (F+units, 4 units), then two backward shapes
    shapes = [(n, f + units, 4 * units), (f + units, n, 4 * units), (n, 4 * units, f + units)] * steps
    ref = matmul_gflops(shapes, repeats)
    return t, flops / t / 1e9, ref


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--strict", action="store_true", help="exit 1 when conv misses its target")
    args = ap.parse_args()
    r = args.repeats
    print(f"ANN Designer layer benchmark · numpy {np.__version__} · {platform.machine()} · "
          f"{os.cpu_count()} CPUs · load {os.getloadavg()[0]:.2f}")
    print()
    big = matmul_gflops([(1024, 1024, 1024)], r)
    print(f"np.matmul float32 1024³: {big:.1f} GFLOP/s")
    print()
    print(f"{'case':48} {'ms':>8} {'GFLOP/s':>9} {'matmul':>9} {'ratio':>7} {'÷1024³':>7}")
    results = {}
    for label, args_ in [("Conv2D 32×28×28×1 → 32 filters 3×3 (fwd+bwd)", (32, 28, 28, 1, 32, 3)),
                         ("Conv2D 32×14×14×16 → 32 filters 3×3 (fwd+bwd)", (32, 14, 14, 16, 32, 3))]:
        t, gf, ref = conv_case(*args_, r)
        results[label] = gf / ref
        print(f"{label:48} {t * 1e3:8.2f} {gf:9.1f} {ref:9.1f} {gf / ref:7.2f} {gf / big:7.2f}")
    label = "LSTM N=32 T=20 F=32 → 64 units (fwd+bwd, BPTT)"
    t, gf, ref = lstm_case(32, 20, 32, 64, r)
    results[label] = gf / ref
    print(f"{label:48} {t * 1e3:8.2f} {gf:9.1f} {ref:9.1f} {gf / ref:7.2f} {gf / big:7.2f}")
    print("(matmul: np.matmul on the same product shapes; ÷1024³: against np.matmul on 1024³ matrices)")
    first = next(iter(results.values()))
    ok = first >= TARGET_CONV
    print()
    print(f"{'PASS' if ok else 'MISS'}  Conv2D 32×28×28×1, 32 3×3 filters: {100 * first:.0f} % of np.matmul's "
          f"GFLOP/s on the same products (target ≥ {100 * TARGET_CONV:.0f} %)")
    return 1 if args.strict and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
