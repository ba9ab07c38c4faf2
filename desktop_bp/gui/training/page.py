"""The Training tab: the loss and accuracy cards above the gradient panel, and how they are
repainted while a run goes.

Snapshots from the worker (≤ 20/s) are queued by :meth:`TrainingPage.add_snapshot` and reach
the plots' buffers in one batch just before a plot redraws; the window's ~30 Hz timer asks
:meth:`TrainingPage.repaint_next` to redraw at most one plot per tick, within the render budget.
"""

from __future__ import annotations

import time
from itertools import chain

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSplitter

from desktop_bp.core.trainer import TrainingHistory
from desktop_bp.gui.training.gradient_panel import GradientPanel
from desktop_bp.gui.training.plots import AccuracyPlot, LossPlot, PlotCard, log_scale_toggle
from desktop_bp.gui.training.render_budget import RenderBudget
from desktop_bp.gui.training.snapshot import TrainingSnapshot

#: While training, each plot (loss, accuracy, gradients) is redrawn at most this often (s):
#: every redraw hands the GIL back and forth with the training thread many times, which costs
#: the training far more than the redraw's own CPU time.
REFRESH_INTERVALS = (0.25, 0.6, 0.6)
#: Snapshots queued for the plots are appended at the latest after this many (~2 s), also
#: while the plots are hidden.
MAX_QUEUED_SNAPSHOTS = 40


class TrainingPage(QSplitter):
    """Loss and accuracy side by side above the gradient panel; owns the snapshot queue."""

    tab_title = "Training"
    tab_tooltip = "Loss, accuracy and gradient magnitudes of the run"

    def __init__(self, budget: RenderBudget) -> None:
        super().__init__(Qt.Orientation.Vertical)
        self.setObjectName("plotSplitter")
        self.budget = budget
        self.loss_plot = LossPlot()
        self.accuracy_plot = AccuracyPlot()
        self.gradient_panel = GradientPanel()
        self.log_scale_check = log_scale_toggle(self.loss_plot)
        self.loss_card = PlotCard("Loss", self.loss_plot)
        self.loss_card.add_header_widget(self.log_scale_check)
        self.accuracy_card = PlotCard("Accuracy", self.accuracy_plot)

        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(self.loss_card)
        top.addWidget(self.accuracy_card)
        top.setStretchFactor(0, 3)
        top.setStretchFactor(1, 2)
        top.setChildrenCollapsible(False)
        self.addWidget(top)
        self.addWidget(self.gradient_panel)
        self.setStretchFactor(0, 1)
        self.setStretchFactor(1, 1)
        self.setChildrenCollapsible(False)

        # The plots repaint one per timer tick, in this order.
        self.views = (self.loss_plot, self.accuracy_plot, self.gradient_panel)
        self._plots = (self.loss_plot, self.accuracy_plot, self.gradient_panel.plot)
        for plot in self._plots:
            plot.cost_sink = budget.spend
        self._queued: list[TrainingSnapshot] = []
        self._next_view = 0
        self._last_refresh = [0.0] * len(self.views)

    # -- data ---------------------------------------------------------------------------------
    def add_snapshot(self, snapshot: TrainingSnapshot) -> float | None:
        """Queue the snapshot's losses and gradients, add its epochs' accuracies; returns the
        last test accuracy among them (None if it has no epoch)."""
        # Loss and gradient series are only queued here and reach the plots' buffers in one
        # batch just before a plot redraws (flush): 20 small appends a second cost the
        # training thread more GIL hand-overs than a few large ones.
        if snapshot.losses or snapshot.grad_iterations:
            self._queued.append(snapshot)
            self.loss_plot.dirty = self.gradient_panel.dirty = True
            if len(self._queued) >= MAX_QUEUED_SNAPSHOTS:
                self.flush()
        test_acc = None
        for record in snapshot.epochs:
            self.accuracy_plot.add(record.iteration, record.train_acc, record.test_acc)
            test_acc = record.test_acc
        return test_acc

    def flush(self) -> None:
        """Append the queued snapshots' losses and gradient magnitudes to the plots."""
        if not self._queued:
            return
        batch, self._queued = self._queued, []
        self.loss_plot.add(
            list(chain.from_iterable(s.loss_iterations for s in batch)),
            list(chain.from_iterable(s.losses for s in batch)),
        )
        grad_iterations = list(chain.from_iterable(s.grad_iterations for s in batch))
        if grad_iterations:
            keys = batch[-1].grads.keys()
            grads = {
                key: list(chain.from_iterable(s.grads.get(key, ()) for s in batch)) for key in keys
            }
            self.gradient_panel.add(grad_iterations, grads)

    @property
    def has_curves(self) -> bool:
        return len(self.loss_plot.raw) > 0

    def clear(self) -> None:
        for view in self.views:
            view.clear_data()

    def set_x_extent(self, iterations: int) -> None:
        for plot in self._plots:
            plot.set_x_extent(iterations)

    def show_history(self, history: TrainingHistory, iterations_done: int) -> None:
        """The curves of a loaded weights file (no gradients: they are not saved)."""
        self.loss_plot.set_history(history)
        self.accuracy_plot.set_history(history)
        self.gradient_panel.clear_data()
        self.set_x_extent(iterations_done)

    def start_run(self, target_iterations: int) -> None:
        """A run begins: draw what there is and lay out the frame for ``target_iterations``."""
        for view in self.views:
            view.refresh()
        for plot in self._plots:
            plot.set_x_extent(target_iterations)
            plot.prepare_frame()

    def mark_dirty(self) -> None:
        for view in self.views:
            view.dirty = True

    # -- repainting ---------------------------------------------------------------------------
    def repaint_next(self, training: bool) -> bool:
        """Redraw the next plot that is dirty, on screen and (while training) not redrawn too
        recently; True if one was redrawn."""
        now = time.perf_counter()
        for _ in range(len(self.views)):
            index = self._next_view
            view = self.views[index]
            self._next_view = (index + 1) % len(self.views)
            if not view.dirty or not view.isVisible():
                continue
            if training and now - self._last_refresh[index] < REFRESH_INTERVALS[index]:
                continue
            self._last_refresh[index] = now
            started = time.thread_time()
            self.flush()
            view.refresh()
            self.budget.spend(time.thread_time() - started)
            return True
        return False

    def refresh_now(self) -> None:
        """Repaint everything pending at once (tests, screenshots)."""
        self.flush()
        for view in self.views:
            if view.dirty:
                view.refresh()
