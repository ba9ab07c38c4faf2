"""Render the main window offscreen after a short real training run and save it as PNG.

Usage::

    python tools/screenshot.py [OUTPUT_DIR] [--iterations 1500] [--size 1280x800]

Writes ``main_window.png`` (after the run), ``main_window_paused.png`` (paused half-way) and
one picture per tab (``tab_draw.png`` with a real pen trajectory replayed onto the pad,
``tab_gradcheck.png`` after a finished gradient check, ``tab_inspector.png``,
``tab_hidden_units.png``, ``tab_evaluation.png``) into OUTPUT_DIR (default
``docs/screenshots``). Uses the offscreen
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

import numpy as np

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
    # The runs it trains go to a temporary run history, not the user's.
    os.environ["DESKTOP_BP_DATA_DIR"] = tempfile.mkdtemp(prefix="desktop-bp-data-")

    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from desktop_bp.gui.window.main_window import MainWindow

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
    if args.name == "main_window.png" and not _grab_tabs(window, args.output, settle):
        return 1
    window.close()
    return 0


def _grab_tabs(window, output: Path, settle) -> bool:
    """One picture per tab after the run: a replayed real digit on the pad, a finished
    gradient check, the backward pass of that digit, hidden units and the evaluation."""
    from desktop_bp.gui.pad.replay import parse_pendigits, replay_pendigit

    sample = REPO_ROOT / "tests" / "data" / "pendigits_sample.tra"
    points, labels = parse_pendigits(sample.read_text().splitlines())
    tabs = window.tabs
    pictures = []

    def show(widget, name: str) -> None:
        tabs.setCurrentIndex(tabs.indexOf(_tab_of(tabs, widget)))
        settle(0.6)
        pictures.append((name, window.grab()))

    show(window.pad, "tab_draw.png")
    canvas = window.pad.findChild(object, "drawingCanvas")
    # A real pen trajectory of a 4 that the network reads right, if there is one among the
    # sample (the pad's accuracy on real handwriting is in the README, not in a picture).
    pick = int(np.flatnonzero(labels == 4)[0])
    for index in np.flatnonzero(labels == 4):
        window.pad.clear()
        replay_pendigit(canvas, points[index])
        settle(0.3)
        if window.pad.digit == 4:
            pick = int(index)
            break
    else:
        window.pad.clear()
        replay_pendigit(canvas, points[pick])
    settle(0.8)
    pictures[-1] = ("tab_draw.png", window.grab())

    show(window.gradcheck_view, "tab_gradcheck.png")
    done: list[object] = []
    window.gradcheck_view.checkFinished.connect(done.append)
    window.gradcheck_view.run_check()
    deadline = time.monotonic() + 120
    while not done and time.monotonic() < deadline:
        settle(0.2)
    settle(0.5)
    pictures[-1] = ("tab_gradcheck.png", window.grab())

    window.inspector_view.set_sample(window.pad.current_input().reshape(-1), int(labels[pick]))
    show(window.inspector_view, "tab_inspector.png")
    show(window.hidden_units_view, "tab_hidden_units.png")
    show(window.evaluation_view, "tab_evaluation.png")
    window.evaluation_view.evaluate()
    settle(2.0)
    pictures[-1] = ("tab_evaluation.png", window.grab())
    ok = True
    for name, pixmap in pictures:
        path = output / name
        ok &= pixmap.save(str(path))
        print(path)
    return ok


def _tab_of(tabs, widget):
    """The page of ``tabs`` that holds ``widget`` (views sit inside scroll areas)."""
    for index in range(tabs.count()):
        page = tabs.widget(index)
        if page is widget or page.isAncestorOf(widget):
            return page
    raise LookupError(f"{widget.objectName()} is not in a tab")


if __name__ == "__main__":
    sys.exit(main())
