"""The run history in the main window: the panel below the live plots, a record per run, the
overlays on the live plots, "Train again" and the exports.

:class:`RunHistoryLink` is built once by the window, after its actions and menus. It

- puts a :class:`RunHistoryPanel` (the ``runHistoryTable``, kept in
  :func:`default_history_folder`) as the third pane of the Training tab's splitter, shown or
  hidden by View ▸ Run history (Ctrl+H);
- turns every run that ends (completed, stopped or diverged) into a
  :class:`~desktop_bp.core.run_history.RunRecord`: the settings the run was trained with, the
  data set, the preset they match, the network's whole loss curve and epoch accuracies, the
  gradient panel's (smoothed, decimated) magnitudes, the final figures, wall time and start.
  A run that continues the same network (Train again after Stop, same architecture and data
  set) updates that network's row instead of adding one: its curves span both runs, its wall
  time adds up and its iterations are the network's total;
- adds a loaded weights file's stored curves as a run (the same file twice: one run);
- draws the ticked runs on ``lossPlot``, ``accuracyPlot`` and the gradient plot (their frames
  widened to fit, their read-outs naming the runs), legends saying what differs from the
  current settings;
- trains again with a row's settings: they are shown in the settings column and a new network
  is trained (the current one is reset first, so the run starts from the same seed);
- File ▸ Export curves… (the ticked runs plus the current one, else every listed run) and
  File ▸ Export plot ▸ Loss / Accuracy / Gradients… (PNG or SVG), also in each plot's
  context menu.

The window stays the owner of the run: this object only listens to ``trainingStarted``,
``trainingFinished`` and :meth:`add_checkpoint` (called by ``load_weights``).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Slot

from desktop_bp.core.presets import matching_preset
from desktop_bp.core.run_history import (
    RunRecord,
    RunStore,
    record_from_checkpoint,
    record_from_history,
)
from desktop_bp.core.trainer import GRADIENT_KEYS
from desktop_bp.gui.history import export
from desktop_bp.gui.history.overlays import RunOverlays
from desktop_bp.gui.history.run_table import (
    RunHistoryPanel,
    connect_overlays,
    default_history_folder,
)

#: Runs that end this way are kept (a failed run has no curves worth comparing).
KEPT_OUTCOMES = ("completed", "stopped", "diverged")
#: The Training tab's panes (plots, gradient panel, history): their shares of the height when
#: the window opens, and of any height added by resizing.
PANE_SIZES = (330, 250, 190)
PANE_STRETCH = (5, 4, 2)


class RunHistoryLink(QObject):
    """The history panel, the overlays and the window's history actions (see the module)."""

    def __init__(self, window: Any, store: RunStore | None = None) -> None:
        super().__init__(window)
        self.window = window
        page = window.training_page
        self.panel = RunHistoryPanel()
        self.panel.setToolTip("Every run that ended; tick runs to draw them on the plots above")
        self.overlays = RunOverlays(
            page.loss_plot, page.accuracy_plot, page.gradient_panel.plot, parent=self
        )
        connect_overlays(self.panel, self.overlays)
        self.panel.set_store(store or RunStore(default_history_folder()))
        self.panel.overlaysChanged.connect(self._on_overlays_changed)
        self.panel.trainAgainRequested.connect(self.train_again)
        self._bounds: dict[str, tuple[float, float, float] | None] = {}
        self._plots = {
            "loss": page.loss_plot,
            "accuracy": page.accuracy_plot,
            "gradient": page.gradient_panel.plot,
        }
        for kind, plot in self._plots.items():
            plot.extra_bounds = lambda k=kind: self._bounds.get(k)
            plot.extra_hover = lambda x, k=kind: self._hover(k, x)
        page.addWidget(self.panel)
        for index, stretch in enumerate(PANE_STRETCH):
            page.setStretchFactor(index, stretch)
        page.setSizes(list(PANE_SIZES))
        page.setCollapsible(page.indexOf(self.panel), True)

        # The live network's record: its id, start and the wall time of its earlier runs.
        self._live: RunRecord | None = None
        self._run_started = 0.0
        self._run_started_at: _dt.datetime | None = None
        self._continues = False
        window.trainingStarted.connect(self._on_started)
        window.trainingFinished.connect(self._on_finished)
        self._connect_actions(window.ui_actions)

    # -- runs ---------------------------------------------------------------------------------
    @property
    def current_run(self) -> RunRecord | None:
        """The record of the network the window shows (its last run, or the loaded file)."""
        return self._live

    @Slot()
    def _on_started(self) -> None:
        window = self.window
        progress = window.training.progress
        self._run_started = time.perf_counter()
        self._run_started_at = _dt.datetime.now(_dt.timezone.utc)
        # A run from step 0 is a new network; a continued one updates the network's row.
        self._continues = (
            progress is not None
            and progress[1] > 0
            and self._live is not None
            and self._live.outcome != "loaded"
        )
        if not self._continues:
            self._live = None
        config = window.settings_panel.config()
        source = window.settings_panel.source
        self.overlays.set_reference(config, source, matching_preset(config))

    @Slot(str)
    def _on_finished(self, reason: str) -> None:
        if reason not in KEPT_OUTCOMES or self._run_started_at is None:
            return
        record = self._record_of_run(reason)
        if record is None:
            return
        self._live = record
        self._add(record)

    def _record_of_run(self, outcome: str) -> RunRecord | None:
        window = self.window
        session = window.session
        if session.config is None or not session.history.losses:
            return None
        config = dataclasses.replace(session.config, iterations=max(1, session.iterations_done))
        wall = time.perf_counter() - self._run_started
        previous = self._live if self._continues else None
        buffer = window.training_page.gradient_panel.buffer
        keys = list(GRADIENT_KEYS) if len(buffer) else []
        record = record_from_history(
            session.history,
            config=config,
            dataset=session.dataset or window.settings_panel.source,
            outcome=outcome,
            wall_seconds=wall + (previous.wall_seconds if previous else 0.0),
            preset=matching_preset(dataclasses.replace(session.config)),
            gradient_iterations=buffer.x.astype("int64"),
            gradients={k: buffer.y(k) for k in keys},
            started_at=previous.started() if previous else self._run_started_at,
        )
        if previous is not None:
            record.run_id, record.note, record.pinned = (
                previous.run_id,
                previous.note,
                previous.pinned,
            )
        return record

    def add_checkpoint(self, checkpoint: Any, path: str | Path | None = None) -> RunRecord:
        """Keep a loaded weights file's curves as a run (outcome "loaded")."""
        record = record_from_checkpoint(checkpoint, path)
        self._live = record
        self._add(record)
        return record

    def forget_current(self) -> None:
        """The window forgot its network (Reset): the next run is a new row."""
        self._live = None

    def _add(self, record: RunRecord) -> None:
        ticked = record.run_id in {r.run_id for r in self.panel.ticked_runs()}
        self.overlays.forget(record.run_id)  # its cached curves are out of date
        self.panel.add_run(record)
        if ticked:
            self.overlays.set_runs(self.panel.ticked_runs())
            self._on_overlays_changed()

    # -- overlays -----------------------------------------------------------------------------
    @Slot()
    def _on_overlays_changed(self, *_: object) -> None:
        """Frames and read-outs follow the ticked runs at once (connected after the overlays
        drew them)."""
        self._bounds = {kind: self.overlays.bounds(kind) for kind in self._plots}
        for plot in self._plots.values():
            plot.settle_range()

    def _hover(self, kind: str, x: float) -> str:
        return self.overlays.hover_text(kind, x) if self.overlays.runs else ""

    # -- train again --------------------------------------------------------------------------
    @Slot(object, str)
    def train_again(self, config: Any, dataset: str) -> None:
        """Show ``config`` (and ``dataset``) in the settings column and train a new network."""
        window = self.window
        if window.is_training:
            window.statusBar().showMessage("Stop the run going before training again", 5000)
            return
        window.settings_panel.set_config(config)
        if dataset and dataset != window.settings_panel.source:
            window.settings_panel.set_source(dataset)
        if window.session.has_model:
            window.reset()
        window.train()

    # -- actions ------------------------------------------------------------------------------
    def _connect_actions(self, actions: Any) -> None:
        actions.show_history.setChecked(True)
        actions.show_history.toggled.connect(self.panel.setVisible)
        actions.export_curves.triggered.connect(lambda: self.export_curves())
        for kind, action in (
            ("loss", actions.export_loss),
            ("accuracy", actions.export_accuracy),
            ("gradient", actions.export_gradients),
        ):
            action.triggered.connect(lambda _=False, k=kind: self.export_plot(k))
            menu = self._plots[kind].getPlotItem().vb.menu
            if menu is not None:
                menu.addSeparator()
                menu.addAction(action)

    def runs_to_export(self) -> tuple[list[RunRecord], str]:
        """The ticked runs plus the current one, else every listed run; and what they are."""
        ticked = self.panel.ticked_runs()
        current = self._live
        chosen = list(ticked)
        if current is not None and current.run_id not in {r.run_id for r in ticked}:
            chosen.insert(0, current)
        if chosen:
            parts = []
            if current is not None:
                parts.append("the current run")
            others = len(chosen) - (1 if current is not None else 0)
            if others:
                parts.append(f"{others} ticked run{'s' if others != 1 else ''}")
            return chosen, " and ".join(parts)
        runs = self.panel.runs()
        return runs, f"all {len(runs)} listed run{'s' if len(runs) != 1 else ''}"

    def export_curves(self, path: str | Path | None = None) -> Path | None:
        """File ▸ Export curves…: one long CSV table (a run column) of :meth:`runs_to_export`."""
        records, what = self.runs_to_export()
        return export.export_curves_csv(self.window, records, path=path, what=what)

    def export_plot(self, kind: str, path: str | Path | None = None) -> Path | None:
        """File ▸ Export plot ▸ …: the ``kind`` plot (with its overlays) as PNG or SVG."""
        plot = self._plots[kind]
        if path is not None:
            return export.export_plot(plot, path)
        return export.export_plot_dialog(
            self.window, plot, {"gradient": "gradients"}.get(kind, kind)
        )
