"""Chain rule sandbox: the book's shopping graphs (figures 5-16 and 5-17) with editable inputs.

Two apples at 100 each with a tax of 1.1 cost 220; backward from ∂price/∂price = 1, the ×
nodes swap their inputs and the + node passes the gradient on, giving ∂price/∂apple = 2.2,
∂/∂(apple count) = 110 and ∂/∂tax = 200 — with three oranges at 150 the price is 715 and the
gradients 2.2, 110, 3.3, 165 and 650. Every number comes from
:func:`desktop_bp.core.primitive_graphs.buy_apple` / ``buy_apple_orange`` (``MulLayer`` and
``AddLayer``); editing an input or the upstream gradient recomputes and redraws.

API: :meth:`set_graph` ("apple" or "apple_orange"), :meth:`reset` (the book's numbers),
property ``shopping`` (the current :class:`~desktop_bp.core.primitive_graphs.Shopping`).
Signal ``shoppingChanged()``. Children: ``sandboxGraphCombo``, the spin boxes
``sandboxApple``, ``sandboxAppleNum``, ``sandboxOrange``, ``sandboxOrangeNum``, ``sandboxTax``,
``sandboxUpstream``, ``sandboxGraph`` (a :class:`ChainRuleGraph`), ``sandboxResult``,
``sandboxPrevButton``, ``sandboxNextButton``, ``sandboxResetButton``.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_bp.core.primitive_graphs import Shopping, buy_apple, buy_apple_orange
from desktop_bp.gui.insight._paint import BACKWARD, FORWARD, font
from desktop_bp.gui.insight._stepping import step_buttons
from desktop_bp.gui.insight.chain_rule.graph import (
    ChainRuleGraph,
    GraphEdge,
    GraphNode,
    GraphPicture,
    value_text,
)

APPLE, APPLE_ORANGE = "apple", "apple_orange"
#: name → (label, minimum, maximum, decimals, the book's value)
INPUTS = {
    "apple": ("apple price", 0.0, 1e5, 2, 100.0),
    "apple_num": ("apples", 0.0, 1e4, 2, 2.0),
    "orange": ("orange price", 0.0, 1e5, 2, 150.0),
    "orange_num": ("oranges", 0.0, 1e4, 2, 3.0),
    "tax": ("tax", 0.0, 100.0, 3, 1.1),
    "dprice": ("∂L/∂price", -1e4, 1e4, 3, 1.0),
}
_OBJECT_NAMES = {
    "apple": "sandboxApple",
    "apple_num": "sandboxAppleNum",
    "orange": "sandboxOrange",
    "orange_num": "sandboxOrangeNum",
    "tax": "sandboxTax",
    "dprice": "sandboxUpstream",
}
#: How each value is named on the graph.
_LABELS = {
    "apple": "apple",
    "apple_num": "apple count",
    "orange": "orange",
    "orange_num": "orange count",
    "tax": "tax",
    "price": "price",
}


def _v(value: float) -> str:
    return value_text(value, 6)


def _mul_callout(shop: Shopping, left: str, right: str, out: str) -> tuple[str, ...]:
    """× swaps its inputs: each input's gradient is upstream x the other input."""
    up = shop.grads[out]
    lv, rv = shop.values[left], shop.values[right]
    return (
        f"× swaps its inputs: ∂/∂{_LABELS.get(left, left)} = upstream {_v(up)} × {_v(rv)} "
        f"= {_v(shop.grads[left])}",
        f"∂/∂{_LABELS.get(right, right)} = upstream {_v(up)} × {_v(lv)} = {_v(shop.grads[right])}",
    )


def _edge(shop: Shopping, src: str, dst: str, value: str) -> GraphEdge:
    return GraphEdge(src, dst, _v(shop.values[value]), _v(shop.grads[value]))


