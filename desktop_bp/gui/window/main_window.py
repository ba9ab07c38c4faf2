"""The main window: settings column, live plots, gradient panel, File menu, status bar, and
the tabs that look inside the network (drawing pad, gradient check, backward pass, hidden
units, evaluation).

Data flow: the training worker emits snapshots (≤ 20/s) → ``_on_snapshot`` appends them to the
plots' buffers and marks them dirty → a ~30 Hz timer repaints at most one plot per tick.
Nothing here blocks the GUI thread for long: data sets load in their own thread, training
runs in another.

The insight tabs get copies of the weights on ``weightsChanged`` — at most every
``INSIGHT_INTERVAL_MS`` while training, at once otherwise — and the current data set's test
split whenever a data set is loaded or chosen; each view defers its own work while hidden.
"""

from __future__ import annotations

import math
import time
from itertools import chain
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_bp import __version__
from desktop_bp.core import data as core_data
from desktop_bp.core import download
from desktop_bp.core.checkpoint import load_checkpoint, save_checkpoint
from desktop_bp.core.errors import CheckpointError, DataError
from desktop_bp.core.trainer import DIVERGENCE_FACTOR
from desktop_bp.gui import gc_guard
from desktop_bp.gui.insight import (
    BackwardInspectorView,
    EvaluationView,
    GradientCheckView,
    HiddenUnitsView,
)
from desktop_bp.gui.pad.drawing_pad import DrawingPad
from desktop_bp.gui.theme import apply_theme
from desktop_bp.gui.training.data_loader import DatasetLoader
from desktop_bp.gui.training.gradient_panel import GradientPanel
from desktop_bp.gui.training.plots import AccuracyPlot, LossPlot, PlotCard, log_scale_toggle
from desktop_bp.gui.training.render_budget import RenderBudget
from desktop_bp.gui.training.run_controls import RunControls
from desktop_bp.gui.training.runner import TrainingRunner
from desktop_bp.gui.training.session import Session
from desktop_bp.gui.training.settings_column import SettingsPanel
from desktop_bp.gui.training.snapshot import TrainingSnapshot
from desktop_bp.gui.training.worker import DIVERGED, FAILED, STOPPED
from desktop_bp.gui.window.actions import create_actions
from desktop_bp.gui.window.message_banner import MessageBanner
from desktop_bp.gui.window.persistence import restore_window_settings, save_window_settings
from desktop_bp.gui.window.recent_files import RecentFiles
from desktop_bp.gui.window.settings_file import create_settings, read_value
from desktop_bp.gui.window.status_bar import StatusFields

#: Repaint timer period: ~30 Hz.
TICK_MS = 33
#: Progress bar and status bar text: every this many ticks (~8 Hz).
STATUS_EVERY = 4
#: While training, each plot (loss, accuracy, gradients) is redrawn at most this often (s):
#: every redraw hands the GIL back and forth with the training thread many times, which costs
#: the training far more than the redraw's own CPU time.
REFRESH_INTERVALS = (0.25, 0.6, 0.6)
#: Snapshots queued for the plots are appended at the latest after this many (~2 s), also
#: while the plots are hidden.
MAX_QUEUED_SNAPSHOTS = 40
#: Share of the GUI thread's CPU time the plots may use while training (see RenderBudget).
RENDER_SHARE = 0.05
WEIGHTS_FILTER = "Desktop BP weights (*.npz);;All files (*)"
#: While training, the insight tabs get new weights at most this often (ms): ~5 per second.
INSIGHT_INTERVAL_MS = 200
#: Tab titles and tooltips, in order (Ctrl+1 … Ctrl+6 switch to them).
TAB_TEXTS = {
    "training": ("Training", "Loss, accuracy and gradient magnitudes of the run"),
    "draw": ("Draw", "Draw a digit and watch the network classify it"),
    "gradcheck": (
        "Gradient check",
        "Compare backprop's gradients with the numerical gradient, and time both",
    ),
    "inspector": (
        "Backward pass",
        "Follow one image forward and backward through the computational graph, node by node",
    ),
    "hidden": ("Hidden units", "W1's columns as 28×28 images: what each hidden unit looks for"),
    "evaluation": (
        "Evaluation",
        "Confusion matrix and the test images the network gets wrong",
    ),
}


