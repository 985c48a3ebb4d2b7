"""Writing batch parts atomically, split to the provider's request and byte limits."""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from pydantic import BaseModel

from costcalc.atomic import (
    check_target,
    new_temp,
    not_regular,
    remove_stale_temps,
    replace,
    sigterm_raises,
    stage,
)
from costcalc.errors import CostcalcError, EnvironmentFailure, InputFileError, os_failure

# --- writing parts atomically ---------------------------------------------------------------


class PartInfo(BaseModel):
    file: str
    requests: int
    bytes: int
    sha256: str
    first_custom_id: str
    last_custom_id: str


class RequestTooLarge(CostcalcError):
    """One request line is larger than a whole batch file may be."""


IO_CHUNK = 1 << 20
"""Lines are handed to the I/O thread in chunks of about this many bytes."""
IO_IN_FLIGHT = 16
"""Most chunks waiting for the I/O thread (memory stays flat if the disk is slow)."""


class _OpenPart:
    """A part being written: its temporary file, running hash and counts.

    Writing and hashing run on one I/O thread, in order, on chunks of about 1 MiB (large
    buffers release the GIL), so they overlap with building the next lines.
    """

    def __init__(self, tmp: Path, handle: IO[bytes]) -> None:
        self.tmp = tmp
        self.handle = handle
        self.hash = hashlib.sha256()
        self.buffer = bytearray()
        self.requests = 0
        self.size = 0
        self.first = ""
        self.last = ""

    def write_chunk(self, chunk: bytes) -> None:
        self.handle.write(chunk)
        self.hash.update(chunk)

    def finish(self) -> None:
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.handle.close()

    def discard(self) -> None:
        with contextlib.suppress(OSError):  # closing flushes: it fails again on a full disk
            self.handle.close()
        self.tmp.unlink(missing_ok=True)


