"""The tokenizer process a sample forks (costcalc.tokens.forked): the same counts as this
process gives, the parent counting itself whatever goes wrong with the child, and no child
left behind. Each case runs in a fresh interpreter (a process that has built the encoding,
or runs other threads, never forks one), with a timeout."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the tokenizer process is forked on Linux only"
)

TEXTS = [
    "plain ascii text",
    "",
    " ",
    "naïve café 東京 données 🚀 Привет",
    "<|endoftext|> is counted as ordinary text",
    "lone \ud800 surrogate",
    "pair \ud83d\ude80 of surrogates",
    "tab\tand\r\nnewlines\n",
    "x" * 5000,
    "\u200b\ufeff",
]


PRELUDE = """
import os as _os

def no_child_left():
    \"\"\"Every child this process made was reaped.\"\"\"
    try:
        _os.waitpid(-1, _os.WNOHANG)
    except ChildProcessError:
        return True
    return False
"""
"""What every script run here starts with."""


def run(script: str, timeout: float = 120) -> dict[str, object]:
    """Run ``script`` (after ``PRELUDE``) in a fresh interpreter; the one line it prints is
    JSON."""
    done = subprocess.run(
        [sys.executable, "-c", PRELUDE + textwrap.dedent(script)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == "", done.stderr  # nothing said by a child, no warning
    [line] = done.stdout.splitlines()  # one line: a child never runs the script's own code
    return json.loads(line)  # type: ignore[no-any-return]


def test_the_child_counts_what_this_process_counts() -> None:
    got = run(
        f"""
        import json, os
        from costcalc.tokens import forked
        from costcalc.tokens.encodings import get_encoding, encoding_built
        texts = {TEXTS!r}
        child = forked.TokenizerProcess.start("o200k_base")
        assert child is not None
        counts = child.counts(texts)
        built_here = encoding_built("o200k_base")
        encode = get_encoding("o200k_base").encode_ordinary
        again = forked.TokenizerProcess.start("o200k_base")  # once per encoding and process
        reaped = no_child_left()
        print(json.dumps({{
            "counts": counts, "local": [len(encode(t)) for t in texts],
            "built_here": built_here, "again": again is None, "reaped": reaped,
        }}))
        """
    )
    assert got["counts"] == got["local"]
    assert got["built_here"] is False  # the child built it: this process had not, till asked
    assert got["again"] is True
    assert got["reaped"] is True


IN_CHILD = "os.getpid() != PARENT"

FAULTS = {
    "the child dies at once": "forked._serve = lambda *a: os._exit(3)",
    "the child dies after saying it is ready": (
        "real = forked._receive\n"
        f"forked._receive = lambda *a: os._exit(3) if {IN_CHILD} else real(*a)"
    ),
    "the child takes too long to build": (
        "forked.READY_WITHIN = 0.5\nforked.get_encoding = lambda name: time.sleep(60)"
    ),
    # a child stopped (SIGSTOP, a debugger) once it is ready: it reads no text, counts none
    "the child stops after saying it is ready": (
        "forked.COUNT_WITHIN = (0.5, 10**12)\n"
        "real = forked._receive\n"
        f"forked._receive = lambda *a: time.sleep(60) if {IN_CHILD} else real(*a)"
    ),
    "the child stops with the texts more than its socket holds": (
        "forked.COUNT_WITHIN = (0.5, 10**12)\n"
        "texts *= 200\n"
        "real = forked._receive\n"
        f"forked._receive = lambda *a: time.sleep(60) if {IN_CHILD} else real(*a)"
    ),
    # a caller that made SIGPIPE fatal (as many scripts do) must not die of the child's end
    "the child is gone when the texts are sent, SIGPIPE fatal": (
        "import signal\n"
        "signal.signal(signal.SIGPIPE, signal.SIG_DFL)\n"
        "real = forked._receive\n"
        "def receive(*a):\n"
        f"    if {IN_CHILD}: os._exit(3)\n"
        "    got = real(*a)\n"
        "    time.sleep(0.5)  # the child is gone by now\n"
        "    return got\n"
        "forked._receive = receive\n"
        "texts *= 200"
    ),
    # Rust's allocator says "memory allocation of N bytes failed" on stderr, then aborts
    "the child prints and aborts": (
        "forked._serve = lambda *a: os.write(2, b'memory allocation failed') and os.abort()"
    ),
    "a text holds a long run": "texts.append(' ' * forked.LONGEST_RUN)",
    "the child closes its socket": "forked._serve = lambda encoding, parent, channel: None",
}


@pytest.mark.parametrize(("fault", "setup"), FAULTS.items(), ids=list(FAULTS))
def test_whatever_goes_wrong_with_the_child_the_caller_counts_itself(
    fault: str, setup: str
) -> None:
    got = run(
        f"""
        import json, os, time
        from costcalc.tokens import forked
        PARENT = os.getpid()
        texts = {TEXTS!r}
        {textwrap.indent(setup, " " * 8).strip()}
        started = time.monotonic()
        child = forked.TokenizerProcess.start("o200k_base")
        assert child is not None
        counts = child.counts(texts)
        reaped = no_child_left()
        print(json.dumps({{"counts": counts, "reaped": reaped,
                          "seconds": time.monotonic() - started}}))
        """
    )
    assert got["counts"] is None, fault
    assert got["reaped"] is True, fault
    assert got["seconds"] < 30, fault


@pytest.mark.parametrize(
    "setup",
    [
        # no more processes (RLIMIT_NPROC, a cgroup's pids.max)
        "def fork(): raise BlockingIOError(11, 'Resource temporarily unavailable')\nos.fork = fork",
        # no more file descriptors for the second pipe (the first one's are closed)
        "real_pipe, pipes = os.pipe, []\n"
        "def pipe():\n"
        "    if pipes: raise OSError(24, 'Too many open files')\n"
        "    pipes.append(real_pipe())\n"
        "    return pipes[-1]\n"
        "os.pipe = pipe",
    ],
    ids=["fork fails", "no file descriptors"],
)
def test_a_sample_needs_no_child(tmp_path: Path, setup: str) -> None:
    path, options = _files(tmp_path)[0]
    got = run(
        f"""
        import json, os
        import costcalc
        from costcalc.tokens import forked
        {textwrap.indent(setup, " " * 8).strip()}
        fds = len(os.listdir("/proc/self/fd"))
        with_none = costcalc.count_file({path!r}, "gpt-4o", sample=2000, seed=3, **{options!r})
        print(json.dumps({{
            "tokens": with_none.tokens, "started": forked._STARTED == {{"o200k_base"}},
            "fds_left": len(os.listdir("/proc/self/fd")) - fds,
        }}))
        """
    )
    assert got["started"] is True  # it tried
    assert got["fds_left"] == 0
    assert isinstance(got["tokens"], int) and got["tokens"] > 0


def test_ctrl_c_as_the_child_is_forked_is_the_parents_alone() -> None:
    """A Ctrl-C landing just as fork() returns (in both processes) is held: the parent raises
    KeyboardInterrupt once the child is in hand, and ends it; the child, whose handler would
    raise the same in the parent's code, never sees it."""
    got = run(
        """
        import json, os, signal
        from costcalc.tokens import forked
        real_fork = os.fork
        def fork():
            pid = real_fork()
            signal.raise_signal(signal.SIGINT)  # in both, before anything else runs
            return pid
        os.fork = fork
        fds = len(os.listdir("/proc/self/fd"))
        try:
            forked.TokenizerProcess.start("o200k_base")
            outcome = "not interrupted"
        except KeyboardInterrupt:
            outcome = "interrupted"
        reaped = no_child_left()
        fds_left = len(os.listdir("/proc/self/fd")) - fds
        print(json.dumps({"outcome": outcome, "reaped": reaped, "fds_left": fds_left}))
        """
    )
    assert got == {"outcome": "interrupted", "reaped": True, "fds_left": 0}


