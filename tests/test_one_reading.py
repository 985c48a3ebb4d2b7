"""One reading of requests: `quote --input-file`, `batch build`, `batch validate` and `queue
add` accept and refuse the same requests (costcalc.requests decides for all four), and the
counters count a refused request but say how many they saw."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import costcalc
from tests.conftest import RunCli

EMPTY_PART = [{"type": "text", "text": ""}]

# (id, the request as an input line, the chat messages it is sent as in a batch line,
# whether a provider takes it)
REQUESTS: list[tuple[str, Any, Any, bool]] = [
    ("prompt-string", "hello", [{"role": "user", "content": "hello"}], True),
    ("empty-string", "", [{"role": "user", "content": ""}], False),
    ("blank-string", "  ", [{"role": "user", "content": "  "}], False),
    ("prompt", {"prompt": "hi"}, [{"role": "user", "content": "hi"}], True),
    ("text", {"text": "hi"}, [{"role": "user", "content": "hi"}], True),
    ("empty-prompt", {"prompt": ""}, [{"role": "user", "content": ""}], False),
    ("empty-text", {"text": ""}, [{"role": "user", "content": ""}], False),
    ("messages", {"messages": [{"role": "user", "content": "hi"}]},
     [{"role": "user", "content": "hi"}], True),
    ("message-parts", {"messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]},
     [{"role": "user", "content": [{"type": "text", "text": "hi"}]}], True),
    ("empty-content", {"messages": [{"role": "user", "content": ""}]},
     [{"role": "user", "content": ""}], False),
    ("blank-content", {"messages": [{"role": "user", "content": " \n"}]},
     [{"role": "user", "content": " \n"}], False),
    ("no-content", {"messages": [{"role": "user"}]}, [{"role": "user"}], False),
    ("empty-parts", {"messages": [{"role": "user", "content": EMPTY_PART}]},
     [{"role": "user", "content": EMPTY_PART}], False),
    ("no-parts", {"messages": [{"role": "user", "content": []}]},
     [{"role": "user", "content": []}], False),
    ("no-messages", {"messages": []}, [], False),
    ("no-role", {"messages": [{"content": "hi"}]}, [{"content": "hi"}], False),
    ("system-only", {"messages": [{"role": "system", "content": "be brief"}]},
     [{"role": "system", "content": "be brief"}], False),
    ("system-and-prompt", {"system": "be brief", "prompt": "hi"},
     [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}], True),
    ("system-and-empty-prompt", {"system": "be brief", "prompt": ""},
     [{"role": "system", "content": "be brief"}, {"role": "user", "content": ""}], False),
    ("number", 42, 42, False),
    ("null", None, None, False),
    ("list-of-texts", ["hi"], ["hi"], False),
    # text that is not valid Unicode (JSON writes a lone surrogate as "\ud800"), text that shows
    # nothing (a BOM, zero-width spaces and joiners)
    ("lone-surrogate", "\ud800", [{"role": "user", "content": "\ud800"}], False),
    ("lone-surrogate-prompt", {"prompt": "a\udc80b"}, [{"role": "user", "content": "a\udc80b"}], False),
    ("lone-surrogate-content", {"messages": [{"role": "user", "content": "\ud800"}]},
     [{"role": "user", "content": "\ud800"}], False),
    ("lone-surrogate-part", {"messages": [{"role": "user", "content": [{"type": "text", "text": "\udfff"}]}]},
     [{"role": "user", "content": [{"type": "text", "text": "\udfff"}]}], False),
    ("surrogate-pair", "\ud83d\ude00", [{"role": "user", "content": "\ud83d\ude00"}], True),
    ("bom-prompt", "\ufeff", [{"role": "user", "content": "\ufeff"}], False),
    ("zero-width-prompt", {"prompt": " \u200b\u200c\u200d\u2060 "}, [{"role": "user", "content": "\u200b \u200d"}], False),
    ("zero-width-then-text", "\u200bhi", [{"role": "user", "content": "\u200bhi"}], True),
]  # fmt: skip


def _accepted_by_build(run_cli: RunCli, tmp_path: Path, line: str) -> bool:
    src = tmp_path / "in.jsonl"
    src.write_text(line + "\n", encoding="utf-8")
    result = run_cli("batch", "build", str(src), "-m", "gpt-4o", "--out", str(tmp_path / "b"))
    assert result.exit_code in (0, 2), result.stderr
    return result.exit_code == 0


def _accepted_by_quote(run_cli: RunCli, tmp_path: Path, line: str) -> bool:
    src = tmp_path / "q.jsonl"
    src.write_text(line + "\n", encoding="utf-8")
    result = run_cli("quote", "-m", "gpt-4o", "--input-file", str(src), "-o", "10")
    assert result.exit_code in (0, 2), result.stderr
    return result.exit_code == 0


def _accepted_by_queue(run_cli: RunCli, tmp_path: Path, line: str) -> bool:
    result = run_cli("queue", "add", "--db", str(tmp_path / "q.db"), input=line + "\n")
    assert result.exit_code in (0, 2), result.stderr
    return result.exit_code == 0


def _accepted_by_validate(run_cli: RunCli, tmp_path: Path, messages: Any) -> bool:
    line = {
        "custom_id": "r1",
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {"model": "gpt-4o", "messages": messages, "max_tokens": 10},
    }
    path = tmp_path / "batch.jsonl"
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    result = run_cli("batch", "validate", str(path))
    assert result.exit_code in (0, 1), result.stderr
    return result.exit_code == 0


@pytest.mark.parametrize(
    ("request_line", "messages", "ok"),
    [c[1:] for c in REQUESTS],
    ids=[c[0] for c in REQUESTS],
)
def test_every_command_accepts_and_refuses_the_same_requests(
    run_cli: RunCli, tmp_path: Path, request_line: Any, messages: Any, ok: bool
) -> None:
    line = json.dumps(request_line)
    seen = {
        "batch build": _accepted_by_build(run_cli, tmp_path, line),
        "quote --input-file": _accepted_by_quote(run_cli, tmp_path, line),
        "queue add": _accepted_by_queue(run_cli, tmp_path, line),
        "batch validate": _accepted_by_validate(run_cli, tmp_path, messages),
    }
    assert seen == dict.fromkeys(seen, ok)


def test_a_refusal_names_the_line_and_the_reason(run_cli: RunCli, tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('{"prompt": "hi"}\n{"text": ""}\n', encoding="utf-8")
    for args in (
        ["batch", "build", str(src), "-m", "gpt-4o", "--out", str(tmp_path / "b")],
        ["quote", "-m", "gpt-4o", "--input-file", str(src), "-o", "10"],
    ):
        result = run_cli(*args)
        assert result.exit_code == 2
        assert result.stderr == (
            f"costcalc: error: {src}:2: empty prompt (providers reject a message with no text)\n"
        )


UNCOUNTABLE = ("number", "null", "no-role")
"""Requests a counter cannot count at all (no text and no chat messages): errors there too."""


def test_counters_count_refused_requests_and_say_how_many(run_cli: RunCli, tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    lines = [json.dumps(c[1]) for c in REQUESTS if c[0] not in UNCOUNTABLE]
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    # a list of texts has text to count: refused for its shape only (no request we write)
    refused = sum(1 for c in REQUESTS if not c[3] and c[0] not in (*UNCOUNTABLE, "list-of-texts"))
    counted = costcalc.count_file(src, "gpt-4o")
    assert counted.requests == len(lines)
    assert counted.refused_requests == refused
    assert costcalc.count_string("  ").refused_requests == 1
    assert costcalc.count_string("hi").refused_requests == 0
    result = run_cli("tokens", str(src), "-m", "gpt-4o", "--format", "table")
    assert result.exit_code == 0, result.stderr
    assert f"{refused} requests counted here would be refused by the providers" in result.stdout
    plain = run_cli("tokens", str(src), "-m", "gpt-4o")
    assert f"note: {refused} requests counted here would be refused" in plain.stderr


def test_a_csv_cell_of_white_space_is_counted_and_called_refused(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text('body\nhello\n" "\n', encoding="utf-8")
    assert costcalc.count_file(src, "gpt-4o", column="body").refused_requests == 1


BOM = b"\xef\xbb\xbf"


@pytest.mark.parametrize(
    ("name", "content"),
    [("in.txt", BOM + b"hello\n"), ("in.jsonl", BOM + b'{"prompt": "hello"}\n')],
)
def test_a_bom_starting_a_file_is_dropped_by_every_reader(
    run_cli: RunCli, tmp_path: Path, name: str, content: bytes
) -> None:
    src = tmp_path / name
    src.write_bytes(content)
    out = tmp_path / "b"
    assert run_cli("batch", "build", str(src), "-m", "gpt-4o", "--out", str(out)).exit_code == 0
    (part,) = out.glob("*.jsonl")
    sent = json.loads(part.read_text(encoding="utf-8"))
    assert sent["body"]["messages"] == [{"role": "user", "content": "hello"}]
    plain = src.with_name("plain" + src.suffix)
    plain.write_bytes(content[len(BOM) :])
    with_bom, without = costcalc.count_file(src, "gpt-4o"), costcalc.count_file(plain, "gpt-4o")
    assert (with_bom.tokens, with_bom.requests) == (without.tokens, without.requests)
    quoted = run_cli("quote", "-m", "gpt-4o", "-o", "10", "--input-file", str(src))
    assert quoted.exit_code == 0, quoted.stderr
    if name.endswith(".jsonl"):  # queue add reads JSONL on stdin
        added = run_cli("queue", "add", "--db", str(tmp_path / "q.db"), input=content)
        assert added.exit_code == 0, added.stderr


def test_a_bom_is_dropped_by_a_worker_reading_the_first_range(tmp_path: Path) -> None:
    from costcalc.tokens.engine import count_jsonl_range
    from costcalc.tokens.requests import CountSpec

    src = tmp_path / "in.jsonl"
    src.write_bytes(BOM + b'{"prompt": "hello"}\n{"prompt": "again"}\n')
    spec = CountSpec("o200k_base", None, None, "strict")
    part = count_jsonl_range(spec, str(src), 0, src.stat().st_size)
    assert sum(part.hist.values()) == 2
    assert part.nbytes == src.stat().st_size


def test_a_file_of_only_a_bom_has_no_requests_anywhere(run_cli: RunCli, tmp_path: Path) -> None:
    src = tmp_path / "in.txt"
    src.write_bytes(BOM + b"\n")
    build = run_cli("batch", "build", str(src), "-m", "gpt-4o", "--out", str(tmp_path / "b"))
    assert build.exit_code == 2 and "has no requests" in build.stderr
    quote = run_cli("quote", "-m", "gpt-4o", "-o", "10", "--input-file", str(src))
    assert quote.exit_code == 2 and "no requests to price" in quote.stderr


def test_a_lone_surrogate_is_the_same_bad_line_in_every_command(
    run_cli: RunCli, tmp_path: Path
) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('{"prompt": "hi"}\n{"prompt": "\\ud800"}\n', encoding="utf-8")
    why = "text holds a lone surrogate (\\ud800), which is not valid Unicode"
    for args in (
        ["batch", "build", str(src), "-m", "gpt-4o", "--out", str(tmp_path / "b")],
        ["quote", "-m", "gpt-4o", "--input-file", str(src), "-o", "10"],
    ):
        result = run_cli(*args)
        assert result.exit_code == 2
        assert result.stderr == f"costcalc: error: {src}:2: {why}\n"
    added = run_cli("queue", "add", "--db", str(tmp_path / "q.db"), input=src.read_bytes())
    assert added.stderr == f"costcalc: error: stdin:2: {why}\n"
    counted = run_cli("tokens", str(src))
    assert counted.exit_code == 0
    assert "note: 1 request counted here would be refused" in counted.stderr
