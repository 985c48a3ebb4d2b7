"""Bad-input catalogue for batch files, routing and the queue: exit 2, one line, no traceback
(and `batch validate` finds invalid files: exit 1, every problem with file and line)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import RunCli, assert_one_line_error

OPENAI = {
    "custom_id": "a",
    "method": "POST",
    "url": "/v1/chat/completions",
    "body": {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]},
}
ANTHROPIC = {
    "custom_id": "a",
    "params": {
        "model": "claude-haiku-4-5",
        "max_tokens": 10,
        "messages": [{"role": "user", "content": "hi"}],
    },
}


BEDROCK = {
    "recordId": "a",
    "modelInput": {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 10,
        "messages": [{"role": "user", "content": "hi"}],
    },
}
VERTEX = {
    "request": {
        "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
        "labels": {"custom_id": "a"},
    }
}


def lines(*objs: object) -> str:
    return "".join((o if isinstance(o, str) else json.dumps(o)) + "\n" for o in objs)


# (case id, files, the message fragments validate must print)
INVALID: list[tuple[str, dict[str, str], tuple[str, ...]]] = [
    ("duplicate-custom-id", {"a.jsonl": lines(OPENAI, {**OPENAI, "custom_id": "b"}, OPENAI)}, ("a.jsonl:3: custom_id 'a' is also used at", "a.jsonl:1")),
    ("duplicate-id-escaped-and-cut", {"a.jsonl": lines({**OPENAI, "custom_id": "a\x1b[2J" + "x" * 100}, {**OPENAI, "custom_id": "a\x1b[2J" + "x" * 100})}, ("a.jsonl:2: custom_id 'a\\x1b[2J" + "x" * 55 + "...' is also used at",)),
    ("duplicate-across-files", {"a.jsonl": lines(OPENAI), "b.jsonl": lines(OPENAI)}, ("b.jsonl:1: custom_id 'a' is also used at", "a.jsonl:1")),
    ("mixed-models", {"a.jsonl": lines(OPENAI, {**OPENAI, "custom_id": "b", "body": {"model": "gpt-4o-mini", "messages": []}})}, ("a.jsonl:2: model 'gpt-4o-mini' differs from 'gpt-4o' on line 1",)),
    ("invalid-json", {"a.jsonl": lines(OPENAI, "{nope")}, ("a.jsonl:2: invalid JSON",)),
    ("missing-body", {"a.jsonl": lines({"custom_id": "a", "method": "POST", "url": "/v1/chat/completions"})}, ("a.jsonl:1: body is missing",)),
    ("bad-method", {"a.jsonl": lines({**OPENAI, "method": "GET"})}, ("method must be \"POST\"",)),
    ("bad-url", {"a.jsonl": lines({**OPENAI, "url": "/v1/nope"})}, ("url '/v1/nope' is not a batch endpoint",)),
    ("anthropic-bad-id", {"a.jsonl": lines({**ANTHROPIC, "custom_id": "has space"})}, ("custom_id 'has space' does not match",)),
    ("anthropic-no-max-tokens", {"a.jsonl": lines({"custom_id": "a", "params": {"model": "claude-haiku-4-5", "messages": []}})}, ("params.max_tokens must be a whole number",)),
    ("mixed-providers", {"a.jsonl": lines(OPENAI, {**ANTHROPIC, "custom_id": "b"})}, ("a request for anthropic in a file of openai requests",)),
    ("too-many-requests", {"a.jsonl": lines(*({**OPENAI, "custom_id": f"r{i}"} for i in range(3)))}, ("3 requests, over the limit of 2 per file",)),
    ("empty", {"a.jsonl": ""}, ("a.jsonl: no requests",)),
    ("over-context", {"a.jsonl": lines({**OPENAI, "body": {"model": "gpt-4o", "messages": [{"role": "user", "content": "hello" + " hello" * 130_000}]}})}, ("a.jsonl:1: 130,008 input tokens, over gpt-4o's limit of 128,000",)),
    ("no-messages", {"a.jsonl": lines({**OPENAI, "body": {"model": "gpt-4o", "messages": []}})}, ("a.jsonl:1: body.messages is empty",)),
    ("bedrock-no-record-id", {"a.jsonl": lines({"modelInput": BEDROCK["modelInput"]})}, ("a.jsonl:1: recordId is missing or not a string",)),
    ("bedrock-duplicate-record-id", {"a.jsonl": lines(BEDROCK, BEDROCK)}, ("a.jsonl:2: recordId 'a' is also used at",)),
    ("bedrock-model-in-input", {"a.jsonl": lines({**BEDROCK, "modelInput": {**BEDROCK["modelInput"], "model": "anthropic.claude"}})}, ("a.jsonl:1: modelInput.model is not allowed (the batch job names the model)",)),
    ("bedrock-not-claude", {"a.jsonl": lines({"recordId": "a", "modelInput": {"prompt": "hi", "max_gen_len": 10}})}, ('modelInput.anthropic_version must be "bedrock-2023-05-31"', "modelInput.max_tokens must be a whole number", "modelInput.messages must be a list")),
    ("bedrock-then-openai", {"a.jsonl": lines(BEDROCK, {**OPENAI, "custom_id": "b"})}, ("a.jsonl:2: a request for openai in a file of bedrock requests",)),
    ("vertex-no-id", {"a.jsonl": lines({"request": {"contents": VERTEX["request"]["contents"]}})}, ("a.jsonl:1: request.labels.custom_id is missing or not a string",)),
    ("vertex-upper-case-id", {"a.jsonl": lines({"request": {**VERTEX["request"], "labels": {"custom_id": "Row-1"}}})}, ("request.labels.custom_id 'Row-1' must be at most 63 lower-case letters",)),
    ("vertex-no-contents", {"a.jsonl": lines({"request": {"labels": {"custom_id": "a"}}})}, ("a.jsonl:1: request.contents must be a list",)),
    ("vertex-assistant-role", {"a.jsonl": lines({"request": {**VERTEX["request"], "contents": [{"role": "assistant", "parts": [{"text": "hi"}]}]}})}, ("request.contents[0].role must be user or model",)),
    ("vertex-zero-max-output", {"a.jsonl": lines({"request": {**VERTEX["request"], "generationConfig": {"maxOutputTokens": 0}}})}, ("request.generationConfig.maxOutputTokens must be a whole number >= 1",)),
    ("openai-surrogate-id", {"a.jsonl": lines({**OPENAI, "custom_id": "a\ud800"})}, ("a.jsonl:1: custom_id holds a lone surrogate (\\ud800)",)),
    ("bedrock-surrogate-id", {"a.jsonl": lines({**BEDROCK, "recordId": "\udc00"})}, ("a.jsonl:1: recordId holds a lone surrogate (\\udc00)",)),
    ("openai-nan", {"a.jsonl": lines(json.dumps({**OPENAI, "body": {**OPENAI["body"], "temperature": float("nan")}}))}, ("a.jsonl:1: NaN or Infinity is not JSON (the provider refuses it)",)),
    ("responses-no-input", {"a.jsonl": lines({**OPENAI, "url": "/v1/responses", "body": {"model": "gpt-4.1"}})}, ("a.jsonl:1: body.input must be text or a list of input messages",)),
    ("responses-blank-input", {"a.jsonl": lines({**OPENAI, "url": "/v1/responses", "body": {"model": "gpt-4.1", "input": " "}})}, ("a.jsonl:1: body.input is empty",)),
    ("responses-input-item-not-object", {"a.jsonl": lines({**OPENAI, "url": "/v1/responses", "body": {"model": "gpt-4.1", "input": ["hi"]}})}, ("a.jsonl:1: body.input[0] must be an object",)),
    ("responses-input-unknown-role", {"a.jsonl": lines({**OPENAI, "url": "/v1/responses", "body": {"model": "gpt-4.1", "input": [{"role": "wizard", "content": "hi"}]}})}, ("a.jsonl:1: body.input[0].role 'wizard': OpenAI takes system, developer, user and assistant messages",)),
    ("responses-input-unknown-key", {"a.jsonl": lines({**OPENAI, "url": "/v1/responses", "body": {"model": "gpt-4.1", "input": [{"type": "function_call_output", "call_id": "c", "output": "4"}, {"role": "user", "content": "hi", "foo": 1}]}})}, ("a.jsonl:1: body.input[1] has key 'foo', which OpenAI does not take on a message",)),
    ("responses-input-message-no-content", {"a.jsonl": lines({**OPENAI, "url": "/v1/responses", "body": {"model": "gpt-4.1", "input": [{"role": "user", "content": " "}]}})}, ("a.jsonl:1: body.input[0] has no content",)),
    ("responses-instructions-not-text", {"a.jsonl": lines({**OPENAI, "url": "/v1/responses", "body": {"model": "gpt-4.1", "input": "hi", "instructions": 5}})}, ("a.jsonl:1: body.instructions must be text",)),
    ("responses-max-output-tokens-zero", {"a.jsonl": lines({**OPENAI, "url": "/v1/responses", "body": {"model": "gpt-4.1", "input": "hi", "max_output_tokens": 0}})}, ("a.jsonl:1: body.max_output_tokens must be a whole number from 1",)),
    ("openai-max-tokens-negative", {"a.jsonl": lines({**OPENAI, "body": {**OPENAI["body"], "max_tokens": -5}})}, ("a.jsonl:1: body.max_tokens must be a whole number from 1 to 100,000,000",)),
    ("openai-max-tokens-past-64-bits", {"a.jsonl": lines(json.dumps({**OPENAI, "body": {**OPENAI["body"], "max_completion_tokens": 2**70}}))}, ("a.jsonl:1: body.max_completion_tokens must be a whole number from 1",)),
    ("openai-max-tokens-nan", {"a.jsonl": lines(json.dumps({**OPENAI, "body": {**OPENAI["body"], "max_tokens": float("nan")}}))}, ("NaN or Infinity is not JSON", "body.max_tokens must be a whole number")),
    ("anthropic-message-keys", {"a.jsonl": lines({**ANTHROPIC, "params": {**ANTHROPIC["params"], "messages": [{"role": "user", "content": "hi", "name": "x", "cache_control": {"type": "ephemeral"}, "metadata": {"a": 1}}]}})}, ("a.jsonl:1: custom_id 'a': params.messages[0] has key 'name', which Claude does not take on a message (it takes role and content)", "has key 'cache_control'", "has key 'metadata'")),
    ("bedrock-message-key", {"a.jsonl": lines({**BEDROCK, "modelInput": {**BEDROCK["modelInput"], "messages": [{"role": "user", "content": "hi", "name": "x"}]}})}, ("a.jsonl:1: recordId 'a': modelInput.messages[0] has key 'name', which Claude does not take",)),
    ("openai-unknown-role", {"a.jsonl": lines({**OPENAI, "body": {**OPENAI["body"], "messages": [{"role": "wizard", "content": "hi"}]}})}, ("a.jsonl:1: custom_id 'a': body.messages[0].role 'wizard': OpenAI takes system, developer, user, assistant, tool and function messages",)),
    ("openai-unknown-message-key", {"a.jsonl": lines({**OPENAI, "body": {**OPENAI["body"], "messages": [{"role": "user", "content": "hi", "metadata": {}}]}})}, ("a.jsonl:1: custom_id 'a': body.messages[0] has key 'metadata', which OpenAI does not take on a message",)),
    ("vertex-content-key", {"a.jsonl": lines({"request": {**VERTEX["request"], "contents": [{"role": "user", "parts": [{"text": "hi"}], "content": "hi"}]}})}, ("a.jsonl:1: request.labels.custom_id 'a': request.contents[0] has key 'content', which Gemini does not take on a content (it takes role and parts)",)),
    ("anthropic-empty-content", {"a.jsonl": lines({**ANTHROPIC, "params": {**ANTHROPIC["params"], "messages": [{"role": "user", "content": ""}]}})}, ("a.jsonl:1: params.messages[0] has no content",)),
]  # fmt: skip


@pytest.mark.parametrize(("name", "files", "fragments"), INVALID, ids=[c[0] for c in INVALID])
def test_validate_finds_problems(
    run_cli: RunCli, tmp_path: Path, name: str, files: dict[str, str], fragments: tuple[str, ...]
) -> None:
    for fname, text in files.items():
        (tmp_path / fname).write_text(text)
    extra = ["--max-requests", "2"] if name == "too-many-requests" else []
    result = run_cli("batch", "validate", *(str(tmp_path / f) for f in files), *extra)
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    for fragment in fragments:
        assert fragment in result.stdout, (fragment, result.stdout)


def _setup(tmp_path: Path) -> None:
    import gzip

    (tmp_path / "t.csv").write_text("id,body\n1,hello\n")
    (tmp_path / "batch.jsonl.gz").write_bytes(gzip.compress(b'{"custom_id": "a"}\n'))
    (tmp_path / "blank-cell.csv").write_text('id,body\n1,hello\n2,""\n')
    (tmp_path / "long.txt").write_text("short\n" + "hello" + " hello" * 130_000 + "\n")
    (tmp_path / "no-content.jsonl").write_text(lines({"messages": [{"role": "user"}]}))
    (tmp_path / "tool.jsonl").write_text(
        lines({"messages": [{"role": "user", "content": "q"}, {"role": "tool", "content": "a"}]})
    )
    (tmp_path / "keys.jsonl").write_text(
        lines(
            {
                "messages": [
                    {"role": "user", "content": "hi", "cache_control": {"type": "ephemeral"}}
                ]
            }
        )
    )
    (tmp_path / "wizard.jsonl").write_text(
        lines({"messages": [{"role": "wizard", "content": "hi"}]})
    )
    (tmp_path / "big.txt").write_text("x" * 5000 + "\n")
    (tmp_path / "afile").write_text("not a folder")
    (tmp_path / "notdb.db").write_text("this is not SQLite")
    (tmp_path / "other.db").write_bytes(b"")
    (tmp_path / "bad-results.jsonl").write_text(
        lines(
            {
                "custom_id": "a",
                "result": {
                    "type": "succeeded",
                    "message": {"usage": {"input_tokens": 1, "output_tokens": 1}},
                },
            },
            "{truncated",
        )
    )
    (tmp_path / "not-results.jsonl").write_text(lines({"hello": "world"}))
    (tmp_path / "bedrock.jsonl").write_text(lines(BEDROCK))
    (tmp_path / "bedrock-results.jsonl").write_text(
        lines({**BEDROCK, "modelOutput": {"usage": {"input_tokens": 5, "output_tokens": 1}}})
    )
    (tmp_path / "good-results.jsonl").write_text(
        lines(
            {
                "custom_id": "a",
                "response": {
                    "status_code": 200,
                    "body": {
                        "model": "gpt-4o",
                        "usage": {"prompt_tokens": 5, "completion_tokens": 1},
                    },
                },
            }
        )
    )
    (tmp_path / "bad-usage.jsonl").write_text(
        lines(
            {
                "custom_id": "a",
                "response": {
                    "status_code": 200,
                    "body": {"model": "gpt-4o", "usage": {"prompt_tokens": -5}},
                },
            }
        )
    )

    def result(cid: str, model: str, prompt: int = 5) -> dict[str, object]:
        usage = {"prompt_tokens": prompt, "completion_tokens": 1}
        return {"custom_id": cid, "response": {"status_code": 200, "body": {"model": model, "usage": usage}}}  # fmt: skip

    (tmp_path / "two-models.jsonl").write_text(
        lines(result("a", "gpt-4o-mini"), result("b", "gpt-4o-mini"), result("c", "gpt-4o"))
    )
    (tmp_path / "huge-usage.jsonl").write_text(lines(result("a", "gpt-4o", prompt=10**26)))
    # a request without an output limit: its output size is unknown to a quote
    (tmp_path / "no-max.jsonl").write_text(
        lines(
            OPENAI,
            {**OPENAI, "custom_id": "b", "body": {**OPENAI["body"], "max_tokens": 9}},
            {**OPENAI, "custom_id": "c"},
        )
    )
    responses = {"custom_id": "a", "method": "POST", "url": "/v1/responses", "body": {"model": "gpt-4.1", "input": "hi"}}  # fmt: skip
    (tmp_path / "responses-no-max.jsonl").write_text(lines(responses))
    # succeeded results whose usage holds no count the format reads: never billed as 0
    unknown = {"total_tokens": 5}
    (tmp_path / "openai-unknown-usage.jsonl").write_text(
        lines(
            {
                "custom_id": "a",
                "response": {"status_code": 200, "body": {"model": "gpt-4.1", "usage": unknown}},
            }
        )
    )
    (tmp_path / "claude-unknown-usage.jsonl").write_text(
        lines(
            {
                "custom_id": "a",
                "result": {
                    "type": "succeeded",
                    "message": {"model": "claude-haiku-4-5", "usage": unknown},
                },
            }
        )
    )
    (tmp_path / "vertex-unknown-usage.jsonl").write_text(
        lines({"response": {"usageMetadata": unknown}, "request": VERTEX["request"]})
    )
    # succeeded results whose usage lost its output count: never billed as 0 output tokens
    for name, used in [
        ("responses-no-output", {"input_tokens": 10}),
        ("chat-no-output", {"prompt_tokens": 10}),
        ("chat-total-over-prompt", {"prompt_tokens": 10, "total_tokens": 15}),
        ("mixed-no-output", {"input_tokens": 10, "completion_tokens": 5}),
    ]:
        body = {"model": "gpt-4.1", "usage": used}
        (tmp_path / f"{name}.jsonl").write_text(
            lines({"custom_id": "a", "response": {"status_code": 200, "body": body}})
        )
    message = {"model": "claude-haiku-4-5", "usage": {"input_tokens": 10}}
    (tmp_path / "claude-no-output.jsonl").write_text(
        lines({"custom_id": "a", "result": {"type": "succeeded", "message": message}})
    )
    used = {"promptTokenCount": 10, "totalTokenCount": 15}
    (tmp_path / "vertex-no-output.jsonl").write_text(
        lines({"response": {"usageMetadata": used}, "request": VERTEX["request"]})
    )
    no_status = result("a", "gpt-4o")
    del no_status["response"]["status_code"]  # type: ignore[attr-defined]
    (tmp_path / "no-status.jsonl").write_text(lines(no_status))
    (tmp_path / "int-id-results.jsonl").write_text(lines({**result("a", "gpt-4o"), "custom_id": 5}))
    hello = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    request = {"custom_id": 5, "method": "POST", "url": "/v1/chat/completions", "body": hello}
    (tmp_path / "int-id-requests.jsonl").write_text(lines(request))
    (tmp_path / "claude-huge-usage.jsonl").write_text(
        lines(
            {
                "custom_id": "a",
                "result": {
                    "type": "succeeded",
                    "message": {
                        "model": "claude-sonnet-4-5",
                        "usage": {"input_tokens": 10**9, "output_tokens": 1},
                    },
                },
            }
        )
    )
    (tmp_path / "model-not-text.jsonl").write_text(
        lines(
            {
                "custom_id": "a",
                "response": {
                    "status_code": 200,
                    "body": {"model": 5, "usage": {"prompt_tokens": 5, "completion_tokens": 1}},
                },
            }
        )
    )
    (tmp_path / "cached-over-prompt.jsonl").write_text(
        lines(
            {
                "custom_id": "a",
                "response": {
                    "status_code": 200,
                    "body": {
                        "model": "gpt-4o",
                        "usage": {
                            "prompt_tokens": 10,
                            "completion_tokens": 1,
                            "prompt_tokens_details": {"cached_tokens": 50},
                        },
                    },
                },
            }
        )
    )
    (tmp_path / "vertex-cached-over-prompt.jsonl").write_text(
        lines(
            {
                "status": "",
                "request": {"contents": [], "labels": {"custom_id": "a"}},
                "response": {
                    "usageMetadata": {
                        "promptTokenCount": 10,
                        "cachedContentTokenCount": 11,
                        "candidatesTokenCount": 1,
                    }
                },
            }
        )
    )
    (tmp_path / "policy.yaml").write_text(
        "rules:\n  - name: x\n    when: {deadline_under: soon}\n    mode: batch\n"
    )
    (tmp_path / "policy2.yaml").write_text(
        "rules:\n  - name: only-cron\n    when: {source: cron}\n    mode: batch\n"
    )
    (tmp_path / "policy3.yaml").write_text("rules:\n  - name: x\n    mode: warp\n")


# (case id, argument list ({d} is the temp folder), message fragments)
CASES: list[tuple[str, list[str], tuple[str, ...]]] = [
    ("validate-a-compressed-batch-file", ["batch", "validate", "{d}/batch.jsonl.gz"], ("batch.jsonl.gz: is gzip-compressed: batch files, to upload and of results, are plain JSONL",)),
    ("quote-a-compressed-batch-file", ["batch", "quote", "{d}/batch.jsonl.gz"], ("batch.jsonl.gz: is gzip-compressed",)),
    ("reconcile-a-compressed-input", ["batch", "reconcile", "{d}/batch.jsonl.gz", "--input", "{d}/batch.jsonl.gz"], ("batch.jsonl.gz",)),
    ("request-over-byte-limit", ["batch", "build", "{d}/big.txt", "-m", "gpt-4o-mini", "--out", "{d}/out", "--max-bytes", "1000"], ("big.txt:1: one request is", "over the 1,000-byte limit")),
    ("out-is-a-file", ["batch", "build", "{d}/t.csv", "-m", "gpt-4o-mini", "--column", "body", "--out", "{d}/afile"], ("afile: is a file, expected a folder",)),
    ("out-under-a-file", ["batch", "build", "{d}/t.csv", "-m", "gpt-4o-mini", "--column", "body", "--out", "{d}/afile/sub"], ("cannot create the folder",)),
    ("out-not-creatable", ["batch", "build", "{d}/t.csv", "-m", "gpt-4o-mini", "--column", "body", "--out", "/proc/costcalc-test/out"], ("cannot create the folder",)),
    ("csv-without-column", ["batch", "build", "{d}/t.csv", "-m", "gpt-4o-mini", "--column", "text", "--out", "{d}/out"], ("t.csv:1: no column 'text'", "columns: id, body")),
    ("csv-needs-column", ["batch", "build", "{d}/t.csv", "-m", "gpt-4o-mini", "--out", "{d}/out"], ("needs --column NAME or --template",)),
    ("missing-input", ["batch", "build", "{d}/nope.csv", "-m", "gpt-4o-mini", "--column", "body", "--out", "{d}/out"], ("nope.csv: no such file",)),
    ("gemini-model", ["batch", "build", "{d}/t.csv", "-m", "gemini-2.5-flash", "--column", "body", "--out", "{d}/out"], ("batch files are built for openai, anthropic, bedrock or vertex",)),
    ("wrong-provider", ["batch", "build", "{d}/t.csv", "-m", "gpt-4o", "--provider", "anthropic", "--column", "body", "--out", "{d}/out"], ("gpt-4o is a model of openai, not anthropic",)),
    ("bad-id-prefix", ["batch", "build", "{d}/t.csv", "-m", "gpt-4o", "--column", "body", "--out", "{d}/out", "--id-prefix", "row 1"], ("--id-prefix 'row 1'",)),
    ("max-tokens-too-big", ["batch", "build", "{d}/t.csv", "-m", "gpt-4o", "--column", "body", "--out", "{d}/out", "--max-tokens", "99999"], ("over gpt-4o's maximum output of 16,384",)),
    ("max-requests-zero", ["batch", "build", "{d}/t.csv", "-m", "gpt-4o", "--column", "body", "--out", "{d}/out", "--max-requests", "0"], ("--max-requests must be at least 1",)),
    ("template-on-text-file", ["batch", "build", "{d}/big.txt", "-m", "gpt-4o", "--template", "Hi {text}", "--out", "{d}/out"], ("big.txt: --column and --template apply to CSV input only",)),
    ("field-on-text-file", ["batch", "build", "{d}/big.txt", "-m", "gpt-4o", "--field", "text", "--out", "{d}/out"], ("big.txt: --field applies to JSONL input, and this is read as text (one prompt per line): name it .jsonl",)),
    ("field-on-csv", ["batch", "build", "{d}/t.csv", "-m", "gpt-4o", "--column", "body", "--field", "text", "--out", "{d}/out"], ("t.csv: --field applies to JSONL input; use --column for CSV",)),
    ("request-over-context", ["batch", "build", "{d}/long.txt", "-m", "gpt-4o", "--out", "{d}/out"], ("long.txt:2: one request has 130,008 input tokens, over gpt-4o's limit of 128,000",)),
    ("empty-prompt", ["batch", "build", "{d}/blank-cell.csv", "-m", "gpt-4o", "--column", "body", "--out", "{d}/out"], ("blank-cell.csv:3: empty prompt",)),
    ("message-without-content", ["batch", "build", "{d}/no-content.jsonl", "-m", "gpt-4o", "--out", "{d}/out"], ("no-content.jsonl:1: message 1 has no content",)),
    ("tool-role-for-claude", ["batch", "build", "{d}/tool.jsonl", "-m", "claude-haiku-4-5", "--out", "{d}/out"], ("tool.jsonl:1: messages[1]: role 'tool': Claude's batch requests take user, assistant and system messages only",)),
    ("message-key-for-claude", ["batch", "build", "{d}/keys.jsonl", "-m", "claude-haiku-4-5", "--out", "{d}/out"], ("keys.jsonl:1: messages[0]: key 'cache_control': Claude's batch requests take role and content on a message only",)),
    ("message-key-for-gemini", ["batch", "build", "{d}/keys.jsonl", "-m", "google-vertex:gemini-2.5-flash", "--max-requests", "100", "--out", "{d}/out"], ("keys.jsonl:1: messages[0]: key 'cache_control': Gemini's batch requests take role and content on a message only",)),
    ("unknown-role-for-openai", ["batch", "build", "{d}/wizard.jsonl", "-m", "gpt-4o-mini", "--out", "{d}/out"], ("wizard.jsonl:1: messages[0]: role 'wizard': OpenAI's batch requests take system, developer, user, assistant, tool and function messages only",)),
    ("claude-on-vertex", ["batch", "build", "{d}/t.csv", "-m", "google-vertex:claude-3-5-sonnet", "--column", "body", "--out", "{d}/out"], ("claude-3-5-sonnet: costcalc writes Vertex AI batch lines for Gemini models only",)),
    ("validate-missing-file", ["batch", "validate", "{d}/nope.jsonl"], ("nope.jsonl: no such JSONL file",)),
    ("validate-directory", ["batch", "validate", "{d}"], ("is a directory",)),
    ("reconcile-malformed", ["batch", "reconcile", "{d}/bad-results.jsonl"], ("bad-results.jsonl:2: invalid JSON",)),
    ("reconcile-bad-as-of", ["batch", "reconcile", "{d}/good-results.jsonl", "--as-of", "garbage"], ("as_of (--as-of): bad date 'garbage': expected YYYY-MM-DD",)),
    ("reconcile-as-of-with-time", ["batch", "reconcile", "{d}/good-results.jsonl", "--as-of", "2026-01-01T00:00"], ("as_of (--as-of): bad date '2026-01-01T00:00'",)),
    ("reconcile-not-output", ["batch", "reconcile", "{d}/not-results.jsonl"], ("not-results.jsonl:1: custom_id is missing",)),
    ("reconcile-id-not-a-string", ["batch", "reconcile", "{d}/int-id-results.jsonl"], ("int-id-results.jsonl:1: custom_id is 5, expected a string",)),
    ("reconcile-input-id-not-a-string", ["batch", "reconcile", "{d}/good-results.jsonl", "--input", "{d}/int-id-requests.jsonl"], ("int-id-requests.jsonl:1: custom_id is 5, expected a string",)),
    ("reconcile-no-status-code", ["batch", "reconcile", "{d}/no-status.jsonl"], ("no-status.jsonl:1: response.status_code is missing",)),
    ("reconcile-bad-usage", ["batch", "reconcile", "{d}/bad-usage.jsonl"], ("bad-usage.jsonl:1: usage.prompt_tokens must be a whole number >= 0",)),
    ("reconcile-two-models", ["batch", "reconcile", "{d}/two-models.jsonl"], ("two-models.jsonl:3: this result names model 'gpt-4o', an earlier one 'gpt-4o-mini': reconcile prices one model at a time",)),
    ("reconcile-usage-over-any-request", ["batch", "reconcile", "{d}/huge-usage.jsonl"], ("huge-usage.jsonl:1: usage.prompt_tokens is 100,000,000,000,000,000,000,000,000, more tokens than any request bills",)),
    ("reconcile-claude-usage-over-any-request", ["batch", "reconcile", "{d}/claude-huge-usage.jsonl"], ("claude-huge-usage.jsonl:1: usage.input_tokens is 1,000,000,000",)),
    ("reconcile-model-not-text", ["batch", "reconcile", "{d}/model-not-text.jsonl"], ("model-not-text.jsonl:1: the result's model must be text, got int",)),
    ("reconcile-cached-over-prompt", ["batch", "reconcile", "{d}/cached-over-prompt.jsonl"], ("cached-over-prompt.jsonl:1: usage.prompt_tokens_details.cached_tokens (50) exceeds usage.prompt_tokens (10)",)),
    ("reconcile-vertex-cached-over-prompt", ["batch", "reconcile", "{d}/vertex-cached-over-prompt.jsonl", "-m", "gemini-2.5-flash"], ("vertex-cached-over-prompt.jsonl:1: usage.cachedContentTokenCount (11) exceeds usage.promptTokenCount (10)",)),
    ("reconcile-input-not-a-batch-file", ["batch", "reconcile", "{d}/good-results.jsonl", "--input", "{d}/t.csv"], ("t.csv: no request with a custom_id",)),
    ("reconcile-same-file-twice", ["batch", "reconcile", "{d}/good-results.jsonl", "{d}/good-results.jsonl"], ("good-results.jsonl:1: custom_id 'a' has a result already",)),
    ("reconcile-missing-file", ["batch", "reconcile", "{d}/nope.jsonl"], ("nope.jsonl: no such JSONL file",)),
    ("quote-bedrock-without-model", ["batch", "quote", "{d}/bedrock.jsonl"], ("bedrock.jsonl: bedrock lines do not name their model", "give --model")),
    ("reconcile-bedrock-without-model", ["batch", "reconcile", "{d}/bedrock-results.jsonl"], ("no succeeded result names its model; give --model", "--input")),
    ("reconcile-bedrock-no-output", ["batch", "reconcile", "{d}/bedrock.jsonl", "-m", "gpt-4o"], ("bedrock.jsonl:1: modelOutput is missing",)),
    ("quote-no-max-tokens", ["batch", "quote", "{d}/no-max.jsonl"], ("no-max.jsonl:1: 2 of 3 requests give no output limit (max_tokens), this line the first, so their output size is unknown", "give the expected output tokens per request with --output-tokens N")),
    ("quote-responses-no-max-output-tokens", ["batch", "quote", "{d}/responses-no-max.jsonl"], ("responses-no-max.jsonl:1: this request gives no output limit (max_output_tokens), so its output size is unknown", "--output-tokens N")),
    ("reconcile-openai-unknown-usage", ["batch", "reconcile", "{d}/openai-unknown-usage.jsonl"], ("openai-unknown-usage.jsonl:1: usage has no prompt_tokens (Chat Completions) or input_tokens (Responses)", "its keys: total_tokens")),
    ("reconcile-claude-unknown-usage", ["batch", "reconcile", "{d}/claude-unknown-usage.jsonl"], ("claude-unknown-usage.jsonl:1: usage has no input_tokens", "its keys: total_tokens")),
    ("reconcile-vertex-unknown-usage", ["batch", "reconcile", "{d}/vertex-unknown-usage.jsonl", "-m", "gemini-2.5-flash"], ("vertex-unknown-usage.jsonl:1: usage has no promptTokenCount",)),
    ("reconcile-responses-no-output", ["batch", "reconcile", "{d}/responses-no-output.jsonl"], ("responses-no-output.jsonl:1: usage has no output_tokens, so its output tokens are unknown", "its keys: input_tokens")),
    ("reconcile-chat-no-output", ["batch", "reconcile", "{d}/chat-no-output.jsonl"], ("chat-no-output.jsonl:1: usage has no completion_tokens, so its output tokens are unknown",)),
    ("reconcile-chat-total-over-prompt", ["batch", "reconcile", "{d}/chat-total-over-prompt.jsonl"], ("chat-total-over-prompt.jsonl:1: usage has no completion_tokens", "its keys: prompt_tokens, total_tokens")),
    ("reconcile-mixed-no-output", ["batch", "reconcile", "{d}/mixed-no-output.jsonl"], ("mixed-no-output.jsonl:1: usage has no output_tokens", "its keys: input_tokens, completion_tokens")),
    ("reconcile-claude-no-output", ["batch", "reconcile", "{d}/claude-no-output.jsonl"], ("claude-no-output.jsonl:1: usage has no output_tokens, so its output tokens are unknown",)),
    ("reconcile-vertex-no-output", ["batch", "reconcile", "{d}/vertex-no-output.jsonl", "-m", "gemini-2.5-flash"], ("vertex-no-output.jsonl:1: usage has no candidatesTokenCount, so its output tokens are unknown",)),
    ("quote-invalid-file", ["batch", "quote", "{d}/not-results.jsonl"], ("custom_id is missing", "costcalc batch validate")),
    ("queue-not-sqlite", ["queue", "status", "--db", "{d}/notdb.db"], ("notdb.db: is not a costcalc queue database",)),
    ("queue-missing-db", ["queue", "flush", "--db", "{d}/none.db", "--out", "{d}/o", "-m", "gpt-4o"], ("none.db: no such queue database",)),
    ("queue-db-is-dir", ["queue", "add", "--db", "{d}", "x"], ("is a directory, expected a queue database",)),
    ("queue-bad-custom-id", ["queue", "add", "--db", "{d}/q.db"], ("custom_id must match",)),
    ("queue-auto-form-custom-id", ["queue", "add", "--db", "{d}/q.db"], ("custom_id 'task-7' has the form costcalc gives tasks without one",)),
    ("queue-flush-zero-max-tokens", ["queue", "flush", "--db", "{d}/other.db", "--out", "{d}/o", "-m", "gpt-4o", "--max-tokens", "0"], ("--max-tokens must be at least 1",)),
    ("queue-flush-zero-max-requests", ["queue", "flush", "--db", "{d}/other.db", "--out", "{d}/o", "-m", "gpt-4o", "--max-requests", "0"], ("--max-requests must be at least 1",)),
    ("queue-flush-tiny-max-bytes", ["queue", "flush", "--db", "{d}/other.db", "--out", "{d}/o", "-m", "gpt-4o", "--max-bytes", "10"], ("--max-bytes must be at least 1,024",)),
    ("queue-flush-claude-on-vertex", ["queue", "flush", "--db", "{d}/other.db", "--out", "{d}/o", "-m", "google-vertex:claude-3-5-sonnet"], ("costcalc writes Vertex AI batch lines for Gemini models only",)),
    ("queue-empty-task", ["queue", "add", "--db", "{d}/q.db", " "], ("task 1: empty prompt (providers reject a message with no text)",)),
    ("route-bad-deadline", ["route", "--source", "cron", "--deadline", "soon"], ("bad duration 'soon'",)),
    ("route-bad-policy", ["route", "--source", "cron", "--policy", "{d}/policy.yaml"], ("policy.yaml:3:", "rules[0].when.deadline_under", "bad duration 'soon'")),
    ("route-policy-bad-mode", ["route", "--policy", "{d}/policy3.yaml"], ("policy3.yaml:3:", "rules[0].mode[0]")),
    ("route-no-rule-matches", ["route", "--source", "api", "--policy", "{d}/policy2.yaml"], ("no rule of the policy matches source=api",)),
    ("route-unknown-model", ["route", "--source", "cron", "-m", "gpt-5o"], ("unknown model 'gpt-5o'",)),
]  # fmt: skip


@pytest.mark.parametrize(("name", "args", "fragments"), CASES, ids=[c[0] for c in CASES])
def test_rejected(
    run_cli: RunCli, tmp_path: Path, name: str, args: list[str], fragments: tuple[str, ...]
) -> None:
    _setup(tmp_path)
    stdin = {
        "queue-bad-custom-id": '{"prompt": "x", "custom_id": "has space"}\n',
        "queue-auto-form-custom-id": '{"prompt": "x", "custom_id": "task-7"}\n',
    }.get(name)
    result = run_cli(*(a.replace("{d}", str(tmp_path)) for a in args), input=stdin)
    assert_one_line_error(result, *fragments)
    if args[:2] == ["batch", "build"]:
        assert not (tmp_path / "out").exists()  # nothing half-written, not even the folder


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to any folder")
def test_out_folder_not_writable(run_cli: RunCli, tmp_path: Path) -> None:
    _setup(tmp_path)
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    result = run_cli(
        "batch",
        "build",
        str(tmp_path / "t.csv"),
        "-m",
        "gpt-4o",
        "--column",
        "body",
        "--out",
        str(locked),
    )
    # the environment's failure, not bad input: exit 3
    assert result.exit_code == 3, result.stderr
    assert result.stderr == f"costcalc: error: {locked}: folder is not writable\n"


# JSON from users is parsed by one function everywhere: too deep a nesting and an endless
# integer are a bad line like any malformed JSON, never a RecursionError or a traceback.
DEEP = "[" * 100_000
LONG_INT = '{"prompt": "x", "n": ' + "9" * 5000 + "}"
DEEP_WHY = "JSON nested deeper than 256 levels"
LONG_WHY = "number too long"

# (case id, the bad line, argument list ({f} is a file whose line 2 is the bad line), fragments)
JSON_CASES: list[tuple[str, str, list[str], tuple[str, ...]]] = [
    *(
        (f"{command}-{kind}", bad, args, (where, why))
        for kind, bad, why in (("deep", DEEP, DEEP_WHY), ("long-int", LONG_INT, LONG_WHY))
        for command, args, where in (
            ("batch-build", ["batch", "build", "{f}", "-m", "gpt-4o", "--out", "{d}/out"], "r.jsonl:2: "),
            ("batch-quote", ["batch", "quote", "{b}"], "b.jsonl:2: "),
            ("batch-reconcile", ["batch", "reconcile", "{o}"], "o.jsonl:2: "),
            ("batch-reconcile-input", ["batch", "reconcile", "{g}", "--input", "{b}"], "b.jsonl:2: "),
            ("quote-input-file", ["quote", "-m", "gpt-4o", "--input-file", "{f}", "-o", "10"], "r.jsonl:2: "),
            ("queue-add", ["queue", "add", "--db", "{d}/q.db"], "stdin:2: "),
            ("tokens", ["tokens", "{f}"], "r.jsonl:2: "),
        )
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "bad", "args", "fragments"), JSON_CASES, ids=[c[0] for c in JSON_CASES]
)
def test_bad_json_is_a_bad_line_everywhere(
    run_cli: RunCli,
    tmp_path: Path,
    name: str,
    bad: str,
    args: list[str],
    fragments: tuple[str, ...],
) -> None:
    _setup(tmp_path)
    (tmp_path / "r.jsonl").write_text('{"prompt": "ok"}\n' + bad + "\n")
    (tmp_path / "b.jsonl").write_text(json.dumps(OPENAI) + "\n" + bad + "\n")
    results = (tmp_path / "good-results.jsonl").read_text()
    (tmp_path / "o.jsonl").write_text(results + bad + "\n")
    paths = {"{f}": "r.jsonl", "{b}": "b.jsonl", "{o}": "o.jsonl", "{g}": "good-results.jsonl"}
    paths["{d}"] = ""

    def filled(arg: str) -> str:
        for mark, fname in paths.items():
            arg = arg.replace(mark, str(tmp_path / fname) if fname else str(tmp_path))
        return arg

    stdin = '{"prompt": "ok"}\n' + bad + "\n" if args[0] == "queue" else None
    result = run_cli(*map(filled, args), input=stdin)
    assert_one_line_error(result, *fragments)


@pytest.mark.parametrize(
    ("bad", "why"), [(DEEP, DEEP_WHY), (LONG_INT, LONG_WHY)], ids=["deep", "long-int"]
)
def test_validate_reports_bad_json_as_a_problem(
    run_cli: RunCli, tmp_path: Path, bad: str, why: str
) -> None:
    path = tmp_path / "b.jsonl"
    path.write_text(json.dumps(OPENAI) + "\n" + bad + "\n")
    result = run_cli("batch", "validate", str(path))
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    assert f"b.jsonl:2: {why}" in result.stdout


@pytest.mark.parametrize(
    ("line", "model", "output"),
    [  # usages that bill no output and say so: an embedding, a Gemini response whose zero
        # candidate count is left out (its total is the counts it has)
        ({"custom_id": "a", "response": {"status_code": 200, "body": {
            "model": "text-embedding-3-small",
            "usage": {"prompt_tokens": 10, "total_tokens": 10}}}}, None, 0),
        ({"response": {"usageMetadata": {"promptTokenCount": 10, "thoughtsTokenCount": 3,
                                         "totalTokenCount": 13}},
          "request": VERTEX["request"]}, "gemini-2.5-flash", 3),
    ],
    ids=["embeddings", "vertex-no-candidates"],
)  # fmt: skip
def test_usage_without_output_that_bills_none_is_accepted(
    tmp_path: Path, line: dict[str, object], model: str | None, output: int
) -> None:
    from costcalc.batch.reconcile import reconcile

    results = tmp_path / "results.jsonl"
    results.write_text(lines(line))
    usage = reconcile([str(results)], model=model).usage
    assert (usage.input_tokens, usage.output_tokens) == (10, output)


def test_responses_items_that_are_no_message_are_counted_as_their_json(
    run_cli: RunCli, tmp_path: Path
) -> None:
    """A tool call's output in a Responses line passes validate and is quoted: counted as its
    compact JSON text (a user message of it), so validate and quote agree."""
    item = {"type": "function_call_output", "call_id": "c1", "output": "42 degrees"}
    body = {"model": "gpt-4.1", "input": [{"role": "user", "content": "hi"}, item]}
    path = tmp_path / "a.jsonl"
    path.write_text(lines({**OPENAI, "url": "/v1/responses", "body": body}))
    assert run_cli("batch", "validate", str(path)).exit_code == 0
    quoted = run_cli("batch", "quote", str(path), "--output-tokens", "5", "--format", "json")
    assert quoted.exit_code == 0, quoted.stderr
    alone = dict(body, input=[{"role": "user", "content": "hi"}])
    path.write_text(lines({**OPENAI, "url": "/v1/responses", "body": alone}))
    less = run_cli("batch", "quote", str(path), "--output-tokens", "5", "--format", "json")
    tokens = [
        json.loads(r.stdout)["workloads"][0]["input_tokens_per_request"] for r in (quoted, less)
    ]
    assert tokens[0] > tokens[1] + 10  # the item's JSON is counted
