"""Minibatch SGD, the chapter's training loop, as a generator.

``Trainer.steps()`` yields a :class:`StepRecord` after every step and an :class:`EpochRecord`
after every epoch's worth of steps (and once more at the very end). The caller owns pausing and
stopping: it simply stops pulling from the generator between two records. No Qt here.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field

import numpy as np
from numpy.typing import NDArray

from desktop_bp.core.augment import PIXELS as AUGMENT_PIXELS
from desktop_bp.core.augment_pool import AugmentPool
from desktop_bp.core.errors import TrainingDiverged
from desktop_bp.core.network import ACTIVATIONS, PARAM_NAMES, TwoLayerNet
from desktop_bp.core.threads import blas_threads

# BLAS threads for the minibatch steps and for the full-set evaluations (None = the default
# pool). benchmarks/train_speed.py measured these on a 2-vCPU machine (see README): small
# (100x784) products gain nothing from a second thread and sometimes contend badly; the
# 10,000-row evaluation products scale.
TRAINING_BLAS_THREADS = 1
EVALUATION_BLAS_THREADS: int | None = 1
# Evaluate each epoch's accuracy in a second thread while training continues (see steps()).
OVERLAP_EVALUATION = True

# Divergence: the book's loss adds 1e-7 inside log(), so it never becomes inf; a learning rate
# that is far too large instead drives it to ~15 (confidently wrong) or kills every ReLU. A
# loss averaged over DIVERGENCE_WINDOW steps above twice the loss of random guessing (2 ln K)
# never happened for learnable rates (measured up to lr 3 for ReLU, 10 for sigmoid) and always
# within ~50 steps for lr 5-50.
DIVERGENCE_WINDOW = 50
DIVERGENCE_FACTOR = 2.0
# Minibatch indices are drawn this many steps at a time: one rng call instead of one per step.
# Generator.integers draws the same numbers whether asked for (k, batch) at once or for batch k
# times, so the sequence for a seed does not depend on it (augmentation, which draws from the
# same generator, does interleave differently).
INDEX_BLOCK_STEPS = 64
#: Learning-rate schedules: the book's constant rate, or one step down near the end (SGD then
#: settles into the minimum it has found instead of bouncing around it).
LR_SCHEDULES = ("constant", "step")
STEP_DECAY_AT = 0.75
STEP_DECAY_FACTOR = 0.1


@dataclass
class TrainConfig:
    """Hyperparameters; the defaults are the book's ch05/train_neuralnet.py."""

    hidden_size: int = 50
    activation: str = "relu"
    weight_init_std: float = 0.01
    learning_rate: float = 0.1
    batch_size: int = 100
    iterations: int = 10_000
    seed: int = 0
    augment: bool = False
    #: With ``augment``: the share of each block of minibatch rows that are fresh random warps
    #: (core/augment_pool.py); the rest are earlier warps still in the pool. Measured on the
    #: default preset (UJI digits, 3 seeds): 0.25 read 0.961 at +34 % time, 0.15 0.960 at
    #: +15 %, 0.10 0.943 at +3 %.
    augment_fresh: float = 0.15
    #: "constant" (the book), or "step": the learning rate x 0.1 for the last quarter of the
    #: iterations (see ``learning_rate_factor``).
    lr_schedule: str = "constant"
    #: The training accuracy of each epoch is measured on the first this many training images
    #: (0: all of them, as the book does). The evaluations run beside training on the second
    #: core, which augmentation also uses; a few thousand images estimate the accuracy to
    #: +-0.3 % at a fraction of the cost of 16,000 or 60,000.
    train_accuracy_images: int = 0

    def validate(self) -> None:
        """Raise ValueError naming the first bad field, its value and what is allowed."""
        if self.activation not in ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {sorted(ACTIVATIONS)}, got {self.activation!r}"
            )
        for name in ("hidden_size", "batch_size", "iterations"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        for name in ("weight_init_std", "learning_rate"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number, got {value!r}")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}")
        limit = self.train_accuracy_images
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
            raise ValueError(f"train_accuracy_images must be a non-negative integer, got {limit!r}")
        fresh = self.augment_fresh
        if not (isinstance(fresh, int | float) and math.isfinite(fresh) and 0 < fresh <= 1):
            raise ValueError(f"augment_fresh must be a number in (0, 1], got {fresh!r}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(
                f"lr_schedule must be one of {sorted(LR_SCHEDULES)}, got {self.lr_schedule!r}"
            )

    def learning_rate_factor(self, iteration: int) -> float:
        """What the schedule multiplies the learning rate by for step ``iteration`` (0-based)."""
        if self.lr_schedule == "step" and iteration >= STEP_DECAY_AT * self.iterations:
            return STEP_DECAY_FACTOR
        return 1.0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class StepRecord:
    """One SGD step. ``iteration`` counts steps done (1-based); ``loss`` is the minibatch loss
    the gradient was computed from; ``grads`` maps :data:`GRADIENT_KEYS` to floats."""

    iteration: int
    loss: float
    grads: dict[str, float]


@dataclass(frozen=True, slots=True)
class EpochRecord:
    """Accuracy on the full train and test sets after ``iteration`` steps."""

    epoch: int
    iteration: int
    train_acc: float
    test_acc: float


# What the gradient magnitudes mean, in the order the panel lists them. All are per element
# (root mean square), so a 784x50 matrix and a 10-vector compare.
GRADIENT_KEYS: dict[str, str] = {
    "dW1": "RMS of dL/dW1 (first Affine's weights)",
    "db1": "RMS of dL/db1",
    "dW2": "RMS of dL/dW2 (second Affine's weights)",
    "db2": "RMS of dL/db2",
    "dout Affine2": "RMS of the gradient arriving at Affine2 (from SoftmaxWithLoss)",
    "dout activation": "RMS of the gradient arriving at the activation (from Affine2)",
    "dout Affine1": "RMS of the gradient arriving at Affine1 (from the activation)",
    "update/W1": "RMS(lr·dW1) / RMS(W1): how far one step moves W1, relative to its size",
    "update/W2": "RMS(lr·dW2) / RMS(W2)",
}


@dataclass
class TrainingHistory:
    """The curves so far: the loss per step and the accuracies per epoch."""

    losses: list[float] = field(default_factory=list)
    epoch_iterations: list[int] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)

    def to_dict(self) -> dict[str, list]:
        return asdict(self)


