"""Explain mode: the trace of one training step for one sample, headless.

    trace = explain(network, x, y)
    print(trace.to_text())

Everything is computed by the engine's own compiled program (the steps'
forward and backward, ``losses``, the trainer's regularization and its
optimizer) on a **copy** of the network (:meth:`Network.snapshot`): the
network's weights, optimizer and dropout generators are never touched.

What the trace holds, in the order the engine runs:

* per node (:class:`NodeTrace`), in the program's step order: its inputs, its
  pre-activation ``z`` where its step keeps one (Dense, Neuron, Output with
  weights, Activation, Conv2D), its output. Nodes the compiler fused (neurons
  drawn one by one run as one dense step) are mapped back: each Neuron gets its
  own column of the fused step's ``z`` and output;
* the loss per Output (:class:`LossTrace`), the regularization term
  (L1/L2 of the training settings, as the trainer adds it) and their sum;
* per node in reverse (:class:`DeltaTrace`): δ = ∂L/∂output and, where the
  node has a ``z``, ∂L/∂z;
* per weight (:class:`WeightTrace`, named like :meth:`Network.get_weights`):
  value, gradient (regularization included), the update the configured
  optimizer (or learning rule) applies next and the weight after it;
* the loss of the same sample after that update (same dropout mask).

Arrays have the network's dtype (float32 unless the network was built with
float64), or the ``dtype`` asked for (then the trace runs on a float64 copy of
the network: the same weights, exact to the last digit of float32). Every array
is one sample's: the batch axis is removed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np

from ..errors import AnnError, DataError
from . import activations as act
from . import losses
from .step import FeedStep

if TYPE_CHECKING:
    from .network import Network

__all__ = ["explain", "loss_numbers", "LOSS_FORMULAS", "Trace", "NodeTrace", "LossTrace", "DeltaTrace", "WeightTrace"]

#: the loss formulas as shown in the report (p: prediction, t: target, n: values, r: rows)
LOSS_FORMULAS = {
    "mse": "mean((p − t)²)",
    "mae": "mean(|p − t|)",
    "huber": "mean(½(p − t)² if |p − t| ≤ 1 else |p − t| − ½)",
    "binary_crossentropy": "−mean(t·log p + (1 − t)·log(1 − p))",
    "categorical_crossentropy": "−Σ t·log p",
    "kl_divergence": "Σ t·log(t / p)",
}


# ------------------------------------------------------------------ records
@dataclass(frozen=True)
class NodeTrace:
    """One node's forward values for the sample."""

    node_id: str
    type_id: str
    #: the nodes wired into it, per input port in the type's port order, each port's wires in edge order
    inputs: tuple[str, ...]
    #: the outputs of ``inputs`` (the same arrays as their NodeTrace.output)
    input_values: tuple[np.ndarray, ...]
    #: the pre-activation where the node's step has one, else None
    z: np.ndarray | None
    output: np.ndarray
    activation: str | None
    #: the other nodes its step computes (a fused group), empty for a step of its own
    fused_with: tuple[str, ...] = ()
    #: index of the compiled step that computes it; None for a node without a step
    #: (Input fed from the data, Concatenate, an Output marker)
    step: int | None = None


@dataclass(frozen=True)
class LossTrace:
    output_id: str
    name: str
    activation: str
    prediction: np.ndarray
    target: np.ndarray
    value: float
    #: computed from the logits z (sigmoid + binary, softmax + categorical), as the engine does
    from_logits: bool


@dataclass(frozen=True)
class DeltaTrace:
    node_id: str
    #: ∂L/∂output (None where no gradient flows: Inputs, nodes upstream of every weight)
    delta: np.ndarray | None
    #: ∂L/∂z where the node has a z
    delta_z: np.ndarray | None


@dataclass(frozen=True)
class WeightTrace:
    name: str  # "<node id>/<weight>", as Network.get_weights
    node_id: str
    value: np.ndarray
    grad: np.ndarray | None  # None under a learning rule without gradients
    update: np.ndarray  # Δw = after − value
    after: np.ndarray
    #: whether the L1/L2 terms of the training settings apply to it (kernels yes, biases no)
    regularized: bool = False


