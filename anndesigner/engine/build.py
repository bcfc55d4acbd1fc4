"""One way between a :class:`Network` and its dictionary (the content of a
file's ``network.json``: meta, seed, dtype, nodes, edges, training settings,
data-set reference), used by :mod:`anndesigner.io` (which adds the file's
format header and does the zip reading and writing) and by the training
process (which sends a network to its child as this dictionary).

Weights and history are not in the dictionary (a file keeps them in
``weights.npz`` and ``history.json``); they are passed beside it.
"""

from __future__ import annotations

import os
from typing import Any, Mapping

import numpy as np

from ..data import source_for_file, source_from_file
from ..errors import AnnError
from ..graph import Graph
from .network import Network
from .trainer import History, TrainingConfig


class DocumentError(AnnError):
    """A part of a network's dictionary that cannot be read. ``part`` is
    ``"training"`` or ``"data"``; ``reason`` says what is wrong with it."""

    def __init__(self, part: str, reason: str):
        super().__init__(f"{part}: {reason}")
        self.part = part
        self.reason = reason


def network_to_dict(net: Network, base_dir: str | os.PathLike | None = None) -> dict[str, Any]:
    """``net`` as a JSON-native dict. With ``base_dir`` (the folder of the file it
    goes into), a CSV data path inside it is written relative to it
    (:func:`~anndesigner.data.source_for_file`)."""
    g = net.graph.to_dict()
    return {
        "meta": g["meta"],
        "seed": net.seed,
        "dtype": str(net.dtype),
        "nodes": g["nodes"],
        "edges": g["edges"],
        "training": net.training.to_dict(),
        "data": net.data_source if base_dir is None else source_for_file(net.data_source, base_dir),
    }


def graph_from_dict(d: Mapping[str, Any]) -> Graph:
    """The graph of a network's dict; raises :class:`~anndesigner.errors.GraphError`
    for anything invalid (and KeyError, TypeError ... for a malformed node or edge)."""
    return Graph.from_dict({"meta": d.get("meta") or {}, "nodes": d["nodes"], "edges": d["edges"]})


def network_from_dict(d: Mapping[str, Any], weights: Mapping[str, np.ndarray] | None = None, *,
                      history: History | Mapping[str, Any] | None = None,
                      base_dir: str | os.PathLike | None = None, graph: Graph | None = None,
                      strict: bool = True) -> Network:
    """The :class:`Network` a dict of :func:`network_to_dict` describes, with
    ``weights`` by name and ``history`` (a :class:`History` or its dict).

    ``base_dir``: the folder of the file the dict was read from (a relative CSV
    path becomes absolute). ``graph``: the dict's graph when the caller built
    it already (a file's reader checks it before reading the weights).
    ``strict``: compile now (a design saved mid-edit is built with False).
    Unreadable training settings or data reference raise :class:`DocumentError`."""
    if graph is None:
        graph = graph_from_dict(d)
    try:
        training = TrainingConfig.from_dict(d.get("training"))
    except (AnnError, TypeError, ValueError, KeyError, AttributeError, OverflowError) as e:
        raise DocumentError("training", str(e)) from None
    data = d.get("data")
    if base_dir is not None:
        try:
            data = source_from_file(data, os.path.abspath(base_dir))
        except (TypeError, ValueError, KeyError, AttributeError) as e:
            raise DocumentError("data", str(e)) from None
    if history is not None and not isinstance(history, History):
        history = History.from_dict(history)
    return Network(graph, d.get("seed", 0), dtype=d.get("dtype", "float32"), weights=weights, training=training,
                   data=data, history=history, strict=strict)
