"""The SQLite batch queue: crash safety under SIGKILL, concurrent adders, status."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import stat
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

import costcalc
from costcalc.batch.queue import add, flush, status
from costcalc.batch.queuedb import FAULT_ENV
from costcalc.errors import CostcalcNote
from tests.conftest import RunCli, assert_one_line_error

TIMEOUT_S = 120  # every subprocess a test starts has a timeout
COSTCALC = [sys.executable, "-m", "costcalc"]


def run(
    *args: str, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COSTCALC, *args],
        capture_output=True,
        text=True,
        input=stdin,
        env={**os.environ, **(env or {})},
        timeout=TIMEOUT_S,
    )


def flush_args(db: Path, out: Path, max_requests: int) -> list[str]:
    return [
        "queue",
        "flush",
        "--db",
        str(db),
        "--out",
        str(out),
        "-m",
        "gpt-4o-mini",
        "--max-requests",
        str(max_requests),
    ]


def ids_in(out: Path) -> Counter[str]:
    seen: Counter[str] = Counter()
    for part in out.glob("*.jsonl"):
        for line in part.read_text().splitlines():
            seen[json.loads(line)["custom_id"]] += 1
    return seen


def test_add_flush_status(tmp_path: Path, run_cli: RunCli) -> None:
    db = tmp_path / "q.db"
    assert add(db, ["first", "second"]) == ["task-1", "task-2"]
    assert add(
        db,
        [("mine-1", {"messages": [{"role": "user", "content": "third"}], "system": "Be brief."})],
    ) == ["mine-1"]
    assert status(db).pending == 3
    (result,) = flush(db, tmp_path / "out", "gpt-4o-mini", max_tokens=64)
    assert result.tasks == 3 and not result.resumed
    lines = [json.loads(x) for x in Path(result.files[0].file).read_text().splitlines()]
    assert [x["custom_id"] for x in lines] == ["task-1", "task-2", "mine-1"]
    assert lines[2]["body"]["messages"][0] == {"role": "system", "content": "Be brief."}
    s = status(db)
    assert (s.pending, s.flushed, s.open_flushes) == (0, 3, [])
    assert flush(db, tmp_path / "out", "gpt-4o-mini") == []  # nothing pending
    out = run_cli("queue", "status", "--db", str(db))
    assert out.exit_code == 0 and "0 pending, 3 flushed" in out.stdout


def test_add_from_stdin(tmp_path: Path, run_cli: RunCli) -> None:
    db = tmp_path / "q.db"
    stdin = '"just a prompt"\n{"prompt": "with prompt"}\n\n{"messages": [{"role": "user", "content": "m"}], "custom_id": "c-1"}\n'
    result = run_cli("queue", "add", "--db", str(db), input=stdin)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.split() == ["task-1", "task-2", "c-1"]


@pytest.mark.parametrize("fault", ["claimed", "writing", "written"])
def test_flush_killed_then_flushed_again_has_every_task_exactly_once(
    tmp_path: Path, fault: str
) -> None:
    db, out = tmp_path / "q.db", tmp_path / "out"
    add(db, [f"task number {i}" for i in range(2500)])
    killed = run(*flush_args(db, out, 1000), env={FAULT_ENV: fault})
    assert killed.returncode == -signal.SIGKILL
    add(db, ["added after the crash"])
    s = status(db)
    assert s.open_flushes == [1] and s.pending == 1
    again = run(*flush_args(db, out, 1000))
    assert again.returncode == 0, again.stderr
    assert "finishing a flush left open by a crash" in again.stderr
    seen = ids_in(out)
    assert set(seen.values()) == {1}
    assert set(seen) == {f"task-{i}" for i in range(1, 2502)}
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary files
    s = status(db)
    assert (s.pending, s.flushed, s.open_flushes) == (0, 2501, [])


def test_flush_killed_at_random_moments(tmp_path: Path) -> None:
    db, out = tmp_path / "q.db", tmp_path / "out"
    add(db, [f"t{i} " * 20 for i in range(20000)])
    import time

    for delay in (0.05, 0.3, 0.6, 0.9):
        proc = subprocess.Popen(
            [*COSTCALC, *flush_args(db, out, 3000)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=TIMEOUT_S)
    final = run(*flush_args(db, out, 3000))
    assert final.returncode == 0, final.stderr
    seen = ids_in(out)
    assert set(seen.values()) == {1} and len(seen) == 20000


def test_two_processes_add_at_the_same_time(tmp_path: Path) -> None:
    db = tmp_path / "q.db"
    add(db, ["create the database first"])
    lines = [json.dumps({"prompt": f"p{i}"}) for i in range(300)]
    procs = [
        subprocess.Popen(
            [*COSTCALC, "queue", "add", "--db", str(db)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outs = [p.communicate("\n".join(lines), timeout=TIMEOUT_S) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    ids = [cid for out, _ in outs for cid in out.split()]
    assert len(ids) == 600 and len(set(ids)) == 600
    assert status(db).pending == 601


def test_concurrent_first_use_creates_one_queue(tmp_path: Path) -> None:
    db = tmp_path / "fresh.db"
    procs = [
        subprocess.Popen(
            [*COSTCALC, "queue", "add", "--db", str(db), f"p{i}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(3)
    ]
    results = [p.communicate(timeout=TIMEOUT_S) for p in procs]
    assert all(p.returncode == 0 for p in procs), results
    assert status(db).pending == 3


def test_a_resumed_flush_keeps_its_split_whatever_the_new_flags(tmp_path: Path) -> None:
    db, out = tmp_path / "q.db", tmp_path / "out"
    add(db, [f"task text {i}" for i in range(30)])
    killed = run(*flush_args(db, out, 2), env={FAULT_ENV: "written"})  # 15 parts, then killed
    assert killed.returncode != 0 and len(list(out.glob("*.jsonl"))) == 15
    resumed = run(*flush_args(db, out, 1000))
    assert resumed.returncode == 0, resumed.stderr
    seen = ids_in(out)
    assert len(seen) == 30 and set(seen.values()) == {1}
    assert len(list(out.glob("*.jsonl"))) == 15  # split as claimed: 2 per file


def test_a_flush_that_cannot_work_gives_its_tasks_back(tmp_path: Path) -> None:
    from costcalc.errors import CostcalcError

    db = tmp_path / "q.db"
    add(db, ["x" * 5000, "short"])
    with pytest.raises(CostcalcError, match="over the 2,000-byte limit"):
        flush(db, tmp_path / "out", "gpt-4o-mini", max_bytes=2000)
    assert status(db).pending == 2 and status(db).open_flushes == []
    (afile := tmp_path / "afile").write_text("not a folder")
    with pytest.raises(CostcalcError, match="is a file"):
        flush(db, afile, "gpt-4o-mini")
    assert status(db).pending == 2 and status(db).open_flushes == []
    (result,) = flush(db, tmp_path / "good", "gpt-4o-mini")
    assert result.tasks == 2


def test_a_custom_id_of_the_automatic_form_is_refused(tmp_path: Path) -> None:
    from costcalc.errors import CostcalcError

    db = tmp_path / "q.db"
    with pytest.raises(CostcalcError, match="has the form costcalc gives tasks without one"):
        add(db, [("task-2", {"prompt": "x"})])
    assert add(db, ["a", "b"]) == ["task-1", "task-2"]


# --- a flush replaces only its own files; two queues share a folder; open flushes move --------


def queue_id(db: Path) -> str:
    import sqlite3

    with contextlib.closing(sqlite3.connect(db)) as conn:
        return str(conn.execute("SELECT queue_id FROM costcalc_queue").fetchone()[0])


def make(kind: str, path: Path) -> None:
    """A FIFO, symlink, character device or user's file at ``path`` (inside tmp_path)."""
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "symlink":
        (path.parent / "elsewhere.txt").write_text("the user's\n")
        path.symlink_to(path.parent / "elsewhere.txt")
    elif kind == "device":
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 7))  # /dev/full's numbers
    else:
        path.write_text("the user's\n")


