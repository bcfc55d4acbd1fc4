"""How often live views redraw while a run trains, in one place, and the
small helper that keeps a view to its rate.

A run's snapshots arrive at most every :data:`SNAPSHOT_INTERVAL` (the
training controller polls the training process that often); the canvas's
wires and the progress line follow each one. Views that cost more to redraw
keep to a slower rate of their own with a :class:`Throttle`; the last
snapshot of a run, or where a paused run stands, is always drawn.
"""

from __future__ import annotations

import time

#: seconds between two polls of the training process, so between two snapshots (≤ 30 per second)
SNAPSHOT_INTERVAL = 1 / 30
#: seconds between two redraws of the training plots (the costliest to repaint; ~10 per second)
PLOTS_INTERVAL = 0.1
#: seconds between two re-evaluations of the decision surface (about 7 per second)
SURFACE_INTERVAL = 0.15
#: seconds between two re-evaluations of the output maps on the canvas's nodes (≤ 5 per second)
MAPS_INTERVAL = 0.2


def ms(seconds: float) -> int:
    """``seconds`` as whole milliseconds for a QTimer (at least 1)."""
    return max(1, int(round(seconds * 1000)))


class Throttle:
    """Lets work through at most once every ``interval`` seconds.

    ``ready()`` is True (and starts a new interval) when the last one is over;
    ``wait()`` is how long until it will be; ``mark()`` starts an interval
    after work done anyway (a forced redraw)."""

    __slots__ = ("interval", "_last")

    def __init__(self, interval: float):
        self.interval = interval
        self._last = -float("inf")

    def wait(self) -> float:
        """Seconds until the next interval begins (0 when it has)."""
        return max(0.0, self.interval - (time.perf_counter() - self._last))

    def ready(self) -> bool:
        if self.wait() > 0:
            return False
        self.mark()
        return True

    def mark(self) -> None:
        self._last = time.perf_counter()

    def reset(self) -> None:
        """Forget the last interval: the next ``ready()`` is True."""
        self._last = -float("inf")
