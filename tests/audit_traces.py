"""Seeded traces of mixed LLM traffic in the three formats ``costcalc audit`` reads, with the
totals they hold per stream, so tests can compute costs by hand.

The same four streams in every format (``days`` days from ``START``, UTC):

- ``web-ui``: chat answers streamed to users, working hours (09:00-18:00), gpt-4o-mini,
  prompts partly cached;
- ``nightly-report``: a cron job, non-streamed, in one burst 02:00-02:30, gpt-4o;
- ``webhooks``: non-streamed, spread over the whole day, gpt-4o-mini;
- ``batch-summaries``: sent through the Batch API once a day (03:00), gpt-4o-mini.

Per format: OTLP spans (one export line per burst of up to 8 spans of one service; each
web-ui call also has its HTTP server span, not usage: ``Trace.skipped``), OpenAI usage pages
(one page per line, one bucket per day, results grouped by project, API key, model and
batch), LiteLLM spend logs (a row per call; the batch as its ``aretrieve_batch`` row with the
batch's request counts, and its ``acreate_batch`` row with no tokens: skipped) as JSON Lines,
a JSON array or CSV.

``bad=True`` adds one bad record of each kind (tokens missing, negative, not whole, model
missing); ``Trace.bad_lines`` lists their lines. Bad records are in no stream's totals.
"""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

START = datetime(2026, 1, 5, tzinfo=timezone.utc)
DAY = 86_400.0


@dataclass
class Stream:
    """One stream of the generated traffic and what it holds in total."""

    name: str
    model: str
    streamed: bool | None
    batched: bool
    keys: dict[str, str]
    """The keys its records carry in this format (service, project + api_key, key_alias)."""
    requests: int = 0
    input_tokens: int = 0
    cached_input_tokens: int = 0
    cache_write_tokens: int = 0
    output_tokens: int = 0
    records: int = 0


@dataclass
class Trace:
    path: Path
    format: str
    streams: dict[str, Stream]
    skipped: int = 0
    """Records the reader must skip (HTTP spans, a batch's creation row)."""
    bad_lines: list[int] = field(default_factory=list)

    def totals(self) -> dict[str, int]:
        """Requests and tokens over every stream."""
        names = ("requests", "input_tokens", "cached_input_tokens", "cache_write_tokens")
        names += ("output_tokens", "records")
        return {n: sum(getattr(s, n) for s in self.streams.values()) for n in names}


@dataclass
class _Call:
    stream: str
    start: float
    end: float
    requests: int
    input_tokens: int
    cached: int
    output_tokens: int


# name, model, streamed, batched, calls per day (at scale 1), hours
_STREAMS = (
    ("web-ui", "gpt-4o-mini", True, False, 40, (9, 18)),
    ("nightly-report", "gpt-4o", False, False, 30, (2, 2.5)),
    ("webhooks", "gpt-4o-mini", False, False, 20, (0, 24)),
    ("batch-summaries", "gpt-4o-mini", False, True, 1, (3, 3.01)),
)
_KEYS = {
    "otlp": lambda s: {"service": s},
    "openai-usage": lambda s: {
        "project": "proj_web" if s == "web-ui" else "proj_back",
        "api_key": {"web-ui": "key_web", "webhooks": "key_hooks"}.get(s, "key_cron"),
    },
    "litellm": lambda s: {"key_alias": s},
}


