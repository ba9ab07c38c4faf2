"""A layer of the live network opened into primitives: table, graph, closed form, stepping."""

from __future__ import annotations

import math
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel, QSpinBox, QTableWidget, QVBoxLayout, QWidget

from desktop_bp.core.data import load_mnist
from desktop_bp.core.network import TwoLayerNet
from desktop_bp.gui.insight.chain_rule.graph import ChainRuleGraph
from desktop_bp.gui.insight.chain_rule.layer_panel import TABLE_COLUMNS, PrimitiveLayerPanel

TOL = 1e-12


@pytest.fixture(scope="module")
def test_set():
    return load_mnist()[1]


def _net(activation, seed=1):
    net = TwoLayerNet(activation=activation, weight_init_std=0.1, rng=np.random.default_rng(seed))
    net.params["b1"][:] = np.random.default_rng(seed + 1).standard_normal(50) * 0.3
    return net


@pytest.fixture
def panel(qtbot):
    widget = PrimitiveLayerPanel()
    qtbot.addWidget(widget)
    widget.resize(1200, 760)
    widget.show()
    return widget


def _choose(panel, name):
    combo = panel.findChild(QComboBox, "primitiveLayerCombo")
    position = combo.findData(name)
    assert position >= 0, [combo.itemData(i) for i in range(combo.count())]
    combo.setCurrentIndex(position)
    combo.activated.emit(position)


def _table(panel) -> list[list[str]]:
    table = panel.findChild(QTableWidget, "nodeTraceTable")
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert headers == list(TABLE_COLUMNS)
    return [
        [table.item(r, c).text() for c in range(table.columnCount())]
        for r in range(table.rowCount())
    ]


def test_sigmoid_opens_into_four_nodes_that_chain_to_the_networks_backward(panel, test_set):
    x_test, t_test = test_set
    net = _net("sigmoid")
    panel.set_network(net.params, "sigmoid")
    panel.set_sample(x_test[5], int(t_test[5]))
    _choose(panel, "Sigmoid1")
    panel.findChild(QSpinBox, "primitiveElementSpin").setValue(12)
    rows = _table(panel)
    assert [r[0] for r in rows] == ["× −1", "exp", "+ 1", "1/x"]
    # The network's own backward for the same sample (float32 pixels, as the panel takes).
    x = np.asarray(x_test[5:6], dtype=np.float32).astype(np.float64)
    net.gradient(x, t_test[5:6])
    y = net.layers["Sigmoid1"].out[0, 12]
    dy = net.douts["Sigmoid1"][0, 12]
    expected = y * (1 - y) * dy
    trace = panel.trace
    assert trace.element == 12
    chained = trace.steps[-1].upstream * math.prod(s.local for s in trace.steps)
    assert abs(chained - expected) <= TOL
    assert abs(trace.steps[0].downstream - net.douts["Affine1"][0, 12]) <= TOL
    # The table says the same, as text: last row nearest the output, its upstream ∂L/∂y.
    numbers = [[float(cell) for cell in row[1:]] for row in rows]
    assert numbers[-1][2] == pytest.approx(dy, rel=1e-7)
    assert numbers[-1][1] == pytest.approx(-(y**2), rel=1e-7)
    assert numbers[0][3] == pytest.approx(expected, rel=1e-7)
    for _forward, local, upstream, downstream in numbers:
        assert downstream == pytest.approx(upstream * local, rel=1e-6)
    text = panel.findChild(QLabel, "primitiveComparison").text()
    assert "y(1 − y)·∂L/∂y" in text and "difference" in text