@pytest.mark.parametrize("kind", ["fifo", "symlink", "device", "regular"])
def test_a_flush_never_replaces_what_it_did_not_write(
    tmp_path: Path, run_cli: RunCli, kind: str
) -> None:
    db, out = tmp_path / "q.db", tmp_path / "out"
    add(db, ["a", "b"])
    out.mkdir()
    target = out / f"flush-{queue_id(db)}-000001-001.jsonl"
    make(kind, target)
    before = os.lstat(target)
    result = run_cli(*flush_args(db, out, 1000))
    assert_one_line_error(result, f"{target}: ", "nothing was flushed")
    assert os.lstat(target).st_mode == before.st_mode and os.lstat(target).st_ino == before.st_ino
    s = status(db)
    assert (s.pending, s.flushed, s.open_flushes) == (2, 0, [])
    target.unlink()
    (result,) = flush(db, out, "gpt-4o-mini")
    assert result.tasks == 2 and result.flush == 2  # flush 1 was given back


def test_a_resumed_flush_replaces_its_own_files_but_not_a_fifo(tmp_path: Path) -> None:
    db, out = tmp_path / "q.db", tmp_path / "out"
    add(db, [f"task {i}" for i in range(6)])
    assert run(*flush_args(db, out, 2), env={FAULT_ENV: "written"}).returncode != 0
    parts = sorted(out.glob("*.jsonl"))
    assert len(parts) == 3
    parts[1].unlink()
    os.mkfifo(parts[1])
    refused = run(*flush_args(db, out, 2))
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1, refused.stderr
    assert f"{parts[1]}: is a FIFO, not a regular file" in refused.stderr
    assert status(db).open_flushes == [1]  # the flush waits: its other files are out there
    parts[1].unlink()
    again = run(*flush_args(db, out, 2))
    assert again.returncode == 0, again.stderr
    seen = ids_in(out)
    assert len(seen) == 6 and set(seen.values()) == {1}


