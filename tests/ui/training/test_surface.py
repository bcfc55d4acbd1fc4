"""The decision surface: a copy of the network evaluated over the input plane,
the data points on top, throttled weight updates, the message for networks
that do not take 2 inputs, and node thumbnails."""


import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pyqtgraph")

from PySide6.QtGui import QColor, QImage  # noqa: E402

import anndesigner as ad  # noqa: E402
from anndesigner.engine import BatchEnd, EpochEnd  # noqa: E402
from anndesigner.engine.monitor import Monitor  # noqa: E402
from anndesigner.errors import AnnError  # noqa: E402
from anndesigner.ui.training import surface as S  # noqa: E402
from anndesigner.ui.training.surface import (  # noqa: E402
    NOT_2D_TEXT,
    DecisionSurface,
    SurfaceEvaluator,
    data_bounds,
    node_thumbnail,
)
from helpers import mlp  # noqa: E402

RNG = np.random.default_rng(0)
X = RNG.uniform(-1, 1, (60, 2)).astype(np.float32)
Y = (X[:, :1] > 0).astype(np.float32)
XV = RNG.uniform(-1, 1, (15, 2)).astype(np.float32)
YV = (XV[:, :1] > 0).astype(np.float32)


def single_layer(units=1, activation="sigmoid", loss="binary_crossentropy", n_in=2):
    g = ad.Graph()
    x = g.add_node("Input", units=n_in)
    y = g.add_node("Output", units=units, activation=activation, loss=loss)
    g.connect(x, y)
    return ad.Network(g), y.id


def x1_classifier(sign=1.0):
    """p(class 1) = sigmoid(4 * sign * x1): above 0.5 exactly where sign * x1 > 0."""
    net, out = single_layer()
    net.set_weights({f"{out}/kernel": np.array([[4.0 * sign], [0.0]]), f"{out}/bias": np.array([0.0])})
    return net


@pytest.fixture
def surface(qtbot):
    w = DecisionSurface()
    qtbot.addWidget(w)
    w.resize(520, 320)
    return w


def columns_by_x(w):
    """Boolean masks of the image's columns whose cell centres have x < 0 and x > 0."""
    xx, _, _ = SurfaceEvaluator.grid(w.bounds(), w.n)
    return xx < 0, xx > 0


def test_grid_is_row_major_over_the_bounds():
    xx, yy, pts = SurfaceEvaluator.grid((0.0, 4.0, -2.0, 2.0), 4)
    np.testing.assert_allclose(xx[0], [0.5, 1.5, 2.5, 3.5])
    np.testing.assert_allclose(yy[:, 0], [-1.5, -0.5, 0.5, 1.5])
    assert pts.shape == (16, 2) and pts.dtype == np.float32
    np.testing.assert_allclose(pts[1 * 4 + 2], [xx[1, 2], yy[1, 2]])


def test_bounds_are_the_data_range_plus_ten_percent():
    b = data_bounds(np.array([[0, 0], [10, 2]]), np.array([[5, 4]]))
    assert b == pytest.approx((-1.0, 11.0, -0.4, 4.4))


def test_evaluator_keeps_its_own_copy():
    net = x1_classifier()
    ev = SurfaceEvaluator(net)
    assert ev.is_2d
    pts = np.array([[1, 0], [-1, 0]], np.float32)
    before = ev.output(pts)
    net.set_weights({"output_1/kernel": np.array([[-4.0], [0.0]])}, strict=False)
    np.testing.assert_array_equal(ev.output(pts), before)
    assert before[0, 0] > 0.5 > before[1, 0]
    ev.set_weights(net.get_weights())
    after = ev.output(pts)
    assert after[0, 0] < 0.5 < after[1, 0]
    # unknown names and other shapes are skipped
    ev.set_weights({"nope/kernel": np.zeros(3), "output_1/kernel": np.zeros((5, 5))})
    np.testing.assert_array_equal(ev.output(pts), after)
    outs = ev.outputs(pts)
    assert set(outs) == {"input_1", "output_1"}
    np.testing.assert_array_equal(outs["input_1"], pts)


