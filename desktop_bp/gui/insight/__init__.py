"""Inside backprop: self-contained views the main window shows as tabs, one room per tab.

- :class:`GradientCheckView` (``gradient_check/``): backprop against the numerical gradient.
- :class:`BackwardInspectorView` (``backward_pass/``): one sample through the computational
  graph, forward and backward, node by node.
- :class:`HiddenUnitsView` (``hidden_units/``): W1's columns as 28x28 images, live.
- :class:`EvaluationView` (``evaluation/``): confusion matrix and a gallery of mistakes.
- :class:`ChainRuleView` (``chain_rule/``): the book's shopping graphs, editable; the same room
  holds the panel that opens a layer of the live network into its primitive nodes (shown in
  the Backward pass tab).

Each takes the network through ``set_network(params, activation)`` (copied) and, where it needs
images, the test set through ``set_data(x, t)``. Importing this package imports Qt.
"""

from __future__ import annotations

from desktop_bp.gui.insight.backward_pass.view import BackwardInspectorView
from desktop_bp.gui.insight.chain_rule.view import ChainRuleView
from desktop_bp.gui.insight.evaluation.view import EvaluationView
from desktop_bp.gui.insight.gradient_check.view import GradientCheckView
from desktop_bp.gui.insight.hidden_units.view import HiddenUnitsView

__all__ = [
    "BackwardInspectorView",
    "ChainRuleView",
    "EvaluationView",
    "GradientCheckView",
    "HiddenUnitsView",
]
