"""IDX reader/writer: round trips, and a clear DataError for every kind of damaged file."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from desktop_bp.core.errors import DataError
from desktop_bp.core.idx import IMAGES_MAGIC, LABELS_MAGIC, read_idx, write_idx


def images(n: int = 5, rows: int = 28, cols: int = 28, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, rows, cols), dtype=np.uint8)


def labels(n: int = 5, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 10, n, dtype=np.uint8)


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_round_trip_images_and_labels(tmp_path, suffix):
    x, t = images(7), labels(7)
    px = write_idx(tmp_path / f"x-idx3-ubyte{suffix}", x)
    pt = write_idx(tmp_path / f"t-idx1-ubyte{suffix}", t)
    rx, rt = read_idx(px), read_idx(pt)
    assert rx.dtype == np.uint8 and rt.dtype == np.uint8
    np.testing.assert_array_equal(rx, x)
    np.testing.assert_array_equal(rt, t)


def test_raw_header_layout_is_the_mnist_one(tmp_path):
    p = write_idx(tmp_path / "x", images(3, 28, 28))
    data = p.read_bytes()
    assert struct.unpack(">IIII", data[:16]) == (IMAGES_MAGIC, 3, 28, 28)
    assert len(data) == 16 + 3 * 784
    p = write_idx(tmp_path / "t", labels(4))
    assert struct.unpack(">II", p.read_bytes()[:8]) == (LABELS_MAGIC, 4)


def test_gz_output_is_gzip_and_reproducible(tmp_path):
    a = write_idx(tmp_path / "a.gz", images(2)).read_bytes()
    b = write_idx(tmp_path / "b.gz", images(2)).read_bytes()
    assert a[:2] == b"\x1f\x8b"
    assert a == b  # mtime=0: same bytes every run


def test_gzip_detected_by_content_not_name(tmp_path):
    gz = tmp_path / "x.gz"
    write_idx(gz, images(2))
    renamed = tmp_path / "train-images-idx3-ubyte"  # gzip data under a raw-looking name
    renamed.write_bytes(gz.read_bytes())
    np.testing.assert_array_equal(read_idx(renamed), images(2))


def test_any_count_and_zero_count(tmp_path):
    np.testing.assert_array_equal(read_idx(write_idx(tmp_path / "x", images(1))), images(1))
    empty = read_idx(write_idx(tmp_path / "e", np.zeros((0, 28, 28), np.uint8)))
    assert empty.shape == (0, 28, 28)


def test_write_accepts_small_ints_rejects_others(tmp_path):
    out = read_idx(write_idx(tmp_path / "t", np.array([0, 9, 255], dtype=np.int64)))
    np.testing.assert_array_equal(out, [0, 9, 255])
    with pytest.raises(ValueError, match=r"0\.\.255"):
        write_idx(tmp_path / "bad", np.array([256]))
    with pytest.raises(ValueError, match=r"0\.\.255"):
        write_idx(tmp_path / "bad", np.array([0.5]))
    with pytest.raises(ValueError, match="1-D"):
        write_idx(tmp_path / "bad", np.zeros((2, 2), np.uint8))


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="file not found") as info:
        read_idx(tmp_path / "nope")
    assert "nope" in str(info.value)


def test_folder_instead_of_file(tmp_path):
    with pytest.raises(DataError, match="folder"):
        read_idx(tmp_path)


def test_truncated_raw_file_message_names_file_and_sizes(tmp_path):
    full = write_idx(tmp_path / "full", np.zeros((60000, 28, 28), np.uint8)).read_bytes()
    p = tmp_path / "train-images-idx3-ubyte"
    p.write_bytes(full[:1000])
    with pytest.raises(DataError) as info:
        read_idx(p)
    msg = str(info.value)
    assert str(p) in msg
    assert "expected 47040016 bytes, found 1000" in msg
    assert "truncated" in msg


def test_trailing_bytes_raw(tmp_path):
    p = write_idx(tmp_path / "t", labels(5))
    p.write_bytes(p.read_bytes() + b"\x00")
    with pytest.raises(DataError, match=r"expected 13 bytes, found 14 \(trailing"):
        read_idx(p)


@pytest.mark.parametrize(
    ("magic", "match"),
    [
        (b"\x00\x00\x08\x02", "magic number 0x00000802"),  # a 2-D file: neither kind
        (b"\x01\x00\x08\x03", "magic number 0x01000803"),
        (b"PK\x03\x04", "not an IDX"),  # a zip file
        (b"\x00\x00\x0d\x03", "data type 0x0D"),  # floats: valid IDX, unsupported here
    ],
)
def test_wrong_magic(tmp_path, magic, match):
    p = tmp_path / "x"
    p.write_bytes(magic + struct.pack(">III", 1, 28, 28) + bytes(784))
    with pytest.raises(DataError, match=match) as info:
        read_idx(p)
    assert str(p) in str(info.value)


@pytest.mark.parametrize("size", [0, 1, 3])
def test_too_short_for_magic(tmp_path, size):
    p = tmp_path / "x"
    p.write_bytes(b"\x00" * size)
    with pytest.raises(DataError, match="too short"):
        read_idx(p)


def test_truncated_header(tmp_path):
    p = tmp_path / "x"
    p.write_bytes(struct.pack(">II", IMAGES_MAGIC, 5) + b"\x00\x1c")
    with pytest.raises(DataError, match=r"truncated IDX header \(expected 16 bytes, found 10\)"):
        read_idx(p)


def test_truncated_gz_decompressed_data(tmp_path):
    full = write_idx(tmp_path / "x", images(10)).read_bytes()
    p = tmp_path / "x.gz"
    p.write_bytes(gzip.compress(full[:-100], mtime=0))  # valid gzip, short IDX payload
    with pytest.raises(DataError, match=f"expected {len(full)} bytes after decompression"):
        read_idx(p)


def test_trailing_gz_decompressed_data(tmp_path):
    full = write_idx(tmp_path / "x", images(3)).read_bytes()
    p = tmp_path / "x.gz"
    p.write_bytes(gzip.compress(full + b"junk", mtime=0))
    with pytest.raises(DataError, match="trailing data"):
        read_idx(p)


def test_cut_off_gzip_stream(tmp_path):
    data = write_idx(tmp_path / "x.gz", images(50)).read_bytes()
    p = tmp_path / "cut.gz"
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="corrupt or truncated gzip") as info:
        read_idx(p)
    assert str(p) in str(info.value)


def test_gzip_crc_mismatch(tmp_path):
    data = bytearray(write_idx(tmp_path / "x.gz", labels(100)).read_bytes())
    data[-8] ^= 0xFF  # CRC32 field of the gzip trailer
    p = tmp_path / "crc.gz"
    p.write_bytes(bytes(data))
    with pytest.raises(DataError, match="corrupt or truncated gzip"):
        read_idx(p)


def test_garbage_after_gzip_magic(tmp_path):
    p = tmp_path / "x.gz"
    p.write_bytes(b"\x1f\x8b" + b"\xff" * 30)
    with pytest.raises(DataError, match="gzip"):
        read_idx(p)


def test_data_error_is_value_error(tmp_path):
    with pytest.raises(ValueError):
        read_idx(tmp_path / "missing")


def test_reads_real_fashion_mnist_if_installed():
    from pathlib import Path

    folder = Path("/usr/share/datasets/fashion-mnist")
    path = folder / "t10k-labels-idx1-ubyte.gz"
    if not path.is_file():
        pytest.skip("Debian package dataset-fashion-mnist is not installed")
    t = read_idx(path)
    assert t.shape == (10000,)
    np.testing.assert_array_equal(np.bincount(t), [1000] * 10)
