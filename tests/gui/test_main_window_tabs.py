"""The full window: Draw, Gradient check, Backward pass, Hidden units and Evaluation tabs, fed
the weights and the test set by the main window, and talking to each other."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QCheckBox, QWidget

from desktop_bp.gui.pad.replay import parse_pendigits, replay_pendigit
from desktop_bp.gui.window import main_window as main_window_module

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "pendigits_sample.tra"
TITLES = [
    "Training",
    "Draw",
    "Gradient check",
    "Backward pass",
    "Hidden units",
    "Evaluation",
    "Chain rule",
]


def _train(window, qtbot, timeout: int = 60_000) -> None:
    button = window.findChild(QWidget, "trainButton")
    with qtbot.waitSignal(window.trainingFinished, timeout=timeout) as blocker:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert blocker.args == ["completed"]


def _draw_pendigit(window, index: int = 0) -> int:
    points, labels = parse_pendigits(SAMPLE.read_text().splitlines())
    replay_pendigit(window.pad.canvas, points[index])
    window.pad.refresh()
    return int(labels[index])


def test_default_window_has_all_tabs_and_shortcuts(make_window, qtbot):
    window = make_window(wait_for_data=False)
    assert [window.tabs.tabText(i) for i in range(window.tabs.count())] == TITLES
    assert not window.tabs.tabBar().isHidden()
    for name in ("drawingCanvas", "gradCheckButton", "hiddenUnitsView", "confusionMatrix"):
        assert window.findChild(QWidget, name) is not None, name
    for index in range(1, window.tabs.count()):
        assert window.tabs.tabToolTip(index), TITLES[index]
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)
    window.settings_panel.setFocus()
    keys = [Qt.Key.Key_1, Qt.Key.Key_2, Qt.Key.Key_3, Qt.Key.Key_4, Qt.Key.Key_5, Qt.Key.Key_6]
    for index in (5, 2, 0, 3, 1, 4):
        qtbot.keyClick(window, keys[index], Qt.KeyboardModifier.ControlModifier)
        assert window.tabs.currentIndex() == index
    assert window.findChild(QWidget, "hiddenUnitsView").isVisible()
    # Every view starts with "no network": nothing to check yet.
    assert not window.findChild(QWidget, "gradCheckButton").isEnabled()


def test_views_get_the_test_split_when_the_data_set_loads(make_window):
    window = make_window()
    _, (x_test, t_test) = window.loader.dataset_for("embedded")
    assert window.gradcheck_view._x is x_test or np.array_equal(window.gradcheck_view._x, x_test)
    assert np.array_equal(window.evaluation_view._t, t_test)
    assert window.inspector_view.index_spin.maximum() == len(x_test) - 1


def test_after_training_every_tab_shows_the_new_network(make_window, qtbot):
    window = make_window(iterations=300)
    hidden = window.hidden_units_view
    _train(window, qtbot)
    params = window.current_params()
    assert params is not None

    # Hidden units: the weights of the finished run (copies, float32).
    qtbot.waitUntil(lambda: np.array_equal(hidden._W1, params["W1"]), timeout=3000)
    window.tabs.setCurrentIndex(TITLES.index("Hidden units"))
    assert hidden.unit_count == 50 and hidden.mosaic_image() is not None

    # Draw: a real pen trajectory, replayed as mouse events, gets a prediction.
    window.tabs.setCurrentIndex(TITLES.index("Draw"))
    qtbot.waitExposed(window.pad)
    _draw_pendigit(window)
    assert 0 <= window.pad.prediction_label.property("digit") <= 9
    assert window.pad.digit == window.pad.prediction_label.property("digit")

    # "Inspect backward pass" sends the drawing to the Backward pass tab.
    drawn = window.pad.current_input()
    inspect = window.findChild(QWidget, "inspectDrawingButton")
    assert inspect.isVisible() and inspect.isEnabled()
    qtbot.mouseClick(inspect, Qt.MouseButton.LeftButton)
    assert window.tabs.currentIndex() == TITLES.index("Backward pass")
    assert np.array_equal(window.inspector_view._sample, drawn.ravel())
    assert window.inspector_view.trace is not None
    assert "your image" in window.inspector_view.sample_label.text()

    # Evaluation: evaluate, then activate a gallery image: it lands in the pad.
    window.tabs.setCurrentIndex(TITLES.index("Evaluation"))
    view = window.evaluation_view
    qtbot.waitUntil(lambda: view.result is not None and not view._task.is_running, timeout=20000)
    with qtbot.waitSignal(view.evaluationFinished, timeout=20000, raising=False):
        assert view.evaluate()
    qtbot.waitUntil(lambda: not view._task.is_running, timeout=20000)
    assert 0.5 < view.result.accuracy <= 1.0
    assert len(view.gallery_indices()) > 0
    with qtbot.waitSignal(view.imageActivated, timeout=2000) as blocker:
        view.activate_gallery_item(0)
    image = blocker.args[0]
    assert window.tabs.currentIndex() == TITLES.index("Draw")
    np.testing.assert_array_equal(window.pad.current_input().ravel(), image)
    assert 0 <= window.pad.digit <= 9


def test_hidden_units_update_live_but_throttled_and_hidden_views_wait(make_window, qtbot):
    window = make_window(iterations=3000)
    hidden, inspector = window.hidden_units_view, window.inspector_view
    window.tabs.setCurrentIndex(TITLES.index("Hidden units"))
    before = hidden.renders
    traces = []
    inspector.traceChanged.connect(lambda: traces.append(1))
    window.train()
    qtbot.waitUntil(lambda: window.iteration > 0, timeout=10000)
    started = time.perf_counter()
    renders_at_start = hidden.renders
    qtbot.wait(1500)
    elapsed = time.perf_counter() - started
    during = hidden.renders - renders_at_start
    window.stop()
    qtbot.waitUntil(lambda: not window.is_training, timeout=10000)
    assert hidden.renders > before  # live…
    assert during <= 1000 / main_window_module.INSIGHT_INTERVAL_MS * elapsed + 2  # …≤ ~5/s
    assert traces == []  # the Backward pass tab was hidden: no trace computed meanwhile
    window.tabs.setCurrentIndex(TITLES.index("Backward pass"))
    assert traces and inspector.trace is not None


def test_hidden_tabs_get_weights_when_shown_and_when_the_run_ends(make_window, qtbot):
    """While a run goes, the pad and the views on hidden tabs are not fed (GUI time is GIL
    time the trainer waits for); showing a tab feeds it at once, and the end of the run feeds
    them all."""
    window = make_window(iterations=100_000)
    pad, gradcheck = window.pad, window.gradcheck_view
    fed: list[str] = []
    original = pad.set_network_params
    pad.set_network_params = lambda *a, **k: (fed.append("pad"), original(*a, **k))[1]
    window.tabs.setCurrentIndex(TITLES.index("Training"))
    window.train()
    qtbot.waitUntil(lambda: window.iteration > 200, timeout=10000)
    qtbot.wait(300)  # several snapshots arrive meanwhile
    assert fed == [] and not pad.has_network
    assert pad in window._stale_views and gradcheck in window._stale_views
    window.tabs.setCurrentIndex(TITLES.index("Draw"))
    assert fed == ["pad"] and pad.has_network  # fed at once when shown
    qtbot.waitUntil(lambda: len(fed) > 1, timeout=3000)  # and live while on screen
    window.tabs.setCurrentIndex(TITLES.index("Training"))
    window.stop()
    qtbot.waitUntil(lambda: not window.is_training, timeout=10000)
    qtbot.waitUntil(lambda: not window._stale_views, timeout=3000)
    final = window.current_params()
    np.testing.assert_allclose(pad._net.params["W1"], final["W1"], rtol=1e-6)
    assert gradcheck.findChild(QWidget, "gradCheckButton").isEnabled()


def test_loading_weights_feeds_the_pad_and_views_and_restores_augment(make_window, qtbot, tmp_path):
    window = make_window(iterations=200)
    augment = window.findChild(QCheckBox, "augmentCheck")
    assert augment is not None and "rotation" in augment.toolTip()
    augment.setChecked(True)
    assert window.settings_panel.config().augment is True
    _train(window, qtbot)
    path = tmp_path / "w.npz"
    assert window.save_weights(path)
    saved = window.current_params()

    other = make_window(iterations=100)
    assert not other.settings_panel.augment.isChecked()
    assert not other.pad.has_network
    assert other.load_weights(path)
    assert other.settings_panel.augment.isChecked()  # from the checkpoint's hyperparameters
    qtbot.waitUntil(lambda: other.pad.has_network, timeout=3000)
    np.testing.assert_allclose(other.pad._net.params["W1"], saved["W1"], rtol=1e-6)
    np.testing.assert_array_equal(other.hidden_units_view._W1, saved["W1"])
    assert other.gradcheck_view.findChild(QWidget, "gradCheckButton").isEnabled()
    other.tabs.setCurrentIndex(TITLES.index("Draw"))
    qtbot.waitExposed(other.pad)
    _draw_pendigit(other, 1)
    assert 0 <= other.pad.digit <= 9


def test_augment_is_remembered_in_the_settings(make_window):
    window = make_window(wait_for_data=False)
    window.settings_panel.augment.setChecked(True)
    window.close()
    again = make_window(wait_for_data=False, preset=None)
    assert again.settings_panel.augment.isChecked()


CLOSE_DURING_CHECK = textwrap.dedent(
    """
    import sys, time
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    from desktop_bp.gui.window.main_window import MainWindow

    app = QApplication(sys.argv[:1])
    window = MainWindow()
    window.settings_panel.iterations.setValue(300)
    window.show()
    state = {}

    def trained(reason):
        if "trained" in state:
            return  # the second run, stopped by close()
        state["trained"] = reason
        QTimer.singleShot(300, check)  # once the views have the final weights

    def check():
        window.tabs.setCurrentIndex(2)
        state["check"] = window.gradcheck_view.run_check()
        window.tabs.setCurrentIndex(5)  # an evaluation starts too
        window.settings_panel.iterations.setValue(1_000_000)
        window.train()  # and a second run
        QTimer.singleShot(400, close)

    def close():
        state["running"] = window.gradcheck_view.is_running and window.is_training
        started = time.perf_counter()
        window.close()
        state["close_took"] = time.perf_counter() - started

    window.trainingFinished.connect(trained)
    QTimer.singleShot(0, window.train)
    QTimer.singleShot(60_000, app.quit)
    code = app.exec()
    assert state.get("trained") == "completed", state
    assert state.get("check") and state.get("running"), state
    assert not window.gradcheck_view.is_running and not window.runner.is_running
    print(f"CLOSED close_took={state['close_took']:.3f}")
    sys.exit(code)
    """
)


def test_close_during_a_gradient_check_and_a_run_exits_cleanly(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", DESKTOP_BP_SETTINGS_DIR=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "-c", CLOSE_DURING_CHECK],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "QThread" not in result.stderr, result.stderr
    assert "CLOSED" in result.stdout, result.stdout
    took = float(result.stdout.split("close_took=")[1].split()[0])
    assert took < 3.0, result.stdout


def test_backward_pass_opens_the_live_sigmoid_into_primitive_nodes(make_window, qtbot):
    """Issue 13: with a Sigmoid network trained in the window, the Backward pass tab opens
    Sigmoid into × −1, exp, + 1, 1/x whose local derivatives chain to y(1 − y)·∂L/∂y of the
    live network for the sample shown; clicking a layer box opens that layer."""
    import math

    from desktop_bp.core.network import TwoLayerNet

    window = make_window(iterations=200)
    combo = window.settings_panel.activation
    combo.setCurrentIndex(combo.findData("sigmoid"))
    _train(window, qtbot)
    window.tabs.setCurrentWidget(window.tabs.widget(TITLES.index("Backward pass")))
    inspector = window.inspector_view
    panel = inspector.primitive_panel
    qtbot.waitUntil(lambda: inspector.trace is not None, timeout=5000)
    assert [n.kind for n in inspector.trace] == ["affine", "sigmoid", "affine", "softmax_with_loss"]
    # Click the Sigmoid box of the layer graph: the panel below opens it.
    inspector._on_node_clicked(1)
    assert panel.layer == "Sigmoid1"
    trace = panel.trace
    assert [s.name for s in trace.steps] == ["× −1", "exp", "+ 1", "1/x"]
    params = window.current_params()
    net = TwoLayerNet(784, params["W1"].shape[1], 10, activation="sigmoid", dtype=np.float64)
    net.set_params(params)
    x = np.asarray(inspector._sample, dtype=np.float32).astype(np.float64)[None, :]
    net.gradient(x, np.array([inspector._target]))
    j = trace.element
    y, dy = net.layers["Sigmoid1"].out[0, j], net.douts["Sigmoid1"][0, j]
    chained = trace.steps[-1].upstream * math.prod(s.local for s in trace.steps)
    # The panel follows the live weights in float64: it agrees with the network's own
    # backward in float64 to the last digits, with the Backward pass tab's float32 Sigmoid
    # node (the window trains in float32) to float32 rounding.
    node = inspector.trace[1]
    eps32 = float(np.finfo(np.float32).eps)
    assert abs(chained - node.backward_out[j]) <= 4 * eps32 * abs(node.backward_out[j])
    assert abs(chained - y * (1 - y) * dy) <= 1e-15
    for c in trace.comparisons:
        assert abs(c.difference) <= 1e-12 * max(1.0, abs(c.closed_form)), c
    # A drawing sent from the pad is followed there too.
    drawn = np.zeros(784, np.float32)
    drawn[300:310] = 1.0
    inspector.set_sample(drawn)
    assert np.array_equal(panel._sample, drawn)


def test_a_tab_shown_by_its_shortcut_takes_the_arrow_keys(make_window, qtbot):
    """Ctrl+7 then → steps the Chain rule sandbox; Ctrl+4 then → the Backward pass graph."""
    window = make_window(iterations=50)
    _train(window, qtbot)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)
    sandbox_graph = window.findChild(QWidget, "sandboxGraph")
    qtbot.keyClick(window, Qt.Key.Key_7, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(sandbox_graph.hasFocus, timeout=3000)
    before = sandbox_graph.step
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Right)
    assert sandbox_graph.step == before + 1
    qtbot.keyClick(window, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)
    inspector = window.inspector_view
    qtbot.waitUntil(inspector.hasFocus, timeout=3000)
    step = inspector.step
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Right)
    assert inspector.step == step + 1
