"""The run history room: every finished run kept, compared on the live plots, exported.

- :class:`RunHistoryPanel` (``run_table``): the ``runHistoryTable`` of kept runs, newest
  first, with overlay check boxes, notes, pins, delete with undo and "Train again".
- :class:`RunOverlays` (``overlays``): the ticked runs drawn on the loss, accuracy and
  gradient PlotItems below the live curves.
- ``export``: curves as one long CSV table, a plot as PNG or SVG.

Embedding in a window takes a few lines (see :func:`connect_overlays`)::

    panel = RunHistoryPanel()
    panel.set_store(RunStore(default_history_folder()))
    overlays = RunOverlays(loss_item, accuracy_item, gradient_item)
    connect_overlays(panel, overlays)

Importing this package imports Qt; the data side is ``desktop_bp.core.run_history``.
"""

from __future__ import annotations

from desktop_bp.gui.history.overlays import RunOverlays
from desktop_bp.gui.history.run_table import (
    RunHistoryPanel,
    connect_overlays,
    default_history_folder,
)

__all__ = ["RunHistoryPanel", "RunOverlays", "connect_overlays", "default_history_folder"]
