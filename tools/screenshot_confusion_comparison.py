"""The Evaluation tab's confusion matrix beside pyqtgraph's ImageItem + ColorBarItem, same numbers.

Usage::

    python tools/screenshot_confusion_comparison.py [OUTPUT_DIR]

Trains the book's 784-50-10 network for 600 steps on the embedded set, evaluates it on the
test split and draws the confusion matrix twice: left the app's own (QPainter into one image:
right answers green, mistakes red and boosted five-fold, per-class accuracy bars, the most
frequent confusions as chips), right pyqtgraph's ImageItem with a ColorBarItem and the counts
as TextItems. Writes ``confusion_qpainter_vs_pyqtgraph.png`` into OUTPUT_DIR (default
``docs/screenshots``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str]) -> int:
    import pyqtgraph as pg
    from PySide6.QtWidgets import QApplication, QHBoxLayout, QWidget

    from desktop_bp.core.data import load_mnist
    from desktop_bp.core.evaluation import evaluate
    from desktop_bp.core.trainer import TrainConfig, Trainer
    from desktop_bp.gui.insight.evaluation.confusion_matrix import ConfusionMatrixWidget
    from desktop_bp.gui.theme import apply_theme

    output = Path(argv[0]) if argv else REPO_ROOT / "docs" / "screenshots"
    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_theme(app)
    data = load_mnist(source="embedded")
    trainer = Trainer(TrainConfig(iterations=600, seed=0), data)
    trainer.run()
    _, (x_test, t_test) = data
    result = evaluate(trainer.network.copy_params(), "relu", x_test, t_test)

    ours = ConfusionMatrixWidget()
    ours.set_matrix(result.confusion, result.class_accuracy)

    plot = pg.PlotWidget()
    share = result.confusion / np.maximum(result.confusion.sum(axis=1, keepdims=True), 1)
    image = pg.ImageItem(share.T)  # ImageItem is x-major: columns are the predictions
    plot.addItem(image)
    plot.invertY(True)
    plot.setAspectLocked(True)
    ticks = [[(i + 0.5, str(i)) for i in range(share.shape[0])]]
    plot.getAxis("left").setTicks(ticks)
    plot.getAxis("bottom").setTicks(ticks)
    plot.setLabel("left", "true")
    plot.setLabel("bottom", "predicted")
    bar = pg.ColorBarItem(values=(0, 1), colorMap=pg.colormap.get("viridis"))
    bar.setImageItem(image, insert_in=plot.getPlotItem())
    for (true, predicted), count in np.ndenumerate(result.confusion):
        if count:
            text = pg.TextItem(str(int(count)), anchor=(0.5, 0.5), color="w")
            text.setPos(predicted + 0.5, true + 0.5)
            plot.addItem(text)

    row = QWidget()
    layout = QHBoxLayout(row)
    layout.addWidget(ours)
    layout.addWidget(plot)
    row.resize(1060, 480)
    row.show()
    for _ in range(5):
        app.processEvents()
    output.mkdir(parents=True, exist_ok=True)
    path = output / "confusion_qpainter_vs_pyqtgraph.png"
    row.grab().save(str(path))
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
