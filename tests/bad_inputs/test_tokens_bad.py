"""Bad-input catalogue for `costcalc tokens`: exit 2, one line naming file/line/field, no traceback."""

from __future__ import annotations

import gzip
import json
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import RunCli, assert_one_line_error

# (case id, {file name: content}, argument list ({d} is the temp dir), message fragments)
CASES: list[tuple[str, dict[str, str | bytes], list[str], tuple[str, ...]]] = [
    ("invalid-utf8-text", {"a.txt": b"fine\nstill fine\nbad \xff byte\n"}, ["{d}/a.txt"], ("a.txt:3:", "not valid UTF-8", "--errors replace")),
    ("invalid-utf8-jsonl", {"a.jsonl": b'{"prompt": "ok"}\n{"prompt": "bad \xff"}\n'}, ["{d}/a.jsonl"], ("a.jsonl:2:", "not valid UTF-8")),
    ("invalid-utf8-csv", {"a.csv": b"text\nok\nbad \xff\n"}, ["{d}/a.csv", "--column", "text"], ("a.csv:3:", "not valid UTF-8")),
    ("negative-seed", {"a.txt": "x\n"}, ["{d}/a.txt", "--sample", "1", "--seed", "-1"], ("Invalid value for '--seed': -1 is not in the range x>=0",)),
    ("column-on-text-file", {"a.txt": "Hello world\n"}, ["{d}/a.txt", "--column", "body"], ("a.txt: --column and --template apply to CSV or Parquet input only",)),
    ("field-on-text-file", {"a": '{"text": "x"}\n'}, ["{d}/a", "--field", "text"], ("a: --field applies to JSON input, and this is read as text (name it .jsonl or .json, or give --input-format jsonl)",)),
    ("field-on-stdin", {}, ["-", "--field", "text"], ("-: --field applies to JSON input, and this is read as text",)),
    ("field-on-lines", {"a.jsonl": '{"text": "x"}\n'}, ["{d}/a.jsonl", "--input-format", "lines", "--field", "text"], ("a.jsonl: --field applies to JSON input, and this is read as text",)),
    ("column-on-jsonl-file", {"a.jsonl": '{"prompt": "x"}\n'}, ["{d}/a.jsonl", "--column", "body"], ("a.jsonl: --column and --template apply to CSV or Parquet input only",)),
    ("messages-not-a-list", {"a.jsonl": '{"messages": "hello"}\n'}, ["{d}/a.jsonl"], ("a.jsonl:1:", "messages must be a list of chat messages, got str")),
    ("csv-header-with-newlines", {"a.csv": '"two\nlines",b\n1,2\n'}, ["{d}/a.csv", "--column", "a"], ("a.csv:1: no column 'a' (columns: two lines, b)",)),
    ("csv-header-unterminated-quote", {"a.csv": '"un\nterminated,b\n1,2\n'}, ["{d}/a.csv", "--column", "a"], ("a.csv:1: unterminated quoted field",)),
    ("invalid-json-line", {"a.jsonl": '{"prompt": "ok"}\n\n{"prompt": oops}\n'}, ["{d}/a.jsonl"], ("a.jsonl:3:", "invalid JSON", "column 12")),
    ("invalid-json-line-jobs", {"a.jsonl": '{"prompt": "ok"}\n' * 5 + "{nope\n"}, ["{d}/a.jsonl", "--jobs", "2"], ("a.jsonl:6:", "invalid JSON")),
    ("invalid-json-document", {"a.json": '[{"role": "user", "content": "x"},\n oops]'}, ["{d}/a.json"], ("a.json:2:", "invalid JSON")),
    ("missing-field", {"a.jsonl": '{"data": {"text": "x"}}\n{"data": {}}\n'}, ["{d}/a.jsonl", "--field", "data.text"], ("a.jsonl:2:", "no field 'data.text'")),
    ("no-request-text", {"a.jsonl": '{"id": 1, "n": 2}\n'}, ["{d}/a.jsonl"], ("a.jsonl:1:", "no request text found", "--field")),
    ("field-not-text", {"a.jsonl": '{"n": 2}\n'}, ["{d}/a.jsonl", "--field", "n"], ("a.jsonl:1:", "found int, expected text or a list of chat messages")),
    ("bad-message", {"a.jsonl": '{"messages": [{"role": "user", "content": "x"}, 5]}\n'}, ["{d}/a.jsonl"], ("a.jsonl:1:", "expected text or a list of chat messages")),
    ("csv-without-column", {"a.csv": "title,body\nx,y\n"}, ["{d}/a.csv", "--column", "text"], ("a.csv:1:", "no column 'text'", "columns: title, body")),
    ("template-missing-column", {"a.csv": "title,body\nx,y\n"}, ["{d}/a.csv", "--template", "Summarise {text}"], ("a.csv:1:", "no template column 'text'")),
    ("template-not-a-name", {"a.csv": "title\nx\n"}, ["{d}/a.csv", "--template", "{title.upper}"], ("--template", "not a plain column name")),
    ("template-conversion-and-spec", {"a.csv": "body\nx\n"}, ["{d}/a.csv", "--template", "{body!r:>9}"], ("--template: '{body!r:>9}' is not a plain column name (write {column}, and {{ }} for literal braces)",)),
    ("template-unbalanced", {"a.csv": "title\nx\n"}, ["{d}/a.csv", "--template", "oops {title"], ("--template",)),
    ("csv-needs-column", {"a.csv": "title\nx\n"}, ["{d}/a.csv"], ("a.csv", "needs --column NAME or --template")),
    ("column-on-jsonl", {"a.jsonl": '{"prompt": "x"}\n'}, ["{d}/a.jsonl", "--input-format", "jsonl", "--column", "x"], ("--column and --template apply to CSV or Parquet input only",)),
    ("short-csv-row", {"a.csv": "id,text\n1,hello\n2\n"}, ["{d}/a.csv", "--column", "text"], ("a.csv:3:", "row has 1 fields, the header has 2")),
    ("unknown-model", {"a.txt": "x"}, ["{d}/a.txt", "-m", "gpt4o"], ("unknown model 'gpt4o'", "did you mean", "'gpt-4o'")),
    ("sample-zero", {"a.jsonl": '{"prompt": "x"}\n'}, ["{d}/a.jsonl", "--sample", "0"], ("--sample must be at least 1, got 0",)),
    ("jobs-zero", {"a.txt": "x"}, ["{d}/a.txt", "--jobs", "0"], ("--jobs must be at least 1, got 0",)),
    ("sample-stdin", {}, ["-", "--sample", "5"], ("--sample reads its input twice",)),
    ("missing-file", {}, ["{d}/nope.txt"], ("nope.txt: no such file",)),
    ("directory", {"sub/x.txt": "x"}, ["{d}/sub"], ("sub/x.txt: is not a Parquet file (a folder is read as a Parquet table",)),
    ("empty-directory", {"sub/_SUCCESS": ""}, ["{d}/sub"], ("sub: is a directory with no data files",)),
    ("truncated-gzip", {"a.jsonl.gz": gzip.compress(b'{"prompt": "x"}\n' * 500)[:60]}, ["{d}/a.jsonl.gz"], ("a.jsonl.gz: corrupt or truncated gzip data",)),
    ("corrupt-xz-named-plain", {"a.csv": b"\xfd7zXZ\x00" + b"garbage" * 20}, ["{d}/a.csv", "--column", "t"], ("a.csv: corrupt or truncated xz data",)),
    ("corrupt-bzip2", {"a.txt.bz2": b"BZh9" + b"\x00" * 40}, ["{d}/a.txt.bz2"], ("a.txt.bz2: corrupt or truncated bzip2 data",)),
    ("parquet-suffix-not-parquet", {"a.parquet": b"not parquet at all"}, ["{d}/a.parquet", "--column", "t"], ("a.parquet: is not a Parquet file",)),
    ("bad-field-path", {"a.jsonl": '{"a": 1}\n'}, ["{d}/a.jsonl", "--field", "a..b"], ("--field 'a..b'",)),
    ("text-and-files", {"a.txt": "x"}, ["{d}/a.txt", "--text", "hi"], ("either --text or files",)),
    ("bad-format-choice", {"a.txt": "x"}, ["{d}/a.txt", "--format", "yaml"], ("Invalid value for '--format'",)),
    ("messages-text-not-json", {}, ["--messages", "--text", "hello"], ("--text with --messages: invalid JSON",)),
    ("seed-without-sample", {"a.txt": "x"}, ["{d}/a.txt", "--seed", "3"], ("--seed applies to --sample only",)),
    ("messages-csv-column", {"a.csv": "id,body\n1,hi\n"}, ["{d}/a.csv", "--column", "body", "--messages"], ("a.csv: --messages applies to JSON input; a CSV column is counted as text",)),
    # --engine spark: what it does not read is refused before Spark starts
    ("as-sent-with-text", {}, ["--text", "hi", "--as-sent"], ("--as-sent applies to files counted here",)),
    ("as-sent-with-spark", {}, ["--engine", "spark", "--column", "text", "--as-sent", "{d}/x.parquet"], ("--as-sent applies to files counted here",)),
    ("master-without-spark", {"a.txt": "x"}, ["{d}/a.txt", "--master", "local[2]"], ("--master applies to --engine spark only",)),
    ("spark-without-column", {}, ["--engine", "spark", "{d}/x.parquet"], ("--engine spark needs --column NAME",)),
    ("spark-without-files", {}, ["--engine", "spark", "--column", "text"], ("--engine spark needs Parquet files or folders",)),
    ("spark-with-sample", {}, ["--engine", "spark", "--column", "text", "--sample", "5", "{d}/x.parquet"], ("--sample does not apply to --engine spark",)),
    ("spark-with-jobs", {}, ["--engine", "spark", "--column", "text", "--jobs", "2", "{d}/x.parquet"], ("--jobs does not apply to --engine spark",)),
    ("spark-with-text", {}, ["--engine", "spark", "--column", "text", "--text", "hi"], ("--text does not apply to --engine spark",)),
    ("spark-with-stdin", {}, ["--engine", "spark", "--column", "text", "-"], ("Spark reads files, not stdin (-)",)),
    # pathological input: bounded, escaped, named with its line
    ("jsonl-deep-nesting", {"a.jsonl": '{"prompt": "ok"}\n' + "[" * 100_000 + "\n"}, ["{d}/a.jsonl"], ("a.jsonl:2: JSON nested deeper than 256 levels",)),
    ("jsonl-deep-nesting-jobs", {"a.jsonl": '{"prompt": "ok"}\n' + "[" * 100_000 + "\n"}, ["{d}/a.jsonl", "--jobs", "2"], ("a.jsonl:2: JSON nested deeper than 256 levels",)),
    ("jsonl-deep-objects", {"a.jsonl": '{"a": ' * 300 + "1" + "}" * 300 + "\n"}, ["{d}/a.jsonl"], ("a.jsonl:1: JSON nested deeper than 256 levels",)),
    ("jsonl-sample-deep-nesting", {"a.jsonl": "[" * 100_000 + "\n"}, ["{d}/a.jsonl", "--sample", "1"], ("a.jsonl:1: JSON nested deeper than 256 levels",)),
    ("json-document-deep-nesting", {"a.json": "[" * 100_000}, ["{d}/a.json"], ("a.json:1: JSON nested deeper than 256 levels",)),
    ("jsonl-long-integer", {"a.jsonl": '{"prompt": "ok"}\n{"prompt": "x", "n": ' + "9" * 5000 + "}\n"}, ["{d}/a.jsonl"], ("a.jsonl:2: number too long",)),
    ("json-document-long-integer", {"a.json": "[" + "1" * 5000 + "]"}, ["{d}/a.json"], ("a.json:1: number too long",)),
    ("messages-text-deep-nesting", {}, ["--messages", "--text", "[" * 100_000], ("--text with --messages: JSON nested deeper than 256 levels",)),
    ("jsonl-line-over-the-cap", {"a.jsonl": b'{"prompt": "ok"}\n' + b"\0" * (33 * 2**20)}, ["{d}/a.jsonl"], ("a.jsonl:2: request is larger than 32 MiB (costcalc's cap on one request)",)),
    ("text-line-over-the-cap", {"a.txt": b"ok\n" + b"x" * (33 * 2**20) + b"\n"}, ["{d}/a.txt", "--input-format", "lines"], ("a.txt:2: request is larger than 32 MiB",)),
    ("csv-unterminated-quote", {"a.csv": 'id,text\n1,hello\n2,"never closed\n3,lost\n4,lost\n'}, ["{d}/a.csv", "--column", "text"], ("a.csv:3: unterminated quoted field",)),
    ("csv-quote-inside-quoted-field", {"a.csv": 'id,body\n1,"a"b"\n'}, ["{d}/a.csv", "--column", "body"], ("a.csv:2: invalid CSV: ',' expected after '\"'",)),
    ("csv-no-column-header-with-trailing-space", {"a.csv": "id,body \n1,x\n"}, ["{d}/a.csv", "--column", "body"], ("a.csv:1: no column 'body' (columns: id, 'body ')",)),
    ("csv-unterminated-quote-after-multiline", {"a.csv": 'id,text\n"a\nb","open\n'}, ["{d}/a.csv", "--column", "text"], ("a.csv:3: unterminated quoted field",)),
    ("csv-invalid-utf8-header", {"a.csv": b"te\xffxt,body\nhello,x\n"}, ["{d}/a.csv", "--column", "body"], ("a.csv:1:", "not valid UTF-8", "--errors replace")),
    ("csv-invalid-utf8-other-column", {"a.csv": b"id,text\n1,ok\n\xff,fine\n"}, ["{d}/a.csv", "--column", "text"], ("a.csv:3:", "not valid UTF-8")),
    ("csv-nul-byte", {"a.csv": b"id,text\n1,ok\n2,bad\0\n"}, ["{d}/a.csv", "--column", "text"], ("a.csv:3: NUL byte",)),
    ("csv-nul-in-header", {"a.csv": b"id\0,text\n1,ok\n"}, ["{d}/a.csv", "--column", "text"], ("a.csv:1: NUL byte",)),
    ("csv-row-missing-template-column", {"a.csv": "a,b,c\n1,2,3\n4,5\n"}, ["{d}/a.csv", "--template", "{a} {c}"], ("a.csv:3: row has 2 fields, the header has 3",)),
    ("csv-header-escaped", {"a.csv": "a\x1b[31m,b\x07\nx,y\n"}, ["{d}/a.csv", "--column", "text"], ("a.csv:1: no column 'text' (columns: a\\x1b[31m, b\\x07)",)),
    ("csv-header-cut-short", {"a.csv": "h" * 500 + "\nx\n"}, ["{d}/a.csv", "--column", "text"], ("(columns: " + "h" * 40 + "...)",)),
    ("csv-column-escaped", {"a.csv": "a\nx\n"}, ["{d}/a.csv", "--column", "t\x1b[2Jx"], ("no column 't\\x1b[2Jx'",)),
    ("missing-csv-without-column", {}, ["{d}/missing.csv"], ("missing.csv: no such file",)),
    ("tsv-without-column", {"a.tsv": "a\tb\nx\ty\n"}, ["{d}/a.tsv"], ("a.tsv: CSV input needs --column NAME or --template TEXT",)),
    ("tsv-no-such-column", {"a.tsv": "a\tb\nx\ty\n"}, ["{d}/a.tsv", "--column", "a,b"], ("a.tsv:1: no column 'a,b' (columns: a, b)",)),
    ("file-name-with-controls", {}, ["{d}/no\x1b[2Jfile\n.jsonl"], ("no\\x1b[2Jfile\\n.jsonl: no such file",)),
    ("csv-row-over-the-cap", {"a.csv": b'text\n"' + (b"a" * 4095 + b"\n") * 8400}, ["{d}/a.csv", "--column", "text"], ("a.csv:2: request is larger than 32 MiB",)),
]  # fmt: skip


