"""The ``desktop-bp`` command: the GUI with no arguments, else a headless sub-command.

Sub-commands (``desktop-bp COMMAND --help`` for the options)::

    desktop-bp train      [--data SOURCE] [--hidden N] [--lr X] ... [--save FILE] [--json]
    desktop-bp gradcheck  [--hidden N] [--activation A] [--weights FILE] [--json]
    desktop-bp eval       --weights FILE [--data SOURCE] [--json]
    desktop-bp download   mnist|fashion-mnist

Exit codes: 0 success; 1 the work itself failed (training diverged, gradient check failed,
download failed); 2 bad input (argument, file, data folder), with exactly one
``desktop-bp: error: ...`` line on stderr and no traceback; 130 interrupted (Ctrl+C).

Human-readable results go to stdout; progress bars (only when stderr is a terminal) and
errors to stderr. With ``--json`` the last stdout line is one JSON object.

This module never imports Qt: the GUI is imported only when it is started.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from desktop_bp import __version__
from desktop_bp.core.errors import DesktopBPError, DownloadError, TrainingDiverged
from desktop_bp.terminal import PROG, DownloadProgress, ProgressBar, is_terminal

# Listed here, not imported: the parser is built for every command, --help and --version
# included, and those should not pay for importing the trainer (a test keeps the two equal).
PRESET_NAMES = ("default", "book")
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

# Mirrors checkpoint.MAX_LAYER_SIZE (imported lazily there): a bigger network could be trained
# but its weights file would be refused on loading.
MAX_HIDDEN = 100_000


# -- argument parsing -------------------------------------------------------------------------


class UsageError(Exception):
    """A bad command line; main() prints it as one line and exits with status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, but an error is one line (no usage block) and raises instead of exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _hidden_size(text: str) -> int:
    value = _positive_int(text)
    if value > MAX_HIDDEN:
        raise argparse.ArgumentTypeError(f"at most {MAX_HIDDEN:,} hidden units, got {text!r}")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The whole command line (sub-commands carry their handler as ``args.handler``)."""
    parser = _Parser(
        prog=PROG,
        description="Train the chapter-5 two-layer network of 'Deep Learning from Scratch' on "
        "MNIST. Without a command, the desktop window opens.",
        epilog=f"'{PROG} COMMAND --help' lists a command's options. Exit codes: 0 success, "
        "1 the work failed, 2 bad input, 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    entry = parser.add_mutually_exclusive_group()
    entry.add_argument(
        "--install-desktop-entry",
        action="store_true",
        help="add Desktop BP to this user's application menu (a .desktop file and its icon "
        "under ~/.local/share) and exit",
    )
    entry.add_argument(
        "--uninstall-desktop-entry",
        action="store_true",
        help="remove that menu entry and icon, and exit",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    data_help = (
        "data set: 'embedded' (16,001/3,999 digits shipped with the app), 'mnist' or "
        "'fashion-mnist' (downloaded on first use), or a folder of the four IDX files"
    )
    train = commands.add_parser(
        "train",
        help="train the network and print accuracy per epoch",
        description="Minibatch SGD as in the book's ch05/train_neuralnet.py.",
    )
    train.add_argument("--data", default="embedded", metavar="SOURCE", help=data_help)
    train.add_argument(
        "--preset",
        choices=tuple(PRESET_NAMES),
        default="default",
        help="starting settings: 'default' (reads handwriting best within the time budget) or "
        "'book' (chapter 5 exactly: 784-50-10, lr 0.1, batch 100, 10,000 iterations); the "
        "options below change single settings of it",
    )
    train.add_argument(
        "--hidden", type=_hidden_size, default=None, metavar="N", help="hidden units"
    )
    train.add_argument("--activation", choices=("relu", "sigmoid"), default=None)
    train.add_argument(
        "--lr", type=_positive_float, default=None, metavar="X", help="learning rate"
    )
    train.add_argument(
        "--lr-schedule",
        choices=("constant", "step"),
        default=None,
        help="'constant' (the book) or 'step' (x 0.1 for the last quarter of the steps)",
    )
    train.add_argument("--batch", type=_positive_int, default=None, metavar="N", help="batch size")
    train.add_argument("--iters", type=_positive_int, default=None, metavar="N", help="SGD steps")
    train.add_argument(
        "--init-std",
        type=_positive_float,
        default=None,
        metavar="X",
        help="std of the initial Gaussian weights",
    )
    augment = train.add_mutually_exclusive_group()
    augment.add_argument(
        "--augment",
        dest="augment",
        action="store_true",
        default=None,
        help="warp training images at random (shifts, rotations, scalings, strokes)",
    )
    augment.add_argument("--no-augment", dest="augment", action="store_false")
    train.add_argument(
        "--seed",
        type=_non_negative_int,
        default=0,
        metavar="N",
        help="random seed for weights and minibatches (default 0)",
    )
    train.add_argument("--save", metavar="FILE", help="write the trained weights to FILE (.npz)")
    train.add_argument(
        "--history-csv",
        metavar="FILE",
        help="write the run's curves to FILE as CSV: iteration, loss, the epoch accuracies on "
        "their rows, the gradient magnitudes (the window's File > Export curves format)",
    )
    train.add_argument("--json", action="store_true", help="end with a JSON summary line")
    train.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    train.set_defaults(handler=cmd_train)

    check = commands.add_parser(
        "gradcheck",
        help="compare backprop with the numerical gradient",
        description="The book's gradient_check.py: backprop against central differences on "
        "a few samples of the embedded set, in float64.",
    )
    check.add_argument(
        "--hidden",
        type=_hidden_size,
        default=None,
        metavar="N",
        help="hidden units (default 50, or the weights file's)",
    )
    check.add_argument(
        "--activation",
        choices=("relu", "sigmoid"),
        default=None,
        help="activation (default relu, or the weights file's)",
    )
    check.add_argument(
        "--seed",
        type=_non_negative_int,
        default=0,
        metavar="N",
        help="seed of the random initial weights (default 0)",
    )
    check.add_argument(
        "--samples",
        type=_positive_int,
        default=3,
        metavar="N",
        help="training images to check on (default 3, as in the book)",
    )
    check.add_argument("--weights", metavar="FILE", help="check at these trained weights")
    check.add_argument("--json", action="store_true", help="end with a JSON summary line")
    check.set_defaults(handler=cmd_gradcheck)

    evaluate = commands.add_parser(
        "eval",
        help="accuracy of saved weights on a data set",
        description="Accuracy of a weights file on the train and test sets of a data source.",
    )
    evaluate.add_argument("--weights", required=True, metavar="FILE", help="weights file")
    evaluate.add_argument(
        "--data",
        default=None,
        metavar="SOURCE",
        help=data_help + " (default: the one the weights were trained on)",
    )
    evaluate.add_argument("--json", action="store_true", help="end with a JSON summary line")
    evaluate.set_defaults(handler=cmd_eval)

    fetch = commands.add_parser(
        "download",
        help="download a full data set into the per-user cache",
        description="Fetch the four files of MNIST or Fashion-MNIST (checked by SHA-256).",
    )
    fetch.add_argument("name", choices=("mnist", "fashion-mnist"))
    fetch.set_defaults(handler=cmd_download)
    return parser


# -- entry point ------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if not arguments:
        return run_gui()
    try:
        args = build_parser().parse_args(arguments)
    except UsageError as exc:
        return _fail(str(exc), EXIT_USAGE)
    except SystemExit as exc:  # --help, --version: argparse printed and "exited"
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    if args.install_desktop_entry or args.uninstall_desktop_entry:
        if handler is not None:
            return _fail("--install/--uninstall-desktop-entry take no command", EXIT_USAGE)
        handler = cmd_desktop_entry
    if handler is None:  # options but no command, e.g. "desktop-bp --json"
        return _fail(f"a command is needed (see '{PROG} --help')", EXIT_USAGE)
    try:
        return handler(args)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # stdout closed early (e.g. piped into `head`): not an error worth a traceback.
        _silence_stdout()
        return EXIT_FAILED
    except TrainingDiverged as exc:
        return _fail(str(exc), EXIT_FAILED)
    except DownloadError as exc:  # offline, mirror down, cancelled: not a bad input
        return _fail(str(exc), EXIT_FAILED)
    except OSError as exc:
        return _fail(_describe_os_error(exc), EXIT_USAGE)
    except (DesktopBPError, ValueError) as exc:
        return _fail(str(exc), EXIT_USAGE)


def run_gui() -> int:
    """Open the desktop window (the only place Qt is ever imported from here).

    Qt aborts the process, with a paragraph about platform plugins, when there is no display
    or its X11 plugin lacks a library: both are checked first and told in one line.
    """
    from desktop_bp import display_check

    problem = display_check.display_problem()
    if problem is not None:
        return _fail(f"cannot open the window: {problem}", EXIT_FAILED)
    try:
        from desktop_bp.gui.app import run_app
    except ImportError as exc:
        advice = display_check.describe_import_error(exc)
        return _fail(
            f"cannot start the window: {advice or exc}; the terminal commands still work, "
            f"see '{PROG} --help'",
            EXIT_FAILED,
        )
    return int(run_app() or 0)


def cmd_desktop_entry(args: argparse.Namespace) -> int:
    """--install-desktop-entry / --uninstall-desktop-entry."""
    from desktop_bp import desktop_entry

    if args.uninstall_desktop_entry:
        removed = desktop_entry.uninstall()
        if not removed:
            print("No Desktop BP menu entry was installed for this user.")
        for path in removed:
            print(f"removed {path}")
        return EXIT_OK
    written = desktop_entry.install()
    for path in written:
        print(f"wrote {path}")
    print(f"The menu entry starts: {desktop_entry.describe(desktop_entry.launch_command())}")
    return EXIT_OK


def _fail(message: str, status: int) -> int:
    """Print ``desktop-bp: error: message`` as exactly one line on stderr."""
    # Some messages list details on further "  - ..." lines (e.g. one per download mirror).
    first, *rest = [part.strip() for part in str(message).splitlines() if part.strip()] or [""]
    one_line = " ".join([first, *(part.lstrip("- ") for part in rest)])
    print(f"{PROG}: error: {one_line}", file=sys.stderr, flush=True)
    return status


def _describe_os_error(exc: OSError) -> str:
    if exc.strerror and exc.filename:
        return f"{exc.filename}: {exc.strerror}"
    return exc.strerror or str(exc) or type(exc).__name__


def _silence_stdout() -> None:
    """Point stdout at devnull so the interpreter's final flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _emit_json(payload: dict[str, Any]) -> None:
    print(json.dumps(payload, allow_nan=False), flush=True)


