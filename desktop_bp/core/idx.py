"""Read and write IDX files, the format MNIST and Fashion-MNIST ship in.

An IDX file is a header then raw data::

    magic   4 bytes   0x00 0x00 <type> <ndim>   (type 0x08 = unsigned byte)
    dims    4 bytes each, big-endian, ndim of them
    data    prod(dims) bytes, row-major

Only the two kinds MNIST uses are accepted: images (magic 0x00000803, dims N, rows, cols) and
labels (magic 0x00000801, dim N). Files may be raw or gzip-compressed; gzip is recognised by its
own magic bytes (1f 8b), whatever the file is called.

The reader treats every file as hostile: the header's claimed size is checked against the real
file size (raw) or against what the compressed size can possibly hold (gzip) *before* anything
big is allocated, and decompression reads at most ``claimed + 1`` bytes, in chunks, so a header
claiming 10^9 images costs neither time nor memory. Every problem raises
:class:`~desktop_bp.core.errors.DataError` with a message naming the file.
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

from desktop_bp.core.errors import DataError

IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801
UBYTE = 0x08
GZIP_MAGIC = b"\x1f\x8b"

#: Largest data section accepted (1 GiB): full MNIST's biggest file is 47 MB, so anything near
#: this is a corrupt or hostile header, not a data set this program could train on anyway.
MAX_DATA_BYTES = 1 << 30

#: Deflate cannot compress better than about 1032:1, so a gzip file of ``s`` bytes can never
#: decompress to more than ``s * 1032`` bytes; a header claiming more is a lie (a little margin).
MAX_GZIP_RATIO = 1100

_CHUNK = 1 << 20  # decompression step: big enough to be fast, small enough to bound memory
_KINDS = {1: "labels", 3: "images"}


def _fmt_dims(dims: tuple[int, ...]) -> str:
    """Human form of a header's dimensions, e.g. '60,000 images of 28x28'."""
    if len(dims) == 3:
        return f"{dims[0]:,} images of {dims[1]}x{dims[2]}"
    return f"{dims[0]:,} labels"


def _read_header(name: str, stream: BinaryIO) -> tuple[int, ...]:
    """Read and validate the magic number and dimensions from ``stream``.

    Returns:
        dims: (N,) for labels or (N, rows, cols) for images.
    """
    magic = stream.read(4)
    if len(magic) < 4:
        raise DataError(
            f"{name}: too short to be an IDX file ({len(magic)} bytes; "
            "the header alone needs at least 8)"
        )
    value = int.from_bytes(magic, "big")
    ndim = magic[3]
    if magic[:2] != b"\x00\x00" or ndim not in _KINDS:
        raise DataError(
            f"{name}: not an IDX image or label file (magic number 0x{value:08X}; expected "
            f"0x{IMAGES_MAGIC:08X} for images or 0x{LABELS_MAGIC:08X} for labels)"
        )
    if magic[2] != UBYTE:
        raise DataError(
            f"{name}: IDX data type 0x{magic[2]:02X} is not supported "
            f"(magic number 0x{value:08X}; only unsigned bytes, type 0x08, are)"
        )
    raw_dims = stream.read(4 * ndim)
    if len(raw_dims) < 4 * ndim:
        raise DataError(
            f"{name}: truncated IDX header (expected {4 + 4 * ndim} bytes, "
            f"found {4 + len(raw_dims)})"
        )
    return struct.unpack(f">{ndim}I", raw_dims)


def _check_claim(name: str, dims: tuple[int, ...]) -> int:
    """Size in bytes of the data the header claims; rejects absurd claims outright."""
    claimed = math.prod(dims)  # Python ints: no overflow even for 4 dims of 2^32 - 1
    if claimed > MAX_DATA_BYTES:
        raise DataError(
            f"{name}: header claims {_fmt_dims(dims)} ({claimed} bytes), more than the "
            f"{MAX_DATA_BYTES} bytes this reader accepts; the file is corrupt or not MNIST-like"
        )
    return claimed


def _read_raw(name: str, f: BinaryIO, file_size: int) -> np.ndarray:
    """Read an uncompressed IDX file whose size on disk is ``file_size``."""
    dims = _read_header(name, f)
    header = 4 + 4 * len(dims)
    claimed = math.prod(dims)
    expected = header + claimed
    # The exact size is known up front, so any disagreement is caught before allocating.
    if file_size != expected:
        problem = "truncated" if file_size < expected else "trailing bytes after the data"
        raise DataError(
            f"{name}: header claims {_fmt_dims(dims)}, so expected {expected} bytes, "
            f"found {file_size} ({problem})"
        )
    _check_claim(name, dims)
    data = np.fromfile(f, dtype=np.uint8, count=claimed)
    if data.size != claimed:  # the file shrank while we read it
        raise DataError(f"{name}: expected {expected} bytes, found {header + data.size}")
    return data.reshape(dims)


