"""What a tab is to the main window: the one small interface between them.

A tab is a QWidget the window shows next to "Training". The window gives it copies of the
current weights (``set_network``) and the chosen data set's test split (``set_data``), and
when the window closes it asks every tab to stop its background work (``cancel_work``, all
tabs first, so their threads end together) and then waits for it (``shutdown``). Whether it
is on screen a tab learns from Qt (``showEvent``/``hideEvent``); the window feeds a tab that
is out of sight during a run only when it is shown again, or when the run ends
(``window/tab_host.py``). :class:`TabBase` gives the parts a tab does not need for free.

Adding a tab: a room under ``gui/`` (usually ``gui/insight/<tab>/``) with a view that
implements :class:`Tab`, and one :class:`TabSpec` line in ``window/main_window.py``'s ``TABS``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import ClassVar, Protocol, runtime_checkable

from numpy.typing import NDArray
from PySide6.QtWidgets import QWidget

Params = Mapping[str, NDArray]


@runtime_checkable
class Tab(Protocol):
    """A view the main window feeds (see the module docstring)."""

    #: The tab's title and tooltip in the window.
    tab_title: ClassVar[str]
    tab_tooltip: ClassVar[str]

    def set_network(self, params: Params | None, activation: str = "relu") -> None:
        """Copies of W1, b1, W2, b2 (None: no network yet) and the hidden activation.

        Raise ``ValueError`` or ``KeyError`` for weights the view cannot show (the window
        reports it in the status bar)."""

    def set_data(self, x: NDArray | None, t: NDArray | None) -> None:
        """The test split of the chosen data set: images ``(n, 784)`` and labels ``(n,)``."""

    def cancel_work(self) -> None:
        """Ask background work to stop; returns at once."""

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Stop background work and wait for it; False if it did not end in time."""


class TabBase:
    """No-op defaults for the parts of :class:`Tab` a view does not need (mix in after
    QWidget: ``class HiddenUnitsView(QWidget, TabBase)``)."""

    def set_data(self, x: NDArray | None, t: NDArray | None) -> None:
        """This view does not use the data set."""

    def cancel_work(self) -> None:
        """This view has no background work."""

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        return True


@dataclass(frozen=True)
class TabSpec:
    """One line of the window's tab list.

    ``view`` is the :class:`Tab` class (built with no arguments; its ``tab_title`` and
    ``tab_tooltip`` label the tab); ``key`` names it for the window's accessors. ``live`` views
    (the drawing pad) get every weights change, the others at most every
    ``INSIGHT_INTERVAL_MS`` while training; ``scroll`` puts the view in a scroll area so a
    small window scrolls it rather than growing.
    """

    key: str
    view: Callable[[], QWidget]
    live: bool = False
    scroll: bool = True

    @property
    def title(self) -> str:
        return str(getattr(self.view, "tab_title", self.key))

    @property
    def tooltip(self) -> str:
        return str(getattr(self.view, "tab_tooltip", ""))
