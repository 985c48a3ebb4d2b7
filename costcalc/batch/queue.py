"""A SQLite queue that gathers small tasks into one batch file a day.

``add`` appends tasks; ``flush`` writes every pending task into batch file(s). A flush is
crash-safe in three steps, each its own transaction or idempotent:

1. claim: a flush row is created and every pending task is assigned to it (one transaction);
2. write: the flush's files are written from its tasks, in task order, atomically (temporary
   files renamed into place): the same tasks always give the same bytes;
3. record: the files (names, counts, sha256) are recorded, the flush marked done and its
   tasks marked flushed, in one transaction.

A crash before 1 leaves the tasks pending; a crash between 1 and 3 leaves an open flush that
the next ``flush`` finishes first (rewriting the same files), so no task is lost or written
twice. Tasks added meanwhile wait for the next flush. WAL mode and a busy timeout let several
processes add at once.

Files are named ``flush-<queue id>-<flush>-<part>.jsonl`` (the id is made with the database),
so queues may share a folder. A flush replaces no file it did not write: anything at one of
its names is refused, except its own files when it finishes an interrupted run. An open flush
is finished in the folder it was begun in, or moved to this run's folder when none of its
files is there yet. --db must be a regular file (a symlink to one is followed), or nothing.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from costcalc.atomic import not_regular, remove_stale_temps
from costcalc.batch.formats import encode_line, line_format
from costcalc.batch.rows import Row
from costcalc.batch.writer import PartWriter, RequestTooLarge, effective_limits
from costcalc.errors import (
    CostcalcError,
    CostcalcNote,
    InputFileError,
    RequestError,
    UsageError,
    arg,
    path_argument,
    require_count,
    require_type,
)
from costcalc.requests import input_request

if TYPE_CHECKING:
    from costcalc.prices import PriceTable

from costcalc.batch.queueadd import add as add  # the queue's API in one place
from costcalc.batch.queueadd import add_in_transactions as add_in_transactions
from costcalc.batch.queueadd import parse_tasks as parse_tasks
from costcalc.batch.queuedb import (
    UNFLUSHED_FROM,
    _fault,
    _immediate,
    _now,
    _on_database,
    connect,
)

# --- flushing ---------------------------------------------------------------------------------

# Every query of the tasks reads them from ``costcalc_queue.unflushed_from`` on, by row id:
# every task below that mark is flushed (``queuedb.UNFLUSHED_FROM`` moves it when a flush is
# recorded), so a flush or status costs the same whatever the history, and adding a task
# maintains no index beyond its custom_id's (tests/test_queue_stream.py checks the plans).
_UNFLUSHED = "id >= (SELECT unflushed_from FROM costcalc_queue)"
ANY_UNFLUSHED = f"SELECT 1 FROM tasks WHERE {_UNFLUSHED} AND flushed = 0 LIMIT 1"
ANY_PENDING = f"SELECT 1 FROM tasks WHERE {_UNFLUSHED} AND flush_id IS NULL LIMIT 1"
COUNT_PENDING = f"SELECT COUNT(*) FROM tasks WHERE {_UNFLUSHED} AND flush_id IS NULL"
CLAIM_PENDING = f"UPDATE tasks SET flush_id = ? WHERE {_UNFLUSHED} AND flush_id IS NULL"
UNCLAIM = f"UPDATE tasks SET flush_id = NULL WHERE {_UNFLUSHED} AND flushed = 0 AND flush_id = ?"
TASKS_OF_FLUSH = (
    f"SELECT id, custom_id, request FROM tasks WHERE {_UNFLUSHED} AND flush_id = ? ORDER BY id"
)
RECORD_FLUSHED = f"UPDATE tasks SET flushed = 1 WHERE {_UNFLUSHED} AND flush_id = ?"
COUNT_FLUSHED = "SELECT COALESCE(SUM(tasks), 0) FROM flushes WHERE done_at IS NOT NULL"
"""A done flush's ``tasks`` is the number of tasks it marked flushed (claimed together)."""
OPEN_FLUSHES = "SELECT id FROM flushes WHERE done_at IS NULL ORDER BY id"


class FlushedFile(BaseModel):
    file: str
    requests: int
    bytes: int
    sha256: str


class FlushResult(BaseModel):
    flush: int
    tasks: int
    files: list[FlushedFile]
    resumed: bool
    """True when this finished a flush that an earlier run left open (a crash)."""


