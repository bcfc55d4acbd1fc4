"""Built-in toy data sets.

Every generator takes the keyword arguments ``n_samples`` and ``seed`` and
the other parameters listed in its :class:`BuiltinInfo` defaults (``noise``
for the point, regression and sine-sequence sets, ``centers`` for blobs,
``steps`` and ``vocab`` for the sequence sets), draws its random numbers from
``np.random.default_rng(seed)`` only, and so returns the same data for the
same arguments. Rows are returned in random order (except the logic gates,
whose rows follow the truth table). Inputs are not standardized;
:func:`load_builtin` with ``standardize=True`` does that.

Each :class:`BuiltinInfo` describes its settings as a tuple of
:class:`~anndesigner.params.ParamSpec` (``info.params``: label, help, the
data set's default and the range its editor offers), the description the
window's form is built from.

The digits (:mod:`.digits`) are real data read from a file shipped in
``resources/data``; the sequence sets live in :mod:`.sequences`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any, Callable, Mapping

import numpy as np

from ..errors import DataError
from ..params import ParamSpec
from ._common import MAX_CENTERS, MAX_SAMPLES, _binary, _check_n, _check_noise, _source, _two_class_counts
from .dataset import Dataset, Standardizer, _check_seed
from .digits import DIGITS_SAMPLES, make_digits
from .features import DEFAULT_FEATURES, FEATURE_NAMES, check_features, with_features
from .formula import FormulaError, parse
from .patterns import make_letters
from .sequences import MAX_STEPS, MAX_VOCAB, make_parity, make_pattern, make_sine_sequence

# ----------------------------------------------------------------- logic gates
_TRUTH_INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)


def _gate(name: str, outputs: list[int], n_samples: Any, noise: Any, seed: Any) -> Dataset:
    n = _check_n(n_samples)
    noise = _check_noise(noise)
    seed = _check_seed(seed)
    rows = np.arange(n) % 4
    X = _TRUTH_INPUTS[rows].copy()
    if noise > 0:
        X += np.random.default_rng(seed).normal(0.0, noise, size=X.shape)
    y = np.array(outputs, dtype=np.float64)[rows]
    return _binary(name.upper(), X, y, ["0", "1"], ["x1", "x2"], "y", _source(name, n, noise, seed))


def make_and(n_samples: int = 4, noise: float = 0.0, seed: int = 0) -> Dataset:
    """Logical AND of two 0/1 inputs. ``n_samples`` rows cycle through the truth table."""
    return _gate("and", [0, 0, 0, 1], n_samples, noise, seed)


def make_or(n_samples: int = 4, noise: float = 0.0, seed: int = 0) -> Dataset:
    """Logical OR of two 0/1 inputs. ``n_samples`` rows cycle through the truth table."""
    return _gate("or", [0, 1, 1, 1], n_samples, noise, seed)


def make_xor(n_samples: int = 4, noise: float = 0.0, seed: int = 0) -> Dataset:
    """Logical XOR of two 0/1 inputs. ``n_samples`` rows cycle through the truth table."""
    return _gate("xor", [0, 1, 1, 0], n_samples, noise, seed)


# ---------------------------------------------------------------- 2-D classes
def _two_classes_2d(key: str, title: str, n_samples: Any, noise: Any, seed: Any,
                    points: Callable[[np.random.Generator, np.ndarray], np.ndarray],
                    classes: list[str], word: str) -> Dataset:
    """Half the samples of class 0, half of class 1, placed by ``points(rng, labels)``,
    then Gaussian noise of std ``noise`` and a shuffle."""
    n = _check_n(n_samples)
    noise = _check_noise(noise)
    seed = _check_seed(seed)
    rng = np.random.default_rng(seed)
    n0, n1 = _two_class_counts(n)
    labels = np.concatenate([np.zeros(n0), np.ones(n1)])
    X = points(rng, labels)
    X += rng.normal(0.0, noise, size=X.shape) if noise > 0 else 0.0
    perm = rng.permutation(n)
    return _binary(title, X[perm], labels[perm], classes, ["x", "y"], word, _source(key, n, noise, seed))


def _spiral_points(rng: np.random.Generator, labels: np.ndarray) -> np.ndarray:
    max_theta = 3.0 * math.pi
    theta = np.sqrt(rng.uniform(0.0, 1.0, size=len(labels))) * max_theta * 0.95 + 0.05 * max_theta
    r = theta / max_theta
    phase = labels * math.pi  # second spiral is the first one turned by 180 degrees
    return np.column_stack([r * np.cos(theta + phase), r * np.sin(theta + phase)])


def _circle_points(rng: np.random.Generator, labels: np.ndarray) -> np.ndarray:
    radius = np.where(labels == 0, 1.0, 0.5)
    angle = rng.uniform(0.0, 2.0 * math.pi, size=len(labels))
    return np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])


def _moon_points(rng: np.random.Generator, labels: np.ndarray) -> np.ndarray:
    t = rng.uniform(0.0, math.pi, size=len(labels))
    upper = np.column_stack([np.cos(t), np.sin(t)])
    lower = np.column_stack([1.0 - np.cos(t), 0.5 - np.sin(t)])
    return np.where(labels[:, None] == 0, upper, lower)


def make_spirals(n_samples: int = 200, noise: float = 0.05, seed: int = 0) -> Dataset:
    """Two interleaved spirals (1.5 turns each) in roughly [-1, 1]²."""
    return _two_classes_2d("spirals", "Spirals", n_samples, noise, seed, _spiral_points,
                           ["spiral A", "spiral B"], "spiral")


def make_circles(n_samples: int = 200, noise: float = 0.05, seed: int = 0) -> Dataset:
    """An outer ring (radius 1, class ``outer``) around an inner one (radius 0.5, class ``inner``)."""
    return _two_classes_2d("circles", "Circles", n_samples, noise, seed, _circle_points, ["outer", "inner"], "ring")


def make_moons(n_samples: int = 200, noise: float = 0.1, seed: int = 0) -> Dataset:
    """Two interleaving half circles (class ``upper`` and ``lower``)."""
    return _two_classes_2d("moons", "Moons", n_samples, noise, seed, _moon_points, ["upper", "lower"], "moon")


def make_blobs(n_samples: int = 300, noise: float = 0.5, seed: int = 0, centers: int = 3) -> Dataset:
    """``centers`` Gaussian clusters (std ``noise``) whose centres lie on a circle.

    Classes are ``"0"``, ``"1"``, ...; with more than two the targets are
    one-hot (``class=0``, ``class=1``, ...), with two a single 0/1 column.
    """
    n = _check_n(n_samples)
    noise = _check_noise(noise)
    seed = _check_seed(seed)
    if isinstance(centers, bool) or not isinstance(centers, (int, np.integer)):
        raise DataError(f"centers must be an integer, not {centers!r}")
    if not 2 <= centers <= MAX_CENTERS:
        raise DataError(f"centers must be between 2 and {MAX_CENTERS}, got {centers}")
    k = int(centers)
    if n < k:
        raise DataError(f"n_samples ({n}) must be at least the number of centers ({k})")
    rng = np.random.default_rng(seed)
    radius = max(2.5, 0.5 * k)
    phase = rng.uniform(0.0, 2.0 * math.pi)
    angles = phase + 2.0 * math.pi * np.arange(k) / k
    centre_xy = radius * np.column_stack([np.cos(angles), np.sin(angles)])
    labels = np.arange(n) % k
    X = centre_xy[labels] + (rng.normal(0.0, noise, size=(n, 2)) if noise > 0 else 0.0)
    perm = rng.permutation(n)
    X, labels = X[perm], labels[perm]
    classes = [str(i) for i in range(k)]
    source = _source("blobs", n, noise, seed, centers=k)
    if k == 2:
        return _binary("Blobs", X, labels.astype(np.float64), classes, ["x", "y"], "class", source)
    return Dataset(
        X=X,
        Y=np.eye(k)[labels],
        name="Blobs",
        task="classification",
        input_names=["x", "y"],
        target_names=[f"class={c}" for c in classes],
        classes=classes,
        source=source,
    )


# ------------------------------------------------------------------ regression
def make_sine(n_samples: int = 100, noise: float = 0.05, seed: int = 0) -> Dataset:
    """``y = sin(x) + N(0, noise²)`` for ``x`` uniform in [-π, π]."""
    n = _check_n(n_samples)
    noise = _check_noise(noise)
    seed = _check_seed(seed)
    rng = np.random.default_rng(seed)
    x = rng.uniform(-math.pi, math.pi, size=n)
    y = np.sin(x) + (rng.normal(0.0, noise, size=n) if noise > 0 else 0.0)
    return Dataset(
        X=x.reshape(-1, 1),
        Y=y.reshape(-1, 1),
        name="Sine",
        task="regression",
        input_names=["x"],
        target_names=["y"],
        classes=None,
        source=_source("sine", n, noise, seed),
    )


def make_house_prices(n_samples: int = 500, noise: float = 0.05, seed: int = 0) -> Dataset:
    """Synthetic house prices (in thousands) from four inputs on natural scales.

    * ``location_score``: 1 to 10 (uniform)
    * ``crime_rate``: crimes per 1000 residents and year (gamma, mean 12)
    * ``floor_area``: m² (log-normal around 90, clipped to 25..400)
    * ``population``: inhabitants of the town (log-normal around 80 000)

    ``price = floor_area * price_per_m2(location_score) / 1000
    * exp(-0.02 * crime_rate) * (population / 80000) ** 0.08 * exp(noise * N(0, 1))``
    with ``price_per_m2 = 1200 + 350 * location + 25 * location²``. ``noise`` is
    therefore a relative (log-normal) noise: 0.05 means about ±5 %.
    """
    n = _check_n(n_samples)
    noise = _check_noise(noise)
    seed = _check_seed(seed)
    rng = np.random.default_rng(seed)
    location = rng.uniform(1.0, 10.0, size=n)
    crime = rng.gamma(2.0, 6.0, size=n)
    area = np.clip(rng.lognormal(math.log(90.0), 0.35, size=n), 25.0, 400.0)
    population = np.round(rng.lognormal(math.log(80_000.0), 0.8, size=n))
    per_m2 = 1200.0 + 350.0 * location + 25.0 * location**2
    price = area * per_m2 / 1000.0 * np.exp(-0.02 * crime) * (population / 80_000.0) ** 0.08
    if noise > 0:
        price = price * np.exp(rng.normal(0.0, noise, size=n))
    return Dataset(
        X=np.column_stack([location, crime, area, population]),
        Y=price.reshape(-1, 1),
        name="House prices",
        task="regression",
        input_names=["location_score", "crime_rate", "floor_area", "population"],
        target_names=["price"],
        classes=None,
        source=_source("house_prices", n, noise, seed),
    )


# --------------------------------------------------------------------- formula
MAX_RANGE = 1e6


def make_formula(n_samples: int = 200, noise: float = 0.0, seed: int = 0, expression: str = "x1*x2 > 0",
                 range: float = 1.0) -> Dataset:  # noqa: A002 - the setting is called "range"
    """Points ``(x1, x2)`` uniform in ``[-range, range]²`` labelled by ``expression``
    (see :mod:`.formula`). When every value is 0 or 1 the set is a classification
    (classes ``"0"``, ``"1"``) and ``noise`` moves the inputs after labelling, as in the
    other 2-D sets; otherwise it is a regression and ``noise`` is added to the target.
    Raises :class:`~.formula.FormulaError` (a DataError) for a bad expression or one
    that is not finite at some points."""
    n = _check_n(n_samples)
    noise = _check_noise(noise)
    seed = _check_seed(seed)
    if isinstance(range, bool) or not isinstance(range, (int, float, np.integer, np.floating)) or not (
            0 < range <= MAX_RANGE):
        raise DataError(f"range must be a number above 0 and at most {MAX_RANGE:g}, not {range!r}")
    extent = float(range)
    formula = parse(expression)
    rng = np.random.default_rng(seed)
    X = rng.uniform(-extent, extent, size=(n, 2))
    y = formula.evaluate(X[:, 0], X[:, 1])
    if not np.all(np.abs(y) <= np.finfo(np.float32).max):
        raise FormulaError(f"formula {expression!r} has values too large for float32")
    source = _source("formula", n, noise, seed, expression=expression, range=extent)
    if np.all((y == 0) | (y == 1)):
        if noise > 0:
            X = X + rng.normal(0.0, noise, size=X.shape)
        return _binary("Formula", X, y, ["0", "1"], ["x1", "x2"], "y", source)
    if noise > 0:
        y = y + rng.normal(0.0, noise, size=n)
    return Dataset(X=X, Y=y.reshape(-1, 1), name="Formula", task="regression", input_names=["x1", "x2"],
                   target_names=["y"], classes=None, source=source)


# -------------------------------------------------------------------- registry
#: the kinds of inputs a built-in data set has (``BuiltinInfo.input_kind``)
INPUT_KINDS = ("features", "image", "sequence", "tokens")

#: the largest seed an editor offers (any integer >= 0 is a seed)
SEED_MAX = 2**31 - 1

#: every setting a built-in set may have, in the order a form shows them, with the range its
#: editor offers unless a data set narrows it; each data set's specs carry its own default
PARAM_SPECS: tuple[ParamSpec, ...] = (
    ParamSpec("n_samples", "int", 1, label="Samples", help="Number of rows to generate",
              minimum=1, maximum=MAX_SAMPLES),
    ParamSpec("noise", "float", 0.0, label="Noise", help="Standard deviation of the Gaussian noise added to the inputs",
              minimum=0.0, maximum=10.0, decimals=3, step=0.01),
    ParamSpec("seed", "int", 0, label="Seed", help="Random seed: the same seed gives the same data",
              minimum=0, maximum=SEED_MAX),
    ParamSpec("centers", "int", 3, label="Centers", help="Number of clusters, one class each",
              minimum=2, maximum=MAX_CENTERS),
    ParamSpec("steps", "int", 10, label="Time steps", help="Length of each sequence (values or tokens per sample)",
              minimum=1, maximum=MAX_STEPS),
    ParamSpec("vocab", "int", 6, label="Vocabulary", help="Number of different tokens: ids 0 … vocabulary − 1",
              minimum=3, maximum=MAX_VOCAB),
    ParamSpec("expression", "str", "x1*x2 > 0", label="Formula",
              help="The target as a formula of x1 and x2, e.g. x1*x2 > 0 or sin(3*x1) + x2^2 "
                   "(comparisons give 0/1 classes, anything else a regression)"),
    ParamSpec("range", "float", 1.0, label="Range", help="Points are drawn uniformly in [-range, range]²",
              minimum=0.001, maximum=MAX_RANGE, decimals=3, step=0.5),
)

#: the optional ``features`` setting of the 2-D sets (``BuiltinInfo.takes_features``): not among
#: the defaults, so a source without it (every file saved before it existed) is unchanged
FEATURES_SPEC = ParamSpec("features", "str", DEFAULT_FEATURES, label="Features",
                          help="The input columns: a list among " + ", ".join(FEATURE_NAMES))


@dataclass(frozen=True)
class BuiltinInfo:
    """Description of one built-in data set for menus and dialogs.

    ``input_kind`` says what a sample is: ``"features"`` (a few named numbers,
    plottable when there are one or two), ``"image"`` (a grid of pixels),
    ``"sequence"`` (values over time steps) or ``"tokens"`` (integer tokens
    over time steps, for an embedding). The data set's ``input_shape`` gives
    the exact shape.
    """

    name: str
    title: str
    description: str
    task: str
    factory: Callable[..., Dataset]
    #: the default parameters, in the order a data source saves them
    default_items: tuple[tuple[str, Any], ...]
    input_kind: str = "features"
    #: the settings (in PARAM_SPECS order), each with this set's default and range
    params: tuple[ParamSpec, ...] = ()
    #: whether ``load_builtin`` takes ``features`` (derived input columns, see :mod:`.features`)
    takes_features: bool = False

    @property
    def defaults(self) -> dict:
        """The default parameters (a fresh dict every time)."""
        return dict(self.default_items)

    @property
    def limits(self) -> dict[str, tuple[int, int]]:
        """``{param: (lowest, highest)}`` for this data set's integer parameters
        other than ``seed`` (any integer >= 0); a fresh dict every time."""
        return {p.name: (int(p.minimum), int(p.maximum)) for p in self.params if p.kind == "int" and p.name != "seed"}

    def param(self, name: str) -> ParamSpec:
        """The description of setting ``name`` (KeyError when this set has none)."""
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)


def _info(name, title, description, task, factory, *, input_kind="features", limits=None, takes_features=False,
          **defaults) -> BuiltinInfo:
    if input_kind not in INPUT_KINDS:
        raise ValueError(f"unknown input kind {input_kind!r}")
    limits = limits or {}
    specs = []
    for spec in PARAM_SPECS:
        if spec.name in defaults:
            lo, hi = limits.get(spec.name, (spec.minimum, spec.maximum))
            specs.append(replace(spec, default=defaults[spec.name], minimum=lo, maximum=hi))
    unknown = set(defaults) - {s.name for s in specs}
    if unknown:
        raise ValueError(f"no description for {sorted(unknown)}")
    return BuiltinInfo(name, title, description, task, factory, tuple(defaults.items()), input_kind, tuple(specs),
                       takes_features)


BUILTIN_DATASETS: Mapping[str, BuiltinInfo] = MappingProxyType(
    {
        info.name: info
        for info in (
            _info("and", "AND", "Logical AND of two binary inputs (truth table).", "classification",
                  make_and, takes_features=True, n_samples=4, noise=0.0, seed=0),
            _info("or", "OR", "Logical OR of two binary inputs (truth table).", "classification",
                  make_or, takes_features=True, n_samples=4, noise=0.0, seed=0),
            _info("xor", "XOR", "Exclusive OR: not linearly separable, needs a hidden layer.", "classification",
                  make_xor, takes_features=True, n_samples=4, noise=0.0, seed=0),
            _info("circles", "Circles", "A ring of points around a smaller ring, 2 classes.", "classification",
                  make_circles, takes_features=True, n_samples=200, noise=0.05, seed=0),
            _info("moons", "Moons", "Two interleaving half moons, 2 classes.", "classification",
                  make_moons, takes_features=True, n_samples=200, noise=0.1, seed=0),
            _info("spirals", "Spirals", "Two interleaved spirals, 2 classes; hard for small networks.",
                  "classification", make_spirals, takes_features=True, n_samples=200, noise=0.05, seed=0),
            _info("blobs", "Blobs", "Gaussian clusters, one class each (one-hot when more than 2).",
                  "classification", make_blobs, takes_features=True, n_samples=300, noise=0.5, seed=0, centers=3),
            _info("formula", "Formula",
                  "Points in a square labelled by a formula of x1 and x2 you type (0/1 values: 2 classes).",
                  "classification", make_formula, takes_features=True, n_samples=200, noise=0.0, seed=0,
                  expression="x1*x2 > 0", range=1.0),
            _info("sine", "Sine", "Regression of y = sin(x) on [-pi, pi] with noise.", "regression",
                  make_sine, n_samples=100, noise=0.05, seed=0),
            _info("house_prices", "House prices",
                  "Synthetic house prices (thousands) from location, crime, floor area, population.",
                  "regression", make_house_prices, n_samples=500, noise=0.05, seed=0),
            _info("digits", "Handwritten digits (8×8)",
                  "1,797 handwritten digits as 8×8 grey images (UCI, CC BY 4.0), 10 classes.",
                  "classification", make_digits, input_kind="image",
                  limits={"n_samples": (1, DIGITS_SAMPLES)}, n_samples=DIGITS_SAMPLES, seed=0),
            _info("letters", "Letters (5×5, ±1)",
                  "Noisy copies of four 5×5 letters with the clean letter as target: an associative memory.",
                  "regression", make_letters, input_kind="image", n_samples=200, noise=0.08, seed=0),
            _info("sine_sequence", "Sine next value",
                  "Predict the next value of a noisy sine wave from the previous steps.",
                  "regression", make_sine_sequence, input_kind="sequence",
                  n_samples=1000, steps=20, noise=0.05, seed=0),
            _info("parity", "Sequence parity",
                  "Is the number of ones in a sequence of random bits odd? 2 classes.",
                  "classification", make_parity, input_kind="sequence", n_samples=1000, steps=8, seed=0),
            _info("pattern", "Pattern detection",
                  "Does token 1 occur somewhere before token 2? Token sequences, 2 balanced classes.",
                  "classification", make_pattern, input_kind="tokens",
                  limits={"steps": (2, MAX_STEPS)}, n_samples=2000, steps=10, vocab=6, seed=0),
        )
    }
)


def load_builtin(name: str, standardize: bool = False, **params: Any) -> Dataset:
    """Generate the built-in data set ``name`` with ``params`` over its defaults.

    With ``standardize=True`` the inputs are z-scored, the fitted
    :class:`Standardizer` is stored in ``dataset.scaler`` and
    ``source["standardize"]`` is true. Raises :class:`DataError` for an
    unknown name, an unknown parameter or an invalid value.
    """
    info = BUILTIN_DATASETS.get(name) if isinstance(name, str) else None
    if info is None:
        known = ", ".join(BUILTIN_DATASETS)
        raise DataError(f"unknown built-in data set {name!r}; known data sets: {known}")
    if not isinstance(standardize, bool):
        raise DataError(f"standardize must be true or false, not {standardize!r}")
    allowed = info.defaults
    params = dict(params)
    has_features = info.takes_features and "features" in params
    features = params.pop("features") if has_features else None
    for key in params:
        if key not in allowed:
            extra = ", features" if info.takes_features else ""
            raise DataError(
                f"unknown parameter {key!r} for data set {name!r}; allowed: {', '.join(allowed)}{extra}"
            )
    ds = info.factory(**{**allowed, **params})
    if has_features:
        feats = check_features(features)
        ds = with_features(ds, feats)
        ds.source["params"]["features"] = list(feats)
    ds.source["standardize"] = standardize
    if standardize:
        ds.scaler = Standardizer.fit(ds.X)
        ds.X = ds.scaler.transform(ds.X)
    return ds


__all__ = [
    "BUILTIN_DATASETS",
    "BuiltinInfo",
    "PARAM_SPECS",
    "SEED_MAX",
    "load_builtin",
    "make_and",
    "make_or",
    "make_xor",
    "make_spirals",
    "make_circles",
    "make_moons",
    "make_blobs",
    "make_sine",
    "make_house_prices",
    "make_formula",
    "FEATURES_SPEC",
    "make_digits",
    "make_sine_sequence",
    "make_parity",
    "make_pattern",
]
