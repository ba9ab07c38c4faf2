"""Load MNIST-like data sets in the shapes the book's ``dataset/mnist.py`` returns.

Sources (the ``source`` argument of :func:`load_mnist`):

- ``"embedded"``: 16,001 train / 3,999 test real MNIST digits shipped in ``resources/`` (offline).
- ``"mnist"``: full MNIST (60,000 / 10,000), downloaded to the per-user cache on first use.
- ``"fashion-mnist"``: full Fashion-MNIST, likewise.
- a folder path: a folder holding the four standard IDX files ``train-images-idx3-ubyte``,
  ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, each
  raw or ``.gz``.

The raw uint8 arrays are cached in-process (keyed by source and the files' size and mtime), so
the GUI can reload or switch options cheaply. Every returned array is read-only
(``flags.writeable == False``): views of the cache cannot be corrupted by a caller, and fresh
arrays behave the same way so nothing depends on which option was chosen.
"""

from __future__ import annotations

import json
import os
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from numpy.typing import DTypeLike

from desktop_bp.core import download
from desktop_bp.core.errors import DataError
from desktop_bp.core.idx import read_idx
from desktop_bp.core.resources import EMBEDDED_MNIST

#: Keys of the four arrays, mapped to the standard IDX file names (without ``.gz``).
IDX_FILES: dict[str, str] = {
    "x_train": "train-images-idx3-ubyte",
    "t_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "t_test": "t10k-labels-idx1-ubyte",
}
EMBEDDED = "embedded"
DOWNLOADABLE: tuple[str, ...] = ("mnist", "fashion-mnist")
SOURCES: tuple[str, ...] = (EMBEDDED, *DOWNLOADABLE)
IMAGE_SHAPE = (28, 28)
NUM_CLASSES = 10
EMBEDDED_TRAIN = 16001
EMBEDDED_TEST = 3999

_TITLES = {
    EMBEDDED: f"embedded MNIST subset ({EMBEDDED_TRAIN:,} train / {EMBEDDED_TEST:,} test)",
    "mnist": "MNIST (60,000 train / 10,000 test, downloaded)",
    "fashion-mnist": "Fashion-MNIST (60,000 train / 10,000 test, downloaded)",
}

# (x_train (N,28,28), t_train (N,), x_test (M,28,28), t_test (M,)): uint8, read-only.
RawSet = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
Dataset = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]

# A few entries only: full MNIST is ~55 MB of uint8, and the GUI rarely flips between more sets.
_CACHE_SIZE = 3
_cache: dict[tuple[object, ...], RawSet] = {}
_cache_lock = threading.Lock()


def clear_cache() -> None:
    """Forget every data set loaded so far (the next load reads the files again)."""
    with _cache_lock:
        _cache.clear()


def describe_source(source: str | os.PathLike[str]) -> str:
    """Human name of a source, e.g. 'embedded MNIST subset (16,001 train / 3,999 test)'."""
    if isinstance(source, str) and source in _TITLES:
        return _TITLES[source]
    return f"IDX files in {Path(source)}"


def _file_stamp(path: Path) -> tuple[str, int, int]:
    """What identifies a file's version cheaply: its path, size and modification time."""
    st = path.stat()
    return (str(path), st.st_size, st.st_mtime_ns)


def _freeze(*arrays: np.ndarray) -> None:
    for a in arrays:
        a.flags.writeable = False


def _check_labels(name: str, labels: np.ndarray) -> None:
    """Labels must be class indices 0..9."""
    if labels.size and int(labels.max()) >= NUM_CLASSES:
        bad = int(labels.max())
        raise DataError(f"{name}: found label {bad}; labels must be 0..{NUM_CLASSES - 1}")


