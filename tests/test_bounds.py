"""Bounded resources: the cap on one request, memory that stays flat on pathological input
(proved under an address-space limit), text counted exactly in pieces, Ctrl-C and --jobs."""

from __future__ import annotations

import io
import json
import os
import re
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from costcalc.jsonlines import MAX_JSON_DEPTH, MAX_REQUEST_BYTES, JsonError, parse_json
from costcalc.tokens.encodings import get_encoding
from costcalc.tokens.readers import _LAST_CUT, text_pieces

COSTCALC = [sys.executable, "-m", "costcalc"]
MEMORY_LIMIT = 1024**3  # 1 GiB of address space: the issue saw 1.4 GB for one 100 MB line
MIB = 1024 * 1024


def _limited() -> None:  # pragma: no cover - runs in the child before exec
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_limited(
    args: list[str], stdin: object = subprocess.DEVNULL
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COSTCALC, *args],
        stdin=stdin,  # type: ignore[arg-type]
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_limited,
    )


def one_line_error(proc: subprocess.CompletedProcess[str], code: int = 2) -> str:
    assert proc.returncode == code, (proc.returncode, proc.stderr[-2000:])
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("costcalc: error: "), proc.stderr[-2000:]
    return lines[0]


# --- memory stays flat (each run under a 1 GiB address-space limit) ---------------------------


def test_zeros_without_newline_stop_at_the_cap(tmp_path: Path) -> None:
    path = tmp_path / "zeros.jsonl"
    path.write_bytes(b"\0" * (40 * MIB))
    line = one_line_error(run_limited(["tokens", str(path)]))
    assert line.endswith(
        "zeros.jsonl:1: request is larger than 32 MiB (costcalc's cap on one request)"
    )