# -- data -------------------------------------------------------------------------------------


def _source_id(source: str) -> str:
    """What to record as a checkpoint's data set: a name as is, a folder as an absolute path."""
    from desktop_bp.core.data import SOURCES

    return source if source in SOURCES else str(Path(source).expanduser().resolve())


def _load_data(source: str, dtype: type = np.float32) -> Any:
    from desktop_bp.core.data import SOURCES, load_mnist

    progress = DownloadProgress()
    try:
        path_or_name = source if source in SOURCES else Path(source).expanduser()
        return load_mnist(
            normalize=True,
            flatten=True,
            one_hot_label=False,
            source=path_or_name,
            dtype=dtype,
            progress=progress,
        )
    finally:
        progress.finish()


def _check_save_path(path: str, flag: str = "--save") -> Path:
    """Fail before training, not after, when a result could not be written."""
    target = Path(path).expanduser()
    if target.is_dir():
        raise ValueError(f"{flag} {path}: is a folder, not a file name")
    if not target.parent.is_dir():
        raise ValueError(f"{flag} {path}: folder {target.parent} does not exist")
    if not os.access(target.parent, os.W_OK):
        raise ValueError(f"{flag} {path}: folder {target.parent} is not writable")
    return target


# -- commands ---------------------------------------------------------------------------------


