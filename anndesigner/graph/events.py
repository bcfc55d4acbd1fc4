"""A tiny observer: the graph model emits, views and documents listen.

No Qt here; the Qt front end connects plain callables and relays to Qt.
"""

from __future__ import annotations

from typing import Any, Callable


class Signal:
    """A list of callbacks called in connection order by :meth:`emit`."""

    __slots__ = ("_slots",)

    def __init__(self) -> None:
        self._slots: list[Callable[..., Any]] = []

    def connect(self, slot: Callable[..., Any]) -> None:
        if slot not in self._slots:
            self._slots.append(slot)

    def disconnect(self, slot: Callable[..., Any]) -> None:
        try:
            self._slots.remove(slot)
        except ValueError:
            pass

    def emit(self, *args: Any) -> None:
        for slot in list(self._slots):
            slot(*args)

    def __len__(self) -> int:
        return len(self._slots)


class Connections:
    """Remembers ``(signal, slot)`` pairs so that a view lets go of a model in
    one call. Works for :class:`Signal` and for Qt's bound signals alike."""

    def __init__(self) -> None:
        self._pairs: list[tuple[Any, Callable[..., Any]]] = []

    def connect(self, signal: Any, slot: Callable[..., Any]) -> None:
        signal.connect(slot)
        self._pairs.append((signal, slot))

    def connect_many(self, pairs) -> None:
        for signal, slot in pairs:
            self.connect(signal, slot)

    def disconnect_all(self) -> None:
        for signal, slot in self._pairs:
            try:
                signal.disconnect(slot)
            except (RuntimeError, TypeError):  # a Qt sender that is already gone
                pass
        self._pairs.clear()

    def __len__(self) -> int:
        return len(self._pairs)
