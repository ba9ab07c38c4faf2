"""Read-only views of the drawing pad: the 28x28 input (with saliency), the ten probability
bars, and the preprocessing stages. Each paints itself from numpy arrays it is handed."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from desktop_bp.gui import theme

# Saliency colours: red where more ink would raise the predicted digit's score, blue where it
# would lower it (a diverging map, symmetric about zero).
POSITIVE = np.array([239.0, 83.0, 80.0])
NEGATIVE = np.array([66.0, 145.0, 245.0])
BAR = QColor("#4a5060")
BAR_TOP = QColor(theme.ACCENT)
TRACK = QColor("#262a32")


def gray_to_rgb(image: NDArray) -> NDArray[np.float64]:
    """(H, W) floats in [0, 1] -> (H, W, 3) floats in [0, 255]."""
    return np.repeat(np.clip(image, 0.0, 1.0)[..., None] * 255.0, 3, axis=2)


def saliency_rgb(image: NDArray, gradient: NDArray) -> NDArray[np.float64]:
    """The input dimmed, under a red/blue map of ``gradient`` (both (28, 28)) whose opacity
    is |gradient| / max|gradient|: the strongest pixel fully coloured, zero transparent."""
    base = gray_to_rgb(image) * 0.45
    scale = float(np.abs(gradient).max())
    if scale <= 0.0:
        return base
    g = gradient / scale
    alpha = np.abs(g)[..., None]
    colour = np.where(g[..., None] >= 0, POSITIVE, NEGATIVE)
    return base * (1.0 - alpha) + colour * alpha


def rgb_qimage(rgb: NDArray) -> QImage:
    """(H, W, 3) floats in [0, 255] -> a QImage that owns its pixels."""
    data = np.ascontiguousarray(np.clip(rgb + 0.5, 0, 255).astype(np.uint8))
    h, w, _ = data.shape
    return QImage(data.tobytes(), w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def fit_rect(outer: QRectF, width: float, height: float) -> QRectF:
    """The largest rectangle of aspect width:height centred in ``outer``."""
    scale = min(outer.width() / max(width, 1e-9), outer.height() / max(height, 1e-9))
    w, h = width * scale, height * scale
    return QRectF(outer.center().x() - w / 2, outer.center().y() - h / 2, w, h)


class PixelView(QWidget):
    """A 28x28 image drawn large with square pixels (nearest neighbour) and a faint grid;
    optionally the saliency map over it."""

    #: Screen pixels per image pixel: 28 x 7 = 196 when there is room, down to
    #: ``MIN_CELL`` (28 x 5 = 140) in a small window.
    CELL = 7
    MIN_CELL = 5

    def __init__(self, object_name: str = "inputPreview", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        side = 28 * self.CELL + 2
        smallest = 28 * self.MIN_CELL + 2
        self.setMinimumSize(smallest, smallest)
        self.setMaximumSize(side, side)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self._side = side
        self._image: NDArray | None = None
        self._gradient: NDArray | None = None
        self._qimage: QImage | None = None

    def sizeHint(self) -> QSize:
        return QSize(self._side, self._side)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return width

    def set_image(self, image: NDArray | None, gradient: NDArray | None = None) -> None:
        """image : (28, 28) floats in [0, 1] or None (empty); gradient : same shape or None."""
        self._image = None if image is None else np.asarray(image, dtype=np.float64)
        self._gradient = None if gradient is None else np.asarray(gradient, dtype=np.float64)
        self._qimage = None
        if self._image is not None:
            rgb = (
                gray_to_rgb(self._image)
                if self._gradient is None
                else saliency_rgb(self._image, self._gradient.reshape(self._image.shape))
            )
            self._qimage = rgb_qimage(rgb)
        self.update()

    def image(self) -> NDArray | None:
        return None if self._image is None else self._image.copy()

    def showing_saliency(self) -> bool:
        return self._gradient is not None and self._image is not None

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        side = float(min(self.width(), self.height()))
        # Whole screen pixels per image pixel, so every cell is the same size.
        cells = 28 if self._image is None else self._image.shape[0]
        cell = max(1, int(side // cells))
        size = cell * cells
        left, top = (self.width() - size) // 2, (self.height() - size) // 2
        target = QRectF(left, top, size, size)
        painter.fillRect(target, QColor("#000000"))
        if self._qimage is not None:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
            painter.drawImage(target, self._qimage)
        else:
            painter.setPen(QColor(theme.MUTED))
            painter.drawText(target, Qt.AlignmentFlag.AlignCenter, "28 × 28\nempty")
        if cell >= 5:
            painter.setPen(QPen(QColor(255, 255, 255, 18), 1))
            for k in range(1, cells):
                painter.drawLine(left + k * cell, top, left + k * cell, top + size)
                painter.drawLine(left, top + k * cell, left + size, top + k * cell)
        painter.setPen(QPen(QColor(theme.BORDER), 1))
        painter.drawRect(target.adjusted(0, 0, -1, -1))
        painter.end()


class ProbabilityBars(QWidget):
    """Ten horizontal bars, one per digit, labelled with the digit and its probability; the
    predicted digit's bar in the accent colour."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("probabilityBars")
        self.setMinimumSize(160, 10 * 14)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self._probabilities: NDArray | None = None

    def sizeHint(self) -> QSize:
        return QSize(220, 10 * 22)

    def set_probabilities(self, probabilities: NDArray | None) -> None:
        """probabilities : (10,) summing to 1, or None (no prediction: empty tracks)."""
        self._probabilities = None if probabilities is None else np.asarray(probabilities)
        self.update()

    def probabilities(self) -> NDArray | None:
        return None if self._probabilities is None else self._probabilities.copy()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        probs = self._probabilities
        n = 10 if probs is None else probs.shape[0]
        best = -1 if probs is None else int(np.argmax(probs))
        font = QFont(self.font())
        metrics = painter.fontMetrics()
        label_w = metrics.horizontalAdvance("0") + 10
        value_w = metrics.horizontalAdvance("100.0 %") + 8
        row_h = self.height() / n
        bar_h = max(4.0, min(14.0, row_h * 0.55))
        track_w = max(10.0, self.width() - label_w - value_w)
        for k in range(n):
            y = k * row_h
            mid = y + row_h / 2
            font.setBold(k == best)
            painter.setFont(font)
            painter.setPen(QColor(theme.TEXT if k == best else theme.MUTED))
            painter.drawText(
                QRectF(0, y, label_w - 6, row_h),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                str(k),
            )
            track = QRectF(label_w, mid - bar_h / 2, track_w, bar_h)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(TRACK)
            painter.drawRoundedRect(track, 3, 3)
            if probs is not None:
                p = float(np.clip(probs[k], 0.0, 1.0))
                if p * track_w >= 1.0:
                    painter.setBrush(BAR_TOP if k == best else BAR)
                    painter.drawRoundedRect(QRectF(track.x(), track.y(), p * track_w, bar_h), 3, 3)
                painter.setPen(QColor(theme.TEXT if k == best else theme.MUTED))
                painter.drawText(
                    QRectF(label_w + track_w, y, value_w, row_h),
                    Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                    f"{100 * p:.1f} %",
                )
        painter.end()


