"""The training worker: a QObject living in a QThread, driven by ``Trainer.steps()``.

Pause, resume, stop and the learning rate are thread-safe flags that the GUI thread sets by
calling the methods directly (a queued slot would only run after the loop ends); the loop
checks them after every step. Results leave as :class:`TrainingSnapshot` signals, throttled to
``emit_interval`` seconds, with a final one always sent before ``finished``.
"""

from __future__ import annotations

import math
import threading
import time
import traceback
from collections import deque

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from desktop_bp.core.errors import TrainingDiverged
from desktop_bp.core.trainer import GRADIENT_KEYS, EpochRecord, StepRecord, Trainer
from desktop_bp.gui.snapshot import TrainingSnapshot

#: Reasons a run ends, as carried by ``finished`` and ``MainWindow.trainingFinished``.
COMPLETED, STOPPED, DIVERGED, FAILED = "completed", "stopped", "diverged", "failed"


class TrainingWorker(QObject):
    """Runs one trainer to its end (or until stopped) in whatever thread owns it.

    Signals: ``snapshotReady(TrainingSnapshot)``; ``paused()``/``resumed()`` when the loop
    actually halts or continues; ``finished(reason, message)`` once, last of all.
    """

    snapshotReady = Signal(object)
    paused = Signal()
    resumed = Signal()
    finished = Signal(str, str)

    def __init__(self, trainer: Trainer, *, emit_interval: float = 0.05) -> None:
        super().__init__()
        self._trainer = trainer
        self._emit_interval = emit_interval
        self._stop = threading.Event()
        self._go = threading.Event()
        self._go.set()
        self._pending_lr: float | None = None
        self._start_iteration = trainer.iteration
        self._reset_pending()
        self._rate_window: deque[tuple[float, int]] = deque(maxlen=20)
        self._elapsed = 0.0

    # -- called from the GUI thread -----------------------------------------------------------
    def pause(self) -> None:
        self._go.clear()

    def resume(self) -> None:
        self._go.set()

    def stop(self) -> None:
        self._stop.set()
        self._go.set()  # wake a paused loop so it can see the stop

    def set_learning_rate(self, value: float) -> None:
        """Applied to ``trainer.learning_rate`` before the next step."""
        self._pending_lr = float(value)

    @property
    def is_paused(self) -> bool:
        return not self._go.is_set()

    # -- the loop (worker thread) -------------------------------------------------------------
    def _reset_pending(self) -> None:
        self._loss_iterations: list[int] = []
        self._losses: list[float] = []
        self._grad_iterations: list[int] = []
        self._grads: dict[str, list[float]] = {key: [] for key in GRADIENT_KEYS}
        self._epochs: list[EpochRecord] = []
        self._latest_grads: dict[str, float] = {}

    def _snapshot(self, *, paused: bool = False, final: bool = False) -> TrainingSnapshot:
        trainer = self._trainer
        now = time.perf_counter()
        self._rate_window.append((now, trainer.iteration))
        first_time, first_iteration = self._rate_window[0]
        span = now - first_time
        rate = (trainer.iteration - first_iteration) / span if span > 0 else 0.0
        params = trainer.network.copy_params()
        if not all(np.all(np.isfinite(value)) for value in params.values()):
            params = None
        snapshot = TrainingSnapshot(
            iteration=trainer.iteration,
            target_iteration=trainer.config.iterations,
            start_iteration=self._start_iteration,
            loss_iterations=self._loss_iterations,
            losses=self._losses,
            grad_iterations=self._grad_iterations,
            grads=self._grads,
            epochs=self._epochs,
            params=params,
            learning_rate=trainer.learning_rate,
            it_per_sec=rate,
            elapsed=self._elapsed,
            paused=paused,
            final=final,
            latest_grads=dict(self._latest_grads),
        )
        self._reset_pending()
        return snapshot

    def _wait_while_paused(self, run_started: float) -> float:
        """Block until resumed or stopped; return the new run-clock origin (pause excluded)."""
        self._elapsed += time.perf_counter() - run_started
        self.snapshotReady.emit(self._snapshot(paused=True))
        self.paused.emit()
        while not self._go.wait(0.05):
            pass
        self._rate_window.clear()
        self.resumed.emit()
        return time.perf_counter()

    @Slot()
    def run(self) -> None:
        trainer = self._trainer
        reason, message = COMPLETED, ""
        steps = trainer.steps()
        run_started = last_emit = time.perf_counter()
        self._rate_window.append((run_started, trainer.iteration))
        try:
            for record in steps:
                if isinstance(record, StepRecord):
                    self._loss_iterations.append(record.iteration)
                    self._losses.append(record.loss)
                    self._grad_iterations.append(record.iteration)
                    grads = self._grads
                    for key, value in record.grads.items():
                        grads[key].append(value)
                    self._latest_grads = record.grads
                else:
                    self._epochs.append(record)
                if self._pending_lr is not None:
                    lr, self._pending_lr = self._pending_lr, None
                    if math.isfinite(lr) and lr > 0:
                        trainer.learning_rate = lr
                if self._stop.is_set():
                    reason = STOPPED
                    break
                if not self._go.is_set():
                    run_started = self._wait_while_paused(run_started)
                    last_emit = run_started
                    if self._stop.is_set():
                        reason = STOPPED
                        break
                    continue
                now = time.perf_counter()
                if now - last_emit >= self._emit_interval:
                    self._elapsed += now - run_started
                    run_started = last_emit = now
                    self.snapshotReady.emit(self._snapshot())
        except TrainingDiverged as exc:
            reason, message = DIVERGED, str(exc)
        except Exception as exc:  # a worker error must reach the user, never vanish
            reason = FAILED
            message = f"{type(exc).__name__}: {exc}\n\n{traceback.format_exc()}"
        finally:
            steps.close()
            self._elapsed += time.perf_counter() - run_started
            self.snapshotReady.emit(self._snapshot(final=True))
            self.finished.emit(reason, message)
