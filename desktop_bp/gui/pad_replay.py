"""Replay recorded pen trajectories onto the drawing canvas through real mouse events.

Used by ``benchmarks/pendigits_accuracy.py`` and the GUI tests to measure the pad on real
handwriting: the UCI "Pen-Based Recognition of Handwritten Digits" set (Alpaydin & Alimoglu;
CC BY 4.0) records each digit as 8 (x, y) points, resampled at equal arc length, each
coordinate in 0..100 with y pointing up. Pen-up moves are not recorded, so the 8 points are one
polyline. Each axis was scaled to 0..100 on its own, so the aspect ratio is lost; we restore a
typical one (width:height 0.6) and draw the digit over the middle 70 % of the canvas height.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import pairwise

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QWidget

HEIGHT_FRACTION = 0.7
ASPECT = 0.6  # width : height
#: Distance in pixels between consecutive mouse-move events along a segment: a hand moving
#: the mouse steadily reports a few pixels per event.
STEP_PX = 4.0


def parse_pendigits(lines: Iterable[str]) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Points (n, 8, 2) as (x, y) in 0..100, y up, and labels (n,) from pendigits lines.

    A line holds 16 comma-separated integers then the label, either as one integer or as a
    one-hot string of 10 characters (the index of the '1' is the digit). Lines starting with
    '#' are comments.
    """
    points, labels = [], []
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue  # blank lines and comments (a sample file's licence note)
        fields = line.strip().split(",")
        if len(fields) != 17:
            raise ValueError(f"line {number}: expected 17 fields, got {len(fields)}")
        points.append([float(v) for v in fields[:16]])
        label = fields[16].strip()
        labels.append(label.index("1") if len(label) == 10 else int(label))
    return np.array(points).reshape(-1, 8, 2), np.array(labels, dtype=np.int64)


def fit_to_square(
    points: NDArray, left: float, top: float, side: float
) -> list[tuple[float, float]]:
    """Map (8, 2) pendigits points (0..100, y up) into a square canvas region at
    (left, top) of ``side`` pixels: y flipped, centred, height 70 %, width 0.6 x height."""
    height = HEIGHT_FRACTION * side
    width = ASPECT * height
    x0 = left + (side - width) / 2.0
    y0 = top + (side - height) / 2.0
    return [(x0 + x / 100.0 * width, y0 + (1.0 - y / 100.0) * height) for x, y in points]


def densify(points: Sequence[tuple[float, float]], step: float = STEP_PX) -> list[QPointF]:
    """The polyline through ``points`` with a point at least every ``step`` pixels."""
    out = [QPointF(*points[0])]
    for (ax, ay), (bx, by) in pairwise(points):
        n = max(1, int(np.ceil(np.hypot(bx - ax, by - ay) / step)))
        out.extend(QPointF(ax + (bx - ax) * k / n, ay + (by - ay) * k / n) for k in range(1, n + 1))
    return out


def _send(widget: QWidget, kind: QEvent.Type, pos: QPointF) -> None:
    left = Qt.MouseButton.LeftButton
    button = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseMove else left
    buttons = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseButtonRelease else left
    event = QMouseEvent(
        kind, pos, widget.mapToGlobal(pos), button, buttons, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(widget, event)


def replay_polyline(widget: QWidget, points: Sequence[QPointF]) -> None:
    """Press the left button at the first point, move through the rest, release at the last:
    the same QMouseEvents a mouse delivers to ``widget``."""
    _send(widget, QEvent.Type.MouseButtonPress, points[0])
    for p in points[1:]:
        _send(widget, QEvent.Type.MouseMove, p)
    _send(widget, QEvent.Type.MouseButtonRelease, points[-1])


def replay_pendigit(canvas: QWidget, points: NDArray, step: float = STEP_PX) -> None:
    """Draw one pendigits sample (8, 2) on a :class:`~desktop_bp.gui.pad_canvas.DrawingCanvas`
    (anything with ``square()``) as one stroke of mouse events."""
    square = canvas.square()
    path = fit_to_square(points, square.x(), square.y(), square.width())
    replay_polyline(canvas, densify(path, step))
