"""Gradient-descent optimizers.

An optimizer is a separate object that never runs inside backpropagation. It
owns the *state* of a training run (momentum buffers, running averages, the
step counter) for a fixed list of parameter arrays, and updates those arrays
**in place** each time :meth:`Optimizer.step` is given the matching list of
gradients::

    opt = make_optimizer("adam", params, 0.001, beta_1=0.9)
    for batch in batches:
        grads = program.backward(...)          # same shapes as params
        opt.step(grads, lr=schedule_lr)        # params are modified in place

Conventions
-----------
* Formulas follow PyTorch's ``torch.optim`` (which for Adam/AdamW is the
  textbook algorithm of the papers) with Keras' default hyper-parameters
  (``epsilon=1e-7``, Adagrad's initial accumulator 0.1, Adadelta's rho 0.95
  and learning rate 1.0). Each class docstring writes out its update.
* State arrays have the parameter's dtype (float32 or float64) and are
  allocated once, in the constructor, together with one scratch buffer per
  parameter. A step allocates no full-size temporaries; all arithmetic uses
  ``out=``. Python floats are used for every scalar so that NumPy 2 never
  promotes float32 work to float64.
* Gradients passed to :meth:`Optimizer.step` may be overwritten (they are used
  as scratch space). A gradient whose dtype differs from its parameter, or
  that is read-only, is copied first.
* Decaying state is kept out of the subnormal range with
  :func:`flush_subnormals` on every :data:`FLUSH_EVERY`-th step (arithmetic
  on subnormal floats is very slow on x86 and NumPy cannot turn on
  flush-to-zero). A value that decays into the range stays there for fewer
  than ``FLUSH_EVERY`` steps, then becomes 0; flushing every step would cost
  four extra passes over Adam's state, a quarter of its time.
* Every mistake a user can make (unknown optimizer, unknown hyper-parameter,
  value out of range) raises :class:`~anndesigner.errors.TrainingError`.

Each optimizer class describes its hyper-parameters in ``PARAMS``, a tuple
of :class:`~anndesigner.params.ParamSpec` (the description node types, schedules
and data sets use too) that begins with ``learning_rate`` and ends with
``clipnorm``; :meth:`Optimizer.param` finds one by name. Bounds are inclusive
unless the spec says ``open_min`` / ``open_max`` (``momentum`` is in ``[0, 1)``,
``epsilon`` in ``(0, inf]``). ``clipnorm`` is optional, ``None`` meaning no
clipping. :meth:`Optimizer.validate_hyper` checks one value exactly as the
constructor does.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from anndesigner.engine import kernels
from anndesigner.errors import TrainingError, short_repr
from anndesigner.params import ParamSpec

__all__ = [
    "Optimizer",
    "SGD",
    "Adagrad",
    "Adadelta",
    "RMSprop",
    "Adam",
    "AdamW",
    "OPTIMIZERS",
    "make_optimizer",
    "flush_subnormals",
    "FLUSH_EVERY",
]

_INF = math.inf


def hyper(name: str, default: Any, minimum: float, maximum: float, help: str, *, open_max: bool = False,
          decimals: int = 4, **kw: Any) -> ParamSpec:
    """The spec of one hyper-parameter: a number (``bool`` when the default is one) in
    ``[minimum, maximum]``, shown with ``decimals`` and stepped by 0.01 in the window."""
    kind = "bool" if isinstance(default, bool) else "float"
    if kind == "bool":
        return ParamSpec(name, "bool", default, help=help)
    return ParamSpec(name, kind, default, help=help, minimum=minimum, maximum=maximum, open_max=open_max,
                     open_min=name == "epsilon", decimals=decimals, step=0.01, **kw)


def epsilon(help: str = "Small constant added to the denominator for numerical stability.") -> ParamSpec:
    return hyper("epsilon", 1e-7, 0.0, _INF, help, decimals=7)

# ------------------------------------------------------------------ subnormals
# Adding and then subtracting a power of two ``s`` rounds every value whose
# magnitude is below half an ulp of ``s`` to exactly 0, and every other value
# below ``s`` to a multiple of ulp(s), a *normal* number. Values at least
# 2**(nmant + 2) times larger than ``s`` (|x| >= ~2.6e-23 for float32,
# ~1.2e-275 for float64) are left bit-exact, because s is then below a quarter
# of their ulp. ulp(s) is 8 * tiny, so the result is never subnormal.
#   float32: s = 2**-100  (minexp -126 + nmant 23 + 3)
#   float64: s = 2**-967  (minexp -1022 + nmant 52 + 3)
_FLUSH_OFFSET: dict[np.dtype, Any] = {}
for _dt in (np.float32, np.float64):
    _fi = np.finfo(_dt)
    _FLUSH_OFFSET[np.dtype(_dt)] = _dt(math.ldexp(1.0, int(_fi.minexp) + int(_fi.nmant) + 3))
del _dt, _fi


#: decaying optimizer state is flushed of subnormals on every FLUSH_EVERY-th step
FLUSH_EVERY = 16

#: elements per block for multi-pass updates: each block's passes run in cache
_BLOCK = 65536


def blocks_of(arrays: list[list[np.ndarray]]) -> list[tuple[np.ndarray, ...]]:
    """Cache-sized blocks of the flattened parameter, gradient, state (and
    scratch) arrays: one tuple of views per block, ``arrays[k][i]`` being the
    k-th kind for parameter i. Passes over ~64k-element blocks stay in cache;
    measured on a 784-512-256-10 MLP this is ~20 % faster than whole-array
    passes. A parameter whose arrays are not all C-contiguous is one block
    (flattening would copy it). Splitting the blocks between two threads was
    measured too, and was slower: on this 2-CPU machine element-wise NumPy
    work does not scale, and OpenBLAS's waiting threads hold the other CPU."""
    blocks = []
    for col in zip(*arrays):
        if not all(a.flags.c_contiguous for a in col):
            blocks.append(tuple(col))
            continue
        flat = [a.reshape(-1) for a in col]
        n = flat[0].size
        for i in range(0, n, _BLOCK):
            blocks.append(tuple(a[i:i + _BLOCK] for a in flat))
    return blocks


