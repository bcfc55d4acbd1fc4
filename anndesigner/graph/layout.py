"""Automatic layered layout: columns by topological depth, left to right."""

from __future__ import annotations

from .model import Graph


def layered_layout(graph: Graph, *, dx: float = 200.0, dy: float = 90.0,
                   origin: tuple[float, float] = (0.0, 0.0),
                   wrap: int | None = None) -> dict[str, tuple[float, float]]:
    """Positions for every node: column = longest path from a source; rows
    ordered to follow their parents (a barycentre pass) and centred vertically.
    With ``wrap``, a long network continues in a new band below after that many
    columns, as text wraps, so it stays readable without zooming out."""
    try:
        order = graph.topological_order()
    except Exception:
        order = list(graph.nodes)
    depth: dict[str, int] = {}
    parents: dict[str, list[str]] = {n: [] for n in graph.nodes}
    for e in graph.edges.values():
        parents[e.dst].append(e.src)
    for n in order:
        depth[n] = max((depth.get(p, 0) + 1 for p in parents[n] if p in depth), default=0)
    columns: dict[int, list[str]] = {}
    for n in order:
        columns.setdefault(depth[n], []).append(n)
    row: dict[str, float] = {}
    for d in sorted(columns):
        col = columns[d]
        if d > 0:
            def bary(n: str) -> float:
                ps = [row[p] for p in parents[n] if p in row]
                return sum(ps) / len(ps) if ps else 0.0
            col.sort(key=bary)
        for i, n in enumerate(col):
            row[n] = float(i)
    height = max((len(c) for c in columns.values()), default=1)
    band = (height + 0.6) * dy
    out = {}
    for d, col in columns.items():
        off = (height - len(col)) / 2.0
        b, c = divmod(d, wrap) if wrap else (0, d)
        for i, n in enumerate(col):
            out[n] = (origin[0] + c * dx, origin[1] + b * band + (i + off) * dy)
    return out


def apply_layout(graph: Graph, positions: dict[str, tuple[float, float]]) -> None:
    for nid, pos in positions.items():
        graph.move_node(nid, pos)
