"""The window's frame: the main window, its menus and actions, status bar, message banner,
recent files, and what it remembers between sessions (QSettings)."""
