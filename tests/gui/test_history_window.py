"""The run history in the main window: runs kept, overlaid, kept across a restart, exported,
trained again, and a loaded weights file as a run."""

from __future__ import annotations

import csv

import pytest
from PySide6.QtWidgets import QFileDialog

from desktop_bp.gui.history import export
from desktop_bp.gui.history.run_table import default_history_folder


def train(window, qtbot, lr: float, iterations: int = 200) -> None:
    window.settings_panel.learning_rate.setValue(lr)
    window.settings_panel.iterations.setValue(iterations)
    if window.session.has_model:
        window.reset()
    with qtbot.waitSignal(window.trainingFinished, timeout=60000) as blocker:
        window.train()
    assert blocker.args == ["completed"]


def legend_texts(plot) -> list[str]:
    legend = plot.getPlotItem().legend
    return [label.text for _, label in legend.items]


@pytest.fixture
def two_runs(make_window, qtbot):
    window = make_window(iterations=200)
    train(window, qtbot, 0.1)
    train(window, qtbot, 0.5)
    return window


def test_runs_kept_and_overlaid(two_runs, qtbot):
    window = two_runs
    panel = window.run_history.panel
    assert panel.table.objectName() == "runHistoryTable"
    assert panel.table.rowCount() == 2
    assert [r.config.learning_rate for r in panel.runs()] == [0.5, 0.1]  # newest first
    newest = panel.runs()[0]
    assert newest.outcome == "completed"
    assert newest.preset is None  # the book preset with lr 0.5 is no preset
    assert newest.losses.shape == (200,)
    assert newest.test_acc.size >= 1
    assert newest.gradient_iterations.size and "dW1" in newest.gradients
    assert newest.wall_seconds > 0
    assert newest.final_test_acc == pytest.approx(window.training.last_test_acc)

    panel.set_ticked(panel.runs())
    overlays = window.run_history.overlays
    loss_items = overlays.items("loss")
    assert len(loss_items) == 2
    assert all(item in window.loss_plot.getPlotItem().items for item in loss_items)
    assert len(overlays.items("accuracy")) == 4
    assert all(
        item in window.accuracy_plot.getPlotItem().items for item in overlays.items("accuracy")
    )
    assert overlays.items("gradient")
    texts = legend_texts(window.loss_plot)
    assert "lr 0.1" in texts and "lr 0.5" in texts
    texts = legend_texts(window.accuracy_plot)
    assert "lr 0.1" in texts and "lr 0.5" in texts
    # The read-out names the runs.
    assert "lr 0.1" in window.loss_plot.extra_hover(100.0)

    panel.set_ticked(panel.runs()[:1], on=False)  # untick: gone at once
    assert len(overlays.items("loss")) == 1
    (gone,) = set(loss_items) - set(overlays.items("loss"))
    assert gone not in window.loss_plot.getPlotItem().items
    assert legend_texts(window.loss_plot) == ["lr 0.1"]


def test_overlays_widen_the_frame(make_window, qtbot):
    window = make_window(iterations=300)
    train(window, qtbot, 0.2, iterations=300)
    panel = window.run_history.panel
    train(window, qtbot, 0.2, iterations=100)
    panel.set_ticked([panel.runs()[1]])  # the 300-step run beside a 100-step one
    window.refresh_now()
    x_range = window.loss_plot.getPlotItem().vb.viewRange()[0]
    assert x_range[1] >= 300


def test_history_survives_a_restart(two_runs, make_window, qtbot):
    ids = [r.run_id for r in two_runs.run_history.panel.runs()]
    two_runs.close()
    window = make_window(iterations=10)
    panel = window.run_history.panel
    assert [r.run_id for r in panel.runs()] == ids
    panel.set_ticked(panel.runs())
    assert len(window.run_history.overlays.items("loss")) == 2
    texts = legend_texts(window.loss_plot)
    assert "lr 0.1" in texts and "lr 0.5" in texts
    # No live run yet: the plots show the overlaid runs, not the empty hint.
    assert not window.loss_plot.is_empty


def test_a_continued_run_updates_its_row(make_window, qtbot):
    window = make_window(iterations=100)
    with qtbot.waitSignal(window.trainingFinished, timeout=60000):
        window.train()
    with qtbot.waitSignal(window.trainingFinished, timeout=60000):
        window.train()  # same network: continued
    runs = window.run_history.panel.runs()
    assert len(runs) == 1
    assert runs[0].losses.shape == (200,)
    assert runs[0].config.iterations == 200


