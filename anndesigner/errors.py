"""Typed errors of ANN Designer.

Every error a user can cause derives from :class:`AnnError` and carries a
message a person understands. Graph errors name the node or edge they concern
(``node_id`` / ``edge_id``) so that the editor can show them where they happen.
"""

from __future__ import annotations

import copy


def short_repr(value, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters, for messages that quote what a file
    or a caller gave (a 5,000-character value must not make a 10,000-character message)."""
    r = repr(value)
    return r if len(r) <= limit else r[: limit - 3] + "..."


class AnnError(Exception):
    """Base class of every error ANN Designer raises for a user mistake."""


# --------------------------------------------------------------------- graph
class GraphError(AnnError):
    """A problem with the network graph. ``node_id``/``edge_id`` say where."""

    def __init__(self, message: str, *, node_id: str | None = None, edge_id: str | None = None):
        super().__init__(message)
        self.message = message
        self.node_id = node_id
        self.edge_id = edge_id

    def located(self, message: str, node_id: str | None) -> "GraphError":
        """A copy with another message and node, keeping the type and every
        other detail (a :class:`ParameterError`'s ``param``)."""
        new = copy.copy(self)
        new.args = (message,)
        new.message = message
        new.node_id = node_id
        return new


class CycleError(GraphError):
    """The connection would create a cycle."""


class ShapeError(GraphError):
    """A node receives inputs whose shapes it cannot take."""


class MissingInputError(GraphError):
    """A node needs an input that is not connected (or the graph lacks Input/Output)."""


class DuplicateEdgeError(GraphError):
    """The same two ports are already connected."""


class PortError(GraphError):
    """A port does not exist, or a single-edge port is already taken."""


class ParameterError(GraphError):
    """A node parameter has a bad value (type, range or choice)."""

    def __init__(self, message: str, *, node_id: str | None = None, param: str | None = None):
        super().__init__(message, node_id=node_id)
        self.param = param


class UnknownNodeTypeError(GraphError):
    """A node type id that is not registered."""


class GradientError(GraphError):
    """Backpropagation must pass through a node that has no gradient (step)."""


# ---------------------------------------------------------------------- data
class DataError(AnnError):
    """Bad data: a broken CSV, or data that does not fit the network.

    ``line`` and ``column`` (1-based line number, column name or number) say
    where the problem is when it comes from a file.
    """

    def __init__(self, message: str, *, line: int | None = None, column: str | int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


# ------------------------------------------------------------------ training
class TrainingError(AnnError):
    """Training had to stop (NaN or inf appeared, bad settings)."""

    def __init__(self, message: str, *, node_id: str | None = None):
        super().__init__(message)
        self.message = message
        self.node_id = node_id


# --------------------------------------------------------------------- files
class FileFormatError(AnnError):
    """A network file cannot be read. The message says what is wrong and where."""