def _load_embedded(path: Path) -> RawSet:
    """Read the shipped .npz (no pickle) and check it is what the build tool writes."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [k for k in IDX_FILES if k not in npz.files]
            if missing:
                raise DataError(f"{path}: missing array(s) {', '.join(missing)}")
            arrays = {k: npz[k] for k in IDX_FILES}
    except FileNotFoundError:
        raise DataError(
            f"{path}: the embedded data set is missing; rebuild it with "
            "tools/build_embedded_mnist.py"
        ) from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        if isinstance(exc, DataError):
            raise
        raise DataError(f"{path}: unreadable or corrupt ({exc})") from None
    for key in ("x_train", "x_test"):
        a = arrays[key]
        if a.dtype != np.uint8 or a.ndim != 3 or a.shape[1:] != IMAGE_SHAPE:
            raise DataError(f"{path}: {key} must be uint8 (N, 28, 28), got {a.dtype} {a.shape}")
    for key, images in (("t_train", "x_train"), ("t_test", "x_test")):
        a = arrays[key]
        if a.dtype != np.uint8 or a.shape != (arrays[images].shape[0],):
            raise DataError(
                f"{path}: {key} must be uint8 ({arrays[images].shape[0]},), got {a.dtype} {a.shape}"
            )
        _check_labels(f"{path} ({key})", a)
    return arrays["x_train"], arrays["t_train"], arrays["x_test"], arrays["t_test"]


def find_idx_files(folder: str | os.PathLike[str]) -> dict[str, Path]:
    """The four IDX files of ``folder`` (raw preferred over ``.gz`` when both exist).

    Returns:
        {"x_train": path, "t_train": path, "x_test": path, "t_test": path}
    Raises:
        DataError: the folder does not exist, or lists which files are missing.
    """
    folder = Path(folder)
    if not folder.is_dir():
        if folder.exists():
            raise DataError(f"{folder}: is a file, not a folder (no such folder)")
        raise DataError(f"{folder}: no such folder")
    found: dict[str, Path] = {}
    missing: list[str] = []
    for key, base in IDX_FILES.items():
        for candidate in (folder / base, folder / f"{base}.gz"):
            if candidate.is_file():
                found[key] = candidate
                break
        else:
            missing.append(base)
    if missing:
        raise DataError(
            f"{folder}: missing IDX file(s) {', '.join(missing)} (each may also end in .gz)"
        )
    return found


def _load_idx_folder(files: dict[str, Path]) -> RawSet:
    """Read and cross-check the four IDX files."""
    arrays = {key: read_idx(path) for key, path in files.items()}
    for images_key, labels_key in (("x_train", "t_train"), ("x_test", "t_test")):
        images, labels = arrays[images_key], arrays[labels_key]
        images_file, labels_file = files[images_key], files[labels_key]
        if images.ndim != 3:
            raise DataError(f"{images_file}: is a label file, expected images (magic 0x00000803)")
        if labels.ndim != 1:
            raise DataError(f"{labels_file}: is an image file, expected labels (magic 0x00000801)")
        if images.shape[1:] != IMAGE_SHAPE:
            raise DataError(
                f"{images_file}: images are {images.shape[1]}x{images.shape[2]} pixels; "
                "this network needs 28x28 images"
            )
        if images.shape[0] == 0:
            raise DataError(f"{images_file}: holds no images")
        if images.shape[0] != labels.shape[0]:
            raise DataError(
                f"{images_file} holds {images.shape[0]:,} images but {labels_file} holds "
                f"{labels.shape[0]:,} labels; they must match"
            )
        _check_labels(str(labels_file), labels)
    return arrays["x_train"], arrays["t_train"], arrays["x_test"], arrays["t_test"]


def _cached(key: tuple[object, ...], loader: Callable[[], RawSet]) -> RawSet:
    """Return the cached raw set for ``key``, loading (outside the lock) on a miss."""
    with _cache_lock:
        hit = _cache.get(key)
    if hit is not None:
        return hit
    raw = loader()
    _freeze(*raw)
    with _cache_lock:
        _cache[key] = raw
        while len(_cache) > _CACHE_SIZE:
            _cache.pop(next(iter(_cache)))  # dicts keep insertion order: drop the oldest
    return raw


def _folder_set(folder: Path) -> RawSet:
    files = find_idx_files(folder)
    try:
        key = ("idx", str(folder.resolve()), *(_file_stamp(p) for p in files.values()))
    except OSError as exc:
        raise DataError(f"{folder}: cannot be read ({exc.strerror or exc})") from None
    return _cached(key, lambda: _load_idx_folder(files))


def load_raw(
    source: str | os.PathLike[str] = EMBEDDED,
    *,
    progress: download.ProgressCallback | None = None,
) -> RawSet:
    """The cached uint8 arrays of a source, read-only.

    Returns:
        (x_train (N, 28, 28), t_train (N,), x_test (M, 28, 28), t_test (M,)), all uint8.
    Raises:
        DataError: bad or missing files. DownloadError / DownloadCancelled: "mnist" or
            "fashion-mnist" could not be downloaded.
    """
    if isinstance(source, str) and source == EMBEDDED:
        path = EMBEDDED_MNIST
        try:
            key: tuple[object, ...] = ("embedded", *_file_stamp(path))
        except OSError:
            key = ("embedded", str(path))  # missing: let the loader raise its clear message
        return _cached(key, lambda: _load_embedded(path))
    if isinstance(source, str) and source in DOWNLOADABLE:
        folder = download.dataset_dir(source)
        try:
            # Already cached and unchanged on disk: skip re-hashing the downloaded files.
            return _folder_set(folder)
        except DataError:
            pass
        download.download_dataset(source, folder, progress=progress)
        return _folder_set(folder)
    folder = Path(source)
    if not folder.exists():
        raise DataError(
            f"unknown data source {str(source)!r}: not one of {', '.join(SOURCES)} "
            "and no such folder"
        )
    return _folder_set(folder)


def _prepare(
    x: np.ndarray,
    t: np.ndarray,
    normalize: bool,
    flatten: bool,
    one_hot_label: bool,
    dtype: np.dtype,
) -> tuple[np.ndarray, np.ndarray]:
    """Turn raw uint8 images (N, 28, 28) and labels (N,) into the requested layout."""
    n = x.shape[0]
    if normalize:
        images = x.astype(dtype)
        images /= dtype.type(255)  # in place: no second full-size temporary
    else:
        images = x  # a read-only view of the cache
    images = images.reshape(n, -1) if flatten else images.reshape(n, 1, *IMAGE_SHAPE)
    if one_hot_label:
        labels = np.zeros((n, NUM_CLASSES), dtype=dtype)
        labels[np.arange(n), t] = 1
    else:
        labels = t.astype(np.int64)
    _freeze(images, labels)
    return images, labels


def load_mnist(
    normalize: bool = True,
    flatten: bool = True,
    one_hot_label: bool = False,
    source: str | os.PathLike[str] = EMBEDDED,
    *,
    dtype: DTypeLike = np.float32,
    progress: download.ProgressCallback | None = None,
) -> Dataset:
    """Load a data set like the book's ``load_mnist``.

    Args:
        normalize: scale pixels to floats in [0, 1] of ``dtype``; else keep uint8 0..255.
        flatten: images as (N, 784); else (N, 1, 28, 28).
        one_hot_label: labels as (N, 10) one-hot rows of ``dtype``; else int64 indices (N,).
        source: "embedded", "mnist", "fashion-mnist" or a folder of IDX files (see module doc).
        dtype: floating dtype of normalized images and one-hot labels.
        progress: download progress callback for "mnist" / "fashion-mnist" (see
            :data:`desktop_bp.core.download.ProgressCallback`); returning False cancels.
    Returns:
        ((x_train, t_train), (x_test, t_test)), every array read-only.
    Raises:
        DataError: missing, truncated or malformed data files (the message names the file).
        DownloadError / DownloadCancelled: a download was needed and failed or was cancelled.
        ValueError: ``dtype`` is not a floating type.
    """
    float_dtype = np.dtype(dtype)
    if float_dtype.kind != "f":
        raise ValueError(f"dtype must be a floating type, got {float_dtype}")
    x_train, t_train, x_test, t_test = load_raw(source, progress=progress)
    train = _prepare(x_train, t_train, normalize, flatten, one_hot_label, float_dtype)
    test = _prepare(x_test, t_test, normalize, flatten, one_hot_label, float_dtype)
    return train, test


def embedded_meta() -> dict[str, object]:
    """The provenance record stored in the embedded set (source file, SHA-256, split rule)."""
    try:
        with np.load(EMBEDDED_MNIST, allow_pickle=False) as npz:
            return json.loads(npz["meta"].item())
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise DataError(f"{EMBEDDED_MNIST}: no readable meta record ({exc})") from None
