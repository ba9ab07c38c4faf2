"""Write a file so that a reader sees the old one or the whole new one, never half of it."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path


def write_atomically(path: str | os.PathLike[str], data: bytes) -> None:
    """``data`` to ``path`` through a temporary file in the same folder, flushed to disk, then
    renamed over ``path`` (and the rename made durable). On any failure the temporary file is
    removed, ``path`` is left as it was, and the exception propagates (OSError for the disk's
    own refusals)."""
    path = Path(path)
    temp = path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp"
    try:
        # O_EXCL: never clobber a file we did not create. Mode 0o666 lets the umask decide the
        # final permissions, as for any ordinary file (mkstemp would force 0o600).
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink(missing_ok=True)
        raise
    fsync_folder(path.parent)


def fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
