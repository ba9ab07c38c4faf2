"""How well do the drawing pad and the network read real pen-drawn digits?

Replays the 600 digits of the UJI Pen Characters v2 set (every digit twice by each of 30
writers, W01-W30; Llorens et al., LREC 2008, CC BY 4.0) onto the pad's canvas through real
mouse events: each sample fitted by its own bounding box (70 % of the side tall, at most 80 %
wide, aspect kept), then per pen-down stroke one press, a move every 4 px and one release
(``desktop_bp/gui/pad/replay.py``). What is scored is the pad's own 784-pixel input
(``DrawingPad.current_input()``), classified by networks trained on the embedded MNIST subset
by the project's ``Trainer``, one row per training configuration (``--preset``, repeatable;
``--seeds N`` trains N seeds of each and reports the mean and the min-max).

``--pendigits`` also replays ``pendigits.tra`` (7,494 digits, 30 writers; Alpaydin &
Alimoglu, CC BY 4.0) with its own replay (one 8-point polyline, no pen-ups, aspect lost and
restored to 0.6): a second, harder set.

Every network is scored on the pad's own pipeline (``preprocess.PreprocessOptions()``).

Nothing here is fitted to UJI or pendigits: the networks never see them, and the fitting
fractions are the pad's drawing area, not tuned on the scores.

Caches (temporary folder; np.savez, no pickle): the pad inputs, keyed by the data file and
the source of every piece of code between the file and the 784 pixels; the trained networks,
keyed by the configuration and the source of the code that trains. Reruns only score.

Other scripts (a search over training settings) import :func:`pad_inputs` and
:func:`evaluate`.

    python benchmarks/handwriting_accuracy.py [--preset NAME ...] [--seeds N] [--pendigits]
        [--uji FILE] [--pendigits-file FILE] [--cache DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from numpy.typing import NDArray

import desktop_bp.core as core_package
from desktop_bp.core.data import load_mnist
from desktop_bp.core.network import TwoLayerNet
from desktop_bp.core.preprocess import PreprocessOptions
from desktop_bp.core.resources import EMBEDDED_MNIST
from desktop_bp.core.trainer import TrainConfig, Trainer

try:  # the named training configurations, when the project has them
    from desktop_bp.core.presets import PRESETS
except ModuleNotFoundError as error:
    if error.name != "desktop_bp.core.presets":
        raise
    PRESETS: dict[str, TrainConfig] = {"book": TrainConfig()}

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
UJI_FILE = DATA / "uji" / "uji_digits_w01-w30.txt"
PENDIGITS_FILE = DATA / "pendigits" / "pendigits.tra"
CACHE_DIR = Path(tempfile.gettempdir()) / "desktop_bp_handwriting"

#: The pad's pipelines by name (one today; the cache and the replay handle several, so a
#: candidate pipeline can be measured on the same strokes).
PIPELINES: dict[str, PreprocessOptions] = {"pad": PreprocessOptions()}
#: The pad's size, as in the GUI tests (a 438 px square).
PAD_SIZE = (760, 520)
CLASSES = 10


def pipeline_for(config: TrainConfig) -> str:
    """The name (in PIPELINES) of the pad pipeline a network trained with ``config`` reads."""
    del config  # every network reads the pad's own pipeline
    return "pad"


# -- replay: data file -> the pad's 784-pixel inputs ------------------------------------------
def _samples(kind: str, path: Path) -> tuple[list, NDArray[np.int64], NDArray[np.str_], Callable]:
    """(samples, labels (n,), writers (n,), replay function) of a "uji" or "pendigits" file;
    ``replay(canvas, sample)`` draws one sample with mouse events."""
    from desktop_bp.gui.pad.replay import (
        parse_pendigits,
        parse_uji,
        replay_pendigit,
        replay_strokes,
    )

    lines = path.read_text().splitlines()
    if kind == "uji":
        parsed = parse_uji(lines)
        labels = np.array([label for label, _, _ in parsed], dtype=np.int64)
        writers = np.array([writer for _, writer, _ in parsed], dtype=np.str_)
        return [strokes for _, _, strokes in parsed], labels, writers, replay_strokes
    if kind == "pendigits":
        points, labels = parse_pendigits(lines)
        # pendigits does not say which line is whose.
        return list(points), labels, np.full(len(labels), "", dtype=np.str_), replay_pendigit
    raise ValueError(f"unknown handwriting set {kind!r}: 'uji' or 'pendigits'")


def _make_pad():
    """A DrawingPad shown offscreen at PAD_SIZE (a QApplication is created if needed)."""
    from PySide6.QtWidgets import QApplication

    from desktop_bp.gui.pad.drawing_pad import DrawingPad

    app = QApplication.instance() or QApplication([])
    pad = DrawingPad()
    pad.resize(*PAD_SIZE)
    pad.show()
    app.processEvents()  # lay out, so the canvas has its real size
    return pad


def replay_inputs(
    kind: str, path: Path, pipelines: Sequence[str]
) -> tuple[dict[str, NDArray[np.float32]], NDArray[np.int64], NDArray[np.str_]]:
    """Draw every sample of ``path`` on a DrawingPad and read, per pipeline name, the exact
    input the pad feeds its network: {name: (n, 784) float32}, labels (n,), writers (n,)."""
    samples, labels, writers, replay = _samples(kind, path)
    pad = _make_pad()
    inputs = {name: np.zeros((len(samples), 784), np.float32) for name in pipelines}
    try:
        for i, sample in enumerate(samples):
            pad.clear()
            replay(pad.canvas, sample)
            # The pad already preprocessed with its current options at the last release:
            # read that pipeline first rather than computing it twice.
            for name in sorted(pipelines, key=lambda n: PIPELINES[n] != pad.options):
                pad.set_options(PIPELINES[name])
                x = pad.current_input()
                if x is not None:  # None: no ink (never for real digits); stays zeros
                    inputs[name][i] = x.ravel()
            if (i + 1) % 1000 == 0:
                print(f"  replayed {i + 1}/{len(samples)}", file=sys.stderr, flush=True)
    finally:
        pad.close()
    return inputs, labels, writers


def _input_stamp(path: Path) -> str:
    """Hash of the data file and of all code between it and the pad's input."""
    from desktop_bp.gui.pad import canvas as pad_canvas
    from desktop_bp.gui.pad import drawing_pad
    from desktop_bp.gui.pad import replay as pad_replay

    digest = hashlib.sha256(path.read_bytes())
    for module in (pad_replay, pad_canvas, drawing_pad):
        digest.update(Path(module.__file__).read_bytes())
    digest.update((Path(core_package.__file__).parent / "preprocess.py").read_bytes())
    for function in (_samples, _make_pad, replay_inputs):
        digest.update(inspect.getsource(function).encode())
    digest.update(repr((sorted(PIPELINES.items()), PAD_SIZE)).encode())
    return digest.hexdigest()[:20]


