"""Train a network, render the four "inside backprop" views offscreen and save them as PNGs.

Usage::

    python tools/screenshot_insight.py [OUTPUT_DIR] [--iterations 2000] [--size 1240x800]

Writes ``insight_gradcheck.png``, ``insight_inspector.png``, ``insight_hidden_units.png`` and
``insight_evaluation.png`` into OUTPUT_DIR (default ``docs/screenshots``). Uses the offscreen Qt
platform, so it needs no display.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = REPO_ROOT / "docs" / "screenshots"


def _settle(app, seconds: float = 0.3) -> None:
    """Let layouts and paint events run (offscreen widgets still lay out lazily)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)


def _wait_for(app, signal, timeout_s: float) -> list:
    """Run the event loop until ``signal`` fires; its arguments, or [] on timeout."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    got: list = []

    def done(*args) -> None:
        got.extend(args)
        got.append(True)
        loop.quit()

    signal.connect(done)
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()
    return got


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", nargs="?", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--size", default="1240x800", help="view size, WIDTHxHEIGHT")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import numpy as np
    from PySide6.QtWidgets import QApplication

    from desktop_bp.core.data import load_mnist
    from desktop_bp.core.evaluation import evaluate
    from desktop_bp.core.trainer import TrainConfig, Trainer
    from desktop_bp.gui.insight import (
        BackwardInspectorView,
        EvaluationView,
        GradientCheckView,
        HiddenUnitsView,
    )
    from desktop_bp.gui.theme import apply_theme

    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_theme(app)
    data = load_mnist()
    trainer = Trainer(TrainConfig(iterations=args.iterations, seed=args.seed), data)
    trainer.run()
    net = trainer.network
    params, activation = net.copy_params(), net.activation
    x_test, t_test = data[1]
    print(f"trained {args.iterations} iterations: test accuracy {trainer.history.test_acc[-1]:.3f}")
    args.output.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def save(widget, name: str) -> bool:
        _settle(app)
        path = args.output / name
        if not widget.grab().save(str(path)):
            print(f"could not write {path}", file=sys.stderr)
            return False
        written.append(path)
        print(path)
        return True

    # Gradient check: a real run on three test images.
    check = GradientCheckView(seed=args.seed)
    check.resize(width, height)
    check.set_network(params, activation)
    check.set_data(x_test, t_test)
    check.show()
    _settle(app, 0.1)
    check.run_check()
    if not _wait_for(app, check.checkFinished, 300):
        print("the gradient check did not finish", file=sys.stderr)
        return 1
    if not save(check, "insight_gradcheck.png"):
        return 1
    check.close()

    # Inspector: a misclassified test image, at the last backward step (every arrow drawn).
    result = evaluate(params, activation, x_test, t_test)
    inspector = BackwardInspectorView(seed=args.seed)
    inspector.resize(width, height)
    inspector.set_network(params, activation)
    inspector.set_data(x_test, t_test)
    mistakes = result.mistake_order
    inspector.show_test_image(int(mistakes[min(3, len(mistakes) - 1)]) if len(mistakes) else 0)
    inspector.set_step(7)
    inspector.show()
    inspector.setFocus()  # not the index spin box: no text cursor in the picture
    if not save(inspector, "insight_inspector.png"):
        return 1
    inspector.close()

    # Hidden units: the strongest unit selected.
    hidden = HiddenUnitsView()
    hidden.resize(width, height)
    hidden.show()
    hidden.set_network(params, activation)
    hidden.select_unit(int(np.argmax(np.linalg.norm(params["W1"], axis=0))))
    if not save(hidden, "insight_hidden_units.png"):
        return 1
    hidden.close()

    # Evaluation: the whole test set, the most confused cell selected.
    view = EvaluationView()
    view.resize(width, height)
    view.set_data(x_test, t_test)
    view.show()
    view.set_network(params, activation)
    if not _wait_for(app, view.evaluationFinished, 60):
        print("the evaluation did not finish", file=sys.stderr)
        return 1
    if not save(view, "insight_evaluation.png"):
        return 1
    view.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
