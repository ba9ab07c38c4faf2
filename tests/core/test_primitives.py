"""Primitive nodes: each backward against a central difference, and no input ever written."""

from __future__ import annotations

import numpy as np
import pytest

from desktop_bp.core.primitives import (
    AddConstLayer,
    AddLayer,
    DotLayer,
    ExpLayer,
    LogLayer,
    Max0Layer,
    MulConstLayer,
    MulLayer,
    ReciprocalLayer,
    SumLayer,
    unbroadcast,
)

H = 1e-6


def numerical(f, x):
    """Central difference of sum(f(x) * weights) for a fixed random weighting (any shape)."""
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[idx] += H
        minus[idx] -= H
        grad[idx] = (f(plus) - f(minus)) / (2 * H)
    return grad


def weighted(op_forward, dout):
    return lambda *args: float(np.sum(op_forward(*args) * dout))


UNARY = [
    (lambda: MulConstLayer(-1.0), lambda rng: rng.standard_normal((3, 4))),
    (lambda: MulConstLayer(0.37), lambda rng: rng.standard_normal((3, 4))),
    (lambda: AddConstLayer(1.0), lambda rng: rng.standard_normal((3, 4))),
    (lambda: ExpLayer(), lambda rng: rng.standard_normal((3, 4))),
    (lambda: ReciprocalLayer(), lambda rng: rng.uniform(0.5, 2.0, (3, 4))),
    (lambda: LogLayer(), lambda rng: rng.uniform(0.5, 2.0, (3, 4))),
    (lambda: LogLayer(1e-7), lambda rng: rng.uniform(0.01, 1.0, (3, 4))),
    # Away from the kink at 0, where max(0, x) has no derivative.
    (lambda: Max0Layer(), lambda rng: rng.choice([-1, 1], (3, 4)) * rng.uniform(0.1, 1, (3, 4))),
    (lambda: SumLayer(axis=1), lambda rng: rng.standard_normal((3, 4))),
    (lambda: SumLayer(axis=None), lambda rng: rng.standard_normal((3, 4))),
]


@pytest.mark.parametrize(("make", "sample"), UNARY)
@pytest.mark.parametrize("seed", [0, 1])
def test_unary_backward_is_the_numerical_derivative(make, sample, seed):
    rng = np.random.default_rng(seed)
    x = sample(rng)
    op = make()
    out = op.forward(x)
    dout = rng.standard_normal(np.shape(out))
    x_before, dout_before = x.copy(), dout.copy()
    dx = op.backward(dout)
    expected = numerical(weighted(make().forward, dout), x)
    np.testing.assert_allclose(dx, expected, rtol=1e-6, atol=1e-8)
    assert dx.shape == x.shape
    assert np.array_equal(x, x_before)
    assert np.array_equal(dout, dout_before)


@pytest.mark.parametrize(
    "make", [MulConstLayer, AddConstLayer, ExpLayer, ReciprocalLayer, LogLayer, Max0Layer]
)
def test_elementwise_backward_is_upstream_times_local(make):
    op = make(0.5) if make in (MulConstLayer, AddConstLayer) else make()
    x = np.random.default_rng(3).uniform(-1, 2, (2, 5))
    x = np.abs(x) + 0.1 if make in (ReciprocalLayer, LogLayer) else x
    op.forward(x)
    dout = np.random.default_rng(4).standard_normal(x.shape)
    assert np.array_equal(op.backward(dout), dout * op.local())


BINARY = [
    (MulLayer, (3, 4), (3, 4)),
    (MulLayer, (3, 4), (3, 1)),  # softmax's e · (1/S)
    (MulLayer, (3, 4), ()),
    (AddLayer, (3, 4), (3, 4)),
    (AddLayer, (3, 4), (4,)),  # Affine's + b: b is repeated over the batch
    (DotLayer, (3, 5), (5, 4)),
]


@pytest.mark.parametrize(("make", "x_shape", "y_shape"), BINARY)
def test_binary_backward_is_the_numerical_derivative(make, x_shape, y_shape):
    rng = np.random.default_rng(7)
    x, y = rng.standard_normal(x_shape), rng.standard_normal(y_shape)
    op = make()
    out = op.forward(x, y)
    dout = rng.standard_normal(out.shape)
    before = (x.copy(), y.copy(), dout.copy())
    dx, dy = op.backward(dout)
    f = weighted(make().forward, dout)
    np.testing.assert_allclose(dx, numerical(lambda v: f(v, y), x), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dy, numerical(lambda v: f(x, v), y), rtol=1e-6, atol=1e-8)
    assert dx.shape == x.shape and np.shape(dy) == y.shape
    for a, b in zip((x, y, dout), before, strict=True):
        assert np.array_equal(a, b)


def test_mul_swaps_and_add_passes_on():
    """The book's two rules, on its numbers."""
    mul, add = MulLayer(), AddLayer()
    assert mul.forward(100.0, 2.0) == 200.0
    assert [float(g) for g in mul.backward(1.1)] == pytest.approx([2.2, 110.0])
    add.forward(200.0, 450.0)
    assert [float(g) for g in add.backward(1.1)] == [1.1, 1.1]


def test_add_does_not_hand_back_the_callers_gradient():
    add = AddLayer()
    add.forward(np.zeros(3), np.zeros(3))
    dout = np.ones(3)
    dx, dy = add.backward(dout)
    assert dx is not dout and dy is not dout
    dx[0] = 5
    assert dout[0] == 1 and dy[0] == 1


def test_dot_has_the_books_shapes():
    dot = DotLayer()
    X, W = np.ones((2, 3)), np.ones((3, 4))
    dot.forward(X, W)
    dX, dW = dot.backward(np.ones((2, 4)))
    assert dX.shape == X.shape and dW.shape == W.shape


def test_unbroadcast_sums_repeated_axes():
    grad = np.arange(12.0).reshape(3, 4)
    assert np.array_equal(unbroadcast(grad, (4,)), grad.sum(axis=0))
    assert np.array_equal(unbroadcast(grad, (3, 1)), grad.sum(axis=1, keepdims=True))
    assert float(unbroadcast(grad, ())) == grad.sum()
