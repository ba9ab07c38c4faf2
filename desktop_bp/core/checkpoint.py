"""Save and load trained weights, with what is needed to reproduce them, in a pickle-free file.

A weights file is an ``.npz`` (``np.savez_compressed``: a zip of ``.npy`` members) holding

- ``W1`` (input, hidden), ``b1`` (hidden,), ``W2`` (hidden, output), ``b2`` (output,): the
  network's parameters, in the network's floating dtype;
- ``losses`` float32 (steps,), ``epoch_iterations`` int64 (epochs,), ``train_acc`` and
  ``test_acc`` float64 (epochs,): the training curves (:class:`TrainingHistory`);
- ``metadata``: uint8 (n,), the UTF-8 bytes of a JSON object::

    {"format": "desktop-bp-weights", "format_version": 1,
     "architecture": {"input_size": 784, "hidden_size": 50, "output_size": 10},
     "activation": "relu", "hyperparameters": {... TrainConfig.to_dict() ...}, "seed": 0,
     "dataset": "embedded", "iterations_done": 10000, "train_acc": 0.98, "test_acc": 0.96,
     "created": "2024-05-01T12:00:00+02:00", "app": "desktop-bp", "app_version": "0.1.0"}

Nothing is ever unpickled: files are opened with ``np.load(..., allow_pickle=False)``, and each
member's ``.npy`` header (dtype and shape) is checked *before* its data is read, so an object
array, an absurd shape or a wrong dtype is refused without allocating or executing anything.
Every problem with a file is reported as :class:`CheckpointError` naming the file.
"""

from __future__ import annotations

import dataclasses
import datetime
import io
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from desktop_bp import __version__
from desktop_bp.core.atomic_file import write_atomically
from desktop_bp.core.errors import CheckpointError
from desktop_bp.core.network import ACTIVATIONS, PARAM_NAMES, TwoLayerNet
from desktop_bp.core.trainer import TrainConfig, TrainingHistory

FORMAT_NAME = "desktop-bp-weights"
FORMAT_VERSION = 1

# Sanity bounds, checked on the metadata before any weight array is read: a hostile or damaged
# file must not make us allocate gigabytes. MNIST needs 784-50-10; the GUI offers far less
# than these limits.
MAX_LAYER_SIZE = 100_000
MAX_PARAMETERS = 100_000_000  # input*hidden + hidden*output, ~400 MB in float32
MAX_HISTORY_LENGTH = 50_000_000  # steps (or epochs) of recorded curves
MAX_METADATA_BYTES = 1 << 20

_HISTORY_DTYPES: dict[str, np.dtype] = {
    "losses": np.dtype(np.float32),
    "epoch_iterations": np.dtype(np.int64),
    "train_acc": np.dtype(np.float64),
    "test_acc": np.dtype(np.float64),
}
_ARCHITECTURE_KEYS = ("input_size", "hidden_size", "output_size")


@dataclass
class Checkpoint:
    """A loaded weights file.

    params : W1 (input, hidden), b1 (hidden,), W2 (hidden, output), b2 (output,), each a
        finite floating array in the dtype it was saved with.
    config : the hyperparameters the weights were trained with (architecture included).
    dataset : the data source they were trained on (what ``load_mnist(source=...)`` takes).
    metadata : the file's whole JSON metadata, as read.
    """

    params: dict[str, NDArray]
    config: TrainConfig
    dataset: str
    iterations_done: int
    train_acc: float | None
    test_acc: float | None
    history: TrainingHistory = field(default_factory=TrainingHistory)
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def input_size(self) -> int:
        return int(self.params["W1"].shape[0])

    @property
    def hidden_size(self) -> int:
        return int(self.params["W1"].shape[1])

    @property
    def output_size(self) -> int:
        return int(self.params["W2"].shape[1])

    def build_network(self, dtype: type | np.dtype = np.float32) -> TwoLayerNet:
        """A :class:`TwoLayerNet` of this checkpoint's architecture holding its weights."""
        network = TwoLayerNet(
            self.input_size,
            self.hidden_size,
            self.output_size,
            self.config.weight_init_std,
            activation=self.config.activation,
            dtype=dtype,
            # The random initial weights are overwritten at once; a fixed seed keeps this
            # from consuming OS entropy for nothing.
            rng=np.random.default_rng(0),
        )
        network.set_params(self.params)
        return network


