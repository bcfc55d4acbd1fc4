"""Data sets: built-in toy data, the handwritten digits, sequence tasks, CSV
import and input standardization (no Qt)."""

from .builtin import (
    BUILTIN_DATASETS,
    BuiltinInfo,
    load_builtin,
    make_and,
    make_blobs,
    make_circles,
    make_house_prices,
    make_moons,
    make_or,
    make_sine,
    make_spirals,
    make_xor,
)
from .csvfile import load_csv, read_csv_preview
from .dataset import (
    Dataset,
    Standardizer,
    complete_source,
    load_source,
    relative_source_path,
    restandardized_source,
    same_source,
    source_for_file,
    source_from_file,
)
from .digits import make_digits
from .sequences import make_parity, make_pattern, make_sine_sequence, pattern_labels

__all__ = [
    "BUILTIN_DATASETS",
    "BuiltinInfo",
    "Dataset",
    "Standardizer",
    "complete_source",
    "load_builtin",
    "load_csv",
    "load_source",
    "relative_source_path",
    "restandardized_source",
    "same_source",
    "source_for_file",
    "source_from_file",
    "make_and",
    "make_blobs",
    "make_circles",
    "make_digits",
    "make_house_prices",
    "make_moons",
    "make_or",
    "make_parity",
    "make_pattern",
    "make_sine",
    "make_sine_sequence",
    "make_spirals",
    "make_xor",
    "pattern_labels",
    "read_csv_preview",
]
