"""The keys and roles of chat messages each line format's provider takes: a key or role it
does not take stops ``batch build`` and ``queue flush`` (naming the row or task, the message
and the key; sending the request without it would change the request), and ``batch validate``
reports it in a file made elsewhere. A tester's name, cache_control and metadata on a message
reached the Anthropic batch file, and validate passed it."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from costcalc.batch.build import build
from costcalc.batch.queue import add, flush, status
from costcalc.batch.validate import validate_files
from costcalc.errors import CostcalcError

MODELS = {
    "openai": "gpt-4o-mini",
    "anthropic": "claude-haiku-4-5",
    "bedrock": "aws:anthropic.claude-3-5-sonnet-20241022-v2:0",
    "vertex": "google-vertex:gemini-2.5-flash",
}
FAMILY = {"openai": "OpenAI", "anthropic": "Claude", "bedrock": "Claude", "vertex": "Gemini"}
KEPT = {"openai": {"name": "bob"}}
"""A key beside role and content that the format's provider takes (Claude and Gemini messages
take none)."""

HI = {"role": "user", "content": "hi"}
# (format, case, the message, what the refusal says of it; None: the request is written)
INPUT_CASES: list[tuple[str, str, dict[str, Any], str | None]] = [
    case
    for fmt in MODELS
    for case in (
        (fmt, "unknown-key", {**HI, "cache_control": {"type": "ephemeral"}},
         f"messages[0]: key 'cache_control': {FAMILY[fmt]}'s batch requests take "),
        (fmt, "metadata", {**HI, "metadata": {"a": 1}}, f"messages[0]: key 'metadata': {FAMILY[fmt]}'s"),
        (fmt, "unknown-role", {"role": "wizard", "content": "hi"},
         f"messages[0]: role 'wizard': {FAMILY[fmt]}'s batch requests take "),
        (fmt, "taken-key", {**HI, **KEPT.get(fmt, {})}, None),
    )
]  # fmt: skip
INPUT_IDS = [f"{fmt}-{case}" for fmt, case, _, _ in INPUT_CASES]


def _rows(path: Path, message: dict[str, Any]) -> Path:
    good = {"messages": [HI]}
    path.write_text(json.dumps(good) + "\n" + json.dumps({"messages": [message]}) + "\n")
    return path


@pytest.mark.parametrize(("fmt", "case", "message", "refusal"), INPUT_CASES, ids=INPUT_IDS)
def test_build(
    tmp_path: Path, fmt: str, case: str, message: dict[str, Any], refusal: str | None
) -> None:
    rows = _rows(tmp_path / "rows.jsonl", message)
    out = tmp_path / "out"
    if refusal is not None:
        with pytest.raises(CostcalcError) as caught:
            build(str(rows), MODELS[fmt], out, max_requests=10)
        assert f"rows.jsonl:2: {refusal}" in str(caught.value)
        assert "\n" not in str(caught.value)
        assert not out.exists()
        return
    manifest = build(str(rows), MODELS[fmt], out, max_requests=10)
    files = [str(out / p.file) for p in manifest.parts]
    assert validate_files(files, model=MODELS[fmt]).valid
    if fmt == "openai":  # the key is sent as given
        line = json.loads(Path(files[0]).read_text().splitlines()[1])
        assert line["body"]["messages"][0]["name"] == "bob"


@pytest.mark.parametrize(("fmt", "case", "message", "refusal"), INPUT_CASES, ids=INPUT_IDS)
def test_flush(
    tmp_path: Path, fmt: str, case: str, message: dict[str, Any], refusal: str | None
) -> None:
    # a flush that writes a task for a provider that refuses it gives every task back to the
    # queue and writes nothing. queue add refuses a role or key no format takes (these cases),
    # so the task is queued as a costcalc that took any did
    db, out = tmp_path / "q.db", tmp_path / "out"
    tasks = [("ok", {"messages": [HI]}), ("t-bad", {"messages": [message]})]
    if refusal is None:
        add(db, tasks)
    else:
        with pytest.raises(CostcalcError, match="no batch format takes it"):
            add(db, tasks)
        add(db, [(cid, {"messages": [HI]}) for cid, _ in tasks])
        with sqlite3.connect(db) as queued:
            queued.execute(
                "UPDATE tasks SET request = ? WHERE custom_id = 't-bad'",
                (json.dumps({"messages": [message]}),),
            )
        queued.close()
    out.mkdir()
    if refusal is not None:
        with pytest.raises(CostcalcError) as caught:
            flush(db, out, MODELS[fmt], max_requests=10)
        assert f"task t-bad: {refusal}" in str(caught.value)
        after = status(db)
        assert (after.pending, after.flushed, after.open_flushes, after.flushes) == (2, 0, [], [])
        assert list(out.iterdir()) == []
        return
    (result,) = flush(db, out, MODELS[fmt], max_requests=10)
    assert result.tasks == 2 and status(db).pending == 0
    assert validate_files([f.file for f in result.files], model=MODELS[fmt]).valid


# --- batch validate: lines made elsewhere ------------------------------------------------------


def _line(fmt: str, message: dict[str, Any]) -> dict[str, Any]:
    if fmt == "openai":
        body = {"model": MODELS[fmt], "max_tokens": 10, "messages": [message]}
        return {"custom_id": "m1", "method": "POST", "url": "/v1/chat/completions", "body": body}
    if fmt == "anthropic":
        return {"custom_id": "m1", "params": {"model": MODELS[fmt], "max_tokens": 10, "messages": [message]}}  # fmt: skip
    if fmt == "bedrock":
        body = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 10, "messages": [message]}
        return {"recordId": "m1", "modelInput": body}
    return {"request": {"contents": [message], "labels": {"custom_id": "m1"}}}


VERTEX_HI = {"role": "user", "parts": [{"text": "hi"}]}
_WHERE = {
    "openai": "custom_id 'm1': body.messages[0]",
    "anthropic": "custom_id 'm1': params.messages[0]",
    "bedrock": "recordId 'm1': modelInput.messages[0]",
    "vertex": "request.labels.custom_id 'm1': request.contents[0]",
}
# (format, case, the message in the line, the problem validate reports; None: valid)
LINE_CASES: list[tuple[str, str, dict[str, Any], str | None]] = [
    case
    for fmt in MODELS
    for hi in [VERTEX_HI if fmt == "vertex" else HI]
    for case in (
        (fmt, "unknown-key", {**hi, "cache_control": {"type": "ephemeral"}},
         f"{_WHERE[fmt]} has key 'cache_control', which {FAMILY[fmt]} does not take on a "
         f"{'content' if fmt == 'vertex' else 'message'} (it takes role"),
        (fmt, "unknown-role", {**hi, "role": "wizard"},
         {"openai": "custom_id 'm1': body.messages[0].role 'wizard': OpenAI takes system, "
                    "developer, user, assistant, tool and function messages",
          "anthropic": "params.messages[0].role 'wizard': Claude takes user and assistant",
          "bedrock": "modelInput.messages[0].role 'wizard': Claude takes user and assistant",
          "vertex": "request.contents[0].role must be user or model, got 'wizard'"}[fmt]),
        (fmt, "taken-key", {**hi, **KEPT.get(fmt, {})}, None),
    )
]  # fmt: skip


@pytest.mark.parametrize(
    ("fmt", "case", "message", "problem"), LINE_CASES, ids=[f"{c[0]}-{c[1]}" for c in LINE_CASES]
)
def test_validate(
    tmp_path: Path, fmt: str, case: str, message: dict[str, Any], problem: str | None
) -> None:
    path = tmp_path / "b.jsonl"
    path.write_text(json.dumps(_line(fmt, message)) + "\n")
    report = validate_files([str(path)], model=MODELS[fmt])
    if problem is None:
        assert report.valid, report.files[0].problems
        return
    assert [p for p in report.files[0].problems if problem in p] != [], report.files[0].problems
    assert all(p.startswith(f"{path}:1: ") for p in report.files[0].problems)


def test_an_assistant_turn_that_calls_a_tool_may_have_no_content(tmp_path: Path) -> None:
    # OpenAI writes content null beside tool_calls: the request is taken, and counted as no
    # refusal ("message 2 has no content" stopped build, queue add and validate)
    call = {"id": "c1", "type": "function", "function": {"name": "w", "arguments": "{}"}}
    messages = [
        {"role": "user", "content": "Weather?"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
        {"role": "user", "content": "ok?"},
    ]
    rows = tmp_path / "t.jsonl"
    rows.write_text(json.dumps({"messages": messages}) + "\n")
    manifest = build(str(rows), "gpt-4o-mini", tmp_path / "out")
    part = tmp_path / "out" / manifest.parts[0].file
    assert json.loads(part.read_text())["body"]["messages"][1]["tool_calls"] == [call]
    assert validate_files([str(part)]).valid
    assert add(tmp_path / "q.db", [{"messages": messages}]) == ["task-1"]
    import costcalc

    assert costcalc.count_file(rows, messages=True).refused_requests == 0
    # an assistant turn with neither text nor a tool call is still refused
    empty = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": None}]
    rows.write_text(json.dumps({"messages": empty}) + "\n")
    with pytest.raises(CostcalcError, match="has no content"):
        build(str(rows), "gpt-4o-mini", tmp_path / "out2")
