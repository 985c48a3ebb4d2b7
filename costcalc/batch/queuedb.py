"""The queue's SQLite database: its schema and upgrades, opening it (a regular file or
nothing), transactions, and SQLite's failures as costcalc's errors (``costcalc.batch.queue``
holds what the queue does with it)."""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import functools
import os
import re
import signal
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from costcalc.atomic import not_regular
from costcalc.errors import (
    EnvironmentFailure,
    InputFileError,
    os_failure,
    path_argument,
)

if TYPE_CHECKING:
    pass

SCHEMA = """
CREATE TABLE IF NOT EXISTS costcalc_queue (
    version INTEGER NOT NULL, queue_id TEXT, unflushed_from INTEGER
);
CREATE TABLE IF NOT EXISTS tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    custom_id TEXT UNIQUE,
    request TEXT NOT NULL,
    added_at TEXT NOT NULL,
    flush_id INTEGER REFERENCES flushes(id),
    flushed INTEGER NOT NULL DEFAULT 0
);
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
    max_bytes INTEGER,
    stem TEXT
);
CREATE INDEX IF NOT EXISTS flushes_open ON flushes(id) WHERE done_at IS NULL;
"""
QUEUE_VERSION = 2
"""1: the first queue; 2: ``unflushed_from`` and the index of the open flushes."""
INDEXES = {"flushes_open": "CREATE INDEX flushes_open ON flushes(id) WHERE done_at IS NULL"}
OLD_INDEXES = ("tasks_pending",)
"""Indexes of older queues, dropped: each add paid for it, and ``unflushed_from`` does its job."""
UNFLUSHED_FROM = (
    "UPDATE costcalc_queue SET unflushed_from = COALESCE("
    "(SELECT id FROM tasks WHERE id >= COALESCE(unflushed_from, 0) AND flushed = 0 "
    "ORDER BY id LIMIT 1), (SELECT COALESCE(MAX(id), 0) + 1 FROM tasks))"
)
"""Move ``costcalc_queue.unflushed_from`` up to the first task not flushed (every task below
it is flushed): the queries of flush and status read the tasks from there on, by row id, so
their time depends on the tasks not flushed, not on the history. Run when a flush is
recorded, reading only from the old mark on; a queue from before it reads all once."""
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
        raise EnvironmentFailure(db, _why(db, str(exc))) from None
    except sqlite3.DatabaseError as exc:
        raise InputFileError(db, f"is not a costcalc queue database ({exc})") from None


def _why(db: str | Path, said: str) -> str:
    """SQLite's words, with the reason when they are only "unable to open database file":
    the database, or its folder (which holds its journal), that this user may not use."""
    if said != "unable to open database file":
        return said
    path = Path(db)
    folder = path.parent
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        return f"{said}: permission denied (this user may not read and write it)"
    if folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK):
        return f"{said}: permission denied (this user may not write in its folder {folder})"
    return said


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
    if create and not path.parent.exists():
        raise InputFileError(path.parent, "no such folder for the queue database")
    if create and not path.parent.is_dir():
        raise InputFileError(path.parent, "is a file, expected a folder for the queue database")
    for name in (path, *(Path(f"{path}{suffix}") for suffix in SQLITE_FILES)):
        regular_or_nothing(name, "a queue database file")
    if not create and not path.exists():
        raise InputFileError(path, "no such queue database (add a task to create it)")
    created = not os.path.lexists(path)
    try:
        return _open(path)
    except BaseException:
        # a first add that failed (a full disk) leaves no empty database behind; one with
        # content is another process's, made meanwhile
        with contextlib.suppress(OSError):
            if created and path.stat().st_size == 0:
                for name in (path, *(Path(f"{path}{suffix}") for suffix in SQLITE_FILES[:2])):
                    name.unlink(missing_ok=True)
        raise


