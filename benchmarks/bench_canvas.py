#!/usr/bin/env python
"""Canvas benchmark for ANN Designer (a script, not a test).

    python benchmarks/bench_canvas.py             # 2,000 nodes, 4,000 wires
    python benchmarks/bench_canvas.py --nodes 500 --strict

Runs headless (``QT_QPA_PLATFORM=offscreen`` unless set). It builds a valid
layered graph (Input nodes, then alternating Dense layers and single Neurons,
each wired to two or three nodes of earlier columns), then measures:

1. opening: building the ``GraphScene`` and ``CanvasView`` from the graph
   (target: < 1 s), and the first full frame at 100 %;
2. one full frame (``viewport().repaint()``) at 100 % and with the whole
   graph in view (Fit to window);
3. panning: 60 steps, each scrolling the view and repainting the whole
   viewport (stricter than real scrolling, which repaints only the exposed
   strip), at 100 % and fitted; p50 / p95 per frame (target: p95 < 33 ms at 100 %);
4. one edit through the undo stack (set units of a layer) until the items show
   the new analysis; a wire drag: the press, and until every input port in
   view shows whether it would accept the wire.

``--strict`` makes the exit status 1 when a target is missed. Figures are
wall-clock; other busy processes on the machine lower them.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the working copy next to this script

import PySide6  # noqa: E402
from PySide6.QtCore import QPointF  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

OPEN_TARGET_MS = 1000.0
PAN_P95_TARGET_MS = 33.0


def build_graph(n_nodes: int, n_edges: int):
    """Columns of 100 nodes: Inputs first, then Dense layers and Neurons; every
    node past the first column reads 2 nodes of the column before (and some a
    third from two columns before), so the graph is acyclic and shapes fit."""
    from anndesigner.graph import Graph

    g = Graph()
    per_col = 100
    cols = max(2, n_nodes // per_col)
    columns: list[list[str]] = []
    made = 0
    for c in range(cols):
        col = []
        for r in range(per_col):
            if made >= n_nodes:
                break
            pos = (c * 220.0, r * 100.0)
            if c == 0:
                n = g.add_node("Input", units=4, position=pos)
            elif (c + r) % 2:
                n = g.add_node("Dense", units=4, activation="tanh", position=pos)
            else:
                n = g.add_node("Neuron", activation="sigmoid", position=pos)
            col.append(n.id)
            made += 1
        columns.append(col)
    edges = 0
    for c in range(1, len(columns)):
        prev = columns[c - 1]
        for r, nid in enumerate(columns[c]):
            for k in (0, 1):
                g.connect(prev[(r + k) % len(prev)], nid, check_shapes=False)
                edges += 1
    c = 2
    while edges < n_edges and c < len(columns):
        for r, nid in enumerate(columns[c]):
            if edges >= n_edges:
                break
            g.connect(columns[c - 2][(r + 7) % len(columns[c - 2])], nid, check_shapes=False)
            edges += 1
        c += 1
    return g


def ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000.0


def pan_frames(app, view, steps: int = 60, dx: int = 12, dy: int = 5) -> list[float]:
    h, v = view.horizontalScrollBar(), view.verticalScrollBar()
    times = []
    for i in range(steps):
        sign = 1 if (i // 20) % 2 == 0 else -1  # back and forth, staying over the graph
        t0 = time.perf_counter()
        h.setValue(h.value() + sign * dx)
        v.setValue(v.value() + sign * dy)
        view.viewport().repaint()
        times.append(ms(t0))
    app.processEvents()
    return times


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=2000)
    ap.add_argument("--edges", type=int, default=4000)
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=800)
    ap.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = ap.parse_args(argv)

    app = QApplication.instance() or QApplication([])
    import anndesigner as ad
    from anndesigner.ui import commands as C
    from anndesigner.ui.canvas import CanvasView, GraphScene, NodeItem
    from anndesigner.ui.canvas.interactions import NewWireGesture
    from anndesigner.ui.document import Document

    t0 = time.perf_counter()
    g = build_graph(args.nodes, args.edges)
    t_graph = ms(t0)
    analysis = g.analyze()
    doc = Document(ad.Network(g, strict=False))
    print(f"graph: {len(g.nodes)} nodes, {len(g.edges)} wires, {len(analysis.errors)} errors "
          f"(built in {t_graph:.0f} ms, not counted)")

    t0 = time.perf_counter()
    scene = GraphScene(doc)
    view = CanvasView(scene)
    view.resize(args.width, args.height)
    t_open = ms(t0)
    t0 = time.perf_counter()
    view.centerOn(QPointF(600, 400))
    view.show()
    app.processEvents()
    view.viewport().repaint()
    t_first = ms(t0)
    t0 = time.perf_counter()
    view.viewport().repaint()
    t_frame = ms(t0)
    pan_100 = pan_frames(app, view)

    view.fit_to_window()
    app.processEvents()
    fit_zoom = view.zoom()
    fit_visible = sum(1 for it in scene.items(view.mapToScene(view.viewport().rect()).boundingRect())
                      if isinstance(it, NodeItem))
    t0 = time.perf_counter()
    view.viewport().repaint()
    t_fit_first = ms(t0)
    t0 = time.perf_counter()
    view.viewport().repaint()
    t_fit_frame = ms(t0)
    pan_fit = pan_frames(app, view)

    view.actual_size()
    view.centerOn(QPointF(1100, 400))
    app.processEvents()
    target = next(n for n in g.nodes.values() if n.type_id == "Dense" and n.position[0] >= 1000)
    t0 = time.perf_counter()
    doc.push(C.SetParamsCommand(doc, {target.id: {"units": 6}}))
    t_edit = ms(t0)
    assert scene.node_item(target.id).shape_text == "(6)"
    src = scene.node_item(next(n.id for n in g.nodes.values() if n.position == (880.0, 400.0)))
    gesture = NewWireGesture(scene, src, view)
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    t0 = time.perf_counter()
    gesture.start(src.out_port_scene() + QPointF(20, 0))
    t_wire = ms(t0)
    judged = sum(1 for it in scene.node_items() if it.port_hint is not None)
    in_view = [it for it in scene.node_items() if it.has_input and visible.contains(it.pos())]
    t0 = time.perf_counter()
    while gesture._pending and any(it.port_hint is None for it in in_view):
        gesture._evaluate_slice()
    t_wire_visible = t_wire + ms(t0)
    gesture.cancel()

    scene.detach()
    ok_open = t_open < OPEN_TARGET_MS
    ok_pan = pct(pan_100, 0.95) < PAN_P95_TARGET_MS

    def mark(ok: bool) -> str:
        return "PASS" if ok else "MISS"

    print()
    load = f", load {os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else ""
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, PySide6 {PySide6.__version__}, "
          f"Qt platform {app.platformName()}{load}")
    print(f"view {args.width}x{args.height}")
    print(f"open (GraphScene + CanvasView)      {t_open:8.1f} ms   target < {OPEN_TARGET_MS:.0f} ms  "
          f"{mark(ok_open)}")
    print(f"show + first frame at 100 %         {t_first:8.1f} ms")
    print(f"full frame at 100 %                 {t_frame:8.1f} ms")
    print(f"pan at 100 %   (60 frames)  p50 {pct(pan_100, .5):6.1f} ms  p95 {pct(pan_100, .95):6.1f} ms   "
          f"target p95 < {PAN_P95_TARGET_MS:.0f} ms  {mark(ok_pan)}")
    print(f"first frame fitted (zoom {fit_zoom:.2f})      {t_fit_first:8.1f} ms")
    print(f"full frame fitted                   {t_fit_frame:8.1f} ms   ({fit_visible} nodes in view)")
    print(f"pan fitted     (60 frames)  p50 {pct(pan_fit, .5):6.1f} ms  p95 {pct(pan_fit, .95):6.1f} ms   "
          f"(whole graph in view; no target)")
    print(f"edit (set units) until items show it {t_edit:7.1f} ms")
    print(f"wire drag: press handled             {t_wire:7.1f} ms   ({judged} ports judged, the rest in 12 ms "
          f"slices)")
    print(f"wire drag: all {len(in_view)} ports in view judged  {t_wire_visible:7.1f} ms")
    missed = not (ok_open and ok_pan)
    print("\nall targets met" if not missed else "\nsome targets missed")
    return 1 if (missed and args.strict) else 0


if __name__ == "__main__":
    sys.exit(main())
