"""Run one function at a time off the GUI thread, with progress, cancel and error signals.

The wiring is the training runner's (superqt's): a QObject worker moved to a fresh QThread,
``thread.started → worker.run``, ``worker.done → thread.quit``, both deleted in the GUI
thread once the thread has ended. The function receives ``report(value)`` (throttled, to keep
the event queue short; ``force=True`` for values that must not be dropped) and
``should_stop()`` (a thread-safe flag set by :meth:`BackgroundTask.cancel`). Whatever it
raises reaches the GUI as ``failed(message)``; nothing vanishes.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, Qt, QThread, Signal, Slot

from desktop_bp.gui import gil

#: fn(report, should_stop) -> result; ``report(value, force=False)``.
TaskFunction = Callable[[Callable[..., None], Callable[[], bool]], object]

#: Threads that may still be running, with their workers, kept referenced so Python never
#: destroys a running QThread (Qt aborts the process on that) nor a worker its thread is still
#: using, even if the task's owner widget is gone first. Pruned once a thread has finished.
_LIVE: set[tuple[QThread, QObject, threading.Event]] = set()
_QUIT_HOOKED = False


def _stop_all_on_quit() -> None:
    """Ask every task to stop and wait for it: the application is quitting."""
    for thread, _worker, stop in list(_LIVE):
        stop.set()
        thread.quit()
        thread.wait(5000)
    _LIVE.clear()


#: How often a worker pauses to let the GUI thread take the GIL, and for how long (s): ~5 %
#: of the worker's time.
YIELD_EVERY = 0.02
YIELD_FOR = 0.001


class _Worker(QObject):
    progressed = Signal(object)
    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    done = Signal()

    def __init__(self, fn: TaskFunction, min_interval: float) -> None:
        super().__init__()
        self._fn = fn
        self.stop_event = threading.Event()
        self._min_interval = min_interval
        self._last_report = 0.0
        self._last_yield = 0.0

    def _report(self, value: object, force: bool = False) -> None:
        """Emit ``progressed`` at most every ``min_interval`` s; ``force`` always emits (for
        milestones that must not be dropped, e.g. one parameter's finished check)."""
        now = time.perf_counter()
        if force or now - self._last_report >= self._min_interval:
            self._last_report = now
            self.progressed.emit(value)

    def _should_stop(self) -> bool:
        """The stop flag, polled by the function between small steps; also where the worker
        lets the GUI thread in. A loop of tiny numpy calls releases and retakes the GIL
        around each call, and CPython then never forces a switch to a waiting thread (each
        retake counts as a switch): the gradient check starved the window for seconds. A
        short sleep every YIELD_EVERY seconds leaves the GIL free long enough for the GUI
        thread to take it."""
        now = time.perf_counter()
        if now - self._last_yield >= YIELD_EVERY:
            time.sleep(YIELD_FOR)
            self._last_yield = time.perf_counter()
        return self.stop_event.is_set()

    @Slot()
    def run(self) -> None:
        try:
            self._last_yield = time.perf_counter()
            result = self._fn(self._report, self._should_stop)
        except Exception as exc:  # becomes a signal: shown to the user, never lost
            if self.stop_event.is_set():
                self.cancelled.emit()
            else:
                self.failed.emit(f"{type(exc).__name__}: {exc}\n\n{traceback.format_exc()}")
        else:
            if self.stop_event.is_set():
                self.cancelled.emit()
            else:
                self.succeeded.emit(result)
        finally:
            self.done.emit()


class BackgroundTask(QObject):
    """One function at a time in a worker thread; a GUI-thread object (usually a view's child).

    Signals, all delivered in the GUI thread: ``progressed(object)``, then exactly one of
    ``succeeded(object)``, ``failed(str)``, ``cancelled()``, then ``finished()`` once the
    thread has really ended. ``start`` while a task runs cancels it and starts the new
    function when it has ended (only the latest waiting function is kept), so a stream of
    requests — new weights five times a second — never piles up.
    """

    progressed = Signal(object)
    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    finished = Signal()

    def __init__(self, parent: QObject | None = None, *, min_interval: float = 0.05) -> None:
        super().__init__(parent)
        self._min_interval = min_interval
        self._thread: QThread | None = None
        self._worker: _Worker | None = None
        # The running worker's stop flag, kept here: the worker itself may already be deleted
        # (in its own thread) when the GUI thread hears that the thread finished.
        self._stop_event: threading.Event | None = None
        self._pending: TaskFunction | None = None
        global _QUIT_HOOKED
        app = QCoreApplication.instance()
        if app is not None and not _QUIT_HOOKED:
            app.aboutToQuit.connect(_stop_all_on_quit)
            _QUIT_HOOKED = True

    @property
    def is_running(self) -> bool:
        return self._thread is not None

    def start(self, fn: TaskFunction) -> None:
        """Run ``fn(report, should_stop)`` in a new thread (after the current one, if any)."""
        if self._thread is not None:
            self._pending = fn
            self.cancel(keep_pending=True)
            return
        thread = QThread()
        thread.setObjectName("insightTaskThread")
        worker = _Worker(fn, self._min_interval)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        # quit() is thread-safe; direct, so the thread ends even while the GUI thread waits.
        worker.done.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        worker.progressed.connect(self._on_progressed)
        worker.succeeded.connect(self._on_succeeded)
        worker.failed.connect(self._on_failed)
        worker.cancelled.connect(self._on_cancelled)
        # No ``thread.finished → worker.deleteLater``: a QObject destroyed in the worker thread
        # calls into Python (it needs the GIL) while holding one of Qt's global signal-slot
        # mutexes, and a GUI thread holding the GIL that connects any signal then waits for
        # that mutex: a deadlock seen in the test suite. The GUI thread drops the last
        # reference once the thread has ended (``_on_thread_finished``).
        thread.finished.connect(self._on_thread_finished)
        for entry in [e for e in _LIVE if e[0].isFinished()]:
            _LIVE.discard(entry)
        _LIVE.add((thread, worker, worker.stop_event))
        self._thread, self._worker, self._stop_event = thread, worker, worker.stop_event
        gil.acquire()  # the check's tiny forward passes hold the GIL: see gui/gil.py
        thread.start()

    def cancel(self, *, keep_pending: bool = False) -> None:
        """Ask the running function to stop (it sees ``should_stop()`` turn True)."""
        if not keep_pending:
            self._pending = None
        if self._stop_event is not None:
            self._stop_event.set()

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Cancel, drop anything waiting and block until the thread has ended."""
        self._pending = None
        thread, stop = self._thread, self._stop_event
        if thread is None or stop is None:
            return True
        stop.set()
        finished = thread.wait(timeout_ms)
        if finished:
            self._on_thread_finished()
        return finished

    # -- slots (GUI thread) -------------------------------------------------------------------
    @Slot(object)
    def _on_progressed(self, value: Any) -> None:
        if self._stop_event is not None and not self._stop_event.is_set():
            self.progressed.emit(value)

    @Slot(object)
    def _on_succeeded(self, result: Any) -> None:
        self.succeeded.emit(result)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.failed.emit(message)

    @Slot()
    def _on_cancelled(self) -> None:
        # A cancel that only made room for the next request is not news for the user.
        if self._pending is None:
            self.cancelled.emit()

    @Slot()
    def _on_thread_finished(self) -> None:
        thread, worker, stop = self._thread, self._worker, self._stop_event
        if thread is None or worker is None or stop is None:
            return  # already handled (shutdown() ran first)
        # ``finished`` is emitted before the thread has quite ended. Wait for the end before
        # dropping the last Python reference to the worker, which deletes it here, in the GUI
        # thread, with nothing of its thread left to race.
        thread.wait()
        gil.release()
        self._thread = self._worker = self._stop_event = None
        _LIVE.discard((thread, worker, stop))
        del worker
        thread.deleteLater()
        self.finished.emit()
        if self._pending is not None:
            fn, self._pending = self._pending, None
            self.start(fn)
