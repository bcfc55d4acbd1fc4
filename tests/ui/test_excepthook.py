"""Unexpected exceptions in the window (issue 10, "the window under its own bugs").

Each exception is raised where a user would meet it (an action's slot, a timer,
a mouse press, a model listener, a paint) and delivered by the application's
own event loop; PySide hands it to ``sys.excepthook``, which here is the
reporter under test. pytest-qt's own capture of such exceptions is switched off
(``qt_no_exception_capture``) so that the hook sees them as in the app.
"""

import io
import os
import subprocess
import sys
import textwrap
import traceback
import types
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QPointF, QSettings, Qt, QTimer  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QMessageBox  # noqa: E402

from anndesigner.ui import excepthook  # noqa: E402
from anndesigner.ui.canvas import NewWireGesture  # noqa: E402
from anndesigner.ui.canvas import items as canvas_items  # noqa: E402
from anndesigner.ui.mainwindow import MainWindow  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
LEFT = Qt.MouseButton.LeftButton
NOMOD = Qt.KeyboardModifier.NoModifier

pytestmark = pytest.mark.qt_no_exception_capture


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    w = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    monkeypatch.setattr(w, "ask_save_changes", lambda: QMessageBox.StandardButton.Discard)
    qtbot.addWidget(w)
    w.resize(1100, 760)
    w.show()
    qtbot.waitExposed(w)
    assert w.open_file(SAMPLES / "xor.ann")
    qtbot.wait(20)
    return w


class Recorder:
    """A ``show`` for the reporter: records each report and where it was shown from."""

    def __init__(self, window):
        self.window = window
        self.shown = []
        self.stacks = []
        self.painting = []

    def __call__(self, report):
        self.shown.append(report)
        self.stacks.append([f.name for f in traceback.extract_stack()])
        self.painting.append(self.window.view.viewport().paintingActive())
        return None


@pytest.fixture
def reporter(window, monkeypatch):
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # restored after the test
    rec = Recorder(window)
    out = io.StringIO()
    r = excepthook.install(lambda: window, show=rec, stream=out)
    r.recorder, r.out = rec, out
    yield r
    r.uninstall()


def shown_outside(rec, *names):
    """No report was shown from inside one of the functions that raised."""
    return all(not set(names) & set(stack) for stack in rec.stacks)


def test_an_action_slot_error_is_reported_once_and_the_window_goes_on(window, reporter, qtbot, monkeypatch):
    from anndesigner.ui import commands as C

    def boom_layout(doc):
        raise ZeroDivisionError("layout boom")

    orig = C.auto_layout_command
    monkeypatch.setattr(C, "auto_layout_command", boom_layout)
    QTimer.singleShot(0, window.act_layout.trigger)  # the menu's action, from the event loop
    qtbot.waitUntil(lambda: bool(reporter.recorder.shown))
    qtbot.wait(30)
    (r,) = reporter.recorder.shown
    assert r.type_name == "ZeroDivisionError" and r.message == "layout boom" and r.count == 1
    assert "ZeroDivisionError: layout boom" in r.text and "boom_layout" in r.details
    assert "Traceback" in reporter.out.getvalue()
    assert shown_outside(reporter.recorder, "boom_layout", "auto_layout")
    # the same error again while its report is open: counted, no second report
    QTimer.singleShot(0, window.act_layout.trigger)
    qtbot.waitUntil(lambda: r.count == 2)
    assert len(reporter.recorder.shown) == 1 and r.count_text == "This error happened 2 times."
    # after the user closed it: the status bar counts it
    reporter.report_closed(r)
    QTimer.singleShot(0, window.act_layout.trigger)
    qtbot.waitUntil(lambda: r.count == 3)
    qtbot.waitUntil(lambda: "happened again (3 times)" in window.statusBar().currentMessage())
    assert len(reporter.recorder.shown) == 1
    monkeypatch.setattr(C, "auto_layout_command", orig)
    assert window.isVisible() and window.open_file(SAMPLES / "xor.ann")


def test_a_timer_error_is_reported(window, reporter, qtbot):
    def boom_timer():
        raise KeyError("timer boom")

    QTimer.singleShot(0, boom_timer)
    qtbot.waitUntil(lambda: bool(reporter.recorder.shown))
    (r,) = reporter.recorder.shown
    assert r.type_name == "KeyError" and "timer boom" in r.message
    assert shown_outside(reporter.recorder, "boom_timer")


