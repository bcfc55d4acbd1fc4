"""The frames of explain mode, made once from an engine :class:`Trace` (no Qt).

A frame is one operation: a neuron's products, its weighted sum z, f(z); a
layer's output; the loss; a node's δ; a weight's gradient; a weight's update;
the loss after the update. Frames of one node form a group, groups of one
phase (forward, loss, backward, update) form a pass. Stepping at a coarser
granularity jumps from the end of one group to the end of the next, so the
frame shown is always one of these precomputed ones: going back shows the
earlier state exactly.

Each frame's ``lines`` are cumulative within its group (a neuron's z frame
still shows its products), so the last frame of a group is the whole node.

After the sample's frames come, one by one as they are run, the frames of real
training steps (:func:`step_frame`, phase "batch" or "epoch", made from an
engine ``StepRecord``): the granularities "batch" and "epoch" step from one of
them to the next; :meth:`Stepper.append` adds one.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from ...engine import LOSS_FORMULAS, loss_numbers

PHASES = ("forward", "loss", "backward", "update")
#: the phases of frames made from a real training step (:func:`step_frame`), after the sample's
STEP_PHASES = ("batch", "epoch")
PHASE_TITLES = {"forward": "Forward pass", "loss": "Loss", "backward": "Backward pass", "update": "Update",
                "batch": "One batch", "epoch": "One epoch"}
#: "batch" and "epoch" step to the next frame of that kind; past the last one the panel runs a
#: real step (:func:`anndesigner.engine.train_batch_step` / ``train_epoch_step``) and appends it
GRANULARITIES = ("operation", "node", "pass", "batch", "epoch")

#: a layer with at most this many units is shown unit by unit
SMALL_UNITS = 4
#: at most this many products are written out in a weighted sum
SMALL_INPUTS = 8
#: vectors longer than this are summarized
SHOW_VALUES = 8


@dataclass(frozen=True)
class Frame:
    phase: str
    node_id: str  # the node (or, in the update phase, the weight's node)
    title: str
    lines: tuple[str, ...]  # rich-text lines, cumulative within the group
    highlight: tuple[str, ...] = ()  # node ids to highlight on the canvas
    #: for a frame at f(z): (activation, z values, y values) to draw on the curve
    curve: tuple[str, np.ndarray, np.ndarray] | None = None
    #: edges' source ids lit with the value moving along them (forward) or back (backward)
    wires_from: tuple[str, ...] = ()
    group: int = 0  # index of the node group
    #: for a batch or epoch frame: the engine's StepRecord it shows (what "Keep" applies)
    record: object | None = None


def num(v: float) -> str:
    v = float(v)
    if v == 0:
        return "0"
    if not np.isfinite(v):
        return str(v)
    return f"{v:.4g}"


def vec(a, k: int = SHOW_VALUES) -> str:
    """A short text for an array: its values, or its first ones and a summary."""
    if a is None:
        return "—"
    a = np.asarray(a, np.float64)
    flat = a.reshape(-1)
    if flat.size == 1:
        return num(flat[0])
    shape = "×".join(str(d) for d in a.shape)
    if flat.size <= k:
        return "[" + ", ".join(num(v) for v in flat) + "]"
    head = ", ".join(num(v) for v in flat[:k])
    return (f"[{head}, …] ({shape}: min {num(flat.min())}, mean {num(flat.mean())}, "
            f"max {num(flat.max())})")


def _esc(s) -> str:
    return html.escape(str(s), quote=False)


def _signed(v: float) -> str:
    return f"− {num(abs(v))}" if v < 0 else f"+ {num(v)}"


#: what the optimizers' state slots hold, as the update frames name them
SLOT_TITLES = {"momentum": "velocity", "accumulator": "Σ g² (Adagrad)", "grad_sq": "E[g²] (Adadelta)",
               "delta_sq": "E[Δw²] (Adadelta)", "sq_avg": "mean of g² (RMSprop)",
               "grad_sum": "m, the moving mean of g (Adam)", "grad_sq_sum": "v, the moving mean of g² (Adam)"}


def build_frames(trace, weights: Mapping[str, np.ndarray],
                 optimizer_state: Mapping[str, object] | None = None) -> list[Frame]:
    """Every frame of ``trace`` in the order the engine ran. ``weights``: the
    network's weights by name (the values the forward pass used);
    ``optimizer_state``: the optimizer's state the update starts from (the
    network's ``optimizer_state``), shown beside each weight's update."""
    frames: list[Frame] = []
    group = 0

    def add(phase, node_id, title, lines, **kw):
        frames.append(Frame(phase, node_id, title, tuple(lines), group=group, **kw))

    # ---------------------------------------------------------------- forward
    for n in trace.nodes:
        title = f"{n.node_id} ({n.type_id})"
        ins = [f"input {_esc(src)} = {vec(v)}" for src, v in zip(n.inputs, n.input_values)]
        if not n.inputs:  # an Input: the sample itself
            add("forward", n.node_id, title, [f"x = {vec(n.output)}"], highlight=(n.node_id,))
            group += 1
            continue
        kernel = weights.get(f"{n.node_id}/kernel")
        bias = weights.get(f"{n.node_id}/bias")
        x = np.concatenate([np.asarray(v, np.float64).reshape(-1) for v in n.input_values]) if n.input_values else None
        hl = (n.node_id,)
        dense_like = (kernel is not None and n.z is not None and x is not None and np.ndim(kernel) in (1, 2)
                      and np.asarray(kernel).shape[0] == x.size)
        if dense_like:
            k2 = np.asarray(kernel, np.float64).reshape(x.size, -1)
            units = k2.shape[1]
            z = np.asarray(n.z, np.float64).reshape(-1)
            y = np.asarray(n.output, np.float64).reshape(-1)
            b = np.zeros(units) if bias is None else np.asarray(bias, np.float64).reshape(-1)
            lines = list(ins)
            if units <= SMALL_UNITS:
                names = _input_names(n)
                prods = []
                for j in range(units):
                    unit = f"unit {j}: " if units > 1 else ""
                    terms = [f"{num(k2[i, j])}·{_par(x[i])}" for i in range(min(x.size, SMALL_INPUTS))]
                    more = f" + … ({x.size - SMALL_INPUTS} more)" if x.size > SMALL_INPUTS else ""
                    p = k2[:, j] * x
                    prods.append(f"{unit}w·x = {' + '.join(terms)}{more} = "
                                 f"[{', '.join(num(v) for v in p[:SMALL_INPUTS])}{', …' if x.size > SMALL_INPUTS else ''}]")
                lines += ["<b>weights × inputs</b> (" + ", ".join(_esc(s) for s in names[:SMALL_INPUTS])
                          + (", …" if len(names) > SMALL_INPUTS else "") + ")"] + prods
                add("forward", n.node_id, title + " · products", lines, highlight=hl, wires_from=tuple(n.inputs))
                zl = []
                for j in range(units):
                    unit = f"z{_sub(j)}" if units > 1 else "z"
                    s = float(k2[:, j] @ x)
                    zl.append(f"{unit} = Σ wᵢxᵢ + b = {num(s)} {_signed(b[j])} = <b>{num(z[j])}</b>")
                lines = lines + ["<b>weighted sum plus bias</b>"] + zl
                add("forward", n.node_id, title + " · z = Σ wx + b", lines, highlight=hl)
                yl = [f"{'y' + _sub(j) if units > 1 else 'y'} = {_esc(n.activation)}({num(z[j])}) = <b>{num(y[j])}</b>"
                      for j in range(units)]
                lines = lines + [f"<b>activation</b> {_esc(n.activation)}"] + yl
                add("forward", n.node_id, title + f" · y = {n.activation}(z)", lines, highlight=hl,
                    curve=(str(n.activation), z, y))
            else:
                lines += [f"<b>z = xW + b</b> with W {k2.shape[0]}×{units}: z = {vec(z)}"]
                add("forward", n.node_id, title + " · z = xW + b", lines, highlight=hl, wires_from=tuple(n.inputs))
                lines = lines + [f"<b>y = {_esc(n.activation)}(z)</b> = {vec(y)}"]
                add("forward", n.node_id, title + f" · y = {n.activation}(z)", lines, highlight=hl,
                    curve=(str(n.activation), z, y))
        else:
            lines = list(ins)
            if n.z is not None:
                lines.append(f"z = {vec(n.z)}")
                lines.append(f"y = {_esc(n.activation)}(z) = {vec(n.output)}")
                curve = (str(n.activation), np.asarray(n.z, np.float64).reshape(-1),
                         np.asarray(n.output, np.float64).reshape(-1)) if n.activation else None
            else:
                lines.append(f"output = {vec(n.output)}")
                curve = None
            add("forward", n.node_id, title, lines, highlight=hl, curve=curve, wires_from=tuple(n.inputs))
        group += 1

    # ------------------------------------------------------------------- loss
    for lt in trace.losses:
        numbers = loss_numbers(lt.name, lt.prediction, lt.target, SHOW_VALUES)
        lines = [f"prediction p = {vec(lt.prediction)}", f"target t = {vec(lt.target)}",
                 f"<b>{_esc(lt.name)}</b> = {_esc(LOSS_FORMULAS.get(lt.name, lt.name))}",
                 f"= {_esc(numbers) + ' = ' if numbers else ''}<b>{num(lt.value)}</b>"]
        add("loss", lt.output_id, f"loss at {lt.output_id}", lines, highlight=(lt.output_id,))
    if trace.losses:
        if trace.regularization:
            add("loss", trace.losses[-1].output_id, "loss with regularization",
                frames[-1].lines + (f"regularization = {num(trace.regularization)}",
                                    f"<b>L = {num(trace.loss)}</b>"), highlight=(trace.losses[-1].output_id,))
        group += 1

    # --------------------------------------------------------------- backward
    by_node: dict[str, list] = {}
    for w in trace.weights:
        by_node.setdefault(w.node_id, []).append(w)
    for d in trace.deltas:
        if d.delta is None and d.delta_z is None:
            continue
        node = _node_or_none(trace, d.node_id)
        title = f"{d.node_id}" + (f" ({node.type_id})" if node else "")
        lines = [f"δ = ∂L/∂y = {vec(d.delta)}"]
        if d.delta_z is not None:
            act = node.activation if node is not None else None
            lines.append(f"∂L/∂z = δ · {_esc(act or 'f')}′(z) = <b>{vec(d.delta_z)}</b>")
        add("backward", d.node_id, title + " · δ", lines, highlight=(d.node_id,),
            wires_from=tuple(node.inputs) if node else ())
        for w in by_node.get(d.node_id, ()):
            if w.grad is None:
                continue
            short = w.name.split("/", 1)[-1]
            how = ""
            if short == "kernel" and node is not None and d.delta_z is not None and node.input_values:
                how = " = x · ∂L/∂z"
            elif short == "bias":
                how = " = ∂L/∂z"
            reg = " (with L1/L2)" if w.regularized and (trace.l1 or trace.l2) else ""
            lines = lines + [f"∂L/∂{_esc(short)}{how}{reg} = <b>{vec(w.grad)}</b>"]
            add("backward", d.node_id, title + f" · ∂L/∂{short}", lines, highlight=(d.node_id,))
        group += 1

    # ----------------------------------------------------------------- update
    if trace.weights:
        if trace.rule == "backprop":
            rule = f"{trace.optimizer}, learning rate η = {num(trace.learning_rate)}, step {trace.iterations_before + 1}"
        else:
            rule = f"the {trace.rule} rule, learning rate η = {num(trace.learning_rate)}"
        for w in trace.weights:
            sgd = " (w − η·g)" if trace.optimizer == "sgd" and trace.rule == "backprop" else ""
            lines = [f"<b>{_esc(rule)}</b>", f"w = {vec(w.value)}"]
            if w.grad is not None:
                lines.append(f"g = {vec(w.grad)}")
            if trace.rule == "backprop":
                slots = _state_of(optimizer_state, w.name) if trace.iterations_before else {}
                if slots:
                    lines += [f"{_esc(SLOT_TITLES.get(k, k))} before = {vec(v)}" for k, v in slots.items()]
                elif trace.optimizer != "sgd":
                    lines.append("optimizer state: none yet (this is its first step: it starts from zero)")
            lines += [f"Δw = {vec(w.update)}", f"w′ = w + Δw{sgd} = <b>{vec(w.after)}</b>"]
            add("update", w.node_id, f"{w.name} · update", lines, highlight=(w.node_id,))
            group += 1
        if trace.loss_after is not None:
            change = trace.loss_after - trace.loss
            out_id = trace.losses[-1].output_id if trace.losses else ""
            add("update", out_id, "the same sample after the step",
                [f"loss before = {num(trace.loss)}", f"loss after = <b>{num(trace.loss_after)}</b> "
                 f"({'+' if change >= 0 else '−'}{num(abs(change))})"], highlight=(out_id,) if out_id else ())
            group += 1
    return frames


def step_frame(record, number: int, group: int = 0, changes: int = 3, restarted: bool = False) -> Frame:
    """The frame of one real training step (an engine ``StepRecord``), the ``number``-th
    (1-based) of the chain: its losses before → after, the sample's own loss, the weights
    that moved most and where in the run it is. Every number is the record's. ``restarted``:
    the step starts from the document's network again (it changed since the step before)."""
    r = record
    per = r.batches_per_epoch
    if r.kind == "batch":
        title = f"epoch {r.epoch + 1} · batch {r.first_batch + 1} of {per} ({r.samples} rows)"
    elif r.first_batch:
        title = f"epoch {r.epoch + 1} · batches {r.first_batch + 1}–{per} (the rest of it, {r.samples} rows)"
    else:
        title = f"epoch {r.epoch + 1} · all {per} batch{'es' if per != 1 else ''} ({r.samples} rows)"
    if r.rule == "backprop":
        first = r.optimizer_iterations_before + 1
        steps = (f"optimizer step {first}" if r.batches == 1 else
                 f"optimizer steps {first}–{first + r.batches - 1}")
        how = f"{r.optimizer}, learning rate η = {num(r.learning_rate)}, {steps}"
    else:
        how = f"the {r.rule} rule, learning rate η = {num(r.learning_rate)}"

    def change(a: float, b: float) -> str:
        d = b - a
        return f"{num(a)} → <b>{num(b)}</b> ({'+' if d >= 0 else '−'}{num(abs(d))})"

    whole = r.kind == "epoch" and r.first_batch == 0
    rows = "the batch" if r.kind == "batch" else "every training row" if whole else "these batches' rows"
    lines = [f"<b>step {number}</b>: a real training step on a copy of the network"
             + (" (from the document's network again: it changed since step " f"{number - 1})"
                if restarted else ""),
             f"<b>{_esc(how)}</b>, batch size {r.batch_size}",
             f"loss on {rows} = {change(r.loss_before, r.loss_after)}"]
    if r.kind == "batch":
        if num(r.reported_loss) != num(r.loss_before):  # dropout or batch statistics in the step's forward pass
            lines.append(f"the trainer's loss for this batch (in its training-mode pass) = {num(r.reported_loss)}")
    else:
        lines.append(f"mean loss over the epoch's batches, as the trainer reports it = {num(r.reported_loss)}")
    if not whole:
        lines.append(f"loss on every training row = {change(r.data_loss_before, r.data_loss_after)}")
    if r.sample_loss_before is not None:
        lines.append(f"this sample's loss = {change(r.sample_loss_before, r.sample_loss_after)}")
    if r.metrics is not None:
        shown = ", ".join(f"{_esc(k)} {num(v)}" for k, v in r.metrics.items() if k not in ("loss", "lr"))
        lines.append(f"epoch {r.epoch + 1} finished{': ' + shown if shown else ''}")
    lines.append(f"all weights: ‖Δ‖ = {num(r.update_norm)}, max |Δw| = {num(r.max_abs_delta)}")
    top = [c for c in r.largest_changes(changes) if c.max_abs > 0]
    if top:
        lines.append("<b>largest changes</b>")
        lines += [f"{_esc(c.name)}: max |Δw| = {num(c.max_abs)}, ‖Δ‖ = {num(c.norm)} ({c.size} values)"
                  for c in top]
    else:
        lines.append("no weight changed")
    nodes = tuple(dict.fromkeys(c.name.split("/")[0] for c in top))
    return Frame(r.kind, nodes[0] if nodes else "", title, tuple(lines), highlight=nodes, group=group, record=r)


