"""The real main window, offscreen, ready to train: shared by the window benchmarks."""

from __future__ import annotations

import sys


def open_window(iterations: int | None = None, preset: str = "default"):
    """Show a MainWindow on ``preset``'s settings (with ``iterations``, if given) and return
    once the embedded data set (loaded in the background at start) is there."""
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from desktop_bp.gui.window.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = MainWindow()
    window.settings_panel.apply_preset(preset)
    if iterations is not None:
        window.settings_panel.iterations.setValue(iterations)
    window.show()

    loop = QEventLoop()
    poll = QTimer()
    poll.timeout.connect(
        lambda: loop.quit() if window.loader.dataset_for("embedded") is not None else None
    )
    poll.start(10)
    loop.exec()
    poll.stop()
    return app, window
