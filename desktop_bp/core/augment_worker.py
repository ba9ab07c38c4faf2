"""The augmentation pool's worker process: ``python -m desktop_bp.core.augment_worker``.

Started by :class:`desktop_bp.core.augment_pool.AugmentPool` with ``subprocess`` rather than
``multiprocessing`` (which re-imports the parent's main script in the child: a script that
trains without an ``if __name__ == "__main__"`` guard would run twice). The protocol is lines
on stdin and stdout:

- first line in: a JSON object naming the two shared-memory blocks (source images and the
  chunk), the source's shape and dtype, the seed, the chunk size and the augmentation ranges;
  answer ``ready``;
- ``warp B``: warp block B's rows into the chunk block; answer ``done B``, or ``error`` and the
  traceback as one JSON string;
- ``stop``, or the end of stdin (the parent is gone): exit.

Only numpy, the standard library and core: no Qt.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys

# One BLAS thread, set before numpy loads: the other core belongs to the training loop.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import traceback  # noqa: E402
from multiprocessing import shared_memory  # noqa: E402

import numpy as np  # noqa: E402

from desktop_bp.core.augment import AugmentParams  # noqa: E402
from desktop_bp.core.augment_pool import sweep_order, warp_chunk  # noqa: E402


def _attach(name: str) -> shared_memory.SharedMemory:
    # The parent owns (and unlinks) the blocks; before 3.13 the child's resource tracker would
    # also "clean up" what it merely attached to, so it is told to forget them.
    memory = shared_memory.SharedMemory(name=name)
    with contextlib.suppress(Exception):  # best effort; only a warning at exit otherwise
        from multiprocessing import resource_tracker

        resource_tracker.unregister(memory._name, "shared_memory")  # type: ignore[attr-defined]
    return memory


def serve(stdin, stdout) -> int:
    setup = json.loads(stdin.readline())
    source_memory = _attach(setup["source"])
    out_memory = _attach(setup["out"])
    shape = tuple(setup["shape"])
    source = np.ndarray(shape, dtype=setup["dtype"], buffer=source_memory.buf)
    out = np.ndarray((setup["chunk"], shape[1]), dtype=setup["dtype"], buffer=out_memory.buf)
    params = AugmentParams(
        **{k: tuple(v) if isinstance(v, list) else v for k, v in setup["params"].items()}
    )
    order = sweep_order(setup["seed"], shape[0])
    print("ready", file=stdout, flush=True)
    try:
        for line in stdin:
            command, _, argument = line.strip().partition(" ")
            if command != "warp":
                break  # "stop" (or anything unexpected): end cleanly
            block = int(argument)
            try:
                warp_chunk(source, order, setup["seed"], block, setup["chunk"], params, out)
                print(f"done {block}", file=stdout, flush=True)
            except Exception:  # reported, never lost: the trainer raises it
                print("error", json.dumps(traceback.format_exc()), file=stdout, flush=True)
    finally:
        del source, out
        source_memory.close()
        out_memory.close()
    return 0


if __name__ == "__main__":
    sys.exit(serve(sys.stdin, sys.stdout))
