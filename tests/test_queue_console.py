"""``costcalc queue add --db PATH [PROMPT ...]`` runs without click (``costcalc.__main__``):
for every command line and input here, it says and does exactly what the click command does
(the same stdout, stderr, exit code and queue), and it imports no click. Any other form of
the command goes to click.

How fast is measured in bench/bench_queue.py; nothing here is timed.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from costcalc.__main__ import _plain_queue_add
from tests.test_environment import child_env, full_device

TIMEOUT_S = 120  # every subprocess a test starts has a timeout
OWN_PATH = "from costcalc.__main__ import main\nmain()"
"""The console script's ``main`` (``python -m costcalc`` runs it too)."""
CLICK_PATH = "from costcalc.cli import cli\ncli(prog_name='costcalc')"
"""The click command, as the console script ran it before."""
SHOW_CLICK = (
    "import atexit, sys\n"
    "atexit.register(lambda: sys.stderr.write(f'click imported: {\"click\" in sys.modules}'))\n"
    "from costcalc.__main__ import main\nmain()"
)

GOOD = '{"prompt": "hello"}\n{"custom_id": "t-1", "prompt": "again"}\n"a bare string"\n'
MESSAGES = '{"messages": [{"role": "user", "content": "hi"}], "system": "Be brief."}\n'
UNSENT = '{"prompt": "a", "temperature": 0.2}\n{"prompt": "b", "meta": {"x": 1}}\n'

# (case id, arguments after `costcalc`: {d} the case's folder; stdin; tasks queued before)
CASES: list[tuple[str, list[str], str | None, list[str]]] = [
    ("prompts", ["queue", "add", "--db", "{d}/q.db", "one", "two"], None, []),
    ("db-equals", ["queue", "add", "one", "--db={d}/q.db", "two"], None, []),
    ("stdin-jsonl", ["queue", "add", "--db", "{d}/q.db"], GOOD, []),
    ("stdin-messages", ["queue", "add", "--db", "{d}/q.db"], MESSAGES, []),
    ("unsent-keys-note", ["queue", "add", "--db", "{d}/q.db"], UNSENT, []),
    ("empty-stdin", ["queue", "add", "--db", "{d}/q.db"], "", []),
    ("blank-lines", ["queue", "add", "--db", "{d}/q.db"], "\n  \n", []),
    ("bad-json", ["queue", "add", "--db", "{d}/q.db"], '{"prompt": "a"}\n{"prompt": \n', []),
    ("not-utf8", ["queue", "add", "--db", "{d}/q.db"], "\udcff", []),
    ("bad-custom-id", ["queue", "add", "--db", "{d}/q.db"], '{"custom_id": "a b", "prompt": "x"}\n', []),
    ("automatic-id", ["queue", "add", "--db", "{d}/q.db"], '{"custom_id": "task-9", "prompt": "x"}\n', []),
    ("blank-prompt", ["queue", "add", "--db", "{d}/q.db"], '{"prompt": "   "}\n', []),
    ("queued-again", ["queue", "add", "--db", "{d}/q.db"], '{"custom_id": "t-1", "prompt": "again"}\n', ["t-1"]),
    ("queued-otherwise", ["queue", "add", "--db", "{d}/q.db"], '{"custom_id": "t-1", "prompt": "new"}\n', ["t-1"]),
    ("db-a-folder", ["queue", "add", "--db", "{d}", "x"], None, []),
    ("db-not-a-queue", ["queue", "add", "--db", "{d}/plain.txt", "x"], None, []),
    ("db-in-no-folder", ["queue", "add", "--db", "{d}/none/q.db", "x"], None, []),
    ("nul-in-prompt", ["queue", "add", "--db", "{d}/q.db", "a\x00b"], None, []),
    ("not-utf8-prompt", ["queue", "add", "--db", "{d}/q.db", "a\udcffb"], None, []),
    # forms the own path leaves to click: the same answer, from click
    ("empty-db", ["queue", "add", "--db", "", "x"], None, []),
    ("db-twice", ["queue", "add", "--db", "{d}/q.db", "--db", "{d}/r.db", "x"], None, []),
    ("db-missing", ["queue", "add", "x"], None, []),
    ("db-without-value", ["queue", "add", "x", "--db"], None, []),
    ("help", ["queue", "add", "--help"], None, []),
    ("unknown-option", ["queue", "add", "--db", "{d}/q.db", "--dbx", "x"], None, []),
    ("dash-dash", ["queue", "add", "--db", "{d}/q.db", "--", "-x"], None, []),
]  # fmt: skip