@dataclass
class PartWriter:
    """Writes lines into parts of at most ``max_requests`` lines and ``max_bytes`` bytes, as
    temporary files in ``out_dir``; ``commit`` renames them into place, ``abort`` removes them.

    From creation to ``commit`` or ``abort``, SIGTERM raises (``costcalc.atomic``), so the
    caller's ``except BaseException: writer.abort()`` runs; temporary files a killed run left
    for the same ``stem`` are removed on creation. A failing disk raises ``EnvironmentFailure``.
    """

    out_dir: Path
    stem: str
    max_requests: int | None
    max_bytes: int
    force: bool = False
    parts: list[PartInfo] = field(default_factory=list)
    _closed: list[_OpenPart] = field(default_factory=list)
    _current: _OpenPart | None = None
    _pending: deque[Future[None]] = field(default_factory=deque)
    _io: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(1))
    _signals: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    def __post_init__(self) -> None:
        self._created_dir = prepare_out_dir(self.out_dir)
        self._signals.enter_context(sigterm_raises())
        remove_stale_temps(self.out_dir, None)

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """An OSError while writing becomes the environment's failure (or bad input)."""
        try:
            yield
        except OSError as exc:
            raise os_failure(self.out_dir, exc, "cannot write") from None

    def name(self, index: int) -> str:
        return f"{self.stem}-{index:03d}.jsonl"

    def add(self, line: bytes, custom_id: str) -> None:
        with self._writing():
            self._add(line, custom_id)

    def _add(self, line: bytes, custom_id: str) -> None:
        size = len(line)
        part = self._current
        if (
            part is None
            or part.size + size > self.max_bytes
            or (self.max_requests is not None and part.requests >= self.max_requests)
        ):
            if size > self.max_bytes:
                raise RequestTooLarge(
                    f"one request is {size:,} bytes, over the {self.max_bytes:,}-byte limit "
                    "of a batch file"
                )
            self._close()
            part = self._open()
            part.first = custom_id
        part.buffer += line
        part.requests += 1
        part.size += size
        part.last = custom_id
        if len(part.buffer) >= IO_CHUNK:
            self._spill(part)

    def _submit(self, func: Any, *args: Any) -> None:
        self._pending.append(self._io.submit(func, *args))
        while len(self._pending) > IO_IN_FLIGHT:
            self._pending.popleft().result()

    def _spill(self, part: _OpenPart) -> None:
        if part.buffer:
            chunk = bytes(part.buffer)
            part.buffer.clear()
            self._submit(part.write_chunk, chunk)

    def _open(self) -> _OpenPart:
        fd, tmp = new_temp(self.out_dir, self.stem)
        self._current = _OpenPart(tmp, os.fdopen(fd, "wb"))
        return self._current

    def _close(self) -> None:
        part = self._current
        if part is None:
            return
        self._spill(part)
        self._submit(part.finish)
        self._closed.append(part)
        self._current = None

    def finish(self) -> list[PartInfo]:
        """Close the last part, wait for the I/O thread, and describe every part."""
        with self._writing():
            self._close()
            while self._pending:
                self._pending.popleft().result()
        for part in self._closed[len(self.parts) :]:
            self.parts.append(
                PartInfo(
                    file=self.name(len(self.parts) + 1),
                    requests=part.requests,
                    bytes=part.size,
                    sha256=part.hash.hexdigest(),
                    first_custom_id=part.first,
                    last_custom_id=part.last,
                )
            )
        return self.parts

    def commit(
        self, extra: Sequence[tuple[str, bytes]] = (), replaces: Sequence[Path] = ()
    ) -> None:
        """Put every part (and ``extra`` files, such as the manifest) in place, and remove the
        files of ``replaces`` (an earlier build's parts) that no new file takes the place of.

        The order keeps a folder consistent if the run is killed half-way: every part in it
        is listed by the manifest there. Old parts go first, then ``extra``, then the parts."""
        self.finish()
        self._io.shutdown()
        parts = [
            (self.out_dir / info.file, p.tmp)
            for p, info in zip(self._closed, self.parts, strict=True)
        ]
        staged: list[tuple[Path, Path]] = []
        try:
            with self._writing():
                for name, data in extra:
                    staged.append((self.out_dir / name, stage(self.out_dir, self.stem, data)))
                moves = staged + parts
                for final, _ in moves:
                    check_target(final, self.force)
                finals = {final for final, _ in moves}
                for old in replaces:
                    if old not in finals:
                        old.unlink(missing_ok=True)
                for final, tmp in moves:
                    replace(tmp, final)
        except BaseException:
            for _, tmp in staged + parts:  # those not yet in place
                tmp.unlink(missing_ok=True)
            raise
        finally:
            self._closed = []
        self._signals.close()

    def abort(self) -> None:
        """Remove every temporary file (after a failure)."""
        for future in self._pending:
            future.cancel()
        self._io.shutdown(wait=True)
        self._pending.clear()
        parts = [*self._closed, *([self._current] if self._current else [])]
        for part in parts:
            part.discard()
        self._closed = []
        self._current = None
        remove_stale_temps(self.out_dir, self.stem, own=True)
        if self._created_dir:  # a folder made for this build goes too, when nothing is in it
            with contextlib.suppress(OSError):
                self.out_dir.rmdir()
        self._signals.close()


def effective_limits(
    rule: Any, max_requests: int | None, max_bytes: int | None
) -> tuple[int | None, int]:
    """Requests and bytes per file: yours may be lower than the provider's, never higher."""
    given = [x for x in (max_requests, rule.max_requests) if x is not None]
    sizes = [x for x in (max_bytes, rule.max_bytes) if x is not None]
    # no documented size limit: a file the size of the largest any provider takes (2 GB)
    return (min(given) if given else None), (min(sizes) if sizes else 2_000_000_000)


def prepare_out_dir(out_dir: Path, create: bool = True) -> bool:
    """Create ``out_dir`` if needed (and say whether it was); a file in its place is bad input,
    a folder that may not be made or written the environment's failure. ``create=False``
    only checks what is there."""
    if os.path.lexists(out_dir) and not out_dir.is_dir():  # a symlink to a folder will do
        kind = "a dangling symlink" if not out_dir.exists() else not_regular(out_dir) or "a file"
        raise InputFileError(out_dir, f"is {kind}, expected a folder for the batch files")
    created = not out_dir.exists()
    if created and not create:
        return False
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise os_failure(out_dir, exc, "cannot create the folder") from None
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise EnvironmentFailure(out_dir, "folder is not writable")
    return created
