"""How long from typing ``desktop-bp`` to a window on the screen? (target: under 2 s)

Starts the ``desktop-bp`` console script on a real X server (an Xvfb of its own, Qt's xcb
platform, a fresh settings folder each time), as a user does, and measures from the process
start to

- the window being mapped (``xdotool search --onlyvisible``, polled every 10 ms), and
- its first paint (the window's pixels, read back from the X server, no longer one colour),

then quits it with Ctrl+Q. The baseline, measured in the same run and alternating with it, is
the smallest PySide6 program that does the same: ``QApplication`` + a ``QMainWindow`` holding
one ``QLabel`` of text, started the same way. Also timed: the check that runs before Qt is
imported (``desktop_bp.display_check.display_problem``, ldd on the xcb plugin and one X
connection).

Usage::

    python benchmarks/startup_time.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from desktop_bp import display_check
from desktop_bp.testing import x11

BASELINE = """\
import sys
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow
app = QApplication(sys.argv)
window = QMainWindow()
window.setWindowTitle("Desktop BP baseline")
window.setCentralWidget(QLabel("<h1>Desktop BP baseline</h1>" * 8))
window.resize(1024, 700)
window.show()
sys.exit(app.exec())
"""


def one_start(server: x11.XServer, baseline: Path | None) -> tuple[float, float]:
    """(mapped, painted) seconds for one start of desktop-bp, or of ``baseline``."""
    command = None if baseline is None else [sys.executable, str(baseline)]
    app = x11.App(server, command=command)
    try:
        mapped = app.wait_for_window(timeout=30)
        painted = app.wait_until_painted(timeout=30)
        if baseline is None:
            app.close(timeout=20)
    finally:
        app.kill()
    return mapped, painted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    missing = x11.missing_tools()
    if missing:
        print(f"needs {' '.join(missing)} (sh tools/install-system-deps.sh --test)")
        return 2
    baseline = Path(tempfile.mkdtemp()) / "baseline_window.py"
    baseline.write_text(BASELINE)
    ours: list[tuple[float, float]] = []
    theirs: list[tuple[float, float]] = []
    checks: list[float] = []
    with x11.XServer() as server:
        one_start(server, None)  # warm the disk cache for both: not counted
        one_start(server, baseline)
        for _ in range(args.repeat):
            theirs.append(one_start(server, baseline))
            ours.append(one_start(server, None))
            started = time.perf_counter()
            problem = display_check.display_problem(server.env(), platform=sys.platform)
            checks.append(time.perf_counter() - started)
            assert problem is None, problem

    def row(name: str, runs: list[tuple[float, float]]) -> tuple[float, float]:
        mapped = statistics.median(r[0] for r in runs)
        painted = statistics.median(r[1] for r in runs)
        spread = f"{min(r[1] for r in runs):.2f}-{max(r[1] for r in runs):.2f}"
        print(f"| {name} | {mapped:.2f} | {painted:.2f} | {spread} |")
        return mapped, painted

    print(f"{args.repeat} starts each, alternating; seconds from process start (median)\n")
    print("| program | window mapped | first paint | first paint min-max |")
    print("|---|---|---|---|")
    _, base = row("PySide6 QMainWindow + QLabel (baseline)", theirs)
    _, mine = row("desktop-bp", ours)
    print(f"\ndesktop-bp / baseline (first paint): {mine / base:.2f}x")
    print(f"pre-Qt display check: median {1000 * statistics.median(checks):.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
