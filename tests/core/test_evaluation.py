"""Confusion matrix, per-class accuracy, ranked mistakes and the full evaluation."""

from __future__ import annotations

import numpy as np
import pytest

from desktop_bp.core.data import load_mnist
from desktop_bp.core.evaluation import (
    EvaluationCancelled,
    confusion_matrix,
    evaluate,
    mistakes,
    per_class_accuracy,
)
from desktop_bp.core.functions import softmax
from desktop_bp.core.network import TwoLayerNet
from desktop_bp.core.trainer import TrainConfig, Trainer


@pytest.fixture(scope="module")
def trained():
    data = load_mnist()
    trainer = Trainer(TrainConfig(iterations=300), data)
    trainer.run()
    return trainer.network, data[1]


def test_confusion_matrix_counts_pairs():
    y_true = np.array([0, 0, 1, 2, 2, 2])
    y_pred = np.array([0, 1, 1, 2, 0, 2])
    m = confusion_matrix(y_true, y_pred, n=3)
    assert m.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]
    assert m.dtype == np.int64 and m.sum() == 6
    # One-hot labels work too.
    assert np.array_equal(confusion_matrix(np.eye(3)[y_true], y_pred, n=3), m)


def test_confusion_matrix_rejects_bad_labels():
    with pytest.raises(ValueError, match=r"y_pred must hold labels in \[0, 3\)"):
        confusion_matrix(np.array([0, 1]), np.array([0, 3]), n=3)
    with pytest.raises(ValueError, match="differ in shape"):
        confusion_matrix(np.array([0, 1]), np.array([0]), n=3)


def test_per_class_accuracy_and_empty_classes():
    m = np.array([[3, 1, 0], [0, 0, 0], [1, 1, 2]])
    acc = per_class_accuracy(m)
    assert acc[0] == 0.75 and acc[2] == 0.5
    assert np.isnan(acc[1])
    with pytest.raises(ValueError, match="square"):
        per_class_accuracy(np.zeros((2, 3)))


def test_mistakes_most_confident_first():
    p = np.array(
        [
            [0.9, 0.1],  # 0: predicted 0, true 0 — right
            [0.6, 0.4],  # 1: predicted 0, true 1 — wrong, 0.6
            [0.2, 0.8],  # 2: predicted 1, true 0 — wrong, 0.8
            [0.7, 0.3],  # 3: predicted 0, true 1 — wrong, 0.7
            [0.6, 0.4],  # 4: predicted 0, true 1 — wrong, 0.6 (tie with 1: index order)
        ]
    )
    labels = np.array([0, 1, 0, 1, 1])
    assert mistakes(p, labels).tolist() == [2, 3, 1, 4]
    assert mistakes(p, np.array([0, 0, 1, 0, 0])).tolist() == []


def test_evaluate_agrees_with_the_network(trained):
    net, (x_test, t_test) = trained
    result = evaluate(net.params, net.activation, x_test, t_test)
    n = x_test.shape[0]
    assert result.size == n and result.confusion.sum() == n
    assert np.array_equal(result.confusion.sum(axis=1), np.bincount(t_test, minlength=10))
    assert result.accuracy == pytest.approx(net.accuracy(x_test, t_test), abs=1e-12)
    scores = net.predict(x_test)
    np.testing.assert_allclose(result.probabilities, softmax(scores), rtol=1e-5, atol=1e-7)
    assert np.array_equal(result.predictions, scores.argmax(axis=1))
    np.testing.assert_allclose(result.class_accuracy, per_class_accuracy(result.confusion))
    assert result.loss == pytest.approx(net.loss(x_test, t_test), rel=1e-4)

    wrong = result.mistake_order
    assert len(wrong) == n - np.trace(result.confusion)
    assert np.all(result.predictions[wrong] != result.labels[wrong])
    assert np.all(np.diff(result.confidence[wrong]) <= 0)


def test_cells_hold_the_right_samples(trained):
    net, (x_test, t_test) = trained
    result = evaluate(net.params, net.activation, x_test, t_test)
    true, pred = np.unravel_index(
        np.argmax(result.confusion - np.diag(np.diag(result.confusion))), result.confusion.shape
    )
    cell = result.cell(int(true), int(pred))
    assert len(cell) == result.confusion[true, pred] > 0
    assert np.all(t_test[cell] == true) and np.all(result.predictions[cell] == pred)
    assert np.all(np.diff(result.probabilities[cell, pred]) <= 0)  # most confident first
    diagonal = result.cell(4, 4)
    assert len(diagonal) == result.confusion[4, 4]
    assert np.all(np.diff(result.probabilities[diagonal, 4]) >= 0)  # nearly-wrong first
    with pytest.raises(ValueError, match="outside"):
        result.cell(10, 0)


def test_evaluate_can_be_cancelled_and_checks_shapes():
    net = TwoLayerNet(rng=np.random.default_rng(0))
    x = np.zeros((3000, 784), np.float32)
    t = np.zeros(3000, np.int64)
    with pytest.raises(EvaluationCancelled):
        evaluate(net.params, "relu", x, t, should_stop=lambda: True)
    with pytest.raises(ValueError, match=r"x must be \(N, 784\)"):
        evaluate(net.params, "relu", x[:, :10], t)
    with pytest.raises(ValueError, match="labels"):
        evaluate(net.params, "relu", x, np.zeros((3000, 2, 2)))
