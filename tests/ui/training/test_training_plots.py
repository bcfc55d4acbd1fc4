"""The live training views: history curves, log scale, metric choice, the weight
heat map and its levels, histograms, gradient bars, results, and a real run."""

import math

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pyqtgraph")

from PySide6.QtGui import QColor, QImage  # noqa: E402

import anndesigner as ad  # noqa: E402
from anndesigner.data.dataset import Dataset  # noqa: E402
from anndesigner.engine import BatchEnd, EpochEnd  # noqa: E402
from anndesigner.engine.monitor import Monitor, TrainingSnapshot  # noqa: E402
from anndesigner.ui.training.plots import TrainingPlots, nice_ceil  # noqa: E402
from helpers import XOR_X, XOR_Y, mlp, neuron_mlp  # noqa: E402

HISTORY = {"loss": [0.9, 0.55, 0.31], "val_loss": [1.1, 0.7, 0.42], "accuracy": [0.5, 0.75, 1.0],
           "val_accuracy": [0.25, 0.5, 0.75], "lr": [0.01, 0.01, 0.01]}


def snapshot(history=None, weights=None, grad_norms=None, step=12, batches_per_epoch=4, epochs_done=3):
    history = HISTORY if history is None else history
    steps = np.arange(1, step + 1, dtype=np.float64)
    return TrainingSnapshot(
        step=step, epoch=epochs_done - 1, epochs_done=epochs_done, epochs_total=10,
        batches_per_epoch=batches_per_epoch, batch_in_epoch=batches_per_epoch,
        history={k: list(v) for k, v in history.items()},
        batch_losses=np.column_stack([steps, 1.0 / steps]),
        weights=weights or {}, grad_norms=grad_norms or {}, activations={},
        elapsed=1.0, eta=2.0, samples_per_second=100.0)


@pytest.fixture
def plots(qtbot):
    w = TrainingPlots()
    qtbot.addWidget(w)
    w.resize(520, 320)
    return w


@pytest.fixture
def net():
    return ad.Network(mlp([2, 3, 1]), seed=0)


def test_object_name_and_tabs(plots):
    assert plots.objectName() == "trainingPlots"
    assert plots.tabs.count() == len(TrainingPlots.TABS)
    for name in TrainingPlots.TABS:
        plots.show_tab(name)
        assert plots.tabs.currentIndex() == TrainingPlots.TABS.index(name)


def test_loss_curves_follow_the_history(plots):
    plots.update_snapshot(snapshot())
    x, y = plots.curve_data("loss")
    np.testing.assert_array_equal(x, [1, 2, 3])
    np.testing.assert_array_equal(y, HISTORY["loss"])
    x, y = plots.curve_data("val_loss")
    np.testing.assert_array_equal(x, [1, 2, 3])
    np.testing.assert_array_equal(y, HISTORY["val_loss"])
    assert plots.curve_visible("loss") and plots.curve_visible("val_loss")
    # the curve items hold the same data
    cx, cy = plots._curves["loss"].getOriginalDataset()
    np.testing.assert_array_equal(cy, HISTORY["loss"])
    # batch losses at fractional epochs: step / batches per epoch (this run began at epoch 0)
    bx, by = plots.curve_data("batch_loss")
    np.testing.assert_allclose(bx, np.arange(1, 13) / 4)
    np.testing.assert_allclose(by, 1.0 / np.arange(1, 13))
    assert bx[-1] == x[-1]  # the last batch ends the last epoch


def test_batch_losses_of_a_continued_run_start_after_the_old_epochs(plots):
    hist = {"loss": [0.9, 0.8, 0.7, 0.6, 0.5]}
    plots.update_snapshot(snapshot(history=hist, step=8, batches_per_epoch=4, epochs_done=2))
    bx, _ = plots.curve_data("batch_loss")
    np.testing.assert_allclose(bx, 3 + np.arange(1, 9) / 4)


def test_no_validation_curve_without_validation(plots):
    plots.update_snapshot(snapshot(history={"loss": [0.5, 0.4, 0.3], "accuracy": [0.5, 0.6, 0.7]}))
    assert plots.curve_data("val_loss")[1].size == 0
    assert not plots.curve_visible("val_loss")
    legend = plots.loss_plot.legend
    assert [label.text for _, label in legend.items] == ["batch loss", "training"]
    plots.update_snapshot(snapshot())
    assert plots.curve_visible("val_loss")
    assert [label.text for _, label in legend.items] == ["batch loss", "training", "validation"]


