"""Inside backprop: self-contained views the main window shows as tabs.

- :class:`GradientCheckView` (``gradcheck_view``): backprop against the numerical gradient.
- :class:`BackwardInspectorView` (``inspector_view``): one sample through the computational
  graph, forward and backward, node by node.
- :class:`HiddenUnitsView` (``hidden_units_view``): W1's columns as 28x28 images, live.
- :class:`EvaluationView` (``evaluation_view``): confusion matrix and a gallery of mistakes.

Each takes the network through ``set_network(params, activation)`` (copied) and, where it needs
images, the test set through ``set_data(x, t)``. Importing this package imports Qt.
"""

from __future__ import annotations

from desktop_bp.gui.insight.evaluation_view import EvaluationView
from desktop_bp.gui.insight.gradcheck_view import GradientCheckView
from desktop_bp.gui.insight.hidden_units_view import HiddenUnitsView
from desktop_bp.gui.insight.inspector_view import BackwardInspectorView

__all__ = ["BackwardInspectorView", "EvaluationView", "GradientCheckView", "HiddenUnitsView"]
