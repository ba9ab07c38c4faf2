"""Colour maps and small QPainter helpers shared by the insight views.

Everything is drawn with QPainter into images made by numpy, not with one widget per cell:
a 50-unit mosaic or a 10x10 matrix is one QImage and a handful of text calls, so redrawing
several times a second costs well under a millisecond of Python.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen

from desktop_bp.gui import theme

#: Gradient arrows and "backward" accents: the chapter draws the backward pass in red.
BACKWARD = "#ff7a59"
#: Forward arrows and "forward" accents.
FORWARD = "#7fb6ff"
GOOD = "#5cc98a"
BAD = "#e05d5d"
GAP = "#111318"


def _ramp(anchors: list[tuple[float, str]], size: int = 256) -> NDArray[np.uint8]:
    """A (size, 3) uint8 lookup table interpolating the anchor colours (position in [0, 1])."""
    positions = np.array([p for p, _ in anchors])
    colours = np.array([QColor(c).getRgb()[:3] for _, c in anchors], dtype=np.float64)
    x = np.linspace(0.0, 1.0, size)
    return np.stack([np.interp(x, positions, colours[:, i]) for i in range(3)], axis=1).astype(
        np.uint8
    )


#: Signed values: blue below zero, orange above, and zero the plot background — so small
#: weights fade into the page and only what matters stands out (a dark-centred diverging map).
DIVERGING = _ramp(
    [
        (0.0, "#b5e3ff"),
        (0.18, "#3f9bff"),
        (0.42, "#1d3f73"),
        (0.5, theme.PLOT_BG),
        (0.58, "#7a3414"),
        (0.82, "#ff7a33"),
        (1.0, "#ffe3b0"),
    ]
)
#: Pixel intensities in [0, 1]: MNIST's white digit on a dark page.
GRAY = _ramp([(0.0, theme.PLOT_BG), (1.0, "#ffffff")])


def image_shape(n: int) -> tuple[int, int]:
    """(height, width) to show a vector of ``n`` values as a picture: 784 → (28, 28).

    The most nearly square factorisation, so 50 becomes 5 x 10 and a prime stays one row.
    """
    side = math.isqrt(n)
    for height in range(side, 0, -1):
        if n % height == 0:
            return height, n // height
    return 1, n


def symmetric_limit(values: NDArray) -> float:
    """max |values|, never 0 (an all-zero array maps to the centre colour)."""
    if values.size == 0:
        return 1.0
    limit = float(np.max(np.abs(values)))
    return limit if limit > 0 and math.isfinite(limit) else 1.0


def colorize(values: NDArray, lut: NDArray[np.uint8], low: float, high: float) -> NDArray[np.uint8]:
    """Map ``values`` (any shape) linearly from [low, high] onto ``lut``; shape + (3,).

    NaN maps to the middle colour. float32 arithmetic and ``np.take``: this runs for every
    mosaic refresh during training.
    """
    top = lut.shape[0] - 1
    span = high - low if high > low else 1.0
    scaled = np.asarray(values, dtype=np.float32) - np.float32(low)
    scaled *= np.float32(top / span)
    np.clip(scaled, 0, top, out=scaled)
    nan = np.isnan(scaled)
    if nan.any():  # NaN survives clip and would cast to garbage
        scaled[nan] = top // 2
    return np.take(lut, scaled.astype(np.intp), axis=0)


def signed_rgb(values: NDArray, limit: float | None = None) -> NDArray[np.uint8]:
    """Diverging colours for signed ``values``, symmetric around 0 (±limit)."""
    limit = symmetric_limit(values) if limit is None else limit
    return colorize(values, DIVERGING, -limit, limit)


def to_qimage(rgb: NDArray[np.uint8]) -> QImage:
    """A QImage owning a copy of an (h, w, 3) uint8 array."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    height, width = rgb.shape[:2]
    image = QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888)
    return image.copy()  # the QImage above only borrows numpy's memory


def font(base: QFont, *, scale: float = 1.0, bold: bool = False) -> QFont:
    f = QFont(base)
    if scale != 1.0:
        f.setPointSizeF(max(6.0, f.pointSizeF() * scale))
    f.setBold(bold)
    return f


