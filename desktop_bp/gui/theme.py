"""One dark theme for the Qt widgets and the pyqtgraph plots, applied once per QApplication."""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

# Surfaces, darkest to lightest.
WINDOW = "#181a1f"
CARD = "#20232a"
PLOT_BG = "#1c1f25"
BORDER = "#2f333c"
GRID = "#3a3f4a"
TEXT = "#d7dae0"
MUTED = "#8b919c"
AXIS_TEXT = "#a9afba"
ACCENT = "#4e9af1"
DANGER = "#e05d5d"
WARNING = "#e8b04a"

# Curve colours (readable on PLOT_BG, distinct for common colour-vision deficiencies).
LOSS = "#4e9af1"
TRAIN_ACC = "#4e9af1"
TEST_ACC = "#f4a259"

STYLESHEET = f"""
QMainWindow, QWidget#centralArea {{ background: {WINDOW}; }}
QFrame#card, QFrame#gradientPanel {{
    background: {CARD}; border: 1px solid {BORDER}; border-radius: 6px;
}}
QLabel#cardTitle {{ font-weight: 600; color: {TEXT}; }}
QLabel#readout {{ color: {MUTED}; }}
QLabel#hint {{ color: {MUTED}; }}
QLabel#plotHint {{ color: {MUTED}; background: transparent; font-size: 10pt; }}
QGroupBox {{
    background: {CARD}; border: 1px solid {BORDER}; border-radius: 6px;
    margin-top: 1.4em; padding: 8px 8px 6px 8px; font-weight: 600;
}}
QGroupBox::title {{ subcontrol-origin: margin; left: 10px; padding: 0 4px; color: {TEXT}; }}
QGroupBox QLabel {{ font-weight: normal; }}
QPushButton {{
    background: #2b2f38; border: 1px solid {BORDER}; border-radius: 5px; padding: 5px 10px;
    color: {TEXT};
}}
QPushButton:hover {{ background: #343945; }}
QPushButton:pressed {{ background: #252830; }}
QPushButton:disabled {{ color: #5d626c; background: #23262d; }}
QPushButton#trainButton {{ background: #2f6fbf; border-color: #3d7fd1; color: white;
    font-weight: 600; }}
QPushButton#trainButton:hover {{ background: #3a7dd0; }}
QPushButton#trainButton:disabled {{ background: #263449; color: #7f8ea3; }}
QProgressBar {{
    border: 1px solid {BORDER}; border-radius: 5px; background: #1b1e24; text-align: center;
    color: {TEXT}; min-height: 20px;
}}
QProgressBar::chunk {{ background: #2f6fbf; border-radius: 4px; }}
QTableWidget {{ background: {CARD}; border: none; gridline-color: {BORDER}; }}
QHeaderView::section {{
    background: {CARD}; color: {MUTED}; border: none; border-bottom: 1px solid {BORDER};
    padding: 3px 6px;
}}
QStatusBar {{ background: #15171b; color: {MUTED}; }}
QStatusBar QLabel {{ color: {TEXT}; padding: 0 8px; }}
QFrame#banner {{ border-radius: 6px; }}
QFrame#banner[level="error"] {{ background: #3a2024; border: 1px solid #7a3139; }}
QFrame#banner[level="info"] {{ background: #1f2d3d; border: 1px solid #2f5b8a; }}
QToolTip {{ background: #2b2f38; color: {TEXT}; border: 1px solid {BORDER}; padding: 4px; }}
QSplitter::handle {{ background: {WINDOW}; }}
QTabWidget::pane {{ border: none; }}
QTabBar::tab {{
    background: transparent; color: {MUTED}; padding: 5px 14px; margin-right: 2px;
    border: none; border-bottom: 2px solid transparent;
}}
QTabBar::tab:selected {{ color: {TEXT}; border-bottom: 2px solid {ACCENT}; }}
QTabBar::tab:hover {{ color: {TEXT}; }}
"""


def dark_palette() -> QPalette:
    palette = QPalette()
    roles = {
        QPalette.ColorRole.Window: WINDOW,
        QPalette.ColorRole.WindowText: TEXT,
        QPalette.ColorRole.Base: "#15171c",
        QPalette.ColorRole.AlternateBase: CARD,
        QPalette.ColorRole.ToolTipBase: "#2b2f38",
        QPalette.ColorRole.ToolTipText: TEXT,
        QPalette.ColorRole.PlaceholderText: MUTED,
        QPalette.ColorRole.Text: TEXT,
        QPalette.ColorRole.Button: "#2b2f38",
        QPalette.ColorRole.ButtonText: TEXT,
        QPalette.ColorRole.BrightText: "#ffffff",
        QPalette.ColorRole.Highlight: "#2f6fbf",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Link: ACCENT,
        QPalette.ColorRole.Mid: BORDER,
        QPalette.ColorRole.Dark: "#111317",
        QPalette.ColorRole.Light: "#3a3f4a",
    }
    for role, colour in roles.items():
        palette.setColor(role, QColor(colour))
    disabled = QPalette.ColorGroup.Disabled
    for role in (
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
        QPalette.ColorRole.WindowText,
    ):
        palette.setColor(disabled, role, QColor("#5d626c"))
    return palette


def configure_pyqtgraph() -> None:
    """Global pyqtgraph options: antialiasing off (speed), our colours."""
    import pyqtgraph as pg

    pg.setConfigOptions(antialias=False, background=PLOT_BG, foreground=MUTED)


def apply_theme(app: QApplication) -> None:
    """Fusion style, the dark palette and the stylesheet; idempotent."""
    if app.property("desktopBpTheme"):
        return
    app.setStyle("Fusion")
    app.setPalette(dark_palette())
    font = QFont(app.font())
    if font.pointSizeF() < 9.5:
        font.setPointSizeF(9.5)
    app.setFont(font)
    app.setStyleSheet(STYLESHEET)
    configure_pyqtgraph()
    app.setProperty("desktopBpTheme", True)
