"""Small pieces the side panels' forms are built from: editors that ignore
the mouse wheel unless focused, muted and section labels, the form layout,
the error label, the coloured header, and the scroll area that holds a panel.
Used by the parameter form (``form.py``), the inspector, the training and data
panels and the CSV dialog."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QFont, QIcon, QPixmap, QValidator, QWheelEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from .style import ERROR_COLOR, MUTED_TEXT, TEXT_COLOR, role_colors

__all__ = ["NoWheelMixin", "SpinBox", "DoubleSpinBox", "FloatSpinBox", "ComboBox", "muted", "section", "form_layout",
           "error_label", "panel_header", "scroll_body"]


def scroll_body(owner: QWidget, name: str) -> QScrollArea:
    """A frameless, vertically scrolling area filling ``owner`` (object name ``name``)."""
    scroll = QScrollArea(owner)
    scroll.setObjectName(name)
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    lay = QVBoxLayout(owner)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.addWidget(scroll)
    return scroll


# ------------------------------------------------------------------- editors
class NoWheelMixin:
    """Spin boxes and combo boxes in a scrolling form ignore the wheel unless
    they have focus, so scrolling the inspector never edits a value by accident."""

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 (Qt override)
        if self.hasFocus():  # type: ignore[attr-defined]
            super().wheelEvent(event)  # type: ignore[misc]
        else:
            event.ignore()


class SpinBox(NoWheelMixin, QSpinBox):
    pass


class DoubleSpinBox(NoWheelMixin, QDoubleSpinBox):
    pass


class FloatSpinBox(NoWheelMixin, QDoubleSpinBox):
    """A number over many magnitudes, shown as it is (``0.05``, ``1e-07``, ``1e+300``)
    instead of rounded to fixed decimals (a learning rate of 1e-7 read "0.000000",
    one of 1e300 was clamped to the top of the range). Steps are adaptive: a
    tenth of the value's magnitude. Like the others, it ignores the wheel unless focused."""

    def __init__(self, lo: float, hi: float, parent: QWidget | None = None):
        super().__init__(parent)
        self.setDecimals(323)  # QDoubleSpinBox rounds to its decimals: keep every value exact
        self.setRange(lo, hi)
        self.setStepType(QDoubleSpinBox.StepType.AdaptiveDecimalStepType)

    def textFromValue(self, value: float) -> str:  # noqa: N802 (Qt override)
        # 15 digits: every value typed or saved with up to 15 reads back as itself (Return in the
        # field must not round it), while a step's float noise (0.0011000000000000001) stays hidden
        return f"{value:.15g}"

    def valueFromText(self, text: str) -> float:  # noqa: N802 (Qt override)
        try:
            return float(text.strip())
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):
        t = text.strip().lower()
        try:
            v = float(t)
        except ValueError:
            partial = t in ("", "-", "+", ".", "-.", "+.") or t.endswith(("e", "e-", "e+"))
            return (QValidator.State.Intermediate if partial else QValidator.State.Invalid), text, pos
        if t in ("nan", "inf", "-inf", "infinity", "-infinity"):
            return QValidator.State.Invalid, text, pos
        state = QValidator.State.Acceptable if self.minimum() <= v <= self.maximum() else QValidator.State.Intermediate
        return state, text, pos

    def fixup(self, text: str) -> str:
        return self.textFromValue(self.value())


class ComboBox(NoWheelMixin, QComboBox):
    pass


# --------------------------------------------------------------- pieces
def muted(text: str = "", small: bool = True) -> QLabel:
    lab = QLabel(text)
    lab.setWordWrap(True)
    lab.setStyleSheet(f"color: {MUTED_TEXT.name()};")
    if small:
        f = lab.font()
        f.setPointSizeF(max(f.pointSizeF() * 0.9, 7.0))
        lab.setFont(f)
    return lab


def section(title: str) -> QLabel:
    lab = QLabel(title.upper())
    f = lab.font()
    f.setBold(True)
    f.setPointSizeF(max(f.pointSizeF() * 0.82, 7.0))
    f.setLetterSpacing(QFont.SpacingType.PercentageSpacing, 106)
    lab.setFont(f)
    lab.setStyleSheet(f"color: {MUTED_TEXT.name()}; padding-top: 8px; border-bottom: 1px solid #CFD8DC;")
    return lab


def form_layout() -> QFormLayout:
    form = QFormLayout()
    form.setContentsMargins(0, 2, 0, 2)
    form.setHorizontalSpacing(8)
    form.setVerticalSpacing(5)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
    form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    return form


def error_label(name: str) -> QLabel:
    lab = QLabel()
    lab.setObjectName(name)
    lab.setWordWrap(True)
    lab.setTextFormat(Qt.TextFormat.PlainText)
    lab.setStyleSheet(f"color: {ERROR_COLOR.name()}; background: #FFEBEE; border-radius: 3px; padding: 4px;")
    lab.hide()
    return lab


def panel_header(picture: QIcon | QPixmap | None, title: str, subtitle: str, role: str | None) -> QFrame:
    frame = QFrame()
    frame.setObjectName("inspector_header")
    fill, accent = role_colors(role or "layer")
    if role is None:
        fill, accent = role_colors("regularization")
    frame.setStyleSheet(
        f"QFrame#inspector_header {{ background: {fill.name()}; border-left: 4px solid {accent.name()};"
        f" border-radius: 4px; }}"
        f" QFrame#inspector_header QLabel {{ background: transparent; }}")
    lay = QHBoxLayout(frame)
    lay.setContentsMargins(8, 6, 8, 6)
    lay.setSpacing(8)
    if picture is not None:
        ic = QLabel()
        ic.setObjectName("inspector_icon")
        ic.setPixmap(picture if isinstance(picture, QPixmap) else picture.pixmap(QSize(28, 28)))
        ic.setFixedSize(30, 30)
        lay.addWidget(ic, 0, Qt.AlignmentFlag.AlignTop)
    text = QVBoxLayout()
    text.setSpacing(0)
    t = QLabel(title)
    t.setObjectName("inspector_title")
    t.setWordWrap(True)
    f = t.font()
    f.setBold(True)
    f.setPointSizeF(f.pointSizeF() * 1.15)
    t.setFont(f)
    t.setStyleSheet(f"color: {TEXT_COLOR.name()};")
    s = QLabel(subtitle)
    s.setObjectName("inspector_subtitle")
    s.setWordWrap(True)
    s.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    s.setStyleSheet(f"color: {accent.darker(115).name()};")
    text.addWidget(t)
    text.addWidget(s)
    lay.addLayout(text, 1)
    return frame
