"""The chain rule's building blocks: primitive nodes, each with its forward and backward.

``MulLayer`` and ``AddLayer`` are the book's ``ch05/layer_naive.py``; the others are the few
more that chapter 5's graphs need to rebuild every layer of the network (see
``primitive_graphs.py``). The protocol is the layers' one: ``forward`` caches what ``backward``
needs; ``backward(dout)`` returns the gradient for each input (a tuple when there are two).

Elementwise nodes also expose ``local()``, the local derivative ∂out/∂x evaluated at the
cached input, and their backward is exactly ``dout * local()`` — the chain rule, one node:
downstream = upstream x local. Two-input nodes broadcast like numpy, and their backward sums
the gradient back to each input's own shape (the "repeat" node of the book's Affine figure,
whose backward is a sum). No node writes into an array it was given.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def unbroadcast(grad: NDArray, shape: tuple[int, ...]) -> NDArray:
    """Sum ``grad`` down to ``shape``: the backward of numpy broadcasting.

    A value used in many places (b added to every row) gets the sum of their gradients.
    """
    grad = np.asarray(grad)
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


class MulLayer:
    """out = x * y; dx = dout * y, dy = dout * x (the inputs swap). Broadcasting shapes."""

    def __init__(self) -> None:
        self.x: NDArray | None = None
        self.y: NDArray | None = None

    def forward(self, x: ArrayLike, y: ArrayLike) -> NDArray:
        self.x, self.y = np.asarray(x), np.asarray(y)
        return self.x * self.y

    def backward(self, dout: ArrayLike) -> tuple[NDArray, NDArray]:
        dx = unbroadcast(dout * self.y, self.x.shape)
        dy = unbroadcast(dout * self.x, self.y.shape)
        return dx, dy


class AddLayer:
    """out = x + y; dx = dout, dy = dout (passed on unchanged). Broadcasting shapes."""

    def __init__(self) -> None:
        self.x_shape: tuple[int, ...] = ()
        self.y_shape: tuple[int, ...] = ()

    def forward(self, x: ArrayLike, y: ArrayLike) -> NDArray:
        x, y = np.asarray(x), np.asarray(y)
        self.x_shape, self.y_shape = x.shape, y.shape
        return x + y

    def backward(self, dout: ArrayLike) -> tuple[NDArray, NDArray]:
        dout = np.asarray(dout)
        # np.array copies: the caller's dout is never handed back to be written into.
        return np.array(unbroadcast(dout, self.x_shape)), np.array(unbroadcast(dout, self.y_shape))


class MulConstLayer:
    """out = c * x for a constant c (c = −1 is the Sigmoid's negation); dx = dout * c."""

    def __init__(self, c: ArrayLike) -> None:
        self.c = np.asarray(c)
        self.x: NDArray | None = None

    def forward(self, x: ArrayLike) -> NDArray:
        self.x = np.asarray(x)
        return self.c * self.x

    def local(self) -> NDArray:
        return np.broadcast_to(self.c, self.x.shape)

    def backward(self, dout: ArrayLike) -> NDArray:
        return dout * self.local()


class AddConstLayer:
    """out = x + c for a constant c (Sigmoid's + 1, softmax's − max); dx = dout."""

    def __init__(self, c: ArrayLike) -> None:
        self.c = np.asarray(c)
        self.x: NDArray | None = None

    def forward(self, x: ArrayLike) -> NDArray:
        self.x = np.asarray(x)
        return self.x + self.c

    def local(self) -> NDArray:
        return np.ones_like(self.x)

    def backward(self, dout: ArrayLike) -> NDArray:
        return dout * self.local()


class ExpLayer:
    """out = exp(x); dx = dout * exp(x) = dout * out."""

    def __init__(self) -> None:
        self.out: NDArray | None = None

    def forward(self, x: ArrayLike) -> NDArray:
        self.out = np.exp(x)
        return self.out

    def local(self) -> NDArray:
        return self.out

    def backward(self, dout: ArrayLike) -> NDArray:
        return dout * self.local()


class ReciprocalLayer:
    """out = 1 / x (the book's "/" node); dx = dout * (−1 / x²) = dout * (−out²)."""

    def __init__(self) -> None:
        self.out: NDArray | None = None

    def forward(self, x: ArrayLike) -> NDArray:
        self.out = 1.0 / np.asarray(x)
        return self.out

    def local(self) -> NDArray:
        return -(self.out**2)

    def backward(self, dout: ArrayLike) -> NDArray:
        return dout * self.local()


class LogLayer:
    """out = log(x + eps); dx = dout / (x + eps).

    ``eps`` is the loss's 1e-7 (``functions.LOG_EPSILON``) in Softmax-with-Loss: with it the
    composed graph is the derivative of the loss the network reports, as the layer is.
    """

    def __init__(self, eps: float = 0.0) -> None:
        self.eps = eps
        self.x: NDArray | None = None

    def forward(self, x: ArrayLike) -> NDArray:
        self.x = np.asarray(x)
        return np.log(self.x + self.eps)

    def local(self) -> NDArray:
        return 1.0 / (self.x + self.eps)

    def backward(self, dout: ArrayLike) -> NDArray:
        return dout * self.local()


class Max0Layer:
    """out = max(0, x); dx = dout where x > 0, else 0 (the ReLU's mask)."""

    def __init__(self) -> None:
        self.mask: NDArray[np.bool_] | None = None
        self.dtype = np.dtype(np.float64)

    def forward(self, x: ArrayLike) -> NDArray:
        x = np.asarray(x)
        self.mask, self.dtype = x <= 0, x.dtype
        return np.maximum(x, 0)

    def local(self) -> NDArray:
        return (~self.mask).astype(self.dtype)

    def backward(self, dout: ArrayLike) -> NDArray:
        return dout * ~self.mask


class DotLayer:
    """out = X · W for X (batch, in) and W (in, out); dX = dout · Wᵀ, dW = Xᵀ · dout.

    The matrix product node of the book's Affine figure: each gradient has the shape of its
    input, which fixes the order of the factors and the transposes.
    """

    def __init__(self) -> None:
        self.X: NDArray | None = None
        self.W: NDArray | None = None

    def forward(self, X: NDArray, W: NDArray) -> NDArray:
        self.X, self.W = np.asarray(X), np.asarray(W)
        return self.X @ self.W

    def backward(self, dout: NDArray) -> tuple[NDArray, NDArray]:
        dX = dout @ self.W.T
        dW = self.X.T @ dout
        return dX, dW


class SumLayer:
    """out = Σ x along ``axis`` (None: all; kept as size-1 axes); dx = dout copied to x's shape.

    The backward of a sum is a repeat, as the backward of a repeat is a sum.
    """

    def __init__(self, axis: int | None = None) -> None:
        self.axis = axis
        self.x_shape: tuple[int, ...] = ()

    def forward(self, x: ArrayLike) -> NDArray:
        x = np.asarray(x)
        self.x_shape = x.shape
        if self.axis is None:
            return np.sum(x)
        return np.sum(x, axis=self.axis, keepdims=True)

    def backward(self, dout: ArrayLike) -> NDArray:
        return np.broadcast_to(dout, self.x_shape).copy()