def _read_gzip(name: str, f: BinaryIO, file_size: int) -> np.ndarray:
    """Read a gzip-compressed IDX file whose compressed size is ``file_size``."""
    try:
        with gzip.GzipFile(fileobj=f, mode="rb") as gz:
            dims = _read_header(name, gz)
            header = 4 + 4 * len(dims)
            claimed = _check_claim(name, dims)
            ceiling = file_size * MAX_GZIP_RATIO
            if claimed > ceiling:
                raise DataError(
                    f"{name}: header claims {_fmt_dims(dims)} ({claimed} bytes), but a "
                    f"{file_size}-byte gzip file cannot hold more than about {ceiling} "
                    "bytes; the file is truncated or its header is corrupt"
                )
            # Grow the buffer only as real data arrives, and never past claimed + 1 bytes (the
            # extra byte tells us whether trailing data follows): memory is bounded by what the
            # file really contains, whatever the header says.
            buf = bytearray()
            limit = claimed + 1
            while len(buf) < limit:
                chunk = gz.read(min(_CHUNK, limit - len(buf)))
                if not chunk:
                    break
                buf += chunk
    except (OSError, EOFError, zlib.error) as exc:
        # BadGzipFile (an OSError), EOFError for a cut-off stream, zlib.error for bad deflate
        # data, OSError for a CRC/length mismatch: all mean a damaged file.
        raise DataError(f"{name}: corrupt or truncated gzip data ({exc})") from None
    if len(buf) != claimed:
        found = f"{header + len(buf)}" if len(buf) < claimed else "more (trailing data)"
        raise DataError(
            f"{name}: header claims {_fmt_dims(dims)}, so expected {header + claimed} bytes "
            f"after decompression, found {found}"
        )
    return np.frombuffer(buf, dtype=np.uint8).reshape(dims)


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX image or label file, raw or gzip-compressed.

    Args:
        path: the file.
    Returns:
        uint8 array: (N, rows, cols) for an image file, (N,) for a label file.
    Raises:
        DataError: the file is missing, unreadable, truncated, has trailing bytes, a wrong magic
            number, an unsupported data type, an absurd header, or corrupt gzip data. The
            message names the file and the problem.
    """
    p = Path(path)
    name = str(p)
    try:
        with p.open("rb") as f:
            file_size = os.fstat(f.fileno()).st_size
            is_gzip = f.read(2) == GZIP_MAGIC
            f.seek(0)
            if is_gzip:
                return _read_gzip(name, f, file_size)
            return _read_raw(name, f, file_size)
    except FileNotFoundError:
        raise DataError(f"{name}: file not found") from None
    except IsADirectoryError:
        raise DataError(f"{name}: is a folder, not an IDX file") from None
    except OSError as exc:
        raise DataError(f"{name}: cannot be read ({exc.strerror or exc})") from None


def write_idx(path: str | os.PathLike[str], array: np.ndarray) -> Path:
    """Write ``array`` as an IDX file, gzip-compressed if the name ends with ``.gz``.

    Args:
        path: destination file.
        array: (N, rows, cols) images or (N,) labels; uint8, or integers in 0..255.
    Returns:
        The path written.
    Raises:
        ValueError: the array is not 1-D or 3-D, or its values do not fit in a byte.
    """
    arr = np.asarray(array)
    if arr.ndim not in _KINDS:
        raise ValueError(f"IDX arrays here are 1-D (labels) or 3-D (images), got shape {arr.shape}")
    if arr.dtype != np.uint8:
        if arr.dtype.kind not in "iub" or (arr.size and (arr.min() < 0 or arr.max() > 255)):
            raise ValueError(f"IDX values must be integers in 0..255, got dtype {arr.dtype}")
        arr = arr.astype(np.uint8)
    header = bytes([0, 0, UBYTE, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    payload = header + np.ascontiguousarray(arr).tobytes()
    p = Path(path)
    if p.name.endswith(".gz"):
        # mtime=0 and no stored file name keep the output byte-identical from run to run.
        payload = gzip.compress(payload, mtime=0)
    p.write_bytes(payload)
    return p
