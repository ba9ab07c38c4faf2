"""Augmentation at almost no cost: a warped copy of the training set, refreshed by a second process.

Warping a minibatch (:func:`desktop_bp.core.augment.augment_batch`, ~8 µs per image) costs
more than the SGD step that uses it (~4 µs per image for 784-50-10): done in the training loop,
it made 10,000 augmented steps take 19 s instead of 3 s. Here the loop instead draws its
minibatches from a *pool*: a copy of the training images in which, every block of steps, a
chunk of ``chunk`` images is replaced by fresh random warps of the originals. The next chunk is
warped while the current block trains and swapped in at the block boundary, so the training
loop only copies rows.

Where the warping runs: in a worker *process* (``desktop_bp.core.augment_worker``, started
with ``subprocess``), with the source images and the chunk in shared memory. A worker *thread*
gets the second core too (numpy releases the GIL inside its array work), but a warp is ~40
numpy calls on small arrays whose bookkeeping holds the GIL, and the training loop's own small
calls wait for it: measured on
784-100-10, 20,000 steps, +31 % with a thread against +11 % for the same work in another
process. If a process cannot be started here, the pool falls back to the thread.

Determinism: the chunk for block ``b`` depends only on ``(seed, b)`` (its own generator) and
which pool rows it replaces only on ``b`` (a fixed sweep through a seeded permutation), and the
loop waits for it at the boundary, so a seed gives the same run whatever the timing and
whichever worker made it.

The pool starts as the un-warped images: the first blocks train on clean digits while warps
fill in. No Qt here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import subprocess
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from multiprocessing import shared_memory
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from desktop_bp.core.augment import DEFAULT_PARAMS, AugmentParams, augment_batch

#: Images warped per numpy pass: ~100-200 keeps the temporaries in cache (8-10 µs per image at
#: 128, 25-33 µs at 1,000-4,000 on the project's VM).
WARP_BATCH = 128
#: Use a worker process (else a thread). Tests flip it to compare the two.
USE_PROCESS = True


def sweep_order(seed: int, n: int) -> NDArray[np.intp]:
    """The order in which pool rows are replaced: one seeded permutation, chunk after chunk, so
    every image is re-warped once per sweep and none twice in a row."""
    return np.random.default_rng([int(seed), 0x5A]).permutation(n)


def chunk_rows(order: NDArray[np.intp], block: int, chunk: int) -> NDArray[np.intp]:
    start = (block * chunk) % order.shape[0]
    return np.take(order, np.arange(start, start + chunk), mode="wrap")


def warp_chunk(
    source: NDArray,
    order: NDArray[np.intp],
    seed: int,
    block: int,
    chunk: int,
    params: AugmentParams,
    out: NDArray,
) -> NDArray[np.intp]:
    """Write fresh warps of block ``block``'s rows of ``source`` (N, 784) into ``out`` (chunk,
    784), same dtype; return the rows. uint8 sources get whole-valued, exactly stored pixels."""
    rows = chunk_rows(order, block, chunk)
    rng = np.random.default_rng([int(seed), 0xA5, block])
    images = source[rows]
    for start in range(0, rows.shape[0], WARP_BATCH):
        part = images[start : start + WARP_BATCH]
        if source.dtype == np.uint8:
            warped = augment_batch(np.divide(part, np.float32(255)), rng, params)
            np.rint(np.multiply(warped, 255, out=warped), out=warped)
            out[start : start + WARP_BATCH] = warped  # exact: whole values 0..255
        else:
            out[start : start + WARP_BATCH] = augment_batch(part, rng, params)
    return rows


class _ProcessWorker:
    """Chunks warped in a child process (``desktop_bp.core.augment_worker``); ``request(b)``
    then ``result()`` gives (rows, images)."""

    def __init__(self, source: NDArray, seed: int, chunk: int, params: AugmentParams) -> None:
        self._memories: list[shared_memory.SharedMemory] = []
        self._process: subprocess.Popen[str] | None = None
        self._order = sweep_order(seed, source.shape[0])
        self._chunk = chunk
        self._pending: int | None = None
        try:
            source_memory = self._share(source.nbytes)
            out_memory = self._share(chunk * source.shape[1] * source.dtype.itemsize)
            shared = np.ndarray(source.shape, source.dtype, buffer=source_memory.buf)
            shared[...] = source
            del shared
            self._out = np.ndarray((chunk, source.shape[1]), source.dtype, buffer=out_memory.buf)
            self._process = subprocess.Popen(
                [sys.executable, "-m", "desktop_bp.core.augment_worker"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                bufsize=1,
                env=_worker_environment(),
            )
            setup = {
                "source": source_memory.name,
                "out": out_memory.name,
                "shape": list(source.shape),
                "dtype": source.dtype.str,
                "seed": seed,
                "chunk": chunk,
                "params": dataclasses.asdict(params),
            }
            self._send(json.dumps(setup))
            if self._answer() != "ready":
                raise RuntimeError("the augmentation process did not start")
        except BaseException:
            self.close()
            raise

    def _share(self, size: int) -> shared_memory.SharedMemory:
        memory = shared_memory.SharedMemory(create=True, size=max(size, 1))
        self._memories.append(memory)
        return memory

    def _send(self, line: str) -> None:
        assert self._process is not None and self._process.stdin is not None
        self._process.stdin.write(line + "\n")
        self._process.stdin.flush()

    def _answer(self) -> str:
        assert self._process is not None and self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError(f"the augmentation process ended (exit code {self._process.poll()})")
        return line.strip()

    def request(self, block: int) -> None:
        self._send(f"warp {block}")
        self._pending = block

    def result(self) -> tuple[NDArray[np.intp], NDArray]:
        block, self._pending = self._pending, None
        answer = self._answer()
        if answer.startswith("error"):
            detail = json.loads(answer.partition(" ")[2] or '""')
            raise RuntimeError(f"augmentation failed in its worker process:\n{detail}")
        if block is None or answer != f"done {block}":
            raise RuntimeError(f"unexpected answer from the augmentation process: {answer!r}")
        return chunk_rows(self._order, block, self._chunk), self._out

    def close(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            with contextlib.suppress(OSError, ValueError):
                assert process.stdin is not None
                process.stdin.write("stop\n")
                process.stdin.close()  # the worker also ends at the end of its input
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()
        self._out = None
        for memory in self._memories:
            memory.close()
            with contextlib.suppress(FileNotFoundError):
                memory.unlink()
        self._memories = []


def _worker_environment() -> dict[str, str]:
    """This environment, with the package importable in the child as it is here."""
    env = dict(os.environ)
    package_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
    return env


class _ThreadWorker:
    """The same, in a thread of this process (where a child process cannot be started)."""

    def __init__(self, source: NDArray, seed: int, chunk: int, params: AugmentParams) -> None:
        self._source, self._seed, self._chunk, self._params = source, seed, chunk, params
        self._order = sweep_order(seed, source.shape[0])
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="desktop-bp-aug")
        self._future: Future[tuple[NDArray[np.intp], NDArray]] | None = None

    def _warp(self, block: int) -> tuple[NDArray[np.intp], NDArray]:
        out = np.empty((self._chunk, self._source.shape[1]), self._source.dtype)
        rows = warp_chunk(
            self._source, self._order, self._seed, block, self._chunk, self._params, out
        )
        return rows, out

    def request(self, block: int) -> None:
        self._future = self._executor.submit(self._warp, block)

    def result(self) -> tuple[NDArray[np.intp], NDArray]:
        assert self._future is not None
        return self._future.result()

    def close(self) -> None:
        if self._future is not None:
            self._future.cancel()
        self._executor.shutdown(wait=True, cancel_futures=True)


class AugmentPool:
    """Minibatch rows drawn from a pool of warped training images (see the module docstring).

    source : (N, 784) uint8 pixels (or float images in [0, 1]); never written.
    seed : the run's seed; chunk ``b`` is warped with ``default_rng([seed, 0xA5, b])``.
    chunk : images re-warped per block (0 < chunk); the fraction of fresh warps per step is
        about chunk / (block steps * batch size).
    ``pixels`` is the pool the trainer gathers from; :meth:`advance` at each block boundary.
    """

    def __init__(
        self,
        source: NDArray,
        seed: int,
        chunk: int,
        params: AugmentParams = DEFAULT_PARAMS,
    ) -> None:
        if source.ndim != 2 or source.shape[0] == 0:
            raise ValueError(f"the pool needs (N, 784) images, got shape {source.shape}")
        self.pixels = np.array(source, copy=True)
        seed = int(seed)
        chunk = int(min(max(chunk, 1), source.shape[0]))
        self.refreshed = 0  # rows replaced so far (for tests and statistics)
        self.worker_kind = "thread"
        self._worker: _ProcessWorker | _ThreadWorker | None = None
        if USE_PROCESS:
            try:
                self._worker = _ProcessWorker(source, seed, chunk, params)
                self.worker_kind = "process"
            except (OSError, RuntimeError, ValueError):
                self._worker = None  # no child processes here (a sandbox): use the thread
        if self._worker is None:
            self._worker = _ThreadWorker(source, seed, chunk, params)
        self._block = 0
        self._worker.request(0)

    def advance(self) -> None:
        """At a block boundary: swap in the chunk warped meanwhile, start warping the next."""
        if self._worker is None:
            raise RuntimeError("the pool is closed")
        rows, images = self._worker.result()
        self.pixels[rows] = images
        self.refreshed += rows.shape[0]
        self._block += 1
        self._worker.request(self._block)

    def close(self) -> None:
        """Stop the worker (a pending chunk is finished or dropped, never half-written)."""
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.close()

    def __del__(self) -> None:  # a generator dropped without finishing still frees the worker
        with contextlib.suppress(Exception):  # nothing useful to do at interpreter teardown
            self.close()
