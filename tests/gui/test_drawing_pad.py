"""The drawing pad: strokes by mouse, live prediction, what the network sees, and why."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QLabel, QPushButton, QWidget

from desktop_bp.core.data import load_mnist
from desktop_bp.core.network import TwoLayerNet
from desktop_bp.core.preprocess import to_mnist
from desktop_bp.core.trainer import TrainConfig, Trainer
from desktop_bp.gui.pad import drawing_pad as pad_module
from desktop_bp.gui.pad.drawing_pad import DRAW_PROMPT, TRAIN_PROMPT, DrawingPad
from desktop_bp.gui.pad.replay import parse_pendigits, replay_pendigit

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "pendigits_sample.tra"


@pytest.fixture(scope="module")
def trained() -> dict[str, np.ndarray]:
    """A network trained briefly (2,000 steps, augmented) on the embedded MNIST subset."""
    trainer = Trainer(TrainConfig(iterations=2000, augment=True, seed=0), load_mnist())
    trainer.run()
    return trainer.network.copy_params()


@pytest.fixture
def pad(qtbot) -> DrawingPad:
    widget = DrawingPad()
    qtbot.addWidget(widget)
    widget.resize(760, 520)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def drag(qtbot, canvas: QWidget, points: list[tuple[float, float]], steps: int = 6) -> None:
    """Left-drag through ``points`` (unit coordinates of the canvas square)."""
    square = canvas.square()

    def at(x: float, y: float) -> QPoint:
        return QPoint(
            round(square.x() + x * square.width()), round(square.y() + y * square.height())
        )

    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=at(*points[0]))
    for (ax, ay), (bx, by) in pairwise(points):
        for k in range(1, steps + 1):
            qtbot.mouseMove(canvas, at(ax + (bx - ax) * k / steps, ay + (by - ay) * k / steps))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=at(*points[-1]))


SEVEN = [(0.3, 0.2), (0.7, 0.2), (0.45, 0.85)]
ONE = [(0.5, 0.15), (0.5, 0.85)]


def test_the_widgets_are_named_for_the_main_window(pad):
    assert pad.findChild(QWidget, "drawingCanvas") is pad.canvas
    assert isinstance(pad.findChild(QPushButton, "clearButton"), QPushButton)
    assert pad.findChild(QWidget, "inputPreview") is pad.input_view
    assert isinstance(pad.findChild(QLabel, "predictionLabel"), QLabel)
    assert pad.findChild(QWidget, "probabilityBars") is pad.bars
    toggle = pad.findChild(QPushButton, "saliencyToggle")
    assert toggle is not None and toggle.isCheckable()
    assert pad.canvas.width() >= 280 and pad.canvas.square().width() >= 280


def test_no_network_means_no_guess_but_an_invitation_to_train(qtbot, pad):
    label = pad.findChild(QLabel, "predictionLabel")
    assert pad.digit == -1 and label.property("digit") == -1
    assert label.text() == TRAIN_PROMPT
    drag(qtbot, pad.canvas, SEVEN)
    qtbot.waitUntil(lambda: pad.current_input() is not None)
    pad.refresh()
    assert pad.digit == -1 and label.text() == TRAIN_PROMPT
    assert pad.bars.probabilities() is None
    # The preview still shows what a network would see.
    assert pad.input_view.image() is not None


def test_empty_canvas_invites_drawing(pad, trained):
    pad.set_network_params(trained, "relu")
    pad.refresh()
    label = pad.findChild(QLabel, "predictionLabel")
    assert pad.digit == -1 and label.property("digit") == -1
    assert label.text() == DRAW_PROMPT
    assert pad.current_input() is None


def test_a_drawn_digit_is_predicted_live(qtbot, pad, trained):
    pad.set_network_params(trained, "relu")
    with qtbot.waitSignal(pad.predictionChanged, timeout=3000) as blocker:
        drag(qtbot, pad.canvas, SEVEN)
    qtbot.waitUntil(lambda: 0 <= pad.digit <= 9, timeout=3000)
    digit, probability = blocker.args
    assert 0 <= digit <= 9 and 0.0 < probability <= 1.0
    label = pad.findChild(QLabel, "predictionLabel")
    assert label.property("digit") == pad.digit
    assert label.text() == str(pad.digit)
    probs = pad.bars.probabilities()
    assert probs.shape == (10,) and probs.sum() == pytest.approx(1.0)
    assert int(np.argmax(probs)) == pad.digit
    assert pad.probability == pytest.approx(probs.max())
    # What the pad shows is exactly what it predicts from.
    x = pad.current_input()
    assert x.shape == (28, 28) and x.dtype == np.float32
    np.testing.assert_array_equal(pad.input_view.image(), x)
    net = TwoLayerNet(784, 50, 10)
    net.set_params(trained)
    assert int(net.predict(x.reshape(1, 784)).argmax()) == pad.digit
    assert pad.digit == 7


def test_the_input_is_the_preprocessed_canvas(qtbot, pad):
    drag(qtbot, pad.canvas, SEVEN)
    expected = to_mnist(pad.canvas.render_array()).image
    np.testing.assert_array_equal(pad.current_input(), expected)


def test_predictions_are_throttled_while_drawing(qtbot, pad, trained, monkeypatch):
    pad.set_network_params(trained, "relu")
    pad.refresh()
    calls = []
    original = pad_module.to_mnist
    monkeypatch.setattr(
        pad_module, "to_mnist", lambda *a, **k: calls.append(1) or original(*a, **k)
    )
    square = pad.canvas.square()
    qtbot.mousePress(pad.canvas, Qt.MouseButton.LeftButton, pos=QPoint(100, 100))
    for k in range(120):  # 120 moves delivered faster than the throttle interval
        qtbot.mouseMove(pad.canvas, QPoint(100 + k, 100 + k // 2))
    assert len(calls) == 0  # nothing computed inside the pen's event handling
    qtbot.waitUntil(lambda: len(calls) >= 1, timeout=2000)
    qtbot.wait(3 * pad_module.PREDICT_INTERVAL_MS)
    assert len(calls) == 1  # one prediction for the whole burst
    assert 0 <= pad.digit <= 9
    assert square.width() >= 280


def test_clear_by_button_right_click_and_escape(qtbot, pad, trained):
    pad.set_network_params(trained, "relu")
    clear = pad.findChild(QPushButton, "clearButton")
    for how in ("button", "right", "escape"):
        drag(qtbot, pad.canvas, SEVEN)
        qtbot.waitUntil(lambda: pad.digit >= 0, timeout=3000)
        with qtbot.waitSignal(pad.predictionChanged, timeout=3000) as blocker:
            if how == "button":
                qtbot.mouseClick(clear, Qt.MouseButton.LeftButton)
            elif how == "right":
                qtbot.mouseClick(pad.canvas, Qt.MouseButton.RightButton, pos=QPoint(50, 50))
            else:
                qtbot.keyClick(pad.canvas, Qt.Key.Key_Escape)
            qtbot.waitUntil(lambda: pad.digit == -1, timeout=3000)
        assert blocker.args == [-1, 0.0]
        assert pad.canvas.is_empty() and pad.current_input() is None
        assert pad.findChild(QLabel, "predictionLabel").text() == DRAW_PROMPT


def test_undo_removes_the_last_stroke(qtbot, pad, trained):
    pad.set_network_params(trained, "relu")
    drag(qtbot, pad.canvas, ONE)
    one_only = pad.current_input()
    drag(qtbot, pad.canvas, [(0.3, 0.2), (0.7, 0.2)])
    assert len(pad.canvas.strokes) == 2
    assert not np.array_equal(pad.current_input(), one_only)
    qtbot.keyClick(pad.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(pad.canvas.strokes) == 1
    np.testing.assert_array_equal(pad.current_input(), one_only)
    qtbot.mouseClick(pad.findChild(QPushButton, "undoButton"), Qt.MouseButton.LeftButton)
    assert pad.canvas.is_empty() and pad.digit == -1
    pad.undo()  # nothing left: harmless
    assert pad.digit == -1


def test_a_click_draws_a_dot(qtbot, pad):
    qtbot.mouseClick(pad.canvas, Qt.MouseButton.LeftButton, pos=QPoint(150, 150))
    assert len(pad.canvas.strokes) == 1
    assert pad.canvas.render_array().max() == 255


def test_the_pad_predicts_with_its_own_copy_of_the_weights(qtbot, pad, trained):
    params = {k: v.copy() for k, v in trained.items()}
    pad.set_network_params(params, "relu")
    drag(qtbot, pad.canvas, SEVEN)
    pad.refresh()
    before = (pad.digit, pad.probability)
    for value in params.values():
        value[...] = 0.0  # the trainer moving on must not change the pad's prediction
    pad.refresh()
    assert (pad.digit, pad.probability) == before
    pad.set_network_params(None, "relu")
    pad.refresh()
    assert pad.digit == -1
    assert pad.findChild(QLabel, "predictionLabel").text() == TRAIN_PROMPT


def test_parameters_that_do_not_fit_are_refused(pad):
    net = TwoLayerNet(100, 20, 10)
    with pytest.raises(ValueError, match="784"):
        pad.set_network_params(net.params, "relu")
    net = TwoLayerNet(784, 20, 3)
    with pytest.raises(ValueError, match="W2"):
        pad.set_network_params(net.params, "relu")
    bad = TwoLayerNet(784, 20, 10).params
    bad["W1"][0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        pad.set_network_params(bad, "relu")
    assert not pad.has_network
    good = TwoLayerNet(784, 20, 10, rng=np.random.default_rng(0)).params
    pad.set_network_params(good, "relu")
    with pytest.raises(ValueError, match="NaN"):
        pad.set_network_params(bad, "relu")
    assert pad.has_network  # the last good weights stay


def test_sigmoid_networks_work_too(qtbot, pad):
    net = TwoLayerNet(784, 30, 10, activation="sigmoid", rng=np.random.default_rng(0))
    pad.set_network_params(net.params, "sigmoid")
    drag(qtbot, pad.canvas, SEVEN)
    pad.refresh()
    assert 0 <= pad.digit <= 9


def test_saliency_is_the_networks_own_input_gradient(qtbot, pad, trained):
    pad.set_network_params(trained, "relu")
    drag(qtbot, pad.canvas, SEVEN)
    pad.refresh()
    assert not pad.input_view.showing_saliency()
    toggle = pad.findChild(QPushButton, "saliencyToggle")
    qtbot.mouseClick(toggle, Qt.MouseButton.LeftButton)
    assert toggle.isChecked() and pad.input_view.showing_saliency()
    net = TwoLayerNet(784, 50, 10, dtype=np.float64)
    net.set_params(trained)
    x = pad.current_input().reshape(1, 784).astype(np.float64)
    expected = net.input_gradient(x, pad.digit).reshape(28, 28)
    np.testing.assert_allclose(pad.input_view._gradient, expected, rtol=1e-6, atol=1e-12)
    qtbot.mouseClick(toggle, Qt.MouseButton.LeftButton)
    assert not pad.input_view.showing_saliency()


def test_stages_view_shows_every_step(qtbot, pad):
    drag(qtbot, pad.canvas, SEVEN)
    assert not pad.stages_view.isVisible()
    qtbot.mouseClick(pad.findChild(QPushButton, "stagesToggle"), Qt.MouseButton.LeftButton)
    assert pad.stages_view.isVisible()
    assert pad.stages_view.stage_names() == [
        "input",
        "cropped",
        "deskewed",
        "thickness",
        "scaled",
        "mnist",
    ]


def test_load_image_shows_an_mnist_digit_as_is(qtbot, pad, trained):
    _, (x_test, _) = load_mnist()
    pad.set_network_params(trained, "relu")
    net = TwoLayerNet(784, 50, 10)
    net.set_params(trained)
    image = x_test[0].reshape(28, 28)
    with qtbot.waitSignal(pad.predictionChanged, timeout=3000):
        pad.load_image(image)
    np.testing.assert_array_equal(pad.current_input(), image)
    assert pad.digit == int(net.predict(x_test[:1]).argmax())
    assert not pad.canvas.is_empty()
    pad.load_image((x_test[1] * 255).round().astype(np.uint8))  # uint8 works too
    np.testing.assert_allclose(pad.current_input().ravel(), x_test[1], atol=1 / 255)
    with pytest.raises(ValueError, match="784"):
        pad.load_image(np.zeros((10, 10)))
    pad.clear()
    assert pad.current_input() is None and pad.digit == -1


def test_real_handwriting_replayed_through_mouse_events(qtbot, pad, trained):
    """100 real pen trajectories (UCI pendigits sample), drawn with mouse events: a briefly
    trained network reads most of them."""
    points, labels = parse_pendigits(SAMPLE.read_text().splitlines())
    assert points.shape == (100, 8, 2)
    pad.set_network_params(trained, "relu")
    predicted = []
    for sample in points:
        pad.clear()
        replay_pendigit(pad.canvas, sample)
        pad.refresh()
        predicted.append(pad.digit)
    accuracy = float(np.mean(np.array(predicted) == labels))
    assert accuracy >= 0.5, f"accuracy {accuracy:.2f} on 100 replayed pendigits"


def test_pad_renders(pad, trained, qtbot, tmp_path):
    pad.set_network_params(trained, "relu")
    drag(qtbot, pad.canvas, SEVEN)
    pad.saliency_toggle.setChecked(True)
    pad.stages_toggle.setChecked(True)
    pad.refresh()
    image = pad.grab().toImage()
    assert image.width() >= 700 and not image.isNull()
