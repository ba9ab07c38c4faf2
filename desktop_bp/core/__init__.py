"""The engine: numpy and the standard library only, never Qt.

Everything here can be imported, tested and benchmarked without a display; the GUI in
``desktop_bp.gui`` builds on it, never the reverse (``tests/core/test_no_qt.py`` proves it).
"""

from __future__ import annotations

from desktop_bp.core.functions import cross_entropy_error, numerical_gradient, sigmoid, softmax
from desktop_bp.core.layers import Affine, ReLU, Sigmoid, SoftmaxWithLoss
from desktop_bp.core.network import TwoLayerNet

__all__ = [
    "Affine",
    "ReLU",
    "Sigmoid",
    "SoftmaxWithLoss",
    "TwoLayerNet",
    "cross_entropy_error",
    "numerical_gradient",
    "sigmoid",
    "softmax",
]
