"""What a 2-input network does over its input plane.

* :class:`SurfaceEvaluator` evaluates its own copy of a network on a grid;
* :class:`DecisionSurface` shows the decision surface (classification) or the
  output surface (regression) under the training and validation points, and
  re-evaluates it as weights change during training;
* :func:`node_thumbnail` draws one node's output over the plane as a small image
  (for hover thumbnails on the canvas).

Images are row-major: ``image[r, c]`` is the value at ``(x_c, y_r)``, the grid's
``y`` growing with ``r`` (drawn upwards), the cells' centres at
``lo + (i + 0.5) * (hi - lo) / n``.
"""

from __future__ import annotations

import html
from typing import Mapping, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QTransform
from PySide6.QtWidgets import QLabel, QStackedWidget, QVBoxLayout, QWidget

from ...engine import split_rows
from ...errors import AnnError
from ...graph.events import Connections
from .. import style
from ..throttle import SURFACE_INTERVAL, Throttle, ms
from .plots import MUTED, TEXT, split_key, style_plot

NOT_2D_TEXT = "The decision surface needs a network with 2 inputs"
CLASS_COLORS = style.CLASS_COLORS
GRID = 64
CONF_LEVELS = 32
UPSAMPLE = 4  # the image drawn is GRID*UPSAMPLE pixels across, linearly interpolated

Bounds = tuple[float, float, float, float]  # (x_min, x_max, y_min, y_max)


def _rgb(c: str) -> np.ndarray:
    q = QColor(c)
    return np.array([q.red(), q.green(), q.blue()], dtype=np.float64)


def _ramp(t: np.ndarray, lo: np.ndarray, hi: np.ndarray, pale: float = 0.0) -> np.ndarray:
    """RGB for ``t`` in [0, 1]: ``lo`` at 0, white at 0.5, ``hi`` at 1 (a diverging map).
    ``pale`` mixes the result with white (0: full colour)."""
    t = np.clip(np.nan_to_num(t, nan=0.5), 0.0, 1.0)[..., None]
    white = np.array([255.0, 255.0, 255.0])
    a = np.abs(t - 0.5) * 2 * (1 - pale)  # 0 at the boundary, 1 at certainty
    col = np.where(t >= 0.5, hi, lo)
    return white + (col - white) * a


def _lut(lo: str, hi: str, pale: float = 0.0, n: int = 256) -> np.ndarray:
    """(n, 3) uint8: :func:`_ramp` sampled at n points of [0, 1]."""
    return np.rint(_ramp(np.linspace(0, 1, n), _rgb(lo), _rgb(hi), pale)).astype(np.uint8)


def _interp_matrix(n: int, m: int) -> np.ndarray:
    """(m, n) weights that linearly resample n cell-centre samples to m cell centres."""
    pos = np.clip((np.arange(m) + 0.5) * n / m - 0.5, 0, n - 1)
    i0 = np.minimum(np.floor(pos).astype(int), n - 2) if n > 1 else np.zeros(m, int)
    f = pos - i0
    A = np.zeros((m, n))
    A[np.arange(m), i0] = 1 - f
    if n > 1:
        A[np.arange(m), i0 + 1] += f
    return A


def _to_qimage(rgb: np.ndarray) -> QImage:
    """(h, w, 3) floats 0..255, row 0 at the bottom -> a QImage (row 0 at the top)."""
    h, w = rgb.shape[:2]
    arr = np.empty((h, w, 4), dtype=np.uint8)
    arr[..., :3] = np.clip(np.rint(rgb[::-1]), 0, 255)
    arr[..., 3] = 255
    img = QImage(arr.data, w, h, 4 * w, QImage.Format.Format_RGBA8888)
    return img.copy()  # own the pixels


def data_bounds(*arrays: np.ndarray | None, margin: float = 0.1) -> Bounds:
    """The range of the first two columns of the arrays plus ``margin`` on each side."""
    pts = [np.asarray(a, dtype=np.float64)[:, :2] for a in arrays if a is not None and len(a)]
    if not pts:
        return (-1.0, 1.0, -1.0, 1.0)
    P = np.concatenate(pts)
    P = P[np.isfinite(P).all(1)]
    if not len(P):
        return (-1.0, 1.0, -1.0, 1.0)
    lo, hi = P.min(0), P.max(0)
    span = np.where(hi - lo > 1e-9, hi - lo, 1.0)
    lo, hi = lo - margin * span, hi + margin * span
    return (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]))


