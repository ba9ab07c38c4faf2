"""Export: runs' curves as one long CSV table, a plot as a PNG or SVG file.

- :func:`export_curves_csv` (File ▸ Export curves…): asks for a file (or takes ``path``) and
  writes :func:`~desktop_bp.core.run_history.write_curves_csv`'s one long table: a ``run``
  column (the run id) and a ``label`` column (what differs), one row per step with its loss,
  the train/test accuracies on the epoch rows, the gradient magnitudes where sampled. The
  same table as ``desktop-bp train --history-csv FILE``.
- :func:`export_plot` writes a PlotItem (or PlotWidget) through pyqtgraph's ImageExporter
  (``.png``) or SVGExporter (``.svg``); :func:`export_plot_dialog` asks for the file first.

Files are written under a temporary name and renamed over the target, so a failed export never
leaves half a file or spoils an existing one. The dialog functions report failures in a message
box (``show_error``, replaceable in tests) and return None; nothing in memory is touched.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from desktop_bp.core.run_history import RunHistoryError, RunRecord, write_curves_csv

CSV_FILTER = "CSV table, one row per step and run (*.csv)"
PLOT_FILTERS = {".png": "PNG image (*.png)", ".svg": "SVG vector image (*.svg)"}
#: Pixel width of PNG exports (the height follows the plot's aspect ratio).
PNG_WIDTH = 1600


class ExportError(Exception):
    """An export that could not be written (names the file and the reason)."""


def show_error(parent: QWidget | None, title: str, text: str) -> None:
    QMessageBox.warning(parent, title, text)


def export_curves_csv(
    parent: QWidget | None,
    records: Sequence[RunRecord],
    *,
    path: str | os.PathLike[str] | None = None,
    labels: Sequence[str] | None = None,
    what: str | None = None,
) -> Path | None:
    """Write ``records``' curves as one long CSV table with a run column; ask for the file
    unless ``path`` is given (the dialog's title names the runs: ``what``, e.g. "the current
    run and 2 ticked runs"). Returns the path written, or None (cancelled, or the error
    shown)."""
    records = list(records)
    if not records:
        show_error(parent, "Export curves", "There are no runs to export yet.")
        return None
    if path is None:
        what = what or f"{len(records)} run{'s' if len(records) != 1 else ''}"
        chosen, _ = QFileDialog.getSaveFileName(
            parent,
            f"Export curves of {what} — one long CSV table with a run column",
            "runs.csv",
            CSV_FILTER,
        )
        if not chosen:
            return None
        path = chosen if chosen.lower().endswith(".csv") else chosen + ".csv"
    path = Path(path)
    try:
        write_curves_csv(path, records, labels)
    except (RunHistoryError, OSError, ValueError) as exc:
        show_error(parent, "Export curves", f"The curves could not be written to {path}:\n{exc}")
        return None
    return path


def export_plot(plot, path: str | os.PathLike[str], *, width: int = PNG_WIDTH) -> Path:
    """Write ``plot`` (a pyqtgraph PlotItem or PlotWidget) to ``path``: PNG ``width`` pixels
    wide for ``.png``, SVG for ``.svg``. ExportError naming the file on failure; ValueError
    for another suffix."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in PLOT_FILTERS:
        raise ValueError(f"plot export needs a .png or .svg file name, got {path.name!r}")
    item = plot.getPlotItem() if hasattr(plot, "getPlotItem") else plot
    from pyqtgraph import exporters

    temporary = path.with_name(f".{path.stem}.{secrets.token_hex(4)}.tmp{suffix}")
    try:
        if suffix == ".png":
            exporter = exporters.ImageExporter(item)
            exporter.parameters()["width"] = int(width)
            if exporter.export(str(temporary)) is False:
                raise ExportError(f"cannot write {path}: the image could not be saved")
        else:
            with _closed_paths_tolerated():
                exporters.SVGExporter(item).export(str(temporary))
        if not temporary.is_file() or temporary.stat().st_size == 0:
            raise ExportError(f"cannot write {path}: nothing was written")
        os.replace(temporary, path)
    except ExportError:
        raise
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from exc
    except Exception as exc:  # pyqtgraph's exporters raise a variety of errors
        raise ExportError(f"cannot export the plot to {path}: {type(exc).__name__}: {exc}") from exc
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink()
    return path


@contextlib.contextmanager
def _closed_paths_tolerated():
    """Let pyqtgraph's SVGExporter read Qt's closed paths.

    Qt >= 6.10 ends closed sub-paths with " Z" (the ViewBox background is one); pyqtgraph
    0.13-0.14 expects only "x,y" tokens in a path and fails on it (pyqtgraph issue #3485).
    While exporting, each path's Z tokens are taken out before pyqtgraph maps the coordinates
    and put back after the same points.
    """
    import sys

    module = sys.modules["pyqtgraph.exporters.SVGExporter"]
    original = module.correctCoordinates

    def correct(node, defs, item, options):
        closed = {}
        for path in node.getElementsByTagName("path"):
            tokens = path.getAttribute("d").split()
            if "Z" in tokens or "z" in tokens:
                points = [t for t in tokens if t not in ("Z", "z")]
                after = [
                    sum(1 for t in tokens[:i] if t not in ("Z", "z"))
                    for i, t in enumerate(tokens)
                    if t in ("Z", "z")
                ]
                closed[path] = after
                path.setAttribute("d", " ".join(points))
        original(node, defs, item, options)
        for path, after in closed.items():
            tokens = path.getAttribute("d").split()
            for count in reversed(after):
                tokens.insert(count, "Z")
            path.setAttribute("d", " ".join(tokens))

    module.correctCoordinates = correct
    try:
        yield
    finally:
        module.correctCoordinates = original


def export_plot_dialog(parent: QWidget | None, plot, name: str = "plot") -> Path | None:
    """Ask for a .png or .svg file and export ``plot`` to it; the error in a message box."""
    chosen, chosen_filter = QFileDialog.getSaveFileName(
        parent,
        f"Export the {name} plot as PNG or SVG",
        f"{name}.png",
        ";;".join(PLOT_FILTERS.values()),
    )
    if not chosen:
        return None
    path = Path(chosen)
    if path.suffix.lower() not in PLOT_FILTERS:
        wanted = ".svg" if chosen_filter == PLOT_FILTERS[".svg"] else ".png"
        path = path.with_name(path.name + wanted)
    try:
        return export_plot(plot, path)
    except (ExportError, ValueError) as exc:
        show_error(parent, "Export plot", str(exc))
        return None


__all__ = [
    "ExportError",
    "export_curves_csv",
    "export_plot",
    "export_plot_dialog",
]
