"""The freedesktop.org menu entry: ``desktop-bp --install-desktop-entry`` (and ``--uninstall``).

Writes, for the current user only (no root needed):

- ``$XDG_DATA_HOME/applications/desktop-bp.desktop`` (default ``~/.local/share``), whose
  ``Exec`` is the absolute path of the program that was run, so the menu starts this very
  installation (a venv's console script works without the venv being activated);
- ``$XDG_DATA_HOME/icons/hicolor/scalable/apps/desktop-bp.svg``, the icon it names.

``StartupWMClass`` and the window's desktop file name (``QGuiApplication.setDesktopFileName``)
both say ``desktop-bp``, so the taskbar groups the running window under this entry.
Only the standard library: this runs without Qt.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from desktop_bp import __version__
from desktop_bp.core.resources import RESOURCES_DIR

APP_ID = "desktop-bp"
ICON_SOURCE = RESOURCES_DIR / "desktop-bp.svg"


def data_home(environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    configured = env.get("XDG_DATA_HOME", "")
    # The spec: a relative XDG_DATA_HOME is invalid and must be ignored.
    if configured and Path(configured).is_absolute():
        return Path(configured)
    return Path(env.get("HOME", str(Path.home()))) / ".local" / "share"


def entry_path(environ: dict[str, str] | None = None) -> Path:
    return data_home(environ) / "applications" / f"{APP_ID}.desktop"


def icon_path(environ: dict[str, str] | None = None) -> Path:
    return data_home(environ) / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"


def launch_command() -> list[str]:
    """How the menu should start this installation: its console script, else ``python -m``."""
    script = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if script is not None and script.name == APP_ID and script.exists():
        return [str(script.resolve())]
    found = shutil.which(APP_ID)
    if found:
        return [str(Path(found).resolve())]
    return [str(Path(sys.executable).resolve()), "-m", "desktop_bp"]


def _exec_field(command: list[str]) -> str:
    """The Desktop Entry spec's quoting: each argument in double quotes with \\ " ` $ escaped,
    and % doubled (it introduces field codes)."""
    quoted = []
    for argument in command:
        escaped = "".join("\\" + ch if ch in '"`$\\' else ch for ch in argument)
        quoted.append(f'"{escaped}"'.replace("%", "%%"))
    return " ".join(quoted)


def entry_text(command: list[str], icon: Path) -> str:
    return "\n".join(
        [
            "[Desktop Entry]",
            "Type=Application",
            "Version=1.5",
            "Name=Desktop BP",
            "GenericName=Backpropagation trainer",
            "Comment=Train a neural network built from hand-written layers and watch "
            "backpropagation work",
            f"Exec={_exec_field(command)}",
            f"Icon={icon}",
            "Terminal=false",
            "Categories=Education;Science;ArtificialIntelligence;",
            "Keywords=neural network;backpropagation;MNIST;deep learning;",
            f"StartupWMClass={APP_ID}",
            "StartupNotify=true",
            f"X-Desktop-BP-Version={__version__}",
            "",
        ]
    )


def _refresh_menu(folder: Path) -> None:
    """Tell the desktop the menu changed, where the tool exists (most desktops also watch)."""
    tool = shutil.which("update-desktop-database")
    if tool is not None:
        subprocess.run([tool, str(folder)], capture_output=True, timeout=20, check=False)


def _write_atomically(path: Path, data: bytes, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    temporary.chmod(mode)
    temporary.replace(path)


def install(environ: dict[str, str] | None = None) -> list[Path]:
    """Write the entry and its icon for this user; returns the files written."""
    if not ICON_SOURCE.is_file():
        raise FileNotFoundError(f"the icon {ICON_SOURCE} is missing from this installation")
    icon = icon_path(environ)
    entry = entry_path(environ)
    _write_atomically(icon, ICON_SOURCE.read_bytes(), 0o644)
    # Desktop environments only launch entries they trust: executable for GNOME/KDE.
    _write_atomically(entry, entry_text(launch_command(), icon).encode(), 0o755)
    _refresh_menu(entry.parent)
    return [entry, icon]


def uninstall(environ: dict[str, str] | None = None) -> list[Path]:
    """Remove what :func:`install` wrote; returns the files that were there."""
    removed = []
    for path in (entry_path(environ), icon_path(environ)):
        if path.exists():
            path.unlink()
            removed.append(path)
    if removed:
        _refresh_menu(entry_path(environ).parent)
    return removed


def describe(command: list[str]) -> str:
    return shlex.join(command)
