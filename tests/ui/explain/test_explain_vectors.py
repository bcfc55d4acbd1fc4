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


SAMPLES = __import__("pathlib").Path(__file__).resolve().parents[3] / "samples"
ALL_SAMPLES = sorted(p.name for p in SAMPLES.glob("*.ann"))


@pytest.mark.parametrize("name", ALL_SAMPLES)
def test_every_sample_steps_through_with_its_arrays_pictured(qtbot, name):
    """Each frame of each sample: the picture is the trace's own array (output, z, δ or
    prediction) when it has more values than the text writes out, and absent otherwise."""
    from anndesigner.ui.document import Document
    from anndesigner.ui.explain.panel import ExplainPanel
    from anndesigner.ui.explain.stages import SMALL_UNITS

    doc = Document.open(SAMPLES / name)
    p = ExplainPanel(doc)
    qtbot.addWidget(p)
    p.resize(420, 800)
    p.show()
    assert p.explain_current(), p.message.text()
    t = p.trace
    pictured = 0
    while True:
        f = p.stepper.frame
        shown = p.vectors.values
        if f.phase == "forward":
            n = t.node(f.node_id)
            want = n.z if (n.z is not None and "z =" in f.title) else n.output
        elif f.phase == "backward":
            want = t.delta(f.node_id).delta
        elif f.phase == "loss":
            want = next(lt.prediction for lt in t.losses if lt.output_id == f.node_id)
        else:
            want = None
        if want is None or np.asarray(want).size <= SMALL_UNITS:
            assert shown is None and not p.vectors.isVisible()
        elif shown is not None:
            np.testing.assert_array_equal(shown.reshape(-1), np.asarray(want, np.float64).reshape(-1))
            assert p.vectors.isVisible()
            pictured += 1
        else:  # only what the view cannot draw (more than 3 axes) goes without a picture
            assert np.asarray(want).ndim - 1 > 3
        if not p.step_forward():
            break
    assert p.stepper.at_end()
    if sum(np.asarray(w).size for w in doc.network.get_weights().values()) > 200:
        assert pictured > 0
    doc.undo_stack.setClean()


def test_targets_read_as_values_or_as_their_class():
    from anndesigner.ui.explain.panel import target_text

    assert target_text(np.array([1.0])) == "1"
    assert target_text(np.array([0.5, 2.0])) == "0.5, 2"
    assert target_text(np.eye(10)[6]) == "class 6 (one-hot: 0, 0, 0, 0, 0, 0, 1, 0, …)"
    assert target_text(np.array([0.0, 1.0])) == "class 1 (one-hot: 0, 1)"
    assert target_text(np.arange(12.0)).endswith("7, …")