def cmd_train(args: argparse.Namespace) -> int:
    from desktop_bp.core.checkpoint import save_checkpoint
    from desktop_bp.core.data import describe_source
    from desktop_bp.core.presets import preset
    from desktop_bp.core.trainer import TRAINING_BLAS_THREADS, StepRecord, Trainer

    changes = {
        "hidden_size": args.hidden,
        "activation": args.activation,
        "weight_init_std": args.init_std,
        "learning_rate": args.lr,
        "lr_schedule": args.lr_schedule,
        "batch_size": args.batch,
        "iterations": args.iters,
        "augment": args.augment,
    }
    config = preset(
        args.preset, seed=args.seed, **{k: v for k, v in changes.items() if v is not None}
    )
    config.validate()
    save_path = _check_save_path(args.save) if args.save else None
    csv_path = _check_save_path(args.history_csv, "--history-csv") if args.history_csv else None
    data = _load_data(args.data)
    (x_train, _), (x_test, _) = data
    trainer = Trainer(config, data)

    progress = ProgressBar(config.iterations, enabled=not args.no_progress)
    # Gradient magnitudes per step, only when the CSV wants them (9 floats a step).
    gradients: dict[str, list[float]] | None = {} if csv_path is not None else None
    started = time.perf_counter()
    try:
        for record in trainer.steps():
            if isinstance(record, StepRecord):
                progress.update(record.iteration, f"loss {record.loss:.3f}")
                if gradients is not None:
                    for key, value in record.grads.items():
                        gradients.setdefault(key, []).append(value)
            else:
                progress.clear()
                print(
                    f"epoch {record.epoch}, step {record.iteration}, "
                    f"train_acc {record.train_acc:.4f}, test_acc {record.test_acc:.4f}",
                    flush=True,
                )
    finally:
        progress.clear()
    wall_seconds = time.perf_counter() - started

    history = trainer.history
    train_acc, test_acc = history.train_acc[-1], history.test_acc[-1]
    final_loss = history.losses[-1]
    if save_path is not None:
        save_checkpoint(
            save_path,
            trainer.network,
            config=config,
            dataset=_source_id(args.data),
            iterations_done=trainer.iteration,
            history=history,
        )
    if csv_path is not None:
        _write_history_csv(csv_path, trainer, config, args, wall_seconds, gradients or {})
    rate = trainer.iteration / max(trainer.seconds, 1e-9)
    if args.json:
        _emit_json(
            {
                "command": "train",
                "data": args.data,
                "dataset": describe_source(args.data),
                "train_size": int(x_train.shape[0]),
                "test_size": int(x_test.shape[0]),
                "preset": args.preset,
                "config": config.to_dict(),
                "iterations": trainer.iteration,
                "seconds": trainer.seconds,
                "wall_seconds": wall_seconds,
                "iterations_per_second": rate,
                "blas_threads": TRAINING_BLAS_THREADS,
                "train_acc": train_acc,
                "test_acc": test_acc,
                "final_loss": final_loss,
                "saved": None if save_path is None else str(save_path),
                "history_csv": None if csv_path is None else str(csv_path),
            }
        )
    else:
        print(
            f"trained {trainer.iteration:,} iterations in {trainer.seconds:.2f} s "
            f"({rate:,.0f} it/s): train_acc {train_acc:.4f}, test_acc {test_acc:.4f}, "
            f"final loss {final_loss:.4f}"
        )
        if save_path is not None:
            print(f"weights saved to {save_path}")
        if csv_path is not None:
            print(f"curves written to {csv_path}")
    return EXIT_OK


