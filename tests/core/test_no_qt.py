"""The engine must never pull in Qt: it runs headless in the CLI, benchmarks and CI."""

from __future__ import annotations

import json
import subprocess
import sys


def test_importing_core_loads_no_qt_or_pyqtgraph():
    code = (
        "import json, sys, pkgutil, importlib\n"
        "import desktop_bp.core as core\n"
        "for m in pkgutil.iter_modules(core.__path__):\n"
        "    importlib.import_module('desktop_bp.core.' + m.name)\n"
        "import desktop_bp.cli\n"
        "bad = [n for n in sys.modules if n.split('.')[0] in "
        "('PySide6', 'shiboken6', 'pyqtgraph', 'PyQt5', 'PyQt6')]\n"
        "print(json.dumps(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
