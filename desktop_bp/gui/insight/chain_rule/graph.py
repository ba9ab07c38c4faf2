"""A computational graph of primitive nodes, drawn as the book draws it, stepped right to left.

Nodes are circles (the operations: ×, +, exp, …) or plain text (the inputs and the output);
arrows run left to right with the forward value above them and the gradient, in the chapter's
red, underneath. Step 0 is the forward pass alone; each step then processes one operation,
right to left: its incoming arrows get their gradients, and a callout under the graph shows the
chain rule at that node — upstream gradient x local derivative = downstream gradient.

The widget knows nothing about layers or apples: it draws a :class:`GraphPicture` (pure data,
built by ``layer_panel.py`` and ``sandbox.py``). Left/Right step, as in the
Backward pass tab; clicking an operation jumps to its step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal, Slot
from PySide6.QtGui import (
    QColor,
    QFontMetricsF,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPolygonF,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from desktop_bp.gui import theme
from desktop_bp.gui.insight._paint import BACKWARD, FORWARD, font
from desktop_bp.gui.insight._stepping import arrow_step


@dataclass(frozen=True)
class GraphNode:
    """An operation (``op``, drawn as a circle) or an input/output (text) at a grid position.

    col, row : grid coordinates (fractions allowed); row 0 is the main line, rows grow down.
    callout  : the lines shown when the step reaches this operation.
    """

    key: str
    label: str
    col: float
    row: float
    op: bool = True
    callout: tuple[str, ...] = ()


@dataclass(frozen=True)
class GraphEdge:
    """An arrow from ``src`` to ``dst`` with its forward value and gradient as text."""

    src: str
    dst: str
    forward: str
    backward: str


@dataclass(frozen=True)
class GraphPicture:
    """What :class:`ChainRuleGraph` draws. ``order``: the operations' keys, forward order."""

    nodes: tuple[GraphNode, ...]
    edges: tuple[GraphEdge, ...]
    order: tuple[str, ...]

    def node(self, key: str) -> GraphNode:
        return next(n for n in self.nodes if n.key == key)

    def edge(self, src: str, dst: str) -> GraphEdge:
        return next(e for e in self.edges if e.src == src and e.dst == dst)


def backward_done(picture: GraphPicture, step: int) -> set[str]:
    """The operations whose backward has run after ``step`` (0: none; the last s, right to left)."""
    return set(picture.order[len(picture.order) - step :]) if step > 0 else set()


def backward_visible(picture: GraphPicture, edge: GraphEdge, step: int) -> bool:
    """An arrow's gradient is known once its head has run backward (or, into an output, from
    the first step on: the upstream gradient everything starts from)."""
    if step <= 0 or not edge.backward:
        return False
    head = picture.node(edge.dst)
    return not head.op or edge.dst in backward_done(picture, step)


