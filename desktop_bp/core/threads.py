"""Run-time control of the BLAS thread pool (threadpoolctl when installed, else a no-op)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def blas_threads(count: int | None) -> Iterator[None]:
    """Limit BLAS to ``count`` threads inside the block; ``None`` leaves the default.

    OpenBLAS's threads contend badly for the chapter's small matrices on a 2-vCPU machine
    (whole runs were up to 10x slower), so training asks for one. threadpoolctl is pure Python;
    without it the default pool is used and only speed differs.
    """
    if count is None:
        yield
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is a declared dependency
        yield
        return
    with threadpool_limits(limits=count, user_api="blas"):
        yield
