"""Views that show a live run subscribe to the training session themselves
(``set_training``) and keep to their own redraw rate (ui/throttle.py)."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

pytest.importorskip("PySide6")
pytest.importorskip("pyqtgraph")

import anndesigner.ui.throttle as throttle  # noqa: E402
from anndesigner.io import load_network  # noqa: E402
from anndesigner.ui.document import Document  # noqa: E402
from anndesigner.ui.training.controller import TrainingController  # noqa: E402
from anndesigner.ui.training.plots import TrainingPlots  # noqa: E402
from anndesigner.ui.training.surface import DecisionSurface  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[3] / "samples"


class Clock:
    """perf_counter for the throttle module, moved by hand."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_a_throttle_lets_work_through_once_per_interval(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(throttle.time, "perf_counter", clock)
    t = throttle.Throttle(0.125)  # (times in binary fractions: exact)
    assert t.ready() and not t.ready()  # the first is let through, then the interval runs
    clock.now += 0.0625
    assert not t.ready() and t.wait() == 0.0625
    clock.now += 0.0625
    assert t.ready() and t.wait() == 0.125
    t.mark()
    clock.now += 0.09375
    assert not t.ready()
    t.reset()
    assert t.ready()
    assert throttle.ms(1 / 30) == 33 and throttle.ms(0.0001) == 1


def test_the_rates_are_named_once():
    assert throttle.SNAPSHOT_INTERVAL < throttle.PLOTS_INTERVAL < throttle.SURFACE_INTERVAL


@pytest.fixture
def session(qtbot):
    doc = Document(load_network(SAMPLES / "xor.ann"), SAMPLES / "xor.ann")
    doc.editor.set_training(epochs=150, batch_size=1)
    ctl = TrainingController(doc)
    plots = TrainingPlots()
    surface = DecisionSurface()
    for w in (plots, surface):
        qtbot.addWidget(w)
        w.resize(520, 320)
    surface.set_document(doc)
    yield doc, ctl, plots, surface
    ctl.stop_and_wait()


def test_plots_and_surface_follow_a_run_by_themselves(session, qtbot):
    doc, ctl, plots, surface = session
    received, drawn, evaluated = [], [], []
    ctl.snapshotReady.connect(received.append)
    draw = plots.update_snapshot
    plots.update_snapshot = lambda snap: (drawn.append(snap), draw(snap))
    evaluate = surface._evaluate
    surface._evaluate = lambda: (evaluated.append(1), evaluate())
    plots.set_training(ctl)
    surface.set_training(ctl)
    before = surface.surface_image()
    assert ctl.start()
    qtbot.waitUntil(lambda: ctl.state == "idle", timeout=30000)
    assert received and drawn and len(drawn) <= len(received)
    assert drawn[-1] is ctl.last_snapshot  # the run's end is always drawn
    np.testing.assert_array_equal(plots.curve_data("loss")[1], doc.network.history["loss"])
    assert len(doc.network.history) == 150
    assert evaluated and not np.allclose(surface.surface_image(), before)
    # no longer followed: a new run reaches neither view
    plots.set_training(None)
    surface.set_training(None)
    drawn.clear()
    assert ctl.start()
    qtbot.waitUntil(lambda: ctl.state == "idle", timeout=30000)
    assert drawn == []
