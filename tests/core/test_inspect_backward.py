"""The inspector's trace must be the core layers' own numbers, bit for bit."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from desktop_bp.core.inspect_backward import (
    AFFINE,
    LOSS_NODE,
    RELU,
    SIGMOID,
    SOFTMAX_WITH_LOSS,
    network_from_params,
    trace,
)
from desktop_bp.core.network import TwoLayerNet


def _network(activation: str, dtype: type, seed: int = 7) -> TwoLayerNet:
    rng = np.random.default_rng(seed)
    net = TwoLayerNet(784, 50, 10, 0.1, activation=activation, dtype=dtype, rng=rng)
    # Non-zero biases, so a bug that drops b shows.
    net.params["b1"][:] = rng.normal(0, 0.1, 50)
    net.params["b2"][:] = rng.normal(0, 0.1, 10)
    return net


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_trace_equals_network_gradient_exactly(activation, dtype):
    net = _network(activation, dtype)
    x = np.random.default_rng(1).random(784).astype(dtype)
    label = 3
    nodes = trace(net.copy_params(), activation, x, label)

    act = "Relu1" if activation == "relu" else "Sigmoid1"
    assert [n.name for n in nodes] == ["Affine1", act, "Affine2", LOSS_NODE]
    assert [n.kind for n in nodes] == [
        AFFINE,
        RELU if activation == "relu" else SIGMOID,
        AFFINE,
        SOFTMAX_WITH_LOSS,
    ]

    grads = net.gradient(x[None], np.array([label]))
    # Backward: the gradient arriving at every node, and what it passes on.
    for node in nodes:
        assert np.array_equal(
            node.backward_in, net.douts[node.name].reshape(node.backward_in.shape)
        )
    assert np.array_equal(nodes[0].backward_out, net.input_grad[0])
    # Each node passes to its left neighbour exactly what that neighbour receives.
    for left, right in itertools.pairwise(nodes):
        assert np.array_equal(right.backward_out, left.backward_in)
    assert np.array_equal(nodes[0].extras["dW"], grads["W1"])
    assert np.array_equal(nodes[0].extras["db"], grads["b1"])
    assert np.array_equal(nodes[2].extras["dW"], grads["W2"])
    assert np.array_equal(nodes[2].extras["db"], grads["b2"])

    # Forward: each layer's output, computed layer by layer by the network itself.
    signal = x[None]
    for node, layer in zip(nodes[:3], net.layers.values(), strict=True):
        assert np.array_equal(node.forward_in, signal[0])
        signal = layer.forward(signal)
        assert np.array_equal(node.forward_out, signal[0])
        assert node.forward_out.dtype == np.dtype(dtype)
    assert np.array_equal(nodes[3].forward_in, net.predict(x[None])[0])
    assert float(nodes[3].forward_out) == net.loss(x[None], np.array([label]))
    assert np.array_equal(nodes[3].extras["y"], net.last_layer.y[0])


def test_shapes_and_extras():
    net = _network("relu", np.float32)
    x = np.random.default_rng(2).random((28, 28))  # any layout with 784 elements
    nodes = trace(net.params, "relu", x, 5)
    a1, relu, a2, loss = nodes
    assert a1.forward_in.shape == (784,) and a1.forward_out.shape == (50,)
    assert a1.backward_in.shape == (50,) and a1.backward_out.shape == (784,)
    assert relu.forward_in.shape == relu.backward_out.shape == (50,)
    assert a2.forward_out.shape == (10,) and loss.backward_out.shape == (10,)
    assert loss.forward_out.shape == () and float(loss.backward_in) == 1.0
    assert a1.extras["W"].shape == (784, 50) and a2.extras["dW"].shape == (50, 10)
    assert int(loss.extras["label"]) == 5 and loss.extras["t"].argmax() == 5
    # ReLU blocks the gradient exactly where its input was <= 0.
    assert np.array_equal(relu.extras["mask"], relu.forward_in <= 0)
    assert not relu.backward_out[relu.extras["mask"]].any()
    # SoftmaxWithLoss backward is (y - t) / batch, times the tiny epsilon factor.
    np.testing.assert_allclose(
        loss.backward_out, loss.extras["y"] - loss.extras["t"], rtol=1e-5, atol=1e-6
    )


def test_no_label_uses_the_prediction_as_target():
    net = _network("relu", np.float64)
    x = np.random.default_rng(3).random(784)
    nodes = trace(net.params, "relu", x, None)
    predicted = int(np.argmax(nodes[3].forward_in))
    assert int(nodes[3].extras["label"]) == predicted
    assert np.array_equal(
        nodes[3].backward_out, trace(net.params, "relu", x, predicted)[3].backward_out
    )


def test_trace_leaves_the_callers_params_alone():
    net = _network("sigmoid", np.float32)
    before = net.copy_params()
    nodes = trace(net.params, "sigmoid", np.ones(784, np.float32), 1)
    nodes[0].extras["W"][:] = 0  # the trace holds its own copy
    for key, value in before.items():
        assert np.array_equal(net.params[key], value)


def test_read_only_params_are_fine():
    net = _network("relu", np.float32)
    params = net.copy_params()
    for value in params.values():
        value.flags.writeable = False
    assert len(trace(params, "relu", np.zeros(784), 0)) == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("tanh", np.zeros(784), 0), "activation"),
        (("relu", np.zeros(783), 0), "784 elements"),
        (("relu", np.zeros(784), 10), "class index"),
        (("relu", np.zeros(784), -1), "class index"),
    ],
)
def test_bad_input_is_named(args, message):
    net = _network("relu", np.float32)
    with pytest.raises(ValueError, match=message):
        trace(net.params, *args)


def test_network_from_params_reads_sizes():
    params = TwoLayerNet(20, 7, 4, rng=np.random.default_rng(0)).params
    net = network_from_params(params, "relu")
    assert (net.input_size, net.hidden_size, net.output_size) == (20, 7, 4)
    with pytest.raises(ValueError, match="missing"):
        network_from_params({"W1": params["W1"]}, "relu")
