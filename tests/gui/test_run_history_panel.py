"""The run history table: newest first, differing settings as columns, ticks, notes, pins,
delete with undo, train again, a corrupt file, a store that cannot be written."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from desktop_bp.core.run_history import RunStore
from desktop_bp.core.trainer import TrainConfig
from desktop_bp.gui.history.run_table import COL_OVERLAY, RunHistoryPanel, default_history_folder
from desktop_bp.testing.runs import synthetic_run


@pytest.fixture
def store(tmp_path):
    store = RunStore(tmp_path / "runs")
    for minutes, lr in enumerate((0.1, 0.5, 0.05)):
        store.save(synthetic_run(lr, minutes=minutes, steps=400, epoch=100))
    return store


@pytest.fixture
def panel(qtbot, store):
    panel = RunHistoryPanel()
    qtbot.addWidget(panel)
    panel.set_store(store)
    return panel


def headers(panel: RunHistoryPanel) -> list[str]:
    table = panel.table
    return [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]


def column(panel: RunHistoryPanel, name: str) -> list[str]:
    col = headers(panel).index(name)
    return [panel.table.item(row, col).text() for row in range(panel.table.rowCount())]


def test_rows_newest_first_with_the_differing_setting(panel):
    assert panel.table.objectName() == "runHistoryTable"
    assert panel.table.rowCount() == 3
    assert panel.setting_keys == ["learning_rate"]
    assert column(panel, "lr") == ["0.05", "0.5", "0.1"]
    assert "test acc" in headers(panel) and "time" in headers(panel)
    assert all(text.endswith(" %") for text in column(panel, "test acc"))
    assert column(panel, "outcome") == ["completed"] * 3
    assert panel.notes == []
    assert panel.table.item(0, 2).toolTip()  # tooltips on the cells


def test_one_run_shows_lr_hidden_activation(qtbot):
    panel = RunHistoryPanel()
    qtbot.addWidget(panel)
    panel.add_run(synthetic_run(0.1, steps=100, epoch=50))
    assert headers(panel)[2:5] == ["lr", "hidden", "activation"]
    assert column(panel, "activation") == ["relu"]


def test_another_differing_setting_adds_its_column(panel):
    panel.add_run(synthetic_run(0.1, minutes=9, steps=400, epoch=100, activation="sigmoid"))
    assert panel.setting_keys == ["activation", "learning_rate"]
    assert column(panel, "activation")[0] == "sigmoid"


def test_ticking_emits_the_ticked_runs_at_once(panel, qtbot):
    item = panel.table.item(1, COL_OVERLAY)
    with qtbot.waitSignal(panel.overlaysChanged, timeout=1000) as blocker:
        item.setCheckState(Qt.CheckState.Checked)
    (run,) = blocker.args[0]
    assert run.config.learning_rate == 0.5
    assert panel.ticked_runs() == [run]
    with qtbot.waitSignal(panel.overlaysChanged, timeout=1000) as blocker:
        item.setCheckState(Qt.CheckState.Unchecked)
    assert blocker.args[0] == []


def test_train_again_emits_the_exact_settings(panel, qtbot):
    panel.table.selectRow(2)
    with qtbot.waitSignal(panel.trainAgainRequested, timeout=1000) as blocker:
        panel.train_again_action.trigger()
    config, dataset = blocker.args
    assert isinstance(config, TrainConfig)
    assert config == panel.runs()[2].config
    assert config is not panel.runs()[2].config  # a copy: the kept run cannot change
    assert dataset == "embedded"


def test_note_pin_and_delete_survive_a_restart(panel, store, qtbot):
    lr_05, lr_01 = panel.runs()[1], panel.runs()[2]
    note = panel.table.item(1, panel.note_column)
    with qtbot.waitSignal(panel.runsChanged, timeout=1000):
        note.setText("faster")  # what editing the cell (F2) ends with
    panel.table.selectRow(2)
    panel.pin_action.trigger()
    assert panel.pin_action.text() == "Unpin"
    panel.table.selectRow(0)
    panel.delete_action.trigger()
    assert "Deleted" in panel.message.text and panel.undo_action.isEnabled()

    again = RunHistoryPanel()
    qtbot.addWidget(again)
    again.set_store(RunStore(store.folder))
    assert [r.run_id for r in again.runs()] == [lr_05.run_id, lr_01.run_id]
    assert again.runs()[0].note == "faster"
    assert again.runs()[1].pinned
    assert column(again, "note") == ["faster", ""]
    assert column(again, "★") == ["", "★"]


def test_undo_brings_a_deleted_run_back_on_disk(panel, store):
    newest = panel.runs()[0]
    panel.table.item(0, COL_OVERLAY).setCheckState(Qt.CheckState.Checked)
    panel.delete_runs([newest])
    assert newest.run_id not in [r.run_id for r in panel.runs()]
    assert panel.ticked_runs() == []
    assert not store.path_of(newest.run_id).exists()
    panel.undo_action.trigger()
    assert panel.runs()[0].run_id == newest.run_id
    assert store.path_of(newest.run_id).exists()
    assert panel.message.text == ""


def test_a_corrupt_file_gives_a_note_and_no_crash(store, qtbot):
    (store.folder / "20261201-000000-dead.npz").write_bytes(b"PK\x03\x04 not a zip at all")
    panel = RunHistoryPanel(store=store)
    qtbot.addWidget(panel)
    assert panel.table.rowCount() == 3
    assert len(panel.notes) == 1 and "20261201-000000-dead.npz" in panel.notes[0]
    assert "20261201-000000-dead.npz" in panel.message.text


def test_an_unwritable_store_keeps_the_run_in_memory(tmp_path, qtbot):
    (tmp_path / "a file").write_text("not a folder")
    panel = RunHistoryPanel(store=RunStore(tmp_path / "a file" / "runs"))
    qtbot.addWidget(panel)
    run = synthetic_run(0.2, steps=100, epoch=50)
    panel.add_run(run)
    assert panel.runs() == [run]
    assert column(panel, "outcome") == ["completed (not saved)"]
    assert "could not be saved" in panel.message.text
    panel.set_note(run.run_id, "still here")  # a failing store never loses the change
    assert panel.runs()[0].note == "still here"


def test_add_run_saves_and_shows_it_first(panel, store):
    run = synthetic_run(0.3, minutes=60, steps=100, epoch=50)
    panel.add_run(run)
    assert panel.runs()[0] is run
    assert store.path_of(run.run_id).exists()
    assert column(panel, "lr")[0] == "0.3"


def test_default_folder_follows_the_test_data_folder(tmp_path):
    assert default_history_folder() == tmp_path / "data" / "runs"


def test_keys_delete_undo_and_rename(panel, qtbot):
    panel.show()
    panel.activateWindow()
    qtbot.waitActive(panel)
    panel.table.setFocus()
    qtbot.waitUntil(panel.table.hasFocus)
    panel.table.selectRow(0)
    newest = panel.runs()[0].run_id
    qtbot.keyClick(panel.table, Qt.Key.Key_Delete)
    assert newest not in [r.run_id for r in panel.runs()]
    qtbot.keyClick(panel.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert panel.runs()[0].run_id == newest
    assert [r.run_id for r in panel.selected_runs()] == [newest]  # the restored run
    qtbot.keyClick(panel.table, Qt.Key.Key_F2)
    qtbot.waitUntil(lambda: panel.table.state() == panel.table.State.EditingState)
    assert panel.table.currentColumn() == panel.note_column
