"""Does the window's memory stay flat over a long run? (issue 6)

Trains the real MainWindow (offscreen) for 10,000 iterations on the embedded data set and,
about every 1,000 iterations, samples in the GUI thread

- RSS of the process (``/proc/self/statm``, resident pages x page size),
- Python memory traced by ``tracemalloc`` (current, after ``gc.collect()``),
- Python and native thread counts (``threading.active_count()``, ``/proc/self/task``); the
  Python count includes ``_DummyThread`` entries ("dummy" column): the evaluation executor's
  thread is created from the training QThread, which CPython then registers as a dummy thread
  and never unregisters (it is reused by the next QThread with the same native id).

It prints a table, the growth from the first sample at or past 1,000 iterations to the last one
at 10,000 (what a leak per step would show), and the state after the run ends and after Reset.
Some growth is expected and bounded: the run's curves (a float per step for the loss and each
of the nine gradient statistics) are kept for the plots and the weights file.

Usage::

    python benchmarks/memory_long_run.py [--iterations 10000] [--every 1000] [--no-tracemalloc]
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import threading
import time
import tracemalloc

try:
    from benchmarks._window import open_window
except ImportError:  # run as a script: python benchmarks/<name>.py
    from _window import open_window  # type: ignore[no-redef]

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss_bytes() -> int | None:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return None


def native_threads() -> int | None:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return None


def sample(label: str, iteration: int, traced: bool) -> dict[str, object]:
    gc.collect()
    current = tracemalloc.get_traced_memory()[0] if traced else None
    return {
        "label": label,
        "iteration": iteration,
        "rss": rss_bytes(),
        "traced": current,
        "threads": threading.active_count(),
        "dummy": sum(isinstance(t, threading._DummyThread) for t in threading.enumerate()),
        "native": native_threads(),
        "time": time.perf_counter(),
    }


def mb(value: object) -> str:
    return f"{'n/a':>9}" if value is None else f"{value / 1e6:9.2f}"  # type: ignore[operator]


def run(iterations: int, every: int, traced: bool) -> list[dict[str, object]]:
    from PySide6.QtCore import QEventLoop, QTimer

    app, window = open_window(iterations)
    loop = QEventLoop()
    app.processEvents()

    if traced:
        tracemalloc.start()
    samples = [sample("before", 0, traced)]
    next_mark = [every]
    outcome: dict[str, str] = {}

    def check() -> None:
        done = window.iteration
        if window.is_training and done >= next_mark[0]:
            samples.append(sample("training", done, traced))
            while next_mark[0] <= done:
                next_mark[0] += every

    def finished(reason: str) -> None:
        outcome["reason"] = reason
        loop.quit()

    watcher = QTimer()
    watcher.timeout.connect(check)
    watcher.start(5)
    window.trainingFinished.connect(finished)
    QTimer.singleShot(0, window.train)
    loop.exec()
    watcher.stop()
    app.processEvents()
    samples.append(sample("finished", window.iteration, traced))
    window.reset()
    app.processEvents()
    samples.append(sample("after reset", window.iteration, traced))
    if traced:
        tracemalloc.stop()
    window.runner.shutdown()
    window.loader.shutdown()
    window.close()
    window.deleteLater()
    app.processEvents()
    if outcome.get("reason") != "completed":
        raise RuntimeError(f"training did not complete: {outcome.get('reason')}")
    return samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=10_000)
    parser.add_argument("--every", type=int, default=1_000, help="iterations between samples")
    parser.add_argument(
        "--no-tracemalloc",
        action="store_true",
        help="RSS only (tracemalloc slows training down)",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["DESKTOP_BP_SETTINGS_DIR"] = tempfile.mkdtemp(prefix="desktop-bp-bench-")
    # The runs it trains go to a temporary run history, not the user's.
    os.environ["DESKTOP_BP_DATA_DIR"] = tempfile.mkdtemp(prefix="desktop-bp-data-")
    traced = not args.no_tracemalloc

    started = time.perf_counter()
    samples = run(args.iterations, args.every, traced)
    wall = time.perf_counter() - started

    print(
        f"{'sample':<12} {'iteration':>9} {'RSS MB':>9} {'traced MB':>9} "
        f"{'py thr':>6} {'dummy':>5} {'native':>6}"
    )
    for s in samples:
        print(
            f"{s['label']:<12} {s['iteration']:>9,} {mb(s['rss'])} {mb(s['traced'])} "
            f"{s['threads']:>6} {s['dummy']:>5} {s['native']!s:>6}"
        )
    # From the first sample past --every to the end of the run (the "finished" sample).
    during = [
        s
        for s in samples
        if s["label"] in ("training", "finished") and s["iteration"] >= args.every  # type: ignore[operator]
    ]
    if len(during) >= 2:
        first, last = during[0], during[-1]
        steps = last["iteration"] - first["iteration"]  # type: ignore[operator]
        for key, name in (("rss", "RSS"), ("traced", "traced Python memory")):
            if first[key] is None or last[key] is None:
                continue
            growth = last[key] - first[key]  # type: ignore[operator]
            print(
                f"{name} growth from iteration {first['iteration']:,} to {last['iteration']:,}: "
                f"{growth / 1e6:+.2f} MB ({growth / max(steps, 1):+.1f} bytes per iteration)"
            )
    before, after = samples[0], samples[-1]
    print(
        f"threads: python {before['threads']} before -> {after['threads']} after reset "
        f"({after['dummy']} of them dummy); "
        f"native {before['native']} -> {after['native']}"
    )
    print(f"wall time {wall:.1f} s ({'with' if traced else 'without'} tracemalloc)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
