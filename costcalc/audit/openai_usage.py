"""OpenAI's organization usage API, completions (``GET /v1/organization/usage/completions``):
pages as the API returns them, one page per file or one per line (JSON Lines of pages), or a
JSON array of pages. A page is ``{"object": "page", "data": [bucket, ...], "has_more": ...,
"next_page": ...}``; a bucket ``{"object": "bucket", "start_time": ..., "end_time": ...,
"results": [...]}`` (epoch seconds); a result ``{"object":
"organization.usage.completions.result", "input_tokens", "output_tokens",
"input_cached_tokens", "input_cache_write_tokens", "input_audio_tokens",
"output_audio_tokens", "num_model_requests", "project_id", "user_id", "api_key_id", "model",
"batch", "service_tier"}`` (the grouping fields are null unless the export grouped by them).

``input_tokens`` holds every input token, cached and cache-written ones included (OpenAI's
reference says so); cache writes are ``input_cache_write_tokens`` plus
``input_cache_write_12h_tokens``. Audio tokens are kept as reported (inside the input and
output counts where OpenAI counts them), priced as text: costcalc has no audio rates.

A result without a model (an export not grouped by model) is a ``BadRecord``: its tokens
cannot be priced. Results of other usage kinds (embeddings, images, ...) are skipped and
counted. Keys: ``project`` (project_id), ``api_key`` (api_key_id), ``user`` (user_id).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

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
from costcalc.errors import InputFileError, printable

RESULT = "organization.usage.completions.result"
NOT_PAGES = (
    'not an OpenAI usage page: expected {"object": "page", "data": [buckets]} '
    "(GET /v1/organization/usage/completions)"
)
TIERS = ("auto", "default", "flex", "priority", "scale", "standard")
"""The service tiers a usage result may name (any case)."""
KEYS = (("project_id", "project"), ("api_key_id", "api_key"), ("user_id", "user"))


def records(
    value: Any, file: str, line: int, stats: ReadStats, line_of: LineOf | None = None
) -> Iterator[UsageRecord | BadRecord]:
    """The results of one page, or of a JSON array of pages."""
    pages = value if isinstance(value, list) else [value]
    for page in pages:
        if not isinstance(page, dict) or not isinstance(page.get("data"), list):
            raise InputFileError(file, NOT_PAGES, line)
        if page.get("has_more") is True:  # the last page read decides
            stats.more_pages[file] = line
        else:
            stats.more_pages.pop(file, None)
        for bucket in page["data"]:
            at = line_of(bucket) if line_of is not None else line
            if not isinstance(bucket, dict) or not isinstance(bucket.get("results"), list):
                stats.records += 1
                stats.bad += 1
                yield bad(file, at, "bucket: expected an object with a results list")
                continue
            try:
                start = _seconds(bucket.get("start_time"))
                end = _seconds(bucket.get("end_time"))
            except ValueError:
                start = end = None
                times_bad = True
            else:
                times_bad = False
            for result in bucket["results"]:
                stats.records += 1
                at = line_of(result) if line_of is not None else line
                if times_bad:
                    got: UsageRecord | BadRecord | None = bad(
                        file, at, "bucket start_time/end_time: expected epoch seconds"
                    )
                else:
                    got = _result(result, file, at, start, end)
                if stats.counted(got):
                    yield got


def _seconds(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(value)
    return float(value)


def _result(
    result: Any, file: str, line: int, start: float | None, end: float | None
) -> UsageRecord | BadRecord | None:
    if not isinstance(result, dict):
        return bad(file, line, "result: expected a JSON object")
    kind = result.get("object")
    if kind is not None and kind != RESULT:
        return None  # another kind of usage (embeddings, images, ...)
    model = result.get("model")
    if not isinstance(model, str) or not model:
        return bad(file, line, "model missing: export with group_by=model")
    try:
        for name in ("input_tokens", "output_tokens", "num_model_requests"):
            if result.get(name) is None:
                raise TokenError(f"{name} missing")
        reported = count(result["input_tokens"], "input_tokens")
        output = count(result["output_tokens"], "output_tokens")
        requests = count(result["num_model_requests"], "num_model_requests")
        cached = _optional(result, "input_cached_tokens")
        written = _optional(result, "input_cache_write_tokens")
        written += _optional(result, "input_cache_write_12h_tokens")
    except TokenError as exc:
        return bad(file, line, str(exc))
    if (why := time_problem(start, end)) is not None:
        return bad(file, line, why)
    keys = {}
    for field, key in KEYS:
        value = result.get(field)
        if isinstance(value, str) and value:
            keys[key] = value
    tier = result.get("service_tier")
    if tier is not None and (not isinstance(tier, str) or tier.lower() not in TIERS):
        expected = ", ".join(TIERS)
        return bad(file, line, f"service_tier: expected one of {expected} or null, got "
                               f"{printable(repr(tier), 40)}")  # fmt: skip
    batched = result.get("batch")
    if batched is not None and not isinstance(batched, bool):
        return bad(file, line, f"batch: expected true, false or null, got "
                               f"{printable(repr(batched), 40)}")  # fmt: skip
    return UsageRecord(
        file=file,
        line=line,
        format="openai-usage",
        start=start,
        end=end,
        provider="openai",
        model=model,
        requests=requests,
        input_tokens=all_input(reported, cached, written),
        cached_input_tokens=cached,
        cache_write_tokens=written,
        output_tokens=output,
        streamed=None,
        batched=batched is True,
        service_tier=tier if isinstance(tier, str) and tier else None,
        keys=keys,
    )


def _optional(result: dict[str, Any], name: str) -> int:
    value = result.get(name)
    return 0 if value is None else count(value, name)
