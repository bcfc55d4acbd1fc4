"""Health badges on the canvas (anndesigner.ui.health): pinned at the node's top-right
corner, the engine's message as tooltip, a real click opens the popup whose "Apply fix"
is one undo step; no badges on a sample trained to its target; a click beside a badge
still selects the node."""

from pathlib import Path

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QPushButton

import anndesigner as ad
from anndesigner.data import load_source
from anndesigner.engine import History, health
from anndesigner.ui.health import RADIUS, HealthBadge
from helpers import mlp

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
SOURCE = {"kind": "builtin", "name": "xor", "params": {"n_samples": 200, "noise": 0.1, "seed": 0}}


def dead_relu_file(tmp_path) -> Path:
    """A saved network whose dense_1 has 3 of 8 ReLU units dead, with a 2-epoch history."""
    g = mlp([2, 8, 1], hidden="relu")
    for i, nid in enumerate(("input_1", "dense_1", "output_1")):
        g.move_node(nid, (40.0 + 240.0 * i, 120.0))
    net = ad.Network(g, seed=0)
    net.set_data_source(SOURCE)
    net.set_training(net.training.replace(epochs=2))
    ds = load_source(SOURCE)
    net.fit(ds.X, ds.Y)
    b = net.get_weights()["dense_1/bias"]
    b[[1, 4, 6]] = -100.0  # |x W| is a few at most: never active
    net.set_weights({"dense_1/bias": b})
    path = tmp_path / "dead.ann"
    net.save(path)
    return path


def viewport_point(window, scene_pt) -> QPoint:
    return window.view.mapFromScene(scene_pt)


def test_a_dead_relu_badge_is_pinned_clicked_and_fixed_in_one_undo_step(main_window, qtbot, tmp_path):
    w = main_window()
    assert w.open_file(dead_relu_file(tmp_path))
    doc = w.document
    expected = health(doc.network, doc.dataset())
    assert [(f.node_id, f.kind) for f in expected] == [("dense_1", "dead_relu")]
    qtbot.waitUntil(lambda: "dense_1" in w.health.badges)
    qtbot.waitUntil(lambda: w.view.transform().m11() > 0 and not w.health._later.isActive())
    badge = w.health.badges["dense_1"]
    assert isinstance(badge, HealthBadge) and list(w.health.badges) == ["dense_1"]
    assert badge.findings == expected
    node = w.scene.node_item("dense_1")
    assert badge.scenePos() == node.sceneBoundingRect().topRight()
    assert badge.scene() is w.scene and badge.zValue() > node.zValue()
    assert expected[0].message in badge.toolTip().replace("&lt;", "<").replace("&gt;", ">")
    assert f"({100 * expected[0].figure:.0f} %)" in badge.toolTip()  # the engine's figure

    # the badge follows its node
    w.document.graph.move_node("dense_1", (300.0, 200.0))
    assert badge.scenePos() == node.sceneBoundingRect().topRight()

    # the item a tooltip event at a point of the badge would ask (QToolTip itself warns offscreen)
    w.view.ensureVisible(node)
    at = viewport_point(w, badge.scenePos()) + QPoint(4, 3)  # off the centre, inside the circle
    assert w.view.itemAt(at) is badge and "Dead ReLU units" in badge.toolTip()

    # a real click on the badge (not its centre) opens the popup; the node is not selected or moved
    before = tuple(doc.graph.nodes["dense_1"].position)
    qtbot.mouseClick(w.view.viewport(), Qt.MouseButton.LeftButton, pos=at)
    popup = w.health.popup
    assert popup is not None and popup.isVisible() and popup.node_id == "dense_1"
    assert w.scene.selected_node_ids() == []
    assert tuple(doc.graph.nodes["dense_1"].position) == before
    w.grab().save("/tmp/s8/health14.png")

    steps = doc.undo_stack.count()
    (apply,) = [b for b in popup.findChildren(QPushButton) if b.text() == "Apply fix"]
    qtbot.mouseClick(apply, Qt.MouseButton.LeftButton)
    assert doc.graph.nodes["dense_1"].params["activation"] == "leaky_relu"
    assert doc.undo_stack.count() == steps + 1
    assert w.health.popup is None
    qtbot.waitUntil(lambda: not w.health._later.isActive())
    assert w.health.badges == {} and health(doc.network, doc.dataset()) == []  # recomputed: healthy

    doc.undo_stack.undo()
    assert doc.graph.nodes["dense_1"].params["activation"] == "relu"
    qtbot.waitUntil(lambda: "dense_1" in w.health.badges)  # the problem is back, and its badge


