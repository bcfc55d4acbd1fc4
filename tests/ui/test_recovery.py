"""Autosave and recovery (issue 10, "Saving"): a crash or a kill loses at most
the autosave interval of work; the next start offers the copy back."""

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QSettings, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox, QPushButton  # noqa: E402

import anndesigner as ad  # noqa: E402
from anndesigner.ui import recovery  # noqa: E402
from anndesigner.ui.mainwindow import MainWindow  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    d = tmp_path / "data"
    monkeypatch.setenv(recovery.ENV_DIR, str(d))
    monkeypatch.setenv(recovery.ENV_INTERVAL, "40")
    return d


@pytest.fixture
def make_window(qtbot, tmp_path, data_dir):
    def make():
        w = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
        w.ask_save_changes = lambda: QMessageBox.StandardButton.Discard
        w.show_error = lambda title, msg, details=None: pytest.fail(f"{title}: {msg}")
        qtbot.addWidget(w)
        w.resize(1000, 700)
        w.show()
        return w
    return make


@pytest.fixture
def xor_copy(tmp_path):
    p = tmp_path / "work" / "net.ann"
    p.parent.mkdir()
    shutil.copy(SAMPLES / "xor.ann", p)
    return p


def files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("*")) if folder.exists() else []


def test_the_timer_writes_a_copy_that_loads_back_to_the_same_graph(make_window, xor_copy, data_dir, qtbot):
    w = make_window()
    assert w.autosaver.timer.interval() == 40
    assert w.open_file(xor_copy)
    qtbot.wait(120)
    assert not w.autosaver.store.exists()  # nothing unsaved: no copy
    w.view.add_node_at_center("Dropout")
    assert w.document.modified
    store = w.autosaver.store
    qtbot.waitUntil(lambda: store.sidecar.exists())
    assert store.file.parent == data_dir / "recovery" and store.file.name.startswith(f"{os.getpid()}-")
    assert ad.load(store.file).graph.to_dict() == w.document.graph.to_dict()
    meta = json.loads(store.sidecar.read_text())
    assert meta["original"] == str(xor_copy) and meta["pid"] == os.getpid() and meta["title"] == "net.ann"
    assert abs(meta["saved_at"] - time.time()) < 600
    assert not [n for n in files(store.folder) if n.endswith(".tmp")]  # written through a temp name
    # another edit reaches the copy at the next tick
    w.view.add_node_at_center("Dense")
    qtbot.waitUntil(lambda: "dense_2" in ad.load(store.file).graph.nodes)
    # a save removes it; so does undoing back to the saved state
    assert w._save_to(xor_copy)
    assert files(store.folder) == []
    w.act_undo.trigger()
    qtbot.waitUntil(store.exists)
    w.act_redo.trigger()
    assert files(store.folder) == []


def test_a_file_opened_by_a_relative_path_is_recovered_to_its_absolute_path(make_window, xor_copy, qtbot,
                                                                           monkeypatch):
    """`anndesigner net.ann` gave the copy the original "net.ann": restored from another folder,
    Save would have written somewhere else."""
    monkeypatch.chdir(xor_copy.parent)
    w = make_window()
    assert w.open_file("net.ann")
    assert w.document.path == xor_copy
    w.view.add_node_at_center("Dropout")
    store = w.autosaver.store
    qtbot.waitUntil(lambda: store.sidecar.exists())
    assert json.loads(store.sidecar.read_text())["original"] == str(xor_copy)


def test_a_clean_quit_and_discarding_remove_the_copy(make_window, xor_copy, qtbot):
    w = make_window()
    w.open_file(xor_copy)
    w.view.add_node_at_center("Dropout")
    qtbot.waitUntil(w.autosaver.store.exists)
    assert w.new_document()  # the changes are discarded
    qtbot.wait(60)
    assert files(w.autosaver.store.folder) == []
    w.view.add_node_at_center("Dense")
    qtbot.waitUntil(w.autosaver.store.exists)
    w.close()
    assert files(w.autosaver.store.folder) == []


def test_a_copy_is_written_when_training_starts(make_window, xor_copy, qtbot, monkeypatch):
    monkeypatch.setenv(recovery.ENV_INTERVAL, str(3_600_000))  # only the training hook writes
    from anndesigner.ui import commands as C

    w = make_window()
    w.open_file(xor_copy)
    g = w.document.graph
    w.document.push(C.MoveNodesCommand(w.document, {"dense_1": (g.nodes["dense_1"].position, (321.0, 123.0))}))
    qtbot.wait(50)
    assert w.document.modified and not w.autosaver.store.exists()
    w.act_train.trigger()
    try:
        qtbot.waitUntil(lambda: w.training.state != "idle", timeout=20000)
        assert w.autosaver.store.exists()  # written as the run started
        assert ad.load(w.autosaver.store.file).graph.nodes["dense_1"].position == (321.0, 123.0)
    finally:
        w.training.stop_and_wait()


