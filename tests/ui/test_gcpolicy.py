"""Garbage collection runs from the event loop only (anndesigner/ui/gcpolicy.py)."""

import gc
import weakref

import pytest

pytest.importorskip("PySide6")

from PySide6.QtWidgets import QWidget  # noqa: E402

from anndesigner.ui import gcpolicy  # noqa: E402
from anndesigner.ui.app import make_app  # noqa: E402


class _Holder:
    pass


def _garbage_cycle_with_a_widget():
    """An unreachable reference cycle that holds a (Python-owned) top-level widget."""
    h = _Holder()
    h.widget = QWidget()
    h.me = h
    return weakref.ref(h)


def test_installed_for_the_app_and_the_tests(qapp):
    assert make_app() is qapp  # installing again is harmless
    assert gcpolicy.installed() and not gc.isenabled()


def test_no_collection_in_the_middle_of_code_only_when_due(qapp):
    gc.collect()
    ref = _garbage_cycle_with_a_widget()
    assert gcpolicy.collect_due() == 0 and ref() is not None  # nothing due yet
    # kept alive: freeing objects lowers the collector's count again
    junk = [[i] for i in range(3 * gc.get_threshold()[0])]  # would have run an automatic collection
    assert ref() is not None, "collected in the middle of the code"
    assert gcpolicy.collect_due() > 0
    assert ref() is None
    del junk


def test_the_event_loop_collects(qtbot, monkeypatch):
    ticks = []
    monkeypatch.setattr(gcpolicy, "collect_due", lambda: ticks.append(1) or 0)
    qtbot.waitUntil(lambda: len(ticks) >= 2, timeout=6 * gcpolicy.INTERVAL_MS)
