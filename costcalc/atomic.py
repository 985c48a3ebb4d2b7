"""Writing files so that a reader sees the old file or the whole new one, never half.

Data goes to a temporary file in the same folder, is flushed to disk, and is renamed over
the target. An existing file is replaced only when the caller says so (``--force``).

costcalc writes only regular files: a directory, FIFO, socket or device at the target is
refused, with or without ``force`` (replacing ``/dev/full`` with a report is never meant). A
symlink at the target is refused too, dangling or not: writing through it would put the file
wherever the link points, and replacing it would silently drop the link.

Temporary files are named ``.costcalc-<target>-<pid>-<random>.tmp``. They are removed on every
failure, and on SIGINT and SIGTERM while a write is under way (``sigterm_raises``). Those of a
run that was killed outright (SIGKILL, power loss) are removed by the next costcalc write into
the same folder (``remove_stale_temps``) once they are stale: the process that wrote
them is gone, or they are older than a day (a PID may be reused; on Windows, where a process's
liveness is not checked, age alone decides).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import stat
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from costcalc.errors import CostcalcError, InputFileError, arg, os_failure


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_MODE = 0o666 & ~_umask()
"""Files get the usual permissions (0644 under umask 022), not mkstemp's private 0600."""

TEMP_PREFIX = ".costcalc-"
STALE_AFTER_S = 24 * 3600
"""A temporary file this old is a leftover even if a process with its writer's PID runs."""
_LABEL_CHARS = 100
"""Characters of the target's name kept in a temporary name (file names stop at 255 bytes)."""

