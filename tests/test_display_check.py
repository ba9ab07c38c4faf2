"""The check before Qt starts: no display, a missing xcb library, an X server that is away."""

from __future__ import annotations

from desktop_bp import display_check


def test_no_check_off_linux_or_on_other_platforms():
    assert display_check.display_problem({}, platform="darwin") is None
    assert display_check.display_problem({}, platform="win32") is None
    assert display_check.display_problem({"QT_QPA_PLATFORM": "offscreen"}) is None
    assert display_check.display_problem({"WAYLAND_DISPLAY": "wayland-0"}) is None


def test_no_display():
    problem = display_check.display_problem({}, platform="linux")
    assert problem is not None and "DISPLAY is not set" in problem
    problem = display_check.display_problem({"QT_QPA_PLATFORM": "xcb"}, platform="linux")
    assert problem is not None and "DISPLAY" in problem


def test_missing_libraries_are_named_with_their_packages(monkeypatch, tmp_path):
    plugin = tmp_path / "libqxcb.so"
    plugin.write_bytes(b"")
    monkeypatch.setattr(display_check, "xcb_plugin", lambda: plugin)
    monkeypatch.setattr(
        display_check, "missing_libraries", lambda _: ["libxcb-keysyms.so.1", "libfoo.so.3"]
    )
    problem = display_check.display_problem({"DISPLAY": ":0"}, platform="linux")
    assert problem is not None
    assert "libxcb-keysyms.so.1, libfoo.so.3 are missing" in problem
    assert "sudo apt-get install libfoo.so.3 libxcb-keysyms1" in problem
    assert "tools/install-system-deps.sh" in problem


def test_import_error_of_a_system_library():
    error = ImportError("libEGL.so.1: cannot open shared object file: No such file or directory")
    advice = display_check.describe_import_error(error)
    assert advice is not None and "libEGL.so.1" in advice and "apt-get install libegl1" in advice
    assert display_check.describe_import_error(ImportError("No module named 'PySide6'")) is None


def test_the_package_table_matches_the_install_script():
    """Every package the error message may name is one the install script installs."""
    from pathlib import Path

    script = (Path(__file__).parents[1] / "tools" / "install-system-deps.sh").read_text()
    block = script.split('QT_PACKAGES="', 1)[1].split('"', 1)[0]
    installed = {name for entry in block.split() for name in entry.split("|")}
    # Pulled in by the script's packages rather than listed (libgl1 -> libglx0 -> libglvnd0).
    indirect = {
        "libglx0",
        "libglvnd0",
        "libopengl0",
        "libpng16-16",
        "zlib1g",
        "libxcb-xinput0",
        "libxcb-xinerama0",
    }
    assert set(display_check.SONAME_PACKAGES.values()) - indirect <= installed
