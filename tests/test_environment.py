"""When the machine fails, not the input: stdout on a full disk, a reader that goes away, a
queue database that cannot be written, an unexpected exception. Each is one line on stderr
and its own exit code (3 the environment, 4 an internal error, 130 Ctrl-C), never a
traceback; a state-changing command reports success only once the change is on disk."""

from __future__ import annotations

import errno
import json
import os
import resource
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from costcalc.batch.queue import add, status
from costcalc.cli import EXIT_ENVIRONMENT, EXIT_INTERNAL, EXIT_INTERRUPTED
from costcalc.errors import CostcalcError, CostcalcNote, EnvironmentFailure
from costcalc.prices import PRICES_ENV
from costcalc.userdata import HOME_ENV
from tests.conftest import RunCli, assert_one_line_error
from tests.test_audit import OTLP_SPAN

REPO = Path(__file__).resolve().parent.parent
TIMEOUT_S = 120  # every subprocess a test starts has a timeout
COSTCALC = [sys.executable, "-m", "costcalc"]
STDOUT_FULL = "costcalc: error: stdout: no space left on device"

# (case id, arguments: {d} the test's folder, {repo} this repository): one invocation of
# every command that writes to stdout
EVERY_COMMAND: list[tuple[str, list[str]]] = [
    ("help", ["--help"]),
    ("version", ["--version"]),
    ("group-help", ["batch", "--help"]),
    ("exercise", ["exercise"]),
    ("quote", ["quote", "-m", "gpt-4o", "-n", "10", "-i", "10", "-o", "10"]),
    ("tokens", ["tokens", "-t", "hello world"]),
    ("route", ["route", "--source", "cron"]),
    ("batch-build", ["batch", "build", "{d}/prompts.txt", "-m", "gpt-4o-mini", "--out", "{d}/built"]),
    ("batch-validate", ["batch", "validate", "{repo}/examples/batch-openai.jsonl"]),
    ("batch-quote", ["batch", "quote", "{repo}/examples/batch-openai.jsonl"]),
    ("batch-reconcile", ["batch", "reconcile", "{d}/results.jsonl"]),
    ("queue-add", ["queue", "add", "--db", "{d}/add.db", "hello"]),
    ("queue-flush", ["queue", "flush", "--db", "{d}/q.db", "--out", "{d}/flushed", "-m", "gpt-4o-mini"]),
    ("queue-status", ["queue", "status", "--db", "{d}/q.db"]),
    ("check", ["check", "{repo}/examples/costcalc.yaml"]),
    ("diff", ["diff", "{repo}/examples/costcalc.yaml", "{repo}/examples/costcalc-proposed.yaml"]),
    ("gate", ["gate", "{repo}/examples/costcalc.yaml", "--comment", "none"]),
    ("prices-list", ["prices", "list"]),
    ("prices-show", ["prices", "show", "gpt-4o"]),
    ("prices-schema", ["prices", "schema"]),
    ("prices-stale", ["prices", "stale"]),
    ("prices-validate", ["prices", "validate", "{repo}/pricing/openai.yaml"]),
    ("prices-audit", ["prices", "audit"]),
    ("prices-update", ["prices", "update", "--from", "{repo}/tests/data/litellm_prices.json"]),
]  # fmt: skip

READERS_MERGED = (REPO / "costcalc" / "audit" / "otlp.py").exists()
"""costcalc audit reads files only once the readers' branch is merged."""
if READERS_MERGED:
    EVERY_COMMAND.append(("audit", ["audit", "{d}/spans.jsonl"]))

RESULTS = {"custom_id": "r1", "result": {"type": "succeeded", "message": {
    "model": "claude-haiku-4-5", "usage": {"input_tokens": 10, "output_tokens": 2}}}}  # fmt: skip


def child_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in (PRICES_ENV, "COSTCALC_DEBUG")}
    return {**env, HOME_ENV: str(home)}


