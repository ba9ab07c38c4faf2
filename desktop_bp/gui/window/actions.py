"""The window's QActions (one place for texts, shortcuts and tooltips, which show the keys) and
the menus that hold them."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QMessageBox, QTabWidget, QWidget

from desktop_bp import __version__


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
    show_history: QAction
    export_curves: QAction
    export_loss: QAction
    export_accuracy: QAction
    export_gradients: QAction

    def update_state(
        self,
        *,
        running: bool,
        paused: bool,
        loading_to_train: bool,
        loading: bool,
        has_model: bool,
        has_curves: bool,
    ) -> None:
        """Enable what can be done now: ``loading_to_train`` is a data set load that Train
        waits for, ``loading`` any load (Stop cancels it)."""
        busy = running or loading_to_train
        self.train.setEnabled(not busy)
        self.pause.setEnabled(running)
        self.pause.setText("&Resume" if paused else "&Pause")
        self.stop.setEnabled(running or loading)
        self.reset.setEnabled(not busy and (has_model or has_curves))
        self.restore_defaults.setEnabled(not busy)
        self.open.setEnabled(not running)
        self.save.setEnabled(not running and has_model)
        self.save_as.setEnabled(not running and has_model)


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
        show_history=_action(
            parent,
            "Run &history",
            ["Ctrl+H"],
            "Show or hide the run history below the plots: every run kept, tick runs to "
            "compare them on the plots",
            checkable=True,
        ),
        export_curves=_action(
            parent,
            "&Export curves…",
            ["Ctrl+E"],
            "Write the curves of the current run and the ticked runs (none: every listed run) "
            "as one CSV table with a run column",
        ),
        export_loss=_action(
            parent, "&Loss…", ["Ctrl+Shift+1"], "Export the loss plot as PNG or SVG"
        ),
        export_accuracy=_action(
            parent, "&Accuracy…", ["Ctrl+Shift+2"], "Export the accuracy plot as PNG or SVG"
        ),
        export_gradients=_action(
            parent,
            "&Gradients…",
            ["Ctrl+Shift+3"],
            "Export the gradient magnitudes plot as PNG or SVG",
        ),
    )


@dataclass
class WindowMenus:
    recent: QMenu
    view: QMenu


def build_menus(window: QMainWindow, a: WindowActions) -> WindowMenus:
    """File, Training, View and Help; File ▸ Open recent is left for RecentFiles to fill."""
    file_menu = window.menuBar().addMenu("&File")
    file_menu.addAction(a.open)
    recent_menu = file_menu.addMenu("Open &recent")
    file_menu.addSeparator()
    file_menu.addAction(a.save)
    file_menu.addAction(a.save_as)
    file_menu.addSeparator()
    file_menu.addAction(a.export_curves)
    plot_menu = file_menu.addMenu("Export &plot")
    for action in (a.export_loss, a.export_accuracy, a.export_gradients):
        plot_menu.addAction(action)
    file_menu.addSeparator()
    file_menu.addAction(a.quit)
    train_menu = window.menuBar().addMenu("&Training")
    for action in (a.train, a.pause, a.stop, a.reset):
        train_menu.addAction(action)
    train_menu.addSeparator()
    train_menu.addAction(a.restore_defaults)
    view_menu = window.menuBar().addMenu("&View")
    view_menu.addAction(a.log_scale)
    view_menu.addAction(a.show_history)
    help_menu = window.menuBar().addMenu("&Help")
    help_menu.addAction(a.about)
    return WindowMenus(recent=recent_menu, view=view_menu)


def add_tab_shortcuts(window: QWidget, tabs: QTabWidget, view_menu: QMenu) -> list[QAction]:
    """Ctrl+1 … Ctrl+9 switch to the tabs (listed in the View menu)."""
    view_menu.addSeparator()
    actions: list[QAction] = []
    for index in range(min(tabs.count(), 9)):
        action = QAction(f"&{index + 1} {tabs.tabText(index)}", window)
        action.setShortcut(QKeySequence(f"Ctrl+{index + 1}"))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setToolTip(tabs.tabToolTip(index))
        action.triggered.connect(lambda _=False, i=index: tabs.setCurrentIndex(i))
        view_menu.addAction(action)
        window.addAction(action)
        actions.append(action)
        tip = tabs.tabToolTip(index)
        tabs.setTabToolTip(index, f"{tip} (Ctrl+{index + 1})" if tip else "")
    return actions


def show_about(window: QWidget) -> None:
    QMessageBox.about(
        window,
        "About Desktop BP",
        f"<b>Desktop BP</b> {__version__}<br>Train the two-layer network of chapter 5 of "
        "<i>Deep Learning from Scratch</i> and watch backpropagation work.",
    )