def rms(a: NDArray) -> float:
    """Root mean square of all elements (a BLAS dot product: cheap enough for every step)."""
    return math.sqrt(float(np.vdot(a, a)) / max(a.size, 1))


def _as_pixel_bytes(x: NDArray) -> NDArray[np.uint8] | None:
    """``x`` as uint8 k when every element is exactly float(k) / 255 (normalised MNIST), else
    None. A minibatch is then gathered from 1/4 of the bytes (6 MB instead of 25 MB: it stays
    in cache) and divided by 255 again, giving bit-for-bit the same float rows."""
    if x.dtype.kind != "f" or x.size == 0:
        return None
    k = np.rint(x * 255)
    if not (k.min() >= 0 and k.max() <= 255):
        return None
    pixels = k.astype(np.uint8)
    if not np.array_equal(pixels / x.dtype.type(255), x):
        return None
    return pixels


class Trainer:
    """Runs :class:`TrainConfig` on a data set; ``steps()`` is the training generator.

    data : ((x_train, t_train), (x_test, t_test)) with x of shape (N, 784) float and t label
        indices (N,), as ``load_mnist()`` returns.
    ``learning_rate`` may be changed between steps (the window's live control).
    """

    def __init__(
        self,
        config: TrainConfig,
        data: tuple[tuple[NDArray, NDArray], tuple[NDArray, NDArray]],
        *,
        network: TwoLayerNet | None = None,
        dtype: type | np.dtype = np.float32,
        history: TrainingHistory | None = None,
        start_iteration: int = 0,
    ) -> None:
        config.validate()
        (x_train, t_train), (x_test, t_test) = data
        if x_train.ndim != 2 or x_train.shape[0] != t_train.shape[0]:
            raise ValueError(
                f"training images must be (N, features) with N labels, got {x_train.shape} "
                f"images and {t_train.shape} labels"
            )
        self.config = config
        self.rng = np.random.default_rng(config.seed)
        # float32 halves memory traffic; the gradient check runs in float64 separately.
        self.x_train = np.ascontiguousarray(x_train, dtype=dtype)
        self.t_train = np.asarray(t_train)
        self.x_test = np.ascontiguousarray(x_test, dtype=dtype)
        self.t_test = np.asarray(t_test)
        self.network = network or TwoLayerNet(
            self.x_train.shape[1],
            config.hidden_size,
            int(max(self.t_train.max(), self.t_test.max())) + 1
            if self.t_train.ndim == 1
            else self.t_train.shape[1],
            config.weight_init_std,
            activation=config.activation,
            dtype=dtype,
            rng=self.rng,
        )
        self.learning_rate = float(config.learning_rate)
        self.history = history or TrainingHistory()
        self.iteration = start_iteration
        self.iter_per_epoch = max(self.x_train.shape[0] // config.batch_size, 1)
        self.seconds = 0.0
        self._evaluator: TwoLayerNet | None = None
        # The training images again as uint8 when that is exact (see _as_pixel_bytes); the
        # float copy stays for the accuracy evaluations.
        self._train_pixels = _as_pixel_bytes(self.x_train)

    def evaluate(self) -> EpochRecord:
        """Accuracy on the full train and test sets now, recorded in the history."""
        with blas_threads(EVALUATION_BLAS_THREADS):
            accuracies = self._accuracies(self.network.copy_params(), full=True)
        return self._record_epoch(self.iteration, *accuracies)

    def _accuracies(self, params: dict[str, NDArray], *, full: bool = False) -> tuple[float, float]:
        """(train, test) accuracy of ``params`` — on a network of its own, so it can run in
        another thread while ``self.network`` keeps training."""
        if self._evaluator is None:
            net = self.network
            self._evaluator = TwoLayerNet(
                net.input_size,
                net.hidden_size,
                net.output_size,
                activation=net.activation,
                dtype=net.dtype,
            )
        self._evaluator.params.update(params)
        # The first images: the data sets are shuffled, so they are a fair sample.
        limit = None if full else self.config.train_accuracy_images or None
        return (
            self._evaluator.accuracy(self.x_train[:limit], self.t_train[:limit]),
            self._evaluator.accuracy(self.x_test, self.t_test),
        )

    def _record_epoch(self, iteration: int, train_acc: float, test_acc: float) -> EpochRecord:
        record = EpochRecord(len(self.history.train_acc), iteration, train_acc, test_acc)
        self.history.epoch_iterations.append(iteration)
        self.history.train_acc.append(train_acc)
        self.history.test_acc.append(test_acc)
        return record

    def steps(self) -> Iterator[StepRecord | EpochRecord]:
        """Train until ``config.iterations`` steps are done; yield after every step.

        The book evaluates after step i (0-based) when i % iter_per_epoch == 0, and we once
        more at the end. Each evaluation runs on a copy of the weights in a second thread
        while training goes on (numpy releases the GIL inside BLAS, so a 2-core machine does
        both at once); its EpochRecord, stamped with the iteration of the copy, is yielded
        after the first step that finds it done. At most one evaluation is in flight.

        Raises TrainingDiverged when the loss is not finite, or explodes (see
        DIVERGENCE_WINDOW); the weights are those before the step that noticed it.
        """
        net = self.network
        params = net.params
        x_train, t_train = self.x_train, self.t_train
        pixels = self._train_pixels
        pixel_scale = x_train.dtype.type(255)
        train_size, batch_size = x_train.shape[0], self.config.batch_size
        augment = self.config.augment and x_train.shape[1] == AUGMENT_PIXELS
        pool = None
        if augment:
            # Warps come from a pool refreshed by a worker process (core/augment_pool.py):
            # the minibatch rows are gathered from it as from the plain images.
            chunk = round(self.config.augment_fresh * INDEX_BLOCK_STEPS * batch_size)
            pool = AugmentPool(pixels if pixels is not None else x_train, self.config.seed, chunk)
            if pixels is not None:
                pixels = pool.pixels
            else:
                x_train = pool.pixels
        index_block = np.empty((0, batch_size), dtype=np.int64)
        block_row = 0
        # lr·grad goes into these before the in-place update, not into a new array every step.
        update_buffers = {key: np.empty_like(params[key]) for key in PARAM_NAMES}
        stats_keys = self._stats_keys()
        last_evaluated = -1
        pending: tuple[int, Future[tuple[float, float]]] | None = None
        sampled = bool(self.config.train_accuracy_images)
        recent: deque[float] = deque(maxlen=DIVERGENCE_WINDOW)
        recent_sum = 0.0
        explode_at = DIVERGENCE_FACTOR * math.log(net.output_size) * DIVERGENCE_WINDOW
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="desktop-bp-eval")
        try:
            with blas_threads(TRAINING_BLAS_THREADS):
                while self.iteration < self.config.iterations:
                    started = time.perf_counter()
                    if block_row == index_block.shape[0]:
                        if pool is not None:
                            pool.advance()  # swap in the warps made during the last block
                        steps_left = self.config.iterations - self.iteration
                        index_block = self.rng.integers(
                            0, train_size, (min(INDEX_BLOCK_STEPS, steps_left), batch_size)
                        )
                        block_row = 0
                    batch_mask = index_block[block_row]
                    block_row += 1
                    if pixels is None:
                        x_batch = x_train.take(batch_mask, axis=0)
                    else:
                        x_batch = np.divide(pixels.take(batch_mask, axis=0), pixel_scale)
                    t_batch = t_train.take(batch_mask, axis=0)
                    grad = net.gradient(x_batch, t_batch, need_input_grad=False)
                    loss = net.last_layer.loss
                    if not math.isfinite(loss):
                        raise TrainingDiverged(self.iteration + 1, loss, self.learning_rate)
                    if len(recent) == DIVERGENCE_WINDOW:
                        recent_sum -= recent[0]
                    recent.append(loss)
                    recent_sum += loss
                    if len(recent) == DIVERGENCE_WINDOW and recent_sum > explode_at:
                        raise TrainingDiverged(
                            self.iteration + 1,
                            recent_sum / DIVERGENCE_WINDOW,
                            self.learning_rate,
                            chance_loss=math.log(net.output_size),
                        )
                    lr = self.learning_rate * self.config.learning_rate_factor(self.iteration)
                    stats = self._gradient_stats(grad, lr, stats_keys)
                    for key in PARAM_NAMES:
                        step = np.multiply(grad[key], lr, out=update_buffers[key])
                        # in place: the layers read these arrays
                        np.subtract(params[key], step, out=params[key])
                    self.iteration += 1
                    self.history.losses.append(loss)
                    due = (self.iteration - 1) % self.iter_per_epoch == 0
                    if pending is not None and (due or pending[1].done()):
                        record = self._record_epoch(pending[0], *pending[1].result())
                        pending = None
                    else:
                        record = None
                    # A run's last accuracy is always on every training image (the figure that
                    # is saved, printed and compared): when the epochs sample them, the last
                    # step's evaluation is left to evaluate() after the loop, not done twice.
                    if due and not (sampled and self.iteration == self.config.iterations):
                        snapshot = net.copy_params()
                        if OVERLAP_EVALUATION:
                            future = executor.submit(self._accuracies, snapshot)
                        else:
                            future = Future()
                            future.set_result(self._accuracies(snapshot))
                        pending = (self.iteration, future)
                        last_evaluated = self.iteration
                    self.seconds += time.perf_counter() - started
                    yield StepRecord(self.iteration, loss, stats)
                    if record is not None:
                        yield record
                started = time.perf_counter()
                if pending is not None:
                    record = self._record_epoch(pending[0], *pending[1].result())
                    pending = None
                    self.seconds += time.perf_counter() - started
                    yield record
                if last_evaluated != self.iteration and self.iteration > 0:
                    # Always end on the final accuracy, not the one from up to an epoch ago.
                    started = time.perf_counter()
                    record = self.evaluate()
                    self.seconds += time.perf_counter() - started
                    yield record
        finally:
            executor.shutdown(wait=True, cancel_futures=True)
            if pool is not None:
                pool.close()

    def _stats_keys(self) -> tuple[str, str, str]:
        """The ``net.douts`` keys read for the three "dout" statistics."""
        activation = next(name for name in self.network.layers if not name.startswith("Affine"))
        return ("Affine2", activation, "Affine1")

    def _gradient_stats(
        self, grad: dict[str, NDArray], lr: float, douts_keys: tuple[str, str, str] | None = None
    ) -> dict[str, float]:
        net = self.network
        douts = net.douts
        affine2, activation, affine1 = douts_keys or self._stats_keys()
        params = net.params
        dW1, dW2 = rms(grad["W1"]), rms(grad["W2"])
        w1, w2 = rms(params["W1"]), rms(params["W2"])
        return {
            "dW1": dW1,
            "db1": rms(grad["b1"]),
            "dW2": dW2,
            "db2": rms(grad["b2"]),
            "dout Affine2": rms(douts[affine2]),
            "dout activation": rms(douts[activation]),
            "dout Affine1": rms(douts[affine1]),
            "update/W1": lr * dW1 / w1 if w1 > 0 else math.inf,
            "update/W2": lr * dW2 / w2 if w2 > 0 else math.inf,
        }

    def run(self) -> TrainingHistory:
        """Train to the end without pausing (the CLI and benchmarks)."""
        for _ in self.steps():
            pass
        return self.history