def flush_subnormals(a: np.ndarray) -> None:
    """Replace the subnormal values of the float array ``a`` in place.

    For float32 and float64 this is two cheap in-place passes (add, then
    subtract a small power of two): values below about ``4 * tiny`` become 0
    or a small *normal* number (a multiple of ``8 * tiny``), values above
    ~1e-23 (float32) / ~1e-275 (float64) are unchanged bit for bit, values in
    between are changed by far less than one part in a million. No value is
    subnormal afterwards. Other float dtypes use a slower exact mask.
    Non-float arrays are left alone.
    """
    s = _FLUSH_OFFSET.get(a.dtype)
    if s is not None:
        np.add(a, s, out=a)
        np.subtract(a, s, out=a)
    elif a.dtype.kind == "f":
        tiny = np.finfo(a.dtype).tiny
        a[np.abs(a) < tiny] = 0


class Optimizer:
    """Base class: validation, gradient clipping, state handling.

    Subclasses set ``name``, ``DEFAULT_LR``, ``PARAMS`` (their own entries;
    ``learning_rate`` and ``clipnorm`` are added automatically), ``SLOTS``
    (names of their per-parameter state arrays) and implement
    :meth:`_update` and optionally :meth:`_check` / :meth:`_slot_init`.
    """

    name: ClassVar[str] = "optimizer"
    DEFAULT_LR: ClassVar[float] = 0.01
    PARAMS: ClassVar[tuple[ParamSpec, ...]] = ()
    SLOTS: ClassVar[tuple[str, ...]] = ()
    #: whether _update needs one scratch array per parameter
    SCRATCH: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = [p for p in cls.__dict__.get("PARAMS", ()) if p.name not in ("learning_rate", "clipnorm")]
        cls.PARAMS = (
            ParamSpec("learning_rate", "float", cls.DEFAULT_LR, minimum=0.0, maximum=_INF, log=True,
                      help="Step size of each update (learning rate)."),
            *own,
            ParamSpec("clipnorm", "float", None, minimum=0.0, maximum=_INF, open_min=True, optional=True,
                      decimals=3, step=0.5,
                      help="If set, gradients are rescaled so that their global L2 norm is at most this value."),
        )

    @classmethod
    def param(cls, key: str) -> ParamSpec:
        """The description of hyper-parameter ``key`` (TrainingError when there is none)."""
        for p in cls.PARAMS:
            if p.name == key:
                return p
        known = ", ".join(p.name for p in cls.PARAMS)
        raise TrainingError(f"Optimizer '{cls.name}' has no hyper-parameter '{key}'. Known: {known}.")

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """``{name: default}`` of every hyper-parameter, learning rate and clipnorm included."""
        return {p.name: p.default for p in cls.PARAMS}

    # ---------------------------------------------------------- validation
    @classmethod
    def validate_hyper(cls, key: str, value: Any) -> Any:
        """Check one hyper-parameter value; return it normalised (float/bool/None).

        Raises :class:`TrainingError` naming the optimizer and the problem.
        """
        spec = cls.param(key)
        if spec.kind == "bool":
            if isinstance(value, (bool, np.bool_)):
                return bool(value)
            raise TrainingError(
                f"Optimizer '{cls.name}': '{key}' must be true or false, not {short_repr(value)}."
            )
        if value is None and spec.optional:
            return None
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise TrainingError(
                f"Optimizer '{cls.name}': '{key}' must be a number, not {short_repr(value)}."
            )
        v = float(value)
        if math.isnan(v) or math.isinf(v):
            raise TrainingError(f"Optimizer '{cls.name}': '{key}' must be finite, not {v}.")
        if not spec.in_range(v):
            raise TrainingError(
                f"Optimizer '{cls.name}': '{key}' = {v:g} is out of range; "
                f"it must be in {spec.interval()}."
            )
        return v

    def _check(self) -> None:
        """Cross-parameter checks of a subclass (raise TrainingError)."""

    # ---------------------------------------------------------- construction
    def __init__(
        self,
        params: list[np.ndarray],
        learning_rate: float | None = None,
        *,
        clipnorm: float | None = None,
        names: list[str] | None = None,
        **hyper: Any,
    ) -> None:
        cls = type(self)
        values: dict[str, Any] = cls.defaults()
        given = dict(hyper)
        given["learning_rate"] = cls.DEFAULT_LR if learning_rate is None else learning_rate
        given["clipnorm"] = clipnorm
        for key, value in given.items():
            values[key] = cls.validate_hyper(key, value)
        self.learning_rate: float = values.pop("learning_rate")
        self.clipnorm: float | None = values.pop("clipnorm")
        self.hyper: dict[str, Any] = values
        for key, value in values.items():
            setattr(self, key, value)
        self._check()

        if isinstance(params, np.ndarray):
            raise TrainingError("Optimizer parameters must be a list of arrays, not a single array.")
        self.params: list[np.ndarray] = list(params)
        for i, p in enumerate(self.params):
            if not isinstance(p, np.ndarray):
                raise TrainingError(f"Optimizer parameter {i} is not a NumPy array.")
            if p.dtype not in (np.float32, np.float64):
                raise TrainingError(
                    f"Optimizer parameter {i} has dtype {p.dtype}; only float32 and float64 are supported."
                )
            if not p.flags.writeable:
                raise TrainingError(f"Optimizer parameter {i} is read-only and cannot be updated in place.")
        #: the parameters' names ("dense_1/kernel"): the keys of the saved state (None: by index)
        self.names: list[str] | None = None
        if names is not None:
            names = [str(n) for n in names]
            if len(names) != len(self.params) or len(set(names)) != len(names):
                raise TrainingError(f"Optimizer '{cls.name}': {len(self.params)} parameters need as many "
                                    f"different names, not {len(names)} ({len(set(names))} different).")
            self.names = names
        self.iterations: int = 0
        #: True during a step that flushes decaying state (every FLUSH_EVERY-th)
        self._flush = False
        #: values over all parameters
        self._size = sum(p.size for p in self.params)
        self._block_cache: tuple[list[np.ndarray], list[tuple[np.ndarray, ...]]] | None = None
        self._scratch: list[np.ndarray] = [np.empty_like(p) for p in self.params] if self.SCRATCH else []
        self._state: dict[str, list[np.ndarray]] = {
            slot: [np.empty_like(p) for p in self.params] for slot in self._active_slots()
        }
        self.reset()

    def _active_slots(self) -> tuple[str, ...]:
        """State slots used with the current hyper-parameters."""
        return self.SLOTS

    def _slot_init(self, slot: str) -> float:
        """Initial value of every element of a state slot."""
        return 0.0

    # ---------------------------------------------------------- public API
    def reset(self) -> None:
        """Forget all state: slots back to their initial values, ``iterations = 0``."""
        self.iterations = 0
        for slot, arrays in self._state.items():
            fill = self._slot_init(slot)
            for a in arrays:
                a.fill(fill)

    def config(self) -> dict[str, Any]:
        """JSON-native description: ``{"name", "learning_rate", "clipnorm", **hyper}``."""
        d: dict[str, Any] = {"name": self.name, "learning_rate": self.learning_rate, "clipnorm": self.clipnorm}
        d.update(self.hyper)
        return d

    def _label(self, i: int) -> str:
        """How saved state names parameter ``i``: its name, or its index without names."""
        return self.names[i] if self.names is not None else str(i)

    def _describe(self, i: int) -> str:
        return f"weight '{self.names[i]}'" if self.names is not None else f"parameter {i}"

    def state_dict(self) -> dict[str, np.ndarray | float | int]:
        """Everything needed to continue training exactly.

        Keys: ``"iterations"`` (int), ``"learning_rate"`` (float),
        ``"hyper.<name>"`` (float or bool; informational, not restored),
        ``"state.<slot>.<param>"`` (a copy of that parameter's state array),
        ``<param>`` being the parameter's name when the optimizer was given
        ``names`` (``"state.grad_sum.dense_1/kernel"``: the state then fits any
        copy of the network), else its index (``"state.grad_sum.0"``).
        ``clipnorm`` is stored as ``"hyper.clipnorm"`` only when set.
        """
        d: dict[str, np.ndarray | float | int] = {
            "iterations": int(self.iterations),
            "learning_rate": float(self.learning_rate),
        }
        if self.clipnorm is not None:
            d["hyper.clipnorm"] = float(self.clipnorm)
        for key, value in self.hyper.items():
            d[f"hyper.{key}"] = value
        for slot, arrays in self._state.items():
            for i, a in enumerate(arrays):
                d[f"state.{slot}.{self._label(i)}"] = a.copy()
        return d

    def state_matches(self, d: dict[str, Any]) -> bool:
        """Whether ``d`` (a :meth:`state_dict`, or a saved one) is the state of an
        optimizer of this kind: its ``"optimizer"`` entry when it has one, else the
        names of its hyper-parameters (each optimizer's set is its own). Shapes are
        not looked at (:meth:`load_state_dict` checks them)."""
        if not isinstance(d, dict):
            return False
        name = d.get("optimizer")
        if name is not None:
            return str(np.asarray(name).item() if isinstance(name, np.ndarray) else name) == self.name
        given = {k[len("hyper."):] for k in d if isinstance(k, str) and k.startswith("hyper.")} - {"clipnorm"}
        return given == set(self.hyper)

    def load_state_dict(self, d: dict[str, Any]) -> None:
        """Restore ``iterations`` and the state arrays saved by :meth:`state_dict`.

        Hyper-parameters and the learning rate are *not* taken from ``d``
        (they are the ones this optimizer was built with). Values may be
        0-d arrays (as read back from an ``.npz``). State arrays may be keyed by
        index or, when this optimizer has ``names``, by name. Raises
        :class:`TrainingError` (saying the state "does not fit", naming the
        weight) if the saved state does not fit these parameters or this
        optimizer; nothing is changed then.
        """
        if not isinstance(d, dict):
            raise TrainingError(f"Saved optimizer state for '{self.name}' must be a mapping, not {short_repr(d)}.")
        if "iterations" not in d:
            raise TrainingError(f"Saved optimizer state for '{self.name}' lacks 'iterations'.")
        try:
            iterations = int(np.asarray(d["iterations"]).item())
        except (TypeError, ValueError) as exc:
            raise TrainingError(f"Saved optimizer state: bad 'iterations' value ({exc}).") from None
        if iterations < 0:
            raise TrainingError("Saved optimizer state: 'iterations' is negative.")
        present = {k for k in d if isinstance(k, str) and k.startswith("state.")}
        by_name = self.names is not None and not any(
            f"state.{slot}.{i}" in present for slot in self._state for i in range(len(self.params)))

        def key(slot: str, i: int) -> str:
            return f"state.{slot}.{self._label(i) if by_name else i}"

        expected = {key(slot, i) for slot in self._state for i in range(len(self.params))}
        missing = sorted(expected - present)
        extra = sorted(present - expected)
        if missing or extra:
            parts = []
            if missing:
                parts.append("missing " + ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else ""))
            if extra:
                parts.append("unexpected " + ", ".join(extra[:5]) + (" ..." if len(extra) > 5 else ""))
            raise TrainingError(
                f"Saved optimizer state does not fit optimizer '{self.name}' with "
                f"{len(self.params)} parameters: {'; '.join(parts)}."
            )
        loaded: list[tuple[np.ndarray, np.ndarray]] = []
        for slot, arrays in self._state.items():
            for i, a in enumerate(arrays):
                k = key(slot, i)
                src = np.asarray(d[k])
                if src.shape != a.shape:
                    raise TrainingError(
                        f"Saved optimizer state '{k}' has shape {src.shape}, "
                        f"but {self._describe(i)} has shape {a.shape}: it does not fit."
                    )
                if src.dtype.kind not in "fiu":
                    raise TrainingError(f"Saved optimizer state '{k}' is not numeric.")
                loaded.append((a, src))
        for a, src in loaded:
            np.copyto(a, src, casting="unsafe")
            flush_subnormals(a)
        self.iterations = iterations

    def snapshot(self, into: list[np.ndarray] | None = None) -> list[np.ndarray]:
        """An exact copy of the state (every slot array, then ``iterations`` as
        a 0-d array), for :meth:`restore_snapshot`. ``into``, a list from an
        earlier call, is filled in place instead of allocating (the trainer's
        divergence check takes one every few dozen steps)."""
        arrays = [a for slot in self._state.values() for a in slot]
        if into is None:
            into = [np.empty_like(a) for a in arrays] + [np.zeros((), np.int64)]
        for buf, a in zip(into, arrays):
            np.copyto(buf, a)
        into[-1][...] = self.iterations
        return into

    def restore_snapshot(self, snap: list[np.ndarray]) -> None:
        """Put back, bit for bit, the state :meth:`snapshot` copied (unlike
        :meth:`load_state_dict`, nothing is flushed: the steps that follow
        compute exactly what they computed the first time)."""
        arrays = [a for slot in self._state.values() for a in slot]
        for buf, a in zip(snap, arrays):
            np.copyto(a, buf)
        self.iterations = int(snap[-1])

    def step(self, grads: list[np.ndarray], lr: float | None = None) -> None:
        """Apply one update to every parameter, in place.

        ``grads[i]`` must have the shape of ``params[i]``; it may be
        overwritten. ``lr`` overrides :attr:`learning_rate` for this step only
        (used by learning-rate schedules).
        """
        n = len(self.params)
        if len(grads) != n:
            raise TrainingError(f"Optimizer '{self.name}' got {len(grads)} gradients for {n} parameters.")
        gs: list[np.ndarray] = []
        for i, (p, g) in enumerate(zip(self.params, grads)):
            if not isinstance(g, np.ndarray) or g.dtype != p.dtype or not g.flags.writeable:
                g = np.array(g, dtype=p.dtype)
            if g.shape != p.shape:
                raise TrainingError(
                    f"Optimizer '{self.name}': gradient {i} has shape {g.shape}, parameter has {p.shape}."
                )
            gs.append(g)
        if lr is None:
            rate = self.learning_rate
        else:
            rate = float(lr)
            if not (rate >= 0.0) or math.isinf(rate):
                raise TrainingError(f"Optimizer '{self.name}': learning rate must be finite and >= 0, not {lr!r}.")
        if self.clipnorm is not None:
            self._clip(gs, self.clipnorm)
        self.iterations += 1
        self._flush = self.iterations % FLUSH_EVERY == 0
        self._update(gs, rate)

    # ---------------------------------------------------------- internals
    @staticmethod
    def global_norm(grads: list[np.ndarray]) -> float:
        """L2 norm of all gradients taken together (as a Python float)."""
        total = 0.0
        with np.errstate(over="ignore", invalid="ignore"):
            for g in grads:
                flat = g.reshape(-1)
                total += float(np.dot(flat, flat))
        if math.isinf(total):  # float32 overflow of the sum of squares: redo in float64
            total = 0.0
            for g in grads:
                flat = g.reshape(-1).astype(np.float64)
                total += float(np.dot(flat, flat))
        return math.sqrt(total)

    @classmethod
    def _clip(cls, grads: list[np.ndarray], clipnorm: float) -> None:
        norm = cls.global_norm(grads)
        if math.isfinite(norm) and norm > clipnorm:
            scale = clipnorm / norm
            for g in grads:
                np.multiply(g, scale, out=g)

    def _update(self, grads: list[np.ndarray], lr: float) -> None:
        raise NotImplementedError

    def _blocks(self, grads: list[np.ndarray]) -> list[tuple[np.ndarray, ...]]:
        """:func:`blocks_of` (params, grads, then the state slots in ``SLOTS``
        order), cached for as long as the same gradient arrays come back: a
        training loop passes the same buffers every step."""
        cached = self._block_cache
        if cached is not None and len(cached[0]) == len(grads) and all(
                a is b for a, b in zip(cached[0], grads)):
            return cached[1]
        blocks = blocks_of([self.params, grads] + list(self._state.values()))
        self._block_cache = (list(grads), blocks)
        return blocks

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items() if k != "name")
        return f"{type(self).__name__}({args})"


