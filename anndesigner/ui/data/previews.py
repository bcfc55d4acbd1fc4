"""The data panel's preview of a data set: a summary line, then what a sample is
drawn as -- a scatter plot for one or two plain inputs, a grid of small pictures
for images, lines over the time steps for sequences, and a table otherwise (token
sequences, many CSV columns) -- with a key and a note under it.

:class:`DataPreview` only draws: the panel decides what to show
(:meth:`DataPreview.show_dataset`, :meth:`DataPreview.show_load_error`).
"""

from __future__ import annotations

import html
import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPen, QWheelEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...data import BUILTIN_DATASETS, Dataset
from ..formkit import error_label, muted, section
from ..style import CLASS_COLORS, MUTED_TEXT, TEXT_COLOR, VALUE_COLORS, role_colors
from .csvdialog import dataset_summary

#: at most this many points are drawn in the preview (the rows are in random order)
PREVIEW_POINTS = 2000
TABLE_ROWS = 8
#: image previews: this many samples, in rows of IMAGE_COLUMNS tiles
PREVIEW_IMAGES = 24
IMAGE_COLUMNS = 6
#: sequence previews: this many samples, one line each
PREVIEW_SEQUENCES = 8
#: the image tiles' colours: the lowest value (paper) and the highest (ink)
IMAGE_PAPER = QColor("#F4F6F7")
IMAGE_INK = QColor("#1C262B")
TOKEN_WARNING = "Standardizing turns token ids into fractions; an Embedding needs whole numbers."


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _fmt(v: float) -> str:
    """A table cell: 4 significant digits, large numbers in full with separators."""
    v = float(v)
    if math.isfinite(v) and 1e4 <= abs(v) < 1e10:
        return f"{v:,.0f}"
    return f"{v:.4g}"


def _input_kind(ds: Dataset) -> str:
    """``"features"``, ``"image"``, ``"sequence"`` or ``"tokens"``: the built-in set's
    kind, or for other data what its sample shape suggests (3 axes: an image, 2: a sequence)."""
    src = ds.source if isinstance(ds.source, dict) else {}
    if src.get("kind") == "builtin" and src.get("name") in BUILTIN_DATASETS:
        kind = BUILTIN_DATASETS[src["name"]].input_kind
        if kind != "features" and ds.input_shape is None:
            return "features"  # cannot happen for the shipped sets; do not guess a shape
        return kind
    shape = ds.input_shape
    if shape is not None and len(shape) == 3:
        return "image"
    if shape is not None and len(shape) == 2:
        return "sequence"
    return "features"


def _step_ticks(steps: int) -> list[int]:
    """Time steps to label on an axis of ``steps`` steps: at most about ten, round ones."""
    for step in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000):
        if steps / step <= 10:
            break
    ticks = list(range(step, steps + 1, step))
    return ([1] if step > 2 or not ticks else []) + ticks


class _PlotWidget(pg.PlotWidget):
    """A preview plot: the wheel scrolls the panel, it never zooms the plot."""

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 (Qt override)
        event.ignore()


