"""GUI tests run offscreen, with settings and downloads in a temporary folder."""

from __future__ import annotations

import gc
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtCore import QSettings


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, monkeypatch):
    """Every test gets its own, empty QSettings location and data folder."""
    settings_dir = tmp_path / "settings"
    settings_dir.mkdir()
    monkeypatch.setenv("DESKTOP_BP_SETTINGS_DIR", str(settings_dir))
    monkeypatch.setenv("DESKTOP_BP_DATA_DIR", str(tmp_path / "data"))
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(settings_dir))
    return settings_dir


@pytest.fixture(autouse=True)
def gui_thread_gc(qapp):
    """As in the app: cycles are collected in the GUI thread only (desktop_bp/gui/gc_guard.py),
    and each test's garbage (closed windows) is collected here, before the next test starts
    worker threads."""
    from desktop_bp.gui import gc_guard

    gc_guard.install()
    yield
    gc.collect()


class ErrorRecorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def __call__(self, title: str, text: str) -> None:
        self.calls.append((title, text))


@pytest.fixture
def make_window(qtbot, monkeypatch):
    """Build MainWindows whose error dialogs are recorded instead of shown; the embedded
    data set is loaded before the window is handed over."""
    from desktop_bp.gui.window.main_window import MainWindow

    windows = []

    def factory(
        *,
        iterations: int | None = None,
        wait_for_data: bool = True,
        insight_tabs: bool = True,
        preset: str | None = "book",
    ):
        """``preset``: the settings to start from. "book" (the tests' default: the chapter's
        784-50-10 network, which most tests reason about), "default", or None for whatever
        the window starts with."""
        window = MainWindow(insight_tabs=insight_tabs)
        window.errors = ErrorRecorder()
        monkeypatch.setattr(window, "_show_error", window.errors)
        qtbot.addWidget(window)
        windows.append(window)
        if preset is not None:
            window.settings_panel.apply_preset(preset)
        if iterations is not None:
            window.settings_panel.iterations.setValue(iterations)
        window.show()
        if wait_for_data:
            qtbot.waitUntil(
                lambda: window.loader.dataset_for("embedded") is not None, timeout=15000
            )
        return window

    yield factory
    for window in windows:
        window.runner.shutdown()
        window.loader.shutdown()
        for view in window._insight_views:
            if hasattr(view, "shutdown"):
                view.shutdown()


@pytest.fixture
def window(make_window):
    return make_window(iterations=300)