def test_log_scale_checkbox(plots, qtbot):
    plots.update_snapshot(snapshot())
    assert not plots.log_scale()
    plots.log_check.click()
    assert plots.log_check.isChecked()
    assert plots.log_scale()
    assert plots._curves["loss"].opts["logMode"] == [False, True]
    # the data given is unchanged (the plot maps it)
    np.testing.assert_array_equal(plots.curve_data("loss")[1], HISTORY["loss"])
    plots.set_log_scale(False)
    assert not plots.log_check.isChecked() and not plots.log_scale()


def test_metric_tab_shows_accuracy_for_classification(plots):
    plots.update_snapshot(snapshot())
    assert plots.metric_kind() == "accuracy"
    assert plots.tabs.tabText(1) == "Accuracy"
    np.testing.assert_array_equal(plots.curve_data("accuracy")[1], HISTORY["accuracy"])
    np.testing.assert_array_equal(plots.curve_data("val_accuracy")[1], HISTORY["val_accuracy"])
    lo, hi = plots.acc_plot.viewRange()[1]
    assert lo <= 0 and 1 <= hi and hi - lo < 1.2  # fixed 0..1 (with a small margin)
    assert plots.curve_data("r2")[1].size == 0


def test_metric_tab_shows_r2_and_mae_for_regression(plots):
    hist = {"loss": [3.0, 2.0, 1.0], "r2": [-0.5, 0.4, 0.8], "mae": [1.5, 1.0, 0.5], "val_r2": [-0.6, 0.3, 0.7],
            "val_mae": [1.6, 1.1, 0.6]}
    plots.update_snapshot(snapshot(history=hist))
    assert plots.metric_kind() == "regression"
    assert plots.tabs.tabText(1) == "R² · MAE"
    for k in ("r2", "val_r2", "mae", "val_mae"):
        np.testing.assert_array_equal(plots.curve_data(k)[1], hist[k])
    assert plots.curve_data("accuracy")[1].size == 0
    plots.update_snapshot(snapshot())
    assert plots.metric_kind() == "accuracy"


def test_heat_map_shows_the_selected_kernel(plots, net):
    plots.set_network(net)
    assert plots.layers() == ["dense_1", "output_1"]
    combo = plots.layer_combo
    assert [combo.itemData(i) for i in range(combo.count())] == ["dense_1", "output_1"]
    w = net.get_weights()
    plots.update_snapshot(snapshot(weights=w))
    assert plots.selected_node() == "dense_1"
    # the image is the kernel as stored: (fan_in, units), one row per input
    np.testing.assert_array_equal(plots.weights_image(), w["dense_1/kernel"])
    assert plots.weights_item.axisOrder == "row-major"
    plots.set_selected_node("output_1")
    assert combo.currentData() == "output_1"
    np.testing.assert_array_equal(plots.weights_image(), w["output_1/kernel"])
    assert plots.weights_image().shape == (3, 1)
    # a node without a kernel (or None) keeps the current layer
    plots.set_selected_node("input_1")
    plots.set_selected_node(None)
    assert plots.selected_node() == "output_1"
    # choosing in the combo box does the same
    combo.setCurrentIndex(0)
    np.testing.assert_array_equal(plots.weights_image(), w["dense_1/kernel"])
    assert plots.weights_plot.getAxis("left").labelText == "input"
    assert plots.weights_plot.getAxis("bottom").labelText == "unit"


def test_a_neurons_kernel_is_one_column(plots):
    net = ad.Network(neuron_mlp(2, 3), seed=0)
    plots.set_network(net)
    assert plots.layers() == ["neuron_1", "neuron_2", "neuron_3", "neuron_4"]
    plots.update_snapshot(snapshot(weights=net.get_weights()))
    plots.set_selected_node("neuron_4")
    k = net.get_weights()["neuron_4/kernel"]
    assert k.shape == (3,)
    np.testing.assert_array_equal(plots.weights_image(), k[:, None])


