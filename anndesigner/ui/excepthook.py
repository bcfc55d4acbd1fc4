"""Unexpected exceptions in the window: reported, never fatal.

PySide hands an exception that escapes a Python slot or a Python override of
a Qt virtual (``paint``, ``mousePressEvent``, ``QUndoCommand.redo``…) to
:data:`sys.excepthook` and carries on. What the hook must not do is open a
modal box right there: inside a paint event the box's nested event loop
repaints the very view whose painter is still active, and the process dies
with SIGSEGV. So :class:`ExceptionReporter` only records the exception (and
prints it), then reports it from a queued call, outside whatever Qt was doing:

- one box per distinct exception: the same exception object reported twice
  counts once, and an error that repeats (a paint that fails every frame)
  updates the count in its box instead of opening a new one; once its box is
  closed, repeats are counted in the status bar only;
- at most :data:`MAX_OPEN` boxes at a time, window-modal but opened with
  ``open()`` (no nested event loop); later distinct errors wait their turn;
- tracebacks go to the real stderr: in full the first time, then one line at
  each power of two of the count.

``install(window_getter, show=None)`` makes one and installs it; ``show`` (a
callable taking a :class:`Report`) replaces the box, for tests.
"""

from __future__ import annotations

import re
import sys
import traceback
from dataclasses import dataclass
from typing import Any, Callable

from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

#: distinct error boxes open at the same time (more wait until one is closed)
MAX_OPEN = 3
#: distinct errors kept waiting for a box (beyond: printed and counted only)
MAX_WAITING = 20


@dataclass
class Report:
    """One distinct unexpected error and how often it happened."""

    type_name: str
    message: str
    details: str
    key: tuple
    count: int = 1
    #: what :attr:`ExceptionReporter.show` returned (the box), if anything
    handle: Any = None
    shown: bool = False
    closed: bool = False

    @property
    def title(self) -> str:
        return "Unexpected error"

    @property
    def text(self) -> str:
        return (f"Something went wrong: {self.type_name}: {self.message}\n\nYour work is still open; "
                "saving it under a new name is a good idea.")

    @property
    def count_text(self) -> str:
        return "" if self.count <= 1 else f"This error happened {self.count} times."


_OVERRIDE = re.compile(r"^(?:Error calling Python override of [\w:]+\(\): )+")
_PURE_VIRTUAL = re.compile(r"^pure virtual method '[\w.]+' not implemented\.?$")


def _message(exc: BaseException | None) -> str:
    """The exception's text without PySide's "Error calling Python override of X(): " prefix."""
    return _OVERRIDE.sub("", str(exc)) if exc is not None else ""


def _key(exc_type: type, exc: BaseException | None, tb) -> tuple:
    """What makes two reports the same error: type, message and the innermost frame.

    An exception raised in a Python override that Qt called from Python code is
    handed to the hook where Qt called it, then raised again (as a new object,
    its text prefixed) in the Python caller: same type, message and innermost
    frame, so both are one error."""
    frames = traceback.extract_tb(tb) if tb is not None else []
    inner = (frames[-1].filename, frames[-1].lineno) if frames else ()
    return (getattr(exc_type, "__qualname__", str(exc_type)), _message(exc), inner)


