"""The built-in cloud line formats: AWS Bedrock batch inference (``bedrock``, Claude bodies)
and Google Vertex AI batch inference for Gemini (``vertex``).

Each is named by a small user price file (``batch: {line_format: ...}``) and builds files
from a CSV and from JSONL chat messages, validates them (every documented problem a case),
quotes them, and reconciles a made-up output file at prices worked out by hand. Their lines
name no model (the job does): validate, quote and reconcile take it from ``--model`` or the
manifest ``batch build`` wrote beside the files.
"""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from costcalc.batch.build import build
from costcalc.batch.formats import line_format, request_format, result_format
from costcalc.batch.queue import add, flush
from costcalc.batch.quote import quote_files
from costcalc.batch.reconcile import reconcile
from costcalc.batch.validate import validate_files
from costcalc.errors import CostcalcError, UsageError
from costcalc.prices import PriceTable, load_price_table
from tests.conftest import RunCli

MILLION = Decimal(10**6)

# two providers of one price file each: a made-up Claude on Bedrock and Gemini on Vertex,
# with every cache price set (the reconcile tests bill cache reads and writes)
PRICES = """\
provider: {provider}
name: {provider}
source: https://example.com/{provider}/pricing
batch:
  discount: 0.5
  cache_discount_stacks: true
  max_requests: 3
  max_bytes: 1000000
  completion_window_hours: 24
  typical_turnaround_hours: 24
  line_format: {fmt}
  as_of: 2026-12-01
  source: https://example.com/{provider}/batch
speed: {{time_to_first_token_s: 1, output_tokens_per_s: 50, as_of: 2026-12-01, source: https://example.com/speed}}
rate_limits:
  default_tier: t1
  tiers: {{t1: {{requests_per_minute: 60, tokens_per_minute: 100000}}}}
  as_of: 2026-12-01
  source: https://example.com/limits
models:
  - id: {model}
    name: {model}
    encoding: o200k_base
    context_window: 32000
    max_output_tokens: 4000
    prices:
      - as_of: 2026-12-01
        source: https://example.com/{provider}/pricing
        standard: {{input: 3.00, cached_input: 0.30, cache_write_5m: 3.75, cache_write_1h: 6.00, output: 15.00}}
        batch: {{input: 1.50, cached_input: 0.15, cache_write_5m: 1.875, cache_write_1h: 3.00, output: 7.50}}
"""
BEDROCK_MODEL = "br-claude"
VERTEX_MODEL = "vx-gemini"
BATCH = {"input": Decimal("1.50"), "cached_input": Decimal("0.15"), "cache_write_5m": Decimal("1.875"), "cache_write_1h": Decimal("3.00"), "output": Decimal("7.50")}  # fmt: skip

pytestmark = pytest.mark.filterwarnings("ignore:no chat overhead known")


@pytest.fixture
def price_files(tmp_path: Path) -> list[Path]:
    br, vx = tmp_path / "bedrock-prices.yaml", tmp_path / "vertex-prices.yaml"
    br.write_text(PRICES.format(provider="awsbr", fmt="bedrock", model=BEDROCK_MODEL))
    vx.write_text(PRICES.format(provider="gcpvx", fmt="vertex", model=VERTEX_MODEL))
    return [br, vx]


@pytest.fixture
def table(price_files: list[Path]) -> PriceTable:
    return load_price_table(price_files)


@pytest.fixture
def price_args(price_files: list[Path]) -> list[str]:
    return [a for p in price_files for a in ("--prices", str(p))]


@pytest.fixture
def csv(tmp_path: Path) -> Path:
    path = tmp_path / "tickets.csv"
    path.write_text(
        "id,body\n1,Sort these socks\n2,Name a blue fruit\n3,Count to three\n4,Say hello\n"
    )
    return path


CHATS = [
    {"messages": [{"role": "system", "content": "Rules."}, {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}, {"role": "user", "content": "Bye"}]},
    {"system": "Own.", "prompt": "Hey"},
]  # fmt: skip


