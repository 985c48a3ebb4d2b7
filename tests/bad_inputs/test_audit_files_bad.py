"""Bad-input catalogue for the audit's readers (library level: ``read_usage``): a file that
is not the format at all (another format forced, invalid JSON, not UTF-8, a CSV without the
spend-log columns, binary) is one ``CostcalcError`` line naming the file and line (exit 2 on
the command line). Records that are usage but malformed are not errors: see
tests/test_audit_readers.py (BadRecord)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from costcalc.audit import read_usage
from costcalc.errors import CostcalcError
from tests.conftest import RunCli, assert_one_line_error

# (case id, file name, content, input_format=, the message starts with)
NOT_THE_FORMAT = [
    ("unknown-json", "x.jsonl", b'{"hello": 1}\n', "auto", "x.jsonl: cannot tell its format"),
    ("otlp-forced-on-pages", "x.jsonl", b'{"object": "page", "data": []}\n', "otlp", "x.jsonl:1: not OTLP JSON"),
    ("pages-forced-on-spans", "x.jsonl", b'{"resourceSpans": []}\n', "openai-usage", "x.jsonl:1: not an OpenAI usage page"),
    ("litellm-forced-on-spans", "x.jsonl", b'{"resourceSpans": []}\n', "litellm", "x.jsonl:1: not a LiteLLM spend log"),
    ("invalid-json-line-3", "x.jsonl", b'{"resourceSpans": []}\n\n{"resourceSpans": [}\n', "auto", "x.jsonl:3: invalid JSON"),
    ("not-utf8", "x.jsonl", b'{"resourceSpans": []}\n{"a": "\xff"}\n', "auto", "x.jsonl:2: is not valid UTF-8"),
    ("broken-document", "x.json", b'{\n "resourceSpans": [\n  {,\n ]}\n', "auto", "x.json:3: invalid JSON"),
    ("csv-without-token-columns", "x.csv", b"request_id,model\nr1,gpt-4o\n", "auto", "x.csv:1: not a LiteLLM spend log"),
    ("csv-duplicate-column", "x.csv", b"model,prompt_tokens,completion_tokens,prompt_tokens\ngpt-4o,1,2,3\n", "auto", "x.csv:1: column 'prompt_tokens' appears twice in the header"),
    ("csv-duplicate-column-after-blank-lines", "x.csv", b"\n\nmodel,model,prompt_tokens,completion_tokens\n", "auto", "x.csv:3: column 'model' appears twice"),
    ("csv-unterminated-quote", "x.csv", b'model,prompt_tokens,completion_tokens\n"gpt-4o,1,2\n', "auto", "x.csv:2: invalid CSV"),
    ("csv-not-utf8", "x.csv", b"model,prompt_tokens,completion_tokens\ngpt\xff,1,2\n", "auto", "x.csv:2: is not valid UTF-8"),
    ("scope-spans-not-a-list", "x.jsonl", b'{"resourceSpans": [{"scopeSpans": "oops"}]}\n', "auto", "x.jsonl:1: scopeSpans: expected a list"),
    ("spans-not-a-list", "x.jsonl", b'{"resourceSpans": [{"scopeSpans": [{"spans": 3}]}]}\n', "auto", "x.jsonl:1: scopeSpans: expected objects with a spans list"),
    ("resource-spans-not-a-list", "x.jsonl", b'{"resourceSpans": 3}\n', "auto", "x.jsonl:1: resourceSpans: expected a list"),
    ("binary", "x.bin", b"\x00\x01\x02garbage", "auto", "x.bin: cannot tell its format"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("fname", "content", "fmt", "fragment"), [c[1:] for c in NOT_THE_FORMAT],
    ids=[c[0] for c in NOT_THE_FORMAT],
)  # fmt: skip
def test_a_file_not_in_the_format_is_one_error_naming_file_and_line(
    fname: str, content: bytes, fmt: str, fragment: str, tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    Path(fname).write_bytes(content)
    with pytest.raises(CostcalcError) as err:
        list(read_usage([fname], input_format=fmt))
    message = str(err.value)
    assert message.startswith(fragment) and "\n" not in message, message


@pytest.mark.parametrize(
    ("fname", "content", "fmt", "fragment"), [c[1:] for c in NOT_THE_FORMAT],
    ids=[c[0] for c in NOT_THE_FORMAT],
)  # fmt: skip
def test_the_command_refuses_it_with_exit_2(
    fname: str, content: bytes, fmt: str, fragment: str, tmp_path: Path, run_cli: RunCli
) -> None:
    path = tmp_path / fname
    path.write_bytes(content)
    out = run_cli("audit", str(path), "--input-format", fmt)
    assert_one_line_error(out, f"{tmp_path}/{fragment}")
