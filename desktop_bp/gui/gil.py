"""A shorter interpreter switch interval while any background Python work runs.

The GUI thread and the workers share the GIL. With Python's default interval (5 ms), a worker
busy in Python code (the gradient check's 80,000 tiny forward passes, a training step's small
numpy calls) keeps the GIL up to 5 ms each time the GUI thread asks for it, and a repaint asks
many times: stalls of hundreds of milliseconds were measured. 1 ms keeps the window smooth
(benchmarks/gui_responsiveness.py). Several workers may run at once, so the setting is
reference-counted: the first ``acquire`` saves the interval, the last ``release`` restores it.
"""

from __future__ import annotations

import sys
import threading

#: The interval while background work runs.
BACKGROUND_SWITCH_INTERVAL = 0.001

_lock = threading.Lock()
_users = 0
_saved: float | None = None


def acquire() -> None:
    """Shorten the switch interval (until the matching :func:`release`)."""
    global _users, _saved
    with _lock:
        if _users == 0:
            _saved = sys.getswitchinterval()
            sys.setswitchinterval(BACKGROUND_SWITCH_INTERVAL)
        _users += 1


def release() -> None:
    """Undo one :func:`acquire`; the last one restores the saved interval."""
    global _users, _saved
    with _lock:
        if _users == 0:
            return
        _users -= 1
        if _users == 0 and _saved is not None:
            sys.setswitchinterval(_saved)
            _saved = None


def active_users() -> int:
    return _users
