"""Gradient-check view: a click runs the check off the GUI thread and fills the table."""

from __future__ import annotations

import os

# tests/gui/conftest.py does this too; repeated so the module also runs on its own.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import time

import numpy as np
import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QTableWidget

from desktop_bp.core.data import load_mnist
from desktop_bp.core.gradcheck import PASS_THRESHOLD
from desktop_bp.core.network import TwoLayerNet
from desktop_bp.core.trainer import TrainConfig, Trainer
from desktop_bp.gui.insight.gradient_check.view import ERROR, RESULT, GradientCheckView

CHECK_TIMEOUT_MS = 120_000


@pytest.fixture(scope="module")
def trained():
    data = load_mnist()
    trainer = Trainer(TrainConfig(iterations=1500), data)
    trainer.run()
    assert trainer.network.dtype == np.float32
    return trainer.network, data[1]


@pytest.fixture
def view(qtbot):
    widget = GradientCheckView(seed=0)
    qtbot.addWidget(widget)
    widget.resize(1000, 650)
    widget.show()
    yield widget
    widget.shutdown()


def _errors(table: QTableWidget) -> dict[str, float]:
    return {
        table.item(row, 0).text(): float(table.item(row, ERROR).text())
        for row in range(table.rowCount())
    }


def test_click_fills_the_table_with_passing_errors(qtbot, view, trained):
    net, (x_test, t_test) = trained
    before = net.copy_params()
    view.set_network(net.params, net.activation)
    view.set_data(x_test, t_test)
    button = view.findChild(object, "gradCheckButton")
    table = view.findChild(QTableWidget, "gradCheckTable")
    assert button.isEnabled()
    with qtbot.waitSignal(view.checkFinished, timeout=CHECK_TIMEOUT_MS) as blocker:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        assert view.is_running and not button.isEnabled()
    report = blocker.args[0]

    assert table.rowCount() == 4
    errors = _errors(table)
    assert list(errors) == ["W1", "b1", "W2", "b2"]
    for name, error in errors.items():
        assert error < PASS_THRESHOLD, name
        item = table.item(list(errors).index(name), ERROR)
        assert isinstance(item.data(Qt.ItemDataRole.DisplayRole), float)
        assert item.data(Qt.ItemDataRole.DisplayRole) == report.check.errors[name]
        assert "pass" in table.item(list(errors).index(name), RESULT).text()
    assert report.passed and report.samples == 3
    assert report.check.backprop_seconds > 0
    assert report.speedup > 100  # thousands of times in practice; 100 keeps slow CI calm
    summary = view.findChild(object, "gradCheckSummary").text()
    assert "PASS" in summary and "faster" in summary
    for key, value in before.items():  # the view worked on copies
        assert np.array_equal(net.params[key], value)
    qtbot.waitUntil(lambda: button.isEnabled(), timeout=5000)


def test_window_stays_responsive_and_cancel_stops_the_check(qtbot, view, trained):
    net, (x_test, t_test) = trained
    view.set_network(net.params, net.activation)
    view.set_data(x_test, t_test)
    table = view.findChild(QTableWidget, "gradCheckTable")
    # A 20 ms timer in the GUI thread while the check runs: the gaps between its ticks are
    # how long the event loop was blocked. Other tests running on the same machine steal CPU,
    # so the bounds are generous — but a check computed in the GUI thread (W1's numerical
    # gradient takes seconds) would still blow them.
    ticks: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(20)
    assert view.run_check()
    assert view.is_running
    # b2, b1 and W2 come first (cheap); W1's numerical gradient takes seconds.
    qtbot.waitUntil(
        lambda: isinstance(table.item(1, ERROR).data(Qt.ItemDataRole.DisplayRole), float),
        timeout=CHECK_TIMEOUT_MS,
    )
    qtbot.wait(300)
    timer.stop()
    assert view.is_running and view.report is None, "W1 must still be running to test Cancel"
    gaps = np.diff(ticks)
    assert len(gaps) >= 2, f"the timer hardly ticked: {ticks}"
    assert gaps.max() < 1.0, f"the GUI thread stalled for {gaps.max():.2f} s"

    started = time.perf_counter()
    with qtbot.waitSignal(view.checkCancelled, timeout=30_000):
        qtbot.mouseClick(view.findChild(object, "gradCheckCancelButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not view.is_running, timeout=30_000)
    assert time.perf_counter() - started < 10  # the worker polls the stop flag every pass
    assert view.report is None
    assert table.item(0, RESULT).text() == "cancelled"
    assert float(table.item(3, ERROR).text()) < PASS_THRESHOLD  # b2 kept its result
    qtbot.waitUntil(lambda: view.findChild(object, "gradCheckButton").isEnabled(), timeout=5000)


def test_without_a_network_there_is_nothing_to_check(qtbot, view):
    assert not view.findChild(object, "gradCheckButton").isEnabled()
    assert view.run_check() is False
    view.set_network(TwoLayerNet(rng=np.random.default_rng(0)).params, "relu")
    assert view.findChild(object, "gradCheckButton").isEnabled()
    view.set_network(None)
    assert not view.findChild(object, "gradCheckButton").isEnabled()


def test_provider_and_random_inputs_on_a_small_network(qtbot, view):
    # A small sigmoid network, no test set: the check runs on random pixels and labels.
    net = TwoLayerNet(30, 6, 4, 0.5, activation="sigmoid", rng=np.random.default_rng(1))
    calls = []

    def provider():
        calls.append(1)
        return net.params, "sigmoid"

    view.set_params_provider(provider)
    with qtbot.waitSignal(view.checkFinished, timeout=CHECK_TIMEOUT_MS) as blocker:
        assert view.run_check()
    assert calls == [1]
    report = blocker.args[0]
    assert report.passed and report.parameters["W1"].shape == (30, 6)
    assert "random inputs" in view.findChild(object, "gradCheckSummary").text()


def test_worker_errors_reach_the_user(qtbot, view):
    params = TwoLayerNet(rng=np.random.default_rng(0)).copy_params()
    params["b1"] = np.zeros(49)  # does not match W1
    view.set_params_provider(lambda: (params, "relu"))
    with qtbot.waitSignal(view.checkFailed, timeout=10_000) as blocker:
        view.run_check()
    assert "b1" in blocker.args[0]
    assert "failed" in view.findChild(object, "gradCheckSummary").text()
