"""Data sets: built-in toy data, CSV import and input standardization (no Qt)."""

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
from .dataset import Dataset, Standardizer, load_source

__all__ = [
    "BUILTIN_DATASETS",
    "BuiltinInfo",
    "Dataset",
    "Standardizer",
    "load_builtin",
    "load_csv",
    "load_source",
    "make_and",
    "make_blobs",
    "make_circles",
    "make_house_prices",
    "make_moons",
    "make_or",
    "make_sine",
    "make_spirals",
    "make_xor",
    "read_csv_preview",
]
