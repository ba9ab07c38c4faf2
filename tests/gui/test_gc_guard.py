"""Cyclic garbage (which may hold Qt widgets) is collected in the GUI thread only."""

from __future__ import annotations

import gc
import threading
import weakref

from desktop_bp.gui import gc_guard


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


def test_cycles_are_collected_by_the_gui_timer_not_by_other_threads(qtbot):
    guard = gc_guard.install()
    assert guard is not None and not gc.isenabled()
    collected_in: list[str] = []

    def make_garbage() -> weakref.ref:
        node = Node()
        ref = weakref.ref(node, lambda _: collected_in.append(threading.current_thread().name))
        return ref

    ref = make_garbage()
    # A worker thread allocating heavily does not trigger a collection any more.
    worker = threading.Thread(target=lambda: [[] for _ in range(200_000)], name="worker")
    worker.start()
    worker.join()
    assert ref() is not None

    def churn() -> bool:
        # Keep passing generation 0's threshold, so the timer's collections cascade to the
        # older generations too (the node may have been promoted out of generation 0).
        for _ in range(guard.threshold[0] + 10):
            Node()
        return ref() is None

    qtbot.waitUntil(churn, timeout=20000)
    assert collected_in == [threading.main_thread().name]