# -- saving -----------------------------------------------------------------------------------


def save_checkpoint(
    path: str | os.PathLike[str],
    network: TwoLayerNet,
    *,
    config: TrainConfig,
    dataset: str,
    iterations_done: int,
    history: TrainingHistory | None = None,
) -> None:
    """Write ``network``'s weights and the training metadata to ``path`` atomically.

    The file is written under a temporary name in the same folder, flushed to disk, then
    renamed over ``path``: a reader sees either the old file or the complete new one, never a
    half-written file. On failure the temporary file is removed, the previous ``path`` is left
    untouched, and CheckpointError (naming ``path``) is raised.

    The architecture recorded is the network's; ``config``'s hidden_size and activation are
    overridden by it, so the file is always self-consistent.
    """
    path = Path(path)
    history = history if history is not None else TrainingHistory()
    arrays = _arrays_to_save(path, network, config, dataset, iterations_done, history)

    folder = path.parent
    if not folder.is_dir():
        raise CheckpointError(f"cannot save weights to {path}: folder {folder} does not exist")
    try:
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)
        write_atomically(path, buffer.getvalue())
    except Exception as exc:  # KeyboardInterrupt etc. propagate as they are
        raise CheckpointError(f"cannot save weights to {path}: {_describe(exc)}") from exc


def _arrays_to_save(
    path: Path,
    network: TwoLayerNet,
    config: TrainConfig,
    dataset: str,
    iterations_done: int,
    history: TrainingHistory,
) -> dict[str, NDArray]:
    """Everything that goes in the file, checked so that load_checkpoint will accept it."""
    config = dataclasses.replace(
        config, hidden_size=network.hidden_size, activation=network.activation
    )
    try:
        config.validate()
    except ValueError as exc:
        raise CheckpointError(f"cannot save weights to {path}: {exc}") from exc
    if not isinstance(iterations_done, int | np.integer) or iterations_done < 0:
        raise CheckpointError(
            f"cannot save weights to {path}: iterations_done must be a non-negative integer, "
            f"got {iterations_done!r}"
        )
    expected = network.param_shapes()
    arrays: dict[str, NDArray] = {}
    for key in PARAM_NAMES:
        value = np.asarray(network.params[key])
        if value.shape != expected[key] or value.dtype.kind != "f":
            raise CheckpointError(
                f"cannot save weights to {path}: {key} is {value.dtype} {value.shape}, "
                f"expected floating {expected[key]}"
            )
        if not np.all(np.isfinite(value)):
            # Such a file could never be loaded back; better to say so now.
            raise CheckpointError(
                f"cannot save weights to {path}: {key} contains NaN or infinite values"
            )
        arrays[key] = value
    for key, dtype in _HISTORY_DTYPES.items():
        arrays[key] = np.asarray(getattr(history, key), dtype=dtype).reshape(-1)
    train_acc = history.train_acc[-1] if history.train_acc else None
    test_acc = history.test_acc[-1] if history.test_acc else None
    metadata = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "architecture": {
            "input_size": network.input_size,
            "hidden_size": network.hidden_size,
            "output_size": network.output_size,
        },
        "activation": network.activation,
        "hyperparameters": config.to_dict(),
        "seed": config.seed,
        "dataset": str(dataset),
        "iterations_done": int(iterations_done),
        "train_acc": None if train_acc is None else float(train_acc),
        "test_acc": None if test_acc is None else float(test_acc),
        "created": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "app": "desktop-bp",
        "app_version": __version__,
    }
    text = json.dumps(metadata, ensure_ascii=False, allow_nan=False, indent=1)
    arrays["metadata"] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    return arrays


# -- loading ----------------------------------------------------------------------------------


