"""The settings column: data set, network and training hyperparameters."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop_bp.core import presets
from desktop_bp.core.trainer import TrainConfig

#: Combo entries: (user data, label, tooltip). An opened folder is added as its own entry.
DATASETS = (
    (
        "embedded",
        "MNIST subset (offline)",
        "16,001 training / 3,999 test digits shipped with the app",
    ),
    ("mnist", "Full MNIST (download)", "60,000 / 10,000 digits, downloaded once (~11 MB)"),
    ("fashion-mnist", "Fashion-MNIST (download)", "60,000 / 10,000 clothing images (~30 MB)"),
)
OPEN_FOLDER = "__open_idx_folder__"
ACTIVATIONS = (("relu", "ReLU"), ("sigmoid", "Sigmoid"))
LR_SCHEDULES = (
    ("constant", "Constant", "The same learning rate for every step (the book)."),
    (
        "step",
        "Step decay",
        "The learning rate x 0.1 for the last quarter of the steps: SGD settles into the "
        "minimum it found instead of bouncing around it.",
    ),
)
#: The preset combo's entry for settings that match no preset.
CUSTOM = "custom"
#: TrainConfig fields with no control here: they come with a preset (or a weights file) and
#: are passed on unchanged.
UNCONTROLLED = ("augment_fresh", "train_accuracy_images")


def _double_spin(name: str, low: float, high: float, decimals: int, value: float) -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setObjectName(name)
    spin.setRange(low, high)
    spin.setDecimals(decimals)
    spin.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
    spin.setValue(value)
    spin.setKeyboardTracking(False)
    return spin


def _int_spin(name: str, low: int, high: int, value: int) -> QSpinBox:
    spin = QSpinBox()
    spin.setObjectName(name)
    spin.setRange(low, high)
    spin.setValue(value)
    spin.setGroupSeparatorShown(True)
    spin.setKeyboardTracking(False)
    return spin


def _combo(name: str, items: Sequence[tuple[str, str, str]]) -> QComboBox:
    """A combo of (data, label, tooltip) entries."""
    combo = QComboBox(objectName=name)
    for data, label, tip in items:
        combo.addItem(label, data)
        combo.setItemData(combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
    return combo


def _describe(config: TrainConfig) -> str:
    """One line for a preset's tooltip."""
    return (
        f"784-{config.hidden_size}-10 {config.activation}, lr {config.learning_rate:g} "
        f"({config.lr_schedule}), batch {config.batch_size}, {config.iterations:,} iterations"
        + (", augmented" if config.augment else "")
    )


