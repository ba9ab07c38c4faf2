"""Stepping a graph node by node, alike in every view that does it (the Backward pass tab, the
layer opened into primitive nodes, the Chain rule sandbox): a Prev/Next button pair and the
Left/Right arrow keys."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QPushButton


def step_buttons(
    prefix: str, step_prev: Callable[[], None], step_next: Callable[[], None]
) -> tuple[QPushButton, QPushButton]:
    """ "◀ Prev" and "Next ▶" (objectNames ``<prefix>PrevButton``, ``<prefix>NextButton``)."""
    prev_button = QPushButton("◀  Prev", objectName=f"{prefix}PrevButton")
    prev_button.clicked.connect(step_prev)
    next_button = QPushButton("Next  ▶", objectName=f"{prefix}NextButton")
    next_button.clicked.connect(step_next)
    return prev_button, next_button


def arrow_step(
    event: QKeyEvent, step_prev: Callable[[], None], step_next: Callable[[], None]
) -> bool:
    """Left steps back, Right forward; True when ``event`` was one of them (handled)."""
    if event.key() == Qt.Key.Key_Right:
        step_next()
    elif event.key() == Qt.Key.Key_Left:
        step_prev()
    else:
        return False
    return True
