"""Presets, the learning-rate schedule, and the augmentation pool that makes warps cheap."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pytest

from desktop_bp import cli
from desktop_bp.core import augment_pool, presets
from desktop_bp.core.augment_pool import AugmentPool
from desktop_bp.core.data import load_mnist, load_raw
from desktop_bp.core.trainer import TrainConfig, Trainer


def test_the_book_preset_is_chapter_5_exactly():
    book = presets.PRESETS["book"]
    assert book == TrainConfig()
    assert (book.hidden_size, book.learning_rate, book.batch_size, book.iterations) == (
        50,
        0.1,
        100,
        10_000,
    )
    assert (book.weight_init_std, book.activation, book.augment) == (0.01, "relu", False)
    assert book.lr_schedule == "constant"


def test_the_cli_lists_the_presets_it_does_not_import():
    assert tuple(presets.PRESETS) == cli.PRESET_NAMES
    assert set(presets.LABELS) == set(presets.PRESETS)


def test_preset_copies_and_matching():
    changed = presets.preset("default", seed=3, iterations=7)
    assert changed.seed == 3 and changed.iterations == 7
    assert presets.PRESETS["default"].iterations != 7  # the preset itself is untouched
    assert presets.matching_preset(replace(presets.PRESETS["book"], seed=9)) == "book"
    assert presets.matching_preset(replace(presets.PRESETS["book"], hidden_size=51)) is None
    with pytest.raises(ValueError, match="unknown preset 'fast'"):
        presets.preset("fast")


def test_step_schedule_and_validation():
    config = TrainConfig(iterations=1000, lr_schedule="step")
    assert config.learning_rate_factor(0) == 1.0
    assert config.learning_rate_factor(749) == 1.0
    assert config.learning_rate_factor(750) == pytest.approx(0.1)
    assert TrainConfig().learning_rate_factor(999) == 1.0
    with pytest.raises(ValueError, match="lr_schedule"):
        TrainConfig(lr_schedule="cosine").validate()
    for bad in (0, -0.5, 1.5, float("nan"), "half"):
        with pytest.raises(ValueError, match="augment_fresh"):
            TrainConfig(augment_fresh=bad).validate()


def _pixels(n: int = 500) -> np.ndarray:
    return np.ascontiguousarray(load_raw("embedded")[0][:n].reshape(n, 784))


def test_pool_refreshes_chunks_deterministically_whatever_the_worker(monkeypatch):
    source = _pixels()
    before = source.copy()
    by_process = AugmentPool(source, seed=4, chunk=120)
    assert by_process.worker_kind == "process"
    for _ in range(6):
        by_process.advance()
    # A slow worker thread (a busy second core) instead: the same pool, because advance() waits.
    original = augment_pool.warp_chunk

    def slow(*args):
        time.sleep(0.02)
        return original(*args)

    monkeypatch.setattr(augment_pool, "warp_chunk", slow)
    monkeypatch.setattr(augment_pool, "USE_PROCESS", False)
    by_thread = AugmentPool(source, seed=4, chunk=120)
    assert by_thread.worker_kind == "thread"
    for _ in range(6):
        by_thread.advance()
    np.testing.assert_array_equal(by_process.pixels, by_thread.pixels)
    assert by_process.refreshed == 6 * 120
    # Chunks sweep the rows: after 6 x 120 of 500 rows every row has been warped once or twice.
    changed = np.any(by_process.pixels != source, axis=1)
    assert changed.mean() > 0.95
    np.testing.assert_array_equal(source, before)  # the source is never written
    assert by_process.pixels.dtype == np.uint8
    other_seed = AugmentPool(source, seed=5, chunk=120)
    other_seed.advance()
    assert not np.array_equal(other_seed.pixels, by_thread.pixels)
    for pool in (by_process, by_thread, other_seed):
        pool.close()
        pool.close()  # twice is harmless


def test_the_worker_process_ends_with_the_pool():
    pool = AugmentPool(_pixels(200), seed=0, chunk=50)
    process = pool._worker._process
    assert process is not None and process.poll() is None
    pool.advance()
    pool.close()
    assert process.poll() == 0  # asked to stop, it exits cleanly


def test_a_failing_warp_is_reported_not_lost(monkeypatch):
    monkeypatch.setattr(augment_pool, "USE_PROCESS", False)

    def broken(*args):
        raise ValueError("broken warp")

    monkeypatch.setattr(augment_pool, "warp_chunk", broken)
    pool = AugmentPool(_pixels(100), seed=0, chunk=10)
    with pytest.raises(ValueError, match="broken warp"):
        pool.advance()
    pool.close()


def test_pool_rejects_bad_input_and_use_after_close():
    with pytest.raises(ValueError, match=r"\(N, 784\)"):
        AugmentPool(np.zeros((0, 784), np.uint8), seed=0, chunk=10)
    pool = AugmentPool(_pixels(50), seed=0, chunk=10)
    pool.close()
    with pytest.raises(RuntimeError, match="closed"):
        pool.advance()


def test_pool_warps_float_images_too():
    images = _pixels(64).astype(np.float32) / 255
    pool = AugmentPool(images, seed=1, chunk=64)
    pool.advance()
    pool.close()
    assert pool.pixels.dtype == np.float32
    assert pool.pixels.min() >= 0.0 and pool.pixels.max() <= 1.0
    assert not np.array_equal(pool.pixels, images)


def test_augmented_training_is_reproducible_and_learns():
    data = load_mnist()
    config = TrainConfig(iterations=300, augment=True, seed=2, lr_schedule="step")
    first = Trainer(config, data).run()
    second = Trainer(config, data).run()
    assert first.losses == second.losses
    assert first.test_acc[-1] > 0.8
    plain = Trainer(replace(config, augment=False), data).run()
    assert plain.losses != first.losses  # the pool's warps really reach the minibatches


def test_a_failing_warp_in_the_worker_process_is_reported():
    from desktop_bp.core.augment import AugmentParams

    pool = AugmentPool(_pixels(100), seed=0, chunk=10, params=AugmentParams(scale=("a", "b")))
    assert pool.worker_kind == "process"
    with pytest.raises(RuntimeError, match="worker process"):
        pool.advance()
    pool.close()


def test_sampled_training_accuracy_ends_on_every_training_image():
    data = load_mnist()
    (x_train, t_train), _ = data
    config = TrainConfig(iterations=321, train_accuracy_images=500, seed=1)  # an epoch: 160
    trainer = Trainer(config, data)
    history = trainer.run()
    assert history.epoch_iterations == [1, 161, 321]  # the last step was due: no duplicate
    net = trainer.network
    assert history.train_acc[-1] == pytest.approx(net.accuracy(x_train, t_train), abs=1e-9)
    # The epochs before the end count correct answers among the first 500 images only.
    assert all(abs(acc * 500 - round(acc * 500)) < 1e-6 for acc in history.train_acc[:-1])
    assert abs(history.train_acc[-1] * 500 - round(history.train_acc[-1] * 500)) > 1e-6
    with pytest.raises(ValueError, match="train_accuracy_images"):
        TrainConfig(train_accuracy_images=-1).validate()
