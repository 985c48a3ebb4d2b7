"""Batch quote and reconcile never price a size they do not know: a request without an output
limit is not quoted at 0 output tokens, OpenAI Responses API lines are read as chat lines are
(input, max_output_tokens, the Responses usage), and reconcile says whose prices it used.
Money is worked out by hand from the published prices (USD per 1M tokens)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from costcalc import count_file, quote_batch_files, validate_batch_files
from costcalc.batch.reconcile import reconcile
from costcalc.errors import UsageError
from costcalc.prices import load_price_table
from costcalc.render.batch import reconcile_table
from tests.conftest import RunCli

HELLO = [{"role": "user", "content": "Hello there"}]


def chat(cid: str, max_tokens: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"model": "o3", "messages": HELLO}
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    return {"custom_id": cid, "method": "POST", "url": "/v1/chat/completions", "body": body}


def responses(cid: str, **body: Any) -> dict[str, Any]:
    return {
        "custom_id": cid,
        "method": "POST",
        "url": "/v1/responses",
        "body": {"model": "gpt-4.1", **body},
    }


def write(path: Path, *objs: dict[str, Any]) -> str:
    path.write_text("".join(json.dumps(o) + "\n" for o in objs))
    return str(path)


# --- no output limit: no quote at 0 output ----------------------------------------------------


def test_a_request_without_max_tokens_is_not_quoted_at_zero_output(
    tmp_path: Path, run_cli: RunCli
) -> None:
    f = write(tmp_path / "in-nomax.jsonl", chat("m1"))
    with pytest.raises(UsageError, match=r"in-nomax.jsonl:1: this request gives no output limit"):
        quote_batch_files([f])
    result = run_cli("batch", "quote", f)
    assert result.exit_code == 2 and "--output-tokens N" in result.stderr
    # given, the size is quoted: 9 input tokens (the message with its chat overhead) and 100
    # output at o3's $2 in, $8 out per 1M
    (w,) = quote_batch_files([f], output_tokens=100).workloads
    assert (w.input_tokens_per_request, w.output_tokens_per_request) == (9, 100)
    request = {m.mode: m.cost for m in w.modes}["request"]
    assert request == (9 * Decimal(2) + 100 * Decimal(8)) / 10**6


def test_requests_that_give_max_tokens_keep_being_quoted_at_it(tmp_path: Path) -> None:
    f = write(tmp_path / "a.jsonl", chat("a", 100), chat("b", 300))
    (w,) = quote_batch_files([f]).workloads
    assert w.output_tokens_per_request == 200  # (100 + 300) / 2 requests
    mixed = write(tmp_path / "b.jsonl", chat("a", 100), chat("b"), chat("c"))
    report = validate_batch_files([mixed]).files[0]
    assert (report.without_max_tokens, report.first_without_max_tokens) == (2, 2)
    with pytest.raises(UsageError, match=r"b.jsonl:2: 2 of 3 requests give no output limit"):
        quote_batch_files([mixed])


def test_requests_that_write_no_output_need_no_limit(tmp_path: Path) -> None:
    embed = {"model": "text-embedding-3-small", "input": "Hello there"}
    f = write(
        tmp_path / "e.jsonl",
        {"custom_id": "a", "method": "POST", "url": "/v1/embeddings", "body": embed},
    )
    assert validate_batch_files([f]).files[0].without_max_tokens == 0
    # and an embedding's input is text, counted alone: not a chat message
    assert count_file([f], "gpt-4o").tokens == 2


# --- the Responses API ------------------------------------------------------------------------


def test_responses_lines_are_quoted_as_chat_lines_are(tmp_path: Path) -> None:
    f = write(tmp_path / "r.jsonl", responses("r1", input="Hello there", max_output_tokens=50))
    (w,) = quote_batch_files([f]).workloads
    # input as one user message (2 text + 7 chat overhead, as the chat line above counts it);
    # output at max_output_tokens; gpt-4.1: $2 in, $8 out, batch half of that
    assert (w.input_tokens_per_request, w.output_tokens_per_request) == (9, 50)
    costs = {m.mode: m.cost for m in w.modes}
    assert costs["request"] == (9 * Decimal(2) + 50 * Decimal(8)) / 10**6
    assert costs["batch"] == (9 * Decimal(1) + 50 * Decimal(4)) / 10**6
    # a list of input messages is counted as those messages; instructions as a system one
    listed = write(tmp_path / "l.jsonl", responses("r1", input=HELLO, max_output_tokens=50))
    assert quote_batch_files([listed]).workloads[0].input_tokens_per_request == 9
    told = write(
        tmp_path / "s.jsonl",
        responses("r1", input="Hello there", instructions="Be brief.", max_output_tokens=50),
    )
    as_chat = write(
        tmp_path / "c.jsonl",
        {**chat("r1", 50), "body": {"model": "gpt-4.1", "max_tokens": 50, "messages": [
            {"role": "system", "content": "Be brief."}, *HELLO]}},
    )  # fmt: skip
    assert (
        quote_batch_files([told]).workloads[0].input_tokens_per_request
        == quote_batch_files([as_chat]).workloads[0].input_tokens_per_request
    )


def _responses_result(tmp_path: Path) -> str:
    usage = {
        "input_tokens": 3000,
        "input_tokens_details": {"cached_tokens": 2048},
        "output_tokens": 500,
        "output_tokens_details": {"reasoning_tokens": 100},  # within output_tokens
        "total_tokens": 3500,
    }
    body = {"object": "response", "model": "gpt-4.1-2025-04-14", "usage": usage}
    line = {"id": "b1", "custom_id": "r1", "response": {"status_code": 200, "body": body}}
    return write(tmp_path / "out.jsonl", {**line, "error": None})


def test_reconcile_reads_the_responses_usage(tmp_path: Path) -> None:
    r = reconcile([_responses_result(tmp_path)], as_of="2026-11-01")
    # gpt-4.1 batch: 952 uncached x $1 + 2,048 cached x $0.25 + 500 output x $4 (reasoning
    # included) per 1M
    assert r.actual_cost == Decimal("0.003464")
    assert r.actual_cost == (952 * Decimal(1) + 2048 * Decimal("0.25") + 500 * Decimal(4)) / 10**6
    assert (r.usage.input_tokens, r.usage.cached_input_tokens, r.usage.output_tokens) == (
        952,
        2048,
        500,
    )


def test_reconcile_estimate_says_which_requests_give_no_output_limit(tmp_path: Path) -> None:
    uploaded = write(tmp_path / "in.jsonl", responses("r1", input="Hello there"))
    r = reconcile([_responses_result(tmp_path)], [uploaded], as_of="2026-11-01")
    assert r.estimate_basis is not None
    assert "1 of 1 requests give no output limit (max_tokens)" in r.estimate_basis


# --- reconcile says whose prices it used ------------------------------------------------------


def test_reconcile_names_the_date_and_source_of_its_prices(tmp_path: Path, run_cli: RunCli) -> None:
    out = _responses_result(tmp_path)
    r = reconcile([out], as_of="2026-11-01")
    assert str(r.prices_as_of) == "2026-11-01"
    period = load_price_table().prices("gpt-4.1", "2026-11-01").period
    assert (r.prices_checked, r.price_source, r.price_origin) == (
        period.as_of,
        period.source,
        period.origin,
    )
    data = json.loads(run_cli("batch", "reconcile", out, "--format", "json").stdout)
    assert {"prices_as_of", "prices_checked", "price_source", "price_origin"} <= set(data)
    table = run_cli("batch", "reconcile", out, "--as-of", "2026-11-01").stdout
    assert "actual cost at batch prices of 2026-11-01: " in table
    assert f"  prices checked {r.prices_checked} against " in table
    read = f"{period.read} of " if period.read else ""
    assert f"  prices checked {r.prices_checked} against {read}{period.source}\n" in table
    # prices no one checked against their source say which data they came from
    taken = r.model_copy(update={"price_origin": "genai-prices 0.2.3"})
    assert f"  prices from genai-prices 0.2.3 (it cites {period.source})\n" in reconcile_table(
        taken
    )