def _setup(tmp_path: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


@pytest.mark.parametrize(("name", "files", "args", "fragments"), CASES, ids=[c[0] for c in CASES])
def test_tokens_rejects(
    run_cli: RunCli,
    tmp_path: Path,
    name: str,
    files: dict[str, str | bytes],
    args: list[str],
    fragments: tuple[str, ...],
) -> None:
    _setup(tmp_path, files)
    argv = [a.replace("{d}", str(tmp_path)) for a in args]
    result = run_cli("tokens", *argv, input="")
    assert_one_line_error(result, *fragments)


def test_invalid_utf8_is_counted_with_errors_replace(run_cli: RunCli, tmp_path: Path) -> None:
    _setup(
        tmp_path,
        {
            "a.txt": b"bad \xff byte\n",
            "a.jsonl": b'{"prompt": "bad \xff"}\n',
            "a.csv": b"text\nbad \xff\n",
        },
    )
    for args in (["a.txt"], ["a.jsonl"], ["a.csv", "--column", "text"]):
        argv = [str(tmp_path / args[0]), *args[1:], "--errors", "replace"]
        result = run_cli("tokens", *argv)
        assert result.exit_code == 0, result.stderr
        assert int(result.stdout) > 0


def test_empty_file_is_not_an_error(run_cli: RunCli, tmp_path: Path) -> None:
    _setup(tmp_path, {"e.txt": "", "e.jsonl": "\n\n", "e.csv": "text\n"})
    assert run_cli("tokens", str(tmp_path / "e.txt")).stdout == "0\n"
    assert run_cli("tokens", str(tmp_path / "e.jsonl")).stdout == "0\n"
    assert run_cli("tokens", str(tmp_path / "e.csv"), "--column", "text").stdout == "0\n"


def _lake(d: Path) -> Path:
    """A Parquet folder with one good part, as Spark writes a table."""
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    (d / "pq").mkdir()
    pq.write_table(pa.table({"text": ["Hello world"]}), d / "pq" / "part-0.parquet")
    return d / "pq"


def _mknod(path: Path) -> None:  # /dev/zero's numbers, made in tmp_path (we run as root)
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 5))
    except OSError as exc:
        pytest.skip(f"mknod refused: {exc}")


