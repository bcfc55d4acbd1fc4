"""Training in a child process, so that the GUI thread never waits for the GIL.

The parent sends the network (as the same JSON-native dict and weight arrays
the file format uses) and the data; the child trains with the ordinary
:class:`Trainer` in a thread of its own while its main thread answers control
messages (pause, resume, step, stop) and hands over a
:class:`~anndesigner.engine.monitor.TrainingSnapshot` whenever the parent asks
for one. Nothing here knows about Qt; the pipe carries plain Python data.
"""

from __future__ import annotations

import multiprocessing as mp
import threading
import time
from typing import Any

import numpy as np

from ..errors import AnnError
from .monitor import Monitor, TrainingSnapshot
from .trainer import BatchEnd, EpochEnd, Finished, History


def network_payload(net) -> dict[str, Any]:
    from ..io.annfile import network_to_dict

    return {"doc": network_to_dict(net), "weights": net.get_weights(), "history": net.history.to_dict()}


def network_from_payload(payload: dict[str, Any]):
    from ..graph import Graph
    from .network import Network

    doc = payload["doc"]
    g = Graph.from_dict({"meta": doc.get("meta") or {}, "nodes": doc["nodes"], "edges": doc["edges"]})
    return Network(g, doc["seed"], dtype=doc["dtype"], weights=payload["weights"], training=doc["training"],
                   data=doc.get("data"), history=History.from_dict(payload["history"]))


# ----------------------------------------------------------------- child
def _tail(snap: TrainingSnapshot, sent: int) -> dict[str, Any]:
    """``snap``'s fields with only the history epochs after ``sent`` (what the pipe carries)."""
    tail = dict(snap.__dict__)
    tail["history"] = {k: np.array(v[sent:]) for k, v in snap.history.items()}
    return tail


def _child(conn, payload: dict[str, Any], X: np.ndarray, Y: np.ndarray, paused: bool) -> None:
    net = network_from_payload(payload)
    trainer = net.trainer(X, Y)
    monitor = Monitor(trainer, trainer.config.epochs)
    state = {"batches": 0, "result": None}
    if paused:
        trainer.pause()

    def work() -> None:
        result = Finished("stopped", "stopped")
        try:
            for ev in trainer.run():
                if isinstance(ev, BatchEnd):
                    state["batches"] += 1
                    monitor.on_batch(ev)
                elif isinstance(ev, EpochEnd):
                    monitor.on_epoch(ev)
                elif isinstance(ev, Finished):
                    result = ev
        except AnnError as e:  # a user's mistake met while training (a bad token id): its message
            result = Finished("error", f"training stopped: {e}", getattr(e, "node_id", None))
        except Exception as e:  # noqa: BLE001 - reported to the parent, never lost
            import traceback

            result = Finished("error", f"{type(e).__name__}: {e}\n{traceback.format_exc()}",
                              getattr(e, "node_id", None))
        monitor.capture()
        state["result"] = result

    t = threading.Thread(target=work, name="anndesigner-train", daemon=True)
    t.start()
    want_snapshot = False
    paused_at = time.perf_counter() if paused else None  # paused time is left out of the ETA
    sent = 0  # epochs of history already sent: a snapshot carries only the new ones
    while t.is_alive():
        if conn.poll(0.005):
            msg = conn.recv()
            if msg == "snapshot":
                want_snapshot = True
            elif msg == "pause":
                trainer.pause()
                paused_at = paused_at or time.perf_counter()
            elif msg == "resume":
                trainer.resume()
                if paused_at is not None:
                    monitor.pause_clock(time.perf_counter() - paused_at)
                    paused_at = None
            elif msg == "step":
                if paused_at is not None:  # the time it stood paused stays out of the ETA
                    now = time.perf_counter()
                    monitor.pause_clock(now - paused_at)
                    paused_at = now
                trainer.step(1)
            elif msg == "stop":
                trainer.stop()
                trainer.resume()
        if want_snapshot:
            snap = monitor.take()
            if snap is not None:
                conn.send(("snapshot", _tail(snap, sent), sent, state["batches"], monitor.epochs_done))
                sent = max((len(v) for v in snap.history.values()), default=0)
                want_snapshot = False
    t.join()
    last = monitor.latest
    conn.send(("finished", state["result"], net.get_weights(), net.history.to_dict(), state["batches"],
               monitor.epochs_done, None if last is None else _tail(last, sent), sent))
    conn.close()


