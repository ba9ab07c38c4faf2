"""Weights files: exact round trips, and a clear CheckpointError for every kind of bad file."""

from __future__ import annotations

import datetime
import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

from desktop_bp import __version__
from desktop_bp.core import checkpoint as checkpoint_module
from desktop_bp.core.checkpoint import (
    FORMAT_NAME,
    FORMAT_VERSION,
    Checkpoint,
    load_checkpoint,
    save_checkpoint,
)
from desktop_bp.core.errors import CheckpointError
from desktop_bp.core.layers import Sigmoid
from desktop_bp.core.network import PARAM_NAMES, TwoLayerNet
from desktop_bp.core.trainer import TrainConfig, TrainingHistory


def make_network(hidden: int = 50, *, activation: str = "relu", dtype=np.float32) -> TwoLayerNet:
    """A network with distinctive, non-zero weights (biases too), so a mix-up would show."""
    rng = np.random.default_rng(42)
    net = TwoLayerNet(784, hidden, 10, 0.05, activation=activation, dtype=dtype, rng=rng)
    net.params["b1"][:] = rng.standard_normal(hidden)
    net.params["b2"][:] = rng.standard_normal(10)
    return net


def make_history() -> TrainingHistory:
    return TrainingHistory(
        losses=[2.302585, 1.5, 0.75, 0.333],
        epoch_iterations=[1, 3, 4],
        train_acc=[0.1, 0.5, 0.9125],
        test_acc=[0.0995, 0.45, 0.9],
    )


def save_default(path: Path, net: TwoLayerNet | None = None, **overrides) -> TwoLayerNet:
    net = net or make_network()
    kwargs = {
        "config": TrainConfig(learning_rate=0.05, batch_size=64, iterations=4, seed=7),
        "dataset": "embedded",
        "iterations_done": 4,
        "history": make_history(),
    }
    kwargs.update(overrides)
    save_checkpoint(path, net, **kwargs)
    return net


def read_arrays(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}


def read_metadata(arrays: dict[str, np.ndarray]) -> dict:
    return json.loads(arrays["metadata"].tobytes().decode("utf-8"))


