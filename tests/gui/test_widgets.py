"""Smaller pieces: buffers, render budget, plots' read-out and log scale, shortcuts, app."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QLabel

from desktop_bp.gui.training.buffers import DecimatingBuffer, GrowingBuffer, _ema_loop, ema
from desktop_bp.gui.training.plots import nice_ceil
from desktop_bp.gui.training.render_budget import RenderBudget
from desktop_bp.gui.training.run_controls import format_duration


def test_growing_buffer_doubles_and_keeps_data():
    buffer = GrowingBuffer(2)
    buffer.extend([1, 2, 3], [10, 20, 30])
    buffer.append(4, 40)
    assert buffer.capacity == 4
    np.testing.assert_array_equal(buffer.x, [1, 2, 3, 4])
    np.testing.assert_array_equal(buffer.y, [10, 20, 30, 40])
    with pytest.raises(ValueError, match="same length"):
        buffer.extend([1], [1, 2])


def test_decimating_buffer_stays_bounded_and_keeps_latest():
    buffer = DecimatingBuffer(["a", "b"], capacity=64)
    for start in range(0, 100_000, 37):
        xs = list(range(start, min(start + 37, 100_000)))
        buffer.extend(xs, {"a": [float(x) for x in xs]})
    assert len(buffer) <= 64
    assert buffer.stride >= 100_000 // 64
    # Stored points are evenly spaced samples: point i is sample i * stride.
    np.testing.assert_array_equal(buffer.x, np.arange(len(buffer)) * buffer.stride)
    np.testing.assert_array_equal(buffer.y("a"), buffer.x)
    assert np.all(np.isnan(buffer.y("b")))  # missing series are NaN
    assert buffer.latest["a"] == 99_999.0
    assert buffer.latest_x == 99_999.0


@pytest.mark.parametrize("alpha", [0.02, 0.05, 0.5, 1.0])
def test_ema_matches_the_plain_loop(alpha):
    rng = np.random.default_rng(1)
    values = rng.random(3000) * 3
    values[100] = np.nan
    np.testing.assert_allclose(ema(values, alpha), _ema_loop(values, alpha, None), rtol=1e-9)
    np.testing.assert_allclose(ema(values, alpha, 2.0), _ema_loop(values, alpha, 2.0), rtol=1e-9)


def test_render_budget_limits_the_share():
    now = [0.0]
    budget = RenderBudget(share=0.1, burst=0.01, clock=lambda: now[0])
    assert budget.allow()  # disabled: always
    budget.enabled = True
    budget.reset()
    assert budget.allow()
    budget.spend(0.05)  # 0.01 - 0.05: 0.04 s in debt
    assert not budget.allow()
    now[0] = 0.3  # refilled 0.03 s: still in debt
    assert not budget.allow()
    now[0] = 0.5
    assert budget.allow()
    now[0] = 100.0  # refill is capped at the burst
    budget.spend(0.02)
    assert not budget.allow()


def test_small_helpers():
    assert nice_ceil(2.303) == 2.5
    assert nice_ceil(0.7) == pytest.approx(0.8)
    assert nice_ceil(11) == 12
    assert format_duration(42) == "0:42"
    assert format_duration(3723) == "1:02:03"
    assert format_duration(float("nan")) == "–"


def test_hover_readout_and_log_scale(window, qtbot):
    with qtbot.waitSignal(window.trainingFinished, timeout=60000):
        window.train()
    window.refresh_now()
    plot = window.loss_plot
    view = plot.getPlotItem().vb
    scene_pos = view.mapViewToScene(QPointF(150, 1.0))
    texts = []
    plot.hoverText.connect(texts.append)
    plot._on_mouse_moved(scene_pos)
    assert texts and texts[-1].startswith("iteration 150 · loss ")
    assert window.loss_card.readout.text() == texts[-1]

    window.ui_actions.log_scale.trigger()
    assert window.log_scale_check.isChecked()
    assert plot.log_y
    lo, hi = view.viewRange()[1]
    assert hi <= 1.1 and lo < 0  # log10 units: up to 10, some decades below 1
    window.log_scale_check.setChecked(False)
    assert not plot.log_y


def test_gradient_curves_toggle_from_the_table(window, qtbot):
    with qtbot.waitSignal(window.trainingFinished, timeout=60000):
        window.train()
    panel = window.gradient_panel
    item = panel.name_items["db1"]
    assert not panel.plot.curves["db1"].isVisible()
    item.setCheckState(Qt.CheckState.Checked)
    assert panel.plot.curves["db1"].isVisible()
    x, _ = panel.plot.curves["db1"].getData()
    assert x is not None and len(x) > 0
    assert "RMS" in item.toolTip()


def test_shortcuts_train_pause_stop(make_window, qtbot):
    window = make_window(iterations=500_000)
    window.activateWindow()
    window.settings_panel.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.iteration > 0, timeout=10000)
    with qtbot.waitSignal(window.runner.pausedChanged, timeout=5000):
        qtbot.keyClick(window, Qt.Key.Key_Space)
    assert window.is_paused
    assert window.run_controls.pause_button.text() == "Resume"
    qtbot.keyClick(window, Qt.Key.Key_Escape)  # plain Esc belongs to the drawing pad
    qtbot.wait(100)
    assert window.is_training
    with qtbot.waitSignal(window.trainingFinished, timeout=5000) as blocker:
        qtbot.keyClick(window, Qt.Key.Key_Escape, Qt.KeyboardModifier.ShiftModifier)
    assert blocker.args == ["stopped"]
    for action in (window.ui_actions.train, window.ui_actions.pause, window.ui_actions.stop):
        assert "(" in action.toolTip()  # the shortcut is shown


def test_draw_widget_becomes_a_tab(make_window):
    window = make_window(wait_for_data=False, insight_tabs=False)
    assert window.tabs.count() == 1
    assert window.tabs.tabBar().isHidden()  # one tab: no bar
    pad = QLabel("pad")
    pad.setMinimumSize(300, 300)
    window.set_draw_widget(pad)
    assert window.tabs.count() == 2
    assert window.tabs.tabText(1) == "Draw"
    assert window.tabs.widget(1) is pad
    window.tabs.setCurrentIndex(1)
    assert pad.isVisible()
    assert not window.loss_plot.isVisible()


def test_weights_changed_and_current_params_are_read_only(window, qtbot):
    changes = []
    window.weightsChanged.connect(lambda: changes.append(window.current_params()))
    with qtbot.waitSignal(window.trainingFinished, timeout=60000):
        window.train()
    qtbot.waitUntil(lambda: len(changes) > 0, timeout=2000)
    params = window.current_params()
    with pytest.raises(ValueError):
        params["W1"][0, 0] = 1.0
    assert window.current_network_info()["hidden_size"] == 50


def test_run_app_opens_and_closes(tmp_path):
    code = (
        "from PySide6.QtCore import QTimer\n"
        "from PySide6.QtWidgets import QApplication\n"
        "from desktop_bp.gui.app import run_app\n"
        "app = QApplication([])\n"
        "def check():\n"
        "    titles = [w.windowTitle() for w in app.topLevelWidgets() if w.isVisible()]\n"
        "    print('TITLES', titles)\n"
        "    app.closeAllWindows()\n"
        "QTimer.singleShot(300, check)\n"
        "raise SystemExit(run_app([]))\n"
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", DESKTOP_BP_SETTINGS_DIR=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "'Desktop BP'" in result.stdout
    assert "QThread" not in result.stderr


class _FakePad(QLabel):
    def __init__(self) -> None:
        super().__init__("pad")
        self.calls: list[tuple[object, str]] = []

    def set_network_params(self, params, activation="relu") -> None:
        self.calls.append((params, activation))


def test_draw_widget_is_fed_the_weights(make_window, qtbot):
    window = make_window(iterations=300, insight_tabs=False)
    pad = _FakePad()
    window.set_draw_widget(pad)
    assert pad.calls == [(None, "relu")]  # no network yet
    with qtbot.waitSignal(window.trainingFinished, timeout=60000):
        window.train()
    qtbot.waitUntil(lambda: pad.calls[-1][0] is not None, timeout=2000)
    params, activation = pad.calls[-1]
    assert activation == "relu"
    assert params["W1"].shape == (784, 50)


def test_settings_column_scroll_bar_never_covers_the_fields(make_window, qtbot):
    """A short window scrolls the settings column; the column widens by the bar's width then,
    so the fields keep their full width (seen covered on Ubuntu 24.04 at 1280x800)."""
    from PySide6.QtWidgets import QScrollArea

    from desktop_bp.gui.training.settings_column import COLUMN_WIDTH

    window = make_window(wait_for_data=False)
    scroll = window.findChild(QScrollArea, "settingsScroll")
    bar = scroll.verticalScrollBar()
    content = scroll.widget()
    need = content.minimumSizeHint().width()
    assert scroll.content_width() == max(COLUMN_WIDTH, need)
    qtbot.waitUntil(lambda: not bar.isVisible(), timeout=3000)
    # Nothing is cut off on the right: the fields get all the width they ask for.
    qtbot.waitUntil(lambda: scroll.viewport().width() == scroll.content_width(), timeout=3000)
    assert content.width() == scroll.viewport().width() >= need
    window.resize(1280, 420)
    qtbot.waitUntil(bar.isVisible, timeout=3000)
    qtbot.waitUntil(
        lambda: scroll.width() == scroll.content_width() + bar.sizeHint().width(), timeout=3000
    )
    assert scroll.viewport().width() == scroll.content_width()
    window.resize(1280, 800)
    qtbot.waitUntil(lambda: not bar.isVisible(), timeout=3000)
    qtbot.waitUntil(lambda: scroll.width() == scroll.content_width(), timeout=3000)