def full_device(folder: Path) -> Path:
    """A character device like /dev/full (every write: ENOSPC), made in ``folder``."""
    path = folder / "full"
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 7))
    except PermissionError:
        pytest.skip("making a device node needs root")
    return path


FORKING_RUNNER = """
import json, os, sys
from costcalc.cli import cli
import costcalc.prices, costcalc.calculator  # loaded once, before the forks
device, cases = sys.argv[1], json.loads(sys.argv[2])
children = {}
for name, args, err in cases:
    pid = os.fork()
    if pid == 0:  # the child runs the command and exits as costcalc does
        os.dup2(os.open(device, os.O_WRONLY), 1)
        os.dup2(os.open(err, os.O_WRONLY | os.O_CREAT), 2)
        cli.main(args, prog_name="costcalc")
    children[pid] = name
while children:
    pid, status = os.wait()
    print(children.pop(pid), os.waitstatus_to_exitcode(status), flush=True)
"""
"""Runs each command in a child forked from one Python that has imported costcalc: a real
process, its stdout on the device and its exit, without paying Python's start-up for each."""


@pytest.fixture(scope="module")
def on_full_stdout(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, str]]:
    """(exit code, stderr) of every command of EVERY_COMMAND with stdout on a full device."""
    d = tmp_path_factory.mktemp("full-stdout")
    device = full_device(d)
    (d / "prompts.txt").write_text("hello\nworld\n")
    (d / "results.jsonl").write_text(json.dumps(RESULTS) + "\n")
    (d / "spans.jsonl").write_text(json.dumps(OTLP_SPAN) + "\n")
    add(d / "q.db", ["a queued task"])
    (d / "home").mkdir()
    cases = [
        (name, [a.format(d=d, repo=REPO) for a in args], str(d / f"{name}.err"))
        for name, args in EVERY_COMMAND
    ]
    runner = subprocess.run(
        [sys.executable, "-c", FORKING_RUNNER, str(device), json.dumps(cases)],
        capture_output=True,
        text=True,
        env=child_env(d / "home"),
        cwd=d,
        timeout=TIMEOUT_S,
    )
    assert runner.returncode == 0, runner.stderr
    codes = dict(line.split() for line in runner.stdout.splitlines())
    return {name: (int(codes[name]), Path(err).read_text()) for name, _, err in cases}


@pytest.mark.parametrize("name", [c[0] for c in EVERY_COMMAND])
def test_stdout_on_a_full_disk_is_exit_3_and_one_line(
    on_full_stdout: dict[str, tuple[int, str]], name: str
) -> None:
    code, stderr = on_full_stdout[name]
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr
    # the failure is the one line: chatter (queue flush: "flush 1: 1 task") is said only
    # once the result is written
    assert (code, stderr.splitlines()) == (EXIT_ENVIRONMENT, [STDOUT_FULL]), stderr


def test_every_command_is_in_the_list() -> None:
    """A new command gets its line in EVERY_COMMAND."""
    from costcalc.cli import COMMANDS

    listed = {c[0].split("-")[0] for c in EVERY_COMMAND}
    waiting = set() if READERS_MERGED else {"audit"}
    assert set(COMMANDS) - waiting <= listed


def run(
    *args: str, home: Path, stdin: str | None = None, **options: object
) -> subprocess.CompletedProcess[str]:
    options = {"stdout": subprocess.PIPE, **options}
    return subprocess.run(
        [*COSTCALC, *args],
        stderr=subprocess.PIPE,
        text=True,
        input=stdin,
        env=child_env(home),
        timeout=TIMEOUT_S,
        **options,  # type: ignore[call-overload]
    )


# --- a reader that goes away ------------------------------------------------------------------