@_on_database
def flush(
    db: str | Path,
    out_dir: str | Path,
    model: str,
    *,
    max_tokens: int = 1024,
    system: str | None = None,
    max_requests: int | None = None,
    max_bytes: int | None = None,
    table: PriceTable | None = None,
) -> list[FlushResult]:
    """Finish any flush left open by a crash, then flush every pending task."""
    from costcalc.batch.build import check_batch_options, model_line_format
    from costcalc.batch.writer import prepare_out_dir
    from costcalc.prices import load_price_table

    db = path_argument(db, "db", "queue_flush")
    out_dir = path_argument(out_dir, "out_dir", "queue_flush")
    require_type(model, str, "model", "queue_flush", "a model name (str)")
    require_type(system, (str, type(None)), "system", "queue_flush", "a str or None")
    table = table or load_price_table()
    entry, fmt = model_line_format(table, model, None)
    provider = fmt.name  # kept in the flush's provider column, so a resumed flush writes it
    check_batch_options(entry, max_tokens, max_requests, max_bytes, MIN_BYTES, "queue_flush")
    # a model the format writes no lines for (Claude on Vertex AI) is refused before any task
    # is claimed: a flush that fails there stayed open, and every later flush resumed it
    fmt.writer(model=entry.id, max_tokens=max_tokens, system=system, reasoning=entry.reasoning)
    conn = connect(db, create=False)
    try:
        if conn.execute(ANY_UNFLUSHED).fetchone():
            prepare_out_dir(Path(out_dir), create=False)  # a bad --out fails first
        lock = _flush_lock(Path(db))
    except BaseException:
        conn.close()
        raise
    results = []
    try:
        open_ids = _open_flushes(conn)
        for flush_id in open_ids:  # one left open by a failed run: here, or where it was begun
            _move_open_flush(conn, flush_id, Path(out_dir))
        if open_ids or conn.execute(ANY_PENDING).fetchone():
            prepare_out_dir(Path(out_dir))  # a bad --out fails before any task is claimed
        for flush_id in open_ids:
            _say_as_begun(conn, flush_id, table.name_of(model), max_tokens, system)
            results.append(_finish(conn, flush_id, table, max_requests, max_bytes, resumed=True))
        new_id: int | None = None
        with _immediate(conn):
            (pending,) = conn.execute(COUNT_PENDING).fetchone()
            if pending:
                cur = conn.execute(
                    "INSERT INTO flushes (started_at, model, provider, out_dir, max_tokens, "
                    "system, tasks, max_requests, max_bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (_now(), table.name_of(model), provider, str(Path(out_dir).resolve()),
                     max_tokens, system, pending, max_requests, max_bytes),
                )  # fmt: skip
                new_id = cur.lastrowid
                assert new_id is not None
                conn.execute(
                    "UPDATE flushes SET stem = ? WHERE id = ?", (_new_stem(conn, new_id), new_id)
                )
                conn.execute(CLAIM_PENDING, (new_id,))
        _fault("claimed")
        if new_id is not None:
            results.append(_finish(conn, new_id, table, max_requests, max_bytes, resumed=False))
    finally:
        conn.close()
        lock.close()
    return results


def _say_as_begun(
    conn: sqlite3.Connection, flush_id: int, model: str, max_tokens: int, system: str | None
) -> None:
    """A flush left open is finished as it was begun (its tasks were claimed for it): a note
    says so when this run asks for another model, max_tokens or system, which only the tasks
    still pending get."""
    begun = conn.execute(
        "SELECT model, max_tokens, system FROM flushes WHERE id = ?", (flush_id,)
    ).fetchone()
    asked = (model, max_tokens, system)
    if tuple(begun) != asked:
        names = ("model", "max_tokens", "system")
        was = ", ".join(f"{n} {v!r}" for n, v, a in zip(names, begun, asked, strict=True) if v != a)
        warnings.warn(
            f"an interrupted flush is finished as it was begun ({was}); this run's settings "
            "apply to the tasks still pending",
            CostcalcNote,
            stacklevel=4,
        )


def _flush_lock(db: Path) -> Any:
    """One flush at a time per queue (the lock goes with the process, even on SIGKILL)."""
    handle = open(f"{db}.flush-lock", "a+b")  # noqa: SIM115 - held until the flush ends
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock
        return handle
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise UsageError(f"{db}: another costcalc queue flush is running") from None
    return handle


MIN_BYTES = 1024
"""Smallest --max-bytes: a batch line is hundreds of bytes; less is a typo."""


def _unclaim(conn: sqlite3.Connection, flush_id: int) -> None:
    """Give a flush's tasks back to the queue (its files were removed or never written)."""
    with _immediate(conn):
        conn.execute(UNCLAIM, (flush_id,))
        conn.execute("DELETE FROM flushes WHERE id = ?", (flush_id,))


