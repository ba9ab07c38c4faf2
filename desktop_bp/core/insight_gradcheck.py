"""The chapter's gradient check, with progress reports and a way to stop it.

``gradcheck.check_gradient`` answers the question in one call; a window needs more: the
numerical gradient of W1 alone is 784 x 50 x 2 = 78,400 forward passes (seconds), so the view
wants to show how far it got, fill in the cheap parameters first and let the user cancel.
:func:`run_gradient_check` does the same computation — a float64 copy of the network,
``network.gradient`` against ``functions.numerical_gradient`` with h = 1e-4, and
``gradcheck.relative_error`` — while calling back between forward passes.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from desktop_bp.core.functions import numerical_gradient
from desktop_bp.core.gradcheck import PASS_THRESHOLD, GradientCheck, relative_error
from desktop_bp.core.inspect_backward import network_from_params
from desktop_bp.core.network import PARAM_NAMES

#: Cheapest first, so a window's table fills in quickly and W1 (98.7 % of the work) comes last.
CHEAP_FIRST: tuple[str, ...] = ("b2", "W2", "b1", "W1")
#: Backprop takes well under a millisecond; one timing of it is mostly timer and cache noise,
#: so it is timed this many times and the median kept.
BACKPROP_REPEATS = 25
#: Entries per parameter kept for a backprop-vs-numerical scatter plot.
SAMPLE_SIZE = 400


class GradientCheckCancelled(Exception):
    """``should_stop`` returned True; the network copy is discarded, nothing was changed."""


@dataclass(frozen=True)
class ParameterCheck:
    """One parameter's verdict.

    error        : ``gradcheck.relative_error`` of backprop against the numerical gradient.
    max_abs_diff : the largest element-wise |backprop − numerical|.
    shape        : the parameter's shape; ``forward_passes`` = 2 × its size.
    seconds      : time taken by its numerical gradient.
    backprop_sample, numerical_sample : shape (k,), k <= SAMPLE_SIZE — the same entries of
                   both gradients (a random pick among the non-zero ones), for plotting.
    """

    name: str
    error: float
    max_abs_diff: float
    shape: tuple[int, ...]
    seconds: float
    backprop_sample: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    numerical_sample: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))

    @property
    def passed(self) -> bool:
        return self.error < PASS_THRESHOLD

    @property
    def forward_passes(self) -> int:
        return 2 * int(np.prod(self.shape))


@dataclass(frozen=True)
class GradientCheckReport:
    """Everything the gradient-check view shows.

    check            : the core's :class:`GradientCheck` (errors, both times, passed, speedup).
    parameters       : name → :class:`ParameterCheck`, in ``PARAM_NAMES`` order.
    samples          : batch size the check ran on.
    """

    check: GradientCheck
    parameters: dict[str, ParameterCheck]
    samples: int

    @property
    def passed(self) -> bool:
        return self.check.passed

    @property
    def speedup(self) -> float:
        return self.check.speedup

    @property
    def forward_passes(self) -> int:
        return sum(p.forward_passes for p in self.parameters.values())


def total_forward_passes(params: Mapping[str, NDArray]) -> int:
    """Forward passes a full numerical gradient needs: two per parameter element."""
    return 2 * sum(int(np.asarray(params[k]).size) for k in PARAM_NAMES)


def run_gradient_check(
    params: Mapping[str, NDArray],
    activation: str,
    x: NDArray,
    t: NDArray,
    *,
    progress: Callable[[int, int, str], None] | None = None,
    on_parameter: Callable[[ParameterCheck], None] | None = None,
    on_backprop: Callable[[float], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    order: Sequence[str] = CHEAP_FIRST,
) -> GradientCheckReport:
    """Compare backprop with the central-difference gradient on a float64 copy of ``params``.

    x : shape (batch, in);  t : (batch,) label indices or (batch, n) one-hot.
    progress(done, total, name) is called after every forward pass of the numerical gradient
    (``done`` of ``total`` passes, ``name`` the parameter being nudged) — keep it cheap;
    on_parameter(ParameterCheck) once per parameter as soon as its error is known;
    on_backprop(seconds) once backprop has been timed, before the numerical gradient starts;
    should_stop() is polled before every forward pass: True raises GradientCheckCancelled.
    The caller's arrays are never written.
    """
    if sorted(order) != sorted(PARAM_NAMES):
        raise ValueError(f"order must list {PARAM_NAMES} once each, got {tuple(order)}")
    probe = network_from_params(
        {k: np.asarray(v, np.float64) for k, v in params.items()}, activation
    )
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != probe.input_size:
        raise ValueError(f"x must be (batch, {probe.input_size}), got {x.shape}")
    t = np.asarray(t)
    if t.shape[0] != x.shape[0]:
        raise ValueError(f"{x.shape[0]} samples but {t.shape[0]} labels")

    backprop = {k: v.copy() for k, v in probe.gradient(x, t).items()}
    timings = []
    for _ in range(BACKPROP_REPEATS):
        started = time.perf_counter()
        probe.gradient(x, t)
        timings.append(time.perf_counter() - started)
    backprop_seconds = statistics.median(timings)
    if on_backprop is not None:
        on_backprop(backprop_seconds)

    total = total_forward_passes(probe.params)
    done = 0
    current = ""

    def loss_w(_: NDArray) -> float:
        # numerical_gradient nudges probe.params[current] in place and restores it in a
        # `finally`, so raising here to cancel leaves the copy consistent.
        nonlocal done
        if should_stop is not None and should_stop():
            raise GradientCheckCancelled
        value = probe.loss(x, t)
        done += 1
        if progress is not None:
            progress(done, total, current)
        return value

    checks: dict[str, ParameterCheck] = {}
    pick = np.random.default_rng(0)  # which entries to plot: fixed, so reruns compare
    for name in order:
        current = name
        started = time.perf_counter()
        numerical = numerical_gradient(loss_w, probe.params[name])
        seconds = time.perf_counter() - started
        # Never-lit border pixels give W1 rows of exact zeros; plot entries that carry signal.
        candidates = (
            np.flatnonzero(backprop[name].ravel() != 0)
            if backprop[name].any()
            else (np.arange(backprop[name].size))
        )
        chosen = np.sort(pick.permutation(candidates)[:SAMPLE_SIZE])
        checks[name] = ParameterCheck(
            name,
            relative_error(backprop[name], numerical),
            float(np.max(np.abs(backprop[name] - numerical))),
            tuple(probe.params[name].shape),
            seconds,
            backprop[name].ravel()[chosen].copy(),
            numerical.ravel()[chosen].copy(),
        )
        if on_parameter is not None:
            on_parameter(checks[name])
    ordered = {k: checks[k] for k in PARAM_NAMES}
    check = GradientCheck(
        {k: c.error for k, c in ordered.items()},
        backprop_seconds,
        sum(c.seconds for c in ordered.values()),
    )
    return GradientCheckReport(check, ordered, int(x.shape[0]))
