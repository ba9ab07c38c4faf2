"""Where the window keeps its settings (QSettings, organisation "DesktopBP", app "Desktop BP").

Settings are always an INI file: in the user's config folder by default, or in
``$DESKTOP_BP_SETTINGS_DIR`` when that is set (tests, benchmarks, screenshots: so they never
read or overwrite a user's real settings).
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings

ORGANIZATION = "DesktopBP"
APPLICATION = "Desktop BP"
SETTINGS_DIR_ENV = "DESKTOP_BP_SETTINGS_DIR"


def create_settings() -> QSettings:
    folder = os.environ.get(SETTINGS_DIR_ENV)
    if folder:
        path = Path(folder) / ORGANIZATION / f"{APPLICATION}.ini"
        return QSettings(str(path), QSettings.Format.IniFormat)
    return QSettings(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION
    )


def read_str_list(settings: QSettings, key: str) -> list[str]:
    """A string list setting (INI files store one-element lists as a plain string)."""
    value = settings.value(key, [])
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value else []
    return [str(item) for item in value]


def read_value(settings: QSettings, key: str, default, kind: type):
    """``settings.value`` converted to ``kind``, or ``default`` when missing or malformed."""
    value = settings.value(key, None)
    if value is None:
        return default
    try:
        if kind is bool:
            if isinstance(value, str):
                return value.strip().lower() in ("1", "true", "yes", "on")
            return bool(value)
        return kind(value)
    except (TypeError, ValueError):
        return default
