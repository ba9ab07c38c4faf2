"""The chapter-5 layers, each with its forward and backward side by side.

Protocol (the book's): ``forward(x)`` caches what ``backward`` needs; ``backward(dout)`` returns
``dx``, the gradient of the loss with respect to the layer's input. ``Affine`` also keeps ``dW``
and ``db``. No layer ever writes into an array it was given.
"""

from __future__ import annotations

from collections.abc import MutableMapping

import numpy as np
from numpy.typing import NDArray

from desktop_bp.core.functions import LOG_EPSILON, sigmoid, softmax


class ReLU:
    """out = max(0, x); dx = dout where x > 0, else 0. Any shape."""

    def __init__(self) -> None:
        self.mask: NDArray[np.bool_] | None = None

    def forward(self, x: NDArray) -> NDArray:
        self.mask = x <= 0
        return np.maximum(x, 0)

    def backward(self, dout: NDArray) -> NDArray:
        # A new array: the book's `dout[self.mask] = 0` overwrote the caller's gradient.
        # (Multiplying by the boolean keep-mask is ~2x faster than np.where here.)
        return dout * ~self.mask


class Sigmoid:
    """out = 1 / (1 + exp(-x)); dx = dout * out * (1 - out). Any shape."""

    def __init__(self) -> None:
        self.out: NDArray | None = None

    def forward(self, x: NDArray) -> NDArray:
        self.out = sigmoid(x)
        return self.out

    def backward(self, dout: NDArray) -> NDArray:
        return dout * (1.0 - self.out) * self.out


class Affine:
    """out = x @ W + b.

    x    : shape (batch, in) — or (batch, ...) which is flattened to (batch, in).
    W    : shape (in, out);  b : shape (out,).
    dout : shape (batch, out);  dx : shape of the original ``x``.
    dW   : shape (in, out);  db : shape (out,).

    ``W`` and ``b`` are looked up in a parameter store on every use rather than held, so a network
    whose ``params`` dict gets new arrays (loaded weights) can never predict with stale ones.
    """

    def __init__(
        self,
        W: NDArray | None = None,
        b: NDArray | None = None,
        *,
        store: MutableMapping[str, NDArray] | None = None,
        W_name: str = "W",
        b_name: str = "b",
    ) -> None:
        if store is None:
            if W is None or b is None:
                raise ValueError("Affine needs W and b, or a parameter store holding them")
            store = {W_name: W, b_name: b}
        self._store = store
        self.W_name = W_name
        self.b_name = b_name
        self.x: NDArray | None = None
        self.original_x_shape: tuple[int, ...] | None = None
        self.dW: NDArray | None = None
        self.db: NDArray | None = None

    @property
    def W(self) -> NDArray:
        return self._store[self.W_name]

    @property
    def b(self) -> NDArray:
        return self._store[self.b_name]

    def forward(self, x: NDArray) -> NDArray:
        self.original_x_shape = x.shape
        self.x = x.reshape(x.shape[0], -1)  # a view; x itself is never written
        out = self.x @ self.W
        out += self.b  # in place on the fresh product: one allocation fewer per call
        return out

    def backward(self, dout: NDArray, need_dx: bool = True) -> NDArray | None:
        """Keep dW and db; return dx (skipped when ``need_dx`` is False: the first layer's dx
        is only wanted for input saliency, and costs as much as the forward product)."""
        self.dW = self.x.T @ dout
        self.db = np.add.reduce(dout, axis=0)  # dout.sum(axis=0) without the method's overhead
        if not need_dx:
            return None
        dx = dout @ self.W.T
        return dx.reshape(self.original_x_shape)


class SoftmaxWithLoss:
    """Softmax followed by the mean cross-entropy loss.

    forward(x, t): x scores of shape (batch, n); t label indices (batch,) or one-hot (batch, n).
    backward(dout=1): dx = (softmax(x) - onehot(t)) * dout / batch, shape (batch, n), times
    y_t / (y_t + 1e-7), the derivative of the epsilon the loss adds inside log().
    """

    def __init__(self) -> None:
        self.loss: float | None = None
        self.y: NDArray | None = None
        self.t: NDArray | None = None
        # Kept from forward for backward: the label per row, y_t and y_t + 1e-7.
        self._labels: NDArray | None = None
        self._p: NDArray | None = None
        self._q: NDArray | None = None
        self._rows = np.arange(0)  # row indices, reused while the batch size stays the same

    def _row_indices(self, batch: int) -> NDArray:
        if self._rows.shape[0] != batch:
            self._rows = np.arange(batch)
        return self._rows

    def forward(self, x: NDArray, t: NDArray) -> float:
        self.t = t
        self.y = softmax(x)
        batch = self.y.shape[0]
        labels = t.argmax(axis=1) if t.ndim == 2 else t
        p = self.y[self._row_indices(batch), labels]
        q = p + LOG_EPSILON
        self._labels, self._p, self._q = labels, p, q
        self.loss = float(-np.sum(np.log(q)) / batch)
        return self.loss

    def backward(self, dout: float = 1.0) -> NDArray:
        batch = self.y.shape[0]
        dx = self.y.copy()
        dx[self._row_indices(batch), self._labels] -= 1
        # The loss is -log(y_t + 1e-7), not -log(y_t): its exact derivative carries the factor
        # y_t / (y_t + 1e-7). The book drops it; keeping it makes backprop agree with the
        # numerical gradient to ~1e-9 instead of ~1e-6 when a probability is small.
        scale = self._p / self._q
        scale *= dout / batch
        dx *= scale[:, None]
        return dx
