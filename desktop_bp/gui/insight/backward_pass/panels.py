"""The four detail panels under the graph: one array each, painted as a heat map (long
vectors, the 784-wide ones as 28x28 images), bars (short ones) or one number (the loss)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import (
    QColor,
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
    BACKWARD,
    FORWARD,
    GRAY,
    colorize,
    draw_bars,
    draw_image,
    fit_rect,
    font,
    format_number,
    signed_rgb,
    to_qimage,
)
from desktop_bp.gui.insight.backward_pass.steps import BAR_LIMIT, grid_shape, stats_text


# == the panels below the graph ===============================================================
@dataclass
class PanelContent:
    """What one detail panel shows.

    style : "pixels" (values in [0, 1] as a grey image), "signed" (diverging heat map or
            bars), "probabilities" (bars on 0..1), "scalar" (one big number).
    """

    title: str
    values: NDArray | None
    style: str = "signed"
    accent: str = FORWARD
    highlight: int | None = None
    blocked: NDArray | None = None
    placeholder: str = ""
    note: str = ""


class VectorPanel(QWidget):
    """Draws one array: heat map for long vectors, bars for short ones, a number for scalars."""

    def __init__(self, object_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        self.content: PanelContent | None = None
        self.setMinimumSize(150, 150)  # four side by side fit a 1024-pixel-wide window
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_content(self, content: PanelContent | None) -> None:
        self.content = content
        self.setToolTip(
            "" if content is None or content.values is None else stats_text(content.values)
        )
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor(theme.PLOT_BG))
        content = self.content
        if content is None:
            painter.end()
            return
        base = self.font()
        rect = QRectF(self.rect()).adjusted(10, 8, -10, -8)
        painter.setFont(font(base, bold=True))
        metrics = painter.fontMetrics()
        line = metrics.height()
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(content.accent))
        painter.drawRoundedRect(QRectF(rect.left(), rect.top() + 3, 4, line - 6), 2, 2)
        painter.setPen(QColor(theme.TEXT))
        painter.drawText(
            QRectF(rect.left() + 10, rect.top(), rect.width() - 10, line),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            metrics.elidedText(content.title, Qt.TextElideMode.ElideRight, int(rect.width())),
        )
        painter.setFont(base)
        small = font(base, scale=0.88)
        painter.setFont(small)
        stats_line = painter.fontMetrics().height()
        body = QRectF(
            rect.left(), rect.top() + line + 8, rect.width(), rect.height() - line - stats_line - 16
        )
        if content.values is None:
            painter.setPen(QColor(theme.MUTED))
            painter.drawText(
                body, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, content.placeholder
            )
            painter.end()
            return
        values = np.asarray(content.values, dtype=np.float64)
        if values.ndim == 0 or content.style == "scalar":
            painter.setFont(font(base, scale=2.2, bold=True))
            painter.setPen(QColor(content.accent))
            painter.drawText(body, Qt.AlignmentFlag.AlignCenter, format_number(float(values), 4))
        elif values.size <= BAR_LIMIT:
            painter.setFont(small)
            probabilities = content.style == "probabilities"
            draw_bars(
                painter,
                body.adjusted(4, 4, -4, 0),
                values,
                labels=[str(i) for i in range(values.size)],
                limit=1.0 if probabilities else None,
                signed=not probabilities,
                highlight=content.highlight,
                colour=content.accent if probabilities else BACKWARD,
                negative=FORWARD,
            )
        else:
            self._draw_grid(painter, body, values, content)
        painter.setFont(small)
        painter.setPen(QColor(theme.AXIS_TEXT))
        stats = content.note or stats_text(values)
        painter.drawText(
            QRectF(rect.left(), rect.bottom() - stats_line, rect.width(), stats_line),
            Qt.AlignmentFlag.AlignCenter,
            painter.fontMetrics().elidedText(stats, Qt.TextElideMode.ElideRight, int(rect.width())),
        )
        painter.end()

    @staticmethod
    def _draw_grid(painter: QPainter, body: QRectF, values: NDArray, content: PanelContent) -> None:
        h, w = grid_shape(values.size)
        grid = values.reshape(h, w)
        if content.style == "pixels":
            rgb = colorize(grid, GRAY, 0.0, max(1.0, float(grid.max())))
        else:
            rgb = signed_rgb(grid)
        target = fit_rect(body, w / h)
        draw_image(painter, target, to_qimage(rgb), border=theme.BORDER)
        if content.blocked is not None and w * h == content.blocked.size:
            painter.setPen(QPen(QColor(theme.MUTED), 1))
            cell_w, cell_h = target.width() / w, target.height() / h
            inset = min(cell_w, cell_h) * 0.3
            for index in np.flatnonzero(content.blocked.ravel()):
                row, col = divmod(int(index), w)
                cell = QRectF(
                    target.left() + col * cell_w, target.top() + row * cell_h, cell_w, cell_h
                ).adjusted(inset, inset, -inset, -inset)
                painter.drawLine(cell.topLeft(), cell.bottomRight())
                painter.drawLine(cell.topRight(), cell.bottomLeft())
