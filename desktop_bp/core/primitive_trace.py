"""A layer opened into its primitive graph, in scalars a table can show: the chain rule, by node.

:func:`trace_layer` runs a layer's composed graph (``primitive_graphs.py``) on a given input
and upstream gradient, and the layer class itself beside it; :func:`trace_network_layer` does
so for a layer of a network given by its parameters, for one sample or a batch, with the input
and upstream gradient the network's own forward and backward pass deliver to that layer.

Every array is cut down to one **element**, so each number is a scalar:

- ``element``: the layer's output unit — a hidden unit for Affine1 and the activation, a class
  for Affine2 and Softmax-with-Loss. For the elementwise layers it is also the input unit.
- ``input_element`` (Affine only): the input i whose weight W[i, j] is followed — an input pixel
  for Affine1, a hidden unit for Affine2. None picks the largest |x_i| of the sample.
- ``sample``: the row of a batch.

A :class:`NodeStep` per primitive node, in forward order (the last nearest the layer's output):
its forward value, the local derivative ∂out/∂in with respect to the input named in ``wrt``,
the gradient arriving from the right (upstream, ∂L/∂out, summed over every consumer) and the
one it passes left (downstream). For one-path nodes downstream = upstream x local — the chain
rule; where a value feeds two nodes (softmax's exp) its upstream is the sum of both branches.
The Affine's dot row follows W[i, j]: its downstream is x_i · ∂L/∂(x·W)_j, sample ``sample``'s
share of ∂L/∂W[i, j] (all of it for a batch of one).

:class:`Comparison` rows put the composed result beside the layer's closed form (its own
``backward``) with their difference.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from desktop_bp.core.inspect_backward import (
    AFFINE,
    LOSS_NODE,
    RELU,
    SIGMOID,
    SOFTMAX_WITH_LOSS,
    network_from_params,
)
from desktop_bp.core.layers import Affine, ReLU, Sigmoid, SoftmaxWithLoss
from desktop_bp.core.primitive_graphs import (
    AffineGraph,
    ReLUGraph,
    SigmoidGraph,
    SoftmaxWithLossGraph,
    compose,
)


@dataclass(frozen=True)
class NodeStep:
    """One primitive node at the chosen element (module docstring)."""

    name: str
    forward: float
    local: float
    upstream: float
    downstream: float
    wrt: str
    formula: str


@dataclass(frozen=True)
class Comparison:
    """A composed result beside the layer's closed form for the same quantity."""

    quantity: str
    composed: float
    closed_form: float
    formula: str

    @property
    def difference(self) -> float:
        return self.composed - self.closed_form


@dataclass(frozen=True)
class LayerTrace:
    """A layer opened into primitives for one element.

    layer : the layer's name ("Affine1", "Sigmoid1", …, "SoftmaxWithLoss").
    kind  : ``inspect_backward``'s AFFINE, RELU, SIGMOID or SOFTMAX_WITH_LOSS.
    steps : one per primitive node, forward order.
    ends  : scalars at the graph's ends and side inputs, by name — "x", "dx", "y", "dy" for
            all; Affine adds "W", "dW", "b", "db"; Softmax-with-Loss "t" and "loss".
    n_elements, n_inputs : the ranges of ``element`` and ``input_element``.
    """

    layer: str
    kind: str
    element: int
    input_element: int
    sample: int
    steps: tuple[NodeStep, ...]
    comparisons: tuple[Comparison, ...]
    ends: dict[str, float]
    n_elements: int
    n_inputs: int


def _check_index(name: str, value: int, size: int) -> int:
    value = int(value)
    if not 0 <= value < size:
        raise ValueError(f"{name} must be in [0, {size}), got {value}")
    return value


def _elementwise_steps(graph: SigmoidGraph | ReLUGraph, n: int, j: int, formulas) -> list:
    return [
        NodeStep(
            node.name,
            float(node.out[n, j]),
            float(node.op.local()[n, j]),
            float(node.dout[n, j]),
            float(node.dx[n, j]),
            "x",
            formula,
        )
        for node, formula in zip(graph.nodes, formulas, strict=True)
    ]


def _affine_steps(graph: AffineGraph, n: int, i: int, j: int) -> list[NodeStep]:
    dot, add = graph.nodes
    x_i, upstream = float(dot.op.X[n, i]), float(dot.dout[n, j])
    return [
        NodeStep(
            dot.name, float(dot.out[n, j]), x_i, upstream, x_i * upstream, f"W[{i}, {j}]", "x_i"
        ),
        NodeStep(
            add.name,
            float(add.out[n, j]),
            1.0,
            float(add.dout[n, j]),
            float(add.dx[n, j]),
            "x · W (and b)",
            "1",
        ),
    ]


