"""Guided tours in the real window: Next / Back clicked with the mouse ring each
step's nodes, open its view and run its explain action through Explain mode;
Back shows what coming forward showed; Close and another document remove the
rings; the undo stack stays clean; Help ▸ Guided Tour opens the document's
tour or the perceptron sample's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QSettings, Qt  # noqa: E402
from PySide6.QtGui import QTextDocument  # noqa: E402
from PySide6.QtWidgets import QMessageBox  # noqa: E402

from anndesigner.io import load_network  # noqa: E402
from anndesigner.io.tour import text_html  # noqa: E402
from anndesigner.ui.explain.stages import Stepper  # noqa: E402
from anndesigner.ui.tour import TOUR_RING  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


@pytest.fixture
def window(main_window, tmp_path):
    return main_window(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))


def click(qtbot, button):
    assert button.isVisible() and button.isEnabled(), button.objectName()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def plain(html: str) -> str:
    d = QTextDocument()
    d.setHtml(html)
    return d.toPlainText()


def ring_items(w):
    return [it for it in w.scene.items() if it.data(0) == "tour-ring"]


def expected_explain(tour, k, frames):
    """The explain position step k should show, replayed on the traced frames with the
    panel's own Stepper: (row, frame index, granularity)."""
    row, index, gran = None, None, "operation"
    for s in tour.steps[:k + 1]:
        a = s.action
        if a is None or a.do not in ("explain-sample", "explain-forward"):
            continue
        gran = a.granularity or gran
        if a.do == "explain-sample":
            row, index = a.row, 0
        else:
            st = Stepper(frames, index=index, granularity=gran)
            for _ in range(a.steps):
                st.forward()
            index = st.index
    return row, index, gran


def check_step(w, k, seen):
    t = w.tours
    tour = w.document.network.tour
    s = tour.steps[k]
    panel = t.panel
    assert t.index == k
    assert panel.position.text() == f"Step {k + 1} of {len(tour.steps)}"
    assert panel.text.toPlainText() == plain(text_html(s.text))
    assert panel.message.text() == ""
    # rings: exactly the step's nodes, drawn around each node's item, dashed blue
    assert sorted(t.ring_ids()) == sorted(s.highlight)
    rings = ring_items(w)
    assert len(rings) == len(s.highlight)
    for nid, ring in t.highlight.rings.items():
        assert ring.pen().color() == TOUR_RING and ring.pen().style() == Qt.PenStyle.DashLine
        assert ring.sceneBoundingRect().contains(w.scene.node_item(nid).sceneBoundingRect())
    docks = {"explain": w.explain.dock, "surface": w.surface_dock, "inspector": w.inspector_dock,
             "data": w.data_dock, "plots": w.plots_dock, "training": w.training_dock}
    if s.open in docks:
        assert docks[s.open].isVisible() and not docks[s.open].visibleRegion().isEmpty(), s.open
    a = s.action
    if a is not None and a.do == "select-node":
        assert w.scene.selected_node_ids() == [a.node]
        assert w.inspector.isVisible()
    ep = w.explain.panel
    if any(x.action is not None and x.action.do.startswith("explain") for x in tour.steps[:k + 1]):
        assert w.explain.dock.isVisible()
        assert ep.trace is not None and ep.stepper is not None  # the trace of the real Explain mode
        row, index, gran = expected_explain(tour, k, ep.stepper.frames)
        data = w.document.dataset()
        assert ep.row.value() == row
        np.testing.assert_array_equal(np.asarray(ep._x), np.asarray(data.X[row]))
        assert ep.stepper.index == index and ep.granularity.currentData() == gran
        assert ep.position.text().endswith(f"step {index + 1} of {len(ep.stepper.frames)}")
        seen[k] = (row, index, ep.position.text())


@pytest.mark.parametrize("name", ["xor", "perceptron"])
def test_a_tour_clicked_through_forward_and_back(window, qtbot, name):
    w = window
    assert w.open_example(SAMPLES / f"{name}.ann")
    tour = w.document.network.tour
    assert tour is not None
    hint = w.tours.hint
    assert hint.isVisible() and tour.title in hint.text()
    click(qtbot, hint)
    assert w.tours.dock.isVisible() and not hint.isVisible()
    panel = w.tours.panel
    assert not panel.back.isEnabled()
    seen: dict = {}
    check_step(w, 0, seen)
    for k in range(1, len(tour.steps)):
        click(qtbot, panel.next)
        check_step(w, k, seen)
    assert not panel.next.isEnabled()
    assert seen  # the tour explained something
    for k in range(len(tour.steps) - 2, -1, -1):
        click(qtbot, panel.back)
        check_step(w, k, seen)
        if k in seen:  # Back shows what coming forward showed
            ep = w.explain.panel
            assert (ep.row.value(), ep.stepper.index, ep.position.text()) == seen[k]
    # the tour only showed: nothing to undo, nothing modified
    assert w.document.undo_stack.count() == 0 and not w.document.modified
    click(qtbot, panel.close_button)
    assert ring_items(w) == [] and w.tours.tour is None and not w.tours.dock.isVisible()
    assert hint.isVisible()


