"""Regenerate the README screenshots (run from the repository root):

    QT_QPA_PLATFORM=offscreen python tools/screenshots.py

Each picture is the real window rendered offscreen, so the README shows what
the code does today.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings  # noqa: E402

from anndesigner.ui.app import make_app  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "images"


def settle(app, n: int = 5) -> None:
    for _ in range(n):
        app.processEvents()


def main() -> int:
    app = make_app()
    from anndesigner.ui.mainwindow import MainWindow

    OUT.mkdir(parents=True, exist_ok=True)
    tmp = tempfile.mkdtemp()
    settings = QSettings(os.path.join(tmp, "s.ini"), QSettings.Format.IniFormat)
    w = MainWindow(settings)
    w.resize(1280, 760)
    w.show()
    w.open_file(ROOT / "samples" / "xor.ann", ask=False)
    settle(app)
    w.view.fit_to_window()
    w.scene.select_ids(["dense_1"])
    settle(app)
    w.grab().save(str(OUT / "designer-xor.png"))
    print("wrote", OUT / "designer-xor.png")

    # the same network seen neuron by neuron
    w.act_expand.trigger()
    w.act_layout.trigger()
    w.scene.select_ids([])
    settle(app)
    w.view.fit_to_window()
    settle(app)
    w.grab().save(str(OUT / "designer-xor-neurons.png"))
    print("wrote", OUT / "designer-xor-neurons.png")
    # training, live: circles with a 2-8-1 net, grabbed while it learns
    from anndesigner.ui import commands as C

    w.act_undo.trigger()
    w.act_undo.trigger()
    doc = w.document
    doc.push(C.SetParamsCommand(doc, {"dense_1": {"units": 8}}))
    doc.push(C.SetDataSourceCommand(doc, {"kind": "builtin", "name": "circles",
                                          "params": {"n_samples": 300, "noise": 0.08, "seed": 1},
                                          "standardize": False}))
    doc.push(C.SetTrainingCommand(doc, epochs=400, batch_size=16, learning_rate=0.03, validation_split=0.25))
    w.resize(1400, 900)
    w.plots_dock.raise_()
    w.scene.select_ids(["dense_1"])
    settle(app)
    w.view.fit_to_window()
    w.training.start()
    t0 = time.perf_counter()
    while w.training.run is not None and w.training.run.epochs_done < 120 and time.perf_counter() - t0 < 60:
        app.processEvents()
        time.sleep(0.002)
    w.training.pause()
    for _ in range(10):  # let the views draw the paused state
        app.processEvents()
        time.sleep(0.04)
    w.grab().save(str(OUT / "designer-training.png"))
    print("wrote", OUT / "designer-training.png")
    w.training.stop_and_wait()

    # a convolutional network on the digits: the data as images, the filters as a mosaic
    w.document.undo_stack.setClean()
    w.open_example(ROOT / "samples" / "digits-cnn.ann")
    w.data_dock.raise_()
    settle(app)
    w.view.fit_to_window()
    w.scene.select_ids(["conv2d_1"])
    w.training.start()
    t0 = time.perf_counter()
    while w.training.run is not None and w.training.run.epochs_done < 8 and time.perf_counter() - t0 < 60:
        app.processEvents()
        time.sleep(0.002)
    w.training.pause()
    from PySide6.QtWidgets import QTabWidget

    tabs = w.plots.findChild(QTabWidget)
    tabs.setCurrentIndex(next(i for i in range(tabs.count()) if tabs.tabText(i) == "Weights"))
    for _ in range(10):
        app.processEvents()
        time.sleep(0.04)
    w.grab().save(str(OUT / "designer-cnn.png"))
    print("wrote", OUT / "designer-cnn.png")
    w.training.stop_and_wait()
    w.ask_save_changes = lambda: __import__("PySide6.QtWidgets", fromlist=["QMessageBox"]).QMessageBox.StandardButton.Discard
    w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