def test_a_corrupt_file_is_a_note(make_window, qtbot):
    folder = default_history_folder()
    folder.mkdir(parents=True)
    (folder / "20240101-000000-abcd.npz").write_bytes(b"not a zip file")
    window = make_window(iterations=10)
    panel = window.run_history.panel
    assert panel.runs() == []
    assert panel.notes
    assert panel.message.isVisibleTo(panel)


def test_export_curves_from_the_window(two_runs, qtbot, monkeypatch, tmp_path):
    window = two_runs
    panel = window.run_history.panel
    panel.set_ticked(panel.runs()[1:])  # the lr 0.1 run, plus the current (lr 0.5) one
    titles = []

    def dialog(parent, title, *args):
        titles.append(title)
        return str(tmp_path / "curves"), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", dialog)
    window.ui_actions.export_curves.trigger()
    assert "the current run and 1 ticked run" in titles[0]
    with open(tmp_path / "curves.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {"iteration", "loss", "train_acc", "test_acc"} <= set(rows[0])
    assert len({row["run"] for row in rows}) == 2
    assert len(rows) == 400
    assert any(row["test_acc"] for row in rows)


def test_export_plot_from_the_window(two_runs, monkeypatch, tmp_path):
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a: (str(tmp_path / "loss.svg"), ""))
    errors = []
    monkeypatch.setattr(export, "show_error", lambda *a: errors.append(a))
    two_runs.ui_actions.export_loss.trigger()
    assert not errors
    assert (tmp_path / "loss.svg").read_text().lstrip().startswith("<?xml")
    png = two_runs.run_history.export_plot("accuracy", tmp_path / "accuracy.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_train_again_applies_the_settings_and_trains(two_runs, qtbot):
    window = two_runs
    panel = window.run_history.panel
    old = panel.runs()[1]  # lr 0.1
    panel.select_runs([old.run_id])
    started = []
    window.trainingStarted.connect(lambda: started.append(window.settings_panel.config()))
    with qtbot.waitSignal(window.trainingFinished, timeout=60000):
        panel.train_again_action.trigger()
    assert started and started[0].learning_rate == pytest.approx(0.1)
    assert window.settings_panel.learning_rate.value() == pytest.approx(0.1)
    assert window.settings_panel.iterations.value() == 200
    runs = panel.runs()
    assert len(runs) == 3
    # A new network from the same seed: the same curve.
    assert runs[0].losses.tolist() == pytest.approx(old.losses.tolist(), rel=1e-4)


def test_a_loaded_weights_file_is_a_run(two_runs, make_window, tmp_path, qtbot):
    path = tmp_path / "weights.npz"
    assert two_runs.save_weights(path)
    window = make_window(iterations=10)
    before = len(window.run_history.panel.runs())
    assert window.load_weights(path)
    assert window.load_weights(path)  # twice: one run
    runs = window.run_history.panel.runs()
    assert len(runs) == before + 1
    loaded = [r for r in runs if r.outcome == "loaded"]
    assert len(loaded) == 1 and loaded[0].note == "weights.npz"
    assert loaded[0].losses.shape == (200,)


def test_view_menu_hides_the_history(window):
    action = window.ui_actions.show_history
    assert action.isChecked() and window.run_history.panel.isVisible()
    action.trigger()
    assert not window.run_history.panel.isVisible()
    action.trigger()
    assert window.run_history.panel.isVisible()


def test_panes_and_the_history_toggle_are_remembered(make_window, qtbot):
    window = make_window(wait_for_data=False)
    page = window.training_page
    sizes = page.sizes()
    page.setSizes([sizes[0] + 60, sizes[1], max(sizes[2] - 60, 80)])
    wanted = page.sizes()
    window.close()
    again = make_window(wait_for_data=False)
    # The history pane keeps its height; the plots share the rest as before (the page's total
    # height may differ by a few pixels while the new window lays out).
    restored = again.training_page.sizes()
    assert restored[2] == wanted[2]
    assert restored[0] / restored[1] == pytest.approx(wanted[0] / wanted[1], rel=0.02)
    again.ui_actions.show_history.trigger()
    assert not again.run_history.panel.isVisible()
    again.close()
    third = make_window(wait_for_data=False)
    assert not third.ui_actions.show_history.isChecked()
    assert not third.run_history.panel.isVisible()
