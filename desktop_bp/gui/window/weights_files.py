"""The File menu's dialogs for weights files, and the folder they start in (kept in QSettings)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget

from desktop_bp.gui.window.settings_file import create_settings, read_value

WEIGHTS_FILTER = "Desktop BP weights (*.npz);;All files (*)"


def last_dir() -> str:
    """The folder of the last weights file opened or saved (home at first)."""
    return str(read_value(create_settings(), "files/lastDir", str(Path.home()), str))


def remember_dir(path: str | Path) -> None:
    settings = create_settings()
    settings.setValue("files/lastDir", str(Path(path).resolve().parent))


def ask_open_path(parent: QWidget) -> str:
    """A weights file to open ("" when cancelled)."""
    path, _ = QFileDialog.getOpenFileName(parent, "Open weights", last_dir(), WEIGHTS_FILTER)
    return path


def ask_save_path(parent: QWidget, current: str | None) -> str:
    """Where to save the weights ("" when cancelled); ``.npz`` is added to a bare name."""
    start = current or str(Path(last_dir()) / "weights.npz")
    path, _ = QFileDialog.getSaveFileName(parent, "Save weights as", start, WEIGHTS_FILTER)
    if path and not Path(path).suffix:
        path += ".npz"
    return path


def ask_data_folder(parent: QWidget) -> str:
    """A folder of MNIST-format IDX files ("" when cancelled)."""
    return QFileDialog.getExistingDirectory(
        parent, "Open a folder of MNIST-format IDX files", last_dir()
    )
