"""Choosing a data set: what the main window shows while one loads, and what it does when it
has loaded or failed (a pending Train starts then).

A mixin of :class:`~desktop_bp.gui.window.main_window.MainWindow`, kept apart so the window
module holds only what ties the rooms together; the loading itself is
:class:`~desktop_bp.gui.training.data_loader.DatasetLoader`'s, on the thread helper.
"""

from __future__ import annotations

from desktop_bp.core import data as core_data
from desktop_bp.gui.training import data_loader
from desktop_bp.gui.window import weights_files


class DatasetFlow:
    """The data-set half of the window's slots (mixed into MainWindow)."""

    def _on_dataset_chosen(self, source: str) -> None:
        self.settings_panel.set_dataset_info(data_loader.source_details(source))
        self.status.set_dataset(data_loader.source_name(source))
        data = self.loader.dataset_for(source)
        if data is not None:
            self._show_dataset_sizes(source, data)
            self.feeder.set_data(source, data)
            return
        note = self.loader.choose(source)
        if note:
            self.settings_panel.set_dataset_info(note)

    def _on_load_started(self, source: str) -> None:
        if not self.runner.is_running:
            verb = "Downloading" if source in core_data.DOWNLOADABLE else "Loading"
            self.run_controls.show_busy(f"{verb} {data_loader.source_name(source)}…")
        self._update_actions()

    def _on_data_loaded(self, source: str, data: core_data.Dataset) -> None:
        if source == self.settings_panel.source:
            self._show_dataset_sizes(source, data)
            self.feeder.set_data(source, data)
        pending, self._pending_train = self._pending_train, False
        if not self.runner.is_running:
            self.run_controls.show_idle()
        self._update_actions()
        if pending and source == self.settings_panel.source and not self.runner.is_running:
            self._start_training(data, source)

    def _on_data_failed(self, source: str, message: str, cancelled: bool) -> None:
        self._pending_train = False
        if not self.runner.is_running:
            self.run_controls.show_idle("Cancelled" if cancelled else "Data set not loaded")
        self._update_actions()
        if cancelled:
            self.statusBar().showMessage("Loading cancelled", 5000)
        else:
            self._report_error("Cannot load the data set", message)

    def _show_dataset_sizes(self, source: str, data: core_data.Dataset) -> None:
        (x_train, _), (x_test, _) = data
        self.status.set_dataset(data_loader.source_name(source), len(x_train), len(x_test))

    def _open_folder_dialog(self) -> None:
        folder = self._ask_folder()
        if folder:
            self.settings_panel.set_source(folder)

    def _ask_folder(self) -> str:
        return weights_files.ask_data_folder(self)
