"""Bad-input catalogue for reading requests: CSV rows wider than the header, a duplicated
column, text that is not valid Unicode (a lone surrogate), a prompt of only a BOM or
zero-width characters; and an output path that ends in a slash. Exit 2, one line naming the
file and line, in every command that reads the input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import RunCli, assert_one_line_error
from tests.test_outputs import CONFIG

SURROGATE = "text holds a lone surrogate (\\ud800), which is not valid Unicode"
EXTRA_FIELDS = "x.csv:2: row has 2 fields, the header has 1 (quote a field that holds commas)"
EMPTY = "empty prompt (providers reject a message with no text)"

# the commands that read an input file of requests: ({f}: the file; CSV flags apart)
READERS: list[tuple[str, list[str], list[str]]] = [
    ("tokens", ["tokens", "{f}"], ["--column", "body"]),
    ("quote", ["quote", "-m", "gpt-4o", "-o", "10", "--input-file", "{f}"], ["--input-column", "body"]),
    ("build", ["batch", "build", "{f}", "-m", "gpt-4o", "--out", "{d}/out"], ["--column", "body"]),
]  # fmt: skip
BUILDERS = [r for r in READERS if r[0] != "tokens"]  # a counter counts what a provider refuses

# (case id, file name, content, commands, CSV?, message fragments)
INPUTS: list[tuple[str, str, bytes, list[tuple[str, list[str], list[str]]], tuple[str, ...]]] = [
    ("csv-more-fields", "x.csv", b"body\nhello, world and more\n", READERS, (EXTRA_FIELDS,)),
    ("csv-more-fields-later-row", "x.csv", b"id,body\n1,a\n2,b,c\n", READERS, ("x.csv:3: row has 3 fields, the header has 2 (quote",)),
    ("tsv-more-fields", "x.tsv", b"body\nhello\tworld\n", READERS, ("x.tsv:2: row has 2 fields, the header has 1 (quote a field that holds tabs)",)),
    ("csv-duplicate-column", "x.csv", b"body,body\na,b\n", READERS, ("x.csv:1: the header names the column 'body' 2 times",)),
    ("jsonl-lone-surrogate", "x.jsonl", b'{"prompt": "\\ud800"}\n', BUILDERS, ("x.jsonl:1: " + SURROGATE,)),
    ("jsonl-lone-low-surrogate", "x.jsonl", b'"ok"\n"a \\udfff b"\n', BUILDERS, ("x.jsonl:2: text holds a lone surrogate (\\udfff)",)),
    ("jsonl-surrogate-in-message", "x.jsonl", b'{"messages": [{"role": "user", "content": "\\ud800"}]}\n', BUILDERS, ("x.jsonl:1: message 1 holds a lone surrogate (\\ud800)",)),
    ("jsonl-surrogate-in-system", "x.jsonl", b'{"system": "\\ud800", "prompt": "hi"}\n', [r for r in BUILDERS if r[0] == "build"], ("x.jsonl:1: system holds a lone surrogate (\\ud800)",)),
    ("text-zero-width-line", "x.txt", "hi\n\u200b \u200d\n".encode(), BUILDERS, ("x.txt:2: " + EMPTY,)),
    ("jsonl-bom-prompt", "x.jsonl", b'"\\ufeff"\n', BUILDERS, ("x.jsonl:1: " + EMPTY,)),
    ("jsonl-zero-width-prompt", "x.jsonl", b'{"prompt": "\\u200b\\u2060"}\n', BUILDERS, ("x.jsonl:1: " + EMPTY,)),
    ("csv-zero-width-cell", "x.csv", "body\nhi\n\ufeff\n".encode(), BUILDERS, ("x.csv:3: " + EMPTY,)),
    ("text-only-a-bom", "x.txt", b"\xef\xbb\xbf\n", BUILDERS, ("x.txt",)),
]  # fmt: skip


def _cases() -> list[tuple[str, str, bytes, list[str], tuple[str, ...]]]:
    out = []
    for name, fname, content, commands, fragments in INPUTS:
        for command, args, csv_flags in commands:
            flags = csv_flags if fname.endswith((".csv", ".tsv")) else []
            out.append((f"{name}-{command}", fname, content, [*args, *flags], fragments))
    return out


CASES = _cases()


@pytest.mark.parametrize(
    ("name", "fname", "content", "args", "fragments"), CASES, ids=[c[0] for c in CASES]
)
def test_request_refused(
    run_cli: RunCli,
    tmp_path: Path,
    name: str,
    fname: str,
    content: bytes,
    args: list[str],
    fragments: tuple[str, ...],
) -> None:
    (tmp_path / fname).write_bytes(content)
    argv = [a.replace("{f}", str(tmp_path / fname)).replace("{d}", str(tmp_path)) for a in args]
    result = run_cli(*argv)
    assert_one_line_error(result, *fragments)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("name", "line", "fragment"),
    [
        ("surrogate", '{"prompt": "\\ud800"}', SURROGATE),
        ("surrogate-in-messages", '{"messages": [{"role": "user", "content": "\\udc00"}]}', "message 1 holds a lone surrogate"),
        ("zero-width", '"\\u200b"', EMPTY),
    ],
)  # fmt: skip
def test_queue_add_refuses_it(
    run_cli: RunCli, tmp_path: Path, name: str, line: str, fragment: str
) -> None:
    result = run_cli("queue", "add", "--db", str(tmp_path / "q.db"), input=line + "\n")
    assert_one_line_error(result, "stdin:1: " + fragment)


def _batch_line(model: str, content: str = "hi") -> str:
    return json.dumps(
        {
            "custom_id": "r1",
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {"model": model, "messages": [{"role": "user", "content": content}]},
        }
    )


@pytest.mark.parametrize(
    ("name", "line", "fragment"),
    [
        ("unknown-model", _batch_line("nosuchmodel"), "b.jsonl:1: unknown model 'nosuchmodel'"),
        ("lone-surrogate", _batch_line("gpt-4o", "\ud800"), "b.jsonl:1: body.messages[0] holds a lone surrogate (\\ud800)"),
        ("control-model", _batch_line("\x1b[2J" + "x" * 5000 + "\x00"), "unknown model '\\x1b[2Jxxx"),
        ("control-url", _batch_line("gpt-4o").replace("/v1/chat/completions", "\\u001b[2J" + "u" * 500), "url '\\x1b[2Juuu"),
    ],
)  # fmt: skip
def test_validate_reports_it(
    run_cli: RunCli, tmp_path: Path, name: str, line: str, fragment: str
) -> None:
    (tmp_path / "b.jsonl").write_text(line + "\n", encoding="utf-8")
    for fmt in ("table", "json"):
        result = run_cli("batch", "validate", str(tmp_path / "b.jsonl"), "--format", fmt)
        assert result.exit_code == 1, (result.stdout, result.stderr)
        assert fragment in result.stdout.replace("\\\\", "\\"), result.stdout
    table = run_cli("batch", "validate", str(tmp_path / "b.jsonl")).stdout
    # every user text escaped and cut: no control character, no 5,000-character line
    assert all(c.isprintable() for c in table.replace("\n", "")), table
    assert max(len(x) for x in table.splitlines()) < 400


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("check-out-file", ["check", CONFIG, "--out", "{d}/real.txt/", "--force"]),
        ("check-out-new", ["check", CONFIG, "--out", "{d}/newfile/"]),
        ("diff-out-new", ["diff", CONFIG, CONFIG, "--out", "{d}/newfile/"]),
    ],
)
def test_an_output_path_ending_in_a_slash_is_a_folder(
    run_cli: RunCli, tmp_path: Path, name: str, args: list[str]
) -> None:
    (tmp_path / "real.txt").write_text("mine\n")
    result = run_cli(*(a.replace("{d}", str(tmp_path)) for a in args))
    assert_one_line_error(result, "names a folder (it ends in a slash), expected a file")
    assert (tmp_path / "real.txt").read_text() == "mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["real.txt"]