def with_metadata(arrays: dict[str, np.ndarray], **changes) -> dict[str, np.ndarray]:
    meta = read_metadata(arrays)
    meta.update(changes)
    arrays = dict(arrays)
    arrays["metadata"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    return arrays


def write_arrays(path: Path, arrays: dict[str, np.ndarray]) -> Path:
    with path.open("wb") as f:
        np.savez_compressed(f, **arrays)
    return path


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    path = tmp_path / "weights.npz"
    save_default(path)
    return path


# -- round trips ------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_round_trip_is_bit_identical(tmp_path: Path, dtype) -> None:
    path = tmp_path / "w.npz"
    net = save_default(path, make_network(dtype=dtype))
    ckpt = load_checkpoint(path)
    assert isinstance(ckpt, Checkpoint)
    for key in PARAM_NAMES:
        assert ckpt.params[key].dtype == np.dtype(dtype)
        assert ckpt.params[key].tobytes() == net.params[key].tobytes()


def test_round_trip_metadata_and_history(saved: Path) -> None:
    ckpt = load_checkpoint(saved)
    assert ckpt.config == TrainConfig(learning_rate=0.05, batch_size=64, iterations=4, seed=7)
    assert ckpt.dataset == "embedded"
    assert ckpt.iterations_done == 4
    assert ckpt.train_acc == 0.9125
    assert ckpt.test_acc == 0.9
    history = make_history()
    # Losses are stored as float32 (one per step, possibly millions); the rest exactly.
    assert ckpt.history.losses == np.float32(history.losses).tolist()
    assert ckpt.history.epoch_iterations == history.epoch_iterations
    assert ckpt.history.train_acc == history.train_acc
    assert ckpt.history.test_acc == history.test_acc

    meta = ckpt.metadata
    assert meta["format"] == FORMAT_NAME == "desktop-bp-weights"
    assert meta["format_version"] == FORMAT_VERSION == 1
    assert meta["architecture"] == {"input_size": 784, "hidden_size": 50, "output_size": 10}
    assert meta["activation"] == "relu"
    assert meta["hyperparameters"] == ckpt.config.to_dict()
    assert meta["seed"] == 7
    assert meta["app_version"] == __version__
    created = datetime.datetime.fromisoformat(meta["created"])
    assert created.tzinfo is not None
    assert abs((datetime.datetime.now(datetime.timezone.utc) - created).total_seconds()) < 600


def test_file_layout_is_plain_arrays(saved: Path) -> None:
    arrays = read_arrays(saved)  # allow_pickle=False: every member is a plain array
    assert set(arrays) == {
        *PARAM_NAMES,
        "losses",
        "epoch_iterations",
        "train_acc",
        "test_acc",
        "metadata",
    }
    assert arrays["metadata"].dtype == np.uint8
    assert arrays["losses"].dtype == np.float32
    assert arrays["epoch_iterations"].dtype == np.int64
    assert arrays["train_acc"].dtype == arrays["test_acc"].dtype == np.float64
    assert zipfile.is_zipfile(saved)


@pytest.mark.parametrize(("hidden", "activation"), [(7, "sigmoid"), (128, "relu"), (1, "relu")])
def test_other_hidden_size_rebuilds(tmp_path: Path, hidden: int, activation: str) -> None:
    path = tmp_path / "w.npz"
    net = make_network(hidden, activation=activation)
    save_default(path, net, config=TrainConfig(hidden_size=50, activation="relu"))
    ckpt = load_checkpoint(path)
    # The architecture is the network's, whatever the config said.
    assert ckpt.config.hidden_size == hidden
    assert ckpt.config.activation == activation
    rebuilt = ckpt.build_network()
    assert rebuilt.hidden_size == hidden
    assert rebuilt.activation == activation
    assert rebuilt.param_shapes() == net.param_shapes()
    assert any(isinstance(layer, Sigmoid) for layer in rebuilt.layers.values()) == (
        activation == "sigmoid"
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_predict_after_load_equals_predict_before_save(tmp_path: Path, dtype) -> None:
    path = tmp_path / "w.npz"
    net = save_default(path, make_network(dtype=dtype))
    x = np.random.default_rng(3).random((20, 784)).astype(dtype)
    before = net.predict(x)
    after = load_checkpoint(path).build_network(dtype=dtype).predict(x)
    np.testing.assert_array_equal(after, before)


def test_save_without_history(tmp_path: Path) -> None:
    path = tmp_path / "w.npz"
    save_checkpoint(path, make_network(), config=TrainConfig(), dataset="mnist", iterations_done=0)
    ckpt = load_checkpoint(path)
    assert ckpt.history == TrainingHistory()
    assert ckpt.train_acc is None and ckpt.test_acc is None
    assert ckpt.dataset == "mnist"


def test_file_without_history_arrays_still_loads(saved: Path, tmp_path: Path) -> None:
    arrays = read_arrays(saved)
    for key in ("losses", "epoch_iterations", "train_acc", "test_acc"):
        del arrays[key]
    ckpt = load_checkpoint(write_arrays(tmp_path / "bare.npz", arrays))
    assert ckpt.history == TrainingHistory()


def test_save_overwrites_and_accepts_str_path(saved: Path) -> None:
    net = make_network(hidden=9)
    save_checkpoint(str(saved), net, config=TrainConfig(), dataset="x", iterations_done=1)
    assert load_checkpoint(str(saved)).hidden_size == 9
    assert sorted(os.listdir(saved.parent)) == [saved.name]


def test_big_endian_weights_load_native(saved: Path, tmp_path: Path) -> None:
    arrays = read_arrays(saved)
    expected = arrays["W1"].copy()
    arrays["W1"] = arrays["W1"].astype(">f4")
    ckpt = load_checkpoint(write_arrays(tmp_path / "be.npz", arrays))
    assert ckpt.params["W1"].dtype.isnative
    np.testing.assert_array_equal(ckpt.params["W1"], expected)


# -- bad files --------------------------------------------------------------------------------


def assert_refused(path: Path, *fragments: str) -> CheckpointError:
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    message = str(info.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message
    return info.value


def test_missing_file(tmp_path: Path) -> None:
    assert_refused(tmp_path / "nope.npz", "no such file")


def test_directory_is_not_a_file(tmp_path: Path) -> None:
    assert_refused(tmp_path, "not a file")


@pytest.mark.parametrize(
    "content",
    [b"", b"hello, not weights", os.urandom(5000), b"PK\x03\x04" + b"\x00" * 100],
    ids=["empty", "text", "random", "zip-magic-garbage"],
)
def test_corrupt_bytes(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    assert_refused(path, "is not a Desktop BP weights file (")


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9, 0.999])
def test_truncated_file(saved: Path, tmp_path: Path, fraction: float) -> None:
    data = saved.read_bytes()
    path = tmp_path / "cut.npz"
    path.write_bytes(data[: int(len(data) * fraction)])
    assert_refused(path, "is not a Desktop BP weights file")


def test_plain_npy_file(tmp_path: Path) -> None:
    path = tmp_path / "w.npy"
    np.save(path, np.zeros(3))
    assert_refused(path, "single .npy")


def test_other_zip_file(tmp_path: Path) -> None:
    path = tmp_path / "other.npz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "hello")
    assert_refused(path, "no metadata")


@pytest.mark.parametrize("missing", [*PARAM_NAMES, "metadata"])
def test_missing_array(saved: Path, tmp_path: Path, missing: str) -> None:
    arrays = read_arrays(saved)
    del arrays[missing]
    path = write_arrays(tmp_path / "partial.npz", arrays)
    assert_refused(path, missing)


@pytest.mark.parametrize(
    ("key", "shape"), [("W1", (784, 49)), ("b1", (50, 1)), ("W2", (10, 50)), ("b2", (9,))]
)
def test_wrong_shape(saved: Path, tmp_path: Path, key: str, shape: tuple[int, ...]) -> None:
    arrays = read_arrays(saved)
    arrays[key] = np.zeros(shape, dtype=np.float32)
    path = write_arrays(tmp_path / "shape.npz", arrays)
    assert_refused(path, key, "shape")


def test_shapes_disagree_with_metadata(saved: Path, tmp_path: Path) -> None:
    arrays = read_arrays(saved)
    hyper = read_metadata(arrays)["hyperparameters"] | {"hidden_size": 40}
    architecture = {"input_size": 784, "hidden_size": 40, "output_size": 10}
    arrays = with_metadata(arrays, architecture=architecture, hyperparameters=hyper)
    assert_refused(write_arrays(tmp_path / "m.npz", arrays), "W1", "(784, 40)")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("key", PARAM_NAMES)
def test_non_finite_weights(saved: Path, tmp_path: Path, key: str, bad: float) -> None:
    arrays = read_arrays(saved)
    arrays[key] = arrays[key].copy()
    arrays[key].flat[0] = bad
    assert_refused(write_arrays(tmp_path / "nan.npz", arrays), key, "NaN or infinite")


@pytest.mark.parametrize("dtype", [np.int32, np.complex128, np.bool_, "U3"])
def test_non_floating_weights(saved: Path, tmp_path: Path, dtype) -> None:
    arrays = read_arrays(saved)
    arrays["b2"] = np.zeros(10, dtype=dtype)
    assert_refused(write_arrays(tmp_path / "int.npz", arrays), "b2", "dtype")


def test_non_finite_history(saved: Path, tmp_path: Path) -> None:
    arrays = read_arrays(saved)
    arrays["losses"] = np.array([1.0, np.nan], dtype=np.float32)
    assert_refused(write_arrays(tmp_path / "h.npz", arrays), "losses")


def test_history_lengths_must_agree(saved: Path, tmp_path: Path) -> None:
    arrays = read_arrays(saved)
    arrays["test_acc"] = arrays["test_acc"][:-1]
    assert_refused(write_arrays(tmp_path / "h.npz", arrays), "length")


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"format": "something-else"}, "is not a Desktop BP weights file"),
        ({"format_version": "1"}, "format_version"),
        ({"format_version": 0}, "format_version"),
        ({"architecture": None}, "architecture"),
        ({"architecture": {"input_size": 784, "hidden_size": 50}}, "output_size"),
        ({"architecture": {"input_size": 784, "hidden_size": True, "output_size": 10}}, "hidden"),
        ({"activation": "tanh"}, "activation"),
        ({"activation": ["relu"]}, "activation"),
        ({"hyperparameters": {"learning_rate": -1}}, "learning_rate"),
        ({"hyperparameters": {"batch_size": "big"}}, "batch_size"),
        ({"hyperparameters": []}, "hyperparameters"),
        ({"iterations_done": -3}, "iterations_done"),
        ({"train_acc": 1.5}, "train_acc"),
        ({"dataset": 12}, "dataset"),
    ],
)
def test_bad_metadata(saved: Path, tmp_path: Path, changes: dict, fragment: str) -> None:
    arrays = with_metadata(read_arrays(saved), **changes)
    assert_refused(write_arrays(tmp_path / "meta.npz", arrays), fragment)


