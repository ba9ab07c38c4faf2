"""Replay recorded pen trajectories onto the drawing canvas through real mouse events.

Used by ``benchmarks/handwriting_accuracy.py`` and the GUI tests to measure the pad on real
handwriting: the UCI "Pen-Based Recognition of Handwritten Digits" set (Alpaydin & Alimoglu;
CC BY 4.0) records each digit as 8 (x, y) points, resampled at equal arc length, each
coordinate in 0..100 with y pointing up. Pen-up moves are not recorded, so the 8 points are one
polyline. Each axis was scaled to 0..100 on its own, so the aspect ratio is lost; we restore a
typical one (width:height 0.6) and draw the digit over the middle 70 % of the canvas height.

The UJI Pen Characters v2 set (Llorens et al., LREC 2008; CC BY 4.0) keeps what pendigits
lost: every pen-down stroke apart, at full tablet resolution, with the writer's own aspect
ratio (y pointing down, as on screen). :func:`parse_uji` reads it, :func:`fit_strokes_to_square`
scales each sample by its own bounding box, and :func:`replay_strokes` draws it stroke by
stroke, a press, moves and a release each, as a person with a mouse would.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from itertools import pairwise

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QWidget

HEIGHT_FRACTION = 0.7
ASPECT = 0.6  # width : height
#: A sample with its own aspect ratio is drawn HEIGHT_FRACTION of the side tall, but no wider
#: than this share of the side (a wide "-"-like 7 or 2 is then scaled by its width): a person
#: leaves a margin on either side too.
MAX_WIDTH_FRACTION = 0.8
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
    """Draw one pendigits sample (8, 2) on a :class:`~desktop_bp.gui.pad.canvas.DrawingCanvas`
    (anything with ``square()``) as one stroke of mouse events."""
    square = canvas.square()
    path = fit_to_square(points, square.x(), square.y(), square.width())
    replay_polyline(canvas, densify(path, step))


# -- UJI Pen Characters: strokes with pen-ups ---------------------------------------------------
#: One UJI sample: (digit, writer id such as "W01", strokes each (n, 2) float x, y; y down).
UjiSample = tuple[int, str, list[NDArray[np.float64]]]

_WRITER = re.compile(r"(W\d+)")


def _uji_error(number: int, line: str, problem: str) -> ValueError:
    text = line.strip()
    shown = text if len(text) <= 60 else text[:57] + "..."
    return ValueError(f"line {number}: {problem}: {shown!r}")


def _uji_word(number: int, line: str) -> tuple[int, str]:
    """(digit, writer) from ``WORD <digit> <name>`` where the name holds the writer, W01."""
    fields = line.split()
    if len(fields) != 3 or not fields[1].isdigit() or len(fields[1]) != 1:
        raise _uji_error(number, line, "expected 'WORD <digit 0-9> <sample name>'")
    writer = _WRITER.search(fields[2])
    if writer is None:
        raise _uji_error(number, line, "no writer id (like W01) in the sample name")
    return int(fields[1]), writer.group(1)


def _uji_count(number: int, line: str) -> int:
    """k from ``NUMSTROKES k`` (k >= 1)."""
    fields = line.split()
    if len(fields) != 2 or fields[0] != "NUMSTROKES" or not fields[1].isdigit():
        raise _uji_error(number, line, "expected 'NUMSTROKES <count>'")
    if int(fields[1]) < 1:
        raise _uji_error(number, line, "a sample needs at least one stroke")
    return int(fields[1])


def _uji_points(number: int, line: str) -> NDArray[np.float64]:
    """The (n, 2) x, y points of ``POINTS n # x1 y1 x2 y2 ...``."""
    fields = line.split()
    if len(fields) < 3 or fields[0] != "POINTS" or fields[2] != "#" or not fields[1].isdigit():
        raise _uji_error(number, line, "expected 'POINTS <n> # x1 y1 x2 y2 ...'")
    n = int(fields[1])
    if n < 1 or len(fields) - 3 != 2 * n:
        raise _uji_error(number, line, f"POINTS {n} needs {2 * n} numbers, got {len(fields) - 3}")
    try:
        values = np.array([float(v) for v in fields[3:]])
    except ValueError:
        raise _uji_error(number, line, "coordinates must be numbers") from None
    if not np.all(np.isfinite(values)):
        raise _uji_error(number, line, "coordinates must be finite")
    return values.reshape(n, 2)


