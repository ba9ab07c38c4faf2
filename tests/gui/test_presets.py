"""The preset combo, "Custom" once the user changes a setting, and Restore defaults."""

from __future__ import annotations

from desktop_bp.core import presets


def test_a_new_window_starts_on_the_default_preset(make_window):
    window = make_window(wait_for_data=False, preset=None)
    panel = window.settings_panel
    assert panel.preset_combo.objectName() == "presetCombo"
    assert panel.preset_name == "default"
    assert panel.config() == presets.PRESETS["default"]


def test_choosing_book_then_changing_a_setting_shows_custom(make_window):
    window = make_window(wait_for_data=False, preset=None)
    panel = window.settings_panel
    combo = panel.preset_combo
    combo.setCurrentIndex(combo.findData("book"))
    combo.activated.emit(combo.currentIndex())  # what a user's pick sends
    assert panel.config() == presets.PRESETS["book"]
    assert panel.preset_name == "book"

    panel.hidden_size.setValue(64)
    assert panel.preset_name == "custom"
    assert panel.config().hidden_size == 64  # the user's change is kept
    assert panel.config().iterations == presets.PRESETS["book"].iterations

    panel.seed.setValue(5)
    window.ui_actions.restore_defaults.trigger()
    assert panel.preset_name == "default"
    assert panel.config() == presets.preset("default", seed=5)  # the seed stays


def test_the_chosen_settings_survive_a_restart(make_window):
    window = make_window(wait_for_data=False, preset="book")
    window.settings_panel.lr_schedule.setCurrentIndex(
        window.settings_panel.lr_schedule.findData("step")
    )
    assert window.settings_panel.preset_name == "custom"
    window.close()
    again = make_window(wait_for_data=False, preset=None)
    config = again.settings_panel.config()
    assert config.lr_schedule == "step" and config.hidden_size == 50
    assert again.settings_panel.preset_name == "custom"


def test_presets_are_locked_while_training(window, qtbot):
    panel = window.settings_panel
    with qtbot.waitSignal(window.runner.runFinished, timeout=60_000):
        window.train()
        assert not panel.preset_combo.isEnabled()
        assert not window.ui_actions.restore_defaults.isEnabled()
    qtbot.waitUntil(lambda: panel.preset_combo.isEnabled(), timeout=5000)
