"""Where the shipped data folders are: inside the installed package
(``anndesigner/resources``, ``anndesigner/samples``) or, in a source checkout,
at the repository's top level."""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent


def _find(name: str, marker: str | None = None) -> Path:
    for cand in (_PKG / name, _PKG.parent / name):
        if cand.is_dir() and (marker is None or (cand / marker).exists()):
            return cand
    raise FileNotFoundError(f"ANN Designer's {name} folder is missing")


def resources_dir() -> Path:
    return _find("resources", "icons")


def samples_dir() -> Path:
    return _find("samples")


#: the gallery's teaching order: the first neurons, then layers, then architectures
GALLERY_ORDER = (
    "mp-neuron", "perceptron", "hebbian", "xor", "xor-neurons", "house-prices", "spirals",
    "digits-mlp", "digits-cnn", "autoencoder", "sine-lstm", "tiny-transformer",
)


def sample_files() -> list[Path]:
    """The sample networks, in the gallery's order (others after, by name)."""
    try:
        files = sorted(samples_dir().glob("*.ann"))
    except FileNotFoundError:
        return []
    rank = {name: i for i, name in enumerate(GALLERY_ORDER)}
    return sorted(files, key=lambda p: (rank.get(p.stem, len(rank)), p.stem))