class SettingsPanel(QWidget):
    """Data set combo and the :class:`TrainConfig` fields.

    Signals: ``learningRateChanged(float)`` (applies live), ``datasetChosen(str)`` with the
    chosen source ("embedded", "mnist", "fashion-mnist" or a folder path), and
    ``openFolderRequested()`` when the user picks "Open IDX folder…".
    """

    learningRateChanged = Signal(float)
    datasetChosen = Signal(str)
    openFolderRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        defaults = presets.PRESETS[presets.DEFAULT]
        self._uncontrolled = {name: getattr(defaults, name) for name in UNCONTROLLED}
        self.preset_combo = _combo(
            "presetCombo",
            [(name, presets.LABELS[name], _describe(c)) for name, c in presets.PRESETS.items()],
        )
        self.preset_combo.addItem("Custom", CUSTOM)
        self.preset_combo.setToolTip(
            "Starting settings. “Default” reads real handwriting best within a short run; "
            "“Book” is chapter 5 exactly (784-50-10, lr 0.1, batch 100, 10,000 iterations). "
            "Change any setting below afterwards: it is kept, and this shows “Custom”."
        )
        # Short, beside the combo: the settings column must fit a 1280x800 window.
        self.restore_button = QPushButton("Defaults", objectName="restoreDefaultsButton")
        self.restore_button.setAccessibleName("Restore defaults")
        self.restore_button.setToolTip(
            "Back to the default preset's settings (the seed and data set stay) — also "
            "Training ▸ Restore default settings."
        )
        self.dataset_combo = _combo("datasetCombo", DATASETS)
        self.dataset_combo.insertSeparator(self.dataset_combo.count())
        self.dataset_combo.addItem("Open IDX folder…", OPEN_FOLDER)
        self.dataset_combo.setToolTip(
            "Data set to train on. The offline subset needs no network; the full sets are "
            "downloaded once with progress (Stop cancels). “Open IDX folder…” reads the four "
            "standard MNIST-format files from a folder of your choice."
        )
        self.dataset_info = QLabel("", objectName="hint")
        self.dataset_info.setWordWrap(True)

        self.hidden_size = _int_spin("hiddenSizeSpin", 1, 4096, defaults.hidden_size)
        self.hidden_size.setToolTip("Neurons in the hidden layer (the book uses 50).")
        self.activation = QComboBox(objectName="activationCombo")
        for key, label in ACTIVATIONS:
            self.activation.addItem(label, key)
        self.activation.setToolTip(
            "Hidden-layer activation: ReLU (chapter 5's choice) or Sigmoid (watch its "
            "gradients shrink as they flow back)."
        )
        self.init_std = _double_spin("initStdSpin", 0.0001, 10.0, 4, defaults.weight_init_std)
        self.init_std.setToolTip(
            "Standard deviation of the random initial weights (the book's 0.01)."
        )
        self.seed = _int_spin("seedSpin", 0, 2**31 - 1, defaults.seed)
        self.seed.setGroupSeparatorShown(False)
        self.seed.setToolTip(
            "Random seed for the initial weights and the minibatch order: the same seed "
            "gives the same run."
        )
        self.learning_rate = _double_spin(
            "learningRateSpin", 0.0001, 100.0, 4, defaults.learning_rate
        )
        self.learning_rate.setToolTip(
            "SGD step size. Can be changed while training: applies at the next step. "
            "Try 0.1; 50 makes training diverge."
        )
        self.batch_size = _int_spin("batchSizeSpin", 1, 10_000, defaults.batch_size)
        self.batch_size.setToolTip("Images per minibatch (the book's 100).")
        self.iterations = _int_spin("iterationsSpin", 1, 10_000_000, defaults.iterations)
        self.iterations.setSingleStep(1000)
        self.iterations.setToolTip(
            "SGD steps per click on Train (the book's 10,000). Training again continues "
            "the same network for this many more steps."
        )
        self.lr_schedule = _combo("lrScheduleCombo", LR_SCHEDULES)
        self.lr_schedule.setToolTip(
            "How the learning rate changes during a run: constant (the book) or a step "
            "decay (x 0.1 for the last quarter of the steps)."
        )

        self.augment = QCheckBox("Augment training images", objectName="augmentCheck")
        self.augment.setChecked(defaults.augment)
        self.augment.setToolTip(
            "Warp every training minibatch a little at random: small shifts, rotations and "
            "scalings, and thinner or thicker strokes. The network then tolerates digits that "
            "are not drawn exactly like MNIST's (the drawing pad benefits most). The warps are "
            "made in a second process while training runs; the test set is never augmented."
        )

        preset_box = QGroupBox("Preset")
        preset_row = QHBoxLayout(preset_box)
        preset_row.addWidget(self.preset_combo, 1)
        preset_row.addWidget(self.restore_button)

        data_box = QGroupBox("Data")
        data_form = QVBoxLayout(data_box)
        data_form.addWidget(self.dataset_combo)
        data_form.addWidget(self.dataset_info)

        network_box = QGroupBox("Network")
        network_form = self._form(network_box)
        network_form.addRow("Hidden size", self.hidden_size)
        network_form.addRow("Activation", self.activation)
        network_form.addRow("Init std", self.init_std)
        network_form.addRow("Seed", self.seed)

        training_box = QGroupBox("Training")
        training_form = self._form(training_box)
        training_form.addRow("Learning rate", self.learning_rate)
        training_form.addRow("Batch size", self.batch_size)
        training_form.addRow("Iterations", self.iterations)
        training_form.addRow("LR schedule", self.lr_schedule)
        training_form.addRow(self.augment)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(preset_box)
        layout.addWidget(data_box)
        layout.addWidget(network_box)
        layout.addWidget(training_box)

        self._architecture_widgets = (
            self.preset_combo,
            self.restore_button,
            self.lr_schedule,
            self.dataset_combo,
            self.hidden_size,
            self.activation,
            self.init_std,
            self.seed,
            self.batch_size,
            self.iterations,
            self.augment,
        )
        self._last_source_index = 0
        self.learning_rate.valueChanged.connect(self.learningRateChanged)
        self.dataset_combo.currentIndexChanged.connect(self._on_dataset_index)
        self.preset_combo.activated.connect(self._on_preset_activated)
        self.restore_button.clicked.connect(self.restore_defaults)
        for spin in (
            self.hidden_size,
            self.init_std,
            self.learning_rate,
            self.batch_size,
            self.iterations,
        ):
            spin.valueChanged.connect(self._sync_preset)
        self.activation.currentIndexChanged.connect(self._sync_preset)
        self.lr_schedule.currentIndexChanged.connect(self._sync_preset)
        self.augment.toggled.connect(self._sync_preset)
        self.set_config(defaults)

    @staticmethod
    def _form(box: QGroupBox) -> QFormLayout:
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setHorizontalSpacing(12)
        form.setVerticalSpacing(6)
        return form

    # -- data set -----------------------------------------------------------------------------
    @property
    def source(self) -> str:
        data = self.dataset_combo.itemData(self._last_source_index)
        return str(data)

    def set_source(self, source: str) -> None:
        """Select ``source``, adding a folder entry for a path not listed yet."""
        index = self.dataset_combo.findData(source)
        if index < 0:
            if source in (s for s, _, _ in DATASETS) or not source:
                return
            index = self.dataset_combo.count() - 1  # before "Open IDX folder…"
            label = f"Folder: {Path(source).name or source}"
            self.dataset_combo.insertItem(index, label, source)
            self.dataset_combo.setItemData(index, str(source), Qt.ItemDataRole.ToolTipRole)
        self.dataset_combo.setCurrentIndex(index)

    def set_dataset_info(self, text: str) -> None:
        self.dataset_info.setText(text)

    @Slot(int)
    def _on_dataset_index(self, index: int) -> None:
        data = self.dataset_combo.itemData(index)
        if data == OPEN_FOLDER:
            # Go back to the previous entry; the window adds the folder if one is chosen.
            self.dataset_combo.blockSignals(True)
            self.dataset_combo.setCurrentIndex(self._last_source_index)
            self.dataset_combo.blockSignals(False)
            self.openFolderRequested.emit()
            return
        if data is None:
            return
        self._last_source_index = index
        self.datasetChosen.emit(str(data))

    # -- presets --------------------------------------------------------------------------
    @property
    def preset_name(self) -> str:
        """The preset the controls show exactly ("default", "book"), or "custom"."""
        return str(self.preset_combo.currentData())

    def apply_preset(self, name: str) -> None:
        """Show preset ``name``'s settings (the seed stays: it is the user's, not the preset's)."""
        self.set_config(presets.preset(name, seed=self.seed.value()))

    @Slot()
    def restore_defaults(self) -> None:
        self.apply_preset(presets.DEFAULT)

    @Slot(int)
    def _on_preset_activated(self, index: int) -> None:
        name = self.preset_combo.itemData(index)
        if name == CUSTOM:
            self._sync_preset()  # "Custom" is what the values are, not something to pick
        elif name is not None:
            self.apply_preset(str(name))

    @Slot()
    def _sync_preset(self, *_: object) -> None:
        name = presets.matching_preset(self.config()) or CUSTOM
        self.preset_combo.setCurrentIndex(self.preset_combo.findData(name))

    # -- configuration ------------------------------------------------------------------------
    def config(self) -> TrainConfig:
        return TrainConfig(
            **self._uncontrolled,
            hidden_size=self.hidden_size.value(),
            activation=str(self.activation.currentData()),
            weight_init_std=float(self.init_std.value()),
            learning_rate=float(self.learning_rate.value()),
            batch_size=self.batch_size.value(),
            iterations=self.iterations.value(),
            seed=self.seed.value(),
            augment=self.augment.isChecked(),
            lr_schedule=str(self.lr_schedule.currentData()),
        )

    def set_config(self, config: TrainConfig) -> None:
        """Show ``config`` in the controls (values outside a control's range are clamped); its
        settings without a control (:data:`UNCONTROLLED`) are kept for :meth:`config`."""
        self._uncontrolled = {name: getattr(config, name) for name in UNCONTROLLED}
        self.hidden_size.setValue(config.hidden_size)
        index = self.activation.findData(config.activation)
        if index >= 0:
            self.activation.setCurrentIndex(index)
        self.init_std.setValue(config.weight_init_std)
        self.learning_rate.setValue(config.learning_rate)
        self.batch_size.setValue(config.batch_size)
        self.iterations.setValue(config.iterations)
        self.seed.setValue(config.seed)
        self.augment.setChecked(bool(config.augment))
        index = self.lr_schedule.findData(config.lr_schedule)
        if index >= 0:
            self.lr_schedule.setCurrentIndex(index)
        self._sync_preset()

    def set_training(self, training: bool) -> None:
        """Lock everything but the learning rate while a run is going (or data loads)."""
        for widget in self._architecture_widgets:
            widget.setEnabled(not training)