def test_heat_map_levels_are_symmetric_and_never_shrink(plots, net):
    plots.set_network(net)
    w = net.get_weights()
    plots.update_snapshot(snapshot(weights=w))
    lo, hi = plots.weights_levels()
    m = float(np.abs(w["dense_1/kernel"]).max())
    assert lo == -hi and hi >= m and hi == nice_ceil(m)
    assert tuple(plots.colorbar.levels()) == (lo, hi)
    assert tuple(plots.weights_item.getLevels()) == (lo, hi)
    # smaller weights: the levels stay
    small = {k: v * 0.1 for k, v in w.items()}
    plots.update_snapshot(snapshot(weights=small, step=13))
    assert plots.weights_levels() == (lo, hi)
    np.testing.assert_allclose(plots.weights_image(), small["dense_1/kernel"])
    # larger weights: they grow, still symmetric
    big = {k: v * 10 for k, v in w.items()}
    plots.update_snapshot(snapshot(weights=big, step=14))
    lo2, hi2 = plots.weights_levels()
    assert lo2 == -hi2 and hi2 >= 10 * m > hi
    assert tuple(plots.colorbar.levels()) == (lo2, hi2)
    plots.update_snapshot(snapshot(weights=w, step=15))
    assert plots.weights_levels() == (lo2, hi2)
    # another layer: levels start afresh from its weights
    plots.set_selected_node("output_1")
    m_out = float(np.abs(w["output_1/kernel"]).max())
    assert plots.weights_levels() == (-nice_ceil(m_out), nice_ceil(m_out))


