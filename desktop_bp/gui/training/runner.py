"""Owns the QThread and the :class:`TrainingWorker` of the current run (GUI-thread object).

Wiring: ``thread.started → worker.run``, ``worker.finished → thread.quit`` (direct: quit() is
thread-safe). Both objects are owned by Python and released in the GUI thread once the thread
has ended. ``runFinished`` is emitted in the GUI thread after the thread has really stopped,
so a slot connected to it may start the next run at once.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from desktop_bp.core.trainer import Trainer
from desktop_bp.gui import gil
from desktop_bp.gui.training.worker import FAILED, STOPPED, TrainingWorker


class TrainingRunner(QObject):
    """Start, pause, resume and stop one training run at a time.

    Signals (all in the GUI thread): ``snapshotReceived(TrainingSnapshot)``,
    ``pausedChanged(bool)`` when the loop has actually halted or continued, and
    ``runFinished(reason, message)``.
    """

    snapshotReceived = Signal(object)
    pausedChanged = Signal(bool)
    runFinished = Signal(str, str)

    def __init__(self, parent: QObject | None = None, *, emit_interval: float = 0.05) -> None:
        super().__init__(parent)
        self._emit_interval = emit_interval
        self._thread: QThread | None = None
        self._worker: TrainingWorker | None = None
        self._reason = FAILED
        self._message = ""
        self._holds_gil_setting = False
        self._retired: tuple[object, ...] = ()

    @property
    def is_running(self) -> bool:
        return self._thread is not None

    @property
    def is_paused(self) -> bool:
        return self._worker is not None and self._worker.is_paused

    def start(self, trainer: Trainer) -> None:
        if self._thread is not None:
            raise RuntimeError("a training run is already going; stop it first")
        thread = QThread()
        thread.setObjectName("trainingThread")
        worker = TrainingWorker(trainer, emit_interval=self._emit_interval)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        # quit() is thread-safe; a direct call lets the thread end even while the GUI thread
        # is blocked in wait() (shutdown on close).
        worker.finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        worker.finished.connect(self._on_worker_finished)
        # Signal to signal: re-emitted in the GUI thread without a Python hop.
        worker.snapshotReady.connect(self.snapshotReceived)
        worker.paused.connect(self._on_paused)
        worker.resumed.connect(self._on_resumed)
        thread.finished.connect(self._on_thread_finished)
        self._thread, self._worker = thread, worker
        self._reason, self._message = FAILED, "the training thread ended without a result"
        if not self._holds_gil_setting:
            gil.acquire()  # a short switch interval while the run goes (see gui/gil.py)
            self._holds_gil_setting = True
        thread.start()

    # Direct calls into the worker's thread-safe flags (never queued).
    def pause(self) -> None:
        if self._worker is not None:
            self._worker.pause()

    def resume(self) -> None:
        if self._worker is not None:
            self._worker.resume()

    def stop(self) -> None:
        if self._worker is not None:
            self._worker.stop()

    def set_learning_rate(self, value: float) -> None:
        if self._worker is not None:
            self._worker.set_learning_rate(value)

    def shutdown(self, timeout_ms: int = 3000) -> bool:
        """Stop the run and block until its thread has ended (window closing).

        Returns False if the thread did not end in time (it is then left to finish on its own).
        """
        thread, worker = self._thread, self._worker
        if thread is None or worker is None:
            return True
        self._reason, self._message = STOPPED, ""
        worker.stop()
        thread.quit()
        finished = thread.wait(timeout_ms)
        if finished:
            self._on_thread_finished()
        return finished

    # -- slots (GUI thread) -------------------------------------------------------------------
    @Slot()
    def _on_paused(self) -> None:
        self.pausedChanged.emit(True)

    @Slot()
    def _on_resumed(self) -> None:
        self.pausedChanged.emit(False)

    @Slot(str, str)
    def _on_worker_finished(self, reason: str, message: str) -> None:
        self._reason, self._message = reason, message

    @Slot()
    def _on_thread_finished(self) -> None:
        thread, worker = self._thread, self._worker
        if thread is None:
            return  # already handled (shutdown() ran first)
        thread.wait()  # finished is emitted just before the thread really ends
        # Python owns the thread and the worker: keep them until the next run replaces them,
        # so they are deleted in the GUI thread after their thread has ended (a deleteLater in
        # the dying thread would race Python's own deletion).
        self._retired = (thread, worker)
        self._thread = self._worker = None
        if self._holds_gil_setting:
            gil.release()
            self._holds_gil_setting = False
        self.runFinished.emit(self._reason, self._message)
