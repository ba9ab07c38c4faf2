"""File ▸ Open/Save weights: what the main window does with a weights file.

A mixin of :class:`~desktop_bp.gui.window.main_window.MainWindow` (it uses the window's
controller, settings column, Training page, run history, recent files and status bar), kept
apart so the window module holds only what ties the rooms together.
"""

from __future__ import annotations

from pathlib import Path

from desktop_bp.core.checkpoint import load_checkpoint
from desktop_bp.core.errors import CheckpointError
from desktop_bp.gui.window import weights_files


class WeightsFileCommands:
    """Save, open, and the dialogs that ask where (mixed into MainWindow)."""

    def save_weights(self, path: str | Path) -> bool:
        """Save the current network with its settings and curves; False (and a message) on error."""
        if self.runner.is_running:
            self._report_error("Cannot save weights", "Stop training before saving the weights.")
            return False
        if not self.training.can_save:
            self._report_error(
                "Nothing to save", "There is no network yet: train one or open a weights file."
            )
            return False
        try:
            self.training.save(path)
        except CheckpointError as exc:
            self._report_error("Cannot save weights", str(exc))
            return False
        self.current_path = str(path)
        self.recent.add(path)
        weights_files.remember_dir(path)
        self.statusBar().showMessage(f"Saved weights to {path}", 5000)
        self._update_actions()
        return True

    def load_weights(self, path: str | Path) -> bool:
        """Load a weights file: network, controls and curves. On error nothing changes."""
        if self.runner.is_running:
            self._report_error("Cannot open weights", "Stop training before opening weights.")
            return False
        try:
            checkpoint = load_checkpoint(path)
            session = self.training.load(checkpoint)
        except (CheckpointError, ValueError, OSError) as exc:
            self._report_error("Cannot open weights", str(exc))
            if isinstance(exc, CheckpointError) and not Path(path).exists():
                self.recent.remove(path)
            return False
        self.settings_panel.set_config(checkpoint.config)
        if checkpoint.dataset:
            self.settings_panel.set_source(checkpoint.dataset)
        self.training_page.show_history(session.history, session.iterations_done)
        self.run_history.add_checkpoint(checkpoint, path)
        self.current_path = str(path)
        self.recent.add(path)
        weights_files.remember_dir(path)
        self.status.set_iteration(session.iterations_done)
        self.status.set_accuracy(self.training.last_test_acc)
        self.run_controls.show_idle(f"Loaded · {session.iterations_done:,} iterations")
        self.banner.dismiss()
        self.statusBar().showMessage(f"Loaded weights from {path}", 5000)
        self._update_actions()
        self._schedule()
        return True

    # -- the File menu's dialogs --
    def _open_dialog(self) -> None:
        path = weights_files.ask_open_path(self)
        if path:
            self.load_weights(path)

    def _save(self) -> None:
        if self.current_path:
            self.save_weights(self.current_path)
        else:
            self._save_as_dialog()

    def _save_as_dialog(self) -> None:
        path = weights_files.ask_save_path(self, self.current_path)
        if path:
            self.save_weights(path)
