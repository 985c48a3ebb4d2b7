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
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import io
import json
import os
import re
import signal
import sqlite3
import typing
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

from costcalc.batch.formats import encode_line, line_format
from costcalc.batch.formats.anthropic import ANTHROPIC_ID  # a custom_id any format accepts
from costcalc.batch.rows import Row
from costcalc.batch.writer import PartWriter, RequestTooLarge, effective_limits
from costcalc.errors import (
    CostcalcError,
    CostcalcNote,
    EnvironmentFailure,
    InputFileError,
    RequestError,
    UsageError,
    path_argument,
)
from costcalc.jsonlines import JsonError, parse_json, read_lines
from costcalc.requests import input_request

if TYPE_CHECKING:
    from costcalc.prices import PriceTable

SCHEMA = """
CREATE TABLE IF NOT EXISTS costcalc_queue (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    custom_id TEXT UNIQUE,
    request TEXT NOT NULL,
    added_at TEXT NOT NULL,
    flush_id INTEGER REFERENCES flushes(id),
    flushed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS tasks_pending ON tasks(flush_id) WHERE flush_id IS NULL;
CREATE TABLE IF NOT EXISTS flushes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at TEXT NOT NULL,
    done_at TEXT,
    model TEXT NOT NULL,
    provider TEXT NOT NULL,
    out_dir TEXT NOT NULL,
    max_tokens INTEGER NOT NULL,
    system TEXT,
    tasks INTEGER NOT NULL,
    files TEXT,
    max_requests INTEGER,
    max_bytes INTEGER
);
"""
QUEUE_VERSION = 1
AUTO_ID = re.compile(r"task-\d+")
"""custom_id of a task added without one: ``task-<row id>``."""
FAULT_ENV = "COSTCALC_QUEUE_FAULT"
"""Test hook: kill this process with SIGKILL at the named step of a flush."""


def _fault(step: str) -> None:
    if os.environ.get(FAULT_ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


@contextlib.contextmanager
def database_errors(db: str | Path) -> Iterator[None]:
    """SQLite's failures as costcalc's: the machine's (a full disk, a read-only file or
    folder, an I/O error, a database locked too long) are an ``EnvironmentFailure`` naming the
    database; a file that is not a queue database is bad input."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        if _NOT_OUR_SCHEMA.match(str(exc)):  # a costcalc_queue table, but not our others
            raise InputFileError(db, f"is not a costcalc queue database ({exc})") from None
        raise EnvironmentFailure(db, str(exc)) from None
    except sqlite3.DatabaseError as exc:
        raise InputFileError(db, f"is not a costcalc queue database ({exc})") from None


_NOT_OUR_SCHEMA = re.compile(r"no such (table|column)|table \S+ has no column")
"""SQLite's words for a schema that is not the queue's (OperationalError, like a full disk)."""

F = TypeVar("F", bound=Callable[..., Any])


def _on_database(func: F) -> F:
    """``func(db, ...)`` with ``database_errors(db)``."""

    @functools.wraps(func)
    def wrapper(db: str | Path, *args: Any, **kwargs: Any) -> Any:
        with database_errors(db):
            return func(db, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def connect(db: str | Path, create: bool = True) -> sqlite3.Connection:
    """Open (or create) a queue database; anything else at that path is bad input."""
    path = Path(path_argument(db, "db", "queue_add" if create else "queue_status"))
    if path.is_dir():
        raise InputFileError(path, "is a directory, expected a queue database file")
    if not create and not path.exists():
        raise InputFileError(path, "no such queue database (add a task to create it)")
    if create and not path.parent.exists():
        raise InputFileError(path.parent, "no such folder for the queue database")
    if create and not path.parent.is_dir():
        raise InputFileError(path.parent, "is a file, expected a folder for the queue database")
    try:
        conn = sqlite3.connect(path, timeout=30, isolation_level=None)
        conn.execute("PRAGMA busy_timeout = 30000")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        # a commit is on disk when it returns: a task reported added stays added
        conn.execute("PRAGMA synchronous = FULL")
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.OperationalError as exc:
        raise EnvironmentFailure(path, str(exc)) from None
    except sqlite3.DatabaseError as exc:
        raise InputFileError(path, f"is not a costcalc queue database ({exc})") from None
    if tables and "costcalc_queue" not in tables:
        conn.close()
        raise InputFileError(path, "is an SQLite database, but not a costcalc queue")
    if mode.lower() != "wal":  # pragma: no cover - only on file systems without WAL support
        conn.execute("PRAGMA journal_mode = DELETE")
    conn.execute("PRAGMA foreign_keys = ON")
    if not tables:
        with _immediate(conn):
            # statement by statement: executescript would commit the transaction first
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            if conn.execute("SELECT COUNT(*) FROM costcalc_queue").fetchone()[0] == 0:
                conn.execute("INSERT INTO costcalc_queue VALUES (?)", (QUEUE_VERSION,))
    else:
        columns = {r[1] for r in conn.execute("PRAGMA table_info(flushes)")}
        if "max_requests" not in columns:  # a queue made before flushes kept their limits
            with _immediate(conn):
                conn.execute("ALTER TABLE flushes ADD COLUMN max_requests INTEGER")
                conn.execute("ALTER TABLE flushes ADD COLUMN max_bytes INTEGER")
    return conn


class _immediate:
    """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error): one writer at a time, waiting its turn."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, kind: Any, *_: Any) -> None:
        self.conn.execute("ROLLBACK" if kind else "COMMIT")


