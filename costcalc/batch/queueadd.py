"""Adding tasks to the queue (``costcalc.batch.queue`` flushes them): read as they come, in
transactions of ``TRANSACTION_TASKS``, each on disk before its ids are given and the next
tasks are read; idempotent for tasks with a custom_id. Kept apart from flushing so that
``queue add`` imports neither pydantic nor the batch writers (it starts in half the time)."""

from __future__ import annotations

import functools
import io
import itertools
import json
import sqlite3
import typing
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from costcalc.batch.formats.anthropic import ANTHROPIC_ID  # a custom_id any format accepts
from costcalc.batch.queuedb import (
    AUTO_ID,
    _fault,
    _immediate,
    _now,
    _on_database,
    connect,
    database_errors,
)
from costcalc.errors import (
    CostcalcError,
    CostcalcNote,
    RequestError,
    UsageError,
    path_argument,
    quoted,
    require_count,
    require_type,
)
from costcalc.jsonlines import JsonError, parse_json, read_lines, string_object
from costcalc.requests import UnsentKeys, input_request, plain_prompt, unsent_keys

__all__ = ["TRANSACTION_TASKS", "ParsedTasks", "add", "add_in_transactions", "parse_tasks"]


def _request(item: Any, where: str) -> tuple[str | None, dict[str, Any]]:
    """(custom_id or None, request) from a prompt string or a JSON object; the request is
    accepted or refused as every command reads one (``costcalc.requests``) and kept as the
    prompt or messages it is sent as."""
    cid = None
    if type(item) is dict or isinstance(item, Mapping):  # a JSON object is a dict: checked first
        cid = item.get("custom_id")
        if cid is not None and (not isinstance(cid, str) or not ANTHROPIC_ID.fullmatch(cid)):
            raise UsageError(f"{where}: custom_id must match ^[a-zA-Z0-9_-]{{1,64}}$, got {cid!r}")
        # kept in the object: a request is read from its prompt, messages and system alone
    try:
        sent = input_request(item)
    except RequestError as exc:
        raise UsageError(f"{where}: {exc}") from None
    if sent.messages is not None and (refused := _no_format_writes(sent.messages)) is not None:
        raise UsageError(f"{where}: {refused}")
    request: dict[str, Any] = (
        {"prompt": sent.prompt} if sent.prompt is not None else {"messages": sent.messages}
    )
    if sent.system is not None:
        request["system"] = sent.system
    return cid, request


@functools.cache
def _written() -> tuple[dict[str, None], dict[str, None]]:
    """The message roles and keys some batch format writes (in order, for the words), read
    once: a task of messages is checked against them."""
    from costcalc.batch.formats.anthropic import CLAUDE_MESSAGE_KEYS
    from costcalc.batch.formats.openai import CHAT_MESSAGE_KEYS, CHAT_ROLES
    from costcalc.batch.formats.vertex import INPUT_KEYS, INPUT_ROLES

    roles = dict.fromkeys((*CHAT_ROLES, *INPUT_ROLES))
    return roles, dict.fromkeys((*CHAT_MESSAGE_KEYS, *CLAUDE_MESSAGE_KEYS, *INPUT_KEYS))


def _no_format_writes(messages: list[Any]) -> str | None:
    """Why no batch format could write a task's messages (a role or a key none of them takes:
    every flush would refuse the task, whatever its model), or None. A role one format takes
    and another does not (``tool`` for Claude) is the flush's to refuse, for its model."""
    roles, keys = _written()
    for i, m in enumerate(messages):
        if m.get("role") not in roles:
            return (
                f"messages[{i}]: role {quoted(str(m.get('role')))}: no batch format takes it "
                f"(they take {', '.join(roles)}), so every queue flush would refuse the task"
            )
        key = next((k for k in m if k not in keys), None)
        if key is not None:
            return (
                f"messages[{i}]: key {quoted(str(key))}: no batch format takes it on a message, "
                "so every queue flush would refuse the task"
            )
    return None


TRANSACTION_TASKS = 10_000
"""Tasks a transaction of ``add`` holds at most: memory stays flat whatever the input, and a
commit (an fsync) every 10,000 tasks costs little against parsing them."""


