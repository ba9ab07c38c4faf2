"""Owns the :class:`TrainingWorker` of the current run and its thread (a GUI-thread object).

The thread is the thread helper's (``gui/qthreading.py``): ``runFinished`` is emitted in the
GUI thread after the thread has really stopped, so a slot connected to it may start the next
run at once.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QThread, Signal, Slot

from desktop_bp.core.trainer import Trainer
from desktop_bp.gui.qthreading import WorkerThread
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
        self._job: WorkerThread | None = None
        self._worker: TrainingWorker | None = None
        self._reason = FAILED
        self._message = ""

    @property
    def is_running(self) -> bool:
        return self._job is not None

    @property
    def is_paused(self) -> bool:
        return self._worker is not None and self._worker.is_paused

    @property
    def _thread(self) -> QThread | None:
        """The run's QThread (None between runs)."""
        return None if self._job is None else self._job.qthread

    def start(self, trainer: Trainer) -> None:
        if self._job is not None:
            raise RuntimeError("a training run is already going; stop it first")
        worker = TrainingWorker(trainer, emit_interval=self._emit_interval)
        # Signal to signal: re-emitted in the GUI thread without a Python hop.
        worker.yielded.connect(self.snapshotReceived)
        worker.paused.connect(self._on_paused)
        worker.resumed.connect(self._on_resumed)
        worker.returned.connect(self._on_returned)
        worker.errored.connect(self._on_errored)
        job = WorkerThread(worker, name="trainingThread", parent=self)
        job.ended.connect(self._on_ended)
        self._job, self._worker = job, worker
        self._reason, self._message = FAILED, "the training thread ended without a result"
        job.start()

    # Direct calls into the worker's thread-safe flags (never queued).
    def pause(self) -> None:
        if self._worker is not None:
            self._worker.pause()

    def resume(self) -> None:
        if self._worker is not None:
            self._worker.resume()

    def stop(self) -> None:
        if self._worker is not None:
            self._worker.quit()

    def set_learning_rate(self, value: float) -> None:
        if self._worker is not None:
            self._worker.set_learning_rate(value)

    def shutdown(self, timeout_ms: int = 3000) -> bool:
        """Stop the run and block until its thread has ended (window closing).

        Returns False if the thread did not end in time (it is then left to finish on its own).
        """
        job = self._job
        if job is None:
            return True
        self._reason, self._message = STOPPED, ""
        return job.shutdown(timeout_ms)

    # -- slots (GUI thread) -------------------------------------------------------------------
    @Slot()
    def _on_paused(self) -> None:
        self.pausedChanged.emit(True)

    @Slot()
    def _on_resumed(self) -> None:
        self.pausedChanged.emit(False)

    @Slot(object)
    def _on_returned(self, outcome: tuple[str, str]) -> None:
        self._reason, self._message = outcome

    @Slot(str)
    def _on_errored(self, message: str) -> None:
        self._reason, self._message = FAILED, message

    @Slot()
    def _on_ended(self) -> None:
        job, self._job, self._worker = self._job, None, None
        if job is not None:
            job.deleteLater()
        self.runFinished.emit(self._reason, self._message)