@pytest.fixture
def chats(tmp_path: Path) -> Path:
    path = tmp_path / "chats.jsonl"
    path.write_text("".join(json.dumps(c) + "\n" for c in CHATS))
    return path


def write_lines(path: Path, objs: list[Any]) -> Path:
    path.write_text("".join(o if isinstance(o, str) else json.dumps(o) + "\n" for o in objs))
    return path


def parts(out: Path, manifest: Any) -> list[str]:
    return [str(out / p.file) for p in manifest.parts]


# --- recognition ------------------------------------------------------------------------------


def test_each_line_is_claimed_by_its_own_format() -> None:
    requests = {
        "openai": {"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": {}},
        "anthropic": {"custom_id": "a", "params": {}},
        "bedrock": {"recordId": "a", "modelInput": {}},
        "vertex": {"request": {"contents": [], "labels": {"custom_id": "a"}}},
    }
    results = {
        "openai": {"custom_id": "a", "response": {"status_code": 200}},
        "anthropic": {"custom_id": "a", "result": {"type": "errored"}},
        "bedrock": {"recordId": "a", "modelInput": {}, "error": {"errorCode": 400}},
        "vertex": {"status": "", "processed_time": "2026-12-01T00:00:00Z", "request": {}, "response": {}},
    }  # fmt: skip
    assert {k: request_format(v).name for k, v in requests.items()} == {k: k for k in requests}
    assert {k: getattr(result_format(v), "name", None) for k, v in results.items()} == {
        k: k for k in results
    }
    # an OpenAI error line has "error" too, but no recordId: still OpenAI's
    assert getattr(result_format({"custom_id": "a", "error": {"code": "x"}}), "name", None) == "openai"  # fmt: skip
    assert line_format("bedrock").custom_id_of(requests["bedrock"]) == "a"
    assert line_format("vertex").custom_id_of(requests["vertex"]) == "a"


# --- bedrock ----------------------------------------------------------------------------------