def _loop(d: Path) -> None:
    (_lake(d) / "sub").mkdir()
    (d / "pq" / "sub" / "up").symlink_to("..")


def _dangling_part(d: Path) -> None:
    (_lake(d) / "part-1.parquet").symlink_to("/nonexistent")


def _fifo_part(d: Path) -> None:
    os.mkfifo(_lake(d) / "part-1.parquet")


def _device_part(d: Path) -> None:
    _mknod(_lake(d) / "part-1.parquet")


def _non_utf8_part(d: Path) -> None:
    (_lake(d) / os.fsdecode(b"part-\xff")).write_bytes(b"not parquet")


def _device_input(d: Path) -> None:
    _mknod(d / "z")


# (case id, what to make in {d}, argument list, message fragments): what is at a path
PATHS: list[tuple[str, Callable[[Path], None], list[str], tuple[str, ...]]] = [
    ("parquet-folder-symlink-loop", _loop, ["{d}/pq", "--column", "text"], ("pq/sub/up: is a symlink loop (to '..'",)),
    ("parquet-folder-dangling-part", _dangling_part, ["{d}/pq", "--column", "text"], ("pq/part-1.parquet: is a dangling symlink (to '/nonexistent')",)),
    ("parquet-folder-fifo-part", _fifo_part, ["{d}/pq", "--column", "text"], ("pq/part-1.parquet: is a FIFO, not a regular file",)),
    ("parquet-folder-device-part", _device_part, ["{d}/pq", "--column", "text"], ("pq/part-1.parquet: is a character device, not a regular file",)),
    ("parquet-folder-non-utf8-name", _non_utf8_part, ["{d}/pq", "--column", "text"], ("pq/part-\\xff: is not a Parquet file",)),
    ("device-as-input", _device_input, ["{d}/z"], ("z: is a device, expected a file",)),
    ("device-as-parquet-input", _device_input, ["{d}/z", "--input-format", "parquet", "--column", "text"], ("z: is a device, expected a file",)),
]  # fmt: skip


