"""Colours and sizes shared by the canvas, palette and inspector, so that data,
layers, neurons and outputs look the same everywhere."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QColor

if TYPE_CHECKING:  # pragma: no cover
    from ..graph import NodeType

# role -> (fill, border/accent)
ROLE_COLORS = {
    "data": ("#E3F2FD", "#1E88E5"),        # blue: Input
    "layer": ("#EDE7F6", "#5E35B1"),       # violet: Dense and other weighted layers
    "neuron": ("#FFF3E0", "#FB8C00"),      # orange: single neurons
    "activation": ("#E8F5E9", "#43A047"),  # green: Activation
    "regularization": ("#ECEFF1", "#607D8B"),  # grey-blue: Dropout
    "merge": ("#E0F7FA", "#00ACC1"),       # cyan: Concatenate, Add
    "output": ("#FCE4EC", "#D81B60"),      # pink: Output
    "convolution": ("#E0F2F1", "#00897B"),  # teal: Conv2D, pools
    "sequence": ("#FFF8E1", "#FFA000"),    # amber: recurrent layers, Embedding, positions
    "attention": ("#E8EAF6", "#3949AB"),   # indigo: self-attention
    "normalization": ("#F9FBE7", "#9E9D24"),  # lime: BatchNorm, LayerNorm
    "shape": ("#F5F5F5", "#757575"),       # grey: Flatten, Reshape
}

CATEGORY_ROLE = {
    "Data": "data",
    "Neurons & Layers": "layer",
    "Activations": "activation",
    "Regularization": "regularization",
    "Merge": "merge",
    "Output": "output",
    "Convolution": "convolution",
    "Sequence": "sequence",
    "Attention": "attention",
    "Normalization": "normalization",
    "Shape": "shape",
}

ERROR_COLOR = QColor("#E53935")
WIRE_COLOR = QColor("#78909C")
WIRE_SELECTED = QColor("#1E88E5")
POSITIVE_WEIGHT = QColor("#1E88E5")  # blue
NEGATIVE_WEIGHT = QColor("#F4511E")  # orange-red
#: class colours everywhere (data preview, decision surface, confusion matrix): class 0 orange-red
#: and class 1 blue, as negative and positive weights (a sigmoid says class 1 for a positive sum)
CLASS_COLORS = (NEGATIVE_WEIGHT.name(), POSITIVE_WEIGHT.name(), "#43A047", "#8E24AA", "#00ACC1",
                "#FFB300", "#D81B60", "#6D4C41", "#3949AB", "#7CB342")
#: regression targets, low to high: orange-red, light grey, blue (as the output surface)
VALUE_COLORS = (NEGATIVE_WEIGHT.name(), "#B0BEC5", POSITIVE_WEIGHT.name())
CANVAS_BG = QColor("#FAFAFA")
GRID_COLOR = QColor("#ECEFF1")
TEXT_COLOR = QColor("#263238")
MUTED_TEXT = QColor("#607D8B")


def node_role(node_type: "NodeType") -> str:
    """The colour role of a node type: a type drawn as a single neuron is orange,
    the others take their category's colours."""
    if node_type.drawn_as == "neuron":
        return "neuron"
    return CATEGORY_ROLE.get(node_type.category, "layer")


def role_colors(role: str) -> tuple[QColor, QColor]:
    fill, accent = ROLE_COLORS.get(role, ROLE_COLORS["layer"])
    return QColor(fill), QColor(accent)
