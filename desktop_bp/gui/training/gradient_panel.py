"""Per-layer gradient magnitudes over the run (log scale) and their current values.

One curve per key of ``trainer.GRADIENT_KEYS``; the table beside the plot is the legend: a
colour swatch and check box per curve, the latest value, and the key's description as tooltip.
Stored points are decimated (:class:`DecimatingBuffer`) so memory stays bounded.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_bp.core.trainer import GRADIENT_KEYS
from desktop_bp.gui import theme
from desktop_bp.gui.training.buffers import DecimatingBuffer, ema
from desktop_bp.gui.training.plots import LivePlot, decades, readout_space

#: Colour and line style per key: parameters solid, backward signals dashed, update ratios
#: dotted; first layer in cool colours, second in warm ones.
CURVE_STYLES: dict[str, tuple[str, Qt.PenStyle]] = {
    "dW1": ("#4e9af1", Qt.PenStyle.SolidLine),
    "db1": ("#8fc1ff", Qt.PenStyle.SolidLine),
    "dW2": ("#f4a259", Qt.PenStyle.SolidLine),
    "db2": ("#ffd19a", Qt.PenStyle.SolidLine),
    "dout Affine2": ("#e05d5d", Qt.PenStyle.DashLine),
    "dout activation": ("#5cc98a", Qt.PenStyle.DashLine),
    "dout Affine1": ("#b18cf2", Qt.PenStyle.DashLine),
    "update/W1": ("#4fd1c5", Qt.PenStyle.DotLine),
    "update/W2": ("#f06bb0", Qt.PenStyle.DotLine),
}
#: Shown at start; the others can be ticked in the table.
DEFAULT_VISIBLE = ("dW1", "dW2", "dout Affine2", "dout activation", "update/W1", "update/W2")
CAPACITY = 4096
#: Per-step magnitudes are noisy (one minibatch each); curves and table show this EMA.
GRADIENT_EMA_ALPHA = 0.05


def format_value(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "–"
    if math.isinf(value):
        return "∞"
    return f"{value:.2e}"


def _swatch(colour: str, style: Qt.PenStyle) -> QIcon:
    pixmap = QPixmap(18, 10)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    pen = QPen(QColor(colour), 3)
    pen.setStyle(style)
    painter.setPen(pen)
    painter.drawLine(1, 5, 17, 5)
    painter.end()
    return QIcon(pixmap)


class GradientPlot(LivePlot):
    def __init__(self, buffer: DecimatingBuffer, parent: QWidget | None = None) -> None:
        super().__init__(
            "gradientPlot",
            parent,
            empty_hint="How large each layer's gradients are, live during training: "
            "tick a quantity on the right to plot it.",
        )
        self.buffer = buffer
        item = self.getPlotItem()
        item.setLogMode(y=True)
        self.set_axis_label("bottom", "iteration")
        self.set_axis_label("left", "RMS (log scale)")
        item.getAxis("left").enableAutoSIPrefix(False)
        self.curves = {}
        for key in GRADIENT_KEYS:
            colour, style = CURVE_STYLES.get(key, (theme.MUTED, Qt.PenStyle.SolidLine))
            curve = item.plot(pen=pg.mkPen(colour, width=1, style=style), name=key)
            curve.setVisible(key in DEFAULT_VISIBLE)
            self.curves[key] = curve
        self._sync_empty_state()

    def refresh(self) -> None:
        x = self.buffer.x
        for key, curve in self.curves.items():
            if curve.isVisible():
                curve.setData(x, self.buffer.y(key))
        self.settle_range()
        self.dirty = False

    def _x_data_end(self) -> float:
        return float(self.buffer.x[-1]) if len(self.buffer) else 0.0

    def _y_range(self) -> tuple[float, float] | None:
        shown = [self.buffer.y(k) for k, c in self.curves.items() if c.isVisible()]
        if not len(self.buffer):
            shown = []
        extra = self._extra_values()
        if extra.size:
            shown.append(extra)
        if not shown:
            return (-5.0, -1.0)  # 1e-5 .. 1e-1: where the chapter's network starts
        return decades(np.concatenate(shown))

    def _hover_text(self, x: float) -> tuple[str, float]:
        i = self._nearest(self.buffer.x, x)
        if i is None:
            return "", 0.0
        shown = [k for k, c in self.curves.items() if c.isVisible()][:3]
        parts = [f"{k} {format_value(float(self.buffer.y(k)[i]))}" for k in shown]
        it = float(self.buffer.x[i])
        return f"it {it:,.0f} · " + " · ".join(parts), it


class GradientPanel(QFrame):
    """The gradient card: plot on the left, legend table with current values on the right."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("gradientPanel")
        self.buffer = DecimatingBuffer(GRADIENT_KEYS, capacity=CAPACITY)
        self._smoothed_last = {}
        self.plot = GradientPlot(self.buffer)
        self.plot.setToolTip(
            "How big the gradients are, per layer, at each step (root mean square per "
            "element, log scale). Vanishing gradients show as curves sinking toward zero."
        )

        self.table = QTableWidget(len(GRADIENT_KEYS), 2)
        self.table.setObjectName("gradientTable")
        self.table.setHorizontalHeaderLabels(["Quantity", "Now"])
        self.table.verticalHeader().hide()
        self.table.setShowGrid(False)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.table.verticalHeader().setDefaultSectionSize(21)
        self.value_items: dict[str, QTableWidgetItem] = {}
        self.name_items: dict[str, QTableWidgetItem] = {}
        for row, (key, description) in enumerate(GRADIENT_KEYS.items()):
            colour, style = CURVE_STYLES.get(key, (theme.MUTED, Qt.PenStyle.SolidLine))
            name = QTableWidgetItem(_swatch(colour, style), key)
            name.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
            name.setCheckState(
                Qt.CheckState.Checked if key in DEFAULT_VISIBLE else Qt.CheckState.Unchecked
            )
            name.setToolTip(f"{description}\nTick to show the curve.")
            value = QTableWidgetItem("–")
            value.setFlags(Qt.ItemFlag.ItemIsEnabled)
            value.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            value.setToolTip(f"{description}\nCurrent value, smoothed.")
            value.setFont(QFont("DejaVu Sans Mono"))
            self.table.setItem(row, 0, name)
            self.table.setItem(row, 1, value)
            self.name_items[key] = name
            self.value_items[key] = value
        self.table.itemChanged.connect(self._on_item_changed)
        self.table.setMinimumWidth(230)
        self.table.setSizeAdjustPolicy(QAbstractItemView.SizeAdjustPolicy.AdjustToContents)

        caption = QLabel(
            f"RMS per element, smoothed (EMA α = {GRADIENT_EMA_ALPHA}). dout: the gradient "
            "arriving at a layer on the way back. update/W = lr·|dW| / |W|; about 1e-3 is "
            "healthy.",
            objectName="hint",
        )
        caption.setWordWrap(True)

        title = QLabel("Gradient magnitudes", objectName="cardTitle")
        self.readout = QLabel("", objectName="readout")
        self.readout.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.plot.hoverText.connect(self.readout.setText)
        header = QHBoxLayout()
        header.setContentsMargins(10, 6, 10, 0)
        header.addWidget(title)
        header.addWidget(readout_space(self.readout), 1)

        side = QVBoxLayout()
        side.setContentsMargins(0, 0, 8, 0)
        side.addWidget(self.table, 1)
        side.addWidget(caption)
        body = QHBoxLayout()
        body.setContentsMargins(0, 0, 0, 0)
        body.addWidget(self.plot, 3)
        body.addLayout(side, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(1, 1, 1, 6)
        layout.setSpacing(2)
        layout.addLayout(header)
        layout.addLayout(body, 1)
        self.dirty = False

    # -- data ---------------------------------------------------------------------------------
    def clear_data(self) -> None:
        self.buffer.clear()
        self._smoothed_last: dict[str, float] = {}
        self.dirty = True

    def add(self, iterations: Sequence[int], grads: Mapping[str, Sequence[float]]) -> None:
        """Append one snapshot's per-step magnitudes (smoothed before they are stored)."""
        if not iterations:
            return
        smoothed = {}
        for key, values in grads.items():
            if len(values) != len(iterations):
                continue
            series = ema(values, GRADIENT_EMA_ALPHA, self._smoothed_last.get(key))
            if series.shape[0] and math.isfinite(series[-1]):
                self._smoothed_last[key] = float(series[-1])
            smoothed[key] = series
        self.buffer.extend(iterations, smoothed)
        self.dirty = True

    def current_values(self) -> dict[str, float]:
        return dict(self.buffer.latest)

    def refresh(self) -> None:
        for key, item in self.value_items.items():
            item.setText(format_value(self.buffer.latest.get(key)))
        self.plot.refresh()
        self.dirty = False

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() != 0:
            return
        key = item.text()
        curve = self.plot.curves.get(key)
        if curve is None:
            return
        visible = item.checkState() == Qt.CheckState.Checked
        curve.setVisible(visible)
        if visible:
            curve.setData(self.buffer.x, self.buffer.y(key))
        self.plot.settle_range()