def _open_flushes(conn: sqlite3.Connection) -> list[int]:
    return [r[0] for r in conn.execute(OPEN_FLUSHES)]


def _new_stem(conn: sqlite3.Connection, flush_id: int) -> str:
    """``flush-<queue id>-<flush>``: two queues may flush into one folder."""
    (queue_id,) = conn.execute("SELECT queue_id FROM costcalc_queue").fetchone() or (None,)
    return f"flush-{queue_id}-{flush_id:06d}" if queue_id else _old_stem(flush_id)


def _old_stem(flush_id: int) -> str:
    """The name of a flush begun by a costcalc that did not keep one (no queue id)."""
    return f"flush-{flush_id:06d}"


def _part_names(stem: str) -> re.Pattern[str]:
    """The names of a flush's files (``PartWriter.name``)."""
    return re.compile(rf"{re.escape(stem)}-\d{{3,}}\.jsonl")


def _files_of(folder: Path, stem: str) -> list[Path] | None:
    """What is in ``folder`` at a name of the flush ``stem`` (of any kind); None when the
    folder cannot be read (it cannot be told)."""
    names = _part_names(stem)
    try:
        with os.scandir(folder) as entries:
            return sorted(folder / e.name for e in entries if names.fullmatch(e.name))
    except (FileNotFoundError, NotADirectoryError):
        return []
    except OSError:
        return None


def _move_open_flush(conn: sqlite3.Connection, flush_id: int, out_dir: Path) -> None:
    """A flush left open (a crash, a full disk) is finished in the folder it was begun in.
    It moves to ``out_dir`` when none of its files is in that folder (it failed before any
    was put in place): its files are made from its tasks alone, so nothing is lost, and none
    can have been taken from the old folder yet. Otherwise it must be finished there."""
    row = conn.execute("SELECT out_dir, stem FROM flushes WHERE id = ?", (flush_id,))
    old, stem = row.fetchone()
    new = str(out_dir.resolve())
    if new == old:
        return
    stem = stem or _old_stem(flush_id)
    there = _files_of(Path(old), stem)
    if there != []:
        what = f"{len(there)} of its files are there" if there else "that folder cannot be read"
        raise CostcalcError(
            f"flush {flush_id} was begun in {old} and {what}: it must be finished there "
            f"(flush with {arg('out_dir', old)}); new tasks then go to the folder you choose"
        )
    remove_stale_temps(Path(old), stem)  # a killed run's temporary files
    with _immediate(conn):
        conn.execute("UPDATE flushes SET out_dir = ? WHERE id = ?", (new, flush_id))