#: Width of the settings column's content, at least: wider when its fields need more (fonts
#: differ between desktops); the scroll area grows by the scroll bar's width when the bar is
#: shown, so the bar never covers the right edge of the fields.
COLUMN_WIDTH = 290


class SettingsScroll(QScrollArea):
    """The left column: fixed width, scrolling vertically when the window is short.

    Where a style gives the vertical scroll bar room inside the viewport (Ubuntu 24.04's
    PySide6 did), a fixed width would let the bar cover the fields' right edge; so the width is
    the content's plus the bar's whenever the bar is shown.
    """

    def __init__(self, column: QWidget) -> None:
        super().__init__()
        self.setObjectName("settingsScroll")
        self.setWidget(column)
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.verticalScrollBar().installEventFilter(self)
        self._fit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.verticalScrollBar() and event.type() in (
            QEvent.Type.Show,
            QEvent.Type.Hide,
        ):
            # After the layout pass that showed or hid the bar: resizing inside it would
            # re-enter this filter half-way through setFixedWidth.
            QTimer.singleShot(0, self._fit)
        return False

    def content_width(self) -> int:
        """What the fields need: COLUMN_WIDTH, or more where the fonts make them wider."""
        return max(COLUMN_WIDTH, self.widget().minimumSizeHint().width())

    def _fit(self) -> None:
        bar = self.verticalScrollBar()
        width = self.content_width() + (bar.sizeHint().width() if bar.isVisible() else 0)
        if self.minimumWidth() != width or self.maximumWidth() != width:
            self.setFixedWidth(width)


def settings_column(*widgets: QWidget) -> QScrollArea:
    """``widgets`` (the settings panel, the run controls) stacked in the window's left column
    (:class:`SettingsScroll`)."""
    column = QWidget()
    layout = QVBoxLayout(column)
    layout.setContentsMargins(10, 8, 6, 8)
    layout.setSpacing(6)
    for widget in widgets:
        layout.addWidget(widget)
    layout.addStretch(1)
    return SettingsScroll(column)