def load_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """Read and validate a weights file written by :func:`save_checkpoint`.

    Raises CheckpointError, naming ``path`` and the problem, for anything wrong: missing or
    unreadable file, not a zip, no or bad metadata, another format or a newer version, missing
    arrays, wrong shapes or dtypes, object (pickle) arrays, NaN or infinite weights, absurd
    sizes. No other exception escapes for bad bytes.
    """
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"cannot load weights from {path}: no such file")
    if not path.is_file():
        raise CheckpointError(f"cannot load weights from {path}: not a file")
    try:
        stream = path.open("rb")
    except OSError as exc:
        raise _damaged(path, exc.strerror or _describe(exc)) from exc
    # We own the open file (not np.load), so it is closed on every path: np.load leaks its own
    # handle when the zip directory turns out to be unreadable.
    with stream:
        try:
            npz = np.load(stream, allow_pickle=False)
        except Exception as exc:
            # Non-zip bytes make np.load fail in many ways (ValueError "pickled data", OSError,
            # EOFError, BadZipFile...); all mean the same thing to the user.
            if isinstance(exc, ValueError) and "allow_pickle" in str(exc):
                # Neither zip nor .npy magic: numpy would take it for a pickle and advise
                # loading it "unsafely", which is never what a weights file needs.
                raise _not_weights(path, "neither an .npz archive nor a .npy file") from exc
            raise _not_weights(path, _describe(exc)) from exc
        if not isinstance(npz, np.lib.npyio.NpzFile):
            # A bare .npy file: np.load returned its array.
            raise _not_weights(path, "a single .npy array, not an .npz archive")
        with npz:
            try:
                return _read_checkpoint(path, npz)
            except CheckpointError:
                raise
            except Exception as exc:
                # Damaged zip internals surface late and varied: BadZipFile (bad CRC, bad local
                # header), zlib.error, EOFError, NotImplementedError (unknown compression),
                # RuntimeError (encryption flag)... A mutated byte must never escape as any of
                # them.
                raise _not_weights(path, _describe(exc)) from exc


def _read_checkpoint(path: Path, npz: np.lib.npyio.NpzFile) -> Checkpoint:
    metadata = _read_metadata(path, npz)
    architecture = _check_architecture(path, metadata)
    config = _check_config(path, metadata, architecture)
    input_size, hidden_size, output_size = (architecture[k] for k in _ARCHITECTURE_KEYS)
    shapes = {
        "W1": (input_size, hidden_size),
        "b1": (hidden_size,),
        "W2": (hidden_size, output_size),
        "b2": (output_size,),
    }
    missing = [key for key in PARAM_NAMES if _member(npz, key) is None]
    if missing:
        raise _not_weights(
            path, f"missing array{'s' if len(missing) > 1 else ''} {', '.join(missing)}"
        )
    params: dict[str, NDArray] = {}
    for key in PARAM_NAMES:
        array = _read_array(path, npz, key, kinds="f", shape=shapes[key])
        if not np.all(np.isfinite(array)):
            raise _damaged(path, f"{key} contains NaN or infinite values")
        params[key] = array

    history = TrainingHistory()
    lengths: dict[str, int] = {}
    for key, dtype in _HISTORY_DTYPES.items():
        if _member(npz, key) is None:
            continue  # the curves are a bonus: a file without them still holds usable weights
        array = _read_array(path, npz, key, kinds="f" if dtype.kind == "f" else "iu", ndim=1)
        if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
            raise _damaged(path, f"history {key} contains NaN or infinite values")
        if key.endswith("_acc") and array.size and not (array.min() >= 0 and array.max() <= 1):
            raise _damaged(path, f"history {key} holds values outside 0..1")
        if key == "epoch_iterations" and array.size and array.min() < 0:
            raise _damaged(path, "history epoch_iterations holds negative values")
        lengths[key] = array.shape[0]
        setattr(history, key, array.astype(dtype).tolist())
    epoch_lengths = {
        lengths[k] for k in ("epoch_iterations", "train_acc", "test_acc") if k in lengths
    }
    if len(epoch_lengths) > 1:
        raise _damaged(
            path, "history arrays epoch_iterations, train_acc and test_acc differ in length"
        )

    iterations_done = metadata.get("iterations_done", 0)
    if not _is_int(iterations_done) or iterations_done < 0:
        raise _damaged(
            path, f"iterations_done must be a non-negative integer, got {iterations_done!r}"
        )
    dataset = metadata.get("dataset", "")
    if not isinstance(dataset, str):
        raise _damaged(path, f"dataset must be a string, got {dataset!r}")
    accuracies = {}
    for key in ("train_acc", "test_acc"):
        value = metadata.get(key)
        if value is not None and not (_is_number(value) and 0.0 <= value <= 1.0):
            raise _damaged(path, f"{key} must be a number between 0 and 1, got {value!r}")
        accuracies[key] = None if value is None else float(value)
    return Checkpoint(
        params=params,
        config=config,
        dataset=dataset,
        iterations_done=int(iterations_done),
        train_acc=accuracies["train_acc"],
        test_acc=accuracies["test_acc"],
        history=history,
        metadata=metadata,
    )


