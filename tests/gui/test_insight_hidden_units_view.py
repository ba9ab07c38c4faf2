"""Hidden-units view: W1's columns as one mosaic, cheap live updates, hover and click."""

from __future__ import annotations

import os

# tests/gui/conftest.py does this too; repeated so the module also runs on its own.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import time

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel

from desktop_bp.core.network import TwoLayerNet
from desktop_bp.gui.insight.hidden_units.view import (
    GLOBAL,
    PER_UNIT,
    HiddenUnitsView,
    grid_for,
    mosaic_rgb,
)


@pytest.fixture
def params():
    return TwoLayerNet(rng=np.random.default_rng(0)).params


@pytest.fixture
def view(qtbot):
    widget = HiddenUnitsView()
    qtbot.addWidget(widget)
    widget.resize(1100, 640)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def _pixels(view) -> bytes:
    """The mosaic's RGB bytes without the padding at the end of each scan line."""
    image = view.mosaic_image()
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), -1)
    return rows[:, : 3 * image.width()].tobytes()


def test_mosaic_shape_follows_the_weights(view, params):
    view.set_weights(params["W1"], params["W2"], params["b1"])
    assert view.unit_count == 50 and view.grid_shape == (5, 10)
    image = view.mosaic_image()
    # 10 x 5 tiles of 28 px with 2 px gaps around and between them.
    assert (image.width(), image.height()) == (10 * 30 + 2, 5 * 30 + 2)
    assert grid_for(100) == (7, 15) and grid_for(1) == (1, 1)
    rgb, grid, tile = mosaic_rgb(np.ones((16, 3)))  # 4x4 "images", 3 units
    assert grid == (1, 3) and tile == (4, 4) and rgb.shape == (6 + 2, 3 * 6 + 2, 3)
    assert "50 columns as 28×28" in view.findChild(QLabel, "cardTitle").text()


def test_updates_change_the_picture_and_are_cheap(view, params):
    view.set_weights(params["W1"])
    first = _pixels(view)
    renders = view.renders
    rng = np.random.default_rng(1)
    started = time.perf_counter()
    for _ in range(25):
        view.set_weights(rng.normal(0, 0.01, (784, 50)))
    elapsed = time.perf_counter() - started
    assert view.renders == renders + 25  # visible: each call redraws
    assert _pixels(view) != first
    assert elapsed / 25 < 0.05  # far below the 200 ms a 5/s update allows


def test_hidden_view_defers_work_until_shown(qtbot, params):
    widget = HiddenUnitsView()
    qtbot.addWidget(widget)
    for _ in range(10):
        widget.set_weights(params["W1"])
    assert widget.renders == 0
    widget.show()
    qtbot.waitExposed(widget)
    assert widget.renders == 1


def test_scaling_modes(view, params):
    W1 = params["W1"].copy()
    W1[:, 0] *= 100  # one loud unit
    view.set_weights(W1)
    per_unit = _pixels(view)
    combo = view.findChild(QComboBox, "hiddenUnitsScaleCombo")
    combo.setCurrentIndex(combo.findData(GLOBAL))
    assert view.scaling == GLOBAL
    assert _pixels(view) != per_unit
    view.set_scaling(PER_UNIT)
    assert _pixels(view) == per_unit
    with pytest.raises(ValueError, match="scaling"):
        view.set_scaling("log")


def test_click_and_hover_show_a_unit(qtbot, view, params):
    view.set_weights(params["W1"], params["W2"], params["b1"])
    mosaic = view.findChild(object, "hiddenUnitsMosaic")
    centre = view.unit_rect(17).center().toPoint()
    assert mosaic.unit_at(view.unit_rect(17).center()) == 17
    with qtbot.waitSignal(view.unitHovered, timeout=1000) as hovered:
        qtbot.mouseMove(mosaic, centre)
    assert hovered.args == [17]
    with qtbot.waitSignal(view.unitSelected, timeout=1000) as selected:
        qtbot.mouseClick(mosaic, Qt.MouseButton.LeftButton, pos=centre)
    assert selected.args == [17] and view.selected_unit == 17
    info = view.findChild(QLabel, "hiddenUnitsInfo").text()
    assert "unit 17" in info and "votes most for digit" in info
    detail = view.findChild(object, "hiddenUnitsDetail").text()
    assert "W1[:, 17]" in detail and "b1[17]" in detail
    assert mosaic.unit_at(mosaic.rect().topLeft().toPointF()) is None
    with pytest.raises(ValueError, match="unit"):
        view.select_unit(50)


def test_network_api_and_bad_shapes(view, params):
    view.set_network(params, "relu")
    assert view.unit_count == 50
    view.set_network(None)
    assert view.unit_count == 0 and view.mosaic_image() is None
    with pytest.raises(ValueError, match="W1"):
        view.set_weights(np.zeros(784))
    with pytest.raises(ValueError, match="W2"):
        view.set_weights(np.zeros((784, 50)), np.zeros((49, 10)))
    view.set_weights(np.zeros((784, 50)))  # all zero: a blank mosaic, not a crash
    assert view.mosaic_image() is not None
    view.grab()
