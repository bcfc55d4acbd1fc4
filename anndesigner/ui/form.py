"""One Qt form built from a sequence of :class:`~anndesigner.params.ParamSpec`.

:class:`ParamForm` is the only form builder of the window: the inspector
(node parameters), the training panel (optimizer settings) and the data panel
(data-set settings) build their fields with it. Every editor is one of
formkit's wheel-safe widgets, so scrolling a panel never edits a value.

The form shows values (:meth:`ParamForm.set_values`, no signals) and says when
the user commits an edit (``edited(name, value)``, once per edit, only when the
value differs from the one shown). Text that cannot be read as a value (a shape
like ``"8, x"``) is put back and reported by ``refused(name, message)``. A
field may show :data:`MIXED` (several nodes hold different values): it reads
as MIXED until the user edits it.

The rows go into the form's own layout, or into a host ``QFormLayout`` (so
they share one column of labels with the host's other rows).
"""

from __future__ import annotations

import math
import re
from typing import Any, Callable, Mapping, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QAbstractSpinBox, QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QLabel, QLineEdit,
                               QSpinBox, QWidget)

from ..params import ParamSpec
from .formkit import ComboBox, DoubleSpinBox, FloatSpinBox, SpinBox, error_label, form_layout

__all__ = ["ParamForm", "ParamField", "MIXED", "MIXED_TEXT", "RefusedText", "parse_shape", "format_value"]

#: a field whose nodes hold different values
MIXED: Any = type("Mixed", (), {"__repr__": lambda self: "MIXED"})()
MIXED_TEXT = "—"

INT_RANGE = (-1_000_000_000, 1_000_000_000)
FLOAT_RANGE = (-1e6, 1e6)
FLOAT_DECIMALS = 4
SMALL_FLOAT_DECIMALS = 8


class RefusedText(ValueError):
    """Text in an editor that cannot be read as a value of its kind."""


def parse_shape(text: str) -> list[int]:
    """``"8, 8, 1"`` (or ``"8 8 1"``, ``"8x8x1"``, ``"(8, 8, 1)"``) -> ``[8, 8, 1]``.

    Only the syntax is checked here; the model judges the numbers."""
    body = text.strip().strip("()[]").strip()
    parts = [p for p in re.split(r"[\s,;x×]+", body) if p]
    if not parts:
        raise RefusedText("needs at least one size, e.g. 2 or 8, 8, 1")
    out = []
    for p in parts:
        if not re.fullmatch(r"[+-]?\d+", p):
            raise RefusedText(f"'{text.strip()}' is not a list of whole numbers like 8, 8, 1")
        out.append(int(p))
    return out


def format_value(kind: str, value: Any) -> str:
    if kind == "shape":
        return ", ".join(str(v) for v in value)
    return str(value)


def _finite(v: float | None) -> float | None:
    return v if v is not None and math.isfinite(v) else None