def test_bedrock_builds_claude_lines_byte_for_byte(
    table: PriceTable, tmp_path: Path, csv: Path, chats: Path
) -> None:
    out = tmp_path / "out"
    manifest = build(str(csv), BEDROCK_MODEL, out, column="body", system="Be brief.",
                     max_tokens=50, table=table)  # fmt: skip
    assert manifest.provider == "bedrock" and manifest.model == BEDROCK_MODEL
    assert [p.requests for p in manifest.parts] == [3, 1]  # the price file's 3 per file
    first = (out / manifest.parts[0].file).read_bytes().splitlines(keepends=True)[0]
    assert first == (
        b'{"recordId":"row-1","modelInput":{"anthropic_version":"bedrock-2023-05-31",'
        b'"max_tokens":50,"messages":[{"role":"user","content":"Sort these socks"}],'
        b'"system":"Be brief."}}\n'
    )
    # chat messages: system messages go to "system", after the default or the row's own
    manifest = build(str(chats), BEDROCK_MODEL, tmp_path / "chat", system="Default.",
                     max_tokens=20, table=table)  # fmt: skip
    lines = [json.loads(x) for x in Path(parts(tmp_path / "chat", manifest)[0]).read_text().splitlines()]  # fmt: skip
    assert lines == [
        {"recordId": "row-1", "modelInput": {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 20, "messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}, {"role": "user", "content": "Bye"}], "system": "Default.\n\nRules."}},
        {"recordId": "row-2", "modelInput": {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 20, "messages": [{"role": "user", "content": "Hey"}], "system": "Own."}},
    ]  # fmt: skip


def test_bedrock_files_validate_and_quote_with_the_manifests_model(
    table: PriceTable, tmp_path: Path, csv: Path
) -> None:
    out = tmp_path / "out"
    manifest = build(str(csv), BEDROCK_MODEL, out, column="body", max_tokens=50, table=table)
    files = parts(out, manifest)
    report = validate_files(files, table=table)
    assert report.valid, report
    assert [(f.provider, f.model, f.requests, f.max_tokens_total) for f in report.files] == [
        ("bedrock", BEDROCK_MODEL, 3, 150),
        ("bedrock", BEDROCK_MODEL, 1, 50),
    ]
    # the quote counts the lines as the build did: output at max_tokens
    q = quote_files(files, table=table)
    assert q.workloads[0].model == BEDROCK_MODEL
    batch = sum(w.mode("batch").cost or 0 for w in q.workloads)
    assert manifest.quote is not None and batch == manifest.quote.batch_cost

    # without the manifest the file names no model: validate still checks it, quote asks
    alone = tmp_path / "alone.jsonl"
    shutil.copy(files[0], alone)
    (report_alone,) = validate_files([str(alone)], table=table).files
    assert report_alone.problems == [] and report_alone.model is None
    with pytest.raises(UsageError, match="bedrock lines do not name their model"):
        quote_files([str(alone)], table=table)
    assert quote_files([str(alone)], table=table, model=BEDROCK_MODEL).workloads[0].model == BEDROCK_MODEL  # fmt: skip
    # a model whose provider writes other lines would be priced at the wrong rates
    (wrong,) = validate_files([str(alone)], table=table, model="gpt-4o").files
    assert wrong.problems == [
        f"{alone}: gpt-4o is a model of openai, whose batch files are openai lines, "
        "not bedrock lines"
    ]


BEDROCK_GOOD = {"recordId": "a", "modelInput": {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}}  # fmt: skip


def _bedrock(record: Any = "a", **body: Any) -> dict[str, Any]:
    line: dict[str, Any] = {"modelInput": {**BEDROCK_GOOD["modelInput"], **body}}
    if record is not None:
        line["recordId"] = record
    return line


def test_bedrock_validate_finds_each_documented_problem(table: PriceTable, tmp_path: Path) -> None:
    lines = [
        BEDROCK_GOOD,
        _bedrock(record=None),  # Bedrock would add one: no result could be matched
        _bedrock(record="a"),  # the same id twice
        {"recordId": "c"},  # no modelInput
        _bedrock(record="d", model="anthropic.claude-x"),  # the job names the model
        _bedrock(record="e", anthropic_version="2023-06-01"),  # not Claude's Bedrock body
        _bedrock(record="f", max_tokens=0),
        _bedrock(record="g", messages=[]),
        _bedrock(record="h", messages=[{"role": "user", "content": "hello" + " hello" * 39_999}]),
        {"custom_id": "i", "params": {"model": "x", "max_tokens": 5, "messages": []}},
    ]
    path = write_lines(tmp_path / "bad.jsonl", lines)
    (report,) = validate_files([str(path)], table=table, model=BEDROCK_MODEL).files
    w = f"{path}:"
    assert report.provider == "bedrock" and report.model == BEDROCK_MODEL
    assert report.problems == [
        f"{w}2: recordId is missing or not a string",
        f"{w}3: recordId 'a' is also used at {w}1",
        f"{w}4: modelInput is missing or not an object",
        f"{w}5: modelInput.model is not allowed (the batch job names the model)",
        f'{w}6: modelInput.anthropic_version must be "bedrock-2023-05-31" '
        "(costcalc checks Anthropic Claude bodies only)",
        f"{w}7: modelInput.max_tokens must be a whole number >= 1",
        f"{w}8: modelInput.messages is empty",
        f"{w}9: 40,007 input tokens, over {BEDROCK_MODEL}'s limit of 32,000",
        f"{w}10: a request for anthropic in a file of bedrock requests",
        f"{path}: 10 requests, over the limit of 3 per file",  # the price file's
    ]


def test_bedrock_reconciles_claude_usage_at_batch_prices(
    table: PriceTable, tmp_path: Path, csv: Path
) -> None:
    out = tmp_path / "out"
    manifest = build(str(csv), BEDROCK_MODEL, out, column="body", max_tokens=50, table=table)
    files = parts(out, manifest)
    usage = {"input_tokens": 1000, "output_tokens": 200, "cache_read_input_tokens": 500, "cache_creation_input_tokens": 300}  # fmt: skip
    results = write_lines(tmp_path / "out.jsonl.out", [
        {"recordId": "row-2", "modelInput": {}, "modelOutput": {"id": "msg_bdrk_1", "type": "message", "model": "claude-x", "usage": usage}},
        {"recordId": "row-1", "modelInput": {}, "error": {"errorCode": 400, "errorMessage": "bad request"}},
        {"recordId": "row-3", "modelInput": {}, "modelOutput": {"usage": {"input_tokens": 10, "output_tokens": 2, "cache_creation_input_tokens": 40, "cache_creation": {"ephemeral_1h_input_tokens": 40}}}},
    ])  # fmt: skip
    # the results name no Bedrock model: the manifests of the inputs do
    r = reconcile([str(results)], files, table=table)
    assert r.model == BEDROCK_MODEL
    assert r.outcomes == {"succeeded": 2, "errored": 1, "expired": 0, "cancelled": 0}
    u = r.usage
    assert (u.input_tokens, u.cached_input_tokens, u.cache_write_tokens, u.cache_write_1h_tokens, u.output_tokens) == (1010, 500, 300, 40, 202)  # fmt: skip
    actual = (1010 * BATCH["input"] + 500 * BATCH["cached_input"] + 300 * BATCH["cache_write_5m"]
              + 40 * BATCH["cache_write_1h"] + 202 * BATCH["output"]) / MILLION  # fmt: skip
    assert r.actual_cost == actual == Decimal("0.0037875")
    assert r.input_requests == 4 and r.missing == ["row-4"] and r.unexpected == []
    # without inputs, the model is given or it is an error that says what to give
    with pytest.raises(UsageError, match="no succeeded result names its model"):
        reconcile([str(results)], table=table)
    assert reconcile([str(results)], model=BEDROCK_MODEL, table=table).actual_cost == actual
    bad = write_lines(tmp_path / "bad.out", [{"recordId": "x", "modelInput": {}}])
    with pytest.raises(CostcalcError, match="modelOutput is missing"):
        reconcile([str(bad)], model=BEDROCK_MODEL, table=table)


# --- vertex -----------------------------------------------------------------------------------


def test_vertex_builds_gemini_lines_byte_for_byte(
    table: PriceTable, tmp_path: Path, csv: Path, chats: Path
) -> None:
    out = tmp_path / "out"
    manifest = build(str(csv), VERTEX_MODEL, out, column="body", system="Be brief.",
                     max_tokens=50, table=table)  # fmt: skip
    assert manifest.provider == "vertex" and manifest.model == VERTEX_MODEL
    first = (out / manifest.parts[0].file).read_bytes().splitlines(keepends=True)[0]
    assert first == (
        b'{"request":{"contents":[{"role":"user","parts":[{"text":"Sort these socks"}]}],'
        b'"systemInstruction":{"parts":[{"text":"Be brief."}]},'
        b'"generationConfig":{"maxOutputTokens":50},"labels":{"custom_id":"row-1"}}}\n'
    )
    manifest = build(str(chats), VERTEX_MODEL, tmp_path / "chat", max_tokens=20, table=table)
    lines = [json.loads(x) for x in Path(parts(tmp_path / "chat", manifest)[0]).read_text().splitlines()]  # fmt: skip
    assert lines == [
        {"request": {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}, {"role": "model", "parts": [{"text": "Hello"}]}, {"role": "user", "parts": [{"text": "Bye"}]}], "systemInstruction": {"parts": [{"text": "Rules."}]}, "generationConfig": {"maxOutputTokens": 20}, "labels": {"custom_id": "row-1"}}},
        {"request": {"contents": [{"role": "user", "parts": [{"text": "Hey"}]}], "systemInstruction": {"parts": [{"text": "Own."}]}, "generationConfig": {"maxOutputTokens": 20}, "labels": {"custom_id": "row-2"}}},
    ]  # fmt: skip
    # ids are label values: lower case
    with pytest.raises(UsageError, match="'Row-1' must be at most 63 lower-case letters"):
        build(str(csv), VERTEX_MODEL, tmp_path / "o3", column="body", id_prefix="Row-", table=table)  # fmt: skip
    assert not (tmp_path / "o3").exists()


