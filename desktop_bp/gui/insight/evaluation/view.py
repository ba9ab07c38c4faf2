"""Where the network still fails: confusion matrix, per-class accuracy and a gallery of mistakes.

The test set is evaluated in a worker thread (:func:`desktop_bp.core.evaluation.evaluate`);
the matrix counts (true, predicted) pairs with the per-class accuracy beside each row. A click
on a cell fills the gallery with those images — off the diagonal the most confident mistakes
first, on it the least confident correct ones — and a click on an image emits
``imageActivated`` so the main window can load it into the drawing pad.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import (
    QCloseEvent,
    QColor,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QResizeEvent,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desktop_bp.core.evaluation import EvaluationResult, evaluate
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
from desktop_bp.gui.qthreading import BackgroundTask

#: Most images the gallery draws at once (the rest are counted in its title).
GALLERY_LIMIT = 300
#: Live re-evaluation during training at most this often (ms).
LIVE_INTERVAL_MS = 400


def _blend(a: str, b: str, amount: float) -> QColor:
    """``a`` moved ``amount`` (0..1) of the way to ``b``."""
    ca, cb = QColor(a), QColor(b)
    amount = min(max(amount, 0.0), 1.0)
    return QColor(
        round(ca.red() + (cb.red() - ca.red()) * amount),
        round(ca.green() + (cb.green() - ca.green()) * amount),
        round(ca.blue() + (cb.blue() - ca.blue()) * amount),
    )


def _percent(share: float) -> str:
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
                    colour = _blend(theme.CARD, "#2e9e5e", 0.25 + 0.75 * share)
                elif count:
                    colour = _blend(theme.CARD, "#d9483b", 0.18 + 0.82 * min(1.0, 5 * share))
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
                    painter.setBrush(_blend(BAD, GOOD, share))
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
                _percent(float(self.confidence[position])) + " sure",
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


class EvaluationView(QWidget):
    """The evaluation tab.

    API: :meth:`set_network` (params copied), :meth:`set_data`, :meth:`evaluate` (worker
    thread), :meth:`set_result` (show a finished :class:`EvaluationResult` at once),
    :meth:`select_cell`, :meth:`show_all_mistakes`, :meth:`gallery_indices`,
    :meth:`activate_gallery_item`.
    Signals: ``imageActivated(np.ndarray (784,) float32, int true_label)`` on a gallery click;
    ``cellSelected(int, int)``; ``evaluationFinished(EvaluationResult)``;
    ``evaluationFailed(str)``.
    Children: ``evaluateButton``, ``evaluationLiveCheck``, ``evaluationBusy``,
    ``evaluationSummary``, ``confusionMatrix``, ``galleryTitle``, ``galleryAllButton``,
    ``mistakeGallery``.
    """

    tab_title = "Evaluation"
    tab_tooltip = "Confusion matrix and the test images the network gets wrong"

    imageActivated = Signal(object, int)
    cellSelected = Signal(int, int)
    evaluationFinished = Signal(object)
    evaluationFailed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("evaluationView")
        self._params: dict[str, NDArray] | None = None
        self._activation = "relu"
        self._x: NDArray | None = None
        self._t: NDArray | None = None
        self._result: EvaluationResult | None = None
        self._result_x: NDArray | None = None
        self._cell: tuple[int, int] | None = None
        self._stale = False
        self._shown_indices: NDArray = np.zeros(0, np.int64)
        self._task = BackgroundTask(self)
        self._task.succeeded.connect(self._on_succeeded)
        self._task.failed.connect(self._on_failed)
        self._task.finished.connect(self._update_busy)
        self._live_timer = QTimer(self)
        self._live_timer.setSingleShot(True)
        self._live_timer.setInterval(LIVE_INTERVAL_MS)
        self._live_timer.timeout.connect(self._live_tick)
        self._build()
        self._update_busy()

    # == building ==============================================================================
    def _build(self) -> None:
        title = QLabel("Where the network fails", objectName="cardTitle")
        title.setFont(font(self.font(), scale=1.25, bold=True))
        self.evaluate_button = QPushButton("Evaluate test set", objectName="evaluateButton")
        self.evaluate_button.clicked.connect(self.evaluate)
        self.live_check = QCheckBox("Update while training", objectName="evaluationLiveCheck")
        self.live_check.setChecked(True)
        self.live_check.setToolTip(
            f"Re-evaluate at most every {LIVE_INTERVAL_MS} ms when new weights arrive "
            "(only while this view is visible)."
        )
        self.busy = QProgressBar(objectName="evaluationBusy")
        self.busy.setRange(0, 0)  # indeterminate
        self.busy.setMaximumWidth(120)
        self.busy.setTextVisible(False)
        self.summary = QLabel("", objectName="evaluationSummary")
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        header = QHBoxLayout()
        header.addWidget(title)
        header.addSpacing(16)
        header.addWidget(self.summary, 1)
        header.addWidget(self.busy)
        header.addWidget(self.live_check)
        header.addWidget(self.evaluate_button)

        self.matrix = ConfusionMatrixWidget()
        self.matrix.cellClicked.connect(self.select_cell)
        matrix_hint = QLabel(
            "Rows: the true digit; columns: what the network said. Click a cell to see its images.",
            objectName="hint",
        )
        matrix_hint.setWordWrap(True)
        left = QVBoxLayout()
        left.setSpacing(6)
        left.addWidget(self.matrix, 1)
        left.addWidget(matrix_hint)

        self.gallery_title = QLabel("", objectName="galleryTitle")
        self.gallery_title.setFont(font(self.font(), bold=True))
        self.all_button = QPushButton("All mistakes", objectName="galleryAllButton")
        self.all_button.clicked.connect(self.show_all_mistakes)
        gallery_header = QHBoxLayout()
        gallery_header.addWidget(self.gallery_title, 1)
        gallery_header.addWidget(self.all_button)
        self.gallery = MistakeGallery()
        self.gallery.tileClicked.connect(self.activate_gallery_item)
        self.gallery_scroll = QScrollArea()
        self.gallery_scroll.setWidgetResizable(True)
        self.gallery_scroll.setWidget(self.gallery)
        self.gallery_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.gallery_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        gallery_hint = QLabel("Click an image to load it into the drawing pad.", objectName="hint")
        gallery_hint.setWordWrap(True)  # never what makes the window wider
        right = QVBoxLayout()
        right.setSpacing(6)
        right.addLayout(gallery_header)
        right.addWidget(self.gallery_scroll, 1)
        right.addWidget(gallery_hint)

        body = QHBoxLayout()
        body.setSpacing(14)
        body.addLayout(left, 1)
        body.addLayout(right, 1)
        card = QFrame(objectName="card")
        inner = QVBoxLayout(card)
        inner.setContentsMargins(14, 12, 14, 12)
        inner.setSpacing(10)
        inner.addLayout(header)
        inner.addLayout(body, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(card)
        self._show_gallery(np.zeros(0, np.int64), "", "No evaluation yet.")

    # == public API ============================================================================
    def set_network(self, params: Mapping[str, NDArray] | None, activation: str = "relu") -> None:
        """Evaluate this network (copied) — at once-ish when live and visible, else on demand
        or when the view is next shown."""
        self._params = None if params is None else {k: np.array(v) for k, v in params.items()}
        self._activation = activation
        if params is None:
            self._live_timer.stop()
            self._task.cancel()
            self.set_result(None)
        else:
            self._stale = True
            self._schedule_live()
        self._update_busy()

    def set_data(self, x: NDArray | None, t: NDArray | None) -> None:
        """The labelled set to evaluate: x (N, 784) in [0, 1], t (N,) labels or one-hot."""
        if x is None or t is None:
            self._x = self._t = None
        else:
            self._x, self._t = np.asarray(x), np.asarray(t)
        if self._result is not None:
            self.set_result(None)
        self._stale = True
        self._schedule_live()
        self._update_busy()

    @Slot()
    def evaluate(self) -> bool:
        """Start evaluating the current network on the data in a worker thread; False if
        there is nothing to evaluate. A request while one runs replaces any waiting one."""
        if self._params is None or self._x is None or self._t is None:
            self.summary.setText(
                f"<span style='color:{theme.WARNING}'>Nothing to evaluate yet: "
                + ("train or load a network." if self._params is None else "load a data set.")
                + "</span>"
            )
            return False
        params, activation, x, t = self._params, self._activation, self._x, self._t
        self._stale = False

        def work(report, should_stop) -> object:
            return x, evaluate(params, activation, x, t, should_stop=should_stop)

        self._task.start(work)
        self._update_busy()
        return True

    def set_result(self, result: EvaluationResult | None, x: NDArray | None = None) -> None:
        """Show ``result`` (computed on ``x``, default the view's data) without a thread."""
        self._result = result
        source = x if x is not None else self._x
        self._result_x = None if result is None or source is None else np.asarray(source)
        if result is None:
            self.matrix.set_matrix(None, None)
            self.matrix.set_selected(None)
            self.summary.setText("")
            self._show_gallery(np.zeros(0, np.int64), "", "No evaluation yet.")
            return
        if self._result_x is None or len(self._result_x) != result.size:
            raise ValueError(
                f"the result covers {result.size} images but the data has "
                f"{0 if self._result_x is None else len(self._result_x)}"
            )
        self.matrix.set_matrix(result.confusion, result.class_accuracy)
        wrong = len(result.mistake_order)
        self.summary.setText(
            f"test accuracy <b>{100 * result.accuracy:.2f} %</b> · "
            f"<span style='color:{BAD}'>{wrong:,}</span> of {result.size:,} wrong · "
            f"loss {result.loss:.3f}"
        )
        if self._cell is not None:
            self.select_cell(*self._cell)
        else:
            self.show_all_mistakes()

    @property
    def result(self) -> EvaluationResult | None:
        return self._result

    @property
    def per_class_accuracy(self) -> NDArray | None:
        """(n,) accuracy per true class of the shown result."""
        return None if self._result is None else self._result.class_accuracy

    def select_cell(self, true: int, predicted: int) -> None:
        """Show the images of class ``true`` predicted as ``predicted`` in the gallery (what a
        click on the matrix does)."""
        if self._result is None:
            raise RuntimeError("no evaluation result yet")
        indices = self._result.cell(int(true), int(predicted))
        self._cell = (int(true), int(predicted))
        self.matrix.set_selected(self._cell)
        if true == predicted:
            title = f"{len(indices):,} correct {true}s — least confident first"
            empty = f"No test image of {true} was classified correctly."
        else:
            title = (
                f"{len(indices):,} image{'s' if len(indices) != 1 else ''} of {true} "
                f"predicted as {predicted} — most confident first"
            )
            empty = f"No {true} was mistaken for a {predicted}."
        self._show_gallery(indices, title, empty)
        self.cellSelected.emit(int(true), int(predicted))

    @Slot()
    def show_all_mistakes(self) -> None:
        """Every misclassified image, most confident mistake first."""
        self._cell = None
        self.matrix.set_selected(None)
        if self._result is None:
            self._show_gallery(np.zeros(0, np.int64), "", "No evaluation yet.")
            return
        order = self._result.mistake_order
        self._show_gallery(
            order,
            f"All {len(order):,} mistakes — most confident first",
            "No mistakes at all on this set.",
        )

    def gallery_indices(self) -> NDArray[np.int64]:
        """Indices (into the evaluated set) of the images the gallery shows, in order."""
        return self._shown_indices.copy()

    @Slot(int)
    def activate_gallery_item(self, position: int) -> None:
        """Emit ``imageActivated`` for the gallery's ``position``-th image."""
        if self._result is None or self._result_x is None:
            return
        if not 0 <= position < len(self._shown_indices):
            raise ValueError(f"position must be in [0, {len(self._shown_indices)}), got {position}")
        index = int(self._shown_indices[position])
        image = np.array(self._result_x[index], dtype=np.float32).ravel()
        self.imageActivated.emit(image, int(self._result.labels[index]))

    def cancel_work(self) -> None:
        """Ask a running evaluation to stop (the window is closing)."""
        self._task.cancel()

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        self._live_timer.stop()
        return self._task.shutdown(timeout_ms)

    # == internals =============================================================================
    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self._schedule_live(immediately=True)

    def _schedule_live(self, *, immediately: bool = False) -> None:
        if not (self.live_check.isChecked() and self.isVisible()):
            return
        if self._params is None or self._x is None:
            return
        if immediately or self._result is None:
            self._live_timer.stop()
            self.evaluate()
        elif not self._live_timer.isActive():
            self._live_timer.start()

    @Slot()
    def _live_tick(self) -> None:
        if self._stale and self.isVisible():
            self.evaluate()

    def _show_gallery(self, indices: NDArray, title: str, empty: str) -> None:
        result, x = self._result, self._result_x
        self._shown_indices = np.asarray(indices[:GALLERY_LIMIT], dtype=np.int64)
        if result is None or x is None or len(indices) == 0:
            self._shown_indices = np.zeros(0, np.int64)
            self.gallery.set_items(
                np.zeros((0, 784)),
                np.zeros(0),
                np.zeros(0),
                np.zeros(0),
                np.zeros(0),
                empty_text=empty,
            )
            self.gallery_title.setText(title)
            self.all_button.setEnabled(result is not None and self._cell is not None)
            return
        shown = self._shown_indices
        more = len(indices) - len(shown)
        self.gallery_title.setText(
            title + (f" (first {len(shown)}; {more:,} more)" if more else "")
        )
        self.gallery.set_items(
            np.asarray(x[shown], dtype=np.float32),
            result.labels[shown],
            result.predictions[shown],
            result.confidence[shown],
            shown,
            empty_text=empty,
        )
        self.gallery_scroll.verticalScrollBar().setValue(0)
        self.all_button.setEnabled(self._cell is not None)

    def _update_busy(self) -> None:
        running = self._task.is_running
        self.busy.setVisible(running)
        self.evaluate_button.setEnabled(self._params is not None and self._x is not None)

    @Slot(object)
    def _on_succeeded(self, payload: object) -> None:
        x, result = payload
        self.set_result(result, x)
        self.evaluationFinished.emit(result)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        first = message.splitlines()[0] if message else "unknown error"
        self.summary.setText(f"<span style='color:{BAD}'>Evaluation failed: {first}</span>")
        self.summary.setToolTip(message)
        self.evaluationFailed.emit(message)
