"""Draw a digit, see exactly what the network sees, and its live prediction and why.

:class:`DrawingPad` puts together the canvas (``pad.canvas``), the preprocessing of
``core.preprocess`` and the read-only views of ``pad.views``:

- ``drawingCanvas``: white ink on black; left-drag draws; right-click, Esc or ``clearButton``
  clears; Ctrl+Z (or ``undoButton``) undoes the last stroke.
- ``inputPreview``: the 28x28 image the network gets, pixel for pixel;
  ``saliencyToggle`` overlays d(score of the predicted digit)/d(pixel) from the network's own
  backward pass (``TwoLayerNet.input_gradient``): red raises the score, blue lowers it.
- ``predictionLabel``: the predicted digit, large (Qt property ``digit``: -1 with an
  invitation instead of a guess while the canvas is empty or there is no network);
  ``probabilityLabel`` its probability; ``probabilityBars`` all ten.
- ``stagesToggle`` shows ``stagesView``: every preprocessing step.
- ``inspectDrawingButton`` (hidden unless :meth:`DrawingPad.set_inspect_available` turned it
  on; the main window does) emits ``inspectRequested(image)`` with :meth:`current_input`, for
  the backward-pass inspector.

The pad predicts with its own copy of the weights (:meth:`DrawingPad.set_network_params`),
never the trainer's live arrays. Predictions are throttled: edits start a single-shot timer
(``PREDICT_INTERVAL_MS``) and the prediction runs once when it fires, on the latest drawing, so
the pen never waits for the network.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QKeyEvent, QKeySequence, QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desktop_bp.core.functions import softmax
from desktop_bp.core.network import TwoLayerNet
from desktop_bp.core.preprocess import PreprocessOptions, PreprocessResult, to_mnist
from desktop_bp.gui import theme
from desktop_bp.gui.pad.canvas import DrawingCanvas
from desktop_bp.gui.pad.views import PixelView, ProbabilityBars, StagesView
from desktop_bp.gui.tab import TabBase

#: Delay between an edit and the prediction it triggers; edits meanwhile are coalesced.
PREDICT_INTERVAL_MS = 50
DRAW_PROMPT = "Draw a digit"
TRAIN_PROMPT = "Train or load a network first"
INPUT_PIXELS = 784
CLASSES = 10

# Scoped to the pad by object names, so it looks the same inside the main window (whose
# application stylesheet it complements) and on its own.
_STYLESHEET = f"""
QWidget#drawingPad {{ background: {theme.WINDOW}; }}
QFrame#padCard {{ background: {theme.CARD}; border: 1px solid {theme.BORDER};
    border-radius: 6px; }}
