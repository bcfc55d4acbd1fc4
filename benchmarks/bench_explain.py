"""How responsive explain mode keeps the window, on xor and digits-cnn.

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_explain.py [--seconds 3]

For each sample: the time to trace one sample (Explain pressed: the engine's
trace, run once, on the event loop), the time of one step (the frame drawn),
and the event loop's lateness (how late a 5 ms timer fires: p50/p99/max)
while the panel plays the whole step at its fastest speed, over and over.
Targets (issue 12): p99 under 16 ms on xor, under 50 ms on digits-cnn (and on tiny-transformer, ours).
This process unsets OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE before NumPy loads
(a user's machine has neither) and prints the kernel in use.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

for _var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
    os.environ.pop(_var, None)
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGETS = {"xor.ann": 16.0, "digits-cnn.ann": 50.0, "tiny-transformer.ann": 50.0}  # the last: ours, beside the two


def kernel() -> str:
    try:
        from threadpoolctl import threadpool_info

        return ", ".join(f"{p.get('internal_api')} {p.get('num_threads')} threads ({p.get('architecture')})"
                         for p in threadpool_info())
    except ImportError:
        return "threadpoolctl not installed"


def measure(w, app, name: str, seconds: float) -> dict:
    from PySide6.QtCore import QElapsedTimer, QTimer

    w.open_file(ROOT / "samples" / name, ask=False)
    for _ in range(10):
        app.processEvents()
    p = w.explain.panel
    t0 = time.perf_counter()
    assert w.explain.start(), p.message.text()
    trace_ms = (time.perf_counter() - t0) * 1000
    steps = []
    while not p.stepper.at_end():
        t0 = time.perf_counter()
        p.step_forward()
        app.processEvents()
        steps.append((time.perf_counter() - t0) * 1000)
    # lateness while playing at the fastest speed, restarting at the end
    p.speed.setValue(p.speed.maximum())
    late: list[float] = []
    clock = QElapsedTimer()
    clock.start()
    last = [clock.nsecsElapsed()]

    def tick():
        now = clock.nsecsElapsed()
        late.append(max(0.0, (now - last[0]) / 1e6 - 5.0))
        last[0] = now

    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(tick)
    timer.start()
    p.stepper.to_start()
    p.b_play.setChecked(True)
    t_end = time.perf_counter() + seconds
    while time.perf_counter() < t_end:
        app.processEvents()
        if not p.b_play.isChecked():  # at the end: again from the start
            p.stepper.to_start()
            p.b_play.setChecked(True)
        time.sleep(0.001)
    timer.stop()
    p.b_play.setChecked(False)
    a = np.array(late[1:] or [0.0])
    return {"trace": trace_ms, "frames": len(p.stepper.frames), "step_p50": float(np.median(steps)),
            "step_max": float(np.max(steps)), "p50": float(np.percentile(a, 50)),
            "p99": float(np.percentile(a, 99)), "max": float(a.max()), "ticks": len(a)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=3.0)
    args = ap.parse_args()
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QMessageBox

    from anndesigner.ui.app import make_app
    from anndesigner.ui.mainwindow import MainWindow

    app = make_app()
    w = MainWindow(QSettings(os.path.join(tempfile.mkdtemp(), "s.ini"), QSettings.Format.IniFormat))
    w.ask_save_changes = lambda: QMessageBox.StandardButton.Discard
    w.resize(1400, 900)
    w.show()
    print(f"explain-mode benchmark · numpy {np.__version__} · {os.cpu_count()} CPUs · load "
          f"{os.getloadavg()[0]:.2f} · {kernel()}")
    missed = 0
    for name, target in TARGETS.items():
        r = measure(w, app, name, args.seconds)
        ok = r["p99"] <= target
        missed += not ok
        print(f"{name:16s} trace {r['trace']:7.1f} ms · {r['frames']} frames · one step p50 "
              f"{r['step_p50']:.1f} ms, max {r['step_max']:.1f} ms · lateness while playing p50 "
              f"{r['p50']:.1f} p99 {r['p99']:.1f} max {r['max']:.1f} ms over {r['ticks']} ticks · "
              f"target p99 ≤ {target:.0f} ms: {'PASS' if ok else 'MISS'}")
    w.document.undo_stack.setClean()
    w.close()
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
