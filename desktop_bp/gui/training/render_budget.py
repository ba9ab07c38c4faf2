"""Cap the share of the GUI thread's CPU time that live plot drawing may take.

Training and drawing share one GIL: every millisecond the GUI thread spends in pyqtgraph is a
millisecond the training thread waits. A token bucket, refilled at ``share`` CPU-seconds per
wall-clock second (up to ``burst``), is charged with the measured CPU time of each plot update
and repaint; a plot is updated only while the bucket is not empty. On a fast machine the plots
still update at the timer's full rate; on a slow or busy one they update less often instead of
slowing training down.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class RenderBudget:
    def __init__(
        self,
        share: float = 0.08,
        burst: float = 0.03,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        if not 0 < share <= 1:
            raise ValueError(f"share must be in (0, 1], got {share}")
        self.share = share
        self.burst = burst
        self._clock = clock
        self.enabled = False
        self.spent = 0.0  # CPU seconds charged since reset (for benchmarks)
        self.reset()

    def reset(self) -> None:
        self._tokens = self.burst
        self._last = self._clock()
        self.spent = 0.0

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.share)
        self._last = now

    def allow(self) -> bool:
        """May a plot be updated now? Always when the budget is not enabled."""
        if not self.enabled:
            return True
        self._refill()
        return self._tokens > 0

    def spend(self, cpu_seconds: float) -> None:
        self.spent += cpu_seconds
        if self.enabled:
            self._refill()
            self._tokens -= cpu_seconds