def test_heat_map_colours_are_diverging(plots, net):
    plots.set_network(net)
    k = np.array([[1.0, -1.0, 0.0], [0.5, -0.5, 0.0]], np.float32)
    plots.update_snapshot(snapshot(weights={"dense_1/kernel": k}))
    lut = plots.weights_item.lut
    lut = lut(plots.weights_item.image) if callable(lut) else lut
    lut = np.asarray(lut)
    top, mid, bottom = lut[-1], lut[len(lut) // 2], lut[0]
    assert top[2] > top[0]  # blue for positive
    assert bottom[0] > bottom[2]  # orange-red for negative
    assert min(mid[:3]) > 240  # white at zero


def test_histograms_of_every_layer(plots, net):
    plots.set_network(net)
    w = net.get_weights()
    plots.update_snapshot(snapshot(weights=w))
    for nid in ("dense_1", "output_1"):
        edges, frac = plots.histogram_data(nid)
        assert len(edges) == len(frac) + 1
        assert frac.sum() == pytest.approx(1.0)
        assert edges[0] == -edges[-1]
        assert edges[-1] >= np.abs(w[f"{nid}/kernel"]).max()
    items_before = len(plots.hist_plot.items)
    for i in range(5):
        plots.update_snapshot(snapshot(weights={k: v * (1 + i) for k, v in w.items()}, step=13 + i))
    assert len(plots.hist_plot.items) == items_before


def test_gradient_bars_match_the_snapshot(plots, net):
    plots.set_network(net)
    norms = {"dense_1": 0.25, "output_1": 0.0125}
    plots.update_snapshot(snapshot(weights=net.get_weights(), grad_norms=norms))
    assert plots.grad_bars() == norms
    opts = plots.grad_bars_item.opts
    np.testing.assert_allclose(opts["height"], [0.25, 0.0125])
    np.testing.assert_allclose(opts["x"], [0, 1])
    ticks = plots.grad_plot.getAxis("bottom")._tickLevels[0]
    assert [t[1] for t in ticks] == ["dense_1", "output_1"]
    # log scale: bars reach log10 of the norms
    plots.grad_log_check.click()
    opts = plots.grad_bars_item.opts
    np.testing.assert_allclose(opts["y1"], np.log10([0.25, 0.0125]))
    assert np.all(opts["y0"] <= np.log10(0.0125))
    assert plots.grad_plot.getAxis("left").logMode
    plots.grad_log_check.click()
    np.testing.assert_allclose(plots.grad_bars_item.opts["height"], [0.25, 0.0125])
    # a snapshot without norms keeps the last ones
    plots.update_snapshot(snapshot(weights=net.get_weights(), step=13))
    assert plots.grad_bars() == norms


def test_updates_add_no_plot_items(plots, net):
    plots.set_network(net)
    w = net.get_weights()
    counts = lambda: [len(p.items) for p in (plots.loss_plot, plots.acc_plot, plots.weights_plot,  # noqa: E731
                                             plots.hist_plot, plots.grad_plot)]
    plots.update_snapshot(snapshot(weights=w, grad_norms={"dense_1": 1.0, "output_1": 0.5}))
    before = counts()
    for i in range(20):
        plots.update_snapshot(snapshot(weights=w, grad_norms={"dense_1": 1.0 + i, "output_1": 0.5}, step=13 + i))
    assert counts() == before


def train_xor(epochs=400):
    net = ad.Network(mlp([2, 4, 1]), seed=0)
    net.fit(XOR_X, XOR_Y, epochs=epochs, batch_size=4, optimizer="adam", learning_rate=0.05)
    return net


def test_confusion_matrix_of_a_trained_xor_net(plots):
    net = train_xor()
    assert net.evaluate(XOR_X, XOR_Y)["accuracy"] == 1.0
    plots.show_results(net, ad.dataset("xor"))
    np.testing.assert_array_equal(plots.confusion(), [[2, 0], [0, 2]])
    assert plots.results_stack.currentWidget() is plots.confusion_widget
    assert [c.toPlainText() for c in plots._cells] == ["2", "0", "0", "2"]
    assert "100.0%" in plots.confusion_plot.titleLabel.text


def _dataset(X, Y, task="classification", classes=None):
    X, Y = np.asarray(X, np.float32), np.asarray(Y, np.float32).reshape(len(X), -1)
    return Dataset(X, Y, "t", task, [f"x{i + 1}" for i in range(X.shape[1])],
                   [f"y{i + 1}" for i in range(Y.shape[1])], classes, {})


def test_confusion_counts_actual_rows_and_predicted_columns(plots):
    # predicts class 1 exactly when x1 > 0.5: XOR gets one of each cell right
    g = ad.Graph()
    x = g.add_node("Input", units=2)
    y = g.add_node("Output", units=1, activation="sigmoid", loss="binary_crossentropy")
    g.connect(x, y)
    net = ad.Network(g)
    net.set_weights({f"{y.id}/kernel": np.array([[10.0], [0.0]]), f"{y.id}/bias": np.array([-5.0])})
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1], [1, 1]], np.float32)
    Y = np.array([0, 1, 1, 0, 0], np.float32)
    plots.show_results(net, _dataset(X, Y, classes=["no", "yes"]))
    # actual 0 (3 rows): predicted 0 once ([0,0]), 1 twice ([1,1] x2); actual 1: [0,1] -> 0, [1,0] -> 1
    np.testing.assert_array_equal(plots.confusion(), [[1, 2], [1, 1]])
    ticks = plots.confusion_plot.getAxis("bottom")._tickLevels[0]
    assert [t[1] for t in ticks] == ["no", "yes"]
    # ±1 targets use the threshold 0
    plots.show_results(net, _dataset(X, 2 * Y - 1))
    assert plots.confusion().sum() == 5
    assert plots.confusion()[1].sum() == 2


def test_confusion_of_one_hot_classes(plots):
    g = ad.Graph()
    x = g.add_node("Input", units=2)
    y = g.add_node("Output", units=3, activation="softmax", loss="categorical_crossentropy")
    g.connect(x, y)
    net = ad.Network(g)
    # class scores: x1, x2, -x1 - x2
    net.set_weights({f"{y.id}/kernel": np.array([[1.0, 0, -1], [0, 1, -1]]), f"{y.id}/bias": np.zeros(3)})
    X = np.array([[2, 0], [0, 2], [-2, -2], [2, 0.5]], np.float32)
    Y = np.eye(3)[[0, 1, 2, 1]]
    plots.show_results(net, _dataset(X, Y, classes=["a", "b", "c"]))
    np.testing.assert_array_equal(plots.confusion(), [[1, 0, 0], [1, 1, 0], [0, 0, 1]])
    assert len(plots._cells) == 9


