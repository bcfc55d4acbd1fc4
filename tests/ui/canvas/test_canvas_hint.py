"""The empty canvas says how to start (issue 10, new-user item 7)."""

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QPointF  # noqa: E402

import anndesigner as ad  # noqa: E402
from anndesigner.ui import commands as C  # noqa: E402
from anndesigner.ui.canvas.view import EMPTY_HINT  # noqa: E402

pytestmark = pytest.mark.usefixtures("no_qt_warnings")


def hint_ink(view) -> int:
    """Pixels in the hint's rectangle dark enough to be text (the grid is much lighter)."""
    img = view.viewport().grab().toImage()
    r = view.empty_hint_rect()
    n = 0
    for x in range(max(r.left(), 0), min(r.right(), img.width() - 1), 2):
        for y in range(max(r.top(), 0), min(r.bottom(), img.height() - 1), 2):
            if img.pixelColor(x, y).lightness() < 190:
                n += 1
    return n


def test_the_hint_shows_on_an_empty_canvas_only(canvas, qtbot):
    doc, scene, view = canvas(ad.Graph())
    assert view.shows_empty_hint() and EMPTY_HINT.startswith("Drag a node from the palette")
    empty = hint_ink(view)
    assert empty > 40
    # a node far from the view's centre: the hint goes, though the node is not where it was drawn
    doc.push(C.add_node_command(doc, "Dense", (4000.0, 4000.0)))
    assert not view.shows_empty_hint()
    qtbot.waitUntil(lambda: hint_ink(view) == 0)
    # undo: empty again, the hint is back
    doc.undo_stack.undo()
    assert view.shows_empty_hint()
    qtbot.waitUntil(lambda: hint_ink(view) == empty)
    # panning moves the grid, not the hint
    view.translate(37, 21)
    view.centerOn(QPointF(55, 33))
    qtbot.waitUntil(lambda: abs(hint_ink(view) - empty) <= empty // 10)


def test_a_new_scene_with_nodes_has_no_hint(canvas):
    from helpers import laid_out, mlp

    doc, scene, view = canvas(laid_out(mlp([2, 3, 1])))
    assert not view.shows_empty_hint()
