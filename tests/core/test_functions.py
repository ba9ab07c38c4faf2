from __future__ import annotations

import numpy as np
import pytest

from desktop_bp.core.functions import cross_entropy_error, numerical_gradient, sigmoid, softmax


def test_softmax_batch_rows_sum_to_one_and_is_stable_for_huge_scores():
    x = np.array([[1000.0, 1001.0, 1002.0], [-5.0, 0.0, 5.0]])
    y = softmax(x)
    assert np.all(np.isfinite(y))
    np.testing.assert_allclose(y.sum(axis=1), 1.0)
    # Shift invariance: the huge row equals the same row shifted to small numbers.
    np.testing.assert_allclose(y[0], softmax(np.array([0.0, 1.0, 2.0])))


def test_softmax_1d_matches_definition():
    x = np.array([0.3, 2.9, 4.0])
    expected = np.exp(x) / np.exp(x).sum()
    np.testing.assert_allclose(softmax(x), expected)


def test_cross_entropy_labels_and_one_hot_agree():
    y = np.array([[0.1, 0.7, 0.2], [0.5, 0.25, 0.25]])
    labels = np.array([1, 0])
    one_hot = np.eye(3)[labels]
    expected = -(np.log(0.7 + 1e-7) + np.log(0.5 + 1e-7)) / 2
    assert cross_entropy_error(y, labels) == pytest.approx(expected)
    assert cross_entropy_error(y, one_hot) == pytest.approx(expected)


def test_cross_entropy_single_sample():
    y = np.array([0.1, 0.6, 0.3])
    assert cross_entropy_error(y, np.array(1)) == pytest.approx(-np.log(0.6 + 1e-7))
    assert cross_entropy_error(y, np.array([0, 1, 0])) == pytest.approx(-np.log(0.6 + 1e-7))


def test_sigmoid_values_and_no_overflow():
    x = np.array([-1000.0, -1.0, 0.0, 1.0, 1000.0])
    with np.errstate(over="raise"):
        y = sigmoid(x)
    np.testing.assert_allclose(y, [0.0, 1 / (1 + np.e), 0.5, 1 / (1 + np.exp(-1)), 1.0])


def test_numerical_gradient_of_quadratic_and_restores_parameter():
    x = np.array([[3.0, -4.0], [0.5, 2.0]])
    before = x.copy()
    grad = numerical_gradient(lambda w: float(np.sum(w**2)), x)
    np.testing.assert_allclose(grad, 2 * before, rtol=1e-7)
    np.testing.assert_array_equal(x, before)


def test_numerical_gradient_restores_even_when_f_raises():
    x = np.array([1.0, 2.0])

    def failing(_: np.ndarray) -> float:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        numerical_gradient(failing, x)
    np.testing.assert_array_equal(x, [1.0, 2.0])
