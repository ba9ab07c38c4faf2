"""One sample's forward and backward pass, node by node, through the real core layers.

The inspector view draws the chapter's computational graph
``x → Affine1 → Relu1|Sigmoid1 → Affine2 → SoftmaxWithLoss → L`` and shows what flows along
each arrow. Those numbers must be the network's own, not a re-derivation: :func:`trace` builds
a :class:`TwoLayerNet` from the parameters and calls each layer's ``forward`` and then each
``backward`` in reverse, exactly as ``TwoLayerNet.gradient`` does, recording every array on the
way. ``tests/core/test_inspect_backward.py`` checks the records against ``gradient`` bit for bit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from desktop_bp.core.layers import Affine
from desktop_bp.core.network import ACTIVATIONS, TwoLayerNet

#: ``NodeTrace.kind`` values, in graph order.
AFFINE, RELU, SIGMOID, SOFTMAX_WITH_LOSS = "affine", "relu", "sigmoid", "softmax_with_loss"
LOSS_NODE = "SoftmaxWithLoss"


@dataclass(frozen=True)
class NodeTrace:
    """What went into and out of one node, forward and backward, for a single sample.

    name         : the layer's key in ``TwoLayerNet.layers`` ("Affine1", "Relu1", …) or
                   ``"SoftmaxWithLoss"``.
    kind         : one of AFFINE, RELU, SIGMOID, SOFTMAX_WITH_LOSS.
    forward_in   : shape (n_in,), the node's forward input (the scores for SoftmaxWithLoss).
    forward_out  : shape (n_out,); for SoftmaxWithLoss the 0-d loss L.
    backward_in  : the gradient arriving from the right, dL/d(forward_out): shape (n_out,);
                   for SoftmaxWithLoss the 0-d dL/dL = 1.
    backward_out : shape (n_in,), dL/d(forward_in), what the node passes to the left.
    extras       : per kind — affine: ``W`` (n_in, n_out), ``b`` (n_out,), ``dW`` (n_in, n_out),
                   ``db`` (n_out,); relu: ``mask`` (n_in,) bool, True where the input was <= 0
                   (the gradient is blocked there); sigmoid: nothing extra (``forward_out`` is
                   the ``out`` its backward uses); softmax_with_loss: ``y`` (n,) the
                   probabilities, ``t`` (n,) the one-hot target, ``label`` 0-d int.
    """

    name: str
    kind: str
    forward_in: NDArray
    forward_out: NDArray
    backward_in: NDArray
    backward_out: NDArray
    extras: dict[str, NDArray] = field(default_factory=dict)


def network_from_params(params: Mapping[str, NDArray], activation: str) -> TwoLayerNet:
    """A private TwoLayerNet holding copies of ``params`` in their own dtype.

    Sizes are read from the arrays: W1 (input, hidden), W2 (hidden, output).
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    missing = [k for k in ("W1", "b1", "W2", "b2") if k not in params]
    if missing:
        raise ValueError(f"missing parameters: {', '.join(missing)}")
    W1, W2 = np.asarray(params["W1"]), np.asarray(params["W2"])
    if W1.ndim != 2 or W2.ndim != 2:
        raise ValueError(f"W1 and W2 must be matrices, got shapes {W1.shape} and {W2.shape}")
    net = TwoLayerNet(
        W1.shape[0],
        W1.shape[1],
        W2.shape[1],
        activation=activation,
        dtype=W1.dtype if np.issubdtype(W1.dtype, np.floating) else np.float64,
        rng=np.random.default_rng(0),  # the random init is overwritten at once
    )
    net.set_params(params)
    return net


def trace(
    network_params: Mapping[str, NDArray],
    activation: str,
    x: NDArray,
    t: int | None = None,
) -> list[NodeTrace]:
    """Run one sample forward and backward through the core layers, recording every array.

    network_params : W1 (in, hidden), b1 (hidden,), W2 (hidden, out), b2 (out,); copied.
    activation     : "relu" or "sigmoid".
    x              : shape (in,) — or anything with ``in`` elements, e.g. (28, 28) — cast to
                     the parameters' dtype, as training feeds it.
    t              : the true label; None (a drawn digit nobody labelled) uses the network's
                     own prediction as the target.

    Returns one :class:`NodeTrace` per node in forward order: Affine1, the activation, Affine2,
    SoftmaxWithLoss. The numbers are those ``TwoLayerNet.gradient`` computes for the batch
    ``x[None]``: ``trace(...)[i].backward_in`` equals ``net.douts[name][0]``.
    """
    net = network_from_params(network_params, activation)
    x = np.asarray(x)
    if x.size != net.input_size:
        raise ValueError(f"x must have {net.input_size} elements, got shape {x.shape}")
    batch = np.asarray(x, dtype=net.dtype).reshape(1, net.input_size)

    # Forward, left to right — the same loop as TwoLayerNet.predict, keeping each input.
    inputs: dict[str, NDArray] = {}
    outputs: dict[str, NDArray] = {}
    signal = batch
    for name, layer in net.layers.items():
        inputs[name] = signal
        signal = layer.forward(signal)
        outputs[name] = signal
    scores = signal
    if t is None:
        label = int(np.argmax(scores[0]))
    else:
        label = int(t)
        if not 0 <= label < net.output_size:
            raise ValueError(f"t must be a class index in [0, {net.output_size}), got {t!r}")
    loss = net.last_layer.forward(scores, np.array([label]))

    # Backward, right to left — the same loop as TwoLayerNet.gradient.
    douts: dict[str, NDArray] = {}
    dxs: dict[str, NDArray] = {}
    dout = net.last_layer.backward(1.0)
    dxs[LOSS_NODE] = dout
    for name in reversed(net.layers):
        douts[name] = dout
        dout = net.layers[name].backward(dout)
        dxs[name] = dout

    nodes: list[NodeTrace] = []
    for name, layer in net.layers.items():
        if isinstance(layer, Affine):
            kind = AFFINE
            extras = {"W": layer.W, "b": layer.b, "dW": layer.dW, "db": layer.db}
        elif activation == "relu":
            kind = RELU
            extras = {"mask": layer.mask[0]}
        else:
            kind = SIGMOID
            extras = {}
        nodes.append(
            NodeTrace(
                name,
                kind,
                inputs[name][0],
                outputs[name][0],
                douts[name][0],
                dxs[name][0],
                extras,
            )
        )
    one_hot = np.zeros(net.output_size, dtype=net.dtype)
    one_hot[label] = 1
    nodes.append(
        NodeTrace(
            LOSS_NODE,
            SOFTMAX_WITH_LOSS,
            scores[0],
            np.array(loss, dtype=np.float64),
            np.ones((), dtype=net.dtype),  # dL/dL, what gradient() records for the loss node
            dxs[LOSS_NODE][0],
            {"y": net.last_layer.y[0], "t": one_hot, "label": np.array(label)},
        )
    )
    return nodes
