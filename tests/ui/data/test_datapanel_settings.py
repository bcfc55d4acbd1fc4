"""The data panel's settings form (a ParamForm built from the data sets' ParamSpecs):
each built-in set shows exactly its own settings with its defaults and ranges, and a
typed value is one undo step, rounded to the editor's decimals."""

from pathlib import Path

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pyqtgraph")

from PySide6.QtCore import Qt  # noqa: E402

from anndesigner.data import BUILTIN_DATASETS  # noqa: E402
from anndesigner.data.builtin import PARAM_SPECS  # noqa: E402
from anndesigner.io import load_network  # noqa: E402
from anndesigner.ui.document import Document  # noqa: E402
from anndesigner.ui.data.panel import DataPanel  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[3] / "samples"


@pytest.fixture
def panel(qtbot):
    doc = Document(load_network(SAMPLES / "xor.ann"))
    w = DataPanel(doc)
    qtbot.addWidget(w)
    w.resize(300, 640)
    w.show()
    qtbot.waitExposed(w)
    return w


def test_every_set_shows_its_own_settings_with_their_defaults_and_ranges(panel):
    w = panel
    for name, info in BUILTIN_DATASETS.items():
        if name == "blobs":
            continue  # its samples and centers limit each other (test_datapanel_shapes)
        w.choose_builtin(name)
        visible = [s.name for s in PARAM_SPECS if w.settings_form.isRowVisible(w.field(s.name))]
        assert visible == [s.name for s in info.params], name
        for spec in info.params:
            e = w.field(spec.name)
            if spec.kind in ("int", "float"):
                assert (e.minimum(), e.maximum(), e.value()) == pytest.approx((spec.minimum, spec.maximum,
                                                                              spec.default)), (name, spec.name)
            else:  # a text setting (the formula's expression)
                assert e.text() == str(spec.default), (name, spec.name)
            assert w.settings_form.labelForField(e).text() == spec.title and e.toolTip() == spec.help
    assert w.field("noise").decimals() == 3 and w.field("noise").singleStep() == pytest.approx(0.01)
    assert w.field("seed").maximum() == 2**31 - 1
    assert w.field("n_samples").objectName() == "data_samples" and w.field("noise").objectName() == "data_noise"


def test_a_typed_value_is_one_undo_step_rounded_to_the_editors_decimals(panel, qtbot):
    w = panel
    w.choose_builtin("spirals")
    doc = w.document
    stack = doc.undo_stack
    count = stack.count()
    noise = w.field("noise")
    noise.setFocus()
    noise.lineEdit().selectAll()
    qtbot.keyClicks(noise.lineEdit(), "0.1237")
    assert stack.count() == count  # no keyboard tracking: nothing until Return
    qtbot.keyClick(noise.lineEdit(), Qt.Key.Key_Return)
    assert stack.count() == count + 1 and stack.undoText() == "Set data noise to 0.123"  # the fourth decimal cannot be typed
    assert doc.network.data_source["params"]["noise"] == 0.123
    noise.editingFinished.emit()  # leaving the field: the same value, no second step
    assert stack.count() == count + 1
    n = w.field("n_samples")
    n.setValue(2500)
    assert n.text() == "2,500" and stack.undoText() == "Set data samples to 2500"
    stack.undo()
    stack.undo()
    assert noise.value() == pytest.approx(BUILTIN_DATASETS["spirals"].defaults["noise"])