def test_a_click_just_beside_a_badge_selects_the_node(main_window, qtbot, tmp_path):
    w = main_window()
    assert w.open_file(dead_relu_file(tmp_path))
    qtbot.waitUntil(lambda: "dense_1" in w.health.badges)
    badge = w.health.badges["dense_1"]
    node = w.scene.node_item("dense_1")
    w.view.ensureVisible(node)
    centre = viewport_point(w, badge.scenePos())
    beside = centre + QPoint(-int(RADIUS) - 4, int(RADIUS) + 4)  # inside the node, outside the badge
    assert node.sceneBoundingRect().contains(w.view.mapToScene(beside))
    qtbot.mouseClick(w.view.viewport(), Qt.MouseButton.LeftButton, pos=beside)
    assert w.scene.selected_node_ids() == ["dense_1"]
    assert w.health.popup is None


def test_locked_document_refuses_the_fix_and_a_run_clears_the_badges(main_window, qtbot, tmp_path):
    w = main_window()
    assert w.open_file(dead_relu_file(tmp_path))
    qtbot.waitUntil(lambda: "dense_1" in w.health.badges)
    fix = w.health.badges["dense_1"].findings[0].fix
    w.document.set_lock("A training run is in progress")
    assert w.health.badges == {}
    assert w.health.apply_fix(fix) is None
    assert w.document.graph.nodes["dense_1"].params["activation"] == "relu"
    w.document.set_lock("")
    qtbot.waitUntil(lambda: "dense_1" in w.health.badges)


def test_no_badges_on_xor_trained_to_its_target(main_window, qtbot):
    w = main_window()
    assert w.open_file(SAMPLES / "xor.ann")
    assert w.health.badges == {}  # no run yet
    w.training.start()
    qtbot.waitUntil(lambda: w.training.state == "idle", timeout=20000)
    doc = w.document
    assert len(doc.network.history) > 0
    from anndesigner import targets
    assert targets.reached(doc.network.graph.meta["target"], doc.network.history.last())[1]
    qtbot.waitUntil(lambda: not w.health._later.isActive())
    assert health(doc.network, doc.dataset()) == [] and w.health.badges == {}


def overfit_file(tmp_path) -> Path:
    """A saved healthy ReLU network whose history's validation loss rose for 6 epochs
    while its training loss fell."""
    g = mlp([2, 8, 1], hidden="relu")
    for i, nid in enumerate(("input_1", "dense_1", "output_1")):
        g.move_node(nid, (40.0 + 240.0 * i, 120.0))
    net = ad.Network(g, seed=0)
    net.set_data_source(SOURCE)
    loss = [0.70 - 0.03 * i for i in range(9)]
    val = [0.70, 0.66, 0.63, 0.64, 0.65, 0.67, 0.69, 0.72, 0.75]
    net.set_history(History({"loss": loss, "val_loss": val}))
    path = tmp_path / "overfit.ann"
    net.save(path)
    return path


