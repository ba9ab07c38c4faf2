"""The Gradient check tab's two charts: backprop against numerical timing (log-scale bars) and
the agreement of the two gradients (a pyqtgraph scatter, one colour per parameter)."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QSizePolicy,
    QWidget,
)

from desktop_bp.core.insight_gradcheck import (
    ParameterCheck,
)
from desktop_bp.core.network import PARAM_NAMES
from desktop_bp.gui import theme
from desktop_bp.gui.insight._paint import (
    font,
    format_seconds,
)

#: Returns the network to check now — (params, activation) — or None when there is none.


class TimingBars(QWidget):
    """Backprop's time and the numerical gradient's, as bars on one log-scale axis.

    A log axis is the only honest way to put 0.3 ms and 6 s side by side; the ratio is
    written out large beside the bars.
    """

    LOW, HIGH = 1e-5, 1e2  # axis range in seconds: 10 µs … 100 s

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("gradCheckTiming")
        self.backprop: float | None = None
        self.numerical: float | None = None
        self.numerical_final = False
        self.passes = 0
        self.setMinimumHeight(120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:
        return QSize(600, 130)

    def set_times(
        self, backprop: float | None, numerical: float | None, *, final: bool, passes: int
    ) -> None:
        self.backprop, self.numerical, self.numerical_final = backprop, numerical, final
        self.passes = passes
        self.update()

    def _x(self, axis: QRectF, seconds: float) -> float:
        span = math.log10(self.HIGH) - math.log10(self.LOW)
        pos = (math.log10(max(seconds, self.LOW)) - math.log10(self.LOW)) / span
        return axis.left() + axis.width() * min(max(pos, 0.0), 1.0)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor(theme.PLOT_BG))
        base = self.font()
        painter.setFont(base)
        metrics = painter.fontMetrics()
        painter.setFont(font(base, bold=True))
        label_width = painter.fontMetrics().horizontalAdvance("Numerical gradient") + 28
        painter.setFont(base)
        # Room right of the axis for the time written after the longest bar ("12.34 s …").
        value_width = metrics.horizontalAdvance("12.34 s …") + 12
        rect = QRectF(self.rect()).adjusted(12, 10, -12, -8)
        ratio_width = 190
        if rect.width() - label_width - value_width - ratio_width < 220:
            ratio_width = 0  # narrow: the summary below states the speed-up anyway
        axis = QRectF(
            rect.left() + label_width,
            rect.top(),
            rect.width() - label_width - ratio_width - value_width,
            rect.height() - metrics.height() - 6,
        )
        if axis.width() < 40:
            painter.end()
            return
        # Decade grid and labels.
        painter.setPen(QPen(QColor(theme.GRID), 1, Qt.PenStyle.DotLine))
        for exponent in range(-5, 3):
            x = self._x(axis, 10.0**exponent)
            painter.drawLine(int(x), int(axis.top()), int(x), int(axis.bottom()))
        painter.setPen(QColor(theme.AXIS_TEXT))
        painter.setFont(font(base, scale=0.85))
        for exponent, text in ((-5, "10 µs"), (-3, "1 ms"), (-1, "100 ms"), (1, "10 s")):
            x = self._x(axis, 10.0**exponent)
            painter.drawText(
                QRectF(x - 40, axis.bottom() + 4, 80, metrics.height()),
                Qt.AlignmentFlag.AlignCenter,
                text,
            )
        painter.setFont(base)
        rows = (
            ("Backprop", "forward + backward pass", self.backprop, theme.ACCENT, True),
            (
                "Numerical gradient",
                f"{self.passes:,} forward passes" if self.passes else "",
                self.numerical,
                theme.TEST_ACC,
                self.numerical_final,
            ),
        )
        row_height = axis.height() / 2
        for i, (title, detail, seconds, colour, final) in enumerate(rows):
            top = axis.top() + i * row_height
            label = QRectF(rect.left(), top, label_width - 10, row_height / 2 + 4)
            painter.setPen(QColor(theme.TEXT))
            painter.setFont(font(base, bold=True))
            painter.drawText(
                label, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom, title
            )
            painter.setFont(font(base, scale=0.85))
            painter.setPen(QColor(theme.MUTED))
            painter.drawText(
                QRectF(rect.left(), top + row_height / 2 + 2, label_width - 10, row_height / 2),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop,
                detail,
            )
            painter.setFont(base)
            if seconds is None:
                continue
            bar_height = min(22.0, row_height * 0.55)
            bar = QRectF(
                axis.left(),
                top + (row_height - bar_height) / 2,
                self._x(axis, seconds) - axis.left(),
                bar_height,
            )
            fill = QColor(colour)
            if not final:
                fill.setAlpha(150)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(fill)
            painter.drawRoundedRect(bar, 3, 3)
            painter.setPen(QColor(theme.TEXT))
            text = format_seconds(seconds) + ("" if final else " …")
            painter.drawText(
                QRectF(bar.right() + 8, bar.top() - 4, 120, bar.height() + 8),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                text,
            )
        # The ratio, large.
        ratio_rect = QRectF(
            axis.right() + value_width + 8, rect.top(), ratio_width - 8, axis.height()
        )
        if ratio_width and self.backprop and self.numerical and self.numerical_final:
            painter.setPen(QColor(theme.TEXT))
            painter.setFont(font(base, scale=2.0, bold=True))
            ratio = self.numerical / self.backprop
            painter.drawText(
                ratio_rect.adjusted(0, 0, 0, -ratio_rect.height() / 2),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom,
                f"{ratio:,.0f}×",
            )
            painter.setFont(base)
            painter.setPen(QColor(theme.MUTED))
            painter.drawText(
                ratio_rect.adjusted(0, ratio_rect.height() / 2 + 2, 0, 0),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
                "backprop is this\nmany times faster",
            )
        painter.end()


#: Scatter colours per parameter: the gradient panel's (first layer cool, second warm).
PARAM_COLOURS = {"W1": "#4e9af1", "b1": "#8fc1ff", "W2": "#f4a259", "b2": "#ffd19a"}


class AgreementPlot(pg.PlotWidget):
    """Backprop against the numerical gradient, one dot per sampled partial derivative.

    Each parameter is divided by its own largest |backprop| entry (the scale
    ``relative_error`` uses), so W1's tiny gradients and b2's large ones share the axes. When
    backprop is right every dot sits on the diagonal.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, background=theme.PLOT_BG)
        self.setObjectName("gradCheckScatter")
        item = self.getPlotItem()
        item.hideButtons()
        item.setMenuEnabled(False)
        item.showGrid(x=True, y=True, alpha=0.15)
        for axis, text in (
            ("bottom", "backprop ∂L/∂w (scaled)"),
            ("left", "numerical (same scale)"),
        ):
            item.getAxis(axis).setTextPen(theme.AXIS_TEXT)
            item.getAxis(axis).setPen(theme.GRID)
            item.setLabel(axis, text, color=theme.AXIS_TEXT)
        item.setTitle("On the diagonal = they agree", color=theme.TEXT, size="10pt")
        self.setMouseEnabled(x=False, y=False)
        self.setToolTip(
            "One dot per sampled partial derivative: backprop (x) against the numerical\n"
            "gradient (y), each parameter divided by its largest |backprop| entry."
        )
        self.diagonal = pg.PlotDataItem(
            [-1.1, 1.1], [-1.1, 1.1], pen=pg.mkPen(theme.MUTED, width=1, style=Qt.PenStyle.DashLine)
        )
        item.addItem(self.diagonal)
        self.legend = item.addLegend(offset=(10, 10), labelTextColor=theme.TEXT)
        self.legend.setBrush(pg.mkBrush(theme.CARD))
        self.scatters: dict[str, pg.ScatterPlotItem] = {}
        for name in PARAM_NAMES:
            scatter = pg.ScatterPlotItem(
                size=6 if name.startswith("W") else 8,
                pen=None,
                brush=pg.mkBrush(PARAM_COLOURS[name]),
                name=name,
            )
            item.addItem(scatter)
            self.scatters[name] = scatter
        item.setXRange(-1.1, 1.1, padding=0)
        item.setYRange(-1.1, 1.1, padding=0)
        self.setMinimumSize(300, 260)

    def clear_points(self) -> None:
        for scatter in self.scatters.values():
            scatter.setData([], [])

    def set_points(self, check: ParameterCheck) -> None:
        scale = float(np.max(np.abs(check.backprop_sample))) if check.backprop_sample.size else 0
        scale = scale if scale > 0 else 1.0
        self.scatters[check.name].setData(
            check.backprop_sample / scale, check.numerical_sample / scale
        )
