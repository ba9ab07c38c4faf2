"""Render the run history beside the loss and accuracy plots, three runs overlaid, offscreen.

Usage::

    python tools/screenshot_run_history.py [OUTPUT_DIR]

Three synthetic finished runs (learning rates 0.1, 0.5 and 0.05, from
``desktop_bp.testing.runs``) are kept in a temporary history folder, all three ticked (the lr
0.1 run with a note and a pin), and a "live" run at lr 0.2 is part-way through on the window's
LossPlot and AccuracyPlot. Writes
``run_history.png`` into OUTPUT_DIR (default ``docs/screenshots``). Nothing is written to the
user's data folder.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO_ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str]) -> int:
    from PySide6.QtWidgets import QApplication, QHBoxLayout, QVBoxLayout, QWidget

    from desktop_bp.core.run_history import RunStore
    from desktop_bp.core.trainer import TrainConfig
    from desktop_bp.gui import theme
    from desktop_bp.gui.history import RunHistoryPanel, RunOverlays, connect_overlays
    from desktop_bp.gui.training.plots import AccuracyPlot, LossPlot, PlotCard
    from desktop_bp.testing.runs import synthetic_run

    output = Path(argv[0]) if argv else REPO_ROOT / "docs" / "screenshots"
    output.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication([])
    theme.apply_theme(app)

    with tempfile.TemporaryDirectory() as folder:
        store = RunStore(Path(folder) / "runs")
        for minutes, lr in enumerate((0.1, 0.5, 0.05)):
            store.save(synthetic_run(lr, minutes=minutes, seed=minutes))

        loss, accuracy = LossPlot(), AccuracyPlot()
        panel = RunHistoryPanel(store=store)
        overlays = RunOverlays(loss, accuracy)
        connect_overlays(panel, overlays)
        overlays.set_reference(TrainConfig(learning_rate=0.2, iterations=2000), "embedded")

        live = synthetic_run(0.2, steps=2000, seed=7)
        done = 1300
        for plot in (loss, accuracy):
            plot.set_x_extent(2000)
        loss.add(live.loss_iterations[:done].tolist(), live.losses[:done].tolist())
        for it, train, test in zip(
            live.epoch_iterations, live.train_acc, live.test_acc, strict=True
        ):
            if it <= done:
                accuracy.add(int(it), float(train), float(test))
        loss.refresh()
        accuracy.refresh()
        oldest = panel.runs()[-1].run_id
        panel.set_note(oldest, "book default")
        panel.set_pinned(oldest, True)
        panel.set_ticked(panel.runs())
        # The live plots frame their own data; widen the accuracy frame to the overlaid runs.
        _, low, _ = overlays.bounds("accuracy")
        accuracy.following = False
        accuracy.getPlotItem().vb.setYRange(min(low, 70.0) // 10 * 10, 100.0, padding=0.02)
        panel.select_runs([panel.runs()[1].run_id])
        hover = overlays.hover_text("loss", 1000)
        loss_card = PlotCard("Loss", loss)
        loss_card.readout.setText(f"it 1,000 · {hover}")
        accuracy_card = PlotCard("Accuracy", accuracy)

        window = QWidget(objectName="centralArea")
        plots = QHBoxLayout()
        plots.addWidget(loss_card)
        plots.addWidget(accuracy_card)
        layout = QVBoxLayout(window)
        layout.setContentsMargins(10, 10, 10, 10)
        layout.addLayout(plots, 3)
        layout.addWidget(panel, 2)
        window.resize(1280, 760)
        window.show()
        app.processEvents()
        path = output / "run_history.png"
        window.grab().save(str(path))
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
