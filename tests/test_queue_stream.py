"""`queue add` streams its tasks in bounded transactions, each on disk before the next is
read; a bad line or a crash leaves the committed ones; `flush` and `status` read the queue
through indexes (and a queue made before them gets them when it is opened)."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from costcalc.batch import queue as q
from costcalc.batch.queue import add, add_in_transactions, flush, parse_tasks, status
from costcalc.batch.queuedb import FAULT_ENV, QUEUE_VERSION
from costcalc.errors import CostcalcError, CostcalcNote
from tests.conftest import RunCli


def count(db: Path, where: str = "1") -> int:
    with sqlite3.connect(db) as conn:
        (n,) = conn.execute(f"SELECT COUNT(*) FROM tasks WHERE {where}").fetchone()
    conn.close()
    return int(n)


def task_line(i: int) -> str:
    return json.dumps({"custom_id": f"job-{i}", "prompt": f"task {i}"}) + "\n"


def test_a_stream_is_committed_in_transactions_as_it_is_read(tmp_path: Path) -> None:
    """50,000 lines from a generator: when line k is read, exactly the transactions of the
    lines before it are on disk (nothing read ahead, nothing held back), 10,000 a time."""
    db = tmp_path / "q.db"
    seen: list[int] = []

    def lines() -> Iterator[str]:
        for i in range(1, 50_001):
            if i % 5_000 == 1:
                committed = count(db) if db.exists() else 0
                assert committed == (i - 1) // 10_000 * 10_000, (i, committed)
                seen.append(committed)
            yield task_line(i)

    sizes = [len(ids) for ids in add_in_transactions(db, parse_tasks(lines()))]
    assert sizes == [10_000] * 5
    assert seen == [0, 0, 10_000, 10_000, 20_000, 20_000, 30_000, 30_000, 40_000, 40_000]
    assert status(db).pending == 50_000


def test_ids_are_given_once_their_transaction_is_committed(tmp_path: Path) -> None:
    db = tmp_path / "q.db"
    chunks = add_in_transactions(db, ["a", "b", "c", ("k", {"prompt": "d"}), "e"], 2)
    assert next(chunks) == ["task-1", "task-2"]
    assert count(db) == 2
    assert list(chunks) == [["task-3", "k"], ["task-5"]]
    assert count(db) == 5


def test_a_bad_line_keeps_the_committed_transactions_and_says_up_to_where(
    tmp_path: Path,
) -> None:
    db = tmp_path / "q.db"
    lines = [task_line(i) for i in range(1, 8)] + ['{"prompt": ""}\n', task_line(9)]
    got: list[list[str]] = []
    with pytest.raises(CostcalcError) as err:
        for ids in add_in_transactions(db, parse_tasks(lines), 3):
            got.append(ids)
    assert str(err.value) == (
        "stdin:8: empty prompt (providers reject a message with no text) (6 tasks, up to "
        "stdin:6, were added before it in earlier transactions; nothing after them)"
    )
    assert got == [["job-1", "job-2", "job-3"], ["job-4", "job-5", "job-6"]]
    assert count(db) == 6  # line 7 shared the bad line's transaction: not added
    # the fixed input added again: the first six are already there, the rest is added
    lines[7] = '{"prompt": "fixed"}\n'
    with pytest.warns(CostcalcNote, match="already in the queue") as notes:
        assert len(add(db, parse_tasks(lines))) == 9
    # more than three in a transaction: one note for them all (a retry of 10,000 is one line)
    assert [str(n.message) for n in notes] == [
        "6 custom_ids are already in the queue, 'job-1' to 'job-6' among them; not added again"
    ]
    assert count(db) == 9


def test_another_request_under_a_queued_id_names_its_line(tmp_path: Path) -> None:
    db = tmp_path / "q.db"
    add(db, [("x1", {"prompt": "a"})])
    lines = [task_line(1), task_line(2), '{"custom_id": "x1", "prompt": "other"}\n']
    with pytest.raises(CostcalcError, match=r"^stdin:3: custom_id 'x1' is already in the queue "):
        add(db, parse_tasks(lines))
    assert count(db) == 1
    with pytest.raises(CostcalcError, match=r"^stdin:3: .* \(2 tasks, up to stdin:2, were"):
        list(add_in_transactions(db, parse_tasks(lines), 2))
    assert count(db) == 3


def test_cli_bad_line_after_a_committed_transaction(tmp_path: Path, run_cli: RunCli) -> None:
    """The ids of the committed transaction are printed; the one error line says how far."""
    db = tmp_path / "q.db"
    text = "".join(task_line(i) for i in range(1, 10_006)) + "not json\n"
    result = run_cli("queue", "add", "--db", str(db), input=text)
    assert result.exit_code == 2
    assert result.stdout.splitlines() == [f"job-{i}" for i in range(1, 10_001)]
    assert result.stderr.startswith("costcalc: error: stdin:10006: invalid JSON")
    assert result.stderr.endswith(
        "(10,000 tasks, up to stdin:10000, were added before it in earlier transactions; "
        "nothing after them)\n"
    )
    assert count(db) == 10_000


def test_killed_after_a_transaction_then_added_again_adds_each_task_once(
    tmp_path: Path,
) -> None:
    db = tmp_path / "q.db"
    text = "".join(task_line(i) for i in range(1, 12_001))
    cmd = [sys.executable, "-m", "costcalc", "queue", "add", "--db", str(db)]
    env = {**os.environ, FAULT_ENV: "committed"}
    killed = subprocess.run(cmd, input=text, capture_output=True, text=True, env=env, timeout=60)
    assert killed.returncode == -9
    assert count(db) == 10_000  # the first transaction is on disk, the second never began
    env.pop(FAULT_ENV)
    again = subprocess.run(cmd, input=text, capture_output=True, text=True, env=env, timeout=60)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines() == [f"job-{i}" for i in range(1, 12_001)]
    assert again.stderr == (
        "costcalc: note: 10,000 custom_ids are already in the queue, 'job-1' to 'job-10000' "
        "among them; not added again\n"
    )
    assert count(db) == 12_000
    assert count(db, "custom_id LIKE 'job-%'") == 12_000


# --- indexes --------------------------------------------------------------------------------

QUERIES = {
    "ANY_UNFLUSHED": (), "ANY_PENDING": (), "COUNT_PENDING": (), "CLAIM_PENDING": (1,),
    "UNCLAIM": (1,), "TASKS_OF_FLUSH": (1,), "RECORD_FLUSHED": (1,), "OPEN_FLUSHES": (),
    "UNFLUSHED_FROM": (),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_flush_and_status_read_no_history(tmp_path: Path, name: str) -> None:
    """Each query of flush and status goes through an index of what is not flushed yet:
    none scans the tasks (or flushes) table, so the history does not slow it."""
    db = tmp_path / "q.db"
    add(db, ["x"])
    with sqlite3.connect(db) as conn:
        plan = " / ".join(
            r[-1] for r in conn.execute("EXPLAIN QUERY PLAN " + getattr(q, name), QUERIES[name])
        )
    conn.close()
    assert "rowid>?" in plan or "flushes_open" in plan, plan
    assert not re.search(r"SCAN (tasks|flushes)(?! USING)", plan), plan


OLD_SCHEMA = """
CREATE TABLE costcalc_queue (version INTEGER NOT NULL, queue_id TEXT);
CREATE TABLE tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    custom_id TEXT UNIQUE,
    request TEXT NOT NULL,
    added_at TEXT NOT NULL,
    flush_id INTEGER REFERENCES flushes(id),
    flushed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX tasks_pending ON tasks(flush_id) WHERE flush_id IS NULL;
