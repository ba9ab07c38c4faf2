"""What the main window remembers between sessions (QSettings): geometry, hyperparameters,
data set, the loss plot's log scale, and the Training tab's panes (their heights, and whether
the run history is shown)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray

from desktop_bp.core import data as core_data
from desktop_bp.core import presets
from desktop_bp.gui.window.settings_file import create_settings, read_value

if TYPE_CHECKING:
    from desktop_bp.gui.window.main_window import MainWindow

#: TrainConfig fields kept in the settings: those with a control in the settings column, and
#: those that come with a preset (so a restart finds the same preset, or the same "Custom").
CONFIG_KEYS = (
    "hidden_size",
    "activation",
    "weight_init_std",
    "learning_rate",
    "batch_size",
    "iterations",
    "seed",
    "augment",
    "lr_schedule",
    "augment_fresh",
    "train_accuracy_images",
)


def restore_window_settings(window: MainWindow) -> None:
    """Apply the stored settings; missing or malformed entries keep the defaults."""
    settings = create_settings()
    geometry = settings.value("window/geometry")
    if isinstance(geometry, QByteArray) and not geometry.isEmpty():
        window.restoreGeometry(geometry)
    state = settings.value("window/state")
    if isinstance(state, QByteArray) and not state.isEmpty():
        window.restoreState(state)
    # Nothing stored yet (a first start): the default preset, not the dataclass's book values.
    defaults = presets.PRESETS[presets.DEFAULT]
    values = {
        key: read_value(
            settings, f"config/{key}", getattr(defaults, key), type(getattr(defaults, key))
        )
        for key in CONFIG_KEYS
    }
    window.settings_panel.set_config(replace(defaults, **values))
    source = read_value(settings, "data/source", core_data.EMBEDDED, str)
    if source != core_data.EMBEDDED and (source in core_data.DOWNLOADABLE or Path(source).is_dir()):
        # Quietly: the window loads the chosen set itself once it is built.
        window.settings_panel.blockSignals(True)
        window.settings_panel.set_source(source)
        window.settings_panel.blockSignals(False)
    window.log_scale_check.setChecked(read_value(settings, "plots/logScale", False, bool))
    panes = settings.value("training/panes")
    if isinstance(panes, QByteArray) and not panes.isEmpty():
        window.training_page.restoreState(panes)
    window.ui_actions.show_history.setChecked(
        read_value(settings, "training/showHistory", True, bool)
    )


def save_window_settings(window: MainWindow) -> None:
    settings = create_settings()
    settings.setValue("window/geometry", window.saveGeometry())
    settings.setValue("window/state", window.saveState())
    config = window.settings_panel.config()
    for key in CONFIG_KEYS:
        settings.setValue(f"config/{key}", getattr(config, key))
    settings.setValue("data/source", window.settings_panel.source)
    settings.setValue("plots/logScale", window.log_scale_check.isChecked())
    settings.setValue("training/panes", window.training_page.saveState())
    settings.setValue("training/showHistory", window.ui_actions.show_history.isChecked())
    settings.sync()
