"""The training controller and the tab feeder, without a window."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QWidget

from desktop_bp.core.data import load_mnist
from desktop_bp.core.trainer import TrainConfig
from desktop_bp.gui.training.controller import TrainingController
from desktop_bp.gui.training.snapshot import TrainingSnapshot
from desktop_bp.gui.training.worker import COMPLETED, DIVERGED
from desktop_bp.gui.window.tab_host import TabFeeder


def _snapshot(params, losses, *, final=False) -> TrainingSnapshot:
    return TrainingSnapshot(
        iteration=len(losses),
        target_iteration=10,
        start_iteration=0,
        loss_iterations=list(range(1, len(losses) + 1)),
        losses=list(losses),
        grad_iterations=[],
        grads={},
        epochs=[],
        params=params,
        learning_rate=0.1,
        it_per_sec=0.0,
        elapsed=0.0,
        final=final,
    )


def test_a_diverged_run_rolls_back_to_the_last_healthy_snapshot(qapp):
    controller = TrainingController()
    changes = []
    controller.paramsChanged.connect(lambda: changes.append(1))
    data = load_mnist(source="embedded")
    assert controller.prepare(TrainConfig(iterations=10, seed=1), data, "embedded") is False
    assert changes and controller.progress == (0, 0, 10, 0.0, False)
    healthy = {k: v + 1.0 for k, v in controller.session.copy_params().items()}
    controller.take_snapshot(_snapshot(healthy, [2.3]), test_acc=0.5)
    assert controller.last_test_acc == 0.5 and controller.progress[0] == 1
    broken = {k: np.full_like(v, 1e6) for k, v in healthy.items()}
    controller.take_snapshot(_snapshot(broken, [1e9, 1e9]), None)  # not healthy: no new mark
    controller.finish(DIVERGED)
    np.testing.assert_array_equal(controller.params()["W1"], healthy["W1"])
    assert controller.trainer is None and controller.progress is None
    with np.testing.assert_raises(ValueError):
        controller.params()["W1"][0, 0] = 0.0  # read-only copies


def test_a_continued_run_keeps_the_network(qapp):
    controller = TrainingController()
    data = load_mnist(source="embedded")
    controller.prepare(TrainConfig(iterations=5, seed=1), data, "embedded")
    controller.trainer.run()
    controller.finish(COMPLETED)
    assert controller.iteration == 5
    assert controller.prepare(TrainConfig(iterations=5, seed=1), data, "embedded") is True
    assert controller.progress[:3] == (5, 5, 10)


class _View(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.fed: list[object] = []

    def set_network(self, params, activation="relu") -> None:
        self.fed.append(params)

    def set_data(self, x, t) -> None:
        self.fed.append(("data", len(x)))


def test_hidden_tabs_are_stale_during_a_run_and_fed_when_shown(qtbot):
    running = [True]
    messages: list[str] = []
    feeder = TabFeeder(
        None,
        weights=lambda: ({"W1": np.zeros(1)}, "relu"),
        is_running=lambda: running[0],
        report=messages.append,
        interval_ms=10,
    )
    shown, hidden = _View(), _View()
    qtbot.addWidget(shown)
    qtbot.addWidget(hidden)
    shown.show()
    feeder.add_throttled(shown)
    feeder.add_throttled(hidden)
    feeder.feed_throttled()
    assert len(shown.fed) == 1 and hidden.fed == [] and feeder.stale == {hidden}
    hidden.show()
    feeder.tab_changed()
    assert len(hidden.fed) == 1 and not feeder.stale
    running[0] = False
    feeder.set_data("embedded", ((np.zeros((2, 784)), None), (np.zeros((3, 784)), None)))
    feeder.set_data("embedded", ((np.zeros((2, 784)), None), (np.zeros((3, 784)), None)))
    assert shown.fed[-1] == ("data", 3) and shown.fed.count(("data", 3)) == 1  # once a source
    assert messages == []
