"""Each layer of the network rebuilt as a small graph of primitive nodes (``primitives.py``).

The composed graphs have the layers' own interface (``forward``, then ``backward(dout)``
returning dx; ``AffineGraph`` keeps ``dW`` and ``db``) and give the same numbers as the classes
in ``layers.py`` to rounding (``tests/core/test_primitive_graphs.py`` holds them to 1e-12 in
float64). Each records its nodes in forward order in ``nodes``: the name, the primitive, the
forward output and, after ``backward``, the gradient that arrived (upstream) and the one it
passed to its data-path input (downstream) — what ``primitive_trace.py`` reads.

- Sigmoid: x → × −1 → exp → + 1 → 1/x → y. Right to left the gradient picks up −y², 1,
  exp(−x) and −1, which multiply to y(1 − y).
- ReLU: x → max(0, ·) → y, its mask blocking the gradient where x ≤ 0.
- Affine: X → dot(·, W) → + b → Y, with dX = dY · Wᵀ, dW = Xᵀ · dY and db = Σ dY (b is added to
  every row, so its gradient is the sum of theirs).
- Softmax-with-Loss: a → − max → exp → Σ → 1/x → × → log(· + 1e-7) → × t → Σ → × −1/N → L.
  The max is subtracted as the project's ``softmax`` does (a shift softmax does not see, so
  treating it as a constant is exact); the log adds the loss's 1e-7 (``LOG_EPSILON``), so the
  composed backward is the exact derivative of the reported loss and reproduces
  ``SoftmaxWithLoss.backward``, (y − t)/N times y_t/(y_t + 1e-7), not the book's bare (y − t)/N.
  exp's output feeds both Σ and ×: its gradient is the sum of what comes back along both.

And the book's two shopping graphs, made of ``MulLayer`` and ``AddLayer`` as in
``ch05/buy_apple.py`` and ``ch05/buy_apple_orange.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from desktop_bp.core.functions import LOG_EPSILON
from desktop_bp.core.layers import Affine, ReLU, Sigmoid, SoftmaxWithLoss
from desktop_bp.core.primitives import (
    AddConstLayer,
    AddLayer,
    DotLayer,
    ExpLayer,
    LogLayer,
    Max0Layer,
    MulConstLayer,
    MulLayer,
    ReciprocalLayer,
    SumLayer,
)


@dataclass
class Node:
    """One primitive node of a composed graph and what flowed through it.

    out   : the forward output.
    dout  : after backward, ∂L/∂out — the upstream gradient, summed over every consumer.
    dx    : after backward, the gradient passed to the node's data-path (left) input.
    grads : the other inputs' gradients, by name ("W", "b", "t", ...).
    """

    name: str
    op: object
    out: NDArray | None = None
    dout: NDArray | None = None
    dx: NDArray | None = None
    grads: dict[str, NDArray] = field(default_factory=dict)


class _Chain:
    """A straight line of one-input primitives: forward left to right, backward right to left."""

    def __init__(self, nodes: list[Node]) -> None:
        self.nodes = nodes

    def forward(self, x: NDArray) -> NDArray:
        for node in self.nodes:
            x = node.op.forward(x)
            node.out = x
        return x

    def backward(self, dout: NDArray) -> NDArray:
        for node in reversed(self.nodes):
            node.dout = dout
            dout = node.op.backward(dout)
            node.dx = dout
        return dout


class SigmoidGraph(_Chain):
    """y = 1 / (1 + exp(−x)) as × −1 → exp → + 1 → 1/x. Any shape."""

    def __init__(self) -> None:
        super().__init__(
            [
                Node("× −1", MulConstLayer(-1.0)),
                Node("exp", ExpLayer()),
                Node("+ 1", AddConstLayer(1.0)),
                Node("1/x", ReciprocalLayer()),
            ]
        )


class ReLUGraph(_Chain):
    """y = max(0, x), one node with a mask. Any shape."""

    def __init__(self) -> None:
        super().__init__([Node("max(0, x)", Max0Layer())])


class AffineGraph:
    """Y = X · W + b as dot → + b.

    x  : shape (batch, in) or (batch, ...) flattened to (batch, in), as ``layers.Affine``.
    W  : shape (in, out);  b : shape (out,).
    backward(dout (batch, out)) → dx of x's shape; keeps dW (in, out) and db (out,).
    """

    def __init__(self, W: NDArray, b: NDArray) -> None:
        self.W, self.b = W, b
        self.nodes = [Node("x · W", DotLayer()), Node("+ b", AddLayer())]
        self.original_x_shape: tuple[int, ...] = ()
        self.dW: NDArray | None = None
        self.db: NDArray | None = None

    def forward(self, x: NDArray) -> NDArray:
        self.original_x_shape = x.shape
        dot, add = self.nodes
        dot.out = dot.op.forward(x.reshape(x.shape[0], -1), self.W)
        add.out = add.op.forward(dot.out, self.b)
        return add.out

    def backward(self, dout: NDArray) -> NDArray:
        dot, add = self.nodes
        add.dout = dout
        add.dx, self.db = add.op.backward(dout)
        add.grads = {"b": self.db}
        dot.dout = add.dx
        dot.dx, self.dW = dot.op.backward(add.dx)
        dot.grads = {"W": self.dW}
        return dot.dx.reshape(self.original_x_shape)


def one_hot(t: ArrayLike, n: int, dtype: type | np.dtype = np.float64) -> NDArray:
    """Label indices (batch,) → one-hot (batch, n); a one-hot (batch, n) is copied."""
    t = np.asarray(t)
    if t.ndim == 2:
        return t.astype(dtype, copy=True)
    out = np.zeros((t.shape[0], n), dtype=dtype)
    out[np.arange(t.shape[0]), t] = 1
    return out


class SoftmaxWithLossGraph:
    """L = −(1/N) Σ t · log(softmax(a) + 1e-7) as nine primitives (module docstring).

    forward(a (batch, n), t labels (batch,) or one-hot (batch, n)) → the loss, a float.
    backward(dout=1) → ∂L/∂a, shape (batch, n).
    """

    NAMES = ("− max", "exp", "Σ", "1/x", "×", "log(· + 1e-7)", "× t", "Σ", "× −1/N")

    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self.t: NDArray | None = None
        self.y: NDArray | None = None
        self.loss: float | None = None

    def node(self, name: str, occurrence: int = 0) -> Node:
        return [n for n in self.nodes if n.name == name][occurrence]

    def forward(self, a: NDArray, t: ArrayLike) -> float:
        batch = a.shape[0]
        self.t = one_hot(t, a.shape[1], a.dtype)
        ops = [
            AddConstLayer(-a.max(axis=1, keepdims=True)),
            ExpLayer(),
            SumLayer(axis=1),
            ReciprocalLayer(),
            MulLayer(),
            LogLayer(LOG_EPSILON),
            MulLayer(),
            SumLayer(axis=None),
            MulConstLayer(-1.0 / batch),
        ]
        self.nodes = [Node(name, op) for name, op in zip(self.NAMES, ops, strict=True)]
        shift, exp, sum_e, recip, mul_y, log, mul_t, total, scale = self.nodes
        shift.out = shift.op.forward(a)
        exp.out = exp.op.forward(shift.out)
        sum_e.out = sum_e.op.forward(exp.out)
        recip.out = recip.op.forward(sum_e.out)
        mul_y.out = mul_y.op.forward(exp.out, recip.out)  # y = e · (1/S)
        log.out = log.op.forward(mul_y.out)
        mul_t.out = mul_t.op.forward(log.out, self.t)
        total.out = total.op.forward(mul_t.out)
        scale.out = scale.op.forward(total.out)
        self.y = mul_y.out
        self.loss = float(scale.out)
        return self.loss

    def backward(self, dout: float = 1.0) -> NDArray:
        shift, exp, sum_e, recip, mul_y, log, mul_t, total, scale = self.nodes
        scale.dout = np.asarray(dout, dtype=scale.out.dtype)
        scale.dx = scale.op.backward(scale.dout)
        total.dout = scale.dx
        total.dx = total.op.backward(total.dout)
        mul_t.dout = total.dx
        mul_t.dx, dt = mul_t.op.backward(mul_t.dout)
        mul_t.grads = {"t": dt}
        log.dout = mul_t.dx
        log.dx = log.op.backward(log.dout)
        mul_y.dout = log.dx
        mul_y.dx, dr = mul_y.op.backward(mul_y.dout)  # to e (data path) and to 1/S
        mul_y.grads = {"1/S": dr}
        recip.dout = dr
        recip.dx = recip.op.backward(dr)
        sum_e.dout = recip.dx
        sum_e.dx = sum_e.op.backward(sum_e.dout)
        exp.dout = mul_y.dx + sum_e.dx  # e feeds × and Σ: the two gradients add
        exp.dx = exp.op.backward(exp.dout)
        shift.dout = exp.dx
        shift.dx = shift.op.backward(shift.dout)
        return shift.dx


def compose(layer: Affine | ReLU | Sigmoid | SoftmaxWithLoss):
    """The composed graph of a core layer (an Affine's with its current W and b)."""
    if isinstance(layer, Affine):
        return AffineGraph(layer.W, layer.b)
    if isinstance(layer, ReLU):
        return ReLUGraph()
    if isinstance(layer, Sigmoid):
        return SigmoidGraph()
    if isinstance(layer, SoftmaxWithLoss):
        return SoftmaxWithLossGraph()
    raise ValueError(f"no primitive graph for {type(layer).__name__}")


# == the book's shopping graphs ================================================================
@dataclass(frozen=True)
class Shopping:
    """A shopping graph's numbers: ``values`` forward, ``grads[k]`` = ∂price/∂values[k]."""

    values: dict[str, float]
    grads: dict[str, float]


def _floats(named: dict[str, ArrayLike]) -> dict[str, float]:
    return {key: float(value) for key, value in named.items()}


def buy_apple(
    apple: float = 100.0, apple_num: float = 2.0, tax: float = 1.1, dprice: float = 1.0
) -> Shopping:
    """Figure 5-16: apple x apple_num → apple_price, x tax → price (220; 2.2, 110, 200)."""
    mul_apple, mul_tax = MulLayer(), MulLayer()
    apple_price = mul_apple.forward(apple, apple_num)
    price = mul_tax.forward(apple_price, tax)
    dapple_price, dtax = mul_tax.backward(dprice)
    dapple, dapple_num = mul_apple.backward(dapple_price)
    return Shopping(
        _floats(
            dict(apple=apple, apple_num=apple_num, tax=tax, apple_price=apple_price, price=price)
        ),
        _floats(
            dict(
                apple=dapple, apple_num=dapple_num, tax=dtax, apple_price=dapple_price, price=dprice
            )
        ),
    )


def buy_apple_orange(
    apple: float = 100.0,
    apple_num: float = 2.0,
    orange: float = 150.0,
    orange_num: float = 3.0,
    tax: float = 1.1,
    dprice: float = 1.0,
) -> Shopping:
    """Figure 5-17: (apple x num) + (orange x num), x tax → 715; 2.2, 110, 3.3, 165, 650."""
    mul_apple, mul_orange, add_fruit, mul_tax = MulLayer(), MulLayer(), AddLayer(), MulLayer()
    apple_price = mul_apple.forward(apple, apple_num)
    orange_price = mul_orange.forward(orange, orange_num)
    all_price = add_fruit.forward(apple_price, orange_price)
    price = mul_tax.forward(all_price, tax)
    dall_price, dtax = mul_tax.backward(dprice)
    dapple_price, dorange_price = add_fruit.backward(dall_price)
    dorange, dorange_num = mul_orange.backward(dorange_price)
    dapple, dapple_num = mul_apple.backward(dapple_price)
    values = dict(apple=apple, apple_num=apple_num, orange=orange, orange_num=orange_num, tax=tax)
    values.update(
        apple_price=apple_price, orange_price=orange_price, all_price=all_price, price=price
    )
    grads = dict(apple=dapple, apple_num=dapple_num, orange=dorange, orange_num=dorange_num)
    grads.update(
        tax=dtax,
        apple_price=dapple_price,
        orange_price=dorange_price,
        all_price=dall_price,
        price=dprice,
    )
    return Shopping(_floats(values), _floats(grads))
