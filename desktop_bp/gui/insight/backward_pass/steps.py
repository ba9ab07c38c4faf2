"""The eight half-steps of the Backward pass tab, as data and words (numpy, no Qt): which
arrows are computed after each step, what each arrow carries, and the chapter's caption for the
active node with this sample's numbers."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from desktop_bp.core.inspect_backward import (
    AFFINE,
    RELU,
    SIGMOID,
    SOFTMAX_WITH_LOSS,
    NodeTrace,
)
from desktop_bp.gui.insight._paint import (
    format_number,
    image_shape,
)

FORWARD_DIR, BACKWARD_DIR = "forward", "backward"


FORWARD_DIR, BACKWARD_DIR = "forward", "backward"


#: The eight half-steps: (node position 0..3, direction).
STEPS: tuple[tuple[int, str], ...] = (
    *((i, FORWARD_DIR) for i in range(4)),
    *((i, BACKWARD_DIR) for i in range(3, -1, -1)),
)


#: Vectors up to this long are bars; longer ones heat maps.
BAR_LIMIT = 12


def grid_shape(n: int) -> tuple[int, int]:
    return (1, n) if n <= BAR_LIMIT else image_shape(n)


def stats_text(values: NDArray) -> str:
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 0:
        return format_number(float(values), 4)
    return (
        f"min {format_number(float(values.min()))} · max {format_number(float(values.max()))}"
        f" · ‖·‖ {format_number(float(np.linalg.norm(values)))}"
    )


def display_name(node: NodeTrace) -> str:
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
