"""Download full MNIST / Fashion-MNIST into a per-user cache folder, safely.

Each of the four canonical ``.gz`` files is fetched from a list of public mirrors, tried in order,
and checked against the SHA-256 of the published file. Bytes are streamed to a temporary file in
the destination folder and renamed into place (``os.replace``, atomic on one file system) only
once the hash matched, so the folder never holds a partial or wrong file under a real name: on
any failure, cancel or KeyboardInterrupt the temporary file is deleted.

Where files go (read at call time, so tests and users can redirect it):

- ``$DESKTOP_BP_DATA_DIR`` if set, else ``$XDG_DATA_HOME/desktop-bp``, else
  ``~/.local/share/desktop-bp``; one subfolder per data set (``mnist/``, ``fashion-mnist/``).

Mirror override: ``$DESKTOP_BP_MNIST_MIRROR`` (``$DESKTOP_BP_FASHION_MNIST_MIRROR`` for
Fashion-MNIST), a base URL, replaces the data set's mirror list (used by the tests to point at a
local server). The file lists and hashes live in :data:`DATASETS`; tests swap an entry (or pass
``dataset=``) to serve small fake files.

urllib only: no third-party HTTP client.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import socket
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from desktop_bp.core.errors import DownloadCancelled, DownloadError

#: ``progress(done_bytes, total_bytes, filename)``: called as each file streams in
#: (``total_bytes`` is 0 when unknown). Returning ``False`` cancels the download.
ProgressCallback = Callable[[int, int, str], bool | None]

DATA_DIR_ENV = "DESKTOP_BP_DATA_DIR"
USER_AGENT = "desktop-bp/0.1 (Python urllib; MNIST downloader)"
_CHUNK = 64 * 1024
_TEMP_SUFFIX = ".part"
#: A body larger than this (or than a file's known size) is refused while it streams, so a broken
#: or hostile server cannot fill the disk. Fashion-MNIST's largest file is 26 MB.
MAX_DOWNLOAD_BYTES = 200 * 1024 * 1024
#: Temporary files older than this are leftovers of a killed process (SIGKILL, power loss), which
#: no ``finally`` can clean; a live download rewrites its temporary file far more often.
STALE_TEMP_SECONDS = 3600.0


@dataclass(frozen=True)
class RemoteFile:
    """One file of a data set: its name on the mirrors and the SHA-256 of its exact bytes."""

    name: str
    sha256: str
    size: int | None = None  # bytes, for progress when a server sends no Content-Length


@dataclass(frozen=True)
class RemoteDataset:
    """A downloadable data set: where to get it and what each file must hash to."""

    key: str  # also the cache subfolder's name
    title: str
    mirrors: tuple[str, ...]  # base URLs, tried in order; a file's URL is base + name
    files: tuple[RemoteFile, ...]
    mirror_env: str  # environment variable whose base URL replaces ``mirrors``


# SHA-256 of the canonical .gz files as every mirror serves them (cross-checked against several
# independent projects' pinned hashes).
MNIST = RemoteDataset(
    key="mnist",
    title="MNIST",
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ),
    files=(
        RemoteFile(
            "train-images-idx3-ubyte.gz",
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            9912422,
        ),
        RemoteFile(
            "train-labels-idx1-ubyte.gz",
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            28881,
        ),
        RemoteFile(
            "t10k-images-idx3-ubyte.gz",
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            1648877,
        ),
        RemoteFile(
            "t10k-labels-idx1-ubyte.gz",
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
            4542,
        ),
    ),
    mirror_env="DESKTOP_BP_MNIST_MIRROR",
)

# Zalando's own bucket. Debian's dataset-fashion-mnist package recompresses the files (same IDX
# contents, different .gz bytes), so its hashes are not these; sizes are left to Content-Length.
FASHION_MNIST = RemoteDataset(
    key="fashion-mnist",
    title="Fashion-MNIST",
    mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
    files=(
        RemoteFile(
            "train-images-idx3-ubyte.gz",
            "08dc20ab1689590a0bcd66e874647b6ee8464e2d501b5a3f1f78831db19a3fdc",
        ),
        RemoteFile(
            "train-labels-idx1-ubyte.gz",
            "b0197879cbda89f3dc7b894f9fd52b858e68ea4182b6947c9d8c2b67e5f18dcc",
        ),
        RemoteFile(
            "t10k-images-idx3-ubyte.gz",
            "78dcbbfb5a27efaf1b6c1d616caca68560be8766c5bffcb2791df9273a534229",
        ),
        RemoteFile(
            "t10k-labels-idx1-ubyte.gz",
            "42bd18137a62d5998cdeae52bf3a0676ac6b706f5cf8439b47bb5b151ae3dccf",
        ),
    ),
    mirror_env="DESKTOP_BP_FASHION_MNIST_MIRROR",
)

#: Downloadable data sets by key. Tests may replace entries (e.g. with ``monkeypatch.setitem``).
DATASETS: dict[str, RemoteDataset] = {MNIST.key: MNIST, FASHION_MNIST.key: FASHION_MNIST}


class _Fatal(Exception):
    """A mirror failure not worth retrying on the same mirror (404, wrong bytes)."""


class _Transient(Exception):
    """A mirror failure a retry may fix that the network stack does not report (short body)."""


def user_data_dir() -> Path:
    """Per-user cache root: $DESKTOP_BP_DATA_DIR, $XDG_DATA_HOME/desktop-bp or ~/.local/share/..."""
    explicit = os.environ.get(DATA_DIR_ENV)
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "desktop-bp"


def get_dataset(name: str) -> RemoteDataset:
    """The :class:`RemoteDataset` called ``name`` ("mnist", "fashion-mnist")."""
    try:
        return DATASETS[name]
    except KeyError:
        known = ", ".join(sorted(DATASETS))
        raise ValueError(f"unknown data set {name!r}; known: {known}") from None


def dataset_dir(name: str) -> Path:
    """Cache folder of data set ``name`` (it may not exist yet)."""
    return user_data_dir() / get_dataset(name).key


def mirrors_for(dataset: RemoteDataset) -> tuple[str, ...]:
    """The mirrors to try: the override environment variable's URL if set, else the list."""
    override = os.environ.get(dataset.mirror_env, "").strip()
    return (override,) if override else dataset.mirrors


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def missing_files(
    name: str = "mnist", folder: Path | None = None, *, dataset: RemoteDataset | None = None
) -> list[str]:
    """Names of the data set's files absent from ``folder`` or whose SHA-256 is wrong."""
    ds = dataset or get_dataset(name)
    folder = Path(folder) if folder is not None else user_data_dir() / ds.key
    missing = []
    for rf in ds.files:
        path = folder / rf.name
        try:
            ok = path.is_file() and sha256_file(path) == rf.sha256
        except OSError:
            ok = False
        if not ok:
            missing.append(rf.name)
    return missing


