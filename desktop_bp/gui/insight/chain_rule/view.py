"""The Chain rule tab: the book's shopping graphs (figures 5-16 and 5-17) to play with.

Chapter 5 teaches backprop on these before any layer: a multiplication node sends back the
upstream gradient times the *other* input, an addition node passes it on unchanged. The
sandbox lets the learner change prices, counts, tax and the upstream gradient and step the
backward pass node by node. The same nodes inside the live network's layers are in the
Backward pass tab (``layer_panel.py``).
"""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from desktop_bp.gui.insight.chain_rule.sandbox import ChainRuleSandbox
from desktop_bp.gui.tab import TabBase

_INTRO = (
    "Backprop is the chain rule run backwards: each node multiplies the gradient arriving from "
    "its right by its own local derivative and passes the product on to its left. A × node "
    "sends back the upstream gradient times its <i>other</i> input; a + node passes it on "
    "unchanged. Change the numbers and step with ◀ ▶ (or Left/Right). The same nodes inside "
    "the network's own layers (Sigmoid as × −1 → exp → + 1 → ÷) are at the bottom of the "
    "Backward pass tab."
)


class ChainRuleView(QWidget, TabBase):
    """The sandbox as a tab; it does not use the network or the data set."""

    tab_title = "Chain rule"
    tab_tooltip = "The book's apple and orange graphs: forward values and gradients, node by node"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chainRuleView")
        intro = QLabel(_INTRO, objectName="chainRuleIntro")
        intro.setWordWrap(True)
        self.sandbox = ChainRuleSandbox()
        card = QFrame(objectName="card")
        inner = QVBoxLayout(card)
        inner.setContentsMargins(14, 12, 14, 12)
        inner.addWidget(intro)
        inner.addWidget(self.sandbox, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(card)
        # Left/Right step the graph as soon as the tab is shown (the window focuses the view).
        self.setFocusProxy(self.sandbox.graph)

    def set_network(self, params, activation: str = "relu") -> None:
        """The shopping graphs do not depend on the network."""