def test_a_mouse_press_error_is_reported_and_the_canvas_still_works(window, reporter, qtbot, monkeypatch):
    def boom_start(self, pos):
        raise RuntimeError("press boom")

    orig = NewWireGesture.start
    monkeypatch.setattr(NewWireGesture, "start", boom_start)
    view, scene = window.view, window.scene
    port = view.mapFromScene(scene.node_item("dense_1").out_port_scene())
    QTimer.singleShot(0, lambda: QTest.mousePress(view.viewport(), LEFT, NOMOD, port))
    qtbot.waitUntil(lambda: bool(reporter.recorder.shown))
    QTest.mouseRelease(view.viewport(), LEFT, NOMOD, port)
    (r,) = reporter.recorder.shown
    assert r.message == "press boom" and r.count == 1
    assert scene.gesture is None  # no half-started gesture is left behind
    assert shown_outside(reporter.recorder, "boom_start", "mousePressEvent")
    # the canvas still drags nodes
    monkeypatch.setattr(NewWireGesture, "start", orig)
    item = scene.node_item("dense_1")
    before = item.pos()
    a = view.mapFromScene(item.pos())
    b = view.mapFromScene(item.pos() + QPointF(60, 40))
    QTest.mousePress(view.viewport(), LEFT, NOMOD, a)
    for i in range(1, 6):
        QTest.mouseMove(view.viewport(), a + (b - a) * (i / 5))
    QTest.mouseRelease(view.viewport(), LEFT, NOMOD, b)
    assert window.document.graph.nodes["dense_1"].position != (before.x(), before.y())


def test_a_model_listener_error_is_one_report(window, reporter, qtbot):
    def boom_listener(*args):
        raise ValueError("listener boom")

    window.document.graph.node_added.connect(boom_listener)
    QTimer.singleShot(0, lambda: window.palette.addRequested.emit("Dense"))
    qtbot.waitUntil(lambda: bool(reporter.recorder.shown))
    qtbot.wait(50)
    (r,) = reporter.recorder.shown
    assert r.type_name == "ValueError" and r.message == "listener boom" and r.count == 1
    assert shown_outside(reporter.recorder, "boom_listener", "redo")
    window.document.graph.node_added.disconnect(boom_listener)
    assert window.isVisible() and window.open_file(SAMPLES / "xor.ann")


def test_a_failing_paint_is_reported_once_outside_paint(window, reporter, qtbot, monkeypatch):
    """A paint that fails every frame: one report, shown from outside any paint, counted."""
    orig = canvas_items.BlockItem.paint
    state = {"fail": True, "raised": 0}

    def paint(self, painter, option, widget=None):
        if state["fail"]:
            state["raised"] += 1
            raise RuntimeError("paint boom")
        return orig(self, painter, option, widget)

    # on the items: PySide looks a class's override up once, so patching the class now would not be seen
    blocks = [it for it in window.scene.node_items() if isinstance(it, canvas_items.BlockItem)]
    assert blocks
    for it in blocks:
        monkeypatch.setattr(it, "paint", types.MethodType(paint, it), raising=False)
    view = window.view
    frames = 24
    ran = []

    def frame(i):
        ran.append(i)
        for it in window.scene.node_items():
            it.update()
        if i % 2:
            view.viewport().repaint()  # painted now, called from Python: PySide hands the error over twice
        else:
            view.viewport().update()  # painted from the event loop

    for i in range(frames):
        QTimer.singleShot(10 * i, lambda i=i: frame(i))
    qtbot.waitUntil(lambda: len(ran) == frames)
    rec = reporter.recorder
    qtbot.waitUntil(lambda: len(rec.shown) == 1)
    qtbot.wait(50)
    assert len(rec.shown) == 1
    (r,) = rec.shown
    assert r.message == "paint boom" and 2 <= r.count <= state["raised"]
    assert rec.painting == [False]  # not shown while the canvas was being painted
    assert shown_outside(rec, "paint")
    assert len(reporter.reports) == 1  # PySide's follow-up errors are not reports of their own
    # the window still paints once the bug is gone
    state["fail"] = False
    for it in window.scene.node_items():
        it.update()
    img = view.grab().toImage()
    dense = view.mapFromScene(window.scene.node_item("dense_1").pos())
    assert img.pixelColor(dense).name() != img.pixelColor(5, 5).name()


