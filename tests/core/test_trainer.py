from __future__ import annotations

import math

import numpy as np
import pytest

from desktop_bp.core.errors import TrainingDiverged
from desktop_bp.core.trainer import GRADIENT_KEYS, EpochRecord, StepRecord, TrainConfig, Trainer


def toy_data(seed: int = 0, n_train: int = 600, n_test: int = 200):
    """Two separable blobs per class in 784 dims: learnable in a few hundred steps."""
    rng = np.random.default_rng(seed)
    centres = rng.random((10, 784)).astype(np.float32)
    t_train = rng.integers(0, 10, n_train)
    t_test = rng.integers(0, 10, n_test)
    x_train = np.clip(centres[t_train] + 0.2 * rng.standard_normal((n_train, 784)), 0, 1)
    x_test = np.clip(centres[t_test] + 0.2 * rng.standard_normal((n_test, 784)), 0, 1)
    return (x_train.astype(np.float32), t_train), (x_test.astype(np.float32), t_test)


def test_training_learns_and_records_everything():
    config = TrainConfig(iterations=300, batch_size=50)
    trainer = Trainer(config, toy_data())
    records = list(trainer.steps())
    steps = [r for r in records if isinstance(r, StepRecord)]
    epochs = [r for r in records if isinstance(r, EpochRecord)]
    assert [s.iteration for s in steps] == list(range(1, 301))
    assert set(steps[0].grads) == set(GRADIENT_KEYS)
    assert all(math.isfinite(v) and v > 0 for v in steps[-1].grads.values())
    # Book schedule: after step i (0-based) with i % iter_per_epoch == 0, plus a final one.
    assert trainer.iter_per_epoch == 12
    assert [e.iteration for e in epochs][:3] == [1, 13, 25]
    assert epochs[-1].iteration == 300
    assert epochs[-1].test_acc > 0.9
    assert np.mean(trainer.history.losses[-20:]) < np.mean(trainer.history.losses[:20]) / 4
    assert trainer.history.test_acc == [e.test_acc for e in epochs]


def test_same_seed_gives_bit_identical_losses():
    data = toy_data()
    a = Trainer(TrainConfig(iterations=120, seed=11), data).run()
    b = Trainer(TrainConfig(iterations=120, seed=11), data).run()
    c = Trainer(TrainConfig(iterations=120, seed=12), data).run()
    assert a.losses == b.losses
    assert a.losses != c.losses


def pixel_data(seed: int = 0):
    """toy_data quantised to k / 255, as load_mnist normalises."""
    (x_train, t_train), (x_test, t_test) = toy_data(seed)
    quantise = lambda x: np.rint(x * 255).astype(np.uint8) / np.float32(255)  # noqa: E731
    return (quantise(x_train), t_train), (quantise(x_test), t_test)


def test_pixel_bytes_used_only_when_exact_and_give_the_same_training():
    data = pixel_data()
    fast = Trainer(TrainConfig(iterations=150, seed=3), data)
    assert fast._train_pixels is not None
    assert fast._train_pixels.dtype == np.uint8
    assert Trainer(TrainConfig(iterations=1), toy_data())._train_pixels is None
    slow = Trainer(TrainConfig(iterations=150, seed=3), data)
    slow._train_pixels = None  # gather the float rows instead
    assert fast.run().losses == slow.run().losses


def test_minibatches_are_the_per_step_draws_of_the_seeded_generator():
    """Indices drawn in blocks are the numbers one draw per step would give."""
    data = pixel_data()
    config = TrainConfig(iterations=70, batch_size=20, seed=5)
    trainer = Trainer(config, data)
    rng = np.random.default_rng(5)
    trainer.network = type(trainer.network)(784, 50, 10, dtype=np.float32, rng=rng)
    seen = []
    original = trainer.network.gradient

    def spy(x, t, **kwargs):
        seen.append(x.copy())
        return original(x, t, **kwargs)

    trainer.network.gradient = spy
    trainer.run()
    x_train = data[0][0]
    expected = [x_train[rng.integers(0, x_train.shape[0], 20)] for _ in range(70)]
    assert len(seen) == 70
    assert all(np.array_equal(a, b) for a, b in zip(seen, expected, strict=True))


def test_update_ratio_is_lr_times_gradient_over_weights():
    trainer = Trainer(TrainConfig(iterations=1), toy_data())
    w1_before = trainer.network.params["W1"].copy()
    step = next(trainer.steps())
    rms_w1 = np.sqrt(np.mean(w1_before.astype(np.float64) ** 2))
    assert step.grads["update/W1"] == pytest.approx(0.1 * step.grads["dW1"] / rms_w1, rel=1e-4)
    moved = trainer.network.params["W1"] - w1_before
    assert np.sqrt(np.mean(moved.astype(np.float64) ** 2)) == pytest.approx(
        0.1 * step.grads["dW1"], rel=1e-3
    )


def test_learning_rate_can_change_between_steps():
    trainer = Trainer(TrainConfig(iterations=3), toy_data())
    gen = trainer.steps()
    next(gen)
    trainer.learning_rate = 0.0
    before = trainer.network.copy_params()
    for record in gen:
        if isinstance(record, StepRecord):
            break
    for key, value in before.items():
        np.testing.assert_array_equal(trainer.network.params[key], value)


def test_nan_loss_raises_training_diverged():
    trainer = Trainer(TrainConfig(iterations=5), toy_data())
    trainer.network.params["W2"][0, 0] = np.nan
    with pytest.raises(TrainingDiverged, match="iteration 1: the loss became nan"):
        trainer.run()


def test_huge_learning_rate_raises_training_diverged():
    trainer = Trainer(
        TrainConfig(iterations=500, learning_rate=1e6, weight_init_std=1.0), toy_data()
    )
    with pytest.raises(TrainingDiverged, match="learning rate"), np.errstate(all="ignore"):
        trainer.run()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("hidden_size", 0),
        ("batch_size", -1),
        ("iterations", 0),
        ("learning_rate", -0.1),
        ("learning_rate", float("nan")),
        ("weight_init_std", 0),
        ("activation", "tanh"),
        ("seed", -3),
    ],
)
def test_config_rejects_bad_values(field, value):
    with pytest.raises(ValueError, match=field if field != "activation" else "activation"):
        TrainConfig(**{field: value}).validate()


def test_sigmoid_network_trains_too():
    trainer = Trainer(
        TrainConfig(iterations=300, batch_size=50, activation="sigmoid", learning_rate=1.0),
        toy_data(),
    )
    trainer.run()
    assert trainer.history.test_acc[-1] > 0.8