def test_a_running_window_keeps_its_copy_from_another(make_window, xor_copy, qtbot, data_dir):
    a = make_window()
    a.open_file(xor_copy)
    a.view.add_node_at_center("Dropout")
    qtbot.waitUntil(a.autosaver.store.exists)
    b = make_window()  # a second window (same process, alive): nothing to recover
    assert recovery.find(b.autosaver.store.folder) == []
    assert not b.offer_recovery(lambda found: pytest.fail("offered a live window's copy"))
    assert a.autosaver.store.exists()
    # a copy whose process is gone is taken by one claimer only
    dead = data_dir / "recovery"
    for suffix in (".ann", ".json"):
        shutil.copy(a.autosaver.store.file.with_suffix(suffix), dead / f"999999999-1{suffix}")
    meta = json.loads((dead / "999999999-1.json").read_text())
    meta["pid"] = 999999999
    (dead / "999999999-1.json").write_text(json.dumps(meta))
    (found,) = recovery.find(dead)
    s1, s2 = recovery.RecoveryStore(dead), recovery.RecoveryStore(dead)
    assert s1.claim(found) == s1.file and s2.claim(found) is None
    s1.remove()


CHILD = textwrap.dedent("""
    import os, sys, time
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    from anndesigner.ui import app as appmod

    appmod.make_app()

    def window():
        from anndesigner.ui.mainwindow import MainWindow
        return next(w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow))

    def edit():
        w = window()
        w.view.add_node_at_center("Dropout")
        w.view.add_node_at_center("Dense")
        def ready():
            if w.autosaver.store.sidecar.exists():
                print("READY", w.autosaver.store.file, flush=True)
            else:
                QTimer.singleShot(20, ready)
        ready()

    QTimer.singleShot(300, edit)
    QTimer.singleShot(60000, lambda: os._exit(3))
    sys.exit(appmod.run_gui(sys.argv[1]))
""")


def test_after_a_kill_the_next_window_restores_the_work(make_window, xor_copy, tmp_path, data_dir, qtbot):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "config"),
               PYTHONPATH=str(ROOT))
    env[recovery.ENV_DIR] = str(data_dir)
    env[recovery.ENV_INTERVAL] = "150"
    child = subprocess.Popen([sys.executable, str(script), str(xor_copy)], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True, cwd=tmp_path)
    try:
        line = ""
        deadline = time.monotonic() + 60
        while not line.startswith("READY") and time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line and child.poll() is not None:
                break
        assert line.startswith("READY"), f"the child did not autosave (exit {child.poll()})"
        time.sleep(0.3)  # a few more autosaves: the kill may land in the middle of one
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=30)
        child.stdout.close()
    found = recovery.find(data_dir / "recovery")
    assert len(found) == 1 and found[0].pid == child.pid
    assert found[0].original == str(xor_copy) and found[0].name == "net.ann"
    assert "net.ann" in found[0].describe()
    w = make_window()
    offered = []
    assert w.offer_recovery(lambda f: offered.append(f) or ("restore", 0))
    assert [f.file for f in offered[0]] == [found[0].file]
    g = w.document.graph
    assert {"dropout_1", "dense_2"} <= set(g.nodes)  # the edits made before the kill
    assert w.document.modified and w.isWindowModified()
    assert w.document.path == xor_copy  # Save writes over the original file
    assert not found[0].file.exists()  # taken over by this window's own copy
    assert w.autosaver.store.exists()
    assert w.act_save.isEnabled()
    w.act_save.trigger()
    assert "dense_2" in ad.load(xor_copy).graph.nodes and not w.document.modified
    assert files(data_dir / "recovery") == []
    assert not recovery.find(data_dir / "recovery")


def _plant(data_dir: Path, name="lost.ann", pid=999999998):
    folder = data_dir / "recovery"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(SAMPLES / "xor.ann", folder / f"{pid}-1.ann")
    (folder / f"{pid}-1.json").write_text(json.dumps({"original": f"/somewhere/{name}", "title": name,
                                                      "saved_at": time.time() - 60, "pid": pid}))
    return folder


