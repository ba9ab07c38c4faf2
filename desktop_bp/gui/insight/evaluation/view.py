"""Where the network still fails: confusion matrix, per-class accuracy and a gallery of mistakes.

The test set is evaluated in a worker thread (:func:`desktop_bp.core.evaluation.evaluate`);
the matrix counts (true, predicted) pairs with the per-class accuracy beside each row. A click
on a cell fills the gallery with those images — off the diagonal the most confident mistakes
first, on it the least confident correct ones — and a click on an image emits
``imageActivated`` so the main window can load it into the drawing pad.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import (
    QCloseEvent,
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
    font,
)
from desktop_bp.gui.insight.evaluation.confusion_matrix import ConfusionMatrixWidget
from desktop_bp.gui.insight.evaluation.gallery import MistakeGallery
from desktop_bp.gui.qthreading import BackgroundTask

#: Most images the gallery draws at once (the rest are counted in its title).
GALLERY_LIMIT = 300
#: Live re-evaluation during training at most this often (ms).
LIVE_INTERVAL_MS = 400


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
