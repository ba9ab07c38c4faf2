"""desktop-bp --install-desktop-entry / --uninstall-desktop-entry, --version, --help."""

from __future__ import annotations

import configparser
import subprocess
import sys

from desktop_bp import __version__, desktop_entry
from desktop_bp.cli import main


def _environ(tmp_path):
    return {"HOME": str(tmp_path / "home"), "XDG_DATA_HOME": str(tmp_path / "share")}


def test_install_writes_a_valid_entry_and_its_icon(tmp_path, monkeypatch, capsys):
    for key, value in _environ(tmp_path).items():
        monkeypatch.setenv(key, value)
    assert main(["--install-desktop-entry"]) == 0
    entry = tmp_path / "share" / "applications" / "desktop-bp.desktop"
    icon = tmp_path / "share" / "icons" / "hicolor" / "scalable" / "apps" / "desktop-bp.svg"
    assert entry.is_file() and icon.is_file()
    assert icon.read_bytes() == desktop_entry.ICON_SOURCE.read_bytes()
    parsed = configparser.ConfigParser(interpolation=None)
    parsed.optionxform = str  # keys are case-sensitive in desktop entries
    parsed.read_string(entry.read_text())
    section = parsed["Desktop Entry"]
    assert section["Type"] == "Application"
    assert section["Name"] == "Desktop BP"
    assert section["Icon"] == str(icon)
    assert section["StartupWMClass"] == "desktop-bp"
    assert section["Terminal"] == "false"
    # Exec names an absolute, existing program: the menu works without an activated venv.
    program = section["Exec"].split('" ')[0].strip('"')
    assert program.startswith("/")
    assert subprocess.run([program, "--version"], capture_output=True, text=True).stdout
    out = capsys.readouterr().out
    assert str(entry) in out and str(icon) in out


def test_uninstall_removes_what_install_wrote(tmp_path, monkeypatch, capsys):
    for key, value in _environ(tmp_path).items():
        monkeypatch.setenv(key, value)
    assert main(["--uninstall-desktop-entry"]) == 0
    assert "No Desktop BP menu entry" in capsys.readouterr().out
    main(["--install-desktop-entry"])
    assert main(["--uninstall-desktop-entry"]) == 0
    assert not desktop_entry.entry_path().exists()
    assert not desktop_entry.icon_path().exists()


def test_relative_xdg_data_home_is_ignored(tmp_path):
    env = {"HOME": str(tmp_path), "XDG_DATA_HOME": "relative/share"}
    assert desktop_entry.data_home(env) == tmp_path / ".local" / "share"


def test_exec_field_quotes_as_the_spec_says():
    assert desktop_entry._exec_field(["/opt/my app/desktop-bp"]) == '"/opt/my app/desktop-bp"'
    assert desktop_entry._exec_field(['/a"b$c%d']) == '"/a\\"b\\$c%%d"'


def test_version_and_help_from_the_console_script():
    done = subprocess.run(
        [sys.executable, "-m", "desktop_bp", "--version"], capture_output=True, text=True
    )
    assert done.returncode == 0 and done.stdout.strip() == f"desktop-bp {__version__}"
    done = subprocess.run(
        [sys.executable, "-m", "desktop_bp", "--help"], capture_output=True, text=True
    )
    assert done.returncode == 0
    for command in ("train", "gradcheck", "eval", "download", "--install-desktop-entry"):
        assert command in done.stdout


def test_a_command_with_the_entry_flag_is_refused(capsys):
    assert main(["--install-desktop-entry", "gradcheck"]) == 2
    assert capsys.readouterr().err.count("\n") == 1