@dataclass(frozen=True)
class Trace:
    dtype: np.dtype
    training: bool  # forward in training mode (dropout on, batch statistics)
    sample: np.ndarray  # the data row as fed (the network's input shape; several Inputs: one flat row)
    target: np.ndarray | None
    nodes: tuple[NodeTrace, ...]
    losses: tuple[LossTrace, ...] = ()
    data_loss: float | None = None
    regularization: float = 0.0
    loss: float | None = None  # data_loss + regularization, as the trainer reports it
    deltas: tuple[DeltaTrace, ...] = ()  # reverse order
    weights: tuple[WeightTrace, ...] = ()
    loss_after: float | None = None
    data_loss_after: float | None = None
    rule: str = "backprop"
    optimizer: str | None = None
    learning_rate: float | None = None
    l1: float = 0.0
    l2: float = 0.0
    clipnorm: float | None = None
    iterations_before: int = 0  # the optimizer's step count before this step
    #: the optimizer's state after this step (``Optimizer.state_dict()``; None under the other
    #: rules): what the network keeps if the step is applied
    optimizer_state_after: dict | None = None

    # ------------------------------------------------------ lookups
    def node(self, node_id: str) -> NodeTrace:
        for n in self.nodes:
            if n.node_id == node_id:
                return n
        raise KeyError(node_id)

    def node_of(self, node_id: str, types: tuple[str, ...], *, inputs: int | None = None) -> NodeTrace:
        """The node's trace, checked to be one of ``types`` (and to have ``inputs`` inputs):
        an AnnError naming the node otherwise (for the views that write a layer out)."""
        try:
            n = self.node(node_id)
        except KeyError:
            raise AnnError(f"the trace has no node '{node_id}'") from None
        if n.type_id not in types:
            raise AnnError(f"node '{node_id}' is a {n.type_id}, not "
                           + (f"a {types[0]}" if len(types) == 1 else f"one of {', '.join(types)}"))
        if inputs is not None and len(n.input_values) != inputs:
            raise AnnError(f"node '{node_id}' has {len(n.input_values)} inputs in the trace, not {inputs}")
        return n

    def delta(self, node_id: str) -> DeltaTrace:
        for d in self.deltas:
            if d.node_id == node_id:
                return d
        raise KeyError(node_id)

    def weight(self, name: str) -> WeightTrace:
        for w in self.weights:
            if w.name == name:
                return w
        raise KeyError(name)

    @property
    def outputs(self) -> dict[str, np.ndarray]:
        """Output node id -> prediction."""
        return {lt.output_id: lt.prediction for lt in self.losses} or {
            n.node_id: n.output for n in self.nodes if n.type_id == "Output"}

    # ------------------------------------------------------- report
    def to_text(self, max_values: int = 8) -> str:
        f = lambda a: _fmt(a, max_values)  # noqa: E731
        mode = "training mode" if self.training else "prediction mode"
        lines = [f"Explain: one {'training step' if self.target is not None else 'forward pass'} "
                 f"for one sample ({np.dtype(self.dtype).name}, {mode})",
                 f"sample x = {f(self.sample)}"]
        if self.target is not None:
            lines.append(f"target t = {f(self.target)}")
        lines += ["", "Forward"]
        for n in self.nodes:
            fused = f", fused with {', '.join(n.fused_with)}" if n.fused_with else ""
            lines.append(f"  {n.node_id} ({n.type_id}{fused})")
            for src, v in zip(n.inputs, n.input_values):
                lines.append(f"    in  {src}: {f(v)}")
            if n.z is not None:
                lines.append(f"    z        = {f(n.z)}")
                lines.append(f"    {n.activation}(z) = {f(n.output)}")
            else:
                lines.append(f"    out      = {f(n.output)}")
        if self.losses:
            lines += ["", "Loss"]
            for lt in self.losses:
                how = " (computed from z, stable)" if lt.from_logits else ""
                lines.append(f"  {lt.output_id}: {lt.name} = {LOSS_FORMULAS.get(lt.name, lt.name)}{how}")
                lines.append(f"    p = {f(lt.prediction)}")
                lines.append(f"    t = {f(lt.target)}")
                numbers = loss_numbers(lt.name, lt.prediction, lt.target, max_values)
                lines.append(f"    = {numbers + ' = ' if numbers else ''}{lt.value:.6g}")
            if self.l1 or self.l2:
                terms = []
                if self.l2:
                    terms.append(f"{self.l2:g}·Σw²")
                if self.l1:
                    terms.append(f"{self.l1:g}·Σ|w|")
                lines.append(f"  regularization {' + '.join(terms)} = {self.regularization:.6g}")
            lines.append(f"  L = {self.loss:.6g}")
        if self.deltas:
            lines += ["", "Backward (δ = ∂L/∂output)"]
            for d in self.deltas:
                if d.delta is None and d.delta_z is None:
                    continue
                lines.append(f"  {d.node_id}: δ = {f(d.delta)}")
                if d.delta_z is not None:
                    lines.append(f"    ∂L/∂z = {f(d.delta_z)}")
        if self.weights:
            if self.rule == "backprop":
                how = f"{self.optimizer}, learning rate {self.learning_rate:g}"
                if self.clipnorm:
                    how += f", clipnorm {self.clipnorm:g}"
                how += f", step {self.iterations_before + 1}"
            else:
                how = f"the {self.rule} rule, learning rate {self.learning_rate:g}"
            lines += ["", f"Update ({how})"]
            for w in self.weights:
                lines.append(f"  {w.name}")
                lines.append(f"    w  = {f(w.value)}")
                if w.grad is not None:
                    lines.append(f"    g  = {f(w.grad)}")
                lines.append(f"    Δw = {f(w.update)}")
                lines.append(f"    w' = {f(w.after)}")
        if self.loss_after is not None:
            change = self.loss_after - self.loss
            lines += ["", f"Loss after the update: {self.loss_after:.6g} (before {self.loss:.6g}, "
                          f"change {change:+.3g})"]
        return "\n".join(lines)


