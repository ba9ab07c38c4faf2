"""Hostile files on the command line (issue 6): every one is answered with exactly one
``desktop-bp: error: ...`` line on stderr, exit status 2, nothing on stdout, no traceback.

Complements tests/core/test_cli.py (which covers a missing weights file, a non-zip ``PK``
file, a missing/empty data folder and a folder of short garbage IDX files) with crafted
files: random bytes, truncated and doctored checkpoints (including a pickled object array
whose payload must never run), and IDX folders with a truncated file, a wrong magic number,
a header claiming 10^9 images and a missing file. tests/core/test_hostile_checkpoint.py and
test_hostile_idx.py fuzz the loaders themselves; these check what the user sees.
"""

from __future__ import annotations

import gzip
import io
import os
import struct
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from desktop_bp.cli import EXIT_USAGE, main
from desktop_bp.core import data, download
from desktop_bp.core.checkpoint import load_checkpoint, save_checkpoint
from desktop_bp.core.idx import IMAGES_MAGIC, LABELS_MAGIC, write_idx
from desktop_bp.core.network import TwoLayerNet
from desktop_bp.core.trainer import TrainConfig

IDX_NAMES = {
    "train_img": "train-images-idx3-ubyte",
    "train_label": "train-labels-idx1-ubyte",
    "test_img": "t10k-images-idx3-ubyte",
    "test_label": "t10k-labels-idx1-ubyte",
}
# Far below what any header-driven allocation would take (784 GB for 10^9 images).
PEAK_LIMIT = 64 * 1024 * 1024


@pytest.fixture(autouse=True)
def private_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch) -> None:
    monkeypatch.setenv(download.DATA_DIR_ENV, str(tmp_path_factory.mktemp("data")))
    data.clear_cache()
    yield
    data.clear_cache()


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def assert_usage_error(status: int, out: str, err: str) -> str:
    """Exit 2, one ``desktop-bp: error:`` line, no traceback; return the line."""
    assert status == EXIT_USAGE, (status, out, err)
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("desktop-bp: error: "), err
    assert "Traceback" not in err and 'File "' not in err
    return lines[0]


# -- hostile weights files ----------------------------------------------------------------------


class Payload:
    """Unpickling this creates the folder ``marker``: proof that a pickle was executed."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def _valid_checkpoint(folder: Path) -> Path:
    path = folder / "valid.npz"
    net = TwoLayerNet(784, 8, 10, dtype=np.float32, rng=np.random.default_rng(0))
    save_checkpoint(
        path, net, config=TrainConfig(hidden_size=8), dataset="embedded", iterations_done=0
    )
    load_checkpoint(path)  # the doctored copies below start from a file that loads
    return path


def _npy_bytes(array: np.ndarray, allow_pickle: bool = False) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def _replace_member(source: Path, target: Path, member: str, payload: bytes) -> Path:
    """A copy of the .npz ``source`` with ``member`` (e.g. "W1.npy") replaced by ``payload``."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        names = zin.namelist()
        assert member in names
        for name in names:
            zout.writestr(name, payload if name == member else zin.read(name))
    return target


