"""``python -m desktop_bp`` and the ``desktop-bp`` console script.

No arguments open the window; a sub-command (train, gradcheck, eval, download) runs headless.
See :mod:`desktop_bp.cli`.
"""

from __future__ import annotations

import sys

from desktop_bp.cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