def _softmax_steps(graph: SoftmaxWithLossGraph, n: int, k: int) -> list[NodeStep]:
    _, exp, _, recip, _, log, _, _, scale = graph.nodes
    row, cls, scalar = (n, 0), (n, k), ()
    # Per node: where its output and upstream are read (Σ over classes and 1/x have one value
    # per sample, the last two one per batch), where its downstream is, and the local derivative.
    table = [
        (cls, cls, "a", "1 (max held constant)", 1.0),
        (cls, cls, "x", "exp(x)", exp.out[cls]),
        (row, cls, "e_k", "1", 1.0),
        (row, row, "S", "−1/S²", recip.op.local()[row]),
        (cls, cls, "e_k", "1/S", recip.out[row]),
        (cls, cls, "y_k", "1/(y + 1e−7)", log.op.local()[cls]),
        (cls, cls, "log y_k", "t_k", graph.t[cls]),
        (scalar, cls, "t_k · log y_k", "1", 1.0),
        (scalar, scalar, "Σ", "−1/N", scale.op.c),
    ]
    return [
        NodeStep(
            node.name,
            float(node.out[at]),
            float(local),
            float(node.dout[at]),
            float(node.dx[down_at]),
            wrt,
            formula,
        )
        for node, (at, down_at, wrt, formula, local) in zip(graph.nodes, table, strict=True)
    ]


def trace_layer(
    layer: Affine | ReLU | Sigmoid | SoftmaxWithLoss,
    x: NDArray,
    dout: ArrayLike | None = None,
    *,
    t: ArrayLike | None = None,
    element: int = 0,
    input_element: int | None = None,
    sample: int = 0,
    name: str | None = None,
) -> LayerTrace:
    """Open ``layer`` (its type; an Affine's W and b) into primitives on input ``x``.

    x    : shape (batch, n_in) — an Affine also takes (batch, ...), flattened.
    dout : the upstream gradient ∂L/∂y, shape (batch, n_out); ignored for Softmax-with-Loss,
           which starts from ∂L/∂L = 1 and needs ``t`` (labels (batch,) or one-hot).
    Neither the layer nor any array given is changed: fresh layer objects compute the closed
    form.
    """
    x = np.asarray(x)
    if x.ndim < 2:
        raise ValueError(f"x must be a batch of shape (batch, n), got shape {x.shape}")
    batch = x.shape[0]
    sample = _check_index("sample", sample, batch)
    graph = compose(layer)
    if isinstance(layer, SoftmaxWithLoss):
        if t is None:
            raise ValueError("Softmax-with-Loss needs the targets t")
        closed = SoftmaxWithLoss()
        closed.forward(x, np.asarray(t))
        graph.forward(x, np.asarray(t))
        dx_closed, dx = closed.backward(1.0), graph.backward(1.0)
    else:
        if dout is None:
            raise ValueError(f"{type(layer).__name__} needs the upstream gradient dout")
        closed = Affine(layer.W, layer.b) if isinstance(layer, Affine) else type(layer)()
        y_all = graph.forward(x)
        closed.forward(x)
        dout = np.asarray(dout)
        if dout.shape != y_all.shape:
            raise ValueError(f"dout must have shape {y_all.shape}, got {dout.shape}")
        dx, dx_closed = graph.backward(dout), closed.backward(dout)
    flat_x, flat_dx = x.reshape(batch, -1), dx.reshape(batch, -1)
    flat_closed = dx_closed.reshape(batch, -1)
    n_out = graph.nodes[-1].out.shape[-1] if not isinstance(layer, SoftmaxWithLoss) else x.shape[1]
    n_in = flat_x.shape[1]
    j = _check_index("element", element, n_out)
    n = sample
    if isinstance(layer, Affine):
        i = int(np.argmax(np.abs(flat_x[n]))) if input_element is None else input_element
        i = _check_index("input_element", i, n_in)
    else:
        i = j
    ends = {"x": float(flat_x[n, i]), "dx": float(flat_dx[n, i])}
    quantity = f"∂L/∂x[{i}]"
    if isinstance(layer, Sigmoid):
        kind = SIGMOID
        steps = _elementwise_steps(graph, n, j, ["−1", "exp(x)", "1", "−1/x² = −y²"])
        comparisons = [Comparison(quantity, ends["dx"], float(flat_closed[n, i]), "y(1 − y)·∂L/∂y")]
    elif isinstance(layer, ReLU):
        kind = RELU
        steps = _elementwise_steps(graph, n, j, ["1 if x > 0 else 0"])
        comparisons = [
            Comparison(quantity, ends["dx"], float(flat_closed[n, i]), "∂L/∂y if x > 0 else 0")
        ]
    elif isinstance(layer, Affine):
        kind = AFFINE
        steps = _affine_steps(graph, n, i, j)
        ends |= {"W": float(layer.W[i, j]), "dW": float(graph.dW[i, j])}
        ends |= {"b": float(layer.b[j]), "db": float(graph.db[j])}
        comparisons = [
            Comparison(f"∂L/∂W[{i}, {j}]", ends["dW"], float(closed.dW[i, j]), "(xᵀ·∂L/∂y)[i, j]"),
            Comparison(f"∂L/∂b[{j}]", ends["db"], float(closed.db[j]), "Σ_batch ∂L/∂y[j]"),
            Comparison(quantity, ends["dx"], float(flat_closed[n, i]), "(∂L/∂y·Wᵀ)[i]"),
        ]
    else:
        kind = SOFTMAX_WITH_LOSS
        steps = _softmax_steps(graph, n, j)
        ends |= {"t": float(graph.t[n, j]), "loss": float(graph.loss)}
        comparisons = [
            Comparison(
                f"∂L/∂a[{j}]",
                ends["dx"],
                float(flat_closed[n, i]),
                "(y − t)/N · y_t/(y_t + 1e−7)",
            )
        ]
    if kind == SOFTMAX_WITH_LOSS:
        ends |= {"y": float(graph.y[n, j]), "dy": 1.0}
    else:
        ends |= {"y": float(graph.nodes[-1].out[n, j]), "dy": float(dout[n, j])}
    return LayerTrace(
        name or type(layer).__name__,
        kind,
        j,
        i,
        n,
        tuple(steps),
        tuple(comparisons),
        ends,
        n_out,
        n_in,
    )


