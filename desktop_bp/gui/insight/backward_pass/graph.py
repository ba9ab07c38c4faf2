"""The computational graph of the Backward pass tab, painted the way chapter 5 draws it: a box
per node, forward arrows on top, backward arrows (in the chapter's red) underneath, revealed
step by step."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPolygonF,
)
from PySide6.QtWidgets import (
    QSizePolicy,
    QWidget,
)

from desktop_bp.core.inspect_backward import (
    AFFINE,
    RELU,
    SIGMOID,
    NodeTrace,
)
from desktop_bp.gui import theme
from desktop_bp.gui.insight._paint import (
    BACKWARD,
    FORWARD,
    GRAY,
    colorize,
    draw_image,
    fit_rect,
    font,
    format_number,
    signed_rgb,
    symmetric_limit,
    to_qimage,
)
from desktop_bp.gui.insight.backward_pass.steps import (
    BACKWARD_DIR,
    BACKWARD_SYMBOLS,
    BAR_LIMIT,
    FORWARD_DIR,
    FORWARD_SYMBOLS,
    STEPS,
    backward_value,
    display_name,
    forward_value,
    grid_shape,
    visible_arrows,
)


# == the graph ================================================================================
class ComputationalGraph(QWidget):
    """The chapter's picture of the network for one sample, revealed step by step.

    Signal ``nodeClicked(int)``: the node (0..3) under a click.
    """

    nodeClicked = Signal(int)

    BOX_W, BOX_H = 132.0, 58.0

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("inspectorGraph")
        self.nodes: list[NodeTrace] | None = None
        self.step = 0
        self.message = ""
        self.setMinimumSize(640, 236)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:
        return QSize(1000, 240)

    def set_state(self, nodes: list[NodeTrace] | None, step: int, message: str = "") -> None:
        self.nodes, self.step, self.message = nodes, step, message
        self.update()

    # -- geometry ----------------------------------------------------------------------------
    def _layout(self) -> tuple[list[QRectF], QRectF, QRectF, float]:
        """(node boxes, input image rect, loss rect, centre y)."""
        rect = QRectF(self.rect()).adjusted(16, 0, -16, 0)
        cy = rect.center().y() - 4
        io_w = 64.0
        # Boxes take about 13 % of the width each (at most BOX_W), the arrows the rest; the
        # last box holds the longest name ("Softmax-with-Loss").
        box_w = min(self.BOX_W, max(84.0, (rect.width() - 2 * io_w) * 0.13))
        widths = [box_w] * 3 + [box_w + 40]
        gap = (rect.width() - 2 * io_w - sum(widths)) / 5
        boxes = []
        x = rect.left() + io_w + gap
        for width in widths:
            boxes.append(QRectF(x, cy - self.BOX_H / 2, width, self.BOX_H))
            x += width + gap
        input_rect = QRectF(rect.left() + 4, cy - 28, 56, 56)
        loss_rect = QRectF(rect.right() - io_w + 6, cy - 22, io_w - 6, 44)
        return boxes, input_rect, loss_rect, cy

    def node_at(self, pos: QPointF) -> int | None:
        boxes = self._layout()[0]
        for i, box in enumerate(boxes):
            if box.adjusted(-4, -4, 4, 4).contains(pos):
                return i
        return None

    def mousePressEvent(self, event: QMouseEvent) -> None:
        node = self.node_at(event.position())
        if node is not None and event.button() == Qt.MouseButton.LeftButton:
            self.nodeClicked.emit(node)

    # -- painting ----------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor(theme.PLOT_BG))
        if not self.nodes:
            painter.setPen(QColor(theme.MUTED))
            painter.drawText(
                self.rect(),
                Qt.AlignmentFlag.AlignCenter,
                self.message or "Train or load a network to inspect its backward pass.",
            )
            painter.end()
            return
        nodes = self.nodes
        base = self.font()
        boxes, input_rect, loss_rect, cy = self._layout()
        active, direction = STEPS[self.step]
        forward_done, backward_done = visible_arrows(self.step)

        # Input image and loss value at the ends.
        x = nodes[0].forward_in
        h, w = grid_shape(x.size)
        picture = colorize(x.reshape(h, w), GRAY, 0.0, max(1.0, float(x.max())))
        draw_image(painter, fit_rect(input_rect, w / h), to_qimage(picture), border=theme.BORDER)
        painter.setFont(font(base, scale=0.85))
        painter.setPen(QColor(theme.MUTED))
        painter.drawText(
            QRectF(input_rect.left() - 10, input_rect.bottom() + 2, input_rect.width() + 20, 18),
            Qt.AlignmentFlag.AlignCenter,
            "input x",
        )
        loss_known = 4 in forward_done
        painter.setFont(font(base, scale=1.3, bold=True))
        painter.setPen(QColor(theme.TEXT if loss_known else theme.MUTED))
        painter.drawText(loss_rect, Qt.AlignmentFlag.AlignCenter, "L")

        # Arrows: gap i runs from the previous element's right edge to the next's left edge.
        lefts = [input_rect.right() + 6] + [b.right() for b in boxes]
        rights = [b.left() for b in boxes] + [loss_rect.left() + 14]
        for gap in range(5):
            x0, x1 = lefts[gap], rights[gap]
            forward_active = direction == FORWARD_DIR and gap == active + 1
            backward_active = direction == BACKWARD_DIR and gap == active
            self._arrow(
                painter,
                x0,
                x1,
                cy - 12,
                FORWARD,
                done=gap in forward_done,
                active=forward_active,
                pointing_right=True,
            )
            self._arrow(
                painter,
                x0,
                x1,
                cy + 12,
                BACKWARD,
                done=gap in backward_done,
                active=backward_active,
                pointing_right=False,
            )
            if gap in forward_done:
                self._label(
                    painter,
                    x0,
                    x1,
                    cy - 12,
                    FORWARD_SYMBOLS[gap],
                    forward_value(nodes, gap),
                    FORWARD,
                    above=True,
                    thumbnail=gap != 0,  # x itself is drawn at the left end
                )
            if gap in backward_done:
                self._label(
                    painter,
                    x0,
                    x1,
                    cy + 12,
                    BACKWARD_SYMBOLS[gap],
                    backward_value(nodes, gap),
                    BACKWARD,
                    above=False,
                )

        # The node boxes on top of the arrows.
        for i, (box, node) in enumerate(zip(boxes, nodes, strict=True)):
            is_active = i == active
            accent = FORWARD if direction == FORWARD_DIR else BACKWARD
            fill = QColor(accent if is_active else theme.CARD)
            if is_active:
                fill.setAlpha(60)
            painter.setBrush(fill)
            painter.setPen(
                QPen(QColor(accent if is_active else "#4a505c"), 2.5 if is_active else 1.2)
            )
            painter.drawRoundedRect(box, 7, 7)
            name = display_name(node)
            scale = 1.05
            painter.setFont(font(base, scale=scale, bold=True))
            while scale > 0.75 and painter.fontMetrics().horizontalAdvance(name) > box.width() - 8:
                scale -= 0.05  # shrink a long name to fit a narrow box
                painter.setFont(font(base, scale=scale, bold=True))
            painter.setPen(QColor(theme.TEXT))
            painter.drawText(
                box.adjusted(4, 6, -4, -box.height() / 2), Qt.AlignmentFlag.AlignCenter, name
            )
            painter.setFont(font(base, scale=0.82))
            painter.setPen(QColor(theme.AXIS_TEXT))
            painter.drawText(
                box.adjusted(4, box.height() / 2, -4, -4),
                Qt.AlignmentFlag.AlignCenter,
                self._formula(i, node),
            )
        # t enters the loss node from below.
        loss_box = boxes[3]
        label = int(nodes[3].extras["label"])
        t_y = self.rect().bottom() - 8
        painter.setPen(QPen(QColor(theme.MUTED), 1.2))
        tx = loss_box.right() - 16
        painter.drawLine(QPointF(tx, t_y - 16), QPointF(tx, loss_box.bottom() + 4))
        self._head(painter, QPointF(tx, loss_box.bottom() + 2), QPointF(0, -1), theme.MUTED)
        painter.setFont(font(base, scale=0.85))
        painter.setPen(QColor(theme.AXIS_TEXT))
        painter.drawText(
            QRectF(tx - 80, t_y - 16, 160, 16),
            Qt.AlignmentFlag.AlignCenter,
            f"t = {label} (one-hot)",
        )
        painter.end()

    @staticmethod
    def _formula(index: int, node: NodeTrace) -> str:
        if node.kind == AFFINE:
            return "x·W1 + b1" if index == 0 else "z1·W2 + b2"
        if node.kind == RELU:
            return "max(0, a1)"
        if node.kind == SIGMOID:
            return "1 / (1 + e^−a1)"
        return "softmax + CE"

    @staticmethod
    def _head(painter: QPainter, tip: QPointF, direction: QPointF, colour: str) -> None:
        size = 8.0
        back = QPointF(tip.x() - direction.x() * size, tip.y() - direction.y() * size)
        normal = QPointF(-direction.y() * size * 0.55, direction.x() * size * 0.55)
        painter.setBrush(QColor(colour))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawPolygon(QPolygonF([tip, back + normal, back - normal]))

    def _arrow(
        self,
        painter: QPainter,
        x0: float,
        x1: float,
        y: float,
        colour: str,
        *,
        done: bool,
        active: bool,
        pointing_right: bool,
    ) -> None:
        x0, x1 = x0 + 4, x1 - 4
        if done:
            pen = QPen(QColor(colour), 3.2 if active else 1.8)
        else:
            faint = QColor(colour)
            faint.setAlpha(55)
            pen = QPen(faint, 1.2, Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.drawLine(QPointF(x0, y), QPointF(x1, y))
        tip, sign = (QPointF(x1 + 2, y), 1) if pointing_right else (QPointF(x0 - 2, y), -1)
        head_colour = pen.color()
        self._head(painter, tip, QPointF(sign, 0), head_colour.name(QColor.NameFormat.HexArgb))

    def _label(
        self,
        painter: QPainter,
        x0: float,
        x1: float,
        y: float,
        symbol: str,
        values: NDArray,
        colour: str,
        *,
        above: bool,
        thumbnail: bool = True,
    ) -> None:
        """Symbol, a thumbnail of the values and their size beside the arrow."""
        base = self.font()
        width = x1 - x0
        painter.setFont(font(base, scale=0.92, bold=True))
        metrics = painter.fontMetrics()
        line = metrics.height()
        values = np.asarray(values, dtype=np.float64)
        if values.ndim == 0:
            text = f"{symbol} = {format_number(float(values), 3)}" if symbol != "1" else "1"
            box = QRectF(x0, y - line - 4 if above else y + 4, width, line)
            painter.setPen(QColor(colour))
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
            return
        text_box = QRectF(x0, y - line - 3 if above else y + 3, width, line)
        painter.setPen(QColor(colour))
        painter.drawText(
            text_box,
            Qt.AlignmentFlag.AlignCenter,
            metrics.elidedText(
                f"{symbol}  ({values.size})", Qt.TextElideMode.ElideRight, int(width)
            ),
        )
        if not thumbnail:
            return
        h, w = grid_shape(values.size)
        max_w, max_h = min(width - 8, 96.0), 44.0
        if values.size <= BAR_LIMIT:
            max_h = 16.0
        thumb_h = min(max_h, max_w * h / w)
        thumb_w = thumb_h * w / h
        top = text_box.top() - thumb_h - 4 if above else text_box.bottom() + 4
        target = QRectF(x0 + (width - thumb_w) / 2, top, thumb_w, thumb_h)
        grid = values.reshape(h, w)
        rgb = signed_rgb(grid, symmetric_limit(grid))
        draw_image(painter, target, to_qimage(rgb), border=theme.BORDER)
