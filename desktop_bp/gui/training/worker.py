"""The training worker: a :class:`~desktop_bp.gui.qthreading.WorkerBase` driven by
``Trainer.steps()``, run by the thread helper (``gui/qthreading.py``).

Pause, resume, stop and the learning rate are thread-safe flags that the GUI thread sets by
calling the methods directly (a queued slot would only run after the loop ends); the loop
checks them after every step. Snapshots leave as ``yielded(TrainingSnapshot)``, throttled to
``emit_interval`` seconds, with a final one always sent before the outcome: ``returned((reason,
message))`` for a run that completed, was stopped or diverged, ``errored(message)`` for one
that failed, then ``finished``.
"""

from __future__ import annotations

import math
import time
from collections import deque

import numpy as np

from desktop_bp.core.errors import TrainingDiverged
from desktop_bp.core.trainer import GRADIENT_KEYS, EpochRecord, StepRecord, Trainer
from desktop_bp.gui.qthreading import WorkerBase
from desktop_bp.gui.training.snapshot import TrainingSnapshot

#: Reasons a run ends, as carried by ``TrainingRunner.runFinished`` and
#: ``MainWindow.trainingFinished``.
COMPLETED, STOPPED, DIVERGED, FAILED = "completed", "stopped", "diverged", "failed"


class TrainingWorker(WorkerBase):
    """Runs one trainer to its end (or until stopped) in whatever thread owns it.

    Signals (see WorkerBase): ``yielded(TrainingSnapshot)``; ``paused()``/``resumed()`` when
    the loop actually halts or continues; ``returned((reason, message))`` or
    ``errored(message)``; ``finished()`` once, last of all.
    """

    def __init__(self, trainer: Trainer, *, emit_interval: float = 0.05) -> None:
        super().__init__()
        self._trainer = trainer
        self._emit_interval = emit_interval
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
        super().pause()
        self._attention = True

    def resume(self) -> None:
        super().resume()
        self._attention = True

    def quit(self) -> None:
        super().quit()  # also wakes a paused loop so it can see the stop
        self._attention = True

    def set_learning_rate(self, value: float) -> None:
        """Applied to ``trainer.learning_rate`` before the next step."""
        self._pending_lr = float(value)
        self._attention = True

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
        self.yielded.emit(self._snapshot(paused=True))
        self.paused.emit()
        while not self._go.wait(0.05):
            pass
        self._rate_window.clear()
        self.resumed.emit()
        return time.perf_counter()

    def work(self) -> tuple[str, str]:
        """The loop; returns ``(reason, message)`` (raises for a run that failed)."""
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
                    if self.abort_requested:
                        reason = STOPPED
                        break
                    if self.is_paused:
                        run_started = self._wait_while_paused(run_started)
                        last_emit = run_started
                        if self.abort_requested:
                            reason = STOPPED
                            break
                        continue
                now = time.perf_counter()
                if now - last_emit >= self._emit_interval:
                    self._elapsed += now - run_started
                    run_started = last_emit = now
                    self.yielded.emit(self._snapshot())
        except TrainingDiverged as exc:
            reason, message = DIVERGED, str(exc)
        # Any other error leaves as ``errored`` (WorkerBase.run), after the final snapshot.
        finally:
            steps.close()
            self._elapsed += time.perf_counter() - run_started
            self.yielded.emit(self._snapshot(final=True))
        return reason, message
