"""The live loss and accuracy plots (pyqtgraph), each in a titled card with a hover read-out.

Data arrive through ``add_*`` (cheap: numpy appends) and reach the screen only in
``refresh()``, which the window calls from its timer, one plot per tick.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QGraphicsItem,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desktop_bp.core.trainer import TrainingHistory
from desktop_bp.gui import theme
from desktop_bp.gui.training.buffers import GrowingBuffer, ema

#: Smoothing of the loss curve: an exponential moving average with this weight on the newest
#: step (about the last 1/alpha steps count).
LOSS_EMA_ALPHA = 0.02
#: At most about this many points of the smoothed loss are drawn.
SMOOTH_POINTS = 800


def nice_ceil(value: float) -> float:
    """The smallest of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 (x 10^k) that is >= value > 0."""
    if not math.isfinite(value) or value <= 0:
        return 1.0
    exponent = math.floor(math.log10(value))
    for step in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        candidate = step * 10.0**exponent
        if candidate >= value * (1 - 1e-12):
            return candidate
    return 10.0 ** (exponent + 1)


def decades(values: np.ndarray) -> tuple[float, float] | None:
    """(floor, ceil) of log10 over the positive finite ``values``, at least one decade apart."""
    positive = values[np.isfinite(values) & (values > 0)]
    if positive.size == 0:
        return None
    lo = math.floor(math.log10(float(positive.min())))
    hi = math.ceil(math.log10(float(positive.max())))
    return float(lo), float(max(hi, lo + 1))


def faint(colour: str, alpha: int) -> QColor:
    c = QColor(colour)
    c.setAlpha(alpha)
    return c


class ScientificLogAxis(pg.AxisItem):
    """Log-mode tick labels: 1e-4, 1e-3 … below 1, plain numbers from 1 up (pyqtgraph's own
    mix 0.001 and 10⁻⁵ on one axis)."""

    def logTickStrings(self, values, scale, spacing):
        strings = []
        for v in values:
            value = 10.0**v * scale
            if value >= 1:
                strings.append(f"{value:g}")
            else:
                strings.append(f"{value:.0e}".replace("e-0", "e-"))
        return strings


def readout_space(label: QLabel) -> QLabel:
    """``label`` takes the header's free width and never widens the card: a long read-out (the
    overlaid runs' values) is cut on the left instead of pushing the layout."""
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    label.setMinimumWidth(0)
    return label


