"""Writing files so that a reader sees the old file or the whole new one, never half.

Data goes to a temporary file in the same folder, is flushed to disk, and is renamed over
the target. An existing file is replaced only when the caller says so (``--force``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from costcalc.errors import CostcalcError, InputFileError, arg


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_MODE = 0o666 & ~_umask()
"""Files get the usual permissions (0644 under umask 022), not mkstemp's private 0600."""


def new_temp(directory: Path, prefix: str) -> tuple[int, Path]:
    """A new temporary file in ``directory``, named ``.<prefix>-*.tmp``, readable as a
    finished file would be."""
    fd, name = tempfile.mkstemp(prefix=f".{prefix}-", suffix=".tmp", dir=directory)
    os.fchmod(fd, _MODE)
    return fd, Path(name)


def stage(directory: Path, prefix: str, data: bytes) -> Path:
    """Write ``data`` to a new temporary file in ``directory`` (on disk) and return it."""
    fd, path = new_temp(directory, prefix)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    return path


def write_file(path: str | Path, data: bytes | str, force: bool = False) -> None:
    """Write ``path`` atomically; an existing file is replaced only with ``force``."""
    target = Path(path)
    if target.is_dir():
        raise InputFileError(target, "is a directory, expected a file to write")
    if target.exists() and not force:
        raise CostcalcError(f"{target} already exists (use {arg('force', True)} to replace it)")
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise InputFileError(folder, "no such folder")
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        tmp = stage(folder, target.name, payload)
    except PermissionError:
        raise InputFileError(folder, "folder is not writable") from None
    os.replace(tmp, target)