@pytest.mark.parametrize("unbuffered", ["", "1"], ids=["buffered", "unbuffered"])
def test_a_closed_pipe_stops_quietly_with_exit_3(tmp_path: Path, unbuffered: str) -> None:
    """``costcalc prices list --all | head -1``: no message (the reader asked for no more),
    exit 3 (the output was not all written), also with Python's unbuffered stdout, where a
    short write used to be dropped without a word."""
    env = {**child_env(tmp_path), "PYTHONUNBUFFERED": unbuffered}
    process = subprocess.Popen(
        [*COSTCALC, "prices", "list", "--all"],  # ~0.5 MB: more than a pipe holds
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert process.stdout is not None
    assert process.stdout.readline().startswith(b"provider")
    process.stdout.close()
    _, stderr = process.communicate(timeout=TIMEOUT_S)
    assert (process.returncode, stderr) == (EXIT_ENVIRONMENT, b"")


def test_a_closed_stdout_is_said(tmp_path: Path) -> None:
    """``costcalc ... >&-``: Python starts with no sys.stdout, and click would drop the text."""
    closed = subprocess.run(
        [*COSTCALC, "route", "--source", "cron"],
        stdin=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(tmp_path),
        timeout=TIMEOUT_S,
        preexec_fn=lambda: os.close(1),
    )
    assert (closed.returncode, closed.stderr) == (
        EXIT_ENVIRONMENT,
        "costcalc: error: stdout: is closed\n",
    )


def test_a_closed_stderr_or_stdin_is_no_crash(tmp_path: Path) -> None:
    """Cron and daemons may start a command without stderr or stdin (``2>&-``, ``<&-``):
    Python leaves None there. A count still succeeds without stderr; reading a closed stdin
    is one line and exit 2 (it was an internal error, exit 4, either way)."""
    text = tmp_path / "p.txt"
    text.write_text("hello world\n")

    def closed(*args: str, close: int) -> subprocess.CompletedProcess[str]:
        return run(*args, home=tmp_path, preexec_fn=lambda: os.close(close))

    counted = closed("tokens", str(text), close=2)
    assert (counted.returncode, counted.stdout) == (0, "3\n")
    out = tmp_path / "out"
    built = closed("batch", "build", str(text), "-m", "gpt-4o-mini", "--out", str(out), close=2)
    assert built.returncode == 0 and (out / "p-batch-001.jsonl").is_file()
    for args in (("tokens", "-"), ("queue", "add", "--db", str(tmp_path / "q.db"))):
        refused = closed(*args, close=0)
        assert (refused.returncode, refused.stdout, refused.stderr) == (
            2,
            "",
            "costcalc: error: stdin: is closed (the command was started without it)\n",
        ), args


def test_an_ascii_stdout_writes_a_replacement_not_a_crash(tmp_path: Path) -> None:
    table = subprocess.run(
        [*COSTCALC, "prices", "show", "gpt-4o"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env={**child_env(tmp_path), "PYTHONIOENCODING": "ascii"},
        timeout=TIMEOUT_S,
    )
    assert table.returncode == 0, table.stderr
    assert table.stdout.isascii() and b"gpt-4o" in table.stdout


# --- the unexpected ---------------------------------------------------------------------------


@pytest.fixture
def broken_quote(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    import costcalc

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("something\nunexpected\x00")

    monkeypatch.setattr(costcalc, "quote", boom)
    yield


QUOTE = ("quote", "-m", "gpt-4o", "-n", "10", "-i", "10", "-o", "10")


def test_an_unexpected_exception_is_one_line_and_exit_4(
    run_cli: RunCli, broken_quote: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COSTCALC_DEBUG", raising=False)
    result = run_cli(*QUOTE)
    assert result.exit_code == EXIT_INTERNAL
    assert result.stdout == ""
    assert result.stderr.startswith(
        "costcalc: internal error: RuntimeError: something unexpected\\x00 (please report it"
    )
    assert "COSTCALC_DEBUG=1" in result.stderr and result.stderr.count("\n") == 1


def test_costcalc_debug_shows_the_traceback(
    run_cli: RunCli, broken_quote: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COSTCALC_DEBUG", "1")
    with pytest.raises(RuntimeError, match="something"):
        run_cli(*QUOTE)


def test_ctrl_c_is_one_line_and_exit_130(run_cli: RunCli, monkeypatch: pytest.MonkeyPatch) -> None:
    import costcalc

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(costcalc, "quote", interrupted)
    result = run_cli(*QUOTE)
    assert (result.exit_code, result.stderr) == (EXIT_INTERRUPTED, "costcalc: interrupted\n")


@pytest.mark.parametrize(
    ("code", "named", "expected"),
    [(errno.EROFS, True, (EXIT_ENVIRONMENT, "{f}: read-only file system")),
     (errno.ENOSPC, False, (EXIT_ENVIRONMENT, "(a file it does not name): no space left on device")),
     (errno.ENAMETOOLONG, True, (2, "{f}: file name too long"))],
    ids=["read-only", "unnamed-disk-full", "name-too-long"],
)  # fmt: skip
def test_an_os_error_that_escapes_a_command_is_one_line(
    run_cli: RunCli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    code: int,
    named: bool,
    expected: tuple[int, str],
) -> None:
    """An OSError no library function turned into costcalc's error: the machine's (exit 3)
    or bad input (exit 2) by its errno (errors.os_failure), naming its file when it has one."""
    import costcalc

    path = tmp_path / "report.md"

    def failing(*args: object, **kwargs: object) -> None:
        raise OSError(code, os.strerror(code), *([str(path)] if named else []))

    monkeypatch.setattr(costcalc, "quote", failing)
    result = run_cli(*QUOTE)
    exit_code, message = expected
    assert (result.exit_code, result.stderr) == (
        exit_code,
        f"costcalc: error: {message.format(f=path)}\n",
    )


# --- the queue: idempotent adds, a database that cannot be written -----------------------------


def test_queue_add_of_a_queued_custom_id_adds_nothing_and_says_so(
    tmp_path: Path, run_cli: RunCli
) -> None:
    db = tmp_path / "q.db"
    lines = '{"custom_id": "a", "prompt": "x"}\n{"custom_id": "b", "prompt": "y"}\n'
    first = run_cli("queue", "add", "--db", str(db), input=lines)
    assert (first.exit_code, first.stdout, first.stderr) == (0, "a\nb\n", "")
    # the producer retries (it did not see the ids), with one task more, and one twice
    again = run_cli("queue", "add", "--db", str(db), input=lines + lines.splitlines()[0] + "\n")
    assert again.exit_code == 0
    assert again.stdout == "a\nb\na\n"
    note = "costcalc: note: custom_id '{}' is already in the queue; not added again\n"
    assert again.stderr == note.format("a") + note.format("b") + note.format("a")
    assert status(db).pending == 2


def test_queue_add_idempotent_in_python(tmp_path: Path) -> None:
    db = tmp_path / "q.db"
    assert add(db, [("a", {"prompt": "x"})]) == ["a"]
    with pytest.warns(CostcalcNote, match="custom_id 'a' is already in the queue"):
        assert add(db, [("a", {"prompt": "x"}), (None, {"prompt": "y"})]) == ["a", "task-3"]
    assert status(db).pending == 2


def test_queue_add_of_a_queued_custom_id_with_another_request_is_refused(
    tmp_path: Path, run_cli: RunCli
) -> None:
    """Only a retry is idempotent: another request under a queued id would be lost."""
    db = tmp_path / "q.db"
    assert (
        run_cli(
            "queue", "add", "--db", str(db), input='{"custom_id":"x1","prompt":"a"}\n'
        ).exit_code
        == 0
    )
    lines = '{"custom_id":"x2","prompt":"b"}\n{"custom_id":"x1","prompt":"DIFFERENT"}\n'
    result = run_cli("queue", "add", "--db", str(db), input=lines)
    assert_one_line_error(result, "custom_id 'x1' is already in the queue with a different request")
    assert status(db).pending == 1  # x2 not added either: one transaction
    twice = '{"custom_id":"x3","prompt":"b"}\n{"custom_id":"x3","prompt":"c"}\n'
    assert_one_line_error(run_cli("queue", "add", "--db", str(db), input=twice), "'x3'")
    with pytest.raises(CostcalcError, match="'x1' is already in the queue with a different"):
        add(db, [("x1", {"prompt": "other"})])
    assert status(db).pending == 1


def test_queue_add_with_stdout_full_then_retried_adds_once(tmp_path: Path) -> None:
    """The task is committed before its id is printed: exit 3 says the output failed, and the
    producer's retry adds nothing."""
    db = tmp_path / "q.db"
    task = '{"custom_id": "job-1", "prompt": "x"}\n'
    with open(full_device(tmp_path), "w") as full:
        failed = run("queue", "add", "--db", str(db), home=tmp_path, stdin=task, stdout=full)
    assert (failed.returncode, failed.stderr) == (EXIT_ENVIRONMENT, STDOUT_FULL + "\n")
    retried = run("queue", "add", "--db", str(db), home=tmp_path, stdin=task)
    assert (retried.returncode, retried.stdout) == (0, "job-1\n")
    assert "already in the queue" in retried.stderr
    assert status(db).pending == 1


def test_queue_database_on_a_full_disk_is_exit_3_and_adds_nothing(tmp_path: Path) -> None:
    """A file size limit (RLIMIT_FSIZE) stands for a full disk: SQLite's write fails."""
    db = tmp_path / "q.db"
    add(db, ["one"])
    size = db.stat().st_size

    def small_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (size + 4096, size + 4096))

    big = "x" * 100_000
    result = run("queue", "add", "--db", str(db), big, home=tmp_path, preexec_fn=small_disk)
    assert result.returncode == EXIT_ENVIRONMENT, result.stderr
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"costcalc: error: {db}: ")
    assert status(db).pending == 1


def test_queue_created_on_a_full_disk_leaves_no_empty_database(tmp_path: Path) -> None:
    db = tmp_path / "q.db"

    def no_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))

    result = run("queue", "add", "--db", str(db), "one", home=tmp_path, preexec_fn=no_disk)
    assert result.returncode == EXIT_ENVIRONMENT, result.stderr
    assert result.stderr.startswith(f"costcalc: error: {db}: ")
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith("q.db")]


