from __future__ import annotations

import numpy as np
import pytest

from desktop_bp.core.gradcheck import PASS_THRESHOLD, check_gradient
from desktop_bp.core.network import TwoLayerNet


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(3)


def test_defaults_follow_the_book(rng):
    net = TwoLayerNet(rng=rng)
    assert net.params["W1"].shape == (784, 50)
    assert net.params["b1"].shape == (50,)
    assert net.params["W2"].shape == (50, 10)
    assert net.params["b2"].shape == (10,)
    assert list(net.layers) == ["Affine1", "Relu1", "Affine2"]
    assert net.params["W1"].std() == pytest.approx(0.01, rel=0.05)
    assert not net.params["b1"].any()


def test_same_seed_same_weights():
    a = TwoLayerNet(rng=np.random.default_rng(5))
    b = TwoLayerNet(rng=np.random.default_rng(5))
    for key in a.params:
        np.testing.assert_array_equal(a.params[key], b.params[key])


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_gradient_check_passes_in_float64(rng, activation):
    net = TwoLayerNet(784, 50, 10, activation=activation, rng=rng)
    x = rng.random((3, 784))
    t = rng.integers(0, 10, 3)
    result = check_gradient(net, x, t)
    assert set(result.errors) == {"W1", "b1", "W2", "b2"}
    for name, err in result.errors.items():
        assert err < PASS_THRESHOLD, (name, err)
    assert result.passed
    assert result.speedup > 100  # backprop is orders of magnitude faster


def test_gradient_check_detects_a_broken_backward(rng, monkeypatch):
    net = TwoLayerNet(20, 5, 3, rng=rng, weight_init_std=0.5)
    x = rng.random((2, 20))
    t = np.array([0, 2])
    from desktop_bp.core import layers

    original = layers.ReLU.backward
    monkeypatch.setattr(layers.ReLU, "backward", lambda self, dout: 2 * original(self, dout))
    result = check_gradient(net, x, t)
    assert result.errors["W1"] > 0.1
    assert not result.passed


def test_loaded_weights_are_what_predict_uses(rng):
    net = TwoLayerNet(6, 4, 3, rng=rng)
    x = rng.random((2, 6))
    other = TwoLayerNet(6, 4, 3, rng=np.random.default_rng(99), weight_init_std=1.0)
    net.set_params(other.params)
    np.testing.assert_allclose(net.predict(x), other.predict(x))
    # Replacing a dict entry directly (the book's stale-weights trap) also takes effect.
    net.params["W2"] = np.zeros((4, 3))
    net.params["b2"] = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(net.predict(x), np.tile([1.0, 2.0, 3.0], (2, 1)))


def test_set_params_validates_and_copies(rng):
    net = TwoLayerNet(6, 4, 3, rng=rng)
    good = {k: v.copy() for k, v in net.params.items()}
    bad_shape = dict(good, W1=np.zeros((6, 5)))
    with pytest.raises(ValueError, match=r"W1 has shape \(6, 5\), expected \(6, 4\)"):
        net.set_params(bad_shape)
    with pytest.raises(ValueError, match="NaN"):
        net.set_params(dict(good, b2=np.array([0.0, np.nan, 0.0])))
    with pytest.raises(ValueError, match="missing parameters: b1"):
        net.set_params({k: v for k, v in good.items() if k != "b1"})
    net.set_params(good)
    good["W1"][:] = 123.0
    assert not np.any(net.params["W1"] == 123.0)


def test_gradient_records_dout_arriving_at_each_layer(rng):
    net = TwoLayerNet(8, 4, 3, rng=rng)
    x = rng.random((5, 8))
    net.gradient(x, np.array([0, 1, 2, 0, 1]))
    assert net.douts["Affine2"].shape == (5, 3)
    assert net.douts["Relu1"].shape == (5, 4)
    assert net.douts["Affine1"].shape == (5, 4)
    assert net.input_grad.shape == (5, 8)


def test_input_gradient_matches_numerical(rng):
    net = TwoLayerNet(8, 6, 3, rng=rng, weight_init_std=0.5, activation="sigmoid")
    x = rng.random((1, 8))
    grad = net.input_gradient(x, 2)
    h = 1e-5
    num = np.zeros(8)
    for i in range(8):
        xp, xm = x.copy(), x.copy()
        xp[0, i] += h
        xm[0, i] -= h
        num[i] = (net.predict(xp)[0, 2] - net.predict(xm)[0, 2]) / (2 * h)
    np.testing.assert_allclose(grad[0], num, rtol=1e-5, atol=1e-9)


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="activation"):
        TwoLayerNet(activation="tanh")
    with pytest.raises(ValueError, match="hidden_size"):
        TwoLayerNet(hidden_size=0)


def test_accuracy_counts_correct_predictions():
    net = TwoLayerNet(2, 2, 2, rng=np.random.default_rng(0))
    net.set_params({"W1": np.eye(2), "b1": np.zeros(2), "W2": np.eye(2), "b2": np.zeros(2)})
    x = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 0.0], [0.0, 3.0]])
    assert net.accuracy(x, np.array([0, 1, 1, 1]), batch_size=3) == 0.75
    assert net.accuracy(x, np.eye(2)[[0, 1, 0, 1]]) == 1.0


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_predict_labels_agrees_with_the_layers(rng, activation):
    net = TwoLayerNet(784, 30, 10, activation=activation, rng=rng, weight_init_std=0.1)
    x = rng.random((64, 784))
    np.testing.assert_array_equal(net.predict_labels(x), net.predict(x).argmax(axis=1))