@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
def test_affine_and_softmax_open_the_same_way(panel, test_set, activation):
    x_test, t_test = test_set
    panel.set_network(_net(activation, seed=2).params, activation)
    panel.set_sample(x_test[1], int(t_test[1]))
    activation_rows = ("Relu1", 1) if activation == "relu" else ("Sigmoid1", 4)
    expected_rows = [("Affine1", 2), activation_rows, ("Affine2", 2), ("SoftmaxWithLoss", 9)]
    for name, count in expected_rows:
        _choose(panel, name)
        assert panel.layer == name
        assert len(_table(panel)) == count
        for comparison in panel.trace.comparisons:
            assert abs(comparison.difference) <= TOL, (name, comparison)
        graph = panel.findChild(ChainRuleGraph, "primitiveGraph")
        assert len(graph.picture.order) == count
    assert _table(panel)[-1][0] == "× −1/N"
    input_spin = panel.findChild(QSpinBox, "primitiveInputSpin")
    assert not input_spin.isVisible()
    _choose(panel, "Affine1")
    assert input_spin.isVisible()
    input_spin.setValue(400)
    assert panel.trace.input_element == 400
    assert _table(panel)[0][0] == "x · W"


def test_element_range_follows_the_layer(panel, test_set):
    x_test, t_test = test_set
    panel.set_network(_net("relu").params, "relu")
    panel.set_sample(x_test[0], int(t_test[0]))
    spin = panel.findChild(QSpinBox, "primitiveElementSpin")
    _choose(panel, "Relu1")
    assert spin.maximum() == 49
    spin.setValue(40)
    _choose(panel, "SoftmaxWithLoss")
    assert spin.maximum() == 9 and panel.trace.element == 9
    assert spin.prefix() == "class "


def test_keyboard_steps_right_to_left(panel, qtbot, test_set):
    x_test, _ = test_set
    panel.set_network(_net("sigmoid").params, "sigmoid")
    panel.set_sample(x_test[2])  # no label: the prediction is the target
    _choose(panel, "Sigmoid1")
    panel.setFocus()
    assert panel.step == 0
    qtbot.keyClick(panel, Qt.Key.Key_Right)
    graph = panel.findChild(ChainRuleGraph, "primitiveGraph")
    assert panel.step == 1 and graph.active == "op3"
    table = panel.findChild(QTableWidget, "nodeTraceTable")
    assert [i.row() for i in table.selectionModel().selectedRows()] == [3]
    qtbot.keyClick(panel, Qt.Key.Key_Right)
    qtbot.keyClick(panel, Qt.Key.Key_Left)
    assert panel.step == 1
    callout = graph.picture.node("op3").callout[0]
    assert "upstream" in callout and "downstream" in callout


def test_new_weights_update_the_trace(panel, test_set):
    x_test, t_test = test_set
    net = _net("sigmoid")
    panel.set_network(net.params, "sigmoid")
    panel.set_sample(x_test[3], int(t_test[3]))
    _choose(panel, "Affine2")
    before = panel.trace.ends["y"]
    params = net.copy_params()
    params["b2"] = params["b2"] + 1.0
    panel.set_network(params, "sigmoid")
    assert panel.trace.ends["y"] == pytest.approx(before + 1.0)
    # Hidden: only a copy is kept, traced when asked for.
    panel.hide()
    params["b2"] = params["b2"] + 1.0
    panel.set_network(params, "sigmoid")
    assert panel.trace.ends["y"] == pytest.approx(before + 2.0)
    # Switching to ReLU keeps the position in the network.
    _choose(panel, "Sigmoid1")
    panel.set_network(_net("relu").params, "relu")
    assert panel.layer == "Relu1"


def test_without_network_or_sample_it_says_so(panel):
    assert panel.trace is None
    assert "network" in panel.findChild(QLabel, "primitiveComparison").text()
    panel.set_network(_net("relu").params, "relu")
    assert "drawing" in panel.findChild(QLabel, "primitiveComparison").text()
    assert panel.findChild(QTableWidget, "nodeTraceTable").rowCount() == 0


def test_embeds_in_a_plain_widget(qtbot):
    host = QWidget()
    qtbot.addWidget(host)
    layout = QVBoxLayout(host)
    panel = PrimitiveLayerPanel(host)
    layout.addWidget(panel)
    panel.set_network(_net("relu").params, "relu")
    panel.set_sample(np.random.default_rng(0).uniform(0, 1, (28, 28)))
    host.resize(1100, 720)
    host.show()
    assert host.findChild(PrimitiveLayerPanel, "primitiveLayerPanel") is panel
    assert panel.trace is not None and panel.trace.layer == "Affine1"
    image = host.grab()
    assert not image.isNull()
