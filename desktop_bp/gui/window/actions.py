"""The window's QActions: one place for texts, shortcuts and tooltips (which show the keys)."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget


@dataclass
class WindowActions:
    train: QAction
    pause: QAction
    stop: QAction
    reset: QAction
    restore_defaults: QAction
    open: QAction
    save: QAction
    save_as: QAction
    quit: QAction
    log_scale: QAction
    about: QAction


def _action(
    parent: QWidget,
    text: str,
    shortcuts: list[str] | QKeySequence.StandardKey,
    tip: str,
    *,
    checkable: bool = False,
) -> QAction:
    action = QAction(text, parent)
    if isinstance(shortcuts, QKeySequence.StandardKey):
        keys = QKeySequence.keyBindings(shortcuts)
    else:
        keys = [QKeySequence(s) for s in shortcuts]
    if keys:
        action.setShortcuts(keys)
        shown = keys[0].toString(QKeySequence.SequenceFormat.NativeText)
        tip = f"{tip} ({shown})"
    action.setToolTip(tip)
    action.setStatusTip(tip)
    action.setCheckable(checkable)
    action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    parent.addAction(action)  # shortcuts work even when the action is in no visible menu
    return action


def create_actions(parent: QWidget) -> WindowActions:
    return WindowActions(
        train=_action(
            parent,
            "&Train",
            ["Ctrl+Return", "Ctrl+Enter"],
            "Train the network for the chosen number of iterations; continues the current "
            "network if its architecture and data set are unchanged",
        ),
        pause=_action(parent, "&Pause", ["Space"], "Pause or resume training"),
        # Not plain Esc: the drawing pad clears its canvas with Esc, and that must never
        # stop a run by accident.
        stop=_action(
            parent,
            "&Stop",
            ["Shift+Esc"],
            "Stop training (the weights so far are kept) or cancel a download",
        ),
        reset=_action(
            parent,
            "&Reset",
            ["Ctrl+R"],
            "Forget the current network and its curves; the next Train starts from new "
            "random weights",
        ),
        restore_defaults=_action(
            parent,
            "Restore &default settings",
            ["Ctrl+Shift+D"],
            "Set every training setting back to the default preset's (the seed and the data "
            "set stay)",
        ),
        open=_action(
            parent, "&Open weights…", QKeySequence.StandardKey.Open, "Load trained weights"
        ),
        save=_action(
            parent, "&Save weights", QKeySequence.StandardKey.Save, "Save the current weights"
        ),
        save_as=_action(
            parent,
            "Save weights &as…",
            ["Ctrl+Shift+S"],
            "Save the current weights to a new file",
        ),
        quit=_action(parent, "&Quit", QKeySequence.StandardKey.Quit, "Quit Desktop BP"),
        log_scale=_action(
            parent, "&Log-scale loss", ["Ctrl+L"], "Show the loss on a log axis", checkable=True
        ),
        about=_action(parent, "&About Desktop BP", [], "About this application"),
    )
