"""The designer window: files, examples, edits through menus, settings."""

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QDockWidget, QMessageBox  # noqa: E402

import anndesigner as ad  # noqa: E402
from anndesigner.paths import sample_files  # noqa: E402
from anndesigner.ui.mainwindow import MainWindow  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def window(main_window, settings):
    return main_window(settings=settings)


def model_state(w):
    return w.document.graph.to_dict()


def test_main_parts_have_object_names(window):
    for name in ("palette", "canvas", "inspector"):
        assert window.findChild(object, name) is not None, name
    assert window.undo_stack is window.document.undo_stack
    assert {d.objectName() for d in window.findChildren(QDockWidget)} == {
        "paletteDock", "inspectorDock", "dataDock", "trainingDock", "plotsDock", "surfaceDock", "explainDock"}
    menus = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert menus == ["File", "Edit", "View", "Training", "Examples", "Help"]


def test_open_save_reopen_same_graph_and_layout(window, qtbot, tmp_path, settings):
    assert window.open_file(SAMPLES / "xor.ann")
    assert window.windowTitle().startswith("xor.ann")
    assert window.scene.node_item("dense_1") is not None
    window.document.push(__import__("anndesigner.ui.commands", fromlist=["x"]).MoveNodesCommand(
        window.document, {"dense_1": (window.document.graph.nodes["dense_1"].position, (321.0, 123.0))}))
    assert window.isWindowModified()
    out = tmp_path / "copy.ann"
    assert window._save_to(out)
    assert not window.isWindowModified() and window.windowTitle().startswith("copy.ann")
    w2 = MainWindow(settings)
    qtbot.addWidget(w2)
    w2.ask_save_changes = lambda: QMessageBox.StandardButton.Discard
    assert w2.open_file(out)
    assert model_state(w2) == model_state(window)
    assert w2.document.graph.nodes["dense_1"].position == (321.0, 123.0)
    assert w2.scene.node_item("dense_1").pos().x() == pytest.approx(321.0)
    assert window._recent()[0] == str(out.resolve())


def test_bad_file_shows_message_and_keeps_document(window, tmp_path):
    window.open_file(SAMPLES / "xor.ann")
    before = model_state(window)
    bad = tmp_path / "bad.ann"
    bad.write_text("garbage")
    assert not window.open_file(bad)
    assert window.errors == ["bad.ann: not a network file (it is not a zip archive)"]
    assert model_state(window) == before and window.windowTitle().startswith("xor.ann")


def test_examples_menu_opens_every_sample(window):
    from PySide6.QtWidgets import QLabel, QPlainTextEdit

    actions = [a for a in window.examples_menu.actions() if not a.isSeparator()]
    # in the gallery's order, each titled as in its file
    assert [a.objectName() for a in actions] == [f"example_{p.stem}" for p in sample_files()]
    for a in actions:
        a.trigger()
        meta = window.document.graph.meta
        assert window.document.graph.nodes, a.text()
        assert window.document.path is None  # an untitled copy: saving never overwrites the sample
        assert a.text() == meta["title"]
        # the description and target are shown as it opens: in the inspector (nothing selected)
        desc = window.inspector.findChild(QPlainTextEdit, "meta_description")
        assert desc.toPlainText() == meta["description"]
        target = window.inspector.findChild(QLabel, "meta_target")
        assert target.text().startswith("Target: ") and not target.isHidden()
    assert not window.errors


def test_unsaved_changes_prompt_save_discard_cancel(window, monkeypatch, tmp_path):
    window.open_file(SAMPLES / "xor.ann")
    window.view.add_node_at_center("Dropout")
    assert window.document.modified
    before = model_state(window)
    monkeypatch.setattr(window, "ask_save_changes", lambda: QMessageBox.StandardButton.Cancel)
    assert not window.new_document()
    assert model_state(window) == before
    monkeypatch.setattr(window, "ask_save_changes", lambda: QMessageBox.StandardButton.Discard)
    assert window.new_document()
    assert window.document.graph.nodes == {} and not window.document.modified
    window.view.add_node_at_center("Dense")
    target = tmp_path / "saved.ann"
    monkeypatch.setattr(window, "ask_save_changes", lambda: QMessageBox.StandardButton.Save)
    monkeypatch.setattr(window, "save_as", lambda: window._save_to(target))
    assert window.new_document()
    assert ad.load(target).graph.nodes["dense_1"].type_id == "Dense"


def test_delete_copy_paste_duplicate_undo(window):
    window.open_file(SAMPLES / "xor.ann")
    doc = window.document
    start = model_state(window)
    window.scene.select_ids(["dense_1"])
    window.copy()
    window.paste()
    assert len(doc.graph.nodes) == 4
    new = [n for n in doc.graph.nodes if n not in start and n.startswith("dense")]
    assert new and doc.graph.nodes[new[0]].params == doc.graph.nodes["dense_1"].params
    window.scene.select_ids(["dense_1"])
    window.delete_selection()
    assert "dense_1" not in doc.graph.nodes and len(doc.graph.edges) == 0
    window.act_undo.trigger()
    window.act_undo.trigger()
    assert model_state(window) == start
    window.scene.select_ids(["input_1", "dense_1"])
    window.duplicate()
    assert len(doc.graph.nodes) == 5 and len(doc.graph.edges) == 3  # the wire between the copies is kept
    window.scene.select_ids(["dense_1"])
    window.cut()
    assert "dense_1" not in doc.graph.nodes
    window.act_undo.trigger()
    assert "dense_1" in doc.graph.nodes


