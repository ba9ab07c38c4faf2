"""Where the network fails: confusion matrix, per-class accuracy and its mistakes, ranked.

Pure numpy; the evaluation view runs :func:`evaluate` in a worker thread and draws the result.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from desktop_bp.core.functions import LOG_EPSILON, softmax
from desktop_bp.core.inspect_backward import network_from_params

#: Rows per forward pass in :func:`evaluate`: bounds memory for 10,000-image sets and gives
#: a cancellation point every few milliseconds.
EVALUATION_CHUNK = 1000


class EvaluationCancelled(Exception):
    """``evaluate``'s ``should_stop`` returned True between two chunks."""


def _labels(t: NDArray) -> NDArray[np.int64]:
    """Label indices (N,) from indices (N,) or one-hot (N, n)."""
    t = np.asarray(t)
    if t.ndim == 2:
        return t.argmax(axis=1).astype(np.int64)
    if t.ndim != 1:
        raise ValueError(f"labels must be indices (N,) or one-hot (N, n), got shape {t.shape}")
    return t.astype(np.int64, copy=False)


def confusion_matrix(y_true: NDArray, y_pred: NDArray, n: int = 10) -> NDArray[np.int64]:
    """Counts of (true, predicted) pairs.

    y_true, y_pred : label indices of shape (N,) in [0, n).
    Returns shape (n, n): ``m[i, j]`` = how many samples of class i were predicted as j, so
    rows sum to the class sizes and the diagonal holds the correct ones.
    """
    y_true = _labels(y_true)
    y_pred = _labels(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred differ in shape: {y_true.shape} vs {y_pred.shape}")
    for name, labels in (("y_true", y_true), ("y_pred", y_pred)):
        if labels.size and (labels.min() < 0 or labels.max() >= n):
            raise ValueError(
                f"{name} must hold labels in [0, {n}), got [{labels.min()}, {labels.max()}]"
            )
    # One bincount over the flattened pair index: far faster than a Python loop or np.add.at.
    return np.bincount(y_true * n + y_pred, minlength=n * n).reshape(n, n).astype(np.int64)


def per_class_accuracy(matrix: NDArray) -> NDArray[np.float64]:
    """Share of each true class predicted correctly: diagonal / row sum, shape (n,).

    A class with no samples has accuracy NaN (undefined, not 0).
    """
    matrix = np.asarray(matrix)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"expected a square confusion matrix, got shape {matrix.shape}")
    totals = matrix.sum(axis=1).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, np.diag(matrix) / totals, np.nan)


def mistakes(probabilities: NDArray, labels: NDArray) -> NDArray[np.int64]:
    """Indices of the misclassified samples, most confident mistake first.

    probabilities : shape (N, n), softmax outputs (rows sum to 1).
    labels        : shape (N,) label indices, or (N, n) one-hot.
    Confidence is the probability given to the (wrong) predicted class; ties keep index order.
    """
    probabilities = np.asarray(probabilities)
    labels = _labels(labels)
    if probabilities.ndim != 2 or probabilities.shape[0] != labels.shape[0]:
        raise ValueError(
            f"probabilities must be (N, n) with N = {labels.shape[0]} labels, "
            f"got {probabilities.shape}"
        )
    predicted = probabilities.argmax(axis=1)
    wrong = np.flatnonzero(predicted != labels)
    confidence = probabilities[wrong, predicted[wrong]]
    return wrong[np.argsort(-confidence, kind="stable")].astype(np.int64)


@dataclass(frozen=True)
class EvaluationResult:
    """A network's predictions on a labelled set and the statistics drawn from them.

    probabilities : (N, n) softmax outputs.     predictions : (N,) argmax.
    labels        : (N,) true labels.           confusion   : (n, n) counts, rows = true.
    class_accuracy: (n,) per true class (NaN when a class is absent).
    mistake_order : indices of the wrong predictions, most confident first.
    loss          : mean cross-entropy (the book's, with 1e-7 inside log).
    """

    probabilities: NDArray[np.float64]
    predictions: NDArray[np.int64]
    labels: NDArray[np.int64]
    confusion: NDArray[np.int64]
    class_accuracy: NDArray[np.float64]
    mistake_order: NDArray[np.int64]
    loss: float

    @property
    def size(self) -> int:
        return int(self.labels.shape[0])

    @property
    def accuracy(self) -> float:
        return float(np.trace(self.confusion)) / max(self.size, 1)

    @property
    def confidence(self) -> NDArray[np.float64]:
        """(N,) probability of the predicted class."""
        return self.probabilities[np.arange(self.size), self.predictions]

    def cell(self, true: int, predicted: int) -> NDArray[np.int64]:
        """Indices of the samples of class ``true`` predicted as ``predicted``.

        Off the diagonal (mistakes) the most confident come first; on it (correct ones) the
        least confident — the ones that were nearly wrong.
        """
        n = self.confusion.shape[0]
        if not (0 <= true < n and 0 <= predicted < n):
            raise ValueError(f"cell ({true}, {predicted}) is outside the {n}x{n} matrix")
        members = np.flatnonzero((self.labels == true) & (self.predictions == predicted))
        confidence = self.probabilities[members, predicted]
        order = np.argsort(confidence if true == predicted else -confidence, kind="stable")
        return members[order].astype(np.int64)


def evaluate(
    params: Mapping[str, NDArray],
    activation: str,
    x: NDArray,
    t: NDArray,
    *,
    should_stop: Callable[[], bool] | None = None,
) -> EvaluationResult:
    """Predict every sample of ``x`` with a private copy of ``params`` and summarise.

    x : shape (N, in) images;  t : (N,) label indices or (N, n) one-hot.
    ``should_stop`` is polled between chunks of :data:`EVALUATION_CHUNK` rows; when it
    returns True, :class:`EvaluationCancelled` is raised.
    """
    net = network_from_params(params, activation)
    x = np.asarray(x)
    labels = _labels(t)
    if x.ndim != 2 or x.shape[0] != labels.shape[0] or x.shape[1] != net.input_size:
        raise ValueError(
            f"x must be (N, {net.input_size}) with N = {labels.shape[0]} labels, got {x.shape}"
        )
    n = net.output_size
    probabilities = np.empty((x.shape[0], n), dtype=np.float64)
    for start in range(0, x.shape[0], EVALUATION_CHUNK):
        if should_stop is not None and should_stop():
            raise EvaluationCancelled
        chunk = np.asarray(x[start : start + EVALUATION_CHUNK], dtype=net.dtype)
        probabilities[start : start + chunk.shape[0]] = softmax(net.predict(chunk))
    predictions = probabilities.argmax(axis=1).astype(np.int64)
    matrix = confusion_matrix(labels, predictions, n)
    rows = np.arange(labels.shape[0])
    loss = (
        float(-np.mean(np.log(probabilities[rows, labels] + LOG_EPSILON))) if labels.size else 0.0
    )
    return EvaluationResult(
        probabilities=probabilities,
        predictions=predictions,
        labels=labels.copy(),
        confusion=matrix,
        class_accuracy=per_class_accuracy(matrix),
        mistake_order=mistakes(probabilities, labels),
        loss=loss,
    )