def weights_random_bytes(tmp: Path) -> Path:
    path = tmp / "random.npz"
    path.write_bytes(np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    return path


def weights_random_behind_zip_magic(tmp: Path) -> Path:
    path = tmp / "random-zip.npz"
    rest = np.random.default_rng(2).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    path.write_bytes(b"PK\x03\x04" + rest)
    return path


def weights_truncated_half(tmp: Path) -> Path:
    valid = _valid_checkpoint(tmp).read_bytes()
    path = tmp / "half.npz"
    path.write_bytes(valid[: len(valid) // 2])
    return path


def weights_truncated_tail(tmp: Path) -> Path:
    """Only the last byte missing: the zip's end-of-central-directory record is damaged."""
    valid = _valid_checkpoint(tmp).read_bytes()
    path = tmp / "tail.npz"
    path.write_bytes(valid[:-1])
    return path


def weights_truncated_header(tmp: Path) -> Path:
    valid = _valid_checkpoint(tmp).read_bytes()
    path = tmp / "header.npz"
    path.write_bytes(valid[:30])
    return path


def weights_wrong_shape_w1(tmp: Path) -> Path:
    bad = np.zeros((784, 9), dtype=np.float32)  # the metadata says 784-8-10
    return _replace_member(_valid_checkpoint(tmp), tmp / "shape.npz", "W1.npy", _npy_bytes(bad))


def weights_transposed_w1(tmp: Path) -> Path:
    bad = np.zeros((8, 784), dtype=np.float32)
    return _replace_member(
        _valid_checkpoint(tmp), tmp / "transposed.npz", "W1.npy", _npy_bytes(bad)
    )


def weights_wrong_dtype_w1(tmp: Path) -> Path:
    bad = np.zeros((784, 8), dtype="<U4")
    return _replace_member(_valid_checkpoint(tmp), tmp / "dtype.npz", "W1.npy", _npy_bytes(bad))


def weights_missing_w2(tmp: Path) -> Path:
    source = _valid_checkpoint(tmp)
    target = tmp / "no-w2.npz"
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w") as zout:
        for name in zin.namelist():
            if name != "W2.npy":
                zout.writestr(name, zin.read(name))
    return target


def weights_a_folder(tmp: Path) -> Path:
    folder = tmp / "weights.npz"
    folder.mkdir()
    return folder


def weights_a_bare_npy(tmp: Path) -> Path:
    path = tmp / "bare.npz"
    path.write_bytes(_npy_bytes(np.zeros((784, 8), dtype=np.float32)))
    return path


def weights_empty_file(tmp: Path) -> Path:
    path = tmp / "empty.npz"
    path.write_bytes(b"")
    return path


HOSTILE_WEIGHTS: dict[str, Callable[[Path], Path]] = {
    "random-bytes": weights_random_bytes,
    "random-behind-zip-magic": weights_random_behind_zip_magic,
    "truncated-half": weights_truncated_half,
    "truncated-last-byte": weights_truncated_tail,
    "truncated-to-30-bytes": weights_truncated_header,
    "wrong-shape-W1": weights_wrong_shape_w1,
    "transposed-W1": weights_transposed_w1,
    "string-dtype-W1": weights_wrong_dtype_w1,
    "missing-W2": weights_missing_w2,
    "a-folder": weights_a_folder,
    "bare-npy": weights_a_bare_npy,
    "empty-file": weights_empty_file,
}


@pytest.mark.parametrize("command", ["eval", "gradcheck"])
@pytest.mark.parametrize("case", sorted(HOSTILE_WEIGHTS))
def test_hostile_weights_file(capsys, tmp_path: Path, case: str, command: str) -> None:
    path = HOSTILE_WEIGHTS[case](tmp_path)
    line = assert_usage_error(*run(capsys, command, "--weights", str(path)))
    assert str(path) in line  # the message names the file


def test_wrong_shape_message_names_the_array(capsys, tmp_path: Path) -> None:
    path = weights_wrong_shape_w1(tmp_path)
    line = assert_usage_error(*run(capsys, "eval", "--weights", str(path)))
    assert "W1" in line


def test_folder_message_says_folder(capsys, tmp_path: Path) -> None:
    line = assert_usage_error(*run(capsys, "eval", "--weights", str(weights_a_folder(tmp_path))))
    assert "folder" in line.lower() or "directory" in line.lower()


def test_nonexistent_gradcheck_weights(capsys, tmp_path: Path) -> None:
    # (eval with a missing file is in test_cli.py)
    path = tmp_path / "nope.npz"
    line = assert_usage_error(*run(capsys, "gradcheck", "--weights", str(path)))
    assert str(path) in line


@pytest.mark.parametrize("member", ["W1.npy", "metadata.npy"])
def test_pickled_object_array_is_refused_and_never_executed(
    capsys, tmp_path: Path, member: str
) -> None:
    marker = tmp_path / "pwned"
    evil = np.empty(1, dtype=object)
    evil[0] = Payload(marker)
    payload = _npy_bytes(evil, allow_pickle=True)

    # Control: the payload really does run when a careless reader unpickles it.
    control_marker = tmp_path / "control"
    control = np.empty(1, dtype=object)
    control[0] = Payload(control_marker)
    np.lib.format.read_array(io.BytesIO(_npy_bytes(control, allow_pickle=True)), allow_pickle=True)
    assert control_marker.exists()

    path = _replace_member(_valid_checkpoint(tmp_path), tmp_path / "evil.npz", member, payload)
    for command in ("eval", "gradcheck"):
        assert_usage_error(*run(capsys, command, "--weights", str(path)))
    assert not marker.exists()


def test_zip_of_only_a_pickle_is_refused_and_never_executed(capsys, tmp_path: Path) -> None:
    """An .npz made by np.savez of an object array (no metadata at all)."""
    marker = tmp_path / "pwned"
    evil = np.empty(2, dtype=object)
    evil[0] = Payload(marker)
    path = tmp_path / "pickled.npz"
    np.savez(path, W1=evil, b1=evil, W2=evil, b2=evil, metadata=evil)
    line = assert_usage_error(*run(capsys, "eval", "--weights", str(path)))
    assert str(path) in line
    assert not marker.exists()


# -- hostile data folders -----------------------------------------------------------------------


def _idx_folder(tmp: Path, name: str = "idx", *, gz: bool = False) -> Path:
    """Four small valid IDX files (20 training and 10 test images)."""
    folder = tmp / name
    folder.mkdir()
    rng = np.random.default_rng(0)
    arrays = {
        "train_img": rng.integers(0, 256, (20, 28, 28), dtype=np.uint8),
        "train_label": rng.integers(0, 10, 20, dtype=np.uint8),
        "test_img": rng.integers(0, 256, (10, 28, 28), dtype=np.uint8),
        "test_label": rng.integers(0, 10, 10, dtype=np.uint8),
    }
    for key, array in arrays.items():
        write_idx(folder / (IDX_NAMES[key] + (".gz" if gz else "")), array)
    return folder


def folder_truncated_images(tmp: Path) -> Path:
    folder = _idx_folder(tmp)
    path = folder / IDX_NAMES["train_img"]
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) - 100])
    return folder


