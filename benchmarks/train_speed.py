"""Training speed: the book's chapter-5 loop against desktop_bp's ``Trainer``, same work.

Both train the 784-50-10 ReLU network on the embedded MNIST set (16,001 / 3,999) for the same
number of SGD steps (batch 100, learning rate 0.1), with full train and test accuracy after the
first step of every epoch and once at the end. Runs alternate (baseline, ours, baseline, ours,
...) so that a change in machine load hits both alike, each with one BLAS thread and with the
default pool (threadpoolctl). For "ours" the trainer's own thread settings
(``TRAINING_BLAS_THREADS`` / ``EVALUATION_BLAS_THREADS``) are set to the same count for the run.

``--augmentation`` measures instead what augmentation costs: each preset (``book``, the
default) trained with and without ``augment``, alternating, one BLAS thread as shipped; the
overhead is the augmented run's wall time over the plain run's.

Usage::

    python benchmarks/train_speed.py [--iters 10000] [--repeats 1] [--seed 0] [--json]
    python benchmarks/train_speed.py --augmentation [--repeats 3]

Prints a Markdown table (median wall seconds over the repeats); with ``--json`` the last line
is the same data as one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from desktop_bp.core import trainer as trainer_module
from desktop_bp.core.data import load_mnist
from desktop_bp.core.presets import PRESETS
from desktop_bp.core.trainer import TrainConfig, Trainer

try:
    from benchmarks import book_baseline
except ImportError:  # run as a script: python benchmarks/train_speed.py
    import book_baseline  # type: ignore[no-redef]

Data = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass
class Run:
    """One timed training run."""

    variant: str
    threads: str  # "1" or "default (N)"
    seconds: float
    cpu_seconds: float  # process CPU time: all threads, less sensitive to other processes
    train_acc: float
    test_acc: float


@dataclass
class Row:
    """The median of a variant's runs at one thread setting."""

    variant: str
    threads: str
    seconds: float
    seconds_min: float
    seconds_max: float
    cpu_seconds: float
    iterations_per_second: float
    test_acc: float
    speedup: float | None = None  # baseline seconds / these seconds, same thread setting
    runs: list[float] = field(default_factory=list)


def default_blas_threads() -> int:
    counts = [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]
    return max(counts, default=1)


@contextmanager
def trainer_threads(count: int | None) -> Iterator[None]:
    """Make the Trainer use ``count`` BLAS threads (None: the default pool) for a run."""
    saved = (trainer_module.TRAINING_BLAS_THREADS, trainer_module.EVALUATION_BLAS_THREADS)
    trainer_module.TRAINING_BLAS_THREADS = count
    trainer_module.EVALUATION_BLAS_THREADS = count
    try:
        yield
    finally:
        trainer_module.TRAINING_BLAS_THREADS, trainer_module.EVALUATION_BLAS_THREADS = saved


def run_baseline(data: Data, one_hot: tuple[np.ndarray, np.ndarray], iters: int, seed: int):
    (x_train, _), (x_test, _) = data
    result = book_baseline.train_book(
        x_train, one_hot[0], x_test, one_hot[1], iters_num=iters, seed=seed
    )
    return result.seconds, result.train_acc_list[-1], result.test_acc_list[-1]


def run_ours(data: Data, iters: int, seed: int, *, overlap: bool = True):
    saved = trainer_module.OVERLAP_EVALUATION
    trainer_module.OVERLAP_EVALUATION = overlap
    try:
        started = time.perf_counter()
        trainer = Trainer(TrainConfig(iterations=iters, seed=seed), data)
        history = trainer.run()
        seconds = time.perf_counter() - started
    finally:
        trainer_module.OVERLAP_EVALUATION = saved
    return seconds, history.train_acc[-1], history.test_acc[-1]


BASELINE = "book baseline"
OURS = "desktop_bp Trainer"
OURS_SERIAL = "desktop_bp Trainer, no eval thread"


def measure(
    iters: int,
    repeats: int,
    seed: int,
    log: Callable[[str], None],
    *,
    threads: str = "both",
    serial_variant: bool = False,
) -> list[Run]:
    data = load_mnist(normalize=True, flatten=True, one_hot_label=False, source="embedded")
    (_, t_train), (_, t_test) = data
    one_hot = (book_baseline.one_hot(t_train), book_baseline.one_hot(t_test))
    pool = default_blas_threads()
    settings: list[tuple[str, int | None]] = []
    if threads in ("1", "both"):
        settings.append(("1", 1))
    if threads in ("default", "both"):
        settings.append((f"default ({pool})", None))
    variants = [BASELINE, OURS] + ([OURS_SERIAL] if serial_variant else [])
    runs: list[Run] = []
    for repeat in range(repeats):
        for label, count in settings:
            # Alternate baseline and ours so drifting machine load hits both alike.
            for variant in variants:
                limit = threadpool_limits(limits=count, user_api="blas") if count else None
                cpu_started = time.process_time()
                try:
                    if variant == BASELINE:
                        seconds, train_acc, test_acc = run_baseline(data, one_hot, iters, seed)
                    else:
                        with trainer_threads(count):
                            seconds, train_acc, test_acc = run_ours(
                                data, iters, seed, overlap=variant == OURS
                            )
                finally:
                    if limit is not None:
                        limit.restore_original_limits()
                cpu_seconds = time.process_time() - cpu_started
                runs.append(Run(variant, label, seconds, cpu_seconds, train_acc, test_acc))
                log(
                    f"repeat {repeat + 1}/{repeats}  {variant:<34} BLAS {label:<12} "
                    f"{seconds:7.2f} s wall {cpu_seconds:7.2f} s CPU  test_acc {test_acc:.4f}"
                )
    return runs