def test_newer_format_version_says_so(saved: Path, tmp_path: Path) -> None:
    arrays = with_metadata(read_arrays(saved), format_version=FORMAT_VERSION + 1)
    error = assert_refused(write_arrays(tmp_path / "future.npz", arrays), "newer", "version 2")
    assert "update" in str(error)


@pytest.mark.parametrize(
    "raw", [b"{not json", b"\xff\xfe\x00", b"[1, 2]", b"null", b"[" * 100_000], ids=str
)
def test_metadata_not_a_json_object(saved: Path, tmp_path: Path, raw: bytes) -> None:
    arrays = read_arrays(saved)
    arrays["metadata"] = np.frombuffer(raw, dtype=np.uint8)
    assert_refused(write_arrays(tmp_path / "meta.npz", arrays), "metadata")


def test_metadata_of_wrong_dtype(saved: Path, tmp_path: Path) -> None:
    arrays = read_arrays(saved)
    arrays["metadata"] = np.array(read_metadata(arrays)["format"])  # a unicode array
    assert_refused(write_arrays(tmp_path / "meta.npz", arrays), "metadata")


@pytest.mark.parametrize("hidden", [100_001, 10**9, 2**63])
def test_absurd_architecture_rejected_before_reading_weights(
    saved: Path, tmp_path: Path, hidden: int
) -> None:
    arrays = with_metadata(
        read_arrays(saved),
        architecture={"input_size": 784, "hidden_size": hidden, "output_size": 10},
    )
    assert_refused(write_arrays(tmp_path / "huge.npz", arrays), "hidden_size")


