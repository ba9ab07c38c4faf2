"""The Evaluation tab's gallery of mistakes: the misread test images as thumbnails with
"true → predicted" and the confidence."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QSizePolicy,
    QWidget,
)

from desktop_bp.gui import theme
from desktop_bp.gui.insight._paint import (
    BAD,
    GOOD,
    GRAY,
    colorize,
    draw_image,
    font,
    image_shape,
    to_qimage,
)

#: Most images the gallery draws at once (the rest are counted in its title).
from desktop_bp.gui.insight.evaluation.confusion_matrix import percent


class MistakeGallery(QWidget):
    """Thumbnails with "true → predicted" and the confidence, laid out to the width.

    Signal ``tileClicked(int)``: the position of the clicked thumbnail.
    """

    tileClicked = Signal(int)

    ZOOM = 2
    PAD = 8

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mistakeGallery")
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)
        self.images: list[QImage] = []
        self.true: NDArray = np.zeros(0, np.int64)
        self.predicted: NDArray = np.zeros(0, np.int64)
        self.confidence: NDArray = np.zeros(0)
        self.indices: NDArray = np.zeros(0, np.int64)
        self.hovered: int | None = None
        self.empty_text = ""
        self._tile = QSize(0, 0)
        self._image_size = QSize(0, 0)

    def set_items(
        self,
        images: NDArray,
        true: NDArray,
        predicted: NDArray,
        confidence: NDArray,
        indices: NDArray,
        *,
        empty_text: str = "",
    ) -> None:
        """images (k, n_pixels) in [0, 1]; the other arrays (k,)."""
        self.images = []
        self.empty_text = empty_text
        h, w = image_shape(images.shape[1]) if images.ndim == 2 and images.shape[1] else (28, 28)
        if len(images):
            rgb = colorize(images.reshape(len(images), h, w), GRAY, 0.0, 1.0)
            self.images = [to_qimage(tile) for tile in rgb]
        self.true, self.predicted = np.asarray(true), np.asarray(predicted)
        self.confidence, self.indices = np.asarray(confidence), np.asarray(indices)
        self._image_size = QSize(w * self.ZOOM, h * self.ZOOM)
        line = self.fontMetrics().height()
        self._tile = QSize(max(w * self.ZOOM, 60) + 14, h * self.ZOOM + 2 * line + 12)
        self.hovered = None
        self._update_height()
        self.update()

    def count(self) -> int:
        return len(self.images)

    def _columns(self) -> int:
        if self._tile.width() <= 0:
            return 1
        return max(1, int((self.width() - 2 * self.PAD) // self._tile.width()))

    def _update_height(self) -> None:
        rows = math.ceil(len(self.images) / self._columns()) if self.images else 0
        self.setMinimumHeight(max(120, rows * self._tile.height() + 2 * self.PAD))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._update_height()

    def tile_rect(self, position: int) -> QRectF:
        """Thumbnail ``position``'s tile in widget coordinates."""
        row, col = divmod(position, self._columns())
        return QRectF(
            self.PAD + col * self._tile.width(),
            self.PAD + row * self._tile.height(),
            self._tile.width(),
            self._tile.height(),
        )

    def position_at(self, pos: QPointF) -> int | None:
        if not self.images:
            return None
        col = int((pos.x() - self.PAD) // self._tile.width())
        row = int((pos.y() - self.PAD) // self._tile.height())
        if not 0 <= col < self._columns() or row < 0:
            return None
        position = row * self._columns() + col
        return position if position < len(self.images) else None

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(theme.PLOT_BG))
        if not self.images:
            painter.setPen(QColor(theme.MUTED))
            painter.drawText(
                self.rect().adjusted(10, 10, -10, -10),
                Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                self.empty_text,
            )
            painter.end()
            return
        base = self.font()
        bold = font(base, bold=True)
        small = font(base, scale=0.88)
        line = self.fontMetrics().height()
        visible = event.rect()
        for position, image in enumerate(self.images):
            tile = self.tile_rect(position)
            if not tile.intersects(QRectF(visible)):
                continue
            true, predicted = int(self.true[position]), int(self.predicted[position])
            correct = true == predicted
            inner = tile.adjusted(3, 3, -3, -3)
            if position == self.hovered:
                painter.setPen(QPen(QColor(theme.ACCENT), 1.5))
                painter.setBrush(QColor("#262a33"))
                painter.drawRoundedRect(inner, 5, 5)
            target = QRectF(
                inner.center().x() - self._image_size.width() / 2,
                inner.top() + 4,
                self._image_size.width(),
                self._image_size.height(),
            )
            draw_image(painter, target, image, border=GOOD if correct else BAD)
            text_top = target.bottom() + 3
            painter.setFont(bold)
            painter.setPen(QColor(theme.TEXT))
            painter.drawText(
                QRectF(inner.left(), text_top, inner.width(), line),
                Qt.AlignmentFlag.AlignCenter,
                f"{true} → {predicted}" if not correct else f"{true} ✔",
            )
            painter.setFont(small)
            painter.setPen(QColor(BAD if not correct else theme.AXIS_TEXT))
            painter.drawText(
                QRectF(inner.left(), text_top + line, inner.width(), line),
                Qt.AlignmentFlag.AlignCenter,
                percent(float(self.confidence[position])) + " sure",
            )
        painter.end()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        position = self.position_at(event.position())
        if position != self.hovered:
            self.hovered = position
            self.update()
            if position is None:
                self.setToolTip("")
            else:
                self.setToolTip(
                    f"test image #{int(self.indices[position])}: true "
                    f"{int(self.true[position])}, predicted {int(self.predicted[position])} "
                    f"({100 * float(self.confidence[position]):.1f} %)\n"
                    "Click to load it into the drawing pad."
                )

    def leaveEvent(self, event) -> None:
        if self.hovered is not None:
            self.hovered = None
            self.update()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        position = self.position_at(event.position())
        if position is not None and event.button() == Qt.MouseButton.LeftButton:
            self.tileClicked.emit(position)