def test_no_child_where_other_threads_run_or_the_encoding_is_built() -> None:
    got = run(
        """
        import json, threading, time
        from costcalc.tokens import forked
        from costcalc.tokens.encodings import get_encoding
        waiting = threading.Thread(target=time.sleep, args=(2,))
        waiting.start()
        threaded = forked.TokenizerProcess.start("o200k_base")
        waiting.join()
        get_encoding("cl100k_base")
        built = forked.TokenizerProcess.start("cl100k_base")
        print(json.dumps({"threaded": threaded is None, "built": built is None}))
        """
    )
    assert got == {"threaded": True, "built": True}


def _files(tmp_path: Path) -> list[tuple[str, dict[str, str]]]:
    """A CSV, a TSV and a text file of lines of many lengths and scripts."""
    import random

    rng = random.Random(7)
    words = ["the", "of", "naïve", "café", "東京", "données", "🚀", "Привет", "$1,234.56", "<t>"]
    rows = [
        " ".join(rng.choices(words, k=max(1, int(rng.lognormvariate(3, 1))))) for _ in range(30_000)
    ]
    csv_path = tmp_path / "rows.csv"
    tsv_path = tmp_path / "rows.tsv"
    text_path = tmp_path / "rows.txt"
    import csv

    with csv_path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "text", "lang"])
        for i, row in enumerate(rows):
            writer.writerow([i, row, "en"])
    tsv_path.write_text(
        "id\ttext\n" + "".join(f"{i}\t{r.replace(',', '')}\n" for i, r in enumerate(rows)),
        encoding="utf-8",
    )
    text_path.write_text("".join(r + "\n" for r in rows), encoding="utf-8")
    return [
        (str(csv_path), {"column": "text"}),
        (str(csv_path), {"template": "{lang}: {text}"}),
        (str(tsv_path), {"column": "text"}),
        (str(text_path), {"input_format": "lines"}),
    ]


