"""Gradient check: does backprop agree with the central-difference numerical gradient?"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from desktop_bp.core.network import PARAM_NAMES, TwoLayerNet

# Passing threshold for float64 (the chapter's check prints errors around 1e-10..1e-13).
PASS_THRESHOLD = 1e-6


def relative_error(backprop: NDArray, numerical: NDArray) -> float:
    """max |backprop - numerical| over the largest gradient magnitude of either.

    Element-by-element ratios are dominated by entries that are almost zero, where the
    central difference is pure rounding noise (|error| ~ 1e-12 against a gradient of 1e-11);
    scaling by the gradient's own size asks the meaningful question: is any entry off by more
    than a tiny fraction of what this parameter's gradient is?
    """
    scale = max(float(np.max(np.abs(backprop))), float(np.max(np.abs(numerical))))
    if scale == 0.0:
        return 0.0
    return float(np.max(np.abs(backprop - numerical))) / scale


@dataclass(frozen=True)
class GradientCheck:
    """Per-parameter errors and how long each method took."""

    errors: dict[str, float]
    backprop_seconds: float
    numerical_seconds: float

    @property
    def passed(self) -> bool:
        return all(err < PASS_THRESHOLD for err in self.errors.values())

    @property
    def speedup(self) -> float:
        return self.numerical_seconds / max(self.backprop_seconds, 1e-12)


def check_gradient(network: TwoLayerNet, x: NDArray, t: NDArray) -> GradientCheck:
    """Compare backprop with the numerical gradient on ``x`` (batch, 784), labels ``t``.

    Runs on a float64 copy of the network, so the caller's network (maybe float32, maybe being
    trained) is neither changed nor read while the slow numerical gradient nudges weights.
    """
    probe = TwoLayerNet(
        network.input_size,
        network.hidden_size,
        network.output_size,
        activation=network.activation,
        dtype=np.float64,
    )
    probe.set_params(network.copy_params())
    x = np.asarray(x, dtype=np.float64)
    started = time.perf_counter()
    backprop = probe.gradient(x, t)
    backprop = {k: v.copy() for k, v in backprop.items()}
    backprop_seconds = time.perf_counter() - started
    started = time.perf_counter()
    numerical = probe.numerical_gradient(x, t)
    numerical_seconds = time.perf_counter() - started
    errors = {k: relative_error(backprop[k], numerical[k]) for k in PARAM_NAMES}
    return GradientCheck(errors, backprop_seconds, numerical_seconds)
