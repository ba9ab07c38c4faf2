"""The main window: the settings column, the tabs, the menus and the status bar, and the one
training run and data set load that go at a time.

Data flow: the training worker emits snapshots (≤ 20/s) → ``_on_snapshot`` hands them to the
Training tab (``training/page.py``), which queues them for its plots → a ~30 Hz timer repaints
at most one plot per tick. Nothing here blocks the GUI thread for long: data sets load in their
own thread, training runs in another (both through ``gui/qthreading.py``).

The other tabs are the lines of ``TABS``; each implements :class:`~desktop_bp.gui.tab.Tab` and
is fed by a :class:`~desktop_bp.gui.window.tab_host.TabFeeder`: copies of the weights on
``weightsChanged`` (the pad every time, the others at most every ``INSIGHT_INTERVAL_MS`` while
training, at once otherwise) and the chosen data set's test split; a tab out of sight during a
run is fed when it is shown.

What the window does with a run, a weights file and a data set lives beside it, as mixins
that share its state: ``run_commands.py`` (Train, Pause, Stop, Reset and the run's end),
``weights_commands.py`` (File ▸ Open/Save) and ``dataset_flow.py`` (a data set loading).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QApplication,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_bp.core.trainer import Trainer
from desktop_bp.gui import gc_guard
from desktop_bp.gui.history.window_link import RunHistoryLink
from desktop_bp.gui.insight import (
    BackwardInspectorView,
    ChainRuleView,
    EvaluationView,
    GradientCheckView,
    HiddenUnitsView,
)
from desktop_bp.gui.pad.drawing_pad import DrawingPad
from desktop_bp.gui.tab import TabSpec
from desktop_bp.gui.theme import apply_theme
from desktop_bp.gui.training.controller import TrainingController
from desktop_bp.gui.training.data_loader import DatasetLoader
from desktop_bp.gui.training.page import TrainingPage
from desktop_bp.gui.training.render_budget import RenderBudget
from desktop_bp.gui.training.run_controls import RunControls
from desktop_bp.gui.training.session import Session
from desktop_bp.gui.training.settings_column import SettingsPanel, settings_column
from desktop_bp.gui.window.actions import add_tab_shortcuts, build_menus, create_actions, show_about
from desktop_bp.gui.window.dataset_flow import DatasetFlow
from desktop_bp.gui.window.message_banner import MessageBanner
from desktop_bp.gui.window.persistence import restore_window_settings, save_window_settings
from desktop_bp.gui.window.recent_files import RecentFiles
from desktop_bp.gui.window.run_commands import RunCommands
from desktop_bp.gui.window.status_bar import StatusFields
from desktop_bp.gui.window.tab_host import TabFeeder, scrolling
from desktop_bp.gui.window.weights_commands import WeightsFileCommands

#: Repaint timer period: ~30 Hz.
TICK_MS = 33
#: Progress bar and status bar text: every this many ticks (~8 Hz).
STATUS_EVERY = 4
#: Share of the GUI thread's CPU time the plots may use while training (see RenderBudget).
RENDER_SHARE = 0.05
#: While training, the insight tabs get new weights at most this often (ms): ~5 per second.
INSIGHT_INTERVAL_MS = 200
#: The tabs after "Training", in order (Ctrl+2 … switch to them). A new tab: one room under
#: gui/ with a view implementing gui/tab.py's Tab, and one line here.
TABS = (
    TabSpec("draw", DrawingPad, live=True, scroll=False),
    TabSpec("gradcheck", GradientCheckView),
    TabSpec("inspector", BackwardInspectorView),
    TabSpec("hidden", HiddenUnitsView),
    TabSpec("evaluation", EvaluationView),
    TabSpec("chain_rule", ChainRuleView),
)


def _tab_view(key: str) -> property:
    """A read-only attribute: the view of the tab ``key`` of TABS (None when not built)."""
    return property(lambda self: self._tab_views.get(key))


class MainWindow(RunCommands, WeightsFileCommands, DatasetFlow, QMainWindow):
    """Train the chapter-5 TwoLayerNet and watch it learn.

    Signals: ``trainingFinished(reason)`` — "completed", "stopped", "diverged" or "failed",
    emitted in the GUI thread when a run has ended; ``weightsChanged()`` — ``current_params()``
    changed (during training at most ~30/s); ``trainingStarted()``.
    """

    trainingFinished = Signal(str)
    trainingStarted = Signal()
    weightsChanged = Signal()

    def __init__(self, parent: QWidget | None = None, *, insight_tabs: bool = True) -> None:
        """``insight_tabs=False`` builds only the Training tab (views can be added with
        :meth:`add_tab` / :meth:`set_draw_widget`)."""
        super().__init__(parent)
        gc_guard.install()  # cycles are collected in this (the GUI) thread only
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app)
        self.setWindowTitle("Desktop BP")
        self.setObjectName("mainWindow")
        self.resize(1280, 800)
        self.setMinimumSize(960, 640)

        self.training = TrainingController(self)
        self.runner = self.training.runner
        self.training.paramsChanged.connect(self._on_params_changed)
        self.loader = DatasetLoader(self)
        self.last_error = ""  # text of the last error shown to the user
        self.current_path: str | None = None  # the weights file Save writes to
        self._pending_train = False
        self._weights_dirty = False
        self._status_dirty = False
        self._ticks = 0
        self.render_budget = RenderBudget(RENDER_SHARE)
        self.feeder = TabFeeder(
            self,
            weights=self._weights_for_tabs,
            is_running=lambda: self.runner.is_running,
            report=lambda text: self.statusBar().showMessage(text, 8000),
            interval_ms=INSIGHT_INTERVAL_MS,
        )
        self.weightsChanged.connect(self.feeder.on_weights_changed)
        # Views that missed weights while off screen during a run, and the throttled views
        # (the insight tabs): the feeder's own collections.
        self._stale_views = self.feeder.stale
        self._insight_views: list[QWidget] = []
        self._tab_views: dict[str, QWidget] = {}

        self.ui_actions = create_actions(self)
        self._build_central()
        menus = build_menus(self, self.ui_actions)
        self.recent = RecentFiles(menus.recent, self)
        self.status = StatusFields(self.statusBar())
        self._connect()
        self.run_history = RunHistoryLink(self)  # the history pane, overlays and exports
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        if insight_tabs:
            self._build_tabs()
        self.tab_actions = add_tab_shortcuts(self, self.tabs, menus.view)
        restore_window_settings(self)
        self._update_actions()
        self._on_dataset_chosen(self.settings_panel.source)

    # == construction ==========================================================================
    def _build_central(self) -> None:
        self.settings_panel = SettingsPanel()
        self.run_controls = RunControls()
        column = settings_column(self.settings_panel, self.run_controls)

        page = self.training_page = TrainingPage(self.render_budget)
        self.loss_plot, self.accuracy_plot = page.loss_plot, page.accuracy_plot
        self.gradient_panel, self.log_scale_check = page.gradient_panel, page.log_scale_check
        self.loss_card, self.accuracy_card = page.loss_card, page.accuracy_card
        self.banner = MessageBanner()

        # Tabs: "Training" (the plots) first, then TABS (or views added with add_tab()). With
        # one tab the bar is hidden.
        self.tabs = QTabWidget()
        self.tabs.setObjectName("mainTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.setTabBarAutoHide(True)
        self.add_tab(page, page.tab_title, page.tab_tooltip)
        self.tabs.currentChanged.connect(self._on_tab_changed)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(4, 10, 10, 6)
        right_layout.setSpacing(8)
        right_layout.addWidget(self.banner)
        right_layout.addWidget(self.tabs, 1)

        central = QSplitter(Qt.Orientation.Horizontal)
        central.setObjectName("centralArea")
        central.addWidget(column)
        central.addWidget(right)
        central.setStretchFactor(1, 1)
        central.setChildrenCollapsible(False)
        self.setCentralWidget(central)

        a, controls = self.ui_actions, self.run_controls
        controls.bind(controls.train_button, a.train)
        controls.bind(controls.pause_button, a.pause)
        controls.bind(controls.stop_button, a.stop)
        controls.bind(controls.reset_button, a.reset)

    def _build_tabs(self) -> None:
        """The views of ``TABS``, as tabs 2, 3, …, and the links between them."""
        for spec in TABS:
            view = spec.view()
            self._tab_views[spec.key] = view
            if spec.live:
                self.add_tab(view, spec.title, spec.tooltip)
                self.feeder.add_live(view, view.set_network)
            else:
                self.add_tab(scrolling(view) if spec.scroll else view, spec.title, spec.tooltip)
                self.feeder.add_throttled(view)
                self._insight_views.append(view)
        self.feeder.feed_throttled()
        # Links between tabs: the pad's input into the inspector, a gallery image into the pad.
        if self.pad is not None and self.inspector_view is not None:
            self.pad.set_inspect_available(True)
            self.pad.inspectRequested.connect(self.inspect_drawing)
        if self.evaluation_view is not None:
            self.evaluation_view.imageActivated.connect(self.show_in_pad)

    def add_tab(self, widget: QWidget, title: str, tooltip: str = "") -> int:
        """Add a view as a tab next to "Training"; returns its index."""
        index = self.tabs.addTab(widget, title)
        if tooltip:
            self.tabs.setTabToolTip(index, tooltip)
        return index

    def set_draw_widget(self, widget: QWidget) -> None:
        """Add ``widget`` (the drawing pad: canvas + predictions) as the "Draw" tab.

        If the widget has ``set_network_params(params, activation)`` (the DrawingPad does), it
        is fed the current weights now and on every ``weightsChanged`` (also while training).
        """
        self.add_tab(widget, DrawingPad.tab_title, DrawingPad.tab_tooltip)
        if hasattr(widget, "set_network_params"):
            self.feeder.add_live(widget, lambda p, a: widget.set_network_params(p, a))

    # The views of TABS by key (None when the window was built without them): pad (DrawingPad),
    # gradcheck_view, inspector_view, hidden_units_view, evaluation_view.
    pad = _tab_view("draw")
    gradcheck_view = _tab_view("gradcheck")
    inspector_view = _tab_view("inspector")
    hidden_units_view = _tab_view("hidden")
    evaluation_view = _tab_view("evaluation")

    def show_tab(self, widget: QWidget) -> None:
        """Make the tab holding ``widget`` (directly or inside its scroll area) current."""
        for index in range(self.tabs.count()):
            page = self.tabs.widget(index)
            if page is widget or page.isAncestorOf(widget):
                self.tabs.setCurrentIndex(index)
                return

    @Slot(object, int)
    def show_in_pad(self, image: NDArray, label: int = -1) -> None:
        """Load a 784-pixel image (e.g. from the evaluation gallery) into the drawing pad and
        switch to the Draw tab."""
        if self.pad is None:
            return
        self.pad.load_image(image)
        self.show_tab(self.pad)
        if label >= 0:
            self.statusBar().showMessage(
                f"Test image of a {label} loaded into the drawing pad — draw over it to edit",
                6000,
            )

    @Slot(object)
    def inspect_drawing(self, image: NDArray | None = None) -> bool:
        """Send the pad's current input (or ``image``) to the backward-pass inspector and show
        it; False when there is nothing to inspect."""
        if self.inspector_view is None:
            return False
        if image is None and self.pad is not None:
            image = self.pad.current_input()
        if image is None:
            self.statusBar().showMessage("Draw a digit first: the canvas is empty", 4000)
            return False
        self.inspector_view.set_sample(np.asarray(image, dtype=np.float32).ravel())
        self.show_tab(self.inspector_view)
        return True

    def _weights_for_tabs(self) -> tuple[dict[str, NDArray] | None, str]:
        return self.current_params(), str(self.current_network_info().get("activation", "relu"))

    @Slot(int)
    def _on_tab_changed(self, index: int) -> None:
        # Hidden plots are not redrawn (see _tick); catch up when they are shown again.
        page = self.tabs.widget(index)
        if page is self.training_page:
            self._schedule()
        self.feeder.tab_changed()
        # Keys (Left/Right stepping) go to the tab just shown, also when Ctrl+N showed it.
        for view in self._tab_views.values():
            if (page is view or page.isAncestorOf(view)) and (
                view.focusProxy() is not None or view.focusPolicy() != Qt.FocusPolicy.NoFocus
            ):
                view.setFocus(Qt.FocusReason.TabFocusReason)

    def _connect(self) -> None:
        a = self.ui_actions
        a.train.triggered.connect(self.train)
        a.pause.triggered.connect(self.toggle_pause)
        a.stop.triggered.connect(self.stop)
        a.reset.triggered.connect(self.reset)
        a.restore_defaults.triggered.connect(self.settings_panel.restore_defaults)
        a.open.triggered.connect(self._open_dialog)
        a.save.triggered.connect(self._save)
        a.save_as.triggered.connect(self._save_as_dialog)
        a.quit.triggered.connect(self.close)
        a.about.triggered.connect(lambda: show_about(self))
        a.log_scale.toggled.connect(self.log_scale_check.setChecked)
        self.log_scale_check.toggled.connect(a.log_scale.setChecked)
        self.recent.openRequested.connect(self.load_weights)
        self.settings_panel.learningRateChanged.connect(self.runner.set_learning_rate)
        self.settings_panel.datasetChosen.connect(self._on_dataset_chosen)
        self.settings_panel.openFolderRequested.connect(self._open_folder_dialog)
        self.runner.snapshotReceived.connect(self._on_snapshot)
        self.runner.pausedChanged.connect(self._on_paused_changed)
        self.runner.runFinished.connect(self._on_run_finished)
        self.loader.loadStarted.connect(self._on_load_started)
        self.loader.progress.connect(self.run_controls.show_download)
        self.loader.loaded.connect(self._on_data_loaded)
        self.loader.failed.connect(self._on_data_failed)

    # == public API ============================================================================
    @property
    def session(self) -> Session:
        return self.training.session

    @property
    def _run_trainer(self) -> Trainer | None:
        return self.training.trainer

    @property
    def is_training(self) -> bool:
        return self.runner.is_running

    @property
    def is_paused(self) -> bool:
        return self.runner.is_paused

    @property
    def iteration(self) -> int:
        """Steps done by the current network, as of the last snapshot while training."""
        return self.training.iteration

    def current_params(self) -> dict[str, NDArray] | None:
        """Read-only copies of W1, b1, W2, b2 as of the last snapshot (None: no network yet).

        Safe to use from the GUI thread at any time, also while training runs.
        """
        return self.training.params()

    def current_network_info(self) -> dict[str, object]:
        """Activation and sizes of the network ``current_params`` belongs to."""
        return self.training.network_info()

    # == errors ================================================================================
    def _report_error(self, title: str, text: str) -> None:
        self.last_error = text
        self.statusBar().showMessage(f"{title}: {text.splitlines()[0] if text else ''}", 8000)
        self._show_error(title, text)

    def _show_error(self, title: str, text: str) -> None:
        """A modal message box; tests replace this method so nothing blocks."""
        box = QMessageBox(QMessageBox.Icon.Critical, title, text.split("\n\n")[0], parent=self)
        if "\n\n" in text:
            box.setDetailedText(text)
        box.exec()

    # == repainting ============================================================================
    def _schedule(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    @Slot()
    def _tick(self) -> None:
        self._ticks += 1
        if self._status_dirty and (
            self._ticks % STATUS_EVERY == 0 or not self.runner.is_running or self._is_paused_view()
        ):
            self._status_dirty = False
            progress = self.training.progress
            if progress is not None:
                done, start, target, rate, paused = progress
                self.run_controls.show_run_progress(done, start, target, rate, paused=paused)
                self.status.set_iteration(done, target)
                self.status.set_accuracy(self.training.last_test_acc)
        if self._weights_dirty:
            self._weights_dirty = False
            self.weightsChanged.emit()
        # At most one plot per tick (repainting all three at once stalls the event loop), and
        # only within the render budget while training.
        if not self.render_budget.allow():
            return
        if self.training_page.repaint_next(self.runner.is_running):
            return
        if not self.runner.is_running and not self._status_dirty:
            self._timer.stop()

    def _is_paused_view(self) -> bool:
        progress = self.training.progress
        return progress is not None and progress[4]

    def refresh_now(self) -> None:
        """Repaint everything pending at once (tests, screenshots)."""
        self.training_page.refresh_now()
        self._tick()

    # == state of the controls =================================================================
    def _update_actions(self) -> None:
        running = self.runner.is_running
        loading = self.loader.is_loading and self._pending_train
        self.ui_actions.update_state(
            running=running,
            paused=running and self.runner.is_paused,
            loading_to_train=loading,
            loading=self.loader.is_loading,
            has_model=self.session.has_model,
            has_curves=self.training_page.has_curves,
        )
        self.settings_panel.set_training(running or loading)

    def closeEvent(self, event: QCloseEvent) -> None:
        save_window_settings(self)
        self._pending_train = False
        self.feeder.stop()
        # Ask every worker to stop first, then wait for them: a gradient check, an evaluation,
        # a run and a data set load end together instead of one after another.
        views = list(self._tab_views.values())
        for view in views:
            view.cancel_work()
        self.runner.shutdown()
        self.loader.shutdown()
        for view in views:
            view.shutdown()
        self._timer.stop()
        super().closeEvent(event)