def apple_picture(shop: Shopping) -> GraphPicture:
    """Figure 5-16: apple x count → x tax → price."""
    nodes = (
        GraphNode("apple", "apple", 0, 0, op=False),
        GraphNode("apple_num", "apple count", 0, 1, op=False),
        GraphNode(
            "mul_apple", "×", 1, 0, callout=_mul_callout(shop, "apple", "apple_num", "apple_price")
        ),
        GraphNode("tax", "tax", 1, 1, op=False),
        GraphNode("mul_tax", "×", 2, 0, callout=_mul_callout(shop, "apple_price", "tax", "price")),
        GraphNode("price", "price", 3, 0, op=False),
    )
    edges = (
        _edge(shop, "apple", "mul_apple", "apple"),
        _edge(shop, "apple_num", "mul_apple", "apple_num"),
        _edge(shop, "mul_apple", "mul_tax", "apple_price"),
        _edge(shop, "tax", "mul_tax", "tax"),
        _edge(shop, "mul_tax", "price", "price"),
    )
    return GraphPicture(nodes, edges, ("mul_apple", "mul_tax"))


def apple_orange_picture(shop: Shopping) -> GraphPicture:
    """Figure 5-17: (apple x count) + (orange x count) → x tax → price."""
    up = shop.grads["all_price"]
    add_callout = (
        f"+ passes the gradient on unchanged: ∂/∂(apples' price) = upstream {_v(up)} × 1 = "
        f"{_v(shop.grads['apple_price'])}",
        f"∂/∂(oranges' price) = upstream {_v(up)} × 1 = {_v(shop.grads['orange_price'])}",
    )
    nodes = (
        GraphNode("apple", "apple", 0, 0, op=False),
        GraphNode("apple_num", "apple count", 0, 1, op=False),
        GraphNode("orange", "orange", 0, 2, op=False),
        GraphNode("orange_num", "orange count", 0, 3, op=False),
        GraphNode(
            "mul_apple",
            "×",
            1,
            0.5,
            callout=_mul_callout(shop, "apple", "apple_num", "apple_price"),
        ),
        GraphNode(
            "mul_orange",
            "×",
            1,
            2.5,
            callout=_mul_callout(shop, "orange", "orange_num", "orange_price"),
        ),
        GraphNode("add", "+", 2, 1.5, callout=add_callout),
        GraphNode("tax", "tax", 2, 3, op=False),
        GraphNode("mul_tax", "×", 3, 1.5, callout=_mul_callout(shop, "all_price", "tax", "price")),
        GraphNode("price", "price", 4, 1.5, op=False),
    )
    edges = (
        _edge(shop, "apple", "mul_apple", "apple"),
        _edge(shop, "apple_num", "mul_apple", "apple_num"),
        _edge(shop, "orange", "mul_orange", "orange"),
        _edge(shop, "orange_num", "mul_orange", "orange_num"),
        _edge(shop, "mul_apple", "add", "apple_price"),
        _edge(shop, "mul_orange", "add", "orange_price"),
        _edge(shop, "add", "mul_tax", "all_price"),
        _edge(shop, "tax", "mul_tax", "tax"),
        _edge(shop, "mul_tax", "price", "price"),
    )
    return GraphPicture(nodes, edges, ("mul_apple", "mul_orange", "add", "mul_tax"))


