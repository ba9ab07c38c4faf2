"""Training from the window: a real short run, pause/resume/stop, live learning rate."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from desktop_bp.core.trainer import GRADIENT_KEYS

OBJECT_NAMES = [
    "trainButton",
    "pauseButton",
    "stopButton",
    "resetButton",
    "datasetCombo",
    "hiddenSizeSpin",
    "activationCombo",
    "initStdSpin",
    "learningRateSpin",
    "batchSizeSpin",
    "iterationsSpin",
    "seedSpin",
    "progressBar",
    "lossPlot",
    "accuracyPlot",
    "gradientPanel",
]


def test_window_has_named_controls_with_tooltips(make_window):
    from PySide6.QtWidgets import QWidget

    window = make_window(wait_for_data=False)
    assert window.windowTitle() == "Desktop BP"
    assert (window.width(), window.height()) == (1280, 800)
    for name in OBJECT_NAMES:
        widget = window.findChild(QWidget, name)
        assert widget is not None, name
        if name not in ("lossPlot", "accuracyPlot", "gradientPanel"):
            assert widget.toolTip(), f"{name} has no tooltip"


def test_short_run_from_train_click_fills_plots(window, qtbot):
    button = window.findChild(QPushButton, "trainButton")
    with qtbot.waitSignal(window.trainingFinished, timeout=60000) as blocker:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert blocker.args == ["completed"]
    assert window.iteration == 300
    window.refresh_now()

    x, _ = window.loss_plot.raw_curve.getData()
    assert len(window.loss_plot.raw) == 300
    assert x is not None and len(x) > 0
    assert np.all(np.isfinite(window.loss_plot.raw.y))
    # An epoch is 16,001 // 100 = 160 steps: evaluations after steps 1, 161 and at the end.
    assert window.accuracy_plot.iterations == [1, 161, 300]
    assert window.accuracy_plot.test_acc[-1] > 50

    panel = window.gradient_panel
    assert len(panel.buffer) > 0
    assert set(panel.current_values()) == set(GRADIENT_KEYS)
    for key, item in panel.value_items.items():
        assert item.text() not in ("", "–"), key

    params = window.current_params()
    assert params is not None and set(params) == {"W1", "b1", "W2", "b2"}
    assert all(np.all(np.isfinite(v)) for v in params.values())
    assert "300" in window.status.iteration.text()
    assert "%" in window.status.accuracy.text()


def test_architecture_locked_while_training_lr_live(make_window, qtbot):
    window = make_window(iterations=200_000)
    window.train()
    qtbot.waitUntil(lambda: window.iteration > 0, timeout=10000)
    s = window.settings_panel
    for widget in (s.hidden_size, s.activation, s.init_std, s.batch_size, s.iterations, s.seed):
        assert not widget.isEnabled()
    assert s.learning_rate.isEnabled()
    s.learning_rate.setValue(0.05)
    trainer = window._run_trainer
    qtbot.waitUntil(lambda: trainer.learning_rate == 0.05, timeout=5000)
    with qtbot.waitSignal(window.trainingFinished, timeout=10000):
        window.stop()
    assert s.hidden_size.isEnabled()


def test_pause_resume_stop(make_window, qtbot):
    window = make_window(iterations=200_000)
    window.train()
    qtbot.waitUntil(lambda: window.iteration > 50, timeout=10000)

    with qtbot.waitSignal(window.runner.pausedChanged, timeout=5000):
        window.pause()
    assert window.is_paused
    qtbot.wait(100)  # let the pause snapshot arrive
    frozen = window.iteration
    qtbot.wait(400)
    assert window.iteration == frozen
    assert window._run_trainer.iteration == frozen

    with qtbot.waitSignal(window.runner.pausedChanged, timeout=5000):
        window.resume()
    qtbot.waitUntil(lambda: window.iteration > frozen + 20, timeout=10000)

    with qtbot.waitSignal(window.trainingFinished, timeout=5000) as blocker:
        window.stop()
    assert blocker.args == ["stopped"]
    assert not window.is_training
    assert 0 < window.iteration < 200_000
    assert window.ui_actions.train.isEnabled()


def test_stop_while_paused(make_window, qtbot):
    window = make_window(iterations=200_000)
    window.train()
    qtbot.waitUntil(lambda: window.iteration > 10, timeout=10000)
    with qtbot.waitSignal(window.runner.pausedChanged, timeout=5000):
        window.toggle_pause()
    with qtbot.waitSignal(window.trainingFinished, timeout=5000) as blocker:
        window.stop()
    assert blocker.args == ["stopped"]


def test_train_again_continues_then_reset(window, qtbot):
    with qtbot.waitSignal(window.trainingFinished, timeout=60000):
        window.train()
    window.settings_panel.iterations.setValue(100)
    with qtbot.waitSignal(window.trainingFinished, timeout=60000):
        window.train()
    assert window.iteration == 400
    assert len(window.loss_plot.raw) == 400
    window.reset()
    assert window.iteration == 0
    assert window.current_params() is None
    assert len(window.loss_plot.raw) == 0


def test_divergence_rolls_back_and_stays_usable(make_window, qtbot):
    window = make_window(iterations=3000)
    window.settings_panel.learning_rate.setValue(50.0)
    with qtbot.waitSignal(window.trainingFinished, timeout=60000) as blocker:
        window.train()
    assert blocker.args == ["diverged"]
    assert window.banner.isVisible()
    assert "diverged" in window.banner.label.text()
    assert "diverged" in window.last_error
    assert window.errors.calls == []  # non-blocking: no modal dialog
    params = window.current_params()
    assert params is not None
    assert all(np.all(np.isfinite(v)) for v in params.values())
    # Still usable: a sane learning rate trains the (rolled back) network.
    window.settings_panel.learning_rate.setValue(0.1)
    window.settings_panel.iterations.setValue(100)
    with qtbot.waitSignal(window.trainingFinished, timeout=60000) as blocker:
        window.train()
    assert blocker.args == ["completed"]
    assert not window.banner.isVisible()
