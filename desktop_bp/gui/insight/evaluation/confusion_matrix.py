"""The Evaluation tab's confusion matrix: true digit × predicted digit, each row's accuracy
beside it; a click selects a cell (and its mistakes)."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
)
from PySide6.QtWidgets import (
    QSizePolicy,
    QWidget,
)

from desktop_bp.gui import theme
from desktop_bp.gui.insight._paint import (
    BAD,
    GOOD,
    font,
)

#: Most images the gallery draws at once (the rest are counted in its title).


def blend(a: str, b: str, amount: float) -> QColor:
    """``a`` moved ``amount`` (0..1) of the way to ``b``."""
    ca, cb = QColor(a), QColor(b)
    amount = min(max(amount, 0.0), 1.0)
    return QColor(
        round(ca.red() + (cb.red() - ca.red()) * amount),
        round(ca.green() + (cb.green() - ca.green()) * amount),
        round(ca.blue() + (cb.blue() - ca.blue()) * amount),
    )


def percent(share: float) -> str:
    """0.93 → '93 %'; never rounds a probability below 1 up to '100 %'."""
    if share >= 0.995:
        return f"{min(100 * share, 99.9):.1f} %" if share < 1 else "100 %"
    return f"{100 * share:.0f} %"


class ConfusionMatrixWidget(QWidget):
    """Rows: true label; columns: predicted label; beside each row its accuracy.

    Diagonal cells are green by the share of the class they hold, off-diagonal ones red —
    scaled up five-fold, since even a 5 % confusion matters. Signal ``cellClicked(true, pred)``.
    """

    cellClicked = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("confusionMatrix")
        self.setMouseTracking(True)
        self.setMinimumSize(440, 400)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        self.matrix: NDArray | None = None
        self.accuracy: NDArray | None = None
        self.selected: tuple[int, int] | None = None
        self.hovered: tuple[int, int] | None = None

    def sizeHint(self) -> QSize:
        return QSize(560, 520)

    def set_matrix(self, matrix: NDArray | None, accuracy: NDArray | None) -> None:
        self.matrix, self.accuracy = matrix, accuracy
        self.update()

    def set_selected(self, cell: tuple[int, int] | None) -> None:
        self.selected = cell
        self.update()

    # -- geometry ----------------------------------------------------------------------------
    def _geometry(self) -> tuple[QRectF, float, QRectF]:
        """(cell area, cell size, accuracy column)."""
        n = 10 if self.matrix is None else self.matrix.shape[0]
        metrics = self.fontMetrics()
        left = 8 + metrics.height() + 6 + metrics.horizontalAdvance("00") + 8
        top = 6 + metrics.height() + 4 + metrics.height() + 6
        accuracy_width = 110.0
        available_w = self.width() - left - accuracy_width - 12
        available_h = self.height() - top - 10
        cell = max(8.0, min(available_w, available_h) / n)
        area = QRectF(left, top, cell * n, cell * n)
        column = QRectF(area.right() + 12, top, accuracy_width - 10, cell * n)
        return area, cell, column

    def cell_rect(self, true: int, predicted: int) -> QRectF:
        """Cell (true, predicted) in widget coordinates."""
        area, cell, _ = self._geometry()
        return QRectF(area.left() + predicted * cell, area.top() + true * cell, cell, cell)

    def cell_at(self, pos: QPointF) -> tuple[int, int] | None:
        if self.matrix is None:
            return None
        area, cell, _ = self._geometry()
        if not area.contains(pos):
            return None
        n = self.matrix.shape[0]
        col = min(int((pos.x() - area.left()) // cell), n - 1)
        row = min(int((pos.y() - area.top()) // cell), n - 1)
        return row, col

    # -- painting ----------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor(theme.PLOT_BG))
        if self.matrix is None:
            painter.setPen(QColor(theme.MUTED))
            painter.drawText(
                self.rect(),
                Qt.AlignmentFlag.AlignCenter,
                "No evaluation yet: train or load a network, then evaluate the test set.",
            )
            painter.end()
            return
        m = self.matrix
        n = m.shape[0]
        base = self.font()
        area, cell, column = self._geometry()
        metrics = painter.fontMetrics()
        rows = m.sum(axis=1).astype(np.float64)
        # Axis titles.
        painter.setPen(QColor(theme.MUTED))
        painter.drawText(
            QRectF(area.left(), 6, area.width(), metrics.height()),
            Qt.AlignmentFlag.AlignCenter,
            "predicted label →",
        )
        painter.save()
        painter.translate(8 + metrics.height(), area.center().y())
        painter.rotate(-90)
        painter.drawText(
            QRectF(-area.height() / 2, -metrics.height(), area.height(), metrics.height()),
            Qt.AlignmentFlag.AlignCenter,
            "← true label",
        )
        painter.restore()
        painter.drawText(
            QRectF(column.left(), 6, column.width(), metrics.height()),
            Qt.AlignmentFlag.AlignLeft,
            "class accuracy",
        )
        # Tick labels.
        painter.setPen(QColor(theme.AXIS_TEXT))
        label_top = area.top() - metrics.height() - 4
        for i in range(n):
            painter.drawText(
                QRectF(area.left() + i * cell, label_top, cell, metrics.height()),
                Qt.AlignmentFlag.AlignCenter,
                str(i),
            )
            painter.drawText(
                QRectF(area.left() - 30, area.top() + i * cell, 24, cell),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                str(i),
            )
        # Cells.
        count_font = font(base, scale=0.95 if cell >= 40 else 0.8)
        painter.setFont(count_font)
        for i in range(n):
            for j in range(n):
                count = int(m[i, j])
                share = count / rows[i] if rows[i] else 0.0
                if i == j:
                    colour = blend(theme.CARD, "#2e9e5e", 0.25 + 0.75 * share)
                elif count:
                    colour = blend(theme.CARD, "#d9483b", 0.18 + 0.82 * min(1.0, 5 * share))
                else:
                    colour = QColor(theme.CARD)
                rect = self.cell_rect(i, j).adjusted(1, 1, -1, -1)
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(colour)
                painter.drawRoundedRect(rect, 3, 3)
                if count:
                    painter.setPen(QColor("#ffffff" if i == j or share > 0.02 else theme.TEXT))
                    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, str(count))
        for cell_ij, colour, width in (
            (self.hovered, "#ffffff", 1.2),
            (self.selected, theme.ACCENT, 2.5),
        ):
            if cell_ij is not None:
                painter.setPen(QPen(QColor(colour), width))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRoundedRect(self.cell_rect(*cell_ij).adjusted(0, 0, 0, 0), 3, 3)
        # Per-class accuracy bars.
        painter.setFont(font(base, scale=0.9))
        if self.accuracy is not None:
            for i in range(n):
                acc = float(self.accuracy[i])
                row_rect = QRectF(column.left(), area.top() + i * cell, column.width(), cell)
                bar_h = min(cell * 0.55, 18.0)
                track = QRectF(
                    row_rect.left(), row_rect.center().y() - bar_h / 2, row_rect.width(), bar_h
                )
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(QColor(theme.CARD))
                painter.drawRoundedRect(track, 3, 3)
                if math.isfinite(acc):
                    # 80 % .. 100 % spans the bar: the differences that matter are up there.
                    share = min(max((acc - 0.8) / 0.2, 0.0), 1.0)
                    fill = QRectF(track.left(), track.top(), track.width() * share, bar_h)
                    painter.setBrush(blend(BAD, GOOD, share))
                    painter.drawRoundedRect(fill, 3, 3)
                painter.setPen(QColor(theme.TEXT))
                painter.drawText(
                    track.adjusted(6, 0, -4, 0),
                    Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                    f"{100 * acc:.1f} %" if math.isfinite(acc) else "–",
                )
            painter.setPen(QColor(theme.MUTED))
            painter.drawText(
                QRectF(column.left(), area.bottom() + 2, column.width(), metrics.height()),
                Qt.AlignmentFlag.AlignLeft,
                "bar: 80 – 100 %",
            )
        self._draw_top_confusions(painter, area)
        painter.end()

    def top_confusions(self, count: int = 6) -> list[tuple[int, int, int]]:
        """The ``count`` largest off-diagonal cells as (true, predicted, images)."""
        if self.matrix is None:
            return []
        off = self.matrix.astype(np.int64).copy()
        np.fill_diagonal(off, 0)
        order = np.argsort(-off, axis=None, kind="stable")[:count]
        n = off.shape[0]
        return [(int(i // n), int(i % n), int(off.flat[i])) for i in order if off.flat[i] > 0]

    def _chip_rects(self, area: QRectF) -> list[tuple[QRectF, tuple[int, int, int]]]:
        """Where the "most confused" chips go, below the matrix (empty when no room)."""
        metrics = self.fontMetrics()
        top = area.bottom() + metrics.height() + 20
        height = metrics.height() + 10
        if top + 2 * height > self.height():
            return []
        rects = []
        x = area.left()
        for entry in self.top_confusions():
            width = metrics.horizontalAdvance(f"{entry[0]} → {entry[1]}   ×{entry[2]}") + 22
            if x + width > self.width() - 8:
                break
            rects.append((QRectF(x, top + metrics.height() + 6, width, height), entry))
            x += width + 8
        return rects

    def _draw_top_confusions(self, painter: QPainter, area: QRectF) -> None:
        chips = self._chip_rects(area)
        if not chips:
            return
        painter.setFont(self.font())
        metrics = painter.fontMetrics()
        painter.setPen(QColor(theme.MUTED))
        first = chips[0][0]
        header = QRectF(
            area.left(),
            first.top() - metrics.height() - 6,
            self.width() - area.left() - 8,
            metrics.height(),
        )
        painter.drawText(
            header,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            metrics.elidedText(
                "Most frequent confusions (true → predicted) — click one:",
                Qt.TextElideMode.ElideRight,
                int(header.width()),
            ),
        )
        for rect, (true, predicted, count) in chips:
            selected = self.selected == (true, predicted)
            painter.setPen(QPen(QColor(theme.ACCENT if selected else theme.BORDER), 1.5))
            painter.setBrush(QColor("#3a2327"))
            painter.drawRoundedRect(rect, rect.height() / 2, rect.height() / 2)
            painter.setPen(QColor(theme.TEXT))
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, f"{true} → {predicted}   ×{count}")

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        cell = self.cell_at(event.position())
        if cell != self.hovered:
            self.hovered = cell
            self.update()
            if cell is not None and self.matrix is not None:
                count = int(self.matrix[cell])
                what = "correct" if cell[0] == cell[1] else f"predicted as {cell[1]}"
                self.setToolTip(f"{count} test images of {cell[0]} {what} — click to see them")
            else:
                self.setToolTip("")

    def leaveEvent(self, event) -> None:
        if self.hovered is not None:
            self.hovered = None
            self.update()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        cell = self.cell_at(event.position())
        if cell is None:
            for rect, (true, predicted, _) in self._chip_rects(self._geometry()[0]):
                if rect.contains(event.position()):
                    cell = (true, predicted)
        if cell is not None:
            self.cellClicked.emit(*cell)
