"""Backward-pass inspector: the numbers shown are the core layers' own, step by step."""

from __future__ import annotations

import os

# tests/gui/conftest.py does this too; repeated so the module also runs on its own.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel, QPushButton, QSpinBox

from desktop_bp.core.data import load_mnist
from desktop_bp.core.inspect_backward import trace
from desktop_bp.core.network import TwoLayerNet
from desktop_bp.gui.insight.backward_pass.view import STEPS, BackwardInspectorView


@pytest.fixture(scope="module")
def test_set():
    return load_mnist()[1]


@pytest.fixture(scope="module")
def net():
    network = TwoLayerNet(weight_init_std=0.05, dtype=np.float32, rng=np.random.default_rng(2))
    network.params["b1"][:] = 0.01
    return network


@pytest.fixture
def view(qtbot, net, test_set):
    widget = BackwardInspectorView(seed=0)
    qtbot.addWidget(widget)
    widget.resize(1200, 820)
    widget.set_network(net.params, "relu")
    widget.set_data(*test_set)
    widget.show()
    return widget


def _assert_same_trace(shown, expected):
    assert [n.name for n in shown] == [n.name for n in expected]
    for a, b in zip(shown, expected, strict=True):
        for field in ("forward_in", "forward_out", "backward_in", "backward_out"):
            assert np.array_equal(getattr(a, field), getattr(b, field)), (a.name, field)
        assert a.extras.keys() == b.extras.keys()
        for key in a.extras:
            assert np.array_equal(a.extras[key], b.extras[key]), (a.name, key)


def test_trace_is_the_cores_and_the_networks(view, net, test_set):
    x_test, t_test = test_set
    view.show_test_image(17)
    expected = trace(net.params, "relu", x_test[17], int(t_test[17]))
    _assert_same_trace(view.trace, expected)
    # ... and the core's trace is TwoLayerNet.gradient's numbers.
    net.gradient(x_test[17:18], t_test[17:18])
    for node in view.trace:
        assert np.array_equal(
            node.backward_in, net.douts[node.name].reshape(node.backward_in.shape)
        )
    assert np.array_equal(view.trace[0].backward_out, net.input_grad[0])


def test_panels_show_the_trace_arrays(view):
    view.show_test_image(3)
    nodes = view.trace
    panels = {
        key: view.findChild(object, name)
        for key, name in (
            ("fi", "inspectorForwardIn"),
            ("fo", "inspectorForwardOut"),
            ("bi", "inspectorBackwardIn"),
            ("bo", "inspectorBackwardOut"),
        )
    }
    for step, (index, direction) in enumerate(STEPS):
        view.set_step(step)
        node = nodes[index]
        assert view.active == (node.name, direction)
        assert np.array_equal(panels["fi"].content.values, node.forward_in)
        if direction == "backward":
            assert np.array_equal(panels["bi"].content.values, node.backward_in)
            assert np.array_equal(panels["bo"].content.values, node.backward_out)
        else:
            assert panels["bo"].content.values is None  # not computed yet at this step
    view.set_step(4)  # SoftmaxWithLoss backward
    caption = view.findChild(QLabel, "inspectorCaption").text()
    assert "y − t" in caption and "batch size" in caption
    assert np.array_equal(panels["fo"].content.values, nodes[3].extras["y"])


def test_prev_next_walk_forward_then_backward(qtbot, view):
    prev = view.findChild(QPushButton, "inspectorPrevButton")
    nxt = view.findChild(QPushButton, "inspectorNextButton")
    view.set_step(0)
    assert not prev.isEnabled() and nxt.isEnabled()
    seen = [view.active]
    for _ in range(len(STEPS) - 1):
        with qtbot.waitSignal(view.stepChanged, timeout=1000):
            qtbot.mouseClick(nxt, Qt.MouseButton.LeftButton)
        seen.append(view.active)
    assert seen == [
        ("Affine1", "forward"),
        ("Relu1", "forward"),
        ("Affine2", "forward"),
        ("SoftmaxWithLoss", "forward"),
        ("SoftmaxWithLoss", "backward"),
        ("Affine2", "backward"),
        ("Relu1", "backward"),
        ("Affine1", "backward"),
    ]
    assert not nxt.isEnabled() and prev.isEnabled()
    qtbot.mouseClick(prev, Qt.MouseButton.LeftButton)
    assert view.step == 6
    assert "Relu" not in view.findChild(QLabel, "inspectorStepLabel").text()  # shown as ReLU
    assert "ReLU" in view.findChild(QLabel, "inspectorStepLabel").text()
    with pytest.raises(ValueError, match="step"):
        view.set_step(8)


def test_clicking_a_node_box_jumps_to_it(qtbot, view):
    view.set_step(5)  # backward, Affine2
    graph = view.findChild(object, "inspectorGraph")
    boxes = graph._layout()[0]
    qtbot.mouseClick(graph, Qt.MouseButton.LeftButton, pos=boxes[0].center().toPoint())
    assert view.active == ("Affine1", "backward")


def test_chooser_random_and_target(qtbot, view, net, test_set):
    x_test, t_test = test_set
    spin = view.findChild(QSpinBox, "inspectorIndexSpin")
    assert spin.maximum() == len(x_test) - 1
    spin.setValue(42)
    assert int(view.trace[3].extras["label"]) == int(t_test[42])
    assert np.array_equal(view.trace[0].forward_in, x_test[42])
    qtbot.mouseClick(
        view.findChild(QPushButton, "inspectorRandomButton"), Qt.MouseButton.LeftButton
    )
    assert np.array_equal(view.trace[0].forward_in, x_test[spin.value()])
    # A different target t: the loss node's gradient is y − t for that t.
    combo = view.findChild(QComboBox, "inspectorTargetCombo")
    other = (int(t_test[spin.value()]) + 1) % 10
    combo.setCurrentIndex(other)
    combo.activated.emit(other)
    assert int(view.trace[3].extras["label"]) == other
    expected = trace(net.params, "relu", x_test[spin.value()], other)
    _assert_same_trace(view.trace, expected)


def test_sample_from_elsewhere_without_label(view, net):
    drawn = np.zeros(784, np.float32)
    drawn[300:320] = 1.0
    with_signal = []
    view.traceChanged.connect(lambda: with_signal.append(1))
    view.set_sample(drawn, None)
    assert with_signal
    nodes = view.trace
    predicted = int(np.argmax(nodes[3].forward_in))
    assert int(nodes[3].extras["label"]) == predicted
    _assert_same_trace(nodes, trace(net.params, "relu", drawn, None))
    assert "no label" in view.findChild(QLabel, "inspectorSampleLabel").text()
    view.set_sample(drawn, 3)
    assert int(view.trace[3].extras["label"]) == 3


def test_no_network_shows_a_hint(qtbot):
    widget = BackwardInspectorView()
    qtbot.addWidget(widget)
    widget.show()
    assert widget.trace is None and widget.active is None
    assert "network" in widget.findChild(QLabel, "inspectorCaption").text()
    assert not widget.findChild(QPushButton, "inspectorNextButton").isEnabled()
    widget.set_network(TwoLayerNet(rng=np.random.default_rng(0)).params, "sigmoid")
    assert widget.trace is None  # still no sample
    widget.set_sample(np.full(784, 0.5), 1)
    assert [n.kind for n in widget.trace] == ["affine", "sigmoid", "affine", "softmax_with_loss"]
    widget.set_step(6)
    assert "Sigmoid backward" in widget.findChild(QLabel, "inspectorCaption").text()
    widget.grab()  # paints every panel without error
