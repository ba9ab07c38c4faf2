"""Can the window open here? Checked before Qt is imported, so a failure is one clear line.

Qt does not fail gracefully at start: with no display, or with a library of its X11 (``xcb``)
platform plugin missing, it prints a paragraph about platform plugins and aborts the process
(no Python exception to catch). So ``desktop-bp`` asks first:

- is there a display at all (``DISPLAY`` or ``WAYLAND_DISPLAY``, or a non-X platform chosen
  with ``QT_QPA_PLATFORM``)?
- does the xcb plugin find every library it links against (``ldd``)? The message names the
  Debian/Ubuntu package of each missing one;
- does the X server answer (a connection through ``libxcb``, opened and closed at once)?

Only the standard library: nothing here may import Qt.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

#: The shared libraries PySide6's xcb plugin and the Qt libraries it loads need from the
#: system, by the Debian/Ubuntu package that ships each (found with ``ldd`` on
#: ``libqxcb.so`` and ``dpkg -S``). Keep in step with ``tools/install-system-deps.sh``.
SONAME_PACKAGES: dict[str, str] = {
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libGLX.so.0": "libglx0",
    "libGLdispatch.so.0": "libglvnd0",
    "libOpenGL.so.0": "libopengl0",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libgobject-2.0.so.0": "libglib2.0-0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxcb.so.1": "libxcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-glx.so.0": "libxcb-glx0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-xinput.so.0": "libxcb-xinput0",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libwayland-client.so.0": "libwayland-client0",
    "libwayland-cursor.so.0": "libwayland-cursor0",
    "libwayland-egl.so.1": "libwayland-egl1",
    "libpng16.so.16": "libpng16-16",
    "libz.so.1": "zlib1g",
}

INSTALL_HINT = "or run 'sh tools/install-system-deps.sh' in the project folder"

_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found", re.MULTILINE)
# "libEGL.so.1: cannot open shared object file: No such file or directory" (ImportError text)
_CANNOT_OPEN = re.compile(r"(lib[\w.+-]+\.so[\w.]*): cannot open shared object file")


def qt_dir() -> Path | None:
    """PySide6's bundled ``Qt`` folder, found without importing PySide6."""
    try:
        spec = importlib.util.find_spec("PySide6")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "Qt"


def xcb_plugin() -> Path | None:
    folder = qt_dir()
    plugin = None if folder is None else folder / "plugins" / "platforms" / "libqxcb.so"
    return plugin if plugin is not None and plugin.is_file() else None


def missing_libraries(library: Path) -> list[str]:
    """The sonames ``ldd`` reports as "not found" for ``library`` (empty if ldd is absent)."""
    ldd = shutil.which("ldd")
    if ldd is None:
        return []
    try:
        out = subprocess.run(
            [ldd, str(library)], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return sorted(set(_NOT_FOUND.findall(out)))


def packages_for(sonames: list[str]) -> list[str]:
    """The Debian/Ubuntu packages that ship ``sonames`` (unknown ones are named as they are)."""
    return sorted({SONAME_PACKAGES.get(name, name) for name in sonames})


def install_advice(sonames: list[str]) -> str:
    packages = packages_for(sonames)
    pronoun = "it" if len(packages) == 1 else "them"
    return f"install {pronoun} with 'sudo apt-get install {' '.join(packages)}' ({INSTALL_HINT})"


def describe_import_error(exc: BaseException) -> str | None:
    """One sentence for an ImportError caused by a missing system library, else None."""
    found = _CANNOT_OPEN.findall(str(exc))
    if not found:
        return None
    return f"Qt cannot load the system library {found[0]}: " + install_advice(found)


def _x_server_answers(display: str) -> bool:
    """Open and close a connection to ``display`` with libxcb (no Qt, no window)."""
    name = ctypes.util.find_library("xcb") or "libxcb.so.1"
    try:
        xcb = ctypes.CDLL(name)
    except OSError:
        return True  # cannot tell; the missing-library check speaks about libxcb
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    connection = xcb.xcb_connect(display.encode(), None)
    try:
        return connection is not None and xcb.xcb_connection_has_error(connection) == 0
    finally:
        if connection is not None:
            xcb.xcb_disconnect(connection)


def display_problem(
    environ: Mapping[str, str] | None = None, *, platform: str = sys.platform
) -> str | None:
    """Why the window could not open here, as one sentence; None if nothing is known wrong."""
    env = os.environ if environ is None else environ
    if not platform.startswith("linux"):
        return None  # Qt's Windows and macOS platforms need no display server check
    chosen = env.get("QT_QPA_PLATFORM", "").strip().lower()
    if chosen and not chosen.startswith("xcb"):
        return None  # offscreen, wayland, vnc, ...: not ours to second-guess
    if not chosen and env.get("WAYLAND_DISPLAY"):
        return None  # a Wayland session: Qt tries Wayland first
    display = env.get("DISPLAY", "")
    if not display:
        return (
            "no display to open the window on (DISPLAY is not set): start it from a desktop "
            "session, over 'ssh -X', or on a virtual X server ('Xvfb :99 &' then DISPLAY=:99); "
            "the terminal commands need no display, see 'desktop-bp --help'"
        )
    plugin = xcb_plugin()
    if plugin is not None:
        missing = missing_libraries(plugin)
        if missing:
            return (
                f"Qt's X11 platform plugin cannot load: {', '.join(missing)} "
                f"{'is' if len(missing) == 1 else 'are'} missing; " + install_advice(missing)
            )
    if not _x_server_answers(display):
        return (
            f"cannot connect to the X display {display!r}: is the X server running, and may "
            "this user use it (XAUTHORITY, 'xhost')?"
        )
    return None
