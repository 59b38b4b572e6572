"""Atomic file publication: a reader sees the old file or the new one, never half of one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, BinaryIO, Callable

from ..errors import UsageError


def check_output_path(path: str | os.PathLike[str]) -> Path:
    """Refuse an output path that cannot be written, before any work is done.

    Raises
    ------
    sciml.errors.UsageError
        ``path`` is a directory (e.g. ``.``), its folder does not exist, or the folder is
        not writable.
    """
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"--out {str(path)!r} is a directory; give a file path such as "
                         f"{str(path / 'data.h5')!r}")
    folder = path.parent
    if not folder.is_dir():
        raise UsageError(f"--out {str(path)!r}: the folder {str(folder)!r} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"--out {str(path)!r}: the folder {str(folder)!r} is not writable")
    return path


def atomic_write(path: str | os.PathLike[str], write: Callable[[BinaryIO], Any]) -> Path:
    """Call ``write`` on a temporary file beside ``path``, sync it, rename it to ``path``.

    A job killed at any moment leaves no partial file under ``path`` (and no temporary file
    when it fails with an exception).
    """
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return path
