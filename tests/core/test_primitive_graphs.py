"""Every layer rebuilt from primitives gives the layer class's numbers; the book's apples."""

from __future__ import annotations

import numpy as np
import pytest

from desktop_bp.core.layers import Affine, ReLU, Sigmoid, SoftmaxWithLoss
from desktop_bp.core.network import TwoLayerNet
from desktop_bp.core.primitive_graphs import (
    AffineGraph,
    ReLUGraph,
    SigmoidGraph,
    SoftmaxWithLossGraph,
    buy_apple,
    buy_apple_orange,
    compose,
)

TOL = 1e-12
SEEDS = [0, 1, 2, 3]


def max_diff(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape
    return float(np.max(np.abs(a - b))) if a.size else 0.0


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("batch", [1, 7])
def test_sigmoid_graph_is_sigmoid(seed, batch):
    rng = np.random.default_rng(seed)
    x = 4 * rng.standard_normal((batch, 50))
    dout = rng.standard_normal((batch, 50))
    layer, graph = Sigmoid(), SigmoidGraph()
    before = (x.copy(), dout.copy())
    assert max_diff(graph.forward(x), layer.forward(x)) <= TOL
    assert max_diff(graph.backward(dout), layer.backward(dout)) <= TOL
    assert np.array_equal(x, before[0]) and np.array_equal(dout, before[1])
    assert [n.name for n in graph.nodes] == ["× −1", "exp", "+ 1", "1/x"]


def test_sigmoid_local_derivatives_are_the_books():
    """Right to left: −y², 1, exp(−x), −1 — and their product is y(1 − y)."""
    x = np.array([[-1.5, 0.2, 3.0]])
    graph = SigmoidGraph()
    y = graph.forward(x)
    neg, exp, plus, recip = (n.op for n in graph.nodes)
    assert np.allclose(recip.local(), -(y**2))
    assert np.array_equal(plus.local(), np.ones_like(x))
    assert np.allclose(exp.local(), np.exp(-x))
    assert np.array_equal(neg.local(), -np.ones_like(x))
    product = recip.local() * plus.local() * exp.local() * neg.local()
    assert max_diff(product, y * (1 - y)) <= TOL


@pytest.mark.parametrize("seed", SEEDS)
def test_relu_graph_is_relu(seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((6, 50))
    x[0, :5] = 0.0  # the kink: both say the gradient is blocked at exactly 0
    dout = rng.standard_normal((6, 50))
    layer, graph = ReLU(), ReLUGraph()
    assert np.array_equal(graph.forward(x), layer.forward(x))
    assert np.array_equal(graph.backward(dout), layer.backward(dout))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("x_shape", [(1, 784), (5, 784), (3, 28, 28)])
def test_affine_graph_is_affine(seed, x_shape):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, x_shape)
    W, b = 0.05 * rng.standard_normal((784, 50)), 0.1 * rng.standard_normal(50)
    dout = rng.standard_normal((x_shape[0], 50))
    before = [a.copy() for a in (x, W, b, dout)]
    layer, graph = Affine(W, b), AffineGraph(W, b)
    assert max_diff(graph.forward(x), layer.forward(x)) <= TOL
    dx = graph.backward(dout)
    assert max_diff(dx, layer.backward(dout)) <= TOL
    assert dx.shape == x_shape
    assert max_diff(graph.dW, layer.dW) <= TOL
    assert max_diff(graph.db, layer.db) <= TOL
    for a, b_ in zip((x, W, b, dout), before, strict=True):
        assert np.array_equal(a, b_)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("batch", [1, 8])
@pytest.mark.parametrize("one_hot", [False, True])
def test_softmax_with_loss_graph_is_the_layer(seed, batch, one_hot):
    rng = np.random.default_rng(seed)
    a = 3 * rng.standard_normal((batch, 10))
    labels = rng.integers(0, 10, batch)
    t = np.eye(10)[labels] if one_hot else labels
    before = (a.copy(), np.array(t, copy=True))
    layer, graph = SoftmaxWithLoss(), SoftmaxWithLossGraph()
    assert abs(graph.forward(a, t) - layer.forward(a, t)) <= TOL
    assert max_diff(graph.y, layer.y) <= TOL
    assert max_diff(graph.backward(1.0), layer.backward(1.0)) <= TOL
    assert max_diff(graph.backward(0.3), layer.backward(0.3)) <= TOL
    assert np.array_equal(a, before[0]) and np.array_equal(t, before[1])
    assert len(graph.nodes) == 9


def test_softmax_graph_keeps_the_loss_epsilon():
    """A probability near 0 on the true class: the +1e-7 factor y_t/(y_t + 1e-7) matters, and
    the composed graph has it as the layer has (the book's (y − t)/N would miss by far more)."""
    a = np.array([[30.0, 0.0, -5.0]])
    t = np.array([2])
    layer, graph = SoftmaxWithLoss(), SoftmaxWithLossGraph()
    graph.forward(a, t), layer.forward(a, t)
    dx_graph, dx_layer = graph.backward(), layer.backward()
    assert max_diff(dx_graph, dx_layer) <= TOL
    book = layer.y - np.eye(3)[t]
    assert max_diff(dx_graph, book) > 0.5


def test_exp_gradient_is_the_sum_of_its_two_branches():
    graph = SoftmaxWithLossGraph()
    graph.forward(np.array([[1.0, 2.0, 0.5]]), np.array([1]))
    graph.backward()
    exp, sum_e, mul_y = graph.node("exp"), graph.node("Σ"), graph.node("×")
    assert np.array_equal(exp.dout, mul_y.dx + sum_e.dx)


def _network(activation, seed):
    net = TwoLayerNet(
        784, 50, 10, weight_init_std=0.1, activation=activation, rng=np.random.default_rng(seed)
    )
    net.params["b1"][:] = np.random.default_rng(seed + 10).standard_normal(50) * 0.1
    return net


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
@pytest.mark.parametrize("seed", [0, 5])
def test_a_network_of_composed_graphs_is_the_network(activation, seed):
    """Swap every layer for its composed graph: same loss, same gradients, same input grad."""
    rng = np.random.default_rng(seed)
    net = _network(activation, seed)
    x, t = rng.uniform(0, 1, (16, 784)), rng.integers(0, 10, 16)
    grads = net.gradient(x, t)
    graphs = [compose(layer) for layer in net.layers.values()]
    loss_graph = compose(net.last_layer)
    signal = x
    for graph in graphs:
        signal = graph.forward(signal)
    assert abs(loss_graph.forward(signal, t) - net.last_layer.loss) <= TOL
    dout = loss_graph.backward(1.0)
    for name, graph in zip(reversed(net.layers), reversed(graphs), strict=True):
        assert max_diff(dout, net.douts[name]) <= TOL
        dout = graph.backward(dout)
    assert max_diff(dout, net.input_grad) <= TOL
    assert max_diff(graphs[0].dW, grads["W1"]) <= TOL
    assert max_diff(graphs[0].db, grads["b1"]) <= TOL
    assert max_diff(graphs[2].dW, grads["W2"]) <= TOL
    assert max_diff(graphs[2].db, grads["b2"]) <= TOL


def test_compose_rejects_other_objects():
    with pytest.raises(ValueError, match="no primitive graph"):
        compose(object())


def test_buy_apple_gives_the_books_numbers():
    shop = buy_apple()
    assert shop.values["price"] == pytest.approx(220)
    assert shop.grads["apple"] == pytest.approx(2.2)
    assert shop.grads["apple_num"] == pytest.approx(110)
    assert shop.grads["tax"] == pytest.approx(200)


def test_buy_apple_orange_gives_the_books_numbers():
    shop = buy_apple_orange()
    assert shop.values["all_price"] == pytest.approx(650)
    assert shop.values["price"] == pytest.approx(715)
    expected = {"apple": 2.2, "apple_num": 110, "orange": 3.3, "orange_num": 165, "tax": 650}
    for key, value in expected.items():
        assert shop.grads[key] == pytest.approx(value), key


def test_shopping_gradients_scale_with_the_upstream_gradient():
    shop = buy_apple_orange(orange_num=4, dprice=2.0)
    assert shop.values["price"] == pytest.approx((200 + 600) * 1.1)
    assert shop.grads["orange_num"] == pytest.approx(2.0 * 1.1 * 150)
    assert shop.grads["tax"] == pytest.approx(2.0 * 800)