def _open(path: Path) -> sqlite3.Connection:
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
                conn.execute(
                    "INSERT INTO costcalc_queue (version, queue_id, unflushed_from) "
                    "VALUES (?, ?, 0)",
                    (QUEUE_VERSION, _queue_id()),
                )
    elif _missing_columns(conn) or _index_changes(conn):
        _upgrade(conn)
    return conn


ADDED_COLUMNS = (
    ("flushes", "max_requests", "INTEGER"),  # flushes keep their limits
    ("flushes", "max_bytes", "INTEGER"),
    ("flushes", "stem", "TEXT"),  # files named after the queue
    ("costcalc_queue", "queue_id", "TEXT"),
    ("costcalc_queue", "unflushed_from", "INTEGER"),  # flush and status skip the history
)
"""Columns a queue made by an older costcalc lacks: added when it is opened."""


def _missing_columns(conn: sqlite3.Connection) -> list[tuple[str, str, str]]:
    have: dict[str, set[str]] = {}
    for table, _, _ in ADDED_COLUMNS:
        if table not in have:
            have[table] = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
    return [c for c in ADDED_COLUMNS if c[1] not in have[c[0]]]


def _index_changes(conn: sqlite3.Connection) -> tuple[list[str], list[str]] | None:
    """(indexes to make, indexes to drop), or None when the queue has the indexes it needs."""
    have = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    make = [name for name in INDEXES if name not in have]
    drop = [name for name in OLD_INDEXES if name in have]
    return (make, drop) if make or drop else None


def _upgrade(conn: sqlite3.Connection) -> None:
    """Add the missing columns and indexes, drop the replaced ones, set ``unflushed_from``
    (reading the tasks once), and give the queue its id (looked at again inside the transaction:
    another process may have upgraded it meanwhile)."""
    with _immediate(conn):
        for table, column, kind in _missing_columns(conn):
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
        make, drop = _index_changes(conn) or ([], [])
        for name in make:
            conn.execute(INDEXES[name])
        for name in drop:
            conn.execute(f"DROP INDEX {name}")
        if conn.execute("SELECT 1 FROM costcalc_queue WHERE unflushed_from IS NULL").fetchone():
            conn.execute(UNFLUSHED_FROM)
        conn.execute("UPDATE costcalc_queue SET version = MAX(version, ?)", (QUEUE_VERSION,))
        conn.execute(
            "UPDATE costcalc_queue SET queue_id = ? WHERE queue_id IS NULL", (_queue_id(),)
        )


def _queue_id() -> str:
    """Eight random hex digits naming a queue (``secrets.token_hex(4)``, whose import alone
    cost queue add a tenth of its start-up)."""
    return os.urandom(4).hex()


SQLITE_FILES = ("-wal", "-shm", ".flush-lock")
"""Files beside the database: SQLite's write-ahead log and shared memory, the flush lock."""


def regular_or_nothing(path: Path, expected: str) -> None:
    """Refuse anything at ``path`` but a regular file, or nothing yet: SQLite fails on a FIFO
    or a device with "disk I/O error" (exit 3, as if the disk failed) or waits on the FIFO,
    and a symlink loop is "unable to open database file". A symlink to a regular file is
    followed (a database kept elsewhere); one that points nowhere is refused, since SQLite
    would create the database wherever it points."""
    try:
        os.stat(path)
    except FileNotFoundError:
        if os.path.lexists(path):
            raise InputFileError(path, f"is a dangling symlink, expected {expected}") from None
        return
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InputFileError(path, f"is a symlink loop, expected {expected}") from None
        raise os_failure(path, exc, "cannot look at it") from None
    if kind := not_regular(Path(os.path.realpath(path))):
        raise InputFileError(path, f"is {kind}, not a regular file; expected {expected}")


class _immediate:
    """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error): one writer at a time, waiting its turn."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, kind: Any, *_: Any) -> None:
        self.conn.execute("ROLLBACK" if kind else "COMMIT")