def test_surface_is_high_where_x1_is_positive(surface):
    assert surface.objectName() == "decisionSurface"
    surface.set_network(x1_classifier())
    surface.set_data(X, Y, XV, YV, task="classification")
    assert surface.message_text() is None
    img = surface.surface_image()
    assert img.shape == (surface.n, surface.n)
    left, right = columns_by_x(surface)
    assert (img[right] > 0.5).all()
    assert (img[left] < 0.5).all()
    # the colours: blue (class 1) on the right, orange-red (class 0) on the left
    rgb = surface.surface_rgb().astype(int)
    h, w = rgb.shape[:2]
    assert rgb[h // 2, w - 2, 2] > rgb[h // 2, w - 2, 0]
    assert rgb[h // 2, 1, 0] > rgb[h // 2, 1, 2]
    # the boundary (p = 0.5) is drawn
    assert surface.boundary.isVisible()


def test_points_are_shown(surface):
    surface.set_network(x1_classifier())
    surface.set_data(X, Y, XV, YV, task="classification", classes=["left", "right"])
    assert surface.point_count() == (60, 15)
    tx, ty = surface.train_points.getData()
    np.testing.assert_allclose(tx, X[:, 0])
    np.testing.assert_allclose(ty, X[:, 1])
    # filled by class colour; validation points hollow (white) with a class-coloured edge
    brushes = [b.color().name() for b in surface.train_points.data["brush"]]
    expected = [S.CLASS_COLORS[int(c)].lower() for c in Y[:, 0]]
    assert brushes == expected
    assert surface.val_points.opts["brush"].color().lightness() > 240
    pens = [p.color().name() for p in surface.val_points.data["pen"]]
    assert pens == [S.CLASS_COLORS[int(c)].lower() for c in YV[:, 0]]
    assert "left" in surface.caption.text() and "right" in surface.caption.text()
    assert "validation" in surface.caption.text()
    b = surface.bounds()
    assert b[0] < min(X[:, 0].min(), XV[:, 0].min()) and b[1] > max(X[:, 0].max(), XV[:, 0].max())
    surface.set_data(X, Y, task="classification")
    assert surface.point_count() == (60, 0)


def test_update_weights_reevaluates_and_throttles(surface, qtbot, monkeypatch):
    monkeypatch.setattr(surface._throttle, "interval", 0.3)
    net = x1_classifier()
    surface.set_network(net)
    surface.set_data(X, Y, task="classification")
    left, right = columns_by_x(surface)
    flipped = x1_classifier(-1.0).get_weights()
    surface.update_weights(flipped)  # right after an evaluation: deferred...
    assert surface._pending is not None
    img = surface.surface_image()  # ...but asking for the image takes the latest weights
    assert (img[right] < 0.5).all() and (img[left] > 0.5).all()
    assert surface._pending is None
    # several updates within the interval: one evaluation, with the latest weights
    calls = []
    orig = surface._evaluate
    surface._evaluate = lambda: (calls.append(1), orig())
    surface._throttle.mark()  # an evaluation just now
    for s in (1.0, -1.0, 1.0):
        surface.update_weights(x1_classifier(s).get_weights())
    qtbot.waitUntil(lambda: surface._pending is None, timeout=2000)
    assert len(calls) == 1
    img = surface.surface_image()
    assert (img[right] > 0.5).all()
    # the original network is untouched
    np.testing.assert_array_equal(net.get_weights()["output_1/kernel"], [[4.0], [0.0]])


def test_three_inputs_show_the_message(surface):
    net, _ = single_layer(n_in=3)
    surface.set_network(net)
    surface.set_data(np.zeros((4, 3)), np.zeros(4))
    assert surface.message_text() == NOT_2D_TEXT
    assert surface.stack.currentWidget() is surface.message
    assert surface.surface_image() is None
    surface.update_weights(net.get_weights())  # ignored
    assert surface.surface_image() is None
    ev = SurfaceEvaluator(net)
    assert not ev.is_2d
    with pytest.raises(AnnError):
        ev.outputs(np.zeros((1, 2), np.float32))
    # a 2-input network but 3-column data
    surface.set_network(x1_classifier())
    assert "data" in surface.message_text()
    surface.set_data(X, Y)
    assert surface.message_text() is None


def test_an_invalid_network_shows_a_message(surface):
    g = ad.Graph()
    g.add_node("Input", units=2)
    surface.set_network(ad.Network(g, strict=False))
    assert surface.message_text() is not None
    assert surface.surface_image() is None


def test_several_classes_blend_by_the_likeliest(surface):
    net, out = single_layer(units=3, activation="softmax", loss="categorical_crossentropy")
    net.set_weights({f"{out}/kernel": np.array([[3.0, 0, -3], [0, 3, -3]]), f"{out}/bias": np.zeros(3)})
    Y3 = np.eye(3)[RNG.integers(0, 3, len(X))]
    surface.set_network(net)
    surface.set_data(X, Y3, task="classification", classes=["a", "b", "c"])
    img = surface.surface_image()
    assert img.shape == (surface.n, surface.n, 3)
    np.testing.assert_allclose(img.sum(-1), 1.0, rtol=1e-5)
    xx, yy, _ = SurfaceEvaluator.grid(surface.bounds(), surface.n)
    corner = img[-1, -1]  # x, y both large: a and b tie above c
    assert corner[2] < 0.01
    assert img[0, 0].argmax() == 2  # x, y both small: c
    rgb = surface.surface_rgb().astype(int)
    green = S._rgb(S.CLASS_COLORS[2])
    assert rgb[0, 0, 1] > rgb[0, 0, 0] and green[1] > green[0]


def test_regression_surface_follows_the_output(surface):
    net, out = single_layer(activation="linear", loss="mse")
    net.set_weights({f"{out}/kernel": np.array([[1.0], [1.0]]), f"{out}/bias": np.array([0.0])})
    target = X.sum(1, keepdims=True)
    surface.set_network(net)
    surface.set_data(X, target, task="regression")
    img = surface.surface_image()
    xx, yy, _ = SurfaceEvaluator.grid(surface.bounds(), surface.n)
    np.testing.assert_allclose(img, xx + yy, atol=1e-5)
    assert not surface.boundary.isVisible()
    assert "…" in surface.caption.text()


def test_node_thumbnail(qapp):
    net = ad.Network(mlp([2, 4, 1]), seed=0)
    ev = SurfaceEvaluator(net)
    for size in (64, 24):
        img = node_thumbnail(ev, "dense_1", (-1, 1, -1, 1), size=size)
        assert isinstance(img, QImage)
        assert (img.width(), img.height()) == (size, size)
        colours = {img.pixel(x, y) for x in range(size) for y in range(size)}
        assert len(colours) > 10
    with pytest.raises(AnnError):
        node_thumbnail(ev, "nope", (-1, 1, -1, 1))


def test_node_thumbnail_orientation(qapp):
    """Positive values are blue, negative orange-red; y grows upwards."""
    net, out = single_layer(activation="linear", loss="mse")
    net.set_weights({f"{out}/kernel": np.array([[0.0], [1.0]]), f"{out}/bias": np.array([0.0])})
    img = node_thumbnail(SurfaceEvaluator(net), out, (-1, 1, -1, 1), size=16)
    top, bottom = QColor(img.pixel(8, 0)), QColor(img.pixel(8, 15))
    assert top.blue() > top.red()  # y = +1 at the top: positive
    assert bottom.red() > bottom.blue()


def test_render_during_a_real_run(surface, qtbot, tmp_path):
    ds = ad.dataset("moons")
    train, val = ds.split(0.2, seed=0)
    net = ad.Network(mlp([2, 8, 1]), seed=0)
    surface.set_network(net)
    surface.set_data(train.X, train.Y, val.X, val.Y, task=ds.task, input_names=ds.input_names,
                     classes=ds.classes)
    first = surface.surface_image()
    trainer = net.trainer(train.X, train.Y, epochs=30, batch_size=16, learning_rate=0.05)
    mon = Monitor(trainer, 30, min_interval=0)
    for ev in trainer.run():
        if isinstance(ev, BatchEnd):
            mon.on_batch(ev)
        elif isinstance(ev, EpochEnd):
            mon.on_epoch(ev)
        snap = mon.take()
        if snap is not None:
            surface.update_weights(snap.weights)
    last = surface.surface_image()
    assert not np.allclose(first, last)
    np.testing.assert_allclose(last, SurfaceEvaluator(net).output(
        SurfaceEvaluator.grid(surface.bounds(), surface.n)[2])[:, 0].reshape(surface.n, surface.n), atol=1e-6)
    surface.show()
    qtbot.waitExposed(surface)
    img = surface.grab().toImage()
    img.save(str(tmp_path / "surface.png"))
    assert (img.width(), img.height()) == (520, 320)
    colours = {img.pixel(x, y) for x in range(0, 520, 5) for y in range(0, 320, 5)}
    assert len(colours) > 50


def test_no_data_shows_the_surface_over_a_default_plane(surface):
    surface.set_network(x1_classifier())
    surface.set_data(None, None)
    assert surface.message_text() is None
    assert surface.point_count() == (0, 0)
    assert surface.bounds() == (-1.0, 1.0, -1.0, 1.0)
    left, right = columns_by_x(surface)
    img = surface.surface_image()
    assert (img[right] > 0.5).all() and (img[left] < 0.5).all()
    surface.set_network(None)
    assert surface.message_text() is not None


def test_a_document_gives_the_trainers_split_and_follows_its_changes(surface, qtbot):
    from pathlib import Path

    from anndesigner.io import load_network
    from anndesigner.ui import commands as C
    from anndesigner.ui.document import Document

    sample = Path(__file__).resolve().parents[3] / "samples" / "spirals.ann"
    doc = Document(load_network(sample), sample)
    surface.set_document(doc)
    assert surface.point_count() == (750, 250)
    data = doc.dataset()
    trainer = doc.network.trainer(data.X, data.Y)  # the rows training holds out
    np.testing.assert_allclose(np.column_stack(surface.val_points.getData()), trainer.X_val)
    doc.push(C.SetTrainingCommand(doc, validation_split=0.1))
    assert surface.point_count() == (900, 100)
    evaluated = []
    surface._evaluate = lambda real=surface._evaluate: evaluated.append(1) or real()
    doc.push(C.SetTrainingCommand(doc, learning_rate=0.5, epochs=3))  # the same points: not drawn again
    assert evaluated == [] and surface.point_count() == (900, 100)
    del surface._evaluate
    doc.push(C.SetDataSourceCommand(doc, {"kind": "builtin", "name": "xor"}))
    assert surface.point_count() == (4, 0)
    doc.undo_stack.undo()
    assert surface.point_count() == (900, 100)
    before = surface.surface_image()
    name = next(k for k in doc.network.get_weights() if k.endswith("/kernel"))
    flipped = -doc.network.get_weights()[name]
    doc.push(C.SetWeightsCommand(doc, {name: flipped}, "Flip"))  # other weights: evaluated again
    qtbot.waitUntil(lambda: not np.array_equal(surface.surface_image(), before), timeout=2000)
    doc.undo_stack.undo()
    qtbot.waitUntil(lambda: np.array_equal(surface.surface_image(), before), timeout=2000)
    surface.set_document(None)
    assert surface.message_text() is not None