def test_too_many_parameters_rejected(saved: Path, tmp_path: Path) -> None:
    arrays = with_metadata(
        read_arrays(saved),
        architecture={"input_size": 100_000, "hidden_size": 100_000, "output_size": 10},
    )
    assert_refused(write_arrays(tmp_path / "huge.npz", arrays), "weights, more than")


def npy_header_only(shape: tuple[int, ...], dtype: str = "<f4") -> bytes:
    """A .npy member that claims ``shape`` but carries no data."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": dtype, "fortran_order": False, "shape": shape}
    )
    return buffer.getvalue()  # magic, version and header: the data that should follow is absent


def write_members(path: Path, arrays: dict[str, np.ndarray], **raw: bytes) -> Path:
    """An .npz of ``arrays`` where the members named in ``raw`` hold those bytes instead."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for key, value in arrays.items():
            if key in raw:
                zf.writestr(f"{key}.npy", raw[key])
                continue
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, value)
            zf.writestr(f"{key}.npy", buffer.getvalue())
    return path


def test_huge_claimed_array_is_not_allocated(saved: Path, tmp_path: Path, monkeypatch) -> None:
    """A header claiming 784x100000 float64 (627 MB) in a tiny file: refused before allocating."""
    arrays = read_arrays(saved)
    hyper = read_metadata(arrays)["hyperparameters"] | {"hidden_size": 100_000}
    architecture = {"input_size": 784, "hidden_size": 100_000, "output_size": 10}
    arrays = with_metadata(arrays, architecture=architecture, hyperparameters=hyper)
    path = write_members(tmp_path / "claim.npz", arrays, W1=npy_header_only((784, 100_000), "<f8"))

    read_array = np.lib.format.read_array

    def guarded_read_array(fp, *args, **kwargs):
        if getattr(fp, "name", "") == "W1.npy":  # ZipExtFile.name is the member's name
            raise AssertionError("numpy was asked to read (and allocate) the claimed W1")
        return read_array(fp, *args, **kwargs)

    monkeypatch.setattr(np.lib.format, "read_array", guarded_read_array)
    assert_refused(path, "W1", "truncated")


