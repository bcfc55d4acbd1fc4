"""The one parameter form (ui/form.py): built from ParamSpecs, shows values without
signals, reports each committed edit once, refuses bad text, mixed values, and
editors that ignore the mouse wheel unless focused."""

import math

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QPoint, QPointF, Qt  # noqa: E402
from PySide6.QtGui import QWheelEvent  # noqa: E402
from PySide6.QtWidgets import (QApplication, QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QLabel,  # noqa: E402
                               QLineEdit, QSpinBox, QWidget)

from anndesigner.params import ParamSpec  # noqa: E402
from anndesigner.ui.form import MIXED, MIXED_TEXT, ParamForm  # noqa: E402

SPECS = (
    ParamSpec("units", "int", 8, label="Units", help="How many", minimum=1, maximum=512),
    ParamSpec("rate", "float", 0.5, label="Rate", minimum=0.0, maximum=1.0),
    ParamSpec("eps", "float", 1e-7, minimum=0.0, maximum=math.inf, open_min=True, decimals=7, step=0.01),
    ParamSpec("learning_rate", "float", 0.01, minimum=1e-12, maximum=1e300, log=True),
    ParamSpec("bias", "bool", True, label="Use bias"),
    ParamSpec("activation", "choice", "relu", label="Activation", choices=("relu", "tanh")),
    ParamSpec("shape", "shape", [2], label="Shape"),
)


@pytest.fixture
def form(qtbot):
    f = ParamForm(SPECS)
    qtbot.addWidget(f)
    f.set_values({"units": 8, "rate": 0.5, "eps": 1e-7, "learning_rate": 0.01, "bias": True,
                  "activation": "relu", "shape": [2]})
    edits = []
    f.edited.connect(lambda name, value: edits.append((name, value)))
    f.edits = edits
    f.resize(300, 320)
    f.show()
    qtbot.waitExposed(f)
    return f


def test_one_editor_per_spec_with_labels(form):
    lay = form.layout()
    assert isinstance(lay, QFormLayout)
    assert form.names() == [s.name for s in SPECS]
    kinds = [type(form.field(s.name)) for s in SPECS]
    assert [issubclass(k, base) for k, base in zip(kinds, (QSpinBox, QDoubleSpinBox, QDoubleSpinBox,
                                                           QDoubleSpinBox, QCheckBox, QComboBox, QLineEdit))]
    labels = [lay.itemAt(r, QFormLayout.ItemRole.LabelRole).widget().text() for r in range(len(SPECS))]
    assert labels == ["Units", "Rate", "Eps", "Learning rate", "Use bias", "Activation", "Shape"]
    assert form.field("units").objectName() == "param_units"
    assert (form.field("units").minimum(), form.field("units").maximum()) == (1, 512)
    assert form.field("eps").decimals() == 7 and form.field("eps").maximum() == 1e6
    assert form.field("learning_rate").text() == "0.01"
    assert form.values() == {"units": 8, "rate": 0.5, "eps": 1e-7, "learning_rate": 0.01, "bias": True,
                             "activation": "relu", "shape": [2]}
    assert form.edits == []  # showing values emits nothing


def test_a_committed_edit_is_reported_once(form, qtbot):
    units = form.field("units")
    units.setFocus()
    units.selectAll()
    qtbot.keyClicks(units, "128")
    assert form.edits == []  # typing is not an edit yet
    qtbot.keyClick(units, Qt.Key.Key_Return)
    assert form.edits == [("units", 128)]
    form.field("rate").setFocus()  # leaving the field commits nothing more
    assert form.edits == [("units", 128)]
    form.field("bias").click()
    form.field("activation").setCurrentIndex(1)
    assert form.edits[1:] == [("bias", False), ("activation", "tanh")]


def test_refused_text_is_put_back_and_reported(form, qtbot):
    refused = []
    form.refused.connect(lambda name, msg: refused.append((name, msg)))
    shape = form.field("shape")
    shape.setFocus()
    shape.selectAll()
    qtbot.keyClicks(shape, "8, y")
    qtbot.keyClick(shape, Qt.Key.Key_Return)
    assert refused and refused[0][0] == "shape" and refused[0][1].startswith("Shape: ")
    assert shape.text() == "2" and form.edits == []
    shape.selectAll()
    qtbot.keyClicks(shape, "8x8x1")
    qtbot.keyClick(shape, Qt.Key.Key_Return)
    assert form.edits == [("shape", [8, 8, 1])]


def test_mixed_values_read_as_mixed_until_edited(form):
    form.set_values({"units": MIXED, "bias": MIXED, "activation": MIXED, "shape": MIXED})
    assert form.field("units").text() == MIXED_TEXT
    assert form.field("bias").checkState() == Qt.CheckState.PartiallyChecked
    assert form.field("activation").currentIndex() == -1
    assert all(form.value(n) is MIXED for n in ("units", "bias", "activation", "shape"))
    form.field("units").setValue(5)
    assert form.edits == [("units", 5)]


def test_limits_enabled_and_error(form):
    form.set_limits("units", 2, 10)
    assert (form.field("units").minimum(), form.field("units").maximum()) == (2, 10)
    assert form.field("units").value() == 8 and form.edits == []
    form.set_enabled("rate", False)
    assert not form.field("rate").isEnabled() and form.field("units").isEnabled()
    form.set_error("units", "Units must be at least 1")
    assert form.error_label.isVisibleTo(form) and form.error_text() == "Units must be at least 1"
    form.clear_error()
    assert not form.error_label.isVisibleTo(form) and form.error_text() == ""


def test_rows_can_join_a_host_form(qtbot):
    host_widget = QWidget()
    qtbot.addWidget(host_widget)
    host = QFormLayout(host_widget)
    host.addRow("First", QLabel("a"))
    host.addRow("Last", QLabel("b"))
    f = ParamForm(SPECS[:2], host_widget, host=host, row=1)
    labels = [host.itemAt(r, QFormLayout.ItemRole.LabelRole).widget().text() for r in range(host.rowCount())]
    assert labels == ["First", "Units", "Rate", "Last"]
    assert f.field("units").parentWidget() is host_widget
    f.remove_rows()
    labels = [host.itemAt(r, QFormLayout.ItemRole.LabelRole).widget().text() for r in range(host.rowCount())]
    assert labels == ["First", "Last"]


def wheel_at(widget, steps=1):
    """A wheel turn over the middle of ``widget``, posted to it and delivered by the event loop."""
    centre = widget.rect().center()
    ev = QWheelEvent(QPointF(centre), QPointF(widget.mapToGlobal(centre)), QPoint(), QPoint(0, 120 * steps),
                     Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.postEvent(widget, ev)
    QApplication.processEvents()


def test_the_wheel_over_an_unfocused_field_changes_nothing(form, qtbot):
    other = form.field("shape")
    other.setFocus()
    qtbot.waitUntil(other.hasFocus)
    for name in ("units", "rate", "eps", "learning_rate", "activation"):
        before = form.value(name)
        wheel_at(form.field(name))
        assert form.value(name) == before, name
    assert form.edits == []
    units = form.field("units")  # focused, the wheel steps the value, as the user asked
    units.setFocus()
    qtbot.waitUntil(units.hasFocus)
    wheel_at(units)
    assert units.value() == 9 and form.edits == [("units", 9)]