# ====================================================================== SGD
class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum.

    PyTorch ``torch.optim.SGD`` form (dampening 0), with ``mu = momentum``::

        mu == 0:         w <- w - lr * g
        mu > 0:          b <- mu * b + g                  (b starts at 0)
            classic:     w <- w - lr * b
            Nesterov:    w <- w - lr * (g + mu * b)

    ``nesterov=True`` requires ``momentum > 0``.
    """

    name = "sgd"
    DEFAULT_LR = 0.01
    PARAMS = (
        hyper("momentum", 0.0, 0.0, 1.0, "Fraction of the previous update kept in the velocity (0 = plain SGD).",
              open_max=True),
        hyper("nesterov", False, 0, 1, "Use Nesterov momentum (look-ahead gradient)."),
    )
    SLOTS = ("momentum",)

    momentum: float
    nesterov: bool

    def _check(self) -> None:
        if self.nesterov and self.momentum <= 0.0:
            raise TrainingError("Optimizer 'sgd': Nesterov momentum needs momentum > 0.")

    def _active_slots(self) -> tuple[str, ...]:
        return ("momentum",) if self.momentum > 0.0 else ()

    def _update(self, grads: list[np.ndarray], lr: float) -> None:
        mu = self.momentum
        if mu == 0.0:
            for p, g in zip(self.params, grads):
                np.multiply(g, lr, out=g)
                np.subtract(p, g, out=p)
            return
        for p, g, b in zip(self.params, grads, self._state["momentum"]):
            np.multiply(b, mu, out=b)
            np.add(b, g, out=b)
            if self._flush:
                flush_subnormals(b)
            if self.nesterov:
                np.multiply(g, lr, out=g)
                np.subtract(p, g, out=p)
                np.multiply(b, lr * mu, out=g)
                np.subtract(p, g, out=p)
            else:
                np.multiply(b, lr, out=g)
                np.subtract(p, g, out=p)


# ==================================================================== Adagrad
class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011).

    PyTorch ``torch.optim.Adagrad`` form (epsilon outside the square root,
    no lr decay) with Keras defaults (initial accumulator 0.1, epsilon 1e-7)::

        a <- a + g**2                         (a starts at initial_accumulator)
        w <- w - lr * g / (sqrt(a) + epsilon)
    """

    name = "adagrad"
    DEFAULT_LR = 0.01
    PARAMS = (
        hyper("initial_accumulator", 0.1, 0.0, _INF, "Starting value of the running sum of squared gradients."),
        epsilon(),
    )
    SLOTS = ("accumulator",)

    initial_accumulator: float
    epsilon: float

    def _slot_init(self, slot: str) -> float:
        return self.initial_accumulator

    def _update(self, grads: list[np.ndarray], lr: float) -> None:
        eps = self.epsilon
        # The accumulator never decreases: it can only hold subnormals when
        # it starts at 0.
        flush = self._flush and self.initial_accumulator < 1e-30
        for p, g, a, s in zip(self.params, grads, self._state["accumulator"], self._scratch):
            np.multiply(g, g, out=s)
            np.add(a, s, out=a)
            if flush:
                flush_subnormals(a)
            np.sqrt(a, out=s)
            np.add(s, eps, out=s)
            np.divide(g, s, out=g)
            np.multiply(g, lr, out=g)
            np.subtract(p, g, out=p)