class MainWindow(QMainWindow):
    """Train the chapter-5 TwoLayerNet and watch it learn.

    Signals: ``trainingFinished(reason)`` — "completed", "stopped", "diverged" or "failed",
    emitted in the GUI thread when a run has ended; ``weightsChanged()`` — ``current_params()``
    changed (during training at most ~30/s); ``trainingStarted()``.
    """

    trainingFinished = Signal(str)
    trainingStarted = Signal()
    weightsChanged = Signal()

    def __init__(self, parent: QWidget | None = None, *, insight_tabs: bool = True) -> None:
        """``insight_tabs=False`` builds only the Training tab (the views can be added with
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

        self.session = Session()
        self.runner = TrainingRunner(self)
        self.loader = DatasetLoader(self)
        self.last_error = ""  # text of the last error shown to the user
        self.current_path: str | None = None  # the weights file Save writes to
        self._params: dict[str, NDArray] | None = None
        self._healthy_params: dict[str, NDArray] | None = None
        self._run_trainer = None
        self._pending_train = False
        self._progress: tuple[int, int, int, float, bool] | None = None
        self._last_test_acc: float | None = None
        self._weights_dirty = False
        self._status_dirty = False
        self._next_view = 0
        self._ticks = 0
        self._last_refresh = [0.0] * 3
        self._queued: list[TrainingSnapshot] = []
        self.render_budget = RenderBudget(RENDER_SHARE)
        self._draw_widget: QWidget | None = None
        # Views that missed weights while off screen during a run (fed when shown, see
        # _is_fed_now).
        self._stale_views: set[QWidget] = set()
        self.pad: DrawingPad | None = None
        self.gradcheck_view: GradientCheckView | None = None
        self.inspector_view: BackwardInspectorView | None = None
        self.hidden_units_view: HiddenUnitsView | None = None
        self.evaluation_view: EvaluationView | None = None
        self._insight_views: list[QWidget] = []  # fed set_network / set_data; shut down on close
        self._insight_timer = QTimer(self)
        self._insight_timer.setSingleShot(True)
        self._insight_timer.setInterval(INSIGHT_INTERVAL_MS)
        self._insight_timer.timeout.connect(self._feed_insight_views)
        self._data_source_shown: str | None = None

        self.ui_actions = create_actions(self)
        self._build_central()
        self._build_menus()
        self.status = StatusFields(self.statusBar())
        self._connect()
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        if insight_tabs:
            self._build_insight_tabs()
        self._build_tab_shortcuts()
        restore_window_settings(self)
        self._update_actions()
        self._on_dataset_chosen(self.settings_panel.source)

    # == construction ==========================================================================
    def _build_central(self) -> None:
        self.settings_panel = SettingsPanel()
        self.run_controls = RunControls()
        column = QWidget()
        column_layout = QVBoxLayout(column)
        column_layout.setContentsMargins(10, 8, 6, 8)
        column_layout.setSpacing(6)
        column_layout.addWidget(self.settings_panel)
        column_layout.addWidget(self.run_controls)
        column_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setObjectName("settingsScroll")
        scroll.setWidget(column)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFixedWidth(290)

        self.loss_plot = LossPlot()
        self.accuracy_plot = AccuracyPlot()
        self.gradient_panel = GradientPanel()
        self.log_scale_check = log_scale_toggle(self.loss_plot)
        self.loss_card = PlotCard("Loss", self.loss_plot)
        self.loss_card.add_header_widget(self.log_scale_check)
        self.accuracy_card = PlotCard("Accuracy", self.accuracy_plot)
        self.banner = MessageBanner()

        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(self.loss_card)
        top.addWidget(self.accuracy_card)
        top.setStretchFactor(0, 3)
        top.setStretchFactor(1, 2)
        top.setChildrenCollapsible(False)
        plots = QSplitter(Qt.Orientation.Vertical)
        plots.setObjectName("plotSplitter")
        plots.addWidget(top)
        plots.addWidget(self.gradient_panel)
        plots.setStretchFactor(0, 1)
        plots.setStretchFactor(1, 1)
        plots.setChildrenCollapsible(False)

        # Tabs: "Training" (the plots) first; other views (the drawing pad, ...) are added
        # with add_tab(). With one tab the bar is hidden.
        self.tabs = QTabWidget()
        self.tabs.setObjectName("mainTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.setTabBarAutoHide(True)
        self._plots_page = plots
        self.tabs.addTab(plots, "Training")
        self.tabs.setTabToolTip(0, "Loss, accuracy and gradient magnitudes of the run")
        self.tabs.currentChanged.connect(self._on_tab_changed)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(4, 10, 10, 6)
        right_layout.setSpacing(8)
        right_layout.addWidget(self.banner)
        right_layout.addWidget(self.tabs, 1)

        central = QSplitter(Qt.Orientation.Horizontal)
        central.setObjectName("centralArea")
        central.addWidget(scroll)
        central.addWidget(right)
        central.setStretchFactor(1, 1)
        central.setChildrenCollapsible(False)
        self.setCentralWidget(central)

        a = self.ui_actions
        self.run_controls.bind(self.run_controls.train_button, a.train)
        self.run_controls.bind(self.run_controls.pause_button, a.pause)
        self.run_controls.bind(self.run_controls.stop_button, a.stop)
        self.run_controls.bind(self.run_controls.reset_button, a.reset)
        # The plots repaint one per timer tick, in this order.
        self._views = (self.loss_plot, self.accuracy_plot, self.gradient_panel)
        for plot in (self.loss_plot, self.accuracy_plot, self.gradient_panel.plot):
            plot.cost_sink = self._charge_render

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
        self._draw_widget = widget
        self.add_tab(widget, *TAB_TEXTS["draw"])
        if hasattr(widget, "set_network_params"):
            self.weightsChanged.connect(self._feed_draw_widget)
            self._feed_draw_widget()

    def _build_insight_tabs(self) -> None:
        """The drawing pad and the four "inside backprop" views, as tabs 2-6."""
        self.pad = DrawingPad()
        self.pad.set_inspect_available(True)
        self.pad.inspectRequested.connect(self.inspect_drawing)
        self.set_draw_widget(self.pad)

        self.gradcheck_view = GradientCheckView()
        self.inspector_view = BackwardInspectorView()
        self.hidden_units_view = HiddenUnitsView()
        self.evaluation_view = EvaluationView()
        self.evaluation_view.imageActivated.connect(self.show_in_pad)
        for key, view in (
            ("gradcheck", self.gradcheck_view),
            ("inspector", self.inspector_view),
            ("hidden", self.hidden_units_view),
            ("evaluation", self.evaluation_view),
        ):
            title, tip = TAB_TEXTS[key]
            self.add_tab(_scrolling(view), title, tip)
            self._insight_views.append(view)
        self.weightsChanged.connect(self._on_weights_for_insight)
        self._feed_insight_views()

    def _build_tab_shortcuts(self) -> None:
        """Ctrl+1 … Ctrl+9 switch to the tabs (listed in the View menu)."""
        self._view_menu.addSeparator()
        self.tab_actions: list[QAction] = []
        for index in range(min(self.tabs.count(), 9)):
            action = QAction(f"&{index + 1} {self.tabs.tabText(index)}", self)
            action.setShortcut(QKeySequence(f"Ctrl+{index + 1}"))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.setToolTip(self.tabs.tabToolTip(index))
            action.triggered.connect(lambda _=False, i=index: self.tabs.setCurrentIndex(i))
            self._view_menu.addAction(action)
            self.addAction(action)
            self.tab_actions.append(action)
            tip = self.tabs.tabToolTip(index)
            self.tabs.setTabToolTip(index, f"{tip} (Ctrl+{index + 1})" if tip else "")

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

    @Slot()
    def _on_weights_for_insight(self) -> None:
        # While training ~30 changes a second arrive: pass on the latest at most 5 times a
        # second; otherwise (a run ended, weights loaded, reset) at once.
        if self.runner.is_running:
            if not self._insight_timer.isActive():
                self._insight_timer.start()
        else:
            self._insight_timer.stop()
            self._feed_insight_views()

    def _is_fed_now(self, view: QWidget) -> bool:
        """Feed ``view`` new weights now? While a run goes only views on screen are fed:
        every copy and table refresh for a hidden tab is GUI-thread time, and so GIL time,
        taken from the training thread. A hidden view is marked stale and fed when shown."""
        if self.runner.is_running and not view.isVisible():
            self._stale_views.add(view)
            return False
        self._stale_views.discard(view)
        return True

    def _feed_stale_views(self) -> None:
        stale = self._stale_views
        if self._draw_widget in stale:
            self._feed_draw_widget()
        if stale.intersection(self._insight_views):
            self._feed_insight_views()

    @Slot()
    def _feed_insight_views(self) -> None:
        params = self.current_params()
        activation = str(self.current_network_info().get("activation", "relu"))
        for view in self._insight_views:
            if not self._is_fed_now(view):
                continue
            try:
                view.set_network(params, activation)
            except (ValueError, KeyError) as exc:  # e.g. a network that is not 784 → 10
                self.statusBar().showMessage(
                    f"{type(view).__name__} cannot show these weights: {exc}", 8000
                )

    def _feed_insight_data(self, source: str, data: core_data.Dataset | None) -> None:
        """Give the views the test split of ``source`` (the chosen data set)."""
        if not self._insight_views or data is None or source == self._data_source_shown:
            return
        self._data_source_shown = source
        _, (x_test, t_test) = data
        for view in self._insight_views:
            if hasattr(view, "set_data"):
                view.set_data(x_test, t_test)

    @Slot(int)
    def _on_tab_changed(self, index: int) -> None:
        # Hidden plots are not redrawn (see _tick); catch up when they are shown again.
        if self.tabs.widget(index) is self._plots_page:
            self._schedule()
        if self.runner.is_running:
            # A view that goes out of sight during a run holds the weights of its last feed;
            # mark it stale now, or the end of the run (which feeds stale views) would miss
            # it when no snapshot arrived between the switch and the end.
            for view in (self._draw_widget, *self._insight_views):
                if view is not None and not view.isVisible():
                    self._stale_views.add(view)
        self._feed_stale_views()

    @Slot()
    def _feed_draw_widget(self) -> None:
        widget = self._draw_widget
        if widget is None or not hasattr(widget, "set_network_params"):
            return
        if not self._is_fed_now(widget):
            return
        activation = str(self.current_network_info().get("activation", "relu"))
        try:
            widget.set_network_params(self.current_params(), activation)
        except ValueError as exc:  # e.g. a network that is not 784 → 10
            self.statusBar().showMessage(f"The drawing pad cannot use these weights: {exc}", 8000)

    def _build_menus(self) -> None:
        a = self.ui_actions
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(a.open)
        recent_menu = file_menu.addMenu("Open &recent")
        self.recent = RecentFiles(recent_menu, self)
        file_menu.addSeparator()
        file_menu.addAction(a.save)
        file_menu.addAction(a.save_as)
        file_menu.addSeparator()
        file_menu.addAction(a.quit)
        train_menu = self.menuBar().addMenu("&Training")
        for action in (a.train, a.pause, a.stop, a.reset):
            train_menu.addAction(action)
        train_menu.addSeparator()
        train_menu.addAction(a.restore_defaults)
        self._view_menu = self.menuBar().addMenu("&View")
        self._view_menu.addAction(a.log_scale)
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction(a.about)

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
        a.about.triggered.connect(self._about)
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
    def is_training(self) -> bool:
        return self.runner.is_running

    @property
    def is_paused(self) -> bool:
        return self.runner.is_paused

    @property
    def iteration(self) -> int:
        """Steps done by the current network, as of the last snapshot while training."""
        if self.runner.is_running and self._progress is not None:
            return self._progress[0]
        return self.session.iterations_done

    def current_params(self) -> dict[str, NDArray] | None:
        """Read-only copies of W1, b1, W2, b2 as of the last snapshot (None: no network yet).

        Safe to use from the GUI thread at any time, also while training runs.
        """
        return None if self._params is None else dict(self._params)

    def current_network_info(self) -> dict[str, object]:
        """Activation and sizes of the network ``current_params`` belongs to."""
        net = self.session.network
        if net is None:
            return {}
        return {
            "activation": net.activation,
            "input_size": net.input_size,
            "hidden_size": net.hidden_size,
            "output_size": net.output_size,
        }

    @Slot()
    def train(self) -> None:
        """Start training (after loading the data set if needed)."""
        if self.runner.is_running:
            return
        source = self.settings_panel.source
        data = self.loader.dataset_for(source)
        if data is None:
            self._pending_train = True
            self.loader.load(source)
            self._update_actions()
            return
        self._start_training(data, source)

    @Slot()
    def toggle_pause(self) -> None:
        if not self.runner.is_running:
            return
        if self.runner.is_paused:
            self.runner.resume()
            self.statusBar().showMessage("Resumed", 2000)
        else:
            self.runner.pause()
            self.statusBar().showMessage("Paused — Space resumes", 4000)
        self._update_actions()

    def pause(self) -> None:
        if self.runner.is_running and not self.runner.is_paused:
            self.toggle_pause()

    def resume(self) -> None:
        if self.runner.is_running and self.runner.is_paused:
            self.toggle_pause()

    @Slot()
    def stop(self) -> None:
        """Stop training (weights kept) or cancel a data set load/download."""
        if self.runner.is_running:
            self.runner.stop()
        elif self.loader.is_loading:
            self._pending_train = False
            self.loader.cancel()

    @Slot()
    def reset(self) -> None:
        """Forget the network and its curves."""
        if self.runner.is_running:
            return
        self.session = Session()
        self.current_path = None
        self._set_params(None)
        self._healthy_params = None
        self._last_test_acc = None
        for view in self._views:
            view.clear_data()
        for plot in (self.loss_plot, self.accuracy_plot, self.gradient_panel.plot):
            plot.set_x_extent(0)
        self.status.set_iteration(0)
        self.status.set_accuracy(None)
        self.run_controls.show_idle()
        self.banner.dismiss()
        self.statusBar().showMessage("Reset: the next Train starts a new network", 4000)
        self._update_actions()
        self._schedule()

    def save_weights(self, path: str | Path) -> bool:
        """Save the current network with its settings and curves; False (and a message) on error."""
        if self.runner.is_running:
            self._report_error("Cannot save weights", "Stop training before saving the weights.")
            return False
        session = self.session
        if session.network is None or session.config is None:
            self._report_error(
                "Nothing to save", "There is no network yet: train one or open a weights file."
            )
            return False
        try:
            save_checkpoint(
                path,
                session.network,
                config=session.config,
                dataset=session.dataset or core_data.EMBEDDED,
                iterations_done=session.iterations_done,
                history=session.history,
            )
        except CheckpointError as exc:
            self._report_error("Cannot save weights", str(exc))
            return False
        self.current_path = str(path)
        self.recent.add(path)
        self._remember_dir(path)
        self.statusBar().showMessage(f"Saved weights to {path}", 5000)
        self._update_actions()
        return True

    def load_weights(self, path: str | Path) -> bool:
        """Load a weights file: network, controls and curves. On error nothing changes."""
        if self.runner.is_running:
            self._report_error("Cannot open weights", "Stop training before opening weights.")
            return False
        try:
            checkpoint = load_checkpoint(path)
            session = Session.from_checkpoint(checkpoint)
        except (CheckpointError, ValueError, OSError) as exc:
            self._report_error("Cannot open weights", str(exc))
            if isinstance(exc, CheckpointError) and not Path(path).exists():
                self.recent.remove(path)
            return False
        self.session = session
        self.settings_panel.set_config(checkpoint.config)
        if checkpoint.dataset:
            self.settings_panel.set_source(checkpoint.dataset)
        self.loss_plot.set_history(session.history)
        self.accuracy_plot.set_history(session.history)
        self.gradient_panel.clear_data()
        for plot in (self.loss_plot, self.accuracy_plot, self.gradient_panel.plot):
            plot.set_x_extent(session.iterations_done)
        self._last_test_acc = session.history.test_acc[-1] if session.history.test_acc else None
        if checkpoint.test_acc is not None:
            self._last_test_acc = checkpoint.test_acc
        self._set_params(session.copy_params())
        self._healthy_params = self._params
        self.current_path = str(path)
        self.recent.add(path)
        self._remember_dir(path)
        self.status.set_iteration(session.iterations_done)
        self.status.set_accuracy(self._last_test_acc)
        self.run_controls.show_idle(f"Loaded · {session.iterations_done:,} iterations")
        self.banner.dismiss()
        self.statusBar().showMessage(f"Loaded weights from {path}", 5000)
        self._update_actions()
        self._schedule()
        return True

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

    # == training ==============================================================================
    def _start_training(self, data: core_data.Dataset, source: str) -> None:
        config = self.settings_panel.config()
        try:
            trainer, continued = self.session.make_trainer(config, data, source)
        except ValueError as exc:
            self._report_error("Cannot start training", str(exc))
            return
        if not continued:
            for view in self._views:
                view.clear_data()
            self._last_test_acc = None
            self.current_path = None
            self._set_params(self.session.copy_params())
        self._healthy_params = self.session.copy_params()
        self._run_trainer = trainer
        self._progress = (
            trainer.iteration,
            trainer.iteration,
            trainer.config.iterations,
            0.0,
            False,
        )
        for view in self._views:
            view.refresh()
        for plot in (self.loss_plot, self.accuracy_plot, self.gradient_panel.plot):
            plot.set_x_extent(trainer.config.iterations)
            plot.prepare_frame()
        self.banner.dismiss()
        self.render_budget.reset()
        self.render_budget.enabled = True
        self.runner.start(trainer)
        self.statusBar().showMessage(
            "Continuing training" if continued else "Training a new network", 3000
        )
        self._update_actions()
        self._schedule()
        self.trainingStarted.emit()

    @Slot(object)
    def _on_snapshot(self, snapshot: TrainingSnapshot) -> None:
        # Loss and gradient series are only queued here and reach the plots' buffers in one
        # batch just before a plot redraws (_flush_snapshots): 20 small appends a second cost
        # the training thread more GIL hand-overs than a few large ones.
        if snapshot.losses or snapshot.grad_iterations:
            self._queued.append(snapshot)
            self.loss_plot.dirty = self.gradient_panel.dirty = True
            if len(self._queued) >= MAX_QUEUED_SNAPSHOTS:
                self._flush_snapshots()
        for record in snapshot.epochs:
            self.accuracy_plot.add(record.iteration, record.train_acc, record.test_acc)
            self._last_test_acc = record.test_acc
        if snapshot.params is not None:
            self._set_params(snapshot.params)
            # A run's final snapshot is judged in _on_run_finished (it may hold the weights
            # that diverged).
            if not snapshot.final and self._is_healthy(snapshot):
                self._healthy_params = self._params
        self._progress = (
            snapshot.iteration,
            snapshot.start_iteration,
            snapshot.target_iteration,
            snapshot.it_per_sec,
            snapshot.paused,
        )
        self._status_dirty = True
        self._schedule()

    def _flush_snapshots(self) -> None:
        """Append the queued snapshots' losses and gradient magnitudes to the plots."""
        if not self._queued:
            return
        batch, self._queued = self._queued, []
        self.loss_plot.add(
            list(chain.from_iterable(s.loss_iterations for s in batch)),
            list(chain.from_iterable(s.losses for s in batch)),
        )
        grad_iterations = list(chain.from_iterable(s.grad_iterations for s in batch))
        if grad_iterations:
            keys = batch[-1].grads.keys()
            grads = {
                key: list(chain.from_iterable(s.grads.get(key, ()) for s in batch)) for key in keys
            }
            self.gradient_panel.add(grad_iterations, grads)

    def _is_healthy(self, snapshot: TrainingSnapshot) -> bool:
        """Finite weights and a loss below the trainer's divergence threshold."""
        if not snapshot.losses:
            return True
        losses = np.asarray(snapshot.losses)
        classes = 10 if snapshot.params is None else snapshot.params["b2"].shape[0]
        limit = DIVERGENCE_FACTOR * math.log(max(classes, 2))
        return bool(np.all(np.isfinite(losses)) and losses.mean() <= limit)

    @Slot(bool)
    def _on_paused_changed(self, paused: bool) -> None:
        if self._progress is not None:
            done, start, target, rate, _ = self._progress
            self._progress = (done, start, target, rate, paused)
        self._status_dirty = True
        self._update_actions()
        self._schedule()

    @Slot(str, str)
    def _on_run_finished(self, reason: str, message: str) -> None:
        trainer, self._run_trainer = self._run_trainer, None
        self.render_budget.enabled = False
        self._flush_snapshots()
        if trainer is not None:
            self.session.finish_run(trainer)
        if reason == DIVERGED:
            if self._healthy_params is not None:
                self.session.restore_params(self._healthy_params)
            self._set_params(self.session.copy_params())
            self.last_error = message
            self.banner.show_message(
                f"Training stopped: {message}. The weights were rolled back to the last "
                "healthy snapshot; lower the learning rate and train again, or Reset.",
                "error",
            )
            self.statusBar().showMessage("Training diverged: weights rolled back", 10000)
        elif reason == FAILED:
            self._report_error("Training failed", message)
        else:
            self._set_params(self.session.copy_params())
            word = "Stopped" if reason == STOPPED else "Finished"
            acc = (
                "" if self._last_test_acc is None else f" · test accuracy {self._last_test_acc:.2%}"
            )
            self.statusBar().showMessage(
                f"{word} at iteration {self.session.iterations_done:,}{acc}", 8000
            )
        done = self.session.iterations_done
        self.status.set_iteration(done)
        self.status.set_accuracy(self._last_test_acc)
        self._progress = None
        label = {DIVERGED: "Diverged", FAILED: "Failed", STOPPED: "Stopped"}.get(reason, "Done")
        self.run_controls.show_idle(f"{label} · {done:,} iterations")
        if self._stale_views:
            # The next tick's weightsChanged feeds every view now that no run goes (it is
            # usually due anyway: the final weights were just set).
            self._weights_dirty = True
        for view in self._views:
            view.dirty = True
        self._update_actions()
        self._schedule()
        self.trainingFinished.emit(reason)

    def _set_params(self, params: dict[str, NDArray] | None) -> None:
        if params is not None:
            for value in params.values():
                value.flags.writeable = False
        self._params = params
        self._weights_dirty = True
        self._schedule()

    # == data sets =============================================================================
    @Slot(str)
    def _on_dataset_chosen(self, source: str) -> None:
        self.settings_panel.set_dataset_info(self._source_details(source))
        self.status.set_dataset(self._source_name(source))
        if self.loader.dataset_for(source) is not None:
            self._show_dataset_sizes(source, self.loader.dataset_for(source))
            self._feed_insight_data(source, self.loader.dataset_for(source))
            return
        if source not in core_data.SOURCES and not Path(source).is_dir():
            self.settings_panel.set_dataset_info(f"Folder not found: {source}")
            return
        if source in core_data.DOWNLOADABLE and not self._downloaded(source):
            self.settings_panel.set_dataset_info(
                f"{self._source_title(source)}. Downloads when you click Train."
            )
            if self.loader.is_loading:
                self.loader.cancel()
            return
        self.loader.load(source)

    @staticmethod
    def _downloaded(source: str) -> bool:
        try:
            core_data.find_idx_files(download.dataset_dir(source))
        except (DataError, ValueError):
            return False
        return True

    @Slot(str)
    def _on_load_started(self, source: str) -> None:
        if not self.runner.is_running:
            verb = "Downloading" if source in core_data.DOWNLOADABLE else "Loading"
            self.run_controls.show_busy(f"{verb} {self._source_name(source)}…")
        self._update_actions()

    @Slot(str, object)
    def _on_data_loaded(self, source: str, data: core_data.Dataset) -> None:
        if source == self.settings_panel.source:
            self._show_dataset_sizes(source, data)
            self._feed_insight_data(source, data)
        pending, self._pending_train = self._pending_train, False
        if not self.runner.is_running:
            self.run_controls.show_idle()
        self._update_actions()
        if pending and source == self.settings_panel.source and not self.runner.is_running:
            self._start_training(data, source)

    @Slot(str, str, bool)
    def _on_data_failed(self, source: str, message: str, cancelled: bool) -> None:
        self._pending_train = False
        if not self.runner.is_running:
            self.run_controls.show_idle("Cancelled" if cancelled else "Data set not loaded")
        self._update_actions()
        if cancelled:
            self.statusBar().showMessage("Loading cancelled", 5000)
        else:
            self._report_error("Cannot load the data set", message)

    def _show_dataset_sizes(self, source: str, data: core_data.Dataset) -> None:
        (x_train, _), (x_test, _) = data
        self.status.set_dataset(self._source_name(source), len(x_train), len(x_test))

    @staticmethod
    def _source_title(source: str) -> str:
        """'Embedded MNIST subset (16,001 train / 3,999 test)'."""
        text = core_data.describe_source(source)
        return text[:1].upper() + text[1:]

    @classmethod
    def _source_details(cls, source: str) -> str:
        """What the combo's label does not say, on one line: '16,001 train / 3,999 test'."""
        title = cls._source_title(source)
        return title.split(" (", 1)[1].rstrip(")") if " (" in title else title

    @classmethod
    def _source_name(cls, source: str) -> str:
        """The title without its parenthesis: 'Embedded MNIST subset'."""
        return cls._source_title(source).split(" (")[0]

    def _open_folder_dialog(self) -> None:
        folder = self._ask_folder()
        if folder:
            self.settings_panel.set_source(folder)

    def _ask_folder(self) -> str:
        return QFileDialog.getExistingDirectory(
            self, "Open a folder of MNIST-format IDX files", self._last_dir()
        )

    # == file dialogs ==========================================================================
    def _open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open weights", self._last_dir(), WEIGHTS_FILTER
        )
        if path:
            self.load_weights(path)

    def _save(self) -> None:
        if self.current_path:
            self.save_weights(self.current_path)
        else:
            self._save_as_dialog()

    def _save_as_dialog(self) -> None:
        start = self.current_path or str(Path(self._last_dir()) / "weights.npz")
        path, _ = QFileDialog.getSaveFileName(self, "Save weights as", start, WEIGHTS_FILTER)
        if path:
            if not Path(path).suffix:
                path += ".npz"
            self.save_weights(path)

    def _last_dir(self) -> str:
        return str(read_value(create_settings(), "files/lastDir", str(Path.home()), str))

    def _remember_dir(self, path: str | Path) -> None:
        settings = create_settings()
        settings.setValue("files/lastDir", str(Path(path).resolve().parent))

    def _about(self) -> None:
        QMessageBox.about(
            self,
            "About Desktop BP",
            f"<b>Desktop BP</b> {__version__}<br>Train the two-layer network of chapter 5 of "
            "<i>Deep Learning from Scratch</i> and watch backpropagation work.",
        )

    # == repainting ============================================================================
    def _schedule(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def _charge_render(self, cpu_seconds: float) -> None:
        self.render_budget.spend(cpu_seconds)

    @Slot()
    def _tick(self) -> None:
        self._ticks += 1
        if self._status_dirty and (
            self._ticks % STATUS_EVERY == 0 or not self.runner.is_running or self._is_paused_view()
        ):
            self._status_dirty = False
            if self._progress is not None:
                done, start, target, rate, paused = self._progress
                self.run_controls.show_run_progress(done, start, target, rate, paused=paused)
                self.status.set_iteration(done, target)
                self.status.set_accuracy(self._last_test_acc)
        if self._weights_dirty:
            self._weights_dirty = False
            self.weightsChanged.emit()
        # At most one plot per tick (repainting all three at once stalls the event loop), and
        # only within the render budget while training.
        if not self.render_budget.allow():
            return
        now = time.perf_counter()
        training = self.runner.is_running
        for _ in range(len(self._views)):
            index = self._next_view
            view = self._views[index]
            self._next_view = (index + 1) % len(self._views)
            if not view.dirty or not view.isVisible():
                continue
            if training and now - self._last_refresh[index] < REFRESH_INTERVALS[index]:
                continue
            self._last_refresh[index] = now
            started = time.thread_time()
            self._flush_snapshots()
            view.refresh()
            self.render_budget.spend(time.thread_time() - started)
            return
        if not self.runner.is_running and not self._status_dirty:
            self._timer.stop()

    def _is_paused_view(self) -> bool:
        return self._progress is not None and self._progress[4]

    def refresh_now(self) -> None:
        """Repaint everything pending at once (tests, screenshots)."""
        self._flush_snapshots()
        for view in self._views:
            if view.dirty:
                view.refresh()
        self._tick()

    # == state of the controls =================================================================
    def _update_actions(self) -> None:
        a = self.ui_actions
        running = self.runner.is_running
        loading = self.loader.is_loading and self._pending_train
        has_model = self.session.has_model
        a.train.setEnabled(not running and not loading)
        a.pause.setEnabled(running)
        paused = running and self.runner.is_paused
        a.pause.setText("&Resume" if paused else "&Pause")
        a.stop.setEnabled(running or self.loader.is_loading)
        a.reset.setEnabled(
            not running and not loading and (has_model or len(self.loss_plot.raw) > 0)
        )
        a.restore_defaults.setEnabled(not running and not loading)
        a.open.setEnabled(not running)
        a.save.setEnabled(not running and has_model)
        a.save_as.setEnabled(not running and has_model)
        self.settings_panel.set_training(running or loading)

    def closeEvent(self, event: QCloseEvent) -> None:
        save_window_settings(self)
        self._pending_train = False
        self._insight_timer.stop()
        # Ask every worker to stop first, then wait for them: a gradient check, an evaluation,
        # a run and a data set load end together instead of one after another.
        for view in self._insight_views:
            task = getattr(view, "_task", None)
            if task is not None:
                task.cancel()
        self.runner.shutdown()
        self.loader.shutdown()
        for view in self._insight_views:
            if hasattr(view, "shutdown"):  # the views with worker threads
                view.shutdown()
        self._timer.stop()
        super().closeEvent(event)


def _scrolling(view: QWidget) -> QScrollArea:
    """``view`` in a frameless scroll area: a small window scrolls it rather than growing."""
    scroll = QScrollArea()
    scroll.setObjectName(f"{view.objectName()}Scroll")
    scroll.setWidget(_PlainHolder(view))
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QScrollArea.Shape.NoFrame)
    return scroll


class _PlainHolder(QWidget):
    """Holds one view without height-for-width: a resizable QScrollArea would otherwise make a
    view with word-wrapped labels as tall as its *preferred* height (a needless scroll bar)
    instead of filling the viewport."""

    def __init__(self, view: QWidget) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(view)

    def hasHeightForWidth(self) -> bool:
        return False

    def heightForWidth(self, width: int) -> int:
        return -1  # QScrollArea asks its layout, not hasHeightForWidth()
