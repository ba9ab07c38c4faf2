"""Hostile bytes: whatever a weights file contains, loading raises CheckpointError or succeeds.

Random bytes, truncations and byte mutations of a valid file exercise the zip directory, the
local headers, the deflate streams, the .npy headers and the JSON metadata. A load that succeeds
(a harmless mutation, e.g. of a timestamp) must still return consistent, finite weights.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop_bp.core.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from desktop_bp.core.errors import CheckpointError
from desktop_bp.core.network import PARAM_NAMES, TwoLayerNet
from desktop_bp.core.trainer import TrainConfig, TrainingHistory

FAST = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile")


@pytest.fixture(scope="module")
def valid(folder: Path) -> bytes:
    """A small but complete weights file (5-3-2 keeps each example fast)."""
    net = TwoLayerNet(5, 3, 2, 0.5, dtype=np.float32, rng=np.random.default_rng(0))
    history = TrainingHistory([2.0, 1.0], [1, 2], [0.5, 0.75], [0.5, 0.5])
    path = folder / "valid.npz"
    save_checkpoint(
        path,
        net,
        config=TrainConfig(hidden_size=3),
        dataset="embedded",
        iterations_done=2,
        history=history,
    )
    return path.read_bytes()


def load_bytes(folder: Path, data: bytes) -> Checkpoint | None:
    """Load ``data`` as a weights file; None if refused with CheckpointError (and only that)."""
    path = folder / "candidate.npz"
    path.write_bytes(data)
    try:
        ckpt = load_checkpoint(path)
    except CheckpointError as exc:
        assert str(path) in str(exc)
        return None
    # Accepted: it must be a usable, consistent checkpoint.
    shapes = ckpt.build_network().param_shapes()
    for key in PARAM_NAMES:
        assert ckpt.params[key].shape == shapes[key]
        assert np.all(np.isfinite(ckpt.params[key]))
    return ckpt


def test_valid_file_loads(folder: Path, valid: bytes) -> None:
    assert load_bytes(folder, valid) is not None


@FAST
@given(data=st.binary(max_size=4096))
def test_random_bytes(folder: Path, data: bytes) -> None:
    assert load_bytes(folder, data) is None


@FAST
@given(
    prefix=st.sampled_from([b"PK\x03\x04", b"PK\x05\x06", b"\x93NUMPY", b"\x80\x04"]),
    rest=st.binary(max_size=2048),
)
def test_random_bytes_behind_real_magic(folder: Path, prefix: bytes, rest: bytes) -> None:
    """Zip, empty-zip, .npy and pickle magic numbers lead the loader down each code path."""
    assert load_bytes(folder, prefix + rest) is None


@FAST
@given(data=st.data())
def test_truncations(folder: Path, valid: bytes, data: st.DataObject) -> None:
    cut = data.draw(st.integers(min_value=0, max_value=len(valid) - 1))
    assert load_bytes(folder, valid[:cut]) is None


@FAST
@given(data=st.data())
def test_byte_mutations(folder: Path, valid: bytes, data: st.DataObject) -> None:
    mutated = bytearray(valid)
    # Half the edits go to the last 200 bytes (the zip central directory), where a single
    # byte changes sizes, offsets, flags and names.
    position = st.one_of(
        st.integers(0, len(valid) - 1), st.integers(max(len(valid) - 200, 0), len(valid) - 1)
    )
    edits = data.draw(st.lists(st.tuples(position, st.integers(0, 255)), min_size=1, max_size=8))
    for index, value in edits:
        mutated[index] = value
    load_bytes(folder, bytes(mutated))


@FAST
@given(data=st.data())
def test_insertions_and_deletions(folder: Path, valid: bytes, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(valid)))
    removed = data.draw(st.integers(0, 64))
    inserted = data.draw(st.binary(max_size=64))
    load_bytes(folder, valid[:start] + inserted + valid[start + removed :])
