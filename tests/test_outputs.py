"""Output paths: costcalc writes only regular files, a failing disk is exit 3, and no run leaves
temporary files or a folder mixing two builds (killed or not)."""

from __future__ import annotations

import errno
import json
import os
import resource
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from costcalc.atomic import remove_stale_temps, write_file
from costcalc.batch.queue import add
from costcalc.errors import CostcalcError
from tests.conftest import RunCli, assert_one_line_error

TIMEOUT_S = 120  # every subprocess a test starts has a timeout
COSTCALC = [sys.executable, "-m", "costcalc"]
CONFIG = str(Path(__file__).parent.parent / "examples" / "costcalc.yaml")
REGULAR_ONLY = "not a regular file; costcalc writes only regular files"


def temps(folder: Path) -> list[str]:
    """costcalc's temporary files in ``folder`` (and any other hidden file)."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def snapshot(folder: Path) -> dict[str, tuple[int, bytes | None]]:
    """What is in ``folder``: each entry's type and, for a regular file, its bytes."""
    seen = {}
    for p in folder.iterdir():
        mode = os.lstat(p).st_mode
        seen[p.name] = (stat.S_IFMT(mode), p.read_bytes() if stat.S_ISREG(mode) else None)
    return seen


def ids_in(out: Path) -> Counter[str]:
    seen: Counter[str] = Counter()
    for part in out.glob("*.jsonl"):
        for line in part.read_text().splitlines():
            seen[json.loads(line)["custom_id"]] += 1
    return seen


def prompts(path: Path, n: int, words: int = 5) -> Path:
    path.write_text("".join(f"prompt number {i} " * words + "\n" for i in range(n)))
    return path


def build_args(src: Path, out: Path, *extra: str) -> list[str]:
    return ["batch", "build", str(src), "-m", "gpt-4o-mini", "--out", str(out), *extra]


# --- --out to something that is not a regular file --------------------------------------------


def _fifo(p: Path) -> str:
    os.mkfifo(p)
    return "a FIFO"


def _symlink_to_file(p: Path) -> str:
    (p.parent / "real.md").write_text("kept\n")
    p.symlink_to(p.parent / "real.md")
    return "a symlink"


def _dangling_symlink(p: Path) -> str:
    p.symlink_to(p.parent / "nowhere.md")
    return "a symlink"


def _directory(p: Path) -> str:
    p.mkdir()
    (p / "inside.txt").write_text("kept\n")
    return "a directory"


def _socket(p: Path) -> str:
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(p))
    sock.close()  # the socket file stays
    return "a socket"


def _char_device(p: Path) -> str:
    if os.geteuid() != 0:
        pytest.skip("only root may make a device node")
    os.mknod(p, stat.S_IFCHR | 0o666, os.makedev(1, 7))  # /dev/full's numbers, in tmp_path
    return "a character device"


NOT_REGULAR: dict[str, Callable[[Path], str]] = {
    "fifo": _fifo,
    "symlink": _symlink_to_file,
    "dangling-symlink": _dangling_symlink,
    "directory": _directory,
    "socket": _socket,
    "char-device": _char_device,
}