def _finish(
    conn: sqlite3.Connection,
    flush_id: int,
    table: PriceTable,
    max_requests: int | None,
    max_bytes: int | None,
    resumed: bool,
) -> FlushResult:
    """Write the files of a claimed flush (idempotently) and record them with its tasks.

    A flush is split by the limits it was claimed with (a resumed run's flags do not change
    its files), and any part a killed run already put in place is replaced or removed, so
    every task is in the folder once."""
    model, provider, out_dir, max_tokens, system, claimed_requests, claimed_bytes, stem = (
        conn.execute(
            "SELECT model, provider, out_dir, max_tokens, system, max_requests, max_bytes, stem "
            "FROM flushes WHERE id = ?",
            (flush_id,),
        ).fetchone()
    )
    if resumed:  # a queue from before limits were kept falls back to this run's
        max_requests = claimed_requests if claimed_requests is not None else max_requests
        max_bytes = claimed_bytes if claimed_bytes is not None else max_bytes
    prov, entry = table.find(model)
    limit_requests, limit_bytes = effective_limits(prov.batch, max_requests, max_bytes)
    # the column holds the line format (queues from before formats were objects held the
    # provider id, which was the same name)
    fmt = line_format(provider)
    # the column names the seller too (google-vertex:gemini-2.5-flash); lines, the model
    write = fmt.writer(
        model=entry.id, max_tokens=max_tokens, system=system, reasoning=entry.reasoning
    )
    stem = stem or _old_stem(flush_id)
    _clear_names(conn, flush_id, Path(out_dir), stem, resumed)
    # temporary files a killed run left behind are removed (the flush lock is ours)
    writer = PartWriter(Path(out_dir), stem, limit_requests, limit_bytes, force=resumed)
    for stale in Path(out_dir).glob(f".{stem}-*.tmp"):  # as costcalc 0.x named them
        stale.unlink(missing_ok=True)
    try:
        rows = conn.execute(TASKS_OF_FLUSH, (flush_id,))
        for written, (task_id, cid, text) in enumerate(rows, start=1):
            try:
                sent = input_request(json.loads(text))  # as _request kept it
            except RequestError as exc:  # a task kept by an older costcalc, now refused
                writer.abort()
                _unclaim(conn, flush_id)
                raise CostcalcError(f"task {cid}: {exc}") from None
            row = Row(task_id, sent.messages, sent.system)
            # a format may take fewer ids than the queue does (vertex: lower case only)
            if bad_id := fmt.custom_id_problems(cid, f"task {cid}"):
                writer.abort()
                _unclaim(conn, flush_id)  # the tasks wait for a flush in another format
                raise CostcalcError(bad_id[0])
            try:
                writer.add(encode_line(write(cid, row)), cid)
            except RequestError as exc:  # what the format's provider would refuse
                writer.abort()
                _unclaim(conn, flush_id)  # the tasks wait for a flush in another format
                raise CostcalcError(f"task {cid}: {exc}") from None
            except RequestTooLarge as exc:
                writer.abort()
                _unclaim(conn, flush_id)  # bad input: the tasks wait for a flush that can work
                raise CostcalcError(f"task {cid}: {exc}") from None
            if written == 1:
                _fault("writing")
        try:
            writer.commit()
        except CostcalcError:  # a file appeared at one of its names while it was written
            if not resumed:
                _unclaim(conn, flush_id)
            raise CostcalcError(
                f"{out_dir}: a file appeared at a name of flush {flush_id} while it was "
                "written; a flush replaces only its own files (nothing was flushed)"
            ) from None
    except BaseException:
        writer.abort()
        raise
    _fault("written")
    files = [
        FlushedFile(
            file=str(Path(out_dir) / p.file), requests=p.requests, bytes=p.bytes, sha256=p.sha256
        )
        for p in writer.parts
    ]
    with _immediate(conn):
        conn.execute(
            "UPDATE flushes SET done_at = ?, files = ? WHERE id = ?",
            (_now(), json.dumps([f.model_dump() for f in files]), flush_id),
        )
        conn.execute(RECORD_FLUSHED, (flush_id,))
        conn.execute(UNFLUSHED_FROM)
    tasks = sum(f.requests for f in files)
    return FlushResult(flush=flush_id, tasks=tasks, files=files, resumed=resumed)


def _clear_names(
    conn: sqlite3.Connection, flush_id: int, out_dir: Path, stem: str, resumed: bool
) -> None:
    """Make way for a flush's files. A flush replaces only files it wrote: those of an
    interrupted run of itself (regular files at its names, removed here so that a split
    that changed leaves no part behind). Anything else at one of its names (a FIFO, a
    symlink, a device, a file of a new flush's name) is refused naming it, and a new
    flush's tasks go back to the queue."""
    for path in _files_of(out_dir, stem) or []:
        kind = not_regular(path)
        if kind is None and resumed:
            path.unlink(missing_ok=True)
            continue
        if not resumed:
            _unclaim(conn, flush_id)
        what = f"is {kind}, not a regular file" if kind else "already exists"
        raise InputFileError(
            path,
            f"{what}; a flush writes its files only where nothing is, or replaces those "
            "it wrote itself: move it away (nothing was flushed)",
        )


# --- status -------------------------------------------------------------------------------------


class FlushInfo(BaseModel):
    flush: int
    started_at: str
    done_at: str | None
    model: str
    tasks: int
    files: list[FlushedFile]


class QueueStatus(BaseModel):
    db: str
    pending: int
    flushed: int
    open_flushes: list[int]
    """Flushes a crash left unfinished: the next flush finishes them."""
    flushes: list[FlushInfo]


@_on_database
def status(db: str | Path, last: int = 10) -> QueueStatus:
    require_count(last, "last", "queue_status", minimum=0)
    conn = connect(db, create=False)
    try:
        (pending,) = conn.execute(COUNT_PENDING).fetchone()
        (flushed,) = conn.execute(COUNT_FLUSHED).fetchone()
        rows = conn.execute(
            "SELECT id, started_at, done_at, model, tasks, files FROM flushes "
            "ORDER BY id DESC LIMIT ?",
            (last,),
        ).fetchall()
        open_ids = _open_flushes(conn)
    finally:
        conn.close()
    return QueueStatus(
        db=str(db),
        pending=pending,
        flushed=flushed,
        open_flushes=open_ids,
        flushes=[
            FlushInfo(
                flush=r[0],
                started_at=r[1],
                done_at=r[2],
                model=r[3],
                tasks=r[4],
                files=[FlushedFile(**f) for f in json.loads(r[5] or "[]")],
            )
            for r in rows
        ],
    )