class ExceptionReporter(QObject):
    """``ExceptionReporter(window_getter, show=None, stream=None)``; ``hook`` is the excepthook."""

    _wake = Signal()

    def __init__(self, window_getter: Callable[[], QWidget | None], show: Callable[[Report], Any] | None = None,
                 stream=None, parent: QObject | None = None):
        super().__init__(parent)
        self.window_getter = window_getter
        self.show = show if show is not None else self._show_box
        self.stream = stream
        #: every distinct error so far, by key
        self.reports: dict[tuple, Report] = {}
        self._waiting: list[Report] = []
        self._dirty: set[tuple] = set()
        #: exception objects reported since the last flush (the same object twice counts once)
        self._recent: list[BaseException] = []
        self._recent_keys: set[tuple] = set()
        self._scheduled = False
        self._previous_hook = None
        # queued: the report runs from the event loop, after the paint or slot that raised has returned
        self._wake.connect(self._flush, Qt.ConnectionType.QueuedConnection)

    # ----------------------------------------------------------- the hook
    def install(self) -> "ExceptionReporter":
        self._previous_hook = sys.excepthook
        sys.excepthook = self.hook
        return self

    def uninstall(self) -> None:
        global _installed
        if sys.excepthook == self.hook:
            sys.excepthook = self._previous_hook or sys.__excepthook__
        if _installed is self:
            _installed = None

    def hook(self, exc_type, exc, tb) -> None:
        """Record the exception; the report follows from the event loop. Never raises."""
        try:
            self._record(exc_type, exc, tb)
        except Exception:  # pragma: no cover - the hook itself must not fail
            sys.__excepthook__(exc_type, exc, tb)

    def _record(self, exc_type, exc, tb) -> None:
        if exc is not None and any(e is exc for e in self._recent):
            return  # the same exception handed over twice
        key = _key(exc_type, exc, tb)
        if exc is not None:
            if key in self._recent_keys and _OVERRIDE.match(str(exc)):
                return  # re-raised in the Python code that made Qt call the override: counted already
            if ((self._recent or self.reports) and issubclass(exc_type, NotImplementedError)
                    and _PURE_VIRTUAL.match(_message(exc))):
                # PySide's follow-up when the next override is looked up while the error is pending
                self._write(f"({exc_type.__name__}: {exc}: a consequence of the error above)\n")
                return
            self._recent.append(exc)
            self._recent_keys.add(key)
        r = self.reports.get(key)
        if r is None:
            details = "".join(traceback.format_exception(exc_type, exc, tb))
            r = Report(exc_type.__name__, _message(exc), details, key)
            self.reports[key] = r
            self._write(details)
            if len(self._waiting) < MAX_WAITING:
                self._waiting.append(r)
            else:
                self._write("(too many different errors: this one is not shown in a box)\n")
        else:
            r.count += 1
            if r.count & (r.count - 1) == 0:  # 2, 4, 8, …
                self._write(f"(the same error again: {r.type_name}: {r.message}, {r.count} times)\n")
            self._dirty.add(key)
        self._schedule()

    def _write(self, text: str) -> None:
        out = self.stream if self.stream is not None else sys.__stderr__
        try:
            if out is not None:
                out.write(text)
                out.flush()
        except (OSError, ValueError):  # pragma: no cover - no console
            pass

    def _schedule(self) -> None:
        if self._scheduled:
            return
        if QCoreApplication.instance() is None:  # no event loop, no box: the stderr copy is the report
            return
        self._scheduled = True
        self._wake.emit()

    # ------------------------------------------------------------ reports
    def open_reports(self) -> list[Report]:
        return [r for r in self.reports.values() if r.shown and not r.closed]

    @property
    def waiting(self) -> list[Report]:
        return list(self._waiting)

    def _flush(self) -> None:
        self._scheduled = False
        self._recent.clear()
        self._recent_keys.clear()
        dirty, self._dirty = self._dirty, set()
        for key in dirty:
            r = self.reports[key]
            if r.shown and not r.closed:
                self._update(r)
            elif r.closed:
                self._status(f"The error “{r.type_name}: {r.message}” happened again ({r.count} times)")
        while self._waiting and len(self.open_reports()) < MAX_OPEN:
            r = self._waiting.pop(0)
            r.shown = True
            r.handle = self.show(r)

    def report_closed(self, r: Report) -> None:
        """The user closed the report's box: the next waiting error may show."""
        r.closed = True
        r.handle = None
        if self._waiting:
            self._schedule()

    def close_all(self) -> None:
        """Close the open boxes (the window is closing: they must not keep the app running)."""
        for r in self.open_reports():
            box = r.handle
            if isinstance(box, QMessageBox):
                box.close()
            self.report_closed(r)
        self._waiting.clear()

    def _status(self, text: str) -> None:
        w = self.window_getter()
        show_status = getattr(w, "show_status", None)
        if callable(show_status):
            show_status(text, 10000)

    # ---------------------------------------------------------- the box
    def _show_box(self, r: Report) -> QMessageBox:
        parent = self.window_getter()
        box = QMessageBox(QMessageBox.Icon.Critical, r.title, r.text, QMessageBox.StandardButton.Ok, parent)
        box.setObjectName("unexpectedErrorBox")
        box.setDetailedText(r.details)
        box.setInformativeText(r.count_text)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(lambda _=0, r=r: self.report_closed(r))
        box.open()  # window-modal, no nested event loop
        return box

    def _update(self, r: Report) -> None:
        box = r.handle
        if isinstance(box, QMessageBox):
            box.setInformativeText(r.count_text)


_installed: ExceptionReporter | None = None


def install(window_getter: Callable[[], QWidget | None], show: Callable[[Report], Any] | None = None,
            stream=None) -> ExceptionReporter:
    """Report unexpected errors in a box (queued, one per distinct error); the app keeps running."""
    global _installed
    if _installed is not None:
        _installed.uninstall()
    _installed = ExceptionReporter(window_getter, show, stream).install()
    return _installed


def installed() -> ExceptionReporter | None:
    return _installed