# --- adding -----------------------------------------------------------------------------------


def _request(item: Any, where: str) -> tuple[str | None, dict[str, Any]]:
    """(custom_id or None, request) from a prompt string or a JSON object; the request is
    accepted or refused as every command reads one (``costcalc.requests``) and kept as the
    prompt or messages it is sent as."""
    cid = None
    if isinstance(item, Mapping):
        cid = item.get("custom_id")
        if cid is not None and (not isinstance(cid, str) or not ANTHROPIC_ID.fullmatch(cid)):
            raise UsageError(f"{where}: custom_id must match ^[a-zA-Z0-9_-]{{1,64}}$, got {cid!r}")
        item = {k: v for k, v in item.items() if k != "custom_id"}
    try:
        sent = input_request(item)
    except RequestError as exc:
        raise UsageError(f"{where}: {exc}") from None
    request: dict[str, Any] = (
        {"prompt": sent.prompt} if sent.prompt is not None else {"messages": sent.messages}
    )
    if sent.system is not None:
        request["system"] = sent.system
    return cid, request


def parse_tasks(
    lines: Iterable[str | bytes] | IO[bytes], source: str = "stdin"
) -> Iterator[tuple[str | None, dict[str, Any]]]:
    """Tasks from JSONL: each line a JSON string (a prompt) or an object with ``prompt`` or
    ``messages`` (and optionally ``system`` and ``custom_id``). ``lines`` may be a binary
    stream (stdin's buffer): it is read a line at a time, each within the cap on one request
    (``costcalc.jsonlines.MAX_REQUEST_BYTES``)."""
    numbered: Iterable[tuple[int, str | bytes]]
    if isinstance(lines, (io.BufferedIOBase, io.RawIOBase)):
        numbered = read_lines(typing.cast("IO[bytes]", lines), source)
    else:
        numbered = enumerate(lines, start=1)
    for number, line in numbered:
        if not line.strip():
            continue
        try:
            item = parse_json(line)
        except JsonError as exc:
            raise UsageError(f"{source}:{number}: {exc.reason}") from None
        except UnicodeDecodeError:
            raise UsageError(f"{source}:{number}: is not valid UTF-8 text") from None
        yield _request(item, f"{source}:{number}")


def _task_items(tasks: object) -> list[tuple[str | None, dict[str, Any]]]:
    """``add``'s tasks as (custom_id, request): a prompt, a request object (as a JSONL line
    holds one), or a (custom_id, request) pair; a wrong type is a TypeError naming it."""
    if isinstance(tasks, (str, bytes)) or not isinstance(tasks, Iterable):
        # a str is one prompt, never a list of one-letter tasks
        raise TypeError(
            "queue_add: tasks must be a list of prompts or request objects, "
            f"got {type(tasks).__name__}"
        )
    items: list[tuple[str | None, dict[str, Any]]] = []
    for i, task in enumerate(tasks):
        if isinstance(task, str):
            items.append((None, {"prompt": task}))
        elif isinstance(task, Mapping):
            items.append(_request(task, f"task {i + 1}"))
        elif (
            isinstance(task, tuple)
            and len(task) == 2
            and isinstance(task[0], (str, type(None)))
            and isinstance(task[1], Mapping)
        ):
            items.append((task[0], dict(task[1])))
        else:
            raise TypeError(
                f"queue_add: tasks[{i}] must be a prompt (str), a request object (dict) or a "
                f"(custom_id, request) pair, got {type(task).__name__}"
            )
    return items


@_on_database
def add(
    db: str | Path,
    tasks: Iterable[tuple[str | None, dict[str, Any]] | str | Mapping[str, Any]],
) -> list[str]:
    """Add tasks in one transaction; returns their custom_ids (``task-<n>`` unless given)
    once the transaction is on disk.

    Adding is idempotent for a task with a ``custom_id``: one already in the queue (pending or
    flushed), or given twice, is not added again, with a ``CostcalcNote`` saying so, and its
    id is returned as for an added one; a producer that is not sure its add went through
    adds again."""
    items = _task_items(tasks)
    for i, (cid, request) in enumerate(items):
        _request({**request, **({"custom_id": cid} if cid else {})}, f"task {i + 1}")
        if cid is not None and AUTO_ID.fullmatch(cid):
            # the form given to tasks without one: taking it would collide with a later task
            raise UsageError(
                f"task {i + 1}: custom_id {cid!r} has the form costcalc gives tasks without "
                "one (task-<n>); choose another"
            )
    conn = connect(db)
    ids = []
    already: list[str] = []
    try:
        with _immediate(conn):
            for cid, request in items:
                cur = conn.execute(
                    "INSERT INTO tasks (custom_id, request, added_at) VALUES (?, ?, ?) "
                    "ON CONFLICT (custom_id) DO NOTHING",
                    (cid, json.dumps(request, ensure_ascii=False), _now()),
                )
                if cid is None:
                    cid = f"task-{cur.lastrowid}"
                    conn.execute(
                        "UPDATE tasks SET custom_id = ? WHERE id = ?", (cid, cur.lastrowid)
                    )
                elif cur.rowcount == 0:
                    already.append(cid)
                ids.append(cid)
    finally:
        conn.close()
    for cid in already:
        warnings.warn(
            f"custom_id {cid!r} is already in the queue; not added again",
            CostcalcNote,
            stacklevel=2,
        )
    return ids