# =================================================================== Adadelta
class Adadelta(Optimizer):
    """Adadelta (Zeiler, 2012).

    Same formula in PyTorch ``torch.optim.Adadelta`` and Keras; Keras
    defaults (rho 0.95, epsilon 1e-7, learning rate 1.0)::

        E[g2] <- rho * E[g2] + (1 - rho) * g**2                    (starts at 0)
        d     <- sqrt(E[dx2] + epsilon) / sqrt(E[g2] + epsilon) * g
        E[dx2]<- rho * E[dx2] + (1 - rho) * d**2                   (starts at 0)
        w     <- w - lr * d
    """

    name = "adadelta"
    DEFAULT_LR = 1.0
    PARAMS = (
        hyper("rho", 0.95, 0.0, 1.0, "Decay rate of the running averages.", open_max=True),
        epsilon("Small constant for numerical stability."),
    )
    SLOTS = ("grad_sq", "delta_sq")

    rho: float
    epsilon: float

    def _update(self, grads: list[np.ndarray], lr: float) -> None:
        rho = self.rho
        one_m = 1.0 - rho
        eps = self.epsilon
        st = self._state
        for p, g, eg, ed, s in zip(self.params, grads, st["grad_sq"], st["delta_sq"], self._scratch):
            np.multiply(g, g, out=s)
            np.multiply(s, one_m, out=s)
            np.multiply(eg, rho, out=eg)
            np.add(eg, s, out=eg)
            if self._flush:
                flush_subnormals(eg)
            # g <- sqrt(E[dx2] + eps) / sqrt(E[g2] + eps) * g   (this is d)
            np.add(ed, eps, out=s)
            np.sqrt(s, out=s)
            np.multiply(g, s, out=g)
            np.add(eg, eps, out=s)
            np.sqrt(s, out=s)
            np.divide(g, s, out=g)
            np.multiply(g, g, out=s)
            np.multiply(s, one_m, out=s)
            np.multiply(ed, rho, out=ed)
            np.add(ed, s, out=ed)
            if self._flush:
                flush_subnormals(ed)
            np.multiply(g, lr, out=g)
            np.subtract(p, g, out=p)


