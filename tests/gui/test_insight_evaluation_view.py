"""Evaluation view: confusion matrix on the test set, cells → gallery, gallery → imageActivated."""

from __future__ import annotations

import os

# tests/gui/conftest.py does this too; repeated so the module also runs on its own.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QLabel, QPushButton

from desktop_bp.core.data import load_mnist
from desktop_bp.core.evaluation import evaluate
from desktop_bp.core.trainer import TrainConfig, Trainer
from desktop_bp.gui.insight.evaluation.view import GALLERY_LIMIT, EvaluationView


@pytest.fixture(scope="module")
def trained():
    data = load_mnist()
    trainer = Trainer(TrainConfig(iterations=400), data)
    trainer.run()
    return trainer.network, data[1]


@pytest.fixture
def view(qtbot):
    widget = EvaluationView()
    qtbot.addWidget(widget)
    widget.resize(1200, 760)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    widget.shutdown()


@pytest.fixture
def evaluated(qtbot, view, trained):
    net, (x_test, t_test) = trained
    view.findChild(QCheckBox, "evaluationLiveCheck").setChecked(False)
    view.set_data(x_test, t_test)
    view.set_network(net.params, net.activation)
    with qtbot.waitSignal(view.evaluationFinished, timeout=30_000):
        qtbot.mouseClick(view.findChild(QPushButton, "evaluateButton"), Qt.MouseButton.LeftButton)
    return view


def test_button_evaluates_the_test_set(evaluated, trained):
    net, (x_test, t_test) = trained
    result = evaluated.result
    assert result.confusion.sum() == len(x_test) == 3999
    expected = evaluate(net.params, net.activation, x_test, t_test)
    assert np.array_equal(result.confusion, expected.confusion)
    assert result.accuracy == pytest.approx(net.accuracy(x_test, t_test))
    matrix = evaluated.findChild(object, "confusionMatrix")
    assert np.array_equal(matrix.matrix, result.confusion)
    assert np.array_equal(evaluated.per_class_accuracy, expected.class_accuracy, equal_nan=True)
    summary = evaluated.findChild(QLabel, "evaluationSummary").text()
    assert f"{100 * result.accuracy:.2f} %" in summary
    # Opening view: all mistakes, most confident first.
    assert np.array_equal(evaluated.gallery_indices(), result.mistake_order[:GALLERY_LIMIT])


def test_select_cell_shows_that_cells_images(evaluated, trained):
    _, (_, t_test) = trained
    result = evaluated.result
    off = result.confusion - np.diag(np.diag(result.confusion))
    true, predicted = (int(v) for v in np.unravel_index(off.argmax(), off.shape))
    evaluated.select_cell(true, predicted)
    shown = evaluated.gallery_indices()
    assert len(shown) == result.confusion[true, predicted] > 0
    assert np.all(t_test[shown] == true) and np.all(result.predictions[shown] == predicted)
    assert np.all(np.diff(result.probabilities[shown, predicted]) <= 0)
    gallery = evaluated.findChild(object, "mistakeGallery")
    assert gallery.count() == len(shown)
    title = evaluated.findChild(QLabel, "galleryTitle").text()
    assert f"of {true} predicted as {predicted}" in title
    evaluated.select_cell(4, 4)  # the diagonal: correct ones, least confident first
    assert len(evaluated.gallery_indices()) == min(result.confusion[4, 4], GALLERY_LIMIT)
    qt_all = evaluated.findChild(QPushButton, "galleryAllButton")
    assert qt_all.isEnabled()
    qt_all.click()
    assert np.array_equal(evaluated.gallery_indices(), result.mistake_order[:GALLERY_LIMIT])


def test_click_on_a_matrix_cell_selects_it(qtbot, evaluated):
    matrix = evaluated.findChild(object, "confusionMatrix")
    with qtbot.waitSignal(evaluated.cellSelected, timeout=1000) as blocker:
        qtbot.mouseClick(
            matrix, Qt.MouseButton.LeftButton, pos=matrix.cell_rect(7, 2).center().toPoint()
        )
    assert blocker.args == [7, 2]
    assert matrix.selected == (7, 2)
    assert np.array_equal(evaluated.gallery_indices(), evaluated.result.cell(7, 2))
    # The "most confused" chips under the matrix select their cell too.
    (rect, (true, predicted, count)), *_ = matrix._chip_rects(matrix._geometry()[0])
    assert count == max(matrix.top_confusions(), key=lambda c: c[2])[2]
    with qtbot.waitSignal(evaluated.cellSelected, timeout=1000) as blocker:
        qtbot.mouseClick(matrix, Qt.MouseButton.LeftButton, pos=rect.center().toPoint())
    assert blocker.args == [true, predicted]


def test_gallery_click_emits_the_image(qtbot, evaluated, trained):
    _, (x_test, t_test) = trained
    gallery = evaluated.findChild(object, "mistakeGallery")
    position = 2
    index = int(evaluated.gallery_indices()[position])
    with qtbot.waitSignal(evaluated.imageActivated, timeout=1000) as blocker:
        qtbot.mouseClick(
            gallery, Qt.MouseButton.LeftButton, pos=gallery.tile_rect(position).center().toPoint()
        )
    image, label = blocker.args
    assert isinstance(image, np.ndarray) and image.shape == (784,)
    assert image.dtype == np.float32
    assert np.array_equal(image, x_test[index]) and label == int(t_test[index])
    image[:] = 0  # the receiver owns its copy
    assert x_test[index].any()


def test_live_updates_when_new_weights_arrive(qtbot, view, trained):
    net, (x_test, t_test) = trained
    view.set_data(x_test, t_test)
    with qtbot.waitSignal(view.evaluationFinished, timeout=30_000):
        view.set_network(net.params, net.activation)  # first weights: evaluated at once
    params = net.copy_params()
    params["b2"] = params["b2"] + np.eye(10, dtype=np.float32)[3] * 50  # everything is a 3
    with qtbot.waitSignal(view.evaluationFinished, timeout=30_000) as blocker:
        view.set_network(params, net.activation)
    assert blocker.args[0].confusion[:, 3].sum() == len(x_test)


def test_errors_and_empty_states(qtbot, view, trained):
    net, (x_test, t_test) = trained
    assert view.evaluate() is False
    assert not view.findChild(QPushButton, "evaluateButton").isEnabled()
    with pytest.raises(RuntimeError):
        view.select_cell(0, 0)
    view.findChild(QCheckBox, "evaluationLiveCheck").setChecked(False)
    view.set_network(net.params, net.activation)
    view.set_data(x_test[:, :700], t_test)  # wrong width: the worker's error reaches the user
    with qtbot.waitSignal(view.evaluationFailed, timeout=10_000) as blocker:
        view.evaluate()
    assert "784" in blocker.args[0]
    assert "failed" in view.findChild(QLabel, "evaluationSummary").text()
    view.set_network(None)
    assert view.result is None
    view.grab()
