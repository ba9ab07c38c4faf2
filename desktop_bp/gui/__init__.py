"""The PySide6 + pyqtgraph front end. Importing this package imports no Qt: ``MainWindow`` and
``run_app`` load on first use."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from desktop_bp.gui.app import run_app
    from desktop_bp.gui.window.main_window import MainWindow

__all__ = ["MainWindow", "run_app"]


def __getattr__(name: str) -> Any:
    if name == "MainWindow":
        from desktop_bp.gui.window.main_window import MainWindow

        return MainWindow
    if name == "run_app":
        from desktop_bp.gui.app import run_app

        return run_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