def _cmd(path: str, argv: list[str]) -> list[str]:
    """A Python running ``path`` with ``argv`` as its arguments, set in sys.argv as the
    process would see them (a NUL byte cannot pass through exec; bytes that are not UTF-8
    arrive as surrogate escapes)."""
    return [sys.executable, "-c", f"import sys\nsys.argv[1:] = {argv!r}\n{path}"]


def _run(path: str, args: list[str], stdin: str | None, d: Path) -> tuple[int, str, str]:
    argv = [a.format(d=d) for a in args]
    data = stdin.encode("utf-8", "surrogateescape") if stdin is not None else None
    done = subprocess.run(
        _cmd(path, argv),
        input=data,
        capture_output=True,
        env=child_env(d / "home"),
        cwd=d,
        timeout=TIMEOUT_S,
    )
    shown = [
        out.decode("utf-8", "replace").replace(str(d), "{d}") for out in (done.stdout, done.stderr)
    ]
    return done.returncode, shown[0], shown[1]


def _folder(root: Path, name: str, queued: list[str]) -> Path:
    d = root / name
    (d / "home").mkdir(parents=True)
    (d / "plain.txt").write_text("not a database\n")
    if queued:
        _run(OWN_PATH, ["queue", "add", "--db", "{d}/q.db"], GOOD, d)
    return d


def _queue(d: Path) -> list[tuple[str, str]]:
    if not (d / "q.db").is_file():
        return []
    with sqlite3.connect(d / "q.db") as db:
        rows = db.execute("SELECT custom_id, request FROM tasks ORDER BY id").fetchall()
    db.close()
    return [(str(cid), str(request)) for cid, request in rows]


@pytest.mark.parametrize(("name", "args", "stdin", "queued"), CASES, ids=[c[0] for c in CASES])
def test_queue_add_says_and_does_what_the_click_command_does(
    tmp_path: Path, name: str, args: list[str], stdin: str | None, queued: list[str]
) -> None:
    own_dir, click_dir = (_folder(tmp_path, side, queued) for side in ("own", "click"))
    own = _run(OWN_PATH, args, stdin, own_dir)
    clicked = _run(CLICK_PATH, args, stdin, click_dir)
    assert own == clicked
    assert _queue(own_dir) == _queue(click_dir)
    assert own[0] in (0, 2), own  # ok or bad input here, never a crash


def test_stdout_on_a_full_disk_and_a_closed_stdout_are_the_same(tmp_path: Path) -> None:
    d = _folder(tmp_path, "full", [])
    device = full_device(d)
    results = []
    for path, db in ((OWN_PATH, "own.db"), (CLICK_PATH, "click.db")):
        with open(device, "wb") as out:
            full = subprocess.run(
                _cmd(path, ["queue", "add", "--db", str(d / db), "x"]),
                stdout=out,
                stderr=subprocess.PIPE,
                env=child_env(d / "home"),
                timeout=TIMEOUT_S,
            )
        closed = subprocess.run(
            _cmd(path, ["queue", "add", "--db", str(d / f"closed-{db}"), "x"]),
            stderr=subprocess.PIPE,
            env=child_env(d / "home"),
            timeout=TIMEOUT_S,
            preexec_fn=lambda: os.close(1),
        )
        results.append((full.returncode, full.stderr, closed.returncode, closed.stderr))
    assert results[0] == results[1]
    assert results[0] == (
        3,
        b"costcalc: error: stdout: no space left on device\n",
        3,
        b"costcalc: error: stdout: is closed\n",
    )


