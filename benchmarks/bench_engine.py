#!/usr/bin/env python
"""Engine benchmark for ANN Designer (a script, not a test).

    python benchmarks/bench_engine.py            # full run (~20 s on 2 cores)
    python benchmarks/bench_engine.py --quick    # smaller data (~5 s)
    python benchmarks/bench_engine.py --epochs 5 --strict

What it measures:

1. Training throughput of an MLP 784-512-256-10 (ReLU, softmax + categorical
   cross-entropy, Adam, batch 128, float32, shuffled) on random data, per
   epoch. Epochs must not get slower (Adam's moments decaying into subnormal
   floats would do that): last/first epoch throughput must be >= 0.9.
2. Achieved GFLOP/s of training (matrix products only) against plain
   ``np.matmul`` float32 on the same machine, same run.
3. The same training with scikit-learn's ``MLPClassifier`` (the ``bench``
   extra); target: ours >= 2x faster.
4. The same small MLP drawn neuron by neuron and as layers: compile time,
   identical outputs given identical weights, and throughput (target: the
   neuron-drawn network within 1.2x of the layer-drawn one).
5. The cost of the divergence check (the trainer's ``StepGuard``: one dot
   product per weight array after each step, and a checkpoint of the weights
   and the optimizer's state every ``StepGuard.EVERY`` steps),
   timed on its own against the mean training step (target: at most 3 %),
   and as whole epochs with and without it, interleaved.
6. A summary with PASS/MISS markers and machine information.

``--strict`` makes the exit status 1 when a target is missed. Every figure is
wall-clock: other busy processes on the machine (the load average is printed)
lower them, the first epoch's most of all.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np

# benchmark the working copy next to this script, installed or not
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import anndesigner as ad  # noqa: E402
from anndesigner.engine import kernels  # noqa: E402
from anndesigner.engine.trainer import BatchEnd, EpochEnd, Finished, StepGuard  # noqa: E402

BATCH = 128
LR = 1e-3
MAIN_SIZES = (784, 512, 256, 10)
NEURON_SIZES = (64, 32, 16, 10)

TARGET_STABLE = 0.9  # last/first epoch throughput
TARGET_SKLEARN = 2.0  # ours/sklearn throughput
TARGET_NEURON = 1.2  # neuron-drawn may be at most 1.2x slower than layer-drawn
TARGET_GUARD = 0.03  # the divergence check: at most 3 % of a training step


# ------------------------------------------------------------------ helpers
def rule(title: str) -> None:
    print()
    print(f"== {title} " + "=" * max(0, 74 - len(title)))


def fmt_rate(x: float) -> str:
    return f"{x:,.0f} samples/s"


def make_data(n: int, d: int, k: int, seed: int = 1234):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d), dtype=np.float32)
    labels = rng.integers(0, k, size=n)
    Y = np.zeros((n, k), np.float32)
    Y[np.arange(n), labels] = 1.0
    return X, Y, labels


def layer_mlp(sizes) -> tuple[ad.Graph, list[str]]:
    """Input -> Dense(relu)... -> Output(softmax, categorical cross-entropy). Returns the graph and
    the ids of the weighted nodes in order."""
    g = ad.Graph()
    prev = g.add_node("Input", units=sizes[0])
    ids = []
    for u in sizes[1:-1]:
        h = g.add_node("Dense", units=u, activation="relu")
        g.connect(prev, h)
        ids.append(h.id)
        prev = h
    y = g.add_node("Output", units=sizes[-1], activation="softmax", loss="categorical_crossentropy")
    g.connect(prev, y)
    ids.append(y.id)
    return g, ids


def neuron_mlp(sizes) -> tuple[ad.Graph, list[list[str]]]:
    """The same MLP drawn neuron by neuron: each hidden layer is ``units`` relu Neuron nodes, each
    wired from every node of the previous layer in the same order; the last layer is linear Neurons
    feeding an Output marker (no weights) that applies softmax. Returns the graph and the neuron
    ids per layer."""
    g = ad.Graph()
    x = g.add_node("Input", units=sizes[0])
    prev = [x]
    layers: list[list[str]] = []
    for i, u in enumerate(sizes[1:]):
        last = i == len(sizes) - 2
        cur = []
        for _ in range(u):
            n = g.add_node("Neuron", activation="linear" if last else "relu")
            for p in prev:
                g.connect(p, n)
            cur.append(n)
        layers.append([n.id for n in cur])
        prev = cur
    y = g.add_node("Output", units=sizes[-1], activation="softmax", loss="categorical_crossentropy",
                   use_weights=False)
    for p in prev:  # the marker's shape holds only once every wire is in; compiling validates it
        g.connect(p, y, check_shapes=False)
    return g, layers


def copy_layer_weights_to_neurons(layer_net, layer_ids, neuron_net, neuron_layers) -> None:
    lw = layer_net.get_weights()
    w = {}
    for lid, nids in zip(layer_ids, neuron_layers):
        K, b = lw[f"{lid}/kernel"], lw[f"{lid}/bias"]
        for j, nid in enumerate(nids):
            w[f"{nid}/kernel"] = K[:, j]
            w[f"{nid}/bias"] = b[j]
    neuron_net.set_weights(w)


def epochs_of(trainer):
    """Drive a trainer generator; yield (epoch, seconds, samples, metrics) at each epoch end."""
    samples = 0
    for ev in trainer.run():
        if isinstance(ev, BatchEnd):
            samples += ev.size
        elif isinstance(ev, EpochEnd):
            yield ev.epoch, ev.seconds, samples, ev.metrics
            samples = 0
        elif isinstance(ev, Finished) and ev.reason != "completed":
            raise RuntimeError(f"training ended early: {ev.reason}: {ev.message}")


def train_settings(epochs: int) -> dict:
    return dict(epochs=epochs, batch_size=BATCH, optimizer="adam", learning_rate=LR, shuffle=True)


def flops_per_sample(sizes) -> dict[str, int]:
    """Matrix-product FLOPs per training sample (multiply + add = 2)."""
    pairs = list(zip(sizes[:-1], sizes[1:]))
    fwd = sum(2 * a * b for a, b in pairs)
    wgrad = fwd  # x.T @ dz per layer
    igrad = sum(2 * a * b for a, b in pairs[1:])  # dz @ W.T, not needed for the first layer
    return {"forward": fwd, "weight_grad": wgrad, "input_grad": igrad, "total": fwd + wgrad + igrad}


def best_seconds(fn, repeats: int, inner: int) -> float:
    """Best over ``repeats`` of the mean time of ``inner`` calls."""
    fn()  # warm up (thread pool, caches)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        best = min(best, (time.perf_counter() - t0) / inner)
    return best


def matmul_references(sizes, quick: bool) -> dict[str, float]:
    """np.matmul float32 GFLOP/s: one batch-shaped product, the full set of products of one
    training step at batch 128 (same shapes and transposes the engine uses), and 1024^3."""
    rng = np.random.default_rng(0)
    f32 = np.float32
    reps = 3 if quick else 7
    out = {}

    a = rng.standard_normal((BATCH, sizes[0]), dtype=f32)
    b = rng.standard_normal((sizes[0], sizes[1]), dtype=f32)
    t = best_seconds(lambda: a @ b, reps, 20 if quick else 50)
    out["single"] = 2 * BATCH * sizes[0] * sizes[1] / t / 1e9

    pairs = list(zip(sizes[:-1], sizes[1:]))
    xs = [rng.standard_normal((BATCH, i), dtype=f32) for i, _ in pairs]  # layer inputs
    Ws = [rng.standard_normal((i, o), dtype=f32) * f32(0.05) for i, o in pairs]
    dzs = [rng.standard_normal((BATCH, o), dtype=f32) for _, o in pairs]

    def step():
        for x, W in zip(xs, Ws):  # forward
            x @ W
        for k in range(len(pairs) - 1, -1, -1):  # backward
            xs[k].T @ dzs[k]
            if k > 0:
                dzs[k] @ Ws[k].T

    t = best_seconds(step, reps, 10 if quick else 30)
    out["step"] = flops_per_sample(sizes)["total"] * BATCH / t / 1e9

    n = 512 if quick else 1024
    A = rng.standard_normal((n, n), dtype=f32)
    B = rng.standard_normal((n, n), dtype=f32)
    t = best_seconds(lambda: A @ B, reps, 2 if quick else 3)
    out["square"] = 2 * n ** 3 / t / 1e9
    out["square_n"] = n
    return out


def machine_info() -> list[str]:
    lines = [f"python {platform.python_version()}, numpy {np.__version__}, "
             f"cpus {os.cpu_count()} ({platform.machine()}, {platform.processor() or platform.system()})"]
    try:
        cfg = np.show_config(mode="dicts")
        blas = cfg["Build Dependencies"]["blas"]
        lines.append(f"BLAS: {blas.get('name')} {blas.get('version')}"
                     + (f" [{blas['openblas configuration']}]" if blas.get("openblas configuration") else ""))
        simd = cfg.get("SIMD Extensions", {})
        if simd:
            lines.append(f"SIMD: baseline {','.join(simd.get('baseline', []))}; found {','.join(simd.get('found', []))}")
    except Exception as exc:  # pragma: no cover - depends on the numpy build
        lines.append(f"BLAS: unknown ({exc})")
    try:
        from threadpoolctl import threadpool_info

        pools = [f"{p.get('internal_api')} {p.get('num_threads')} threads ({p.get('architecture')})"
                 for p in threadpool_info()]
        if pools:
            lines.append("thread pools: " + "; ".join(pools))
    except ImportError:
        pass
    if hasattr(os, "getloadavg"):
        lines.append("load average %.2f %.2f %.2f (other busy processes distort every figure here)" % os.getloadavg())
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        if os.environ.get(var):
            lines.append(f"{var}={os.environ[var]}")
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if os.environ.get(var):
            lines.append(f"{var}={os.environ[var]}: forces an old, slow kernel; run with "
                         "'env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE' for real figures")
    return lines


# ------------------------------------------------------------------- parts
def bench_main_mlp(X, Y, epochs: int, part: str = "1.") -> dict:
    rule(f"{part} MLP {'-'.join(map(str, MAIN_SIZES))}, Adam, batch {BATCH}, float32, {len(X):,} samples, "
         f"{epochs} epochs")
    print(f"  element-wise loops: {kernels.backend()}")
    g, _ = layer_mlp(MAIN_SIZES)
    net = ad.Network(g, seed=0, dtype="float32")
    t_wall = time.perf_counter()
    tr = net.trainer(X, Y, **train_settings(epochs))
    rates, secs = [], []
    for e, s, n, m in epochs_of(tr):
        rates.append(n / s)
        secs.append(s)
        print(f"  epoch {e + 1}: {s:7.3f} s  {fmt_rate(n / s):>22}   loss {m['loss']:.4f}  "
              f"accuracy {m.get('accuracy', float('nan')):.4f}")
    t_wall = time.perf_counter() - t_wall
    total = len(X) * epochs
    ratio = rates[-1] / rates[0]
    print(f"  overall (epoch times):       {fmt_rate(total / sum(secs))}")
    print(f"  overall (wall, with setup):  {fmt_rate(total / t_wall)}  ({t_wall:.2f} s)")
    flag = "" if ratio >= TARGET_STABLE else f"   <-- SLOWER: below {TARGET_STABLE}, epochs grow slower"
    print(f"  last/first epoch throughput: {ratio:.3f}{flag}")
    return {"rates": rates, "seconds": secs, "ratio": ratio, "rate": total / sum(secs),
            "wall_rate": total / t_wall, "wall": t_wall}


def bench_flops(main: dict, quick: bool) -> dict:
    rule("2. Achieved GFLOP/s (matrix products only) vs np.matmul float32")
    f = flops_per_sample(MAIN_SIZES)
    print(f"  FLOPs per sample: forward {f['forward']:,} + weight grads {f['weight_grad']:,} + "
          f"input grads (layers 2-3) {f['input_grad']:,} = {f['total']:,}")
    eng = [r * f["total"] / 1e9 for r in main["rates"]]
    eng_all = main["rate"] * f["total"] / 1e9
    print("  engine: " + ", ".join(f"epoch {i + 1} {v:.1f}" for i, v in enumerate(eng))
          + f"  -> overall {eng_all:.1f} GFLOP/s")
    ref = matmul_references(MAIN_SIZES, quick)
    print(f"  np.matmul ({BATCH}x{MAIN_SIZES[0]})@({MAIN_SIZES[0]}x{MAIN_SIZES[1]}):             "
          f"{ref['single']:6.1f} GFLOP/s")
    print(f"  np.matmul all products of one training step (batch {BATCH}): "
          f"{ref['step']:6.1f} GFLOP/s   <- reference")
    n = ref["square_n"]
    print(f"  np.matmul ({n}x{n})@({n}x{n}):                    {ref['square']:6.1f} GFLOP/s")
    ratio = eng_all / ref["step"]
    print(f"  engine / matmul (batch-128 training-step products): {ratio:.2f}   "
          f"(vs the single batch product: {eng_all / ref['single']:.2f}; vs {n}^3: {eng_all / ref['square']:.2f})")
    return {"engine": eng_all, **ref, "ratio": ratio}


def bench_sklearn(X, labels, epochs: int, ours: dict, numpy_only: dict | None = None) -> dict | None:
    rule(f"3. scikit-learn MLPClassifier, same data (float32), {epochs} epochs")
    try:
        import sklearn
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPClassifier
    except ImportError:
        print("  scikit-learn is not installed: skipped (pip install 'anndesigner[bench]')")
        return None
    clf = MLPClassifier(hidden_layer_sizes=MAIN_SIZES[1:-1], activation="relu", solver="adam", batch_size=BATCH,
                        learning_rate_init=LR, max_iter=epochs, shuffle=True, random_state=0, alpha=0.0, tol=0.0,
                        n_iter_no_change=10 ** 9, early_stopping=False)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, labels)
    t = time.perf_counter() - t0
    rate = len(X) * clf.n_iter_ / t
    print(f"  scikit-learn {sklearn.__version__}: {clf.n_iter_} epochs in {t:.2f} s, {fmt_rate(rate)}, "
          f"weights {clf.coefs_[0].dtype}, final loss {clf.loss_:.4f}")
    ratio = ours["wall_rate"] / rate
    print(f"  ours (wall, with setup) / sklearn: {ratio:.2f}x   "
          f"(epoch times only: {ours['rate'] / rate:.2f}x)   target >= {TARGET_SKLEARN:g}x")
    out = {"rate": rate, "seconds": t, "ratio": ratio, "version": sklearn.__version__}
    if numpy_only is not None:
        out["numpy_ratio"] = numpy_only["wall_rate"] / rate
        print(f"  ours with NumPy only (wall) / sklearn: {out['numpy_ratio']:.2f}x")
    return out


def bench_neurons(n: int, epochs: int) -> dict:
    sizes = NEURON_SIZES
    Xs, Y, _ = make_data(n, sizes[0], sizes[-1], seed=4321)
    rule(f"4. Neuron-drawn vs layer-drawn MLP {'-'.join(map(str, sizes))}, {len(Xs):,} samples, {epochs} epochs")
    t0 = time.perf_counter()
    gl, layer_ids = layer_mlp(sizes)
    t_build_l = time.perf_counter() - t0
    t0 = time.perf_counter()
    gn, neuron_layers = neuron_mlp(sizes)
    t_build_n = time.perf_counter() - t0
    t0 = time.perf_counter()
    layer = ad.Network(gl, seed=0, dtype="float32")
    t_comp_l = time.perf_counter() - t0
    t0 = time.perf_counter()
    neurons = ad.Network(gn, seed=0, dtype="float32")
    t_comp_n = time.perf_counter() - t0
    n_neurons = sum(len(x) for x in neuron_layers)
    print(f"  layer-drawn:  {len(gl.nodes)} nodes, {len(gl.edges)} edges; build graph {t_build_l * 1e3:8.1f} ms, "
          f"compile (Network()) {t_comp_l * 1e3:8.1f} ms")
    print(f"  neuron-drawn: {len(gn.nodes)} nodes ({n_neurons} Neurons), {len(gn.edges):,} edges; build graph "
          f"{t_build_n * 1e3:8.1f} ms, compile (Network()) {t_comp_n * 1e3:8.1f} ms")
    groups = [len(s.node_ids) for s in neurons.program.steps if type(s).__name__ == "DenseStep"]
    fused = groups == list(sizes[1:])
    print(f"  neuron-drawn steps: {[type(s).__name__ for s in neurons.program.steps]}; "
          f"fused neuron groups {groups} ({'one product per layer' if fused else 'NOT fused per layer'})")

    copy_layer_weights_to_neurons(layer, layer_ids, neurons, neuron_layers)
    probe = Xs[:1024]
    pl, pn = layer.predict(probe, standardized=True), neurons.predict(probe, standardized=True)
    diff0 = float(np.max(np.abs(pl - pn)))
    same = bool(np.allclose(pn, pl, rtol=1e-5, atol=1e-6))
    print(f"  same weights -> same outputs: max |neuron - layer| = {diff0:.2e} on {len(probe)} rows "
          f"({'identical' if same else 'DIFFERENT'})")

    # train both, epochs interleaved so machine noise hits both alike
    gens = {"layer": epochs_of(layer.trainer(Xs, Y, **train_settings(epochs))),
            "neuron": epochs_of(neurons.trainer(Xs, Y, **train_settings(epochs)))}
    secs = {"layer": [], "neuron": []}
    for e in range(epochs):
        for name, gen in gens.items():
            _, s, n, m = next(gen)
            secs[name].append(s)
            print(f"  epoch {e + 1} {name:>6}-drawn: {s:6.3f} s  {fmt_rate(n / s):>20}   loss {m['loss']:.4f}")
    for gen in gens.values():
        for _ in gen:  # run to Finished
            pass
    rate = {k: len(Xs) * epochs / sum(v) for k, v in secs.items()}
    thr = rate["neuron"] / rate["layer"]
    print(f"  layer-drawn  {fmt_rate(rate['layer'])}")
    print(f"  neuron-drawn {fmt_rate(rate['neuron'])}")
    print(f"  throughput neuron/layer = {thr:.3f} (target >= {1 / TARGET_NEURON:.3f}); "
          f"neuron-drawn is {1 / thr:.3f}x the layer-drawn time (target <= {TARGET_NEURON:g}x)")
    diff1 = float(np.max(np.abs(layer.predict(probe, standardized=True) - neurons.predict(probe, standardized=True))))
    print(f"  after training both: max |neuron - layer| output = {diff1:.2e}")
    return {"rate": rate, "ratio": thr, "compile": (t_comp_l, t_comp_n), "same": same, "diff": diff0,
            "fused": fused, "diff_after": diff1}


class _NoGuard(StepGuard):
    """A divergence check that checks nothing (for the comparison only)."""

    def checkpoint(self) -> None:
        pass

    def restore(self) -> None:
        pass

    def check(self):
        return None


def bench_guard(sizes, X, Y, epochs: int, label: str) -> dict:
    """The StepGuard's cost on a network of ``sizes``: its check and checkpoint timed alone against the mean
    step of a run, and epochs with and without it (interleaved so machine noise hits both alike)."""
    g, _ = layer_mlp(sizes)
    nets = {"checked": ad.Network(g, seed=0), "unchecked": ad.Network(g.copy(), seed=0)}
    trainers = {k: n.trainer(X, Y, **train_settings(epochs)) for k, n in nets.items()}
    trainers["unchecked"].guard = _NoGuard([])
    gens = {k: epochs_of(t) for k, t in trainers.items()}
    secs = {k: [] for k in gens}
    batches = -(-len(X) // BATCH)
    for e in range(epochs):
        for k in (("checked", "unchecked") if e % 2 else ("unchecked", "checked")):  # who goes first alternates
            _, s, n, _ = next(gens[k])
            secs[k].append(s)
    for gen in gens.values():
        for _ in gen:
            pass
    step = min(secs["checked"]) / batches  # the mean step of the fastest checked epoch
    guard = trainers["checked"].guard

    def check():
        with np.errstate(over="ignore", invalid="ignore"):  # as in the trainer
            guard.check()

    t_check = best_seconds(check, 5, 200)
    t_ck = best_seconds(guard.checkpoint, 3, 20)  # weights, optimizer state, dropout generators
    t = t_check + t_ck / StepGuard.EVERY
    share = t / step
    rates = {k: len(X) / min(v) for k, v in secs.items()}  # fastest epoch of each: least disturbed
    slow = rates["unchecked"] / rates["checked"] - 1
    n_arrays = len(guard.params)
    n_values = sum(p.value.size for p in guard.params)
    print(f"  {label} {'-'.join(map(str, sizes))}: {n_arrays} arrays, {n_values:,} values; mean step "
          f"{step * 1e3:.3f} ms")
    print(f"  {'':{len(label)}} check {t_check * 1e6:.1f} us per step + checkpoint {t_ck * 1e6:.1f} us every "
          f"{StepGuard.EVERY} steps = {t * 1e6:.1f} us = {100 * share:.2f} % of a step "
          f"(target <= {100 * TARGET_GUARD:g} %)")
    print(f"  {'':{len(label)}} fastest epoch with / without the check: {fmt_rate(rates['checked'])} / "
          f"{fmt_rate(rates['unchecked'])} ({100 * slow:+.1f} % time; machine noise is of the order of a few %)")
    return {"share": share, "slow": slow, "step": step, "guard": t}


def bench_guards(X, Y, epochs: int) -> dict:
    rule(f"5. Divergence check (StepGuard), Adam, batch {BATCH}, {epochs} epochs each")
    n = min(len(X), 20_000)
    main = bench_guard(MAIN_SIZES, X[:n], Y[:n], epochs, "MLP")
    Xs, Ys, _ = make_data(n, NEURON_SIZES[0], NEURON_SIZES[-1], seed=4321)
    small = bench_guard(NEURON_SIZES, Xs, Ys, epochs, "MLP")
    return {"main": main, "small": small}


# ------------------------------------------------------------------- main
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smaller data and fewer repeats (~30 s)")
    ap.add_argument("--epochs", type=int, default=3, help="epochs for every training run (default 3)")
    ap.add_argument("--samples", type=int, default=None, help="training samples (default 60000, quick 10000)")
    ap.add_argument("--no-sklearn", action="store_true", help="skip the scikit-learn comparison")
    ap.add_argument("--strict", action="store_true", help="exit with status 1 if a target is missed")
    args = ap.parse_args(argv)
    if args.epochs < 1:
        ap.error("--epochs must be >= 1")
    n = args.samples or (10_000 if args.quick else 60_000)

    t_start = time.perf_counter()
    print(f"ANN Designer {ad.__version__} engine benchmark ({'quick' if args.quick else 'full'} run)")
    for line in machine_info():
        print("  " + line)
    X, Y, labels = make_data(n, MAIN_SIZES[0], MAIN_SIZES[-1])

    t0 = time.perf_counter()
    have_kernels = kernels.enabled()  # imports numba and loads (or compiles) the kernels
    load = time.perf_counter() - t0
    if have_kernels:
        print(f"  loading the compiled kernels took {load:.2f} s (once per process, before the timed runs)")
    main_r = bench_main_mlp(X, Y, args.epochs)
    numpy_r = None
    if have_kernels:  # the same run without the `fast` extra, for comparison
        kernels.use(False)
        numpy_r = bench_main_mlp(X, Y, args.epochs, part="1b.")
        kernels.use(True)
    flops_r = bench_flops(main_r, args.quick)
    sk_r = None if args.no_sklearn else bench_sklearn(X, labels, args.epochs, main_r, numpy_r)
    del X, Y
    # the small network runs ~20x faster: use more rows so that epochs last long enough to time
    neu_r = bench_neurons(args.samples or (30_000 if args.quick else 60_000), args.epochs)
    X, Y, _ = make_data(min(n, 20_000), MAIN_SIZES[0], MAIN_SIZES[-1])
    guard_r = bench_guards(X, Y, args.epochs)
    del X, Y

    rule("Summary")
    rows = []

    def row(name, value, target, ok):
        mark = "info" if ok is None else ("PASS" if ok else "MISS")
        rows.append(ok)
        print(f"  {name:<44} {value:>22}  {target:<16} {mark}")

    row("element-wise loops", kernels.backend().replace(" kernels", ""), "", None)
    row(f"MLP {'-'.join(map(str, MAIN_SIZES))} training", fmt_rate(main_r["rate"]), "", None)
    if numpy_r is not None:
        row("  the same with NumPy only", fmt_rate(numpy_r["rate"]), "", None)
    row("epoch throughput last/first", f"{main_r['ratio']:.3f}", f">= {TARGET_STABLE}",
        main_r["ratio"] >= TARGET_STABLE if args.epochs > 1 else None)
    row("engine GFLOP/s (matrix products)", f"{flops_r['engine']:.1f}", "", None)
    row(f"np.matmul GFLOP/s (batch-{BATCH} step products)", f"{flops_r['step']:.1f}", "", None)
    row(f"np.matmul GFLOP/s ({flops_r['square_n']}^3)", f"{flops_r['square']:.1f}", "", None)
    row("engine / matmul (batch-step products)", f"{flops_r['ratio']:.2f}", "", None)
    if sk_r is not None:
        row(f"scikit-learn {sk_r['version']} MLPClassifier", fmt_rate(sk_r["rate"]), "", None)
        row("ours / scikit-learn", f"{sk_r['ratio']:.2f}x", f">= {TARGET_SKLEARN:g}x", sk_r["ratio"] >= TARGET_SKLEARN)
        if "numpy_ratio" in sk_r:
            row("  ours with NumPy only / scikit-learn", f"{sk_r['numpy_ratio']:.2f}x", "", None)
    else:
        row("ours / scikit-learn", "skipped", f">= {TARGET_SKLEARN:g}x", None)
    sz = "-".join(map(str, NEURON_SIZES))
    row(f"layer-drawn {sz}", fmt_rate(neu_r["rate"]["layer"]), "", None)
    row(f"neuron-drawn {sz}", fmt_rate(neu_r["rate"]["neuron"]), "", None)
    row("neuron/layer throughput", f"{neu_r['ratio']:.3f}", f">= {1 / TARGET_NEURON:.3f}",
        neu_r["ratio"] >= 1 / TARGET_NEURON)
    row("neuron-drawn slowdown (time)", f"{1 / neu_r['ratio']:.3f}x", f"<= {TARGET_NEURON:g}x",
        1 / neu_r["ratio"] <= TARGET_NEURON)
    row("compile layer / neuron-drawn", f"{neu_r['compile'][0] * 1e3:.1f} / {neu_r['compile'][1] * 1e3:.1f} ms", "",
        None)
    row("neuron-drawn fused one product per layer", str(neu_r["fused"]), "True", neu_r["fused"])
    row("same weights -> same outputs", f"max diff {neu_r['diff']:.1e}", "allclose", neu_r["same"])
    for key, sizes in (("main", MAIN_SIZES), ("small", NEURON_SIZES)):
        r = guard_r[key]
        row(f"divergence check / step {'-'.join(map(str, sizes))}", f"{100 * r['share']:.2f} %",
            f"<= {100 * TARGET_GUARD:g} %", r["share"] <= TARGET_GUARD)
        row("  fastest epoch with it vs without", f"{100 * r['slow']:+.1f} % time", "", None)
    missed = sum(1 for ok in rows if ok is False)
    print(f"  {'-' * 96}")
    for line in machine_info():
        print("  " + line)
    print(f"  total benchmark time {time.perf_counter() - t_start:.1f} s; "
          f"{'all targets met' if not missed else f'{missed} target(s) MISSED'}")
    return 1 if (missed and args.strict) else 0


if __name__ == "__main__":
    sys.exit(main())