class ChainRuleGraph(QWidget):
    """Draws a :class:`GraphPicture` and steps through its backward pass.

    Signal ``stepChanged(int)``. ``step`` is 0 (forward only) to ``len(picture.order)``.
    """

    stepChanged = Signal(int)

    RADIUS = 19.0
    CALLOUT_LINES = 3

    def __init__(self, parent: QWidget | None = None, *, object_name: str = "chainRuleGraph"):
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(560, 230)
        self.picture: GraphPicture | None = None
        self.message = ""
        self._step = 0

    def sizeHint(self) -> QSize:
        return QSize(980, 300)

    # -- state ---------------------------------------------------------------------------------
    @property
    def step(self) -> int:
        return self._step

    @property
    def active(self) -> str | None:
        """The operation the current step is at, or None (forward pass / nothing drawn)."""
        if self.picture is None or self._step == 0:
            return None
        return self.picture.order[len(self.picture.order) - self._step]

    def set_picture(self, picture: GraphPicture | None, message: str = "") -> None:
        """Draw ``picture``; the step is kept when the operations are the same ones (new numbers
        for the same graph), otherwise it goes back to the forward pass."""
        same = (
            picture is not None and self.picture is not None and picture.order == self.picture.order
        )
        self.picture, self.message = picture, message
        if not same and self._step != 0:
            self._step = 0
            self.stepChanged.emit(0)
        self.update()

    def set_step(self, step: int) -> None:
        steps = len(self.picture.order) if self.picture is not None else 0
        step = int(step)
        if not 0 <= step <= steps:
            raise ValueError(f"step must be in [0, {steps}], got {step}")
        if step != self._step:
            self._step = step
            self.update()
            self.stepChanged.emit(step)

    @Slot()
    def step_next(self) -> None:
        if self.picture is not None and self._step < len(self.picture.order):
            self.set_step(self._step + 1)

    @Slot()
    def step_prev(self) -> None:
        if self._step > 0:
            self.set_step(self._step - 1)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if not arrow_step(event, self.step_prev, self.step_next):
            super().keyPressEvent(event)

    # -- geometry ------------------------------------------------------------------------------
    def _graph_rect(self) -> QRectF:
        line = self.fontMetrics().height() + 2
        return QRectF(self.rect()).adjusted(12, 8, -12, -(self.CALLOUT_LINES * line + 18))

    def positions(self) -> dict[str, QPointF]:
        """Each node's centre in widget coordinates."""
        assert self.picture is not None
        nodes = self.picture.nodes
        cols = [n.col for n in nodes]
        rows = [n.row for n in nodes]
        # Room for the text of the inputs on the left and the output on the right.
        bold = font(self.font(), bold=True)
        metrics = QFontMetricsF(bold)
        left = max(
            (metrics.horizontalAdvance(n.label) / 2 for n in nodes if n.col == min(cols)),
            default=0.0,
        )
        right = max(
            (metrics.horizontalAdvance(n.label) / 2 for n in nodes if n.col == max(cols)),
            default=0.0,
        )
        area = self._graph_rect().adjusted(max(left, 20) + 8, 28, -max(right, 20) - 8, -28)
        col_span = max(cols) - min(cols) or 1.0
        row_span = max(rows) - min(rows)
        row_step = min(96.0, area.height() / row_span) if row_span else 0.0
        top = area.center().y() - row_step * row_span / 2
        return {
            n.key: QPointF(
                area.left() + area.width() * (n.col - min(cols)) / col_span,
                top + row_step * (n.row - min(rows)),
            )
            for n in nodes
        }

    def node_at(self, pos: QPointF) -> str | None:
        if self.picture is None:
            return None
        for key, centre in self.positions().items():
            if self.picture.node(key).op and math.dist(
                (pos.x(), pos.y()), (centre.x(), centre.y())
            ) <= (self.RADIUS + 4):
                return key
        return None

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.setFocus()
        key = self.node_at(event.position())
        if key is not None and event.button() == Qt.MouseButton.LeftButton:
            assert self.picture is not None
            self.set_step(len(self.picture.order) - self.picture.order.index(key))

    # -- painting ------------------------------------------------------------------------------
    def _extent(self, node: GraphNode) -> float:
        """How far an arrow stops short of the node's centre."""
        if node.op:
            return self.RADIUS + 2
        return self.fontMetrics().horizontalAdvance(node.label) / 2 + 6

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor(theme.PLOT_BG))
        if self.picture is None:
            painter.setPen(QColor(theme.MUTED))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.message)
            painter.end()
            return
        picture = self.picture
        where = self.positions()
        done = backward_done(picture, self._step)
        for edge in picture.edges:
            self._draw_edge(painter, edge, where, backward_visible(picture, edge, self._step))
        for node in picture.nodes:
            self._draw_node(painter, node, where[node.key], node.key in done)
        self._draw_callout(painter)
        painter.end()

    def _draw_edge(
        self, painter: QPainter, edge: GraphEdge, where: dict[str, QPointF], show_backward: bool
    ) -> None:
        picture = self.picture
        assert picture is not None
        src, dst = picture.node(edge.src), picture.node(edge.dst)
        a, b = where[edge.src], where[edge.dst]
        dx, dy = b.x() - a.x(), b.y() - a.y()
        length = math.hypot(dx, dy) or 1.0
        ux, uy = dx / length, dy / length
        start = QPointF(a.x() + ux * self._extent(src), a.y() + uy * self._extent(src))
        end = QPointF(b.x() - ux * self._extent(dst), b.y() - uy * self._extent(dst))
        painter.setPen(QPen(QColor(theme.AXIS_TEXT), 1.4))
        painter.drawLine(start, end)
        head = QPolygonF(
            [
                end,
                QPointF(end.x() - ux * 8 - uy * 4, end.y() - uy * 8 + ux * 4),
                QPointF(end.x() - ux * 8 + uy * 4, end.y() - uy * 8 - ux * 4),
            ]
        )
        painter.setBrush(QColor(theme.AXIS_TEXT))
        painter.drawPolygon(head)
        # Forward value above the arrow, gradient below (perpendicular, "above" pointing up).
        nx, ny = uy, -ux
        if ny > 0:
            nx, ny = -nx, -ny
        # Labels sit a little before the middle: arrows converging on a node are further apart.
        along = 0.45 if src.op and dst.op else 0.4
        mid = QPointF(
            start.x() + (end.x() - start.x()) * along, start.y() + (end.y() - start.y()) * along
        )
        painter.setFont(font(self.font(), scale=0.92))
        self._draw_label(
            painter, QPointF(mid.x() + nx * 12, mid.y() + ny * 12), edge.forward, FORWARD
        )
        if show_backward:
            self._draw_label(
                painter, QPointF(mid.x() - nx * 12, mid.y() - ny * 12), edge.backward, BACKWARD
            )

    def _draw_label(self, painter: QPainter, centre: QPointF, text: str, colour: str) -> None:
        if not text:
            return
        metrics = painter.fontMetrics()
        width, height = metrics.horizontalAdvance(text) + 6, metrics.height()
        box = QRectF(centre.x() - width / 2, centre.y() - height / 2, width, height)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(theme.PLOT_BG))
        painter.drawRect(box)
        painter.setPen(QColor(colour))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)

    def _draw_node(self, painter: QPainter, node: GraphNode, centre: QPointF, done: bool) -> None:
        if not node.op:
            painter.setFont(font(self.font(), bold=True))
            painter.setPen(QColor(theme.TEXT))
            metrics = painter.fontMetrics()
            width = metrics.horizontalAdvance(node.label) + 8
            box = QRectF(centre.x() - width / 2, centre.y() - metrics.height() / 2, width, 0)
            box.setHeight(metrics.height())
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, node.label)
            return
        active = node.key == self.active
        outline = "#ffffff" if active else (BACKWARD if done else theme.GRID)
        painter.setPen(QPen(QColor(outline), 2.6 if active else 1.6))
        painter.setBrush(QColor("#3a2a26" if active else theme.CARD))
        painter.drawEllipse(centre, self.RADIUS, self.RADIUS)
        label = node.label
        scale = (
            1.35 if len(label) == 1 else (1.0 if len(label) <= 3 else max(0.62, 3.4 / len(label)))
        )
        painter.setFont(font(self.font(), scale=scale, bold=True))
        painter.setPen(QColor(theme.TEXT))
        r = self.RADIUS
        painter.drawText(
            QRectF(centre.x() - r, centre.y() - r, 2 * r, 2 * r),
            Qt.AlignmentFlag.AlignCenter,
            label,
        )

    def _draw_callout(self, painter: QPainter) -> None:
        assert self.picture is not None
        painter.setFont(self.font())
        metrics = painter.fontMetrics()
        line = metrics.height() + 2
        box = QRectF(
            12, self.height() - self.CALLOUT_LINES * line - 12, self.width() - 24, line * 3 + 6
        )
        painter.setPen(QPen(QColor(theme.BORDER), 1))
        painter.setBrush(QColor(theme.CARD))
        painter.drawRoundedRect(box, 5, 5)
        active = self.active
        if active is None:
            lines = [
                "Forward pass: the values above the arrows, left to right.",
                "Press → (or Next) to run the backward pass, one node at a time, right to left.",
            ]
            colour = theme.MUTED
        else:
            node = self.picture.node(active)
            lines = [f"Node {node.label}:", *node.callout]
            colour = BACKWARD
        painter.setPen(QColor(colour))
        for i, text in enumerate(lines[: self.CALLOUT_LINES]):
            painter.drawText(
                QRectF(box.left() + 10, box.top() + 3 + i * line, box.width() - 20, line),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                text,
            )


def value_text(value: float, digits: int = 4) -> str:
    """Plain decimal or scientific, ``digits`` significant: 220.00000000000003 → '220',
    0.000123456 → '0.0001235', 1.2e-07 → '1.2e-07'; a typographic minus."""
    return f"{value:.{digits}g}".replace("-", "−")