def parse_uji(lines: Iterable[str]) -> list[UjiSample]:
    """The samples of a UJI Pen Characters (v2) file, in file order.

    The format, one sample after another (indentation optional)::

        WORD 7 trn_UJI_W01-01          the digit, then the sample name holding the writer
          NUMSTROKES 2                 how many pen-down strokes follow
          POINTS 36 # 299 352 ...      one line per stroke: n, '#', then n (x, y) pairs
          POINTS 13 # 530 754 ...

    Coordinates are tablet units, x to the right and y pointing down. Blank lines and lines
    starting with '#' are skipped (a sample file's licence note). Returns a list of
    (digit, writer such as "W01", strokes) with each stroke a float (n, 2) array of x, y.
    Raises ValueError naming the line number for malformed input, including a sample with
    fewer or more POINTS lines than its NUMSTROKES and a file that ends inside a sample.
    """
    samples: list[UjiSample] = []
    # What must come next: "sample" (WORD, or the end), "count" (NUMSTROKES) or "points";
    # ``missing`` counts the POINTS lines the current sample still lacks.
    wanted, missing, word_line = "sample", 0, 0
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        keyword = text.split(maxsplit=1)[0]
        if keyword == "WORD" and wanted == "sample":
            samples.append((*_uji_word(number, text), []))
            wanted, word_line = "count", number
        elif keyword == "NUMSTROKES" and wanted == "count":
            wanted, missing = "points", _uji_count(number, text)
        elif keyword == "POINTS" and wanted == "points":
            samples[-1][2].append(_uji_points(number, text))
            missing -= 1
            wanted = "points" if missing else "sample"
        elif wanted == "points":
            raise _uji_error(number, line, f"{missing} more POINTS line(s) expected")
        elif wanted == "count":
            raise _uji_error(number, line, "expected 'NUMSTROKES <count>' after WORD")
        else:
            raise _uji_error(number, line, "expected 'WORD <digit> <sample name>'")
    if wanted != "sample":
        raise ValueError(f"line {word_line}: the sample starting here is incomplete at the end")
    return samples


def fit_strokes_to_square(
    strokes: Sequence[NDArray], left: float, top: float, side: float
) -> list[NDArray[np.float64]]:
    """Map strokes (each (n, 2) x, y, y down, any units) into the square of ``side`` pixels at
    (left, top), all by one scale: the bounding box of all points becomes HEIGHT_FRACTION of
    the side tall, unless it would then be wider than MAX_WIDTH_FRACTION of the side (then the
    width sets the scale); the aspect ratio is kept and the box centred. Returns the strokes
    as (n, 2) float arrays in widget pixels.

    A box without height (a perfectly vertical "1" has no width, a "-" no height) is scaled by
    the extent it has; a single dot is put at the centre.
    """
    arrays = [np.asarray(s, dtype=np.float64).reshape(-1, 2) for s in strokes]
    every = np.concatenate(arrays)
    low, high = every.min(axis=0), every.max(axis=0)
    width, height = high - low
    limits = []  # the scale each constraint allows; a zero extent constrains nothing
    if height > 0:
        limits.append(HEIGHT_FRACTION * side / height)
    if width > 0:
        limits.append(MAX_WIDTH_FRACTION * side / width)
    scale = min(limits, default=0.0)
    centre = np.array([left + side / 2.0, top + side / 2.0])
    middle = (low + high) / 2.0
    return [centre + (a - middle) * scale for a in arrays]


def replay_strokes(canvas: QWidget, strokes: Sequence[NDArray], step: float = STEP_PX) -> None:
    """Draw one multi-stroke sample (strokes each (n, 2) x, y, y down) on a
    :class:`~desktop_bp.gui.pad.canvas.DrawingCanvas` (anything with ``square()``), fitted by
    :func:`fit_strokes_to_square`: per stroke one press, moves at most ``step`` px apart along
    it, one release.

    A resting pen repeats a point; a mouse that does not move sends no event, so repeats are
    dropped (a stroke that never moves is a click: press and release, a dot).
    """
    square = canvas.square()
    for stroke in fit_strokes_to_square(strokes, square.x(), square.y(), square.width()):
        keep = np.ones(len(stroke), dtype=bool)
        keep[1:] = np.any(np.diff(stroke, axis=0) != 0.0, axis=1)
        points = [(float(x), float(y)) for x, y in stroke[keep]]
        replay_polyline(canvas, densify(points, step))
