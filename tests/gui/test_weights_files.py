"""File ▸ Save/Open: round trip, recent files, bad files leave the state untouched."""

from __future__ import annotations

import numpy as np
import pytest

from desktop_bp.core.data import load_mnist
from desktop_bp.core.network import TwoLayerNet


def predictions(params, activation="relu"):
    (_, _), (x_test, _) = load_mnist(source="embedded")
    net = TwoLayerNet(784, params["W1"].shape[1], 10, activation=activation, dtype=np.float32)
    net.set_params(params)
    return net.predict(x_test[:200])


@pytest.fixture
def trained(window, qtbot):
    window.settings_panel.learning_rate.setValue(0.2)
    window.settings_panel.hidden_size.setValue(40)
    with qtbot.waitSignal(window.trainingFinished, timeout=60000):
        window.train()
    return window


def test_save_load_round_trip(trained, make_window, tmp_path, qtbot):
    path = tmp_path / "weights.npz"
    assert trained.save_weights(path)
    assert path.exists()
    before = predictions(trained.current_params())
    losses = list(trained.loss_plot.raw.y)
    test_acc = list(trained.accuracy_plot.test_acc)

    fresh = make_window(iterations=10)
    fresh.settings_panel.hidden_size.setValue(77)
    fresh.settings_panel.learning_rate.setValue(0.01)
    changes = []
    fresh.weightsChanged.connect(lambda: changes.append(1))
    assert fresh.load_weights(path)
    assert fresh.errors.calls == []
    after = predictions(fresh.current_params())
    np.testing.assert_array_equal(before, after)
    # Controls show the checkpoint's settings.
    assert fresh.settings_panel.hidden_size.value() == 40
    assert fresh.settings_panel.learning_rate.value() == pytest.approx(0.2)
    assert fresh.settings_panel.source == "embedded"
    # Curves restored.
    np.testing.assert_allclose(fresh.loss_plot.raw.y, losses, rtol=1e-6)
    assert fresh.accuracy_plot.test_acc == pytest.approx(test_acc)
    assert fresh.iteration == 300
    assert "300" in fresh.status.iteration.text()
    qtbot.waitUntil(lambda: bool(changes), timeout=2000)
    # Recent files and Save target.
    assert fresh.recent.paths[0] == str(path.resolve())
    assert fresh.current_path == str(path)
    # Training continues the loaded network.
    fresh.settings_panel.iterations.setValue(20)
    with qtbot.waitSignal(fresh.trainingFinished, timeout=60000):
        fresh.train()
    assert fresh.iteration == 320


def test_corrupt_file_leaves_state_untouched(trained, tmp_path):
    bad = tmp_path / "broken.npz"
    bad.write_bytes(b"PK\x03\x04 definitely not a weights file" * 10)
    params = trained.current_params()
    iteration = trained.iteration
    hidden = trained.settings_panel.hidden_size.value()
    losses = len(trained.loss_plot.raw)

    assert not trained.load_weights(bad)
    assert trained.errors.calls and "broken.npz" in trained.errors.calls[-1][1]
    assert "broken.npz" in trained.last_error
    assert trained.iteration == iteration
    assert trained.settings_panel.hidden_size.value() == hidden
    assert len(trained.loss_plot.raw) == losses
    for key, value in trained.current_params().items():
        np.testing.assert_array_equal(value, params[key])


def test_missing_file_is_an_error(window, tmp_path):
    assert not window.load_weights(tmp_path / "nope.npz")
    assert "nope.npz" in window.last_error


def test_save_without_network_is_an_error(make_window, tmp_path):
    window = make_window(wait_for_data=False)
    assert not window.save_weights(tmp_path / "w.npz")
    assert window.errors.calls
    assert not (tmp_path / "w.npz").exists()


def test_save_to_missing_folder_is_an_error(trained, tmp_path):
    assert not trained.save_weights(tmp_path / "no" / "such" / "w.npz")
    assert "does not exist" in trained.last_error


def test_recent_files_persist(trained, make_window, tmp_path):
    path = tmp_path / "a.npz"
    assert trained.save_weights(path)
    other = make_window(wait_for_data=False)
    assert other.recent.paths[0] == str(path.resolve())
    labels = [a.text() for a in other.recent.menu.actions() if a.text()]
    assert any("a.npz" in text for text in labels)


def test_checkpoint_from_a_missing_folder_loads_quietly(trained, make_window, tmp_path):
    trained.session.dataset = str(tmp_path / "gone")
    path = tmp_path / "w.npz"
    assert trained.save_weights(path)
    other = make_window()
    assert other.load_weights(path)
    assert other.errors.calls == []
    assert other.settings_panel.source == str(tmp_path / "gone")
    assert "Folder not found" in other.settings_panel.dataset_info.text()
    assert not other.loader.is_loading
