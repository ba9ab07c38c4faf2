"""Long sessions (issue 6): many train/stop/reset cycles in one window leak no thread, no
QThread and no memory; a worker that raises leaves no thread behind either.

Threads are counted three ways: ``threading.active_count()`` (Python threads, e.g. the trainer's
evaluation ``ThreadPoolExecutor`` thread, shut down at the end of every ``Trainer.steps()``),
native threads of the process (``/proc/self/task``: also catches a QThread that never ended),
and live ``QThread`` wrappers found by the garbage collector (the runner keeps the last run's
thread until the next run replaces it, so at most one may be left over).

``threading.active_count()`` also counts ``_DummyThread`` entries: the executor's thread is
created from the QThread, and ``threading.Thread()`` there registers that foreign thread as a
dummy which CPython (3.11) never removes. The entry is keyed by the native thread id, which the
next QThread normally reuses, so it does not grow per run; the tests compare the real threads
exactly and only bound the dummies.
"""

from __future__ import annotations

import gc
import os
import threading
import tracemalloc

import pytest
from PySide6.QtCore import QThread

from desktop_bp.core.trainer import Trainer

CYCLES = 20
MEMORY_GROWTH_LIMIT = 20 * 1024 * 1024  # bytes of traced Python memory over the 20 cycles
THREAD_SETTLE_MS = 10_000


def python_threads() -> int:
    """``threading.active_count()`` without the never-removed dummy entries (see above)."""
    return sum(1 for t in threading.enumerate() if not isinstance(t, threading._DummyThread))


def dummy_threads() -> int:
    return threading.active_count() - python_threads()


def native_threads() -> int | None:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:  # not Linux
        return None


def live_qthreads() -> int:
    gc.collect()
    return sum(1 for obj in gc.get_objects() if isinstance(obj, QThread))


def quiesce(qtbot, window) -> None:
    """Before a baseline: no run, no evaluation thread, and let ending threads finish."""
    qtbot.waitUntil(lambda: not window.runner.is_running, timeout=THREAD_SETTLE_MS)
    qtbot.waitUntil(
        lambda: not any(t.name.startswith("desktop-bp-eval") for t in threading.enumerate()),
        timeout=THREAD_SETTLE_MS,
    )
    qtbot.wait(200)


def settle(qtbot, py_baseline: int, native_baseline: int | None) -> None:
    """Wait until every thread a run started has ended (the eval executor joins its thread at
    the end of the trainer's generator; the QThread ends just before runFinished)."""
    qtbot.waitUntil(lambda: python_threads() <= py_baseline, timeout=THREAD_SETTLE_MS)
    if native_baseline is not None:
        qtbot.waitUntil(lambda: native_threads() <= native_baseline, timeout=THREAD_SETTLE_MS)


def run_to_completion(window, qtbot, iterations: int) -> str:
    window.settings_panel.iterations.setValue(iterations)
    with qtbot.waitSignal(window.trainingFinished, timeout=60000) as blocker:
        window.train()
    return blocker.args[0]


def run_then_stop(window, qtbot, after: int) -> str:
    window.settings_panel.iterations.setValue(200_000)
    window.train()
    qtbot.waitUntil(lambda: window.iteration >= after, timeout=20000)
    with qtbot.waitSignal(window.trainingFinished, timeout=20000) as blocker:
        window.stop()
    return blocker.args[0]


def one_cycle(window, qtbot, index: int) -> None:
    if index % 2 == 0:
        assert run_to_completion(window, qtbot, 40) == "completed"
        assert window.iteration == 40
    else:
        assert run_then_stop(window, qtbot, after=5) == "stopped"
        assert 5 <= window.iteration < 200_000
    assert not window.is_training
    window.reset()
    assert window.iteration == 0
    assert window.current_params() is None


