"""Start Desktop BP from a source checkout: ``python main.py``."""

import sys

from desktop_bp.gui.app import run_app

if __name__ == "__main__":
    sys.exit(run_app(sys.argv[1:]))
