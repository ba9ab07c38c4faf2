"""Load (and if needed download) a data set off the GUI thread, with progress and cancel."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from desktop_bp.core import data as core_data
from desktop_bp.core import download
from desktop_bp.core.errors import DataError, DesktopBPError, DownloadCancelled
from desktop_bp.gui.qthreading import FunctionWorker, TaskFunction, WorkAborted, WorkerThread

Dataset = core_data.Dataset


def source_title(source: str) -> str:
    """'Embedded MNIST subset (16,001 train / 3,999 test)'."""
    text = core_data.describe_source(source)
    return text[:1].upper() + text[1:]


def source_details(source: str) -> str:
    """What the combo's label does not say, on one line: '16,001 train / 3,999 test'."""
    title = source_title(source)
    return title.split(" (", 1)[1].rstrip(")") if " (" in title else title


def source_name(source: str) -> str:
    """The title without its parenthesis: 'Embedded MNIST subset'."""
    return source_title(source).split(" (")[0]


def is_downloaded(source: str) -> bool:
    """Are the IDX files of a downloadable ``source`` already on disk?"""
    try:
        core_data.find_idx_files(download.dataset_dir(source))
    except (DataError, ValueError):
        return False
    return True


def _load_function(source: str) -> TaskFunction:
    """Load ``source`` in a FunctionWorker: progress at most every 0.1 s (and at the end of
    each file); a cancel makes the download's progress callback say stop."""

    def load(report: Callable[..., None], should_stop: Callable[[], bool]) -> Dataset:
        def progress(done: int, total: int, name: str) -> bool:
            if should_stop():
                return False
            report((int(done), int(total), str(name)), force=bool(total and done >= total))
            return True

        try:
            return core_data.load_mnist(source=source, progress=progress)
        except DownloadCancelled as exc:
            raise WorkAborted from exc

    return load


class DatasetLoader(QObject):
    """One data set load at a time; keeps the last loaded set as ``current``.

    Signals (GUI thread): ``loadStarted(source)``, ``progress(done_bytes, total_bytes, file)``,
    ``loaded(source, dataset)``, ``failed(source, message, cancelled)``.
    """

    loadStarted = Signal(str)
    progress = Signal(int, int, str)
    loaded = Signal(str, object)
    failed = Signal(str, str, bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._job: WorkerThread | None = None
        self._outcome: tuple[str, object] | None = None
        self._source: str | None = None
        self._discard_outcome = False
        self.current: tuple[str, Dataset] | None = None

    @property
    def is_loading(self) -> bool:
        return self._job is not None

    @property
    def loading_source(self) -> str | None:
        return self._source

    def dataset_for(self, source: str) -> Dataset | None:
        if self.current is not None and self.current[0] == source:
            return self.current[1]
        return None

    def choose(self, source: str) -> str:
        """``source`` was chosen: load it now unless it is a folder that is gone or a download
        (that waits for Train). Returns what to say about it instead ("" when loading)."""
        if source not in core_data.SOURCES and not Path(source).is_dir():
            return f"Folder not found: {source}"
        if source in core_data.DOWNLOADABLE and not is_downloaded(source):
            if self.is_loading:
                self.cancel()
            return f"{source_title(source)}. Downloads when you click Train."
        self.load(source)
        return ""

    def load(self, source: str) -> None:
        """Start loading ``source`` (cancelling a different load that is still going)."""
        if self._job is not None:
            if self._source == source:
                return
            self.cancel()
            self.shutdown(timeout_ms=5000)
        # Loading is I/O and large numpy calls: no GIL yields, the usual switch interval.
        worker = FunctionWorker(
            _load_function(source),
            min_interval=0.1,
            yield_gil=False,
            expected_errors=(DesktopBPError, OSError, ValueError),
        )
        worker.yielded.connect(self._on_progress)
        worker.returned.connect(self._on_loaded)
        worker.aborted.connect(self._on_aborted)
        worker.errored.connect(self._on_errored)
        job = WorkerThread(worker, name="dataThread", switch_interval=False, parent=self)
        job.ended.connect(self._on_ended)
        self._job, self._outcome, self._source = job, None, source
        self.loadStarted.emit(source)
        job.start()

    def cancel(self) -> None:
        if self._job is not None:
            self._job.quit()

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Cancel and wait for the loading thread to end (window closing); what it loaded or
        failed is dropped (nobody waits for it any more)."""
        job = self._job
        if job is None:
            return True
        self._discard_outcome = True
        finished = job.shutdown(timeout_ms)
        self._discard_outcome = False
        return finished

    @Slot(object)
    def _on_progress(self, value: tuple[int, int, str]) -> None:
        self.progress.emit(*value)

    @Slot(object)
    def _on_loaded(self, result: object) -> None:
        self._outcome = ("loaded", result)

    @Slot()
    def _on_aborted(self) -> None:
        self._outcome = ("failed", ("cancelled", True))

    @Slot(str)
    def _on_errored(self, message: str) -> None:
        self._outcome = ("failed", (message, False))

    @Slot()
    def _on_ended(self) -> None:
        job, source = self._job, self._source
        if job is None or source is None:
            return
        job.deleteLater()
        self._job = self._source = None
        outcome, self._outcome = self._outcome, None
        if outcome is None or self._discard_outcome:
            return
        kind, payload = outcome
        if kind == "loaded":
            self.current = (source, payload)  # type: ignore[assignment]
            self.loaded.emit(source, payload)
        else:
            message, cancelled = payload  # type: ignore[misc]
            self.failed.emit(source, message, cancelled)