def test_the_real_box_is_non_blocking_counts_repeats_and_closes(window, qtbot, monkeypatch):
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    rep = excepthook.install(lambda: window, stream=io.StringIO())

    def boxes():
        return [w for w in QApplication.topLevelWidgets()
                if isinstance(w, QMessageBox) and w.objectName() == "unexpectedErrorBox" and w.isVisible()]

    def boom():
        raise RuntimeError("box boom")

    try:
        for i in range(6):
            QTimer.singleShot(i, boom)
        qtbot.waitUntil(lambda: bool(boxes()) and "6 times" in boxes()[0].informativeText())
        (box,) = boxes()
        assert box.text().startswith("Something went wrong: RuntimeError: box boom")
        assert "Traceback" in box.detailedText() and box.parent() is window
        assert box.windowModality() == Qt.WindowModality.WindowModal
        QTimer.singleShot(0, box.accept)  # the user presses OK
        qtbot.waitUntil(lambda: not boxes())
        (r,) = rep.reports.values()
        assert r.closed and r.count == 6
        QTimer.singleShot(0, boom)  # the same again: the status bar only
        qtbot.waitUntil(lambda: r.count == 7)
        qtbot.wait(20)
        assert not boxes()

        def other():
            raise TypeError("another boom")

        QTimer.singleShot(0, other)  # a different error gets its own box
        qtbot.waitUntil(lambda: len(boxes()) == 1)
        assert "TypeError: another boom" in boxes()[0].text()
        boxes()[0].accept()
        qtbot.waitUntil(lambda: not boxes())
    finally:
        rep.uninstall()


def test_at_most_a_few_boxes_at_once(window, qtbot, monkeypatch):
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    shown = []
    rep = excepthook.install(lambda: window, show=shown.append, stream=io.StringIO())
    try:
        errors = [type(f"Error{i}", (Exception,), {}) for i in range(excepthook.MAX_OPEN + 2)]

        def raiser(cls):
            def f():
                raise cls("x")
            return f

        for cls in errors:
            QTimer.singleShot(0, raiser(cls))
        qtbot.waitUntil(lambda: len(shown) == excepthook.MAX_OPEN)
        qtbot.wait(30)
        assert len(shown) == excepthook.MAX_OPEN and len(rep.waiting) == 2
        rep.report_closed(shown[0])  # one closed: the next one shows
        qtbot.waitUntil(lambda: len(shown) == excepthook.MAX_OPEN + 1)
        assert [r.type_name for r in shown] == [c.__name__ for c in errors[:excepthook.MAX_OPEN + 1]]
    finally:
        rep.uninstall()


CHILD = textwrap.dedent("""
    import os, sys
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox
    from anndesigner.paths import sample_files
    from anndesigner.ui import app as appmod
    from anndesigner.ui.canvas import items

    appmod.make_app()
    orig = items.BlockItem.paint
    state = {"fail": False, "raised": 0}

    def paint(self, painter, option, widget=None):
        if state["fail"]:
            state["raised"] += 1
            raise RuntimeError("paint boom")
        return orig(self, painter, option, widget)

    items.BlockItem.paint = paint

    def window():
        from anndesigner.ui.mainwindow import MainWindow
        return next(w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow))

    frames = []

    def frame():
        frames.append(1)
        w = window()
        for it in w.scene.node_items():
            it.update()
        w.view.viewport().repaint()

    def inject():
        window().open_example(next(p for p in sample_files() if p.stem == "xor"))
        state["fail"] = True
        for i in range(30):
            QTimer.singleShot(10 * i, frame)
        QTimer.singleShot(400, wait_for_box)

    def boxes():
        return [b for b in QApplication.topLevelWidgets() if isinstance(b, QMessageBox) and b.isVisible()]

    def wait_for_box():  # event-driven, not timed: the machine may be slow
        if len(frames) < 30 or not boxes():
            QTimer.singleShot(50, wait_for_box)
            return
        QTimer.singleShot(300, check)  # time for any further box to (wrongly) appear

    def check():
        found = boxes()
        print("BOXES", len(found), "RAISED", state["raised"], flush=True)
        for b in found:
            print("TEXT", b.text().splitlines()[0], flush=True)
        state["fail"] = False
        for b in found:
            b.accept()
        QTimer.singleShot(50, window().close)

    QTimer.singleShot(300, inject)
    QTimer.singleShot(80000, lambda: os._exit(3))  # a hung child ends by itself
    sys.exit(appmod.run_gui(None))
""")


def test_a_real_window_survives_a_failing_paint(tmp_path):
    """The app as started by ``anndesigner``: a paint that fails every frame opened a
    modal box inside the paint event, and the process died with SIGSEGV."""
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "config"),
               ANNDESIGNER_DATA_DIR=str(tmp_path / "data"), PYTHONPATH=str(ROOT))
    p = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=120,
                       cwd=tmp_path)
    assert p.returncode == 0, (p.returncode, p.stdout, p.stderr[-3000:])
    lines = p.stdout.splitlines()
    boxes = next(x for x in lines if x.startswith("BOXES")).split()
    assert boxes[1] == "1" and int(boxes[3]) >= 30  # one box for all the failed frames
    assert "TEXT Something went wrong: RuntimeError: paint boom" in lines
    assert "paint boom" in p.stderr