class ParamField:
    """One row of a form: the editor of one parameter.

    ``show`` sets the editor without emitting anything; ``read`` returns the
    editor's value, :data:`MIXED` while a mixed field has not been edited, or
    raises :class:`RefusedText`.
    """

    def __init__(self, spec: ParamSpec, on_commit: Callable[["ParamField"], None], prefix: str = "param_"):
        self.spec = spec
        self.name = spec.name
        self.kind = spec.kind
        self.mixed = False
        self.shown: Any = MIXED
        self.choices = list(spec.choices)
        self._range: tuple[float, float] = (0, 0)
        self.editor = self._make_editor(lambda: on_commit(self))
        self.editor.setObjectName(f"{prefix}{spec.name}")
        tip = spec.help
        if spec.live:
            tip += "\n(can be changed while training)"
        self.editor.setToolTip(tip.strip())

    @property
    def decimals(self) -> int:
        """The spec's, else 4, or 8 for parameters that live near zero (a norm's ε = 0.00001)."""
        if self.spec.decimals is not None:
            return self.spec.decimals
        d = self.spec.default
        small = isinstance(d, (int, float)) and 0 < abs(d) < 0.01
        return SMALL_FLOAT_DECIMALS if small else FLOAT_DECIMALS

    # ------------------------------------------------------------ build
    def _make_editor(self, commit: Callable[[], None]) -> QWidget:
        k = self.kind
        s = self.spec
        if k == "int":
            e = SpinBox()
            self._set_range(e, s.minimum, s.maximum)
            if s.step is not None:
                e.setSingleStep(int(s.step))
            if s.unit:
                e.setSuffix(f" {s.unit}")
            self._setup_spin(e, commit)
            return e
        if k == "float":
            if s.log:
                lo = _finite(s.minimum)
                e = FloatSpinBox(lo if lo is not None else FLOAT_RANGE[0], _finite(s.maximum) or 1e300)
                self._range = (e.minimum(), e.maximum())
            else:
                e = DoubleSpinBox()
                e.setDecimals(self.decimals)
                if s.step is not None:
                    e.setSingleStep(s.step)
                else:
                    e.setSingleStep(0.05 if self.decimals == FLOAT_DECIMALS else float(s.default or 0.05))
                self._set_range(e, s.minimum, s.maximum)
            if s.unit:
                e.setSuffix(f" {s.unit}")
            self._setup_spin(e, commit)
            return e
        if k == "bool":
            e = QCheckBox()
            e.checkStateChanged.connect(lambda _state: commit())
            return e
        if k == "choice":
            e = ComboBox()
            e.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            e.addItems(self.choices)
            e.setPlaceholderText(MIXED_TEXT)
            e.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            e.setMinimumContentsLength(6)
            e.currentIndexChanged.connect(lambda _i: commit())
            return e
        e = QLineEdit()
        if k == "shape":
            e.setPlaceholderText("e.g. 8, 8, 1")
        e.editingFinished.connect(commit)
        return e

    def _set_range(self, e: QAbstractSpinBox, lo: float | None, hi: float | None) -> None:
        lo, hi = _finite(lo), _finite(hi)
        if isinstance(e, QSpinBox):
            r = (int(lo) if lo is not None else INT_RANGE[0], int(hi) if hi is not None else INT_RANGE[1])
        else:
            r = (float(lo) if lo is not None else FLOAT_RANGE[0], float(hi) if hi is not None else FLOAT_RANGE[1])
        e.setRange(*r)
        self._range = r

    def set_limits(self, minimum: float | None, maximum: float | None) -> None:
        e = self.editor
        if isinstance(e, (QSpinBox, QDoubleSpinBox)):
            was = e.blockSignals(True)
            self._set_range(e, minimum, maximum)
            e.blockSignals(was)

    @staticmethod
    def _setup_spin(e: QAbstractSpinBox, commit: Callable[[], None]) -> None:
        # no keyboard tracking: typing "128" is one edit, committed by Enter or leaving the field;
        # the arrows and keyboard steps commit each step
        e.setKeyboardTracking(False)
        e.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        e.setAccelerated(True)
        e.setCorrectionMode(QAbstractSpinBox.CorrectionMode.CorrectToNearestValue)
        e.valueChanged.connect(lambda _v: commit())
        e.editingFinished.connect(commit)

    # ------------------------------------------------------------- show
    def show(self, value: Any) -> None:
        e = self.editor
        was = e.blockSignals(True)
        try:
            self.mixed = value is MIXED
            self.shown = value
            k = self.kind
            if k in ("int", "float"):
                assert isinstance(e, (QSpinBox, QDoubleSpinBox))
                lo, hi = self._range
                if self.mixed:  # one step below the range shows the special text
                    e.setSpecialValueText(MIXED_TEXT)
                    e.setMinimum(lo - 1)
                    e.setValue(lo - 1)
                else:
                    e.setSpecialValueText("")
                    e.setMinimum(lo)
                    e.setValue(value)
            elif k == "bool":
                assert isinstance(e, QCheckBox)
                e.setTristate(self.mixed)
                e.setCheckState(Qt.CheckState.PartiallyChecked if self.mixed
                                else Qt.CheckState.Checked if value else Qt.CheckState.Unchecked)
            elif k == "choice":
                assert isinstance(e, QComboBox)
                e.setCurrentIndex(-1 if self.mixed else e.findText(str(value)))
            else:
                assert isinstance(e, QLineEdit)
                e.setText("" if self.mixed else format_value(k, value))
                if self.mixed:
                    e.setPlaceholderText(MIXED_TEXT)
                elif k == "shape":
                    e.setPlaceholderText("e.g. 8, 8, 1")
        finally:
            e.blockSignals(was)

    # ------------------------------------------------------------- read
    def read(self) -> Any:
        e = self.editor
        k = self.kind
        if k in ("int", "float"):
            assert isinstance(e, (QSpinBox, QDoubleSpinBox))
            was = e.blockSignals(True)
            e.interpretText()  # text typed but not yet committed (keyboard tracking is off)
            e.blockSignals(was)
            if self.mixed and e.value() < self._range[0]:
                return MIXED
            return e.value()
        if k == "bool":
            assert isinstance(e, QCheckBox)
            state = e.checkState()
            if state == Qt.CheckState.PartiallyChecked:
                return MIXED
            return state == Qt.CheckState.Checked
        if k == "choice":
            assert isinstance(e, QComboBox)
            return MIXED if e.currentIndex() < 0 else e.currentText()
        assert isinstance(e, QLineEdit)
        text = e.text()
        if self.mixed and not text.strip():
            return MIXED
        if k == "shape":
            return parse_shape(text)
        return text

    def same(self, model_value: Any, value: Any) -> bool:
        """True when committing ``value`` would not change ``model_value``."""
        if model_value is MIXED or value is MIXED:
            return model_value is value
        if self.kind == "float" and not self.spec.log:
            # the editor shows its decimals: do not "change" 0.12345 to 0.1235
            return round(float(model_value), self.decimals) == round(float(value), self.decimals)
        if self.kind == "shape":
            return list(model_value) == list(value)
        return model_value == value


