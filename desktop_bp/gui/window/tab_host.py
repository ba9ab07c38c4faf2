"""How the window hosts its tabs: feeding them the weights and the data set (tabs out of
sight during a run stay stale until shown), and the scroll area around a view.

While a run goes only tabs on screen are fed: every copy and table refresh for a hidden tab is
GUI-thread time, and so GIL time, taken from the training thread. A hidden tab is marked stale
and fed when it is shown, or when the run ends. *Live* tabs (the drawing pad) get every
weights change (during a run at most ~30 a second); the others at most every
``interval_ms`` while training, at once otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from numpy.typing import NDArray
from PySide6.QtCore import QObject, QTimer, Slot
from PySide6.QtWidgets import QScrollArea, QVBoxLayout, QWidget

from desktop_bp.core import data as core_data

#: fn(params, activation): hands a tab the weights.
Feed = Callable[[dict[str, NDArray] | None, str], None]


@dataclass(frozen=True)
class FedTab:
    widget: QWidget
    feed: Feed
    #: What goes before the error text in the status bar: "The drawing pad cannot use these
    #: weights" for a live tab, "<ViewClass> cannot show these weights" for the others.
    what: str
    errors: tuple[type[Exception], ...]


class TabFeeder(QObject):
    """Hands the registered tabs the weights and the chosen data set's test split.

    ``weights()`` returns the current ``(params, activation)``; ``is_running()`` whether a run
    goes; ``report(text)`` shows a tab's refusal of the weights in the status bar.
    """

    def __init__(
        self,
        parent: QObject | None,
        *,
        weights: Callable[[], tuple[dict[str, NDArray] | None, str]],
        is_running: Callable[[], bool],
        report: Callable[[str], None],
        interval_ms: int,
    ) -> None:
        super().__init__(parent)
        self._weights = weights
        self._is_running = is_running
        self._report = report
        self.live: list[FedTab] = []
        self.throttled: list[FedTab] = []
        #: Tabs that missed weights while off screen during a run (fed when shown).
        self.stale: set[QWidget] = set()
        self._data_source_shown: str | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.feed_throttled)

    # -- registration -------------------------------------------------------------------------
    def add_live(
        self, widget: QWidget, feed: Feed, what: str = "The drawing pad cannot use these weights"
    ) -> None:
        """A tab fed on every weights change (and now); ``what`` goes before the reason when it
        refuses weights."""
        self.live.append(FedTab(widget, feed, what, (ValueError,)))
        self.feed_live()

    def add_throttled(self, widget: QWidget) -> None:
        """A :class:`~desktop_bp.gui.tab.Tab` fed at most every ``interval_ms`` while training
        (fed by the next :meth:`feed_throttled`)."""
        what = f"{type(widget).__name__} cannot show these weights"
        self.throttled.append(FedTab(widget, widget.set_network, what, (ValueError, KeyError)))

    @property
    def throttled_widgets(self) -> list[QWidget]:
        return [tab.widget for tab in self.throttled]

    # -- weights ------------------------------------------------------------------------------
    @Slot()
    def on_weights_changed(self) -> None:
        """The window's weights changed: live tabs now; the others now, or while training at
        most every ``interval_ms`` (the latest weights)."""
        self.feed_live()
        if not self.throttled:
            return
        if self._is_running():
            if not self._timer.isActive():
                self._timer.start()
        else:
            self._timer.stop()
            self.feed_throttled()

    @Slot()
    def feed_live(self) -> None:
        self._feed(self.live)

    @Slot()
    def feed_throttled(self) -> None:
        self._feed(self.throttled)

    def _feed(self, tabs: list[FedTab]) -> None:
        weights = None  # fetched once, and only if a tab is fed now (a run: usually none)
        for tab in tabs:
            if not self._is_fed_now(tab.widget):
                continue
            if weights is None:
                weights = self._weights()
            params, activation = weights
            try:
                tab.feed(params, activation)
            except tab.errors as exc:  # e.g. a network that is not 784 → 10
                self._report(f"{tab.what}: {exc}")

    def _is_fed_now(self, widget: QWidget) -> bool:
        """Feed ``widget`` now? Not while a run goes and it is off screen: then it is stale."""
        if self._is_running() and not widget.isVisible():
            self.stale.add(widget)
            return False
        self.stale.discard(widget)
        return True

    def tab_changed(self) -> None:
        """Another tab is current. A tab that goes out of sight during a run holds the weights
        of its last feed: mark it stale now, or the end of the run (which feeds stale tabs)
        would miss it when no snapshot arrived between the switch and the end. Then feed the
        stale tabs that are on screen now."""
        if self._is_running():
            for tab in (*self.live, *self.throttled):
                if not tab.widget.isVisible():
                    self.stale.add(tab.widget)
        stale = self.stale
        if any(tab.widget in stale for tab in self.live):
            self.feed_live()
        if any(tab.widget in stale for tab in self.throttled):
            self.feed_throttled()

    def stop(self) -> None:
        self._timer.stop()

    # -- data ---------------------------------------------------------------------------------
    def set_data(self, source: str, data: core_data.Dataset | None) -> None:
        """Give the tabs the test split of ``source`` (the chosen data set), once per source."""
        if not self.throttled or data is None or source == self._data_source_shown:
            return
        self._data_source_shown = source
        _, (x_test, t_test) = data
        for tab in self.throttled:
            tab.widget.set_data(x_test, t_test)


def scrolling(view: QWidget) -> QScrollArea:
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