# ==================================================================== RMSprop
class RMSprop(Optimizer):
    """RMSprop (Hinton, 2012), uncentered.

    PyTorch ``torch.optim.RMSprop`` form (epsilon outside the square root,
    learning rate applied after the momentum buffer) with Keras defaults
    (rho 0.9, epsilon 1e-7)::

        v <- rho * v + (1 - rho) * g**2                           (starts at 0)
        u <- g / (sqrt(v) + epsilon)
        momentum == 0:  w <- w - lr * u
        momentum > 0:   b <- momentum * b + u;  w <- w - lr * b  (b starts at 0)
    """

    name = "rmsprop"
    DEFAULT_LR = 0.01
    PARAMS = (
        hyper("rho", 0.9, 0.0, 1.0, "Decay rate of the running average of squared gradients.", open_max=True),
        hyper("momentum", 0.0, 0.0, 1.0, "Momentum applied to the normalised update (0 = none).", open_max=True),
        epsilon(),
    )
    SLOTS = ("sq_avg", "momentum")

    rho: float
    momentum: float
    epsilon: float

    def _active_slots(self) -> tuple[str, ...]:
        return ("sq_avg", "momentum") if self.momentum > 0.0 else ("sq_avg",)

    def _update(self, grads: list[np.ndarray], lr: float) -> None:
        rho = self.rho
        one_m = 1.0 - rho
        eps = self.epsilon
        mu = self.momentum
        st = self._state
        bufs = st["momentum"] if mu > 0.0 else [None] * len(self.params)
        for p, g, v, b, s in zip(self.params, grads, st["sq_avg"], bufs, self._scratch):
            np.multiply(g, g, out=s)
            np.multiply(s, one_m, out=s)
            np.multiply(v, rho, out=v)
            np.add(v, s, out=v)
            if self._flush:
                flush_subnormals(v)
            np.sqrt(v, out=s)
            np.add(s, eps, out=s)
            np.divide(g, s, out=g)
            if b is not None:
                np.multiply(b, mu, out=b)
                np.add(b, g, out=b)
                if self._flush:
                    flush_subnormals(b)
                np.multiply(b, lr, out=g)
            else:
                np.multiply(g, lr, out=g)
            np.subtract(p, g, out=p)


