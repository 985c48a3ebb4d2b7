"""The audit's readers: OTLP spans, OpenAI usage pages and LiteLLM spend logs read field by
field; generated traces (tests/audit_traces.py) read back to their totals in every layout,
compressed or from stdin; bad records reported with their lines; files that are not the
format refused naming file and line; skipped records counted."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from costcalc.audit import BadRecord, ReadStats, UsageRecord, detect_format, read_usage
from costcalc.errors import CostcalcError, UsageError
from tests.audit_traces import Trace, make_trace

LAYOUTS = [("otlp", "jsonl"), ("otlp", "document"), ("openai-usage", "jsonl"),
           ("openai-usage", "document"), ("litellm", "jsonl"), ("litellm", "document"),
           ("litellm", "csv")]  # fmt: skip


def _attr(key: str, value: Any) -> dict[str, Any]:
    return {"key": key, "value": value}


def _otlp_line(spans: list[dict[str, Any]], service: str = "web") -> str:
    return json.dumps({"resourceSpans": [{
        "resource": {"attributes": [_attr("service.name", {"stringValue": service}),
                                    _attr("tag.team", {"stringValue": "core"})]},
        "scopeSpans": [{"scope": {"name": "s"}, "spans": spans}]}]})  # fmt: skip


def _span(**attrs: Any) -> dict[str, Any]:
    return {"name": "chat", "startTimeUnixNano": "1767600000000000000",
            "endTimeUnixNano": "1767600002500000000",
            "attributes": [_attr(k, v) for k, v in attrs.items()]}  # fmt: skip


def _read(path: Path | str, **kw: Any) -> tuple[list[UsageRecord | BadRecord], ReadStats]:
    reading = read_usage([path], **kw)
    return list(reading), reading.stats


def _by_stream(records: list[UsageRecord | BadRecord], trace: Trace) -> dict[str, list[int]]:
    """requests, input, cached, written, output and record count per stream of ``trace``."""
    out: dict[str, list[int]] = {}
    for r in records:
        if isinstance(r, BadRecord):
            continue
        name = next(n for n, s in trace.streams.items()
                    if all(r.keys.get(k) == v for k, v in s.keys.items()) and r.batched == s.batched)  # fmt: skip
        got = out.setdefault(name, [0] * 6)
        for i, v in enumerate((r.requests, r.input_tokens, r.cached_input_tokens,
                               r.cache_write_tokens, r.output_tokens, 1)):  # fmt: skip
            got[i] += v
    return out


def _expected(trace: Trace) -> dict[str, list[int]]:
    return {n: [s.requests, s.input_tokens, s.cached_input_tokens, s.cache_write_tokens,
                s.output_tokens, s.records] for n, s in trace.streams.items()}  # fmt: skip


# --- each format, field by field ---------------------------------------------------------


def test_otlp_span_field_by_field(tmp_path: Path) -> None:
    span = _span(**{
        "gen_ai.operation.name": {"stringValue": "chat"},
        "gen_ai.provider.name": {"stringValue": "anthropic"},
        "gen_ai.request.model": {"stringValue": "claude-sonnet-4-5"},
        "gen_ai.response.model": {"stringValue": "claude-sonnet-4-5-20250929"},
        "gen_ai.usage.input_tokens": {"intValue": "1200"},
        "gen_ai.usage.output_tokens": {"intValue": 300},
        "gen_ai.usage.cache_read.input_tokens": {"intValue": "1000"},
        "gen_ai.usage.cache_creation.input_tokens": {"intValue": "100"},
        "gen_ai.request.stream": {"boolValue": True},
        "openai.request.service_tier": {"stringValue": "flex"},
        "http.route": {"stringValue": "/v1/answer"},
        "costcalc.tag.source": {"stringValue": "web-ui"},
        "tag.team": {"stringValue": "search"},
        "enduser.id": {"stringValue": "u1"},
        "gen_ai.request.stop_sequences": {"arrayValue": {"values": [{"stringValue": "x"}]}},
    })  # fmt: skip
    path = tmp_path / "spans.jsonl"
    path.write_text(_otlp_line([span]) + "\n")
    (rec,), stats = _read(path)
    assert rec == UsageRecord(
        file=str(path), line=1, format="otlp", start=1767600000.0, end=1767600002.5,
        provider="anthropic", model="claude-sonnet-4-5-20250929", requests=1,
        input_tokens=1200, cached_input_tokens=1000, cache_write_tokens=100,
        output_tokens=300, streamed=True, batched=False, service_tier="flex",
        keys={"service": "web", "tag:team": "search", "operation": "chat",
              "route": "/v1/answer", "user": "u1", "tag:source": "web-ui"},
    )  # fmt: skip
    assert stats == ReadStats(records=1, usage=1, skipped=0, bad=0, files=1)


def test_otlp_older_names_and_what_is_skipped(tmp_path: Path) -> None:
    old = _span(**{"gen_ai.system": {"stringValue": "openai"},
                   "gen_ai.request.model": {"stringValue": "gpt-4o"},
                   "gen_ai.usage.prompt_tokens": {"intValue": "10"},
                   "gen_ai.usage.completion_tokens": {"doubleValue": 4.0},
                   "gen_ai.usage.cache_read_input_tokens": {"intValue": "30"}})  # fmt: skip
    http = _span(**{"http.route": {"stringValue": "/x"}})
    agent = _span(**{"gen_ai.operation.name": {"stringValue": "invoke_agent"},
                     "gen_ai.request.model": {"stringValue": "gpt-4o"},
                     "gen_ai.usage.input_tokens": {"intValue": "99"},
                     "gen_ai.usage.output_tokens": {"intValue": "9"}})  # fmt: skip
    failed = dict(_span(**{"gen_ai.operation.name": {"stringValue": "chat"},
                           "gen_ai.request.model": {"stringValue": "gpt-4o"}}),
                  status={"code": 2})  # fmt: skip
    no_usage = _span(**{"gen_ai.operation.name": {"stringValue": "chat"},
                        "gen_ai.request.model": {"stringValue": "gpt-4o"}})  # fmt: skip
    embed = _span(**{"gen_ai.operation.name": {"stringValue": "embeddings"},
                     "gen_ai.request.model": {"stringValue": "text-embedding-3-small"},
                     "gen_ai.usage.input_tokens": {"intValue": "7"}})  # fmt: skip
    path = tmp_path / "spans.jsonl"
    other = json.dumps({"resourceLogs": []})
    path.write_text(_otlp_line([old, http, agent, failed]) + "\n" + other + "\n"
                    + _otlp_line([no_usage, embed]) + "\n")  # fmt: skip
    records, stats = _read(path)
    first, bad, emb = records
    assert isinstance(first, UsageRecord) and first.provider == "openai"
    # the cache reads exceed the input: it was reported without them
    assert (first.input_tokens, first.cached_input_tokens, first.output_tokens) == (40, 30, 4)
    assert first.streamed is None and first.service_tier is None
    assert bad == BadRecord(str(path), 3, bad.reason) and "without gen_ai.usage" in bad.reason
    assert isinstance(emb, UsageRecord) and (emb.input_tokens, emb.output_tokens) == (7, 0)
    assert stats == ReadStats(records=6, usage=2, skipped=3, bad=1, files=1)


def test_openai_usage_result_field_by_field(tmp_path: Path) -> None:
    page = {"object": "page", "has_more": False, "next_page": None, "data": [
        {"object": "bucket", "start_time": 1767571200, "end_time": 1767657600, "results": [
            {"object": "organization.usage.completions.result", "input_tokens": 5000,
             "output_tokens": 700, "input_cached_tokens": 1200, "input_cache_write_tokens": 30,
             "input_audio_tokens": 0, "output_audio_tokens": 0, "num_model_requests": 12,
             "project_id": "proj_1", "user_id": None, "api_key_id": "key_1",
             "model": "gpt-4o-mini-2024-07-18", "batch": True, "service_tier": "default"},
            {"object": "organization.usage.embeddings.result", "input_tokens": 5,
             "num_model_requests": 1, "model": "text-embedding-3-small"}]}]}  # fmt: skip
    path = tmp_path / "usage.json"
    path.write_text(json.dumps(page))
    (rec,), stats = _read(path)
    assert rec == UsageRecord(
        file=str(path), line=1, format="openai-usage", start=1767571200.0, end=1767657600.0,
        provider="openai", model="gpt-4o-mini-2024-07-18", requests=12, input_tokens=5000,
        cached_input_tokens=1200, cache_write_tokens=30, output_tokens=700, streamed=None,
        batched=True, service_tier="default", keys={"project": "proj_1", "api_key": "key_1"},
    )  # fmt: skip
    assert stats == ReadStats(records=2, usage=1, skipped=1, bad=0, files=1)


LITELLM_ROW = {
    "request_id": "r1", "call_type": "acompletion", "api_key": "88dc28", "spend": 0.0012,
    "total_tokens": 1300, "prompt_tokens": 1000, "completion_tokens": 300,
    "startTime": "2026-01-05T10:00:00.123Z", "endTime": "2026-01-05 10:00:02.5",
    "model": "claude-haiku-4-5", "model_group": "haiku", "custom_llm_provider": "anthropic",
    "user": "alice", "team_id": "t1", "end_user": "", "cache_hit": "False",
    "request_tags": ["source:cron", "nightly"],
    "metadata": {"user_api_key_alias": "reports", "user_api_key_team_alias": "core",
                 "additional_usage_values": {"cache_read_input_tokens": 600,
                                             "cache_creation_input_tokens": 50},
                 "spend_logs_metadata": {"job": "digest"}},
    "proxy_server_request": {"model": "haiku", "stream": False, "service_tier": "priority"},
}  # fmt: skip


def _litellm_expected(path: Path, line: int) -> UsageRecord:
    return UsageRecord(
        file=str(path), line=line, format="litellm", start=1767607200.123,
        end=1767607202.5, provider="anthropic", model="claude-haiku-4-5", requests=1,
        input_tokens=1000, cached_input_tokens=600, cache_write_tokens=50, output_tokens=300,
        streamed=False, batched=False, service_tier="priority",
        keys={"api_key": "88dc28", "key_alias": "reports", "team": "t1", "team_alias": "core",
              "user": "alice", "tag:source": "cron", "tag:nightly": "true", "tag:job": "digest"},
    )  # fmt: skip


def test_litellm_row_field_by_field_json_and_csv(tmp_path: Path) -> None:
    path = tmp_path / "spend.json"
    path.write_text(json.dumps([LITELLM_ROW], indent=2))
    (rec,), _ = _read(path)
    assert rec == _litellm_expected(path, 2)
    columns = list(LITELLM_ROW)
    cells = [json.dumps(v) if isinstance(v, dict | list) else str(v) for v in LITELLM_ROW.values()]
    import csv

    csv_path = tmp_path / "spend.csv"
    with csv_path.open("w", newline="") as f:
        csv.writer(f).writerows([columns, cells])
    (rec,), stats = _read(csv_path)
    assert rec == _litellm_expected(csv_path, 2)
    assert stats == ReadStats(records=1, usage=1, skipped=0, bad=0, files=1)


def test_litellm_batch_rows_cache_hits_and_failures(tmp_path: Path) -> None:
    batch = dict(LITELLM_ROW, call_type="aretrieve_batch", proxy_server_request=None,
                 response=json.dumps({"request_counts": {"total": 50, "completed": 48}}))  # fmt: skip
    create = dict(LITELLM_ROW, call_type="acreate_batch", prompt_tokens=0, completion_tokens=0,
                  metadata={})  # fmt: skip
    hit = dict(LITELLM_ROW, cache_hit="True")
    failed = dict(LITELLM_ROW, metadata={"status": "failure"})
    no_count = dict(LITELLM_ROW, call_type="aretrieve_batch", proxy_server_request=None)
    rows = [
        dict(r, request_id=f"r{i}") for i, r in enumerate((batch, create, hit, failed, no_count))
    ]
    path = tmp_path / "spend.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    records, stats = _read(path)
    assert [(r.line, r.batched, r.requests, r.streamed) for r in records] == [
        (1, True, 48, None), (5, True, 1, None)]  # fmt: skip
    assert stats == ReadStats(records=5, usage=2, skipped=3, bad=0, files=1)


def test_litellm_rows_read_before_are_counted_once(tmp_path: Path) -> None:
    """Spend logs exported twice (or files that overlap) hold rows of the same request_id:
    each is priced once and counted as repeated; rows without one are never repeats."""
    import csv

    other = dict(LITELLM_ROW, request_id="r2")
    unnamed = {k: v for k, v in LITELLM_ROW.items() if k != "request_id"}
    rows = [LITELLM_ROW, other, LITELLM_ROW, unnamed, unnamed, other]
    path = tmp_path / "spend.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    records, stats = _read(path)
    assert [r.line for r in records] == [1, 2, 4, 5]
    assert (stats.records, stats.usage, stats.repeated, stats.skipped) == (6, 4, 2, 2)
    csv_path = tmp_path / "spend.csv"
    columns = list(LITELLM_ROW)
    with csv_path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        for r in (LITELLM_ROW, other, LITELLM_ROW):
            writer.writerow([json.dumps(r[c]) if isinstance(r[c], dict | list) else r[c]
                             for c in columns])  # fmt: skip
    records, stats = _read(csv_path)
    assert [r.line for r in records] == [2, 3]
    assert (stats.usage, stats.repeated) == (2, 1)


# --- generated traces ---------------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "layout"), LAYOUTS, ids=[f"{f}-{lay}" for f, lay in LAYOUTS])
def test_a_generated_trace_reads_back_to_its_totals(fmt: str, layout: str, tmp_path: Path) -> None:
    trace = make_trace(tmp_path / f"trace.{layout}", fmt, seed=7, layout=layout)
    records, stats = _read(trace.path)
    assert _by_stream(records, trace) == _expected(trace)
    assert stats.skipped == trace.skipped and stats.bad == 0
    assert stats.usage == sum(s.records for s in trace.streams.values())
    streamed = {r.keys.get("service", r.keys.get("key_alias")): r.streamed for r in records
                if isinstance(r, UsageRecord)}  # fmt: skip
    if fmt != "openai-usage":
        assert streamed["web-ui"] is True and streamed["nightly-report"] is False
    assert {r.format for r in records} == {fmt}


@pytest.mark.parametrize(("fmt", "layout"), [c for c in LAYOUTS if c[1] != "document"])
def test_bad_records_are_reported_with_their_lines(fmt: str, layout: str, tmp_path: Path) -> None:
    trace = make_trace(tmp_path / f"trace.{layout}", fmt, seed=3, bad=True, layout=layout)
    records, stats = _read(trace.path)
    bad = [r for r in records if isinstance(r, BadRecord)]
    assert [b.line for b in bad] == trace.bad_lines and stats.bad == 4
    reasons = " | ".join(b.reason for b in bad)
    for fragment in ("missing", "negative", "not a whole number", "model missing"):
        assert fragment in reasons, reasons
    assert _by_stream(records, trace) == _expected(trace)  # the rest is read all the same


@pytest.mark.parametrize("fmt", ["otlp", "openai-usage", "litellm"])
def test_a_whole_document_names_the_line_each_record_starts_on(fmt: str, tmp_path: Path) -> None:
    trace = make_trace(tmp_path / "trace.json", fmt, seed=3, bad=True, layout="document")
    lines = trace.path.read_text().splitlines()
    records, _ = _read(trace.path)
    bad = [r for r in records if isinstance(r, BadRecord)]
    assert len(bad) == 4
    for b in bad:
        assert lines[b.line - 1].strip() == "{", (b, lines[b.line - 1])
        # the object that starts there holds the fault
        body = "\n".join(lines[b.line - 1 : b.line + 40])
        assert ("null" in body or "-" in body or "2.5" in body or '"12.5"' in body
                or '"many"' in body or '"broken"' in body), body  # fmt: skip


@pytest.mark.parametrize("kind", ["gz", "bz2", "xz", "zst"])
def test_compressed_inputs_read_as_the_plain_file(kind: str, tmp_path: Path) -> None:
    trace = make_trace(tmp_path / "trace.jsonl", "otlp", seed=1, bad=True)
    data = trace.path.read_bytes()
    if kind == "zst":
        zstandard = pytest.importorskip("zstandard")
        packed = zstandard.ZstdCompressor().compress(data)
    else:
        packed = {"gz": gzip.compress, "bz2": bz2.compress, "xz": lzma.compress}[kind](data)
    packed_path = tmp_path / f"trace.jsonl.{kind}"
    packed_path.write_bytes(packed)
    plain, plain_stats = _read(trace.path)
    got, stats = _read(packed_path)
    assert [_no_file(r) for r in got] == [_no_file(r) for r in plain]
    assert stats == plain_stats


def _no_file(r: UsageRecord | BadRecord) -> Any:
    if isinstance(r, BadRecord):
        return r._replace(file="")
    return {**{s: getattr(r, s) for s in UsageRecord.__slots__}, "file": ""}


@pytest.mark.parametrize("compress", [False, True])
def test_stdin_is_read_as_dash(compress: bool, tmp_path: Path, monkeypatch: Any) -> None:
    trace = make_trace(tmp_path / "spend.csv", "litellm", seed=2, layout="csv")
    data = trace.path.read_bytes()
    fake = io.TextIOWrapper(
        io.BufferedReader(io.BytesIO(gzip.compress(data) if compress else data))
    )
    monkeypatch.setattr(sys, "stdin", fake)
    got, stats = _read("-")
    plain, plain_stats = _read(trace.path)
    assert [_no_file(r) for r in got] == [_no_file(r) for r in plain]
    assert {r.file for r in got} == {"-"} and stats == plain_stats


# --- arguments (files not in the format: tests/bad_inputs/test_audit_bad.py) -------------


def test_arguments_are_checked() -> None:
    with pytest.raises(UsageError, match="format: expected one of 'auto', 'otlp'"):
        read_usage(["x"], input_format="csv")
    with pytest.raises(TypeError, match="read_usage: sources"):
        read_usage(3)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="stdin"):
        read_usage(["-", "-"])


def test_detect_format_by_content_then_name() -> None:
    assert detect_format(b'{"resourceSpans":[', "a.json") == "otlp"
    assert detect_format(b'{"object": "page", "data": [{"object": "bucket"', "u") == "openai-usage"
    assert (
        detect_format(b'[{"request_id": "r", "call_type": "acompletion", "prompt_tokens": 1', "s")
        == "litellm"
    )
    assert detect_format(b"request_id,call_type,prompt_tokens\n", "export") == "litellm"
    assert detect_format(b"a,b\n", "spend.csv.gz") == "litellm"
    with pytest.raises(CostcalcError, match="give input_format"):
        detect_format(b"{}", "x.json")


def test_an_empty_file_holds_no_records(tmp_path: Path) -> None:
    (tmp_path / "e.jsonl").write_bytes(b"\n \n")
    assert _read(tmp_path / "e.jsonl") == ([], ReadStats(files=1))


# --- one file or two -------------------------------------------------------------------------


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(fmt=st.sampled_from(["otlp", "openai-usage", "litellm"]), cut=st.floats(0, 1),
       seed=st.integers(0, 5))  # fmt: skip
def test_a_trace_split_in_two_files_reads_as_one(
    fmt: str, cut: float, seed: int, tmp_path: Path
) -> None:
    whole = make_trace(tmp_path / f"whole-{fmt}-{seed}.jsonl", fmt, seed=seed, days=2, bad=True)
    lines = whole.path.read_bytes().splitlines(keepends=True)
    at = int(len(lines) * cut)
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_bytes(b"".join(lines[:at]))
    b.write_bytes(b"".join(lines[at:]))
    one = read_usage([whole.path])
    two = read_usage([a, b])
    got_one, got_two = list(one), list(two)
    assert [_no_file(r) for r in got_two] == [
        _shifted(r, at) for r in got_one]  # fmt: skip
    assert (two.stats.records, two.stats.usage, two.stats.bad, two.stats.skipped) == (
        one.stats.records, one.stats.usage, one.stats.bad, one.stats.skipped)  # fmt: skip


def _shifted(r: UsageRecord | BadRecord, at: int) -> Any:
    """``r`` read from the whole file as the split files name its line."""
    line = r.line - at if r.line > at else r.line
    if isinstance(r, BadRecord):
        return r._replace(file="", line=line)
    return {**_no_file(r), "line": line}


@pytest.mark.parametrize("value", [10**26, 2**64, str(10**26), 1e26])
def test_a_count_past_any_real_traffic_is_a_bad_record(value: Any, tmp_path: Path) -> None:
    """The same bad record whether the number is read as an integer or (past 64 bits, as
    orjson reads it) as a float: nothing that large is real traffic."""
    typed = {"intValue": value} if not isinstance(value, float) else {"doubleValue": value}
    span = _span(**{"gen_ai.request.model": {"stringValue": "gpt-4o"},
                    "gen_ai.usage.output_tokens": {"intValue": "5"}})  # fmt: skip
    span["attributes"].append({"key": "gen_ai.usage.input_tokens", "value": typed})
    path = tmp_path / "big.jsonl"
    path.write_text(_otlp_line([span]) + "\n")
    records, stats = _read(path)
    assert stats.bad == 1 and isinstance(records[0], BadRecord)
    assert "gen_ai.usage.input_tokens is too large" in records[0].reason


@pytest.mark.parametrize(
    ("start", "end", "reason"),
    [
        ("1793505600000000000000", None, "start time 1,793,505,600,000 (epoch seconds) is not"),
        ("-5000000000", None, "start time -5 (epoch seconds) is not between 2000 and 2100"),
        ("1767600000000000000", "1767500000000000000", "ends before it starts"),
        ("1767600000000000000", "99999999999999000000000", "end time 99,999,999,999,999"),
    ],
)
def test_a_time_that_cannot_be_traffic_is_a_bad_record(
    start: str, end: str | None, reason: str, tmp_path: Path
) -> None:
    """Times past 2100, before 2000 or an end before its start were a crash (a date out of
    range, a division by zero days) in the audit; they are bad records with their line."""
    span = _span(**{"gen_ai.request.model": {"stringValue": "gpt-4o"},
                    "gen_ai.usage.input_tokens": {"intValue": "5"},
                    "gen_ai.usage.output_tokens": {"intValue": "5"}})  # fmt: skip
    span["startTimeUnixNano"] = start
    if end is None:
        del span["endTimeUnixNano"]
    else:
        span["endTimeUnixNano"] = end
    path = tmp_path / "times.jsonl"
    path.write_text(_otlp_line([span]) + "\n")
    records, stats = _read(path)
    assert stats.bad == 1 and isinstance(records[0], BadRecord), records
    assert records[0].reason.startswith(reason)
    import warnings

    import costcalc

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = costcalc.audit([str(path)])
    assert report.bad_records == 1 and report.streams == []


def test_a_file_cut_mid_write_reports_its_last_record(tmp_path: Path) -> None:
    """A Collector file cut mid-write ends inside a record: that record is a bad record with
    its line, the rest is read (a malformed line elsewhere is still an error)."""
    span = _span(**{"gen_ai.request.model": {"stringValue": "gpt-4o"},
                    "gen_ai.usage.input_tokens": {"intValue": "5"},
                    "gen_ai.usage.output_tokens": {"intValue": "5"}})  # fmt: skip
    line = _otlp_line([span])
    path = tmp_path / "cut.jsonl"
    path.write_text(line + "\n" + line + "\n" + line[: len(line) // 2])
    records, stats = _read(path)
    assert [type(r).__name__ for r in records] == ["UsageRecord", "UsageRecord", "BadRecord"]
    assert (records[2].line, stats.bad) == (3, 1)
    assert "ends inside this record" in records[2].reason
    path.write_text(line + "\n" + line[: len(line) // 2] + "\n" + line + "\n")
    with pytest.raises(CostcalcError, match=r"cut\.jsonl:2: invalid JSON"):
        _read(path)


def test_an_export_that_stops_early_or_a_key_never_recorded_is_noted(tmp_path: Path) -> None:
    """The last page saying has_more (pages missing: the costs too low), and a --group-by
    key no record has (every stream '(none)'), are said in the report's notes."""
    import warnings

    import costcalc

    def page(more: bool) -> str:
        result = {
            "object": "organization.usage.completions.result",
            "input_tokens": 50,
            "output_tokens": 7,
            "num_model_requests": 2,
            "model": "gpt-4o",
        }
        return json.dumps({"object": "page", "has_more": more, "data": [
            {"start_time": 1767571200, "end_time": 1767657600, "results": [result]}]})  # fmt: skip

    whole, cut = tmp_path / "whole.jsonl", tmp_path / "cut.jsonl"
    whole.write_text(page(True) + "\n" + page(False) + "\n")
    cut.write_text(page(False) + "\n" + page(True) + "\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = costcalc.audit([str(whole), str(cut)], group_by="route")
    assert [n for n in report.notes if "has_more" in n] == [
        f"{cut}:2: the last usage page read says has_more: the export stops early (fetch every "
        "page, following next_page)"
    ]
    assert "records that record none of route are grouped as (none)" in report.notes


@pytest.mark.parametrize(
    ("attrs", "reason"),
    [
        ({"gen_ai.request.model": {"stringValue": "gpt-4o\ud800"}}, "text with a lone surrogate"),
        ({"gen_ai.usage.output_tokens": {"intValue": "200000000"}},
         "200,000,010 tokens over 1 request: more a request than any model takes"),
        ({"gen_ai.usage.input_tokens": {"arrayValue": {"values": [[[[[[1]]]]]]}}},
         "gen_ai.usage.input_tokens is not a whole number (a JSON dict)"),
    ],
)  # fmt: skip
def test_a_record_the_audit_cannot_price_is_a_bad_record(
    attrs: dict[str, Any], reason: str, tmp_path: Path
) -> None:
    """Each was an internal error (exit 4): a surrogate no JSON writer writes, a request past
    the config's 10^8 tokens (check refused the config the audit wrote), a deep value's repr."""
    import warnings

    import costcalc

    base = {"gen_ai.request.model": {"stringValue": "gpt-4o"},
            "gen_ai.usage.input_tokens": {"intValue": "10"},
            "gen_ai.usage.output_tokens": {"intValue": "10"}}  # fmt: skip
    path = tmp_path / "x.jsonl"
    path.write_text(_otlp_line([_span(**{**base, **attrs})]) + "\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = costcalc.audit([str(path)])
    assert report.streams == [] and report.bad_records == 1
    assert report.bad[0].reason.startswith(reason), report.bad[0].reason
    report.to_json()  # writable


def test_tokens_without_requests_are_a_bad_record_not_a_division_by_zero() -> None:
    import warnings

    import costcalc

    def bucket(requests: int, tokens: int) -> UsageRecord:
        return UsageRecord("u.json", 3, "openai-usage", 1767571200.0, 1767657600.0, "openai",
                           "gpt-4o", requests, tokens, 0, 0, tokens, None, False, None,
                           {"project": "p"})  # fmt: skip

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = costcalc.audit([bucket(0, 1000), bucket(0, 0), bucket(2, 100)])
    assert [b.reason for b in report.bad] == [
        "tokens recorded for no request (a request count of 0)"
    ]
    assert [s.requests for s in report.streams] == [2]


def test_openinference_spans_are_read_and_their_chains_skipped(tmp_path: Path) -> None:
    """Arize Phoenix's instrumentations write OpenInference names: an LLM span is a call, a
    CHAIN span above it (which may sum its calls' tokens) is skipped, not counted twice."""
    llm = _span(**{"openinference.span.kind": {"stringValue": "LLM"},
                   "llm.model_name": {"stringValue": "gpt-4o-mini-2024-07-18"},
                   "llm.provider": {"stringValue": "openai"},
                   "llm.token_count.prompt": {"intValue": "1200"},
                   "llm.token_count.completion": {"intValue": "80"},
                   "llm.token_count.prompt_details.cache_read": {"intValue": "1000"}})  # fmt: skip
    chain = _span(**{"openinference.span.kind": {"stringValue": "CHAIN"},
                     "llm.token_count.prompt": {"intValue": "1200"},
                     "llm.token_count.completion": {"intValue": "80"}})  # fmt: skip
    path = tmp_path / "phoenix.jsonl"
    path.write_text(_otlp_line([chain, llm]) + "\n")
    (rec,), stats = _read(path)
    assert isinstance(rec, UsageRecord)
    assert (rec.model, rec.provider, rec.input_tokens, rec.cached_input_tokens,
            rec.output_tokens) == ("gpt-4o-mini-2024-07-18", "openai", 1200, 1000, 80)  # fmt: skip
    assert (stats.usage, stats.skipped) == (1, 1)
