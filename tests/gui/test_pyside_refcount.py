"""Guard against the PySide6 build that corrupts reference counts of None and True.

PySide6 6.12.0 on Python 3.11 drops a reference to None on every void call and to True on
every emit with True, until the interpreter aborts at exit ("Fatal Python error:
bool_dealloc"). pyproject.toml excludes that version; this test catches a regression of the
bound or a new broken release. (Immortal objects on Python 3.12+ make the counts constant.)
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

CALLS = 1000
SLACK = 5


class _Emitter(QObject):
    flag = Signal(bool)


def test_void_calls_keep_none_refcount(qapp):
    widget = QWidget()
    obj = QObject()
    before = sys.getrefcount(None)
    for _ in range(CALLS):
        widget.setObjectName("x")
        obj.blockSignals(False)
    after = sys.getrefcount(None)
    assert abs(after - before) <= SLACK, (before, after)


def test_void_calls_on_new_widgets_keep_none_refcount(qapp):
    before = sys.getrefcount(None)
    for _ in range(CALLS):
        QWidget().setObjectName("x")
    after = sys.getrefcount(None)
    assert abs(after - before) <= SLACK, (before, after)


def test_emitting_true_keeps_true_refcount(qapp):
    emitter = _Emitter()
    received = []
    emitter.flag.connect(received.append)
    before = sys.getrefcount(True)
    for _ in range(CALLS):
        emitter.flag.emit(True)
    del received[:]
    after = sys.getrefcount(True)
    assert abs(after - before) <= SLACK, (before, after)