def _state_of(state: Mapping[str, object] | None, name: str) -> dict[str, np.ndarray]:
    """The optimizer's state arrays for weight ``name``: {slot: array}."""
    if not state:
        return {}
    out = {}
    for key, v in state.items():
        if key.startswith("state.") and key.endswith("." + name):
            out[key[len("state."):-len(name) - 1]] = np.asarray(v)
    return out


def _par(v: float) -> str:
    """A factor: negative numbers in parentheses."""
    return f"({num(v)})" if v < 0 else num(v)


def _sub(j: int) -> str:
    return str(j).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


def _node_or_none(trace, node_id):
    try:
        return trace.node(node_id)
    except KeyError:
        return None


def _input_names(n) -> list[str]:
    names = []
    for src, v in zip(n.inputs, n.input_values):
        size = int(np.asarray(v).size)
        names += [src] if size == 1 else [f"{src}[{i}]" for i in range(size)]
    return names


@dataclass
class Stepper:
    """A position in a list of frames, moved at a granularity."""

    frames: list[Frame]
    index: int = 0
    granularity: str = "operation"
    _ends: dict[str, list[int]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.granularity not in GRANULARITIES:
            raise ValueError(f"granularity must be one of {', '.join(GRANULARITIES)}")
        fr = self.frames
        self._index_ends()

    def _index_ends(self) -> None:
        fr = self.frames
        self._ends = {
            "operation": list(range(len(fr))),
            "node": [i for i in range(len(fr)) if i + 1 == len(fr) or fr[i + 1].group != fr[i].group],
            # every batch or epoch step is a pass of its own
            "pass": [i for i in range(len(fr)) if i + 1 == len(fr) or fr[i + 1].phase != fr[i].phase
                     or fr[i].phase in STEP_PHASES],
            "batch": [i for i, f in enumerate(fr) if f.phase == "batch"],
            "epoch": [i for i, f in enumerate(fr) if f.phase == "epoch"],
        }

    def append(self, frame: Frame) -> None:
        """Add a frame at the end (a batch or epoch step just run); the position stays."""
        self.frames.append(frame)
        self._index_ends()

    @property
    def records(self) -> list:
        """The StepRecords of the batch and epoch frames, in the order they were run."""
        return [f.record for f in self.frames if f.record is not None]

    @property
    def frame(self) -> Frame | None:
        return self.frames[self.index] if self.frames else None

    def at_end(self) -> bool:
        return not self.frames or self.index >= len(self.frames) - 1

    def forward(self) -> bool:
        """To the end of the next unit of ``granularity``; False at the end."""
        nxt = [i for i in self._ends[self.granularity] if i > self.index]
        if not nxt:
            return False
        self.index = nxt[0]
        return True

    def back(self) -> bool:
        prev = [i for i in self._ends[self.granularity] if i < self.index]
        if not prev:
            if self.index == 0:
                return False
            self.index = 0
            return True
        self.index = prev[-1]
        return True

    def to_start(self) -> None:
        self.index = 0

    def to_end(self) -> None:
        self.index = max(0, len(self.frames) - 1)