def parse_tasks(lines: Iterable[str | bytes] | IO[bytes], source: str = "stdin") -> ParsedTasks:
    """Tasks from JSONL: each line a JSON string (a prompt) or an object with ``prompt`` or
    ``messages`` (and optionally ``system`` and ``custom_id``). ``lines`` may be a binary
    stream (stdin's buffer): it is read a line at a time, each within the cap on one request
    (``costcalc.jsonlines.MAX_REQUEST_BYTES``), as ``add`` takes the tasks. A wrong type is a
    TypeError, raised here rather than at the first task taken."""
    numbered: Iterable[tuple[int, str | bytes]]
    if isinstance(lines, (io.BufferedIOBase, io.RawIOBase)):
        numbered = read_lines(typing.cast("IO[bytes]", lines), source)
    elif isinstance(lines, (str, bytes)) or not isinstance(lines, Iterable):
        # a str is one text, never lines of one character each
        raise TypeError(
            "queue_tasks: lines must be an iterable of lines (str or bytes) or a binary "
            f"stream, got {type(lines).__name__}"
        )
    else:
        numbered = enumerate(lines, start=1)
    require_type(source, str, "source", "queue_tasks", "a str")
    return ParsedTasks(numbered, source)


class ParsedTasks:
    """An iterator of (custom_id or None, request) read from JSONL, each checked as every
    command reads a request; ``where`` is the line of the task last given (``stdin:12``),
    so ``add`` can name the line of a task it refuses later."""

    def __init__(self, numbered: Iterable[tuple[int, str | bytes]], source: str) -> None:
        self.source = source
        self.number = 0
        self.located = self._read(iter(numbered))
        """The same tasks as (line number, custom_id, request as JSON text): what ``add``
        reads (``where`` names a number)."""

    @property
    def where(self) -> str:
        return f"{self.source}:{self.number}" if self.number else self.source

    def name(self, number: int) -> str:
        return f"{self.source}:{number}"

    def __iter__(self) -> ParsedTasks:
        return self

    def __next__(self) -> tuple[str | None, dict[str, Any]]:
        _, cid, text = next(self.located)
        return cid, json.loads(text)

    def _read(self, numbered: Iterator[tuple[int, str | bytes]]) -> Iterator[Located]:
        # the loop every task of a big add goes through: one pass, the common task (a
        # prompt, perhaps a custom_id) without the general request reader
        ids = _ID_CHARS
        unsent = UnsentKeys()
        for number, line in numbered:
            if not line or line.isspace():  # blank (as line.strip() is empty), without a copy
                continue
            self.number = number
            try:
                item = (string_object(line) if type(line) is bytes else None) or parse_json(line)
            except JsonError as exc:
                raise UsageError(f"{self.where}: {exc.reason}") from None
            except UnicodeDecodeError:
                raise UsageError(f"{self.where}: is not valid UTF-8 text") from None
            # the common task (a prompt, perhaps a custom_id) has no other key: not looked at
            extra = type(item) is dict and len(item) > 1 + ("custom_id" in item)
            if type(item) is dict and (prompt := plain_prompt(item)) is not None:
                cid = item.get("custom_id")
                if cid is None or (
                    type(cid) is str
                    and 0 < len(cid) <= 64
                    and ids.issuperset(cid)
                    and not cid.startswith("task-")
                ):
                    if extra:
                        unsent.add(self.where, unsent_keys(item, ("custom_id",)))
                    yield number, cid, '{"prompt": ' + _quote(prompt) + "}"
                    continue
            cid, request = _request(item, self.where)
            _not_automatic(cid, self.where)
            if extra:  # said of a task taken only, at the end (a refused one is the error)
                unsent.add(self.where, unsent_keys(item, ("custom_id",)))
            yield number, cid, _to_json(request)
        unsent.say()
        if not self.number:  # (an empty stdin: a producer that failed upstream, perhaps)
            warnings.warn(f"{self.source} held no tasks: nothing added", CostcalcNote, stacklevel=2)


Located = tuple[int, "str | None", str]
"""A task as ``add`` takes it: (its number, custom_id or None, request as JSON text)."""

_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
"""What ``ANTHROPIC_ID`` accepts, as a set: checked faster than by the pattern."""