def test_twenty_train_stop_reset_cycles_leak_nothing(make_window, qtbot):
    window = make_window()
    # Baselines once the window, its data loader and the plots exist, and after one warm-up
    # cycle (first-use caches, pyqtgraph items, BLAS pool) so that only growth is measured.
    one_cycle(window, qtbot, 0)
    quiesce(qtbot, window)
    py_baseline = python_threads()
    native_baseline = native_threads()
    settle(qtbot, py_baseline, native_baseline)
    qthreads_baseline = live_qthreads()
    dummies_baseline = dummy_threads()

    gc.collect()
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        qthread_counts = []
        for index in range(CYCLES):
            one_cycle(window, qtbot, index)
            settle(qtbot, py_baseline, native_baseline)
            qthread_counts.append(live_qthreads())
        gc.collect()
        after, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert python_threads() == py_baseline
    assert not [t.name for t in threading.enumerate() if t.name.startswith("desktop-bp-eval")]
    # A per-run leak would add one dummy per cycle (20); native thread ids are reused.
    assert dummy_threads() <= dummies_baseline + 3
    if native_baseline is not None:
        assert native_threads() <= native_baseline
    # The runner keeps the last run's QThread until the next run: never more than one extra,
    # and the count does not grow with the number of runs.
    assert max(qthread_counts) <= qthreads_baseline + 1, qthread_counts
    assert qthread_counts[-1] == qthread_counts[1], qthread_counts
    assert window.runner._thread is None and window.runner._worker is None
    growth = after - before
    print(
        f"\n{CYCLES} cycles: traced memory {before / 1e6:.2f} -> {after / 1e6:.2f} MB "
        f"(growth {growth / 1e6:+.2f} MB, peak {peak / 1e6:.2f} MB); python threads "
        f"{py_baseline} (+{dummy_threads()} dummy), native threads {native_baseline} -> "
        f"{native_threads()}, QThreads {qthread_counts}"
    )
    assert growth < MEMORY_GROWTH_LIMIT
    assert window.errors.calls == []


def test_train_button_cycles_via_actions(make_window, qtbot):
    """The same cycle through the window's actions (what the toolbar and shortcuts trigger)."""
    window = make_window(iterations=30)
    quiesce(qtbot, window)
    py_baseline = python_threads()
    native_baseline = native_threads()
    for _ in range(5):
        with qtbot.waitSignal(window.trainingFinished, timeout=60000) as blocker:
            window.ui_actions.train.trigger()
        assert blocker.args == ["completed"]
        window.ui_actions.reset.trigger()
        assert window.iteration == 0
        settle(qtbot, py_baseline, native_baseline)
    assert python_threads() == py_baseline


class Boom(RuntimeError):
    pass


@pytest.mark.parametrize("fail_at", [1, 7])
def test_worker_error_leaks_no_thread(make_window, qtbot, monkeypatch, fail_at):
    """A step that raises ends the run as "failed" with one error message, and the evaluation
    thread (one was submitted at step 1) and the QThread both end."""
    window = make_window(iterations=200_000)
    quiesce(qtbot, window)
    py_baseline = python_threads()
    native_baseline = native_threads()
    original = Trainer._gradient_stats

    def failing(self, *args, **kwargs):
        if self.iteration + 1 >= fail_at:
            raise Boom("injected failure in the training step")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Trainer, "_gradient_stats", failing)
    for attempt in range(3):  # the window stays usable and fails the same way each time
        with qtbot.waitSignal(window.trainingFinished, timeout=20000) as blocker:
            window.train()
        assert blocker.args == ["failed"]
        assert not window.is_training
        settle(qtbot, py_baseline, native_baseline)
        assert len(window.errors.calls) == attempt + 1
        title, text = window.errors.calls[-1]
        assert title == "Training failed"
        assert "Boom: injected failure" in text
        assert window.runner._thread is None
    assert python_threads() == py_baseline
    if native_baseline is not None:
        assert native_threads() <= native_baseline

    # Fixed: the next run completes normally.
    monkeypatch.setattr(Trainer, "_gradient_stats", original)
    window.reset()
    window.settings_panel.iterations.setValue(30)
    with qtbot.waitSignal(window.trainingFinished, timeout=60000) as blocker:
        window.train()
    assert blocker.args == ["completed"]
    settle(qtbot, py_baseline, native_baseline)