@pytest.mark.parametrize(("name", "make", "args", "fragments"), PATHS, ids=[c[0] for c in PATHS])
def test_tokens_rejects_what_is_at_a_path(
    run_cli: RunCli,
    tmp_path: Path,
    name: str,
    make: Callable[[Path], None],
    args: list[str],
    fragments: tuple[str, ...],
) -> None:
    make(tmp_path)
    argv = [a.replace("{d}", str(tmp_path)) for a in args]
    assert_one_line_error(run_cli("tokens", *argv, input=""), *fragments)


def _whitespace_files(d: Path) -> None:
    run = " " * 1_200_000  # tiktoken's regex gives up near 1,000,000 (a Rust panic)
    (d / "a.txt").write_text(f"start{run}end\nhello\n")
    (d / "a.jsonl").write_text('{"text": "x' + run + 'y"}\n{"text": "ok"}\n')
    (d / "a.csv").write_text(f"id,text\n1,x{run}\t\tx\n2,ok\n")
    (d / "big.txt").write_text("short line of text\n" * 20_000 + f"a{run}b\n" * 2)


SPACE_RUNS = [
    ("text-line", ["a.txt", "--input-format", "lines"]),
    ("jsonl-field", ["a.jsonl", "--field", "text"]),
    ("csv-cell", ["a.csv", "--column", "text"]),
    ("sample", ["big.txt", "--input-format", "lines", "--sample", "300", "--seed", "1"]),
]


@pytest.mark.parametrize("args", [c[1] for c in SPACE_RUNS], ids=[c[0] for c in SPACE_RUNS])
def test_a_whitespace_run_tiktoken_cannot_take_whole_is_counted_with_a_note(
    tmp_path: Path, args: list[str]
) -> None:
    """A run of 1,200,000 spaces makes tiktoken's regex panic (a Rust backtrace on stderr, an
    exception Python cannot catch as one): costcalc counts it in parts and says so in one
    note, in every reader and the sample."""
    import subprocess
    import sys

    _whitespace_files(tmp_path)
    cmd = [sys.executable, "-m", "costcalc", "tokens", str(tmp_path / args[0]), *args[1:]]
    done = subprocess.run([*cmd, "--format", "json"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["tokens"] > 0
    lines = done.stderr.splitlines()
    assert lines and all(line.startswith("costcalc: note: ") for line in lines), done.stderr
    assert any("whitespace characters, more than tiktoken can tokenize whole" in x for x in lines)
    assert "panicked" not in done.stderr and "Traceback" not in done.stderr