# ---------------------------------------------------------------- parent
class TrainingProcess:
    """The parent's handle: ``start()``, ``pause()``, ``resume()``, ``step()``,
    ``stop()``, and ``poll()`` to receive snapshots and the result.

    When training diverges, ``result`` is the trainer's ``Finished(reason="nan")``
    as it was (message, node_id, epoch, batch, weight, learning_rate; see
    :class:`~.trainer.Finished`), and ``weights`` are the last finite ones, from
    before the bad batch; snapshots never carry non-finite weights (each is
    taken after a batch passed its check)."""

    def __init__(self, network, X: np.ndarray, Y: np.ndarray):
        network.trainer(X, Y)  # bad settings or data raise here, in the caller, before any process starts
        self._payload = network_payload(network)
        self._X = np.ascontiguousarray(X)
        self._Y = np.ascontiguousarray(Y)
        self._proc: mp.Process | None = None
        self._conn = None
        self._asked = False
        self.paused = False
        self.batches = 0
        self.epochs_done = 0
        self.latest: TrainingSnapshot | None = None
        self._fresh: TrainingSnapshot | None = None
        self.result: Finished | None = None
        self._hist: dict[str, np.ndarray] = {}
        self._hist_n = 0
        for k, v in network.history.data.items():  # the history before this run
            self._hist[k] = np.array(v, dtype=np.float64)
            self._hist_n = len(v)
        self.weights: dict[str, np.ndarray] | None = None
        self.history: History | None = None

    def start(self, paused: bool = False) -> None:
        ctx = mp.get_context("spawn")  # never fork a process that runs Qt
        parent, child = ctx.Pipe()
        self.paused = paused
        self._proc = ctx.Process(target=_child, args=(child, self._payload, self._X, self._Y, paused),
                                 name="anndesigner-training", daemon=True)
        self._proc.start()
        child.close()
        self._conn = parent

    def _send(self, msg: str) -> None:
        if self._conn is not None and self.result is None:
            try:
                self._conn.send(msg)
            except (BrokenPipeError, OSError):
                pass

    def pause(self) -> None:
        self.paused = True
        self._send("pause")

    def resume(self) -> None:
        self.paused = False
        self._send("resume")

    def step(self) -> None:
        if not self.paused:
            self.pause()
        self._send("step")

    def stop(self) -> None:
        self._send("stop")

    def poll(self, timeout: float = 0.0) -> bool:
        """Receive what the child sent; ask for the next snapshot. True once finished."""
        conn = self._conn
        if conn is None:
            return self.result is not None
        try:
            while conn.poll(timeout):
                timeout = 0.0
                msg = conn.recv()
                if msg[0] == "snapshot":
                    _, tail, offset, self.batches, self.epochs_done = msg
                    snap = self._merge(tail, offset)
                    self.latest = self._fresh = snap
                    self._asked = False
                elif msg[0] == "finished":
                    _, self.result, self.weights, hist, self.batches, self.epochs_done, tail, offset = msg
                    self.history = History.from_dict(hist)
                    if tail is not None:
                        self.latest = self._fresh = self._merge(tail, offset)
                    self._close()
                    return True
        except (EOFError, OSError):
            if self.result is None:
                code = self._proc.exitcode if self._proc is not None else None
                self.result = Finished("error", f"the training process ended unexpectedly (exit code {code})")
            self._close()
            return True
        if not self._asked:
            self._send("snapshot")
            self._asked = True
        return False

    def _merge(self, tail: dict[str, Any], offset: int) -> TrainingSnapshot:
        """Append a snapshot's new history epochs to the parent's copy; the
        snapshot then holds read-only views of the whole history."""
        hist = self._hist
        for k, v in tail["history"].items():
            a = hist.get(k)
            if a is None:
                a = np.full(max(64, offset + len(v)), np.nan)
            need = offset + len(v)
            if len(a) < need:
                grown = np.full(max(need, 2 * len(a)), np.nan)
                grown[: len(a)] = a
                a = grown
            a[offset:need] = v
            hist[k] = a
        n = offset + max((len(v) for v in tail["history"].values()), default=0)
        self._hist_n = max(self._hist_n, n)
        views = {}
        for k, a in hist.items():
            view = a[: self._hist_n].view()
            view.flags.writeable = False
            views[k] = view
        tail = dict(tail)
        tail["history"] = views
        return TrainingSnapshot(**tail)

    def take(self) -> TrainingSnapshot | None:
        snap, self._fresh = self._fresh, None
        return snap

    def wait(self, timeout: float = 30.0) -> bool:
        """Wait for the result (stop first to end early). True when it arrived."""
        end = time.perf_counter() + timeout
        while self.result is None and time.perf_counter() < end:
            if self.poll(0.05):
                break
        if self.result is None and self._proc is not None:
            self._proc.terminate()
            self._proc.join(5)
            self.result = Finished("error", "the training process did not stop in time and was ended")
            self._close()
        return self.result is not None

    def is_alive(self) -> bool:
        return self._proc is not None and self._proc.is_alive()

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._proc is not None:
            self._proc.join(5)