def remove_stale_temp_files(folder: Path, max_age: float = STALE_TEMP_SECONDS) -> list[Path]:
    """Delete this module's temporary files in ``folder`` older than ``max_age`` seconds."""
    removed = []
    now = time.time()
    with contextlib.suppress(OSError):  # a missing or unreadable folder has nothing to clean
        for path in Path(folder).glob(f".*{_TEMP_SUFFIX}"):
            with contextlib.suppress(OSError):
                if now - path.stat().st_mtime > max_age:
                    path.unlink()
                    removed.append(path)
    return removed


def _url(base: str, name: str) -> str:
    """URL of file ``name`` on the mirror whose base URL is ``base`` (with or without '/')."""
    return base.rstrip("/") + "/" + name


def _describe(exc: BaseException, timeout: float) -> str:
    """A short human reason for a network failure."""
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        if not isinstance(exc.reason, BaseException):
            return f"cannot connect ({exc.reason})"
        exc = exc.reason
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"timed out (no data for {timeout:g} s)"
    if isinstance(exc, socket.gaierror):
        return f"host not found ({exc.strerror or exc}); are you offline?"
    if isinstance(exc, http.client.RemoteDisconnected):
        return "the server closed the connection without answering"
    if isinstance(exc, ConnectionResetError):
        return "connection reset by the server"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, http.client.IncompleteRead):
        return f"connection closed early ({len(exc.partial)} bytes read)"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def _fetch_once(
    url: str,
    rf: RemoteFile,
    tmp: Path,
    progress: ProgressCallback | None,
    timeout: float,
) -> None:
    """Stream ``url`` into ``tmp`` (truncating it) and check length and SHA-256.

    Raises:
        DownloadCancelled: ``progress`` returned False.
        _Fatal: a failure retrying this mirror will not fix (4xx, wrong bytes).
        OSError / http.client.HTTPException / urllib.error.URLError: transient network trouble.
    """
    try:
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        response = urllib.request.urlopen(request, timeout=timeout)
    except ValueError as exc:  # a malformed mirror URL (e.g. from the override variable)
        raise _Fatal(f"invalid URL ({exc})") from None
    except urllib.error.HTTPError as exc:
        exc.close()  # the error carries an open response; close it to free the socket
        if 400 <= exc.code < 500:
            raise _Fatal(_describe(exc, timeout)) from None
        raise
    digest = hashlib.sha256()
    done = 0
    with response:
        length_header = response.headers.get("Content-Length")
        declared = int(length_header) if length_header and length_header.isdigit() else None
        total = declared if declared is not None else (rf.size or 0)
        limit = rf.size or MAX_DOWNLOAD_BYTES
        if declared is not None and declared > limit:
            raise _Fatal(f"server announces {declared} bytes, expected at most {limit}")
        if progress is not None and progress(0, total, rf.name) is False:
            raise DownloadCancelled(f"download of {rf.name} cancelled")
        try:
            out = tmp.open("wb")
        except OSError as exc:
            raise DownloadError(f"cannot write {tmp.parent}: {exc.strerror or exc}") from None
        with out:
            while True:
                chunk = response.read(_CHUNK)
                if not chunk:
                    break
                digest.update(chunk)
                try:
                    out.write(chunk)
                except OSError as exc:  # disk full, folder removed...: not the mirror's fault
                    raise DownloadError(
                        f"cannot write {tmp.parent}: {exc.strerror or exc}"
                    ) from None
                done += len(chunk)
                if done > limit:
                    raise _Fatal(f"server sent more than the expected {limit} bytes")
                if progress is not None and progress(done, total, rf.name) is False:
                    raise DownloadCancelled(f"download of {rf.name} cancelled")
    # http.client returns short reads silently when a server hangs up mid-body, so compare the
    # byte count with Content-Length ourselves: a retry may well succeed.
    if declared is not None and done < declared:
        raise _Transient(f"connection closed after {done} of {declared} bytes")
    actual = digest.hexdigest()
    if actual != rf.sha256:
        raise _Fatal(f"wrong file contents (SHA-256 {actual[:16]}…, expected {rf.sha256[:16]}…)")


