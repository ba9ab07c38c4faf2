"""A layer of the live network opened into primitives: scalars that chain to its own backward."""

from __future__ import annotations

import math

import numpy as np
import pytest

from desktop_bp.core.inspect_backward import trace
from desktop_bp.core.layers import Sigmoid
from desktop_bp.core.network import TwoLayerNet
from desktop_bp.core.primitive_trace import (
    network_layer_names,
    trace_layer,
    trace_network_layer,
)

TOL = 1e-12


def _net(activation, seed=0):
    net = TwoLayerNet(
        784, 50, 10, weight_init_std=0.1, activation=activation, rng=np.random.default_rng(seed)
    )
    net.params["b1"][:] = np.random.default_rng(seed + 1).standard_normal(50) * 0.3
    return net


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(42).uniform(0, 1, (4, 784))


@pytest.mark.parametrize("element", [0, 17, 49])
def test_sigmoid_four_nodes_chain_to_the_networks_backward(images, element):
    net = _net("sigmoid")
    x = images[0]
    opened = trace_network_layer(net.params, "sigmoid", "Sigmoid1", x, 3, element=element)
    assert [s.name for s in opened.steps] == ["× −1", "exp", "+ 1", "1/x"]
    # Right to left: upstream x local = downstream, node after node.
    for right, left in zip(opened.steps[:0:-1], opened.steps[-2::-1], strict=True):
        assert right.downstream == pytest.approx(right.upstream * right.local, rel=1e-15)
        assert left.upstream == right.downstream
    chained = opened.steps[-1].upstream * math.prod(s.local for s in opened.steps)
    net.gradient(x[None], np.array([3]))
    y = net.layers["Sigmoid1"].out[0, element]
    dy = net.douts["Sigmoid1"][0, element]
    assert opened.steps[-1].upstream == dy
    assert abs(chained - y * (1 - y) * dy) <= TOL
    assert abs(opened.steps[0].downstream - net.douts["Affine1"][0, element]) <= TOL
    (comparison,) = opened.comparisons
    assert abs(comparison.difference) <= TOL
    assert comparison.closed_form == net.douts["Affine1"][0, element]


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_every_layer_opens_and_agrees_with_its_closed_form(images, activation):
    net = _net(activation, seed=3)
    for name in network_layer_names(activation):
        opened = trace_network_layer(net.params, activation, name, images[1], 7, element=2)
        assert opened.layer == name
        assert opened.steps
        for comparison in opened.comparisons:
            assert abs(comparison.difference) <= TOL, (name, comparison)
        for step in opened.steps:
            values = (step.forward, step.local, step.upstream, step.downstream)
            assert all(isinstance(v, float) and math.isfinite(v) for v in values)


def test_values_are_the_inspectors(images):
    """The layer's ends are what the Backward pass tab shows for the same sample."""
    net = _net("relu", seed=4)
    nodes = trace(net.params, "relu", images[2], 5)
    for index, name in enumerate(network_layer_names("relu")):
        opened = trace_network_layer(net.params, "relu", name, images[2], 5, element=1)
        node = nodes[index]
        if name == "SoftmaxWithLoss":
            assert opened.ends["loss"] == pytest.approx(float(node.forward_out), abs=TOL)
            assert abs(opened.ends["dx"] - node.backward_out[1]) <= TOL
            continue
        assert abs(opened.ends["y"] - node.forward_out[1]) <= TOL
        assert opened.ends["dy"] == node.backward_in[1]
        i = opened.input_element
        assert abs(opened.ends["dx"] - node.backward_out[i]) <= TOL
        assert opened.ends["x"] == pytest.approx(node.forward_in[i], abs=TOL)


def test_affine_rows_follow_one_weight(images):
    net = _net("relu", seed=5)
    opened = trace_network_layer(
        net.params, "relu", "Affine1", images[0], 1, element=4, input_element=300
    )
    dot, add = opened.steps
    assert dot.wrt == "W[300, 4]"
    assert dot.local == images[0, 300]
    net.gradient(images[:1], np.array([1]))
    assert dot.downstream == pytest.approx(net.layers["Affine1"].dW[300, 4], abs=TOL)
    assert add.downstream == add.upstream == net.douts["Affine1"][0, 4]
    assert opened.ends["db"] == net.layers["Affine1"].db[4]
    # Default input: the brightest pixel.
    default = trace_network_layer(net.params, "relu", "Affine1", images[0], 1, element=4)
    assert default.input_element == int(np.argmax(images[0]))
    assert default.n_inputs == 784 and default.n_elements == 50


def test_softmax_rows_and_branches(images):
    net = _net("sigmoid", seed=6)
    opened = trace_network_layer(net.params, "sigmoid", "SoftmaxWithLoss", images[3], 2, element=2)
    names = [s.name for s in opened.steps]
    assert names == ["− max", "exp", "Σ", "1/x", "×", "log(· + 1e-7)", "× t", "Σ", "× −1/N"]
    steps = {i: s for i, s in enumerate(opened.steps)}
    assert steps[8].upstream == 1.0 and steps[8].local == -1.0
    # exp's gradient is what comes back along × plus what comes back along Σ.
    assert steps[1].upstream == pytest.approx(steps[4].downstream + steps[2].downstream, rel=1e-15)
    assert opened.ends["t"] == 1.0
    assert opened.n_elements == 10


def test_a_batch_and_one_of_its_samples(images):
    net = _net("relu", seed=7)
    t = np.array([0, 1, 2, 3])
    for name in network_layer_names("relu"):
        opened = trace_network_layer(net.params, "relu", name, images, t, element=3, sample=2)
        assert opened.sample == 2
        for comparison in opened.comparisons:
            assert abs(comparison.difference) <= TOL
    net.gradient(images, t)
    opened = trace_network_layer(net.params, "relu", "SoftmaxWithLoss", images, t, sample=2)
    assert abs(opened.ends["dx"] - net.douts["Affine2"][2, 0]) <= TOL


def test_no_target_uses_the_prediction(images):
    net = _net("relu", seed=8)
    opened = trace_network_layer(net.params, "relu", "SoftmaxWithLoss", images[0], None)
    predicted = int(np.argmax(net.predict(images[:1])[0]))
    got = trace_network_layer(net.params, "relu", "SoftmaxWithLoss", images[0], predicted)
    assert opened.steps == got.steps


def test_nothing_given_is_changed(images):
    net = _net("sigmoid", seed=9)
    params = net.copy_params()
    x = images.copy()
    trace_network_layer(net.params, "sigmoid", "Affine1", x, np.zeros(4, int), element=1)
    assert np.array_equal(x, images)
    for key, value in params.items():
        assert np.array_equal(net.params[key], value)
    layer = Sigmoid()
    dout = np.ones((1, 3))
    trace_layer(layer, np.zeros((1, 3)), dout)
    assert layer.out is None and np.array_equal(dout, np.ones((1, 3)))


def test_bad_arguments_say_what_is_wrong(images):
    net = _net("relu")
    with pytest.raises(ValueError, match="layer must be one of"):
        trace_network_layer(net.params, "relu", "Sigmoid1", images[0], 1)
    with pytest.raises(ValueError, match=r"element must be in \[0, 50\)"):
        trace_network_layer(net.params, "relu", "Relu1", images[0], 1, element=50)
    with pytest.raises(ValueError, match="784 values"):
        trace_network_layer(net.params, "relu", "Relu1", np.zeros(10), 1)
    with pytest.raises(ValueError, match="upstream gradient"):
        trace_layer(Sigmoid(), np.zeros((1, 3)))