def loss_numbers(name: str, p: np.ndarray, t: np.ndarray, k: int) -> str:
    """The loss formula with the sample's numbers in it ("" when there are more than ``k`` values)."""
    p, t = np.asarray(p, np.float64).reshape(-1), np.asarray(t, np.float64).reshape(-1)
    if p.size > k or p.size != t.size:
        return ""
    g = lambda v: f"{v:.4g}"  # noqa: E731
    mean = (lambda terms: "mean(" + ", ".join(terms) + ")") if p.size > 1 else (lambda terms: terms[0])
    if name == "mse":
        return mean([f"({g(a)} − {g(b)})²" for a, b in zip(p, t)])
    if name == "mae":
        return mean([f"|{g(a)} − {g(b)}|" for a, b in zip(p, t)])
    if name == "huber":
        return mean([f"huber({g(a)} − {g(b)})" for a, b in zip(p, t)])
    if name == "binary_crossentropy":
        return "−" + mean([f"({g(b)}·log {g(a)} + {g(1 - b)}·log {g(1 - a)})" for a, b in zip(p, t)])
    if name == "categorical_crossentropy":
        terms = [f"{g(b)}·log {g(a)}" for a, b in zip(p, t) if b != 0]
        return "−(" + " + ".join(terms or ["0"]) + ")"
    if name == "kl_divergence":
        terms = [f"{g(b)}·log({g(b)} / {g(a)})" for a, b in zip(p, t) if b > 0]
        return " + ".join(terms or ["0"])
    return ""


