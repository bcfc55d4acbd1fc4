"""What the output maps on the canvas's nodes cost while xor trains in the window.

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_output_maps.py [--seconds 5] [--rounds 2]

Trains samples/xor.ann expanded to neurons (so every neuron shows a map) flat out in one
window, alternately with View > Output Maps on Nodes on and off (same process, same
window, rounds interleaved), and prints steps/s both ways, their ratio, and how many map
refreshes (one 20×20 forward pass each) ran per second. Target: maps cost ≤ 10 %.

This process unsets OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE before NumPy loads (as the
other benchmarks do) so OpenBLAS picks its kernels for the machine it runs on.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
    os.environ.pop(_var, None)
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import argparse  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def train_for(app, w, seconds: float) -> tuple[float, int]:
    """Train flat out for ``seconds``; steps/s and the map refreshes during the run."""
    n0 = w.thumbnails.map_refreshes
    w.training.start()
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        app.processEvents()
        time.sleep(0.0005)
    steps = w.training.run.batches
    elapsed = time.perf_counter() - t0
    w.training.stop_and_wait()
    app.processEvents()
    return steps / elapsed, w.thumbnails.map_refreshes - n0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QMessageBox

    from anndesigner.ui import commands as C
    from anndesigner.ui.app import make_app
    from anndesigner.ui.mainwindow import MainWindow

    app = make_app()
    settings = QSettings(os.path.join(tempfile.mkdtemp(), "s.ini"), QSettings.Format.IniFormat)
    w = MainWindow(settings)
    w.ask_save_changes = lambda: QMessageBox.StandardButton.Discard
    w.resize(1400, 900)
    w.show()
    w.open_file(ROOT / "samples" / "xor.ann", ask=False)
    w.scene.select_ids(["dense_1"])
    w.act_expand.trigger()
    w.act_actual.trigger()  # 100 %: the maps are drawn (not the low-detail shapes)
    w.document.push(C.SetTrainingCommand(w.document, epochs=10**7))
    app.processEvents()
    on, off, refreshes = [], [], []
    for _ in range(args.rounds):
        for maps in (True, False):
            if w.act_output_maps.isChecked() != maps:
                w.act_output_maps.trigger()
            rate, n = train_for(app, w, args.seconds)
            (on if maps else off).append(rate)
            if maps:
                refreshes.append(n / args.seconds)
    w.close()
    r_on, r_off = sum(on) / len(on), sum(off) / len(off)
    print(f"xor expanded to neurons; {args.rounds} rounds of {args.seconds:g} s each way (2-core machine; noisy)")
    print(f"maps on:   {r_on:10,.0f} steps/s   ({sum(refreshes) / len(refreshes):.1f} map refreshes/s)")
    print(f"maps off:  {r_off:10,.0f} steps/s")
    print(f"on / off:  {r_on / r_off:10.3f}   (cost {100 * (1 - r_on / r_off):.1f} %; "
          f"target ≤ 10 %: {'PASS' if r_on >= 0.9 * r_off else 'MISS'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
