"""The run history table: one row per kept run, newest first, ticked runs overlaid on the plots.

:class:`RunHistoryPanel` shows the runs of a :class:`~desktop_bp.core.run_history.RunStore` in
the QTableWidget ``runHistoryTable``. Columns: the overlay check box, a pin mark, the settings
that differ between the listed runs (lr, hidden, activation when there is nothing to compare),
final test accuracy, wall time, when it ran, the note and how it ended. Per row (context menu,
the buttons under the table, and shortcuts while the table has focus): F2 edits the note,
Delete deletes (Ctrl+Z or the message line's Undo brings the runs back), Shift+Return trains
again with the row's settings, Ctrl+P pins or unpins (pinned runs are never dropped), and
"Export curves…" writes the ticked (else selected, else all) runs as one long CSV table.

Signals:

- ``overlaysChanged(list[RunRecord])``: the ticked runs, at once on every tick, untick, note
  change or deletion of a ticked run;
- ``trainAgainRequested(TrainConfig, str)``: a copy of the row's settings and its data set;
- ``runsChanged()``: a run was added, deleted, restored, renamed or (un)pinned.

Embedding::

    panel = RunHistoryPanel()
    panel.set_store(RunStore(default_history_folder()))   # loads; skipped files in .notes
    panel.trainAgainRequested.connect(window.train_with)  # (config, dataset)
    connect_overlays(panel, RunOverlays(loss_item, accuracy_item, gradient_item))
    ...
    panel.add_run(record_from_history(...))               # when a run ends

A store that cannot be written never loses a run: it stays in the list (marked "not saved") and
the message line says why. Nothing here shows a modal dialog except the export's file dialog.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QStandardPaths, Qt, Signal
from PySide6.QtGui import QAction, QColor, QIcon, QKeySequence, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_bp.core.run_history import (
    DEFAULT_LIMIT,
    RunHistoryError,
    RunRecord,
    RunStore,
    describe,
    describe_setting,
    differing_settings,
)
from desktop_bp.gui.history import export
from desktop_bp.gui.history.overlays import FALLBACK_KEYS, RunOverlays
from desktop_bp.gui.window.message_banner import MessageBanner

#: Folder name under the app's data folder.
RUNS_FOLDER = "runs"
#: Overrides the data folder (tests, benchmarks, screenshots), as for downloads.
DATA_DIR_ENV = "DESKTOP_BP_DATA_DIR"

#: Column headers of the settings columns, and what they mean (header tooltips).
SETTING_HEADERS: dict[str, tuple[str, str]] = {
    "hidden_size": ("hidden", "Hidden units"),
    "activation": ("activation", "Activation of the hidden layer"),
    "weight_init_std": ("init std", "Standard deviation of the initial weights"),
    "learning_rate": ("lr", "Learning rate of SGD"),
    "batch_size": ("batch", "Minibatch size"),
    "iterations": ("steps", "SGD steps the run was set to take"),
    "seed": ("seed", "Random seed"),
    "augment": ("augment", "Training images randomly warped"),
    "augment_fresh": ("fresh", "Share of fresh warps per minibatch (with augment)"),
    "lr_schedule": ("lr schedule", "constant, or step: lr x 0.1 for the last quarter"),
    "train_accuracy_images": ("train-acc images", "Training images the accuracy is measured on"),
    "dataset": ("data", "Data set"),
    "preset": ("preset", "Preset the settings came from"),
}
#: The fixed columns after the settings: (header, header tooltip).
FIXED_COLUMNS = (
    ("test acc", "Test accuracy at the end of the run"),
    ("time", "Wall time of the run"),
    ("when", "When the run started (local time)"),
    ("note", "Your note: double-click or F2 to edit; it names the run in the legends"),
    ("outcome", "How the run ended: completed, stopped, diverged, or loaded from a weights file"),
)
COL_OVERLAY, COL_PIN = 0, 1
_RUN_ID = Qt.ItemDataRole.UserRole


def default_history_folder() -> Path:
    """Where the app keeps its runs: ``$DESKTOP_BP_DATA_DIR/runs`` when that is set, else
    ``runs`` in QStandardPaths' AppDataLocation (set the application and organisation names
    first, as gui/app.py does)."""
    explicit = os.environ.get(DATA_DIR_ENV)
    if explicit:
        return Path(explicit).expanduser() / RUNS_FOLDER
    location = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    if not location:
        from desktop_bp.core.download import user_data_dir

        return user_data_dir() / RUNS_FOLDER
    return Path(location) / RUNS_FOLDER


def connect_overlays(panel: RunHistoryPanel, overlays: RunOverlays) -> None:
    """Ticked runs drawn by ``overlays``; their colours shown in the table; deleted runs'
    cached curves dropped."""
    panel.overlaysChanged.connect(overlays.set_runs)
    overlays.coloursChanged.connect(panel.set_run_colours)
    panel.runsChanged.connect(lambda: overlays.retain(r.run_id for r in panel.runs()))


def setting_text(key: str, value: Any) -> str:
    """A setting's value as a table cell: 0.5, 50, sigmoid, yes."""
    if key == "preset":
        return value or "custom"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def wall_time_text(seconds: float) -> str:
    if seconds <= 0:
        return "–"
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def when_text(record: RunRecord) -> str:
    started = record.started()
    if started is None:
        return record.started_at
    if started.tzinfo is not None:
        started = started.astimezone()
    return started.strftime("%Y-%m-%d %H:%M")


