"""The vector picture beside a frame's numbers: every value drawn, coloured by
sign, and the value under the mouse is the array's."""

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

pytest.importorskip("pytestqt")

from anndesigner.ui import style  # noqa: E402
from anndesigner.ui.explain.vectors import VectorView  # noqa: E402


@pytest.fixture
def view(qtbot):
    v = VectorView()
    qtbot.addWidget(v)
    v.resize(420, 260)
    v.show()
    qtbot.waitExposed(v)
    return v


def pixel(v, point: QPoint):
    return v.grab().toImage().pixelColor(point)


@pytest.mark.parametrize("shape", [(1, 70), (1, 5, 3), (1, 6, 6, 4), (40,)])
def test_every_cell_maps_back_to_its_index_with_real_clicks(qtbot, view, shape):
    rng = np.random.default_rng(0)
    a = rng.normal(size=shape)
    assert view.set_array(a, "test")
    flat = a[0] if len(shape) > 1 else a
    clicked = []
    view.cellClicked.connect(clicked.append)
    idx = list(np.ndindex(flat.shape))
    for index in idx[:: max(1, len(idx) // 25)] + [idx[-1]]:
        rect = view.cell_rect(index)
        assert rect is not None and view.rect().contains(rect)
        # corners, not only the centre
        for p in (rect.topLeft(), rect.bottomRight(), rect.center()):
            assert view.cell_at(p) == index, (index, p)
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=rect.center())
        assert clicked[-1] == index
        assert float(view._describe(index).split(": ")[-1]) == pytest.approx(float(flat[index]), rel=1e-3)


def test_rows_are_drawn_top_down(qtbot, view):
    a = np.zeros((1, 3, 2))
    a[0, 0, 0] = 1.0  # step 0 is the top row
    view.set_array(a)
    img = view.grab().toImage()
    assert img.pixelColor(view.cell_rect((0, 0)).center()) == style.POSITIVE_WEIGHT
    assert img.pixelColor(view.cell_rect((2, 0)).center()) == Qt.GlobalColor.white
    assert view.cell_rect((0, 0)).y() < view.cell_rect((2, 0)).y()


def test_colours_follow_the_sign_and_nothing_outside_is_a_cell(qtbot, view):
    a = np.array([[2.0, -2.0, 0.0, 1.0]])
    view.set_array(a, "four units")
    img = view.grab().toImage()
    pos = style.POSITIVE_WEIGHT
    neg = style.NEGATIVE_WEIGHT
    c0 = img.pixelColor(view.cell_rect((0,)).center())
    c1 = img.pixelColor(view.cell_rect((1,)).center())
    c2 = img.pixelColor(view.cell_rect((2,)).center())
    c3 = img.pixelColor(view.cell_rect((3,)).center())
    assert (c0.red(), c0.green(), c0.blue()) == (pos.red(), pos.green(), pos.blue())
    assert (c1.red(), c1.green(), c1.blue()) == (neg.red(), neg.green(), neg.blue())
    assert (c2.red(), c2.green(), c2.blue()) == (255, 255, 255)
    # half the largest magnitude: half way from white to the positive colour
    assert abs(c3.blue() - (255 + pos.blue()) / 2) <= 2 and abs(c3.red() - (255 + pos.red()) / 2) <= 2
    r = view.cell_rect((3,))
    assert view.cell_at(QPoint(r.right() + 3, r.center().y())) is None


def test_tiles_one_per_channel_with_the_channel_values(qtbot, view):
    a = np.zeros((1, 4, 4, 3))
    a[0, 1, 2, 0] = 1.0   # channel 0: one positive cell
    a[0, 3, 0, 2] = -1.0  # channel 2: one negative cell
    view.set_array(a)
    assert view._grid[0] * view._grid[1] >= 3 and len(view._images) == 3
    img = view.grab().toImage()
    assert img.pixelColor(view.cell_rect((1, 2, 0)).center()) == style.POSITIVE_WEIGHT
    assert img.pixelColor(view.cell_rect((3, 0, 2)).center()) == style.NEGATIVE_WEIGHT
    assert img.pixelColor(view.cell_rect((1, 2, 1)).center()) == Qt.GlobalColor.white


def test_what_it_cannot_draw_hides_it(qtbot, view):
    assert not view.set_array(np.zeros((1, 2, 2, 2, 2)))
    assert not view.isVisible()
    assert not view.set_array(None)
    assert view.set_array(np.ones((1, 3)))
    assert view.isVisible()