def test_vertex_files_validate_count_and_quote(
    table: PriceTable, tmp_path: Path, csv: Path
) -> None:
    from costcalc.tokens.count import count_file

    out = tmp_path / "out"
    manifest = build(str(csv), VERTEX_MODEL, out, column="body", max_tokens=50, table=table)
    files = parts(out, manifest)
    report = validate_files(files, table=table)
    assert report.valid, report
    assert [(f.provider, f.model, f.max_tokens_total) for f in report.files] == [
        ("vertex", VERTEX_MODEL, 150),
        ("vertex", VERTEX_MODEL, 50),
    ]
    # each part's text as it is (o200k_base: 3 + 4 + 3 + 2 tokens), as Gemini lines were
    counted = count_file(files, VERTEX_MODEL, table=table)
    assert (counted.requests, counted.raw_tokens) == (4, 12)
    q = quote_files(files, table=table)
    batch = sum(w.mode("batch").cost or 0 for w in q.workloads)
    assert batch == (12 * BATCH["input"] + 200 * BATCH["output"]) / MILLION


VERTEX_GOOD = {"request": {"contents": [{"role": "user", "parts": [{"text": "hi"}]}], "generationConfig": {"maxOutputTokens": 5}, "labels": {"custom_id": "a"}}}  # fmt: skip