def folder_truncated_header(tmp: Path) -> Path:
    folder = _idx_folder(tmp)
    path = folder / IDX_NAMES["test_label"]
    path.write_bytes(path.read_bytes()[:6])
    return folder


def folder_truncated_gzip(tmp: Path) -> Path:
    folder = _idx_folder(tmp, gz=True)
    path = folder / (IDX_NAMES["train_img"] + ".gz")
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    return folder


def folder_wrong_magic(tmp: Path) -> Path:
    folder = _idx_folder(tmp)
    path = folder / IDX_NAMES["train_img"]
    raw = path.read_bytes()
    path.write_bytes(struct.pack(">I", 0x12345678) + raw[4:])
    return folder


def folder_swapped_magic(tmp: Path) -> Path:
    """A labels file where the images should be (a valid IDX file of the wrong kind)."""
    folder = _idx_folder(tmp)
    labels = (folder / IDX_NAMES["train_label"]).read_bytes()
    (folder / IDX_NAMES["train_img"]).write_bytes(labels)
    return folder


def folder_claims_1e9_images(tmp: Path) -> Path:
    folder = _idx_folder(tmp)
    path = folder / IDX_NAMES["train_img"]
    path.write_bytes(struct.pack(">IIII", IMAGES_MAGIC, 10**9, 28, 28) + bytes(784 * 3))
    return folder


def folder_gz_claims_1e9_images(tmp: Path) -> Path:
    folder = _idx_folder(tmp, gz=True)
    path = folder / (IDX_NAMES["train_img"] + ".gz")
    path.write_bytes(gzip.compress(struct.pack(">IIII", IMAGES_MAGIC, 10**9, 28, 28) + bytes(784)))
    return folder


def folder_labels_claim_1e9(tmp: Path) -> Path:
    folder = _idx_folder(tmp)
    (folder / IDX_NAMES["test_label"]).write_bytes(
        struct.pack(">II", LABELS_MAGIC, 10**9) + bytes(10)
    )
    return folder


def folder_missing_one_file(tmp: Path) -> Path:
    folder = _idx_folder(tmp)
    (folder / IDX_NAMES["test_label"]).unlink()
    return folder


def folder_count_mismatch(tmp: Path) -> Path:
    folder = _idx_folder(tmp)
    write_idx(folder / IDX_NAMES["train_label"], np.zeros(19, dtype=np.uint8))
    return folder


def folder_label_out_of_range(tmp: Path) -> Path:
    folder = _idx_folder(tmp)
    write_idx(folder / IDX_NAMES["test_label"], np.full(10, 200, dtype=np.uint8))
    return folder