@pytest.mark.parametrize("force", [True, False], ids=["force", "no-force"])
@pytest.mark.parametrize("kind", list(NOT_REGULAR))
def test_out_that_is_not_a_regular_file_is_refused_and_left_alone(
    run_cli: RunCli, tmp_path: Path, kind: str, force: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a short socket path (sun_path holds 108 bytes)
    out = Path("o")
    what = NOT_REGULAR[kind](tmp_path / out)
    before = snapshot(tmp_path)
    result = run_cli("check", CONFIG, "--out", str(out), *(["--force"] if force else []))
    assert_one_line_error(result)
    assert result.stderr == f"costcalc: error: o: is {what}, {REGULAR_ONLY}\n"
    assert snapshot(tmp_path) == before  # the node, the link and what it points to: untouched
    if kind == "directory":
        assert snapshot(tmp_path / out) == {"inside.txt": (stat.S_IFREG, b"kept\n")}


def test_the_python_api_refuses_a_fifo_too(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "f")
    with pytest.raises(CostcalcError, match=f"f: is a FIFO, {REGULAR_ONLY}"):
        write_file(tmp_path / "f", "x", force=True)
    assert stat.S_ISFIFO(os.lstat(tmp_path / "f").st_mode) and temps(tmp_path) == []


def test_a_batch_part_or_manifest_that_is_not_a_regular_file_is_refused(
    run_cli: RunCli, tmp_path: Path
) -> None:
    src = prompts(tmp_path / "in.txt", 5)
    out = tmp_path / "out"
    out.mkdir()
    os.mkfifo(out / "in-batch-001.jsonl")
    before = snapshot(out)
    result = run_cli(*build_args(src, out, "--force"))
    assert_one_line_error(result, f"in-batch-001.jsonl: is a FIFO, {REGULAR_ONLY}")
    assert snapshot(out) == before
    (out / "in-batch-001.jsonl").unlink()
    (out / "in-batch.manifest.json").symlink_to(tmp_path / "elsewhere.json")
    result = run_cli(*build_args(src, out, "--force"))
    assert_one_line_error(result, f"in-batch.manifest.json: is a symlink, {REGULAR_ONLY}")
    assert not (tmp_path / "elsewhere.json").exists() and temps(out) == []


# --- the disk fails: exit 3, target untouched, no temporary file --------------------------------

FAILURES = [
    (errno.ENOSPC, "no space left on device"),
    (errno.EROFS, "read-only file system"),
    (errno.EACCES, "permission denied"),
    (errno.EIO, "input/output error"),
]


def _failing(code: int) -> Callable[..., None]:
    def fail(*_: object, **__: object) -> None:
        raise OSError(code, os.strerror(code))

    return fail


@pytest.mark.parametrize("step", ["mkstemp", "fsync", "replace"])
@pytest.mark.parametrize(
    ("code", "reason"), FAILURES, ids=[errno.errorcode[c] for c, _ in FAILURES]
)
def test_a_failing_disk_under_out_is_exit_3(
    run_cli: RunCli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    code: int,
    reason: str,
    step: str,
) -> None:
    report = tmp_path / "report.md"
    report.write_text("the earlier report\n")
    monkeypatch.setattr(tempfile if step == "mkstemp" else os, step, _failing(code))
    result = run_cli("check", CONFIG, "--out", str(report), "--force")
    assert result.exit_code == 3, result.stderr
    assert result.stderr == f"costcalc: error: {report}: cannot write: {reason}\n"
    assert report.read_text() == "the earlier report\n" and temps(tmp_path) == []


SPANS = str(Path(__file__).parent.parent / "examples" / "spans.jsonl.gz")


@pytest.mark.parametrize("step", ["mkstemp", "fsync", "replace"])
@pytest.mark.parametrize(
    ("code", "reason"), FAILURES, ids=[errno.errorcode[c] for c, _ in FAILURES]
)
def test_an_audit_config_on_a_failing_disk_is_exit_3_and_keeps_the_earlier_one(
    run_cli: RunCli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    code: int,
    reason: str,
    step: str,
) -> None:
    config = tmp_path / "costcalc.yaml"
    config.write_text("the earlier config\n")
    monkeypatch.setattr(tempfile if step == "mkstemp" else os, step, _failing(code))
    result = run_cli("audit", SPANS, "--write-config", str(config), "--force")
    assert result.exit_code == 3, result.stderr
    assert result.stderr.splitlines()[-1] == f"costcalc: error: {config}: cannot write: {reason}"
    assert config.read_text() == "the earlier config\n" and temps(tmp_path) == []


@pytest.mark.parametrize("kind", ["fifo", "device", "symlink", "folder"])
def test_an_audit_config_path_that_is_no_regular_file_is_refused(
    run_cli: RunCli, tmp_path: Path, kind: str
) -> None:
    """Refused before the records are read, with --force too; nothing there is replaced."""
    target = tmp_path / "costcalc.yaml"
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "device":
        try:
            os.mknod(target, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # like /dev/null
        except PermissionError:
            pytest.skip("making a device node needs root")
    elif kind == "symlink":
        (tmp_path / "elsewhere.yaml").write_text("kept\n")
        target.symlink_to(tmp_path / "elsewhere.yaml")
    else:
        target.mkdir()
    before = snapshot(tmp_path)
    result = run_cli("audit", SPANS, "--write-config", str(target), "--force")
    assert_one_line_error(result, f"{target}: is a")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_an_audit_killed_while_it_writes_its_config_keeps_the_earlier_one(
    tmp_path: Path, sig: signal.Signals
) -> None:
    """The config is written whole or not at all: killed in its write (held there by a
    slow fsync), the earlier file is intact, whatever the signal."""
    config = tmp_path / "costcalc.yaml"
    config.write_text("the earlier config\n")
    slow = (
        "import os, sys, time\n"
        "real = os.fsync\n"
        "def slow(fd):\n"
        "    print('writing', flush=True); time.sleep(30); real(fd)\n"
        "os.fsync = slow\n"
        "from costcalc.cli import cli\n"
        "cli.main(sys.argv[1:], prog_name='costcalc')\n"
    )
    args = ["audit", SPANS, "--write-config", str(config), "--force"]
    with subprocess.Popen(
        [sys.executable, "-c", slow, *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    ) as proc:
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"writing\n"
        proc.send_signal(sig)
        proc.wait(timeout=TIMEOUT_S)
    assert config.read_text() == "the earlier config\n"


@pytest.mark.parametrize("step", ["mkstemp", "fsync", "replace"])
def test_a_batch_build_on_a_full_disk_is_exit_3_and_keeps_the_earlier_build(
    run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    src = prompts(tmp_path / "in.txt", 30)
    out = tmp_path / "out"
    assert run_cli(*build_args(src, out, "--max-requests", "10")).exit_code == 0
    before = snapshot(out)
    monkeypatch.setattr(tempfile if step == "mkstemp" else os, step, _failing(errno.ENOSPC))
    result = run_cli(*build_args(src, out, "--max-requests", "7", "--force"))
    assert result.exit_code == 3, result.stderr
    assert result.stderr == f"costcalc: error: {out}: cannot write: no space left on device\n"
    assert snapshot(out) == before  # the earlier build, whole; no temporary file


def _limit_file_size() -> None:
    """In the child: files may grow to 256 KiB; past that a write fails with EFBIG (SIGXFSZ,
    which would kill the process instead, is ignored)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (256 << 10, 256 << 10))


def test_a_real_file_size_limit_is_exit_3_and_leaves_nothing(tmp_path: Path) -> None:
    src = prompts(tmp_path / "in.txt", 20)
    out = tmp_path / "out"
    first = subprocess.run(
        [*COSTCALC, *build_args(src, out)], capture_output=True, timeout=TIMEOUT_S
    )
    assert first.returncode == 0, first.stderr
    before = snapshot(out)
    prompts(src, 4000)  # about 520 kB of batch lines, over the limit
    done = subprocess.run(
        [*COSTCALC, *build_args(src, out, "--force")],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        preexec_fn=_limit_file_size,
    )
    assert done.returncode == 3, done.stderr
    assert done.stderr == f"costcalc: error: {out}: cannot write: file too large\n"
    assert snapshot(out) == before


# --- killed runs ------------------------------------------------------------------------------


def _started_writing(proc: subprocess.Popen[bytes], out: Path) -> None:
    """Wait until ``proc`` has a temporary file in ``out`` (it is writing)."""
    deadline = time.monotonic() + 60
    while not (out.is_dir() and any(p.name.endswith(".tmp") for p in out.iterdir())):
        assert proc.poll() is None, "the build ended before it was killed"
        assert time.monotonic() < deadline
        time.sleep(0.005)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_a_killed_batch_build_then_a_rerun_leaves_every_request_once(
    tmp_path: Path, sig: signal.Signals
) -> None:
    src = prompts(tmp_path / "in.txt", 40_000)
    out = tmp_path / "out"
    out.mkdir()
    args = [*COSTCALC, *build_args(src, out, "--max-requests", "15000")]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _started_writing(proc, out)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=TIMEOUT_S)
    finally:
        proc.kill()
    if sig == signal.SIGTERM:  # it removed its own temporary files on the way out
        assert (proc.returncode, err, os.listdir(out)) == (128 + signal.SIGTERM, b"", [])
    else:
        assert proc.returncode == -signal.SIGKILL and temps(out)  # left behind: for the rerun
    again = subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT_S)
    assert again.returncode == 0, again.stderr
    assert temps(out) == []
    assert sorted(os.listdir(out)) == [
        *(f"in-batch-00{i}.jsonl" for i in (1, 2, 3)),
        "in-batch.manifest.json",
    ]
    seen = ids_in(out)
    assert set(seen.values()) == {1} and set(seen) == {f"row-{i}" for i in range(1, 40_001)}


def test_a_queue_flush_stopped_by_sigterm_then_rerun_has_every_task_once(tmp_path: Path) -> None:
    db, out = tmp_path / "q.db", tmp_path / "out"
    add(db, [f"t{i} " * 20 for i in range(20_000)])
    args = [*COSTCALC, "queue", "flush", "--db", str(db), "--out", str(out), "-m", "gpt-4o-mini", "--max-requests", "5000"]  # fmt: skip
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _started_writing(proc, out)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=TIMEOUT_S)
    finally:
        proc.kill()
    assert (proc.returncode, err) == (128 + signal.SIGTERM, b"")
    assert temps(out) == []
    again = subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT_S)
    assert again.returncode == 0, again.stderr
    seen = ids_in(out)
    assert set(seen.values()) == {1} and len(seen) == 20_000 and temps(out) == []


def _dead_pid() -> int:
    """A PID no process has (checked, as the code does, with signal 0)."""
    for pid in range(4_000_000, 3_000_000, -7919):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except OSError:
            continue
    pytest.skip("no free PID found")


def test_write_file_removes_a_killed_runs_temporary_files_only(tmp_path: Path) -> None:
    """Stale ones of any target in the folder go (a build of another input leaves none);
    those whose writer still runs stay."""
    dead, alive = _dead_pid(), os.getppid()
    stale = tmp_path / f".costcalc-r.md-{dead}-abcd1234.tmp"
    running = tmp_path / f".costcalc-r.md-{alive}-abcd1234.tmp"  # its writer still runs
    other = tmp_path / f".costcalc-other-7.md-{dead}-abcd1234.tmp"  # another target's
    other_running = tmp_path / f".costcalc-other.md-{alive}-abcd1234.tmp"
    old = tmp_path / f".costcalc-r.md-{alive}-old12345.tmp"
    for p in (stale, running, other, other_running, old):
        p.write_text("half\n")
    os.utime(old, (time.time() - 2 * 24 * 3600,) * 2)  # two days: a leftover whatever its PID
    write_file(tmp_path / "r.md", "new\n")
    assert (tmp_path / "r.md").read_text() == "new\n"
    assert temps(tmp_path) == sorted([running.name, other_running.name])
    mine = tmp_path / f".costcalc-x.md-{os.getpid()}-abcd1234.tmp"
    mine.write_text("half\n")
    assert remove_stale_temps(tmp_path, "x.md", own=True) == [mine]


def test_a_build_of_another_input_removes_a_killed_builds_temporary_files(
    run_cli: RunCli, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    left = out / f".costcalc-big4-batch-{_dead_pid()}-k1ll3d00.tmp"  # a SIGKILLed build's
    left.write_text("half\n")
    result = run_cli(*build_args(prompts(tmp_path / "small.txt", 3), out))
    assert result.exit_code == 0, result.stderr
    assert not left.exists() and temps(out) == []


# --- batch build --force over an earlier build ------------------------------------------------


def test_force_over_an_earlier_build_leaves_only_the_new_parts(
    run_cli: RunCli, tmp_path: Path
) -> None:
    src, out = prompts(tmp_path / "in.txt", 10), tmp_path / "out"
    assert run_cli(*build_args(src, out, "--max-requests", "6")).exit_code == 0
    assert sorted(os.listdir(out)) == [
        "in-batch-001.jsonl",
        "in-batch-002.jsonl",
        "in-batch.manifest.json",
    ]
    (out / "notes.txt").write_text("mine\n")  # not costcalc's: stays
    prompts(src, 4)
    result = run_cli(*build_args(src, out, "--max-requests", "6", "--force"))
    assert result.exit_code == 0, result.stderr
    assert sorted(os.listdir(out)) == ["in-batch-001.jsonl", "in-batch.manifest.json", "notes.txt"]
    assert ids_in(out) == Counter(f"row-{i}" for i in range(1, 5))
    manifest = json.loads((out / "in-batch.manifest.json").read_text())
    assert [p["file"] for p in manifest["parts"]] == ["in-batch-001.jsonl"]


def test_force_refuses_a_part_no_manifest_lists(run_cli: RunCli, tmp_path: Path) -> None:
    src, out = prompts(tmp_path / "in.txt", 10), tmp_path / "out"
    assert run_cli(*build_args(src, out, "--max-requests", "6")).exit_code == 0
    (out / "in-batch-003.jsonl").write_text("{}\n")  # a copy from elsewhere, or another build's
    before = snapshot(out)
    result = run_cli(*build_args(src, out, "--force"))
    assert_one_line_error(
        result,
        "in-batch-003.jsonl: is not a part of the earlier build (not in in-batch.manifest.json)",
    )
    assert snapshot(out) == before
    (out / "in-batch.manifest.json").unlink()  # parts with no manifest at all: the same
    result = run_cli(*build_args(src, out, "--force"))
    assert_one_line_error(result, "in-batch-001.jsonl: is not a part of the earlier build")


def test_without_force_any_earlier_part_is_refused(run_cli: RunCli, tmp_path: Path) -> None:
    src, out = prompts(tmp_path / "in.txt", 10), tmp_path / "out"
    out.mkdir()
    (out / "in-batch-002.jsonl").write_text("{}\n")  # not the -001 the new build would write
    result = run_cli(*build_args(src, out))
    assert_one_line_error(result, "in-batch-002.jsonl already exists (use --force to replace it)")
    assert os.listdir(out) == ["in-batch-002.jsonl"]


def test_sigterm_during_write_file_removes_the_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:
        pytest.skip("SIGTERM already has a handler here; costcalc leaves it alone")
    report = tmp_path / "r.md"
    report.write_text("old\n")
    real_fsync = os.fsync

    def fsync_then_sigterm(fd: int) -> None:
        real_fsync(fd)
        os.kill(os.getpid(), signal.SIGTERM)  # arrives while the temporary file exists

    monkeypatch.setattr(os, "fsync", fsync_then_sigterm)
    with pytest.raises(SystemExit) as stopped:
        write_file(report, "new\n", force=True)
    assert stopped.value.code == 128 + signal.SIGTERM
    assert report.read_text() == "old\n" and temps(tmp_path) == []
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL  # restored


def test_without_os_fchmod_files_get_the_usual_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delattr(os, "fchmod")  # as on Windows before Python 3.13
    write_file(tmp_path / "r.md", "x\n")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE((tmp_path / "r.md").stat().st_mode) == 0o666 & ~umask


def test_a_replaced_file_keeps_its_permissions(run_cli: RunCli, tmp_path: Path) -> None:
    # a report or a batch part kept private (0600: prompts in it) stays private when forced
    report = tmp_path / "r.txt"
    report.write_text("old\n")
    report.chmod(0o600)
    write_file(report, "new\n", force=True)
    assert report.read_text() == "new\n" and stat.S_IMODE(report.stat().st_mode) == 0o600
    rows = tmp_path / "rows.txt"
    rows.write_text("one\ntwo\n")
    out = tmp_path / "out"
    assert (
        run_cli("batch", "build", str(rows), "-m", "gpt-4o-mini", "--out", str(out)).exit_code == 0
    )
    part = out / "rows-batch-001.jsonl"
    part.chmod(0o600)
    forced = run_cli("batch", "build", str(rows), "-m", "gpt-4o-mini", "--out", str(out), "--force")
    assert forced.exit_code == 0, forced.stderr
    assert stat.S_IMODE(part.stat().st_mode) == 0o600
    new = tmp_path / "new.txt"  # a new file: the usual mode under the umask
    write_file(new, "x")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(new.stat().st_mode) == 0o666 & ~umask
