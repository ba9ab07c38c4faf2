"""A layer of the live network opened into its primitive nodes: the chain rule with real numbers.

Pick a layer (``primitiveLayerCombo``) and an element (``primitiveElementSpin``: a hidden unit
or a class; for an Affine also ``primitiveInputSpin``, the input pixel or hidden unit whose
weight is followed). The layer's composed graph is drawn node by node for the current sample
(:class:`ChainRuleGraph`), stepped right to left with the upstream gradient, local derivative
and their product at each node; ``nodeTraceTable`` lists the nodes in forward order; the label
``primitiveComparison`` puts the composed result beside the layer's closed form, with their
difference. Numbers come from :func:`desktop_bp.core.primitive_trace.trace_network_layer`: one
sample, cheap enough for the GUI thread.

Embedding (e.g. in the Backward pass tab)::

    panel = PrimitiveLayerPanel(parent)
    layout.addWidget(panel)
    panel.set_network(params, activation)   # again whenever the weights change
    panel.set_sample(x, label)              # a test image or the pad's drawing; label None
                                            # = the network's prediction is the target

API: :meth:`set_network`, :meth:`set_sample`, :meth:`set_layer`, :meth:`set_element`,
:meth:`set_input_element`, :meth:`set_step` / :meth:`step_next` / :meth:`step_prev`;
properties ``trace`` (a :class:`LayerTrace` or None), ``layer``, ``step``. Signals
``traceChanged()``, ``stepChanged(int)``. Left/Right step, as in the Backward pass tab.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QKeyEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_bp.core.inspect_backward import AFFINE, LOSS_NODE, SOFTMAX_WITH_LOSS
from desktop_bp.core.primitive_trace import (
    LayerTrace,
    NodeStep,
    network_layer_names,
    trace_network_layer,
)
from desktop_bp.gui import theme
from desktop_bp.gui.insight._paint import BACKWARD, FORWARD, font
from desktop_bp.gui.insight._stepping import arrow_step, step_buttons
from desktop_bp.gui.insight.chain_rule.graph import (
    ChainRuleGraph,
    GraphEdge,
    GraphNode,
    GraphPicture,
    value_text,
)

TABLE_COLUMNS = (
    "node",
    "forward value",
    "local derivative",
    "upstream gradient",
    "downstream gradient",
)
_DISPLAY = {"Relu1": "ReLU", "Sigmoid1": "Sigmoid", LOSS_NODE: "Softmax-with-Loss"}


def table_text(value: float) -> str:
    """A table cell: plain decimal or scientific, 8 significant digits, ``float()`` reads it."""
    return f"{value:.8g}"


def _v(value: float) -> str:
    return value_text(value, 4)


def _chain_callout(step: NodeStep) -> tuple[str, ...]:
    local = step.formula if step.formula == _v(step.local) else f"{step.formula} = {_v(step.local)}"
    return (
        f"upstream {_v(step.upstream)} × local ∂/∂{step.wrt} = {local}"
        f"  →  downstream {_v(step.downstream)}",
    )


# == pictures of the four layers ===============================================================
def _chain_picture(trace: LayerTrace, x_label: str, y_label: str) -> GraphPicture:
    """Sigmoid and ReLU: a straight line of one-input nodes."""
    steps = trace.steps
    keys = tuple(f"op{i}" for i in range(len(steps)))
    nodes = [GraphNode("x", x_label, 0, 0, op=False)]
    nodes += [
        GraphNode(key, step.name, i + 1, 0, callout=_chain_callout(step))
        for i, (key, step) in enumerate(zip(keys, steps, strict=True))
    ]
    nodes.append(GraphNode("y", y_label, len(steps) + 1, 0, op=False))
    ends = ("x", *keys, "y")
    edges = []
    for i in range(len(ends) - 1):
        forward = trace.ends["x"] if i == 0 else steps[i - 1].forward
        backward = steps[i].downstream if i < len(steps) else steps[-1].upstream
        edges.append(GraphEdge(ends[i], ends[i + 1], _v(forward), _v(backward)))
    return GraphPicture(tuple(nodes), tuple(edges), keys)


def _affine_picture(trace: LayerTrace) -> GraphPicture:
    dot, add = trace.steps
    i, j, e = trace.input_element, trace.element, trace.ends
    share = dot.upstream * e["W"]
    dot_callout = (
        f"∂L/∂W[{i}, {j}] = upstream {_v(dot.upstream)} × x[{i}] {_v(dot.local)} = "
        f"{_v(dot.downstream)}   (dW = xᵀ · ∂L/∂y)",
        f"∂L/∂x[{i}] = Σ over units of upstream × W[{i}, ·] = {_v(e['dx'])}   (dx = ∂L/∂y · Wᵀ; "
        f"unit {j} gives {_v(dot.upstream)} × {_v(e['W'])} = {_v(share)})",
    )
    add_callout = (
        f"+ passes the gradient on: upstream {_v(add.upstream)} × 1 = {_v(add.downstream)} "
        f"to x·W and to b[{j}] (db = Σ over the batch: {_v(e['db'])})",
    )
    nodes = (
        GraphNode("x", f"x[{i}]", 0, 0, op=False),
        GraphNode("W", f"W[{i}, {j}]", 0.55, 1, op=False),
        GraphNode("op0", "x·W", 1.2, 0, callout=dot_callout),
        GraphNode("b", f"b[{j}]", 1.75, 1, op=False),
        GraphNode("op1", "+", 2.4, 0, callout=add_callout),
        GraphNode("y", f"y[{j}]", 3.4, 0, op=False),
    )
    edges = (
        GraphEdge("x", "op0", _v(e["x"]), _v(e["dx"])),
        GraphEdge("W", "op0", _v(e["W"]), _v(dot.downstream)),
        GraphEdge("op0", "op1", _v(dot.forward), _v(add.downstream)),
        GraphEdge("b", "op1", _v(e["b"]), _v(add.downstream)),
        GraphEdge("op1", "y", _v(add.forward), _v(add.upstream)),
    )
    return GraphPicture(nodes, edges, ("op0", "op1"))


def _softmax_picture(trace: LayerTrace) -> GraphPicture:
    s = trace.steps
    k = trace.element
    callouts = [_chain_callout(step) for step in s]
    callouts[1] = (
        *callouts[1],
        f"e[{k}] feeds × and Σ: upstream = {_v(s[4].downstream)} (from ×) + "
        f"{_v(s[2].downstream)} (from Σ) = {_v(s[1].upstream)}",
    )
    callouts[4] = (
        *callouts[4],
        f"× swaps its inputs: to 1/S goes Σ over classes of upstream × e = {_v(s[3].upstream)}",
    )
    labels = ["−max", "exp", "Σ", "1/x", "×", "log", "×t", "Σ", "×−1/N"]
    places = [(1, 0), (2, 0), (3, 1), (4, 1), (5, 0), (6, 0), (7, 0), (8, 0), (9, 0)]
    keys = tuple(f"op{i}" for i in range(9))
    nodes = [GraphNode("a", f"a[{k}]", 0, 0, op=False)]
    nodes += [
        GraphNode(key, label, col, row, callout=callout)
        for key, label, (col, row), callout in zip(keys, labels, places, callouts, strict=True)
    ]
    nodes += [
        GraphNode("t", f"t[{k}]", 6.5, -0.9, op=False),
        GraphNode("L", "L", 10, 0, op=False),
    ]
    chain = [("a", "op0", trace.ends["x"], s[0].downstream)]
    chain += [("op0", "op1", s[0].forward, s[1].downstream)]
    chain += [("op1", "op2", s[1].forward, s[2].downstream)]
    chain += [("op1", "op4", s[1].forward, s[4].downstream)]
    chain += [("op2", "op3", s[2].forward, s[3].downstream)]
    chain += [("op3", "op4", s[3].forward, s[3].upstream)]
    chain += [(f"op{i}", f"op{i + 1}", s[i].forward, s[i + 1].downstream) for i in range(4, 8)]
    chain += [("op8", "L", s[8].forward, s[8].upstream)]
    edges = [GraphEdge(a, b, _v(f), _v(g)) for a, b, f, g in chain]
    edges.append(GraphEdge("t", "op6", _v(trace.ends["t"]), ""))
    return GraphPicture(tuple(nodes), tuple(edges), keys)


def layer_picture(trace: LayerTrace) -> GraphPicture:
    """The graph :class:`ChainRuleGraph` draws for an opened layer."""
    if trace.kind == AFFINE:
        return _affine_picture(trace)
    if trace.kind == SOFTMAX_WITH_LOSS:
        return _softmax_picture(trace)
    j = trace.element
    return _chain_picture(trace, f"x[{j}]", f"y[{j}]")


# == the panel =================================================================================
class PrimitiveLayerPanel(QWidget):
    """One layer of the network, opened into primitives (module docstring)."""

    traceChanged = Signal()
    stepChanged = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("primitiveLayerPanel")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._params: dict[str, NDArray] | None = None
        self._activation = "relu"
        self._sample: NDArray | None = None
        self._label: int | None = None
        self._layer = "Affine1"
        self._element = 0
        self._input_element: int | None = None
        self._trace: LayerTrace | None = None
        self._message = ""
        self._stale = False
        self._build()
        self._refresh()

    # -- building ------------------------------------------------------------------------------
    def _build(self) -> None:
        title = QLabel("Inside a layer: the chain rule, node by node", objectName="cardTitle")
        title.setFont(font(self.font(), scale=1.15, bold=True))
        self.layer_combo = QComboBox(objectName="primitiveLayerCombo")
        self.layer_combo.setToolTip("The layer to open into its primitive nodes")
        self.layer_combo.activated.connect(self._on_layer_chosen)
        self.element_spin = QSpinBox(objectName="primitiveElementSpin")
        self.element_spin.setToolTip("The element whose numbers are shown")
        self.element_spin.valueChanged.connect(self._on_element_changed)
        self.input_spin = QSpinBox(objectName="primitiveInputSpin")
        self.input_spin.setToolTip("The input whose weight W[i, j] is followed through the dot")
        self.input_spin.setMinimum(-1)
        self.input_spin.setSpecialValueText("input: largest |x|")
        self.input_spin.valueChanged.connect(self._on_input_changed)
        for spin in (self.element_spin, self.input_spin):
            spin.setKeyboardTracking(False)
            spin.setMinimumWidth(150)
        header = QHBoxLayout()
        header.addWidget(title)
        header.addSpacing(8)
        header.addWidget(self.layer_combo)
        header.addWidget(self.element_spin)
        header.addWidget(self.input_spin)
        header.addStretch(1)

        self.graph = ChainRuleGraph(object_name="primitiveGraph")
        self.graph.setMinimumHeight(270)
        self.graph.stepChanged.connect(self._on_step_changed)
        self.prev_button, self.next_button = step_buttons(
            "primitive", self.graph.step_prev, self.graph.step_next
        )
        self.step_label = QLabel("", objectName="primitiveStepLabel")
        self.step_label.setMinimumWidth(280)
        self.step_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.step_label.setFont(font(self.font(), bold=True))
        steps = QHBoxLayout()
        steps.addStretch(1)
        steps.addWidget(self.prev_button)
        steps.addWidget(self.step_label)
        steps.addWidget(self.next_button)
        steps.addStretch(1)

        self.comparison = QLabel("", objectName="primitiveComparison")
        self.comparison.setTextFormat(Qt.TextFormat.RichText)
        self.comparison.setWordWrap(True)
        self.comparison.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

        self.table = QTableWidget(0, len(TABLE_COLUMNS), objectName="nodeTraceTable")
        self.table.setHorizontalHeaderLabels(list(TABLE_COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        row_height = self.fontMetrics().height() + 8
        self.table.verticalHeader().setDefaultSectionSize(row_height)
        # Room for the longest graph (Softmax-with-Loss, nine nodes) without scrolling.
        self.table.setMinimumHeight(row_height * 9 + self.fontMetrics().height() + 14)
        self.table.cellClicked.connect(self._on_row_clicked)

        card = QFrame(objectName="card")
        inner = QVBoxLayout(card)
        inner.setContentsMargins(14, 12, 14, 12)
        inner.setSpacing(8)
        inner.addLayout(header)
        inner.addWidget(self.graph, 1)
        inner.addLayout(steps)
        inner.addWidget(self.comparison)
        inner.addWidget(self.table)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(card)

    # -- public API ----------------------------------------------------------------------------
    def set_network(self, params: Mapping[str, NDArray] | None, activation: str = "relu") -> None:
        """Open layers of this network (copied); None clears. While hidden only the copy is
        made; the trace is recomputed when shown or when :attr:`trace` is read.

        The copy is float64 whatever the network trains in (float32 in the window): the
        composed graph and the closed form then agree to float64's last digits, so their
        difference shows the chain rule, not float32 rounding."""
        self._params = (
            None
            if params is None
            else {k: np.array(v, dtype=np.float64) for k, v in params.items()}
        )
        self._activation = activation
        self._sync_layer_combo()
        if self.isVisible():
            self._refresh()
        else:
            self._stale = True

    def set_sample(self, x: NDArray | None, label: int | None = None) -> None:
        """Follow this sample: 784 values (any shape); ``label`` None = the prediction."""
        self._sample = None if x is None else np.array(x, dtype=np.float32).ravel()
        self._label = None if label is None else int(label)
        self._refresh()

    def set_layer(self, name: str) -> None:
        """Open layer ``name`` ("Affine1", "Relu1"/"Sigmoid1", "Affine2", "SoftmaxWithLoss")."""
        names = network_layer_names(self._activation)
        if name not in names:
            raise ValueError(f"layer must be one of {', '.join(names)}, got {name!r}")
        self._layer = name
        self._sync_layer_combo()
        self._refresh()

    def set_element(self, element: int) -> None:
        self.element_spin.setValue(int(element))  # clamped to the layer's range

    def set_input_element(self, element: int | None) -> None:
        """The Affine input i to follow; None = the largest |x_i| of the sample."""
        self.input_spin.setValue(-1 if element is None else int(element))

    @property
    def layer(self) -> str:
        return self._layer

    @property
    def trace(self) -> LayerTrace | None:
        if self._stale:
            self._refresh()
        return self._trace

    @property
    def step(self) -> int:
        return self.graph.step

    def set_step(self, step: int) -> None:
        self.graph.set_step(step)

    @Slot()
    def step_next(self) -> None:
        self.graph.step_next()

    @Slot()
    def step_prev(self) -> None:
        self.graph.step_prev()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self._refresh()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if not arrow_step(event, self.graph.step_prev, self.graph.step_next):
            super().keyPressEvent(event)

    # -- internals -----------------------------------------------------------------------------
    def _sync_layer_combo(self) -> None:
        names = network_layer_names(self._activation)
        if self._layer not in names:  # the activation changed: Relu1 <-> Sigmoid1
            self._layer = names[1] if self._layer in ("Relu1", "Sigmoid1") else names[0]
        self.layer_combo.blockSignals(True)
        if [self.layer_combo.itemData(i) for i in range(self.layer_combo.count())] != list(names):
            self.layer_combo.clear()
            for name in names:
                self.layer_combo.addItem(_DISPLAY.get(name, name), name)
        self.layer_combo.setCurrentIndex(names.index(self._layer))
        self.layer_combo.blockSignals(False)

    def _refresh(self) -> None:
        self._stale = False
        self._trace = None
        if self._params is None:
            self._message = "Train or load a network to open its layers."
        elif self._sample is None:
            self._message = "Choose a test image or send your drawing to follow it."
        else:
            n_elements, n_inputs = self._ranges()
            self._element = min(self._element, n_elements - 1)
            if self._input_element is not None:
                self._input_element = min(self._input_element, n_inputs - 1)
            try:
                self._trace = trace_network_layer(
                    self._params,
                    self._activation,
                    self._layer,
                    self._sample,
                    self._label,
                    element=self._element,
                    input_element=self._input_element,
                )
            except ValueError as exc:
                self._message = f"Cannot open this layer: {exc}"
        self._update_spins()
        self._update_views()
        self.traceChanged.emit()

    def _ranges(self) -> tuple[int, int]:
        """(number of elements, number of Affine inputs) of the current layer."""
        assert self._params is not None
        n_in, hidden = np.shape(self._params["W1"])
        n_out = np.shape(self._params["W2"])[1]
        if self._layer in ("Affine2", LOSS_NODE):
            return n_out, hidden
        return hidden, n_in

    def _update_spins(self) -> None:
        affine = self._layer.startswith("Affine")
        first = self._layer == "Affine1"
        outputs = "class " if self._layer in ("Affine2", LOSS_NODE) else "hidden unit "
        self.element_spin.blockSignals(True)
        self.input_spin.blockSignals(True)
        self.element_spin.setPrefix(outputs)
        self.input_spin.setPrefix("pixel " if first else "hidden unit ")
        self.input_spin.setVisible(affine)
        if self._trace is not None:
            self.element_spin.setRange(0, self._trace.n_elements - 1)
            self.input_spin.setRange(-1, self._trace.n_inputs - 1)
        self.element_spin.setValue(self._element)
        self.input_spin.setValue(-1 if self._input_element is None else self._input_element)
        enabled = self._trace is not None
        self.element_spin.setEnabled(enabled)
        self.input_spin.setEnabled(enabled)
        self.layer_combo.setEnabled(self._params is not None)
        self.element_spin.blockSignals(False)
        self.input_spin.blockSignals(False)

    def _update_views(self) -> None:
        trace = self._trace
        if trace is None:
            self.graph.set_picture(None, self._message)
            self.table.setRowCount(0)
            self.comparison.setText(f"<span style='color:{theme.MUTED}'>{self._message}</span>")
            self._show_step(self.graph.step)
            return
        self.graph.set_picture(layer_picture(trace))
        self.table.setRowCount(len(trace.steps))
        for row, step in enumerate(trace.steps):
            cells = (step.name, step.forward, step.local, step.upstream, step.downstream)
            for column, value in enumerate(cells):
                text = value if isinstance(value, str) else table_text(value)
                item = QTableWidgetItem(text)
                if column == 0:
                    item.setToolTip(f"local derivative ∂out/∂{step.wrt} = {step.formula}")
                else:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.table.setItem(row, column, item)
        self.comparison.setText(self._comparison_text(trace))
        self._show_step(self.graph.step)

    @staticmethod
    def _comparison_text(trace: LayerTrace) -> str:
        lines = []
        for c in trace.comparisons:
            lines.append(
                f"<span style='color:{BACKWARD}'>composed {c.quantity} = "
                f"<b>{table_text(c.composed)}</b></span> &nbsp;·&nbsp; "
                f"<span style='color:{FORWARD}'>closed form {c.formula} = "
                f"<b>{table_text(c.closed_form)}</b></span> &nbsp;·&nbsp; "
                f"difference {c.difference:.1e}"
            )
        return "<br>".join(lines)

    @Slot(int)
    def _on_step_changed(self, step: int) -> None:
        self._show_step(step)
        self.stepChanged.emit(step)

    def _show_step(self, step: int) -> None:
        picture = self.graph.picture
        count = len(picture.order) if picture is not None else 0
        self.prev_button.setEnabled(step > 0)
        self.next_button.setEnabled(picture is not None and step < count)
        active = self.graph.active
        if picture is None:
            self.step_label.setText("")
        elif active is None:
            self.step_label.setText(f"Forward pass · {count} nodes · → to go back")
            self.step_label.setStyleSheet(f"color: {FORWARD};")
        else:
            index = picture.order.index(active)
            name = self._trace.steps[index].name if self._trace is not None else active
            self.step_label.setText(f"Backward step {step} of {count} ← · {name}")
            self.step_label.setStyleSheet(f"color: {BACKWARD};")
        self.table.clearSelection()
        if active is not None and picture is not None:
            self.table.selectRow(picture.order.index(active))

    @Slot(int)
    def _on_layer_chosen(self, position: int) -> None:
        self.set_layer(self.layer_combo.itemData(position))

    @Slot(int)
    def _on_element_changed(self, value: int) -> None:
        self._element = value
        self._refresh()

    @Slot(int)
    def _on_input_changed(self, value: int) -> None:
        self._input_element = None if value < 0 else value
        self._refresh()

    @Slot(int, int)
    def _on_row_clicked(self, row: int, _column: int) -> None:
        picture = self.graph.picture
        if picture is not None:
            self.graph.set_step(len(picture.order) - row)