def cached_inputs(
    kind: str, path: Path, pipelines: Sequence[str], cache: Path = CACHE_DIR
) -> tuple[dict[str, NDArray[np.float32]], NDArray[np.int64], NDArray[np.str_], float | None]:
    """:func:`replay_inputs` through the cache: ({name: (n, 784)}, labels, writers, seconds
    the replay took, or None when everything came from the cache). Only missing pipelines
    are replayed (in one pass)."""
    stamp = _input_stamp(path)
    files = {name: cache / f"{kind}-{name}-{stamp}.npz" for name in pipelines}
    inputs: dict[str, NDArray[np.float32]] = {}
    labels = writers = None
    for name, file in files.items():
        if file.exists():
            with np.load(file, allow_pickle=False) as z:
                inputs[name], labels, writers = z["x"], z["labels"], z["writers"]
    missing = [name for name in pipelines if name not in inputs]
    seconds = None
    if missing:
        started = time.perf_counter()
        fresh, labels, writers = replay_inputs(kind, path, missing)
        seconds = time.perf_counter() - started
        cache.mkdir(parents=True, exist_ok=True)
        for name, x in fresh.items():
            np.savez(files[name], x=x, labels=labels, writers=writers)
        inputs.update(fresh)
    return inputs, labels, writers, seconds


