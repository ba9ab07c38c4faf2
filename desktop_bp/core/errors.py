"""The project's own exceptions: each carries a message fit to show a user as it is."""

from __future__ import annotations


class DesktopBPError(Exception):
    """Base of every error the project raises on purpose (bad file, bad data, divergence)."""


class DataError(DesktopBPError, ValueError):
    """A data set could not be read: missing, truncated or malformed file (the message names it)."""


class DownloadError(DesktopBPError):
    """A download failed on every mirror (offline, HTTP error, wrong checksum, cancelled...)."""


class DownloadCancelled(DownloadError):
    """The caller's progress callback asked to stop."""


class CheckpointError(DesktopBPError, ValueError):
    """A weights file could not be saved or loaded (the message names the file and the problem)."""


class TrainingDiverged(DesktopBPError):
    """The loss became NaN or infinite: the learning rate is too large for this network."""

    def __init__(self, iteration: int, loss: float, learning_rate: float) -> None:
        self.iteration = iteration
        self.loss = loss
        self.learning_rate = learning_rate
        super().__init__(
            f"training diverged at iteration {iteration}: the loss became {loss} "
            f"(learning rate {learning_rate:g} is too large; try 0.1)"
        )
