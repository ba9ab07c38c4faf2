"""What the ``desktop-bp`` command draws on a terminal: a progress bar for training and a byte
counter for downloads (one line per file when stderr is not a terminal)."""

from __future__ import annotations

import math
import sys
import time
from typing import TextIO

PROG = "desktop-bp"
# Redraw the progress bar at most this often: terminal writes are not free at ~10,000 it/s.
PROGRESS_INTERVAL = 0.1


def format_duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "--:--"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class ProgressBar:
    """A one-line progress bar on a terminal, redrawn at most every ``PROGRESS_INTERVAL`` s.

    Disabled (every call a no-op) unless ``stream`` is a terminal: logs and pipes get the
    per-epoch lines on stdout instead.
    """

    WIDTH = 24

    def __init__(self, total: int, *, stream: TextIO | None = None, enabled: bool = True) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.total = max(int(total), 1)
        self.enabled = enabled and is_terminal(self.stream)
        self.started = time.perf_counter()
        self._last_draw = -math.inf
        self._drawn = 0  # characters currently on the line

    def update(self, done: int, suffix: str = "") -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if now - self._last_draw < PROGRESS_INTERVAL and done < self.total:
            return
        self._last_draw = now
        elapsed = max(now - self.started, 1e-9)
        rate = done / elapsed
        eta = (self.total - done) / rate if rate > 0 else math.inf
        filled = int(self.WIDTH * min(done / self.total, 1.0))
        bar = "#" * filled + "." * (self.WIDTH - filled)
        text = (
            f"[{bar}] {done:,}/{self.total:,} {100 * done / self.total:3.0f}%  "
            f"{rate:,.0f} it/s  ETA {format_duration(eta)}"
        )
        if suffix:
            text += f"  {suffix}"
        self._write(text)

    def clear(self) -> None:
        """Erase the bar, so that a normal line can be printed on the terminal."""
        if self.enabled and self._drawn:
            self.stream.write("\r" + " " * self._drawn + "\r")
            self.stream.flush()
            self._drawn = 0

    def _write(self, text: str) -> None:
        padding = " " * max(self._drawn - len(text), 0)  # wipe the tail of a longer old line
        self.stream.write("\r" + text + padding)
        self.stream.flush()
        self._drawn = len(text)


def is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class DownloadProgress:
    """The download callback: a byte counter per file on a terminal, else one line per file."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.tty = is_terminal(self.stream)
        self.current = ""
        self._last_draw = -math.inf
        self._drawn = 0

    def __call__(self, done: int, total: int, name: str) -> bool:
        if name != self.current:
            self.finish()
            self.current = name
            if not self.tty:
                print(f"{PROG}: downloading {name}", file=self.stream, flush=True)
        if self.tty:
            now = time.perf_counter()
            if now - self._last_draw >= PROGRESS_INTERVAL or (total and done >= total):
                self._last_draw = now
                size = f"{done / 1e6:.1f}/{total / 1e6:.1f} MB" if total else f"{done / 1e6:.1f} MB"
                text = f"downloading {name}: {size}"
                self.stream.write("\r" + text + " " * max(self._drawn - len(text), 0))
                self.stream.flush()
                self._drawn = len(text)
        return True

    def finish(self) -> None:
        if self.tty and self._drawn:
            self.stream.write("\r" + " " * self._drawn + "\r")
            self.stream.flush()
            self._drawn = 0