def _read_metadata(path: Path, npz: np.lib.npyio.NpzFile) -> dict[str, Any]:
    if _member(npz, "metadata") is None:
        raise _not_weights(path, "no metadata")
    raw = _read_array(path, npz, "metadata", kinds="u", ndim=1, max_elements=MAX_METADATA_BYTES)
    if raw.dtype.itemsize != 1:
        raise _not_weights(path, f"metadata must be uint8 bytes, got {raw.dtype}")
    try:
        metadata = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _not_weights(path, f"metadata is not valid JSON: {_describe(exc)}") from exc
    if not isinstance(metadata, dict):
        raise _not_weights(path, "metadata is not a JSON object")
    name = metadata.get("format")
    if name != FORMAT_NAME:
        raise _not_weights(path, f"format is {name!r}, expected {FORMAT_NAME!r}")
    version = metadata.get("format_version")
    if not _is_int(version) or version < 1:
        raise _not_weights(path, f"bad format_version {version!r}")
    if version > FORMAT_VERSION:
        raise CheckpointError(
            f"cannot load weights from {path}: it was saved in weights format version "
            f"{version} by a newer Desktop BP (this version reads up to version "
            f"{FORMAT_VERSION}); update Desktop BP to open it"
        )
    return metadata


def _check_architecture(path: Path, metadata: dict[str, Any]) -> dict[str, int]:
    """Sizes from the metadata, bounded before anything of that size is allocated."""
    architecture = metadata.get("architecture")
    if not isinstance(architecture, dict):
        raise _damaged(path, "metadata has no architecture")
    sizes: dict[str, int] = {}
    for key in _ARCHITECTURE_KEYS:
        value = architecture.get(key)
        if not _is_int(value) or not 1 <= value <= MAX_LAYER_SIZE:
            raise _damaged(
                path,
                f"architecture {key} must be an integer from 1 to {MAX_LAYER_SIZE:,}, "
                f"got {value!r}",
            )
        sizes[key] = int(value)
    count = sizes["hidden_size"] * (sizes["input_size"] + sizes["output_size"])
    if count > MAX_PARAMETERS:
        raise _damaged(
            path, f"architecture has {count:,} weights, more than the {MAX_PARAMETERS:,} allowed"
        )
    return sizes