def test_history_too_long_is_refused(saved: Path, tmp_path: Path) -> None:
    arrays = read_arrays(saved)
    path = write_members(tmp_path / "long.npz", arrays, losses=npy_header_only((10**12,)))
    assert_refused(path, "losses", "elements")


class _MarkerPayload:
    """Unpickling this creates a file: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (str(self.marker),))


@pytest.mark.parametrize("key", ["W1", "metadata", "losses"])
def test_object_array_refused_without_running_code(saved: Path, tmp_path: Path, key: str) -> None:
    marker = tmp_path / "PWNED"
    arrays = read_arrays(saved)
    payload = np.empty(1, dtype=object)
    payload[0] = _MarkerPayload(marker)
    arrays[key] = payload
    path = tmp_path / "evil.npz"
    np.savez(path, **arrays)  # object arrays are pickled inside the .npy member

    assert_refused(path, key)
    assert not marker.exists()

    # The payload is live: numpy with pickling allowed would have run it.
    with np.load(path, allow_pickle=True) as npz:
        npz[key]
    assert marker.exists()


def test_pickle_file_refused_without_running_code(tmp_path: Path) -> None:
    import pickle

    marker = tmp_path / "PWNED"
    path = tmp_path / "evil.npz"
    path.write_bytes(pickle.dumps(_MarkerPayload(marker)))
    assert_refused(path, "is not a Desktop BP weights file")
    assert not marker.exists()


# -- atomic saving ----------------------------------------------------------------------------


def test_failed_replace_leaves_previous_file_intact(saved: Path, monkeypatch) -> None:
    before = saved.read_bytes()

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(checkpoint_module.os, "replace", broken_replace)
    with pytest.raises(CheckpointError, match="No space left") as info:
        save_default(saved, make_network(hidden=3))
    assert str(saved) in str(info.value)
    assert saved.read_bytes() == before
    assert os.listdir(saved.parent) == [saved.name]


def test_failure_while_writing_leaves_previous_file_intact(saved: Path, monkeypatch) -> None:
    before = saved.read_bytes()

    def half_writer(stream, **arrays):
        stream.write(b"PK\x03\x04 half a zip")
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(checkpoint_module.np, "savez_compressed", half_writer)
    with pytest.raises(CheckpointError, match="Input/output error"):
        save_default(saved, make_network(hidden=3))
    assert saved.read_bytes() == before
    assert os.listdir(saved.parent) == [saved.name]


def test_interrupt_while_writing_cleans_up_and_propagates(saved: Path, monkeypatch) -> None:
    before = saved.read_bytes()

    def interrupted(stream, **arrays):
        stream.write(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(checkpoint_module.np, "savez_compressed", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_default(saved, make_network(hidden=3))
    assert saved.read_bytes() == before
    assert os.listdir(saved.parent) == [saved.name]


def test_failed_first_save_leaves_nothing(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(checkpoint_module.os, "fsync", _raise_oserror)
    with pytest.raises(CheckpointError):
        save_default(tmp_path / "new.npz")
    assert os.listdir(tmp_path) == []


def _raise_oserror(*args):
    raise OSError(5, "Input/output error")


def test_save_into_missing_folder(tmp_path: Path) -> None:
    path = tmp_path / "no" / "such" / "w.npz"
    with pytest.raises(CheckpointError, match="does not exist") as info:
        save_default(path)
    assert str(path) in str(info.value)


def test_save_refuses_non_finite_weights(tmp_path: Path) -> None:
    net = make_network()
    net.params["W2"][0, 0] = np.nan
    with pytest.raises(CheckpointError, match="W2"):
        save_default(tmp_path / "w.npz", net)
    assert os.listdir(tmp_path) == []


def test_save_refuses_bad_iterations(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="iterations_done"):
        save_default(tmp_path / "w.npz", iterations_done=-1)