CREATE TABLE flushes (
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
INSERT INTO costcalc_queue VALUES (1, 'abcd1234');
INSERT INTO flushes (started_at, done_at, model, provider, out_dir, max_tokens, tasks, files, stem)
    VALUES ('t', 't', 'gpt-4o-mini', 'openai', '/nowhere', 1024, 2, '[]', 'flush-abcd1234-000001');
INSERT INTO tasks (custom_id, request, added_at, flush_id, flushed) VALUES
    ('old-1', '{"prompt": "a"}', 't', 1, 1), ('old-2', '{"prompt": "b"}', 't', 1, 1);
INSERT INTO tasks (custom_id, request, added_at) VALUES ('new-1', '{"prompt": "c"}', 't');
"""
"""A queue as costcalc made it before the indexes (schema version 1), with history."""


def test_a_queue_made_before_the_indexes_gets_them_when_opened(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    with sqlite3.connect(db) as conn:
        conn.executescript(OLD_SCHEMA)
    conn.close()
    report = status(db)
    assert (report.pending, report.flushed) == (1, 2)
    with sqlite3.connect(db) as conn:
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
        version, mark = conn.execute(
            "SELECT version, unflushed_from FROM costcalc_queue"
        ).fetchone()
    conn.close()
    assert "flushes_open" in indexes
    assert "tasks_pending" not in indexes
    assert (version, mark) == (QUEUE_VERSION, 3)  # tasks 1 and 2 are flushed
    with pytest.warns(CostcalcNote, match="'new-1' is already in the queue"):
        assert add(db, ["d", ("new-1", {"prompt": "c"})]) == ["task-4", "new-1"]
    out = tmp_path / "out"
    out.mkdir()
    (done,) = flush(db, out, "gpt-4o-mini")
    assert done.tasks == 2
    lines = [json.loads(x) for x in Path(done.files[0].file).read_text().splitlines()]
    assert [x["custom_id"] for x in lines] == ["new-1", "task-4"]
    assert (status(db).pending, status(db).flushed) == (0, 4)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT unflushed_from FROM costcalc_queue").fetchone() == (5,)
    conn.close()


def test_queue_add_imports_neither_pydantic_nor_the_batch_writers(tmp_path: Path) -> None:
    """Its start-up counts in a producer's loop (and against the raw insert loop)."""
    code = (
        "import sys\nfrom costcalc.cli import cli\n"
        "try:\n    cli(['queue', 'add', '--db', sys.argv[1], 'x'])\nexcept SystemExit:\n    pass\n"
        "heavy = {'pydantic', 'costcalc.batch.writer'} & set(sys.modules)\n"
        "print(sorted(heavy), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "q.db")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.stdout, done.stderr) == ("task-1\n", "[]\n")


def test_an_add_of_nothing_still_makes_the_queue(tmp_path: Path) -> None:
    """As before streaming: a producer's empty batch leaves a queue that status can read."""
    assert add(tmp_path / "q.db", parse_tasks(["\n"])) == []
    assert status(tmp_path / "q.db").pending == 0


def test_an_empty_stdin_adds_nothing_and_says_so(run_cli: RunCli, tmp_path: Path) -> None:
    for given in ("", "\n\n  \n"):
        result = run_cli("queue", "add", "--db", str(tmp_path / "q.db"), input=given)
        assert result.exit_code == 0, result.stderr
        assert result.stdout == ""
        assert "costcalc: note: stdin held no tasks: nothing added" in result.stderr
