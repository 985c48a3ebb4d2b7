"""Bad-input catalogue for `costcalc queue`: exit 2, one line, no traceback, and nothing
added to the queue (a bad line anywhere refuses the whole add)."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest

from costcalc.batch.queue import add, status
from tests.conftest import RunCli, assert_one_line_error

LONG_ID = "a" * 65

# (case id, JSONL on stdin, message fragments)
TASKS: list[tuple[str, str | bytes, tuple[str, ...]]] = [
    ("invalid-utf8", b'"one"\n"\xff"\n', ("stdin:2: is not valid UTF-8 text",)),
    ("deep-json", '"one"\n' + "[" * 100_000 + "\n", ("stdin:2: JSON nested deeper than 256 levels",)),
    ("line-over-the-cap", b'"one"\n' + b"\0" * (33 * 2**20), ("stdin:2: request is larger than 32 MiB",)),
    ("invalid-json", '{"prompt": "a"}\nnot json\n', ("stdin:2: invalid JSON",)),
    ("a-number", "42\n", ("stdin:1: expected a prompt: a string, {\"prompt\": ...}",)),
    ("a-list", "[1, 2]\n", ("stdin:1: message 1 must be an object with a role",)),
    ("null", "null\n", ("stdin:1: expected a prompt: a string, {\"prompt\": ...}",)),
    ("empty-string", '""\n', ("stdin:1: empty prompt (providers reject a message with no text)",)),
    ("blank-string", '"   "\n', ("stdin:1: empty prompt (providers reject a message with no text)",)),
    ("no-prompt", '{"system": "s"}\n', ("stdin:1: expected a prompt: a string, {\"prompt\": ...}",)),
    ("empty-prompt", '{"prompt": ""}\n', ("stdin:1: empty prompt (providers reject a message with no text)",)),
    ("empty-messages", '{"messages": []}\n', ("stdin:1: messages is empty",)),
    ("custom-id-number", '{"custom_id": 123, "prompt": "a"}\n', ("stdin:1: custom_id must match", "got 123")),
    ("custom-id-too-long", f'{{"custom_id": "{LONG_ID}", "prompt": "a"}}\n', ("stdin:1: custom_id must match",)),
    ("custom-id-space", '{"custom_id": "a b", "prompt": "a"}\n', ("stdin:1: custom_id must match", "'a b'")),
    ("custom-id-automatic-form", '{"custom_id": "task-1", "prompt": "a"}\n', ("custom_id 'task-1' has the form costcalc gives",)),
    ("bad-line-after-good-ones", '"one"\n"two"\n{"prompt": ""}\n', ("stdin:3: empty prompt (providers reject a message with no text)",)),
    ("system-a-number", '{"prompt": "x", "system": 5}\n', ("stdin:1: system must be text, got int",)),
    ("a-role-no-format-takes", '"one"\n{"messages": [{"role": "bogus", "content": "x"}]}\n', ("stdin:2: messages[0]: role 'bogus': no batch format takes it", "every queue flush would refuse the task")),
    ("a-message-key-no-format-takes", '{"messages": [{"role": "user", "content": "x", "foo": 1}]}\n', ("stdin:1: messages[0]: key 'foo': no batch format takes it on a message",)),
    ("another-request-under-an-id-given-twice", '{"custom_id": "d1", "prompt": "a"}\n"two"\n{"custom_id": "d1", "prompt": "b"}\n', ("stdin:3: custom_id 'd1' is already in the queue with a different request",)),
]  # fmt: skip


@pytest.mark.parametrize(("name", "text", "fragments"), TASKS, ids=[c[0] for c in TASKS])
def test_add_rejects(
    run_cli: RunCli, tmp_path: Path, name: str, text: str | bytes, fragments: tuple[str, ...]
) -> None:
    db = tmp_path / "q.db"
    add(db, ["already here"])
    assert_one_line_error(run_cli("queue", "add", "--db", str(db), input=text), *fragments)
    assert status(db).pending == 1


# (case id, arguments: {d} the test's folder, message fragments)
CASES: list[tuple[str, list[str], tuple[str, ...]]] = [
    ("db-folder-is-a-file", ["queue", "add", "--db", "{d}/afile/q.db", "x"], ("afile: is a file, expected a folder for the queue database",)),
    ("db-folder-missing", ["queue", "add", "--db", "{d}/no/q.db", "x"], ("no: no such folder for the queue database",)),
    ("db-is-another-sqlite-db", ["queue", "add", "--db", "{d}/other.db", "x"], ("other.db: is an SQLite database, but not a costcalc queue",)),
    ("db-has-half-the-tables", ["queue", "add", "--db", "{d}/half.db", "x"], ("half.db: is not a costcalc queue database (no such table: flushes)",)),
    ("status-of-half-the-tables", ["queue", "status", "--db", "{d}/half.db"], ("half.db: is not a costcalc queue database (no such table",)),
    ("db-is-a-text-file", ["queue", "add", "--db", "{d}/afile", "x"], ("afile: is not a costcalc queue database",)),
    ("status-of-no-db", ["queue", "status", "--db", "{d}/none.db"], ("none.db: no such queue database",)),
    ("flush-unknown-model", ["queue", "flush", "--db", "{d}/q.db", "--out", "{d}/o", "-m", "nope"], ("unknown model 'nope'",)),
    ("flush-out-is-a-file", ["queue", "flush", "--db", "{d}/q.db", "--out", "{d}/afile", "-m", "gpt-4o"], ("afile: is a file, expected a folder for the batch files",)),
    ("flush-message-keys-for-claude", ["queue", "flush", "--db", "{d}/keys.db", "--out", "{d}", "-m", "claude-haiku-4-5"], ("task m1: messages[0]: key 'name': Claude's batch requests take role and content on a message only",)),
    ("flush-message-keys-for-openai", ["queue", "flush", "--db", "{d}/oldkeys.db", "--out", "{d}", "-m", "gpt-4o-mini"], ("task m1: messages[0]: key 'cache_control': OpenAI's batch requests take role, content, name,",)),
    ("flush-unknown-role-for-openai", ["queue", "flush", "--db", "{d}/role.db", "--out", "{d}", "-m", "gpt-4o-mini"], ("task w1: messages[0]: role 'wizard': OpenAI's batch requests take system, developer, user, assistant, tool and function messages only",)),
    ("status-bad-format", ["queue", "status", "--db", "{d}/q.db", "--format", "yaml"], ("--format",)),
    ("add-no-db", ["queue", "add", "x"], ("--db",)),
]  # fmt: skip


@pytest.mark.parametrize(("name", "args", "fragments"), CASES, ids=[c[0] for c in CASES])
def test_rejected(
    run_cli: RunCli, tmp_path: Path, name: str, args: list[str], fragments: tuple[str, ...]
) -> None:
    (tmp_path / "afile").write_text("not a database, but long enough to be read as one\n" * 20)
    with sqlite3.connect(tmp_path / "other.db") as other:
        other.execute("CREATE TABLE t (x)")
    other.close()
    with sqlite3.connect(tmp_path / "half.db") as half:
        half.execute("CREATE TABLE costcalc_queue (version INTEGER)")
    half.close()
    add(tmp_path / "q.db", ["pending"])
    # queue add takes a request some format writes (it knows no model); the flush refuses
    # what its provider would (a name on a message is OpenAI's, not Claude's)
    keys = {"role": "user", "content": "hi", "name": "x"}
    add(tmp_path / "keys.db", [("m1", {"messages": [keys]})])
    add(tmp_path / "role.db", [("w1", {"messages": [{"role": "user", "content": "hi"}]})])
    with sqlite3.connect(tmp_path / "role.db") as queued:  # by a costcalc that took any role
        queued.execute("UPDATE tasks SET request = replace(request, '\"user\"', '\"wizard\"')")
    queued.close()
    add(tmp_path / "oldkeys.db", [("m1", {"messages": [keys]})])
    with sqlite3.connect(tmp_path / "oldkeys.db") as queued:  # a key no format takes, as above
        queued.execute(
            "UPDATE tasks SET request = replace(request, '\"name\"', '\"cache_control\"')"
        )
    queued.close()
    argv = [a.replace("{d}", str(tmp_path)) for a in args]
    assert_one_line_error(run_cli(*argv), *fragments)
    for db in ("q.db", "keys.db", "role.db", "oldkeys.db"):  # a refused flush gives them back
        after = status(tmp_path / db)
        assert (after.pending, after.open_flushes, after.flushes) == (1, [], [])
    assert not list(tmp_path.glob("flush-*"))


def _fifo(p: Path) -> None:
    os.mkfifo(p)


def _device(p: Path) -> None:  # /dev/null's numbers, made in tmp_path (we run as root)
    os.mknod(p, stat.S_IFCHR | 0o666, os.makedev(1, 3))


def _loop(p: Path) -> None:
    p.symlink_to(p)


def _dangling(p: Path) -> None:
    p.symlink_to(p.parent / "nowhere")


# (case id, what to make at {d}/x.db or beside it, the path made, arguments, message fragment)
NOT_A_DATABASE = [
    ("db-is-a-fifo", _fifo, "x.db", "add", "x.db: is a FIFO, not a regular file"),
    ("db-is-a-char-device", _device, "x.db", "add", "x.db: is a character device, not a regular file"),
    ("db-is-a-symlink-loop", _loop, "x.db", "add", "x.db: is a symlink loop"),
    ("db-is-a-dangling-symlink", _dangling, "x.db", "add", "x.db: is a dangling symlink"),
    ("status-of-a-fifo", _fifo, "x.db", "status", "x.db: is a FIFO, not a regular file"),
    ("status-of-a-symlink-loop", _loop, "x.db", "status", "x.db: is a symlink loop"),
    ("flush-of-a-char-device", _device, "x.db", "flush", "x.db: is a character device"),
    ("wal-is-a-fifo", _fifo, "x.db-wal", "add", "x.db-wal: is a FIFO, not a regular file"),
    ("flush-lock-is-a-fifo", _fifo, "x.db.flush-lock", "flush", "x.db.flush-lock: is a FIFO"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "make", "made", "command", "fragment"),
    NOT_A_DATABASE,
    ids=[c[0] for c in NOT_A_DATABASE],
)
def test_db_path_not_a_regular_file(
    run_cli: RunCli, tmp_path: Path, name: str, make: Any, made: str, command: str, fragment: str
) -> None:
    """SQLite said "disk I/O error" or "unable to open database file" (exit 3, as if the disk
    failed), or waited on a FIFO: what is at --db is bad input, exit 2."""
    db = tmp_path / "x.db"
    if made != "x.db":
        add(db, ["pending"])
    make(tmp_path / made)
    extra = {"add": ["x"], "status": [], "flush": ["--out", str(tmp_path / "o"), "-m", "gpt-4o"]}
    assert_one_line_error(run_cli("queue", command, "--db", str(db), *extra[command]), fragment)
    if made != "x.db":
        (tmp_path / made).unlink()
        assert status(db).pending == 1