class StagesView(QWidget):
    """The preprocessing stages side by side, each with its name underneath."""

    TILE = 76

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("stagesView")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._stages: list[tuple[str, QImage, bool]] = []
        self.setFixedHeight(self.TILE + 26)

    def sizeHint(self) -> QSize:
        return QSize(6 * (self.TILE + 10), self.TILE + 26)

    def set_stages(self, stages: dict[str, NDArray]) -> None:
        """stages : caption -> float image (H, W) in [0, 1], in pipeline order."""
        self._stages = [
            (name, rgb_qimage(gray_to_rgb(img)), max(img.shape) <= 32)
            for name, img in stages.items()
            if img.size
        ]
        self.update()

    def stage_names(self) -> list[str]:
        return [name for name, _, _ in self._stages]

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        if not self._stages:
            painter.setPen(QColor(theme.MUTED))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "Draw to see the stages")
            painter.end()
            return
        n = len(self._stages)
        gap = 10.0
        tile = min(float(self.TILE), (self.width() - gap * (n - 1)) / n)
        x = (self.width() - (n * tile + (n - 1) * gap)) / 2
        for k, (name, image, small) in enumerate(self._stages):
            box = QRectF(x + k * (tile + gap), 2, tile, tile)
            painter.fillRect(box, QColor("#000000"))
            # Small images show their pixels at one common scale (a 20 px digit looks 20/28
            # of a 28 px field); the canvas-sized ones are smoothed down to fit.
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, not small)
            if small:
                cell = tile / 28.0
                w, h = image.width() * cell, image.height() * cell
                target = QRectF(box.center().x() - w / 2, box.center().y() - h / 2, w, h)
            else:
                target = fit_rect(box, image.width(), image.height())
            painter.drawImage(target, image)
            painter.setPen(QPen(QColor(theme.BORDER), 1))
            painter.drawRect(box.adjusted(0, 0, -1, -1))
            painter.setPen(QColor(theme.MUTED))
            painter.drawText(
                QRectF(box.x() - gap / 2, box.bottom() + 3, tile + gap, 20),
                Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                name,
            )
            if k:
                painter.setPen(QColor(theme.GRID))
                painter.drawText(
                    QRectF(box.x() - gap, box.center().y() - 10, gap, 20),
                    Qt.AlignmentFlag.AlignCenter,
                    "›",
                )
        painter.end()
