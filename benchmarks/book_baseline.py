"""The book's chapter-5 training, re-implemented faithfully as the speed baseline.

"Deep Learning from Scratch" (Koki Saito), ch05/train_neuralnet.py with ch05/two_layer_net.py
and common/layers.py / common/functions.py, as published: float64 parameters, one-hot float64
labels, float32 images (the book's ``load_mnist(normalize=True, one_hot_label=True)``),
``np.random.choice`` minibatches, ``network.gradient`` then a *second* forward pass
``network.loss`` for the loss curve, every layer's ``dx`` computed (even the first Affine's),
``Relu.backward`` writing into ``dout``, and full train and test accuracy whenever
``i % iter_per_epoch == 0``.

Two deliberate differences, neither affecting speed: a ``numpy.random.default_rng(seed)`` instead
of the global ``np.random.seed`` state (``rng.choice`` / ``rng.standard_normal`` replace
``np.random.choice`` / ``np.random.randn``), and one more accuracy evaluation after the last step
so that the final accuracy is measured the same way as desktop_bp's ``Trainer`` measures it.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

# -- common/functions.py ----------------------------------------------------------------------


def softmax(x: NDArray) -> NDArray:
    x = x - np.max(x, axis=-1, keepdims=True)  # overflow guard
    return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)


def cross_entropy_error(y: NDArray, t: NDArray) -> float:
    if y.ndim == 1:
        t = t.reshape(1, t.size)
        y = y.reshape(1, y.size)
    # one-hot labels become label indices
    if t.size == y.size:
        t = t.argmax(axis=1)
    batch_size = y.shape[0]
    return -np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size


# -- common/layers.py -------------------------------------------------------------------------


class Relu:
    def __init__(self) -> None:
        self.mask: NDArray | None = None

    def forward(self, x: NDArray) -> NDArray:
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout: NDArray) -> NDArray:
        dout[self.mask] = 0
        dx = dout
        return dx


class Affine:
    def __init__(self, W: NDArray, b: NDArray) -> None:
        self.W = W
        self.b = b
        self.x: NDArray | None = None
        self.original_x_shape: tuple[int, ...] | None = None
        self.dW: NDArray | None = None
        self.db: NDArray | None = None

    def forward(self, x: NDArray) -> NDArray:
        # for tensor input
        self.original_x_shape = x.shape
        x = x.reshape(x.shape[0], -1)
        self.x = x
        out = np.dot(self.x, self.W) + self.b
        return out

    def backward(self, dout: NDArray) -> NDArray:
        dx = np.dot(dout, self.W.T)
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        dx = dx.reshape(*self.original_x_shape)  # back to the input's shape (tensor input)
        return dx


class SoftmaxWithLoss:
    def __init__(self) -> None:
        self.loss: float | None = None
        self.y: NDArray | None = None  # softmax output
        self.t: NDArray | None = None  # labels

    def forward(self, x: NDArray, t: NDArray) -> float:
        self.t = t
        self.y = softmax(x)
        self.loss = cross_entropy_error(self.y, self.t)
        return self.loss

    def backward(self, dout: float = 1) -> NDArray:
        batch_size = self.t.shape[0]
        if self.t.size == self.y.size:  # one-hot labels
            dx = (self.y - self.t) / batch_size
        else:
            dx = self.y.copy()
            dx[np.arange(batch_size), self.t] -= 1
            dx = dx / batch_size
        return dx


# -- ch05/two_layer_net.py --------------------------------------------------------------------


class TwoLayerNet:
    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        output_size: int,
        weight_init_std: float = 0.01,
        *,
        rng: np.random.Generator,
    ) -> None:
        # initialise the weights
        self.params: dict[str, NDArray] = {}
        self.params["W1"] = weight_init_std * rng.standard_normal((input_size, hidden_size))
        self.params["b1"] = np.zeros(hidden_size)
        self.params["W2"] = weight_init_std * rng.standard_normal((hidden_size, output_size))
        self.params["b2"] = np.zeros(output_size)

        # build the layers
        self.layers: OrderedDict[str, Affine | Relu] = OrderedDict()
        self.layers["Affine1"] = Affine(self.params["W1"], self.params["b1"])
        self.layers["Relu1"] = Relu()
        self.layers["Affine2"] = Affine(self.params["W2"], self.params["b2"])

        self.lastLayer = SoftmaxWithLoss()

    def predict(self, x: NDArray) -> NDArray:
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    # x: input data, t: labels
    def loss(self, x: NDArray, t: NDArray) -> float:
        y = self.predict(x)
        return self.lastLayer.forward(y, t)

    def accuracy(self, x: NDArray, t: NDArray) -> float:
        y = self.predict(x)
        y = np.argmax(y, axis=1)
        if t.ndim != 1:
            t = np.argmax(t, axis=1)
        accuracy = np.sum(y == t) / float(x.shape[0])
        return accuracy

    def gradient(self, x: NDArray, t: NDArray) -> dict[str, NDArray]:
        # forward
        self.loss(x, t)

        # backward
        dout = 1
        dout = self.lastLayer.backward(dout)

        layers = list(self.layers.values())
        layers.reverse()
        for layer in layers:
            dout = layer.backward(dout)

        # collect
        grads = {}
        grads["W1"], grads["b1"] = self.layers["Affine1"].dW, self.layers["Affine1"].db
        grads["W2"], grads["b2"] = self.layers["Affine2"].dW, self.layers["Affine2"].db
        return grads


# -- ch05/train_neuralnet.py ------------------------------------------------------------------


@dataclass
class BookResult:
    seconds: float
    train_loss_list: list[float] = field(default_factory=list)
    train_acc_list: list[float] = field(default_factory=list)
    test_acc_list: list[float] = field(default_factory=list)


def one_hot(labels: NDArray, classes: int = 10) -> NDArray:
    """The book's ``_change_one_hot_label``: float64 rows."""
    t = np.zeros((labels.size, classes))
    for idx, row in enumerate(t):
        row[labels[idx]] = 1
    return t


