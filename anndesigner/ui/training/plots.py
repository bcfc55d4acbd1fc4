"""Live views of a training run, in tabs:

* **Loss** - training and validation loss per epoch, the per-batch loss faintly
  behind them (at fractional epochs), and a "Log scale" switch;
* **Accuracy** or **R² · MAE** - the metric curves the history has;
* **Weights** - the chosen layer's kernel as a heat map with a colour bar. The
  image is the kernel as stored, ``(fan_in, units)``: one row per input (top to
  bottom), one column per unit (a Neuron's 1-D kernel is one column). Its
  colour levels are symmetric around zero and only grow during a run, so a
  colour means the same value from frame to frame;
* **Histogram** - the distribution of every layer's kernel (one stepped line each);
* **Gradients** - the gradient norm per layer (bars);
* **Results** - after training, a confusion matrix (classification) or
  predicted against actual values (regression).

Every plot item is made once; an update only calls ``setData``/``setImage``/
``setOpts`` on them, so a frame costs a few milliseconds for small networks.
Nothing here runs outside the GUI thread: :meth:`TrainingPlots.set_training`
follows the training controller's snapshots (at most every
:data:`~anndesigner.ui.throttle.PLOTS_INTERVAL`), and
:meth:`TrainingPlots.update_snapshot` draws one.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ...engine import regression_metrics, split_rows
from ...errors import AnnError
from ...graph.events import Connections
from .. import style
from ..throttle import PLOTS_INTERVAL, Throttle

TEXT = style.TEXT_COLOR.name()
MUTED = style.MUTED_TEXT.name()
AXIS = "#B0BEC5"
TRAIN_COLOR = "#1E88E5"
VAL_COLOR = "#F4511E"
BATCH_COLOR = (30, 136, 229, 60)
#: distinct colours for one line per layer (histograms)
LAYER_PALETTE = ("#1E88E5", "#F4511E", "#43A047", "#8E24AA", "#00ACC1", "#FB8C00", "#D81B60", "#6D4C41",
                 "#3949AB", "#7CB342")
HIST_BINS = 40

#: series names of the history curves, by tab
LOSS_SERIES = ("loss", "val_loss")
METRIC_SERIES = ("accuracy", "val_accuracy", "r2", "val_r2", "mae", "val_mae")


def diverging_colormap() -> pg.ColorMap:
    """Orange-red for negative values, white for zero, blue for positive ones."""
    neg, pos = style.NEGATIVE_WEIGHT, style.POSITIVE_WEIGHT
    return pg.ColorMap([0.0, 0.5, 1.0], [neg.getRgb(), (255, 255, 255, 255), pos.getRgb()])


def sequential_colormap() -> pg.ColorMap:
    """White to the positive-weight blue (counts)."""
    return pg.ColorMap([0.0, 1.0], [(255, 255, 255, 255), style.POSITIVE_WEIGHT.getRgb()])


def nice_ceil(v: float) -> float:
    """The smallest of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 (times a power of ten) that is ≥ ``v``."""
    if not math.isfinite(v) or v <= 0:
        return 1.0
    e = math.floor(math.log10(v))
    for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        c = m * 10.0 ** e
        if c >= v * (1 - 1e-12):
            return c
    return 10.0 ** (e + 1)


def _max_abs(a: np.ndarray) -> float:
    if a.size == 0:
        return 0.0
    m = float(np.max(np.abs(a)))
    if not math.isfinite(m):
        f = np.abs(a[np.isfinite(a)])
        m = float(f.max()) if f.size else 0.0
    return m


#: a convolution kernel shows at most this many input channels (one row of filters each)
MOSAIC_CHANNELS = 8
#: filters per row when a convolution has one input channel
MOSAIC_WRAP = 8


def kernel_image(k: Any) -> tuple[np.ndarray, tuple[int, int, int, int] | None]:
    """The heat map of a kernel and, for a Conv2D kernel (kh, kw, c_in, filters),
    its layout: a mosaic of kh×kw tiles separated by a line of zeros (white),
    one row of filters per input channel -- or, with one input channel, the
    filters wrapped in rows of :data:`MOSAIC_WRAP`."""
    a = np.asarray(k, dtype=np.float32)
    if a.ndim != 4:
        return _as_2d_kernel(a), None
    kh, kw, cin, f = a.shape
    if cin == 1:
        cols = min(f, MOSAIC_WRAP)
        rows = -(-f // cols)
        tiles = np.zeros((rows * cols, kh, kw), np.float32)
        tiles[:f] = a[:, :, 0, :].transpose(2, 0, 1)
        tiles = tiles.reshape(rows, cols, kh, kw).transpose(0, 2, 1, 3)  # (row, kh, col, kw)
    else:
        rows, cols = min(cin, MOSAIC_CHANNELS), f
        tiles = a.transpose(2, 0, 3, 1)[:rows]
    t = np.zeros((rows, kh + 1, cols, kw + 1), np.float32)
    t[:, :kh, :, :kw] = tiles
    img = t.reshape(rows * (kh + 1), cols * (kw + 1))[:-1, :-1]
    return np.ascontiguousarray(img), (kh, kw, cin, f)


def mosaic_cell(mosaic: tuple[int, int, int, int], r: int, c: int) -> tuple[int, int, int, int] | None:
    """(filter, input channel, row, column) of a mosaic pixel (0-based), None on a gap."""
    kh, kw, cin, f = mosaic
    tr, u = divmod(r, kh + 1)
    tc, x = divmod(c, kw + 1)
    if u == kh or x == kw:
        return None
    if cin == 1:
        j = tr * min(f, MOSAIC_WRAP) + tc
        return (j, 0, u, x) if j < f else None
    return tc, tr, u, x


def _as_2d_kernel(k: Any) -> np.ndarray:
    a = np.asarray(k, dtype=np.float32)
    if a.ndim == 0:
        return a.reshape(1, 1)
    if a.ndim == 1:
        return a[:, None]  # a Neuron: one column
    return a.reshape(a.shape[0], -1)


def style_plot(p: pg.PlotItem, *, bottom: str | None = None, left: str | None = None, grid: bool = True) -> None:
    """Light theme: grey axes, dark text, faint grid, no pyqtgraph auto-range button."""
    for name in ("left", "bottom", "right", "top"):
        ax = p.getAxis(name)
        ax.setPen(pg.mkPen(AXIS))
        ax.setTextPen(pg.mkPen(TEXT))
        ax.enableAutoSIPrefix(False)
    if bottom is not None:
        p.setLabel("bottom", bottom, color=MUTED)
    if left is not None:
        p.setLabel("left", left, color=MUTED)
    if grid:
        p.showGrid(x=True, y=True, alpha=0.15)
    p.hideButtons()
    p.setContentsMargins(2, 4, 12, 2)


def set_title(p: pg.PlotItem, text: str) -> None:
    p.setTitle(text, color=TEXT, size="9pt")


def _legend(p: pg.PlotItem, bottom: bool = False) -> pg.LegendItem:
    """A legend that shows only while it lists something (an empty one is a bare box)."""
    legend = p.addLegend(offset=(-8, -8 if bottom else 8), brush=pg.mkBrush(255, 255, 255, 210),
                         pen=pg.mkPen("#CFD8DC"), labelTextColor=TEXT, labelTextSize="8pt", verSpacing=-6)
    legend.setVisible(False)
    return legend


#: the rows the Results tab can show, by key: (title, what a number is "of")
RESULT_SPLITS = {"validation": "Validation rows", "training": "Training rows"}


def split_key(network) -> tuple:
    """What :func:`~anndesigner.engine.trainer.split_rows` of ``network``'s data depends on
    (its other training settings leave the training and validation rows as they are)."""
    cfg = network.training
    return (cfg.validation_split, cfg.shuffle, network.seed)


def _index_ticks(n: int, offset: float = 0.5) -> list[tuple[float, str]]:
    """Ticks at pixel centres labelled 1..n (every k-th when there are many)."""
    step = 1 if n <= 16 else int(nice_ceil(n / 12))
    idx = list(range(0, n, step))
    return [(i + offset, str(i + 1)) for i in idx]


def _plot_widget() -> pg.PlotWidget:
    w = pg.PlotWidget(background="w")
    w.setMinimumSize(120, 90)
    return w


class _HeatImage(pg.ImageItem):
    """An image whose tooltip names the cell under the mouse."""

    def __init__(self, describe, clicked=None):
        super().__init__(axisOrder="row-major")
        self._describe = describe
        self._clicked = clicked

    def mouseClickEvent(self, ev):
        if self._clicked is None or self.image is None or ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        p = ev.pos()
        r, c = int(math.floor(p.y())), int(math.floor(p.x()))
        h, w = self.image.shape[:2]
        if 0 <= r < h and 0 <= c < w:
            ev.accept()
            self._clicked(r, c)

    def hoverEvent(self, ev):
        if ev.isExit() or self.image is None:
            self.setToolTip("")
            return
        p = ev.pos()
        r, c = int(math.floor(p.y())), int(math.floor(p.x()))
        h, w = self.image.shape[:2]
        self.setToolTip(self._describe(r, c, float(self.image[r, c])) if 0 <= r < h and 0 <= c < w else "")


def _page(*widgets: QWidget, controls: list[QWidget] | None = None) -> QWidget:
    page = QWidget()
    lay = QVBoxLayout(page)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.setSpacing(0)
    if controls:
        row = QHBoxLayout()
        row.setContentsMargins(6, 3, 6, 3)
        row.setSpacing(6)
        for c in controls:
            row.addWidget(c)
        row.addStretch(1)
        lay.addLayout(row)
    for w in widgets:
        lay.addWidget(w, 1)
    return page


class TrainingPlots(QWidget):
    """The live training views (see the module docstring)."""

    #: a confusion-matrix cell was clicked: one of its rows in the data set (the next
    #: one on each click), for explain mode
    sampleClicked = Signal(int)

    TABS = ("loss", "metric", "weights", "histogram", "gradients", "results")

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("trainingPlots")
        self.network = None
        self._training = None  # the TrainingController whose snapshots are drawn
        self._training_links = Connections()
        self._throttle = Throttle(PLOTS_INTERVAL)  # the plots are the costliest view to repaint
        self._data: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._epochs = np.arange(1, 257, dtype=np.float64)  # x values, grown by doubling
        self._layers: list[str] = []  # nodes with a kernel, in graph order
        self._selected: str | None = None
        self._weights: dict[str, np.ndarray] = {}
        self._level = 0.0  # symmetric colour level of the heat map (0: not set)
        self._hist_range = 0.0
        self._last_step = -1
        self._grad_nodes: tuple[str, ...] = ()
        self._grad_values: dict[str, float] = {}
        self._confusion: np.ndarray | None = None
        self._cells: list[pg.TextItem] = []
        self._class_names: list[str] = []
        self._curves: dict[str, pg.PlotDataItem] = {}
        self._curve_info: dict[str, tuple[pg.PlotItem, str | None]] = {}
        # results: predictions of every row, and the rows of each split
        self._results: dict[str, Any] | None = None
        self._split_choice: str | None = None  # what the user picked (kept while it exists)
        self._results_revision: int | None = None  # graph revision the results were computed for
        self._document = None
        self._doc_links = Connections()
        self._doc_stale = False  # the document changed what the results show since they were drawn
        self._doc_revision = -1  # the graph revision set_network was last given
        self._net_links = Connections()

        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("trainingPlotTabs")
        self.tabs.setDocumentMode(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.tabs)

        self._build_loss()
        self._build_metric()
        self._build_weights()
        self._build_histogram()
        self._build_gradients()
        self._build_results()
        self.clear()

    # ------------------------------------------------------------ building
    def _curve(self, plot: pg.PlotItem, name: str, color, width: float = 1.0, label: str | None = None,
               dash: bool = False) -> pg.PlotDataItem:
        pen = pg.mkPen(color, width=width, style=Qt.PenStyle.DashLine if dash else Qt.PenStyle.SolidLine)
        # 1 px antialiased lines take Qt's fast cosmetic path: a 2 px antialiased curve of a
        # long run costs ~20 ms a repaint here, a 1 px one under 1 ms (benchmarks/bench_training_ui.py)
        c = pg.PlotDataItem([], [], pen=pen, antialias=True, connect="finite")
        c.setDownsampling(auto=True, method="peak")  # long runs draw ~2 points per pixel, not every epoch
        c.setClipToView(True)
        c.setVisible(False)
        plot.addItem(c)
        self._curve_info[name] = (plot, label)
        return c

    def _sync_legend(self, plot: pg.PlotItem) -> None:
        """The legend lists the visible labelled curves of ``plot``, in a fixed order."""
        legend = plot.legend
        if legend is None:
            return
        legend.clear()
        for name, (p, label) in self._curve_info.items():
            if p is plot and label and self._curves[name].isVisible():
                legend.addItem(self._curves[name], label)
        legend.setVisible(bool(legend.items))

    def _build_loss(self) -> None:
        self.loss_widget = _plot_widget()
        p = self.loss_plot = self.loss_widget.getPlotItem()
        style_plot(p, bottom="epoch", left="loss")
        p.setDownsampling(auto=True, mode="peak")
        p.setClipToView(True)
        self.loss_legend = _legend(p)
        self._curves["batch_loss"] = self._curve(p, "batch_loss", BATCH_COLOR, width=1, label="batch loss")
        self._curves["loss"] = self._curve(p, "loss", TRAIN_COLOR, label="training")
        self._curves["val_loss"] = self._curve(p, "val_loss", VAL_COLOR, label="validation")
        self.log_check = QCheckBox("Log scale")
        self.log_check.setObjectName("lossLogScale")
        self.log_check.setToolTip("Show the loss on a logarithmic axis")
        self.log_check.toggled.connect(self.set_log_scale)
        self.batch_check = QCheckBox("Batches")
        self.batch_check.setObjectName("lossBatches")
        self.batch_check.setToolTip("Show the loss of every batch behind the per-epoch curves")
        self.batch_check.setChecked(True)
        self.batch_check.toggled.connect(self._toggle_batches)
        self.tabs.addTab(_page(self.loss_widget, controls=[self.log_check, self.batch_check]), "Loss")

    def _build_metric(self) -> None:
        self.metric_stack = QStackedWidget()
        # page 0: nothing to show; page 1: accuracy; page 2: R² above MAE
        self.metric_empty = _plot_widget()
        style_plot(self.metric_empty.getPlotItem(), bottom="epoch")
        set_title(self.metric_empty.getPlotItem(), "No metrics yet")
        self.acc_widget = _plot_widget()
        p = self.acc_plot = self.acc_widget.getPlotItem()
        style_plot(p, bottom="epoch", left="accuracy")
        p.setYRange(0, 1, padding=0.06)
        p.enableAutoRange(y=False)
        p.setLimits(yMin=-0.1, yMax=1.1)
        p.setDownsampling(auto=True, mode="peak")
        p.setClipToView(True)
        _legend(p, bottom=True)
        self._curves["accuracy"] = self._curve(p, "accuracy", TRAIN_COLOR, label="training")
        self._curves["val_accuracy"] = self._curve(p, "val_accuracy", VAL_COLOR, label="validation")
        self.reg_widget = pg.GraphicsLayoutWidget()
        self.reg_widget.setBackground("w")
        self.r2_plot = self.reg_widget.addPlot(row=0, col=0)
        self.mae_plot = self.reg_widget.addPlot(row=1, col=0)
        style_plot(self.r2_plot, left="R²")
        style_plot(self.mae_plot, bottom="epoch", left="MAE")
        self.r2_plot.setXLink(self.mae_plot)
        self.r2_plot.getAxis("bottom").setStyle(showValues=False)
        self.r2_plot.enableAutoRange(y=False)
        self.r2_plot.setYRange(0, 1, padding=0.06)
        for p in (self.r2_plot, self.mae_plot):
            p.setDownsampling(auto=True, mode="peak")
            p.setClipToView(True)
            p.getAxis("left").setWidth(48)
        _legend(self.r2_plot, bottom=True)
        self._curves["r2"] = self._curve(self.r2_plot, "r2", TRAIN_COLOR, label="training")
        self._curves["val_r2"] = self._curve(self.r2_plot, "val_r2", VAL_COLOR, label="validation")
        self._curves["mae"] = self._curve(self.mae_plot, "mae", TRAIN_COLOR)
        self._curves["val_mae"] = self._curve(self.mae_plot, "val_mae", VAL_COLOR)
        for w in (self.metric_empty, self.acc_widget, self.reg_widget):
            self.metric_stack.addWidget(w)
        self.tabs.addTab(self.metric_stack, "Metric")
        self._metric_tab = self.tabs.count() - 1

    def _build_weights(self) -> None:
        self.layer_combo = QComboBox()
        self.layer_combo.setObjectName("weightsLayer")
        self.layer_combo.setToolTip("The layer whose weights are shown")
        self.layer_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.layer_combo.currentIndexChanged.connect(self._on_combo)
        self.weights_widget = pg.GraphicsLayoutWidget()
        self.weights_widget.setBackground("w")
        p = self.weights_plot = self.weights_widget.addPlot()
        style_plot(p, bottom="unit", left="input", grid=False)
        p.invertY(True)
        p.setMouseEnabled(x=False, y=False)
        p.setMenuEnabled(False)
        self._mosaic: tuple[int, int, int, int] | None = None
        self.weights_item = _HeatImage(self._describe_weight)
        p.addItem(self.weights_item)
        self.colorbar = pg.ColorBarItem(values=(-1, 1), colorMap=diverging_colormap(), interactive=False,
                                        width=12, colorMapMenu=False)
        self.colorbar.setImageItem(self.weights_item, insert_in=p)
        for name in ("left", "right", "top", "bottom"):
            ax = self.colorbar.getAxis(name)
            ax.setPen(pg.mkPen(AXIS))
            ax.setTextPen(pg.mkPen(TEXT))
        label = QLabel("Layer")
        label.setBuddy(self.layer_combo)
        self.tabs.addTab(_page(self.weights_widget, controls=[label, self.layer_combo]), "Weights")

    def _build_histogram(self) -> None:
        self.hist_widget = _plot_widget()
        p = self.hist_plot = self.hist_widget.getPlotItem()
        style_plot(p, bottom="weight", left="fraction of weights")
        self.hist_legend = _legend(p)
        self._hist_curves: dict[str, pg.PlotDataItem] = {}
        self.tabs.addTab(self.hist_widget, "Histogram")

    def _build_gradients(self) -> None:
        self.grad_widget = _plot_widget()
        p = self.grad_plot = self.grad_widget.getPlotItem()
        style_plot(p, left="gradient norm")
        p.showGrid(x=False, y=True, alpha=0.15)
        self.grad_bars_item = pg.BarGraphItem(x=[], height=[], width=0.6, brush=style.ROLE_COLORS["layer"][1],
                                              pen=pg.mkPen(None))
        p.addItem(self.grad_bars_item)
        p.setMouseEnabled(x=False, y=True)
        self._grad_brushes: list = []
        self.grad_log_check = QCheckBox("Log scale")
        self.grad_log_check.setObjectName("gradLogScale")
        self.grad_log_check.setToolTip("Show gradient norms on a logarithmic axis (vanishing gradients stand out)")
        self.grad_log_check.toggled.connect(self._toggle_grad_log)
        self.tabs.addTab(_page(self.grad_widget, controls=[self.grad_log_check]), "Gradients")

    def _build_results(self) -> None:
        self.results_stack = QStackedWidget()
        self.results_empty = QLabel("Train the network to see how it does on the data set.")
        self.results_empty.setObjectName("resultsEmpty")
        self.results_empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.results_empty.setWordWrap(True)
        self.results_empty.setStyleSheet(f"color: {MUTED}; background: white;")
        self.results_empty.setAutoFillBackground(True)
        # confusion matrix
        self.confusion_widget = _plot_widget()
        p = self.confusion_plot = self.confusion_widget.getPlotItem()
        style_plot(p, bottom="predicted", left="actual", grid=False)
        p.invertY(True)
        p.setMouseEnabled(x=False, y=False)
        p.setMenuEnabled(False)
        self.confusion_item = _HeatImage(self._describe_cell, self._cell_clicked)
        p.addItem(self.confusion_item)
        self.confusion_grid = pg.PlotDataItem([], [], pen=pg.mkPen("#B0BEC5", width=1), connect="pairs")
        p.addItem(self.confusion_grid)
        # predicted vs actual
        self.scatter_widget = _plot_widget()
        p = self.scatter_plot = self.scatter_widget.getPlotItem()
        style_plot(p, bottom="actual", left="predicted")
        self.identity_line = pg.PlotDataItem([], [], pen=pg.mkPen(MUTED, width=1, style=Qt.PenStyle.DashLine),
                                             antialias=True)
        self.scatter_item = pg.ScatterPlotItem([], [], size=6, pen=pg.mkPen(255, 255, 255, 200, width=0.5),
                                               brush=pg.mkBrush(30, 136, 229, 160), antialias=True)
        p.addItem(self.identity_line)
        p.addItem(self.scatter_item)
        for w in (self.results_empty, self.confusion_widget, self.scatter_widget):
            self.results_stack.addWidget(w)
        # training and validation rows apart: the trainer's split, validation first when there is one
        self.split_combo = QComboBox()
        self.split_combo.setObjectName("resultsSplit")
        self.split_combo.setToolTip("The rows the results are computed on: the validation rows (held out of "
                                    "training) or the training rows")
        self.split_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.split_combo.currentIndexChanged.connect(self._split_chosen)
        self.split_combo.setEnabled(False)
        label = QLabel("Rows")
        label.setBuddy(self.split_combo)
        self.tabs.addTab(_page(self.results_stack, controls=[label, self.split_combo]), "Results")

    # ------------------------------------------------------------- public
    def set_network(self, network) -> None:
        """Use ``network`` for node names and the list of layers with kernels; its
        current weights are shown until a snapshot arrives (None: clear)."""
        if network is not self.network:
            self._net_links.disconnect_all()
            if network is not None:
                # results of other weights, data or settings are no longer true: cleared
                for sig in (network.weights_changed, network.data_changed, network.training_changed):
                    self._net_links.connect(sig, self._network_results_stale)
        elif network is not None and self._results_revision is not None \
                and network.graph.revision != self._results_revision:
            self._network_results_stale()  # a structural edit: another function
        self.network = network
        if network is None:
            self.clear()
            return
        self._set_layers(self._kernel_nodes_of(network))
        weights: dict[str, np.ndarray] = {}
        try:
            if network.compiles:
                weights = network.get_weights()
        except AnnError:
            weights = {}
        self._level = 0.0
        self._hist_range = 0.0
        self._last_step = -1
        self._show_weights(weights)

    def show_history(self, history) -> None:
        """Draw the per-epoch curves of a History (or a ``{metric: [values]}`` dict),
        e.g. of a reopened trained file; clears the per-batch curve."""
        data = history.data if hasattr(history, "data") else dict(history or {})
        self._show_history(data)
        self._set_curve("batch_loss", np.empty(0), np.empty(0))
        if not self._data:
            self._reset_axes()

    def _reset_axes(self) -> None:
        """No curves: the epoch axes start again at 0..1 (not at the last document's length)."""
        for p in (self.loss_plot, self.acc_plot, self.r2_plot, self.mae_plot):
            p.setXRange(0, 1, padding=0)
            p.enableAutoRange(x=True, y=p is self.loss_plot or p is self.mae_plot)
        self.loss_plot.setYRange(0, 1, padding=0)
        self.loss_plot.enableAutoRange(y=True)

    def set_training(self, controller) -> None:
        """Follow the snapshots of ``controller`` (a TrainingController; None: none) at
        most every :data:`~anndesigner.ui.throttle.PLOTS_INTERVAL` seconds (smooth
        enough for curves); its ``last_snapshot`` (a run's end, where a paused run
        stands) is always drawn."""
        self._training_links.disconnect_all()
        self._training = controller
        if controller is not None:
            self._training_links.connect(controller.snapshotReady, self._show_snapshot)

    def _show_snapshot(self, snap) -> None:
        if snap is self._training.last_snapshot:
            self._throttle.mark()
        elif not self._throttle.ready():
            return
        self.update_snapshot(snap)

    def update_snapshot(self, snap) -> None:
        """Show a :class:`~anndesigner.engine.monitor.TrainingSnapshot` (GUI thread)."""
        if snap.step < self._last_step:  # a new run: colour levels may start afresh
            self._level = 0.0
            self._hist_range = 0.0
        self._last_step = snap.step
        self._show_history(snap.history)
        bl = np.asarray(snap.batch_losses, dtype=np.float64).reshape(-1, 2)
        if bl.size:
            n_hist = len(snap.history.get("loss", ()))
            offset = max(0, n_hist - snap.epochs_done)
            bpe = max(1, snap.batches_per_epoch)
            self._set_curve("batch_loss", offset + bl[:, 0] / bpe, bl[:, 1])
        else:
            self._set_curve("batch_loss", np.empty(0), np.empty(0))
        kernels = [k[: -len("/kernel")] for k in snap.weights if k.endswith("/kernel")]
        if snap.weights and set(kernels) != set(self._layers):  # the graph changed since set_network
            known = self._kernel_nodes_of(self.network) if self.network is not None else []
            order = [k for k in known if k in kernels]
            self._set_layers(order + [k for k in kernels if k not in order])
        self._show_weights(snap.weights)
        self._show_grad_norms(snap.grad_norms)

    def set_selected_node(self, node_id: str | None) -> None:
        """Show ``node_id``'s weights (a node without a kernel, or None, keeps the current layer)."""
        if node_id is None or node_id not in self._layers or node_id == self._selected:
            return
        self.layer_combo.setCurrentIndex(self._layers.index(node_id))  # -> _on_combo

    def selected_node(self) -> str | None:
        return self._selected

    def show_results(self, network, dataset) -> None:
        """Confusion matrix (classification) or predicted against actual (regression)
        of ``network`` on ``dataset``, on its validation rows or its training rows
        apart (split as the trainer splits them; the "Rows" switch, validation by
        default when there are any); ``dataset`` None clears the tab."""
        self._confusion = None
        self._results = None
        if network is None or dataset is None or len(dataset) == 0:
            self._set_splits([])
            self._results_message("Train the network to see how it does on the data set.")
            return
        self._results_revision = network.graph.revision
        try:
            P = np.asarray(network.predict(dataset.X, standardized=True), dtype=np.float64)
        except AnnError as e:
            self._set_splits([])
            self._results_message(f"No results: {e}")
            return
        Y = np.asarray(dataset.Y, dtype=np.float64)
        P = P.reshape(len(P), -1)
        Y = Y.reshape(len(Y), -1)
        if P.shape != Y.shape:
            self._set_splits([])
            self._results_message(f"No results: the network gives {P.shape[1]} value(s) per row "
                                  f"but the data set has {Y.shape[1]} target column(s)")
            return
        tr, va = split_rows(len(Y), network.training, network.seed)
        rows = {"validation": va, "training": tr} if len(va) else {"training": tr}
        self._results = {"P": P, "Y": Y, "rows": rows, "task": dataset.task, "classes": dataset.classes,
                         "split": split_key(network)}
        self._set_splits(list(rows))
        self._draw_results()

    def _set_splits(self, keys: list[str]) -> None:
        self.split_combo.blockSignals(True)
        self.split_combo.clear()
        for k in keys:
            self.split_combo.addItem(RESULT_SPLITS[k], k)
        if keys:
            keep = self._split_choice if self._split_choice in keys else keys[0]
            self.split_combo.setCurrentIndex(keys.index(keep))
        self.split_combo.setEnabled(len(keys) > 1)
        self.split_combo.blockSignals(False)

    def _split_chosen(self, index: int) -> None:
        if index < 0:
            return
        self._split_choice = self.split_combo.itemData(index)
        self._draw_results()

    def results_split(self) -> str | None:
        """"validation" or "training": the rows the Results tab shows (None: no results)."""
        return self.split_combo.currentData() if self._results is not None else None

    def set_results_split(self, key: str) -> None:
        i = self.split_combo.findData(key)
        if i < 0:
            raise KeyError(f"no {key!r} rows to show")
        self.split_combo.setCurrentIndex(i)  # -> _split_chosen

    def _draw_results(self) -> None:
        r = self._results
        if r is None:
            return
        key = self.split_combo.currentData() or "training"
        idx = r["rows"][key]
        P, Y = r["P"][idx], r["Y"][idx]
        label = RESULT_SPLITS[key]
        if len(Y) == 0:
            self._confusion = None
            self._results_message(f"There are no {label.lower()}.")
        elif r["task"] == "classification":
            self._show_confusion(P, Y, r["classes"], label)
        else:
            self._show_scatter(P, Y, label)

    def _network_results_stale(self) -> None:
        """The network's weights, data or settings changed: results drawn before are cleared
        (a document given by :meth:`set_document` recomputes them instead)."""
        if self._document is not None and self._document.network is self.network:
            return
        if self._results is not None or self._confusion is not None:
            self.show_results(None, None)

    def set_document(self, doc) -> None:
        """Follow ``doc``: its network (see :meth:`set_network`; again after each structural
        edit), its history's curves and results computed on its data whenever its weights,
        history, data, validation split or graph change (cleared while it has no history or
        no data)."""
        self._doc_links.disconnect_all()
        self._document = doc
        if doc is None:
            self.set_network(None)
            return
        self._doc_revision = doc.graph.revision
        self.set_network(doc.network)
        # a command may change several of them (a run's result: weights and history; a paste:
        # node after node): they mark the results stale, the end of the command recomputes once
        for sig in (doc.weightsChanged, doc.historyChanged, doc.dataChanged, doc.graphChanged):
            self._doc_links.connect(sig, self._doc_results_stale)
        self._doc_links.connect(doc.trainingChanged, self._doc_training_changed)
        self._doc_links.connect(doc.undo_stack.indexChanged, self._doc_command_done)
        self._doc_links.connect(doc.historyChanged, self._doc_history_changed)
        self._doc_history_changed()
        self.refresh_results()

    def _doc_history_changed(self) -> None:
        self.show_history(self._document.network.history)

    def _doc_results_stale(self, *_) -> None:
        self._doc_stale = True

    def _doc_training_changed(self) -> None:
        # of the settings, only the validation split changes what the results show
        if self._results is not None and self._results["split"] != split_key(self._document.network):
            self._doc_stale = True

    def _doc_command_done(self, *_) -> None:
        doc = self._document
        if doc.graph.revision != self._doc_revision and not doc.locked:  # a structural edit
            self._doc_revision = doc.graph.revision
            self.set_network(doc.network)  # its layers
        elif self.network is not None:
            self._set_layers(list(self._layers))  # a rename: the menu names them again (no-op otherwise)
        if self._doc_stale:
            self.refresh_results()

    def refresh_results(self) -> None:
        """Results of the document's current weights on its current data (or cleared)."""
        doc = self._document
        if doc is None or doc.locked:  # while a run trains, its snapshots drive the views
            return
        self._doc_stale = False
        net = doc.network
        try:
            data = doc.dataset()
        except AnnError:
            data = None
        if data is None or not len(net.history) or not net.compiles:
            self.show_results(None, None)
            return
        self.show_results(net, data)

    def clear(self) -> None:
        """Forget everything shown (keeps the network's list of layers)."""
        for name in self._curves:
            self._set_curve(name, np.empty(0), np.empty(0))
        self._data.clear()
        self.metric_stack.setCurrentIndex(0)
        self.tabs.setTabText(self._metric_tab, "Metric")
        self._weights = {}
        self._level = 0.0
        self._hist_range = 0.0
        self._last_step = -1
        self.weights_item.clear()
        self.colorbar.setLevels((-1, 1))
        for c in self._hist_curves.values():
            c.setData([], [])
        self._grad_values = {}
        self._grad_nodes = ()
        self._draw_grad_bars()
        set_title(self.grad_plot, "Gradient norms appear while training")
        self._update_weights_title()
        self._reset_axes()
        self.show_results(None, None)

    def show_tab(self, name: str) -> None:
        """Bring one tab forward: one of :attr:`TABS`."""
        self.tabs.setCurrentIndex(self.TABS.index(name))

    # ----------------------------------------------------- for tests
    def curve_data(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """The data given to a curve ("loss", "val_loss", "batch_loss", "accuracy",
        "val_accuracy", "r2", "val_r2", "mae", "val_mae"); empty when not shown."""
        if name not in self._curves:
            raise KeyError(f"no curve named {name!r}")
        return self._data.get(name, (np.empty(0), np.empty(0)))

    def curve_visible(self, name: str) -> bool:
        return self._curves[name].isVisible() and name in self._data

    def log_scale(self) -> bool:
        return bool(self.loss_plot.getAxis("left").logMode)

    def metric_kind(self) -> str | None:
        """"accuracy", "regression" or None: which metric plot is shown."""
        return {0: None, 1: "accuracy", 2: "regression"}[self.metric_stack.currentIndex()]

    def layers(self) -> list[str]:
        return list(self._layers)

    def weights_image(self) -> np.ndarray | None:
        """The heat map: the selected kernel as ``(fan_in, units)`` (rows: inputs)."""
        return None if self.weights_item.image is None else np.array(self.weights_item.image)

    def weights_levels(self) -> tuple[float, float]:
        return (-self._level, self._level) if self._level else tuple(self.colorbar.levels())

    def histogram_data(self, node_id: str) -> tuple[np.ndarray, np.ndarray]:
        """(bin edges, fractions) of a layer's kernel histogram."""
        x, y = self._hist_curves[node_id].getOriginalDataset()
        return (np.empty(0), np.empty(0)) if x is None else (np.asarray(x), np.asarray(y))

    def grad_bars(self) -> dict[str, float]:
        """Bar heights by node id, as drawn."""
        return dict(self._grad_values)

    def confusion(self) -> np.ndarray | None:
        """Counts: row = actual class, column = predicted class."""
        return None if self._confusion is None else self._confusion.copy()

    # ------------------------------------------------------------ curves
    def set_log_scale(self, on: bool) -> None:
        if self.log_check.isChecked() != on:
            self.log_check.setChecked(on)  # -> toggled -> here again
            return
        self.loss_plot.setLogMode(x=False, y=on)
        self.loss_plot.enableAutoRange()

    def _toggle_batches(self, on: bool) -> None:
        self._curves["batch_loss"].setVisible(on and "batch_loss" in self._data)
        self._sync_legend(self.loss_plot)

    def _x(self, n: int) -> np.ndarray:
        if n > len(self._epochs):
            cap = len(self._epochs)
            while cap < n:
                cap *= 2
            self._epochs = np.arange(1, cap + 1, dtype=np.float64)
        return self._epochs[:n]

    def _set_curve(self, name: str, x: np.ndarray, y: np.ndarray) -> None:
        c = self._curves[name]
        has = y.size > 0 and bool(np.isfinite(y).any())
        if has:
            self._data[name] = (x, y)
            c.setData(x, y)
        else:
            self._data.pop(name, None)
            if c.xData is not None and len(c.xData):
                c.setData([], [])
        visible = has and (name != "batch_loss" or self.batch_check.isChecked())
        if c.isVisible() != visible:
            c.setVisible(visible)
            self._sync_legend(self._curve_info[name][0])

    def _show_history(self, data: Mapping[str, list[float]]) -> None:
        for name in LOSS_SERIES + METRIC_SERIES:
            vals = data.get(name)
            if vals is None or len(vals) == 0:
                self._set_curve(name, np.empty(0), np.empty(0))
                continue
            y = np.asarray(vals, dtype=np.float64)
            self._set_curve(name, self._x(len(y)), y)
        if "accuracy" in self._data or "val_accuracy" in self._data:
            page, title = 1, "Accuracy"
        elif any(k in self._data for k in ("r2", "val_r2", "mae", "val_mae")):
            page, title = 2, "R² · MAE"
            r2 = [self._data[k][1] for k in ("r2", "val_r2") if k in self._data]
            lo = min(float(np.nanmin(v)) for v in r2) if r2 else 0.0
            self.r2_plot.setYRange(max(-1.0, min(0.0, lo)), 1.0, padding=0.06)
        else:
            page, title = 0, "Metric"
        if self.metric_stack.currentIndex() != page:
            self.metric_stack.setCurrentIndex(page)
            self.tabs.setTabText(self._metric_tab, title)

    # ----------------------------------------------------------- layers
    @staticmethod
    def _kernel_nodes_of(network) -> list[str]:
        try:
            a = network.graph.analyze()
        except AnnError:
            return []
        return [nid for nid in a.order if any(w.name == "kernel" for w in a.weights.get(nid, ()))]

    def _node_title(self, nid: str) -> str:
        g = getattr(self.network, "graph", None)
        if g is not None and nid in g.nodes:
            node = g.nodes[nid]
            title = g.node_type(nid).title
            return f"{node.label or nid}  ({title})"
        return nid

    def _node_color(self, nid: str) -> str:
        g = getattr(self.network, "graph", None)
        if g is not None and nid in g.nodes:
            t = g.node_type(nid)
            return style.ROLE_COLORS.get(style.node_role(t), style.ROLE_COLORS["layer"])[1]
        return style.ROLE_COLORS["layer"][1]

    def _set_layers(self, layers: list[str]) -> None:
        titles = [self._node_title(nid) for nid in layers]
        if (layers == self._layers and self.layer_combo.count() == len(layers)
                and titles == [self.layer_combo.itemText(i) for i in range(len(layers))]):
            return  # the same layers under the same names (another network may use the same ids)
        self._layers = list(layers)
        keep = self._selected if self._selected in layers else (layers[0] if layers else None)
        self.layer_combo.blockSignals(True)
        self.layer_combo.clear()
        for nid, title in zip(layers, titles):
            self.layer_combo.addItem(title, nid)
        if keep is not None:
            self.layer_combo.setCurrentIndex(layers.index(keep))
        self.layer_combo.blockSignals(False)
        if keep != self._selected:
            self._selected = keep
            self._level = 0.0
        # one histogram line per layer (made here, not per frame)
        for nid in list(self._hist_curves):
            if nid not in layers:
                c = self._hist_curves.pop(nid)
                self.hist_legend.removeItem(c)
                self.hist_plot.removeItem(c)
        for i, nid in enumerate(layers):
            color = LAYER_PALETTE[i % len(LAYER_PALETTE)]
            c = self._hist_curves.get(nid)
            if c is None:
                c = pg.PlotDataItem([], [], stepMode="center", antialias=True, name=nid)
                self._hist_curves[nid] = c
                self.hist_plot.addItem(c)
            c.setPen(pg.mkPen(color, width=1.5))
        self._style_hist()
        self.hist_legend.setVisible(bool(self.hist_legend.items))
        self._update_weights_title()

    def _style_hist(self) -> None:
        for i, nid in enumerate(self._layers):
            c = self._hist_curves[nid]
            color = QColor(LAYER_PALETTE[i % len(LAYER_PALETTE)])
            if nid == self._selected:
                c.setPen(pg.mkPen(color, width=2.5))
                c.setZValue(10)
            else:
                color.setAlpha(170)
                c.setPen(pg.mkPen(color, width=1.2))
                c.setZValue(0)

    def _on_combo(self, index: int) -> None:
        nid = self.layer_combo.itemData(index) if index >= 0 else None
        if nid == self._selected:
            return
        self._selected = nid
        self._level = 0.0  # a new layer: levels start afresh
        self._style_hist()
        self._show_kernel()
        self._update_weights_title()

    def _describe_weight(self, r: int, c: int, v: float) -> str:
        if self._mosaic is None:
            return f"input {r + 1} → unit {c + 1}: {v:.4g}"
        cell = mosaic_cell(self._mosaic, r, c)
        if cell is None:
            return ""
        j, ch, u, x = cell
        return f"filter {j + 1}, input channel {ch + 1}, cell ({u + 1}, {x + 1}): {v:.4g}"

    def _update_weights_title(self) -> None:
        if not self._layers:
            set_title(self.weights_plot, "This network has no weight matrices")
        elif self._selected is None or f"{self._selected}/kernel" not in self._weights:
            set_title(self.weights_plot, "Weights appear when the network is valid")
        else:
            img, mosaic = kernel_image(self._weights[f"{self._selected}/kernel"])
            if mosaic is not None:
                kh, kw, cin, f = mosaic
                more = f" (first {MOSAIC_CHANNELS} shown)" if cin > MOSAIC_CHANNELS else ""
                set_title(self.weights_plot, f"{self._selected}: {f} filters {kh}×{kw} × {cin} input "
                                             f"channel{'s' if cin != 1 else ''}{more}")
            else:
                set_title(self.weights_plot, f"{self._selected}: {img.shape[0]} inputs × {img.shape[1]} units")

    # ---------------------------------------------------------- weights
    def _show_weights(self, weights: Mapping[str, np.ndarray]) -> None:
        had = f"{self._selected}/kernel" in self._weights
        self._weights = dict(weights)
        self._show_kernel()
        if had != (f"{self._selected}/kernel" in self._weights):
            self._update_weights_title()
        self._show_histograms()

    def _show_kernel(self) -> None:
        k = self._weights.get(f"{self._selected}/kernel") if self._selected else None
        if k is None:
            self.weights_item.clear()
            return
        img, mosaic = kernel_image(k)
        m = _max_abs(img)
        new_shape = (self.weights_item.image is None or self.weights_item.image.shape != img.shape
                     or mosaic != self._mosaic)
        self._mosaic = mosaic
        if self._level == 0.0 or m > self._level:  # grow only (reset on a new layer or run)
            self._level = nice_ceil(max(m, 1e-6))
            self.colorbar.setLevels((-self._level, self._level))
        self.weights_item.setImage(img, autoLevels=False, levels=(-self._level, self._level))
        if new_shape:
            fan_in, units = img.shape
            if mosaic is not None:  # ticks at tile centres: filters along, input channels down
                kh, kw, cin, f = mosaic
                if cin == 1:  # filters wrapped in rows: label each row with its first filter
                    cols = min(f, MOSAIC_WRAP)
                    left = [(r * (kh + 1) + kh / 2, f"{r * cols + 1}–") for r in range(-(-f // cols))]
                    bottom = [(j * (kw + 1) + kw / 2, f"+{j}") for j in range(cols)]
                else:
                    step = 1 if f <= 16 else int(nice_ceil(f / 12))
                    left = [(c * (kh + 1) + kh / 2, f"ch {c + 1}") for c in range(min(cin, MOSAIC_CHANNELS))]
                    bottom = [(j * (kw + 1) + kw / 2, str(j + 1)) for j in range(0, f, step)]
            else:
                left, bottom = _index_ticks(fan_in), _index_ticks(units)
            self.weights_plot.getAxis("left").setTicks([left, []])
            self.weights_plot.getAxis("bottom").setTicks([bottom, []])
            one = mosaic is not None and mosaic[2] == 1
            self.weights_plot.setLabel("left", ("filters" if one else "input channel") if mosaic else "input",
                                       color=MUTED)
            self.weights_plot.setLabel("bottom", "filter" if mosaic else "unit", color=MUTED)
            self.weights_plot.setAspectLocked(mosaic is not None, ratio=1.0)  # filters' cells stay square
            self.weights_plot.setRange(xRange=(0, units), yRange=(0, fan_in), padding=0)
            self._update_weights_title()

    def _show_histograms(self) -> None:
        ks = {nid: self._weights.get(f"{nid}/kernel") for nid in self._layers}
        m = max((_max_abs(np.asarray(k)) for k in ks.values() if k is not None), default=0.0)
        if self._hist_range == 0.0 or m > self._hist_range:
            self._hist_range = nice_ceil(max(m, 1e-6))
        edges = np.linspace(-self._hist_range, self._hist_range, HIST_BINS + 1)
        for nid, k in ks.items():
            c = self._hist_curves[nid]
            if k is None or np.size(k) == 0:
                c.setData([], [])
                continue
            a = np.asarray(k).reshape(-1)
            counts, _ = np.histogram(a[np.isfinite(a)], bins=edges)
            c.setData(edges, counts / a.size)

    def _show_grad_norms(self, norms: Mapping[str, float]) -> None:
        if not norms:
            return
        order = [n for n in self._layers if n in norms] + sorted(n for n in norms if n not in self._layers)
        nodes = tuple(order)
        heights = np.array([float(norms[n]) for n in order], dtype=np.float64)
        heights = np.where(np.isfinite(heights), heights, 0.0)
        self._grad_values = dict(zip(order, heights.tolist()))
        if nodes != self._grad_nodes:
            self._grad_nodes = nodes
            self.grad_plot.getAxis("bottom").setTicks([[(i, n) for i, n in enumerate(nodes)], []])
            self.grad_plot.setXRange(-0.6, len(nodes) - 0.4, padding=0)
            set_title(self.grad_plot, "Gradient norm per layer (latest batch)")
            self._grad_brushes = [pg.mkBrush(self._node_color(n)) for n in nodes]
        self._draw_grad_bars()

    def _toggle_grad_log(self, on: bool) -> None:
        self.grad_plot.getAxis("left").setLogMode(y=on)
        self._draw_grad_bars()

    def _draw_grad_bars(self) -> None:
        nodes = self._grad_nodes
        heights = np.array([self._grad_values.get(n, 0.0) for n in nodes], dtype=np.float64)
        x = np.arange(len(nodes), dtype=np.float64)
        if not nodes:
            self.grad_bars_item.setOpts(x=[], height=[], brushes=None)
            return
        if self.grad_log_check.isChecked():
            pos = heights > 0
            logs = np.full(heights.shape, np.nan)
            logs[pos] = np.log10(heights[pos])
            lo = math.floor(float(np.nanmin(logs))) if pos.any() else -1.0
            hi = math.ceil(float(np.nanmax(logs))) if pos.any() else 0.0
            hi = max(hi, lo + 1)
            top = np.where(pos, logs, lo)
            self.grad_bars_item.setOpts(x=x, y0=np.full(len(x), lo), y1=top, height=None, width=0.6,
                                        brushes=self._grad_brushes)
            self.grad_plot.setYRange(lo, hi, padding=0.02)
        else:
            self.grad_bars_item.setOpts(x=x, y0=np.zeros(len(x)), y1=None, height=heights, width=0.6,
                                        brushes=self._grad_brushes)
            top = float(heights.max())
            self.grad_plot.setYRange(0, top if top > 0 else 1.0, padding=0.05)

    # ----------------------------------------------------------- results
    def _results_message(self, text: str) -> None:
        self.results_empty.setText(text)
        self.results_stack.setCurrentWidget(self.results_empty)

    def _describe_cell(self, r: int, c: int, v: float) -> str:
        names = self._class_names
        if r < len(names) and c < len(names):
            return f"actual {names[r]}, predicted {names[c]}: {int(v)}"
        return ""

    def _cell_clicked(self, r: int, c: int) -> None:
        """Rows actually of class ``r`` predicted as ``c``: send the next one."""
        cells = getattr(self, "_cell_rows", None)
        if cells is None or cells[2] is None:
            return
        actual, pred, rows = cells
        hits = rows[(actual == r) & (pred == c)]
        if not len(hits):
            return
        turn = self._cell_turn.get((r, c), 0)
        self._cell_turn[(r, c)] = turn + 1
        self.sampleClicked.emit(int(hits[turn % len(hits)]))

    def _show_confusion(self, P: np.ndarray, Y: np.ndarray, classes, label: str = "All rows") -> None:
        if Y.shape[1] == 1:
            t = 0.0 if (Y < 0).any() else 0.5
            actual = (Y[:, 0] >= t).astype(np.int64)
            pred = (P[:, 0] >= t).astype(np.int64)
            k = 2
        else:
            actual = Y.argmax(1)
            pred = P.argmax(1)
            k = Y.shape[1]
        cm = np.bincount(actual * k + pred, minlength=k * k).reshape(k, k)
        self._confusion = cm
        key = self.split_combo.currentData() or "training"
        rows = self._results["rows"].get(key) if self._results is not None else None
        self._cell_rows = (actual, pred, None if rows is None or len(rows) != len(actual) else np.asarray(rows))
        self._cell_turn: dict[tuple[int, int], int] = {}
        names = [str(c) for c in classes] if classes is not None and len(classes) == k else [str(i) for i in range(k)]
        self._class_names = names
        top = max(1, int(cm.max()))
        cmap = sequential_colormap()
        self.confusion_item.setImage(cm.astype(np.float32), autoLevels=False, levels=(0, top),
                                     lut=cmap.getLookupTable(nPts=256))
        ticks = [(i + 0.5, n) for i, n in enumerate(names)]
        self.confusion_plot.getAxis("bottom").setTicks([ticks, []])
        self.confusion_plot.getAxis("left").setTicks([ticks, []])
        self.confusion_plot.setRange(xRange=(0, k), yRange=(0, k), padding=0)
        lines = np.arange(k + 1, dtype=np.float64)
        gx = np.concatenate([np.repeat(lines, 2), np.tile([0.0, k], k + 1)])
        gy = np.concatenate([np.tile([0.0, k], k + 1), np.repeat(lines, 2)])
        self.confusion_grid.setData(gx, gy)
        while len(self._cells) < k * k:
            t = pg.TextItem("", anchor=(0.5, 0.5))
            font = t.textItem.font()
            font.setPointSizeF(11)
            font.setBold(True)
            t.setFont(font)
            self.confusion_plot.addItem(t)
            self._cells.append(t)
        while len(self._cells) > k * k:
            self.confusion_plot.removeItem(self._cells.pop())
        for i in range(k):
            for j in range(k):
                t = self._cells[i * k + j]
                dark = cm[i, j] > 0.55 * top
                t.setColor("#FFFFFF" if dark else TEXT)
                t.setText(str(int(cm[i, j])))
                t.setPos(j + 0.5, i + 0.5)
        acc = float(np.trace(cm)) / max(1, int(cm.sum()))
        set_title(self.confusion_plot, f"{label}: {acc:.1%} correct of {int(cm.sum())}")
        self.results_stack.setCurrentWidget(self.confusion_widget)

    def _show_scatter(self, P: np.ndarray, Y: np.ndarray, label: str = "All rows") -> None:
        r2 = regression_metrics(P, Y)["r2"]
        a, p = Y.reshape(-1), P.reshape(-1)
        if a.size > 4000:  # keep it quick: every k-th point
            step = math.ceil(a.size / 4000)
            a, p = a[::step], p[::step]
        self.scatter_item.setData(a, p)
        lo = float(min(a.min(), p.min()))
        hi = float(max(a.max(), p.max()))
        if hi <= lo:
            hi = lo + 1.0
        self.identity_line.setData([lo, hi], [lo, hi])
        self.scatter_plot.setRange(xRange=(lo, hi), yRange=(lo, hi), padding=0.05)
        set_title(self.scatter_plot, f"{label}: R² = {r2:.3f} over {len(Y)}")
        self.results_stack.setCurrentWidget(self.scatter_widget)


__all__ = ["TrainingPlots", "diverging_colormap", "nice_ceil", "style_plot"]