def test_regression_results_plot_predicted_against_actual(plots):
    g = ad.Graph()
    x = g.add_node("Input", units=1)
    y = g.add_node("Output", units=1, activation="linear", loss="mse")
    g.connect(x, y)
    net = ad.Network(g)
    net.set_weights({f"{y.id}/kernel": np.array([[2.0]]), f"{y.id}/bias": np.array([0.0])})
    X = np.linspace(-1, 1, 11)[:, None]
    plots.show_results(net, _dataset(X, 2 * X + 0.1, task="regression"))
    assert plots.confusion() is None
    assert plots.results_stack.currentWidget() is plots.scatter_widget
    sx, sy = plots.scatter_item.getData()
    np.testing.assert_allclose(sx, (2 * X + 0.1).ravel(), rtol=1e-6)
    np.testing.assert_allclose(sy, (2 * X).ravel(), rtol=1e-6)
    lx, ly = plots.identity_line.getData()
    np.testing.assert_array_equal(lx, ly)
    assert "R² = 0.9" in plots.confusion_plot.titleLabel.text or "R² = 0.9" in plots.scatter_plot.titleLabel.text
    # no data set: cleared
    plots.show_results(net, None)
    assert plots.results_stack.currentWidget() is plots.results_empty
    # a data set that does not fit the network: a message, not an exception
    plots.show_results(net, _dataset(np.zeros((3, 2)), np.zeros(3), task="regression"))
    assert plots.results_empty.text().startswith("No results")


def test_show_history_redraws_a_reopened_history(plots, net, tmp_path):
    net.set_history(ad.History({"loss": [0.7, 0.6, 0.5, 0.45], "accuracy": [0.5, 0.5, 0.75, 1.0]}))
    path = tmp_path / "n.ann"
    net.save(path)
    again = ad.load(path)
    plots.update_snapshot(snapshot())  # something else first
    plots.set_network(again)
    plots.show_history(again.history)
    x, y = plots.curve_data("loss")
    np.testing.assert_array_equal(x, [1, 2, 3, 4])
    np.testing.assert_allclose(y, [0.7, 0.6, 0.5, 0.45])
    assert plots.curve_data("val_loss")[1].size == 0 and not plots.curve_visible("val_loss")
    assert plots.curve_data("batch_loss")[1].size == 0
    assert plots.metric_kind() == "accuracy"
    # set_network shows the file's weights before any training
    np.testing.assert_array_equal(plots.weights_image(), again.get_weights()["dense_1/kernel"])
    # a plain dict works too; missing values (NaN) leave gaps
    plots.show_history({"loss": [1.0, math.nan, 0.5]})
    assert np.isnan(plots.curve_data("loss")[1][1])
    assert plots.metric_kind() is None


def test_clear(plots, net):
    plots.set_network(net)
    plots.update_snapshot(snapshot(weights=net.get_weights(), grad_norms={"dense_1": 1.0}))
    plots.show_results(train_xor(epochs=5), ad.dataset("xor"))
    plots.clear()
    assert plots.curve_data("loss")[1].size == 0
    assert plots.weights_image() is None
    assert plots.grad_bars() == {}
    assert plots.confusion() is None
    assert plots.metric_kind() is None
    plots.set_network(None)
    assert plots.layers() == [] or plots.weights_image() is None


def _distinct_colours(img: QImage, step: int = 7) -> int:
    seen = set()
    for y in range(0, img.height(), step):
        for x in range(0, img.width(), step):
            seen.add(img.pixel(x, y))
    return len(seen)


