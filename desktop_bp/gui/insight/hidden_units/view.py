"""What each hidden unit looks for: W1's columns drawn as 28x28 images, live during training.

Hidden unit j computes ``a1[j] = x · W1[:, j] + b1[j]``: a weighted sum of the 784 pixels. Laid
out like the image, its 784 weights show the pattern that excites it (orange: bright pixels
there raise a1[j]; blue: they lower it). All units are one numpy-built mosaic drawn as a single
QImage, so ``set_weights`` is cheap enough for every training snapshot; while the view is
hidden it only stores the weights and draws when shown.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

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
    QShowEvent,
)
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desktop_bp.gui import theme
from desktop_bp.gui.insight._paint import (
    BACKWARD,
    DIVERGING,
    FORWARD,
    GAP,
    draw_bars,
    draw_colorbar,
    draw_image,
    fit_rect,
    font,
    format_number,
    image_shape,
    signed_rgb,
    to_qimage,
)
from desktop_bp.gui.tab import TabBase

PER_UNIT, GLOBAL = "unit", "global"
#: Pixels between tiles in the mosaic image (before scaling).
TILE_GAP = 2


def grid_for(units: int) -> tuple[int, int]:
    """(rows, cols) for ``units`` tiles, about twice as wide as tall: 50 → (5, 10)."""
    cols = max(1, min(units, math.ceil(math.sqrt(2 * units))))
    return math.ceil(units / cols), cols


def mosaic_rgb(
    W1: NDArray, scaling: str = PER_UNIT, gap: int = TILE_GAP
) -> tuple[NDArray[np.uint8], tuple[int, int], tuple[int, int]]:
    """All of W1's columns as one RGB picture.

    W1 : shape (n_in, units); column j becomes a tile of ``image_shape(n_in)`` (28 x 28).
    scaling : PER_UNIT — each tile uses its own ±max |w| (shows every unit's pattern);
              GLOBAL — one ±max |W1| for all (shows which units have grown strong).
    Returns (rgb (H, W, 3) uint8, (rows, cols), (tile_h, tile_w)).
    """
    n_in, units = W1.shape
    h, w = image_shape(n_in)
    rows, cols = grid_for(units)
    tiles = np.asarray(W1, dtype=np.float64).T.reshape(units, h, w)
    if scaling == PER_UNIT:
        limits = np.abs(tiles).reshape(units, -1).max(axis=1)
    else:
        limits = np.full(units, np.abs(tiles).max() if tiles.size else 1.0)
    limits = np.where((limits > 0) & np.isfinite(limits), limits, 1.0)
    normalised = tiles / limits[:, None, None]
    rgb = signed_rgb(normalised, 1.0)
    gap_rgb = np.array(QColor(GAP).getRgb()[:3], dtype=np.uint8)
    padded = np.empty((rows * cols, h, w, 3), dtype=np.uint8)
    padded[:] = gap_rgb
    padded[:units] = rgb
    cell_h, cell_w = h + gap, w + gap
    canvas = np.empty((rows * cell_h + gap, cols * cell_w + gap, 3), dtype=np.uint8)
    canvas[:] = gap_rgb
    body = canvas[gap:, gap:].reshape(rows, cell_h, cols, cell_w, 3)
    body[:, :h, :, :w] = padded.reshape(rows, cols, h, w, 3).transpose(0, 2, 1, 3, 4)
    return canvas, (rows, cols), (h, w)


class UnitMosaic(QWidget):
    """Paints the mosaic image, scaled to fit; reports the unit under the mouse.

    Signals: ``unitHovered(int)`` (−1 when the mouse leaves the tiles), ``unitClicked(int)``.
    """

    unitHovered = Signal(int)
    unitClicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("hiddenUnitsMosaic")
        self.setMouseTracking(True)
        self.setMinimumSize(320, 180)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.image: QImage | None = None
        self.grid = (0, 0)
        self.tile = (0, 0)
        self.units = 0
        self.selected: int | None = None
        self.hovered: int | None = None

    def sizeHint(self) -> QSize:
        return QSize(700, 360)

    def set_mosaic(self, image: QImage, grid: tuple[int, int], tile: tuple[int, int], units: int):
        self.image, self.grid, self.tile, self.units = image, grid, tile, units
        self.update()

    def image_rect(self) -> QRectF:
        """Where the mosaic is drawn: an integer zoom when there is room (crisp pixels)."""
        if self.image is None:
            return QRectF()
        bounds = QRectF(self.rect()).adjusted(6, 6, -6, -6)
        iw, ih = self.image.width(), self.image.height()
        zoom = min(bounds.width() / iw, bounds.height() / ih)
        if zoom >= 2 and math.floor(zoom) / zoom >= 0.85:
            # An integer zoom keeps every weight the same size, if it wastes little room.
            zoom = math.floor(zoom)
            return QRectF(
                bounds.center().x() - iw * zoom / 2,
                bounds.center().y() - ih * zoom / 2,
                iw * zoom,
                ih * zoom,
            )
        return fit_rect(bounds, iw / ih)

    def tile_rect(self, unit: int) -> QRectF:
        """The on-screen rectangle of ``unit``'s tile (widget coordinates)."""
        target = self.image_rect()
        if self.image is None or not 0 <= unit < self.units:
            return QRectF()
        zoom = target.width() / self.image.width()
        cols = self.grid[1]
        h, w = self.tile
        row, col = divmod(unit, cols)
        x = TILE_GAP + col * (w + TILE_GAP)
        y = TILE_GAP + row * (h + TILE_GAP)
        return QRectF(target.left() + x * zoom, target.top() + y * zoom, w * zoom, h * zoom)

    def unit_at(self, pos: QPointF) -> int | None:
        """The unit whose tile (or the gap right of/below it) contains ``pos``, or None."""
        target = self.image_rect()
        if self.image is None or not target.contains(pos):
            return None
        zoom = target.width() / self.image.width()
        h, w = self.tile
        col = int((pos.x() - target.left()) / zoom // (w + TILE_GAP))
        row = int((pos.y() - target.top()) / zoom // (h + TILE_GAP))
        unit = row * self.grid[1] + col
        return unit if 0 <= col < self.grid[1] and 0 <= unit < self.units else None

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(theme.PLOT_BG))
        if self.image is None:
            painter.setPen(QColor(theme.MUTED))
            painter.drawText(
                self.rect(),
                Qt.AlignmentFlag.AlignCenter,
                "No network yet: train or load one to see its hidden units.",
            )
            painter.end()
            return
        draw_image(painter, self.image_rect(), self.image)
        for unit, colour, width in (
            (self.hovered, "#ffffff", 1.5),
            (self.selected, theme.ACCENT, 2.5),
        ):
            if unit is not None and 0 <= unit < self.units:
                painter.setPen(QPen(QColor(colour), width))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRect(self.tile_rect(unit).adjusted(-1.5, -1.5, 1.5, 1.5))
        painter.end()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        unit = self.unit_at(event.position())
        if unit != self.hovered:
            self.hovered = unit
            self.update()
            self.unitHovered.emit(-1 if unit is None else unit)

    def leaveEvent(self, event) -> None:
        if self.hovered is not None:
            self.hovered = None
            self.update()
            self.unitHovered.emit(-1)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            unit = self.unit_at(event.position())
            if unit is not None:
                self.unitClicked.emit(unit)


class UnitDetail(QWidget):
    """One unit up close: its 28x28 weights, their statistics and its outgoing W2 row."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("hiddenUnitsDetail")
        self.setMinimumWidth(250)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Expanding)
        self.setFixedWidth(270)
        self.unit: int | None = None
        self.hovering = False
        self.incoming: NDArray | None = None
        self.bias: float | None = None
        self.outgoing: NDArray | None = None

    def show_unit(
        self,
        unit: int | None,
        incoming: NDArray | None,
        bias: float | None,
        outgoing: NDArray | None,
        *,
        hovering: bool,
    ) -> None:
        self.unit, self.incoming, self.bias, self.outgoing = unit, incoming, bias, outgoing
        self.hovering = hovering
        self.update()

    def text(self) -> str:
        """The statistics as plain text (also the widget's tooltip and accessible text)."""
        if self.unit is None or self.incoming is None:
            return "Hover over or click a unit."
        w = self.incoming
        lines = [
            f"Unit {self.unit}",
            f"incoming W1[:, {self.unit}]  ({w.size} weights)",
            f"  min {format_number(float(w.min()))}   max {format_number(float(w.max()))}",
            f"  mean {format_number(float(w.mean()))}   "
            f"‖w‖ {format_number(float(np.linalg.norm(w)))}",
        ]
        if self.bias is not None:
            lines.append(f"bias b1[{self.unit}] = {format_number(self.bias)}")
        if self.outgoing is not None:
            best, worst = int(np.argmax(self.outgoing)), int(np.argmin(self.outgoing))
            lines.append(
                f"outgoing W2[{self.unit}, :]: votes most for {best} "
                f"({format_number(float(self.outgoing[best]))}), "
                f"against {worst} ({format_number(float(self.outgoing[worst]))})"
            )
        return "\n".join(lines)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(theme.PLOT_BG))
        base = self.font()
        rect = QRectF(self.rect()).adjusted(12, 10, -12, -10)
        if self.unit is None or self.incoming is None:
            painter.setPen(QColor(theme.MUTED))
            painter.drawText(
                rect,
                Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                "Hover over a unit for its weights;\nclick to keep it here.",
            )
            painter.end()
            return
        painter.setFont(font(base, scale=1.15, bold=True))
        painter.setPen(QColor(theme.TEXT))
        line = painter.fontMetrics().height()
        title = f"Unit {self.unit}" + ("  (hover)" if self.hovering else "")
        painter.drawText(QRectF(rect.left(), rect.top(), rect.width(), line), title)
        y = rect.top() + line + 6
        side = min(rect.width(), 168.0)
        h, w = image_shape(self.incoming.size)
        picture = to_qimage(signed_rgb(self.incoming.reshape(h, w)))
        target = QRectF(rect.left() + (rect.width() - side) / 2, y, side, side * h / w)
        draw_image(painter, target, picture, border=theme.BORDER)
        y = target.bottom() + 8
        painter.setFont(base)
        metrics = painter.fontMetrics()
        line = metrics.height()
        w_in = self.incoming
        stats = [
            ("incoming weights W1[:, j]", None),
            (
                "min / max",
                f"{format_number(float(w_in.min()))} / {format_number(float(w_in.max()))}",
            ),
            ("mean", format_number(float(w_in.mean()))),
            ("norm ‖w‖", format_number(float(np.linalg.norm(w_in)))),
        ]
        if self.bias is not None:
            stats.append(("bias b1[j]", format_number(self.bias)))
        for label, value in stats:
            if value is None:
                painter.setPen(QColor(theme.MUTED))
                painter.drawText(QRectF(rect.left(), y, rect.width(), line), label)
            else:
                painter.setPen(QColor(theme.AXIS_TEXT))
                painter.drawText(QRectF(rect.left() + 8, y, rect.width(), line), label)
                painter.setPen(QColor(theme.TEXT))
                painter.drawText(
                    QRectF(rect.left(), y, rect.width(), line),
                    Qt.AlignmentFlag.AlignRight,
                    value,
                )
            y += line + 1
        if self.outgoing is not None and rect.bottom() - y > 70:
            y += 6
            painter.setPen(QColor(theme.MUTED))
            painter.drawText(
                QRectF(rect.left(), y, rect.width(), line), "outgoing W2[j, :] — its vote per digit"
            )
            y += line + 2
            height = min(110.0, rect.bottom() - y)
            draw_bars(
                painter,
                QRectF(rect.left(), y, rect.width(), height),
                self.outgoing,
                labels=[str(i) for i in range(self.outgoing.size)],
                colour=BACKWARD,
                negative=FORWARD,
                highlight=int(np.argmax(self.outgoing)),
            )
        painter.end()


class _ColourKey(QWidget):
    """The diverging colour bar with its scale, in the header."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.low, self.high, self.middle = "−", "+", "0"
        self.setFixedSize(260, 22)

    def set_labels(self, low: str, high: str, middle: str = "0") -> None:
        self.low, self.high, self.middle = low, high, middle
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setFont(font(self.font(), scale=0.9))
        draw_colorbar(
            painter,
            QRectF(self.rect()).adjusted(0, 3, 0, -3),
            DIVERGING,
            self.low,
            self.high,
            self.middle,
        )
        painter.end()


class HiddenUnitsView(QWidget, TabBase):
    """The hidden-units tab.

    API: :meth:`set_weights` (W1, optionally W2 and b1 for the statistics) or
    :meth:`set_network` (a params dict); :meth:`set_scaling`; :meth:`select_unit`.
    Signals: ``unitSelected(int)`` on click (or ``select_unit``), ``unitHovered(int)``
    (−1 when none). Children: ``hiddenUnitsMosaic``, ``hiddenUnitsDetail``,
    ``hiddenUnitsScaleCombo``, ``hiddenUnitsInfo`` (one-line read-out).
    """

    tab_title = "Hidden units"
    tab_tooltip = "W1's columns as 28×28 images: what each hidden unit looks for"

    unitSelected = Signal(int)
    unitHovered = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("hiddenUnitsView")
        self._W1: NDArray | None = None
        self._W2: NDArray | None = None
        self._b1: NDArray | None = None
        self._scaling = PER_UNIT
        self._dirty = False
        self._image: QImage | None = None
        self._selected: int | None = None
        self._hovered: int | None = None
        self.renders = 0  # how many mosaics were built (tests check deferral while hidden)
        self._build()

    def _build(self) -> None:
        self.title = QLabel("Hidden units", objectName="cardTitle")
        self.title.setFont(font(self.font(), scale=1.25, bold=True))
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.title.setMinimumWidth(160)
        self.scale_combo = QComboBox(objectName="hiddenUnitsScaleCombo")
        self.scale_combo.addItem("Scale: each unit", PER_UNIT)
        self.scale_combo.addItem("Scale: all units", GLOBAL)
        self.scale_combo.setToolTip(
            "Each unit: every tile uses its own ±max |w| (shows every unit's pattern).\n"
            "All units: one ±max |W1| for all (shows which units have grown strong)."
        )
        self.scale_combo.currentIndexChanged.connect(
            lambda _: self.set_scaling(self.scale_combo.currentData())
        )
        self.key = _ColourKey()
        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(self.key)
        header.addSpacing(12)
        header.addWidget(self.scale_combo)
        hint = QLabel(
            "Hidden unit j adds up the pixels weighted by W1's column j, shown here as a 28×28 "
            "image: orange pixels raise its input when bright, blue ones lower it. These are "
            "the patterns the first layer has learned to look for.",
            objectName="hint",
        )
        hint.setWordWrap(True)
        self.mosaic = UnitMosaic()
        self.mosaic.unitHovered.connect(self._on_hover)
        self.mosaic.unitClicked.connect(self.select_unit)
        self.detail = UnitDetail()
        self.info = QLabel("", objectName="hiddenUnitsInfo")
        self.info.setTextFormat(Qt.TextFormat.PlainText)
        body = QHBoxLayout()
        body.setSpacing(10)
        body.addWidget(self.mosaic, 1)
        body.addWidget(self.detail)
        card = QFrame(objectName="card")
        inner = QVBoxLayout(card)
        inner.setContentsMargins(14, 12, 14, 12)
        inner.setSpacing(8)
        inner.addLayout(header)
        inner.addWidget(hint)
        inner.addLayout(body, 1)
        inner.addWidget(self.info)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(card)
        self._update_info()

    # == public API ============================================================================
    def set_weights(
        self, W1: NDArray | None, W2: NDArray | None = None, b1: NDArray | None = None
    ) -> None:
        """Show these weights (copied). W1 : (n_in, units); W2 : (units, n_out); b1 : (units,).

        Cheap (~1 ms for 784 x 50); while the view is hidden only the copy is made and the
        mosaic is built when it is shown.
        """
        if W1 is None:
            self._W1 = self._W2 = self._b1 = None
            self._image = None
            self._selected = self._hovered = None
            self.mosaic.image = None
            self.mosaic.selected = self.mosaic.hovered = None
            self.mosaic.units = 0
            self.mosaic.update()
            self._update_detail()
            return
        W1 = np.asarray(W1)
        if W1.ndim != 2:
            raise ValueError(f"W1 must be (inputs, units), got shape {W1.shape}")
        units = W1.shape[1]
        if W2 is not None and np.shape(W2)[0] != units:
            raise ValueError(f"W2 must have {units} rows (one per unit), got {np.shape(W2)}")
        if b1 is not None and np.shape(b1) != (units,):
            raise ValueError(f"b1 must have shape ({units},), got {np.shape(b1)}")
        self._W1 = np.array(W1, dtype=np.float32)
        self._W2 = None if W2 is None else np.array(W2, dtype=np.float32)
        self._b1 = None if b1 is None else np.array(b1, dtype=np.float32)
        if self._selected is not None and self._selected >= units:
            self._selected = None
        self._dirty = True
        if self.isVisible():
            self._render()

    def set_network(self, params: Mapping[str, NDArray] | None, activation: str = "relu") -> None:
        """Convenience for the main window: take W1, W2 and b1 from a params dict."""
        if params is None:
            self.set_weights(None)
        else:
            self.set_weights(params["W1"], params.get("W2"), params.get("b1"))

    def set_scaling(self, scaling: str) -> None:
        """PER_UNIT ("unit") or GLOBAL ("global")."""
        if scaling not in (PER_UNIT, GLOBAL):
            raise ValueError(f"scaling must be {PER_UNIT!r} or {GLOBAL!r}, got {scaling!r}")
        if scaling == self._scaling:
            return
        self._scaling = scaling
        self.scale_combo.setCurrentIndex(self.scale_combo.findData(scaling))
        self._dirty = True
        if self.isVisible():
            self._render()

    @property
    def scaling(self) -> str:
        return self._scaling

    @property
    def unit_count(self) -> int:
        return 0 if self._W1 is None else int(self._W1.shape[1])

    @property
    def grid_shape(self) -> tuple[int, int]:
        """(rows, cols) of the mosaic: (5, 10) for 50 units."""
        return (0, 0) if self._W1 is None else grid_for(self.unit_count)

    @property
    def selected_unit(self) -> int | None:
        return self._selected

    def mosaic_image(self) -> QImage | None:
        """The current mosaic (built now if it is out of date): 1 px per weight, 2 px gaps."""
        if self._dirty:
            self._render()
        return self._image

    def select_unit(self, unit: int) -> None:
        """Keep ``unit``'s details in the side panel and outline it (what a click does)."""
        if not 0 <= unit < self.unit_count:
            raise ValueError(f"unit must be in [0, {self.unit_count}), got {unit}")
        self._selected = unit
        self.mosaic.selected = unit
        self.mosaic.update()
        self._update_detail()
        self.unitSelected.emit(unit)

    def unit_rect(self, unit: int) -> QRectF:
        """``unit``'s tile in the mosaic widget's coordinates (for tests and tooltips)."""
        return self.mosaic.tile_rect(unit)

    # == internals =============================================================================
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._dirty:
            self._render()

    def _render(self) -> None:
        self._dirty = False
        if self._W1 is None:
            return
        rgb, grid, tile = mosaic_rgb(self._W1, self._scaling)
        self._image = to_qimage(rgb)
        self.renders += 1
        self.mosaic.set_mosaic(self._image, grid, tile, self.unit_count)
        self.mosaic.selected = self._selected
        if self._scaling == GLOBAL:
            limit = format_number(float(np.abs(self._W1).max()))
            self.key.set_labels(f"−{limit}", f"+{limit}", "0")
        else:
            self.key.set_labels("−max", "+max", "0")
        n_in, units = self._W1.shape
        h, w = image_shape(n_in)
        self.title.setText(f"Hidden units — W1's {units} columns as {h}×{w} images")
        self._update_detail()

    def _on_hover(self, unit: int) -> None:
        self._hovered = None if unit < 0 else unit
        self._update_detail()
        self.unitHovered.emit(unit)

    def _update_detail(self) -> None:
        unit = self._hovered if self._hovered is not None else self._selected
        if unit is None or self._W1 is None or unit >= self.unit_count:
            self.detail.show_unit(None, None, None, None, hovering=False)
        else:
            self.detail.show_unit(
                unit,
                self._W1[:, unit],
                None if self._b1 is None else float(self._b1[unit]),
                None if self._W2 is None else self._W2[unit],
                hovering=unit == self._hovered and unit != self._selected,
            )
        self._update_info()

    def _update_info(self) -> None:
        if self._W1 is None:
            self.info.setText("")
            return
        self.detail.setToolTip(self.detail.text())
        unit = self.detail.unit
        if unit is None or self.detail.incoming is None:
            self.info.setText(
                f"{self.unit_count} units · hover over a unit for its statistics, click to keep it"
            )
            return
        parts = [
            f"unit {unit}",
            f"‖W1[:, {unit}]‖ = {format_number(float(np.linalg.norm(self.detail.incoming)))}",
        ]
        if self.detail.outgoing is not None:
            parts.append(f"votes most for digit {int(np.argmax(self.detail.outgoing))}")
        self.info.setText(" · ".join(parts))