def test_endless_zeros_on_stdin_stop_after_about_the_cap() -> None:
    # a pipe that never ends (as /dev/zero): the reading must stop by itself
    producer = subprocess.Popen(
        [sys.executable, "-c", "import sys\nwhile True: sys.stdout.buffer.write(bytes(1 << 20))"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        proc = run_limited(["tokens", "--input-format", "jsonl", "-"], stdin=producer.stdout)
    finally:
        producer.kill()
        producer.wait(10)
    assert "-:1: request is larger than 32 MiB" in one_line_error(proc)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_one_giant_jsonl_line_is_refused_with_its_line(tmp_path: Path, jobs: str) -> None:
    path = tmp_path / "big.jsonl"
    with path.open("wb") as f:
        f.write(b'{"prompt": "hello"}\n')
        f.write(b'{"prompt": "' + b"a" * (40 * MIB) + b'"}\n')
    line = one_line_error(run_limited(["tokens", str(path), "--jobs", jobs]))
    assert line.endswith(
        "big.jsonl:2: request is larger than 32 MiB (costcalc's cap on one request)"
    )


def test_deep_nesting_is_a_bad_line_under_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "deep.jsonl"
    path.write_text('{"prompt": "ok"}\n' + "[" * 100_000 + "\n")
    line = one_line_error(run_limited(["tokens", str(path)]))
    assert line.endswith(f"deep.jsonl:2: JSON nested deeper than {MAX_JSON_DEPTH} levels")


def test_many_small_lines_count_under_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "many.jsonl"
    path.write_text('{"prompt": "hello world"}\n' * 200_000)
    proc = run_limited(["tokens", str(path), "--format", "json"])
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["requests"] == 200_000


def test_one_line_of_text_without_newlines_counts_under_the_limit(tmp_path: Path) -> None:
    # counted as one request: no cap, flat memory (before: 1.7 GB and 33 s for 40 MB of CJK)
    path = tmp_path / "one-line.txt"
    path.write_bytes(b"hello world " * (3 * MIB) + "中文字符".encode() * MIB)
    proc = run_limited(["tokens", str(path), "--format", "json"])
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["requests"] == 1
    assert json.loads(proc.stdout)["tokens"] == 2 * 3 * MIB + 2 * MIB


@pytest.mark.parametrize(
    ("name", "content", "args", "expected"),
    [
        ("x.csv", b"text\n" + b"a" * (33 * MIB) + b"\n", ["--column", "text"], "x.csv:2: request is larger than 32 MiB"),
        ("x.csv", b'text\n"' + (b"a" * 4095 + b"\n") * 8400, ["--column", "text"], "x.csv:2: request is larger than 32 MiB"),
        ("x.txt", b"ok\n" + b"a" * (33 * MIB), ["--input-format", "lines"], "x.txt:2: request is larger than 32 MiB"),
        ("x.json", b"[" + b'"a", ' * (7 * MIB) + b'"a"]', [], "x.json: request is larger than 32 MiB"),
    ],
    ids=["csv-row", "csv-open-quote", "text-line", "json-document"],
)  # fmt: skip
def test_every_reader_stops_at_the_cap(
    tmp_path: Path, name: str, content: bytes, args: list[str], expected: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    line = one_line_error(run_limited(["tokens", str(path), *args]))
    assert expected in line


def test_batch_commands_stop_at_the_cap(tmp_path: Path) -> None:
    path = tmp_path / "zeros.jsonl"
    path.write_bytes(b"\0" * (33 * MIB))
    for args in (
        ["batch", "validate", str(path)],
        ["batch", "build", str(path), "-m", "gpt-4o", "--out", str(tmp_path / "out")],
    ):
        assert "zeros.jsonl:1: request is larger than 32 MiB" in one_line_error(run_limited(args))


# --- safe JSON ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 100_000, f"JSON nested deeper than {MAX_JSON_DEPTH} levels"),
        ("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1), "nested deeper"),
        ('{"a": ' * 300 + "1" + "}" * 300, "nested deeper"),
        ("1" * 5000, "number too long"),
        ('{"n": -' + "9" * 5000 + "}", "number too long"),
        ("{nope", "invalid JSON: Expecting property name"),
    ],
)
def test_parse_json_refuses_as_a_bad_line(text: str, message: str) -> None:
    for value in (text, text.encode()):
        with pytest.raises(JsonError, match=re.escape(message)):
            parse_json(value)


def test_parse_json_accepts_nesting_up_to_the_limit() -> None:
    deep = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert parse_json(deep) == json.loads(deep)
    assert parse_json('{"a": [1, {"b": "[[[[[[["}]}') == {"a": [1, {"b": "[[[[[[["}]}


def test_parse_json_is_cheap_on_a_line_of_brackets_in_strings() -> None:
    text = json.dumps({"prompt": "[" * 1_000_000})
    start = time.perf_counter()
    assert parse_json(text) == {"prompt": "[" * 1_000_000}
    assert time.perf_counter() - start < 1


_NUMBERS = st.one_of(
    st.integers(),
    st.integers(min_value=2**63 - 3, max_value=2**64 + 3),
    st.integers(min_value=-(2**63) - 3, max_value=-(2**63) + 3),
    st.integers(min_value=10**18, max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
)
_JSON = st.recursive(
    st.none() | st.booleans() | _NUMBERS | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(st.text(), _JSON, max_size=5), st.sampled_from(["", " ", "\n", "\r\n"]))
def test_parse_json_reads_a_line_as_json_loads_does(obj: dict[str, object], end: str) -> None:
    """The fast path (orjson) reads every object line as json.loads reads it, value for value
    and type for type: integers past 64 bits, NaN, infinities, surrogates included."""
    text = json.dumps(obj) + end
    for value in (text, text.encode("utf-8", "surrogatepass")):
        try:
            expected = json.loads(value)
        except ValueError:
            with pytest.raises(JsonError):
                parse_json(value)
            continue
        got = parse_json(value)
        assert repr(got) == repr(expected)  # repr: nan == nan, 1 vs 1.0, -0.0 vs 0.0


@pytest.mark.parametrize(
    ("line", "long"),
    [
        (b'{"startTimeUnixNano": "1767600000000000000"}', False),  # a quoted time: fast path
        (b'{"t": 1767600000000000000}', True),
        (b'{"t": [-12345678901234567890]}', True),
        (b'{"t":12345678901234567890}', True),
        (b'{"id": "12345678901234567890"}', True),  # a longer quoted run: the slow way, safe
        (b'{"t": 123456789012345678}', False),
    ],
)
def test_numbers_orjson_may_misread_are_found(line: bytes, long: bool) -> None:
    from costcalc.jsonlines import _long_number

    assert _long_number(line) is long
    assert repr(parse_json(line)) == repr(json.loads(line))


def test_parse_json_keeps_big_integers_integers() -> None:
    for n in (2**64, 2**64 - 1, -(2**63) - 1, 10**26):
        line = f'{{"usage": {{"prompt_tokens": {n}}}}}'
        for value in (line, line.encode()):
            got = parse_json(value)["usage"]["prompt_tokens"]
            assert type(got) is int and got == n


# --- text counted in pieces, exactly -------------------------------------------------------

_CUT_PLACES = re.compile(_LAST_CUT.pattern.replace("(?s:.*)", "", 1))
_BITS = ["a", "Zb", "é", "中文", "1", "234", " ", "  ", "\n", "\n ", "'", "'s", "don't", "!",
         "/", "+", "\t", "\r\n", "e\u0301", "😀", "_", "-", "I'M", "\u00a0", "(", '"', "/\n", "\n/"]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(_BITS), max_size=40), st.sampled_from(["o200k_base", "cl100k_base"])
)
def test_every_safe_cut_keeps_the_count(bits: list[str], encoding: str) -> None:
    enc = get_encoding(encoding)
    text = "".join(bits)
    whole = len(enc.encode_ordinary(text))
    for m in _CUT_PLACES.finditer(text):
        i = m.end()
        if 0 < i < len(text):
            assert (
                len(enc.encode_ordinary(text[:i])) + len(enc.encode_ordinary(text[i:])) == whole
            ), (
                text[:i],
                text[i:],
            )


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.sampled_from(["hello", "World", "42", "a1b2", "x+y", "don't", ",", "!\n"]), max_size=200
    )
)
def test_text_in_pieces_counts_as_raw_tiktoken(words: list[str]) -> None:
    text = " ".join(words)  # words short enough that every piece has a safe place
    enc = get_encoding("o200k_base")
    pieces = list(text_pieces(io.BytesIO(text.encode()), "x", "strict", piece_chars=40))
    assert "".join(pieces) == text
    assert all(len(p) <= 40 for p in pieces)
    assert sum(len(enc.encode_ordinary(p)) for p in pieces) == len(enc.encode_ordinary(text))


