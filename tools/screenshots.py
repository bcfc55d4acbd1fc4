"""Regenerate the README screenshots (run from the repository root):

    QT_QPA_PLATFORM=offscreen python tools/screenshots.py

Each picture is the real window rendered offscreen, so the README shows what
the code does today. The last two are the first window as it opens on a
1366 x 768 and a 1920 x 1080 screen (each in a child process with an offscreen
screen of that size), with the spirals sample trained for a few epochs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QWidget  # noqa: E402

from anndesigner.ui.app import make_app  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "images"


def settle(app, n: int = 5) -> None:
    for _ in range(n):
        app.processEvents()


def train_to_end(app, w, epochs: int) -> None:
    """Train in the window for exactly ``epochs`` epochs (the document's setting,
    one undo step) and wait until the run is over (120 s at most), so a shot
    shows the same weights, curves and surface on every run."""
    w.document.editor.set_training(epochs=epochs)
    w.training.start()
    t0 = time.perf_counter()
    while w.training.run is not None and time.perf_counter() - t0 < 120:
        app.processEvents()
        time.sleep(0.002)
    if w.training.run is not None:
        raise SystemExit(f"training {epochs} epochs took more than 120 s")


def let_views_draw(app) -> None:
    """Let the views draw what they were sent (throttled to 30 Hz)."""
    for _ in range(10):
        app.processEvents()
        time.sleep(0.04)


def wires_at_rest(app, w) -> None:
    """Let explain mode's dots reach the ends of their wires (the picture is then always the same)."""
    deadline = time.monotonic() + 5
    while w.explain.wires.running() and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.02)


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
    doc.push(C.SetTrainingCommand(doc, epochs=120, batch_size=16, learning_rate=0.03, validation_split=0.25))
    w.resize(1400, 900)
    w.plots_dock.raise_()
    w.scene.select_ids(["dense_1"])
    settle(app)
    w.view.fit_to_window()
    train_to_end(app, w, 120)
    let_views_draw(app)
    w.grab().save(str(OUT / "designer-training.png"))
    print("wrote", OUT / "designer-training.png")

    # a convolutional network on the digits: the data as images, the filters as a mosaic
    w.document.undo_stack.setClean()
    w.open_example(ROOT / "samples" / "digits-cnn.ann")
    w.data_dock.raise_()
    settle(app)
    w.view.fit_to_window()
    w.scene.select_ids(["conv2d_1"])
    train_to_end(app, w, 8)
    from PySide6.QtWidgets import QTabWidget

    tabs = w.plots.findChild(QTabWidget)
    tabs.setCurrentIndex(next(i for i in range(tabs.count()) if tabs.tabText(i) == "Weights"))
    let_views_draw(app)
    w.grab().save(str(OUT / "designer-cnn.png"))
    print("wrote", OUT / "designer-cnn.png")
    explain_shots(app, w)
    tour_shot(app, w)
    imported_shot(app, w, Path(tmp))
    w.ask_save_changes = lambda: __import__("PySide6.QtWidgets", fromlist=["QMessageBox"]).QMessageBox.StandardButton.Discard
    w.close()
    return 0


#: per sample: (file, data row, prefix of the pictures, the frames to picture: name -> condition)
EXPLAIN_SHOTS = (
    ("xor.ann", 2, "explain", (  # x = (1, 0), target 1
        ("forward", lambda f: f.node_id == "dense_1" and f.curve is not None),
        ("loss", lambda f: f.phase == "loss"),
        ("backward", lambda f: f.phase == "backward" and "kernel" in f.title),
        ("update", lambda f: f.title == "dense_1/kernel · update"))),
    ("digits-cnn.ann", 0, "explain-cnn", (
        ("forward", lambda f: f.phase == "forward" and f.node_id == "conv2d_1"),
        ("loss", lambda f: f.phase == "loss"),
        ("backward", lambda f: f.phase == "backward" and f.node_id == "conv2d_1"),
        ("update", lambda f: f.phase == "update" and f.node_id == "conv2d_1"))),
    ("tiny-transformer.ann", 0, "explain-transformer", (
        ("forward", lambda f: f.phase == "forward" and f.node_id == "selfattention_1"),
        ("loss", lambda f: f.phase == "loss"),
        ("backward", lambda f: f.phase == "backward" and f.node_id == "selfattention_1"),
        ("update", lambda f: f.phase == "update" and f.node_id == "selfattention_1"))),
)


def explain_shots(app, w) -> None:
    """Explain mode on xor.ann (sample (1, 0)), digits-cnn and tiny-transformer:
    one picture per stage."""
    for sample, row, prefix, stages in EXPLAIN_SHOTS:
        w.document.undo_stack.setClean()
        w.open_example(ROOT / "samples" / sample)
        w.resize(1400, 900)
        settle(app)
        w.view.fit_to_window()
        p = w.explain.panel
        p.typed.clear()
        p.row.setValue(row)
        w.explain.start()

        def until(cond) -> None:
            while not cond(p.stepper.frame) and p.step_forward():
                pass

        for name, cond in stages:
            until(cond)
            if not cond(p.stepper.frame):
                raise SystemExit(f"{sample}: no frame for the {name} picture")
            let_views_draw(app)
            wires_at_rest(app, w)
            out = OUT / f"{prefix}-{name}.png"
            w.grab().save(str(out))
            print("wrote", out)
        if sample in INSIDE_SHOTS:
            inside_shot(app, w, prefix, *INSIDE_SHOTS[sample])
        w.explain.dock.hide()
        w.training_dock.raise_()


