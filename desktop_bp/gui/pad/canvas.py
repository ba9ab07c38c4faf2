"""The square ink canvas of the drawing pad: strokes as point lists, rendered like MNIST.

Ink is white on black, as in MNIST. Strokes are kept as lists of points in *unit* coordinates
(0..1 across the square), so they survive resizing, undo simply drops the last list, and the
image the network sees is rendered at a fixed size (:data:`ANALYSIS_SIDE`) whatever the size
of the widget on screen — prediction costs the same on a small laptop and a 4K monitor.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QImage,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QResizeEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from desktop_bp.gui import theme

#: Side in pixels of the grayscale image rendered for preprocessing (10x MNIST's 28).
ANALYSIS_SIDE = 280
#: Smallest side of the canvas on screen.
MIN_SIDE = 280
#: Pen width as a share of the canvas side. MNIST strokes are ~2.4 px in a 20 px box (12 %);
#: a digit drawn over ~70 % of the canvas then wants a pen of ~8 % of the side.
BRUSH_FRACTION = 0.08
# Mouse moves closer than this (in unit coordinates) to the last point add nothing.
_MIN_STEP = 0.5 / ANALYSIS_SIDE

Stroke = list[tuple[float, float]]


def stroke_path(stroke: Stroke, side: float) -> QPainterPath:
    """A smooth path through a stroke's points (unit coordinates) scaled to ``side`` pixels.

    Quadratic Bezier segments from midpoint to midpoint, with the recorded points as control
    points: the curve stays within the polyline's corners but has no kinks at them.
    """
    path = QPainterPath()
    points = [QPointF(x * side, y * side) for x, y in stroke]
    path.moveTo(points[0])
    if len(points) <= 2:
        for p in points[1:]:
            path.lineTo(p)
        return path
    for i in range(1, len(points) - 1):
        mid = (points[i] + points[i + 1]) / 2.0
        path.quadTo(points[i], mid)
    path.lineTo(points[-1])
    return path


def ink_pen(side: float, color: QColor | Qt.GlobalColor = Qt.GlobalColor.white) -> QPen:
    """The round brush for a canvas of ``side`` pixels."""
    pen = QPen(color, BRUSH_FRACTION * side)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    return pen


def paint_strokes(painter: QPainter, strokes: list[Stroke], side: float) -> None:
    """Draw ``strokes`` with the ink pen; a stroke of one point is a dot."""
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setPen(ink_pen(side))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    for stroke in strokes:
        if len(stroke) == 1:
            painter.drawPoint(QPointF(stroke[0][0] * side, stroke[0][1] * side))
        elif stroke:
            painter.drawPath(stroke_path(stroke, side))


def render_strokes(
    strokes: list[Stroke], side: int = ANALYSIS_SIDE, background: NDArray | None = None
) -> NDArray[np.uint8]:
    """Render strokes (unit coordinates) to a uint8 array of shape (side, side), ink 255.

    background : optional float image in [0, 1] (any square size, e.g. a loaded 28x28 MNIST
    digit), scaled to ``side`` (smoothly) under the strokes.
    """
    image = QImage(side, side, QImage.Format.Format_Grayscale8)
    image.fill(0)
    painter = QPainter(image)
    if background is not None:
        bg = background_image(background)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        painter.drawImage(QRectF(0, 0, side, side), bg)
    paint_strokes(painter, strokes, side)
    painter.end()
    return qimage_to_array(image)


def qimage_to_array(image: QImage) -> NDArray[np.uint8]:
    """Copy a Format_Grayscale8 QImage into a (height, width) uint8 array (rows are padded
    to 4 bytes in the QImage, hence the bytesPerLine view)."""
    h, w, stride = image.height(), image.width(), image.bytesPerLine()
    buffer = np.frombuffer(image.constBits(), dtype=np.uint8, count=h * stride)
    return buffer.reshape(h, stride)[:, :w].copy()


def background_image(values: NDArray) -> QImage:
    """A Format_Grayscale8 QImage of a float (H, W) image in [0, 1]; owns its data."""
    data = np.ascontiguousarray(np.clip(values, 0.0, 1.0) * 255.0 + 0.5, dtype=np.float64)
    data = data.astype(np.uint8)
    h, w = data.shape
    return QImage(data.tobytes(), w, h, w, QImage.Format.Format_Grayscale8).copy()


class DrawingCanvas(QWidget):
    """Square canvas: left-drag draws, right-click clears. Emits ``changed`` on every edit.

    The square is the largest that fits, centred; points are stored in unit coordinates of
    that square.
    """

    changed = Signal()
    #: A stroke was finished (mouse released): the moment to predict without delay.
    strokeFinished = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("drawingCanvas")
        self.setMinimumSize(MIN_SIDE, MIN_SIDE)
        policy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.setToolTip("Draw a digit: left-drag draws · right-click or Esc clears · Ctrl+Z undoes")
        self.strokes: list[Stroke] = []
        self._current: Stroke | None = None
        self._background: NDArray | None = None  # a loaded 28x28 image, floats in [0, 1]
        self._background_qimage: QImage | None = None
        self._cache: QImage | None = None  # finished strokes at screen resolution

    # -- geometry ---------------------------------------------------------------------------
    def sizeHint(self) -> QSize:
        return QSize(MIN_SIDE + 40, MIN_SIDE + 40)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return width

    def square(self) -> QRectF:
        """The drawing square in widget coordinates."""
        side = float(min(self.width(), self.height()))
        return QRectF((self.width() - side) / 2.0, (self.height() - side) / 2.0, side, side)

    def _to_unit(self, pos: QPointF) -> tuple[float, float]:
        sq = self.square()
        # Clamped: a drag that leaves the canvas keeps drawing along its edge.
        x = min(max((pos.x() - sq.x()) / sq.width(), 0.0), 1.0)
        y = min(max((pos.y() - sq.y()) / sq.height(), 0.0), 1.0)
        return x, y

    # -- content ----------------------------------------------------------------------------
    def is_empty(self) -> bool:
        return not self.strokes and self._current is None and self._background is None

    def has_strokes(self) -> bool:
        return bool(self.strokes) or self._current is not None

    @property
    def background(self) -> NDArray | None:
        """The loaded image under the strokes (float (H, W) in [0, 1]), or None."""
        return self._background

    def all_strokes(self) -> list[Stroke]:
        """The finished strokes plus the one being drawn."""
        return [*self.strokes, self._current] if self._current else list(self.strokes)

    def clear(self) -> None:
        """Remove all strokes and any loaded image."""
        if self.is_empty():
            return
        self.strokes = []
        self._current = None
        self._background = None
        self._background_qimage = None
        self._invalidate()

    def undo(self) -> bool:
        """Remove the last stroke; False when there was none (a loaded image stays)."""
        if self._current is not None:
            self._current = None
        elif self.strokes:
            self.strokes.pop()
        else:
            return False
        self._invalidate()
        return True

    def set_background(self, image: NDArray | None) -> None:
        """Show ``image`` (float (H, W) in [0, 1], ink bright) under the strokes, which are
        cleared."""
        self.strokes = []
        self._current = None
        self._background = None if image is None else np.array(image, dtype=np.float32)
        self._background_qimage = None if image is None else background_image(image)
        self._invalidate()

    def render_array(self, side: int = ANALYSIS_SIDE) -> NDArray[np.uint8]:
        """The canvas as the network's preprocessing gets it: uint8 (side, side), ink 255."""
        return render_strokes(self.all_strokes(), side, self._background)

    def _invalidate(self) -> None:
        self._cache = None
        self.update()
        self.changed.emit()

    # -- painting ---------------------------------------------------------------------------
    def resizeEvent(self, event: QResizeEvent) -> None:
        self._cache = None
        super().resizeEvent(event)

    def _finished_image(self, side: int) -> QImage:
        """The loaded image and the finished strokes at screen resolution, cached: while a
        stroke is drawn only that stroke is painted anew."""
        ratio = self.devicePixelRatioF()
        pixels = max(1, round(side * ratio))
        if self._cache is None or self._cache.width() != pixels:
            image = QImage(pixels, pixels, QImage.Format.Format_Grayscale8)
            image.fill(0)
            painter = QPainter(image)
            if self._background_qimage is not None:
                # Nearest-neighbour: a loaded 28x28 digit shows its real pixels.
                painter.drawImage(QRectF(0, 0, pixels, pixels), self._background_qimage)
            paint_strokes(painter, self.strokes, pixels)
            painter.end()
            image.setDevicePixelRatio(ratio)
            self._cache = image
        return self._cache

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(theme.WINDOW))
        sq = self.square()
        painter.drawImage(sq.topLeft(), self._finished_image(round(sq.width())))
        if self._current:
            painter.translate(sq.topLeft())
            paint_strokes(painter, [self._current], sq.width())
            painter.resetTransform()
        if self.is_empty():
            painter.setPen(QColor(theme.MUTED))
            painter.drawText(sq, Qt.AlignmentFlag.AlignCenter, "Draw a digit here")
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        painter.setPen(QPen(QColor(theme.BORDER), 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(sq.adjusted(0, 0, -1, -1))
        painter.end()

    # -- mouse ------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._current = [self._to_unit(event.position())]
            self.update()
            self.changed.emit()
        elif event.button() == Qt.MouseButton.RightButton:
            self.clear()
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._current is None or not event.buttons() & Qt.MouseButton.LeftButton:
            return
        point = self._to_unit(event.position())
        last = self._current[-1]
        if abs(point[0] - last[0]) + abs(point[1] - last[1]) < _MIN_STEP:
            return
        self._current.append(point)
        self.update()
        self.changed.emit()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self._current is None:
            return
        stroke = self._current
        self.strokes.append(stroke)
        self._current = None
        if self._cache is not None:  # add just this stroke to the cached finished ones
            painter = QPainter(self._cache)
            paint_strokes(painter, [stroke], self._cache.width() / self._cache.devicePixelRatio())
            painter.end()
        self.update()
        self.changed.emit()
        self.strokeFinished.emit()