def _not_automatic(cid: str | None, where: str) -> None:
    if cid is not None and cid.startswith("task-") and AUTO_ID.fullmatch(cid):
        # the form given to tasks without one: taking it would collide with a later task
        raise UsageError(
            f"{where}: custom_id {cid!r} has the form costcalc gives tasks without "
            "one (task-<n>); choose another"
        )


def _task_items(tasks: object) -> tuple[Iterator[Located], Callable[[int], str]]:
    """``add``'s tasks as (number, custom_id, request as JSON text), one at a time, and what
    names the task of a number (``stdin:12``, ``task 3``): a prompt, a request object (as a
    JSONL line holds one), or a (custom_id, request) pair, each checked; tasks from
    ``parse_tasks`` were checked as they were read. A wrong type is a TypeError naming it,
    raised before anything is added."""
    if isinstance(tasks, (str, bytes)) or not isinstance(tasks, Iterable):
        # a str is one prompt, never a list of one-letter tasks
        raise TypeError(
            "queue_add: tasks must be a list of prompts or request objects, "
            f"got {type(tasks).__name__}"
        )
    if isinstance(tasks, ParsedTasks):
        return tasks.located, tasks.name
    return _checked_items(tasks), _task_name


def _task_name(number: int) -> str:
    return f"task {number}"


def _checked_items(tasks: Iterable[Any]) -> Iterator[Located]:
    unsent = UnsentKeys()
    for number, task in enumerate(tasks, start=1):
        where = _task_name(number)
        if isinstance(task, (str, Mapping)):
            cid, request = _request(task, where)
            if isinstance(task, Mapping):
                unsent.add(where, unsent_keys(task, ("custom_id",)))
        elif (
            isinstance(task, tuple)
            and len(task) == 2
            and isinstance(task[0], (str, type(None)))
            and isinstance(task[1], Mapping)
        ):
            cid, request = task[0], dict(task[1])
            _request({**request, **({"custom_id": cid} if cid else {})}, where)
            unsent.add(where, unsent_keys(request))
        else:
            raise TypeError(
                f"queue_add: tasks[{number - 1}] must be a prompt (str), a request object (dict) "
                f"or a (custom_id, request) pair, got {type(task).__name__}"
            )
        _not_automatic(cid, where)
        yield number, cid, _to_json(request)
    unsent.say()


@_on_database
def add(
    db: str | Path,
    tasks: Iterable[tuple[str | None, dict[str, Any]] | str | Mapping[str, Any]],
) -> list[str]:
    """Add tasks; returns their custom_ids (``task-<n>`` unless given) once they are on disk.
    ``add_in_transactions`` adds them the same way without keeping every id.

    Adding is idempotent for a task with a ``custom_id``: one already in the queue (pending or
    flushed), or given twice, with the same request is not added again, with a
    ``CostcalcNote`` saying so, and its id is returned as for an added one; a producer that is
    not sure its add went through adds again. A different request under such an id is a
    ``UsageError`` naming the task, and nothing of its transaction is added."""
    return [cid for ids in add_in_transactions(db, tasks) for cid in ids]


def add_in_transactions(
    db: str | Path,
    tasks: Iterable[tuple[str | None, dict[str, Any]] | str | Mapping[str, Any]],
    transaction_tasks: int = TRANSACTION_TASKS,
) -> Iterator[list[str]]:
    """Add tasks in transactions of at most ``transaction_tasks``, taking them from ``tasks``
    as it goes (a stream of any length in flat memory); yields the custom_ids of each
    transaction once it is on disk, and commits the next only when asked for it.

    A bad task (refused, malformed, or another request under a queued custom_id) stops the
    adding with a ``UsageError`` naming it: nothing of its transaction is added, and the
    transactions committed before it stay (their ids were given; the message says up to
    which task). A crash leaves the committed transactions, and adding the same tasks again
    adds only the rest (for tasks with a custom_id, as ``add`` says)."""
    require_count(transaction_tasks, "transaction_tasks", "queue_add", minimum=1)
    items, name = _task_items(tasks)
    path = path_argument(db, "db", "queue_add")
    return _add_chunks(path, items, name, transaction_tasks)


