"""The chapter's layer-based two-layer network: Affine1 → activation → Affine2 → SoftmaxWithLoss."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from desktop_bp.core.functions import numerical_gradient, sigmoid
from desktop_bp.core.layers import Affine, ReLU, Sigmoid, SoftmaxWithLoss

ACTIVATIONS = {"relu": ReLU, "sigmoid": Sigmoid}
PARAM_NAMES = ("W1", "b1", "W2", "b2")


class TwoLayerNet:
    """784-50-10 by default, as in the book's ``ch05/two_layer_net.py``.

    ``params`` (W1, b1, W2, b2) is the single source of truth: the Affine layers read their
    weights from it on every call, so replacing or updating an entry is immediately what
    ``predict`` uses.

    x : shape (batch, input_size);  t : label indices (batch,) or one-hot (batch, output_size).
    """

    def __init__(
        self,
        input_size: int = 784,
        hidden_size: int = 50,
        output_size: int = 10,
        weight_init_std: float = 0.01,
        *,
        activation: str = "relu",
        dtype: type | np.dtype = np.float64,
        rng: np.random.Generator | None = None,
    ) -> None:
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
        for name, value in (
            ("input_size", input_size),
            ("hidden_size", hidden_size),
            ("output_size", output_size),
        ):
            if int(value) < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        rng = rng if rng is not None else np.random.default_rng()
        self.input_size = int(input_size)
        self.hidden_size = int(hidden_size)
        self.output_size = int(output_size)
        self.activation = activation
        self.dtype = np.dtype(dtype)
        self.params: dict[str, NDArray] = {
            "W1": (weight_init_std * rng.standard_normal((input_size, hidden_size))).astype(dtype),
            "b1": np.zeros(hidden_size, dtype=dtype),
            "W2": (weight_init_std * rng.standard_normal((hidden_size, output_size))).astype(dtype),
            "b2": np.zeros(output_size, dtype=dtype),
        }
        self.layers: OrderedDict[str, Affine | ReLU | Sigmoid] = OrderedDict()
        self.layers["Affine1"] = Affine(store=self.params, W_name="W1", b_name="b1")
        self.layers["Relu1" if activation == "relu" else "Sigmoid1"] = ACTIVATIONS[activation]()
        self.layers["Affine2"] = Affine(store=self.params, W_name="W2", b_name="b2")
        self.last_layer = SoftmaxWithLoss()
        # The gradient arriving at each layer during the last backward pass (name → array).
        self.douts: dict[str, NDArray] = {}

    # -- shapes -------------------------------------------------------------------------------
    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        i, h, o = self.input_size, self.hidden_size, self.output_size
        return {"W1": (i, h), "b1": (h,), "W2": (h, o), "b2": (o,)}

    def set_params(self, params: Mapping[str, NDArray]) -> None:
        """Replace all four parameters after checking names, shapes and finiteness.

        The arrays are copied (cast to the network's dtype), so the caller keeps its own.
        """
        expected = self.param_shapes()
        missing = [k for k in PARAM_NAMES if k not in params]
        if missing:
            raise ValueError(f"missing parameters: {', '.join(missing)}")
        new = {}
        for key in PARAM_NAMES:
            value = np.asarray(params[key])
            if value.shape != expected[key]:
                raise ValueError(f"{key} has shape {value.shape}, expected {expected[key]}")
            if not np.all(np.isfinite(value)):
                raise ValueError(f"{key} contains NaN or infinite values")
            new[key] = np.array(value, dtype=self.dtype, copy=True)
        self.params.update(new)

    def copy_params(self) -> dict[str, NDArray]:
        return {k: v.copy() for k, v in self.params.items()}

    # -- the book's API -----------------------------------------------------------------------
    def predict(self, x: NDArray) -> NDArray:
        """Scores (before softmax), shape (batch, output_size)."""
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x: NDArray, t: NDArray) -> float:
        return self.last_layer.forward(self.predict(x), t)

    def accuracy(self, x: NDArray, t: NDArray, batch_size: int = 5000) -> float:
        """Share of ``x`` classified as ``t``; evaluated in chunks to bound memory."""
        labels = t.argmax(axis=1) if t.ndim != 1 else t
        correct = 0
        for start in range(0, x.shape[0], batch_size):
            predicted = self.predict_labels(x[start : start + batch_size])
            correct += int(np.count_nonzero(predicted == labels[start : start + batch_size]))
        return correct / max(x.shape[0], 1)

    def predict_labels(self, x: NDArray) -> NDArray:
        """argmax of ``predict(x)``, shape (batch,).

        Inference only: the same arithmetic as the layers' forward passes, but without their
        caches (ReLU mask, Affine input), with bias and activation applied in place. Accuracy
        over 10,000 images each epoch is a third of a training run's work, and it runs in a
        second thread, where less Python time means less waiting for the GIL.
        """
        p = self.params
        h = x.reshape(x.shape[0], -1) @ p["W1"]
        h += p["b1"]
        if self.activation == "relu":
            np.maximum(h, 0, out=h)
        else:
            h = sigmoid(h)
        y = h @ p["W2"]
        y += p["b2"]
        return y.argmax(axis=1)

    def numerical_gradient(self, x: NDArray, t: NDArray) -> dict[str, NDArray]:
        def loss_w(_: NDArray) -> float:
            return self.loss(x, t)

        return {key: numerical_gradient(loss_w, self.params[key]) for key in PARAM_NAMES}

    def gradient(
        self, x: NDArray, t: NDArray, *, need_input_grad: bool = True
    ) -> dict[str, NDArray]:
        """Backprop: forward, then each layer's ``backward`` in reverse order.

        Returns dW/db per parameter. ``need_input_grad=False`` skips the first Affine's dx
        (a training step never uses it). The gradient arriving at each layer is kept in
        ``self.douts``; the gradient with respect to the input in ``self.input_grad``.
        """
        self.loss(x, t)
        douts = {"SoftmaxWithLoss": np.ones((), dtype=self.dtype)}
        dout = self.last_layer.backward(1.0)
        names = list(self.layers)
        for index in range(len(names) - 1, -1, -1):
            name = names[index]
            douts[name] = dout
            layer = self.layers[name]
            if index == 0 and isinstance(layer, Affine):
                dout = layer.backward(dout, need_dx=need_input_grad)
            else:
                dout = layer.backward(dout)
        self.douts = douts
        self.input_grad = dout
        first, second = self.layers["Affine1"], self.layers["Affine2"]
        return {"W1": first.dW, "b1": first.db, "W2": second.dW, "b2": second.db}

    def input_gradient(self, x: NDArray, cls: int | NDArray) -> NDArray:
        """d(score of class ``cls``)/dx through the network's own backward pass.

        x : shape (batch, input_size) → returns shape (batch, input_size). This is the saliency
        of the pixels for that class's (pre-softmax) score.
        """
        scores = self.predict(x)
        dout = np.zeros_like(scores)
        dout[np.arange(scores.shape[0]), cls] = 1
        for layer in reversed(self.layers.values()):
            dout = layer.backward(dout)
        return dout
