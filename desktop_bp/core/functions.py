"""The chapter's building-block functions: softmax, cross-entropy, sigmoid, numerical gradient."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

# Added inside log() so a probability of exactly 0 gives a large finite loss, not inf (the book's
# choice; it bounds the per-sample loss at -log(1e-7) ~ 16.1).
LOG_EPSILON = 1e-7


def sigmoid(x: NDArray) -> NDArray:
    """Logistic function 1 / (1 + exp(-x)), overflow-free for large negative ``x``.

    ``exp(-x)`` overflows for x < -709 in float64; writing the negative half as
    ``exp(x) / (1 + exp(x))`` keeps every exponent non-positive.
    """
    x = np.asarray(x)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


def softmax(x: NDArray) -> NDArray:
    """Softmax over the last axis; ``x`` of shape (n,) or (batch, n).

    The row maximum is subtracted first: softmax is invariant to a shift, and it keeps ``exp``
    from overflowing for large scores.
    """
    x = np.asarray(x)
    e = x - x.max(axis=-1, keepdims=True)
    # In place on the fresh difference (one temporary fewer per call) unless it is integer.
    e = np.exp(e, out=e) if e.dtype.kind == "f" else np.exp(e)
    e /= e.sum(axis=-1, keepdims=True)
    return e


def cross_entropy_error(y: NDArray, t: NDArray) -> float:
    """Mean cross-entropy of predicted probabilities ``y`` against targets ``t``.

    y : shape (n,) or (batch, n), probabilities.
    t : label indices of shape (batch,) / scalar, or one-hot of the same shape as ``y``.
    """
    y = np.asarray(y)
    t = np.asarray(t)
    if y.ndim == 1:
        y = y.reshape(1, -1)
        t = t.reshape(1, -1) if t.size == y.size else t.reshape(1)
    if t.shape == y.shape:  # one-hot: turn into label indices
        t = t.argmax(axis=1)
    batch = y.shape[0]
    return float(-np.sum(np.log(y[np.arange(batch), t] + LOG_EPSILON)) / batch)


def numerical_gradient(f: Callable[[NDArray], float], x: NDArray, h: float = 1e-4) -> NDArray:
    """Central-difference gradient of scalar ``f`` with respect to ``x`` (any shape).

    Each element of ``x`` is nudged by +h and -h in place, because ``f`` usually closes over the
    very array (a network parameter); the original value is restored after each element, even if
    ``f`` raises.
    """
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
    while not it.finished:
        idx = it.multi_index
        original = x[idx]
        try:
            x[idx] = original + h
            f_plus = f(x)
            x[idx] = original - h
            f_minus = f(x)
        finally:
            x[idx] = original
        grad[idx] = (f_plus - f_minus) / (2 * h)
        it.iternext()
    return grad.astype(x.dtype, copy=False)