def _fmt(a: np.ndarray | None, k: int) -> str:
    if a is None:
        return "—"
    a = np.asarray(a)
    if a.ndim == 0:
        return f"{float(a):.4g}"
    flat = a.reshape(-1)
    shown = ", ".join(f"{float(v):.4g}" for v in flat[:k])
    shape = "×".join(map(str, a.shape))
    if flat.size > k:
        return f"[{shown}, …] ({shape + ', ' if a.ndim > 1 else ''}{flat.size} values)"
    return f"[{shown}]" + (f" ({shape})" if a.ndim > 1 else "")


# ------------------------------------------------------------------ feeding
def _rows(network: "Network", prog, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray | None]:
    """One sample as a batch of one row, checked as the network checks data."""
    if isinstance(x, Mapping):
        ids = [nid for nid, _, _ in prog.inputs]
        unknown = sorted(set(x) - set(ids))
        missing = [nid for nid in ids if nid not in x]
        if unknown or missing:
            parts = ([f"no Input node {', '.join(map(repr, unknown))}"] if unknown else []) + (
                [f"no value for Input {', '.join(map(repr, missing))}"] if missing else [])
            raise DataError(f"explain: {'; '.join(parts)} (the Inputs are {', '.join(ids)})")
        pieces = []
        for nid, _, shape in prog.inputs:
            v = np.asarray(x[nid])
            if v.size != math.prod(shape):
                raise DataError(f"explain: Input '{nid}' takes {tuple(shape)} ({math.prod(shape)} values), "
                                f"not {v.shape} ({v.size} values)")
            pieces.append(v.reshape(-1))
        X = np.concatenate(pieces)[None] if len(pieces) > 1 else pieces[0].reshape((1,) + tuple(prog.inputs[0][2]))
    else:
        X = np.asarray(x)[None]
    Y = None
    if y is not None:
        Y = np.asarray(y).reshape(1, -1)
    return network._check_data(X, Y)


