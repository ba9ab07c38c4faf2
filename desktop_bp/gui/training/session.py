"""The model the window works on, between runs: network, curves and how it was trained (no Qt).

During a run the training thread owns ``network`` and ``history``; the GUI thread reads them
only once the run has ended (it draws from snapshots meanwhile).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from desktop_bp.core.checkpoint import Checkpoint
from desktop_bp.core.network import TwoLayerNet
from desktop_bp.core.trainer import TrainConfig, Trainer, TrainingHistory

Dataset = tuple[tuple[NDArray, NDArray], tuple[NDArray, NDArray]]


@dataclass
class Session:
    network: TwoLayerNet | None = None
    config: TrainConfig | None = None  # what the network was built and last trained with
    dataset: str | None = None
    history: TrainingHistory = field(default_factory=TrainingHistory)
    iterations_done: int = 0

    @property
    def has_model(self) -> bool:
        return self.network is not None

    def continues_with(self, config: TrainConfig, source: str) -> bool:
        """Would a run with ``config`` on ``source`` continue this network (same architecture
        and data set) rather than start a new one?"""
        net = self.network
        return (
            net is not None
            and self.dataset == source
            and net.hidden_size == config.hidden_size
            and net.activation == config.activation
        )

    def make_trainer(self, config: TrainConfig, data: Dataset, source: str) -> tuple[Trainer, bool]:
        """A trainer for ``config.iterations`` more steps on ``source``'s ``data``, and True
        if it continues this network (False: a new network replaced it).

        A continued run draws its minibatches from a seed offset by the steps already done,
        so it does not replay the first run's batches.
        """
        if self.network is not None and self.continues_with(config, source):
            done = self.iterations_done
            run_config = dataclasses.replace(
                config, iterations=done + config.iterations, seed=config.seed + done
            )
            trainer = Trainer(
                run_config,
                data,
                network=self.network,
                history=self.history,
                start_iteration=done,
            )
            self.config = dataclasses.replace(config)
            return trainer, True
        trainer = Trainer(config, data)
        self.network = trainer.network
        self.history = trainer.history
        self.iterations_done = 0
        self.dataset = source
        self.config = dataclasses.replace(config)
        return trainer, False

    def finish_run(self, trainer: Trainer) -> None:
        self.iterations_done = trainer.iteration
        if self.config is not None:
            self.config = dataclasses.replace(
                self.config, learning_rate=float(trainer.learning_rate)
            )

    def restore_params(self, params: dict[str, NDArray]) -> None:
        if self.network is not None:
            self.network.set_params(params)

    def copy_params(self) -> dict[str, NDArray] | None:
        return self.network.copy_params() if self.network is not None else None

    @classmethod
    def from_checkpoint(cls, checkpoint: Checkpoint) -> Session:
        network = checkpoint.build_network(dtype=np.float32)
        history = TrainingHistory(
            losses=list(checkpoint.history.losses),
            epoch_iterations=list(checkpoint.history.epoch_iterations),
            train_acc=list(checkpoint.history.train_acc),
            test_acc=list(checkpoint.history.test_acc),
        )
        return cls(
            network=network,
            config=dataclasses.replace(checkpoint.config),
            dataset=checkpoint.dataset,
            history=history,
            iterations_done=checkpoint.iterations_done,
        )