def pad_inputs(
    samples_path: str | os.PathLike[str] | None = None,
    *,
    cache: Path = CACHE_DIR,
) -> tuple[NDArray[np.float32], NDArray[np.int64], NDArray[np.str_]]:
    """The pad's inputs for a UJI file (default: the 600 digits of W01-W30), cached.

    Returns x (n, 784) float32 in [0, 1] (n = 600 by default), exactly what the pad feeds its
    network for each replayed sample; labels (n,) int64 digits; writers (n,) str ("W01").
    """
    path = UJI_FILE if samples_path is None else Path(samples_path)
    inputs, labels, writers, _ = cached_inputs("uji", path, ["pad"], cache)
    return inputs["pad"], labels, writers


# -- networks ---------------------------------------------------------------------------------
def _core_stamp() -> str:
    """Hash of what decides what training produces: every module of desktop_bp.core (the
    trainer imports more of them as it grows) and the embedded MNIST subset it trains on."""
    digest = hashlib.sha256()
    for path in sorted(Path(core_package.__file__).parent.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    digest.update(EMBEDDED_MNIST.read_bytes())
    return digest.hexdigest()[:16]


def trained_params(
    config: TrainConfig, cache: Path = CACHE_DIR
) -> tuple[dict[str, NDArray], float, float]:
    """(params W1 (784, h), b1 (h,), W2 (h, 10), b2 (10,); accuracy on the embedded MNIST test
    set; training seconds) for ``config``, trained on the embedded set or from the cache."""
    key = hashlib.sha256(
        json.dumps([config.to_dict(), _core_stamp()], sort_keys=True).encode()
    ).hexdigest()[:20]
    path = cache / f"net-{key}.npz"
    if path.exists():
        with np.load(path, allow_pickle=False) as z:
            params = {k: z[k] for k in ("W1", "b1", "W2", "b2")}
            return params, float(z["test_acc"]), float(z["seconds"])
    trainer = Trainer(config, load_mnist())
    started = time.perf_counter()
    history = trainer.run()
    seconds = time.perf_counter() - started
    params = trainer.network.copy_params()
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(path, **params, test_acc=history.test_acc[-1], seconds=seconds)
    return params, float(history.test_acc[-1]), seconds


def network(params: dict[str, NDArray], activation: str = "relu") -> TwoLayerNet:
    """A float64 TwoLayerNet with ``params``, like the pad's own copy of the weights."""
    net = TwoLayerNet(784, params["W1"].shape[1], CLASSES, activation=activation, dtype=np.float64)
    net.set_params(params)
    return net


# -- scoring ----------------------------------------------------------------------------------
def evaluate(network: TwoLayerNet, x: NDArray, labels: NDArray) -> dict:
    """Accuracy of ``network`` (anything with ``predict``) on inputs x (n, 784), labels (n,).

    Returns {"overall": float, "per_digit": (10,) float64 (NaN for a digit absent from
    ``labels``), "minimum": float (the worst digit's accuracy), "worst_digit": int,
    "predicted": (n,) int64}.
    """
    labels = np.asarray(labels)
    predicted = np.asarray(network.predict(np.asarray(x, dtype=np.float64)).argmax(axis=1))
    correct = predicted == labels
    per_digit = np.array(
        [correct[labels == d].mean() if np.any(labels == d) else np.nan for d in range(CLASSES)]
    )
    worst = int(np.nanargmin(per_digit))
    return {
        "overall": float(correct.mean()),
        "per_digit": per_digit,
        "minimum": float(per_digit[worst]),
        "worst_digit": worst,
        "predicted": predicted.astype(np.int64),
    }


def _cell(values: Sequence[float], digits: int = 3) -> str:
    """One value, or the mean and (min-max) of several (seeds)."""
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{np.mean(values):.{digits}f} ({np.min(values):.{digits}f}-{np.max(values):.{digits}f})"


def table_row(label: str, runs: list[dict]) -> str:
    """A markdown row: configuration, overall, digits 0-9 (mean over seeds), the worst digit,
    the MNIST test accuracy and the training seconds. ``runs``: one dict per seed with the
    :func:`evaluate` keys plus "mnist" and "seconds"."""
    per_digit = np.mean([run["per_digit"] for run in runs], axis=0)
    worst = int(np.nanargmin(per_digit))
    cells = [
        label,
        _cell([run["overall"] for run in runs]),
        *(f"{v:.2f}" for v in per_digit),
        f"{_cell([run['minimum'] for run in runs], 2)} [{worst}]",
        _cell([run["mnist"] for run in runs], 4),
        f"{np.mean([run['seconds'] for run in runs]):.0f}",
    ]
    return "| " + " | ".join(cells) + " |"


TABLE_HEADER = (
    "| configuration | overall | "
    + " | ".join(str(d) for d in range(CLASSES))
    + " | min digit [which] | MNIST test | train s |\n"
    + "|---|---:|"
    + "---:|" * CLASSES
    + "---:|---:|---:|"
)


# -- command line -----------------------------------------------------------------------------
def _train_all(
    names: Sequence[str], seeds: int, cache: Path
) -> dict[str, list[tuple[TwoLayerNet, TrainConfig, float, float]]]:
    """{preset: [(network, config, MNIST test accuracy, seconds) per seed]}; seed k trains
    the preset with ``seed + k``."""
    nets = {}
    for name in names:
        nets[name] = []
        for k in range(seeds):
            config = replace(PRESETS[name], seed=PRESETS[name].seed + k)
            params, mnist, seconds = trained_params(config, cache)
            nets[name].append((network(params, config.activation), config, mnist, seconds))
            print(
                f"network {name!r} seed {config.seed}: MNIST test (embedded) {mnist:.4f}, "
                f"trained in {seconds:.0f} s",
                file=sys.stderr,
                flush=True,
            )
    return nets


def _report(title: str, inputs: dict, labels: NDArray, nets: dict, seeds: int) -> None:
    print(f"\n## {title}: {len(labels)} digits\n\n{TABLE_HEADER}")
    for name, runs in nets.items():
        scored = []
        for net, config, mnist, seconds in runs:
            result = evaluate(net, inputs[pipeline_for(config)], labels)
            scored.append({**result, "mnist": mnist, "seconds": seconds})
        label = name if seeds == 1 else f"{name} ({seeds} seeds)"
        print(table_row(label, scored))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--preset",
        action="append",
        metavar="NAME",
        help=f"training configuration, repeatable (default book; one of {sorted(PRESETS)})",
    )
    parser.add_argument("--seeds", type=int, default=1, help="seeds per preset (default 1)")
    parser.add_argument("--pendigits", action="store_true", help="also replay pendigits.tra")
    parser.add_argument("--uji", type=Path, default=UJI_FILE, help="UJI digits file")
    parser.add_argument("--pendigits-file", type=Path, default=PENDIGITS_FILE)
    parser.add_argument("--cache", type=Path, default=CACHE_DIR, help="inputs and networks")
    args = parser.parse_args(argv)
    names = args.preset or ["book"]
    unknown = [name for name in names if name not in PRESETS]
    if unknown:
        parser.error(f"unknown preset(s) {unknown}; known: {sorted(PRESETS)}")
    if args.seeds < 1:
        parser.error("--seeds must be at least 1")

    nets = _train_all(names, args.seeds, args.cache)
    test_size = load_mnist()[1][1].shape[0]
    print(f"MNIST test: accuracy on the embedded MNIST test set ({test_size:,} digits)")
    pipelines = sorted({pipeline_for(config) for runs in nets.values() for _, config, *_ in runs})
    sets = [("uji", args.uji, "UJI Pen Characters v2, 30 writers")]
    if args.pendigits:
        sets.append(("pendigits", args.pendigits_file, "pendigits.tra, 30 writers"))
    for kind, path, title in sets:
        started = time.perf_counter()
        inputs, labels, _, replay_seconds = cached_inputs(kind, path, pipelines, args.cache)
        elapsed = time.perf_counter() - started
        _report(title, inputs, labels, nets, args.seeds)
        how = "from the cache" if replay_seconds is None else "replayed on the pad"
        print(f"\ninputs ({', '.join(pipelines)}) {how} in {elapsed:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
