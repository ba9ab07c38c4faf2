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

    def __init__(
        self,
        iteration: int,
        loss: float,
        learning_rate: float,
        *,
        chance_loss: float | None = None,
    ) -> None:
        self.iteration = iteration
        self.loss = loss
        self.learning_rate = learning_rate
        if chance_loss is None:
            what = f"the loss became {loss}"
        else:
            what = (
                f"the loss exploded to {loss:.2f} on average over the last steps "
                f"(random guessing scores {chance_loss:.2f})"
            )
        super().__init__(
            f"training diverged at iteration {iteration}: {what}; "
            f"the learning rate {learning_rate:g} is too large (the book uses 0.1)"
        )