def _calls(rng: random.Random, days: int, scale: int) -> list[_Call]:
    calls = []
    for day in range(days):
        base = START.timestamp() + day * DAY
        for name, _model, _streamed, batched, per_day, (lo, hi) in _STREAMS:
            for _ in range(per_day * (1 if batched else scale)):
                start = base + rng.uniform(lo, hi) * 3600
                requests = rng.randint(20, 60) * scale if batched else 1
                tokens = rng.randint(300, 2500) * requests
                cached = (tokens // 2 // 64 * 64) if name == "web-ui" and rng.random() < 0.5 else 0
                output = rng.randint(50, 400) * requests
                calls.append(_Call(name, start, start + rng.uniform(0.3, 20), requests, tokens,
                                   cached, output))  # fmt: skip
    calls.sort(key=lambda c: c.start)
    return calls


def _streams(fmt: str) -> dict[str, Stream]:
    return {
        name: Stream(
            name, model, streamed if fmt != "openai-usage" else None, batched, _KEYS[fmt](name)
        )
        for name, model, streamed, batched, _n, _h in _STREAMS
    }


def _add(stream: Stream, c: _Call) -> None:
    stream.requests += c.requests
    stream.input_tokens += c.input_tokens
    stream.cached_input_tokens += c.cached
    stream.output_tokens += c.output_tokens


SNAPSHOTS = {"gpt-4o": "gpt-4o-2024-08-06", "gpt-4o-mini": "gpt-4o-mini-2024-07-18"}
"""The dated model OpenAI's responses name for each model asked for."""


def make_trace(
    path: Path, fmt: str, *, seed: int = 0, days: int = 3, scale: int = 1, bad: bool = False,
    layout: str = "jsonl",
) -> Trace:  # fmt: skip
    """Write a trace in ``fmt`` ("otlp", "openai-usage", "litellm") to ``path``; ``layout``
    "jsonl" (one value per line), "document" (one JSON document: an OTLP export, a page, an
    array of rows) or, for LiteLLM, "csv"."""
    rng = random.Random(seed)
    calls = _calls(rng, days, scale)
    trace = Trace(path, fmt, _streams(fmt))
    if fmt == "otlp":
        values = _otlp(calls, trace, rng, bad)
    elif fmt == "openai-usage":
        values = _openai(calls, trace, bad)
    else:
        values = _litellm(calls, trace, rng, bad)
    if layout == "csv":
        _write_csv(path, values, trace)
    elif layout == "document":
        doc: Any = values if fmt == "litellm" else _merged(fmt, values)
        text = json.dumps(doc, indent=1)
        path.write_text(text + "\n", encoding="utf-8")
        trace.bad_lines = []  # lines of a document: see the tests that read them
    else:
        path.write_text("".join(json.dumps(v) + "\n" for v in values), encoding="utf-8")
    return trace


def _merged(fmt: str, values: list[Any]) -> Any:
    if fmt == "otlp":
        return {"resourceSpans": [rs for v in values for rs in v["resourceSpans"]]}
    return {"object": "page", "data": [b for v in values for b in v["data"]],
            "has_more": False, "next_page": None}  # fmt: skip


def _attr(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": value}}


def _nanos(t: float) -> str:
    return str(round(t * 1000) * 1_000_000)


def _otlp(calls: list[_Call], trace: Trace, rng: random.Random, bad: bool) -> list[Any]:
    lines: list[Any] = []
    pending: dict[str, list[Any]] = {}

    def flush(service: str) -> None:
        spans = pending.pop(service)
        lines.append({"resourceSpans": [{
            "resource": {"attributes": [_attr("service.name", service),
                                        _attr("deployment.environment", "prod")]},
            "scopeSpans": [{"scope": {"name": "opentelemetry.instrumentation.openai_v2",
                                      "version": "0.1"}, "spans": spans}]}]})  # fmt: skip

    for i, c in enumerate(calls):
        s = trace.streams[c.stream]
        for n in range(c.requests):
            per_in, per_cached = c.input_tokens // c.requests, c.cached // c.requests
            per_out = c.output_tokens // c.requests
            if n == c.requests - 1:  # the remainder on the last: totals stay exact
                per_in += c.input_tokens % c.requests
                per_cached += c.cached % c.requests
                per_out += c.output_tokens % c.requests
            attrs = [
                _attr("gen_ai.operation.name", "chat"), _attr("gen_ai.provider.name", "openai"),
                _attr("gen_ai.request.model", s.model),
                _attr("gen_ai.response.model", SNAPSHOTS[s.model]),
                _attr("gen_ai.usage.input_tokens", per_in),
                _attr("gen_ai.usage.output_tokens", per_out),
                _attr("gen_ai.request.stream", bool(s.streamed)),
            ]  # fmt: skip
            if per_cached:
                attrs.append(_attr("gen_ai.usage.cache_read.input_tokens", per_cached))
            if s.batched:
                attrs.append(_attr("costcalc.batch", True))
            span = {"traceId": f"{i:032x}", "spanId": f"{i:08x}{n:08x}", "kind": 3,
                    "name": f"chat {s.model}", "startTimeUnixNano": _nanos(c.start),
                    "endTimeUnixNano": _nanos(c.end), "attributes": attrs,
                    "status": {}}  # fmt: skip
            batch = pending.setdefault(c.stream, [])
            if c.stream == "web-ui":  # the HTTP server span around the call: not usage
                batch.append({"traceId": f"{i:032x}", "spanId": f"{i:08x}ffffffff", "kind": 2,
                              "name": "POST /chat", "startTimeUnixNano": _nanos(c.start - 0.01),
                              "endTimeUnixNano": _nanos(c.end + 0.01),
                              "attributes": [_attr("http.route", "/chat"),
                                             _attr("http.request.method", "POST")]})  # fmt: skip
                trace.skipped += 1
            batch.append(span)
            s.records += 1
            if len(batch) >= 8:
                flush(c.stream)
        _add(s, c)
    for service in list(pending):
        flush(service)
    if bad:
        cases = [
            [_attr("gen_ai.request.model", "gpt-4o"), _attr("gen_ai.usage.input_tokens", 5)],
            [_attr("gen_ai.request.model", "gpt-4o"), _attr("gen_ai.usage.input_tokens", -5),
             _attr("gen_ai.usage.output_tokens", 1)],
            [_attr("gen_ai.request.model", "gpt-4o"), _attr("gen_ai.usage.output_tokens", 1),
             {"key": "gen_ai.usage.input_tokens", "value": {"doubleValue": 2.5}}],
            [_attr("gen_ai.usage.input_tokens", 5), _attr("gen_ai.usage.output_tokens", 1)],
        ]  # fmt: skip
        for attrs in cases:
            at = rng.randint(0, len(lines))
            lines.insert(at, {"resourceSpans": [{"resource": {"attributes": [
                _attr("service.name", "broken")]}, "scopeSpans": [{"spans": [{
                    "name": "chat", "startTimeUnixNano": "0", "attributes": attrs}]}]}]})  # fmt: skip
        trace.bad_lines = [
            i + 1 for i, v in enumerate(lines)
            if v["resourceSpans"][0]["resource"]["attributes"][0]["value"]["stringValue"] == "broken"
        ]  # fmt: skip
    return lines


def _openai(calls: list[_Call], trace: Trace, bad: bool) -> list[Any]:
    days: dict[int, dict[str, list[_Call]]] = {}
    for c in calls:
        day = int((c.start - START.timestamp()) // DAY)
        days.setdefault(day, {}).setdefault(c.stream, []).append(c)
    pages = []
    for day in sorted(days):
        results = []
        for name, group in sorted(days[day].items()):
            s = trace.streams[name]
            for c in group:
                _add(s, c)
            s.records += 1
            results.append({
                "object": "organization.usage.completions.result",
                "input_tokens": sum(c.input_tokens for c in group),
                "output_tokens": sum(c.output_tokens for c in group),
                "input_cached_tokens": sum(c.cached for c in group),
                "input_audio_tokens": 0, "output_audio_tokens": 0,
                "num_model_requests": sum(c.requests for c in group),
                "project_id": s.keys["project"], "user_id": None,
                "api_key_id": s.keys["api_key"], "model": SNAPSHOTS[s.model],
                "batch": s.batched, "service_tier": "default",
            })  # fmt: skip
        start = int(START.timestamp() + day * DAY)
        pages.append({"object": "page", "data": [{"object": "bucket", "start_time": start,
                      "end_time": start + 86_400, "results": results}],
                      "has_more": day != max(days), "next_page": None})  # fmt: skip
    if bad:
        result = dict(pages[0]["data"][0]["results"][0], model=None)
        wrong = [result, dict(result, model="gpt-4o", input_tokens=None),
                 dict(result, model="gpt-4o", output_tokens=-1),
                 dict(result, model="gpt-4o", num_model_requests="many")]  # fmt: skip
        pages.append({"object": "page", "data": [{"object": "bucket", "start_time": 0,
                      "end_time": 86_400, "results": wrong}], "has_more": False})  # fmt: skip
        trace.bad_lines = [len(pages)] * len(wrong)
    return pages


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _litellm(calls: list[_Call], trace: Trace, rng: random.Random, bad: bool) -> list[Any]:
    rows: list[Any] = []
    for i, c in enumerate(calls):
        s = trace.streams[c.stream]
        row = {
            "request_id": f"req-{i}", "call_type": "acompletion", "api_key": f"hash-{c.stream}",
            "spend": 0.0, "total_tokens": c.input_tokens + c.output_tokens,
            "prompt_tokens": c.input_tokens, "completion_tokens": c.output_tokens,
            "startTime": _iso(c.start), "endTime": _iso(c.end), "model": s.model,
            "model_group": s.model, "custom_llm_provider": "openai",
            "api_base": "https://api.openai.com/v1", "user": "", "team_id": "team-1",
            "end_user": "", "cache_hit": "False", "request_tags": [f"source:{c.stream}"],
            "metadata": {"user_api_key_alias": c.stream, "user_api_key_team_alias": "core",
                         "additional_usage_values": {"prompt_tokens_details":
                                                     {"cached_tokens": c.cached}}},
            "proxy_server_request": {"model": s.model, "stream": bool(s.streamed)},
        }  # fmt: skip
        if s.batched:
            rows.append(dict(row, request_id=f"create-{i}", call_type="acreate_batch",
                             prompt_tokens=0, completion_tokens=0, total_tokens=0))  # fmt: skip
            trace.skipped += 1
            row.update(call_type="aretrieve_batch", proxy_server_request={})
            row["response"] = {"id": f"batch_{i}", "object": "batch", "status": "completed",
                               "request_counts": {"total": c.requests, "completed": c.requests,
                                                  "failed": 0}}  # fmt: skip
        rows.append(row)
        s.records += 1
        _add(s, c)
    if bad:
        base = dict(rows[0], metadata={}, request_tags=[])
        wrong = [dict(base, completion_tokens=None), dict(base, prompt_tokens=-3),
                 dict(base, prompt_tokens="12.5"), dict(base, model="", model_group="")]  # fmt: skip
        where = sorted(rng.sample(range(len(rows)), len(wrong)))
        for k, (at, w) in enumerate(zip(where, wrong, strict=True)):
            rows.insert(at + k, dict(w, request_id=f"bad-{k}"))  # a call of its own
        trace.bad_lines = [at + k + 1 for k, at in enumerate(where)]
    return rows


_COLUMNS = ("request_id", "call_type", "api_key", "spend", "total_tokens", "prompt_tokens",
            "completion_tokens", "startTime", "endTime", "model", "model_group",
            "custom_llm_provider", "api_base", "user", "metadata", "cache_hit", "request_tags",
            "team_id", "end_user", "proxy_server_request", "response")  # fmt: skip


def _write_csv(path: Path, rows: list[Any], trace: Trace) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(_COLUMNS)
        for row in rows:
            cells = []
            for name in _COLUMNS:
                v = row.get(name)
                cells.append("" if v is None else json.dumps(v) if isinstance(v, dict | list)
                             else str(v))  # fmt: skip
            out.writerow(cells)
    trace.bad_lines = [n + 1 for n in trace.bad_lines]  # after the header