def measure_augmentation(repeats: int, log: Callable[[str], None]) -> str:
    """Plain against augmented runs of each preset, alternating; returns a Markdown table."""
    from dataclasses import replace

    data = load_mnist()
    times: dict[tuple[str, bool], list[float]] = {}
    accuracy: dict[tuple[str, bool], list[float]] = {}
    with threadpool_limits(limits=trainer_module.TRAINING_BLAS_THREADS, user_api="blas"):
        for repeat in range(repeats):
            for name, preset in PRESETS.items():
                for augment in (False, True):
                    config = replace(preset, augment=augment)
                    started = time.perf_counter()
                    history = Trainer(config, data).run()
                    seconds = time.perf_counter() - started
                    times.setdefault((name, augment), []).append(seconds)
                    accuracy.setdefault((name, augment), []).append(history.test_acc[-1])
                    log(
                        f"repeat {repeat + 1}/{repeats}  {name:<8} augment={augment!s:<5} "
                        f"{seconds:6.2f} s  test_acc {history.test_acc[-1]:.4f}"
                    )
    lines = [
        "| preset | iterations | plain s (median) | augmented s (median) | overhead | "
        "test acc plain / augmented |",
        "|---|---|---|---|---|---|",
    ]
    for name, preset in PRESETS.items():
        plain = statistics.median(times[(name, False)])
        warped = statistics.median(times[(name, True)])
        lines.append(
            f"| {name} (784-{preset.hidden_size}-10) | {preset.iterations:,} | {plain:.2f} | "
            f"{warped:.2f} | {100 * (warped / plain - 1):+.0f} % | "
            f"{statistics.median(accuracy[(name, False)]):.4f} / "
            f"{statistics.median(accuracy[(name, True)]):.4f} |"
        )
    return "\n".join(lines)


def summarize(runs: list[Run], iters: int) -> list[Row]:
    rows: list[Row] = []
    keys = list(dict.fromkeys((r.variant, r.threads) for r in runs))
    for variant, threads in keys:
        mine = [r for r in runs if (r.variant, r.threads) == (variant, threads)]
        seconds = statistics.median(r.seconds for r in mine)
        rows.append(
            Row(
                variant=variant,
                threads=threads,
                seconds=seconds,
                seconds_min=min(r.seconds for r in mine),
                seconds_max=max(r.seconds for r in mine),
                cpu_seconds=statistics.median(r.cpu_seconds for r in mine),
                iterations_per_second=iters / seconds,
                test_acc=statistics.median(r.test_acc for r in mine),
                runs=[r.seconds for r in mine],
            )
        )
    for row in rows:
        base = next(r for r in rows if r.variant == BASELINE and r.threads == row.threads)
        row.speedup = base.seconds / row.seconds
    return rows


def markdown(rows: list[Row], repeats: int) -> str:
    spread = repeats > 1
    header = "| variant | BLAS threads | wall s (median) |"
    header += " min-max s |" if spread else ""
    header += " CPU s (median) | it/s | final test acc | speed-up vs baseline |"
    lines = [header, "|" + "---|" * header.count(" |")]
    for row in rows:
        line = f"| {row.variant} | {row.threads} | {row.seconds:.2f} |"
        line += f" {row.seconds_min:.2f}-{row.seconds_max:.2f} |" if spread else ""
        line += f" {row.cpu_seconds:.2f} | {row.iterations_per_second:,.0f} |"
        line += f" {row.test_acc:.4f} | {row.speedup:.2f}x |"
        lines.append(line)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iters", type=int, default=10_000, help="SGD steps per run")
    parser.add_argument("--repeats", type=int, default=1, help="runs per variant and setting")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--threads",
        choices=("both", "1", "default"),
        default="both",
        help="BLAS thread settings to measure (default: both)",
    )
    parser.add_argument(
        "--serial-variant",
        action="store_true",
        help="also time the Trainer with its evaluation thread turned off",
    )
    parser.add_argument("--json", action="store_true", help="end with a JSON line")
    parser.add_argument(
        "--augmentation",
        action="store_true",
        help="measure what augmentation costs each preset instead",
    )
    args = parser.parse_args(argv)
    if args.iters < 1 or args.repeats < 1:
        parser.error("--iters and --repeats must be positive")

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    if args.augmentation:
        print(measure_augmentation(args.repeats, log))
        return 0

    load_before = os.getloadavg() if hasattr(os, "getloadavg") else None
    runs = measure(
        args.iters,
        args.repeats,
        args.seed,
        log,
        threads=args.threads,
        serial_variant=args.serial_variant,
    )
    load_after = os.getloadavg() if hasattr(os, "getloadavg") else None
    rows = summarize(runs, args.iters)
    print(
        f"{args.iters:,} iterations, embedded MNIST (16,001 / 3,999), 784-50-10 ReLU, batch 100, "
        f"lr 0.1; {args.repeats} repeat(s); {os.cpu_count()} CPUs; numpy {np.__version__}; "
        f"Python {platform.python_version()}; load average {load_before} -> {load_after}\n"
    )
    print(markdown(rows, args.repeats))
    if args.json:
        payload = {
            "iterations": args.iters,
            "repeats": args.repeats,
            "seed": args.seed,
            "threads": args.threads,
            "cpus": os.cpu_count(),
            "numpy": np.__version__,
            "load_average": [load_before, load_after],
            "rows": [asdict(row) for row in rows],
        }
        print(json.dumps(payload))
    return 0


if __name__ == "__main__":
    sys.exit(main())