def test_two_queues_flush_into_one_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    add(tmp_path / "a.db", [("from-a", {"prompt": "a"})])
    add(tmp_path / "b.db", [("from-b", {"prompt": "b"})])
    (ra,) = flush(tmp_path / "a.db", out, "gpt-4o-mini")
    (rb,) = flush(tmp_path / "b.db", out, "gpt-4o-mini")
    assert ra.files[0].file != rb.files[0].file
    assert ids_in(out) == Counter({"from-a": 1, "from-b": 1})


def test_a_queue_from_before_queue_ids_finishes_its_open_flush_under_its_old_name(
    tmp_path: Path,
) -> None:
    import sqlite3

    db, out = tmp_path / "q.db", tmp_path / "out"
    add(db, ["old 1", "old 2"])
    assert run(*flush_args(db, out, 1000), env={FAULT_ENV: "written"}).returncode != 0
    (part,) = out.glob("*.jsonl")
    part.rename(out / "flush-000001-001.jsonl")  # as the older costcalc named it
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("UPDATE flushes SET stem = NULL")
        conn.execute("ALTER TABLE flushes DROP COLUMN stem")
        conn.execute("ALTER TABLE costcalc_queue DROP COLUMN queue_id")
    add(db, ["new"])
    results = flush(db, out, "gpt-4o-mini")
    assert [r.resumed for r in results] == [True, False]
    assert Path(results[0].files[0].file).name == "flush-000001-001.jsonl"
    assert Path(results[1].files[0].file).name == f"flush-{queue_id(db)}-000002-001.jsonl"
    assert ids_in(out) == Counter({"task-1": 1, "task-2": 1, "task-3": 1})


def test_an_open_flush_without_files_moves_to_the_new_folder(tmp_path: Path) -> None:
    """A flush that failed before putting any file in place (a full disk, or killed) is
    finished in the folder given now: nothing of it is in the old one."""
    db, old, new = tmp_path / "q.db", tmp_path / "full", tmp_path / "new"
    add(db, ["a", "b"])
    assert run(*flush_args(db, old, 1000), env={FAULT_ENV: "claimed"}).returncode != 0
    assert status(db).open_flushes == [1]
    (result,) = flush(db, new, "gpt-4o-mini")
    assert result.resumed and Path(result.files[0].file).parent == new.resolve()
    assert ids_in(new) == Counter({"task-1": 1, "task-2": 1})
    assert not list(old.glob("*.jsonl")) and status(db).open_flushes == []