def test_a_run_without_a_safe_place_is_cut_at_the_piece_size() -> None:
    text = "中" * 1000
    pieces = list(text_pieces(io.BytesIO(text.encode()), "x", "strict", piece_chars=64))
    assert "".join(pieces) == text and max(map(len, pieces)) == 64


def test_the_cap_is_more_than_any_context() -> None:
    assert MAX_REQUEST_BYTES == 32 * MIB  # 2M tokens of context is under 10 MB of text


# --- processes: --jobs and Ctrl-C ----------------------------------------------------------


def test_jobs_above_the_cpus_are_capped_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "two.jsonl"
    path.write_text('{"prompt": "a"}\n{"prompt": "b"}\n')
    proc = subprocess.run(
        [*COSTCALC, "tokens", str(path), "--jobs", "10000", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["requests"] == 2
    assert re.fullmatch(
        r"costcalc: warning: 10,000 jobs asked for, more than the \d+ CPUs: using \d+\n",
        proc.stderr,
    )


@pytest.mark.skipif(sys.platform == "win32", reason="process groups and SIGINT are POSIX")
def test_ctrl_c_stops_the_workers_and_exits_130() -> None:
    line = json.dumps({"prompt": "hello world " * 20}) + "\n"
    code = (
        f"import sys\nblock = {line!r}.encode() * 2000\nwhile True: sys.stdout.buffer.write(block)"
    )
    producer = subprocess.Popen(  # an endless input: only Ctrl-C ends the count
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        proc = subprocess.Popen(
            [*COSTCALC, "tokens", "--input-format", "jsonl", "--jobs", "2", "-"],
            stdin=producer.stdout,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its own process group, as a terminal's foreground job
        )
        time.sleep(2)
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        started = time.monotonic()
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does: the whole group
        _out, err = proc.communicate(timeout=20)
        assert time.monotonic() - started < 10
    finally:
        producer.kill()
        producer.wait(10)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert err.strip().splitlines() == ["costcalc: interrupted"]


def _children(pid: int) -> list[int]:
    """The child processes of ``pid`` (psutil is not a dependency: Linux's /proc)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(x) for x in (task / "children").read_text().split()]
        except OSError:  # the thread ended meanwhile
            continue
    return found


def _alive(pid: int) -> bool:
    try:
        return "\nState:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


@pytest.mark.skipif(
    not Path("/proc/self/task").is_dir(), reason="finds the workers through Linux's /proc"
)
@pytest.mark.parametrize("kill", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_the_workers_end_with_the_parent(tmp_path: Path, kill: signal.Signals) -> None:
    """`tokens --jobs 2` killed (its own clean-up cannot run on SIGKILL) leaves no orphaned
    worker: they end with it (prctl PR_SET_PDEATHSIG on Linux)."""
    line = b'{"prompt": "hello there"}\n'
    with open(tmp_path / "err", "wb") as err:  # not a pipe: an orphan would hold it open
        proc = subprocess.Popen(
            [*COSTCALC, "tokens", "--input-format", "jsonl", "--jobs", "2", "-"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    workers: list[int] = []
    try:
        assert proc.stdin is not None
        # more than one block: the workers start, and the parent then waits for more input
        proc.stdin.write(line * (5 * MIB // len(line)))
        proc.stdin.flush()
        deadline = time.monotonic() + 30
        while len(workers) < 2 and time.monotonic() < deadline:
            workers = _children(proc.pid)
            time.sleep(0.05)
        assert len(workers) == 2, (tmp_path / "err").read_text()
        os.kill(proc.pid, kill)
        proc.wait(timeout=10)
        deadline = time.monotonic() + 5
        while any(map(_alive, workers)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not [w for w in workers if _alive(w)], "workers outlived their parent"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        for worker in workers:  # never leave one behind, even when the test fails
            if _alive(worker):
                os.kill(worker, signal.SIGKILL)