def network_layer_names(activation: str) -> tuple[str, ...]:
    """The layers :func:`trace_network_layer` opens, forward order."""
    return ("Affine1", "Relu1" if activation == "relu" else "Sigmoid1", "Affine2", LOSS_NODE)


def trace_network_layer(
    params: Mapping[str, NDArray],
    activation: str,
    layer: str,
    x: NDArray,
    t: ArrayLike | None = None,
    *,
    element: int = 0,
    input_element: int | None = None,
    sample: int = 0,
) -> LayerTrace:
    """:func:`trace_layer` for layer ``layer`` of the network with these parameters.

    params : W1, b1, W2, b2 (copied, as ``inspect_backward.trace`` does).
    x      : one sample (784 values, any shape) or a batch (batch, 784).
    t      : label(s); None uses the network's predictions as targets (a drawing nobody
             labelled), as the Backward pass tab does.
    The layer's input and upstream gradient are those of the network's own forward and
    backward pass (``TwoLayerNet.gradient``'s loop).
    """
    net = network_from_params(params, activation)
    names = network_layer_names(activation)
    if layer not in names:
        raise ValueError(f"layer must be one of {', '.join(names)}, got {layer!r}")
    x = np.asarray(x, dtype=net.dtype)
    batch = x.reshape(1, -1) if x.size == net.input_size else x.reshape(len(x), -1)
    if batch.shape[1] != net.input_size:
        raise ValueError(f"x must have {net.input_size} values per sample, got shape {x.shape}")
    inputs = {}
    signal = batch
    for name, net_layer in net.layers.items():
        inputs[name] = signal
        signal = net_layer.forward(signal)
    labels = signal.argmax(axis=1) if t is None else np.asarray(t).reshape(-1)
    if labels.shape[0] != batch.shape[0]:
        raise ValueError(f"t must have {batch.shape[0]} labels, got shape {np.shape(t)}")
    if layer == LOSS_NODE:
        return trace_layer(
            net.last_layer, signal, t=labels, element=element, sample=sample, name=layer
        )
    net.last_layer.forward(signal, labels)
    dout = net.last_layer.backward(1.0)
    for name in reversed(net.layers):
        if name == layer:
            break
        dout = net.layers[name].backward(dout)
    return trace_layer(
        net.layers[layer],
        inputs[layer],
        dout,
        element=element,
        input_element=input_element,
        sample=sample,
        name=layer,
    )
