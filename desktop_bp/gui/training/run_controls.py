"""Train / Pause-Resume / Stop / Reset buttons and the progress bar with speed and ETA."""

from __future__ import annotations

import math

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QGridLayout, QGroupBox, QProgressBar, QPushButton, QWidget


def format_duration(seconds: float) -> str:
    """'0:42', '12:03', '1:02:03'; '–' when unknown."""
    if not math.isfinite(seconds) or seconds < 0:
        return "–"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class RunControls(QGroupBox):
    """The run box. Buttons are driven by the window's QActions (shortcuts live there)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Run", parent)
        self.train_button = QPushButton("Train", objectName="trainButton")
        self.pause_button = QPushButton("Pause", objectName="pauseButton")
        self.stop_button = QPushButton("Stop", objectName="stopButton")
        self.reset_button = QPushButton("Reset", objectName="resetButton")
        self.progress_bar = QProgressBar(objectName="progressBar")
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setValue(0)
        self.progress_bar.setTextVisible(True)
        self.progress_bar.setFormat("Ready")
        self.progress_bar.setToolTip("Progress of the current run, its speed and time left.")
        layout = QGridLayout(self)
        layout.setHorizontalSpacing(6)
        layout.setVerticalSpacing(6)
        layout.addWidget(self.train_button, 0, 0, 1, 2)
        layout.addWidget(self.pause_button, 1, 0)
        layout.addWidget(self.stop_button, 1, 1)
        layout.addWidget(self.reset_button, 2, 0, 1, 2)
        layout.addWidget(self.progress_bar, 3, 0, 1, 2)
        self.train_button.setMinimumHeight(32)

    @staticmethod
    def bind(button: QPushButton, action: QAction) -> None:
        """Make ``button`` trigger ``action`` and mirror its enabled state and tooltip."""
        button.clicked.connect(action.trigger)

        def sync() -> None:
            button.setEnabled(action.isEnabled())
            button.setText(action.iconText() or action.text().replace("&", ""))
            button.setToolTip(action.toolTip())

        action.changed.connect(sync)
        sync()

    # -- progress -----------------------------------------------------------------------------
    def show_idle(self, text: str = "Ready") -> None:
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat(text)

    def show_run_progress(
        self, done: int, start: int, target: int, it_per_sec: float, *, paused: bool = False
    ) -> None:
        total = max(target - start, 1)
        fraction = min(max((done - start) / total, 0.0), 1.0)
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setValue(round(fraction * 1000))
        if paused:
            self.progress_bar.setFormat(f"Paused · {done:,} / {target:,}")
            return
        eta = (target - done) / it_per_sec if it_per_sec > 0 else math.nan
        self.progress_bar.setFormat(
            f"{fraction:.0%} · {it_per_sec:,.0f} it/s · ETA {format_duration(eta)}"
        )

    def show_download(self, done: int, total: int, name: str) -> None:
        if total > 0:
            self.progress_bar.setRange(0, 1000)
            self.progress_bar.setValue(round(1000 * min(done / total, 1.0)))
            self.progress_bar.setFormat(
                f"Downloading {name}: {done / 1e6:.1f} / {total / 1e6:.1f} MB"
            )
        else:
            self.progress_bar.setRange(0, 0)  # busy indicator
            self.progress_bar.setFormat(f"Downloading {name}: {done / 1e6:.1f} MB")

    def show_busy(self, text: str) -> None:
        self.progress_bar.setRange(0, 0)
        self.progress_bar.setFormat(text)