def test_expand_collapse_from_the_menu_keeps_outputs(window):
    window.open_file(SAMPLES / "xor.ann")
    net = window.document.network
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
    before = net.predict(X)
    window.scene.select_ids(["dense_1"])
    assert window.act_expand.isEnabled()
    window.act_expand.trigger()
    neurons = [n for n, v in window.document.graph.nodes.items() if v.type_id == "Neuron"]
    assert len(neurons) == 4
    assert all(window.scene.node_item(n) is not None for n in neurons)
    np.testing.assert_array_equal(net.predict(X), before)
    window.scene.select_ids(neurons)
    assert window.act_collapse.isEnabled()
    window.act_collapse.trigger()
    assert sum(v.type_id == "Dense" for v in window.document.graph.nodes.values()) == 1
    np.testing.assert_array_equal(net.predict(X), before)
    window.act_undo.trigger()
    window.act_undo.trigger()
    assert "dense_1" in window.document.graph.nodes


def test_auto_layout_is_one_undo_step(window):
    window.open_file(SAMPLES / "xor.ann")
    g = window.document.graph
    for n in g.nodes:
        g.move_node(n, (0, 0))
    window.act_layout.trigger()
    xs = [g.nodes[n].position[0] for n in ("input_1", "dense_1", "output_1")]
    assert xs[0] < xs[1] < xs[2]
    window.act_undo.trigger()
    assert all(n.position == (0.0, 0.0) for n in g.nodes.values())


def test_geometry_and_docks_restored(qtbot, settings):
    w = MainWindow(settings)
    qtbot.addWidget(w)
    w.show()
    w.resize(720, 520)  # the offscreen screen is 800 x 600
    w.inspector_dock.hide()
    w.close()
    w2 = MainWindow(settings)
    qtbot.addWidget(w2)
    w2.show()
    assert (w2.size().width(), w2.size().height()) == (720, 520)
    assert not w2.inspector_dock.isVisible() and w2.palette_dock.isVisible()


def test_export_png_and_svg(window, tmp_path):
    window.open_file(SAMPLES / "xor.ann")
    window.export_image(tmp_path / "net.png")
    window.export_image(tmp_path / "net.svg")
    from PySide6.QtGui import QImage

    img = QImage(str(tmp_path / "net.png"))
    assert img.width() > 300 and img.height() > 50
    colors = {img.pixelColor(x, y).name() for x in range(0, img.width(), 7) for y in range(0, img.height(), 7)}
    assert len(colors) > 5  # not a blank image
    svg = (tmp_path / "net.svg").read_text()
    assert "<svg" in svg and "dense_1" in svg


def test_shortcuts_list_each_action_once_with_its_main_key(window):
    rows = window.shortcut_rows()
    names = [a for a, _ in rows]
    assert len(names) == len(set(names))
    keys = dict(rows)
    # the training keys were missing
    assert keys["Train / Pause / Resume"] == "F5" and keys["Step One Batch"] == "F6"
    assert keys["Stop Training"] == "Shift+F5"
    assert keys["Undo"] == "Ctrl+Z" and keys["Save"] == "Ctrl+S" and keys["Quit"] == "Ctrl+Q"
    assert keys["Delete"] == "Del"  # the main key only (Backspace also deletes)
    assert keys["Getting Started"] == "F1"
    # every menu action that has a key is listed, once
    from PySide6.QtGui import QKeySequence

    def menu_actions(menu):
        for a in menu.actions():
            if a.menu() is not None:
                yield from menu_actions(a.menu())
            elif not a.isSeparator() and not a.shortcut().isEmpty():
                yield a

    listed = {k for _, k in rows}
    acts = [a for m in window.menuBar().actions() if m.menu() for a in menu_actions(m.menu())]
    assert acts and all(a.shortcut().toString(QKeySequence.SequenceFormat.NativeText) in listed for a in acts)
    assert len(rows) == len(acts) + 5  # and the five mouse gestures


def test_command_line_opens_the_file_in_the_window(monkeypatch):
    from anndesigner import cli
    from anndesigner.ui import app

    seen = []
    monkeypatch.setattr(app, "run_gui", lambda path: seen.append(path) or 0)
    assert cli.main([str(SAMPLES / "xor.ann")]) == 0
    assert cli.main([]) == 0
    assert seen == [str(SAMPLES / "xor.ann"), None]


