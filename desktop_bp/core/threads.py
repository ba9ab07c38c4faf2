"""Run-time control of the BLAS thread pool (threadpoolctl when installed, else a no-op)."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager

try:
    from threadpoolctl import threadpool_info, threadpool_limits
except ImportError:  # pragma: no cover - threadpoolctl is a declared dependency
    threadpool_info = threadpool_limits = None


@functools.cache
def default_blas_threads() -> int | None:
    """The BLAS pool size before anyone limited it (None when unknown)."""
    if threadpool_info is None:
        return None
    import numpy  # noqa: F401  - loads the BLAS library so threadpoolctl can see it

    counts = [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]
    return max(counts) if counts else None


@contextmanager
def blas_threads(count: int | None) -> Iterator[None]:
    """Set BLAS to ``count`` threads inside the block; ``None`` means the default pool size.

    OpenBLAS's threads contend badly for the chapter's small matrices on a 2-vCPU machine
    (whole runs were up to 10x slower), so training steps ask for one; the large full-set
    evaluations profit from all of them (see benchmarks/train_speed.py). Without threadpoolctl
    the default pool is used and only speed differs.
    """
    target = count if count is not None else default_blas_threads()
    if threadpool_limits is None or target is None:
        yield
        return
    with threadpool_limits(limits=target, user_api="blas"):
        yield
