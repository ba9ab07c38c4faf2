"""Every piece of work off the GUI thread goes through here: training runs, data set loads and
downloads, gradient checks and evaluations.

The model is superqt's ``utils/_qthreading.py``: a worker is a QObject with a full set of
signals, and its work checks thread-safe flags at small steps (``should_stop()``), where it
stops or pauses. The contract of a :class:`WorkerBase`:

- signals, delivered to GUI-thread receivers: ``started``; any number of ``yielded(value)``
  (progress, snapshots) and of ``paused``/``resumed``; then exactly one of
  ``returned(result)``, ``aborted()`` or ``errored(message)``; ``finished`` last, once;
- ``quit()``, ``pause()`` and ``resume()`` are called from the GUI thread *directly* (never
  queued: a queued slot on a busy worker would run only after its work ends);
- whatever the work raises becomes ``errored`` with a message for the user (the traceback
  below a blank line, except for the ``expected_errors`` that are messages already): errors
  never vanish. Work that stops because ``quit()`` was asked raises :class:`WorkAborted`
  (``aborted``); a :class:`FunctionWorker` does that for its function when the flag is set
  as it ends, however it ends.

:class:`WorkerThread` runs one worker in a fresh QThread: ``thread.started → worker.run``,
``worker.finished → thread.quit`` (direct: ``quit()`` is thread-safe, so the thread ends even
while the GUI thread blocks in ``wait()``), and ``ended`` in the GUI thread once the thread has
really ended. What the project measured is kept here:

- **No deleteLater on the worker in its own thread.** A QObject destroyed in the worker thread
  calls into Python (it needs the GIL) while holding one of Qt's global signal-slot mutexes,
  and a GUI thread that holds the GIL and connects any signal then waits for that mutex: a
  deadlock seen in the test suite. The GUI thread drops the last reference to the worker once
  the thread has ended (:meth:`WorkerThread._on_thread_finished`).
- **No running QThread is ever destroyed** (Qt aborts the process): threads that may run are
  kept in a registry, also when their owner is gone first, and stopped when the app quits.
- **A short switch interval** while background Python work runs (``gui/gil.py``), and an
  optional short sleep in ``should_stop()`` that lets the GUI thread take the GIL from a loop
  of tiny numpy calls (``YIELD_EVERY``).
- **Cycles are collected in the GUI thread only** (``gui/gc_guard.py``, installed on start).
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QObject, Qt, QThread, Signal, Slot

from desktop_bp.gui import gc_guard, gil

#: fn(report, should_stop) -> result; ``report(value, force=False)``.
TaskFunction = Callable[[Callable[..., None], Callable[[], bool]], object]

#: How often ``should_stop()`` pauses to let the GUI thread take the GIL, and for how long
#: (s): ~5 % of the worker's time (for workers made with ``yield_gil=True``).
YIELD_EVERY = 0.02
YIELD_FOR = 0.001


def error_message(exc: BaseException, expected: tuple[type[BaseException], ...] = ()) -> str:
    """What the user is told: ``str(exc)`` for an expected error, else its type and text with
    the traceback below a blank line (a dialog shows the first paragraph, the rest as
    details)."""
    if expected and isinstance(exc, expected):
        return str(exc)
    return f"{type(exc).__name__}: {exc}\n\n{traceback.format_exc()}"


class WorkAborted(Exception):
    """Raised by work that stopped because ``quit()`` was asked."""


class WorkerBase(QObject):
    """One piece of work for a :class:`WorkerThread`; subclasses implement :meth:`work`."""

    started = Signal()
    yielded = Signal(object)
    paused = Signal()
    resumed = Signal()
    aborted = Signal()
    returned = Signal(object)
    errored = Signal(str)
    finished = Signal()

    #: Errors whose text is already a message for the user (no traceback).
    expected_errors: tuple[type[Exception], ...] = ()

    def __init__(self) -> None:
        super().__init__()
        self._abort = threading.Event()
        self._go = threading.Event()
        self._go.set()

    # -- called from the GUI thread (thread-safe) ---------------------------------------------
    def quit(self) -> None:
        """Ask the work to stop at its next check; wakes it if paused."""
        self._abort.set()
        self._go.set()

    def pause(self) -> None:
        self._go.clear()

    def resume(self) -> None:
        self._go.set()

    @property
    def abort_requested(self) -> bool:
        return self._abort.is_set()

    @property
    def is_paused(self) -> bool:
        return not self._go.is_set()

    # -- the worker thread --------------------------------------------------------------------
    def work(self) -> object:
        raise NotImplementedError

    @Slot()
    def run(self) -> None:
        self.started.emit()
        try:
            result = self.work()
        except WorkAborted:
            self.aborted.emit()
        except Exception as exc:  # becomes a signal: shown to the user, never lost
            self.errored.emit(error_message(exc, self.expected_errors))
        else:
            self.returned.emit(result)
        finally:
            self.finished.emit()


class FunctionWorker(WorkerBase):
    """Runs ``fn(report, should_stop)``.

    ``report(value, force=False)`` emits ``yielded(value)`` at most every ``min_interval``
    seconds (to keep the event queue short); ``force=True`` always emits (milestones that must
    not be dropped). ``should_stop()`` is the quit flag, polled by the function between small
    steps; with ``yield_gil`` it is also where the worker lets the GUI thread in: a loop of
    tiny numpy calls releases and retakes the GIL around each call, and CPython then never
    forces a switch to a waiting thread (each retake counts as a switch) — the gradient check
    starved the window for seconds. A short sleep every ``YIELD_EVERY`` seconds leaves the GIL
    free long enough for the GUI thread to take it.
    """

    def __init__(
        self,
        fn: TaskFunction,
        *,
        min_interval: float = 0.05,
        yield_gil: bool = True,
        expected_errors: tuple[type[Exception], ...] = (),
    ) -> None:
        super().__init__()
        self._fn = fn
        self._min_interval = min_interval
        self._yield_gil = yield_gil
        self.expected_errors = expected_errors
        self._last_report = 0.0
        self._last_yield = 0.0

    def report(self, value: object, force: bool = False) -> None:
        now = time.perf_counter()
        if force or now - self._last_report >= self._min_interval:
            self._last_report = now
            self.yielded.emit(value)

    def should_stop(self) -> bool:
        if self._yield_gil:
            now = time.perf_counter()
            if now - self._last_yield >= YIELD_EVERY:
                time.sleep(YIELD_FOR)
                self._last_yield = time.perf_counter()
        return self._abort.is_set()

    def work(self) -> object:
        self._last_yield = time.perf_counter()
        try:
            result = self._fn(self.report, self.should_stop)
        except Exception as exc:
            if self._abort.is_set():  # a cancelled computation often ends by raising
                raise WorkAborted from exc
            raise
        if self._abort.is_set():
            raise WorkAborted
        return result


#: Threads that may still be running, with their workers, kept referenced so Python never
#: destroys a running QThread nor a worker its thread is still using, even if the owner of
#: the WorkerThread is gone first. Pruned once a thread has finished.
_LIVE: set[tuple[QThread, WorkerBase]] = set()
_QUIT_HOOKED = False


def _stop_all_on_quit() -> None:
    """Ask every worker to stop and wait for it: the application is quitting."""
    for thread, worker in list(_LIVE):
        worker.quit()
        thread.quit()
        thread.wait(5000)
    _LIVE.clear()


def _hook_quit() -> None:
    global _QUIT_HOOKED
    app = QCoreApplication.instance()
    if app is not None and not _QUIT_HOOKED:
        app.aboutToQuit.connect(_stop_all_on_quit)
        _QUIT_HOOKED = True


class WorkerThread(QObject):
    """Runs one worker in a fresh QThread (a GUI-thread object; one use).

    Connect to the worker's signals before :meth:`start`. ``ended`` is emitted in the GUI
    thread once the thread has really ended, after every signal of the worker; the worker is
    then released here, in the GUI thread. ``switch_interval`` shortens the interpreter's
    switch interval while the thread runs (for work that runs Python code: training, checks).
    """

    ended = Signal()

    def __init__(
        self,
        worker: WorkerBase,
        *,
        name: str,
        switch_interval: bool = True,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._worker: WorkerBase | None = worker
        self._thread: QThread | None = None
        self._name = name
        self._switch_interval = switch_interval
        self._holds_gil_setting = False
        _hook_quit()

    @property
    def worker(self) -> WorkerBase | None:
        """The worker, until the thread has ended."""
        return self._worker

    @property
    def qthread(self) -> QThread | None:
        """The QThread, from :meth:`start` until it has ended."""
        return self._thread

    @property
    def is_running(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        worker = self._worker
        if worker is None or self._thread is not None:
            raise RuntimeError("a WorkerThread runs one worker once")
        gc_guard.install()  # cycles in the GUI thread only, never in this worker's
        thread = QThread()
        thread.setObjectName(self._name)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        # quit() is thread-safe; direct, so the thread ends even while the GUI thread waits.
        worker.finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        thread.finished.connect(self._on_thread_finished)
        for entry in [e for e in _LIVE if e[0].isFinished()]:
            _LIVE.discard(entry)
        _LIVE.add((thread, worker))
        self._thread = thread
        if self._switch_interval:
            gil.acquire()  # a short switch interval while the work goes (see gui/gil.py)
            self._holds_gil_setting = True
        thread.start()

    def quit(self) -> None:
        """Ask the worker to stop (returns at once)."""
        if self._worker is not None:
            self._worker.quit()

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Ask the worker to stop and block until its thread has ended (``ended`` is emitted
        before this returns). False if it did not end in time (it is left to finish alone)."""
        thread = self._thread
        if thread is None:
            return True
        self.quit()
        thread.quit()
        finished = thread.wait(timeout_ms)
        if finished:
            self._on_thread_finished()
        return finished

    @Slot()
    def _on_thread_finished(self) -> None:
        thread, worker = self._thread, self._worker
        if thread is None or worker is None:
            return  # already handled (shutdown() ran first)
        # ``finished`` is emitted before the thread has quite ended. Wait for the end before
        # dropping the last Python reference to the worker, which deletes it here, in the GUI
        # thread, with nothing of its thread left to race.
        thread.wait()
        if self._holds_gil_setting:
            gil.release()
            self._holds_gil_setting = False
        self._thread = self._worker = None
        _LIVE.discard((thread, worker))
        del worker
        thread.deleteLater()
        self.ended.emit()


