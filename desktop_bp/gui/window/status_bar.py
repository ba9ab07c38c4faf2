"""Permanent status-bar fields: data set and sizes, iteration, last test accuracy."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QStatusBar


class StatusFields:
    def __init__(self, bar: QStatusBar) -> None:
        self.dataset = QLabel("No data loaded", objectName="statusDataset")
        self.iteration = QLabel("Iteration 0", objectName="statusIteration")
        self.accuracy = QLabel("Test accuracy –", objectName="statusAccuracy")
        self.dataset.setToolTip("The data set training uses, with its train / test sizes")
        self.iteration.setToolTip("SGD steps done by the current network")
        self.accuracy.setToolTip("Accuracy on the test set at the last evaluation")
        for label in (self.dataset, self.iteration, self.accuracy):
            bar.addPermanentWidget(label)

    @staticmethod
    def _set(label: QLabel, text: str) -> None:
        if label.text() != text:
            label.setText(text)

    def set_dataset(self, name: str, train: int | None = None, test: int | None = None) -> None:
        sizes = f" · {train:,} train / {test:,} test" if train is not None else ""
        self._set(self.dataset, f"{name}{sizes}")

    def set_iteration(self, done: int, target: int | None = None) -> None:
        self._set(
            self.iteration, f"Iteration {done:,} / {target:,}" if target else f"Iteration {done:,}"
        )

    def set_accuracy(self, test_acc: float | None) -> None:
        self._set(
            self.accuracy,
            "Test accuracy –" if test_acc is None else f"Test accuracy {test_acc:.2%}",
        )