# ======================================================================= Adam
class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015) with bias correction.

    The paper's Algorithm 1, identical to PyTorch ``torch.optim.Adam``
    (epsilon added to the bias-corrected square root), Keras defaults
    (epsilon 1e-7). ``t`` is the step number, starting at 1::

        m <- beta_1 * m + (1 - beta_1) * g                        (starts at 0)
        v <- beta_2 * v + (1 - beta_2) * g**2                     (starts at 0)
        m_hat = m / (1 - beta_1**t)
        v_hat = v / (1 - beta_2**t)
        w <- w - lr * m_hat / (sqrt(v_hat) + epsilon)

    The state kept (and saved by :meth:`state_dict`) is the decayed *sums*
    ``M = m / (1 - beta_1)`` (slot ``grad_sum``) and ``V = v / (1 - beta_2)``
    (slot ``grad_sq_sum``), which update as ``M <- beta_1 M + g`` and
    ``V <- beta_2 V + g**2``: two passes fewer than the averages. Every scalar
    of the last line folds into two constants, and the gradient serves as
    scratch space, so a step is ten passes over the parameters and needs no
    buffer of its own. With the ``fast`` extra (numba) installed, one compiled
    loop per parameter does the same arithmetic (:mod:`.kernels`).
    """

    name = "adam"
    DEFAULT_LR = 0.01
    PARAMS = (
        hyper("beta_1", 0.9, 0.0, 1.0, "Decay rate of the running average of gradients (first moment).",
              open_max=True),
        hyper("beta_2", 0.999, 0.0, 1.0, "Decay rate of the running average of squared gradients (second moment).",
              open_max=True),
        epsilon(),
    )
    SLOTS = ("grad_sum", "grad_sq_sum")
    SCRATCH = False

    beta_1: float
    beta_2: float
    epsilon: float

    def _decay_factor(self, lr: float) -> float:
        """Hook for AdamW's decoupled weight decay: w is multiplied by this first."""
        return 1.0

    def _update(self, grads: list[np.ndarray], lr: float) -> None:
        b1, b2, eps = self.beta_1, self.beta_2, self.epsilon
        t = self.iterations
        bc1 = 1.0 - b1**t
        bc2 = 1.0 - b2**t
        # lr * m_hat / (sqrt(v_hat) + eps) = a * M / (q * sqrt(V) + eps)
        #   with a = lr (1 - b1) / bc1 and q = sqrt((1 - b2) / bc2)
        #   = M / d   where   d = sqrt(V) * (q / a) + eps / a
        a = lr * (1.0 - b1) / bc1
        q = math.sqrt((1.0 - b2) / bc2)
        move = a > 0.0  # lr == 0 only moves the state
        folded = a >= 1e-20  # else 1 / a could overflow float32
        c_sqrt, c_eps = (q / a, eps / a) if folded else (q, eps)
        decay = self._decay_factor(lr)
        st = self._state
        todo = range(len(self.params))
        if self._size >= kernels.MIN_SIZE and kernels.enabled():  # one compiled loop per parameter
            todo = [i for i, (p, g, m, v) in enumerate(zip(self.params, grads, st["grad_sum"], st["grad_sq_sum"]))
                    if not kernels.adam(p, g, m, v, b1=b1, b2=b2, c_sqrt=c_sqrt, c_eps=c_eps,
                                        a=1.0 if folded else a, decay=decay, move=move)]
            if not todo:
                return
        if decay != 1.0:
            for i in todo:
                np.multiply(self.params[i], decay, out=self.params[i])
        flush = self._flush
        mul, add = np.multiply, np.add
        if len(todo) == len(self.params):
            blocks = self._blocks(grads)
        else:
            blocks = blocks_of([[self.params[i] for i in todo], [grads[i] for i in todo],
                                [st["grad_sum"][i] for i in todo], [st["grad_sq_sum"][i] for i in todo]])
        for pb, gb, mb, vb in blocks:
            mul(mb, b1, out=mb)         # M <- b1 M + g
            add(mb, gb, out=mb)
            mul(gb, gb, out=gb)         # V <- b2 V + g^2   (g is scratch from here on)
            mul(vb, b2, out=vb)
            add(vb, gb, out=vb)
            if flush:
                flush_subnormals(mb)
                flush_subnormals(vb)
            if move:
                np.sqrt(vb, out=gb)     # d
                mul(gb, c_sqrt, out=gb)
                add(gb, c_eps, out=gb)
                np.divide(mb, gb, out=gb)
                if not folded:
                    mul(gb, a, out=gb)
                np.subtract(pb, gb, out=pb)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019).

    PyTorch ``torch.optim.AdamW`` form: the weights are first shrunk using the
    learning rate of this step, then the Adam update above is applied::

        w <- w - lr * weight_decay * w
        (Adam step on w with gradient g; g does not include the decay)
    """

    name = "adamw"
    DEFAULT_LR = 0.01
    PARAMS = (
        *Adam.PARAMS,  # its learning_rate and clipnorm are left out and added again, last
        hyper("weight_decay", 0.01, 0.0, _INF, "Decoupled weight decay: each step w -= lr * weight_decay * w."),
    )

    weight_decay: float

    def _decay_factor(self, lr: float) -> float:
        return 1.0 - lr * self.weight_decay


# =================================================================== registry
OPTIMIZERS: dict[str, type[Optimizer]] = {
    "sgd": SGD,
    "adagrad": Adagrad,
    "adadelta": Adadelta,
    "rmsprop": RMSprop,
    "adam": Adam,
    "adamw": AdamW,
}


def make_optimizer(
    name: str,
    params: list[np.ndarray],
    learning_rate: float | None = None,
    **hyper: Any,
) -> Optimizer:
    """Build the optimizer registered as ``name`` (case-insensitive).

    ``learning_rate=None`` uses the optimizer's default (``cls.param("learning_rate").default``).
    ``hyper`` may contain the names in the class' ``PARAMS`` (including
    ``clipnorm``). Raises :class:`TrainingError` for an unknown optimizer, an
    unknown hyper-parameter or a bad value.
    """
    key = name.strip().lower() if isinstance(name, str) else name
    cls = OPTIMIZERS.get(key) if isinstance(key, str) else None
    if cls is None:
        raise TrainingError(f"Unknown optimizer {short_repr(name)}. Known optimizers: {', '.join(OPTIMIZERS)}.")
    if "learning_rate" in hyper:
        if learning_rate is not None:
            raise TrainingError("Learning rate given twice.")
        learning_rate = hyper.pop("learning_rate")
    return cls(params, learning_rate, **hyper)
