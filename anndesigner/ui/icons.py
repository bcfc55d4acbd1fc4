"""Icons from ``resources/icons`` (SVG), found in a source checkout and when installed."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PySide6.QtGui import QIcon

from ..paths import resources_dir


def resource_path(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)


@lru_cache(maxsize=None)
def icon(name: str) -> QIcon:
    """``icon("node-dense")`` -> resources/icons/node-dense.svg (an empty icon if missing)."""
    p = resources_dir() / "icons" / f"{name}.svg"
    return QIcon(str(p)) if p.exists() else QIcon()


def node_icon_name(type_id: str) -> str:
    return f"node-{type_id.lower()}"
