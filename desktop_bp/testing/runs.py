"""Synthetic finished runs for tests, benchmarks and screenshots (numpy only, no Qt).

:func:`synthetic_run` makes a :class:`RunRecord` through ``record_from_history`` with curves
shaped like a real run of the chapter's network: the loss falls from ln 10 faster for a larger
learning rate, with minibatch noise; the accuracies rise per epoch; the gradient magnitudes
shrink as the loss does.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np

from desktop_bp.core.run_history import RunRecord, record_from_history
from desktop_bp.core.trainer import GRADIENT_KEYS, TrainConfig, TrainingHistory

START = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.timezone.utc)


def synthetic_run(
    lr: float = 0.1,
    *,
    minutes: int = 0,
    steps: int = 2000,
    epoch: int = 200,
    seed: int = 0,
    outcome: str = "completed",
    **config_changes,
) -> RunRecord:
    """A run with learning rate ``lr`` that started ``minutes`` after :data:`START`.

    ``config_changes`` go to the TrainConfig (``hidden_size=100``, ``activation="sigmoid"``);
    curves: losses (steps,), accuracies every ``epoch`` steps, gradients every 4th step.
    """
    rng = np.random.default_rng(seed)
    config = TrainConfig(learning_rate=lr, iterations=steps, **config_changes)
    t = np.arange(1, steps + 1)
    rate = 40.0 * lr / steps
    clean = 0.15 + (np.log(10.0) - 0.15) * np.exp(-rate * t)
    losses = clean * np.exp(rng.normal(0.0, 0.18, steps))
    epochs = list(range(epoch, steps + 1, epoch))
    final = 0.97 - 0.05 / (1.0 + 10.0 * lr)
    train = [
        final * (1.0 - np.exp(-rate * 2.0 * e)) + 0.1 * np.exp(-rate * 2.0 * e) for e in epochs
    ]
    test = [a - 0.01 for a in train]
    history = TrainingHistory(
        losses=losses.tolist(), epoch_iterations=epochs, train_acc=train, test_acc=test
    )
    sampled = t[::4]
    scale = clean[::4] / clean[0]
    gradients = {
        key: 10.0 ** (-2.0 - 0.3 * n) * scale * np.exp(rng.normal(0.0, 0.05, sampled.size))
        for n, key in enumerate(GRADIENT_KEYS)
    }
    record = record_from_history(
        history,
        config=config,
        dataset="embedded",
        outcome=outcome,
        wall_seconds=2.0 + steps / 400.0,
        gradient_iterations=sampled,
        gradients=gradients,
        started_at=START + dt.timedelta(minutes=minutes),
    )
    return dataclasses.replace(record)