# ----------------------------------------------------------- fits the screen
def test_fit_geometry_shrinks_and_moves_onto_the_screen():
    from PySide6.QtCore import QMargins, QRect

    from anndesigner.ui.mainwindow import fit_geometry

    laptop = QRect(0, 0, 1366, 728)  # 1366 x 768 less a 40 px panel
    frame = QMargins(4, 30, 4, 4)
    g = fit_geometry(QRect(100, 100, 1280, 800), laptop, frame)
    assert (g.width(), g.height()) == (1280, 728 - 34)
    assert g.top() - 30 >= 0 and g.bottom() + 4 <= 727 and g.right() + 4 <= 1365
    # a window saved on a second screen to the right comes back onto this one
    g = fit_geometry(QRect(2000, 50, 900, 600), laptop, frame)
    assert (g.width(), g.height()) == (900, 600) and g.left() - 4 >= 0 and g.right() + 4 <= 1365
    # a window that fits stays where it is
    assert fit_geometry(QRect(200, 100, 800, 500), laptop, frame) == QRect(200, 100, 800, 500)


def test_saved_geometry_too_big_for_the_screen_is_fitted(qtbot, settings):
    w = MainWindow(settings)
    qtbot.addWidget(w)
    w.show()
    avail = w.screen().availableGeometry()
    w.setGeometry(avail.x() + 300, avail.y() + 200, avail.width() + 400, avail.height() + 300)
    w.close()  # saves that geometry
    w2 = MainWindow(settings)
    qtbot.addWidget(w2)
    w2.show()
    assert avail.contains(w2.frameGeometry()), (w2.frameGeometry(), avail)


FIT_CHILD = """
import json, sys
from PySide6.QtCore import QSettings, QTimer
from anndesigner.ui.app import make_app
from anndesigner.ui.mainwindow import MainWindow
app = make_app()
w = MainWindow(QSettings(sys.argv[1], QSettings.Format.IniFormat))
w.show()
def report():
    a, f = w.screen().availableGeometry(), w.frameGeometry()
    print(json.dumps({"avail": [a.x(), a.y(), a.width(), a.height()], "frame": [f.x(), f.y(), f.width(), f.height()],
                      "train": w.training_panel.train_button.isVisible()}), flush=True)
    w.close()
QTimer.singleShot(200, report)
sys.exit(app.exec())
"""


@pytest.mark.parametrize("width,height", [(1366, 768), (1920, 1080)])
def test_the_first_window_fits_the_screen(tmp_path, width, height):
    """On a 1366 x 768 screen the 1280 x 800 window was taller than the screen."""
    import json
    import os
    import subprocess
    import sys

    cfg = tmp_path / "screen.json"
    cfg.write_text(json.dumps({"windowFrameMargins": True, "screens": [
        {"name": "S", "x": 0, "y": 0, "width": width, "height": height, "logicalDpi": 96, "logicalBaseDpi": 96,
         "dpr": 1}]}))
    script = tmp_path / "child.py"
    script.write_text(FIT_CHILD)
    env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={cfg}", XDG_CONFIG_HOME=str(tmp_path),
               ANNDESIGNER_DATA_DIR=str(tmp_path / "data"))
    p = subprocess.run([sys.executable, str(script), str(tmp_path / "s.ini")], env=env, capture_output=True,
                       text=True, timeout=90)
    assert p.returncode == 0, p.stderr[-2000:]
    out = json.loads(p.stdout.splitlines()[-1])
    ax, ay, aw, ah = out["avail"]
    fx, fy, fw, fh = out["frame"]
    assert (aw, ah) == (width, height)
    assert ax <= fx and ay <= fy and fx + fw <= ax + aw and fy + fh <= ay + ah, out
    assert fw >= min(1280, aw - 8) and out["train"]


def test_after_a_run_the_canvas_shows_the_documents_weights_copied_once(window, qtbot, monkeypatch):
    """A run that pushed its result had the canvas and the thumbnails follow it already (the
    thumbnails' copy of the network was made twice); one that pushed nothing (diverged at its
    first batch) puts the document's weights back in place of its snapshot's."""
    from anndesigner.ui import commands as C
    from anndesigner.ui.canvas import thumbnails

    w = window
    w.open_file(SAMPLES / "xor.ann", ask=False)
    made = []
    real = thumbnails.SurfaceEvaluator
    monkeypatch.setattr(thumbnails, "SurfaceEvaluator", lambda net: made.append(net) or real(net))
    for lr, pushed in ((0.1, True), (1e300, False)):
        w.document.push(C.SetTrainingCommand(w.document, epochs=3, learning_rate=lr, optimizer="sgd",
                                             optimizer_params={}))
        n = w.document.undo_stack.count()
        made.clear()
        w.training.start()
        qtbot.waitUntil(lambda: w.training.state == "idle", timeout=30000)
        assert (w.document.undo_stack.count() == n + 1) == pushed
        assert len(made) == 1
        want = w.document.network.get_weights()
        shown = w.scene.shown_weights()
        assert set(shown) == set(want)
        for k, v in want.items():
            np.testing.assert_array_equal(shown[k], v)
