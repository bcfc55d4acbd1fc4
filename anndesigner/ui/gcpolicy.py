"""Python's cyclic garbage collector runs only from the Qt event loop.

Left automatic, the collector runs whenever enough objects have been
allocated, which can be in the middle of any Qt callback: a paint event, a
slot, the middle of a widget's own method. If the garbage it finds holds a Qt
object (a closed window still in a reference cycle, say), that object's C++
destructor runs right there, possibly under code that is still using it. The
result is a crash some time later, at a place unrelated to the cause: the test
suite crashed about one run in four in ``QApplication.topLevelWidgets()`` until
this was installed, and never after.

:func:`install` turns automatic collection off and collects from a timer
instead, generation by generation with the interpreter's own thresholds, so
garbage is freed as often as before but only between events, when no Qt code
is half way through anything. The same idea is in pyqtgraph's
``GarbageCollector`` utility.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QCoreApplication, QObject, QTimer

__all__ = ["install", "installed", "collect_due"]

#: how often the timer checks the allocation counts (milliseconds)
INTERVAL_MS = 500

_installed: "_Collector | None" = None


class _Collector(QObject):
    def __init__(self, app: QCoreApplication, interval_ms: int) -> None:
        super().__init__(app)
        self.thresholds = gc.get_threshold()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.tick)
        self.timer.start(interval_ms)

    def tick(self) -> None:
        collect_due()


def install(app: QCoreApplication | None = None, interval_ms: int = INTERVAL_MS) -> None:
    """Turn automatic collection off and collect from the event loop of ``app``
    (the running application by default). Calling it again does nothing."""
    global _installed
    app = app or QCoreApplication.instance()
    if app is None:
        raise RuntimeError("gcpolicy.install needs a QApplication")
    if _installed is not None:
        try:
            if _installed.parent() is app:
                return
        except RuntimeError:  # its application is gone
            pass
    _installed = _Collector(app, interval_ms)
    gc.disable()


def installed() -> bool:
    return _installed is not None and not gc.isenabled()


def collect_due() -> int:
    """Collect the oldest generation whose allocation count passed its
    threshold (and the younger ones with it), as the automatic collector would
    have; returns the number of unreachable objects found."""
    thresholds = _installed.thresholds if _installed is not None else gc.get_threshold()
    counts = gc.get_count()
    due = -1
    for gen in range(3):
        if counts[gen] <= thresholds[gen]:
            break
        due = gen
    return gc.collect(due) if due >= 0 else 0