def fetch_file(
    rf: RemoteFile,
    folder: Path,
    mirrors: Sequence[str],
    *,
    progress: ProgressCallback | None = None,
    timeout: float = 20.0,
    attempts: int = 2,
    retry_delay: float = 1.0,
) -> Path:
    """Download one file into ``folder``, trying each mirror in turn; verify, then rename.

    Args:
        rf: the file's name and expected SHA-256.
        folder: destination folder (created if needed).
        mirrors: base URLs, tried in order.
        progress: see :data:`ProgressCallback`.
        timeout: seconds without any data before a connection is given up.
        attempts: tries per mirror for transient failures (timeouts, resets, short bodies).
        retry_delay: seconds to wait before a retry (doubled each time).
    Returns:
        Path of the verified file.
    Raises:
        DownloadCancelled: ``progress`` returned False.
        DownloadError: every mirror failed (the message lists each one's reason).
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{rf.name}.", suffix=_TEMP_SUFFIX, dir=folder)
        os.close(fd)
    except OSError as exc:
        raise DownloadError(f"cannot create {folder}: {exc.strerror or exc}") from None
    tmp = Path(tmp_name)
    failures: list[str] = []
    try:
        for base in mirrors:
            url = _url(base, rf.name)
            for attempt in range(1, max(1, attempts) + 1):
                try:
                    _fetch_once(url, rf, tmp, progress, timeout)
                except _Fatal as exc:
                    failures.append(f"{url}: {exc}")
                    break
                except (_Transient, OSError, http.client.HTTPException) as exc:
                    # URLError and HTTPError are OSErrors: 5xx answers land here and are retried.
                    reason = str(exc) if isinstance(exc, _Transient) else _describe(exc, timeout)
                    if attempt >= attempts:
                        suffix = f" ({attempt} attempts)" if attempt > 1 else ""
                        failures.append(f"{url}: {reason}{suffix}")
                        break
                    time.sleep(retry_delay * 2 ** (attempt - 1))
                else:
                    final = folder / rf.name
                    os.replace(tmp, final)
                    return final
    finally:
        # Whatever happened (error, cancel, KeyboardInterrupt), never leave the temp file behind.
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    lines = "\n".join(f"  - {line}" for line in failures) or "  - no mirror configured"
    raise DownloadError(f"could not download {rf.name}; every mirror failed:\n{lines}")


def download_dataset(
    name: str = "mnist",
    folder: Path | None = None,
    *,
    progress: ProgressCallback | None = None,
    timeout: float = 20.0,
    attempts: int = 2,
    retry_delay: float = 1.0,
    dataset: RemoteDataset | None = None,
) -> Path:
    """Make sure the data set's four ``.gz`` files are in its cache folder; fetch what is missing.

    Files already present with the right SHA-256 are kept; missing or wrong ones are fetched.

    Args:
        name: "mnist" or "fashion-mnist" (a key of :data:`DATASETS`).
        folder: destination; default ``dataset_dir(name)``.
        progress: see :data:`ProgressCallback`; returning False raises DownloadCancelled.
        timeout, attempts, retry_delay: see :func:`fetch_file`.
        dataset: use this description instead of ``DATASETS[name]`` (tests).
    Returns:
        The folder holding the four verified files.
    Raises:
        DownloadCancelled: cancelled through ``progress``.
        DownloadError: a file could not be fetched from any mirror (offline, HTTP errors,
            wrong checksum...); the message names the data set and each mirror's failure.
    """
    ds = dataset or get_dataset(name)
    target = Path(folder) if folder is not None else user_data_dir() / ds.key
    mirrors = mirrors_for(ds)
    remove_stale_temp_files(target)
    for file_name in missing_files(folder=target, dataset=ds):
        rf = next(f for f in ds.files if f.name == file_name)
        try:
            fetch_file(
                rf,
                target,
                mirrors,
                progress=progress,
                timeout=timeout,
                attempts=attempts,
                retry_delay=retry_delay,
            )
        except DownloadCancelled:
            raise
        except DownloadError as exc:
            raise DownloadError(
                f"{ds.title} download failed: {exc}\n"
                f"Check the internet connection, or put the four files "
                f"({', '.join(f.name for f in ds.files)}) in {target} yourself."
            ) from None
    return target
