"""The installed Qt binding keeps reference counts right: PySide6 6.12.0 on
Python 3.11 loses a reference to None on every void C++ call and to True on
every signal emit, and the interpreter aborts after a few thousand of them."""

import sys

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QObject, QPointF, Signal  # noqa: E402


class _Probe(QObject):
    ping = Signal(int)


def test_void_calls_and_emits_keep_singleton_refcounts(qapp):
    point, probe = QPointF(), _Probe()
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(200):
        point.setX(1.0)
        probe.ping.emit(1)
    assert sys.getrefcount(None) >= none_before - 20
    assert sys.getrefcount(True) >= true_before - 20
