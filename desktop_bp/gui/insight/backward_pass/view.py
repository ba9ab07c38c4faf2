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

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import (
    QFont,
    QKeyEvent,
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
    RELU,
    SOFTMAX_WITH_LOSS,
    NodeTrace,
    trace,
)
from desktop_bp.gui import theme
from desktop_bp.gui.insight._paint import (
    BACKWARD,
    FORWARD,
    font,
    format_number,
)
from desktop_bp.gui.insight._stepping import arrow_step, step_buttons
from desktop_bp.gui.insight.backward_pass.graph import ComputationalGraph
from desktop_bp.gui.insight.backward_pass.panels import PanelContent, VectorPanel
from desktop_bp.gui.insight.backward_pass.steps import (
    BACKWARD_DIR,
    BACKWARD_SYMBOLS,
    FORWARD_DIR,
    FORWARD_SYMBOLS,
    STEPS,
    caption,
    display_name,
)
from desktop_bp.gui.insight.chain_rule.layer_panel import PrimitiveLayerPanel
from desktop_bp.gui.tab import TabBase


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
        self.prev_button, self.next_button = step_buttons(
            "inspector", self.step_prev, self.step_next
        )
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
        # Below the layers, one of them opened into its primitive nodes (+ × exp ÷ …) for the
        # same sample and target: the chain rule inside a layer, with the live numbers.
        self.primitive_panel = PrimitiveLayerPanel()
        primitive_card = QFrame(objectName="card")
        primitive_layout = QVBoxLayout(primitive_card)
        primitive_layout.setContentsMargins(6, 6, 6, 6)
        primitive_layout.addWidget(self.primitive_panel)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(card)
        layout.addWidget(primitive_card)

    # == public API ============================================================================
    def set_network(self, params: Mapping[str, NDArray] | None, activation: str = "relu") -> None:
        """Inspect this network (copied); None clears the view. While the view is hidden only
        the copy is made (weights stream in during training): the trace is recomputed when
        the view is shown or :attr:`trace` is read."""
        self._params = None if params is None else {k: np.array(v) for k, v in params.items()}
        self._activation = activation
        self.primitive_panel.set_network(self._params, activation)
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
        if not arrow_step(event, self.step_prev, self.step_next):
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
        self.primitive_panel.set_sample(self._sample, self._target)
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
            f"Step {self._step + 1} of {len(STEPS)} · {direction} {arrow} · {display_name(node)}"
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
        if self._trace is not None:  # and open that layer into its primitive nodes below
            self.primitive_panel.set_layer(self._trace[node].name)
