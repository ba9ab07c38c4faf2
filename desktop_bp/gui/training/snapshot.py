"""What the training worker hands the GUI: frozen copies, never the trainer's live arrays."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from desktop_bp.core.trainer import DIVERGENCE_FACTOR, EpochRecord


@dataclass(frozen=True, slots=True)
class TrainingSnapshot:
    """The state of a run at one moment, plus everything new since the previous snapshot.

    ``loss_iterations``/``losses``: the steps done since the last snapshot (1-based iteration
    numbers) and their minibatch losses. ``grad_iterations``/``grads``: the same steps'
    gradient magnitudes, one list per key of ``trainer.GRADIENT_KEYS``. ``epochs``: accuracy
    records since the last snapshot. ``params``: a copy of W1, b1, W2, b2 after ``iteration``
    steps, or None when they were not all finite (the GUI keeps its previous copy).
    """

    iteration: int
    target_iteration: int
    start_iteration: int
    loss_iterations: list[int]
    losses: list[float]
    grad_iterations: list[int]
    grads: dict[str, list[float]]
    epochs: list[EpochRecord]
    params: dict[str, NDArray] | None
    learning_rate: float
    it_per_sec: float
    elapsed: float
    paused: bool = False
    final: bool = False
    latest_grads: dict[str, float] = field(default_factory=dict)


def is_healthy(snapshot: TrainingSnapshot) -> bool:
    """Finite losses whose mean is below the trainer's divergence threshold."""
    if not snapshot.losses:
        return True
    losses = np.asarray(snapshot.losses)
    classes = 10 if snapshot.params is None else snapshot.params["b2"].shape[0]
    limit = DIVERGENCE_FACTOR * math.log(max(classes, 2))
    return bool(np.all(np.isfinite(losses)) and losses.mean() <= limit)