def _add_chunks(
    db: str | Path, items: Iterator[Located], name: Callable[[int], str], size: int
) -> Iterator[list[str]]:
    added = 0
    last = ""
    conn: sqlite3.Connection | None = None
    try:
        while True:
            try:
                chunk = list(itertools.islice(items, size))
                if not chunk and conn is not None:
                    return
                if conn is None:  # made even when there is nothing to add, as it always was
                    with database_errors(db):
                        conn = connect(db)
                    if not chunk:
                        return
                with database_errors(db):
                    ids, already = _insert(conn, chunk, name)
            except CostcalcError as exc:
                if not added:
                    raise
                raise UsageError(
                    f"{exc} ({added:,} tasks, up to {last}, were added before it in earlier "
                    "transactions; nothing after them)"
                ) from None
            added += len(chunk)
            last = name(chunk[-1][0])
            # a retry of a big add would otherwise write a note per task: a few are named,
            # more are summed up per transaction
            notes = (
                [f"custom_id {cid!r} is already in the queue; not added again" for cid in already]
                if len(already) <= NAMED_NOTES
                else [
                    f"{len(already):,} custom_ids are already in the queue, {already[0]!r} to "
                    f"{already[-1]!r} among them; not added again"
                ]
            )
            for note in notes:
                warnings.warn(note, CostcalcNote, stacklevel=3)
            _fault("committed")
            yield ids
    finally:
        if conn is not None:
            conn.close()


NAMED_NOTES = 3
"""Up to this many already queued ids of a transaction get a note each; more, one note."""

INSERT_TASK = (
    "INSERT INTO tasks (id, custom_id, request, added_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (custom_id) DO NOTHING"
)


def _insert(
    conn: sqlite3.Connection, chunk: list[Located], name: Callable[[int], str]
) -> tuple[list[str], list[str]]:
    """One transaction: the chunk's tasks, each given its row id here (the write lock is
    ours, so they are the next ones) so that a task without a custom_id gets ``task-<id>`` in
    the same statement. Returns (every custom_id, those already queued)."""
    now = _now()
    with _immediate(conn):
        first = _next_task_id(conn)
        ids = [
            cid if cid is not None else f"task-{n}"
            for n, (_, cid, _) in enumerate(chunk, start=first)
        ]
        rows = [
            (n, cid, text, now) for n, cid, (_, _, text) in zip(itertools.count(first), ids, chunk)
        ]
        before = conn.total_changes
        conn.executemany(INSERT_TASK, rows)
        if conn.total_changes - before == len(rows):
            return ids, []
        # some ids were queued already (or given twice): a retry, or another request
        inserted = {
            r[0]
            for r in conn.execute(
                "SELECT id FROM tasks WHERE id BETWEEN ? AND ?", (first, first + len(rows) - 1)
            )
        }
        already = []
        for (number, _, _), (n, cid, text, _) in zip(chunk, rows, strict=True):
            if n not in inserted:
                _same_as_queued(conn, cid, text, name(number))
                already.append(cid)
        return ids, already


_encode = json.JSONEncoder(ensure_ascii=False).encode


def _to_json(request: dict[str, Any]) -> str:
    """``json.dumps(request, ensure_ascii=False)``, the same text, faster: a prompt (the
    common task) is put together from its quoted string, any other request is encoded by
    one encoder made once (``json.dumps`` with options makes one a call)."""
    prompt = request.get("prompt")
    if len(request) == 1 and type(prompt) is str:
        return '{"prompt": ' + _quote(prompt) + "}"
    return _encode(request)


_quote = json.encoder.encode_basestring


def _next_task_id(conn: sqlite3.Connection) -> int:
    """The row id AUTOINCREMENT would give next: past every id given so far."""
    (seq,) = conn.execute(
        "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'tasks'), 0), "
        "COALESCE((SELECT MAX(id) FROM tasks), 0))"
    ).fetchone()
    return int(seq) + 1


def _same_as_queued(conn: sqlite3.Connection, cid: str, text: str, where: str) -> None:
    """A retry adds nothing: the request queued under ``cid`` must be the one given again.
    Another request under a queued id is refused (its transaction with it): dropping it with
    a note would lose it, replacing the queued one would change what may be flushed already."""
    row = conn.execute("SELECT request FROM tasks WHERE custom_id = ?", (cid,)).fetchone()
    if row is not None and json.loads(row[0]) != json.loads(text):
        raise UsageError(
            f"{where}: custom_id {cid!r} is already in the queue with a different request; "
            "not added (give the new request its own custom_id)"
        )
