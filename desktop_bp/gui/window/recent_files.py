"""The File ▸ Open Recent menu, kept in QSettings."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from desktop_bp.gui.window.settings_file import create_settings, read_str_list

KEY = "recentFiles"
MAX_RECENT = 8


class RecentFiles(QObject):
    """Most recent first; ``openRequested(path)`` when the user picks one."""

    openRequested = Signal(str)

    def __init__(self, menu: QMenu, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.menu = menu
        self.paths: list[str] = read_str_list(create_settings(), KEY)[:MAX_RECENT]
        self._rebuild()

    def add(self, path: str | Path) -> None:
        text = str(Path(path).resolve())
        self.paths = [text, *(p for p in self.paths if p != text)][:MAX_RECENT]
        self._store()

    def remove(self, path: str | Path) -> None:
        text = str(Path(path).resolve())
        self.paths = [p for p in self.paths if p != text]
        self._store()

    def clear(self) -> None:
        self.paths = []
        self._store()

    def _store(self) -> None:
        settings = create_settings()
        settings.setValue(KEY, self.paths)
        settings.sync()
        self._rebuild()

    def _rebuild(self) -> None:
        self.menu.clear()
        for index, path in enumerate(self.paths, start=1):
            action = QAction(f"&{index} {Path(path).name}", self.menu)
            action.setToolTip(path)
            action.setStatusTip(path)
            action.setData(path)
            action.triggered.connect(lambda _=False, p=path: self.openRequested.emit(p))
            self.menu.addAction(action)
        if self.paths:
            self.menu.addSeparator()
        clear = QAction("Clear list", self.menu)
        clear.setEnabled(bool(self.paths))
        clear.triggered.connect(self.clear)
        self.menu.addAction(clear)
        self.menu.setEnabled(True)
