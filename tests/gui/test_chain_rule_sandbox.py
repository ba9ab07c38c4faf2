"""The chain rule sandbox shows the book's shopping numbers and follows edited inputs."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QLabel, QWidget

from desktop_bp.gui.insight.chain_rule.graph import (
    ChainRuleGraph,
    backward_visible,
)
from desktop_bp.gui.insight.chain_rule.sandbox import ChainRuleSandbox


@pytest.fixture
def sandbox(qtbot):
    widget = ChainRuleSandbox()
    qtbot.addWidget(widget)
    widget.resize(1000, 560)
    widget.show()
    return widget


def _graph(widget) -> ChainRuleGraph:
    return widget.findChild(ChainRuleGraph, "sandboxGraph")


def _arrow(widget, src, dst):
    return _graph(widget).picture.edge(src, dst)


def test_apple_graph_shows_the_books_numbers(sandbox):
    result = sandbox.findChild(QLabel, "sandboxResult").text()
    for text in ("price = <b>220</b>", "apple = <b>2.2</b>", "count = <b>110</b>"):
        assert text in result
    assert "tax = <b>200</b>" in result
    assert _arrow(sandbox, "mul_tax", "price").forward == "220"
    assert _arrow(sandbox, "mul_apple", "mul_tax").forward == "200"
    assert _arrow(sandbox, "apple", "mul_apple").backward == "2.2"
    assert _arrow(sandbox, "apple_num", "mul_apple").backward == "110"
    assert _arrow(sandbox, "tax", "mul_tax").backward == "200"
    assert sandbox.shopping.values["price"] == pytest.approx(220)


def test_apple_orange_graph_shows_the_books_numbers(sandbox):
    combo = sandbox.findChild(QComboBox, "sandboxGraphCombo")
    combo.setCurrentIndex(1)
    combo.activated.emit(1)
    assert sandbox.kind == "apple_orange"
    assert sandbox.findChild(QDoubleSpinBox, "sandboxOrange").isVisible()
    expected = {
        ("apple", "mul_apple"): "2.2",
        ("apple_num", "mul_apple"): "110",
        ("orange", "mul_orange"): "3.3",
        ("orange_num", "mul_orange"): "165",
        ("tax", "mul_tax"): "650",
    }
    for (src, dst), gradient in expected.items():
        assert _arrow(sandbox, src, dst).backward == gradient
    assert _arrow(sandbox, "mul_tax", "price").forward == "715"
    assert _arrow(sandbox, "add", "mul_tax").forward == "650"
    result = sandbox.findChild(QLabel, "sandboxResult").text()
    for text in ("715", "2.2", "110", "3.3", "165", "650"):
        assert f"<b>{text}</b>" in result


def test_editing_an_input_recomputes(sandbox, qtbot):
    with qtbot.waitSignal(sandbox.shoppingChanged):
        sandbox.findChild(QDoubleSpinBox, "sandboxAppleNum").setValue(3)
    assert _arrow(sandbox, "mul_tax", "price").forward == "330"
    assert _arrow(sandbox, "apple", "mul_apple").backward == "3.3"
    assert _arrow(sandbox, "tax", "mul_tax").backward == "300"
    sandbox.findChild(QDoubleSpinBox, "sandboxUpstream").setValue(2)
    assert _arrow(sandbox, "apple_num", "mul_apple").backward == "220"
    assert "<b>220</b>" in sandbox.findChild(QLabel, "sandboxResult").text()
    sandbox.reset()
    assert sandbox.shopping.values["price"] == pytest.approx(220)
    assert sandbox.findChild(QDoubleSpinBox, "sandboxAppleNum").value() == 2


def test_stepping_right_to_left_reveals_gradients(sandbox, qtbot):
    graph = _graph(sandbox)
    picture = graph.picture
    assert graph.step == 0 and graph.active is None
    assert not any(backward_visible(picture, e, 0) for e in picture.edges)
    graph.setFocus()
    qtbot.keyClick(graph, Qt.Key.Key_Right)
    assert graph.step == 1 and graph.active == "mul_tax"
    assert backward_visible(picture, picture.edge("tax", "mul_tax"), 1)
    assert not backward_visible(picture, picture.edge("apple", "mul_apple"), 1)
    qtbot.keyClick(graph, Qt.Key.Key_Right)
    assert graph.active == "mul_apple"
    assert not sandbox.findChild(QWidget, "sandboxNextButton").isEnabled()
    qtbot.keyClick(graph, Qt.Key.Key_Left)
    assert graph.step == 1
    # Editing keeps the step: same graph, new numbers.
    sandbox.findChild(QDoubleSpinBox, "sandboxTax").setValue(1.2)
    assert graph.step == 1
    # Clicking a node jumps to it.
    centre = graph.positions()["mul_apple"]
    qtbot.mouseClick(graph, Qt.MouseButton.LeftButton, pos=centre.toPoint())
    assert graph.active == "mul_apple"
    callout = graph.picture.node("mul_apple").callout
    assert "upstream 1.2 × 2 = 2.4" in callout[0]
