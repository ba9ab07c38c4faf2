"""The run history: every training run that ended, kept on disk to compare and export.

A run is its settings (the :class:`TrainConfig`, data set, preset), its curves (loss per step,
train/test accuracy per epoch, the gradient magnitudes), its final figures, wall time and when
it ran. :class:`RunStore` keeps one small ``.npz`` file per run in a folder (the GUI passes the
user's data folder): the arrays as arrays, everything else as a JSON text member, no pickle.
Writes are atomic (a temporary file renamed over the target), a file that cannot be read is
skipped with a note instead of breaking the list, and the store keeps the newest ``limit`` runs
unless pinned.

:func:`differing_settings` and :func:`describe` name what differs between runs ("lr 0.5",
"sigmoid, std 1.0"), and :func:`write_curves_csv` exports curves as one long CSV table.

numpy and the standard library only.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import datetime as _dt
import hashlib
import io
import json
import math
import os
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from desktop_bp.core.atomic_file import write_atomically
from desktop_bp.core.trainer import GRADIENT_KEYS, TrainConfig

#: How a run ended. "loaded": the curves came from a weights file.
OUTCOMES = ("completed", "stopped", "diverged", "loaded")
#: Runs kept unless pinned.
DEFAULT_LIMIT = 50
SUFFIX = ".npz"
FORMAT = "desktop-bp-run"
VERSION = 1
#: Metadata JSON larger than this is not a run file of ours.
_MAX_METADATA_BYTES = 1 << 20
#: Columns of the CSV export before the gradient magnitudes.
CSV_COLUMNS = ("run", "label", "iteration", "loss", "train_acc", "test_acc")


class RunHistoryError(Exception):
    """A run file that cannot be written, or read back as a run."""


def new_run_id(now: _dt.datetime | None = None) -> str:
    """A file-name-safe id that sorts by time: ``20261201-230501-3fa2``."""
    now = now or _dt.datetime.now(_dt.timezone.utc)
    return now.strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)


@dataclass
class RunRecord:
    """One finished run.

    losses : (n,) float, the minibatch loss after each of ``loss_iterations`` (n,) (1-based).
    epoch_iterations, train_acc, test_acc : (e,) the accuracies and the steps they were
        measured after.
    gradient_iterations : (g,) and gradients {key of GRADIENT_KEYS: (g,)}: the gradient
        magnitudes at those steps (the window keeps a decimated series, the CLI every step).
    """

    run_id: str
    started_at: str
    wall_seconds: float
    outcome: str
    config: TrainConfig
    dataset: str
    preset: str | None = None
    note: str = ""
    pinned: bool = False
    loss_iterations: NDArray = field(default_factory=lambda: np.zeros(0, np.int64))
    losses: NDArray = field(default_factory=lambda: np.zeros(0, np.float32))
    epoch_iterations: NDArray = field(default_factory=lambda: np.zeros(0, np.int64))
    train_acc: NDArray = field(default_factory=lambda: np.zeros(0, np.float32))
    test_acc: NDArray = field(default_factory=lambda: np.zeros(0, np.float32))
    gradient_iterations: NDArray = field(default_factory=lambda: np.zeros(0, np.int64))
    gradients: dict[str, NDArray] = field(default_factory=dict)

    @property
    def iterations(self) -> int:
        """Steps the run took (the last loss's step)."""
        return int(self.loss_iterations[-1]) if self.loss_iterations.size else 0

    @property
    def final_loss(self) -> float | None:
        return float(self.losses[-1]) if self.losses.size else None

    @property
    def final_train_acc(self) -> float | None:
        return float(self.train_acc[-1]) if self.train_acc.size else None

    @property
    def final_test_acc(self) -> float | None:
        return float(self.test_acc[-1]) if self.test_acc.size else None

    def settings(self) -> dict[str, Any]:
        """Everything that defines the run, for comparing runs: config fields, data, preset."""
        return {**self.config.to_dict(), "dataset": self.dataset, "preset": self.preset}

    def started(self) -> _dt.datetime | None:
        try:
            return _dt.datetime.fromisoformat(self.started_at)
        except ValueError:
            return None


def record_from_history(
    history: Any,
    *,
    config: TrainConfig,
    dataset: str,
    outcome: str,
    wall_seconds: float,
    preset: str | None = None,
    gradient_iterations: Sequence[int] | NDArray | None = None,
    gradients: dict[str, Sequence[float] | NDArray] | None = None,
    started_at: _dt.datetime | None = None,
) -> RunRecord:
    """A RunRecord from a :class:`TrainingHistory` (losses per step from step 1) and, if given,
    gradient magnitudes."""
    started_at = started_at or _dt.datetime.now(_dt.timezone.utc)
    losses = np.asarray(history.losses, dtype=np.float32)
    return RunRecord(
        run_id=new_run_id(started_at),
        started_at=started_at.isoformat(timespec="milliseconds"),
        wall_seconds=float(wall_seconds),
        outcome=outcome,
        config=dataclasses.replace(config),
        dataset=dataset,
        preset=preset,
        loss_iterations=np.arange(1, losses.size + 1, dtype=np.int64),
        losses=losses,
        epoch_iterations=np.asarray(history.epoch_iterations, dtype=np.int64),
        train_acc=np.asarray(history.train_acc, dtype=np.float32),
        test_acc=np.asarray(history.test_acc, dtype=np.float32),
        gradient_iterations=np.asarray(
            gradient_iterations if gradient_iterations is not None else [], dtype=np.int64
        ),
        gradients={k: np.asarray(v, dtype=np.float32) for k, v in (gradients or {}).items()},
    )


def record_from_checkpoint(
    checkpoint: Any, path: str | os.PathLike[str] | None = None
) -> RunRecord:
    """The curves a loaded weights file carries (a :class:`~desktop_bp.core.checkpoint.Checkpoint`:
    ``.history``, ``.config``, ``.dataset``, ``.metadata``) as a run with outcome "loaded".

    The run's time is the file's "created" stamp, its note the file name (when ``path`` is
    given), its wall time 0 (not recorded in weights files) and it has no gradient curves. The
    id is derived from the stamp and the curves, so loading the same file twice gives the same
    id (a :class:`RunStore` then rewrites one file instead of keeping duplicates).
    """
    metadata = getattr(checkpoint, "metadata", None) or {}
    created = metadata.get("created")
    started: _dt.datetime | None = None
    if isinstance(created, str):
        with contextlib.suppress(ValueError):
            started = _dt.datetime.fromisoformat(created)
    started = started or _dt.datetime.now(_dt.timezone.utc)
    record = record_from_history(
        checkpoint.history,
        config=checkpoint.config,
        dataset=checkpoint.dataset,
        outcome="loaded",
        wall_seconds=0.0,
        preset=None,
        started_at=started,
    )
    digest = hashlib.sha1(usedforsecurity=False)
    digest.update(started.isoformat().encode())
    digest.update(json.dumps(record.config.to_dict(), sort_keys=True).encode())
    for name in ("losses", "epoch_iterations", "train_acc", "test_acc"):
        digest.update(np.ascontiguousarray(getattr(record, name)).tobytes())
    utc = started.astimezone(_dt.timezone.utc) if started.tzinfo else started
    record.run_id = utc.strftime("%Y%m%d-%H%M%S-") + digest.hexdigest()[:4]
    if path is not None:
        record.note = Path(path).name
    return record


# -- files ------------------------------------------------------------------------------------
_ARRAYS = (
    "loss_iterations",
    "losses",
    "epoch_iterations",
    "train_acc",
    "test_acc",
    "gradient_iterations",
)


def _gradient_member(key: str) -> str:
    return "gradient:" + key


def write_run(path: Path, record: RunRecord) -> None:
    """Write ``record`` to ``path`` atomically (RunHistoryError naming the path on failure)."""
    if record.outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {OUTCOMES}, got {record.outcome!r}")
    metadata = {
        "format": FORMAT,
        "version": VERSION,
        "run_id": record.run_id,
        "started_at": record.started_at,
        "wall_seconds": record.wall_seconds,
        "outcome": record.outcome,
        "config": record.config.to_dict(),
        "dataset": record.dataset,
        "preset": record.preset,
        "note": record.note,
        "pinned": record.pinned,
        "gradient_keys": list(record.gradients),
    }
    text = json.dumps(metadata, ensure_ascii=False, allow_nan=False)
    arrays: dict[str, NDArray] = {name: np.asarray(getattr(record, name)) for name in _ARRAYS}
    arrays.update({_gradient_member(k): np.asarray(v) for k, v in record.gradients.items()})
    arrays["metadata"] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    _write(path, buffer.getvalue())


def _write(path: Path, data: bytes) -> None:
    try:
        write_atomically(path, data)
    except OSError as exc:
        raise RunHistoryError(f"cannot write {path}: {exc.strerror or exc}") from exc


def read_run(path: Path) -> RunRecord:
    """Read a run file; RunHistoryError saying what is wrong for anything but a valid run."""
    try:
        # Read from memory: numpy leaves the file open when a damaged zip fails to parse.
        with np.load(io.BytesIO(path.read_bytes()), allow_pickle=False) as npz:
            if "metadata" not in npz.files:
                raise RunHistoryError(f"{path.name}: not a run file (no metadata)")
            raw = npz["metadata"]
            if raw.dtype != np.uint8 or raw.ndim != 1 or raw.size > _MAX_METADATA_BYTES:
                raise RunHistoryError(f"{path.name}: not a run file (bad metadata)")
            metadata = json.loads(raw.tobytes().decode("utf-8"))
            if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
                raise RunHistoryError(f"{path.name}: not a run file")
            arrays = {name: npz[name] for name in _ARRAYS}
            keys = metadata.get("gradient_keys", [])
            if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
                raise RunHistoryError(f"{path.name}: bad gradient keys")
            gradients = {k: npz[_gradient_member(k)] for k in keys}
    except RunHistoryError:
        raise
    except KeyError as exc:
        raise RunHistoryError(f"{path.name}: member {exc} is missing") from exc
    except (OSError, ValueError, EOFError, UnicodeDecodeError) as exc:
        raise RunHistoryError(f"{path.name}: unreadable ({exc})") from exc
    except Exception as exc:  # BadZipFile, zlib.error and friends from a damaged file
        raise RunHistoryError(f"{path.name}: unreadable ({type(exc).__name__}: {exc})") from exc
    return _build_record(path, metadata, arrays, gradients)


def _build_record(
    path: Path, metadata: dict, arrays: dict[str, NDArray], gradients: dict[str, NDArray]
) -> RunRecord:
    def bad(problem: str) -> RunHistoryError:
        return RunHistoryError(f"{path.name}: {problem}")

    known = {f.name for f in dataclasses.fields(TrainConfig)}
    raw_config = metadata.get("config")
    if not isinstance(raw_config, dict):
        raise bad("no settings")
    try:
        # Fields a later version added are dropped; missing ones take their defaults.
        config = TrainConfig(**{k: v for k, v in raw_config.items() if k in known})
        config.validate()
    except (TypeError, ValueError) as exc:
        raise bad(f"bad settings ({exc})") from exc
    outcome = metadata.get("outcome")
    if outcome not in OUTCOMES:
        raise bad(f"unknown outcome {outcome!r}")
    for name in ("run_id", "started_at", "dataset"):
        if not isinstance(metadata.get(name), str):
            raise bad(f"{name} is missing")
    if not all(c.isalnum() or c in "-_" for c in metadata["run_id"]):
        raise bad("bad run id")
    wall = metadata.get("wall_seconds")
    if not isinstance(wall, int | float) or not math.isfinite(wall) or wall < 0:
        raise bad("bad wall time")
    curves = {}
    for name, kind in (
        ("loss_iterations", "i"),
        ("losses", "f"),
        ("epoch_iterations", "i"),
        ("train_acc", "f"),
        ("test_acc", "f"),
        ("gradient_iterations", "i"),
    ):
        curves[name] = _curve(arrays[name], kind, name, bad)
    if curves["loss_iterations"].size != curves["losses"].size:
        raise bad("loss curve and its steps differ in length")
    e = curves["epoch_iterations"].size
    if curves["train_acc"].size != e or curves["test_acc"].size != e:
        raise bad("accuracy curves and their steps differ in length")
    grads = {}
    for key, values in gradients.items():
        grads[key] = _curve(values, "f", key, bad)
        if grads[key].size != curves["gradient_iterations"].size:
            raise bad(f"gradient curve {key!r} and its steps differ in length")
    preset = metadata.get("preset")
    note = metadata.get("note", "")
    return RunRecord(
        run_id=metadata["run_id"],
        started_at=metadata["started_at"],
        wall_seconds=float(wall),
        outcome=outcome,
        config=config,
        dataset=metadata["dataset"],
        preset=preset if isinstance(preset, str) else None,
        note=note if isinstance(note, str) else "",
        pinned=bool(metadata.get("pinned", False)),
        gradients=grads,
        **curves,
    )


def _curve(values: NDArray, kind: str, name: str, bad) -> NDArray:
    if values.ndim != 1 or values.dtype.kind not in ("iu" if kind == "i" else "f"):
        raise bad(f"curve {name!r} has the wrong shape or type")
    if kind == "f":
        # NaN is allowed: a diverged run's last losses are NaN and worth seeing.
        return values.astype(np.float32)
    return values.astype(np.int64)


class RunStore:
    """The run files in ``folder``, newest first; at most ``limit`` unpinned ones are kept."""

    def __init__(self, folder: str | os.PathLike[str], limit: int = DEFAULT_LIMIT) -> None:
        self.folder = Path(folder)
        self.limit = limit
        # What each file read as (its (started_at, run_id, pinned), or None when it was skipped),
        # by path, with the file's identity then: pruning after every save needs only this, and
        # re-reading 50 runs' curves to get it took ~0.2 s of the GUI thread per finished run.
        self._seen: dict[
            Path, tuple[tuple[int, int, int] | None, tuple[str, str, bool] | None]
        ] = {}

    def path_of(self, run_id: str) -> Path:
        return self.folder / f"{run_id}{SUFFIX}"

    def _paths(self) -> list[Path]:
        return sorted(self.folder.glob(f"*{SUFFIX}")) if self.folder.is_dir() else []

    @staticmethod
    def _identity(path: Path) -> tuple[int, int, int] | None:
        try:
            stat = path.stat()
        except OSError:
            return None
        return stat.st_ino, stat.st_mtime_ns, stat.st_size

    def _remember(
        self, path: Path, identity: tuple[int, int, int] | None, record: RunRecord | None
    ) -> None:
        summary = None if record is None else (record.started_at, record.run_id, record.pinned)
        self._seen[path] = (identity, summary)

    def load(self) -> tuple[list[RunRecord], list[str]]:
        """(runs newest first, one note per file that was skipped). Never raises for a bad
        file; a missing folder is an empty history."""
        records, notes = [], []
        for path in self._paths():
            identity = self._identity(path)
            try:
                record = read_run(path)
            except RunHistoryError as exc:
                notes.append(f"skipped run file {exc}")
                self._remember(path, identity, None)
                continue
            records.append(record)
            self._remember(path, identity, record)
        records.sort(key=lambda r: (r.started_at, r.run_id), reverse=True)
        return records, notes

    def _summaries(self) -> list[tuple[str, str, bool]]:
        """(started_at, run_id, pinned) of every readable run, newest first; a file is read
        again only when it changed since it was last read."""
        summaries = []
        for path in self._paths():
            identity = self._identity(path)
            seen = self._seen.get(path)
            if seen is None or seen[0] != identity:
                try:
                    record = read_run(path)
                except RunHistoryError:
                    record = None
                self._remember(path, identity, record)
                seen = self._seen[path]
            if seen[1] is not None:
                summaries.append(seen[1])
        summaries.sort(reverse=True)
        return summaries

    def save(self, record: RunRecord) -> list[str]:
        """Write ``record``, then drop the oldest unpinned runs over the limit; returns the ids
        dropped. RunHistoryError if the folder cannot be written."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RunHistoryError(f"cannot create {self.folder}: {exc.strerror or exc}") from exc
        write_run(self.path_of(record.run_id), record)
        return self.prune()

    def update(self, record: RunRecord) -> None:
        """Rewrite a kept run (after its note or pin changed)."""
        write_run(self.path_of(record.run_id), record)

    def delete(self, run_id: str) -> None:
        path = self.path_of(run_id)
        self._seen.pop(path, None)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()

    def prune(self) -> list[str]:
        unpinned = [run_id for _, run_id, pinned in self._summaries() if not pinned]
        dropped = unpinned[self.limit :]
        for run_id in dropped:
            self.delete(run_id)
        return dropped


# -- comparing --------------------------------------------------------------------------------
def differing_settings(records: Iterable[RunRecord]) -> list[str]:
    """The setting names (config fields, "dataset", "preset") whose values differ between
    ``records``, in the settings' own order."""
    settings = [r.settings() for r in records]
    if len(settings) < 2:
        return []
    return [k for k in settings[0] if any(s.get(k) != settings[0][k] for s in settings[1:])]


_SHORT = {
    "hidden_size": "{} hidden",
    "weight_init_std": "std {}",
    "learning_rate": "lr {}",
    "batch_size": "batch {}",
    "iterations": "{} steps",
    "seed": "seed {}",
    "augment_fresh": "{} fresh",
    "train_accuracy_images": "train acc on {}",
}


def describe_setting(key: str, value: Any) -> str:
    """One setting as a short legend text: "lr 0.5", "sigmoid", "augment"."""
    if key == "activation":
        return str(value)
    if key == "augment":
        return "augment" if value else "no augment"
    if key == "lr_schedule":
        return "step decay" if value == "step" else "constant lr"
    if key == "preset":
        return f"preset {value}" if value else "custom"
    if key == "dataset":
        return str(value)
    if isinstance(value, float):
        value = f"{value:g}"
    return _SHORT.get(key, key + " {}").format(value)


def describe(record: RunRecord, keys: Sequence[str]) -> str:
    """What sets ``record`` apart from the runs it is compared with (``keys`` from
    :func:`differing_settings`); its note when it has one."""
    settings = record.settings()
    text = ", ".join(describe_setting(k, settings[k]) for k in keys)
    if record.note:
        return f"{record.note} ({text})" if text else record.note
    return text or f"run {record.run_id}"


# -- export -----------------------------------------------------------------------------------
def curve_rows(record: RunRecord, label: str = "") -> list[dict[str, Any]]:
    """One row per step that has a loss, an accuracy or a gradient sample, in step order:
    {"run", "label", "iteration", "loss", "train_acc", "test_acc", <gradient keys>}; values a
    row does not have are None."""
    rows: dict[int, dict[str, Any]] = {}

    def row(iteration: int) -> dict[str, Any]:
        if iteration not in rows:
            rows[iteration] = {"run": record.run_id, "label": label, "iteration": iteration}
        return rows[iteration]

    for it, loss in zip(record.loss_iterations.tolist(), record.losses.tolist(), strict=True):
        row(it)["loss"] = loss
    for it, train, test in zip(
        record.epoch_iterations.tolist(),
        record.train_acc.tolist(),
        record.test_acc.tolist(),
        strict=True,
    ):
        row(it).update(train_acc=train, test_acc=test)
    for key, values in record.gradients.items():
        for it, value in zip(record.gradient_iterations.tolist(), values.tolist(), strict=True):
            row(it)[key] = value
    return [rows[it] for it in sorted(rows)]


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(value).lower()
    return str(value)


def write_curves_csv(
    path: str | os.PathLike[str],
    records: Sequence[RunRecord],
    labels: Sequence[str] | None = None,
) -> int:
    """Write the curves of ``records`` as one long CSV table with a ``run`` column (the run id)
    and a ``label`` column (what differs, or the note), atomically; returns the rows written.

    Columns: run, label, iteration, loss, train_acc, test_acc, then the gradient magnitudes
    (the keys of GRADIENT_KEYS that any run has). A row holds what was measured at that step:
    the loss every step, the accuracies on the epoch rows, the gradients where sampled.
    """
    if labels is None:
        keys = differing_settings(records)
        labels = [describe(r, keys) for r in records]
    gradient_columns = [k for k in GRADIENT_KEYS if any(k in r.gradients for r in records)]
    columns = [*CSV_COLUMNS, *gradient_columns]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    count = 0
    for record, label in zip(records, labels, strict=True):
        for row in curve_rows(record, label):
            writer.writerow([_csv_text(row.get(c)) for c in columns])
            count += 1
    _write(Path(path), out.getvalue().encode("utf-8"))
    return count
