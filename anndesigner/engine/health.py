"""Health warnings for the last run: cheap statistics that say *why* a network
does or does not learn, each pinned to the node that has the problem. No Qt.

    for f in network.health():
        print(f.node_id, f.kind, f.figure, f.message, f.fix)

:func:`health` works on a copy of the network (:meth:`Network.snapshot`): one
forward pass over at most ``SAMPLE_ROWS`` training rows (evenly spaced), one
backward pass on ``GRADIENT_BATCH`` of them (evenly spaced), and the per-epoch
history. The network, its weights and its optimizer are never touched.

Each :class:`Finding` names its node (None for the run as a whole), its kind,
the figure behind it, a plain-language message quoting that figure, and a
suggested one-click change ``fix`` (data only; the UI applies it):
``{"node": id, "params": {...}}`` (change a node's parameters),
``{"training": {...}}`` (change training settings) or ``{"data": {...}}``
(change the data source), optionally with ``"alternatives"``: a list of
further fixes of the same forms (or ``{"insert_after": id, "type": "dropout",
"params": {...}}``).

The rules and their thresholds (the module constants, quoted in the README):

* **dead_relu** — a unit (a Dense unit, a Conv2D channel, a Neuron) of a
  hidden node with the ``relu`` activation is *dead* when its pre-activation
  z ≤ 0 on every sampled row (every position, for a channel). A finding when
  at least ``DEAD_FRACTION`` (25 %) of the node's units are dead (a node of one
  unit: that unit). Figure: the fraction dead. Fix: ``leaky_relu``.
* **saturation** — a unit of a hidden sigmoid/tanh node is *saturated* when
  |z| > ``SATURATION_Z`` (tanh 3, sigmoid 6: the slope is below 1 % of its
  largest there) on at least ``SATURATED_ROWS`` (90 %) of the sampled values. A
  finding when at least ``SATURATION_FRACTION`` (50 %) of the node's units are
  saturated. Figure: that fraction. Fix: ``relu``. Output nodes are left out
  of both checks (a confident sigmoid/softmax output is what training wants).
* **vanishing_gradient / exploding_gradient** — the gradient norm of each node
  with trainable weights (all its weights together, as the trainer's
  ``grad_norms``) on one batch; nodes in forward order. Let *after* be the
  largest norm among the weighted nodes of the later steps (neurons fused into
  one layer are not compared with each other). Vanishing when the node's
  norm < ``VANISHING_RATIO`` (1e-3) × after, exploding when > ``EXPLODING_RATIO``
  (1e3) × after. Only when *after* ≥ ``MIN_GRADIENT_NORM`` (1e-8: a network at an
  exact minimum has no gradients to compare) and only under backpropagation.
  Figure: the ratio. Fix (vanishing): ``relu`` on the node if it is sigmoid or
  tanh, else a smaller learning rate is not the cure so the fix is None;
  (exploding): ``{"training": {"clipnorm": 1.0}}``.
  If the history records per-node gradient norms (keys ``"grad_norm/<node>"``)
  a node whose norm grew in each of the last ``GROWTH_EPOCHS`` (5) epochs by a
  factor of more than ``EXPLODING_RATIO`` in all is exploding too. (The trainer
  does not record them yet.)
* **lr_too_high** — from ``history["loss"]``: a NaN/infinite epoch loss, or the
  last loss above ``DIVERGED_RATIO`` (2) × the smallest loss of the history
  (diverged; figure: last / smallest); or, over the last ``LR_WINDOW`` (10)
  epoch-to-epoch changes, at least ``OSCILLATING_UPS`` (half) are increases
  (a loss that goes up and down rises every other epoch; a healthy one rarely
  rises), (max − min) / mean of those ``LR_WINDOW + 1`` losses exceeds
  ``OSCILLATING_SPREAD`` (10 %), and their mean is above ``FAR_FROM_ZERO``
  (0.05: the jitter of a loss already near 0 is large relative to it but
  harmless) (oscillating; figure: that spread). Fix: learning rate
  ÷ ``LR_FIX_FACTOR`` (10).
* **lr_too_low** — needs more than ``LR_WINDOW`` epochs: the relative change
  of the loss over the last ``LR_WINDOW`` epochs is below ``LOW_CHANGE``
  (0.1 %), the loss fell by less than ``LOW_TOTAL_DROP`` (10 %) over the whole
  history (a loss that fell and then levelled off is converged, not slow),
  the last loss is above ``FAR_FROM_ZERO`` (0.05) and the metric is short of
  its target (the network's stated target, ``graph.meta["target"]``, when the
  history measures it; otherwise accuracy < ``TARGET_ACCURACY`` 0.95, or
  R² < ``TARGET_R2`` 0.95; without a metric, the loss alone). Figure: the relative change. Fix:
  learning rate × ``LR_FIX_FACTOR``.
* **overfitting** — ``val_loss`` rose in each of the last ``OVERFIT_EPOCHS``
  (5) epochs while ``loss`` fell over the same epochs. Figure: the epochs it has
  been rising. Fix: early stopping (patience 5, restoring the best weights);
  alternatives: L2 1e-4, a Dropout (rate 0.2) after the last hidden node.
* **inputs_not_standardized** — for inputs of flat features (not images,
  sequences or tokens) fed as they are (the data source does not standardize):
  the largest standard deviation of the non-constant columns exceeds
  ``SCALE_RATIO`` (100) × the smallest. Figure: that ratio. Node: the Input.
  Fix: ``{"data": {"standardize": True}}``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np

from ..errors import AnnError
from .step import FeedStep

if TYPE_CHECKING:
    from .network import Network

__all__ = ["Finding", "health", "KINDS"]

KINDS = ("dead_relu", "saturation", "vanishing_gradient", "exploding_gradient", "lr_too_high", "lr_too_low",
         "overfitting", "inputs_not_standardized")

#: rows of the training data the forward pass looks at (evenly spaced)
SAMPLE_ROWS = 2000
#: rows of the backward pass that measures the gradient norms
GRADIENT_BATCH = 256
DEAD_FRACTION = 0.25
SATURATION_Z = {"tanh": 3.0, "sigmoid": 6.0}
SATURATED_ROWS = 0.9
SATURATION_FRACTION = 0.5
VANISHING_RATIO = 1e-3
EXPLODING_RATIO = 1e3
MIN_GRADIENT_NORM = 1e-8
GROWTH_EPOCHS = 5
DIVERGED_RATIO = 2.0
LR_WINDOW = 10
OSCILLATING_UPS = 0.5
OSCILLATING_SPREAD = 0.10
LOW_CHANGE = 1e-3
LOW_TOTAL_DROP = 0.10
FAR_FROM_ZERO = 0.05
TARGET_ACCURACY = 0.95
TARGET_R2 = 0.95
LR_FIX_FACTOR = 10.0
OVERFIT_EPOCHS = 5
SCALE_RATIO = 100.0


@dataclass(frozen=True)
class Finding:
    """One health warning: the node it is pinned to (None: the run as a whole), its kind
    (one of :data:`KINDS`), the figure behind it, a plain-language message and a fix."""

    node_id: str | None
    kind: str
    figure: float
    message: str
    fix: dict | None


def _pct(x: float) -> str:
    return f"{100 * x:.0f} %"


# ------------------------------------------------------------------- data
def _training_rows(network: "Network", data: Any):
    """``(X, Y, raw_X, standardizes, flat_features)`` for the checks, or None without data.
    ``X``/``Y``: as the program takes them (≤ SAMPLE_ROWS rows); ``raw_X``: the rows as they
    are fed before any standardization the data source does (2-D)."""
    flat_features = None
    if data is None:
        if not network.data_source:
            return None
        from ..data import load_source

        try:
            data = load_source(network.data_source)
        except (AnnError, OSError):
            return None
    if isinstance(data, tuple):
        X, Y = data[0], (data[1] if len(data) > 1 else None)
        standardized = False
    else:  # a Dataset: its X is standardized already when it has a scaler
        X, Y = data.X, data.Y
        standardized = True
        flat_features = data.input_shape is None
        standardizes = data.scaler is not None
    X = np.asarray(X)
    n = len(X)
    idx = np.unique(np.linspace(0, n - 1, min(n, SAMPLE_ROWS)).round().astype(int)) if n else np.arange(0)
    X = X[idx]
    Y = None if Y is None else np.asarray(Y)[idx] if np.ndim(Y) else None
    Xp, Yp = network._inputs(X, standardized, network._encode_labels(Y) if Y is not None else None)
    if not standardized:
        standardizes = network.scaler is not None
    prog = network.program
    if flat_features is None:
        flat_features = all(len(shape) == 1 for _, _, shape in prog.inputs)
    raw = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
    return Xp, Yp, raw, standardizes, flat_features


# ------------------------------------------------------------ activations
def _units_of(prog, step) -> list[tuple[str, int, int]]:
    """(node id, first column, stop column) of each node a step computes."""
    if len(step.node_ids) == 1:
        return [(step.node_ids[0], 0, prog.widths[step.out])]
    out = []
    for nid in step.node_ids:
        v = prog.node_values.get(nid)
        if v and len(v) == 1 and v[0].buf == step.out:
            out.append((nid, v[0].start, v[0].stop))
    return out


def _activation_findings(network: "Network", prog, outputs: set[str]) -> list[Finding]:
    found: list[Finding] = []
    for step in prog.steps:
        a = getattr(step, "activation", None)
        z = getattr(step, "z", None)
        if isinstance(step, FeedStep) or a not in ("relu", "tanh", "sigmoid") or not isinstance(z, np.ndarray):
            continue
        if step.out < 0 or z.shape[-1] != prog.widths[step.out]:
            continue
        z2 = z.reshape(-1, z.shape[-1])
        if a == "relu":
            alive = (z2 > 0).any(axis=0)
        else:
            frac = (np.abs(z2) > SATURATION_Z[a]).mean(axis=0)
        for nid, c0, c1 in _units_of(prog, step):
            if nid in outputs:
                continue
            units = c1 - c0
            what = network.describe_node(nid)
            if a == "relu":
                dead = np.flatnonzero(~alive[c0:c1])
                f = len(dead) / units
                if units and len(dead) and f >= DEAD_FRACTION:
                    which = ", ".join(str(i) for i in dead[:10]) + (" …" if len(dead) > 10 else "")
                    unit = "units" if z.ndim == 2 else "channels"
                    found.append(Finding(nid, "dead_relu", f,
                                         f"{len(dead)} of {units} {unit} ({_pct(f)}) of {what} were never active "
                                         f"on {'' if z.ndim == 2 else 'any position of '}"
                                         f"{len(z)} training rows ({unit} {which}): their output and gradient "
                                         f"are always 0, so they no longer learn",
                                         {"node": nid, "params": {"activation": "leaky_relu"}}))
            else:
                sat = np.flatnonzero(frac[c0:c1] >= SATURATED_ROWS)
                f = len(sat) / units
                if units and len(sat) and f >= SATURATION_FRACTION:
                    found.append(Finding(nid, "saturation", f,
                                         f"{len(sat)} of {units} {a} units ({_pct(f)}) of {what} are saturated: "
                                         f"|z| > {SATURATION_Z[a]:g} on at least {_pct(SATURATED_ROWS)} of "
                                         f"{len(z)} training rows, where the slope of {a} is nearly 0, so "
                                         f"little gradient passes through them",
                                         {"node": nid, "params": {"activation": "relu"}}))
    return found


# -------------------------------------------------------------- gradients
def _grad_norms(prog) -> list[tuple[str, float, int]]:
    """(node id, gradient norm, step index) per node with trainable weights, in forward order."""
    sq: dict[str, float] = {}
    at: dict[str, int] = {}
    for i, step in enumerate(prog.steps):
        for p in getattr(step, "params", ()) or ():
            if not p.trainable:
                continue
            g = p.grad.astype(np.float64)
            if p.parts:
                for name, col in p.parts:
                    nid = name.split("/")[0]
                    sq[nid] = sq.get(nid, 0.0) + float(np.sum(g[..., col] ** 2))
                    at.setdefault(nid, i)
            else:
                nid = p.name.split("/")[0]
                sq[nid] = sq.get(nid, 0.0) + float(np.sum(g ** 2))
                at.setdefault(nid, i)
    return [(k, math.sqrt(v), at[k]) for k, v in sq.items()]


def gradient_norms(network: "Network", X: np.ndarray, Y: np.ndarray) -> list[tuple[str, float, int]]:
    """``(node id, gradient norm, step index)`` per node with trainable weights: one backward
    pass on rows ``X``/``Y`` (as the program takes them), on a copy of the network, in forward
    order (fused neurons share their step's index)."""
    work = network.snapshot()
    prog = work.program
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        prog.forward([X], training=False)
        prog.backward([Y])
    norms = _grad_norms(prog)
    prog.clear()
    return norms


def _gradient_findings(network: "Network", norms: list[tuple[str, float, int]]) -> list[Finding]:
    found = []
    for nid, g, i in norms:
        later = [v for _, v, j in norms if j > i]
        if not later:
            continue
        after = max(later)
        if not (math.isfinite(after) and after >= MIN_GRADIENT_NORM) or not math.isfinite(g):
            continue
        ratio = g / after
        what = network.describe_node(nid)
        if ratio < VANISHING_RATIO:
            a = network.graph.nodes[nid].params.get("activation") if nid in network.graph.nodes else None
            fix = {"node": nid, "params": {"activation": "relu"}} if a in ("sigmoid", "tanh") else None
            found.append(Finding(nid, "vanishing_gradient", ratio,
                                 f"the gradient reaching {what} is {ratio:.2g} × the largest of the layers after "
                                 f"it (norm {g:.3g} against {after:.3g}): it learns far more slowly than they do",
                                 fix))
        elif ratio > EXPLODING_RATIO:
            found.append(Finding(nid, "exploding_gradient", ratio,
                                 f"the gradient reaching {what} is {ratio:.3g} × the largest of the layers after "
                                 f"it (norm {g:.3g} against {after:.3g}): its updates are huge",
                                 {"training": {"clipnorm": 1.0}}))
    return found


def _history_gradient_findings(network: "Network", hist: Mapping[str, list[float]], seen: set) -> list[Finding]:
    found = []
    for key, col in hist.items():
        if not key.startswith("grad_norm/"):
            continue
        nid = key.split("/", 1)[1]
        v = [x for x in col if x is not None and math.isfinite(x)]
        if len(v) <= GROWTH_EPOCHS or nid in seen:
            continue
        last = v[-GROWTH_EPOCHS - 1:]
        if all(b > a for a, b in zip(last, last[1:])) and last[0] > 0 and last[-1] / last[0] > EXPLODING_RATIO:
            r = last[-1] / last[0]
            found.append(Finding(nid, "exploding_gradient", r,
                                 f"the gradient norm of {network.describe_node(nid)} grew in each of the last "
                                 f"{GROWTH_EPOCHS} epochs, {r:.3g}× in all", {"training": {"clipnorm": 1.0}}))
    return found


# ---------------------------------------------------------------- history
def _col(hist: Mapping[str, list[float]], key: str) -> list[float]:
    return [math.nan if x is None else float(x) for x in hist.get(key, [])]


def _lr_findings(network: "Network", hist: Mapping[str, list[float]]) -> list[Finding]:
    loss = _col(hist, "loss")
    if len(loss) < 2:
        return []
    lr = float(network.training.learning_rate)
    lower = {"training": {"learning_rate": lr / LR_FIX_FACTOR}}
    if not all(math.isfinite(x) for x in loss):
        bad = next(i for i, x in enumerate(loss) if not math.isfinite(x))
        return [Finding(None, "lr_too_high", math.inf,
                        f"the loss became NaN or infinite at epoch {bad + 1}: the learning rate {lr:g} is too high",
                        lower)]
    lo = min(loss)
    if lo > 0 and loss[-1] > DIVERGED_RATIO * lo:
        r = loss[-1] / lo
        return [Finding(None, "lr_too_high", r,
                        f"the loss diverged: it is {r:.3g} × its lowest value ({loss[-1]:.4g} against {lo:.4g}); "
                        f"the learning rate {lr:g} is probably too high", lower)]
    if len(loss) <= LR_WINDOW:
        return []
    w = loss[-LR_WINDOW - 1:]
    ups = sum(b > a for a, b in zip(w, w[1:]))
    mean = sum(w) / len(w)
    spread = (max(w) - min(w)) / mean if mean > 0 else 0.0
    if ups >= OSCILLATING_UPS * LR_WINDOW and spread > OSCILLATING_SPREAD and mean > FAR_FROM_ZERO:
        return [Finding(None, "lr_too_high", spread,
                        f"the loss oscillates: it rose in {ups} of the last {LR_WINDOW} epochs and varied by "
                        f"{_pct(spread)} of its mean; the learning rate {lr:g} is probably too high", lower)]
    change = abs(w[-1] - w[0]) / w[0] if w[0] > 0 else 0.0
    total = (loss[0] - loss[-1]) / loss[0] if loss[0] > 0 else 1.0
    acc, r2 = _col(hist, "accuracy"), _col(hist, "r2")
    target = network.graph.meta.get("target")
    reached = _target_reached(target, {k: _col(hist, k)[-1] for k in hist if _col(hist, k)})
    if reached is not None:
        short = not reached
    elif acc and math.isfinite(acc[-1]):
        short = acc[-1] < TARGET_ACCURACY
    elif r2 and math.isfinite(r2[-1]):
        short = r2[-1] < TARGET_R2
    else:
        short = True
    if change < LOW_CHANGE and total < LOW_TOTAL_DROP and w[-1] > FAR_FROM_ZERO and short:
        return [Finding(None, "lr_too_low", change,
                        f"the loss barely moves: it changed by {100 * change:.3g} % over the last {LR_WINDOW} epochs "
                        f"(and {100 * total:.3g} % over all {len(loss)}) while still at {w[-1]:.4g}; "
                        f"the learning rate {lr:g} is probably too low",
                        {"training": {"learning_rate": lr * LR_FIX_FACTOR}})]
    return []


def _target_reached(target: Any, last: Mapping[str, float]) -> bool | None:
    """Whether the network's stated target (``graph.meta["target"]``) is met by the last
    epoch's metrics; None without a (valid, measured) target."""
    if not target:
        return None
    from .. import targets

    try:
        value, ok = targets.reached(targets.check(target), last)
    except AnnError:
        return None
    return None if value is None or not math.isfinite(value) else bool(ok)


def _overfit_findings(network: "Network", hist: Mapping[str, list[float]]) -> list[Finding]:
    val, loss = _col(hist, "val_loss"), _col(hist, "loss")
    if len(val) <= OVERFIT_EPOCHS or len(loss) != len(val):
        return []
    k = 0
    for a, b in zip(reversed(val[:-1]), reversed(val)):
        if not (b > a):
            break
        k += 1
    if k < OVERFIT_EPOCHS or not loss[-1] < loss[-1 - k]:
        return []
    alternatives: list[dict] = [{"training": {"l2": 1e-4}}]
    hidden = _last_hidden(network)
    if hidden is not None:
        alternatives.append({"insert_after": hidden, "type": "dropout", "params": {"rate": 0.2}})
    fix = {"training": {"early_stopping": True, "patience": OVERFIT_EPOCHS, "restore_best_weights": True},
           "alternatives": alternatives}
    return [Finding(None, "overfitting", float(k),
                    f"the validation loss has risen for {k} epochs in a row ({val[-1 - k]:.4g} → {val[-1]:.4g}) "
                    f"while the training loss fell ({loss[-1 - k]:.4g} → {loss[-1]:.4g}): the network learns "
                    f"the training rows by heart; stop early, or add dropout or L2", fix)]


def _last_hidden(network: "Network") -> str | None:
    prog = network.program
    outputs = {o.node_id for o in prog.outputs}
    last = None
    for step in prog.steps:
        if getattr(step, "params", None) and not isinstance(step, FeedStep):
            nid = step.node_ids[0]
            if nid not in outputs:
                last = nid
    return last


# ------------------------------------------------------------------ inputs
def _input_findings(network: "Network", raw: np.ndarray, standardizes: bool, flat: bool) -> list[Finding]:
    if standardizes or not flat or len(raw) < 2:
        return []
    sd = raw.std(axis=0)
    sd = sd[np.isfinite(sd) & (sd > 0)]
    if len(sd) < 2:
        return []
    ratio = float(sd.max() / sd.min())
    if ratio <= SCALE_RATIO:
        return []
    prog = network.program
    nid = prog.inputs[0][0] if len(prog.inputs) == 1 else None
    return [Finding(nid, "inputs_not_standardized", ratio,
                    f"the input columns' standard deviations differ {ratio:.3g}× (from {sd.min():.3g} to "
                    f"{sd.max():.3g}) and the data are not standardized: the large columns dominate the first "
                    f"layer and training is slow and unstable", {"data": {"standardize": True}})]


# ------------------------------------------------------------------- main
def health(network: "Network", data: Any = None, history: Any = None) -> list[Finding]:
    """The health findings for the last run of ``network``.

    ``data``: the training rows, a :class:`~anndesigner.data.Dataset` or ``(X, Y)`` raw rows
    (default: the network's data source, reloaded; without data only the history checks run).
    ``history``: a :class:`History` or a dict of per-epoch lists (default: the network's).
    Findings come in the order: inputs, activations, gradients (forward order), learning
    rate, overfitting."""
    if history is None:
        history = network.history
    hist = history.data if hasattr(history, "data") else dict(history or {})
    found: list[Finding] = []
    rows = _training_rows(network, data) if network.compiles else None
    if rows is not None:
        X, Y, raw, standardizes, flat = rows
        found += _input_findings(network, raw, standardizes, flat)
        work = network.snapshot()
        prog = work.program
        for step in prog.steps:
            if hasattr(step, "keep_z"):
                step.keep_z = True
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            prog.forward([X], training=False)
        found += _activation_findings(network, prog, {o.node_id for o in prog.outputs})
        prog.clear()
        if network.training.rule == "backprop" and Y is not None and len(X):
            pick = np.unique(np.linspace(0, len(X) - 1, min(GRADIENT_BATCH, len(X))).round().astype(int))
            found += _gradient_findings(network, gradient_norms(network, X[pick], Y[pick]))
    seen = {f.node_id for f in found if f.kind == "exploding_gradient"}
    found += _history_gradient_findings(network, hist, seen)
    found += _lr_findings(network, hist)
    found += _overfit_findings(network, hist)
    return found