# ------------------------------------------------------------------ explain
def explain(network: "Network", x: Any, y: Any = None, *, optimizer_state: Mapping[str, Any] | None = None,
            training: bool | None = None, epoch: int = 0, dtype: Any = None) -> Trace:
    """The trace of one training step of ``network`` on one sample (see the module docstring).

    ``x``: one sample, of the network's input shape without the batch axis (or
    the flat row of a data set); for several Inputs one flat row of all their
    values, or a dict Input node id -> array. ``y``: its target; without it the
    trace stops after the forward pass. ``optimizer_state``: the optimizer's
    state to continue from (default ``network.optimizer_state`` when it has
    one and it fits, else a fresh optimizer: the first step; ``iterations_before``
    tells which). ``training``: the mode of the
    forward pass (default: training mode when ``y`` is given, as the trainer
    runs; prediction mode otherwise). ``epoch``: the epoch of the run the
    learning-rate schedule is asked for (0: the first). ``dtype``: run on a
    copy of that dtype (e.g. ``np.float64``; default the network's).
    """
    from .trainer import Trainer, generators_of

    if dtype is not None and np.dtype(dtype) != network.dtype:
        from .network import Network

        work = Network(network.graph.copy(), network.seed, dtype=dtype, weights=network.get_weights(),
                       training=network.training.to_dict(), data=network.data_source)
    else:
        work = network.snapshot()
    prog = work.program
    X, Y = _rows(network, prog, x, y)
    xb = X.astype(prog.dtype, copy=False)
    yb = None if Y is None else Y.astype(prog.dtype, copy=False)
    if training is None:
        training = yb is not None
    cfg = work.training
    trainer = None
    if yb is not None:
        # the trainer's own setup: its optimizer, regularization, schedule and learning rule
        trainer = Trainer(work, xb, yb, cfg.replace(shuffle=False, validation_split=0.0, early_stopping=False))
        opt = trainer.optimizer
        if opt is not None and hasattr(opt, "load_state_dict"):
            if optimizer_state is not None:  # asked for: it must fit
                opt.load_state_dict(optimizer_state)
            elif getattr(network, "optimizer_state", None) is not None:
                try:
                    opt.load_state_dict(network.optimizer_state)
                except AnnError:  # a state from before an edit that no longer fits: start afresh
                    opt.reset()
    rngs = generators_of(prog)
    rng_states = [r.bit_generator.state for r in rngs]
    for step in prog.steps:  # keep every pre-activation (only what is kept changes, not the arithmetic)
        if hasattr(step, "keep_z"):
            step.keep_z = True

    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        prog.forward([xb], training=training)
        nodes = _forward_nodes(work, prog)
        if yb is None:
            prog.clear()
            return Trace(prog.dtype, training, xb[0].copy(), None, nodes)
        loss_traces = _losses(prog, yb)
        data_loss = prog.loss([yb])
        rule = cfg.rule
        lr = trainer.schedule.lr_at(epoch, cfg.learning_rate)
        before = _named_weights(prog, "value")
        grads = None
        records: dict[int, np.ndarray | None] = {}
        dzs: dict[int, np.ndarray | None] = {}
        iterations = 0
        state_after = None
        if rule == "backprop":
            reg = trainer._regularize()
            _recording(prog, records, dzs)
            prog.backward([yb])
            trainer._apply_regularization_grads()
            grads = _named_weights(prog, "grad")
            iterations = trainer.optimizer.iterations
            trainer.optimizer.step([p.grad.copy() for p in prog.params], lr=lr)
            state_after = trainer.optimizer.state_dict() if hasattr(trainer.optimizer, "state_dict") else None
        else:
            reg = 0.0
            trainer._rule_step(xb, yb, lr)
        deltas = _deltas(prog, nodes, yb, records, dzs) if rule == "backprop" else ()
        after = _named_weights(prog, "value")
        # the same sample again, with the same dropout mask
        for r, s in zip(rngs, rng_states):
            r.bit_generator.state = s
        prog.forward([xb], training=training)
        data_after = prog.loss([yb])
        reg_after = trainer._regularize() if rule == "backprop" else 0.0
    prog.clear()
    regularized = {name: p.regularize for p in prog.params for name in p.names()}
    at = {n.node_id: i for i, n in enumerate(nodes)}
    names = sorted(before, key=lambda k: at.get(k.split("/")[0], len(at)))  # by node, in forward order
    weights = tuple(WeightTrace(name, name.split("/")[0], before[name], None if grads is None else grads[name],
                                after[name] - before[name], after[name], regularized[name]) for name in names)
    return Trace(
        prog.dtype, training, xb[0].copy(), yb[0].copy(), nodes, loss_traces, data_loss, reg, data_loss + reg,
        deltas, weights, data_after + reg_after, data_after, rule,
        cfg.optimizer if rule == "backprop" else None, float(lr), cfg.l1, cfg.l2, cfg.clipnorm, iterations,
        state_after,
    )


def _named_weights(prog, attr: str) -> dict[str, np.ndarray]:
    """Weight name -> one sample's copy of the trainable values (or gradients), fused columns split."""
    out = {}
    for p in prog.params:
        a = getattr(p, attr)
        if p.parts:
            for name, col in p.parts:
                out[name] = a[..., col].copy()
        else:
            out[p.name] = a.copy()
    return out


def _sources(graph, nid: str) -> list[str]:
    ntype = graph.node_type(nid)
    edges = [e for e in graph.edges.values() if e.dst == nid]
    out = []
    for port in ntype.inputs:
        out.extend(e.src for e in edges if e.dst_port == port.name)
    return out


def _cols(prog, step, nid: str) -> tuple[int, int] | None:
    """The columns of ``step``'s output buffer that are node ``nid``'s value."""
    value = prog.node_values.get(nid)
    if value is None or len(value) != 1 or value[0].buf != step.out:
        return None
    return value[0].start, value[0].stop


