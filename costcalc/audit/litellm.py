"""LiteLLM proxy spend logs: rows of its ``LiteLLM_SpendLogs`` table (schema.prisma:
request_id, call_type, api_key (hashed), spend, total_tokens, prompt_tokens,
completion_tokens, startTime, endTime, completionStartTime, model, model_group,
custom_llm_provider, api_base, user, metadata (JSON), cache_hit, request_tags (JSON list),
team_id, end_user, proxy_server_request, ...) as a JSON array, JSON Lines, or a CSV export
(a header row naming the columns; JSON columns as JSON text).

Tokens: ``prompt_tokens`` is all input (LiteLLM's usage counts cached tokens inside it, as
OpenAI does); cache reads and writes come from ``metadata.additional_usage_values``
(``cache_read_input_tokens`` or ``prompt_tokens_details.cached_tokens``;
``cache_creation_input_tokens``) or columns of those names. A row whose cache parts exceed its
prompt tokens reported the input without them (``usage.all_input``).

Skipped (counted): a row whose ``request_id`` was read before (logs exported twice, files
that overlap), a row with no tokens at all (a failed call, a management call such as a
file upload or a batch's creation, whose tokens the batch's retrieval row carries), a
LiteLLM cache hit (``cache_hit`` true: no provider call), a row whose ``metadata.status`` is
``failure``. Batch rows (``call_type`` holding "batch", as ``aretrieve_batch``) are batched;
their request count is the batch object's ``request_counts`` (``completed``, else ``total``)
when the row records it (in ``response``, ``metadata`` or ``metadata.batch``), else 1.

``streamed`` and ``service_tier`` come from the request body (``proxy_server_request``, kept
when the proxy stores requests), else None. Keys: ``api_key``, ``key_alias``
(``metadata.user_api_key_alias``), ``team`` (``team_id``, else
``metadata.user_api_key_team_id``), ``team_alias``, ``user``, ``end_user``, ``project``
(``metadata.project_id``), ``tag:NAME`` for each request tag (``NAME:VALUE`` or ``NAME=VALUE``
-> VALUE; a bare tag -> ``"true"``) and each scalar of ``metadata.spend_logs_metadata``.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import IO, Any

from costcalc.audit.usage import (
    BadRecord,
    LineOf,
    ReadStats,
    TokenError,
    UsageRecord,
    all_input,
    bad,
    count,
    time_problem,
)
from costcalc.errors import InputFileError, printable, quoted
from costcalc.jsonlines import MAX_REQUEST_BYTES, JsonError, parse_json, read_lines

NEEDED = ("model", "prompt_tokens", "completion_tokens")
NOT_LOGS = (
    "not a LiteLLM spend log: expected rows with model, prompt_tokens and completion_tokens "
    "(LiteLLM_SpendLogs)"
)
_FRACTION = re.compile(r"\.(\d+)")


def records(
    value: Any, file: str, line: int, stats: ReadStats, line_of: LineOf | None = None
) -> Iterator[UsageRecord | BadRecord]:
    """The rows of a JSON array (or one row) of spend logs."""
    rows = value if isinstance(value, list) else [value]
    for row in rows:
        if not isinstance(row, dict) or not any(k in row for k in NEEDED):
            raise InputFileError(file, NOT_LOGS, line_of(row) if line_of else line)
        stats.records += 1
        if stats.repeated_span("litellm", row.get("request_id")):  # logs exported twice
            continue
        got = _row(row, file, line_of(row) if line_of is not None else line)
        if stats.counted(got):
            yield got


def csv_records(
    stream: IO[bytes], file: str, stats: ReadStats, lines_before: int = 0
) -> Iterator[UsageRecord | BadRecord]:
    """The rows of a CSV export: a header, then one row per call (a quoted field may span
    lines; a row's line is its first). ``lines_before``: blank lines read off its start."""
    at = [0]

    def text_lines() -> Iterator[str]:
        for number, raw in read_lines(stream, file):
            at[0] = number + lines_before
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError:
                raise InputFileError(file, "is not valid UTF-8 text", number) from None

    csv.field_size_limit(MAX_REQUEST_BYTES)
    reader = csv.reader(text_lines(), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            return
        twice = next((n for i, n in enumerate(header) if n in header[:i]), None)
        if twice is not None:  # one of its cells would be read, silently: which one is a guess
            raise InputFileError(file, f"column {quoted(twice)} appears twice in the header", at[0])
        missing = [n for n in NEEDED if n not in header]
        if missing:
            why = f"{NOT_LOGS}; the header lacks {', '.join(missing)}"
            raise InputFileError(file, why, at[0])
        width = len(header)
        done = at[0]
        for row in reader:
            first, done = done + 1, at[0]
            if not row or row == [""]:
                continue
            stats.records += 1
            if len(row) != width:
                stats.bad += 1
                yield bad(file, first, f"row has {len(row)} fields, the header has {width}")
                continue
            fields = dict(zip(header, row, strict=True))
            if stats.repeated_span("litellm", fields.get("request_id")):  # logs exported twice
                continue
            got = _row(fields, file, first)
            if stats.counted(got):
                yield got
    except csv.Error as exc:
        raise InputFileError(file, f"invalid CSV: {exc}", at[0]) from None


def _json(value: Any, name: str) -> Any:
    """A JSON column: as exported (an object, a list) or as JSON text (CSV); None if empty."""
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            return parse_json(value)
        except (JsonError, ValueError):
            raise TokenError(f"{name}: invalid JSON") from None
    return value


def _time(value: Any, name: str) -> float | None:
    """Epoch seconds UTC of a log time: ISO 8601 (no zone: UTC, as LiteLLM stores it) or a
    number of epoch seconds (milliseconds when above 10^11)."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value / 1000 if value > 1e11 else float(value)
    if isinstance(value, str):
        text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
        text = _FRACTION.sub(lambda m: "." + (m[1] + "000000")[:6], text, count=1)
        try:
            when = datetime.fromisoformat(text)
        except ValueError:
            pass
        else:
            if when.tzinfo is None:
                when = when.replace(tzinfo=timezone.utc)
            return when.timestamp()
    raise TokenError(f"{name}: expected an ISO 8601 time, got {quoted(str(value), 40)}")


def _truthy(value: Any, name: str) -> bool:
    """A true/false column: a JSON boolean, ``true``/``false`` in any case (CSV), or empty;
    ``TokenError`` naming the column for anything else."""
    if value is None or value is True or value is False:
        return bool(value)
    text = value.strip().lower() if isinstance(value, str) else None
    if text not in ("true", "false", ""):
        shown = printable(repr(value), 40)
        raise TokenError(f"{name}: expected true, false or empty, got {shown}")
    return text == "true"


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(source: dict[str, Any], name: str) -> int:
    value = source.get(name)
    return 0 if value is None or value == "" else count(value, name)


def _batch_requests(row: dict[str, Any], meta: dict[str, Any]) -> int:
    """A batch row's request count, from the batch object it records; else 1."""
    for holder in (_json(row.get("response"), "response"), meta, meta.get("batch")):
        counts = holder.get("request_counts") if isinstance(holder, dict) else None
        if isinstance(counts, dict):
            for name in ("completed", "total"):
                if counts.get(name) not in (None, ""):
                    return count(counts[name], f"request_counts.{name}")
    return 1


def _row(row: dict[str, Any], file: str, line: int) -> UsageRecord | BadRecord | None:
    try:
        meta = _json(row.get("metadata"), "metadata")
        meta = meta if isinstance(meta, dict) else {}
        if _truthy(row.get("cache_hit"), "cache_hit") or meta.get("status") == "failure":
            return None
        for name in ("prompt_tokens", "completion_tokens"):
            if row.get(name) in (None, ""):
                raise TokenError(f"{name} missing")
        reported = count(row["prompt_tokens"], "prompt_tokens")
        output = count(row["completion_tokens"], "completion_tokens")
        extra = meta.get("additional_usage_values")
        extra = extra if isinstance(extra, dict) else {}
        details = extra.get("prompt_tokens_details")
        cached = _int(row, "cache_read_input_tokens") or _int(extra, "cache_read_input_tokens")
        if not cached and isinstance(details, dict):
            cached = _int(details, "cached_tokens")
        written = _int(row, "cache_creation_input_tokens") or _int(
            extra, "cache_creation_input_tokens"
        )
        if reported == output == cached == written == 0:
            return None  # nothing billed: a failure, a file or batch-management call
        model = _text(row.get("model")) or _text(row.get("model_group"))
        if model is None:
            return bad(file, line, "model missing")
        start = _time(row.get("startTime"), "startTime")
        end = _time(row.get("endTime"), "endTime")
        call = str(row.get("call_type") or "")
        batched = "batch" in call
        requests = _batch_requests(row, meta) if batched else 1
        request = _json(
            row.get("proxy_server_request") or meta.get("proxy_server_request"),
            "proxy_server_request",
        )
    except TokenError as exc:
        return bad(file, line, str(exc))
    if (why := time_problem(start, end)) is not None:
        return bad(file, line, why)
    request = request if isinstance(request, dict) else {}
    stream = request.get("stream")
    tier = request.get("service_tier")
    return UsageRecord(
        file=file,
        line=line,
        format="litellm",
        start=start,
        end=end,
        provider=_text(row.get("custom_llm_provider")),
        model=model,
        requests=requests,
        input_tokens=all_input(reported, cached, written),
        cached_input_tokens=cached,
        cache_write_tokens=written,
        output_tokens=output,
        streamed=stream if isinstance(stream, bool) else None,
        batched=batched,
        service_tier=_text(tier),
        keys=_keys(row, meta),
    )


def _keys(row: dict[str, Any], meta: dict[str, Any]) -> dict[str, str]:
    keys: dict[str, str] = {}
    found = {
        "api_key": row.get("api_key"),
        "key_alias": meta.get("user_api_key_alias"),
        "team": row.get("team_id") or meta.get("user_api_key_team_id"),
        "team_alias": meta.get("user_api_key_team_alias"),
        "user": row.get("user") or meta.get("user_api_key_user_id"),
        "end_user": row.get("end_user"),
        "project": meta.get("project_id") or meta.get("user_api_key_project_id"),
    }
    for key, value in found.items():
        if isinstance(value, str) and value:
            keys[key] = value
    try:
        tags = _json(row.get("request_tags"), "request_tags")
    except TokenError:
        tags = None
    for tag in tags if isinstance(tags, list) else ():
        if isinstance(tag, str) and tag:
            name, sep, value = tag.partition(":") if ":" in tag else tag.partition("=")
            keys["tag:" + name] = value if sep else "true"
    extra = meta.get("spend_logs_metadata")
    for name, value in extra.items() if isinstance(extra, dict) else ():
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            keys["tag:" + str(name)] = str(value)
    return keys