# --- what is at a path ------------------------------------------------------------------------

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISLNK, "a symlink"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def not_regular(path: Path) -> str | None:
    """What is at ``path`` if it is not a regular file (``"a FIFO"``), else None (also when
    nothing is there). The path itself is looked at, not what a symlink points to."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return None
    except OSError as exc:
        reason = (exc.strerror or str(exc)).lower()
        raise InputFileError(path, f"cannot look at it: {reason}") from None
    if stat.S_ISREG(mode):
        return None
    return next((kind for test, kind in _KINDS if test(mode)), "not a regular file")


def check_target(path: Path, force: bool) -> None:
    """Refuse to write ``path`` unless nothing is there, or a regular file and ``force``."""
    if kind := not_regular(path):
        raise InputFileError(
            path, f"is {kind}, not a regular file; costcalc writes only regular files"
        )
    if not force and os.path.lexists(path):
        raise CostcalcError(f"{path} already exists (use {arg('force', True)} to replace it)")


def input_at(out: str | os.PathLike[str], inputs: Iterable[object]) -> str | None:
    """The first of ``inputs`` (paths; anything else is skipped) that is the file ``out``
    would write, else None: writing there would replace what is being read (``audit in.json
    --write-config in.json --force``). Same file, not same spelling: links and ``./`` count."""
    if not os.path.exists(out):
        return None
    for given in inputs:
        if not isinstance(given, (str, os.PathLike)) or not os.fspath(given):
            continue
        with contextlib.suppress(OSError, ValueError):  # REF:PATH, or nothing there
            if os.path.samefile(given, out):
                return os.fspath(given)
    return None


# --- temporary files --------------------------------------------------------------------------


def _label(name: str) -> str:
    return name[:_LABEL_CHARS]


def new_temp(directory: Path, name: str) -> tuple[int, Path]:
    """A new temporary file in ``directory`` for the target ``name``, named
    ``.costcalc-<name>-<pid>-<random>.tmp``, readable as a finished file would be."""
    import tempfile  # here, not at start-up: commands that write nothing do not pay for it

    fd, temp = tempfile.mkstemp(
        prefix=f"{TEMP_PREFIX}{_label(name)}-{os.getpid()}-", suffix=".tmp", dir=directory
    )
    try:
        if hasattr(os, "fchmod"):  # not on Windows before Python 3.13
            os.fchmod(fd, _MODE)
        else:  # pragma: no cover - Windows
            os.chmod(temp, _MODE)
    except BaseException:
        os.close(fd)
        os.unlink(temp)
        raise
    return fd, Path(temp)


def replace(temp: Path, target: Path) -> None:
    """Move the finished ``temp`` onto ``target``; a file replaced keeps its permissions (a
    report kept private with 0600 stays so), a new one has the usual ones (``new_temp``)."""
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        pass
    else:
        os.chmod(temp, mode)
    os.replace(temp, target)


def stage(directory: Path, name: str, data: bytes) -> Path:
    """Write ``data`` to a new temporary file in ``directory`` (on disk) and return it; on any
    failure the temporary file is removed."""
    fd, path = new_temp(directory, name)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if pid <= 0 or sys.platform == "win32":  # Windows' os.kill would end the process
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process (EPERM): it runs
        return True
    return True


def remove_stale_temps(directory: Path, name: str | None, *, own: bool = False) -> list[Path]:
    """Remove the temporary files a killed run left for the target ``name`` in ``directory``
    (None: for any target, so a build of another input clears them too; see the module's
    docstring for when one is stale) and return them; ``own``: this process's instead (after
    a failure: a signal between creating a file and keeping its name leaves one that no list
    holds)."""
    # the random part has no "-": the pid is the last number between two
    label = ".+" if name is None else re.escape(_label(name))
    pattern = re.compile(rf"{re.escape(TEMP_PREFIX)}{label}-(\d+)-[a-z0-9_]+\.tmp")
    removed = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return []
    now = time.time()
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if not match:
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        old = now - info.st_mtime > STALE_AFTER_S
        pid = int(match[1])
        gone = pid == os.getpid() if own else old or not _running(pid)
        if stat.S_ISREG(info.st_mode) and gone:
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


# --- signals ----------------------------------------------------------------------------------


class Terminated(SystemExit):
    """SIGTERM arrived while costcalc was writing: raised so that the code removing temporary
    files runs; uncaught, the process exits 143 (128 + SIGTERM), as a shell reports it."""

    def __init__(self, signum: int) -> None:
        super().__init__(128 + signum)


def _raise_terminated(signum: int, _frame: Any) -> None:
    raise Terminated(signum)


@contextlib.contextmanager
def sigterm_raises() -> Iterator[None]:
    """While inside, SIGTERM raises ``Terminated`` in the main thread (SIGINT already raises
    KeyboardInterrupt), so ``except``/``finally`` clauses remove temporary files.

    Only a default SIGTERM is changed: a program that set its own handler, or ignores the
    signal, keeps it; nested uses leave the outer one in place."""
    installed = False
    if (
        threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    ):
        signal.signal(signal.SIGTERM, _raise_terminated)
        installed = True
    try:
        yield
    finally:
        if installed:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)


# --- writing one file -------------------------------------------------------------------------


def write_file(path: str | Path, data: bytes | str, force: bool = False) -> None:
    """Write ``path`` atomically; an existing regular file is replaced only with ``force``.

    Anything else at ``path`` (a directory, FIFO, socket, device, or a symlink, even with
    ``force``) is refused with a ``CostcalcError``; a failure of the machine (disk full or
    read-only, no permission) raises ``EnvironmentFailure``. Either way the target is
    untouched and no temporary file is left."""
    if str(path).endswith(("/", os.sep)):  # Path() would drop the slash, naming the file
        raise InputFileError(path, "names a folder (it ends in a slash), expected a file")
    target = Path(path)
    check_target(target, force)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise InputFileError(folder, "no such folder")
    payload = data.encode("utf-8") if isinstance(data, str) else data
    with sigterm_raises():
        remove_stale_temps(folder, None)
        tmp: Path | None = None
        try:
            tmp = stage(folder, target.name, payload)
            check_target(target, force)  # again: something may have appeared meanwhile
            replace(tmp, target)
        except BaseException as exc:
            if tmp is not None:
                tmp.unlink(missing_ok=True)
            else:  # stopped between creating it and knowing its name
                remove_stale_temps(folder, target.name, own=True)
            if isinstance(exc, OSError):
                raise os_failure(target, exc, "cannot write") from None
            raise
