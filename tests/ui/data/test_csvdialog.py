"""The CSV import dialog: scikit-learn's layout, the First row and Skip lines choices,
special files, and informational notes styled as notes (muted), never as errors."""

import os

import pytest

pytest.importorskip("PySide6")

from PySide6.QtGui import QColor  # noqa: E402

from anndesigner.ui.style import ERROR_COLOR  # noqa: E402
from anndesigner.ui.data.csvdialog import CsvImportDialog  # noqa: E402

IRIS = ("6,4,setosa,versicolor,virginica\n5.1,3.5,1.4,0.2,0\n4.9,3.0,1.4,0.2,0\n7.0,3.2,4.7,1.4,1\n"
        "6.4,3.2,4.5,1.5,1\n6.3,3.3,6.0,2.5,2\n5.8,2.7,5.1,1.9,2\n")


def make_dialog(qtbot, path, **kw):
    d = CsvImportDialog(path, **kw)
    qtbot.addWidget(d)
    d.show()
    qtbot.waitExposed(d)
    return d


def background(label) -> QColor:
    """The colour the label paints at its inner left edge (its background, not its text)."""
    img = label.grab().toImage()
    return img.pixelColor(2, img.height() // 2)


def test_sklearn_layout_in_the_dialog(qtbot, tmp_path):
    path = tmp_path / "iris.csv"
    path.write_text(IRIS)
    d = make_dialog(qtbot, path)
    assert d.header() == "sklearn" and d.header_box.currentText().startswith("Counts + class names")
    assert d.columns() == ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)",
                           "species"]
    assert d.is_valid() and d.dataset().classes == ["setosa", "versicolor", "virginica"]
    assert "scikit-learn counts row detected" in d.detected_label.text()
    assert "Scikit-learn layout: the first row gives 6 rows and 4 features" in d.note_text()
    assert d.preview_table.rowCount() == 6 and d.preview_table.verticalHeaderItem(0).text() == "2"
    src = d.source()
    assert src["header"] == "sklearn" and src["classes"] == ["setosa", "versicolor", "virginica"]
    # overridden: the counts row is skipped and the rest read as plain data
    d.set_skip_rows(1)
    assert d.header() is False and d.columns() == ["col1", "col2", "col3", "col4", "col5"]
    assert d.is_valid() and d.dataset().classes == ["0", "1", "2"] and d.source()["skip_rows"] == 1
    assert "1 line skipped at the top" in d.note_text()
    d.set_header("sklearn")  # now the first row is data: not a counts row
    assert not d.is_valid() and "scikit-learn's counts row" in d.error_text()


def test_an_informational_note_is_not_styled_as_an_error(qtbot, tmp_path):
    path = tmp_path / "iris.csv"
    path.write_text(IRIS)
    d = make_dialog(qtbot, path)
    assert d.note_label.isVisible() and not d.error_label.isVisible()
    note_bg = background(d.note_label)
    assert note_bg.name() == "#eceff1"
    assert ERROR_COLOR.name() not in d.note_label.styleSheet() and "#FFEBEE" not in d.note_label.styleSheet()
    # a choice still to make is a note too, not a red error; the import stays disabled
    d.set_roles(inputs=["sepal length (cm)", "species"], targets=[])
    assert not d.is_valid() and not d.ok_button().isEnabled()
    assert "Choose a target column" in d.note_text() and not d.error_label.isVisible()
    # a real problem keeps the error look, with the note about where it is beside it
    rows = "".join(f"{i},{i % 2}\n" for i in range(40)) + "oops,1\n"
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y\n" + rows)
    e = make_dialog(qtbot, bad)
    assert e.error_label.isVisible() and "line 42" in e.error_text()
    assert "Line 42 is not in the preview" in e.note_text()
    assert background(e.error_label).name() == "#ffebee"


def test_skip_lines_and_the_preview_title(qtbot, tmp_path):
    path = tmp_path / "titled.csv"
    path.write_text("Readings of May\n\nt,v\n" + "".join(f"{i},{i * 0.5}\n" for i in range(30)))
    d = make_dialog(qtbot, path)
    d.set_skip_rows(2)
    assert d.columns() == ["t", "v"] and d.header() is True
    assert d.is_valid() and len(d.dataset()) == 30
    assert d.preview_title.text() == "PREVIEW · 20 OF 30 ROWS"
    assert d.preview_table.verticalHeaderItem(0).text() == "4"  # file lines, the skipped ones counted
    again = make_dialog(qtbot, path, initial=d.source())  # an earlier import is preset
    assert again.skip_spin.value() == 2 and again.columns() == ["t", "v"] and again.source() == d.source()


def test_a_fifo_opens_the_dialog_with_the_reason(qtbot, tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    fifo = tmp_path / "data.csv"
    os.mkfifo(fifo)
    d = make_dialog(qtbot, fifo)  # returns: nothing blocks on the pipe
    assert not d.is_valid() and "pipe" in d.error_text() and str(fifo) in d.error_text()
    assert d.columns() == []


def test_a_large_file_is_checked_on_its_start_and_read_whole_once_at_import(qtbot, tmp_path, monkeypatch):
    """A file larger than the preview: every change checks the choices on its start
    (load_csv's max_bytes), the whole file is read once, at Import; a bad row past the
    start keeps the dialog open with the error, and the next Import reads it again."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from anndesigner.data import csvfile
    from anndesigner.ui.data import csvdialog

    monkeypatch.setattr(csvfile, "PREVIEW_BYTES", 4096)
    calls = []
    real = csvdialog.load_csv

    def counting(path, **kw):
        calls.append(kw.get("max_bytes"))
        return real(path, **kw)

    monkeypatch.setattr(csvdialog, "load_csv", counting)
    path = tmp_path / "big.csv"
    path.write_text("a,b,c,y\n" + "".join(f"{i},{i / 2},{i % 7},{i % 2}\n" for i in range(3000))
                    + "1,2,oops,0\n")
    d = make_dialog(qtbot, path)
    d.set_role("c", "ignore")
    d.set_standardize(False)
    d.set_role("c", "input")
    d.set_task("classification")
    assert calls and all(b == 4096 for b in calls)  # no change read the whole file
    assert d.is_valid() and d.ok_button().isEnabled() and d.preview_title.text() == "PREVIEW · FIRST 20 ROWS"
    assert "the whole file is read at Import" in d.summary_label.text()
    calls.clear()
    ok = d.ok_button()
    QTest.mouseClick(ok, Qt.MouseButton.LeftButton, pos=ok.rect().center())
    assert calls == [None] and d.result() != d.DialogCode.Accepted and d.isVisible()
    assert not d.is_valid() and not ok.isEnabled()
    assert d.error_text() == "big.csv, line 3002, column 'c': 'oops' is not a number"
    assert d.error_label.isVisible() and "Line 3002 is not in the preview" in d.note_text()
    d.set_role("c", "ignore")  # checked on the start again, read whole at the next Import
    assert d.is_valid() and calls[-1] == 4096
    calls.clear()
    QTest.mouseClick(ok, Qt.MouseButton.LeftButton, pos=ok.rect().center())
    assert calls == [None] and d.result() == d.DialogCode.Accepted
    ds = d.dataset()
    assert len(ds) == 3001 and ds.input_names == ["a", "b"] and ds.scaler is None
    assert d.source()["inputs"] == ["a", "b"] and calls == [None]  # read once, kept
    assert "PREVIEW · 20 OF 3,001 ROWS" == d.preview_title.text()
