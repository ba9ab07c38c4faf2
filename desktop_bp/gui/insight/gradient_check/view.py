"""Gradient check: does backprop agree with the numerical gradient, and how much faster is it?

The chapter's ``gradient_check.py`` as a view: a few test images, the current network copied
to float64, every parameter's gradient computed both ways, the max relative error per
parameter in a table (green rows pass, red rows fail) and the two running times side by side
on a log scale. The numerical gradient of W1 takes seconds, so the check runs in a worker
thread with a progress bar and a Cancel button; the table fills in cheapest parameter first.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QBrush, QCloseEvent, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QStyledItemDelegate,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_bp.core.gradcheck import PASS_THRESHOLD
from desktop_bp.core.insight_gradcheck import (
    GradientCheckReport,
    ParameterCheck,
    run_gradient_check,
    total_forward_passes,
)
from desktop_bp.core.network import PARAM_NAMES
from desktop_bp.gui import theme
from desktop_bp.gui.insight._paint import (
    BAD,
    GOOD,
    font,
    format_number,
    format_power,
    format_seconds,
)
from desktop_bp.gui.insight.gradient_check.charts import AgreementPlot, TimingBars
from desktop_bp.gui.qthreading import BackgroundTask

#: Returns the network to check now — (params, activation) — or None when there is none.
ParamsProvider = Callable[[], tuple[Mapping[str, NDArray], str] | None]

COLUMNS = (
    "Parameter",
    "Max relative error",
    "Result",
    "Shape",
    "Forward passes",
    "Numerical time",
)
NAME, ERROR, RESULT, SHAPE, PASSES, TIME = range(len(COLUMNS))
DEFAULT_SAMPLES = 3
THRESHOLD = format_power(PASS_THRESHOLD)
PASS_ROW = "#1d3327"
FAIL_ROW = "#3a2024"
PARAM_TEXT = {
    "W1": "W1 — Affine1 weights",
    "b1": "b1 — Affine1 bias",
    "W2": "W2 — Affine2 weights",
    "b2": "b2 — Affine2 bias",
}


class _ScientificDelegate(QStyledItemDelegate):
    """Shows a float stored in DisplayRole as 1.23e-09 (the model keeps the full float)."""

    def displayText(self, value: object, locale: object) -> str:
        if isinstance(value, float):
            return f"{value:.2e}"
        return super().displayText(value, locale)


class GradientCheckView(QWidget):
    """The gradient-check tab.

    Feed it the network with :meth:`set_network` (copied) or :meth:`set_params_provider`
    (asked at click time), and test images with :meth:`set_data`. ``gradCheckButton`` (or
    :meth:`run_check`) starts the check in a worker thread.

    Signals: ``checkStarted()``; then ``checkFinished(GradientCheckReport)``,
    ``checkFailed(str)`` or ``checkCancelled()``.
    Children: ``gradCheckButton``, ``gradCheckCancelButton``, ``gradCheckSamplesSpin``,
    ``gradCheckProgress``, ``gradCheckTable``, ``gradCheckTiming``, ``gradCheckSummary``,
    ``gradCheckScatter``.
    """

    tab_title = "Gradient check"
    tab_tooltip = "Compare backprop's gradients with the numerical gradient, and time both"

    checkStarted = Signal()
    checkFinished = Signal(object)
    checkFailed = Signal(str)
    checkCancelled = Signal()

    def __init__(self, parent: QWidget | None = None, *, seed: int | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("gradCheckView")
        self._params: dict[str, NDArray] | None = None
        self._activation = "relu"
        self._provider: ParamsProvider | None = None
        self._x: NDArray | None = None
        self._t: NDArray | None = None
        self._rng = np.random.default_rng(seed)
        self._report: GradientCheckReport | None = None
        self._started = 0.0
        self._backprop_seconds: float | None = None
        self._task = BackgroundTask(self)
        self._task.progressed.connect(self._on_progress)
        self._task.succeeded.connect(self._on_succeeded)
        self._task.failed.connect(self._on_failed)
        self._task.cancelled.connect(self._on_cancelled)
        self._task.finished.connect(self._update_enabled)
        self._build()
        self._update_enabled()

    # == building ==============================================================================
    def _build(self) -> None:
        title = QLabel("Gradient check", objectName="cardTitle")
        title.setFont(font(self.font(), scale=1.25, bold=True))
        intro = QLabel(
            "Backprop gets every partial derivative from one backward pass. The numerical "
            "gradient nudges each parameter by ±h (h = 10⁻⁴) and runs the whole network twice "
            "per nudge. If both agree — max |backprop − numerical| / max |gradient| below "
            f"{THRESHOLD} — backprop is implemented correctly. The check runs on a float64 "
            "copy of the current network, which keeps training undisturbed.",
            objectName="hint",
        )
        intro.setWordWrap(True)

        self.samples_spin = QSpinBox(objectName="gradCheckSamplesSpin")
        self.samples_spin.setRange(1, 10)
        self.samples_spin.setValue(DEFAULT_SAMPLES)
        self.samples_spin.setSuffix(" test images")
        self.samples_spin.setToolTip("Batch size of the check (each image adds work)")
        self.run_button = QPushButton("Run gradient check", objectName="gradCheckButton")
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(self.run_check)
        self.cancel_button = QPushButton("Cancel", objectName="gradCheckCancelButton")
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar(objectName="gradCheckProgress")
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("Idle")
        self.progress.setTextVisible(True)
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Check on"))
        controls.addWidget(self.samples_spin)
        controls.addSpacing(8)
        controls.addWidget(self.run_button)
        controls.addWidget(self.cancel_button)
        controls.addSpacing(8)
        controls.addWidget(self.progress, 1)

        self.table = QTableWidget(len(PARAM_NAMES), len(COLUMNS), objectName="gradCheckTable")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setShowGrid(False)
        self.table.setItemDelegateForColumn(ERROR, _ScientificDelegate(self.table))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(NAME, QHeaderView.ResizeMode.ResizeToContents)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.table.verticalHeader().setDefaultSectionSize(30)
        self.table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setMinimumHeight(30 * len(PARAM_NAMES) + 34)
        self.table.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.table.setFixedHeight(30 * len(PARAM_NAMES) + 34)
        self._reset_table()

        self.timing = TimingBars()
        self.summary = QLabel("", objectName="gradCheckSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setMinimumHeight(44)
        self.summary.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)

        card = QFrame(objectName="card")
        inner = QVBoxLayout(card)
        inner.setContentsMargins(14, 12, 14, 12)
        inner.setSpacing(10)
        inner.addWidget(title)
        inner.addWidget(intro)
        inner.addLayout(controls)
        inner.addWidget(self.table)
        self.agreement = AgreementPlot()
        left = QVBoxLayout()
        left.setSpacing(10)
        left.addWidget(self.timing)
        left.addWidget(self.summary)
        notes = QLabel(
            "<b>Why both?</b> The numerical gradient, (L(w + h) − L(w − h)) / 2h, is slow but "
            "hard to get wrong: it only needs the forward pass. Backprop is fast but easy to "
            "get subtly wrong — a missing transpose, a forgotten division by the batch size. "
            "Training uses backprop; the gradient check is how the chapter makes sure it is "
            "right.<br><br><b>Reading the table.</b> The error is relative to each "
            "parameter's largest gradient, so 10⁻⁹ means agreement to nine digits. float64 "
            "rounding limits it to about 10⁻¹⁰…10⁻⁷; a real bug gives 10⁻² or worse.",
            objectName="hint",
        )
        notes.setWordWrap(True)
        notes.setTextFormat(Qt.TextFormat.RichText)
        notes.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        left.addSpacing(6)
        left.addWidget(notes)
        left.addStretch(1)
        lower = QHBoxLayout()
        lower.setSpacing(12)
        lower.addLayout(left, 3)
        lower.addWidget(self.agreement, 2)
        inner.addLayout(lower, 1)
        # In a small window the card scrolls rather than squeezing the table or the notes.
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(card)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(scroll)
        self._show_idle_summary()

    def _reset_table(self) -> None:
        shapes = {k: tuple(np.shape(v)) for k, v in self._params.items()} if self._params else {}
        for row, name in enumerate(PARAM_NAMES):
            shape = shapes.get(name)
            cells = {
                NAME: PARAM_TEXT[name],
                ERROR: "–",
                RESULT: "not run",
                SHAPE: " × ".join(map(str, shape)) if shape else "–",
                PASSES: f"{2 * int(np.prod(shape)):,}" if shape else "–",
                TIME: "–",
            }
            for column, text in cells.items():
                item = QTableWidgetItem(text)
                item.setForeground(QColor(theme.MUTED if column != NAME else theme.TEXT))
                self.table.setItem(row, column, item)
            # Column 0 holds the bare name, so tests (and a reader) find W1, b1, W2, b2 there.
            self.table.item(row, NAME).setData(Qt.ItemDataRole.UserRole, name)
            self.table.item(row, NAME).setText(name)
            self.table.item(row, NAME).setToolTip(PARAM_TEXT[name])
            self.table.item(row, NAME).setFont(font(self.font(), bold=True))

    # == public API ============================================================================
    def set_network(self, params: Mapping[str, NDArray] | None, activation: str = "relu") -> None:
        """The network to check next time (copied now; ``None``: no network yet)."""
        self._params = None if params is None else {k: np.array(v) for k, v in params.items()}
        self._activation = activation
        if not self._task.is_running and self._report is None:
            self._reset_table()
        self._update_enabled()

    def set_params_provider(self, provider: ParamsProvider | None) -> None:
        """Ask ``provider()`` for (params, activation) when a check starts, instead of using
        :meth:`set_network`'s copy. Its arrays are copied before the worker sees them."""
        self._provider = provider
        self._update_enabled()

    def set_data(self, x: NDArray | None, t: NDArray | None) -> None:
        """Test images (N, 784) and labels (N,) (or one-hot) to draw the batch from."""
        if x is None or t is None:
            self._x = self._t = None
        else:
            self._x, self._t = np.asarray(x), np.asarray(t)
        self._show_idle_summary()

    @property
    def report(self) -> GradientCheckReport | None:
        """The last finished check, or None."""
        return self._report

    @property
    def is_running(self) -> bool:
        return self._task.is_running

    @Slot()
    def run_check(self) -> bool:
        """Start a check of the current network; False if there is none (or one is running)."""
        if self._task.is_running:
            return False
        network = self._current_network()
        if network is None:
            self._show_message("Train or load a network first: there is nothing to check.")
            return False
        params, activation = network
        x, t, indices = self._batch(params, self.samples_spin.value())
        total = total_forward_passes(params)
        self._report = None
        self._backprop_seconds = None
        self._reset_table()
        for row in range(len(PARAM_NAMES)):
            self.table.item(row, RESULT).setText("waiting…")
        self.timing.set_times(None, None, final=False, passes=total)
        self.agreement.clear_points()
        self.progress.setRange(0, total)
        self.progress.setValue(0)
        self.progress.setFormat("Backprop…")
        self._indices = indices
        self._started = time.perf_counter()
        self.summary.setText(
            f"<span style='color:{theme.MUTED}'>Checking on {self._batch_text()}…</span>"
        )

        def work(report: Callable[..., None], should_stop: Callable[[], bool]) -> object:
            return run_gradient_check(
                params,
                activation,
                x,
                t,
                progress=lambda done, n, name: report(("progress", done, n, name)),
                on_parameter=lambda check: report(("parameter", check), force=True),
                on_backprop=lambda seconds: report(("backprop", seconds), force=True),
                should_stop=should_stop,
            )

        self._task.start(work)
        self._update_enabled()
        self.checkStarted.emit()
        return True

    @Slot()
    def cancel(self) -> None:
        """Stop a running check (the table keeps the parameters already done)."""
        self._task.cancel()

    def cancel_work(self) -> None:
        """Ask a running check to stop (the window is closing)."""
        self._task.cancel()

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Cancel and wait for the worker thread (the window is closing)."""
        return self._task.shutdown(timeout_ms)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)

    # == internals =============================================================================
    def _current_network(self) -> tuple[dict[str, NDArray], str] | None:
        if self._provider is not None:
            got = self._provider()
            if got is None:
                return None
            params, activation = got
            return {k: np.array(v, dtype=np.float64) for k, v in params.items()}, activation
        if self._params is None:
            return None
        return {k: v.astype(np.float64) for k, v in self._params.items()}, self._activation

    def _batch(
        self, params: Mapping[str, NDArray], count: int
    ) -> tuple[NDArray, NDArray, NDArray | None]:
        """``count`` random test images — or, with no data loaded, random pixels and labels
        (the check is about the derivative, which any input exercises)."""
        if self._x is not None and self._t is not None and len(self._x) >= count:
            indices = np.sort(self._rng.choice(len(self._x), size=count, replace=False))
            return np.asarray(self._x[indices], np.float64), np.asarray(self._t[indices]), indices
        n_in, n_out = params["W1"].shape[0], params["W2"].shape[1]
        x = self._rng.random((count, n_in))
        return x, self._rng.integers(0, n_out, count), None

    def _batch_text(self) -> str:
        indices = getattr(self, "_indices", None)
        if indices is None:
            return f"{self.samples_spin.value()} random inputs (no test set loaded)"
        listed = ", ".join(f"#{i}" for i in indices)
        return f"{len(indices)} test image{'s' if len(indices) != 1 else ''} ({listed})"

    def _update_enabled(self) -> None:
        running = self._task.is_running
        has_network = self._provider is not None or self._params is not None
        self.run_button.setEnabled(has_network and not running)
        self.run_button.setToolTip(
            "" if has_network else "Train or load a network first: there is nothing to check."
        )
        self.cancel_button.setEnabled(running)
        self.samples_spin.setEnabled(not running)
        if not running and self.progress.format().endswith("…"):
            self.progress.setFormat("Idle")

    def _show_idle_summary(self) -> None:
        if self._report is not None or self._task.is_running:
            return
        self.summary.setText(
            f"<span style='color:{theme.MUTED}'>Press <b>Run gradient check</b>: about "
            "80,000 forward passes, a few seconds for a 784-50-10 network.</span>"
        )

    def _show_message(self, text: str, colour: str = theme.WARNING) -> None:
        self.summary.setText(f"<span style='color:{colour}'>{text}</span>")

    def _set_row(self, check: ParameterCheck) -> None:
        self.agreement.set_points(check)
        row = PARAM_NAMES.index(check.name)
        passed = check.passed
        background = QBrush(QColor(PASS_ROW if passed else FAIL_ROW))
        error_item = QTableWidgetItem()
        error_item.setData(Qt.ItemDataRole.DisplayRole, float(check.error))
        error_item.setToolTip(
            f"max |backprop − numerical| / max |gradient| = {check.error!r}\n"
            f"largest absolute difference: {check.max_abs_diff:.3e}"
        )
        self.table.setItem(row, ERROR, error_item)
        self.table.item(row, RESULT).setText(
            f"✔ pass  (< {THRESHOLD})" if passed else f"✘ FAIL  (≥ {THRESHOLD})"
        )
        self.table.item(row, SHAPE).setText(" × ".join(map(str, check.shape)))
        self.table.item(row, PASSES).setText(f"{check.forward_passes:,}")
        self.table.item(row, TIME).setText(format_seconds(check.seconds))
        for column in range(len(COLUMNS)):
            item = self.table.item(row, column)
            item.setBackground(background)
            item.setForeground(QColor(theme.TEXT))
        self.table.item(row, RESULT).setForeground(QColor(GOOD if passed else BAD))
        self.table.item(row, RESULT).setFont(font(self.font(), bold=True))

    # == task slots ============================================================================
    @Slot(object)
    def _on_progress(self, message: object) -> None:
        kind = message[0]
        if kind == "parameter":
            self._set_row(message[1])
            return
        if kind == "backprop":
            self._backprop_seconds = message[1]
            self.timing.set_times(
                self._backprop_seconds, None, final=False, passes=self.timing.passes
            )
            return
        _, done, total, name = message
        elapsed = time.perf_counter() - self._started
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        remaining = elapsed / done * (total - done) if done else 0.0
        self.progress.setFormat(
            f"Numerical gradient of {name}: {done:,} / {total:,} forward passes · "
            f"~{remaining:.0f} s left"
        )
        row = PARAM_NAMES.index(name)
        self.table.item(row, RESULT).setText("computing…")
        self.timing.set_times(self._backprop_seconds, elapsed, final=False, passes=total)

    @Slot(object)
    def _on_succeeded(self, report: object) -> None:
        assert isinstance(report, GradientCheckReport)
        self._report = report
        for check in report.parameters.values():
            self._set_row(check)
        check = report.check
        self.progress.setValue(self.progress.maximum())
        self.progress.setFormat(f"Done: {report.forward_passes:,} forward passes")
        self.timing.set_times(
            check.backprop_seconds,
            check.numerical_seconds,
            final=True,
            passes=report.forward_passes,
        )
        worst_name = max(check.errors, key=check.errors.get)
        worst = check.errors[worst_name]
        if report.passed:
            verdict = (
                f"<b style='color:{GOOD}'>PASS</b> — backprop agrees with the numerical gradient "
                f"for all four parameters (worst: {worst_name}, relative error "
                f"{format_number(worst)} &lt; {THRESHOLD})."
            )
        else:
            failing = ", ".join(k for k, v in check.errors.items() if v >= PASS_THRESHOLD)
            verdict = (
                f"<b style='color:{BAD}'>FAIL</b> — {failing} disagree (worst: {worst_name}, "
                f"relative error {format_number(worst)} ≥ {THRESHOLD})."
            )
        self.summary.setText(
            f"{verdict}<br><span style='color:{theme.MUTED}'>Checked on {self._batch_text()}. "
            f"Backprop: {format_seconds(check.backprop_seconds)} (median of repeated runs); "
            f"numerical gradient: {format_seconds(check.numerical_seconds)} — "
            f"backprop is {check.speedup:,.0f}× faster.</span>"
        )
        self._update_enabled()
        self.checkFinished.emit(report)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        first_line = message.splitlines()[0] if message else "unknown error"
        self.progress.setFormat("Failed")
        self._show_message(f"The gradient check failed: {first_line}", BAD)
        self.summary.setToolTip(message)
        self._update_enabled()
        self.checkFailed.emit(message)

    @Slot()
    def _on_cancelled(self) -> None:
        self.progress.setFormat("Cancelled")
        for row in range(len(PARAM_NAMES)):
            item = self.table.item(row, RESULT)
            if item.text() in ("waiting…", "computing…"):
                item.setText("cancelled")
        self._show_message("Cancelled. Parameters already checked keep their results.")
        self._update_enabled()
        self.checkCancelled.emit()
