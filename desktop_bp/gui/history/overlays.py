"""Earlier runs drawn beside the live one on the loss, accuracy and gradient plots.

:class:`RunOverlays` is given the window's pyqtgraph PlotItems once and then, on every
``set_runs(records)`` (connect it to :attr:`RunHistoryPanel.overlaysChanged`), draws each run's
curves in its own colour of :data:`OVERLAY_COLOURS` (none of them used by the live curves), at
z :data:`OVERLAY_Z` below the live curves, with one legend entry per run naming what differs
between the compared runs (:func:`~desktop_bp.core.run_history.describe`)::

    overlays = RunOverlays(
        loss_plot=window.loss_plot.getPlotItem(),          # LossPlot "lossPlot"
        accuracy_plot=window.accuracy_plot.getPlotItem(),  # AccuracyPlot "accuracyPlot"
        gradient_plot=window.gradient_panel.plot.getPlotItem(),  # GradientPlot
    )
    panel.overlaysChanged.connect(overlays.set_runs)
    overlays.coloursChanged.connect(panel.set_run_colours)
    overlays.set_reference(config, dataset)  # at a run's start: legends say what differs from it

What is drawn, matching the live plots' axes:

- loss: the exponential moving average (α = ``LOSS_EMA_ALPHA``, as the live "EMA" curve) of the
  run's minibatch loss, at most ``SMOOTH_POINTS`` points; the plot's log mode applies to it;
- accuracy: test accuracy per epoch (solid, squares, the legend entry) and train accuracy
  (dashed, circles), in percent;
- gradients: the run's stored magnitudes for :attr:`gradient_keys` (default dW1 solid, dW2
  dashed), as stored (the window stores its smoothed series).

Cheap by construction: a run's arrays are computed and its PlotDataItems created the first time
it is ticked and kept (``setData`` once); ticking adds items to the plots and unticking removes
them, nothing else. Nothing here runs on the training path or touches the live curves or the
plots' view range. The items use the plots' peak downsampling and clip-to-view.

:meth:`RunOverlays.nearest_run_value` gives the hover read-outs each shown run's value at an
iteration; :meth:`RunOverlays.hover_text` formats them as one line.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray
from PySide6.QtCore import QObject, Qt, Signal

from desktop_bp.core.run_history import RunRecord, describe, differing_settings
from desktop_bp.core.trainer import TrainConfig
from desktop_bp.gui import theme
from desktop_bp.gui.training.buffers import ema
from desktop_bp.gui.training.plots import LOSS_EMA_ALPHA, SMOOTH_POINTS, LivePlot, faint

#: One colour per overlaid run, in the order runs are ticked. Readable on the plot background
#: and distinct from every live colour (theme.LOSS/TRAIN_ACC/TEST_ACC and the gradient panel's
#: CURVE_STYLES): yellow, silver, lime, tan, periwinkle, pink.
OVERLAY_COLOURS = ("#e8e36a", "#c9ced8", "#a8d672", "#c8906b", "#9aa6ff", "#ff9ad5")
#: Below the live curves (z 0), above the hover cursor (z -5).
OVERLAY_Z = -1.0
#: The kinds ``nearest_run_value`` takes.
PLOT_KINDS = ("loss", "accuracy", "gradient")
#: Settings named when nothing differs (a single run compared with nothing).
FALLBACK_KEYS = ("learning_rate", "hidden_size", "activation")
_GRADIENT_STYLES = (Qt.PenStyle.SolidLine, Qt.PenStyle.DashLine, Qt.PenStyle.DotLine)


@dataclass
class _RunCurves:
    """One run's arrays (computed once) and its plot items (created once)."""

    loss_x: NDArray
    loss_y: NDArray  # the full-resolution EMA, for hover
    epoch_x: NDArray
    train_pct: NDArray
    test_pct: NDArray
    gradient_x: NDArray
    gradients: dict[str, NDArray]
    items: dict[str, list[pg.PlotDataItem]] = field(default_factory=dict)