class ChainRuleSandbox(QWidget):
    """The book's shopping graphs, editable (module docstring)."""

    shoppingChanged = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chainRuleSandbox")
        self._kind = APPLE
        self._shopping = buy_apple()
        self._build()
        self._recompute()

    def _build(self) -> None:
        title = QLabel("Chain rule sandbox", objectName="cardTitle")
        title.setFont(font(self.font(), scale=1.15, bold=True))
        self.graph_combo = QComboBox(objectName="sandboxGraphCombo")
        self.graph_combo.addItem("Apples (figure 5-16)", APPLE)
        self.graph_combo.addItem("Apples and oranges (figure 5-17)", APPLE_ORANGE)
        self.graph_combo.activated.connect(self._on_graph_chosen)
        self.reset_button = QPushButton("Book's numbers", objectName="sandboxResetButton")
        self.reset_button.clicked.connect(self.reset)
        header = QHBoxLayout()
        header.addWidget(title)
        header.addSpacing(8)
        header.addWidget(self.graph_combo)
        header.addStretch(1)
        header.addWidget(self.reset_button)

        self.spins: dict[str, QDoubleSpinBox] = {}
        self._spin_labels: dict[str, QLabel] = {}
        inputs = QGridLayout()
        inputs.setHorizontalSpacing(8)
        for index, (key, (label, low, high, decimals, value)) in enumerate(INPUTS.items()):
            spin = QDoubleSpinBox(objectName=_OBJECT_NAMES[key])
            spin.setRange(low, high)
            spin.setDecimals(decimals)
            spin.setValue(value)
            spin.setKeyboardTracking(False)
            spin.valueChanged.connect(self._recompute)
            name = QLabel(label)
            colour = BACKWARD if key == "dprice" else FORWARD
            name.setStyleSheet(f"color: {colour};")
            self.spins[key], self._spin_labels[key] = spin, name
            spin.setMinimumWidth(110)
            spin.setMaximumWidth(150)
            inputs.addWidget(name, 0, index)
            inputs.addWidget(spin, 1, index)
        inputs.setColumnStretch(len(INPUTS), 1)
        self.spins["dprice"].setToolTip(
            "The gradient arriving at price from the right (1 when price is the final output)"
        )

        self.graph = ChainRuleGraph(object_name="sandboxGraph")
        self.graph.setMinimumHeight(300)
        self.prev_button, self.next_button = step_buttons(
            "sandbox", self.graph.step_prev, self.graph.step_next
        )
        self.graph.stepChanged.connect(self._update_buttons)
        self.result = QLabel("", objectName="sandboxResult")
        self.result.setWordWrap(True)
        self.result.setTextFormat(Qt.TextFormat.RichText)
        steps = QHBoxLayout()
        steps.addWidget(self.result, 1)
        steps.addWidget(self.prev_button)
        steps.addWidget(self.next_button)

        card = QFrame(objectName="card")
        inner = QVBoxLayout(card)
        inner.setContentsMargins(14, 12, 14, 12)
        inner.setSpacing(8)
        inner.addLayout(header)
        inner.addLayout(inputs)
        inner.addWidget(self.graph, 1)
        inner.addLayout(steps)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(card)

    # -- public API ----------------------------------------------------------------------------
    @property
    def shopping(self) -> Shopping:
        return self._shopping

    @property
    def kind(self) -> str:
        return self._kind

    def set_graph(self, kind: str) -> None:
        """Show the apple graph ("apple") or the apple-and-orange graph ("apple_orange")."""
        if kind not in (APPLE, APPLE_ORANGE):
            raise ValueError(f"kind must be {APPLE!r} or {APPLE_ORANGE!r}, got {kind!r}")
        self._kind = kind
        self.graph_combo.setCurrentIndex(self.graph_combo.findData(kind))
        self._recompute()

    @Slot()
    def reset(self) -> None:
        """Back to the book's numbers (100, 2, 150, 3, 1.1 and an upstream gradient of 1)."""
        for key, spin in self.spins.items():
            spin.blockSignals(True)
            spin.setValue(INPUTS[key][4])
            spin.blockSignals(False)
        self._recompute()

    # -- internals -----------------------------------------------------------------------------
    @Slot(int)
    def _on_graph_chosen(self, position: int) -> None:
        self.set_graph(self.graph_combo.itemData(position))

    @Slot()
    def _recompute(self) -> None:
        v = {key: spin.value() for key, spin in self.spins.items()}
        oranges = self._kind == APPLE_ORANGE
        for key in ("orange", "orange_num"):
            self.spins[key].setVisible(oranges)
            self._spin_labels[key].setVisible(oranges)
        if oranges:
            self._shopping = buy_apple_orange(
                v["apple"], v["apple_num"], v["orange"], v["orange_num"], v["tax"], v["dprice"]
            )
            picture = apple_orange_picture(self._shopping)
            inputs = ("apple", "apple_num", "orange", "orange_num", "tax")
        else:
            self._shopping = buy_apple(v["apple"], v["apple_num"], v["tax"], v["dprice"])
            picture = apple_picture(self._shopping)
            inputs = ("apple", "apple_num", "tax")
        self.graph.set_picture(picture)
        shop = self._shopping
        grads = " · ".join(f"∂L/∂{_LABELS[key]} = <b>{_v(shop.grads[key])}</b>" for key in inputs)
        self.result.setText(
            f"<span style='color:{FORWARD}'>price = <b>{_v(shop.values['price'])}</b></span>"
            f" &nbsp; <span style='color:{BACKWARD}'>{grads}</span>"
        )
        self._update_buttons()
        self.shoppingChanged.emit()

    @Slot()
    def _update_buttons(self) -> None:
        picture = self.graph.picture
        steps = len(picture.order) if picture is not None else 0
        self.prev_button.setEnabled(self.graph.step > 0)
        self.next_button.setEnabled(self.graph.step < steps)