class DataPreview(QWidget):
    """``DataPreview(parent=None)``: the "Preview" section of the data panel (the load
    error, the summary, the plot or table, its key and a note)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("data_preview")
        self._shown: Dataset | None = None  # the data set drawn (kept when loading another fails)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(6)
        lay.addWidget(section("Preview"))
        self.error_label = error_label("data_error")
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.error_label)
        self.summary_label = QLabel()
        self.summary_label.setObjectName("data_summary")
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        f = self.summary_label.font()
        f.setBold(True)
        self.summary_label.setFont(f)
        self.summary_label.setStyleSheet(f"color: {TEXT_COLOR.name()};")
        lay.addWidget(self.summary_label)
        self.preview_warning = muted()
        self.preview_warning.setObjectName("data_preview_warning")
        self.preview_warning.setStyleSheet("color: #8D6E63; background: #FFF8E1; border-radius: 3px; padding: 4px;")
        self.preview_warning.hide()
        lay.addWidget(self.preview_warning)

        self.plot = _PlotWidget(background="w")
        self.plot.setObjectName("data_plot")
        self.plot.setMinimumHeight(200)
        self.plot.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.plot.setFixedHeight(250)
        self.plot.setStyleSheet("QGraphicsView#data_plot { border: 1px solid #CFD8DC; border-radius: 3px; }")
        pi = self.plot.getPlotItem()
        pi.setMouseEnabled(False, False)
        pi.setMenuEnabled(False)
        pi.hideButtons()
        pi.showGrid(x=True, y=True, alpha=0.18)
        pi.getViewBox().setDefaultPadding(0.04)
        small = QFont(self.font())
        small.setPointSizeF(max(small.pointSizeF() * 0.8, 6.5))
        for name in ("left", "bottom"):
            ax = pi.getAxis(name)
            ax.setPen(pg.mkPen("#B0BEC5"))
            ax.setTextPen(pg.mkPen(MUTED_TEXT.name()))
            ax.setStyle(tickFont=small, tickLength=-4)
            ax.label.setFont(small)
        self.scatter = pg.ScatterPlotItem(size=6, pxMode=True)
        pi.addItem(self.scatter)
        self._small_font = small
        self.image = pg.ImageItem(axisOrder="row-major")  # the image tiles, composed into one picture
        self.image.setObjectName("data_images")
        self.image.hide()
        pi.addItem(self.image)
        self._extra_items: list = []  # the sequence lines and text labels of the current preview
        self._preview_mode = "none"
        self.plot.hide()
        lay.addWidget(self.plot)
        self.key_label = muted()
        self.key_label.setObjectName("data_key")
        self.key_label.setTextFormat(Qt.TextFormat.RichText)
        self.key_label.hide()
        lay.addWidget(self.key_label)

        self.table = QTableWidget(0, 0)
        self.table.setObjectName("data_table")
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        tf = self.table.font()
        tf.setPointSizeF(max(tf.pointSizeF() * 0.92, 7.0))
        self.table.setFont(tf)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 6)
        hh = self.table.horizontalHeader()
        hh.setHighlightSections(False)
        hh.setMinimumSectionSize(36)
        hh.setDefaultAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.table.hide()
        lay.addWidget(self.table)
        self.preview_note = muted()
        self.preview_note.setObjectName("data_preview_note")
        lay.addWidget(self.preview_note)

    # --------------------------------------------------------- public API
    @property
    def shown(self) -> Dataset | None:
        """The data set drawn now (None: none)."""
        return self._shown

    def summary_text(self) -> str:
        return self.summary_label.text()

    def error_text(self) -> str:
        """The load error shown now ('' when none)."""
        return self.error_label.text() if not self.error_label.isHidden() else ""

    def scatter_item(self) -> pg.ScatterPlotItem:
        """The scatter plot item (its data is the points drawn)."""
        return self.scatter

    def image_item(self) -> pg.ImageItem:
        """The image item: the image tiles composed into one RGBA picture (row-major, row 0
        at the top); hidden unless the data are images."""
        return self.image

    def mode(self) -> str:
        """What is drawn: ``"none"``, ``"scatter"``, ``"images"``, ``"sequences"`` or ``"table"``."""
        return self._preview_mode

    def items(self) -> list:
        """The extra plot items of an image or sequence preview (lines and text labels)."""
        return list(self._extra_items)

    def show_dataset(self, ds: Dataset | None) -> None:
        """Draw ``ds`` (None: "No data set chosen"); clears the load error."""
        self._show_error("")
        self._show_preview(ds)

    def forget(self) -> None:
        """Forget the data set drawn (another document's): a load error no longer offers it
        as the previous data."""
        self._shown = None

    def show_load_error(self, message: str) -> None:
        """Say that the data cannot be loaded; the previous data set stays drawn."""
        self._show_error(message + ("\nThe preview shows the previous data." if self._shown else ""))
        if self._shown is None:  # a source is chosen: it is not "no data set"
            self.summary_label.setText("No data loaded")

    # ------------------------------------------------------------ drawing
    def _show_error(self, message: str) -> None:
        if message:
            self.error_label.setText(f"⚠ {message}")
            self.error_label.show()
        else:
            self.error_label.clear()
            self.error_label.hide()

    def _show_preview(self, ds: Dataset | None) -> None:
        self._shown = ds
        self._clear_plot()
        self.preview_warning.hide()
        if ds is None:
            self._preview_mode = "none"
            self.summary_label.setText("No data set chosen")
            self.summary_label.setStyleSheet(f"color: {MUTED_TEXT.name()};")
            self.plot.hide()
            self.key_label.hide()
            self.table.hide()
            self.preview_note.setText("")
            return
        self.summary_label.setStyleSheet(f"color: {TEXT_COLOR.name()};")
        self.summary_label.setText(dataset_summary(ds))
        kind = _input_kind(ds)
        plottable = ds.n_inputs == 2 or (ds.n_inputs == 1 and ds.n_outputs == 1)
        notes = []
        if kind == "image":
            mode = "images"
            notes.append(self._plot_images(ds))
        elif kind == "sequence":
            mode = "sequences"
            notes.append(self._plot_sequences(ds))
        elif kind == "features" and plottable:
            mode = "scatter"
            self._plot(ds)
            m = min(len(ds), PREVIEW_POINTS)
            if m < len(ds):
                notes.append(f"Showing {m:,} of {len(ds):,} samples.")
        else:
            mode = "table"
            tokens = kind == "tokens"
            self._fill_table(ds, tokens=tokens)
            m = min(len(ds), TABLE_ROWS)
            if tokens:
                notes.append(f"First {m:,} of {len(ds):,} token sequences ({_plural(ds.n_inputs, 'step')}).")
            else:
                notes.append(f"First {m:,} of {len(ds):,} rows.")
        self._preview_mode = mode
        self.table.setVisible(mode == "table")
        self.plot.setVisible(mode != "table")
        if mode == "table":
            self.key_label.hide()
        if isinstance(ds.source, dict) and ds.source.get("reconstruct") is True:
            notes.append("The targets are the inputs: the network learns to reproduce them.")
        if ds.scaler is not None:
            notes.append("Inputs are standardized (mean 0, standard deviation 1).")
            if kind == "tokens":
                self.preview_warning.setText(f"⚠ {TOKEN_WARNING}")
                self.preview_warning.show()
        self.preview_note.setText(" ".join(notes))

    def _clear_plot(self) -> None:
        """Empty the plot and put back the scatter plot's look (axes, grid, upright y)."""
        pi = self.plot.getPlotItem()
        for item in self._extra_items:
            pi.removeItem(item)
        self._extra_items = []
        self.scatter.clear()
        self.image.clear()
        self.image.hide()
        pi.showAxis("left")
        pi.showAxis("bottom")
        pi.showGrid(x=True, y=True, alpha=0.18)
        pi.getViewBox().invertY(False)
        pi.setAspectLocked(False)
        pi.getAxis("left").setTicks(None)
        pi.getAxis("bottom").setTicks(None)

    def _add(self, item, bounds: bool = True):
        self.plot.getPlotItem().addItem(item, ignoreBounds=not bounds)
        self._extra_items.append(item)
        return item

    def _text(self, text: str, color, anchor: tuple[float, float], bold: bool = False) -> pg.TextItem:
        item = pg.TextItem(text, color=QColor(color), anchor=anchor)
        f = QFont(self._small_font)
        f.setBold(bold)
        item.setFont(f)
        return item

    def _plot_images(self, ds: Dataset) -> str:
        """The first samples as small pictures, lowest value light and highest dark, with the
        class under each (for class targets). Returns the note for under the preview."""
        shape = ds.input_shape
        m = min(len(ds), PREVIEW_IMAGES)
        h, w = int(shape[0]), int(shape[1])
        c = int(math.prod(shape[2:])) if len(shape) > 2 else 1
        pics = ds.X[:m].astype(np.float64).reshape(m, h, w, c)
        rgb = c == 3
        if not rgb:
            pics = pics[..., :1]
        finite = pics[np.isfinite(pics)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        t = np.clip((pics - lo) / (hi - lo), 0.0, 1.0) if hi > lo else np.full(pics.shape, 0.5)
        t = np.nan_to_num(t, nan=0.0)
        classify = ds.task == "classification" and bool(ds.classes)
        idx = self._class_index(ds, m) if classify else None
        cols = max(1, min(m, IMAGE_COLUMNS))
        rows = max(1, math.ceil(m / cols))
        gap = max(1, round(max(h, w) / 7))
        band = max(2, round(h * 0.55)) if classify else 0  # room for the label under each tile
        height = rows * (h + band) + (rows - 1) * gap
        width = cols * w + (cols - 1) * gap
        mosaic = np.zeros((height, width, 4), dtype=np.uint8)  # transparent around the tiles
        paper = np.array(IMAGE_PAPER.getRgb()[:3], dtype=np.float64)
        ink = np.array(IMAGE_INK.getRgb()[:3], dtype=np.float64)
        for i in range(m):
            r, col = divmod(i, cols)
            y0, x0 = r * (h + band + gap), col * (w + gap)
            tile = t[i] * 255.0 if rgb else paper + t[i] * (ink - paper)  # (h, w, 3)
            mosaic[y0:y0 + h, x0:x0 + w, :3] = np.round(tile).astype(np.uint8)
            mosaic[y0:y0 + h, x0:x0 + w, 3] = 255
            if classify:
                label = self._text(ds.classes[int(idx[i])], TEXT_COLOR, (0.5, 0.0))
                label.setPos(x0 + w / 2, y0 + h)
                self._add(label, bounds=False)
        self.image.setImage(mosaic, autoLevels=False, levels=(0, 255))
        self.image.setRect(0, 0, width, height)
        self.image.show()
        pi = self.plot.getPlotItem()
        pi.hideAxis("left")
        pi.hideAxis("bottom")
        pi.showGrid(x=False, y=False)
        pi.getViewBox().invertY(True)  # row 0 at the top: the pictures stand upright
        pi.setAspectLocked(True, ratio=1.0)
        pi.setRange(xRange=(0, width), yRange=(0, height), padding=0.02)
        self.key_label.hide()
        size = f"{h}×{w}" + (f"×{c}" if c > 1 else "")
        note = f"First {m:,} of {len(ds):,} images ({size})"
        if c > 1 and not rgb:
            note += ", channel 1 shown"
        if classify:
            note += " with their classes"
        return note + "."

    def _plot_sequences(self, ds: Dataset) -> str:
        """The first sequences over their time steps (feature 1): for class targets one lane
        each, coloured and labelled by class; otherwise overlaid lines coloured by the target
        value. Returns the note for under the preview."""
        steps = int(ds.input_shape[0])
        features = int(math.prod(ds.input_shape[1:]))
        m = min(len(ds), PREVIEW_SEQUENCES)
        values = ds.X[:m].astype(np.float64).reshape(m, steps, features)[:, :, 0]
        finite = values[np.isfinite(values)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        span = hi - lo if hi > lo else 1.0
        pi = self.plot.getPlotItem()
        t = np.arange(1, steps + 1, dtype=np.float64)
        edges = np.arange(0.5, steps + 1.0, dtype=np.float64)
        classify = ds.task == "classification" and bool(ds.classes)
        if classify:
            idx = self._class_index(ds, m)
            for i in range(m):
                base = m - 1 - i  # the first sample on top
                color = QColor(CLASS_COLORS[int(idx[i]) % len(CLASS_COLORS)])
                fill = QColor(color)
                fill.setAlpha(45)
                y = base + 0.12 + 0.72 * (values[i] - lo) / span
                line = pg.PlotDataItem(edges, y, stepMode="center", pen=pg.mkPen(color, width=2),
                                       fillLevel=base + 0.12, brush=QBrush(fill), antialias=True)
                self._add(line)
                label = self._text(ds.classes[int(idx[i])], color, (0.0, 0.5), bold=True)
                label.setPos(steps + 0.5 + max(0.15, 0.02 * steps), base + 0.5)
                self._add(label, bounds=False)
            pi.showGrid(x=True, y=False, alpha=0.18)
            pi.getAxis("left").setTicks([[(m - 1 - i + 0.5, f"#{i + 1}") for i in range(m)]])
            pi.setLabel("left", "sample")
            pi.setRange(xRange=(0.5, steps + 0.5 + max(1.6, 0.2 * steps)), yRange=(0, m), padding=0.01)
            self._class_key(ds)
        else:
            target = ds.Y[:m, 0].astype(np.float64)
            tlo, thi = float(np.nanmin(target)), float(np.nanmax(target))
            cmap = pg.ColorMap([0.0, 0.5, 1.0], [QColor(VALUE_COLORS[0]), QColor("#78909C"), QColor(VALUE_COLORS[2])])
            shade = (target - tlo) / (thi - tlo) if thi > tlo else np.full(m, 0.5)
            show_target = ds.n_outputs == 1 and ds.scaler is None  # the target on the inputs' scale
            for i in range(m):
                color = cmap.map(float(shade[i]), mode="qcolor")
                self._add(pg.PlotDataItem(t, values[i], pen=pg.mkPen(color, width=1.6), antialias=True))
                if show_target:
                    self._add(pg.ScatterPlotItem([steps + 1.0], [target[i]], size=7, brush=QBrush(color),
                                                 pen=pg.mkPen("w", width=0.8)))
            pi.setLabel("left", "value" if features == 1 else "feature 1")
            pi.enableAutoRange()
            pi.autoRange()
            grad = "".join(f"<span style='color:{cmap.map(s, mode='qcolor').name()}'>█</span>"
                           for s in np.linspace(0, 1, 12))
            dot = f" (● at step {steps + 1})" if show_target else ""
            self.key_label.setText(f"{html.escape(ds.target_names[0])}{dot}: {tlo:.4g} {grad} {thi:.4g}")
            self.key_label.show()
        pi.setLabel("bottom", "time step")
        pi.getAxis("bottom").setTicks([[(float(v), str(v)) for v in _step_ticks(steps)]])
        note = f"First {m:,} of {len(ds):,} sequences ({_plural(steps, 'step')}"
        note += f", feature 1 of {features})." if features > 1 else ")."
        return note

    def _class_key(self, ds: Dataset) -> None:
        keys = []
        for i, label in enumerate(ds.classes[:12]):
            color = CLASS_COLORS[i % len(CLASS_COLORS)]
            keys.append(f"<span style='color:{color}; font-size:large'>●</span>&nbsp;{html.escape(label)}")
        more = f" … {len(ds.classes) - 12} more" if len(ds.classes) > 12 else ""
        self.key_label.setText("&nbsp;&nbsp; ".join(keys) + more)
        self.key_label.show()

    def _class_index(self, ds: Dataset, m: int) -> np.ndarray:
        Y = ds.Y[:m]
        if Y.shape[1] == 1:
            return (Y[:, 0] > 0.5).astype(np.int64)
        return np.argmax(Y, axis=1)

    def _plot(self, ds: Dataset) -> None:
        m = min(len(ds), PREVIEW_POINTS)
        pi = self.plot.getPlotItem()
        if ds.n_inputs == 2:
            x, y = ds.X[:m, 0], ds.X[:m, 1]
            xlabel, ylabel = ds.input_names[0], ds.input_names[1]
        else:  # one input, one output: the target over the input
            x, y = ds.X[:m, 0], ds.Y[:m, 0]
            xlabel, ylabel = ds.input_names[0], ds.target_names[0]
        pen = QPen(QColor(255, 255, 255, 200))
        pen.setWidthF(0.8)
        pen.setCosmetic(True)
        if ds.task == "classification" and ds.classes and ds.n_inputs == 2:
            idx = self._class_index(ds, m)
            brushes_by_class = [QBrush(QColor(CLASS_COLORS[i % len(CLASS_COLORS)])) for i in range(len(ds.classes))]
            brushes = [brushes_by_class[i] for i in idx]
            self._class_key(ds)
        elif ds.n_inputs == 2:  # regression: colour by the (first) target value
            values = ds.Y[:m, 0].astype(np.float64)
            lo, hi = float(values.min()), float(values.max())
            cmap = pg.ColorMap([0.0, 0.5, 1.0], [QColor(c) for c in VALUE_COLORS])
            t = (values - lo) / (hi - lo) if hi > lo else np.full(m, 0.5)
            colors = cmap.map(t, mode="qcolor")
            brushes = [QBrush(c) for c in colors]
            grad = "".join(f"<span style='color:{cmap.map(s, mode='qcolor').name()}'>█</span>"
                           for s in np.linspace(0, 1, 12))
            self.key_label.setText(f"{html.escape(ds.target_names[0])}: {lo:.4g} {grad} {hi:.4g}")
            self.key_label.show()
        else:
            brushes = QBrush(QColor(CLASS_COLORS[0]))
            self.key_label.hide()
        self.scatter.setData(x=np.asarray(x, dtype=np.float64), y=np.asarray(y, dtype=np.float64),
                             brush=brushes, pen=pen, size=12 if m <= 16 else 8 if m <= 300 else 6)
        pi.setLabel("bottom", xlabel)
        pi.setLabel("left", ylabel)
        # the same scale on both axes when both inputs have comparable ranges (a circle stays round)
        if ds.n_inputs == 2 and m > 0:
            rx = float(np.ptp(x)) or 1.0
            ry = float(np.ptp(y)) or 1.0
            pi.setAspectLocked(max(rx, ry) / min(rx, ry) < 3.0, ratio=1.0)
        else:
            pi.setAspectLocked(False)
        pi.enableAutoRange()
        pi.autoRange()

    def _fill_table(self, ds: Dataset, tokens: bool = False) -> None:
        """The first rows as a table; ``tokens``: the inputs are token ids (columns t1..tN,
        whole numbers shown as integers)."""
        m = min(len(ds), TABLE_ROWS)
        classify = ds.task == "classification" and bool(ds.classes)
        heads = [f"t{i + 1}" for i in range(ds.n_inputs)] if tokens else list(ds.input_names)
        if classify:
            heads.append(ds.target_names[0].split("=")[0] if ds.n_outputs > 1 else ds.target_names[0])
        else:
            heads.extend(ds.target_names)
        t = self.table
        t.clear()
        t.setColumnCount(len(heads))
        t.setRowCount(m)
        _, accent = role_colors("output")
        for c, h in enumerate(heads):
            item = QTableWidgetItem(h)
            item.setToolTip(ds.input_names[c] if tokens and c < ds.n_inputs else h)
            if c >= ds.n_inputs:
                item.setForeground(accent.darker(110))
            t.setHorizontalHeaderItem(c, item)
        idx = self._class_index(ds, m) if classify else None
        for r in range(m):
            row = ds.X[r]
            if tokens and np.all(np.isfinite(row)) and np.all(row == np.round(row)):
                values = [str(int(v)) for v in row]
            else:
                values = [_fmt(v) for v in row]
            if classify:
                values.append(ds.classes[int(idx[r])])
            else:
                values.extend(_fmt(v) for v in ds.Y[r])
            for c, text in enumerate(values):
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if c >= ds.n_inputs:
                    item.setForeground(accent.darker(120))
                t.setItem(r, c, item)
        hh = t.horizontalHeader()
        if tokens:  # narrow columns: a token sequence fits the panel without scrolling
            hh.setMinimumSectionSize(22)
        else:
            hh.setMinimumSectionSize(36)
        hh.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        bar = t.horizontalScrollBar().sizeHint().height()
        h = hh.sizeHint().height() + sum(t.rowHeight(r) for r in range(m)) + 4
        t.setFixedHeight(h + bar)


__all__ = ["DataPreview", "PREVIEW_POINTS", "TABLE_ROWS"]