def _vertex(cid: Any = "a", **request: Any) -> dict[str, Any]:
    req = {**VERTEX_GOOD["request"], **request}
    if cid is not None:
        req["labels"] = {**req.get("labels", {}), "custom_id": cid}
    return {"request": req}


NOT_A_LABEL = "must be at most 63 lower-case letters, digits, _ or - (a label value)"


def test_vertex_validate_finds_each_documented_problem(table: PriceTable, tmp_path: Path) -> None:
    lines = [
        VERTEX_GOOD,
        _vertex(cid=None, labels={}),  # no id: its result could not be matched
        _vertex(cid="a"),  # the same id twice
        _vertex(cid="Row-1"),  # a label value is lower case
        _vertex(cid="x" * 64),  # ... of at most 63 characters
        {"request": "hi"},
        _vertex(cid="f", contents=[]),
        _vertex(cid="g", contents=[{"role": "assistant", "parts": [{"text": "hi"}]}]),
        _vertex(cid="h", contents=[{"role": "user", "parts": []}]),
        _vertex(cid="i", generationConfig={"maxOutputTokens": 0}),
        _vertex(cid="j", labels={"Team": "x"}),  # a label key starts with a lower-case letter
        _vertex(cid="k", systemInstruction="Be brief."),
    ]
    path = write_lines(tmp_path / "bad.jsonl", lines)
    (report,) = validate_files([str(path)], table=table, max_requests=100).files
    w = f"{path}:"
    assert report.provider == "vertex" and report.model is None
    assert report.problems == [
        f"{w}2: request.labels.custom_id is missing or not a string",
        f"{w}3: request.labels.custom_id 'a' is also used at {w}1",
        f"{w}4: request.labels.custom_id 'Row-1' {NOT_A_LABEL}",
        f"{w}5: request.labels.custom_id '{'x' * 64}' {NOT_A_LABEL}",
        f"{w}6: request.labels.custom_id is missing or not a string",
        f"{w}6: request is missing or not an object",
        f"{w}7: request.contents is empty",
        f"{w}8: request.contents[0].role must be user or model, got 'assistant'",
        f"{w}9: request.contents[0] has no parts",
        f"{w}10: request.generationConfig.maxOutputTokens must be a whole number >= 1",
        f"{w}11: request.labels: key 'Team' is not a label key",
        f"{w}12: request.systemInstruction must be an object with parts",
    ]


