"""Atomic file publication: a reader sees the old file or the new one, never half of one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterable

from ..errors import UsageError


def check_output_path(path: str | os.PathLike[str], *, overwrite: bool = False,
                      inputs: Iterable[Any] = ()) -> Path:
    """Check, before any work, that a file may be written at ``path``.

    Refused: a directory (or ``.``), a folder that does not exist or is not writable, a path
    that is one of ``inputs`` (e.g. the training data; never overwritten, even with
    ``overwrite``), and an existing file unless ``overwrite``.

    Raises
    ------
    UsageError
        Naming the path and what to do instead.
    """
    path = Path(path)
    if path.is_dir() or path.name in ("", ".", ".."):
        raise UsageError(f"output {str(path)!r} is a directory; give a file path such as "
                         f"{str(path / 'model.pt')!r}")
    folder = path.parent
    if not folder.is_dir():
        raise UsageError(f"cannot write {path}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"cannot write {path}: the folder {folder} is not writable")
    for item in inputs:
        if not isinstance(item, (str, os.PathLike)):
            continue
        item = Path(item)
        if item.resolve() == path.resolve() or (
                item.exists() and path.exists() and path.samefile(item)):
            raise UsageError(f"output {path} is also an input of this run; it is never "
                             "overwritten: choose another output path")
    if path.exists() and not overwrite:
        raise UsageError(f"{path} already exists; pass overwrite=True (--overwrite) to "
                         "replace it, or choose another path")
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
