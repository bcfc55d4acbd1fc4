"""Recovery copies of unsaved work: a crash loses at most :data:`INTERVAL_MS` of it.

While the document has unsaved changes, the window writes a copy of it every
30 seconds (and before a training run starts) to ``recovery/`` in the user's
data folder (``QStandardPaths.AppDataLocation``; the environment variable
:data:`ENV_DIR` overrides it): ``<pid>-<n>.ann``, written by
:func:`anndesigner.io.save_network` (a temp file, then ``os.replace``), and a
sidecar ``<pid>-<n>.json`` (original path, title, time, pid), written the same
way after it. Saving, discarding the changes, undoing back to the saved state
and a clean quit remove both.

At the next start :func:`find` lists the copies whose process is gone (a copy
whose pid is alive, with the start time it recorded, belongs to another window
running now; a pid reused by a later process does not hide it); the window offers
Restore, Discard or Later (:func:`ask`). A copy is taken by renaming it to the taker's own
name first (:meth:`RecoveryStore.claim`), so two windows starting together
cannot both restore, or one discard what the other restores.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, QTimer, Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QListWidget, QVBoxLayout, QWidget

#: overrides the data folder (tests, portable installs)
ENV_DIR = "ANNDESIGNER_DATA_DIR"
#: overrides the autosave interval, in milliseconds (tests)
ENV_INTERVAL = "ANNDESIGNER_AUTOSAVE_MS"
INTERVAL_MS = 30_000

_serial = itertools.count(1)


def data_dir() -> Path:
    env = os.environ.get(ENV_DIR)
    if env:
        return Path(env)
    loc = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(loc) if loc else Path.home() / ".local" / "share" / "ANN Designer"


def recovery_dir() -> Path:
    return data_dir() / "recovery"


def interval_ms() -> int:
    try:
        v = int(os.environ.get(ENV_INTERVAL, ""))
    except ValueError:
        return INTERVAL_MS
    return v if v > 0 else INTERVAL_MS


def pid_alive(pid: int) -> bool:
    """True if a process ``pid`` runs (or may: one we may not signal)."""
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except (OSError, OverflowError):  # OverflowError: no pid is that large
        return False
    return True


def process_start(pid: int) -> str | None:
    """When process ``pid`` started (Linux: clock ticks since boot), or None where unknown.

    A pid alive with another start time is a new process that reuses the number."""
    try:
        with open(f"/proc/{int(pid)}/stat", "rb") as f:
            stat = f.read().decode("ascii", "replace")
    except (OSError, ValueError):
        return None
    fields = stat.rpartition(")")[2].split()
    return fields[19] if len(fields) > 19 else None


def _owner_alive(pid: int, start: str | None) -> bool:
    if not pid_alive(pid):
        return False
    if pid == os.getpid():
        return start is None or start == process_start(pid)
    now = process_start(pid)
    return start is None or now is None or now == start


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


@dataclass
class Found:
    """A recovery copy left by a process that is gone."""

    file: Path
    sidecar: Path
    original: str | None
    title: str
    saved_at: float
    pid: int

    @property
    def name(self) -> str:
        return Path(self.original).name if self.original else self.title or "Untitled"

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.saved_at))
        where = f" ({self.original})" if self.original else " (never saved)"
        return f"{self.name}{where}, saved {when}"


def _clock_time(value, fallback: float) -> float:
    """``value`` as a time the clock can show, else ``fallback``."""
    try:
        t = float(value)
        time.localtime(t)
    except (TypeError, ValueError, OverflowError, OSError):
        return fallback
    return t


def find(folder: Path | None = None) -> list[Found]:
    """Recovery copies whose process is gone, newest first."""
    folder = folder or recovery_dir()
    out: list[Found] = []
    try:
        sidecars = sorted(folder.glob("*.json"))
    except OSError:
        return []
    for side in sidecars:
        ann = side.with_suffix(".ann")
        try:
            meta = json.loads(side.read_text(encoding="utf-8"))
            mtime = ann.stat().st_mtime
        except (OSError, ValueError):  # unreadable, or no copy beside it
            continue
        if not isinstance(meta, dict):
            continue
        try:
            pid = int(meta.get("pid") or 0)
        except (TypeError, ValueError, OverflowError):
            pid = 0  # no process to ask: gone
        start = meta.get("start")
        if _owner_alive(pid, str(start) if start is not None else None):
            continue  # a window that runs now: its copy is not ours to take
        orig = meta.get("original")
        out.append(Found(ann, side, str(orig) if orig else None, str(meta.get("title") or ""),
                         _clock_time(meta.get("saved_at"), mtime), pid))
    out.sort(key=lambda f: f.saved_at, reverse=True)
    return out


class RecoveryStore:
    """The recovery copy of one window: ``write(network, original, title)``, ``remove()``."""

    def __init__(self, folder: Path | None = None):
        self.folder = folder or recovery_dir()
        self.stem = f"{os.getpid()}-{next(_serial)}"

    @property
    def file(self) -> Path:
        return self.folder / f"{self.stem}.ann"

    @property
    def sidecar(self) -> Path:
        return self.folder / f"{self.stem}.json"

    def exists(self) -> bool:
        return self.file.exists()

    def write(self, network, original: Path | None, title: str) -> Path:
        from ..io import save_network

        self.folder.mkdir(parents=True, exist_ok=True)
        save_network(network, self.file)  # atomic: a temp file, then os.replace
        _write_json(self.sidecar, {"original": str(original) if original else None, "title": title,
                                   "saved_at": time.time(), "pid": os.getpid(),
                                   "start": process_start(os.getpid()), "format": 1})
        return self.file

    def remove(self) -> None:
        _unlink(self.sidecar, self.file)

    def set_aside(self) -> Path | None:
        """Keep a copy that cannot be opened, out of later offers: renamed to
        ``unreadable-<name>.ann`` beside the others (its sidecar goes). Returns where it is."""
        kept = self.folder / f"unreadable-{self.stem}.ann"
        try:
            os.replace(self.file, kept)
        except OSError:
            return None
        _unlink(self.sidecar)
        return kept

    def claim(self, found: Found) -> Path | None:
        """Take ``found`` over (renamed to this store's names); None if another process took it first."""
        self.folder.mkdir(parents=True, exist_ok=True)
        try:
            os.rename(found.file, self.file)  # atomic: only one taker succeeds
        except OSError:
            return None
        try:
            os.replace(found.sidecar, self.sidecar)
        except OSError:
            pass
        return self.file


def discard(found: Found) -> None:
    _unlink(found.sidecar, found.file)


def _unlink(*paths: Path) -> None:
    """Remove ``paths``, the sidecar first (a copy without one is never offered); gone is fine."""
    for p in paths:
        try:
            p.unlink()
        except OSError:
            pass


class Autosaver(QObject):
    """Writes the window's document to its :class:`RecoveryStore` while it has unsaved changes.

    ``document_getter()`` gives the current :class:`~anndesigner.ui.document.Document`;
    ``failed(message)`` says once that a copy could not be written."""

    failed = Signal(str)

    def __init__(self, document_getter, store: RecoveryStore | None = None, interval: int | None = None,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.document_getter = document_getter
        self.store = store or RecoveryStore()
        self.last_error: str | None = None
        self._written: tuple | None = None
        self.timer = QTimer(self)
        self.timer.setInterval(interval or interval_ms())
        self.timer.timeout.connect(self.autosave)
        self.timer.start()

    def autosave(self) -> bool:
        """Write the copy now if the document has unsaved changes (else remove it); True if written."""
        doc = self.document_getter()
        if doc is None or not doc.modified:
            self.store.remove()
            self._written = None
            return False
        # every edit is an undo command: an unchanged stack and graph need no new copy
        state = (id(doc), doc.undo_stack.index(), doc.undo_stack.count(), doc.graph.revision, str(doc.path))
        if state == self._written and self.store.exists():
            return False
        try:
            self.store.write(doc.network, doc.path, doc.display_name())
            self._written = state
        except Exception as e:  # a full disk must not stop the user's work: say so once
            first = self.last_error is None
            self.last_error = f"Could not write the recovery copy to {self.store.folder}: {e}"
            if first:
                self.failed.emit(self.last_error)
            return False
        self.last_error = None
        return True

    def document_changed(self, modified: bool) -> None:
        """The document became clean (saved, or undone to the saved state): no copy is needed."""
        if not modified:
            self.store.remove()
            self._written = None

    def stop(self) -> None:
        """A clean end: the copy goes."""
        self.timer.stop()
        self.store.remove()
        self._written = None


def ask(found: list[Found], parent: QWidget | None = None) -> tuple[str, int]:
    """The Restore / Discard / Later dialog over ``found``; returns ("restore", index of the
    chosen copy), ("discard", index) or ("later", index)."""
    dlg = QDialog(parent)
    dlg.setObjectName("recoveryDialog")
    dlg.setWindowTitle("Recover unsaved work")
    lay = QVBoxLayout(dlg)
    label = QLabel("ANN Designer did not close normally. These documents had unsaved changes; "
                   "restore one, discard them, or decide later (they are offered again at the next start).")
    label.setWordWrap(True)
    lay.addWidget(label)
    lst = QListWidget()
    lst.setObjectName("recoveryList")
    for f in found:
        lst.addItem(f.describe())
    lst.setCurrentRow(0)
    lay.addWidget(lst)
    bb = QDialogButtonBox()
    restore = bb.addButton("Restore", QDialogButtonBox.ButtonRole.AcceptRole)
    discard = bb.addButton("Discard", QDialogButtonBox.ButtonRole.DestructiveRole)
    later = bb.addButton("Later", QDialogButtonBox.ButtonRole.RejectRole)
    result = ["later"]
    restore.clicked.connect(lambda: (result.__setitem__(0, "restore"), dlg.accept()))
    discard.clicked.connect(lambda: (result.__setitem__(0, "discard"), dlg.accept()))
    later.clicked.connect(dlg.reject)
    lst.itemDoubleClicked.connect(lambda _: restore.click())
    lay.addWidget(bb)
    dlg.resize(560, 260)
    dlg.exec()
    return result[0], lst.currentRow()
