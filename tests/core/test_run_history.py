"""The run history on disk: round trip, corrupt files, bounds, comparing, CSV export."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from desktop_bp.core import run_history as rh
from desktop_bp.core.trainer import GRADIENT_KEYS, TrainConfig, TrainingHistory


def _record(lr: float = 0.1, minutes: int = 0, steps: int = 30, **changes) -> rh.RunRecord:
    history = TrainingHistory(
        losses=list(np.linspace(2.3, 0.3, steps)),
        epoch_iterations=[1, steps // 2, steps],
        train_acc=[0.1, 0.8, 0.9],
        test_acc=[0.11, 0.79, 0.88],
    )
    started = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.timezone.utc) + dt.timedelta(
        minutes=minutes
    )
    record = rh.record_from_history(
        history,
        config=TrainConfig(learning_rate=lr, iterations=steps),
        dataset="embedded",
        outcome="completed",
        wall_seconds=1.5,
        preset=None,
        gradient_iterations=np.arange(1, steps + 1, 3),
        gradients={k: np.full(len(range(1, steps + 1, 3)), 0.01) for k in GRADIENT_KEYS},
        started_at=started,
    )
    return replace(record, **changes)


def test_round_trip_keeps_everything(tmp_path):
    store = rh.RunStore(tmp_path)
    record = _record(note="first try")
    store.save(record)
    (loaded,), notes = store.load()
    assert notes == []
    assert loaded.run_id == record.run_id
    assert loaded.config == record.config
    assert loaded.note == "first try"
    assert loaded.outcome == "completed"
    np.testing.assert_array_equal(loaded.losses, record.losses)
    np.testing.assert_array_equal(loaded.epoch_iterations, [1, 15, 30])
    np.testing.assert_allclose(loaded.test_acc, [0.11, 0.79, 0.88], rtol=1e-6)
    assert set(loaded.gradients) == set(GRADIENT_KEYS)
    assert loaded.final_test_acc == pytest.approx(0.88)
    assert loaded.iterations == 30
    # No pickle anywhere: the file loads with allow_pickle=False (read_run does) and holds
    # no object arrays.
    with np.load(store.path_of(record.run_id), allow_pickle=False) as npz:
        assert all(npz[name].dtype != object for name in npz.files)


def test_newest_first(tmp_path):
    store = rh.RunStore(tmp_path)
    old, new = _record(minutes=0), _record(minutes=5)
    store.save(new)
    store.save(old)
    records, _ = store.load()
    assert [r.run_id for r in records] == [new.run_id, old.run_id]


@pytest.mark.parametrize(
    "damage",
    ["garbage", "truncated", "empty", "wrong_json", "mismatched_curve", "bad_config"],
)
def test_corrupt_file_is_skipped_with_a_note(tmp_path, damage):
    store = rh.RunStore(tmp_path)
    good = _record(minutes=1)
    bad = _record(minutes=2)
    store.save(good)
    store.save(bad)
    path = store.path_of(bad.run_id)
    if damage == "garbage":
        path.write_bytes(os.urandom(500))
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[:300])
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        metadata = json.loads(arrays["metadata"].tobytes())
        if damage == "wrong_json":
            arrays["metadata"] = np.frombuffer(b"{not json", np.uint8)
        elif damage == "mismatched_curve":
            arrays["losses"] = arrays["losses"][:-3]
        elif damage == "bad_config":
            metadata["config"]["learning_rate"] = -1
            arrays["metadata"] = np.frombuffer(json.dumps(metadata).encode(), np.uint8)
        np.savez(path, **arrays)
    records, notes = store.load()
    assert [r.run_id for r in records] == [good.run_id]
    assert len(notes) == 1 and path.name in notes[0]


def test_a_stray_non_run_npz_is_skipped(tmp_path):
    np.savez(tmp_path / "weights.npz", W1=np.zeros(3))
    records, notes = rh.RunStore(tmp_path).load()
    assert records == [] and "not a run file" in notes[0]


def test_missing_folder_is_an_empty_history(tmp_path):
    assert rh.RunStore(tmp_path / "nope").load() == ([], [])


def test_bounded_keeps_pinned_runs(tmp_path):
    store = rh.RunStore(tmp_path, limit=3)
    pinned = _record(minutes=0, pinned=True)
    store.save(pinned)
    for minute in range(1, 6):
        store.save(_record(minutes=minute))
    records, _ = store.load()
    assert len(records) == 4  # three newest unpinned + the pinned oldest
    assert pinned.run_id in {r.run_id for r in records}
    assert len(list(tmp_path.glob("*.npz"))) == 4


def test_update_and_delete(tmp_path):
    store = rh.RunStore(tmp_path)
    record = _record()
    store.save(record)
    store.update(replace(record, note="renamed", pinned=True))
    (loaded,), _ = store.load()
    assert loaded.note == "renamed" and loaded.pinned
    store.delete(record.run_id)
    store.delete(record.run_id)  # twice is harmless
    assert store.load() == ([], [])


def test_no_temporary_files_are_left(tmp_path):
    store = rh.RunStore(tmp_path)
    store.save(_record())
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_unwritable_folder_raises_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(rh.RunHistoryError, match="cannot create"):
        rh.RunStore(blocker / "runs").save(_record())


def test_differing_settings_and_labels():
    a, b = _record(lr=0.1), _record(lr=0.5)
    c = replace(
        _record(lr=0.1), config=replace(a.config, activation="sigmoid", weight_init_std=1.0)
    )
    assert rh.differing_settings([a, b]) == ["learning_rate"]
    assert rh.describe(b, ["learning_rate"]) == "lr 0.5"
    keys = rh.differing_settings([a, c])
    assert keys == ["activation", "weight_init_std"]
    assert rh.describe(c, keys) == "sigmoid, std 1"
    assert rh.describe(replace(b, note="fast"), ["learning_rate"]) == "fast (lr 0.5)"
    assert rh.differing_settings([a]) == []


def test_csv_long_table(tmp_path):
    a, b = _record(lr=0.1, steps=30), _record(lr=0.5, steps=20, minutes=1)
    path = tmp_path / "curves.csv"
    count = rh.write_curves_csv(path, [a, b])
    with path.open(newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert count == len(rows) == 50
    assert list(rows[0])[:6] == ["run", "label", "iteration", "loss", "train_acc", "test_acc"]
    first = [r for r in rows if r["run"] == a.run_id]
    assert [int(r["iteration"]) for r in first] == list(range(1, 31))
    assert {r["label"] for r in first} == {"lr 0.1, 30 steps"}
    assert float(first[0]["loss"]) == pytest.approx(2.3, rel=1e-6)
    epoch_rows = [r for r in first if r["test_acc"]]
    assert [int(r["iteration"]) for r in epoch_rows] == [1, 15, 30]
    assert float(epoch_rows[-1]["test_acc"]) == pytest.approx(0.88, rel=1e-6)
    assert first[1]["dW1"] == "" and first[3]["dW1"] != ""  # sampled every third step


def test_cli_history_csv(tmp_path):
    path = tmp_path / "run.csv"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "desktop_bp",
            "train",
            "--preset",
            "book",
            "--iters",
            "200",
            "--no-progress",
            "--history-csv",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert f"curves written to {path}" in result.stdout
    with path.open(newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert [int(r["iteration"]) for r in rows] == list(range(1, 201))
    assert all(r["loss"] for r in rows)
    assert float(rows[0]["loss"]) > float(rows[-1]["loss"])
    assert rows[-1]["test_acc"] and 0 < float(rows[-1]["test_acc"]) <= 1
    assert all(r["dW1"] for r in rows)


def test_cli_history_csv_bad_folder_fails_before_training(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "desktop_bp",
            "train",
            "--history-csv",
            str(tmp_path / "missing" / "run.csv"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "--history-csv" in result.stderr and "does not exist" in result.stderr
    assert result.stdout == ""


def test_a_loaded_weights_file_becomes_a_loaded_run(tmp_path):
    from desktop_bp.core.checkpoint import load_checkpoint, save_checkpoint
    from desktop_bp.core.network import TwoLayerNet

    net = TwoLayerNet(784, 20, 10, activation="sigmoid", rng=np.random.default_rng(0))
    history = TrainingHistory(
        losses=[2.3, 1.0, 0.5], epoch_iterations=[3], train_acc=[0.8], test_acc=[0.75]
    )
    weights = tmp_path / "mine.npz"
    config = TrainConfig(hidden_size=20, activation="sigmoid", learning_rate=0.5)
    save_checkpoint(
        weights, net, config=config, dataset="embedded", iterations_done=3, history=history
    )
    record = rh.record_from_checkpoint(load_checkpoint(weights), weights)
    assert record.outcome == "loaded"
    assert record.note == "mine.npz"
    assert record.config.learning_rate == 0.5
    assert record.config.activation == "sigmoid"
    assert record.dataset == "embedded"
    np.testing.assert_allclose(record.losses, [2.3, 1.0, 0.5], rtol=1e-6)
    assert record.loss_iterations.tolist() == [1, 2, 3]
    assert record.final_test_acc == pytest.approx(0.75)
    again = rh.record_from_checkpoint(load_checkpoint(weights), weights)
    assert again.run_id == record.run_id  # the same file: the same run, not a duplicate
    store = rh.RunStore(tmp_path / "runs")
    store.save(record)
    store.save(again)
    (loaded,), notes = store.load()
    assert notes == [] and loaded.outcome == "loaded"


def test_pruning_sees_files_changed_since_they_were_read(tmp_path):
    """The store remembers what each file read as; a file rewritten since (here pinned by
    another store on the same folder) is read again before pruning decides."""
    store = rh.RunStore(tmp_path, limit=2)
    oldest = _record(minutes=0)
    store.save(oldest)
    store.save(_record(minutes=1))
    rh.RunStore(tmp_path).update(replace(oldest, pinned=True))
    store.save(_record(minutes=2))
    store.save(_record(minutes=3))
    records, _ = store.load()
    assert oldest.run_id in {r.run_id for r in records}
    assert len(records) == 3
