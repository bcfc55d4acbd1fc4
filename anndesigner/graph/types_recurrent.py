"""Node types of this family (filled in by the layer-library work)."""

from __future__ import annotations

TYPES: tuple = ()
