"""Settings persistence, data sets loading off the GUI thread, download cancel."""

from __future__ import annotations

import gzip
import struct
import time

import numpy as np

from desktop_bp.core.errors import DownloadCancelled
from desktop_bp.gui.window.main_window import MainWindow
from desktop_bp.gui.window.settings_file import ORGANIZATION


def test_settings_persist_between_windows(make_window, isolated_settings):
    window = make_window(wait_for_data=False)
    s = window.settings_panel
    s.hidden_size.setValue(64)
    s.activation.setCurrentIndex(s.activation.findData("sigmoid"))
    s.learning_rate.setValue(0.3)
    s.batch_size.setValue(50)
    s.seed.setValue(7)
    window.log_scale_check.setChecked(True)
    window.resize(1100, 720)
    window.close()
    assert (isolated_settings / ORGANIZATION).is_dir()

    again = make_window(wait_for_data=False, preset=None)
    s = again.settings_panel
    assert s.hidden_size.value() == 64
    assert s.activation.currentData() == "sigmoid"
    assert s.learning_rate.value() == 0.3
    assert s.batch_size.value() == 50
    assert s.seed.value() == 7
    assert again.log_scale_check.isChecked()
    assert again.ui_actions.log_scale.isChecked()
    # The offscreen screen is 800x800: Qt clamps a restored width to it (then to the minimum),
    # so only the height round-trips exactly here.
    assert again.height() == 720


def _write_idx(folder, name, array):
    dims = array.shape
    header = struct.pack(">HBB", 0, 0x08, len(dims)) + struct.pack(f">{len(dims)}I", *dims)
    with gzip.open(folder / f"{name}.gz", "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def test_idx_folder_from_the_combo(make_window, qtbot, tmp_path, monkeypatch):
    folder = tmp_path / "idx"
    folder.mkdir()
    rng = np.random.default_rng(0)
    _write_idx(folder, "train-images-idx3-ubyte", rng.integers(0, 255, (500, 28, 28)))
    _write_idx(folder, "train-labels-idx1-ubyte", rng.integers(0, 10, 500))
    _write_idx(folder, "t10k-images-idx3-ubyte", rng.integers(0, 255, (100, 28, 28)))
    _write_idx(folder, "t10k-labels-idx1-ubyte", rng.integers(0, 10, 100))

    window = make_window(iterations=30)
    monkeypatch.setattr(window, "_ask_folder", lambda: str(folder))
    combo = window.settings_panel.dataset_combo
    with qtbot.waitSignal(window.loader.loaded, timeout=15000):
        combo.setCurrentIndex(combo.count() - 1)  # "Open IDX folder…"
    assert window.settings_panel.source == str(folder)
    assert "500 train / 100 test" in window.status.dataset.text()
    with qtbot.waitSignal(window.trainingFinished, timeout=30000) as blocker:
        window.train()
    assert blocker.args == ["completed"]
    assert window.session.dataset == str(folder)


def test_bad_idx_folder_reports_error(make_window, qtbot, tmp_path, monkeypatch):
    window = make_window()
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setattr(window, "_ask_folder", lambda: str(empty))
    combo = window.settings_panel.dataset_combo
    with qtbot.waitSignal(window.loader.failed, timeout=15000):
        combo.setCurrentIndex(combo.count() - 1)
    assert window.errors.calls
    assert "missing IDX" in window.last_error


def test_download_shows_progress_and_can_be_cancelled(make_window, qtbot, monkeypatch):
    """A (fake) slow download runs off the GUI thread; Stop cancels it."""
    import desktop_bp.gui.training.data_loader as data_loader

    real = data_loader.core_data.load_mnist

    def slow_download(*args, source="embedded", progress=None, **kwargs):
        if source != "mnist":
            return real(*args, source=source, progress=progress, **kwargs)
        total = 10_000_000
        for done in range(0, total, 10_000):
            if progress is not None and progress(done, total, "train-images.gz") is False:
                raise DownloadCancelled("cancelled")
            time.sleep(0.005)
        raise AssertionError("never cancelled")

    monkeypatch.setattr(data_loader.core_data, "load_mnist", slow_download)
    window = make_window()
    combo = window.settings_panel.dataset_combo
    combo.setCurrentIndex(combo.findData("mnist"))
    assert "Downloads when you click Train" in window.settings_panel.dataset_info.text()
    assert not window.loader.is_loading

    window.train()
    assert window.loader.is_loading
    bar = window.run_controls.progress_bar
    qtbot.waitUntil(lambda: "Downloading" in bar.format() and bar.value() > 0, timeout=10000)
    # The GUI thread stays free while downloading.
    started = time.perf_counter()
    qtbot.wait(50)
    assert time.perf_counter() - started < 1.0
    assert window.ui_actions.stop.isEnabled()
    with qtbot.waitSignal(window.loader.failed, timeout=10000) as blocker:
        window.stop()
    assert blocker.args[2] is True  # cancelled
    assert not window.is_training
    assert window.errors.calls == []
    assert window.ui_actions.train.isEnabled()


def test_main_window_is_exported_lazily():
    import subprocess
    import sys

    code = (
        "import sys, desktop_bp.gui as g; assert 'PySide6' not in sys.modules; "
        "from desktop_bp.gui import MainWindow; assert MainWindow.__name__ == 'MainWindow'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    assert MainWindow is not None