class SurfaceEvaluator:
    """Evaluates a copy of ``network`` (taken now) on points of the input plane."""

    def __init__(self, network):
        self.network = None
        self.reason = ""
        try:
            net = network.snapshot()
            prog = net.program
        except AnnError as e:
            self.reason = str(e)
            return
        if not prog.inputs or len(prog.outputs) != 1:
            self.reason = "the network needs an Input and one Output"
        elif prog.input_size != 2 or any(len(shape) != 1 for _, _, shape in prog.inputs):
            self.reason = NOT_2D_TEXT
        else:
            self.network = net
        self.output_id = prog.outputs[0].node_id if prog.outputs else None

    @property
    def is_2d(self) -> bool:
        return self.network is not None

    def set_weights(self, weights: Mapping[str, np.ndarray]) -> None:
        """Take these weights (names the copy does not have, or of another shape, are skipped)."""
        if self.network is None or not weights:
            return
        prog = self.network.program
        known = set(prog.weight_names())
        fit = {k: v for k, v in weights.items() if k in known and np.shape(v) == prog.weight_shape(k)}
        self.network.set_weights(fit, strict=False)

    @staticmethod
    def grid(bounds: Bounds, n: int = GRID) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Cell centres of an n×n grid over ``bounds``: ``xx`` and ``yy`` (n, n) with x
        along columns and y along rows, and ``points`` (n*n, 2) float32 in row order."""
        x0, x1, y0, y1 = bounds
        xs = x0 + (np.arange(n) + 0.5) * (x1 - x0) / n
        ys = y0 + (np.arange(n) + 0.5) * (y1 - y0) / n
        xx, yy = np.meshgrid(xs, ys)
        points = np.column_stack([xx.ravel(), yy.ravel()]).astype(np.float32)
        return xx, yy, points

    def outputs(self, points: np.ndarray) -> dict[str, np.ndarray]:
        """Every node's output on ``points`` (n, 2)."""
        if self.network is None:
            raise AnnError(self.reason or NOT_2D_TEXT)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            return self.network.forward_all(points, standardized=True)

    def output(self, points: np.ndarray) -> np.ndarray:
        """The network's output on ``points``, (n, units)."""
        out = self.outputs(points)[self.output_id]
        return out.reshape(len(points), -1)


def node_thumbnail(evaluator: SurfaceEvaluator, node_id: str, bounds: Bounds, size: int = 64) -> QImage:
    """``node_id``'s output (its first unit) over the plane, ``size``×``size`` pixels:
    blue for positive values, orange-red for negative ones, white for zero, scaled
    by the largest magnitude on the plane."""
    _, _, pts = evaluator.grid(bounds, size)
    out = evaluator.outputs(pts).get(node_id)
    if out is None:
        raise AnnError(f"there is no node '{node_id}' in this network")
    v = np.asarray(out, dtype=np.float64).reshape(len(pts), -1)[:, 0].reshape(size, size)
    return signed_images(v[None])[0]


def signed_images(values: np.ndarray) -> list[QImage]:
    """One image per ``values[i]`` (an (h, w) grid of one unit's output): blue for
    positive values, orange-red for negative ones, white for zero (and for non-finite
    values), all scaled together by the largest finite magnitude."""
    v = np.asarray(values, dtype=np.float64)
    fin = np.isfinite(v)
    m = float(np.abs(v[fin]).max()) if fin.any() else 0.0
    t = np.where(fin, 0.5 + 0.5 * v / m, 0.5) if m > 0 else np.full(v.shape, 0.5)
    rgb = _ramp(t, _rgb(style.NEGATIVE_WEIGHT.name()), _rgb(style.POSITIVE_WEIGHT.name()))
    return [_to_qimage(rgb[i]) for i in range(len(v))]


