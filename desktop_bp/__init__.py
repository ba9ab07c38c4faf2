"""Desktop BP: train a network of hand-written layers and watch backpropagation work."""

from __future__ import annotations

__version__ = "0.1.0"
