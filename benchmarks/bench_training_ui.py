"""How training with the window attached compares with headless training, and
how responsive the window stays while a small network trains flat out.

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_training_ui.py [--seconds 5]

Prints steps/second headless and with the UI (live plots, wires, decision
surface at <= 30 Hz), their ratio, and the event loop's latency percentiles
(p50/p99/max of how late a 5 ms timer fires) while training runs. Target:
p99 under 50 ms.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import anndesigner as ad  # noqa: E402
from anndesigner.engine import BatchEnd  # noqa: E402


def headless_steps_per_second(path: Path, seconds: float) -> float:
    net = ad.load(path)
    data = ad.dataset("xor")
    tr = net.trainer(data.X, data.Y, epochs=10**7)
    t0 = time.perf_counter()
    n = 0
    for ev in tr.run():
        if isinstance(ev, BatchEnd):
            n += 1
            if n % 200 == 0 and time.perf_counter() - t0 > seconds:
                tr.stop()
    return n / (time.perf_counter() - t0)


def ui_run(path: Path, seconds: float) -> tuple[float, np.ndarray, int]:
    from PySide6.QtCore import QElapsedTimer, QSettings, QTimer
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
    w.open_file(path, ask=False)
    w.document.push(C.SetTrainingCommand(w.document, epochs=10**7))
    frames = [0]
    w.training.snapshotReady.connect(lambda s: frames.__setitem__(0, frames[0] + 1))

    lateness: list[float] = []
    clock = QElapsedTimer()
    tick = QTimer()
    tick.setInterval(5)
    last = [0.0]

    def on_tick():
        now = clock.nsecsElapsed() / 1e6
        if last[0]:
            lateness.append(max(0.0, now - last[0] - 5.0))
        last[0] = now

    tick.timeout.connect(on_tick)
    clock.start()
    tick.start()
    w.training.start()
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        app.processEvents()
        time.sleep(0.0005)
    run = w.training.run
    steps = run.batches
    elapsed = time.perf_counter() - t0
    tick.stop()
    w.training.stop_and_wait()
    w.close()
    return steps / elapsed, np.array(lateness), frames[0]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--file", default=str(ROOT / "samples" / "xor.ann"))
    args = ap.parse_args()
    path = Path(args.file)
    print(f"network: {path.name}; each measurement runs {args.seconds:g} s (2-core machine; noisy)")
    headless = headless_steps_per_second(path, args.seconds)
    ui, late, frames = ui_run(path, args.seconds)
    p50, p99 = np.percentile(late, [50, 99]) if len(late) else (float("nan"), float("nan"))
    print(f"headless training:        {headless:10,.0f} steps/s")
    print(f"training with the window: {ui:10,.0f} steps/s   ({frames / args.seconds:.1f} view updates/s)")
    print(f"UI / headless:            {ui / headless:10.2f}")
    print(f"event loop lateness of a 5 ms timer while training: p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
          f"max {late.max() if len(late) else float('nan'):.1f} ms over {len(late)} ticks")
    print(f"target p99 < 50 ms: {'PASS' if p99 < 50 else 'MISS'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
