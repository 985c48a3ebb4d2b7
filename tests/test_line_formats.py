"""Batch line formats are objects in a registry: a new one is a class and its registration.

The toy format below lives in this test module only; registered from the test, and named
by a user price file (``batch: {line_format: toy}``), it builds, validates, quotes, flushes
and reconciles batch files without any change to costcalc's code.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from costcalc.batch.build import build
from costcalc.batch.formats import (
    NO_TEXT,
    LineFormat,
    LineUsage,
    RequestWriter,
    ResultLine,
    line_format,
    line_formats,
    register,
    unregister,
    usage_int,
)
from costcalc.batch.queue import add, flush
from costcalc.batch.reconcile import reconcile
from costcalc.batch.rows import Row
from costcalc.batch.validate import validate_files
from costcalc.errors import CostcalcError, PriceTableError, UsageError
from costcalc.prices import load_price_table
from tests.conftest import RunCli


class ToyLines(LineFormat):
    """A made-up format: ``{"custom_id", "toy": {"model", "prompt", "limit"}}``; a result line
    has ``"toy_result": {"status": ok | failed | expired, "model", "usage": {"in", "out"}}``."""

    name = "toy"
    body_key = "toy"

    def writer(
        self, *, model: str, max_tokens: int, system: str | None, reasoning: bool = False
    ) -> RequestWriter:
        def request(custom_id: str, row: Row) -> dict[str, Any]:
            own = row.system if row.system is not None else system
            texts = [str(m["content"]) for m in row.messages]
            prompt = "\n".join([own, *texts] if own else texts)
            return {
                "custom_id": custom_id,
                "toy": {"model": model, "prompt": prompt, "limit": max_tokens},
            }

        return request

    def is_request(self, obj: Mapping[str, Any]) -> bool:
        return "toy" in obj

    def is_result(self, obj: Mapping[str, Any]) -> bool:
        return "toy_result" in obj

    def custom_id_problems(self, custom_id: str, where: str) -> list[str]:
        return [f"{where}: a toy custom_id has no spaces"] if " " in custom_id else []

    def body_problems(
        self, body: dict[str, Any], where: str, file: dict[str, Any]
    ) -> tuple[list[str], int]:
        problems = []
        if not isinstance(body.get("prompt"), str) or not body["prompt"].strip():
            problems.append(f"{where}: toy.prompt must be text")
        limit = body.get("limit")
        if not isinstance(limit, int) or limit < 1:
            problems.append(f"{where}: toy.limit must be a whole number >= 1")
            limit = 0
        return problems, limit

    def request_text(self, obj: Mapping[str, Any]) -> Any:
        toy = obj.get("toy")
        if isinstance(toy, dict) and "prompt" in toy:  # sent as one user message
            return [{"role": "user", "content": toy["prompt"]}]
        return NO_TEXT

    def outcome(self, obj: Mapping[str, Any], where: str) -> ResultLine:
        result = obj["toy_result"]
        status = result.get("status") if isinstance(result, dict) else None
        if status == "ok":
            return "succeeded", result["usage"], result.get("model")
        if status == "failed":
            return "errored", None, None
        if status == "expired":
            return "expired", None, None
        raise CostcalcError(f"{where}: toy_result.status must be ok, failed or expired")

    def usage(self, used: Mapping[str, Any], where: str) -> LineUsage:
        return LineUsage(usage_int(used, "in", where), 0, 0, 0, usage_int(used, "out", where))


TOY_PRICES = """\
provider: toyco
name: Toy Co
source: https://toy.example/pricing
batch:
  discount: 0.5
  cache_discount_stacks: false
  max_requests: 2
  max_bytes: 1000000
  completion_window_hours: 12
  typical_turnaround_hours: 2
  line_format: toy
  as_of: 2026-01-01
  source: https://toy.example/batch