def draw_image(
    painter: QPainter, target: QRectF, image: QImage, *, border: str | None = None
) -> None:
    """Nearest-neighbour scaled (pixels stay square and crisp), optional 1 px border."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
    painter.drawImage(target, image)
    if border is not None:
        painter.setPen(QPen(QColor(border), 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(target.adjusted(-0.5, -0.5, 0.5, 0.5))
    painter.restore()


def fit_rect(bounds: QRectF, aspect: float) -> QRectF:
    """The largest rectangle of width/height ``aspect`` centred in ``bounds``."""
    width, height = bounds.width(), bounds.height()
    if width <= 0 or height <= 0:
        return QRectF(bounds.topLeft(), bounds.topLeft())
    if width / height > aspect:
        width = height * aspect
    else:
        height = width / aspect
    return QRectF(bounds.center().x() - width / 2, bounds.center().y() - height / 2, width, height)


def draw_bars(
    painter: QPainter,
    rect: QRectF,
    values: NDArray,
    *,
    labels: list[str] | None = None,
    limit: float | None = None,
    signed: bool = True,
    highlight: int | None = None,
    colour: str = FORWARD,
    negative: str | None = None,
) -> None:
    """Vertical bars, one per value, with category labels underneath.

    ``signed``: bars grow up and down from a zero line at mid-height (scale ±limit);
    otherwise from the bottom (scale 0..limit). ``highlight`` gets a light outline.
    """
    values = np.asarray(values, dtype=np.float64)
    n = values.size
    if n == 0 or rect.width() <= 0:
        return
    painter.save()
    label_height = painter.fontMetrics().height() + 2 if labels else 0
    plot = QRectF(rect.left(), rect.top(), rect.width(), rect.height() - label_height)
    limit = (symmetric_limit(values) if limit is None else limit) or 1.0
    zero_y = plot.center().y() if signed else plot.bottom()
    half = plot.height() / 2 if signed else plot.height()
    slot = plot.width() / n
    bar_width = max(2.0, slot * 0.7)
    painter.setPen(QPen(QColor(theme.GRID), 1))
    painter.drawLine(QPointF(plot.left(), zero_y), QPointF(plot.right(), zero_y))
    negative = negative or colour
    for i, value in enumerate(values):
        x = plot.left() + slot * i + (slot - bar_width) / 2
        height = float(np.clip(value / limit, -1, 1)) * half if math.isfinite(value) else 0.0
        bar = QRectF(x, zero_y - max(height, 0), bar_width, abs(height))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(colour if value >= 0 else negative))
        painter.drawRect(bar)
        if i == highlight:
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(QPen(QColor("#ffffff"), 1.2))
            painter.drawRect(
                QRectF(x - 2, plot.top(), bar_width + 4, plot.height()).adjusted(0, 0, 0, -1)
            )
    if labels:
        painter.setPen(QColor(theme.AXIS_TEXT))
        for i, text in enumerate(labels):
            cell = QRectF(plot.left() + slot * i, plot.bottom() + 2, slot, label_height)
            if i == highlight:
                painter.setPen(QColor("#ffffff"))
            painter.drawText(cell, Qt.AlignmentFlag.AlignCenter, text)
            if i == highlight:
                painter.setPen(QColor(theme.AXIS_TEXT))
    painter.restore()


def draw_colorbar(
    painter: QPainter, rect: QRectF, lut: NDArray[np.uint8], low: str, high: str, middle: str = ""
) -> None:
    """A horizontal colour bar with end labels (text left of, right of and under it)."""
    painter.save()
    metrics = painter.fontMetrics()
    low_width = metrics.horizontalAdvance(low) + 6
    high_width = metrics.horizontalAdvance(high) + 6
    bar = QRectF(
        rect.left() + low_width, rect.top(), rect.width() - low_width - high_width, rect.height()
    )
    strip = to_qimage(lut[None, :, :])
    draw_image(painter, bar, strip, border=theme.BORDER)
    painter.setPen(QColor(theme.AXIS_TEXT))
    painter.drawText(
        QRectF(rect.left(), rect.top(), low_width - 4, rect.height()),
        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
        low,
    )
    painter.drawText(
        QRectF(bar.right() + 4, rect.top(), high_width, rect.height()),
        Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
        high,
    )
    if middle:
        painter.drawText(bar, Qt.AlignmentFlag.AlignCenter, middle)
    painter.restore()


def format_number(value: float, digits: int = 3) -> str:
    """Compact: 0.0123 → '0.0123', 1.2e-05 → '1.20e-05', 12345 → '1.23e+04'."""
    if not math.isfinite(value):
        return "nan" if math.isnan(value) else ("∞" if value > 0 else "−∞")
    magnitude = abs(value)
    if magnitude != 0 and (magnitude < 1e-3 or magnitude >= 1e4):
        text = f"{value:.{digits - 1}e}"
    else:
        text = f"{value:.{digits}g}" if magnitude >= 1 else f"{value:.{digits}f}".rstrip("0")
        if text.endswith("."):
            text += "0"
    return text.replace("-", "−")


def format_seconds(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.0f} µs"


_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def format_power(value: float) -> str:
    """1e-06 → '10⁻⁶' (for thresholds that are powers of ten), else 1.2e-06."""
    exponent = math.log10(value) if value > 0 else math.nan
    if math.isfinite(exponent) and exponent == round(exponent):
        return "10" + str(round(exponent)).translate(_SUPERSCRIPT)
    return f"{value:.1e}"