class ParamForm(QWidget):
    """A form of one editor per :class:`ParamSpec` (see the module docstring).

    ``host``: put the rows into this ``QFormLayout`` from row ``row`` on (-1:
    at the end) instead of the form's own layout; the host then places
    :attr:`error_label` where it wants it, and :meth:`remove_rows` takes the
    rows out again. Each editor is named ``prefix + name`` (``param_units``).
    """

    edited = Signal(str, object)
    refused = Signal(str, str)

    def __init__(self, specs: Sequence[ParamSpec], parent: QWidget | None = None, *,
                 host: QFormLayout | None = None, row: int = -1, error_name: str = "form_error",
                 prefix: str = "param_"):
        super().__init__(parent)
        self.specs = tuple(specs)
        self._fields: dict[str, ParamField] = {}
        self._host = host
        self.error_label = error_label(error_name)
        self._layout = form_layout() if host is None else host
        if host is None:
            self.setLayout(self._layout)
        else:
            self.hide()  # an empty holder: the rows live in the host
        at = row
        for spec in self.specs:
            field = ParamField(spec, self._commit, prefix)
            if field.kind == "choice" and not field.choices:
                continue
            self._fields[spec.name] = field
            label = QLabel(spec.title)
            label.setToolTip(spec.help)
            label.setBuddy(field.editor)
            if host is None or at < 0:
                self._layout.addRow(label, field.editor)
            else:
                self._layout.insertRow(at, label, field.editor)
                at += 1
        if host is None:
            self._layout.addRow(self.error_label)

    # ------------------------------------------------------------- values
    def names(self) -> list[str]:
        return list(self._fields)

    def fields(self) -> dict[str, QWidget]:
        """``{name: editor}`` in form order."""
        return {n: f.editor for n, f in self._fields.items()}

    def field(self, name: str) -> QWidget:
        """The editor of ``name`` (KeyError when the form has none)."""
        return self._fields[name].editor

    def param_field(self, name: str) -> ParamField:
        return self._fields[name]

    def set_values(self, values: Mapping[str, Any]) -> None:
        """Show these values (names the form lacks are ignored); emits nothing."""
        for name, value in values.items():
            f = self._fields.get(name)
            if f is not None:
                f.show(value)

    def value(self, name: str) -> Any:
        """The value in the editor now (MIXED for an untouched mixed field); RefusedText for bad text."""
        return self._fields[name].read()

    def values(self) -> dict[str, Any]:
        return {name: f.read() for name, f in self._fields.items()}

    def same(self, name: str, a: Any, b: Any) -> bool:
        """Whether ``a`` and ``b`` look the same in the editor of ``name`` (its decimals)."""
        return self._fields[name].same(a, b)

    # ------------------------------------------------------- state, errors
    def set_enabled(self, name: str, enabled: bool) -> None:
        self._fields[name].editor.setEnabled(enabled)

    def set_limits(self, name: str, minimum: float | None, maximum: float | None) -> None:
        self._fields[name].set_limits(minimum, maximum)

    def set_error(self, name: str | None, message: str) -> None:
        """Show ``message`` (about field ``name``) in the error label."""
        self.error_label.setText(message)
        self.error_label.show()

    def clear_error(self) -> None:
        self.error_label.clear()
        self.error_label.hide()

    def error_text(self) -> str:
        return "" if self.error_label.isHidden() else self.error_label.text()

    def remove_rows(self) -> None:
        """Take this form's rows out of the host layout (their widgets are deleted)."""
        if self._host is None:
            return
        for f in self._fields.values():
            self._host.removeRow(f.editor)
        self._fields = {}

    def commit_focused(self, focus: QWidget | None) -> bool:
        """Commit the edit being typed in the editor that holds ``focus``; True when there was one."""
        for f in self._fields.values():
            if focus is not None and (focus is f.editor or f.editor.isAncestorOf(focus)):
                self._commit(f)
                return True
        return False

    # ------------------------------------------------------------- commit
    def _commit(self, field: ParamField) -> None:
        if self._fields.get(field.name) is not field:
            return  # an editor of rows that are going away
        try:
            value = field.read()
        except RefusedText as e:
            field.show(field.shown)
            self.refused.emit(field.name, f"{field.spec.title}: {e}")
            return
        if value is MIXED:
            return
        if field.same(field.shown, value):
            field.show(field.shown)  # e.g. leave a tristate box or a reformatted shape tidy
            return
        # shown from now on, so Return's valueChanged and editingFinished are one edit; a host
        # that refuses the value shows the model's again (set_values)
        field.mixed = False
        field.shown = value
        self.edited.emit(field.name, value)