speed: {time_to_first_token_s: 1, output_tokens_per_s: 50, as_of: 2026-01-01, source: https://toy.example/speed}
rate_limits:
  default_tier: t1
  tiers: {t1: {requests_per_minute: 60, tokens_per_minute: 100000}}
  as_of: 2026-01-01
  source: https://toy.example/limits
models:
  - id: toy-1
    name: Toy One
    encoding: o200k_base
    context_window: 32000
    max_output_tokens: 4000
    prices:
      - as_of: 2026-01-01
        source: https://toy.example/pricing
        standard: {input: 2.00, output: 8.00}
        batch: {input: 0.90, output: 3.60}
"""

# o200k_base tokens: 3, 4, 3, 6 and 2, and 7 more each as a chat message (3 for the message,
# 1 for its role, 3 for the reply): 18 + 5 x 7 = 53 in all
PROMPTS = ["Sort these socks", "Name a blue fruit", "Count to three", "Why is the sky blue?", "Say hello"]  # fmt: skip
MILLION = Decimal(10**6)

# toyco is not a provider whose chat overhead was measured: counts use OpenAI's, and say so
pytestmark = pytest.mark.filterwarnings("ignore:no chat overhead known for toy-1")


@pytest.fixture
def toy() -> Iterator[LineFormat]:
    """The toy format, registered for one test."""
    fmt = register(ToyLines())
    yield fmt
    unregister("toy")


@pytest.fixture
def prices(tmp_path: Path) -> Path:
    path = tmp_path / "toy-prices.yaml"
    path.write_text(TOY_PRICES)
    return path


@pytest.fixture
def prompts(tmp_path: Path) -> Path:
    path = tmp_path / "prompts.txt"
    path.write_text("".join(p + "\n" for p in PROMPTS))
    return path


def toy_results(path: Path) -> Path:
    """Results for row-1 .. row-4 (row-5 has none): two succeeded, one failed, one expired."""
    lines = [
        {"custom_id": "row-2", "toy_result": {"status": "ok", "model": "toy-1", "usage": {"in": 3000, "out": 100}}},
        {"custom_id": "row-1", "toy_result": {"status": "ok", "model": "toy-1", "usage": {"in": 1000, "out": 200}}},
        {"custom_id": "row-3", "toy_result": {"status": "failed"}},
        {"custom_id": "row-4", "toy_result": {"status": "expired"}},
    ]  # fmt: skip
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path


def test_the_registry_names_its_formats(toy: LineFormat) -> None:
    assert line_formats() == ["openai", "anthropic", "bedrock", "vertex", "toy"]
    assert line_format("toy") is toy
    with pytest.raises(UsageError, match=r"unknown batch line format 'nope' \(known: openai, anthropic, bedrock, vertex or toy\)"):  # fmt: skip
        line_format("nope")
    with pytest.raises(ValueError, match="registered already"):
        register(ToyLines())


def test_a_registered_format_builds_validates_and_reconciles(
    toy: LineFormat, tmp_path: Path, prices: Path, prompts: Path
) -> None:
    table = load_price_table([prices])
    assert table.providers["toyco"].batch is not None
    assert table.providers["toyco"].batch.line_format == "toy"
    out = tmp_path / "out"
    manifest = build(str(prompts), "toy-1", out, max_tokens=50, table=table)

    # the provider's line format wrote the lines, split at its 2 requests per file
    assert manifest.provider == "toy" and manifest.requests == 5
    assert [p.requests for p in manifest.parts] == [2, 2, 1]
    files = [str(out / p.file) for p in manifest.parts]
    first = json.loads(Path(files[0]).read_text().splitlines()[0])
    assert first == {"custom_id": "row-1", "toy": {"model": "toy-1", "prompt": "Sort these socks", "limit": 50}}  # fmt: skip
    # the quote counts the toy lines: 53 tokens in, 5 x 50 out at max_tokens;
    # standard $2.00 / $8.00 per 1M, batch (published) $0.90 / $3.60
    q = manifest.quote
    assert q is not None
    assert q.input_tokens_per_request == Decimal("10.60")
    assert q.standard_cost == (53 * Decimal("2.00") + 250 * Decimal("8.00")) / MILLION
    assert q.batch_cost == (53 * Decimal("0.90") + 250 * Decimal("3.60")) / MILLION

    report = validate_files(files, table=table)
    assert report.valid, report
    assert [(f.provider, f.model, f.requests, f.max_tokens_total) for f in report.files] == [
        ("toy", "toy-1", 2, 100),
        ("toy", "toy-1", 2, 100),
        ("toy", "toy-1", 1, 50),
    ]

    r = reconcile([str(toy_results(tmp_path / "results.jsonl"))], files, table=table)
    assert r.model == "toy-1"
    assert r.outcomes == {"succeeded": 2, "errored": 1, "expired": 1, "cancelled": 0}
    assert (r.usage.input_tokens, r.usage.output_tokens) == (4000, 300)
    actual = (4000 * Decimal("0.90") + 300 * Decimal("3.60")) / MILLION
    estimate = (53 * Decimal("0.90") + 250 * Decimal("3.60")) / MILLION
    assert r.actual_cost == actual == Decimal("0.00468")
    assert r.estimate == estimate and r.difference == actual - estimate
    assert r.input_requests == 5 and r.missing == ["row-5"] and r.unexpected == []
    assert r.assumed == []


def test_validate_runs_the_formats_checks_and_its_providers_limits(
    toy: LineFormat, tmp_path: Path, prices: Path
) -> None:
    table = load_price_table([prices])
    good = {"custom_id": "a", "toy": {"model": "toy-1", "prompt": "hi", "limit": 5}}
    lines = [
        good,
        {"custom_id": "b c", "toy": {"model": "toy-1", "prompt": " ", "limit": 0}},
        {"custom_id": "d", "toy": {"prompt": "hi", "limit": 5}},
        {"custom_id": "e", "toy": {"model": "toy-1", "prompt": "hello" + " hello" * 39_999, "limit": 5}},
        {"custom_id": "f", "params": {"model": "toy-1", "max_tokens": 5, "messages": []}},
    ]  # fmt: skip
    path = tmp_path / "toy.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    (report,) = validate_files([str(path)], table=table).files
    where = f"{path}:"
    assert report.provider == "toy" and report.model == "toy-1" and report.requests == 5
    assert report.problems == [
        f"{where}2: a toy custom_id has no spaces",
        f"{where}2: toy.prompt must be text",
        f"{where}2: toy.limit must be a whole number >= 1",
        f"{where}3: toy.model is missing",
        f"{where}4: 40,007 input tokens, over toy-1's limit of 32,000",  # 40,000 + 7
        f"{where}5: a request for anthropic in a file of toy requests",
        f"{path}: 5 requests, over the limit of 2 per file",  # toyco's limit
    ]
    assert report.max_tokens_total == 5 + 0 + 5 + 5


def test_queue_flush_writes_the_providers_format(
    toy: LineFormat, tmp_path: Path, prices: Path
) -> None:
    table = load_price_table([prices])
    db = tmp_path / "q.db"
    add(db, ["Sort these socks", ("mine", {"prompt": "Say hello", "system": "Be kind."})])
    (result,) = flush(db, tmp_path / "out", "toy-1", max_tokens=7, system="Be brief.", table=table)
    assert result.tasks == 2
    (part,) = result.files
    assert [json.loads(x) for x in Path(part.file).read_text().splitlines()] == [
        {"custom_id": "task-1", "toy": {"model": "toy-1", "prompt": "Be brief.\nSort these socks", "limit": 7}},
        {"custom_id": "mine", "toy": {"model": "toy-1", "prompt": "Be kind.\nSay hello", "limit": 7}},
    ]  # fmt: skip


def test_token_counts_and_batch_quote_read_the_format(
    toy: LineFormat, tmp_path: Path, prices: Path, prompts: Path, run_cli: RunCli
) -> None:
    from costcalc.tokens.count import count_file

    table = load_price_table([prices])
    manifest = build(str(prompts), "toy-1", tmp_path / "out", max_tokens=50, table=table)
    files = [str(tmp_path / "out" / p.file) for p in manifest.parts]
    counted = count_file(files, table=table)  # the model named in the lines: toy-1
    assert (counted.requests, counted.tokens) == (5, 53)
    result = run_cli("batch", "quote", *files, "--prices", str(prices), "--format", "json")
    assert result.exit_code == 0, result.stderr
    workloads = json.loads(result.stdout)["workloads"]
    assert [w["requests"] for w in workloads] == [2, 2, 1]
    batch = sum(Decimal(m["cost"]) for w in workloads for m in w["modes"] if m["mode"] == "batch")
    assert batch == (53 * Decimal("0.90") + 250 * Decimal("3.60")) / MILLION


def test_the_cli_takes_a_registered_format(
    toy: LineFormat, tmp_path: Path, prices: Path, prompts: Path, run_cli: RunCli
) -> None:
    price_args = ["--prices", str(prices)]
    assert (
        "--provider [openai|anthropic|bedrock|vertex|toy]"
        in run_cli("batch", "build", "--help").stdout
    )
    out = tmp_path / "out"
    built = run_cli("batch", "build", str(prompts), "-m", "toy-1", "--provider", "toy",
                    "--out", str(out), "--max-tokens", "50", "--format", "json", *price_args)  # fmt: skip
    assert built.exit_code == 0, built.stderr
    manifest = json.loads(built.stdout)
    assert manifest["provider"] == "toy" and manifest["requests"] == 5
    files = [str(out / p["file"]) for p in manifest["parts"]]
    checked = run_cli("batch", "validate", *files, *price_args)
    assert checked.exit_code == 0, checked.stdout
    assert f"{files[0]}: ok: 2 requests" in checked.stdout and "toy format, model toy-1" in checked.stdout  # fmt: skip
    results = str(toy_results(tmp_path / "results.jsonl"))
    inputs = [a for f in files for a in ("--input", f)]
    done = run_cli("batch", "reconcile", results, *inputs, "--format", "json", *price_args)
    assert done.exit_code == 0, done.stderr
    r = json.loads(done.stdout)
    assert r["outcomes"] == {"succeeded": 2, "errored": 1, "expired": 1, "cancelled": 0}
    assert Decimal(r["actual_cost"]) == Decimal("0.00468") and r["missing"] == ["row-5"]
    wrong = run_cli("batch", "build", str(prompts), "-m", "toy-1", "--provider", "openai",
                    "--out", str(tmp_path / "o2"), *price_args)  # fmt: skip
    assert wrong.exit_code == 2 and "toy-1 is a model of toyco, not openai" in wrong.stderr


def test_without_the_format_the_price_file_and_the_cli_refuse_it(
    tmp_path: Path, prices: Path, prompts: Path, run_cli: RunCli
) -> None:
    assert "toy" not in line_formats()
    with pytest.raises(
        PriceTableError,
        match="input should be 'openai', 'anthropic', 'gemini', 'bedrock' or 'vertex'",
    ):
        load_price_table([prices])
    result = run_cli("batch", "build", str(prompts), "-m", "gpt-4o", "--provider", "toy",
                     "--out", str(tmp_path / "out"))  # fmt: skip
    assert (
        result.exit_code == 2
        and "'toy' is not one of 'openai', 'anthropic', 'bedrock', 'vertex'" in result.stderr
    )