def imported_shot(app, w, tmp: Path) -> None:
    """A small CNN built in PyTorch, exported by torch.onnx.export, opened in the designer
    (skipped, saying so, where PyTorch or onnx is not installed)."""
    try:
        import warnings

        import torch
        from torch import nn
    except ImportError:
        print("skipped imported-onnx.png: PyTorch is not installed (pip install '.[interop]')")
        return
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(4 * 4 * 4, 16), nn.Tanh(), nn.Linear(16, 10), nn.Softmax(dim=1)).eval()
    path = tmp / "torch-cnn.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.zeros(1, 1, 8, 8),), str(path), dynamo=False, opset_version=17,
                          input_names=["image"], output_names=["digit"],
                          dynamic_axes={"image": {0: "batch"}, "digit": {0: "batch"}})
    w.document.undo_stack.setClean()
    if not w.open_file(path, ask=False):
        raise SystemExit("the PyTorch model did not import")
    w.resize(1400, 900)
    settle(app)
    w.view.fit_to_window()
    first = next(iter(w.document.graph.nodes))
    w.scene.select_ids([n for n in w.document.graph.nodes if w.document.graph.nodes[n].type_id == "Conv2D"][:1]
                       or [first])
    let_views_draw(app)
    out = OUT / "imported-onnx.png"
    w.grab().save(str(out))
    print("wrote", out)
    w.document.undo_stack.setClean()


def tour_shot(app, w) -> None:
    """The XOR sample's guided tour at the step that walks the hidden layer."""
    w.document.undo_stack.setClean()
    w.open_example(ROOT / "samples" / "xor.ann")
    w.resize(1400, 900)
    settle(app)
    w.view.fit_to_window()
    tour = w.document.network.tour
    if tour is None:
        raise SystemExit("xor.ann has no tour")
    w.tours.start(tour)
    for _ in range(4):
        w.tours.next()
    let_views_draw(app)
    wires_at_rest(app, w)
    out = OUT / "tour-xor.png"
    w.grab().save(str(out))
    print("wrote", out)
    w.tours.close()
    w.explain.dock.hide()
    w.training_dock.raise_()


def _pick_conv(view):
    view.show_cell(4, 2, 18)


def _pick_attention(view):
    view.show_query(3, 1)


#: per sample: the node whose inside view is pictured, the view's class name, and what to pick in it
INSIDE_SHOTS = {
    "digits-cnn.ann": ("conv2d_2", "ConvInside", _pick_conv),
    "tiny-transformer.ann": ("selfattention_1", "AttentionInside", _pick_attention),
}


def inside_shot(app, w, prefix: str, node_id: str, cls: str, pick) -> None:
    """The "Look inside…" window of one layer, with one cell's arithmetic open."""
    p = w.explain.panel
    p.stepper.to_start()
    while not (p.stepper.frame.phase == "forward" and p.stepper.frame.node_id == node_id) and p.stepper.forward():
        pass
    p._show()
    dlg = p.open_inside()
    if dlg is None:
        raise SystemExit(f"{prefix}: no inside view for {node_id}")
    view = next(c for c in dlg.findChildren(QWidget) if type(c).__name__ == cls)
    dlg.resize(900, 700)
    pick(view)
    let_views_draw(app)
    out = OUT / f"{prefix}-inside.png"
    dlg.grab().save(str(out))
    print("wrote", out)
    dlg.close()


SCREENS = ((1366, 768), (1920, 1080))


def screen_shot(out: str) -> int:
    """The first window on this process's screen, in its default size and layout."""
    app = make_app()
    from anndesigner.ui.mainwindow import MainWindow

    tmp = tempfile.mkdtemp()
    w = MainWindow(QSettings(os.path.join(tmp, "s.ini"), QSettings.Format.IniFormat))
    w.show()
    settle(app, 20)
    w.open_example(ROOT / "samples" / "spirals.ann")
    w.plots_dock.raise_()
    settle(app, 20)
    train_to_end(app, w, 40)
    let_views_draw(app)
    frame, avail = w.frameGeometry(), w.screen().availableGeometry()
    w.grab().save(out)
    print(f"wrote {out}: window frame {frame.width()}x{frame.height()} at ({frame.x()}, {frame.y()}) "
          f"on a {avail.width()}x{avail.height()} screen")
    w.document.undo_stack.setClean()
    w.close()
    return 0


def screen_config(folder: str, width: int, height: int) -> str:
    """QT_QPA_PLATFORM for an offscreen screen of this size (the window fits the screen it opens on)."""
    cfg = os.path.join(folder, f"screen-{width}x{height}.json")
    with open(cfg, "w") as f:
        json.dump({"windowFrameMargins": True, "screens": [
            {"name": "S", "x": 0, "y": 0, "width": width, "height": height,
             "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}, f)
    return f"offscreen:configfile={cfg}"


def run_child(folder: str, screen: tuple[int, int], *args: str) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM=screen_config(folder, *screen),
               ANNDESIGNER_DATA_DIR=os.path.join(folder, "data"))
    subprocess.run([sys.executable, __file__, *args], env=env, check=True, timeout=600)


def all_shots() -> int:
    tmp = tempfile.mkdtemp()
    run_child(tmp, (1920, 1080), "--gallery")  # the README's pictures, on a screen they fit
    for width, height in SCREENS:
        run_child(tmp, (width, height), "--screen-shot", str(OUT / f"window-{width}x{height}.png"))
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--screen-shot"]:
        sys.exit(screen_shot(sys.argv[2]))
    sys.exit(main() if sys.argv[1:2] == ["--gallery"] else all_shots())