def test_the_dialog_lists_the_copies_and_later_keeps_discard_removes(make_window, data_dir, qtbot):
    folder = _plant(data_dir)
    w = make_window()
    seen = []

    def press(label):
        def go():
            dlg = next((d for d in QApplication.topLevelWidgets()
                        if isinstance(d, QDialog) and d.objectName() == "recoveryDialog" and d.isVisible()), None)
            if dlg is None:
                QTimer.singleShot(20, go)
                return
            lst = dlg.findChild(object, "recoveryList")
            seen.append([lst.item(i).text() for i in range(lst.count())])
            next(b for b in dlg.findChildren(QPushButton) if b.text() == label).click()
        QTimer.singleShot(0, go)

    press("Later")
    assert not w.offer_recovery()
    assert len(seen) == 1 and "lost.ann (/somewhere/lost.ann), saved " in seen[0][0]
    assert len(files(folder)) == 2 and not w.document.graph.nodes
    press("Discard")
    assert not w.offer_recovery()
    assert files(folder) == []
    _plant(data_dir, "again.ann")
    press("Restore")
    assert w.offer_recovery()
    assert w.document.path == Path("/somewhere/again.ann") and w.document.modified
    assert "dense_1" in w.document.graph.nodes


def test_damaged_leftovers_are_skipped(data_dir):
    folder = _plant(data_dir)
    (folder / "1-1.json").write_text("{not json")
    (folder / "2-1.json").write_text(json.dumps({"pid": 2}))  # no .ann beside it
    (folder / "3-1.json").write_text("[1, 2]")
    assert [f.name for f in recovery.find(folder)] == ["lost.ann"]
    assert recovery.pid_alive(os.getpid()) and not recovery.pid_alive(999999998)



def test_a_copy_that_cannot_be_opened_is_kept_aside_not_deleted(make_window, data_dir, qtbot):
    """It was deleted: a damaged recovery copy may be all there is of the user's work."""
    folder = _plant(data_dir)
    damaged = (folder / "999999998-1.ann").read_bytes()[:-200]  # cut short
    (folder / "999999998-1.ann").write_bytes(damaged)
    w = make_window()
    errors = []
    w.show_error = lambda title, msg, details=None: errors.append(msg)
    assert not w.offer_recovery(lambda found: ("restore", 0))
    kept = folder / f"unreadable-{w.autosaver.store.stem}.ann"
    assert kept.read_bytes() == damaged
    assert len(errors) == 1 and "lost.ann" in errors[0] and str(kept) in errors[0]
    assert recovery.find(folder) == []  # not offered again at every start
    w.document.undo_stack.setClean()


@pytest.mark.parametrize("meta", [{"saved_at": "yesterday"}, {"saved_at": [1]}, {"saved_at": 1e400},
                                  {"saved_at": -1e300}, {"pid": 10**30}, {"pid": -5}, {"start": [1]}],
                         ids=lambda m: json.dumps(m))
def test_a_damaged_sidecar_value_neither_crashes_the_start_nor_hides_the_copy(data_dir, meta):
    folder = _plant(data_dir)
    side = folder / "999999998-1.json"
    side.write_text(json.dumps({**json.loads(side.read_text()), **meta}))
    found = recovery.find(folder)
    assert [f.name for f in found] == ["lost.ann"]
    if "saved_at" in meta:  # the copy's own time instead
        assert found[0].saved_at == (folder / "999999998-1.ann").stat().st_mtime
    assert "lost.ann (/somewhere/lost.ann), saved " in found[0].describe()

def test_an_unchanged_document_is_not_written_again(make_window, xor_copy, qtbot):
    w = make_window()
    w.open_file(xor_copy)
    w.view.add_node_at_center("Dropout")
    store = w.autosaver.store
    qtbot.waitUntil(store.exists)
    first = store.file.stat().st_mtime_ns
    qtbot.wait(150)  # several ticks, no edit
    assert store.file.stat().st_mtime_ns == first
    assert not w.autosaver.autosave()
    w.view.add_node_at_center("Dense")
    assert w.autosaver.autosave()
    assert "dense_2" in ad.load(store.file).graph.nodes


def test_a_reused_pid_does_not_hide_a_copy(data_dir):
    """The sidecar records the process's start time: a live process with the same pid
    but another start time is not the one that wrote the copy."""
    if recovery.process_start(os.getpid()) is None:
        pytest.skip("no process start times on this system")
    folder = _plant(data_dir, "mine.ann", pid=os.getpid())
    side = folder / f"{os.getpid()}-1.json"
    meta = json.loads(side.read_text())
    meta["start"] = recovery.process_start(os.getpid())
    side.write_text(json.dumps(meta))
    assert recovery.find(folder) == []  # this very process wrote it: it runs
    meta["start"] = "1"  # a process that ran long ago with this pid
    side.write_text(json.dumps(meta))
    assert [f.name for f in recovery.find(folder)] == ["mine.ann"]
