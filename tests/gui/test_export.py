"""Export: the runs' curves as one long CSV that reads back, plots as PNG and SVG, clear errors."""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtWidgets import QFileDialog

from desktop_bp.gui.history import RunOverlays, export
from desktop_bp.gui.history.run_table import RunHistoryPanel
from desktop_bp.testing.runs import synthetic_run


@pytest.fixture
def errors(monkeypatch):
    calls = []
    monkeypatch.setattr(export, "show_error", lambda parent, title, text: calls.append(text))
    return calls


@pytest.fixture
def plot(qtbot):
    widget = pg.PlotWidget()
    qtbot.addWidget(widget)
    widget.resize(500, 300)
    widget.plot(np.arange(1, 101), np.linspace(2.3, 0.2, 100), name="live")
    RunOverlays(widget).set_runs([synthetic_run(0.5, steps=400), synthetic_run(0.05, steps=400)])
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_csv_is_one_long_table_that_reads_back(tmp_path, errors):
    runs = [synthetic_run(0.5, steps=300, epoch=100), synthetic_run(0.05, steps=300, epoch=100)]
    path = export.export_curves_csv(None, runs, path=tmp_path / "curves.csv")
    assert path == tmp_path / "curves.csv" and errors == []
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 300 + 300
    assert {r["run"] for r in rows} == {runs[0].run_id, runs[1].run_id}
    assert {r["label"] for r in rows} == {"lr 0.5", "lr 0.05"}
    first = [r for r in rows if r["run"] == runs[0].run_id]
    np.testing.assert_allclose([float(r["loss"]) for r in first], runs[0].losses, rtol=1e-6)
    epoch_rows = [r for r in first if r["test_acc"]]
    assert [int(r["iteration"]) for r in epoch_rows] == [100, 200, 300]
    assert float(epoch_rows[-1]["test_acc"]) == pytest.approx(runs[0].final_test_acc)


def test_csv_from_the_file_dialog(tmp_path, monkeypatch, errors):
    chosen = tmp_path / "picked"
    titles = []

    def fake_dialog(parent, title, name, filters):
        titles.append((title, filters))
        return str(chosen), filters

    monkeypatch.setattr(QFileDialog, "getSaveFileName", fake_dialog)
    path = export.export_curves_csv(None, [synthetic_run(0.1, steps=50, epoch=25)])
    assert path == tmp_path / "picked.csv" and path.stat().st_size > 0
    assert "one long CSV table with a run column" in titles[0][0]


def test_csv_failure_is_reported_and_nothing_is_written(tmp_path, errors):
    target = tmp_path / "missing folder" / "curves.csv"
    assert export.export_curves_csv(None, [synthetic_run(0.1, steps=50)], path=target) is None
    assert len(errors) == 1 and "missing folder" in errors[0]
    assert export.export_curves_csv(None, [], path=tmp_path / "x.csv") is None
    assert "no runs" in errors[1]
    assert not (tmp_path / "x.csv").exists()


def test_panel_exports_the_ticked_runs(qtbot, tmp_path, monkeypatch, errors):
    panel = RunHistoryPanel()
    qtbot.addWidget(panel)
    for minutes, lr in enumerate((0.1, 0.5, 0.05)):
        panel.add_run(synthetic_run(lr, minutes=minutes, steps=60, epoch=30))
    panel.set_ticked([panel.runs()[0], panel.runs()[2]])
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *a: (str(tmp_path / "ticked.csv"), "")
    )
    panel.export_action.trigger()
    with (tmp_path / "ticked.csv").open(newline="") as f:
        runs = {row["label"] for row in csv.DictReader(f)}
    assert runs == {"lr 0.05", "lr 0.1"}


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_plot_exports_as_png_and_svg(plot, tmp_path, suffix):
    folder = tmp_path / "plots"
    folder.mkdir()
    path = export.export_plot(plot, folder / f"loss{suffix}")
    assert path.stat().st_size > 1000
    if suffix == ".svg":
        root = ET.parse(path).getroot()
        assert root.tag.endswith("svg")
        assert "#e8e36a" in path.read_text()  # the first overlaid run's colour
    else:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in folder.iterdir()] == [path.name]  # no temporary left


def test_plot_export_errors_are_clear(plot, tmp_path, monkeypatch, errors):
    with pytest.raises(ValueError, match=r"\.png or \.svg"):
        export.export_plot(plot, tmp_path / "loss.jpg")
    existing = tmp_path / "keep.png"
    existing.write_bytes(b"old")
    with pytest.raises(export.ExportError, match="no such folder"):
        export.export_plot(plot, tmp_path / "no such folder" / "loss.png")
    monkeypatch.setattr(
        QFileDialog,
        "getSaveFileName",
        lambda *a: (str(tmp_path / "nope" / "loss"), export.PLOT_FILTERS[".svg"]),
    )
    assert export.export_plot_dialog(None, plot, "loss") is None
    assert "loss.svg" in errors[0]
    assert existing.read_bytes() == b"old"