def _forward_nodes(net, prog) -> tuple[NodeTrace, ...]:
    graph = net.graph
    order = graph.validate().order
    step_of: dict[str, int] = {}
    for i, step in enumerate(prog.steps):
        for nid in step.node_ids:
            step_of[nid] = i
    # nodes without a step of their own run as soon as their inputs are there
    rank: dict[str, float] = {}
    for nid in order:
        if nid in step_of:
            rank[nid] = step_of[nid]
        else:
            rank[nid] = max((rank[s] for s in _sources(graph, nid)), default=-1) + 0.5
    out: dict[str, np.ndarray] = {}
    traces = []
    for nid in sorted(order, key=lambda n: (rank[n], order.index(n))):
        y = prog.node_output(nid)
        y = None if y is None else y[0].copy()
        out[nid] = y
        i = step_of.get(nid)
        step = None if i is None else prog.steps[i]
        z = None
        activation = None
        if step is not None and not isinstance(step, FeedStep):
            activation = getattr(step, "activation", None)
            sz = getattr(step, "z", None)
            cols = _cols(prog, step, nid)
            buf = prog.buffers[step.out]
            if isinstance(sz, np.ndarray) and cols is not None and buf is not None and sz.shape == buf.shape:
                z = sz[0, ..., cols[0]:cols[1]].copy()
        srcs = _sources(graph, nid)
        fused = tuple(m for m in step.node_ids if m != nid) if step is not None else ()
        traces.append(NodeTrace(nid, graph.nodes[nid].type_id, tuple(srcs), tuple(out[s] for s in srcs), z, y,
                                activation if z is not None else None, fused,
                                None if step is None or isinstance(step, FeedStep) else i))
    return tuple(traces)


def _losses(prog, yb: np.ndarray) -> tuple[LossTrace, ...]:
    out = []
    for o in prog.outputs:
        p = prog.gather(o.value)
        if o.fused:
            v = losses.fused_value(o.activation, o.loss, o.producer.z, yb)
        else:
            v = losses.value(o.loss, p, yb)
        out.append(LossTrace(o.node_id, o.loss, o.activation, p[0].copy(), yb[0].copy(), v, o.fused))
    return tuple(out)


def _recording(prog, records: dict, dzs: dict) -> None:
    """Wrap each step's backward (on this copy of the program) to keep a copy of the
    ∂L/∂output it receives, and its ∂L/∂z where it has a z."""
    for step in prog.steps:
        if isinstance(step, FeedStep):
            continue
        inner = step.backward

        def backward(g, need, step=step, inner=inner):
            records[step.out] = None if g is None else g.copy()
            if step.dz is not None:
                dzs[step.out] = step.dz.copy()
            elif g is not None and isinstance(getattr(step, "z", None), np.ndarray) \
                    and getattr(step, "activation", None) and step.z.shape == g.shape:
                dzs[step.out] = np.array(act.backward(step.activation, step.z, step.y, g.copy()))
            return inner(g, need)

        step.backward = backward


def _deltas(prog, nodes, yb, records, dzs) -> tuple[DeltaTrace, ...]:
    out_grad = {}
    for o in prog.outputs:
        out_grad[o.node_id] = losses.grad(o.loss, prog.gather(o.value), yb)[0].copy()
    result = []
    for n in reversed(nodes):
        value = prog.node_values.get(n.node_id)
        if n.node_id in out_grad:
            delta = out_grad[n.node_id]
        else:
            delta = _gather(records, value)
        dz = None
        if n.z is not None and n.step is not None:
            step = prog.steps[n.step]
            full = dzs.get(step.out)
            cols = _cols(prog, step, n.node_id)
            if full is not None and cols is not None:
                dz = full[0, ..., cols[0]:cols[1]].copy()
        result.append(DeltaTrace(n.node_id, delta, dz))
    return tuple(result)


def _gather(records, value) -> np.ndarray | None:
    if not value:
        return None
    parts = []
    for s in value:
        g = records.get(s.buf)
        if g is None:
            return None
        parts.append(g[0, ..., s.start:s.stop])
    return (parts[0] if len(parts) == 1 else np.concatenate(parts, axis=-1)).copy()