def test_a_closed_pipe_stops_quietly_with_exit_3(tmp_path: Path) -> None:
    d = _folder(tmp_path, "pipe", [])
    tasks = "".join(json.dumps({"prompt": f"task {i}"}) + "\n" for i in range(30_000))
    codes = []
    for path, db in ((OWN_PATH, "own.db"), (CLICK_PATH, "click.db")):
        process = subprocess.Popen(
            _cmd(path, ["queue", "add", "--db", str(d / db)]),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=child_env(d / "home"),
        )
        assert process.stdout is not None
        process.stdout.close()  # the reader is gone before the first ids are written
        _, stderr = process.communicate(tasks.encode(), timeout=TIMEOUT_S)
        codes.append((process.returncode, stderr))
    assert codes[0] == codes[1] == (3, b"")


def test_the_own_path_imports_no_click(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SHOW_CLICK, "queue", "add", "--db", str(tmp_path / "q.db")],
        input=GOOD,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "task-1\nt-1\ntask-3\n"
    assert done.stderr == "click imported: False"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["queue", "add", "--db", "q.db"], ("q.db", [])),
        (["queue", "add", "a", "--db=q.db", "b"], ("q.db", ["a", "b"])),
        (["queue", "add", "--db", "-q.db", "a"], ("-q.db", ["a"])),  # as click reads it
        (["queue", "add", "--db", "q.db", "-"], None),
        (["queue", "add", "--db", "q.db", "--db", "q.db"], None),
        (["queue", "add", "--db="], None),
        (["queue", "add", "--db"], None),
        (["queue", "add", "--db", "q.db", "-h"], None),
        (["queue", "flush", "--db", "q.db"], None),
        (["--version"], None),
        ([], None),
    ],
)
def test_which_command_lines_take_the_own_path(
    args: list[str], expected: tuple[str, list[str]] | None
) -> None:
    assert _plain_queue_add(args) == expected


def test_a_terminal_on_stdin_without_prompts_is_clicks_usage_error(tmp_path: Path) -> None:
    import pty

    d = _folder(tmp_path, "tty", [])
    said = []
    for path in (OWN_PATH, CLICK_PATH):
        leader, follower = pty.openpty()
        try:
            done = subprocess.run(
                _cmd(path, ["queue", "add", "--db", str(d / "q.db")]),
                stdin=follower,
                capture_output=True,
                text=True,
                env=child_env(d / "home"),
                timeout=TIMEOUT_S,
            )
        finally:
            os.close(leader)
            os.close(follower)
        said.append((done.returncode, done.stdout, done.stderr))
    assert (
        said[0]
        == said[1]
        == (
            2,
            "",
            "costcalc: error: give prompts as arguments, or JSONL on stdin "
            "(see 'costcalc queue add --help')\n",
        )
    )


def test_a_completion_request_is_clicks() -> None:
    env = {"_COSTCALC_COMPLETE": "bash_source"}
    os.environ.update(env)
    try:
        assert _plain_queue_add(["queue", "add", "--db", "q.db", "x"]) is None
    finally:
        for name in env:
            del os.environ[name]


def test_ctrl_c_while_loading_is_said_with_the_commands_exit_code() -> None:
    import costcalc.__main__ as entry
    import costcalc.console as console

    assert entry.EXIT_INTERRUPTED == console.EXIT_INTERRUPTED


def test_ctrl_c_is_held_off_inside_the_block_and_delivered_after_it() -> None:
    import signal
    import threading

    from costcalc.signals import interrupts_held

    reached = False
    with pytest.raises(KeyboardInterrupt):
        with interrupts_held():
            # to this thread (the command line has no other; this test process may)
            signal.pthread_kill(threading.get_ident(), signal.SIGINT)
            reached = True  # not interrupted inside
        pytest.fail("the interrupt held back was not delivered after the block")
    assert reached


def test_a_database_this_user_may_not_open_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from costcalc.batch.queuedb import database_errors
    from costcalc.errors import EnvironmentFailure

    db = tmp_path / "q.db"
    db.write_bytes(b"")
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    with pytest.raises(EnvironmentFailure) as caught, database_errors(db):
        raise sqlite3.OperationalError("unable to open database file")
    assert str(caught.value).endswith(
        "unable to open database file: permission denied (this user may not read and write it)"
    )
    db.unlink()
    with pytest.raises(EnvironmentFailure) as caught, database_errors(db):
        raise sqlite3.OperationalError("unable to open database file")
    assert "may not write in its folder" in str(caught.value)