def test_an_open_flush_with_files_in_its_folder_must_be_finished_there(
    tmp_path: Path, run_cli: RunCli
) -> None:
    db, old, new = tmp_path / "q.db", tmp_path / "old", tmp_path / "new"
    add(db, [f"task {i}" for i in range(4)])
    assert run(*flush_args(db, old, 2), env={FAULT_ENV: "written"}).returncode != 0
    add(db, ["later"])
    result = run_cli(*flush_args(db, new, 2))
    assert_one_line_error(
        result,
        f"flush 1 was begun in {old.resolve()} and 2 of its files are there: it must be "
        f"finished there (flush with --out {old.resolve()})",
    )
    s = status(db)
    assert (s.open_flushes, s.pending) == ([1], 1) and not new.exists()
    ok = run_cli(*flush_args(db, old, 2))
    assert ok.exit_code == 0, ok.stderr
    assert set(ids_in(old)) == {f"task-{i}" for i in range(1, 6)}


def test_a_symlink_to_a_regular_database_is_followed(tmp_path: Path) -> None:
    real = tmp_path / "real.db"
    add(real, ["a"])
    link = tmp_path / "link.db"
    link.symlink_to(real)
    assert add(link, ["b"]) == ["task-2"]
    assert status(real).pending == 2 and link.is_symlink()


def test_keys_a_task_does_not_send_are_said_once(tmp_path: Path, run_cli: RunCli) -> None:
    # a producer's temperature would be dropped from the batch line: one note at the end
    # names every key of every task taken, and where the first was
    stdin = (
        '{"prompt": "a", "custom_id": "k-1"}\n'
        '{"prompt": "b", "temperature": 0.2, "user": "u1"}\n'
        '{"prompt": "c", "temperature": 0.5, "model": "gpt-3.5-turbo"}\n'
    )
    result = run_cli("queue", "add", "--db", str(tmp_path / "q.db"), input=stdin)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.split() == ["k-1", "task-2", "task-3"]
    assert result.stderr == (
        "costcalc: note: 'temperature', 'user', 'model' not sent (2 requests, the first at "
        "stdin:2): a request is its prompt or messages and system; the model, max_tokens and "
        "the rest come from the command\n"
    )
    with pytest.warns(
        CostcalcNote, match=r"^'top_p', 'n' not sent \(2 requests, the first at task 2\)"
    ):
        assert costcalc.queue_add(
            tmp_path / "p.db", [{"prompt": "x"}, {"prompt": "y", "top_p": 1}, {"text": "z", "n": 2}]
        ) == ["task-1", "task-2", "task-3"]
    # a task refused is the one line said: no note calls its prompt a key not sent
    refused = run_cli(
        "queue", "add", "--db", str(tmp_path / "q.db"), input='{"prompt": 5, "t": 1}\n'
    )
    assert_one_line_error(refused, "stdin:1: expected a prompt")


def test_an_interrupted_flush_resumed_with_other_settings_says_it_keeps_its_own(
    tmp_path: Path,
) -> None:
    db, out = tmp_path / "q.db", tmp_path / "out"
    add(db, [f"task number {i}" for i in range(10)])
    killed = run(*flush_args(db, out, 1000), env={FAULT_ENV: "claimed"})
    assert killed.returncode == -signal.SIGKILL
    add(db, ["added after the crash"])
    args = [a if a != "gpt-4o-mini" else "gpt-4o" for a in flush_args(db, out, 1000)]
    again = run(*args, "--max-tokens", "5")
    assert again.returncode == 0, again.stderr
    assert (
        "costcalc: note: an interrupted flush is finished as it was begun (model 'gpt-4o-mini', "
        "max_tokens 1024); this run's settings apply to the tasks still pending"
    ) in again.stderr
    lines = [json.loads(x) for f in sorted(out.glob("*.jsonl")) for x in f.read_text().splitlines()]
    models = Counter((x["body"]["model"], x["body"]["max_tokens"]) for x in lines)
    assert models == {("gpt-4o-mini", 1024): 10, ("gpt-4o", 5): 1}
