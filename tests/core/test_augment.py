"""core.augment: random warps of minibatches, and the trainer's hook."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pytest

from desktop_bp.core.augment import (
    DEFAULT_PARAMS,
    IDENTITY_PARAMS,
    MNIST_ASPECT_SPREAD,
    augment_batch,
    change_thickness,
    random_displacements,
    random_inverse_affines,
    warp_batch,
)
from desktop_bp.core.data import load_mnist
from desktop_bp.core.trainer import TrainConfig, Trainer


@pytest.fixture(scope="module")
def digits() -> np.ndarray:
    (x, _), _ = load_mnist()
    return x[:100]


def test_shapes_and_dtype(digits):
    rng = np.random.default_rng(0)
    flat = augment_batch(digits, rng)
    assert flat.shape == (100, 784) and flat.dtype == np.float32
    square = augment_batch(digits.reshape(-1, 28, 28), rng)
    assert square.shape == (100, 784)
    assert augment_batch(digits[:1].astype(np.float64), rng).shape == (1, 784)


def test_the_input_is_never_written(digits):
    before = digits.copy()
    out = augment_batch(digits, np.random.default_rng(1))
    np.testing.assert_array_equal(digits, before)
    assert not np.shares_memory(out, digits)


def test_identity_parameters_give_an_exact_copy(digits):
    out = augment_batch(digits, np.random.default_rng(2), IDENTITY_PARAMS)
    np.testing.assert_array_equal(out, digits)


def test_same_seed_same_batch_different_seed_different_batch(digits):
    a = augment_batch(digits, np.random.default_rng(7))
    b = augment_batch(digits, np.random.default_rng(7))
    c = augment_batch(digits, np.random.default_rng(8))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("params", [DEFAULT_PARAMS, replace(DEFAULT_PARAMS, elastic=1.4)])
def test_values_stay_in_0_1_and_digits_stay_digits(digits, params):
    out = augment_batch(digits, np.random.default_rng(3), params)
    assert out.min() >= 0.0 and out.max() <= 1.0
    # Small transforms: the ink is mostly kept and still overlaps the original.
    ratio = out.sum(axis=1) / digits.sum(axis=1)
    assert 0.6 < np.median(ratio) < 1.4
    overlap = (out * digits).sum(axis=1) / np.sqrt((out**2).sum(1) * (digits**2).sum(1))
    assert np.median(overlap) > 0.4
    assert not np.allclose(out, digits)


def test_a_pure_shift_moves_pixels_by_whole_steps(digits):
    batch = digits[:5]
    inverse = np.repeat(np.eye(2, dtype=np.float32)[None], 5, axis=0)
    shift = np.tile(np.array([[1.0, -2.0]], np.float32), (5, 1))  # 1 row down, 2 columns left
    out = warp_batch(batch, inverse, shift).reshape(5, 28, 28)
    expected = np.zeros_like(out)
    expected[:, 1:, :-2] = batch.reshape(5, 28, 28)[:, :-1, 2:]
    np.testing.assert_allclose(out, expected, atol=1e-6)


def test_a_half_pixel_shift_interpolates_bilinearly():
    image = np.zeros((1, 28, 28), np.float32)
    image[0, 10, 10] = 1.0
    out = warp_batch(image, np.eye(2, dtype=np.float32)[None], np.array([[0.5, 0.5]], np.float32))
    out = out.reshape(28, 28)
    np.testing.assert_allclose(out[10:12, 10:12], 0.25, atol=1e-6)
    assert out.sum() == pytest.approx(1.0)


def test_transforms_pivot_on_the_mnist_centre():
    inverse, shift = random_inverse_affines(
        1, np.random.default_rng(0), replace(IDENTITY_PARAMS, max_rotation=30, scale=(0.7, 0.7))
    )
    image = np.zeros((1, 28, 28), np.float32)
    image[0, 14, 14] = 1.0  # the pivot stays put under any rotation and zoom
    out = warp_batch(image, inverse, shift).reshape(28, 28)
    assert out[14, 14] == pytest.approx(1.0, abs=1e-4)


def test_per_axis_zoom_changes_the_aspect_ratio():
    inverse, _ = random_inverse_affines(
        400, np.random.default_rng(0), replace(IDENTITY_PARAMS, scale=(0.8, 1.2))
    )
    assert np.allclose(inverse[:, 0, 0], inverse[:, 1, 1])  # one zoom for both axes
    inverse, _ = random_inverse_affines(
        400,
        np.random.default_rng(0),
        replace(IDENTITY_PARAMS, scale=(0.8, 1.2), scale_per_axis=True),
    )
    assert np.abs(inverse[:, 0, 0] - inverse[:, 1, 1]).max() > 0.2
    assert np.allclose(inverse[:, 0, 1], 0) and np.allclose(inverse[:, 1, 0], 0)


def test_aspect_zoom_changes_only_the_width():
    inverse, _ = random_inverse_affines(
        400, np.random.default_rng(0), replace(IDENTITY_PARAMS, aspect=(0.7, 1.25))
    )
    np.testing.assert_allclose(inverse[:, 0, 0], 1.0, rtol=1e-6)  # rows untouched
    widths = 1.0 / inverse[:, 1, 1]
    assert widths.min() >= 0.7 - 1e-5 and widths.max() <= 1.25 + 1e-5
    assert widths.max() - widths.min() > 0.4


def test_mnist_aspect_spread_constant():
    (x, t), _ = load_mnist()
    images = x.reshape(-1, 28, 28)
    aspect = np.empty(len(images))
    for i, image in enumerate(images):
        rows = np.flatnonzero(image.max(axis=1) > 0.05)
        cols = np.flatnonzero(image.max(axis=0) > 0.05)
        aspect[i] = (cols[-1] - cols[0] + 1) / (rows[-1] - rows[0] + 1)
    relative = np.concatenate([aspect[t == d] / np.median(aspect[t == d]) for d in range(10)])
    np.testing.assert_allclose(np.percentile(relative, [10, 90]), MNIST_ASPECT_SPREAD, atol=0.01)


def test_thickness_blends_towards_dilation_and_erosion():
    image = np.zeros((2, 784), np.float32)
    image.reshape(2, 28, 28)[:, 10:14, 5:20] = 1.0
    out = change_thickness(image.copy(), np.array([0.5, -0.5]))
    assert out[0].sum() > image[0].sum() and out[1].sum() < image[1].sum()
    assert out.min() >= 0.0 and out.max() <= 1.0


def test_displacement_fields_have_the_requested_size():
    field = random_displacements(500, np.random.default_rng(0), 1.4)
    assert field.shape == (500, 2, 784)
    assert np.sqrt(np.mean(field**2)) == pytest.approx(1.4, rel=0.05)


def test_wrong_sizes_are_refused():
    with pytest.raises(ValueError, match="784"):
        augment_batch(np.zeros((4, 100)), np.random.default_rng(0))
    with pytest.raises(ValueError, match="784"):
        augment_batch(np.zeros(784), np.random.default_rng(0))


def test_fast_enough_for_every_training_step(digits):
    rng = np.random.default_rng(0)
    for _ in range(5):
        augment_batch(digits, rng)
    times = []
    for _ in range(30):
        started = time.perf_counter()
        augment_batch(digits, rng)
        times.append(time.perf_counter() - started)
    # About a millisecond on an idle core; generous here so a busy CI runner does not fail.
    assert np.median(times) < 0.025


# -- the trainer hook -------------------------------------------------------------------------
def _small_data(features: int = 784):
    rng = np.random.default_rng(0)
    x = rng.random((300, features)).astype(np.float32)
    t = rng.integers(0, 10, 300)
    return (x, t), (x[:50], t[:50])


def test_trainer_augments_only_when_asked():
    data = _small_data()
    plain = Trainer(TrainConfig(iterations=5, seed=1), data).run()
    again = Trainer(TrainConfig(iterations=5, seed=1), data).run()
    augmented = Trainer(TrainConfig(iterations=5, seed=1, augment=True), data).run()
    assert plain.losses == again.losses
    assert augmented.losses != plain.losses


def test_trainer_with_augmentation_is_reproducible_and_leaves_the_data_alone():
    data = _small_data()
    before = data[0][0].copy()
    a = Trainer(TrainConfig(iterations=5, seed=2, augment=True), data).run()
    b = Trainer(TrainConfig(iterations=5, seed=2, augment=True), data).run()
    assert a.losses == b.losses
    np.testing.assert_array_equal(data[0][0], before)


def test_trainer_skips_augmentation_for_inputs_that_are_not_28x28():
    data = _small_data(features=20)
    plain = Trainer(TrainConfig(iterations=5, seed=3), data).run()
    augmented = Trainer(TrainConfig(iterations=5, seed=3, augment=True), data).run()
    assert augmented.losses == plain.losses
