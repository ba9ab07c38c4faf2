"""Run Python's cyclic garbage collector in the GUI thread only.

Python collects cycles in whichever thread happens to allocate when a threshold is crossed —
often the training or insight worker thread. If the garbage holds Qt widgets (a closed window,
a replaced view), their C++ destructors then run in that worker thread, take Qt's locks and wait
for the GIL while the GUI thread holds the GIL and waits for those locks: a deadlock, seen in
the test suite. pyqtgraph's ``GarbageCollector`` solves it the same way: switch automatic
collection off and collect from a timer in the GUI thread, with the usual thresholds.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QCoreApplication, QObject, QTimer

#: How often the GUI thread checks whether a collection is due (ms).
CHECK_INTERVAL_MS = 250

_guard: GuiThreadGarbageCollector | None = None


class GuiThreadGarbageCollector(QObject):
    """Disables automatic collection; collects generation 0, 1 or 2 from a GUI-thread timer
    whenever the count of that generation passes the interpreter's own threshold."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.threshold = gc.get_threshold()
        gc.disable()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.check)
        self.timer.start(CHECK_INTERVAL_MS)

    def check(self) -> None:
        counts = gc.get_count()
        for generation in (2, 1, 0):
            if counts[generation] > self.threshold[generation]:
                gc.collect(generation)
                return


def install() -> GuiThreadGarbageCollector | None:
    """Install the collector once per application (a child of the QApplication)."""
    global _guard
    app = QCoreApplication.instance()
    if app is None:
        return None
    if _guard is None or _guard.parent() is not app:
        _guard = GuiThreadGarbageCollector(app)
    return _guard
