"""The network the window works on and the one run that trains it (no widgets).

:class:`TrainingController` keeps what the GUI shows of the network — read-only copies of the
weights as of the last snapshot, the last healthy ones (a diverged run rolls back to them), the
run's progress and the last test accuracy — and the rules between runs (continue the network or
start a new one, roll back). The window turns its state into pixels and messages.
"""

from __future__ import annotations

from pathlib import Path

from numpy.typing import NDArray
from PySide6.QtCore import QObject, Signal

from desktop_bp.core import data as core_data
from desktop_bp.core.checkpoint import Checkpoint, save_checkpoint
from desktop_bp.core.errors import CheckpointError
from desktop_bp.core.trainer import TrainConfig, Trainer
from desktop_bp.gui.training.runner import TrainingRunner
from desktop_bp.gui.training.session import Session
from desktop_bp.gui.training.snapshot import TrainingSnapshot, is_healthy
from desktop_bp.gui.training.worker import DIVERGED, FAILED

#: (done, start, target, it/s, paused) of the run going.
Progress = tuple[int, int, int, float, bool]


class TrainingController(QObject):
    """Session, runner and the GUI's view of the weights (a GUI-thread object).

    Signal ``paramsChanged()``: :meth:`params` was replaced. The runner's signals
    (``runner.snapshotReceived``, ``pausedChanged``, ``runFinished``) are the window's to
    connect; it hands them back through :meth:`take_snapshot`, :meth:`set_paused` and
    :meth:`finish`.
    """

    paramsChanged = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = Session()
        self.runner = TrainingRunner(self)
        self.trainer: Trainer | None = None  # the run going
        self.progress: Progress | None = None
        self.last_test_acc: float | None = None
        self._params: dict[str, NDArray] | None = None
        self._healthy_params: dict[str, NDArray] | None = None

    # -- what the GUI shows -------------------------------------------------------------------
    @property
    def iteration(self) -> int:
        """Steps done by the current network, as of the last snapshot while training."""
        if self.runner.is_running and self.progress is not None:
            return self.progress[0]
        return self.session.iterations_done

    def params(self) -> dict[str, NDArray] | None:
        """Read-only copies of W1, b1, W2, b2 as of the last snapshot (None: no network)."""
        return None if self._params is None else dict(self._params)

    def network_info(self) -> dict[str, object]:
        """Activation and sizes of the network ``params`` belongs to."""
        net = self.session.network
        if net is None:
            return {}
        return {
            "activation": net.activation,
            "input_size": net.input_size,
            "hidden_size": net.hidden_size,
            "output_size": net.output_size,
        }

    def _set_params(self, params: dict[str, NDArray] | None) -> None:
        if params is not None:
            for value in params.values():
                value.flags.writeable = False
        self._params = params
        self.paramsChanged.emit()

    # -- between runs -------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget the network."""
        self.session = Session()
        self._set_params(None)
        self._healthy_params = None
        self.last_test_acc = None

    def load(self, checkpoint: Checkpoint) -> Session:
        """Work on the network of ``checkpoint`` (raises ValueError for one that cannot be
        built; nothing changes then)."""
        session = Session.from_checkpoint(checkpoint)
        self.session = session
        history = session.history
        self.last_test_acc = history.test_acc[-1] if history.test_acc else None
        if checkpoint.test_acc is not None:
            self.last_test_acc = checkpoint.test_acc
        self._set_params(session.copy_params())
        self._healthy_params = self._params
        return session

    @property
    def can_save(self) -> bool:
        return self.session.network is not None and self.session.config is not None

    def save(self, path: str | Path) -> None:
        """Save the network with its settings and curves (raises CheckpointError)."""
        session = self.session
        if session.network is None or session.config is None:
            raise CheckpointError("there is no network to save")
        save_checkpoint(
            path,
            session.network,
            config=session.config,
            dataset=session.dataset or core_data.EMBEDDED,
            iterations_done=session.iterations_done,
            history=session.history,
        )

    # -- a run --------------------------------------------------------------------------------
    def prepare(self, config: TrainConfig, data: core_data.Dataset, source: str) -> bool:
        """Make the trainer of the next run; True if it continues the network (False: a new
        network replaced it). Raises ValueError for settings that do not fit; :meth:`launch`
        starts it."""
        trainer, continued = self.session.make_trainer(config, data, source)
        if not continued:
            self.last_test_acc = None
            self._set_params(self.session.copy_params())
        self._healthy_params = self.session.copy_params()
        self.trainer = trainer
        self.progress = (
            trainer.iteration,
            trainer.iteration,
            trainer.config.iterations,
            0.0,
            False,
        )
        return continued

    def launch(self) -> None:
        if self.trainer is not None:
            self.runner.start(self.trainer)

    def take_snapshot(self, snapshot: TrainingSnapshot, test_acc: float | None) -> None:
        if test_acc is not None:
            self.last_test_acc = test_acc
        if snapshot.params is not None:
            self._set_params(snapshot.params)
            # A run's final snapshot is judged in finish() (it may hold the weights that
            # diverged).
            if not snapshot.final and is_healthy(snapshot):
                self._healthy_params = self._params
        self.progress = (
            snapshot.iteration,
            snapshot.start_iteration,
            snapshot.target_iteration,
            snapshot.it_per_sec,
            snapshot.paused,
        )

    def set_paused(self, paused: bool) -> None:
        if self.progress is not None:
            done, start, target, rate, _ = self.progress
            self.progress = (done, start, target, rate, paused)

    def finish(self, reason: str) -> None:
        """The run has ended: the session takes its results; a diverged run rolls back to the
        last healthy weights."""
        trainer, self.trainer = self.trainer, None
        if trainer is not None:
            self.session.finish_run(trainer)
        if reason == DIVERGED and self._healthy_params is not None:
            self.session.restore_params(self._healthy_params)
        if reason != FAILED:
            self._set_params(self.session.copy_params())
        self.progress = None