def _write_history_csv(
    path: Path,
    trainer,
    config,
    args: argparse.Namespace,
    wall_seconds: float,
    gradients: dict[str, list[float]],
) -> None:
    from desktop_bp.core.run_history import (
        RunHistoryError,
        record_from_history,
        write_curves_csv,
    )

    steps = len(next(iter(gradients.values()), []))
    record = record_from_history(
        trainer.history,
        config=config,
        dataset=_source_id(args.data),
        outcome="completed",
        wall_seconds=wall_seconds,
        preset=args.preset,
        gradient_iterations=range(1, steps + 1),
        gradients=gradients,
    )
    try:
        write_curves_csv(path, [record], [args.preset or "custom"])
    except RunHistoryError as exc:
        raise ValueError(f"--history-csv: {exc}") from exc


def cmd_gradcheck(args: argparse.Namespace) -> int:
    from desktop_bp.core.gradcheck import PASS_THRESHOLD, check_gradient
    from desktop_bp.core.network import PARAM_NAMES, TwoLayerNet

    if args.weights:
        checkpoint = _load_weights(args.weights)
        network = checkpoint.build_network(dtype=np.float64)
        for option, value, actual in (
            ("--hidden", args.hidden, network.hidden_size),
            ("--activation", args.activation, network.activation),
        ):
            if value is not None and value != actual:
                raise ValueError(f"{option} {value} disagrees with {args.weights} ({actual})")
    else:
        network = TwoLayerNet(
            784,
            args.hidden or 50,
            10,
            activation=args.activation or "relu",
            dtype=np.float64,
            rng=np.random.default_rng(args.seed),
        )
    (x_train, t_train), _ = _load_data("embedded", dtype=np.float64)
    if network.input_size != x_train.shape[1]:
        raise ValueError(
            f"the network takes {network.input_size} inputs but the embedded images have "
            f"{x_train.shape[1]} pixels"
        )
    count = min(args.samples, x_train.shape[0])
    x, t = x_train[:count], t_train[:count]  # the book checks on x_train[:3]
    shape = f"{network.input_size}-{network.hidden_size}-{network.output_size}"
    if is_terminal(sys.stderr):
        total = sum(p.size for p in network.params.values())
        print(f"computing the numerical gradient of {total:,} parameters...", file=sys.stderr)
    result = check_gradient(network, x, t)

    if args.json:
        payload: dict[str, Any] = {"command": "gradcheck"}
        payload.update({key: result.errors[key] for key in PARAM_NAMES})
        payload.update(
            {
                "passed": result.passed,
                "threshold": PASS_THRESHOLD,
                "backprop_seconds": result.backprop_seconds,
                "numerical_seconds": result.numerical_seconds,
                "speedup": result.speedup,
                "samples": count,
                "architecture": shape,
                "activation": network.activation,
                "weights": args.weights,
            }
        )
        print(
            "\n".join(f"{key}: {result.errors[key]:.3e}" for key in PARAM_NAMES),
            flush=True,
        )
        _emit_json(payload)
    else:
        print(
            f"gradient check: {shape} {network.activation} network, {count} samples of the "
            "embedded set, float64"
        )
        for key in PARAM_NAMES:
            verdict = "ok" if result.errors[key] < PASS_THRESHOLD else "TOO LARGE"
            print(f"  {key}: relative error {result.errors[key]:.3e}  {verdict}")
        print(
            f"backprop {result.backprop_seconds * 1e3:.2f} ms, numerical gradient "
            f"{result.numerical_seconds:.2f} s: backprop is {result.speedup:,.0f}x faster"
        )
        if result.passed:
            print(f"PASSED: every relative error is below {PASS_THRESHOLD:g}")
        else:
            print(f"FAILED: a relative error is {PASS_THRESHOLD:g} or more")
    return EXIT_OK if result.passed else EXIT_FAILED


