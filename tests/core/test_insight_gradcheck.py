"""The progressive gradient check computes what gradcheck.check_gradient computes."""

from __future__ import annotations

import numpy as np
import pytest

from desktop_bp.core.gradcheck import PASS_THRESHOLD, check_gradient
from desktop_bp.core.insight_gradcheck import (
    CHEAP_FIRST,
    GradientCheckCancelled,
    run_gradient_check,
    total_forward_passes,
)
from desktop_bp.core.network import TwoLayerNet


def _small(activation: str = "relu", dtype: type = np.float64) -> TwoLayerNet:
    return TwoLayerNet(
        30, 8, 5, 0.3, activation=activation, dtype=dtype, rng=np.random.default_rng(4)
    )


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_same_errors_as_check_gradient(activation):
    net = _small(activation, np.float32)
    rng = np.random.default_rng(0)
    x, t = rng.random((3, 30)).astype(np.float32), rng.integers(0, 5, 3)
    before = net.copy_params()
    report = run_gradient_check(net.params, activation, x, t)
    reference = check_gradient(net, x, t)
    assert report.check.errors == pytest.approx(reference.errors, rel=0, abs=0)
    assert list(report.parameters) == ["W1", "b1", "W2", "b2"]
    assert report.passed and all(p.error < PASS_THRESHOLD for p in report.parameters.values())
    assert report.parameters["W1"].shape == (30, 8)
    assert report.forward_passes == total_forward_passes(net.params) == 2 * (240 + 8 + 40 + 5)
    assert report.check.backprop_seconds > 0 and report.speedup > 1
    assert report.samples == 3
    w1 = report.parameters["W1"]
    assert 0 < len(w1.backprop_sample) == len(w1.numerical_sample) <= 240
    np.testing.assert_allclose(w1.backprop_sample, w1.numerical_sample, rtol=1e-4, atol=1e-9)
    for key, value in before.items():
        assert np.array_equal(net.params[key], value)


def test_progress_and_parameter_callbacks():
    net = _small()
    x, t = np.random.default_rng(1).random((2, 30)), np.array([0, 4])
    progress: list[tuple[int, int, str]] = []
    finished: list[str] = []
    run_gradient_check(
        net.params,
        "relu",
        x,
        t,
        progress=lambda d, n, name: progress.append((d, n, name)),
        on_parameter=lambda p: finished.append(p.name),
    )
    total = total_forward_passes(net.params)
    assert [d for d, _, _ in progress] == list(range(1, total + 1))
    assert finished == list(CHEAP_FIRST)
    assert progress[0][2] == "b2" and progress[-1][2] == "W1"


def test_cancel_leaves_params_untouched():
    net = _small()
    before = net.copy_params()
    calls = 0

    def stop() -> bool:
        nonlocal calls
        calls += 1
        return calls > 20

    with pytest.raises(GradientCheckCancelled):
        run_gradient_check(net.params, "relu", np.ones((1, 30)), np.array([1]), should_stop=stop)
    for key, value in before.items():
        assert np.array_equal(net.params[key], value)


def test_bad_arguments():
    net = _small()
    with pytest.raises(ValueError, match="order"):
        run_gradient_check(net.params, "relu", np.ones((1, 30)), [1], order=("W1",))
    with pytest.raises(ValueError, match=r"x must be \(batch, 30\)"):
        run_gradient_check(net.params, "relu", np.ones((1, 31)), np.array([1]))
    with pytest.raises(ValueError, match="labels"):
        run_gradient_check(net.params, "relu", np.ones((2, 30)), np.array([1]))