# --- flushing ---------------------------------------------------------------------------------


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
    table = table or load_price_table()
    entry, fmt = model_line_format(table, model, None)
    provider = fmt.name  # kept in the flush's provider column, so a resumed flush writes it
    check_batch_options(entry, max_tokens, max_requests, max_bytes, MIN_BYTES)
    conn = connect(db, create=False)
    try:
        if conn.execute("SELECT 1 FROM tasks WHERE flush_id IS NULL LIMIT 1").fetchone():
            prepare_out_dir(Path(out_dir))  # a bad --out fails before any task is claimed
        lock = _flush_lock(Path(db))
    except BaseException:
        conn.close()
        raise
    results = []
    try:
        for flush_id in _open_flushes(conn):
            results.append(_finish(conn, flush_id, table, max_requests, max_bytes, resumed=True))
        new_id: int | None = None
        with _immediate(conn):
            pending = conn.execute("SELECT COUNT(*) FROM tasks WHERE flush_id IS NULL").fetchone()[
                0
            ]
            if pending:
                cur = conn.execute(
                    "INSERT INTO flushes (started_at, model, provider, out_dir, max_tokens, "
                    "system, tasks, max_requests, max_bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (_now(), entry.id, provider, str(Path(out_dir).resolve()), max_tokens,
                     system, pending, max_requests, max_bytes),
                )  # fmt: skip
                new_id = cur.lastrowid
                conn.execute("UPDATE tasks SET flush_id = ? WHERE flush_id IS NULL", (new_id,))
        _fault("claimed")
        if new_id is not None:
            results.append(_finish(conn, new_id, table, max_requests, max_bytes, resumed=False))
    finally:
        conn.close()
        lock.close()
    return results


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
        conn.execute("UPDATE tasks SET flush_id = NULL WHERE flush_id = ?", (flush_id,))
        conn.execute("DELETE FROM flushes WHERE id = ?", (flush_id,))


def _open_flushes(conn: sqlite3.Connection) -> list[int]:
    return [r[0] for r in conn.execute("SELECT id FROM flushes WHERE done_at IS NULL ORDER BY id")]


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
    model, provider, out_dir, max_tokens, system, claimed_requests, claimed_bytes = conn.execute(
        "SELECT model, provider, out_dir, max_tokens, system, max_requests, max_bytes "
        "FROM flushes WHERE id = ?",
        (flush_id,),
    ).fetchone()
    if resumed:  # a queue from before limits were kept falls back to this run's
        max_requests = claimed_requests if claimed_requests is not None else max_requests
        max_bytes = claimed_bytes if claimed_bytes is not None else max_bytes
    prov, entry = table.find(model)
    limit_requests, limit_bytes = effective_limits(prov.batch, max_requests, max_bytes)
    # the column holds the line format (queues from before formats were objects held the
    # provider id, which was the same name)
    fmt = line_format(provider)
    write = fmt.writer(model=model, max_tokens=max_tokens, system=system, reasoning=entry.reasoning)
    # the same flush always writes the same files: rewriting after a crash replaces them, and
    # temporary files a killed run left behind are removed (the flush lock is ours)
    stem = f"flush-{flush_id:06d}"
    writer = PartWriter(Path(out_dir), stem, limit_requests, limit_bytes, force=True)
    for stale in [*Path(out_dir).glob(f".{stem}-*.tmp"), *Path(out_dir).glob(f"{stem}-*.jsonl")]:
        stale.unlink(missing_ok=True)
    try:
        rows = conn.execute(
            "SELECT id, custom_id, request FROM tasks WHERE flush_id = ? ORDER BY id", (flush_id,)
        )
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
            except RequestTooLarge as exc:
                writer.abort()
                _unclaim(conn, flush_id)  # bad input: the tasks wait for a flush that can work
                raise CostcalcError(f"task {cid}: {exc}") from None
            if written == 1:
                _fault("writing")
        writer.commit()
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
        conn.execute("UPDATE tasks SET flushed = 1 WHERE flush_id = ?", (flush_id,))
    tasks = sum(f.requests for f in files)
    return FlushResult(flush=flush_id, tasks=tasks, files=files, resumed=resumed)


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
    conn = connect(db, create=False)
    try:
        pending = conn.execute("SELECT COUNT(*) FROM tasks WHERE flush_id IS NULL").fetchone()[0]
        flushed = conn.execute("SELECT COUNT(*) FROM tasks WHERE flushed = 1").fetchone()[0]
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
