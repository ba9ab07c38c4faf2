"""Load (and if needed download) a data set off the GUI thread, with progress and cancel."""

from __future__ import annotations

import threading
import time
import traceback
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from desktop_bp.core import data as core_data
from desktop_bp.core import download
from desktop_bp.core.errors import DataError, DesktopBPError, DownloadCancelled

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


class _LoadWorker(QObject):
    progress = Signal(int, int, str)
    loaded = Signal(object)
    failed = Signal(str, bool)  # message, cancelled
    done = Signal()

    def __init__(self, source: str) -> None:
        super().__init__()
        self.source = source
        self._cancel = threading.Event()
        self._last_progress = 0.0

    def cancel(self) -> None:
        self._cancel.set()

    def _on_progress(self, done: int, total: int, name: str) -> bool:
        if self._cancel.is_set():
            return False
        now = time.perf_counter()
        if now - self._last_progress >= 0.1 or (total and done >= total):
            self._last_progress = now
            self.progress.emit(int(done), int(total), str(name))
        return True

    @Slot()
    def run(self) -> None:
        try:
            result = core_data.load_mnist(source=self.source, progress=self._on_progress)
        except DownloadCancelled:
            self.failed.emit("cancelled", True)
        except (DesktopBPError, OSError, ValueError) as exc:
            self.failed.emit(str(exc), self._cancel.is_set())
        except Exception as exc:  # shown to the user, never swallowed
            self.failed.emit(f"{type(exc).__name__}: {exc}\n\n{traceback.format_exc()}", False)
        else:
            if self._cancel.is_set():
                self.failed.emit("cancelled", True)
            else:
                self.loaded.emit(result)
        finally:
            self.done.emit()


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
        self._thread: QThread | None = None
        self._worker: _LoadWorker | None = None
        self._outcome: tuple[str, object] | None = None
        self._source: str | None = None
        self._retired: tuple[object, ...] = ()
        self.current: tuple[str, Dataset] | None = None

    @property
    def is_loading(self) -> bool:
        return self._thread is not None

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
        if self._thread is not None:
            if self._source == source:
                return
            self.cancel()
            self.shutdown(timeout_ms=5000)
        thread = QThread()
        thread.setObjectName("dataThread")
        worker = _LoadWorker(source)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.done.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        worker.progress.connect(self._on_progress)
        worker.loaded.connect(self._on_loaded)
        worker.failed.connect(self._on_failed)
        thread.finished.connect(self._on_thread_finished)
        self._thread, self._worker, self._outcome = thread, worker, None
        self._source = source
        self.loadStarted.emit(source)
        thread.start()

    def cancel(self) -> None:
        if self._worker is not None:
            self._worker.cancel()

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Cancel and wait for the loading thread to end (window closing)."""
        thread = self._thread
        if thread is None:
            return True
        self.cancel()
        finished = thread.wait(timeout_ms)
        if finished:
            self._outcome = None  # nobody waits for it any more
            self._on_thread_finished()
        return finished

    @Slot(int, int, str)
    def _on_progress(self, done: int, total: int, name: str) -> None:
        self.progress.emit(done, total, name)

    @Slot(object)
    def _on_loaded(self, result: object) -> None:
        self._outcome = ("loaded", result)

    @Slot(str, bool)
    def _on_failed(self, message: str, cancelled: bool) -> None:
        self._outcome = ("failed", (message, cancelled))

    @Slot()
    def _on_thread_finished(self) -> None:
        thread, source = self._thread, self._source
        if thread is None or source is None:
            return
        thread.wait()  # finished is emitted just before the thread really ends
        # Python owns both objects: keep them until the next load replaces them, so they are
        # deleted here in the GUI thread, long after their thread has ended (never racing a
        # deleteLater in the dying thread).
        self._retired = (thread, self._worker)
        self._thread = self._worker = self._source = None
        outcome, self._outcome = self._outcome, None
        if outcome is None:
            return
        kind, payload = outcome
        if kind == "loaded":
            self.current = (source, payload)  # type: ignore[assignment]
            self.loaded.emit(source, payload)
        else:
            message, cancelled = payload  # type: ignore[misc]
            self.failed.emit(source, message, cancelled)