@pytest.mark.parametrize("case", range(4))
def test_a_sample_is_the_same_with_the_child_as_without(tmp_path: Path, case: int) -> None:
    path, options = _files(tmp_path)[case]
    script = f"""
        import json
        import costcalc
        from costcalc.tokens import forked
        used = []
        real = forked.TokenizerProcess.counts
        def counts(self, texts):
            got = real(self, texts)
            used.append(got is not None)
            return got
        forked.TokenizerProcess.counts = counts
        #SETUP#
        result = costcalc.count_file({path!r}, "gpt-4o", sample=2000, seed=11, **{options!r})
        print(json.dumps({{"result": result.model_dump(mode="json"), "used": used}}))
        """
    with_child = run(script.replace("#SETUP#", ""))
    without = run(
        script.replace("#SETUP#", "forked.TokenizerProcess.start = classmethod(lambda c, e: None)")
    )
    assert with_child["used"] == [True]
    assert without["used"] == []
    assert with_child["result"] == without["result"]


def test_a_parent_killed_outright_takes_its_child_with_it(tmp_path: Path) -> None:
    """SIGKILL leaves the parent no clean-up: the kernel ends the child (PDEATHSIG)."""
    pid_file = tmp_path / "child.pid"
    script = textwrap.dedent(
        f"""
        import os, time
        from costcalc.tokens import forked
        forked.get_encoding = lambda name: time.sleep(60)
        child = forked.TokenizerProcess.start("o200k_base")
        open({str(pid_file)!r}, "w").write(str(child.pid))
        time.sleep(60)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", script])
    try:
        child = _written_pid(pid_file)
        time.sleep(0.3)  # the child has set PDEATHSIG
        parent.kill()
        parent.wait(timeout=10)
        deadline = time.monotonic() + 10
        while _alive(child):
            assert time.monotonic() < deadline, "the child outlived its parent"
            time.sleep(0.05)
    finally:
        parent.kill()
        parent.wait(timeout=10)


def _written_pid(pid_file: Path) -> int:
    """The child's pid, once the script has written it (within a minute)."""
    deadline = time.monotonic() + 60
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline, "no child was started"
        time.sleep(0.05)
    return int(pid_file.read_text())


def _alive(pid: int) -> bool:
    """The process runs (not gone, not a zombie awaiting its reaper)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_ctrl_c_during_a_sample_ends_both(tmp_path: Path) -> None:
    """Ctrl-C (SIGINT to the process group) while the child builds: the parent says
    "interrupted" (exit 130), the child ignores it and is ended by the parent."""
    path, _ = _files(tmp_path)[0]
    pid_file = tmp_path / "child.pid"
    script = textwrap.dedent(
        f"""
        import sys, time
        from costcalc.tokens import forked
        forked.get_encoding = lambda name: time.sleep(60)
        real = forked.TokenizerProcess.start.__func__
        def start(cls, encoding):
            child = real(cls, encoding)
            open({str(pid_file)!r}, "w").write(str(child.pid))
            return child
        forked.TokenizerProcess.start = classmethod(start)
        sys.argv = ["costcalc", "tokens", {path!r}, "--column", "text", "--sample", "2000"]
        from costcalc.__main__ import main
        main()
        """
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", script], stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        child = _written_pid(pid_file)
        time.sleep(0.5)
        os.killpg(parent.pid, signal.SIGINT)
        _, err = parent.communicate(timeout=30)
        assert parent.returncode == 130, err
        assert err.decode().strip() == "costcalc: interrupted"
        assert not _alive(child)
    finally:
        parent.kill()
        parent.wait(timeout=10)
