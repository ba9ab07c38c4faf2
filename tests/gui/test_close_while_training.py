"""Closing the window mid-run stops the worker and the process exits cleanly."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

SCRIPT = textwrap.dedent(
    """
    import sys, time
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    from desktop_bp.gui.window.main_window import MainWindow

    app = QApplication(sys.argv[:1])
    window = MainWindow()
    window.settings_panel.iterations.setValue(1_000_000)
    window.show()
    state = {}

    def start():
        window.train()
        state["started"] = window.is_training or window.loader.is_loading
        QTimer.singleShot(500, close)

    def close():
        state["iteration"] = window.iteration
        state["closed_at"] = time.perf_counter()
        window.close()
        state["close_took"] = time.perf_counter() - state["closed_at"]

    window.loader.loaded.connect(lambda *a: None)
    QTimer.singleShot(0, start)
    code = app.exec()
    assert state.get("started"), state
    assert not window.runner.is_running
    print(f"CLOSED iteration={state['iteration']} close_took={state['close_took']:.3f}")
    sys.exit(code)
    """
)


def test_close_mid_run_exits_cleanly(tmp_path):
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["DESKTOP_BP_SETTINGS_DIR"] = str(tmp_path)
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    elapsed = time.perf_counter() - started
    assert result.returncode == 0, result.stderr
    assert "QThread" not in result.stderr, result.stderr
    assert "CLOSED" in result.stdout, result.stdout
    took = float(result.stdout.split("close_took=")[1].split()[0])
    assert took < 1.0, result.stdout
    assert elapsed < 30


def test_close_with_paused_run_in_process(make_window, qtbot):
    window = make_window(iterations=1_000_000)
    window.train()
    qtbot.waitUntil(lambda: window.iteration > 0, timeout=10000)
    with qtbot.waitSignal(window.runner.pausedChanged, timeout=5000):
        window.pause()
    with qtbot.waitSignal(window.trainingFinished, timeout=5000) as blocker:
        window.close()
    assert blocker.args == ["stopped"]
    assert not window.runner.is_running
