"""Edges of `costcalc audit` a hostile tester found: long stream names, files that start with
much whitespace, repeated spans, partial days, duplicated fields, records over a model's
context window, notes in every format, retired models, the config path."""

from __future__ import annotations

import gzip
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import costcalc
from costcalc.audit import ReadStats, read_usage
from costcalc.audit.records import BadRecord, UsageRecord
from costcalc.audit.usage import SpanIds
from tests.conftest import RunCli

T0 = 1_767_614_400.0  # 2026-01-05 12:00 UTC
DAY = 86_400.0


def rec(service: str, t: float, *, i: int = 1000, o: int = 200, model: str = "gpt-4o",
        tier: str | None = None) -> UsageRecord:  # fmt: skip
    return UsageRecord("t.jsonl", 1, "otlp", t, t + 2.0, "openai", model, 1, i, 0, 0, o,
                       False, False, tier, {"service": service})  # fmt: skip


def attr(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": value}}


def span(t: float = T0, *, span_id: str = "00f067aa0ba902b7", extra: tuple[Any, ...] = (),
         attrs: dict[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
    base = {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o",
            "gen_ai.usage.input_tokens": 1000, "gen_ai.usage.output_tokens": 200}  # fmt: skip
    base.update(attrs or {})
    return {"traceId": "4bf92f3577b34da6a3ce929d0e0e4736", "spanId": span_id, "name": "chat",
            "startTimeUnixNano": str(int(t * 1e9)), "endTimeUnixNano": str(int((t + 2) * 1e9)),
            "attributes": [attr(k, v) for k, v in base.items()] + list(extra)}  # fmt: skip


def otlp_line(spans: list[dict[str, Any]], service: str = "web") -> str:
    return json.dumps({"resourceSpans": [{
        "resource": {"attributes": [attr("service.name", service)]},
        "scopeSpans": [{"scope": {"name": "s"}, "spans": spans}]}]})  # fmt: skip


# --- 1. long stream names ------------------------------------------------------------------


def test_a_long_stream_name_is_cut_stably_and_uniquely() -> None:
    records = [rec("a" * 300 + end, T0) for end in "bc"] + [rec("a" * 190, T0)]
    report = costcalc.audit(records)
    names = [s.name for s in report.streams]
    assert all(len(n) <= 200 for n in names) and len(set(names)) == 3
    assert {s.key for s in report.streams} == {"a" * 300 + "b", "a" * 300 + "c", "a" * 190}
    assert names == [s.name for s in costcalc.audit(records).streams]  # stable
    assert all(n.endswith(" (gpt-4o)") for n in names)
    assert "workloads:" in report.config_text()


def test_cli_long_service_route_and_user_audit(run_cli: RunCli, tmp_path: Path) -> None:
    path = tmp_path / "route.jsonl"
    one = span(attrs={"url.path": "/" + "p" * 150, "enduser.id": "u" * 120})
    path.write_text(otlp_line([one], service="s" * 190) + "\n")
    out = run_cli("audit", str(path), "--group-by", "service,route,user", "--format", "json",
                  "--write-config", str(tmp_path / "c.yaml"))  # fmt: skip
    assert out.exit_code == 0, out.stderr
    (stream,) = json.loads(out.stdout)["streams"]
    assert len(stream["name"]) <= 200 and stream["key"].startswith("s" * 190 + "/")


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_long_stream_names_shown_keep_their_distinct_end(
    run_cli: RunCli, tmp_path: Path, fmt: str
) -> None:
    """Two long names alike for 200 characters differ in their hash: the table and Markdown
    cut them in the middle, keeping the hash and the model, so they read as two streams."""
    path = tmp_path / "route.jsonl"
    spans = [span(span_id=f"00f067aa0ba902b{i}",
                  attrs={"url.path": "/" + "p" * 150, "enduser.id": "u" * 120 + end})
             for i, end in enumerate("xy")]  # fmt: skip
    path.write_text(otlp_line(spans, service="s" * 190) + "\n")
    args = ["audit", str(path), "--group-by", "service,route,user"]
    names = [s["name"] for s in json.loads(run_cli(*args, "--format", "json").stdout)["streams"]]
    out = run_cli(*args, "--format", fmt)
    assert out.exit_code == 0, out.stderr
    assert len(set(names)) == 2
    for name in names:
        assert name.endswith(" (gpt-4o)")
        shown = name[-40:]  # the hash and the model
        assert shown in out.stdout
        assert f"'{name[:40]}\u2026" in out.stdout


# --- 2. a file that starts with much whitespace ----------------------------------------------


@pytest.mark.parametrize("blank", [8191, 8192, 70_000, 200_000])
@pytest.mark.parametrize("compressed", [False, True])
def test_records_after_any_run_of_blank_lines_are_read(
    tmp_path: Path, blank: int, compressed: bool
) -> None:
    bad = span(T0 + 60, span_id="1", attrs={"gen_ai.usage.input_tokens": "lots"})
    text = "\n" * blank + otlp_line([span()]) + "\n" + otlp_line([bad]) + "\n"
    path = tmp_path / ("s.jsonl.gz" if compressed else "s.jsonl")
    path.write_bytes(gzip.compress(text.encode()) if compressed else text.encode())
    reading = read_usage([path])
    got = list(reading)
    assert [type(r).__name__ for r in got] == ["UsageRecord", "BadRecord"]
    assert [r.line for r in got] == [blank + 1, blank + 2]
    assert reading.stats.usage == 1


def test_a_usage_page_after_70kb_of_spaces_and_a_csv_after_blank_lines(tmp_path: Path) -> None:
    page = {"object": "page", "has_more": False, "data": [{
        "object": "bucket", "start_time": 1767571200, "end_time": 1767657600, "results": [{
            "object": "organization.usage.completions.result", "model": "gpt-4o",
            "input_tokens": 1000, "output_tokens": 100, "num_model_requests": 3}]}]}  # fmt: skip
    (tmp_path / "page.json").write_text(" " * 70_000 + json.dumps(page, indent=1))
    (tmp_path / "logs.csv").write_text(
        "\ufeff" + "\n" * 9000 + "model,prompt_tokens,completion_tokens\ngpt-4o,1,2\n"
    )
    got = list(read_usage([tmp_path / "page.json", tmp_path / "logs.csv"]))
    assert [(r.format, r.line, r.requests) for r in got] == [  # type: ignore[union-attr]
        ("openai-usage", 10, 3), ("litellm", 9002, 1)]  # fmt: skip


def test_a_file_of_whitespace_only_is_empty(tmp_path: Path) -> None:
    (tmp_path / "blank.jsonl").write_text(" \n" * 50_000)
    reading = read_usage([tmp_path / "blank.jsonl"])
    assert list(reading) == [] and reading.stats.records == 0


# --- 3. repeated spans ---------------------------------------------------------------------


def test_a_repeated_span_is_counted_once_and_said_once(run_cli: RunCli, tmp_path: Path) -> None:
    line = otlp_line([span(), span(T0 + 60, span_id="2"), span(T0 + 120, span_id="2")]) + "\n"
    (tmp_path / "a.jsonl").write_text(line)
    (tmp_path / "copy.jsonl").write_text(line)  # an overlapping rotated file
    out = run_cli("audit", str(tmp_path / "a.jsonl"), str(tmp_path / "copy.jsonl"),
                  "--format", "json")  # fmt: skip
    assert out.exit_code == 0, out.stderr
    report = json.loads(out.stdout)
    assert (report["usage_records"], report["repeated_records"]) == (2, 4)
    assert report["totals"]["requests"] == 2
    warned = [w for w in out.stderr.splitlines() if "repeated records" in w]
    assert len(warned) == 1 and "4 repeated records left out" in warned[0], out.stderr
    table = run_cli("audit", str(tmp_path / "a.jsonl")).stdout
    assert "audit of 2 usage records" in table and "1 repeated (counted once)" in table


def test_spans_without_ids_are_never_repeats(tmp_path: Path) -> None:
    one = span()
    del one["traceId"], one["spanId"]
    (tmp_path / "a.jsonl").write_text(otlp_line([one, one]) + "\n")
    reading = read_usage([tmp_path / "a.jsonl"])
    assert len(list(reading)) == 2 and reading.stats.repeated == 0


def test_span_ids_past_capacity_are_looked_up_not_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SpanIds, "SLOTS", 16)
    monkeypatch.setattr(SpanIds, "CAPACITY", 12)
    ids = SpanIds()
    hashes = [k << 32 | k for k in range(1, 13)]
    assert [ids.seen(h) for h in hashes] == [False] * 12
    assert ids.seen(hashes[4]) is True and ids.seen(99 << 32) is None
    assert ids.seen(99 << 32) is None
    stats = ReadStats()
    stats._span_ids = ids
    assert not stats.repeated_span("t", "new") and stats.repeats_unchecked == 1


# --- 4. the period is the time the records cover ---------------------------------------------


def test_a_day_of_hourly_requests_from_noon_is_one_day_not_two() -> None:
    report = costcalc.audit([rec("s", T0 + h * 3600) for h in range(24)])
    (stream,) = report.streams
    assert report.days_covered == 1 and stream.requests_per_day == Decimal("24.00")
    assert "less than a day" in stream.classified_why
    assert "1 day (from the first record to the last" in report.assumptions[0]


def test_daily_buckets_starting_at_5am_are_seven_days() -> None:
    start = T0 - 7 * 3600  # 05:00 UTC

    def bucket(d: int) -> UsageRecord:
        return UsageRecord("u.json", 1, "openai-usage", start + d * DAY, start + (d + 1) * DAY,
                           "openai", "gpt-4o", 10, 1000, 0, 0, 200, None, False, None,
                           {"project": "p"})  # fmt: skip

    report = costcalc.audit([bucket(d) for d in range(7)])
    assert report.days_covered == 7 and report.streams[0].requests_per_day == Decimal("10.00")
    assert "7 days" in report.to_markdown()


def test_a_day_and_a_half_is_fractional() -> None:
    report = costcalc.audit([rec("s", T0), rec("s", T0 + 1.5 * DAY - 2)])
    assert report.days_covered == Decimal("1.5")
    assert report.streams[0].requests_per_day == Decimal("1.33")
    assert "1.5 days" in costcalc.render_result(report, "table")


# --- 6. a record past its model's context window -------------------------------------------


def test_a_record_over_the_context_window_is_malformed_in_actual_and_monthly_alike() -> None:
    over = rec("s", T0 + 60, i=5_000_000)
    with pytest.warns(costcalc.CostcalcWarning, match="1 malformed usage records left out"):
        report = costcalc.audit([rec("s", T0), over])
    assert report.bad_records == 1
    assert report.bad[0].reason == (
        "5,000,000 input tokens: over gpt-4o's limit of 128,000 input tokens")  # fmt: skip
    (stream,) = report.streams
    assert stream.requests == 1 and stream.priced  # the monthly figures price the same record
    alone = costcalc.audit([rec("s", T0)])
    assert stream.actual_cost == alone.streams[0].actual_cost


def test_input_plus_output_over_the_context_window_is_malformed() -> None:
    """gpt-4o's 128,000-token window holds the output too: 120,000 in + 10,000 out is no
    request it served, though each count alone is under its limit; 118,000 + 10,000 is."""
    over = rec("s", T0 + 60, i=120_000, o=10_000)
    with pytest.warns(costcalc.CostcalcWarning, match="1 malformed usage records left out"):
        report = costcalc.audit([rec("s", T0, i=118_000, o=10_000), over])
    assert report.bad_records == 1 and report.streams[0].requests == 1
    assert report.bad[0].reason == (
        "120,000 input + 10,000 output tokens: over gpt-4o's context window of 128,000 "
        "tokens (input plus output)")  # fmt: skip


def test_a_gemini_window_is_its_input_limit_alone() -> None:
    """Google gives Gemini's most input (1,048,576) and most output (65,535) each on its own:
    1,000,000 in + 60,000 out is a request it serves; 1,100,000 in is not."""

    def gemini(t: float, i: int, o: int) -> UsageRecord:
        return UsageRecord("t.jsonl", 1, "otlp", t, t + 2.0, "google", "gemini-2.5-pro", 1, i,
                           0, 0, o, False, False, None, {"service": "s"})  # fmt: skip

    report = costcalc.audit([gemini(T0, 1_000_000, 60_000)], as_of="2026-10-01")
    assert report.bad_records == 0 and report.streams[0].requests == 1
    with pytest.warns(costcalc.CostcalcWarning, match="1 malformed usage records left out"):
        report = costcalc.audit(
            [gemini(T0, 1_000, 100), gemini(T0 + 60, 1_100_000, 100)], as_of="2026-10-01"
        )
    assert report.bad[0].reason == (
        "1,100,000 input tokens: over gemini-2.5-pro's limit of 1,048,576 input tokens")  # fmt: skip


def test_a_bucket_is_over_only_when_its_mean_request_is() -> None:
    def bucket(n: int, tokens: int) -> UsageRecord:
        return UsageRecord("u.json", 1, "openai-usage", T0, T0 + DAY, "openai", "gpt-4o", n,
                           tokens, 0, 0, 100, None, False, None, {"project": "p"})  # fmt: skip

    with pytest.warns(costcalc.CostcalcWarning, match="mean over 2"):
        report = costcalc.audit([bucket(100, 5_000_000), bucket(2, 500_000)])
    assert report.streams[0].requests == 100 and report.bad_records == 1


# --- 8. retired models ----------------------------------------------------------------------


def test_a_retired_model_is_warned_about_once(run_cli: RunCli, tmp_path: Path) -> None:
    claude = {"gen_ai.request.model": "claude-sonnet-4-5", "gen_ai.provider.name": "anthropic"}
    spans = [span(T0 + k, span_id=str(k), attrs=claude) for k in range(3)]
    (tmp_path / "s.jsonl").write_text(otlp_line(spans) + "\n" + otlp_line(spans[:1], "b") + "\n")
    out = run_cli("audit", str(tmp_path / "s.jsonl"), "--as-of", "2026-12-01")
    assert out.exit_code == 0, out.stderr
    warned = [w for w in out.stderr.splitlines() if "retired" in w]
    assert len(warned) == 1 and "claude-sonnet-4-5 was retired on 2026-11-30" in warned[0]
    quoted = run_cli("quote", "--model", "claude-sonnet-4-5", "--input-tokens", "10",
                     "--output-tokens", "1", "--requests", "1", "--as-of", "2026-12-01")  # fmt: skip
    assert warned[0] in quoted.stderr
    assert (
        "retired" not in run_cli("audit", str(tmp_path / "s.jsonl"), "--as-of", "2026-11-01").stderr
    )


# --- 5 and 9. duplicated and wrong-typed fields ----------------------------------------------


def _read_one(tmp_path: Path, name: str, text: str) -> UsageRecord | BadRecord:
    (tmp_path / name).write_text(text)
    (got,) = list(read_usage([tmp_path / name]))
    return got


def test_an_attribute_twice_with_two_values_is_malformed(tmp_path: Path) -> None:
    twice = span(extra=(attr("gen_ai.usage.input_tokens", 5_000_000),))
    got = _read_one(tmp_path, "a.jsonl", otlp_line([twice]) + "\n")
    assert isinstance(got, BadRecord)
    assert got.reason == "attribute gen_ai.usage.input_tokens recorded twice, with two values"
    tag = span(extra=(attr("tag.team", "a"), attr("tag.team", "b")))
    assert isinstance(_read_one(tmp_path, "b.jsonl", otlp_line([tag]) + "\n"), BadRecord)


def test_an_attribute_twice_with_one_value_or_two_names_of_a_field_is_read(tmp_path: Path) -> None:
    same = span(extra=(attr("gen_ai.usage.input_tokens", 1000), attr("tag.team", "a"),
                       attr("tag.team", "a")))  # fmt: skip
    got = _read_one(tmp_path, "a.jsonl", otlp_line([same]) + "\n")
    assert isinstance(got, UsageRecord) and got.input_tokens == 1000
    names = span(attrs={"gen_ai.response.model": "gpt-4o-2024-08-06"},
                 extra=(attr("llm.model_name", "gpt-4o"),))  # fmt: skip
    assert isinstance(_read_one(tmp_path, "b.jsonl", otlp_line([names]) + "\n"), UsageRecord)


PAGE = {"object": "page", "data": [{"object": "bucket", "start_time": 1767571200,
        "end_time": 1767657600, "results": [{"object": "organization.usage.completions.result",
        "model": "gpt-4o", "input_tokens": 10, "output_tokens": 1, "num_model_requests": 1}]}]}  # fmt: skip


@pytest.mark.parametrize(("field", "value", "reason"), [
    ("batch", "yes", "batch: expected true, false or null, got 'yes'"),
    ("service_tier", "platinum", "service_tier: expected one of auto, default, flex, priority, "
                                 "scale, standard or null, got 'platinum'"),
    ("service_tier", 3, "service_tier: expected one of"),
])  # fmt: skip
def test_wrong_typed_usage_fields_are_malformed(
    tmp_path: Path, field: str, value: Any, reason: str
) -> None:
    page = json.loads(json.dumps(PAGE))
    page["data"][0]["results"][0][field] = value
    got = _read_one(tmp_path, "u.json", json.dumps(page) + "\n")
    assert isinstance(got, BadRecord) and got.reason.startswith(reason), got


def test_a_litellm_cache_hit_that_is_no_boolean_is_malformed(tmp_path: Path) -> None:
    text = "model,prompt_tokens,completion_tokens,cache_hit\ngpt-4o,1,2,maybe\ngpt-4o,1,2,False\n"
    (tmp_path / "l.csv").write_text(text)
    got = list(read_usage([tmp_path / "l.csv"]))
    assert isinstance(got[0], BadRecord) and isinstance(got[1], UsageRecord)
    assert got[0].reason == "cache_hit: expected true, false or empty, got 'maybe'"


def test_a_mapping_of_the_wrong_type_names_what_is_accepted() -> None:
    with pytest.raises(TypeError, match=r"mapping must be a path .* a dict of its contents or a "
                                        r"StreamMap, got list"):  # fmt: skip
        costcalc.audit([], mapping=[1])  # type: ignore[arg-type]


# --- 7. per-stream notes in every format ------------------------------------------------------


def test_a_tier_not_sold_is_noted_in_every_format() -> None:
    report = costcalc.audit([rec("etl", T0, tier="flex", model="gpt-4o")])
    (note,) = report.streams[0].notes
    assert note.startswith("billed as flex, not sold")
    for fmt in ("table", "markdown", "json"):
        assert note in costcalc.render_result(report, fmt), fmt
    assert f"note: etl (gpt-4o, flex): {note}" in costcalc.render_result(report, "table")