def train_book(
    x_train: NDArray,
    t_train: NDArray,
    x_test: NDArray,
    t_test: NDArray,
    *,
    iters_num: int = 10_000,
    hidden_size: int = 50,
    batch_size: int = 100,
    learning_rate: float = 0.1,
    seed: int = 0,
) -> BookResult:
    """The training script's loop; ``t_*`` one-hot (N, 10) like the book's ``load_mnist``.

    Returns the wall-clock seconds of the loop (network construction and final evaluation
    included) and the book's three lists.
    """
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    network = TwoLayerNet(
        input_size=x_train.shape[1], hidden_size=hidden_size, output_size=t_train.shape[1], rng=rng
    )
    train_size = x_train.shape[0]
    result = BookResult(0.0)
    iter_per_epoch = max(train_size / batch_size, 1)

    for i in range(iters_num):
        batch_mask = rng.choice(train_size, batch_size)
        x_batch = x_train[batch_mask]
        t_batch = t_train[batch_mask]

        # gradient by backprop
        grad = network.gradient(x_batch, t_batch)

        # update
        for key in ("W1", "b1", "W2", "b2"):
            network.params[key] -= learning_rate * grad[key]

        loss = network.loss(x_batch, t_batch)
        result.train_loss_list.append(loss)

        if i % iter_per_epoch == 0:
            train_acc = network.accuracy(x_train, t_train)
            test_acc = network.accuracy(x_test, t_test)
            result.train_acc_list.append(train_acc)
            result.test_acc_list.append(test_acc)

    # Not in the book: the accuracy after the last step, as desktop_bp's Trainer reports it.
    result.train_acc_list.append(network.accuracy(x_train, t_train))
    result.test_acc_list.append(network.accuracy(x_test, t_test))
    result.seconds = time.perf_counter() - started
    return result