class PlotCard(QFrame):
    """A card: title, read-out and optional header widgets above a plot."""

    def __init__(self, title: str, plot: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.title = QLabel(title, objectName="cardTitle")
        self.readout = QLabel("", objectName="readout")
        self.readout.setTextFormat(Qt.TextFormat.PlainText)
        self.readout.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.header = QHBoxLayout()
        self.header.setContentsMargins(10, 6, 10, 0)
        self.header.addWidget(self.title)
        self.header.addWidget(readout_space(self.readout), 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(1, 1, 1, 4)
        layout.setSpacing(2)
        layout.addLayout(self.header)
        layout.addWidget(plot, 1)
        if hasattr(plot, "hoverText"):
            plot.hoverText.connect(self.readout.setText)

    def add_header_widget(self, widget: QWidget) -> None:
        self.header.addSpacing(8)
        self.header.addWidget(widget)


class LivePlot(pg.PlotWidget):
    """A PlotWidget with the bounded-buffer options, a hover cursor and a steady frame.

    The view range is not pyqtgraph's auto-range (which moves, and so re-lays out both axes,
    on every update): the x axis spans the whole run (``set_x_extent``) and the y axis snaps
    to round values, so the frame changes only now and then. Zooming or panning stops the
    following; a double click resumes it.

    Subclasses implement ``_hover_text(x)`` and ``_y_range()``; ``hoverText(str)`` carries
    the read-out.

    Hooks for curves drawn beside the live ones (the run history's overlays):
    ``extra_bounds()`` returns (last x, lowest y, highest y) they need in the frame, or None;
    ``extra_hover(x)`` returns text appended to the read-out at iteration ``x``.
    """

    hoverText = Signal(str)

    def __init__(
        self, object_name: str, parent: QWidget | None = None, *, empty_hint: str = ""
    ) -> None:
        super().__init__(parent, axisItems={"left": ScientificLogAxis("left")})
        #: Called with the GUI thread's CPU seconds spent in each repaint (the render budget).
        self.cost_sink: Callable[[float], None] | None = None
        self.extra_bounds: Callable[[], tuple[float, float, float] | None] | None = None
        self.extra_hover: Callable[[float], str] | None = None
        self.setObjectName(object_name)
        item = self.getPlotItem()
        item.setDownsampling(auto=True, mode="peak")
        item.setClipToView(True)
        item.showGrid(x=True, y=True, alpha=0.15)
        item.setMenuEnabled(True)
        item.hideButtons()
        item.vb.disableAutoRange()
        # The ViewBox paints nothing itself (no border): skip its Python paint() call.
        item.vb.setFlag(QGraphicsItem.GraphicsItemFlag.ItemHasNoContents, True)
        item.vb.sigRangeChangedManually.connect(self._on_manual_range)
        self.following = True
        self.x_extent = 0.0
        self._applied_range: tuple | None = None
        for axis in ("left", "bottom"):
            item.getAxis(axis).setTextPen(theme.AXIS_TEXT)
            item.getAxis(axis).setPen(theme.GRID)
            # Drawn from a pixmap unless the frame changed: the tick labels cost ~1.5 ms of
            # text layout per axis and repaint, and the frame is steady (see settle_range).
            item.getAxis(axis).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setMinimumSize(220, 150)
        self._cursor = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(theme.GRID, width=1))
        self._cursor.setZValue(-5)
        self._cursor.hide()
        item.addItem(self._cursor, ignoreBounds=True)
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.dirty = False
        # Before the first run an empty frame's default ticks (0.2 ... 0.8, or 2 ... 9 on a
        # log axis) mean nothing: the axes go bare and a line says what will appear.
        self.hint = QLabel(empty_hint, self, objectName="plotHint")
        self.hint.setAccessibleName(f"{object_name} hint")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setWordWrap(True)
        self.hint.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self._empty: bool | None = None  # subclasses call _sync_empty_state() once set up

    @property
    def is_empty(self) -> bool:
        """No data and no run under way: the hint shows instead of tick values."""
        return self.x_extent <= 0 and not self._has_data() and self._extra() is None

    def _has_data(self) -> bool:
        return self._x_data_end() > 0

    def _sync_empty_state(self) -> None:
        empty = self.is_empty and bool(self.hint.text())
        if empty == self._empty:
            return
        self._empty = empty
        item = self.getPlotItem()
        for axis in ("left", "bottom"):
            # No ticks at all (an empty list per level), or pyqtgraph's own again (None).
            item.getAxis(axis).setTicks([[], []] if empty else None)
        item.showGrid(x=not empty, y=not empty, alpha=0.15)
        self.hint.setVisible(empty)
        self._place_hint()

    def _place_hint(self) -> None:
        # The whole plot, text centred: the label's font comes from the style sheet only once
        # it is polished, so a height computed here could clip the text.
        margin = 24
        self.hint.setGeometry(margin, 0, max(120, self.width() - 2 * margin), self.height())

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if "hint" in self.__dict__:  # pyqtgraph resizes the view before __init__ is done
            self._place_hint()

    def paintEvent(self, event) -> None:
        started = time.thread_time()
        super().paintEvent(event)
        if self.cost_sink is not None:
            self.cost_sink(time.thread_time() - started)

    # -- the frame ------------------------------------------------------------------------
    def set_x_extent(self, end: float) -> None:
        """Make the x axis reach ``end`` (the run's last iteration) from the start."""
        self.x_extent = float(end)
        self.dirty = True
        self._sync_empty_state()

    def prepare_frame(self) -> None:
        """Set the frame and repaint now (at the start of a run, before the training thread
        competes for the GIL), so the first data points don't move the axes."""
        self._applied_range = None
        self.settle_range()
        self.viewport().repaint()

    def follow(self) -> None:
        """Go back to the automatic frame (after the user zoomed or panned)."""
        self.following = True
        self._applied_range = None
        self.settle_range()

    def _on_manual_range(self, *_: object) -> None:
        self.following = False

    def mouseDoubleClickEvent(self, event) -> None:
        self.follow()
        super().mouseDoubleClickEvent(event)

    def _x_data_end(self) -> float:
        return 0.0

    def _extra(self) -> tuple[float, float, float] | None:
        return self.extra_bounds() if self.extra_bounds is not None else None

    def _extra_values(self) -> np.ndarray:
        """The lowest and highest value the overlaid curves draw (none: empty)."""
        extra = self._extra()
        return np.zeros(0) if extra is None else np.array(extra[1:], dtype=np.float64)

    def _y_range(self) -> tuple[float, float] | None:
        raise NotImplementedError

    def settle_range(self) -> None:
        """Set the frame for the current data, if it changed (call after ``setData``)."""
        self._sync_empty_state()
        if not self.following:
            return
        extra = self._extra()
        x_end = max(self.x_extent, self._x_data_end(), extra[0] if extra else 0.0, 1.0)
        y = self._y_range()
        if y is None:
            y = self.getPlotItem().vb.viewRange()[1]
        wanted = ((0.0, x_end), y)
        if wanted == self._applied_range:
            return
        self._applied_range = wanted
        self.getPlotItem().vb.setRange(xRange=wanted[0], yRange=wanted[1], padding=0.02)

    def set_axis_label(self, axis: str, text: str, units: str | None = None) -> None:
        self.getPlotItem().setLabel(axis, text, units=units, color=theme.AXIS_TEXT)

    def _on_mouse_moved(self, pos: QPointF) -> None:
        view = self.getPlotItem().vb
        if not view.sceneBoundingRect().contains(pos):
            self._hide_cursor()
            return
        x = view.mapSceneToView(pos).x()
        text, snapped = self._hover_text(x)
        more = self.extra_hover(x) if self.extra_hover is not None else ""
        if more:
            snapped = snapped if text else x
            text = f"{text} · {more}" if text else more
        if text:
            self._cursor.setPos(snapped)
            self._cursor.show()
        else:
            self._cursor.hide()
        self.hoverText.emit(text)

    def _hide_cursor(self) -> None:
        if self._cursor.isVisible():
            self._cursor.hide()
        self.hoverText.emit("")

    def leaveEvent(self, event) -> None:
        self._hide_cursor()
        super().leaveEvent(event)

    def _hover_text(self, x: float) -> tuple[str, float]:
        raise NotImplementedError

    @staticmethod
    def _nearest(xs: np.ndarray, x: float) -> int | None:
        """Index of the sample nearest to ``x`` in sorted ``xs``, or None when empty."""
        if xs.shape[0] == 0:
            return None
        i = int(np.searchsorted(xs, x))
        if i >= xs.shape[0]:
            return xs.shape[0] - 1
        if i > 0 and x - xs[i - 1] < xs[i] - x:
            return i - 1
        return i


class LossPlot(LivePlot):
    """Minibatch loss per iteration: faint raw curve plus its moving average."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(
            "lossPlot",
            parent,
            empty_hint="The minibatch loss appears here, step by step, when you train.\n"
            "Press Train (Ctrl+Return).",
        )
        item = self.getPlotItem()
        self.set_axis_label("bottom", "iteration")
        self.set_axis_label("left", "loss")
        self.log_y = False
        self.raw = GrowingBuffer(4096)
        self.smooth = GrowingBuffer(4096)
        self.raw_curve = item.plot(pen=pg.mkPen(faint(theme.LOSS, 70), width=1), name="loss")
        self.smooth_curve = item.plot(
            pen=pg.mkPen(theme.LOSS, width=2), name=f"EMA (α={LOSS_EMA_ALPHA})"
        )
        self.setToolTip(
            "Minibatch cross-entropy loss per SGD step (faint) and its exponential moving "
            f"average (α = {LOSS_EMA_ALPHA}). Scroll to zoom, drag to pan, right-click for "
            "more; hover for values."
        )
        self._sync_empty_state()

    def clear_data(self) -> None:
        self.raw.clear()
        self.smooth.clear()
        self.dirty = True

    def add(self, iterations: Sequence[int], losses: Sequence[float]) -> None:
        if not losses:
            return
        start = float(self.smooth.y[-1]) if len(self.smooth) else None
        self.raw.extend(iterations, losses)
        self.smooth.extend(iterations, ema(losses, LOSS_EMA_ALPHA, start))
        self.dirty = True

    def set_history(self, history: TrainingHistory) -> None:
        """Replace the curve by a saved history (iterations 1..n)."""
        self.clear_data()
        n = len(history.losses)
        self.add(np.arange(1, n + 1), history.losses)

    def _x_data_end(self) -> float:
        return float(self.raw.x[-1]) if len(self.raw) else 0.0

    def _y_range(self) -> tuple[float, float] | None:
        # Empty: a fresh network's loss starts near ln(10) = 2.3, so the frame is ready for it.
        y = self.raw.y if len(self.raw) else np.array([0.01, 2.4])
        extra = self._extra_values()
        if extra.size:
            y = np.concatenate([y if len(self.raw) else np.zeros(0), extra])
        if self.log_y:
            return decades(y)
        finite = y[np.isfinite(y)]
        return (0.0, nice_ceil(float(finite.max()))) if finite.size else None

    def set_log_scale(self, on: bool) -> None:
        self.log_y = bool(on)
        self.getPlotItem().setLogMode(y=on)
        self._applied_range = None
        self.settle_range()
        self.set_axis_label("left", "loss (log scale)" if on else "loss")

    def refresh(self) -> None:
        self.raw_curve.setData(self.raw.x, self.raw.y)
        # The average is smooth: ~800 points draw it exactly, and a 2 px pen over thousands
        # of points costs several milliseconds per repaint.
        x, y = self.smooth.x, self.smooth.y
        step = max(1, x.shape[0] // SMOOTH_POINTS)
        if step > 1:
            x = np.append(x[::step], x[-1])
            y = np.append(y[::step], y[-1])
        self.smooth_curve.setData(x, y)
        self.settle_range()
        self.dirty = False

    def _hover_text(self, x: float) -> tuple[str, float]:
        i = self._nearest(self.raw.x, x)
        if i is None:
            return "", 0.0
        it = self.raw.x[i]
        return (
            f"iteration {it:,.0f} · loss {self.raw.y[i]:.4f} · EMA {self.smooth.y[i]:.4f}",
            float(it),
        )


class AccuracyPlot(LivePlot):
    """Train and test accuracy (percent) after each epoch, against the iteration."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(
            "accuracyPlot",
            parent,
            empty_hint="Train and test accuracy appear here after every epoch.",
        )
        item = self.getPlotItem()
        self.set_axis_label("bottom", "iteration")
        self.set_axis_label("left", "accuracy", units="%")
        item.getAxis("left").enableAutoSIPrefix(False)
        self.legend = item.addLegend(offset=(-10, -10), labelTextColor=theme.TEXT)
        self.legend.setBrush(faint(theme.CARD, 220))
        # Painted from a pixmap cache: the legend never changes during a run.
        self.legend.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.iterations: list[int] = []
        self.train_acc: list[float] = []
        self.test_acc: list[float] = []
        self.train_curve = item.plot(
            pen=pg.mkPen(theme.TRAIN_ACC, width=2),
            symbol="o",
            symbolSize=6,
            symbolBrush=theme.TRAIN_ACC,
            symbolPen=None,
            name="train",
        )
        self.test_curve = item.plot(
            pen=pg.mkPen(theme.TEST_ACC, width=2),
            symbol="s",
            symbolSize=6,
            symbolBrush=theme.TEST_ACC,
            symbolPen=None,
            name="test",
        )
        self.setToolTip(
            "Accuracy on the whole training set and the whole test set, measured once per "
            "epoch (and at the end of a run). A widening gap means overfitting."
        )
        self._sync_empty_state()

    def clear_data(self) -> None:
        self.iterations, self.train_acc, self.test_acc = [], [], []
        self.dirty = True

    def add(self, iteration: int, train_acc: float, test_acc: float) -> None:
        self.iterations.append(int(iteration))
        self.train_acc.append(100.0 * train_acc)
        self.test_acc.append(100.0 * test_acc)
        self.dirty = True

    def set_history(self, history: TrainingHistory) -> None:
        self.clear_data()
        for it, train, test in zip(
            history.epoch_iterations, history.train_acc, history.test_acc, strict=False
        ):
            self.add(it, train, test)

    def refresh(self) -> None:
        x = np.asarray(self.iterations, dtype=np.float64)
        self.train_curve.setData(x, np.asarray(self.train_acc))
        self.test_curve.setData(x, np.asarray(self.test_acc))
        self.settle_range()
        self.dirty = False

    def _x_data_end(self) -> float:
        return float(self.iterations[-1]) if self.iterations else 0.0

    def _y_range(self) -> tuple[float, float] | None:
        # Up to 100 %, from the lowest accuracy rounded down to 10 %: the frame changes only
        # when a new low appears (in practice at the first evaluation).
        extra = self._extra_values()
        if not self.iterations and not extra.size:
            return (0.0, 100.0)
        lo = min([*self.train_acc, *self.test_acc, *extra.tolist()])
        return (max(0.0, math.floor((lo - 0.5) / 10) * 10), 100.0)

    def _hover_text(self, x: float) -> tuple[str, float]:
        i = self._nearest(np.asarray(self.iterations, dtype=np.float64), x)
        if i is None:
            return "", 0.0
        return (
            f"epoch {i} · it {self.iterations[i]:,} · train {self.train_acc[i]:.2f}% · "
            f"test {self.test_acc[i]:.2f}%",
            float(self.iterations[i]),
        )


def log_scale_toggle(plot: LossPlot) -> QCheckBox:
    box = QCheckBox("Log scale")
    box.setObjectName("logScaleCheck")
    box.setToolTip("Show the loss on a logarithmic axis (Ctrl+L).")
    box.toggled.connect(plot.set_log_scale)
    return box