class BackgroundTask(QObject):
    """One function at a time in a worker thread, the latest request winning (a GUI-thread
    object, usually a view's child; the insight tabs' checks and evaluations).

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
        self._job: WorkerThread | None = None
        # The running worker's quit flag, kept here for the progress filter.
        self._worker: FunctionWorker | None = None
        self._pending: TaskFunction | None = None
        _hook_quit()

    @property
    def is_running(self) -> bool:
        return self._job is not None

    def start(self, fn: TaskFunction) -> None:
        """Run ``fn(report, should_stop)`` in a new thread (after the current one, if any)."""
        if self._job is not None:
            self._pending = fn
            self.cancel(keep_pending=True)
            return
        worker = FunctionWorker(fn, min_interval=self._min_interval)
        worker.yielded.connect(self._on_progressed)
        worker.returned.connect(self.succeeded)
        worker.errored.connect(self.failed)
        worker.aborted.connect(self._on_aborted)
        job = WorkerThread(worker, name="insightTaskThread", parent=self)
        job.ended.connect(self._on_ended)
        self._job, self._worker = job, worker
        job.start()

    def cancel(self, *, keep_pending: bool = False) -> None:
        """Ask the running function to stop (it sees ``should_stop()`` turn True)."""
        if not keep_pending:
            self._pending = None
        if self._job is not None:
            self._job.quit()

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Cancel, drop anything waiting and block until the thread has ended."""
        self._pending = None
        job = self._job
        return True if job is None else job.shutdown(timeout_ms)

    # -- slots (GUI thread) -------------------------------------------------------------------
    @Slot(object)
    def _on_progressed(self, value: object) -> None:
        worker = self._worker
        if worker is not None and not worker.abort_requested:
            self.progressed.emit(value)

    @Slot()
    def _on_aborted(self) -> None:
        # A cancel that only made room for the next request is not news for the user.
        if self._pending is None:
            self.cancelled.emit()

    @Slot()
    def _on_ended(self) -> None:
        job, self._job, self._worker = self._job, None, None
        if job is not None:
            job.deleteLater()
        self.finished.emit()
        if self._pending is not None:
            fn, self._pending = self._pending, None
            self.start(fn)