def _check_config(
    path: Path, metadata: dict[str, Any], architecture: dict[str, int]
) -> TrainConfig:
    activation = metadata.get("activation")
    if not isinstance(activation, str) or activation not in ACTIVATIONS:
        raise _damaged(path, f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    hyper = metadata.get("hyperparameters", {})
    if not isinstance(hyper, dict):
        raise _damaged(path, "hyperparameters is not a JSON object")
    names = {f.name for f in dataclasses.fields(TrainConfig)}
    # Unknown keys are ignored: a later minor addition should not make old readers fail.
    values = {k: v for k, v in hyper.items() if k in names}
    values["hidden_size"] = architecture["hidden_size"]
    values["activation"] = activation
    if "seed" not in values and _is_int(metadata.get("seed")):
        values["seed"] = metadata["seed"]
    config = TrainConfig(**values)
    try:
        config.validate()
    except ValueError as exc:
        raise _damaged(path, f"bad hyperparameters: {exc}") from exc
    if not isinstance(config.augment, bool):
        raise _damaged(path, f"augment must be true or false, got {config.augment!r}")
    if (
        hyper.get("hidden_size", config.hidden_size) != config.hidden_size
        or hyper.get("activation", activation) != activation
    ):
        raise _damaged(path, "hyperparameters disagree with the architecture")
    return config


def _member(npz: np.lib.npyio.NpzFile, key: str) -> str | None:
    """The zip member holding array ``key`` ("key.npy", or a bare "key"), if any."""
    names = npz.zip.namelist()
    for candidate in (f"{key}.npy", key):
        if candidate in names:
            return candidate
    return None


def _read_array(
    path: Path,
    npz: np.lib.npyio.NpzFile,
    key: str,
    *,
    kinds: str,
    shape: tuple[int, ...] | None = None,
    ndim: int | None = None,
    max_elements: int = MAX_HISTORY_LENGTH,
) -> NDArray:
    """Check member ``key``'s .npy header (dtype kind, shape, size), then read it.

    The header is parsed first so that an object array is refused before numpy could reach
    for pickle, and a huge shape before numpy allocates it.
    """
    member = _member(npz, key)
    assert member is not None
    info = npz.zip.getinfo(member)
    with npz.zip.open(info) as stream:
        try:
            version = np.lib.format.read_magic(stream)
            if version == (1, 0):
                header = np.lib.format.read_array_header_1_0(stream)
            elif version == (2, 0):
                header = np.lib.format.read_array_header_2_0(stream)
            else:
                raise ValueError(f"unsupported .npy version {version[0]}.{version[1]}")
        except ValueError as exc:
            raise _not_weights(path, f"{key} is not a valid .npy array ({_describe(exc)})") from exc
        header_size = stream.tell()
    array_shape, _fortran, dtype = header
    if dtype.hasobject:
        raise _not_weights(path, f"{key} is an object array; those need pickle and are refused")
    if dtype.kind not in kinds or dtype.fields is not None or dtype.subdtype is not None:
        wanted = {"f": "floating", "u": "unsigned integer", "iu": "integer"}.get(kinds, kinds)
        raise _damaged(path, f"{key} has dtype {dtype}, expected a {wanted} array")
    if shape is not None and array_shape != shape:
        raise _damaged(
            path,
            f"{key} has shape {array_shape}, expected {shape} for the architecture in the metadata",
        )
    if ndim is not None and len(array_shape) != ndim:
        raise _damaged(path, f"{key} has shape {array_shape}, expected {ndim} dimension(s)")
    count = math.prod(array_shape)
    if shape is None and count > max_elements:
        raise _damaged(
            path, f"{key} has {count:,} elements, more than the {max_elements:,} allowed"
        )
    if info.file_size < header_size + count * dtype.itemsize:
        # The zip directory says the member is shorter than its header claims: truncated.
        raise _not_weights(path, f"{key} is truncated")
    array = npz[key]
    if not isinstance(array, np.ndarray) or array.shape != array_shape or array.dtype != dtype:
        raise _not_weights(path, f"{key} changed while being read")
    if not dtype.isnative:
        array = array.astype(dtype.newbyteorder("="))
    return array


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _describe(exc: BaseException) -> str:
    """``Type: first line of message``, e.g. ``BadZipFile: Bad CRC-32 for file 'W1.npy'``."""
    name = type(exc).__name__
    if name == "error":  # zlib.error, struct.error: the bare name says nothing
        name = f"{type(exc).__module__}.error"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{name}: {text}" if text else name


def _not_weights(path: Path, problem: str) -> CheckpointError:
    return CheckpointError(f"{path} is not a Desktop BP weights file ({problem})")


def _damaged(path: Path, problem: str) -> CheckpointError:
    return CheckpointError(f"cannot load weights from {path}: {problem}")


__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "Checkpoint",
    "load_checkpoint",
    "save_checkpoint",
]