def test_vertex_reconciles_usage_metadata_at_batch_prices(
    table: PriceTable, tmp_path: Path, csv: Path
) -> None:
    out = tmp_path / "out"
    manifest = build(str(csv), VERTEX_MODEL, out, column="body", max_tokens=50, table=table)
    files = parts(out, manifest)
    usage = {"promptTokenCount": 1200, "cachedContentTokenCount": 200, "candidatesTokenCount": 100, "thoughtsTokenCount": 50, "totalTokenCount": 1350}  # fmt: skip
    results = write_lines(tmp_path / "predictions.jsonl", [
        {"status": "", "processed_time": "2026-12-01T10:00:00.000+00:00", "request": {"contents": [], "labels": {"custom_id": "row-3"}}, "response": {"candidates": [], "usageMetadata": usage, "modelVersion": "gemini-x-001"}},
        {"status": "Bad Request: {\"error\": {\"code\": 400}}", "processed_time": "2026-12-01T10:00:01.000+00:00", "request": {"contents": [], "labels": {"custom_id": "row-1"}}},
    ])  # fmt: skip
    r = reconcile([str(results)], files, table=table)
    assert r.model == VERTEX_MODEL
    assert r.outcomes == {"succeeded": 1, "errored": 1, "expired": 0, "cancelled": 0}
    assert (r.usage.input_tokens, r.usage.cached_input_tokens, r.usage.output_tokens) == (1000, 200, 150)  # fmt: skip
    actual = (1000 * BATCH["input"] + 200 * BATCH["cached_input"] + 150 * BATCH["output"]) / MILLION
    assert r.actual_cost == actual == Decimal("0.002655")
    assert r.input_requests == 4 and r.missing == ["row-2", "row-4"]
    no_usage = write_lines(tmp_path / "p2.jsonl", [{"status": "", "request": {"labels": {"custom_id": "a"}}, "response": {"candidates": []}}])  # fmt: skip
    with pytest.raises(CostcalcError, match=r"response\.usageMetadata is missing"):
        reconcile([str(no_usage)], model=VERTEX_MODEL, table=table)


def test_vertex_queue_flush_refuses_an_id_that_is_not_a_label(
    table: PriceTable, tmp_path: Path
) -> None:
    db = tmp_path / "q.db"
    add(db, ["Sort these socks", ("Mine", {"prompt": "Say hello"})])
    with pytest.raises(
        CostcalcError, match=r"task Mine: request\.labels\.custom_id 'Mine' must be"
    ):
        flush(db, tmp_path / "out", VERTEX_MODEL, max_tokens=7, table=table)
    # the tasks wait for a flush that can write them (here: Bedrock takes any id)
    (result,) = flush(db, tmp_path / "out", BEDROCK_MODEL, max_tokens=7, table=table)
    assert result.tasks == 2


# --- the command line -------------------------------------------------------------------------


