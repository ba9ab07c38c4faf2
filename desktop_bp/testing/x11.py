"""Drive the real app on a real X server, as a user would: for tests and benchmarks.

``XServer`` starts ``Xvfb`` on a free display number, ``App`` starts the
``desktop-bp`` console script on it with Qt's ``xcb`` platform and a fresh settings folder,
and both talk to the window only through X: ``xdotool`` for the window, focus, keys and the
mouse, ImageMagick's ``import`` for its pixels. No Qt is imported here.

Debian/Ubuntu: ``sh tools/install-system-deps.sh --test`` installs Xvfb, xdotool and
ImageMagick.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

TOOLS = {"Xvfb": "xvfb", "xdotool": "xdotool", "import": "imagemagick"}
WINDOW_TITLE = "^Desktop BP"


def _free_display_numbers(first: int = 140, count: int = 40) -> list[int]:
    """Display numbers with neither a lock file nor a socket: well above the usual :0 .. :99
    of desktops, ssh forwarding and other Xvfbs, which must never be disturbed."""
    return [
        n
        for n in range(first, first + count)
        if not os.path.exists(f"/tmp/.X{n}-lock") and not os.path.exists(f"/tmp/.X11-unix/X{n}")
    ]


def missing_tools() -> list[str]:
    """The Debian packages of the X tools that are not installed."""
    return [package for tool, package in TOOLS.items() if shutil.which(tool) is None]


class XServer:
    """An ``Xvfb`` of its own (1280x800, 24 bit) on a free display, stopped on ``close()``."""

    def __init__(self, width: int = 1280, height: int = 800, timeout: float = 15.0) -> None:
        errors = []
        for number in _free_display_numbers():
            try:
                self._start(number, width, height, timeout)
                return
            except RuntimeError as exc:  # taken meanwhile, or Xvfb cannot start at all
                errors.append(str(exc))
        raise RuntimeError("Xvfb did not start: " + "; ".join(errors[-3:]))

    def _start(self, number: int, width: int, height: int, timeout: float) -> None:
        # -displayfd: Xvfb writes the display number to the pipe once it accepts clients.
        read_end, write_end = os.pipe()
        self.process = subprocess.Popen(
            [
                "Xvfb",
                f":{number}",
                "-displayfd",
                str(write_end),
                "-screen",
                "0",
                f"{width}x{height}x24",
                "-nolisten",
                "tcp",
                # Without it the server resets when its last client leaves, and a program
                # started during the reset cannot connect.
                "-noreset",
            ],
            pass_fds=(write_end,),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        os.close(write_end)
        answer = b""
        deadline = time.monotonic() + timeout
        with os.fdopen(read_end, "rb", buffering=0) as pipe:
            while not answer.endswith(b"\n") and time.monotonic() < deadline:
                chunk = pipe.read(16)
                if not chunk:
                    break
                answer += chunk
        if answer.strip() != str(number).encode():
            self.close()
            raise RuntimeError(f"display :{number}: {self._stderr() or 'no answer'}")
        self.display = f":{number}"

    def _stderr(self) -> str:
        if self.process.poll() is None or self.process.stderr is None:
            return ""
        return self.process.stderr.read().decode(errors="replace").strip()[-500:]

    def env(self) -> dict[str, str]:
        env = dict(os.environ, DISPLAY=self.display)
        env.pop("WAYLAND_DISPLAY", None)
        return env

    def xdotool(self, *args: str, timeout: float = 20.0) -> str:
        done = subprocess.run(
            ["xdotool", *args],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return done.stdout.strip()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stderr is not None:
            self.process.stderr.close()

    def __enter__(self) -> XServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def console_script() -> Path:
    """The ``desktop-bp`` script beside this interpreter (what ``pip install`` made)."""
    name = "desktop-bp.exe" if sys.platform == "win32" else "desktop-bp"
    return Path(sys.executable).parent / name


@dataclass
class Geometry:
    x: int
    y: int
    width: int
    height: int


class App:
    """``desktop-bp`` started on ``server`` with fresh settings; output kept for inspection.

    ``command`` replaces the console script (a benchmark's baseline program, say)."""

    def __init__(
        self, server: XServer, *, home: Path | None = None, command: list[str] | None = None
    ) -> None:
        self.server = server
        self._own_home = home is None
        self.home = Path(tempfile.mkdtemp(prefix="desktop-bp-x11-")) if home is None else home
        runtime = self.home / "runtime"
        runtime.mkdir(mode=0o700, exist_ok=True)
        env = server.env()
        env.update(
            QT_QPA_PLATFORM="xcb",
            # A fresh user: no settings from earlier runs (they could ask for 100,000
            # iterations), no cached downloads, and Qt's runtime folder present.
            DESKTOP_BP_SETTINGS_DIR=str(self.home / "settings"),
            DESKTOP_BP_DATA_DIR=str(self.home / "data"),
            XDG_CONFIG_HOME=str(self.home / "config"),
            XDG_RUNTIME_DIR=str(runtime),
        )
        self.output_path = self.home / "output.txt"
        self._output = self.output_path.open("wb")
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            command or [str(console_script())],
            env=env,
            stdout=self._output,
            stderr=subprocess.STDOUT,
        )
        self.window: str | None = None

    def output(self) -> str:
        if not self._output.closed:
            self._output.flush()
        return self.output_path.read_text(errors="replace")

    def wait_for_window(self, timeout: float = 30.0) -> float:
        """Block until the main window is mapped; returns seconds since the process started."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"desktop-bp exited with {self.process.returncode} before its window "
                    f"appeared:\n{self.output()}"
                )
            found = self.server.xdotool("search", "--onlyvisible", "--name", WINDOW_TITLE)
            if found:
                self.window = found.splitlines()[0]
                return time.perf_counter() - self.started
            time.sleep(0.01)
        raise TimeoutError(f"no window after {timeout:.0f} s:\n{self.output()}")

    def wait_until_painted(self, timeout: float = 15.0) -> float:
        """Block until the mapped window shows more than one colour (its first paint);
        returns seconds since the process started."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.pixels().std() > 5:
                return time.perf_counter() - self.started
            time.sleep(0.02)
        raise TimeoutError(f"the window stayed blank for {timeout:.0f} s:\n{self.output()}")

    def focus(self) -> None:
        assert self.window is not None
        self.server.xdotool("windowfocus", "--sync", self.window)

    def key(self, keys: str) -> None:
        self.focus()
        self.server.xdotool("key", "--clearmodifiers", keys)

    def geometry(self) -> Geometry:
        assert self.window is not None
        values = dict(
            line.split("=", 1)
            for line in self.server.xdotool(
                "getwindowgeometry", "--shell", self.window
            ).splitlines()
            if "=" in line
        )
        return Geometry(
            int(values["X"]), int(values["Y"]), int(values["WIDTH"]), int(values["HEIGHT"])
        )

    def pixels(self) -> np.ndarray:
        """The window as it is on the X server now: uint8 (height, width, 3)."""
        assert self.window is not None
        g = self.geometry()
        raw = subprocess.run(
            ["import", "-window", self.window, "-depth", "8", "rgb:-"],
            env=self.server.env(),
            capture_output=True,
            timeout=20,
            check=True,
        ).stdout
        return np.frombuffer(raw, np.uint8)[: g.width * g.height * 3].reshape(g.height, g.width, 3)

    def stroke(self, points: list[tuple[int, int]], delay: float = 0.01) -> None:
        """Press, move through ``points`` (window coordinates) and release the left button."""
        assert self.window is not None
        g = self.geometry()
        x0, y0 = points[0]
        self.server.xdotool("mousemove", str(g.x + x0), str(g.y + y0), "mousedown", "1")
        for x, y in points[1:]:
            self.server.xdotool("mousemove", str(g.x + x), str(g.y + y))
            time.sleep(delay)
        self.server.xdotool("mouseup", "1")

    def wait_for_change(
        self, before: np.ndarray, *, region=None, min_pixels: int = 200, timeout: float = 10.0
    ) -> float:
        """Seconds until at least ``min_pixels`` of ``region`` (a slice pair) differ from
        ``before``; TimeoutError if they never do."""
        region = region or (slice(None), slice(None))
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            now = self.pixels()
            if now.shape == before.shape:
                changed = np.any(now[region] != before[region], axis=-1).sum()
                if changed >= min_pixels:
                    return time.monotonic() - started
            time.sleep(0.05)
        raise TimeoutError(f"the window did not change within {timeout:.0f} s")

    def close(self, timeout: float = 15.0) -> int:
        """Quit with Ctrl+Q as a user does; returns the exit code (killed if it hangs)."""
        if self.process.poll() is None and self.window is not None:
            self.key("ctrl+q")
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise
        finally:
            self._output.close()
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._output.close()
        if self._own_home:
            shutil.rmtree(self.home, ignore_errors=True)