class DecisionSurface(QWidget):
    """The network's decision (or output) surface with the data points on top."""

    #: a data point was clicked: its row in the data set (before the split), for explain mode
    sampleClicked = Signal(int)

    def __init__(self, parent: QWidget | None = None, grid: int = GRID):
        super().__init__(parent)
        self.setObjectName("decisionSurface")
        self.n = grid
        self._A = _interp_matrix(grid, grid * UPSAMPLE)
        self._surface_lut = _lut(CLASS_COLORS[0], CLASS_COLORS[1], pale=0.45)
        self.evaluator: SurfaceEvaluator | None = None
        self._task = "classification"
        self._class_names: list[str] | None = None
        self._X = self._Y = self._Xv = self._Yv = None
        self._bounds: Bounds = (-1.0, 1.0, -1.0, 1.0)
        self._points: np.ndarray | None = None
        self._values: np.ndarray | None = None  # (n, n) or (n, n, k)
        self._range: tuple[float, float] = (0.0, 1.0)  # output values mapped to the two ends of the colours
        self._pending: Mapping[str, np.ndarray] | None = None
        self._throttle = Throttle(SURFACE_INTERVAL)  # re-evaluations while a run trains
        self._training = None  # the TrainingController whose snapshots are drawn
        self._training_links = Connections()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._flush)
        self._document = None
        self._doc_links = Connections()
        self._doc_revision = -1
        self._doc_split: tuple | None = None  # the split_key the points were split by

        self.stack = QStackedWidget(self)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.stack)
        self.plot_widget = pg.PlotWidget(background="w")
        self.plot_widget.setMinimumSize(120, 90)
        p = self.plot = self.plot_widget.getPlotItem()
        style_plot(p, bottom="x₁", left="x₂", grid=False)
        p.setMenuEnabled(False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setZValue(-10)
        p.addItem(self.image)
        self.boundary = pg.IsocurveItem(level=0.5, pen=pg.mkPen(38, 50, 56, 150, width=1.2), axisOrder="row-major")
        self.boundary.setZValue(-5)
        p.addItem(self.boundary)
        self.train_points = pg.ScatterPlotItem(size=7, antialias=True, name="training")
        self.val_points = pg.ScatterPlotItem(size=7, antialias=True, name="validation")
        p.addItem(self.train_points)
        p.addItem(self.val_points)
        #: each drawn point's row in the document's data set (None: points set by hand)
        self._rows: tuple[np.ndarray, np.ndarray] | None = None
        self.train_points.sigClicked.connect(self._points_clicked)
        self.val_points.sigClicked.connect(self._points_clicked)
        self.message = QLabel(NOT_2D_TEXT)
        self.message.setObjectName("decisionSurfaceMessage")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.message.setStyleSheet(f"color: {MUTED}; background: white; padding: 12px;")
        self.message.setAutoFillBackground(True)
        self.caption = QLabel()
        self.caption.setObjectName("decisionSurfaceCaption")
        self.caption.setTextFormat(Qt.TextFormat.RichText)
        self.caption.setStyleSheet(f"color: {TEXT}; background: white; padding: 3px 8px;")
        self.caption.setAutoFillBackground(True)
        page = QWidget()
        page_lay = QVBoxLayout(page)
        page_lay.setContentsMargins(0, 0, 0, 0)
        page_lay.setSpacing(0)
        page_lay.addWidget(self.caption)
        page_lay.addWidget(self.plot_widget, 1)
        self.plot_page = page
        self.stack.addWidget(page)
        self.stack.addWidget(self.message)
        self._show_message(NOT_2D_TEXT)

    # ------------------------------------------------------------ public
    def set_document(self, doc) -> None:
        """Follow ``doc``: its network (again after each structural edit), its data
        set's points split into training and validation rows exactly as the trainer
        splits them, and its weights whenever they are replaced (a run's result,
        Reset, an undo). While a run trains, its snapshots go through
        :meth:`update_weights`."""
        self._doc_links.disconnect_all()
        self._document = doc
        if doc is None:
            self.set_network(None)
            self.set_data(None, None)
            return
        links = self._doc_links
        links.connect(doc.dataChanged, self._doc_data)
        links.connect(doc.trainingChanged, self._doc_training)
        links.connect(doc.weightsChanged, self._doc_weights)
        links.connect(doc.undo_stack.indexChanged, self._doc_edited)  # once per command, not per node
        self._doc_revision = doc.graph.revision
        self.set_network(doc.network)
        self._doc_data()

    def set_training(self, controller) -> None:
        """Follow the snapshots of ``controller`` (a TrainingController; None: none):
        their weights are drawn at this view's own rate (:meth:`update_weights`)."""
        self._training_links.disconnect_all()
        self._training = controller
        if controller is not None:
            self._training_links.connect(controller.snapshotReady, self._show_snapshot)

    def _show_snapshot(self, snap) -> None:
        self.update_weights(snap.weights)

    def _doc_training(self) -> None:
        if split_key(self._document.network) != self._doc_split:  # the validation split or its shuffling
            self._doc_data()

    def _doc_data(self, *_) -> None:
        doc = self._document
        self._doc_split = split_key(doc.network)
        try:
            data = doc.dataset()
        except AnnError:
            data = None
        if data is None:
            self.set_data(None, None)
            return
        net = doc.network
        tr, va = split_rows(len(data), net.training, net.seed)
        self.set_data(data.X[tr], data.Y[tr], data.X[va], data.Y[va], data.task,
                      input_names=data.input_names, classes=data.classes, rows=(tr, va))

    def _doc_edited(self, *_) -> None:
        doc = self._document
        if doc.graph.revision != self._doc_revision and not doc.locked:
            self._doc_revision = doc.graph.revision
            self.set_network(doc.network)

    def _doc_weights(self) -> None:
        doc = self._document
        if doc.locked or not doc.network.compiles:
            return
        if doc.graph.revision != self._doc_revision:
            self._doc_edited()
        self.update_weights(doc.network.get_weights())

    def set_network(self, network) -> None:
        """Evaluate a copy of ``network`` (None: nothing to show). Call again after
        structural edits; weights alone go through :meth:`update_weights`."""
        self._timer.stop()
        self._pending = None
        self.evaluator = SurfaceEvaluator(network) if network is not None else None
        self._refresh()

    def set_data(self, X_train, Y_train, X_val=None, Y_val=None, task: str = "classification", *,
                 input_names: Sequence[str] | None = None, classes: Sequence[str] | None = None,
                 rows: tuple | None = None) -> None:
        """The points to draw (and whose range, plus 10 %, the surface covers); ``rows``:
        the data-set rows of the training and validation points (clicks report them)."""
        self._rows = None if rows is None else (np.asarray(rows[0]), np.asarray(rows[1]))
        self._X = None if X_train is None else np.asarray(X_train, dtype=np.float64)
        self._Y = None if Y_train is None else np.asarray(Y_train, dtype=np.float64).reshape(len(self._X), -1)
        self._Xv = None if X_val is None or len(X_val) == 0 else np.asarray(X_val, dtype=np.float64)
        self._Yv = None if self._Xv is None else np.asarray(Y_val, dtype=np.float64).reshape(len(self._Xv), -1)
        self._task = task
        self._class_names = [str(c) for c in classes] if classes else None
        names = list(input_names or [])
        self.plot.setLabel("bottom", names[0] if len(names) >= 2 else "x₁", color=MUTED)
        self.plot.setLabel("left", names[1] if len(names) >= 2 else "x₂", color=MUTED)
        self._refresh()

    def update_weights(self, weights: Mapping[str, np.ndarray]) -> None:
        """Re-evaluate with these weights (at most every
        :data:`~anndesigner.ui.throttle.SURFACE_INTERVAL` seconds; the latest weights
        are drawn when the interval is over)."""
        if self.evaluator is None or not self.evaluator.is_2d:
            return
        self._pending = weights
        wait = self._throttle.wait()
        if wait <= 0:
            self._flush()
        elif not self._timer.isActive():
            self._timer.start(ms(wait))

    def surface_image(self) -> np.ndarray | None:
        """The evaluated values, rows = y (upwards), columns = x: (n, n) for one output
        column (probability of class 1, or the regression output), (n, n, k) for k
        columns."""
        if self._pending is not None:
            self._flush()
        return None if self._values is None else self._values.copy()

    def surface_rgb(self) -> np.ndarray | None:
        """The colours drawn, (n, n, 3) uint8 in the same orientation."""
        img = self.image.image
        return None if img is None else np.array(img[..., :3])

    def bounds(self) -> Bounds:
        return self._bounds

    def message_text(self) -> str | None:
        """The explanation shown instead of the plot, or None when the plot shows."""
        return self.message.text() if self.stack.currentWidget() is self.message else None

    def point_count(self) -> tuple[int, int]:
        """(training, validation) points drawn."""
        return len(self.train_points.data), len(self.val_points.data)

    # ----------------------------------------------------------- drawing
    def _show_message(self, text: str) -> None:
        self.message.setText(text)
        self.stack.setCurrentWidget(self.message)

    def _refresh(self) -> None:
        ev = self.evaluator
        if ev is None:
            self._values = None
            self._show_message("Open or build a network with 2 inputs to see its decision surface")
            return
        if not ev.is_2d:
            self._values = None
            self._show_message(NOT_2D_TEXT if ev.reason == NOT_2D_TEXT else f"No decision surface: {ev.reason}")
            return
        if self._X is not None and self._X.shape[1] != 2:
            self._values = None
            self._show_message(f"The decision surface needs data with 2 inputs; this data set has {self._X.shape[1]}")
            return
        self.stack.setCurrentWidget(self.plot_page)
        self._bounds = data_bounds(self._X, self._Xv)
        _, _, self._points = ev.grid(self._bounds, self.n)
        self._range = self._value_range()
        self._draw_points()
        x0, x1, y0, y1 = self._bounds
        self.plot.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
        self._evaluate()

    def _flush(self) -> None:
        self._timer.stop()
        w, self._pending = self._pending, None
        if w is not None and self.evaluator is not None and self.evaluator.is_2d:
            self.evaluator.set_weights(w)
            if self._points is not None:
                self._evaluate()

    def _value_range(self) -> tuple[float, float]:
        """Output values drawn at the two ends of the colour scale."""
        Y = self._Y if self._Y is not None else None
        if self._task == "classification":
            return (-1.0, 1.0) if Y is not None and (Y < 0).any() else (0.0, 1.0)
        if Y is None or not len(Y):
            return (0.0, 1.0)
        ys = Y[:, 0] if self._Yv is None else np.concatenate([Y[:, 0], self._Yv[:, 0]])
        lo, hi = float(np.nanmin(ys)), float(np.nanmax(ys))
        return (lo, hi) if hi > lo else (lo - 1.0, lo + 1.0)

    def _evaluate(self) -> None:
        self._throttle.mark()
        try:
            out = self.evaluator.output(self._points).astype(np.float64)
        except AnnError as e:
            self._values = None
            self._show_message(f"No decision surface: {e}")
            return
        n = self.n
        if self._task != "classification":
            out = out[:, :1]  # several regression outputs: the first
        k = out.shape[1]
        lo, hi = self._range
        A = self._A
        if k == 1:
            v = out[:, 0].reshape(n, n)
            self._values = v
            fine = A @ np.nan_to_num(v, nan=(lo + hi) / 2) @ A.T
            idx = np.clip((fine - lo) * (255.0 / (hi - lo)) + 0.5, 0, 255).astype(np.intp)
            img = self._surface_lut[idx]
            level = (lo + hi) / 2
            if self._task == "classification" and np.nanmin(v) < level < np.nanmax(v):
                self.boundary.setLevel(level)
                self.boundary.setData(v)
                self._place(self.boundary, n, offset=0.5)
                self.boundary.setVisible(True)
            else:
                self.boundary.setVisible(False)
        else:
            P = out.reshape(n, n, k)
            self._values = P
            fine = np.einsum("ai,ijk,bj->abk", A, np.nan_to_num(P), A, optimize=True)
            # the likeliest class's colour, paler where the network is less sure
            # (confidence 0 where all classes are equally likely, 1 where one is certain)
            cols = np.array([_rgb(CLASS_COLORS[i % len(CLASS_COLORS)]) for i in range(k)])
            levels = np.linspace(0, 1, CONF_LEVELS)
            lut = np.rint(255.0 + (cols[:, None, :] - 255.0) * (0.1 + 0.45 * levels)[None, :, None])
            lut = lut.astype(np.uint8).reshape(k * CONF_LEVELS, 3)
            best = fine.argmax(-1)
            conf = (fine.max(-1) - 1.0 / k) * ((CONF_LEVELS - 1) / (1 - 1.0 / k)) + 0.5
            img = lut[best * CONF_LEVELS + np.clip(conf, 0, CONF_LEVELS - 1).astype(np.intp)]
            self.boundary.setVisible(False)
        self.image.setImage(img, autoLevels=False, levels=(0, 255))
        self._place(self.image, img.shape[0])

    def _place(self, item, cells: int, offset: float = 0.0) -> None:
        """Map the indices of a cells×cells grid to plane coordinates (``offset`` 0.5:
        index i is a cell centre)."""
        x0, x1, y0, y1 = self._bounds
        sx, sy = (x1 - x0) / cells, (y1 - y0) / cells
        tr = QTransform()
        tr.translate(x0 + offset * sx, y0 + offset * sy)
        tr.scale(sx, sy)
        item.setTransform(tr)

    def _classes(self, Y: np.ndarray) -> np.ndarray:
        if Y.shape[1] == 1:
            t = 0.0 if (self._Y is not None and (self._Y < 0).any()) else 0.5
            return (Y[:, 0] >= t).astype(np.int64)
        return Y.argmax(1)

    def _brushes(self, Y: np.ndarray) -> list:
        if self._task == "classification":
            cls = self._classes(Y)
            table = [pg.mkBrush(c) for c in CLASS_COLORS]
            return [table[c % len(table)] for c in cls]
        lo, hi = self._range
        rgb = _ramp((Y[:, 0] - lo) / (hi - lo), _rgb(CLASS_COLORS[0]), _rgb(CLASS_COLORS[1]))
        return [pg.mkBrush(int(r), int(g), int(b)) for r, g, b in rgb]

    def _draw_points(self) -> None:
        if self._X is None or self._Y is None or not len(self._X):
            self.train_points.setData([], [])
        else:
            self.train_points.setData(self._X[:, 0], self._X[:, 1], brush=self._brushes(self._Y),
                                      pen=pg.mkPen("w", width=1.0), symbol="o", size=7,
                                      data=self._point_rows(0, len(self._X)))
        if self._Xv is None:
            self.val_points.setData([], [])
        else:
            pens = [pg.mkPen(b.color(), width=1.8) for b in self._brushes(self._Yv)]
            self.val_points.setData(self._Xv[:, 0], self._Xv[:, 1], brush=pg.mkBrush(255, 255, 255, 220),
                                    pen=pens, symbol="o", size=7, data=self._point_rows(1, len(self._Xv)))
        self._update_caption()

    def _point_rows(self, part: int, n: int):
        rows = self._rows[part] if self._rows is not None else None
        return [int(r) for r in rows] if rows is not None and len(rows) == n else [-1] * n

    def _points_clicked(self, _item, points, *_ev) -> None:
        for pt in points:
            row = pt.data()
            if row is not None and int(row) >= 0:
                self.sampleClicked.emit(int(row))
                return

    def _update_caption(self) -> None:
        dot = '<span style="color:{}; font-size:11pt">●</span>&nbsp;{}'
        parts = []
        if self._task == "classification":
            k = 0
            if self._Y is not None and len(self._Y):
                k = 2 if self._Y.shape[1] == 1 else self._Y.shape[1]
            names = self._class_names if self._class_names and len(self._class_names) == k else \
                [f"class {i}" for i in range(k)]
            shown = names[:8]
            parts += [dot.format(CLASS_COLORS[i % len(CLASS_COLORS)], html.escape(n)) for i, n in enumerate(shown)]
            if len(names) > len(shown):
                parts.append(f"… {len(names) - len(shown)} more")
        elif self._Y is not None and len(self._Y):
            lo, hi = self._range
            parts.append(f'{dot.format(CLASS_COLORS[0], f"{lo:.3g}")} … {dot.format(CLASS_COLORS[1], f"{hi:.3g}")}')
        if self._Xv is not None:
            parts.append(f'<span style="color:{MUTED}; font-size:11pt">○</span>&nbsp;validation')
        self.caption.setText("&nbsp;&nbsp;&nbsp;".join(parts))
        self.caption.setVisible(bool(parts))


__all__ = ["CLASS_COLORS", "DecisionSurface", "NOT_2D_TEXT", "SurfaceEvaluator", "data_bounds", "node_thumbnail"]
