"""Bounded numeric buffers behind the live plots (numpy only, no Qt).

``GrowingBuffer`` is pyqtgraph's scrolling-plot recipe: a preallocated array that doubles when
full, read back as views ``x[:n], y[:n]``. ``DecimatingBuffer`` keeps every ``stride``-th sample
of several series and halves itself (doubling the stride) when full, so a run of any length
costs at most ``capacity`` points per series.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
from numpy.typing import NDArray


class GrowingBuffer:
    """(x, y) float64 pairs in arrays that double when full.

    ``x`` and ``y`` are views of shape (n,) into the storage: read them, don't keep them.
    """

    def __init__(self, initial_capacity: int = 1024) -> None:
        if initial_capacity < 1:
            raise ValueError(f"initial_capacity must be >= 1, got {initial_capacity}")
        self._x = np.empty(initial_capacity, dtype=np.float64)
        self._y = np.empty(initial_capacity, dtype=np.float64)
        self._n = 0

    def __len__(self) -> int:
        return self._n

    @property
    def capacity(self) -> int:
        return self._x.shape[0]

    @property
    def x(self) -> NDArray[np.float64]:
        return self._x[: self._n]

    @property
    def y(self) -> NDArray[np.float64]:
        return self._y[: self._n]

    def clear(self) -> None:
        self._n = 0

    def _reserve(self, needed: int) -> None:
        if needed <= self.capacity:
            return
        capacity = self.capacity
        while capacity < needed:
            capacity *= 2
        for name in ("_x", "_y"):
            old = getattr(self, name)
            new = np.empty(capacity, dtype=np.float64)
            new[: self._n] = old[: self._n]
            setattr(self, name, new)

    def extend(self, x: Sequence[float] | NDArray, y: Sequence[float] | NDArray) -> None:
        """Append equal-length sequences ``x`` and ``y``."""
        count = len(y)
        if len(x) != count:
            raise ValueError(f"x and y must have the same length, got {len(x)} and {count}")
        if count == 0:
            return
        self._reserve(self._n + count)
        self._x[self._n : self._n + count] = x
        self._y[self._n : self._n + count] = y
        self._n += count

    def append(self, x: float, y: float) -> None:
        self.extend((x,), (y,))


def _ema_loop(values: NDArray, alpha: float, current: float | None) -> NDArray:
    out = np.empty(values.shape[0], dtype=np.float64)
    for i, value in enumerate(values.tolist()):
        if math.isfinite(value):
            current = value if current is None else current + alpha * (value - current)
        out[i] = math.nan if current is None else current
    return out


def ema(values: Sequence[float] | NDArray, alpha: float, start: float | None = None) -> NDArray:
    """Exponential moving average of ``values``, shape (n,), seeded with ``start`` or values[0].

    Non-finite values are skipped (the average carries over), so one NaN doesn't wipe the curve.
    Vectorised in blocks: y_i = d^(i+1) (s + alpha * sum_{j<=i} x_j d^-(j+1)) with d = 1 - alpha,
    the block short enough that d^-block stays below 1e6 (no loss of precision).
    """
    x = np.asarray(values, dtype=np.float64).reshape(-1)
    if not 0 < alpha <= 1:
        raise ValueError(f"alpha must be in (0, 1], got {alpha}")
    if alpha == 1 or x.shape[0] < 256:  # short chunks: the loop is faster than numpy calls
        return _ema_loop(x, alpha, start)
    decay = 1.0 - alpha
    block = max(8, int(6 / -math.log10(decay)))
    powers = decay ** np.arange(1, block + 1)
    out = np.empty(x.shape[0], dtype=np.float64)
    current = start
    for first in range(0, x.shape[0], block):
        chunk = x[first : first + block]
        if current is None or not np.all(np.isfinite(chunk)):
            out[first : first + chunk.shape[0]] = part = _ema_loop(chunk, alpha, current)
        else:
            p = powers[: chunk.shape[0]]
            part = p * (current + alpha * np.cumsum(chunk / p))
            out[first : first + chunk.shape[0]] = part
        last = part[-1]
        current = None if math.isnan(last) else float(last)
    return out


class DecimatingBuffer:
    """Several named series sampled at common x values, bounded to ``capacity`` points.

    Every ``stride``-th offered sample is kept; when the buffer fills, every other stored point
    is dropped and the stride doubles. The newest value of each series is always available in
    ``latest`` whether or not it was stored.
    """

    def __init__(self, keys: Iterable[str], capacity: int = 4096) -> None:
        if capacity < 4 or capacity % 2:
            raise ValueError(f"capacity must be an even number >= 4, got {capacity}")
        self.keys = tuple(keys)
        self.capacity = capacity
        self._x = np.empty(capacity, dtype=np.float64)
        self._y = {key: np.empty(capacity, dtype=np.float64) for key in self.keys}
        self._n = 0
        self.stride = 1
        self._offered = 0
        self.latest: dict[str, float] = {}
        self.latest_x: float | None = None

    def __len__(self) -> int:
        return self._n

    @property
    def x(self) -> NDArray[np.float64]:
        return self._x[: self._n]

    def y(self, key: str) -> NDArray[np.float64]:
        return self._y[key][: self._n]

    def clear(self) -> None:
        self._n = 0
        self.stride = 1
        self._offered = 0
        self.latest = {}
        self.latest_x = None

    def _halve(self) -> None:
        keep = slice(0, self._n, 2)
        kept = len(range(*keep.indices(self._n)))
        self._x[:kept] = self._x[keep].copy()
        for series in self._y.values():
            series[:kept] = series[keep].copy()
        self._n = kept
        self.stride *= 2

    def extend(self, x: Sequence[float], values: Mapping[str, Sequence[float]]) -> None:
        """Offer samples at ``x`` with ``values[key][i]`` for each key (missing keys → NaN)."""
        count = len(x)
        if count == 0:
            return
        columns = {
            key: np.asarray(values[key], dtype=np.float64)
            if key in values
            else np.full(count, math.nan)
            for key in self.keys
        }
        for key, column in columns.items():
            if column.shape[0] != count:
                raise ValueError(f"series {key!r} has {column.shape[0]} values, expected {count}")
            self.latest[key] = float(column[-1])
        self.latest_x = float(x[-1])
        xs = np.asarray(x, dtype=np.float64)
        index = 0
        while index < count:
            # Invariant: stored point i is offered sample number i * stride.
            first = -(-self._offered // self.stride) * self.stride
            position = index + first - self._offered
            if position >= count:
                self._offered += count - index
                return
            if self._n == self.capacity:
                self._halve()
                continue
            take = np.arange(position, count, self.stride)[: self.capacity - self._n]
            self._store(xs, columns, take)
            consumed = int(take[-1]) + 1
            self._offered += consumed - index
            index = consumed

    def _store(self, xs: NDArray, columns: Mapping[str, NDArray], take: NDArray) -> None:
        count = take.shape[0]
        if count == 0:
            return
        self._x[self._n : self._n + count] = xs[take]
        for key, column in columns.items():
            self._y[key][self._n : self._n + count] = column[take]
        self._n += count
