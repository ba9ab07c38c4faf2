"""Hostile IDX files: absurd headers are refused before allocating; random bytes give DataError.

The property tests feed random, truncated and mutated bytes to ``read_idx`` and accept exactly two
outcomes: a uint8 array consistent with the bytes, or DataError. Any other exception is a bug.
"""

from __future__ import annotations

import gzip
import struct
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop_bp.core.errors import DataError
from desktop_bp.core.idx import IMAGES_MAGIC, LABELS_MAGIC, MAX_DATA_BYTES, read_idx, write_idx

PEAK_LIMIT = 4 * 1024 * 1024  # bytes: far below any allocation a lying header would cause
HEADER_1E9_IMAGES = struct.pack(">IIII", IMAGES_MAGIC, 10**9, 28, 28)


def _peak_and_time(path: Path) -> tuple[DataError, int, float]:
    """Run read_idx(path), expecting DataError; return it with the traced peak and seconds."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(DataError) as info:
            read_idx(path)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return info.value, peak, elapsed


def test_raw_header_claiming_1e9_images(tmp_path):
    p = tmp_path / "train-images-idx3-ubyte"
    p.write_bytes(HEADER_1E9_IMAGES + bytes(784 * 3))
    err, peak, elapsed = _peak_and_time(p)
    assert "1,000,000,000 images of 28x28" in str(err)
    assert f"expected {16 + 784 * 10**9} bytes, found {16 + 784 * 3}" in str(err)
    assert peak < PEAK_LIMIT and elapsed < 1.0


def test_gz_header_claiming_1e9_images(tmp_path):
    p = tmp_path / "train-images-idx3-ubyte.gz"
    p.write_bytes(gzip.compress(HEADER_1E9_IMAGES + bytes(784 * 3)))
    err, peak, elapsed = _peak_and_time(p)
    assert str(p) in str(err) and "1,000,000,000 images" in str(err)
    assert peak < PEAK_LIMIT and elapsed < 1.0


def test_gz_claim_beyond_what_the_compressed_size_can_hold(tmp_path):
    # 1M images is under the absolute limit, but no 1 KB gzip file can inflate to 784 MB.
    p = tmp_path / "x.gz"
    p.write_bytes(gzip.compress(struct.pack(">IIII", IMAGES_MAGIC, 10**6, 28, 28) + bytes(500)))
    err, peak, elapsed = _peak_and_time(p)
    assert "cannot hold more than" in str(err)
    assert peak < PEAK_LIMIT and elapsed < 1.0


def test_gz_plausible_claim_still_bounded_by_real_data(tmp_path):
    # 200 KB of incompressible bytes: the gzip file is ~200 KB, so a 100,000-image claim
    # (78 MB) passes the ratio test; memory must still follow the 200 KB actually present.
    p = tmp_path / "x.gz"
    payload = np.random.default_rng(0).integers(0, 256, 200_000, dtype=np.uint8).tobytes()
    p.write_bytes(gzip.compress(struct.pack(">IIII", IMAGES_MAGIC, 100_000, 28, 28) + payload))
    assert p.stat().st_size * 1100 > 78_400_016  # the ratio check alone would not stop it
    err, peak, elapsed = _peak_and_time(p)
    assert "expected 78400016 bytes after decompression, found 200016" in str(err)
    assert peak < PEAK_LIMIT and elapsed < 1.0


def test_header_over_absolute_limit_even_if_size_matches_claim(tmp_path):
    # Labels claiming 2^32 - 1 items (4 GiB): refused from the header alone, file never read.
    p = tmp_path / "t"
    p.write_bytes(struct.pack(">II", LABELS_MAGIC, 2**32 - 1))
    err, peak, _ = _peak_and_time(p)
    assert "4,294,967,295 labels" in str(err)
    assert peak < PEAK_LIMIT
    assert MAX_DATA_BYTES < 2**32 - 1


def test_max_dimensions_do_not_overflow(tmp_path):
    p = tmp_path / "x"
    p.write_bytes(struct.pack(">IIII", IMAGES_MAGIC, 2**32 - 1, 2**32 - 1, 2**32 - 1))
    err, peak, _ = _peak_and_time(p)
    assert "truncated" in str(err) and peak < PEAK_LIMIT


# ---- property tests -------------------------------------------------------------------------

FAST = settings(
    max_examples=150,
    deadline=None,  # wall-clock is checked by the explicit tests above; avoids CI flakiness
    database=None,  # don't write .hypothesis/ into the work tree
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    # Module-scoped: hypothesis forbids function-scoped fixtures such as tmp_path in @given.
    with tempfile.TemporaryDirectory() as d:
        yield Path(d)


def _valid_files(scratch: Path) -> list[bytes]:
    x = np.arange(3 * 28 * 28, dtype=np.uint32).astype(np.uint8).reshape(3, 28, 28)
    return [
        write_idx(scratch / "v.idx3", x).read_bytes(),
        write_idx(scratch / "v.idx3.gz", x).read_bytes(),
        write_idx(scratch / "v.idx1", np.arange(10, dtype=np.uint8)).read_bytes(),
        write_idx(scratch / "v.idx1.gz", np.arange(10, dtype=np.uint8)).read_bytes(),
    ]


def _check(scratch: Path, data: bytes) -> None:
    """read_idx on ``data`` must return a consistent uint8 array or raise DataError, quickly."""
    p = scratch / "probe"
    p.write_bytes(data)
    started = time.perf_counter()
    try:
        arr = read_idx(p)
    except DataError as exc:
        assert str(p) in str(exc)  # every message names the file
    else:
        assert arr.dtype == np.uint8 and arr.ndim in (1, 3)
        if data[:2] != b"\x1f\x8b":
            assert arr.size + 4 + 4 * arr.ndim == len(data)
    assert time.perf_counter() - started < 2.0


@FAST
@given(data=st.binary(max_size=200))
def test_random_bytes(scratch, data):
    _check(scratch, data)


@FAST
@given(
    magic=st.sampled_from([IMAGES_MAGIC, LABELS_MAGIC]),
    dims=st.lists(st.integers(0, 2**32 - 1), min_size=3, max_size=3),
    body=st.binary(max_size=100),
    compress=st.booleans(),
)
def test_random_headers(scratch, magic, dims, body, compress):
    ndim = magic & 0xFF
    data = struct.pack(f">I{ndim}I", magic, *dims[:ndim]) + body
    _check(scratch, gzip.compress(data) if compress else data)


@FAST
@given(which=st.integers(0, 3), cut=st.integers(0, 3000))
def test_truncated_valid_files(scratch, which, cut):
    data = _valid_files(scratch)[which]
    _check(scratch, data[: min(cut, len(data) - 1)])


@FAST
@given(
    which=st.integers(0, 3),
    edits=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=6),
    extra=st.binary(max_size=8),
)
def test_mutated_valid_files(scratch, which, edits, extra):
    data = bytearray(_valid_files(scratch)[which])
    for pos, value in edits:
        data[pos % len(data)] = value
    _check(scratch, bytes(data) + extra)
