from __future__ import annotations

import numpy as np
import pytest

from desktop_bp.core.functions import numerical_gradient, softmax
from desktop_bp.core.layers import Affine, ReLU, Sigmoid, SoftmaxWithLoss


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(7)


def test_relu_forward_backward_and_no_mutation(rng):
    x = rng.standard_normal((4, 5))
    dout = rng.standard_normal((4, 5))
    x0, dout0 = x.copy(), dout.copy()
    layer = ReLU()
    out = layer.forward(x)
    dx = layer.backward(dout)
    np.testing.assert_array_equal(out, np.maximum(x0, 0))
    np.testing.assert_array_equal(dx, np.where(x0 > 0, dout0, 0))
    # The book's Relu.backward wrote zeros into dout; ours must not touch either input.
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(dout, dout0)


def test_sigmoid_backward_matches_numerical(rng):
    x = rng.standard_normal((3, 4))
    dout = rng.standard_normal((3, 4))
    layer = Sigmoid()
    layer.forward(x)
    dx = layer.backward(dout.copy())
    num = numerical_gradient(lambda z: float(np.sum(Sigmoid().forward(z) * dout)), x.copy())
    np.testing.assert_allclose(dx, num, rtol=1e-6, atol=1e-9)


def test_affine_gradients_match_numerical_and_inputs_untouched(rng):
    x = rng.standard_normal((2, 3, 4))  # flattened to (2, 12) inside
    W = rng.standard_normal((12, 5))
    b = rng.standard_normal(5)
    dout = rng.standard_normal((2, 5))
    x0, W0, dout0 = x.copy(), W.copy(), dout.copy()
    layer = Affine(W, b)
    out = layer.forward(x)
    np.testing.assert_allclose(out, x0.reshape(2, -1) @ W0 + b)
    dx = layer.backward(dout)
    assert dx.shape == x.shape

    def f_w(_: np.ndarray) -> float:
        return float(np.sum(Affine(W, b).forward(x) * dout))

    np.testing.assert_allclose(layer.dW, numerical_gradient(f_w, W), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(layer.db, numerical_gradient(f_w, b), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dx, numerical_gradient(f_w, x), rtol=1e-6, atol=1e-8)
    for arr, orig in ((x, x0), (W, W0), (dout, dout0)):
        np.testing.assert_array_equal(arr, orig)


def test_affine_reads_weights_from_its_store():
    store = {"W1": np.ones((2, 1)), "b1": np.zeros(1)}
    layer = Affine(store=store, W_name="W1", b_name="b1")
    x = np.array([[1.0, 2.0]])
    assert layer.forward(x)[0, 0] == 3.0
    store["W1"] = np.full((2, 1), 2.0)  # replaced, not updated in place
    assert layer.forward(x)[0, 0] == 6.0


def test_affine_skips_dx_on_request(rng):
    layer = Affine(rng.standard_normal((3, 2)), np.zeros(2))
    layer.forward(rng.standard_normal((4, 3)))
    assert layer.backward(np.ones((4, 2)), need_dx=False) is None
    assert layer.dW.shape == (3, 2)


@pytest.mark.parametrize("one_hot", [False, True])
def test_softmax_with_loss_backward_is_exact_gradient(rng, one_hot):
    x = rng.standard_normal((4, 10)) * 3
    labels = rng.integers(0, 10, 4)
    t = np.eye(10)[labels] if one_hot else labels
    x0 = x.copy()
    layer = SoftmaxWithLoss()
    loss = layer.forward(x, t)
    assert loss == pytest.approx(-np.mean(np.log(softmax(x0)[np.arange(4), labels] + 1e-7)))
    dx = layer.backward()
    num = numerical_gradient(lambda z: SoftmaxWithLoss().forward(z, t), x)
    np.testing.assert_allclose(dx, num, rtol=1e-6, atol=1e-10)
    np.testing.assert_array_equal(x, x0)


def test_softmax_with_loss_backward_is_book_formula_for_confident_rows():
    # Far from probability 0 the epsilon factor is ~1: (y - t) / batch, as in the book.
    x = np.array([[0.0, 0.0, 0.0]])
    layer = SoftmaxWithLoss()
    layer.forward(x, np.array([1]))
    np.testing.assert_allclose(layer.backward(), [[1 / 3, -2 / 3, 1 / 3]], rtol=1e-6)
