"""Train, Pause, Stop, Reset: what the main window does when a run starts, reports and ends.

A mixin of :class:`~desktop_bp.gui.window.main_window.MainWindow` (it drives the window's
training controller and runner, and updates the Training page, the run controls, the status
bar and the run history), kept apart so the window module holds only what ties the rooms
together. The run itself is on the thread helper (``training/runner.py``).
"""

from __future__ import annotations

from PySide6.QtCore import Slot

from desktop_bp.core import data as core_data
from desktop_bp.gui.training.snapshot import TrainingSnapshot
from desktop_bp.gui.training.worker import DIVERGED, FAILED, STOPPED


class RunCommands:
    """The run half of the window's actions and slots (mixed into MainWindow)."""

    @Slot()
    def train(self) -> None:
        """Start training (after loading the data set if needed)."""
        if self.runner.is_running:
            return
        source = self.settings_panel.source
        data = self.loader.dataset_for(source)
        if data is None:
            self._pending_train = True
            self.loader.load(source)
            self._update_actions()
            return
        self._start_training(data, source)

    @Slot()
    def toggle_pause(self) -> None:
        if not self.runner.is_running:
            return
        if self.runner.is_paused:
            self.runner.resume()
            self.statusBar().showMessage("Resumed", 2000)
        else:
            self.runner.pause()
            self.statusBar().showMessage("Paused — Space resumes", 4000)
        self._update_actions()

    def pause(self) -> None:
        if self.runner.is_running and not self.runner.is_paused:
            self.toggle_pause()

    def resume(self) -> None:
        if self.runner.is_running and self.runner.is_paused:
            self.toggle_pause()

    @Slot()
    def stop(self) -> None:
        """Stop training (weights kept) or cancel a data set load/download."""
        if self.runner.is_running:
            self.runner.stop()
        elif self.loader.is_loading:
            self._pending_train = False
            self.loader.cancel()

    @Slot()
    def reset(self) -> None:
        """Forget the network and its curves."""
        if self.runner.is_running:
            return
        self.training.reset()
        self.run_history.forget_current()
        self.current_path = None
        self.training_page.clear()
        self.training_page.set_x_extent(0)
        self.status.set_iteration(0)
        self.status.set_accuracy(None)
        self.run_controls.show_idle()
        self.banner.dismiss()
        self.statusBar().showMessage("Reset: the next Train starts a new network", 4000)
        self._update_actions()
        self._schedule()

    def _start_training(self, data: core_data.Dataset, source: str) -> None:
        try:
            continued = self.training.prepare(self.settings_panel.config(), data, source)
        except ValueError as exc:
            self._report_error("Cannot start training", str(exc))
            return
        if not continued:
            self.training_page.clear()
            self.current_path = None
        self.training_page.start_run(self.training.trainer.config.iterations)
        self.banner.dismiss()
        self.render_budget.reset()
        self.render_budget.enabled = True
        self.training.launch()
        self.statusBar().showMessage(
            "Continuing training" if continued else "Training a new network", 3000
        )
        self._update_actions()
        self._schedule()
        self.trainingStarted.emit()

    @Slot(object)
    def _on_snapshot(self, snapshot: TrainingSnapshot) -> None:
        self.training.take_snapshot(snapshot, self.training_page.add_snapshot(snapshot))
        self._status_dirty = True
        self._schedule()

    @Slot(bool)
    def _on_paused_changed(self, paused: bool) -> None:
        self.training.set_paused(paused)
        self._status_dirty = True
        self._update_actions()
        self._schedule()

    @Slot(str, str)
    def _on_run_finished(self, reason: str, message: str) -> None:
        self.render_budget.enabled = False
        self.training_page.flush()
        self.training.finish(reason)
        last_acc = self.training.last_test_acc
        if reason == DIVERGED:
            self.last_error = message
            self.banner.show_message(
                f"Training stopped: {message}. The weights were rolled back to the last "
                "healthy snapshot; lower the learning rate and train again, or Reset.",
                "error",
            )
            self.statusBar().showMessage("Training diverged: weights rolled back", 10000)
        elif reason == FAILED:
            self._report_error("Training failed", message)
        else:
            word = "Stopped" if reason == STOPPED else "Finished"
            acc = "" if last_acc is None else f" · test accuracy {last_acc:.2%}"
            self.statusBar().showMessage(
                f"{word} at iteration {self.session.iterations_done:,}{acc}", 8000
            )
        done = self.session.iterations_done
        self.status.set_iteration(done)
        self.status.set_accuracy(last_acc)
        label = {DIVERGED: "Diverged", FAILED: "Failed", STOPPED: "Stopped"}.get(reason, "Done")
        self.run_controls.show_idle(f"{label} · {done:,} iterations")
        if self.feeder.stale:
            # The next tick's weightsChanged feeds every view now that no run goes (it is
            # usually due anyway: the final weights were just set).
            self._weights_dirty = True
        self.training_page.mark_dirty()
        self._update_actions()
        self._schedule()
        self.trainingFinished.emit(reason)

    @Slot()
    def _on_params_changed(self) -> None:
        self._weights_dirty = True
        self._schedule()