def test_a_run_level_finding_sits_on_the_output_node_with_its_fixes(main_window, qtbot, tmp_path):
    w = main_window()
    assert w.open_file(overfit_file(tmp_path))
    doc = w.document
    expected = health(doc.network, doc.dataset())
    assert [(f.node_id, f.kind) for f in expected] == [(None, "overfitting")]
    qtbot.waitUntil(lambda: "output_1" in w.health.badges)
    assert list(w.health.badges) == ["output_1"] and w.health.badges["output_1"].findings == expected
    badge = w.health.badges["output_1"]
    assert badge.scenePos() == w.scene.node_item("output_1").sceneBoundingRect().topRight()
    w.view.ensureVisible(w.scene.node_item("output_1"))
    qtbot.mouseClick(w.view.viewport(), Qt.MouseButton.LeftButton,
                     pos=viewport_point(w, badge.scenePos()) + QPoint(-3, 4))
    popup = w.health.popup
    assert popup is not None and popup.isVisible()
    w.grab().save("/tmp/s8/health14-overfit.png")
    texts = [b.text() for b in popup.findChildren(QPushButton)]
    assert texts[0] == "Apply fix", texts
    assert any("Dropout" in t for t in texts) and any("L2 → 0.0001" in t for t in texts), texts

    # Apply fix: early stopping with the engine's settings, one undo step
    steps = doc.undo_stack.count()
    qtbot.mouseClick(popup.findChildren(QPushButton)[0], Qt.MouseButton.LeftButton)
    cfg = doc.network.training
    want = expected[0].fix["training"]
    assert (cfg.early_stopping, cfg.patience, cfg.restore_best_weights) == (
        want["early_stopping"], want["patience"], want["restore_best_weights"])
    assert doc.undo_stack.count() == steps + 1
    doc.undo_stack.undo()
    assert doc.network.training.early_stopping != want["early_stopping"]

    # the Dropout alternative inserts a Dropout after the hidden layer, one undo step
    qtbot.waitUntil(lambda: "output_1" in w.health.badges)
    popup = w.health.open_popup("output_1")
    (drop,) = [b for b in popup.findChildren(QPushButton) if "Dropout" in b.text()]
    assert drop.isEnabled()
    alt = next(a for a in expected[0].fix["alternatives"] if "insert_after" in a)
    hidden = alt["insert_after"]
    fed_before = sorted((e.dst, e.dst_port) for e in doc.graph.edges.values() if e.src == hidden)
    nodes, edges, steps = list(doc.graph.nodes), dict(doc.graph.edges), doc.undo_stack.index()
    qtbot.mouseClick(drop, Qt.MouseButton.LeftButton)
    assert doc.undo_stack.index() == steps + 1
    (new,) = [n for n in doc.graph.nodes if n not in nodes]
    assert doc.graph.nodes[new].type_id == "Dropout"
    assert doc.graph.nodes[new].params["rate"] == alt["params"]["rate"]
    # the hidden layer now feeds only the Dropout, which feeds what the layer fed
    assert [(e.dst) for e in doc.graph.edges.values() if e.src == hidden] == [new]
    assert sorted((e.dst, e.dst_port) for e in doc.graph.edges.values() if e.src == new) == fed_before
    assert doc.network.compiles
    doc.undo_stack.undo()
    assert list(doc.graph.nodes) == nodes and set(doc.graph.edges) == set(edges)


def test_a_run_clears_the_badges_and_its_end_pins_the_new_findings(main_window, qtbot, tmp_path):
    w = main_window()
    assert w.open_file(dead_relu_file(tmp_path))
    qtbot.waitUntil(lambda: "dense_1" in w.health.badges)
    states = []
    w.training.stateChanged.connect(lambda s: states.append((s, dict(w.health.badges))))
    assert w.training.start()
    assert states[0] == ("running", {})  # gone as soon as the run starts
    qtbot.waitUntil(lambda: w.training.state == "idle", timeout=20000)
    doc = w.document
    assert len(doc.network.history) == 4  # 2 epochs before, 2 now
    expected = health(doc.network, doc.dataset())  # the units stay dead: no gradient reaches them
    assert [(f.node_id, f.kind) for f in expected] == [("dense_1", "dead_relu")]
    qtbot.waitUntil(lambda: "dense_1" in w.health.badges)
    assert w.health.badges["dense_1"].findings == expected