def test_the_cli_builds_validates_quotes_and_reconciles_bedrock(
    run_cli: RunCli, price_args: list[str], tmp_path: Path, csv: Path
) -> None:
    out = tmp_path / "out"
    built = run_cli("batch", "build", str(csv), "-m", BEDROCK_MODEL, "--column", "body",
                    "--out", str(out), "--format", "json", *price_args)  # fmt: skip
    assert built.exit_code == 0, built.stderr
    files = [str(out / p["file"]) for p in json.loads(built.stdout)["parts"]]
    checked = run_cli("batch", "validate", *files, *price_args)
    assert checked.exit_code == 0, checked.stdout
    assert f"bedrock format, model {BEDROCK_MODEL}" in checked.stdout
    alone = tmp_path / "alone.jsonl"
    shutil.copy(files[0], alone)
    quoted = run_cli("batch", "quote", str(alone), *price_args)
    assert quoted.exit_code == 2
    assert "bedrock lines do not name their model" in quoted.stderr and "--model" in quoted.stderr
    quoted = run_cli("batch", "quote", str(alone), "-m", BEDROCK_MODEL, *price_args)
    assert quoted.exit_code == 0, quoted.stderr
    results = write_lines(tmp_path / "r.out", [{"recordId": "row-1", "modelInput": {}, "modelOutput": {"usage": {"input_tokens": 10, "output_tokens": 2}}}])  # fmt: skip
    done = run_cli("batch", "reconcile", str(results), "--format", "json", *price_args)
    assert done.exit_code == 2 and "--model" in done.stderr and "--input" in done.stderr
    done = run_cli("batch", "reconcile", str(results), "--input", files[0], "--format", "json",
                   *price_args)  # fmt: skip
    assert done.exit_code == 0, done.stderr
    assert Decimal(json.loads(done.stdout)["actual_cost"]) == (10 * BATCH["input"] + 2 * BATCH["output"]) / MILLION  # fmt: skip


# --- a model's seller through the manifest (a hostile trial's finds) --------------------------


def test_a_seller_other_than_the_maker_is_kept_through_validate_and_quote(
    tmp_path: Path, csv: Path
) -> None:
    # gemini-2.5-flash alone is the Gemini API's: a manifest that dropped google-vertex: made
    # costcalc's own Vertex build fail its validate and quote, and reconcile price the Gemini API
    table = load_price_table()
    out = tmp_path / "out"
    manifest = build(str(csv), "google-vertex:gemini-2.5-flash", out, column="body", table=table)
    assert manifest.model == "google-vertex:gemini-2.5-flash"
    files = parts(out, manifest)
    report = validate_files(files, table=table)
    assert report.valid, report
    (priced,) = quote_files(files, table=table).workloads
    assert priced.provider == "google-vertex" and priced.model == "gemini-2.5-flash"


@pytest.mark.parametrize(
    ("model", "refusal"),
    [
        ("google-vertex:claude-3-5-sonnet", "Vertex AI batch lines for Gemini models only"),
        ("aws:meta.llama3-70b-instruct-v1:0", "Bedrock batch lines for Claude models only"),
    ],
)
def test_a_model_the_format_has_no_body_for_is_refused_before_anything_is_claimed(
    tmp_path: Path, csv: Path, model: str, refusal: str
) -> None:
    # Vertex wrote Gemini bodies for Claude; a queue flush failed after claiming its tasks,
    # and every later flush resumed that open flush and failed again
    with pytest.raises(UsageError, match=refusal):
        build(str(csv), model, tmp_path / "out", column="body")
    assert not (tmp_path / "out").exists()
    db = tmp_path / "q.db"
    add(db, ["a prompt"])
    with pytest.raises(UsageError, match=refusal):
        flush(db, tmp_path / "flushed", model)
    (done,) = flush(db, tmp_path / "flushed", "gpt-4o-mini")  # the task still waits
    assert done.tasks == 1


def test_a_name_with_a_seller_does_not_change_what_the_bare_id_names() -> None:
    # the table kept google-vertex:claude-3-5-sonnet's model under its bare id as well, so a
    # later claude-3-5-sonnet in the same run was priced as Vertex AI's
    table = load_price_table()
    assert table.find("google-vertex:claude-3-5-sonnet")[0].provider == "google-vertex"
    assert table.find("claude-3-5-sonnet")[0].provider == "anthropic"
    assert table.name_of("google-vertex:claude-3-5-sonnet") == "google-vertex:claude-3-5-sonnet"
    assert table.name_of("claude-3-5-sonnet") == "claude-3-5-sonnet"


