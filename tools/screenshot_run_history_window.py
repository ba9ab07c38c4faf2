"""Render the whole main window after two real short runs, both ticked in the run history.

Usage::

    python tools/screenshot_run_history_window.py [OUTPUT_DIR]

Trains the book's network (784-50-10) for 200 iterations at lr 0.1, resets, trains again at
lr 0.5, ticks both runs and grabs the 1280x800 window offscreen as
``run_history_window.png`` in OUTPUT_DIR (default ``docs/screenshots``). Settings and run
history live in temporary folders: nothing is written to the user's.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["DESKTOP_BP_SETTINGS_DIR"] = tempfile.mkdtemp(prefix="desktop-bp-shot-")
os.environ["DESKTOP_BP_DATA_DIR"] = tempfile.mkdtemp(prefix="desktop-bp-shot-data-")

REPO_ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str]) -> int:
    from PySide6.QtCore import QEventLoop
    from PySide6.QtWidgets import QApplication

    from desktop_bp.gui.window.main_window import MainWindow

    output = Path(argv[0]) if argv else REPO_ROOT / "docs" / "screenshots"
    output.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication([])

    def wait(condition, seconds: float = 120.0) -> None:
        end = time.monotonic() + seconds
        while not condition():
            if time.monotonic() > end:
                raise RuntimeError("timed out")
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)

    window = MainWindow()
    window.resize(1280, 800)
    window.show()
    wait(lambda: window.loader.dataset_for("embedded") is not None)
    window.settings_panel.apply_preset("book")
    for lr in (0.1, 0.5):
        window.reset()
        window.settings_panel.iterations.setValue(200)
        window.settings_panel.learning_rate.setValue(lr)
        ended: list[str] = []
        window.trainingFinished.connect(ended.append)
        window.train()
        wait(lambda ended=ended: bool(ended))
    panel = window.run_history.panel
    panel.set_ticked(panel.runs())
    window.refresh_now()
    for _ in range(10):
        app.processEvents()
        time.sleep(0.02)
    path = output / "run_history_window.png"
    window.grab().save(str(path))
    print(path)
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
