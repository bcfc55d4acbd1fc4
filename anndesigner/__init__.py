"""ANN Designer: design, train and understand neural networks.

Scripting API::

    import anndesigner as ad
    g = ad.Graph()
    x = g.add_node("Input", units=2)
    h = g.add_node("Dense", units=4, activation="tanh")
    y = g.add_node("Output", units=1, activation="sigmoid", loss="binary_crossentropy")
    g.connect(x, h); g.connect(h, y)
    net = ad.Network(g, seed=0)
    net.fit(X, Y, epochs=200, batch_size=4, optimizer="adam", learning_rate=0.05)
    net.save("xor.ann"); net2 = ad.load("xor.ann")
"""

from ._version import __version__
from .errors import (
    AnnError,
    CycleError,
    DataError,
    DuplicateEdgeError,
    FileFormatError,
    GradientError,
    GraphError,
    MissingInputError,
    ParameterError,
    PortError,
    ShapeError,
    TrainingError,
    UnknownNodeTypeError,
)
from .graph import Graph
from .engine import History, Network, Trainer, TrainingConfig
from .io import load_network as load  # also makes net.save(path) write .ann files (see anndesigner.io)


def dataset(name: str, **params):
    """A built-in data set by name (``xor``, ``spirals``, ``house_prices`` …)."""
    from .data import load_builtin

    return load_builtin(name, **params)


__all__ = [
    "AnnError", "CycleError", "DataError", "DuplicateEdgeError", "FileFormatError", "GradientError", "Graph",
    "GraphError", "History", "MissingInputError", "Network", "ParameterError", "PortError", "ShapeError",
    "Trainer", "TrainingConfig", "TrainingError", "UnknownNodeTypeError", "__version__", "dataset", "load",
]