def _thin(x: NDArray, y: NDArray, points: int) -> tuple[NDArray, NDArray]:
    step = max(1, x.shape[0] // points)
    if step == 1:
        return x, y
    return np.append(x[::step], x[-1]), np.append(y[::step], y[-1])


class RunOverlays(QObject):
    """Ticked runs drawn on up to three PlotItems (any may be None).

    Signals: ``coloursChanged(dict)``: {run_id: "#rrggbb"} of the shown runs, after each
    :meth:`set_runs` (the history table shows the swatches).
    """

    coloursChanged = Signal(dict)

    def __init__(
        self,
        loss_plot: pg.PlotItem | None = None,
        accuracy_plot: pg.PlotItem | None = None,
        gradient_plot: pg.PlotItem | None = None,
        *,
        gradient_keys: Sequence[str] = ("dW1", "dW2"),
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.plots: dict[str, pg.PlotItem | None] = {
            "loss": _plot_item(loss_plot),
            "accuracy": _plot_item(accuracy_plot),
            "gradient": _plot_item(gradient_plot),
        }
        self.gradient_keys = tuple(gradient_keys)
        self._own_legends: dict[str, pg.LegendItem] = {}
        self._cache: dict[str, _RunCurves] = {}
        self._shown: list[RunRecord] = []
        self._colours: dict[str, str] = {}
        self._labels: dict[str, str] = {}
        self._reference: RunRecord | None = None

    # -- what is shown ------------------------------------------------------------------------
    @property
    def runs(self) -> list[RunRecord]:
        return list(self._shown)

    def colours(self) -> dict[str, str]:
        """{run_id: colour} of the shown runs."""
        return dict(self._colours)

    def labels(self) -> dict[str, str]:
        """{run_id: legend text} of the shown runs."""
        return dict(self._labels)

    def set_reference(
        self, config: TrainConfig | None, dataset: str = "", preset: str | None = None
    ) -> None:
        """The live run's settings: legends then name what the shown runs change from it
        (None: only what differs among the shown runs)."""
        if config is None:
            self._reference = None
        else:
            self._reference = RunRecord(
                run_id="live",
                started_at="",
                wall_seconds=0.0,
                outcome="completed",
                config=config,
                dataset=dataset,
                preset=preset,
            )
        self._relabel()

    def set_runs(self, records: Iterable[RunRecord]) -> None:
        """Show exactly ``records`` (in addition to the live curves); cheap when they were
        shown before."""
        records = list({r.run_id: r for r in records}.values())
        wanted = {r.run_id for r in records}
        for record in self._shown:
            if record.run_id not in wanted:
                self._remove_items(record.run_id)
        # A run keeps its colour while it stays shown; new runs take the first free one.
        kept = {k: v for k, v in self._colours.items() if k in wanted}
        free = [c for c in OVERLAY_COLOURS if c not in kept.values()]
        for i, record in enumerate(r for r in records if r.run_id not in kept):
            kept[record.run_id] = free[i] if i < len(free) else _cycled(len(kept))
        self._colours = {r.run_id: kept[r.run_id] for r in records}
        previous = {r.run_id for r in self._shown}
        self._shown = records
        for record in records:
            if record.run_id not in self._cache:
                self._cache[record.run_id] = self._curves_of(record)
            self._style(record.run_id)
            if record.run_id not in previous:
                self._add_items(record.run_id)
        self._relabel()
        self.coloursChanged.emit(self.colours())

    def clear(self) -> None:
        self.set_runs([])

    def forget(self, run_id: str) -> None:
        """Drop a run's cached arrays and items (after it was deleted)."""
        if any(r.run_id == run_id for r in self._shown):
            self.set_runs([r for r in self._shown if r.run_id != run_id])
        self._cache.pop(run_id, None)

    def retain(self, run_ids: Iterable[str]) -> None:
        """Keep cached curves only for ``run_ids`` (the listed runs) and the shown runs."""
        keep = set(run_ids) | {r.run_id for r in self._shown}
        for run_id in [k for k in self._cache if k not in keep]:
            del self._cache[run_id]

    def set_gradient_keys(self, keys: Sequence[str]) -> None:
        """Which gradient magnitudes each run shows (keys of trainer.GRADIENT_KEYS)."""
        keys = tuple(keys)
        if keys == self.gradient_keys:
            return
        shown = self._shown
        self.set_runs([])
        for curves in self._cache.values():
            curves.items.pop("gradient", None)
        self.gradient_keys = keys
        self.set_runs(shown)

    def items(self, kind: str) -> list[pg.PlotDataItem]:
        """The overlay items now on the ``kind`` plot (for tests and exports)."""
        return [i for r in self._shown for i in self._cache[r.run_id].items.get(kind, [])]

    def bounds(self, plot_kind: str) -> tuple[float, float, float] | None:
        """(last iteration, lowest, highest finite value) the shown runs draw on a plot, or
        None: for widening a live plot's frame so overlaid runs are not cut off (the live
        plots frame their own data only)."""
        xs, ys = [], []
        for record in self._shown:
            for item in self._cache[record.run_id].items.get(plot_kind, []):
                x, y = item.getOriginalDataset()
                if x is not None and x.shape[0]:
                    xs.append(float(x[-1]))
                    ys.append(y[np.isfinite(y)])
        values = np.concatenate(ys) if ys else np.zeros(0)
        if not values.size:
            return None
        return max(xs), float(values.min()), float(values.max())

    # -- hover --------------------------------------------------------------------------------
    def nearest_run_value(
        self, plot_kind: str, x: float, key: str | None = None
    ) -> list[tuple[str, float]]:
        """(legend text, value) of each shown run at the sample nearest iteration ``x``: the
        smoothed loss ("loss"), the test accuracy in % ("accuracy") or the magnitude of
        ``key`` (default the first of gradient_keys, "gradient"). Runs without such data are
        left out."""
        if plot_kind not in PLOT_KINDS:
            raise ValueError(f"plot_kind must be one of {PLOT_KINDS}, got {plot_kind!r}")
        out = []
        for record in self._shown:
            curves = self._cache[record.run_id]
            if plot_kind == "loss":
                xs, ys = curves.loss_x, curves.loss_y
            elif plot_kind == "accuracy":
                xs, ys = curves.epoch_x, curves.test_pct
            else:
                wanted = key or (self.gradient_keys[0] if self.gradient_keys else "")
                xs, ys = curves.gradient_x, curves.gradients.get(wanted, np.zeros(0))
                if ys.shape[0] != xs.shape[0]:
                    continue
            i = LivePlot._nearest(xs, x)
            if i is not None:
                out.append((self._labels[record.run_id], float(ys[i])))
        return out

    def hover_text(self, plot_kind: str, x: float) -> str:
        """ "lr 0.5 0.4123 · lr 0.05 0.8812" (accuracy: "96.12%"; gradients: 1.23e-03)."""
        fmt = {"loss": "{:.4f}", "accuracy": "{:.2f}%", "gradient": "{:.2e}"}[plot_kind]
        return " · ".join(
            f"{label} {fmt.format(value)}" for label, value in self.nearest_run_value(plot_kind, x)
        )

    # -- drawing ------------------------------------------------------------------------------
    def _curves_of(self, record: RunRecord) -> _RunCurves:
        loss_x = record.loss_iterations.astype(np.float64)
        loss_y = ema(record.losses, LOSS_EMA_ALPHA) if record.losses.size else np.zeros(0)
        curves = _RunCurves(
            loss_x=loss_x,
            loss_y=loss_y,
            epoch_x=record.epoch_iterations.astype(np.float64),
            train_pct=100.0 * record.train_acc.astype(np.float64),
            test_pct=100.0 * record.test_acc.astype(np.float64),
            gradient_x=record.gradient_iterations.astype(np.float64),
            gradients={k: v.astype(np.float64) for k, v in record.gradients.items()},
        )
        if self.plots["loss"] is not None:
            x, y = _thin(loss_x, loss_y, SMOOTH_POINTS)
            curves.items["loss"] = [_item(x, y)]
        if self.plots["accuracy"] is not None:
            test = _item(curves.epoch_x, curves.test_pct, symbol="s")
            train = _item(curves.epoch_x, curves.train_pct, symbol="o")
            curves.items["accuracy"] = [test, train]
        if self.plots["gradient"] is not None:
            curves.items["gradient"] = self._gradient_items(curves)
        return curves

    def _gradient_items(self, curves: _RunCurves) -> list[pg.PlotDataItem]:
        items = []
        for key in self.gradient_keys:
            values = curves.gradients.get(key)
            if values is not None and values.shape[0] == curves.gradient_x.shape[0]:
                item = _item(curves.gradient_x, values)
                item.gradient_key = key
                items.append(item)
        return items

    def _style(self, run_id: str) -> None:
        colour = self._colours[run_id]
        curves = self._cache[run_id]
        if "gradient" not in curves.items and self.plots["gradient"] is not None:
            curves.items["gradient"] = self._gradient_items(curves)
        for kind, items in curves.items.items():
            for n, item in enumerate(items):
                style = Qt.PenStyle.SolidLine
                if kind == "accuracy" and n == 1:
                    style = Qt.PenStyle.DashLine
                elif kind == "gradient":
                    style = _GRADIENT_STYLES[n % len(_GRADIENT_STYLES)]
                item.setPen(pg.mkPen(colour, width=1.5, style=style))
                if item.opts.get("symbol"):
                    item.setSymbolBrush(colour)
                    item.setSymbolPen(None)

    def _add_items(self, run_id: str) -> None:
        for kind, items in self._cache[run_id].items.items():
            plot = self.plots[kind]
            for item in items:
                plot.addItem(item)
                # Added after the plot applied its own modes: ours win where they differ.
                item.setDownsampling(auto=True, method="peak")
                item.setClipToView(True)

    def _remove_items(self, run_id: str) -> None:
        curves = self._cache.get(run_id)
        if curves is None:
            return
        for kind, items in curves.items.items():
            plot = self.plots[kind]
            for item in items:
                if item in plot.items:
                    plot.removeItem(item)

    def _relabel(self) -> None:
        """Legend texts for the shown runs, and the legend entries in shown order."""
        compared = self._shown + ([self._reference] if self._reference is not None else [])
        keys = differing_settings(compared)
        if not keys:
            keys = list(FALLBACK_KEYS) if len(self._shown) <= 1 else []
        self._labels = {r.run_id: describe(r, keys) for r in self._shown}
        for kind, plot in self.plots.items():
            if plot is None:
                continue
            legend = plot.legend or self._own_legend(kind, plot)
            for record in self._cache.values():
                for item in record.items.get(kind, []):
                    legend.removeItem(item)
            for record in self._shown:
                label = self._labels[record.run_id]
                for n, item in enumerate(self._cache[record.run_id].items.get(kind, [])):
                    name = self._entry_name(kind, n, item, label)
                    item.opts["name"] = name
                    if name is not None:
                        legend.addItem(item, name)
            if kind in self._own_legends:
                legend.setVisible(bool(self._shown))

    def _entry_name(self, kind: str, n: int, item: pg.PlotDataItem, label: str) -> str | None:
        if kind == "accuracy":
            return label if n == 0 else None  # one entry per run: test solid, train dashed
        if kind == "gradient" and len(self.gradient_keys) > 1:
            return f"{label} · {item.gradient_key}"
        return label

    def _own_legend(self, kind: str, plot: pg.PlotItem) -> pg.LegendItem:
        """A legend for a plot that has none (the loss and gradient plots): made after their
        live curves, so it lists the overlaid runs only."""
        legend = plot.addLegend(offset=(-10, 10), labelTextColor=theme.TEXT)
        legend.setBrush(faint(theme.CARD, 220))
        self._own_legends[kind] = legend
        return legend


def _item(x: NDArray, y: NDArray, symbol: str | None = None) -> pg.PlotDataItem:
    item = pg.PlotDataItem(x, y, connect="finite", symbol=symbol, symbolSize=5)
    item.setZValue(OVERLAY_Z)
    return item


def _cycled(n: int) -> str:
    return OVERLAY_COLOURS[n % len(OVERLAY_COLOURS)]


def _plot_item(plot) -> pg.PlotItem | None:
    """A PlotItem from a PlotItem or a PlotWidget."""
    if plot is None or isinstance(plot, pg.PlotItem):
        return plot
    return plot.getPlotItem()