@pytest.mark.parametrize(
    "message", ["database or disk is full", "attempt to write a readonly database",
                "unable to open database file", "disk I/O error"],
)  # fmt: skip
def test_sqlite_failures_are_the_environment(
    tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch, message: str
) -> None:
    """As root, a read-only folder does not stop a write: SQLite's errors are simulated."""
    db = tmp_path / "q.db"

    def failing(*args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError(message)

    monkeypatch.setattr(sqlite3, "connect", failing)
    result = run_cli("queue", "add", "--db", str(db), "hello")
    assert (result.exit_code, result.stdout, result.stderr) == (
        EXIT_ENVIRONMENT,
        "",
        f"costcalc: error: {db}: {message}\n",
    )
    with pytest.raises(EnvironmentFailure, match=message):
        add(db, ["hello"])


def test_queue_database_where_no_folder_can_hold_it(tmp_path: Path, run_cli: RunCli) -> None:
    (tmp_path / "file").write_text("")
    for db, expected in [
        (tmp_path / "missing" / "q.db", "missing: no such folder for the queue database"),
        (tmp_path / "file" / "q.db", "file: is a file, expected a folder for the queue database"),
    ]:
        result = run_cli("queue", "add", "--db", str(db), "hello")
        assert result.exit_code == 2
        assert result.stderr == f"costcalc: error: {tmp_path / expected}\n"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder")
def test_queue_database_in_a_read_only_folder(tmp_path: Path, run_cli: RunCli) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        result = run_cli("queue", "add", "--db", str(folder / "q.db"), "hello")
    finally:
        folder.chmod(0o755)
    assert result.exit_code == EXIT_ENVIRONMENT
    assert result.stderr.startswith(f"costcalc: error: {folder / 'q.db'}: ")


# --- input that fails while it is read ---------------------------------------------------------


def test_an_input_file_that_fails_while_read_is_bad_input_naming_it(tmp_path: Path) -> None:
    """Open, then the read fails (a failing disk, /proc/self/mem: EIO): one line naming the
    file, exit 2, not an OSError that names nothing. The failure is made by putting a
    folder's descriptor in place of the file's (read: EISDIR)."""
    from costcalc.errors import InputFileError, open_input

    path = tmp_path / "prompts.txt"
    path.write_text("hello\n")
    for read in (lambda f: f.read(), lambda f: f.readline(), lambda f: f.read(3)):
        with open_input(path) as handle:
            folder = os.open(tmp_path, os.O_RDONLY)
            os.dup2(folder, handle.fileno())
            os.close(folder)
            with pytest.raises(InputFileError) as failed:
                read(handle)
        assert str(failed.value) == f"{path}: cannot read: is a directory"


def test_an_environment_failure_crosses_processes_as_itself() -> None:
    import pickle

    failure = pickle.loads(pickle.dumps(EnvironmentFailure("out/a.jsonl", "disk full")))
    assert isinstance(failure, EnvironmentFailure)
    assert (failure.path, failure.reason, str(failure)) == (
        "out/a.jsonl",
        "disk full",
        "out/a.jsonl: disk full",
    )


@pytest.mark.parametrize(
    ("message", "environment"),
    [
        ("AWS Error NETWORK_CONNECTION during HeadBucket operation: Could not resolve host", True),
        ("google::cloud::Status(UNAVAILABLE: Couldn't connect to server)", True),
        ("Connection refused", True),
        ("google::cloud::Status(UNAVAILABLE: Retry policy exhausted, with " + "x" * 900, True),
        ("operation timed out", True),
        ("Path does not exist 'bucket/x.jsonl'", False),
        ("Unrecognized filesystem type in URI: ftp://x", False),
    ],
)
def test_a_remote_input_that_fails_by_the_network_is_the_environment(
    message: str, environment: bool
) -> None:
    """A network that fails (exit 3) is told from a URI that names nothing (exit 2)."""
    from costcalc.errors import EnvironmentFailure, InputFileError
    from costcalc.tokens.sources import _remote_failure

    err = _remote_failure("s3://bucket/x.jsonl", "cannot open", OSError(message))
    assert isinstance(err, EnvironmentFailure if environment else InputFileError)
    assert "s3://bucket/x.jsonl" in str(err)


def test_a_remote_failure_is_one_short_line() -> None:
    from costcalc.tokens.sources import _remote_failure

    err = _remote_failure("gs://b/x.jsonl", "cannot read", OSError("Retry policy " + "y" * 5000))
    assert "\n" not in str(err) and len(str(err)) < 400


@pytest.mark.parametrize(
    ("uri", "opened"),
    [
        ("gs://b/x.jsonl", "gs://b/x.jsonl?retry_limit_seconds=10"),
        ("gcs://b/x.jsonl?anonymous=true", "gcs://b/x.jsonl?anonymous=true&retry_limit_seconds=10"),
        ("gs://b/x.jsonl?retry_limit_seconds=60", "gs://b/x.jsonl?retry_limit_seconds=60"),
        ("s3://b/x.jsonl", "s3://b/x.jsonl"),
    ],
)
def test_a_gs_input_gives_up_after_seconds_not_minutes(uri: str, opened: str) -> None:
    """pyarrow's Google client retries for 15 minutes by default: offline, that was a hang.
    costcalc asks for a bounded retry unless the URI sets its own."""
    from costcalc.tokens.sources import _from_uri

    asked: list[str] = []

    class FileSystem:
        @staticmethod
        def from_uri(u: str) -> tuple[object, str]:
            asked.append(u)
            return object(), "b/x.jsonl"

    class FakeFs:
        pass

    FakeFs.FileSystem = FileSystem  # type: ignore[attr-defined]
    assert _from_uri(FakeFs, uri)[1] == "b/x.jsonl"
    assert asked == [opened]