def _newest_first_key(record: RunRecord) -> tuple[float, str]:
    started = record.started()
    if started is None:
        return (0.0, record.run_id)
    if started.tzinfo is None:
        started = started.replace(tzinfo=_dt.timezone.utc)
    return (started.timestamp(), record.run_id)


def _colour_icon(colour: str) -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(QColor(colour))
    return QIcon(pixmap)


class RunHistoryPanel(QWidget):
    """The kept runs in ``runHistoryTable``; see the module docstring."""

    overlaysChanged = Signal(list)
    trainAgainRequested = Signal(object, str)
    runsChanged = Signal()

    def __init__(self, parent: QWidget | None = None, store: RunStore | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runHistoryPanel")
        self._store: RunStore | None = None
        self._runs: list[RunRecord] = []
        self._ticked: set[str] = set()
        self._colours: dict[str, str] = {}
        self._unsaved: set[str] = set()
        self._undo: list[RunRecord] = []
        self._keys: list[str] = list(FALLBACK_KEYS)
        #: One line per run file that was skipped when the store was loaded.
        self.notes: list[str] = []

        self.table = QTableWidget(0, 0)
        self.table.setObjectName("runHistoryTable")
        self.table.setToolTip(
            "Every run that ended, newest first. Tick a run to draw its curves on the plots "
            "beside the current one. F2: note · Delete: delete (Ctrl+Z undoes) · "
            "Shift+Return: train again · Ctrl+P: pin (pinned runs are never dropped)."
        )
        self.table.verticalHeader().hide()
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.horizontalHeader().setDefaultAlignment(
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        )
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._show_menu)
        self.table.itemChanged.connect(self._on_item_changed)
        self.table.itemSelectionChanged.connect(self._update_actions)

        self.empty_hint = QLabel(
            "Runs appear here when they end (completed, stopped or diverged). Tick one to "
            "compare it with the next run on the same plots.",
            objectName="hint",
        )
        self.empty_hint.setWordWrap(True)

        self._build_actions()
        self.message = _MessageLine(self.undo_action)

        title = QLabel("Run history", objectName="cardTitle")
        self.count_label = QLabel("", objectName="readout")
        header = QHBoxLayout()
        header.setContentsMargins(10, 6, 10, 0)
        header.addWidget(title)
        header.addStretch(1)
        header.addWidget(self.count_label)
        buttons = QHBoxLayout()
        buttons.setContentsMargins(6, 0, 6, 0)
        for action in (
            self.train_again_action,
            self.rename_action,
            self.pin_action,
            self.delete_action,
        ):
            buttons.addWidget(_button(action))
        buttons.addStretch(1)
        buttons.addWidget(_button(self.export_action))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(1, 1, 1, 6)
        layout.setSpacing(4)
        layout.addLayout(header)
        layout.addWidget(self.message)
        layout.addWidget(self.empty_hint)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self._rebuild()
        if store is not None:
            self.set_store(store)

    # -- actions ------------------------------------------------------------------------------
    def _build_actions(self) -> None:
        def action(text: str, tip: str, slot, shortcut: QKeySequence | str | None = None):
            act = QAction(text, self)
            act.setToolTip(tip)
            act.setStatusTip(tip)
            if shortcut is not None:
                act.setShortcut(QKeySequence(shortcut))
                act.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
                act.setToolTip(f"{tip} ({act.shortcut().toString()})")
            act.triggered.connect(slot)
            self.table.addAction(act)
            return act

        self.train_again_action = action(
            "Train again",
            "Train a new run with this run's settings and data set",
            self.train_again,
            "Shift+Return",
        )
        self.rename_action = action(
            "Note…", "Write a note for this run (it names the run in legends)", self.rename, "F2"
        )
        self.pin_action = action(
            "Pin",
            f"Pin or unpin: pinned runs are kept beyond the newest {DEFAULT_LIMIT}",
            self.toggle_pin,
            "Ctrl+P",
        )
        self.delete_action = action(
            "Delete",
            "Delete the selected runs (Ctrl+Z brings them back)",
            self.delete_selected,
            QKeySequence.StandardKey.Delete,
        )
        self.undo_action = action(
            "Undo", "Bring back the runs just deleted", self.undo_delete, "Ctrl+Z"
        )
        self.export_action = QAction("Export curves…", self)
        self.export_action.setToolTip(
            "Write the curves of the ticked runs (else the selected ones, else all) as one "
            "long CSV table with a run column: one row per step, accuracies on the epoch rows"
        )
        self.export_action.triggered.connect(self.export_curves)

    def _update_actions(self) -> None:
        selected = self.selected_runs()
        for act in (self.rename_action, self.pin_action, self.delete_action):
            act.setEnabled(bool(selected))
        self.train_again_action.setEnabled(len(selected) == 1)
        self.pin_action.setText("Unpin" if selected and all(r.pinned for r in selected) else "Pin")
        self.undo_action.setEnabled(bool(self._undo))
        self.export_action.setEnabled(bool(self._runs))

    def _show_menu(self, pos) -> None:
        row = self.table.rowAt(pos.y())
        if row >= 0 and not self.table.item(row, COL_OVERLAY).isSelected():
            self.select_runs([self._runs[row].run_id])
        self._update_actions()
        menu = QMenu(self)
        overlay = menu.addAction("Overlay on the plots")
        overlay.setCheckable(True)
        selected = self.selected_runs()
        overlay.setEnabled(bool(selected))
        overlay.setChecked(bool(selected) and all(r.run_id in self._ticked for r in selected))
        overlay.toggled.connect(lambda on: self.set_ticked(selected, on))
        menu.addSeparator()
        for act in (self.train_again_action, self.rename_action, self.pin_action):
            menu.addAction(act)
        menu.addSeparator()
        menu.addAction(self.delete_action)
        menu.addAction(self.undo_action)
        menu.addSeparator()
        menu.addAction(self.export_action)
        menu.popup(self.table.viewport().mapToGlobal(pos))

    # -- public API ---------------------------------------------------------------------------
    @property
    def store(self) -> RunStore | None:
        return self._store

    def set_store(self, store: RunStore) -> None:
        """Show the runs kept in ``store`` (replacing the list); files that could not be read
        are listed in :attr:`notes` and the message line."""
        had_ticks = bool(self._ticked)
        self._store = store
        self._runs, self.notes = store.load()
        self._ticked.clear()
        self._unsaved.clear()
        self._undo = []
        self._rebuild()
        if self.notes:
            shown = "; ".join(self.notes[:3])
            more = f" (and {len(self.notes) - 3} more)" if len(self.notes) > 3 else ""
            self.message.show_message(f"{shown}{more}.", level="info")
        else:
            self.message.dismiss()
        self.runsChanged.emit()
        if had_ticks:
            self.overlaysChanged.emit([])

    def add_run(self, record: RunRecord) -> None:
        """Keep ``record`` (saved to the store) and show it at the top. A run the store
        cannot write stays in the list, marked "not saved", and the message line says why."""
        self._runs = [r for r in self._runs if r.run_id != record.run_id]
        self._runs.append(record)
        self._runs.sort(key=_newest_first_key, reverse=True)
        dropped: list[str] = []
        if self._store is not None:
            try:
                dropped = self._store.save(record)
                self._unsaved.discard(record.run_id)
            except RunHistoryError as exc:
                self._unsaved.add(record.run_id)
                self.message.show_message(
                    f"This run could not be saved to the history folder ({exc}). It stays in "
                    "this list until the app closes.",
                    level="error",
                )
        else:
            unpinned = [r.run_id for r in self._runs if not r.pinned]
            dropped = unpinned[DEFAULT_LIMIT:]
        self._drop_from_memory(dropped)
        self._rebuild()
        self.runsChanged.emit()

    def runs(self) -> list[RunRecord]:
        """All listed runs, newest first."""
        return list(self._runs)

    def ticked_runs(self) -> list[RunRecord]:
        """The runs whose overlay box is ticked, newest first."""
        return [r for r in self._runs if r.run_id in self._ticked]

    def selected_runs(self) -> list[RunRecord]:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        return [self._runs[row] for row in rows if row < len(self._runs)]

    def set_ticked(self, records, on: bool = True) -> None:
        """Tick (or untick) ``records`` (RunRecords or run ids)."""
        ids = {r if isinstance(r, str) else r.run_id for r in records}
        before = set(self._ticked)
        self._ticked = (self._ticked | ids) if on else (self._ticked - ids)
        self._ticked &= {r.run_id for r in self._runs}
        if self._ticked != before:
            self._sync_checks()
            self.overlaysChanged.emit(self.ticked_runs())

    def set_run_colours(self, colours: dict[str, str]) -> None:
        """Show each overlaid run's plot colour beside its check box ({run_id: colour})."""
        self._colours = dict(colours)
        self.table.blockSignals(True)
        try:
            for row, record in enumerate(self._runs):
                item = self.table.item(row, COL_OVERLAY)
                colour = self._colours.get(record.run_id)
                item.setIcon(_colour_icon(colour) if colour else QIcon())
        finally:
            self.table.blockSignals(False)

    def select_runs(self, run_ids) -> None:
        """Select exactly the rows of ``run_ids`` (the first one current)."""
        ids = set(run_ids)
        rows = [row for row, r in enumerate(self._runs) if r.run_id in ids]
        model = self.table.selectionModel()
        selection = QItemSelection()
        for row in rows:
            selection.select(self.table.model().index(row, 0), self.table.model().index(row, 0))
        flags = QItemSelectionModel.SelectionFlag
        if rows:
            model.setCurrentIndex(self.table.model().index(rows[0], 0), flags.NoUpdate)
        model.select(selection, flags.ClearAndSelect | flags.Rows)

    @property
    def note_column(self) -> int:
        return 2 + len(self._keys) + 3

    @property
    def setting_keys(self) -> list[str]:
        """The settings shown as columns."""
        return list(self._keys)

    # -- row actions --------------------------------------------------------------------------
    def train_again(self) -> None:
        selected = self.selected_runs()
        if len(selected) != 1:
            return
        record = selected[0]
        self.trainAgainRequested.emit(dataclasses.replace(record.config), record.dataset)

    def rename(self) -> None:
        """Edit the note of the current (or first selected) run in place."""
        selected = self.selected_runs()
        if not selected:
            return
        row = self._runs.index(selected[0])
        item = self.table.item(row, self.note_column)
        self.table.setCurrentItem(item)
        self.table.editItem(item)

    def set_note(self, run_id: str, note: str) -> None:
        record = self._find(run_id)
        record.note = note.strip()
        self._persist(record)
        self._rebuild()
        self.runsChanged.emit()
        if run_id in self._ticked:
            self.overlaysChanged.emit(self.ticked_runs())

    def toggle_pin(self) -> None:
        selected = self.selected_runs()
        if not selected:
            return
        pinned = not all(r.pinned for r in selected)
        for record in selected:
            self.set_pinned(record.run_id, pinned, emit=False)
        self._rebuild()
        self.runsChanged.emit()

    def set_pinned(self, run_id: str, pinned: bool, *, emit: bool = True) -> None:
        record = self._find(run_id)
        record.pinned = bool(pinned)
        self._persist(record)
        if emit:
            self._rebuild()
            self.runsChanged.emit()

    def delete_selected(self) -> None:
        self.delete_runs(self.selected_runs())

    def delete_runs(self, records) -> None:
        """Delete runs (RunRecords or ids) from the list and the store; undo_delete() brings
        them back."""
        ids = {r if isinstance(r, str) else r.run_id for r in records}
        doomed = [r for r in self._runs if r.run_id in ids]
        if not doomed:
            return
        failed = []
        for record in doomed:
            if self._store is not None and record.run_id not in self._unsaved:
                try:
                    self._store.delete(record.run_id)
                except OSError as exc:
                    failed.append(f"{record.run_id}: {exc.strerror or exc}")
                    continue
        if failed:
            self.message.show_message(
                "Could not delete " + "; ".join(failed) + ". Those runs are still kept.",
                level="error",
            )
            doomed = [r for r in doomed if not any(f.startswith(r.run_id) for f in failed)]
        self._undo = doomed
        was_ticked = bool(self._ticked & {r.run_id for r in doomed})
        self._drop_from_memory([r.run_id for r in doomed])
        self._rebuild()
        if doomed and not failed:
            keys = self._keys
            names = ", ".join(f"'{describe(r, keys)}'" for r in doomed[:3])
            more = f" and {len(doomed) - 3} more" if len(doomed) > 3 else ""
            self.message.show_message(f"Deleted {names}{more}.", level="info", undo=True)
        self.runsChanged.emit()
        if was_ticked:
            self.overlaysChanged.emit(self.ticked_runs())

    def undo_delete(self) -> None:
        """Bring back the runs deleted last (rewritten to the store)."""
        restored, self._undo = self._undo, []
        if not restored:
            return
        for record in restored:
            self._runs.append(record)
            self._persist(record)
        self._runs.sort(key=_newest_first_key, reverse=True)
        self._rebuild(select=[r.run_id for r in restored])
        if not self._unsaved & {r.run_id for r in restored}:
            self.message.dismiss()
        self.runsChanged.emit()

    def export_curves(self) -> Path | None:
        """Export the ticked runs (else the selected ones, else all) as one long CSV."""
        records = self.ticked_runs() or self.selected_runs() or self.runs()
        return export.export_curves_csv(self, records)

    # -- internals ----------------------------------------------------------------------------
    def _find(self, run_id: str) -> RunRecord:
        for record in self._runs:
            if record.run_id == run_id:
                return record
        raise KeyError(f"no run {run_id!r} in the history")

    def _persist(self, record: RunRecord) -> None:
        if self._store is None:
            return
        try:
            self._store.update(record)
            self._unsaved.discard(record.run_id)
        except RunHistoryError as exc:
            self._unsaved.add(record.run_id)
            self.message.show_message(
                f"Could not save the change ({exc}). It is kept until the app closes.",
                level="error",
            )

    def _drop_from_memory(self, run_ids) -> None:
        ids = set(run_ids)
        if not ids:
            return
        self._runs = [r for r in self._runs if r.run_id not in ids]
        if self._ticked & ids:
            self._ticked -= ids
            self.overlaysChanged.emit(self.ticked_runs())
        self._unsaved -= ids

    def _sync_checks(self) -> None:
        self.table.blockSignals(True)
        try:
            for row, record in enumerate(self._runs):
                ticked = record.run_id in self._ticked
                self.table.item(row, COL_OVERLAY).setCheckState(
                    Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked
                )
        finally:
            self.table.blockSignals(False)

    def _rebuild(self, select=None) -> None:
        """Refill the table from ``_runs`` (at most DEFAULT_LIMIT-odd rows: cheap), keeping
        the selection (or selecting the run ids ``select``)."""
        selected = set(select) if select is not None else {r.run_id for r in self.selected_runs()}
        keys = differing_settings(self._runs)
        self._keys = keys if keys else list(FALLBACK_KEYS)
        headers = [
            ("", "Tick to draw this run on the plots beside the current one"),
            ("★", "Pinned runs are kept beyond the newest runs"),
            *(SETTING_HEADERS.get(k, (k, k)) for k in self._keys),
            *FIXED_COLUMNS,
        ]
        table = self.table
        table.blockSignals(True)
        try:
            table.clearContents()
            table.setColumnCount(len(headers))
            table.setRowCount(len(self._runs))
            for col, (text, tip) in enumerate(headers):
                item = QTableWidgetItem(text)
                item.setToolTip(tip)
                table.setHorizontalHeaderItem(col, item)
            for row, record in enumerate(self._runs):
                self._fill_row(row, record)
            self.select_runs(selected)
            header = table.horizontalHeader()
            for col in range(len(headers)):
                header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
            header.setSectionResizeMode(self.note_column, QHeaderView.ResizeMode.Stretch)
        finally:
            table.blockSignals(False)
        self.empty_hint.setVisible(not self._runs)
        pinned = sum(r.pinned for r in self._runs)
        self.count_label.setText(
            f"{len(self._runs)} run{'s' if len(self._runs) != 1 else ''}"
            + (f" · {pinned} pinned" if pinned else "")
        )
        self.set_run_colours(self._colours)
        self._update_actions()

    def _fill_row(self, row: int, record: RunRecord) -> None:
        settings = record.settings()
        summary = ", ".join(describe_setting(k, v) for k, v in settings.items())
        tip = f"Run {record.run_id}: {summary}"
        if record.note:
            tip = f"{record.note}\n{tip}"
        fixed = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

        def cell(col: int, text: str, tooltip: str = tip, flags=fixed) -> QTableWidgetItem:
            item = QTableWidgetItem(text)
            item.setFlags(flags)
            item.setToolTip(tooltip)
            item.setData(_RUN_ID, record.run_id)
            self.table.setItem(row, col, item)
            return item

        check = cell(COL_OVERLAY, "", "Tick to draw this run on the plots beside the current one")
        check.setFlags(fixed | Qt.ItemFlag.ItemIsUserCheckable)
        check.setCheckState(
            Qt.CheckState.Checked if record.run_id in self._ticked else Qt.CheckState.Unchecked
        )
        cell(
            COL_PIN, "★" if record.pinned else "", "Pinned: never dropped" if record.pinned else tip
        )
        col = 2
        for key in self._keys:
            cell(col, setting_text(key, settings.get(key)))
            col += 1
        acc = record.final_test_acc
        cell(col, "–" if acc is None else f"{100 * acc:.2f} %").setTextAlignment(
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        )
        cell(col + 1, wall_time_text(record.wall_seconds))
        cell(col + 2, when_text(record), f"Started {record.started_at}")
        cell(
            col + 3,
            record.note,
            "Double-click or F2 to write a note; it names the run in the legends",
            fixed | Qt.ItemFlag.ItemIsEditable,
        )
        outcome = record.outcome
        if record.run_id in self._unsaved:
            outcome += " (not saved)"
        cell(col + 4, outcome, f"{record.outcome}; {record.iterations:,} steps recorded")

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        run_id = item.data(_RUN_ID)
        if run_id is None:
            return
        if item.column() == COL_OVERLAY:
            self.set_ticked([run_id], item.checkState() == Qt.CheckState.Checked)
        elif item.column() == self.note_column and item.text().strip() != self._find(run_id).note:
            self.set_note(run_id, item.text())


class _MessageLine(MessageBanner):
    """The window's non-modal message strip, with Undo when it applies."""

    def __init__(self, undo: QAction, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label.setObjectName("runHistoryMessage")
        self.undo_button = _button(undo)
        self.undo_button.hide()
        self.layout().insertWidget(1, self.undo_button)

    def show_message(self, text: str, level: str = "info", *, undo: bool = False) -> None:
        super().show_message(text, level)
        self.label.setToolTip(text)
        self.undo_button.setVisible(undo)


def _button(action: QAction) -> QToolButton:
    button = QToolButton()
    button.setDefaultAction(action)
    button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    return button
