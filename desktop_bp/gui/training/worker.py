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
from desktop_bp.gui.training.snapshot import TrainingSnapshot

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
        # Raised by every call from the GUI thread: the loop reads this one attribute per
        # step and looks at the events and the learning rate only when it is set.
        self._attention = False
        self._start_iteration = trainer.iteration
        self._reset_pending()
        self._rate_window: deque[tuple[float, int]] = deque(maxlen=20)
        self._elapsed = 0.0

    # -- called from the GUI thread -----------------------------------------------------------
    def pause(self) -> None:
        self._go.clear()
        self._attention = True

    def resume(self) -> None:
        self._go.set()
        self._attention = True

    def stop(self) -> None:
        self._stop.set()
        self._go.set()  # wake a paused loop so it can see the stop
        self._attention = True

    def set_learning_rate(self, value: float) -> None:
        """Applied to ``trainer.learning_rate`` before the next step."""
        self._pending_lr = float(value)
        self._attention = True

    @property
    def is_paused(self) -> bool:
        return not self._go.is_set()

    # -- the loop (worker thread) -------------------------------------------------------------
    def _reset_pending(self) -> None:
        # Records are kept whole and split into columns once per snapshot: a list append per
        # step costs the training thread less than a dozen.
        self._steps: list[StepRecord] = []
        self._epochs: list[EpochRecord] = []

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
        steps = self._steps
        iterations = [record.iteration for record in steps]
        snapshot = TrainingSnapshot(
            iteration=trainer.iteration,
            target_iteration=trainer.config.iterations,
            start_iteration=self._start_iteration,
            loss_iterations=iterations,
            losses=[record.loss for record in steps],
            grad_iterations=list(iterations),
            grads={key: [record.grads[key] for record in steps] for key in GRADIENT_KEYS},
            epochs=self._epochs,
            params=params,
            learning_rate=trainer.learning_rate,
            it_per_sec=rate,
            elapsed=self._elapsed,
            paused=paused,
            final=final,
            latest_grads=dict(steps[-1].grads) if steps else {},
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
                if type(record) is StepRecord:
                    self._steps.append(record)
                else:
                    self._epochs.append(record)
                if self._attention:
                    self._attention = False
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
