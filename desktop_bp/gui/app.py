"""Start the desktop application: ``run_app()`` is what ``desktop-bp`` and ``main.py`` call."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def run_app(argv: Sequence[str] | None = None) -> int:
    """Open the main window and run the event loop; returns the process exit code."""
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from desktop_bp.desktop_entry import APP_ID, ICON_SOURCE
    from desktop_bp.gui.window.main_window import MainWindow
    from desktop_bp.gui.window.settings_file import APPLICATION, ORGANIZATION

    args = list(sys.argv if argv is None else [sys.argv[0] if sys.argv else "desktop-bp", *argv])
    app = QApplication.instance() or QApplication(args)
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName(APPLICATION)
    # The taskbar matches the window to desktop-bp.desktop (Wayland app id, X11 WM_CLASS).
    app.setDesktopFileName(APP_ID)
    app.setWindowIcon(QIcon(str(ICON_SOURCE)))
    window = MainWindow()
    window.show()
    code = app.exec()
    del window
    return int(code)