def test_validate_refuses_what_claude_and_the_model_refuse(tmp_path: Path) -> None:
    # a system or tool message inside Claude's messages, and more output than the model
    # writes, passed validate (a hostile trial); OpenAI's limit is the model's too
    claude = {"custom_id": "a", "params": {"model": "claude-haiku-4-5", "max_tokens": 10**9, "messages": [{"role": "system", "content": "x"}, {"role": "tool", "content": "t"}, {"role": "user", "content": "y"}]}}  # fmt: skip
    openai = {"custom_id": "b", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "gpt-4o-mini", "max_tokens": 10**8, "messages": [{"role": "user", "content": "y"}]}}  # fmt: skip
    a = write_lines(tmp_path / "a.jsonl", [claude])
    b = write_lines(tmp_path / "b.jsonl", [openai])
    (report_a,) = validate_files([str(a)]).files
    assert report_a.problems == [
        f"{a}:1: params.messages[0].role 'system': Claude takes user and assistant messages "
        "(the system prompt apart, in system)",
        f"{a}:1: params.messages[1].role 'tool': Claude takes user and assistant messages "
        "(the system prompt apart, in system)",
        f"{a}:1: asks for up to 1,000,000,000 output tokens, over claude-haiku-4-5's maximum "
        "output of 64,000",
    ]
    (report_b,) = validate_files([str(b)]).files
    assert report_b.problems == [
        f"{b}:1: asks for up to 100,000,000 output tokens, over gpt-4o-mini's maximum output "
        "of 16,384"
    ]


@pytest.mark.parametrize(
    ("model", "family"),
    [
        ("claude-haiku-4-5", "Claude"),
        ("aws:anthropic.claude-3-5-sonnet-20241022-v2:0", "Claude"),
        ("google-vertex:gemini-2.5-flash", "Gemini"),
    ],
)
def test_build_refuses_a_role_the_provider_has_no_place_for(
    tmp_path: Path, model: str, family: str
) -> None:
    # a tool message went into Claude's messages as it was, and into Gemini's as a user's
    chat = {"messages": [{"role": "user", "content": "q"}, {"role": "tool", "content": "a"}]}
    rows = write_lines(tmp_path / "chats.jsonl", [{"messages": [{"role": "user", "content": "ok"}]}, chat])  # fmt: skip
    with pytest.raises(
        CostcalcError,
        match=rf"chats.jsonl:2: messages\[1\]: role 'tool': {family}'s batch requests take user",
    ):
        build(str(rows), model, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_build_for_a_provider_whose_limits_are_quotas_says_so(tmp_path: Path, csv: Path) -> None:
    # Bedrock's and Vertex AI's per-file limits are per-account quotas the table has none of:
    # files were split at 2 GB only, silently, though the README promised the provider's limits
    import warnings

    from costcalc.errors import CostcalcNote

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        build(str(csv), "aws:anthropic.claude-3-5-sonnet-20241022-v2:0", tmp_path / "a", column="body")  # fmt: skip
        build(str(csv), "aws:anthropic.claude-3-5-sonnet-20241022-v2:0", tmp_path / "b", column="body", max_requests=2)  # fmt: skip
        build(str(csv), "gpt-4o-mini", tmp_path / "c", column="body")
    notes = [str(w.message) for w in caught if issubclass(w.category, CostcalcNote)]
    assert notes == [
        "costcalc knows no per-file limit of AWS Bedrock's batch files (quotas of your account): "
        "files are split at 2,000,000,000 bytes only; give max_requests or max_bytes to split "
        "at yours"
    ]


def test_a_refused_model_is_one_line_with_no_note_before_it(
    run_cli: RunCli, tmp_path: Path, csv: Path
) -> None:
    # the note of unknown per-file limits came first, so the failure took two lines
    from tests.conftest import assert_one_line_error

    out = run_cli("batch", "build", str(csv), "--column", "body", "-m",
                  "google-vertex:claude-3-5-sonnet", "--out", str(tmp_path / "o"))  # fmt: skip
    assert_one_line_error(
        out, "claude-3-5-sonnet: costcalc writes Vertex AI batch lines for Gemini"
    )