def test_render_a_real_training_run(plots, qtbot, tmp_path):
    """Feed the snapshots of a real XOR run, then draw every tab offscreen."""
    ds = ad.dataset("xor")
    net = ad.Network(mlp([2, 6, 1]), seed=1)
    X = np.repeat(ds.X, 8, 0) + np.random.default_rng(0).normal(0, 0.05, (32, 2)).astype(np.float32)
    Y = np.repeat(ds.Y, 8, 0)
    trainer = net.trainer(X, Y, epochs=40, batch_size=8, learning_rate=0.05, validation_split=0.25)
    mon = Monitor(trainer, 40, min_interval=0)
    plots.set_network(net)
    frames = 0
    for ev in trainer.run():
        if isinstance(ev, BatchEnd):
            mon.on_batch(ev)
        elif isinstance(ev, EpochEnd):
            mon.on_epoch(ev)
        snap = mon.take()
        if snap is not None:
            plots.update_snapshot(snap)
            frames += 1
    assert frames > 40
    np.testing.assert_array_equal(plots.curve_data("loss")[1], net.history["loss"])
    assert plots.curve_visible("val_loss")
    np.testing.assert_array_equal(plots.weights_image(), net.get_weights()["dense_1/kernel"])
    assert set(plots.grad_bars()) == {"dense_1", "output_1"}
    plots.show_results(net, ds)  # the trainer held 1 of the 4 rows out: validation first
    assert plots.results_split() == "validation" and plots.confusion().sum() == 1
    plots.set_results_split("training")
    assert plots.confusion().sum() == 3
    plots.show()
    qtbot.waitExposed(plots)
    for name in TrainingPlots.TABS:
        plots.show_tab(name)
        img = plots.grab().toImage()
        img.save(str(tmp_path / f"plots_{name}.png"))
        assert img.width() == 520 and img.height() == 320
        assert _distinct_colours(img) > 5
        # light theme: the plot area is white
        assert QColor(img.pixel(img.width() - 30, img.height() // 2)).lightness() > 200


def test_layers_follow_the_snapshot_after_graph_edits(plots, net):
    plots.set_network(net)
    g = net.graph
    h = g.add_node("Dense", units=2, activation="tanh")
    g.disconnect(next(e for e in g.edges.values() if e.dst == "output_1").id)
    g.connect("dense_1", h)
    g.connect(h, "output_1")
    plots.update_snapshot(snapshot(weights=net.get_weights()))
    assert plots.layers() == ["dense_1", h.id, "output_1"]
    assert set(plots._hist_curves) == set(plots.layers())
    g.remove_node(h.id)
    g.connect("dense_1", "output_1")
    plots.update_snapshot(snapshot(weights=net.get_weights(), step=13))
    assert plots.layers() == ["dense_1", "output_1"]
    assert plots.layer_combo.count() == 2


def test_a_conv_kernel_shows_as_a_mosaic_of_filters():
    from anndesigner.ui.training.plots import MOSAIC_CHANNELS, MOSAIC_WRAP, kernel_image, mosaic_cell

    k = np.arange(3 * 2 * 2 * 4, dtype=np.float32).reshape(3, 2, 2, 4) + 1  # kh=3, kw=2, c_in=2, 4 filters
    img, mosaic = kernel_image(k)
    assert mosaic_cell(mosaic, 4, 4) == (1, 1, 0, 1)
    assert mosaic == (3, 2, 2, 4)
    assert img.shape == (2 * 4 - 1, 4 * 3 - 1)  # tiles of 3×2 with one-pixel white gaps
    for c in range(2):
        for f in range(4):
            np.testing.assert_array_equal(img[c * 4:c * 4 + 3, f * 3:f * 3 + 2], k[:, :, c, f])
    assert (img[3, :] == 0).all() and (img[:, 2] == 0).all()
    many = np.ones((3, 3, MOSAIC_CHANNELS + 5, 2), np.float32)
    assert kernel_image(many)[0].shape[0] == MOSAIC_CHANNELS * 4 - 1
    # one input channel: 10 filters wrap into rows of MOSAIC_WRAP; every pixel maps back to its cell
    one = np.random.default_rng(0).normal(size=(3, 3, 1, 10)).astype(np.float32)
    img, mosaic = kernel_image(one)
    assert img.shape == (2 * 4 - 1, MOSAIC_WRAP * 4 - 1)
    seen = set()
    for r in range(img.shape[0]):
        for c in range(img.shape[1]):
            cell = mosaic_cell(mosaic, r, c)
            if cell is None:
                assert img[r, c] == 0
            else:
                j, ch, u, x = cell
                assert img[r, c] == one[u, x, ch, j]
                seen.add(cell)
    assert len(seen) == 3 * 3 * 10  # every weight shown once
    dense, none = kernel_image(np.ones((5, 3), np.float32))
    assert none is None and dense.shape == (5, 3)


# ------------------------------------------------ results by split, stale results
@pytest.mark.parametrize("shuffle", [True, False])
def test_split_rows_are_the_trainers(shuffle):
    from anndesigner.engine.trainer import split_rows

    rng = np.random.default_rng(3)
    X = rng.normal(size=(37, 2)).astype(np.float32)
    Y = (X[:, :1] > 0).astype(np.float32)
    net = ad.Network(mlp([2, 3, 1]), seed=12345)
    net.set_training(net.training.replace(validation_split=0.3, shuffle=shuffle))
    trainer = net.trainer(X, Y)
    tr, va = split_rows(len(X), net.training, net.seed)
    np.testing.assert_array_equal(trainer.X_val, X[va])
    np.testing.assert_array_equal(trainer.X, X[tr])
    assert sorted(np.concatenate([tr, va]).tolist()) == list(range(37))


def test_results_switch_between_validation_and_training_rows(plots):
    from anndesigner.engine.trainer import split_rows

    ds = ad.dataset("xor", n_samples=40, noise=0.1, seed=1)
    net = ad.Network(mlp([2, 4, 1]), seed=0)
    net.set_training(net.training.replace(validation_split=0.25))
    plots.show_results(net, ds)
    tr, va = split_rows(40, net.training, net.seed)
    assert plots.results_split() == "validation" and plots.confusion().sum() == len(va) == 10
    assert [plots.split_combo.itemText(i) for i in range(2)] == ["Validation rows", "Training rows"]
    P = net.predict(ds.X, standardized=True)
    want = np.zeros((2, 2), int)
    for a, p in zip((ds.Y[va, 0] >= 0.5).astype(int), (P[va, 0] >= 0.5).astype(int)):
        want[a, p] += 1
    np.testing.assert_array_equal(plots.confusion(), want)
    plots.set_results_split("training")
    assert plots.confusion().sum() == 30
    plots.show_results(net, ds)  # the user's choice is kept while it exists
    assert plots.results_split() == "training"


def test_results_of_other_weights_data_or_graph_are_cleared(plots):
    ds = ad.dataset("xor")
    net = ad.Network(mlp([2, 4, 1]), seed=0)
    plots.set_network(net)
    for change in (lambda: net.stage_weights({"dense_1/bias": np.ones(4)}),
                   lambda: net.set_data_source({"kind": "builtin", "name": "and"}),
                   lambda: net.set_training(net.training.replace(validation_split=0.5))):
        plots.show_results(net, ds)
        assert plots.confusion() is not None
        change()
        assert plots.confusion() is None and plots.results_stack.currentWidget() is plots.results_empty
    plots.show_results(net, ds)
    net.graph.set_params("dense_1", units=5)  # an edit: the window hands the network over again
    plots.set_network(net)
    assert plots.confusion() is None


def test_a_document_keeps_its_results_current(plots):
    from anndesigner.ui import commands as C
    from anndesigner.ui.document import Document

    doc = Document(ad.Network(mlp([2, 4, 1]), seed=0, data={"kind": "builtin", "name": "xor"}))
    plots.set_document(doc)
    assert plots.confusion() is None  # no history: nothing trained to show
    net = doc.network
    trained = net.snapshot()  # trained apart, as the window's run is
    trained.fit(XOR_X, XOR_Y, epochs=5, batch_size=4)
    doc.push(C.TrainCommand(doc, trained.get_weights(), trained.history, 5))
    assert plots.confusion().sum() == 4
    np.testing.assert_allclose(plots.curve_data("loss")[1], net.history["loss"])
    doc.push(C.SetDataSourceCommand(doc, {"kind": "builtin", "name": "xor", "params": {"n_samples": 12}}))
    assert plots.confusion().sum() == 12  # the current weights on the current data
    doc.undo_stack.undo()
    assert plots.confusion().sum() == 4
    doc.undo_stack.undo()  # the training undone: no results, no curves
    assert plots.confusion() is None and not plots.curve_visible("loss")



def test_one_command_computes_the_results_once(plots, monkeypatch):
    """A run's result and its undo replace weights and history, Reset both: one command,
    one pass over the data (not one per signal); settings other than the validation split
    leave the results as they are."""
    from anndesigner.ui import commands as C
    from anndesigner.ui.document import Document

    doc = Document(ad.Network(mlp([2, 4, 1]), seed=0, data={"kind": "builtin", "name": "xor"}))
    plots.set_document(doc)
    trained = doc.network.snapshot()
    calls = []
    predict = ad.Network.predict
    monkeypatch.setattr(ad.Network, "predict", lambda self, *a, **k: calls.append(self) or predict(self, *a, **k))
    for epochs in (3, 4):
        trained.fit(XOR_X, XOR_Y, epochs=epochs, batch_size=4)
        doc.push(C.TrainCommand(doc, trained.get_weights(), trained.history, epochs))
        assert len(calls) == 1 and plots.confusion().sum() == 4
        calls.clear()
    doc.undo_stack.undo()  # back to the first run: its weights and its history
    assert len(calls) == 1 and plots.confusion().sum() == 4
    calls.clear()
    doc.push(C.SetTrainingCommand(doc, learning_rate=0.5, epochs=9))  # the same rows: nothing to do
    assert calls == [] and plots.confusion().sum() == 4
    doc.push(C.SetTrainingCommand(doc, validation_split=0.25))  # one row held out
    assert len(calls) == 1 and plots.results_split() == "validation" and plots.confusion().sum() == 1
    calls.clear()
    doc.push(C.ResetWeightsCommand(doc))  # no history: cleared, nothing computed
    assert calls == [] and plots.confusion() is None


def test_a_document_s_structural_edit_gives_the_plots_its_layers(plots):
    """The plots follow the document's edits themselves (the window handed the network over)."""
    from anndesigner.ui import commands as C
    from anndesigner.ui.document import Document

    from anndesigner.engine.rewrite import plan_expand_dense

    doc = Document(ad.Network(mlp([2, 4, 1]), seed=0))
    plots.set_document(doc)
    assert plots.layers() == ["dense_1", "output_1"]
    doc.push(C.RewriteCommand(doc, plan_expand_dense(doc.network, "dense_1"), "Expand"))
    neurons = [n for n in doc.graph.nodes if doc.graph.nodes[n].type_id == "Neuron"]
    assert len(neurons) == 4 and plots.layers() == neurons + ["output_1"]
    doc.undo_stack.undo()
    assert plots.layers() == ["dense_1", "output_1"]

def test_no_empty_legend_and_a_fresh_epoch_axis(plots, net, qtbot):
    plots.show()
    assert not plots.loss_legend.isVisible() and not plots.hist_legend.isVisible()
    plots.set_network(net)
    assert plots.hist_legend.isVisible()  # one line per layer
    plots.show_history({"loss": list(np.linspace(1, 0.1, 300))})
    qtbot.wait(20)  # auto-range runs from the event loop
    assert plots.loss_legend.isVisible()
    assert plots.loss_plot.viewRange()[0][1] > 250
    plots.set_network(ad.Network(mlp([2, 2, 1]), seed=1))
    plots.show_history({})
    qtbot.wait(20)
    assert plots.loss_plot.viewRange()[0] == pytest.approx([0.0, 1.0])
    assert not plots.loss_legend.isVisible()


def test_clicking_a_confusion_cell_sends_its_rows_in_turn(plots, qtbot):
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtTest import QTest

    g = ad.Graph()
    x = g.add_node("Input", units=2)
    y = g.add_node("Output", units=1, activation="sigmoid", loss="binary_crossentropy")
    g.connect(x, y)
    net = ad.Network(g)
    net.set_weights({f"{y.id}/kernel": np.array([[10.0], [0.0]]), f"{y.id}/bias": np.array([-5.0])})
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1], [1, 1]], np.float32)
    Y = np.array([0, 1, 1, 0, 0], np.float32)
    plots.show()
    plots.show_results(net, _dataset(X, Y, classes=["no", "yes"]))
    plots.show_tab("results")
    qtbot.waitExposed(plots)
    qtbot.wait(50)
    got = []
    plots.sampleClicked.connect(got.append)
    item = plots.confusion_item
    view = plots.confusion_widget
    scene_pt = item.mapToScene(QPointF(1.5, 0.5))  # row: actual "no", column: predicted "yes"
    pos = view.mapFromScene(scene_pt)
    for _ in range(3):
        QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos)
    assert got == [3, 4, 3]  # the two [1, 1] rows, in turn