@pytest.mark.parametrize("name", ["digits-cnn", "tiny-transformer"])
def test_the_bigger_tours_play_to_the_end(window, qtbot, name):
    w = window
    assert w.open_example(SAMPLES / f"{name}.ann")
    assert w.tours.start(w.document.network.tour)
    seen: dict = {}
    for k in range(len(w.document.network.tour.steps)):
        if k:
            click(qtbot, w.tours.panel.next)
        check_step(w, k, seen)
    assert seen and w.document.undo_stack.count() == 0


def test_opening_another_document_ends_the_tour(window, qtbot):
    w = window
    w.open_example(SAMPLES / "xor.ann")
    w.tours.start(w.document.network.tour)
    assert ring_items(w)
    old_scene = w.scene
    assert w.open_example(SAMPLES / "spirals.ann")  # no tour
    assert w.tours.tour is None and not w.tours.dock.isVisible()
    assert [it for it in old_scene.items() if it.data(0) == "tour-ring"] == [] and ring_items(w) == []
    assert not w.tours.hint.isVisible()


def test_help_guided_tour_opens_the_first_sample_when_the_document_has_none(window, monkeypatch):
    w = window
    help_menu = next(a.menu() for a in w.menuBar().actions() if a.text().replace("&", "") == "Help")
    act = next(a for a in help_menu.actions() if a.objectName() == "actGuidedTour")
    assert act.text().replace("&", "") == "Guided Tour"
    # a modified document: the app asks, and Cancel keeps it
    w.document.editor.add_node("Input", (0.0, 0.0), shape=[2])
    monkeypatch.setattr(w, "ask_save_changes", lambda: QMessageBox.StandardButton.Cancel)
    before = w.document
    act.trigger()
    assert w.document is before and w.tours.tour is None
    monkeypatch.setattr(w, "ask_save_changes", lambda: QMessageBox.StandardButton.Discard)
    act.trigger()
    perceptron = load_network(SAMPLES / "perceptron.ann")
    assert w.document is not before and w.document.path is None  # an untitled copy of the sample
    assert set(w.document.graph.nodes) == set(perceptron.graph.nodes)
    assert w.tours.tour == perceptron.tour and w.tours.index == 0
    assert w.tours.dock.isVisible()
    assert sorted(w.tours.ring_ids()) == sorted(perceptron.tour.steps[0].highlight)
    # with a tour of its own, Help opens that one
    w.open_example(SAMPLES / "digits-cnn.ann")
    assert w.tours.tour is None
    act.trigger()
    assert w.tours.tour == load_network(SAMPLES / "digits-cnn.ann").tour


def test_the_tour_survives_edits_and_save_as(window, tmp_path):
    w = window
    w.open_example(SAMPLES / "xor.ann")
    tour = w.document.network.tour
    w.document.editor.set_label("dense_1", "my hidden layer")
    w.document.editor.add_node("Input", (400.0, 400.0), shape=[3])
    w.document.undo_stack.undo()
    target = tmp_path / "mine.ann"
    assert w._save_to(target)
    assert load_network(target).tour == tour
    # and the reopened file offers it
    assert w.open_file(target)
    assert w.document.network.tour == tour and w.tours.hint.isVisible()


def test_closing_the_dock_ends_the_tour_and_a_deleted_node_loses_its_ring(window, qtbot):
    w = window
    w.open_example(SAMPLES / "xor.ann")
    tour = w.document.network.tour
    w.tours.start(tour)
    click(qtbot, w.tours.panel.next)  # step 2 rings dense_1
    assert w.tours.ring_ids() == ["dense_1"]
    w.document.editor.delete(["dense_1"])
    assert w.tours.ring_ids() == [] and ring_items(w) == []
    w.document.undo_stack.undo()
    assert w.tours.ring_ids() == ["dense_1"]
    w.tours.dock.close()  # its title-bar button
    assert w.tours.tour is None and ring_items(w) == [] and w.tours.hint.isVisible()


def test_a_step_that_cannot_run_says_why(window, qtbot):
    from anndesigner.io.tour import parse_tour

    w = window
    w.open_example(SAMPLES / "xor.ann")
    n = len(w.document.dataset())
    bad = parse_tour({"version": 1, "title": "t", "steps": [
        {"text": "far", "action": {"do": "explain-sample", "row": n}},
        {"text": "near", "action": {"do": "explain-sample", "row": n - 1}}]})
    w.tours.start(bad)
    assert f"row {n}, but the data set has only {n} rows" in w.tours.panel.message.text()
    assert w.tours.panel.message.isVisible()
    click(qtbot, w.tours.panel.next)
    assert w.tours.panel.message.text() == "" and w.explain.panel.row.value() == n - 1
    assert w.explain.panel.trace is not None
