"""Earlier runs on the plots: their own colours, legend text naming what differs, below the live
curve, removed on untick, hover values; and the table's ticks driving them."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt

from desktop_bp.core.trainer import TrainConfig
from desktop_bp.gui import theme
from desktop_bp.gui.history import RunHistoryPanel, RunOverlays, connect_overlays
from desktop_bp.gui.history.overlays import OVERLAY_COLOURS, OVERLAY_Z
from desktop_bp.gui.history.run_table import COL_OVERLAY
from desktop_bp.gui.training.gradient_panel import CURVE_STYLES
from desktop_bp.testing.runs import synthetic_run


@pytest.fixture
def plots(qtbot):
    widgets = {}
    for kind in ("loss", "accuracy", "gradient"):
        widget = pg.PlotWidget()
        qtbot.addWidget(widget)
        widgets[kind] = widget
    widgets["accuracy"].getPlotItem().addLegend()  # as the live accuracy plot has
    widgets["gradient"].getPlotItem().setLogMode(y=True)
    return widgets


@pytest.fixture
def overlays(plots):
    return RunOverlays(plots["loss"], plots["accuracy"], plots["gradient"])


def legend_texts(widget: pg.PlotWidget) -> list[str]:
    legend = widget.getPlotItem().legend
    return [label.text for _, label in legend.items] if legend is not None else []


def pen_colour(item: pg.PlotDataItem) -> str:
    return pg.mkPen(item.opts["pen"]).color().name()


def test_palette_is_distinct_from_the_live_colours():
    live = {theme.LOSS, theme.TRAIN_ACC, theme.TEST_ACC, *(c for c, _ in CURVE_STYLES.values())}
    assert not {c.lower() for c in OVERLAY_COLOURS} & {c.lower() for c in live}
    assert len(set(OVERLAY_COLOURS)) == len(OVERLAY_COLOURS)


def test_ticked_runs_are_drawn_in_their_colours_below_the_live_curve(plots, overlays):
    live = plots["loss"].plot(np.arange(1, 401), np.linspace(2.3, 0.2, 400), name="live")
    fast, slow = synthetic_run(0.5, steps=400, epoch=100), synthetic_run(0.05, steps=400)
    overlays.set_runs([fast, slow])

    loss_items = overlays.items("loss")
    assert len(loss_items) == 2
    assert all(item in plots["loss"].getPlotItem().items for item in loss_items)
    assert [pen_colour(i) for i in loss_items] == [c.lower() for c in OVERLAY_COLOURS[:2]]
    assert all(item.zValue() == OVERLAY_Z < live.zValue() for item in loss_items)
    assert legend_texts(plots["loss"]) == ["lr 0.5", "lr 0.05"]
    # Accuracy: test (legend) and train (dashed) per run, in percent.
    acc = overlays.items("accuracy")
    assert len(acc) == 4
    assert legend_texts(plots["accuracy"]) == ["lr 0.5", "lr 0.05"]
    x, y = acc[0].getData()
    np.testing.assert_allclose(y, 100 * fast.test_acc, rtol=1e-5)
    np.testing.assert_array_equal(x, [100, 200, 300, 400])
    # Gradients: dW1 and dW2 per run.
    assert len(overlays.items("gradient")) == 4
    assert legend_texts(plots["gradient"]) == [
        "lr 0.5 · dW1",
        "lr 0.5 · dW2",
        "lr 0.05 · dW1",
        "lr 0.05 · dW2",
    ]
    x_end, low, high = overlays.bounds("accuracy")
    assert x_end == 400 and high <= 100.0
    assert low == pytest.approx(100 * min(slow.test_acc.min(), fast.test_acc.min()))
    assert overlays.bounds("loss")[0] == 400
    assert overlays.colours() == {fast.run_id: "#e8e36a", slow.run_id: "#c9ced8"}


def test_the_loss_overlay_is_the_smoothed_curve_downsampled(plots, overlays):
    run = synthetic_run(0.1, steps=8000, epoch=1000)
    overlays.set_runs([run])
    (item,) = overlays.items("loss")
    x, y = item.getOriginalDataset()
    assert x.shape[0] < 1000 and x[-1] == 8000
    assert np.std(np.diff(y)) < 0.05  # smooth, not the raw minibatch noise
    assert item.opts["autoDownsample"] and item.opts["clipToView"]
    assert item.opts["downsampleMethod"] == "peak"


def test_unticking_removes_items_and_legend_entries(plots, overlays):
    fast, slow = synthetic_run(0.5, steps=400), synthetic_run(0.05, steps=400)
    overlays.set_runs([fast, slow])
    first = overlays.items("loss")[1]
    overlays.set_runs([slow])
    assert overlays.items("loss") == [first]  # the same item, not a new one
    assert len(plots["loss"].getPlotItem().listDataItems()) == 1
    # One run alone: named by lr, hidden, activation.
    assert legend_texts(plots["loss"]) == ["lr 0.05, 50 hidden, relu"]
    assert pen_colour(first) == OVERLAY_COLOURS[1].lower()  # kept its colour
    overlays.set_runs([])
    assert plots["loss"].getPlotItem().listDataItems() == []
    assert plots["accuracy"].getPlotItem().listDataItems() == []
    assert not plots["loss"].getPlotItem().legend.isVisible()


def test_legend_names_what_differs_from_the_live_run(plots, overlays):
    overlays.set_reference(TrainConfig(learning_rate=0.1, iterations=400), "embedded")
    run = synthetic_run(0.1, steps=400, activation="sigmoid", weight_init_std=1.0)
    overlays.set_runs([run])
    assert legend_texts(plots["loss"]) == ["sigmoid, std 1"]
    run.note = "saturated"
    overlays.set_runs([run])
    assert legend_texts(plots["loss"]) == ["saturated (sigmoid, std 1)"]


def test_hover_values_name_the_run(overlays):
    fast, slow = synthetic_run(0.5, steps=400, epoch=100), synthetic_run(0.05, steps=400)
    overlays.set_runs([fast, slow])
    (fast_acc, slow_acc) = overlays.nearest_run_value("accuracy", 190.0)
    assert fast_acc == ("lr 0.5", pytest.approx(100 * fast.test_acc[1], rel=1e-5))
    assert slow_acc[0] == "lr 0.05"
    labels = [label for label, _ in overlays.nearest_run_value("loss", 10_000)]
    assert labels == ["lr 0.5", "lr 0.05"]
    (_, value), _ = overlays.nearest_run_value("gradient", 1.0)
    assert value == pytest.approx(fast.gradients["dW1"][0], rel=1e-5)
    assert overlays.hover_text("accuracy", 400).startswith("lr 0.5 ")
    with pytest.raises(ValueError, match="plot_kind"):
        overlays.nearest_run_value("hidden", 1.0)


def test_the_loss_overlay_follows_the_log_scale(plots, overlays):
    overlays.set_runs([synthetic_run(0.1, steps=400)])
    plots["loss"].getPlotItem().setLogMode(y=True)
    (item,) = overlays.items("loss")
    assert item.opts["logMode"][1]


def test_table_ticks_drive_the_overlays(qtbot, tmp_path, plots, overlays):
    panel = RunHistoryPanel()
    qtbot.addWidget(panel)
    connect_overlays(panel, overlays)
    for minutes, lr in enumerate((0.1, 0.5, 0.05)):
        panel.add_run(synthetic_run(lr, minutes=minutes, steps=400))
    panel.table.item(1, COL_OVERLAY).setCheckState(Qt.CheckState.Checked)
    panel.table.item(2, COL_OVERLAY).setCheckState(Qt.CheckState.Checked)
    assert legend_texts(plots["loss"]) == ["lr 0.5", "lr 0.1"]
    assert not panel.table.item(1, COL_OVERLAY).icon().isNull()  # the run's colour swatch
    assert panel.table.item(0, COL_OVERLAY).icon().isNull()
    panel.delete_runs([panel.runs()[1]])
    assert legend_texts(plots["loss"]) == ["lr 0.1, 50 hidden, relu"]
    panel.table.item(1, COL_OVERLAY).setCheckState(Qt.CheckState.Unchecked)
    assert overlays.items("loss") == []


def test_on_the_window_plots_the_live_curves_stay_on_top(qtbot):
    from desktop_bp.gui.training.gradient_panel import GradientPanel
    from desktop_bp.gui.training.plots import AccuracyPlot, LossPlot

    loss, accuracy, gradients = LossPlot(), AccuracyPlot(), GradientPanel()
    for widget in (loss, accuracy, gradients):
        qtbot.addWidget(widget)
    overlays = RunOverlays(loss, accuracy, gradients.plot)
    overlays.set_runs([synthetic_run(0.5, steps=400), synthetic_run(0.05, steps=400)])
    loss.add(list(range(1, 101)), list(np.linspace(2.3, 1.0, 100)))
    loss.refresh()
    accuracy.add(100, 0.5, 0.49)
    accuracy.refresh()
    for live in (loss.raw_curve, loss.smooth_curve, accuracy.test_curve):
        assert all(i.zValue() < live.zValue() for i in overlays.items("loss"))
    # The live accuracy legend keeps its entries; the runs follow them.
    assert legend_texts(accuracy) == ["train", "test", "lr 0.5", "lr 0.05"]
    assert legend_texts(loss) == ["lr 0.5", "lr 0.05"]
    loss.set_log_scale(True)
    assert all(item.opts["logMode"][1] for item in overlays.items("loss"))
    assert all(item.opts["logMode"][1] for item in overlays.items("gradient"))