def folder_file_is_a_folder(tmp: Path) -> Path:
    folder = _idx_folder(tmp)
    (folder / IDX_NAMES["test_img"]).unlink()
    (folder / IDX_NAMES["test_img"]).mkdir()
    return folder


def data_is_a_file(tmp: Path) -> Path:
    path = tmp / "not-a-folder"
    path.write_bytes(b"hello")
    return path


HOSTILE_FOLDERS: dict[str, Callable[[Path], Path]] = {
    "truncated-images": folder_truncated_images,
    "truncated-header": folder_truncated_header,
    "truncated-gzip": folder_truncated_gzip,
    "wrong-magic": folder_wrong_magic,
    "labels-as-images": folder_swapped_magic,
    "header-1e9-images": folder_claims_1e9_images,
    "gz-header-1e9-images": folder_gz_claims_1e9_images,
    "header-1e9-labels": folder_labels_claim_1e9,
    "missing-one-file": folder_missing_one_file,
    "count-mismatch": folder_count_mismatch,
    "label-out-of-range": folder_label_out_of_range,
    "member-is-a-folder": folder_file_is_a_folder,
    "data-is-a-file": data_is_a_file,
}


def test_the_valid_folder_trains(capsys, tmp_path: Path) -> None:
    """Control: the folder the hostile cases are made from is accepted."""
    status, out, err = run(capsys, "train", "--data", str(_idx_folder(tmp_path)), "--iters", "3")
    assert status == 0, err
    assert "trained 3 iterations" in out


@pytest.mark.parametrize("case", sorted(HOSTILE_FOLDERS))
def test_hostile_data_folder(capsys, tmp_path: Path, case: str) -> None:
    folder = HOSTILE_FOLDERS[case](tmp_path)
    assert_usage_error(*run(capsys, "train", "--data", str(folder), "--iters", "3"))


@pytest.mark.parametrize("case", ["truncated-images", "wrong-magic", "missing-one-file"])
def test_eval_with_hostile_data_folder(capsys, tmp_path: Path, case: str) -> None:
    weights = _valid_checkpoint(tmp_path)
    folder = HOSTILE_FOLDERS[case](tmp_path)
    assert_usage_error(*run(capsys, "eval", "--weights", str(weights), "--data", str(folder)))


def test_messages_name_the_problem(capsys, tmp_path: Path) -> None:
    def subfolder(name: str) -> Path:
        (tmp_path / name).mkdir()
        return tmp_path / name

    folder = folder_missing_one_file(subfolder("a"))
    line = assert_usage_error(*run(capsys, "train", "--data", str(folder)))
    assert IDX_NAMES["test_label"] in line and "missing" in line

    folder = folder_wrong_magic(subfolder("b"))
    line = assert_usage_error(*run(capsys, "train", "--data", str(folder)))
    assert IDX_NAMES["train_img"] in line and "magic" in line.lower()

    folder = folder_truncated_images(subfolder("c"))
    line = assert_usage_error(*run(capsys, "train", "--data", str(folder)))
    assert IDX_NAMES["train_img"] in line


@pytest.mark.parametrize("case", ["header-1e9-images", "gz-header-1e9-images", "header-1e9-labels"])
def test_absurd_header_is_refused_without_allocating(capsys, tmp_path: Path, case: str) -> None:
    folder = HOSTILE_FOLDERS[case](tmp_path)
    tracemalloc.start()
    try:
        result = run(capsys, "train", "--data", str(folder), "--iters", "3")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    line = assert_usage_error(*result)
    assert "1,000,000,000" in line
    assert peak < PEAK_LIMIT, f"peak {peak / 1e6:.1f} MB"


def test_random_bytes_message_gives_no_unsafe_advice(capsys, tmp_path: Path) -> None:
    """numpy takes unknown bytes for a pickle and suggests loading them "unsafely"; the user
    must not be told to do that for a weights file."""
    path = weights_random_bytes(tmp_path)
    line = assert_usage_error(*run(capsys, "eval", "--weights", str(path)))
    assert "not a Desktop BP weights file" in line
    assert "allow_pickle" not in line and "unsafe" not in line


def test_data_that_is_a_file_says_so(capsys, tmp_path: Path) -> None:
    line = assert_usage_error(*run(capsys, "train", "--data", str(data_is_a_file(tmp_path))))
    assert "is a file, not a folder" in line
