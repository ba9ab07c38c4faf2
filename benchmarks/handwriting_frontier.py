"""Which training settings read real handwriting best for their training time?

Trains each candidate configuration below on the embedded MNIST subset (headless, the
project's Trainer, seed 0 unless ``--seeds``), scores it on the 600 UJI pen-drawn digits
replayed on the pad (``benchmarks/handwriting_accuracy.py``: overall and worst digit), and
prints one row per candidate with its training time as a multiple of the ``book`` preset's,
measured in the same run. The default preset (``desktop_bp/core/presets.py``) was picked from
this table: the best UJI score with every digit >= 0.90 within 4x the book's time.

Nothing is fitted to UJI: the candidates are a small grid over hidden size, steps, learning
rate and schedule and augmentation, all judged on the same replay. (Moment normalisation of
the training set and the drawings was measured too, and removed: see the README.)

    python benchmarks/handwriting_frontier.py [--seeds N] [--only SUBSTRING]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from handwriting_accuracy import evaluate, network, pad_inputs, trained_params

from desktop_bp.core.presets import PRESETS
from desktop_bp.core.trainer import TrainConfig

BOOK = PRESETS["book"]
DEFAULT = PRESETS["default"]


def _grid(hidden: int, steps: int, lr: float = 0.2, **changes: object) -> TrainConfig:
    """A candidate like the default preset (augmented, step decay, training accuracy on 4,000
    images) with another size, length or learning rate."""
    return replace(DEFAULT, hidden_size=hidden, iterations=steps, learning_rate=lr, **changes)


CANDIDATES: dict[str, TrainConfig] = {
    "book": BOOK,
    "book + augment": replace(BOOK, augment=True),
    "book + step decay": replace(BOOK, lr_schedule="step"),
    "784-100-10, 16k steps": _grid(100, 16_000),
    "784-100-10, 18k steps (default preset)": DEFAULT,
    "784-100-10, 20k steps": _grid(100, 20_000),
    "784-100-10, 20k steps, lr 0.1": _grid(100, 20_000, lr=0.1),
    "784-100-10, 18k steps, no augmentation": _grid(100, 18_000, augment=False),
    "784-100-10, 18k steps, half the batch rows fresh warps": _grid(100, 18_000, augment_fresh=0.5),
    "784-80-10, 20k steps": _grid(80, 20_000),
    "784-150-10, 15k steps": _grid(150, 15_000),
    "784-200-10, 10k steps": _grid(200, 10_000),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument(
        "--only", default="", help="only candidates whose name contains one of these (a,b,...)"
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=None,
        help="folder for trained networks (default: the handwriting benchmark's; a new, empty "
        "one retrains everything, so that every time in the table is from this run)",
    )
    args = parser.parse_args(argv)
    cache = {} if args.cache is None else {"cache": args.cache}
    x, labels, _ = pad_inputs()
    rows = []
    book_seconds = []
    for name, config in CANDIDATES.items():
        if args.only and not any(part in name for part in args.only.split(",")) and name != "book":
            continue
        scores, worst, mnist, seconds, worst_digits = [], [], [], [], []
        for seed in range(args.seeds):
            params, test_acc, trained_for = trained_params(
                replace(config, seed=config.seed + seed), **cache
            )
            result = evaluate(network(params, config.activation), x, labels)
            scores.append(result["overall"])
            worst.append(result["minimum"])
            worst_digits.append(result["worst_digit"])
            mnist.append(test_acc)
            seconds.append(trained_for)
        if name == "book":
            book_seconds = seconds
        rows.append((name, scores, worst, mnist, seconds))
        print(
            f"{name}: UJI {statistics.mean(scores):.3f} worst {min(worst):.2f} {worst_digits} "
            f"MNIST {statistics.mean(mnist):.4f} {statistics.mean(seconds):.1f} s",
            flush=True,
        )
    base = statistics.mean(book_seconds)
    print("\n| configuration | UJI (600) | worst digit | MNIST test | train s | x book |")
    print("|---|---|---|---|---|---|")
    for name, scores, worst, mnist, seconds in sorted(rows, key=lambda r: statistics.mean(r[4])):
        span = f" ({min(scores):.3f}-{max(scores):.3f})" if len(scores) > 1 else ""
        print(
            f"| {name} | {statistics.mean(scores):.3f}{span} | {min(worst):.2f} | "
            f"{statistics.mean(mnist):.4f} | {statistics.mean(seconds):.1f} | "
            f"{statistics.mean(seconds) / base:.1f}x |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
