"""Render the main window offscreen after a short real training run and save it as PNG.

Usage::

    python tools/screenshot.py [OUTPUT_DIR] [--iterations 1500] [--size 1280x800]

Writes ``main_window.png`` (after the run) and ``main_window_paused.png`` (paused half-way)
into OUTPUT_DIR (default ``docs/screenshots``). Uses the offscreen
Qt platform and a temporary settings folder, so it neither needs a display nor touches your
settings.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = REPO_ROOT / "docs" / "screenshots"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", nargs="?", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--iterations", type=int, default=1500)
    parser.add_argument("--size", default="1280x800", help="window size, WIDTHxHEIGHT")
    parser.add_argument("--name", default="main_window.png")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    settings_dir = tempfile.mkdtemp(prefix="desktop-bp-settings-")
    os.environ["DESKTOP_BP_SETTINGS_DIR"] = settings_dir

    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from desktop_bp.gui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = MainWindow()
    window.resize(width, height)
    window.settings_panel.iterations.setValue(args.iterations)
    window.show()

    args.output.mkdir(parents=True, exist_ok=True)
    loop = QEventLoop()
    outcome: list[str] = []

    def finished(reason: str) -> None:
        outcome.append(reason)
        loop.quit()

    def settle(seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.01)

    # Half-way: pause, let the paused snapshot arrive, take the "during training" picture.
    half = QTimer()

    def check_half() -> None:
        if window.iteration >= args.iterations // 2 and window.is_training:
            half.stop()
            window.pause()
            settle(0.3)
            window.refresh_now()
            settle(0.1)
            window.grab().save(str(args.output / args.name.replace(".png", "_paused.png")))
            window.resume()

    half.timeout.connect(check_half)
    half.start(20)
    window.trainingFinished.connect(finished)
    QTimer.singleShot(0, window.train)
    QTimer.singleShot(120_000, loop.quit)  # never hang
    loop.exec()
    half.stop()
    if outcome != ["completed"]:
        print(f"training did not complete: {outcome}", file=sys.stderr)
        return 1
    # Let the remaining repaint ticks and layout settle.
    settle(0.5)
    window.refresh_now()
    app.processEvents()

    path = args.output / args.name
    if not window.grab().save(str(path)):
        print(f"could not write {path}", file=sys.stderr)
        return 1
    print(path)
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
