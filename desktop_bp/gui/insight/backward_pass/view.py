"""Backward-pass inspector: one sample through Affine1 → activation → Affine2 → SoftmaxWithLoss.

The computational graph is drawn the way chapter 5 draws it: a box per node, forward arrows
on top labelled with what flows right, backward arrows underneath (in the chapter's red)
labelled with the gradients flowing left. Prev/Next step through the eight half-steps — four
forward, left to right, then four backward, right to left — highlighting the active node;
below the graph its four arrays (forward in/out, gradient in/out) are drawn as heat maps (the
784-wide ones as 28x28 images) or bars (the 10-wide ones), with a caption in the chapter's
terms. Every number comes from :func:`desktop_bp.core.inspect_backward.trace`, i.e. from the
core layers themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal, Slot
from PySide6.QtGui import (
    QColor,
    QFont,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPolygonF,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop_bp.core.inspect_backward import (
    AFFINE,
    RELU,
    SIGMOID,
    SOFTMAX_WITH_LOSS,
    NodeTrace,
    trace,
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
    image_shape,
    signed_rgb,
    symmetric_limit,
    to_qimage,
)
from desktop_bp.gui.tab import TabBase

FORWARD_DIR, BACKWARD_DIR = "forward", "backward"
#: The eight half-steps: (node position 0..3, direction).
STEPS: tuple[tuple[int, str], ...] = (
    *((i, FORWARD_DIR) for i in range(4)),
    *((i, BACKWARD_DIR) for i in range(3, -1, -1)),
)
#: Vectors up to this long are bars; longer ones heat maps.
BAR_LIMIT = 12


def _grid_shape(n: int) -> tuple[int, int]:
    return (1, n) if n <= BAR_LIMIT else image_shape(n)


def _stats(values: NDArray) -> str:
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 0:
        return format_number(float(values), 4)
    return (
        f"min {format_number(float(values.min()))} · max {format_number(float(values.max()))}"
        f" · ‖·‖ {format_number(float(np.linalg.norm(values)))}"
    )


def _display_name(node: NodeTrace) -> str:
    return {AFFINE: node.name, RELU: "ReLU", SIGMOID: "Sigmoid"}.get(node.kind, "Softmax-with-Loss")


# == what flows along each arrow ==============================================================
# Gap i lies left of node i (gap 4 is right of the last node). Forward arrow i carries the
# input of node i (gap 4: the loss); backward arrow i carries the gradient node i passes left
# (gap 4: dL/dL = 1).
FORWARD_SYMBOLS = ("x", "a1", "z1", "a2", "L")
BACKWARD_SYMBOLS = ("∂L/∂x", "∂L/∂a1", "∂L/∂z1", "∂L/∂a2", "1")


def forward_value(nodes: list[NodeTrace], gap: int) -> NDArray:
    return nodes[gap].forward_in if gap < 4 else nodes[3].forward_out


def backward_value(nodes: list[NodeTrace], gap: int) -> NDArray:
    return nodes[gap].backward_out if gap < 4 else nodes[3].backward_in


def visible_arrows(step: int) -> tuple[set[int], set[int]]:
    """(forward gaps, backward gaps) already computed after ``step`` (0..7)."""
    node, direction = STEPS[step]
    if direction == FORWARD_DIR:
        return set(range(node + 2)), set()
    return set(range(5)), set(range(node, 5))


def caption(nodes: list[NodeTrace], step: int) -> str:
    """The chapter's explanation of the active node, with this sample's numbers (rich text)."""
    index, direction = STEPS[step]
    node = nodes[index]
    hidden = node.forward_out.size if index == 1 else nodes[1].forward_out.size
    loss_node = nodes[3]
    label = int(loss_node.extras["label"])
    y = loss_node.extras["y"]
    predicted = int(np.argmax(y))
    f = format_number
    if direction == FORWARD_DIR:
        if node.kind == AFFINE and index == 0:
            return (
                f"<b>Affine1 forward</b>: a1 = x·W1 + b1. The {node.forward_in.size} pixels of "
                f"x (1×{node.forward_in.size}) times W1 ({node.forward_in.size}×{hidden}) plus "
                f"b1 give {hidden} weighted sums, one per hidden unit — here from "
                f"{f(float(node.forward_out.min()))} to {f(float(node.forward_out.max()))}."
            )
        if node.kind == RELU:
            blocked = int(node.extras["mask"].sum())
            return (
                f"<b>ReLU forward</b>: z1 = max(0, a1). {hidden - blocked} of {hidden} units "
                f"pass their sum on; the other {blocked} output 0 (marked ×). ReLU remembers "
                "where (its <i>mask</i>): the backward pass will need it."
            )
        if node.kind == SIGMOID:
            return (
                "<b>Sigmoid forward</b>: z1 = 1 / (1 + exp(−a1)) squashes each sum into (0, 1). "
                "The layer keeps its output <i>out</i>, because its derivative is "
                "out·(1 − out)."
            )
        if node.kind == AFFINE:
            scores = node.forward_out
            top = int(np.argmax(scores))
            return (
                f"<b>Affine2 forward</b>: a2 = z1·W2 + b2 turns the {hidden} hidden values "
                f"into {scores.size} scores, one per digit. The highest is digit {top} "
                f"(score {f(float(scores[top]))}); scores are not yet probabilities."
            )
        return (
            f"<b>Softmax-with-Loss forward</b>: softmax turns the scores into probabilities y "
            f"(largest: y<sub>{predicted}</sub> = {f(float(y[predicted]))}); cross-entropy "
            f"against the one-hot label t = {label} gives L = −log(y<sub>{label}</sub> + 10⁻⁷) "
            f"= <b>{f(float(loss_node.forward_out), 4)}</b>. Next: the backward pass."
        )
    if node.kind == SOFTMAX_WITH_LOSS:
        dx = node.backward_out
        return (
            "<b>Softmax-with-Loss backward</b>: the backward pass starts with ∂L/∂L = 1. "
            "This node's gradient is simply <b>y − t</b>, divided by the batch size (1 here): "
            f"{f(float(dx[label]))} at the true class {label}, +y elsewhere. Pairing softmax "
            "with cross-entropy is what makes the gradient this clean."
        )
    if node.kind == AFFINE and index == 2:
        dW = node.extras["dW"]
        return (
            f"<b>Affine2 backward</b>: ∂L/∂z1 = ∂L/∂a2 · W2ᵀ sends the error back to the "
            f"{hidden} hidden units. On the way the node keeps ∂L/∂W2 = z1ᵀ · ∂L/∂a2 "
            f"({dW.shape[0]}×{dW.shape[1]}, ‖·‖ = {f(float(np.linalg.norm(dW)))}) and "
            "∂L/∂b2 = ∂L/∂a2 summed over the batch: what SGD uses to update W2 and b2."
        )
    if node.kind == RELU:
        blocked = int(node.extras["mask"].sum())
        return (
            "<b>ReLU backward</b>: the gradient passes through unchanged where a1 &gt; 0 and "
            f"is stopped (set to 0) where the unit was off: {blocked} of {hidden} gradients "
            "blocked (marked ×). A unit that did not fire learns nothing from this sample."
        )
    if node.kind == SIGMOID:
        shrink = float(np.linalg.norm(node.backward_out)) / max(
            float(np.linalg.norm(node.backward_in)), 1e-300
        )
        return (
            "<b>Sigmoid backward</b>: ∂L/∂a1 = ∂L/∂z1 · z1(1 − z1). The factor is at most "
            f"0.25, so the gradient shrinks here (its norm ×{f(shrink)}) — why deep sigmoid "
            "networks learn slowly."
        )
    dW = node.extras["dW"]
    side = "×".join(map(str, image_shape(node.forward_in.size)))
    return (
        f"<b>Affine1 backward</b>: ∂L/∂W1 = xᵀ · ∂L/∂a1 ({dW.shape[0]}×{dW.shape[1]}, "
        f"‖·‖ = {f(float(np.linalg.norm(dW)))}) and ∂L/∂b1 train the first layer. "
        f"∂L/∂x = ∂L/∂a1 · W1ᵀ is not needed for training, but shown as {side} it says which "
        "pixels would raise the loss (orange) or lower it (blue) if brightened."
    )


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
        self.setToolTip("" if content is None or content.values is None else _stats(content.values))
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
        stats = content.note or _stats(values)
        painter.drawText(
            QRectF(rect.left(), rect.bottom() - stats_line, rect.width(), stats_line),
            Qt.AlignmentFlag.AlignCenter,
            painter.fontMetrics().elidedText(stats, Qt.TextElideMode.ElideRight, int(rect.width())),
        )
        painter.end()

    @staticmethod
    def _draw_grid(painter: QPainter, body: QRectF, values: NDArray, content: PanelContent) -> None:
        h, w = _grid_shape(values.size)
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
        h, w = _grid_shape(x.size)
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
            name = _display_name(node)
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
        h, w = _grid_shape(values.size)
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


# == the view =================================================================================
class BackwardInspectorView(QWidget, TabBase):
    """The backward-pass inspector tab.

    API: :meth:`set_network` (params copied), :meth:`set_data` (test images for the chooser),
    :meth:`show_test_image`, :meth:`random_test_image`, :meth:`set_sample` (an image from
    elsewhere, e.g. the drawing pad; label None = use the prediction as target),
    :meth:`set_target`, :meth:`set_step` / :meth:`step_next` / :meth:`step_prev`.
    Properties: ``trace`` (list[NodeTrace] or None), ``step`` (0..7), ``active``.
    Signals: ``stepChanged(int)``, ``traceChanged()``.
    Children: ``inspectorIndexSpin``, ``inspectorRandomButton``, ``inspectorTargetCombo``,
    ``inspectorSampleLabel``, ``inspectorPrevButton``, ``inspectorNextButton``,
    ``inspectorStepLabel``, ``inspectorGraph``, ``inspectorCaption``, and the panels
    ``inspectorForwardIn``, ``inspectorForwardOut``, ``inspectorBackwardIn``,
    ``inspectorBackwardOut``.
    """

    tab_title = "Backward pass"
    tab_tooltip = (
        "Follow one image forward and backward through the computational graph, node by node"
    )

    stepChanged = Signal(int)
    traceChanged = Signal()

    def __init__(self, parent: QWidget | None = None, *, seed: int | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("backwardInspector")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._params: dict[str, NDArray] | None = None
        self._activation = "relu"
        self._x_test: NDArray | None = None
        self._t_test: NDArray | None = None
        self._sample: NDArray | None = None
        self._sample_label: int | None = None
        self._sample_source = ""
        self._target: int | None = None
        self._trace: list[NodeTrace] | None = None
        self._step = 0
        self._stale = False  # new weights arrived while hidden: trace again when needed
        self._rng = np.random.default_rng(seed)
        self._build()
        self._refresh()

    # == building ==============================================================================
    def _build(self) -> None:
        title = QLabel("Backward pass, node by node", objectName="cardTitle")
        title.setFont(font(self.font(), scale=1.25, bold=True))
        self.index_spin = QSpinBox(objectName="inspectorIndexSpin")
        self.index_spin.setPrefix("image #")
        self.index_spin.setToolTip("The test image to follow through the network")
        self.index_spin.setRange(0, 0)
        self.index_spin.setEnabled(False)
        self.index_spin.valueChanged.connect(self._on_index_changed)
        self.random_button = QPushButton("Random", objectName="inspectorRandomButton")
        self.random_button.clicked.connect(self.random_test_image)
        self.sample_label = QLabel("", objectName="inspectorSampleLabel")
        # May be cut short in a narrow window (the tooltip has it all) but never widens it.
        self.sample_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.target_combo = QComboBox(objectName="inspectorTargetCombo")
        self.target_combo.setToolTip(
            "The label t the loss compares against. Pick another to see the gradient that "
            "would push the network towards it."
        )
        self.target_combo.activated.connect(self._on_target_chosen)
        self.prev_button = QPushButton("◀  Prev", objectName="inspectorPrevButton")
        self.prev_button.clicked.connect(self.step_prev)
        self.next_button = QPushButton("Next  ▶", objectName="inspectorNextButton")
        self.next_button.clicked.connect(self.step_next)
        self.step_label = QLabel("", objectName="inspectorStepLabel")
        self.step_label.setMinimumWidth(260)
        self.step_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.step_label.setFont(font(self.font(), bold=True))

        header = QHBoxLayout()
        header.addWidget(title)
        header.addSpacing(6)
        header.addWidget(self.index_spin)
        header.addWidget(self.random_button)
        header.addSpacing(8)
        header.addWidget(self.sample_label, 1)
        header.addWidget(QLabel("target"))
        header.addWidget(self.target_combo)

        steps = QHBoxLayout()
        steps.addStretch(1)
        steps.addWidget(self.prev_button)
        steps.addWidget(self.step_label)
        steps.addWidget(self.next_button)
        steps.addStretch(1)

        self.graph = ComputationalGraph()
        self.graph.nodeClicked.connect(self._on_node_clicked)
        self.caption = QLabel("", objectName="inspectorCaption")
        self.caption.setWordWrap(True)
        self.caption.setTextFormat(Qt.TextFormat.RichText)
        self.caption.setMinimumHeight(48)
        self.caption.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        caption_font = QFont(self.font())
        caption_font.setPointSizeF(caption_font.pointSizeF() * 1.05)
        self.caption.setFont(caption_font)

        self.panels = {
            "forward_in": VectorPanel("inspectorForwardIn"),
            "forward_out": VectorPanel("inspectorForwardOut"),
            "backward_in": VectorPanel("inspectorBackwardIn"),
            "backward_out": VectorPanel("inspectorBackwardOut"),
        }
        panels = QHBoxLayout()
        panels.setSpacing(8)
        for key in ("forward_in", "forward_out", "backward_in", "backward_out"):
            panels.addWidget(self.panels[key], 1)

        card = QFrame(objectName="card")
        inner = QVBoxLayout(card)
        inner.setContentsMargins(14, 12, 14, 12)
        inner.setSpacing(8)
        inner.addLayout(header)
        inner.addWidget(self.graph)
        inner.addLayout(steps)
        inner.addWidget(self.caption)
        inner.addLayout(panels, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(card)

    # == public API ============================================================================
    def set_network(self, params: Mapping[str, NDArray] | None, activation: str = "relu") -> None:
        """Inspect this network (copied); None clears the view. While the view is hidden only
        the copy is made (weights stream in during training): the trace is recomputed when
        the view is shown or :attr:`trace` is read."""
        self._params = None if params is None else {k: np.array(v) for k, v in params.items()}
        self._activation = activation
        if self.isVisible():
            self._refresh()
        else:
            self._stale = True

    def set_data(self, x: NDArray | None, t: NDArray | None) -> None:
        """Test images (N, 784) and labels (N,) for the chooser; shows image 0 if no sample is
        shown yet."""
        if x is None or t is None or len(x) == 0:
            self._x_test = self._t_test = None
            self.index_spin.setEnabled(False)
            self._refresh()
            return
        self._x_test = np.asarray(x)
        t = np.asarray(t)
        self._t_test = t.argmax(axis=1) if t.ndim == 2 else t
        self.index_spin.blockSignals(True)
        self.index_spin.setRange(0, len(self._x_test) - 1)
        self.index_spin.blockSignals(False)
        self.index_spin.setEnabled(True)
        if self._sample is None or self._sample_source.startswith("test"):
            self.show_test_image(min(self.index_spin.value(), len(self._x_test) - 1))
        else:
            self._refresh()

    def show_test_image(self, index: int) -> None:
        """Inspect test image ``index`` with its true label as the target."""
        if self._x_test is None or self._t_test is None:
            raise RuntimeError("no test set: call set_data first")
        if not 0 <= index < len(self._x_test):
            raise ValueError(f"index must be in [0, {len(self._x_test)}), got {index}")
        self._sample = np.asarray(self._x_test[index], dtype=np.float32).ravel()
        self._sample_label = int(self._t_test[index])
        self._sample_source = f"test image #{index}"
        self._target = self._sample_label
        if self.index_spin.value() != index:
            self.index_spin.blockSignals(True)
            self.index_spin.setValue(index)
            self.index_spin.blockSignals(False)
        self._refresh()

    @Slot()
    def random_test_image(self) -> None:
        if self._x_test is not None:
            self.show_test_image(int(self._rng.integers(len(self._x_test))))

    def set_sample(self, x: NDArray, label: int | None = None) -> None:
        """Inspect an image from elsewhere (e.g. the drawing pad): ``x`` has 784 values in
        [0, 1]; ``label`` None means "unknown": the network's prediction becomes the target."""
        x = np.asarray(x, dtype=np.float32).ravel()
        self._sample = x.copy()
        self._sample_label = None if label is None else int(label)
        self._sample_source = "your image"
        self._target = self._sample_label
        self._refresh()

    def set_target(self, label: int | None) -> None:
        """Compare against ``label`` instead (None: the sample's own label or prediction)."""
        self._target = None if label is None else int(label)
        self._refresh()

    @property
    def trace(self) -> list[NodeTrace] | None:
        if self._stale:
            self._refresh()
        return self._trace

    @property
    def step(self) -> int:
        return self._step

    @property
    def active(self) -> tuple[str, str] | None:
        """(node name, "forward" | "backward") of the current step, or None."""
        nodes = self.trace
        if nodes is None:
            return None
        node, direction = STEPS[self._step]
        return nodes[node].name, direction

    def set_step(self, step: int) -> None:
        """Go to step 0..7 (0-3 forward, left to right; 4-7 backward, right to left)."""
        step = int(step)
        if not 0 <= step < len(STEPS):
            raise ValueError(f"step must be in [0, {len(STEPS)}), got {step}")
        if step != self._step:
            self._step = step
            self._show_step()
            self.stepChanged.emit(step)

    @Slot()
    def step_next(self) -> None:
        if self._step < len(STEPS) - 1:
            self.set_step(self._step + 1)

    @Slot()
    def step_prev(self) -> None:
        if self._step > 0:
            self.set_step(self._step - 1)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self._refresh()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Right:
            self.step_next()
        elif event.key() == Qt.Key.Key_Left:
            self.step_prev()
        else:
            super().keyPressEvent(event)

    # == internals =============================================================================
    def _refresh(self) -> None:
        """Recompute the trace for the current network, sample and target, then redraw."""
        self._stale = False
        self._trace = None
        message = ""
        if self._params is None:
            message = "Train or load a network to inspect its backward pass."
        elif self._sample is None:
            message = "Choose a test image (load a data set) or send one from the drawing pad."
        else:
            try:
                self._trace = trace(self._params, self._activation, self._sample, self._target)
            except ValueError as exc:
                message = f"Cannot trace this sample: {exc}"
        self._message = message
        self._update_sample_widgets()
        self._show_step()
        self.traceChanged.emit()

    def _update_sample_widgets(self) -> None:
        has_test = self._x_test is not None
        self.random_button.setEnabled(has_test)
        self.target_combo.blockSignals(True)
        if self._trace is None:
            self.target_combo.clear()
            self.target_combo.setEnabled(False)
            self.sample_label.setText("")
            self.target_combo.blockSignals(False)
            return
        n = self._trace[3].forward_in.size
        used = int(self._trace[3].extras["label"])
        texts = []
        for digit in range(n):
            if digit == self._sample_label:
                texts.append(f"t = {digit} (true label)")
            elif self._sample_label is None and self._target is None and digit == used:
                texts.append(f"t = {digit} (prediction)")
            else:
                texts.append(f"t = {digit}")
        current = [self.target_combo.itemText(i) for i in range(self.target_combo.count())]
        if texts != current:  # rebuilt only when it changes: new weights arrive 5 times a second
            self.target_combo.clear()
            for digit, text in enumerate(texts):
                self.target_combo.addItem(text, digit)
        self.target_combo.setCurrentIndex(used)
        self.target_combo.setEnabled(True)
        self.target_combo.blockSignals(False)
        y = self._trace[3].extras["y"]
        predicted = int(np.argmax(y))
        label = "no label" if self._sample_label is None else f"label {self._sample_label}"
        verdict = ""
        if self._sample_label is not None:
            verdict = "  ✔" if predicted == self._sample_label else "  ✘"
        text = (
            f"{self._sample_source} · {label} · predicted {predicted} "
            f"({100 * float(y[predicted]):.1f} %){verdict}"
        )
        self.sample_label.setText(text)
        self.sample_label.setToolTip(text)

    def _show_step(self) -> None:
        index, direction = STEPS[self._step]
        self.prev_button.setEnabled(self._trace is not None and self._step > 0)
        self.next_button.setEnabled(self._trace is not None and self._step < len(STEPS) - 1)
        self.graph.set_state(self._trace, self._step, self._message)
        if self._trace is None:
            self.step_label.setText("")
            self.caption.setText(f"<span style='color:{theme.MUTED}'>{self._message}</span>")
            for panel in self.panels.values():
                panel.set_content(None)
            return
        node = self._trace[index]
        colour = FORWARD if direction == FORWARD_DIR else BACKWARD
        arrow = "→" if direction == FORWARD_DIR else "←"
        self.step_label.setText(
            f"Step {self._step + 1} of {len(STEPS)} · {direction} {arrow} · {_display_name(node)}"
        )
        self.step_label.setStyleSheet(f"color: {colour};")
        self.caption.setText(caption(self._trace, self._step))
        for key, content in self._panel_contents(index, direction).items():
            self.panels[key].set_content(content)

    def _panel_contents(self, index: int, direction: str) -> dict[str, PanelContent]:
        nodes = self._trace
        assert nodes is not None
        node = nodes[index]
        label = int(nodes[3].extras["label"])
        blocked = node.extras.get("mask") if node.kind == RELU else None
        fwd_in_symbol, fwd_out_symbol = FORWARD_SYMBOLS[index], FORWARD_SYMBOLS[index + 1]
        bwd_in_symbol, bwd_out_symbol = BACKWARD_SYMBOLS[index + 1], BACKWARD_SYMBOLS[index]
        later = (
            "Computed in the backward pass — step on with Next." if direction == FORWARD_DIR else ""
        )
        contents = {
            "forward_in": PanelContent(
                f"forward in: {fwd_in_symbol}",
                node.forward_in,
                "pixels" if index == 0 else "signed",
                FORWARD,
                highlight=int(np.argmax(node.forward_in)) if index == 3 else None,
            ),
            "forward_out": PanelContent(
                f"forward out: {fwd_out_symbol}",
                node.forward_out,
                "signed",
                FORWARD,
                blocked=blocked,
            ),
            "backward_in": PanelContent(
                f"backward in: {bwd_in_symbol}",
                node.backward_in if direction == BACKWARD_DIR else None,
                "signed",
                BACKWARD,
                blocked=blocked,
                placeholder=later,
                highlight=label if index == 2 else None,
            ),
            "backward_out": PanelContent(
                f"backward out: {bwd_out_symbol}",
                node.backward_out if direction == BACKWARD_DIR else None,
                "signed",
                BACKWARD,
                blocked=blocked,
                placeholder=later,
                highlight=label if index == 3 else None,
            ),
        }
        if node.kind == SOFTMAX_WITH_LOSS:
            # The loss is one number; the probabilities y are what the reader wants to see.
            contents["forward_out"] = PanelContent(
                f"forward out: y, L = {format_number(float(node.forward_out), 3)}",
                node.extras["y"],
                "probabilities",
                FORWARD,
                highlight=label,
                note=f"y{label} = {format_number(float(node.extras['y'][label]))} for t = {label}",
            )
            contents["backward_in"].title = "backward in: ∂L/∂L"
            contents["backward_in"].note = "every backward pass starts from 1"
            if contents["backward_out"].values is not None:
                contents["backward_out"].title = "backward out: (y − t) / batch"
        return contents

    @Slot(int)
    def _on_index_changed(self, index: int) -> None:
        if self._x_test is not None:
            self.show_test_image(index)

    @Slot(int)
    def _on_target_chosen(self, position: int) -> None:
        self.set_target(int(self.target_combo.itemData(position)))

    @Slot(int)
    def _on_node_clicked(self, node: int) -> None:
        direction = STEPS[self._step][1]
        self.set_step(STEPS.index((node, direction)))