QLabel#padHeading {{ color: {theme.MUTED}; font-weight: 600; background: transparent; }}
QLabel#predictionLabel {{ color: {theme.TEXT}; background: transparent; }}
QLabel#probabilityLabel {{ color: {theme.MUTED}; background: transparent; }}
QLabel#padHint {{ color: {theme.MUTED}; background: transparent; }}
QWidget#drawingPad QPushButton {{
    background: #2b2f38; border: 1px solid {theme.BORDER}; border-radius: 5px;
    padding: 4px 10px; color: {theme.TEXT};
}}
QWidget#drawingPad QPushButton:hover {{ background: #343945; }}
QWidget#drawingPad QPushButton:checked {{ background: #2f4f7a; border-color: #3d6aa3; }}
QWidget#drawingPad QPushButton:disabled {{ color: #5d626c; background: #23262d; }}
"""


class _SquareColumn(QWidget):
    """The canvas as the largest square that fits, with the button row right beneath it
    (a box layout would leave the spare height between the two)."""

    SPACING = 8

    def __init__(self, canvas: QWidget, below: QWidget) -> None:
        super().__init__()
        self._canvas, self._below = canvas, below
        canvas.setParent(self)
        below.setParent(self)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def _below_height(self) -> int:
        return self._below.sizeHint().height()

    def minimumSizeHint(self) -> QSize:
        side = self._canvas.minimumWidth()
        width = max(side, self._below.minimumSizeHint().width())
        return QSize(width, side + self.SPACING + self._below_height())

    def sizeHint(self) -> QSize:
        side = self._canvas.sizeHint().width()
        return QSize(side, side + self.SPACING + self._below_height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        below = self._below_height()
        side = max(1, min(self.width(), self.height() - below - self.SPACING))
        left = (self.width() - side) // 2
        self._canvas.setGeometry(left, 0, side, side)
        self._below.setGeometry(left, side + self.SPACING, side, below)
        super().resizeEvent(event)


def _heading(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("padHeading")
    return label


class DrawingPad(QWidget, TabBase):
    """Canvas, live prediction, the network's-eye view, probabilities, saliency and stages.

    Public API: :meth:`set_network_params`, :meth:`load_image`, :meth:`clear`,
    :meth:`undo`, :meth:`current_input`, :meth:`refresh`, the :attr:`digit` and
    :attr:`probability` properties, and the ``predictionChanged(int, float)`` signal
    (digit -1 and probability 0.0 when there is no prediction).
    """

    tab_title = "Draw"
    tab_tooltip = "Draw a digit and watch the network classify it"

    predictionChanged = Signal(int, float)
    #: The 28x28 float32 input (a copy) the "Inspect" button asks to be traced.
    inspectRequested = Signal(object)

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        options: PreprocessOptions | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("drawingPad")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(_STYLESHEET)
        self.options = options or PreprocessOptions()
        self._net: TwoLayerNet | None = None
        self._digit = -1
        self._probability = 0.0
        self._input: NDArray[np.float32] | None = None
        self._result: PreprocessResult | None = None
        self._input_stale = True  # the canvas changed since the input was last computed
        self._build()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(PREDICT_INTERVAL_MS)
        self._timer.timeout.connect(self.refresh)
        self.canvas.changed.connect(self._canvas_changed)
        self.canvas.strokeFinished.connect(self.refresh)
        self.refresh()

    # -- layout -----------------------------------------------------------------------------
    def _build(self) -> None:
        self.canvas = DrawingCanvas(self)
        self.canvas.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.clear_button = QPushButton("Clear")
        self.clear_button.setObjectName("clearButton")
        self.clear_button.setToolTip("Clear the canvas (Esc or right-click)")
        self.clear_button.clicked.connect(self.clear)
        self.undo_button = QPushButton("Undo")
        self.undo_button.setObjectName("undoButton")
        self.undo_button.setToolTip("Remove the last stroke (Ctrl+Z)")
        self.undo_button.clicked.connect(self.undo)
        self.stages_toggle = QPushButton("Stages")
        self.stages_toggle.setObjectName("stagesToggle")
        self.stages_toggle.setCheckable(True)
        self.stages_toggle.setToolTip("Show each preprocessing step from canvas to 28×28")
        self.stages_toggle.toggled.connect(self._stages_toggled)
        hint = QLabel("right-click or Esc clears · Ctrl+Z undoes")
        hint.setObjectName("padHint")
        hint.setToolTip(hint.text())
        # Only as wide as there is room for: the canvas, not this hint, sets the column's width.
        hint.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        hint.setMinimumWidth(0)

        button_row = QWidget()
        buttons = QHBoxLayout(button_row)
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.setSpacing(6)
        buttons.addWidget(self.undo_button)
        buttons.addWidget(self.clear_button)
        buttons.addSpacing(8)
        buttons.addWidget(hint, 1)
        buttons.addWidget(self.stages_toggle)
        left = _SquareColumn(self.canvas, button_row)

        self.prediction_label = QLabel()
        self.prediction_label.setObjectName("predictionLabel")
        self.prediction_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.prediction_label.setWordWrap(True)
        self.prediction_label.setMinimumHeight(72)
        self.prediction_label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.probability_label = QLabel()
        self.probability_label.setObjectName("probabilityLabel")
        self.probability_label.setAlignment(Qt.AlignmentFlag.AlignCenter)

        self.input_view = PixelView("inputPreview")
        self.saliency_toggle = QPushButton("Saliency")
        self.saliency_toggle.setObjectName("saliencyToggle")
        self.saliency_toggle.setCheckable(True)
        self.saliency_toggle.setToolTip(
            "Overlay the gradient of the predicted digit's score with respect to each input "
            "pixel, from the network's own backward pass: red pixels raise the score, blue "
            "ones lower it"
        )
        self.saliency_toggle.toggled.connect(lambda _checked: self._show_prediction())
        self.saliency_legend = QLabel()
        self.saliency_legend.setObjectName("padHint")
        self.saliency_legend.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.bars = ProbabilityBars()
        self.inspect_button = QPushButton("Inspect backward pass")
        self.inspect_button.setObjectName("inspectDrawingButton")
        self.inspect_button.setToolTip(
            "Send the 28×28 image the network sees to the Backward pass tab and follow it "
            "through Affine1 → activation → Affine2 → SoftmaxWithLoss and back (Ctrl+I)"
        )
        self.inspect_button.setShortcut(QKeySequence("Ctrl+I"))
        self.inspect_button.clicked.connect(self.request_inspection)
        self.inspect_button.setVisible(False)

        card = QFrame()
        card.setObjectName("padCard")
        grid = QGridLayout(card)
        grid.setContentsMargins(12, 10, 12, 12)
        grid.setVerticalSpacing(6)
        grid.addWidget(_heading("Prediction"), 0, 0, 1, 2)
        grid.addWidget(self.prediction_label, 1, 0, 1, 2)
        grid.addWidget(self.probability_label, 2, 0, 1, 2)
        grid.addWidget(_heading("What the network sees"), 3, 0)
        grid.addWidget(self.saliency_toggle, 3, 1, alignment=Qt.AlignmentFlag.AlignRight)
        grid.addWidget(self.input_view, 4, 0, 1, 2, alignment=Qt.AlignmentFlag.AlignHCenter)
        grid.addWidget(self.saliency_legend, 5, 0, 1, 2)
        grid.addWidget(_heading("Probabilities"), 6, 0, 1, 2)
        grid.addWidget(self.bars, 7, 0, 1, 2)
        grid.addWidget(self.inspect_button, 8, 0, 1, 2)
        grid.setRowStretch(7, 1)
        card.setMinimumWidth(240)
        self.card = card

        top = QHBoxLayout()
        top.setSpacing(10)
        top.addWidget(left, 3)
        top.addWidget(card, 2)

        self.stages_view = StagesView()
        self.stages_view.setVisible(False)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(10, 10, 10, 10)
        outer.setSpacing(10)
        outer.addLayout(top, 1)
        outer.addWidget(self.stages_view)

    # -- public API -------------------------------------------------------------------------
    @property
    def digit(self) -> int:
        """The predicted digit, or -1 (empty canvas, or no network)."""
        return self._digit

    @property
    def probability(self) -> float:
        """The predicted digit's softmax probability (0.0 when ``digit`` is -1)."""
        return self._probability

    @property
    def has_network(self) -> bool:
        return self._net is not None

    def set_network(self, params: Mapping[str, NDArray] | None, activation: str = "relu") -> None:
        """The :class:`~desktop_bp.gui.tab.Tab` entry point: :meth:`set_network_params`."""
        self.set_network_params(params, activation)

    def set_network_params(
        self, params: Mapping[str, NDArray] | None, activation: str = "relu"
    ) -> None:
        """Predict with copies of ``params`` (W1 (784, h), b1 (h,), W2 (h, 10), b2 (10,)) on a
        TwoLayerNet of the pad's own; None removes the network. Raises ValueError for
        parameters that do not fit a 784-input, 10-class network or are not finite (the
        previous network, if any, is kept)."""
        if params is None:
            self._net = None
        else:
            w1 = np.asarray(params.get("W1"))
            w2 = np.asarray(params.get("W2"))
            if w1.ndim != 2 or w2.ndim != 2 or w1.shape[0] != INPUT_PIXELS:
                raise ValueError(f"the drawing pad needs W1 of shape (784, hidden), got {w1.shape}")
            if w2.shape != (w1.shape[1], CLASSES):
                raise ValueError(
                    f"the drawing pad needs W2 of shape ({w1.shape[1]}, 10), got {w2.shape}"
                )
            net = self._net
            # Weights stream in ~20 times a second while training: reuse the network when
            # only the numbers changed.
            if net is None or net.hidden_size != w1.shape[1] or net.activation != activation:
                net = TwoLayerNet(
                    INPUT_PIXELS, w1.shape[1], CLASSES, activation=activation, dtype=np.float64
                )
            net.set_params(params)  # copies, and checks shapes and finiteness
            self._net = net
        self._schedule()

    def load_image(self, image: NDArray) -> None:
        """Show an MNIST image — (28, 28) or (784,), floats in [0, 1] or uint8 — exactly as
        the network sees it: on the canvas, and as the input, unpreprocessed. Strokes drawn
        over it afterwards are preprocessed together with it."""
        a = np.asarray(image)
        if a.size != INPUT_PIXELS:
            raise ValueError(f"load_image needs 784 pixels (28, 28), got shape {a.shape}")
        a = a.reshape(28, 28).astype(np.float64)
        if np.issubdtype(np.asarray(image).dtype, np.integer) or a.max() > 1.0:
            a = a / 255.0
        self.canvas.set_background(np.clip(a, 0.0, 1.0))
        self.refresh()

    def set_options(self, options: PreprocessOptions) -> None:
        """Preprocess drawings with ``options`` from now on (re-predicts if they changed)."""
        if options != self.options:
            self.options = options
            self._input_stale = True
            self._schedule()

    def set_inspect_available(self, available: bool) -> None:
        """Show the "Inspect backward pass" button (someone listens to ``inspectRequested``)."""
        self.inspect_button.setVisible(available)
        self._update_inspect_button()

    def request_inspection(self) -> bool:
        """Emit ``inspectRequested`` with the current input; False for an empty canvas."""
        image = self.current_input()
        if image is None:
            return False
        self.inspectRequested.emit(image)
        return True

    def clear(self) -> None:
        """Empty the canvas (strokes and any loaded image)."""
        self.canvas.clear()
        self.refresh()

    def undo(self) -> None:
        """Remove the last stroke."""
        if self.canvas.undo():
            self.refresh()

    def current_input(self) -> NDArray[np.float32] | None:
        """A copy of the 28x28 float32 image the network gets, or None for an empty canvas."""
        self._ensure_input()
        return None if self._input is None else self._input.copy()

    def preprocess_result(self) -> PreprocessResult | None:
        """The last preprocessing of the canvas (with stages when they are shown)."""
        self._ensure_input()
        return self._result

    def refresh(self) -> None:
        """Preprocess and predict now (the throttle timer calls this)."""
        self._timer.stop()
        self._ensure_input()
        self._show_prediction()

    # -- internals --------------------------------------------------------------------------
    def _canvas_changed(self) -> None:
        self._input_stale = True
        self._schedule()

    def _schedule(self) -> None:
        # Not restarted while running: a continuous drag still predicts every interval.
        if not self._timer.isActive():
            self._timer.start()

    def _stages_toggled(self, shown: bool) -> None:
        self.stages_view.setVisible(shown)
        if shown:
            self._input_stale = True  # compute again, keeping the stages this time
            self.refresh()

    def _ensure_input(self) -> None:
        if not self._input_stale:
            return
        self._input_stale = False
        canvas = self.canvas
        background = canvas.background
        if canvas.is_empty():
            self._input, self._result = None, None
        elif background is not None and not canvas.has_strokes():
            self._input = background.astype(np.float32)
            self._result = PreprocessResult(
                self._input.copy(), False, {"loaded image": self._input.copy()}
            )
        else:
            result = to_mnist(
                canvas.render_array(),
                options=self.options,
                keep_stages=self.stages_toggle.isChecked(),
            )
            self._result = result
            self._input = None if result.empty else result.image

    def _show_prediction(self) -> None:
        x = self._input
        gradient = None
        probs = None
        if x is None or self._net is None:
            digit, probability = -1, 0.0
        else:
            batch = x.reshape(1, INPUT_PIXELS).astype(np.float64)
            probs = softmax(self._net.predict(batch))[0]
            digit = int(np.argmax(probs))
            probability = float(probs[digit])
            if self.saliency_toggle.isChecked():
                gradient = self._net.input_gradient(batch, digit).reshape(28, 28)
        self.input_view.set_image(x, gradient)
        self.saliency_legend.setText(
            f"<span style='color:#ef5350'>■</span> raises  "
            f"<span style='color:#4291f5'>■</span> lowers the score of {digit}"
            if gradient is not None
            else "28 × 28 pixels, as fed to Affine1"
        )
        self.bars.set_probabilities(probs)
        if self.stages_view.isVisible():
            self.stages_view.set_stages(self._result.stages if self._result else {})
        self._set_label(digit, probability, empty=x is None)
        self._update_inspect_button()
        if (digit, probability) != (self._digit, self._probability):
            self._digit, self._probability = digit, probability
            self.predictionChanged.emit(digit, probability)

    def _update_inspect_button(self) -> None:
        has_input = self._input is not None
        self.inspect_button.setEnabled(has_input and self._net is not None)

    def _set_label(self, digit: int, probability: float, *, empty: bool) -> None:
        label = self.prediction_label
        label.setProperty("digit", digit)
        font = QFont(self.font())
        if digit >= 0:
            font.setPixelSize(64)
            font.setBold(True)
            label.setFont(font)
            label.setText(str(digit))
            self.probability_label.setText(f"{100 * probability:.1f} % sure")
            self.probability_label.setToolTip("The softmax output for this digit")
            return
        font.setPixelSize(17)
        label.setFont(font)
        if self._net is None:
            label.setText(TRAIN_PROMPT)
            self.probability_label.setText("" if empty else "no network to ask yet")
        else:
            label.setText(DRAW_PROMPT)
            self.probability_label.setText("on the black square")
        self.probability_label.setToolTip("")

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # Key events from the focused canvas that it does not handle arrive here.
        if event.matches(QKeySequence.StandardKey.Undo):
            self.undo()
        elif event.key() == Qt.Key.Key_Escape and not self.canvas.is_empty():
            self.clear()
        else:
            super().keyPressEvent(event)
            return
        event.accept()
