"""The switch-interval setting is shared by the training run and the insight tasks."""

from __future__ import annotations

import sys

from desktop_bp.gui import gil


def test_nested_users_restore_the_interval_only_at_the_end():
    original = sys.getswitchinterval()
    gil.acquire()
    gil.acquire()
    assert sys.getswitchinterval() == gil.BACKGROUND_SWITCH_INTERVAL
    gil.release()
    assert sys.getswitchinterval() == gil.BACKGROUND_SWITCH_INTERVAL  # one user left
    gil.release()
    assert sys.getswitchinterval() == original
    gil.release()  # an extra release is harmless
    assert sys.getswitchinterval() == original
    assert gil.active_users() == 0