def _load_weights(path: str) -> Any:
    from desktop_bp.core.checkpoint import load_checkpoint

    return load_checkpoint(Path(path).expanduser())


def _default_source(dataset: str) -> str:
    """The data a checkpoint was trained on, if it can still be found; else the embedded set."""
    from desktop_bp.core.data import EMBEDDED, SOURCES

    if dataset in SOURCES or (dataset and Path(dataset).is_dir()):
        return dataset
    return EMBEDDED


def cmd_eval(args: argparse.Namespace) -> int:
    from desktop_bp.core.data import describe_source

    checkpoint = _load_weights(args.weights)
    source = args.data if args.data is not None else _default_source(checkpoint.dataset)
    (x_train, t_train), (x_test, t_test) = _load_data(source)
    network = checkpoint.build_network(dtype=np.float32)
    if network.input_size != x_train.shape[1]:
        raise ValueError(
            f"{args.weights} takes {network.input_size} inputs but {describe_source(source)} "
            f"has {x_train.shape[1]} pixels per image"
        )
    labels = max(int(t_train.max(initial=0)), int(t_test.max(initial=0))) + 1
    if labels > network.output_size:
        raise ValueError(
            f"{args.weights} has {network.output_size} outputs but the data has {labels} classes"
        )
    train_acc = network.accuracy(x_train, t_train)
    test_acc = network.accuracy(x_test, t_test)
    if args.json:
        _emit_json(
            {
                "command": "eval",
                "weights": args.weights,
                "data": source,
                "dataset": describe_source(source),
                "train_size": int(x_train.shape[0]),
                "test_size": int(x_test.shape[0]),
                "train_acc": train_acc,
                "test_acc": test_acc,
                "iterations_done": checkpoint.iterations_done,
                "config": checkpoint.config.to_dict(),
            }
        )
    else:
        print(f"{args.weights} on {describe_source(source)}:")
        print(
            f"train_acc {train_acc:.4f} ({x_train.shape[0]:,} images), "
            f"test_acc {test_acc:.4f} ({x_test.shape[0]:,} images)"
        )
    return EXIT_OK


def cmd_download(args: argparse.Namespace) -> int:
    from desktop_bp.core import download

    progress = DownloadProgress()
    try:
        folder = download.download_dataset(args.name, progress=progress)
    finally:
        progress.finish()
    print(f"{download.get_dataset(args.name).title}: files ready in {folder}")
    return EXIT_OK
