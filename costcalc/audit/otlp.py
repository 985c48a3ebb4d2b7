"""OTLP JSON as the OpenTelemetry Collector's file exporter writes it: one export request per
line, ``{"resourceSpans": [{"resource": {"attributes": [...]}, "scopeSpans": [{"scope": {...},
"spans": [...]}]}]}``, attribute values typed (``{"stringValue": ...}``, ``{"intValue":
"123"}``, ``{"boolValue": ...}``, ``{"doubleValue": ...}``, ``{"arrayValue": {"values":
[...]}}``), times as ``startTimeUnixNano``/``endTimeUnixNano`` strings.

A span is usage when it carries the GenAI semantic conventions' token counts
(``gen_ai.usage.input_tokens`` and ``gen_ai.usage.output_tokens``; the older
``gen_ai.usage.prompt_tokens``/``completion_tokens`` too). ``gen_ai.usage.input_tokens`` SHOULD
include cached tokens (the conventions say so); cache reads and writes are
``gen_ai.usage.cache_read.input_tokens`` and ``gen_ai.usage.cache_creation.input_tokens``
(the older ``gen_ai.usage.cache_read_input_tokens``/``cache_creation_input_tokens`` too). A span
whose cache parts exceed its input reported the input without them (``usage.all_input``).

Skipped (counted in ``ReadStats.skipped``): spans of no GenAI call (HTTP, database); agent and
tool spans (``gen_ai.operation.name`` ``invoke_agent``, ``create_agent``, ``execute_tool``),
whose tokens, when they carry any, are their model calls' own, counted on those spans; a call
span with no token counts whose status is an error (nothing billed). A call span (an operation
such as ``chat``, or a request model) with no token counts and no error is a ``BadRecord``.

Read from the span: model (``gen_ai.response.model``, else ``gen_ai.request.model``), provider
(``gen_ai.provider.name``, else the older ``gen_ai.system``), ``gen_ai.request.stream`` (or
OpenLLMetry's ``llm.is_streaming``), the service tier (``openai.response.service_tier``,
``gen_ai.openai.response.service_tier``, then the request's), batched (a ``costcalc.batch``
attribute true, or an operation name holding "batch"). Keys: ``service`` (the resource's
``service.name``), ``operation``, ``route`` (``http.route``, else ``url.path``, on the span or
its resource: a route on a parent span of another line is not looked up), ``user``
(``enduser.id``, ``user.id``), and ``tag:NAME`` for attributes ``costcalc.tag.NAME`` or
``tag.NAME`` (the span's over its resource's).
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
)
from costcalc.errors import InputFileError

INPUT = ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens")
OUTPUT = ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens")
CACHE_READ = ("gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.cache_read_input_tokens")
CACHE_WRITE = (
    "gen_ai.usage.cache_creation.input_tokens",
    "gen_ai.usage.cache_creation_input_tokens",
)
OPERATION = "gen_ai.operation.name"
NOT_CALLS = frozenset({"invoke_agent", "create_agent", "execute_tool"})
"""Operations that are not one model call: their tokens are their calls' own."""
NO_OUTPUT = frozenset({"embeddings"})
"""Operations that generate no tokens: output 0 when not recorded."""
TIERS = (
    "openai.response.service_tier",
    "gen_ai.openai.response.service_tier",
    "openai.request.service_tier",
    "gen_ai.openai.request.service_tier",
)
TAGS = ("costcalc.tag.", "tag.")
ERROR = (2, "STATUS_CODE_ERROR")
NOT_OTLP = "not OTLP JSON: expected an object with resourceSpans (a Collector file exporter line)"
OTHER_SIGNALS = ("resourceLogs", "resourceMetrics", "resourceProfiles")


def value_of(typed: Any) -> Any:
    """The plain value of an OTLP ``AnyValue`` (``{"intValue": "12"}`` -> ``"12"``; an array
    -> a list of plain values); anything else as it is (a bad record says what)."""
    if isinstance(typed, dict) and len(typed) == 1:
        for kind, value in typed.items():
            if kind == "arrayValue" and isinstance(value, dict):
                return [value_of(v) for v in value.get("values") or ()]
            return value
    return typed


def _text(typed: Any) -> str | None:
    value = value_of(typed)
    return value if isinstance(value, str) and value else None


def _flag(typed: Any) -> bool | None:
    value = value_of(typed)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _seconds(nanos: Any) -> float | None:
    """Epoch seconds of a ``*TimeUnixNano`` (a decimal string or an int); None when absent
    or 0; ValueError when not a number."""
    if nanos is None:
        return None
    if isinstance(nanos, str):
        nanos = int(nanos)
    if type(nanos) is not int:
        raise ValueError(nanos)
    return nanos / 1e9 if nanos else None


def _attributes(items: Any) -> dict[str, Any]:
    """An OTLP attribute list as a dict of key -> typed value (TypeError, KeyError when it is
    not a list of {"key", "value"})."""
    out = {}
    for kv in items or ():
        out[kv["key"]] = kv.get("value")
    return out


def _tags(attrs: dict[str, Any], into: dict[str, str]) -> None:
    for key, typed in attrs.items():
        if key.startswith(TAGS):
            name = key.partition("tag.")[2]
            value = value_of(typed)
            if name and value is not None and not isinstance(value, (dict, list)):
                into["tag:" + name] = str(value).lower() if isinstance(value, bool) else str(value)


def _resource_keys(resource: Any) -> dict[str, str]:
    attrs = _attributes(resource.get("attributes")) if isinstance(resource, dict) else {}
    keys: dict[str, str] = {}
    service = _text(attrs.get("service.name"))
    if service:
        keys["service"] = service
    route = _text(attrs.get("http.route")) or _text(attrs.get("url.path"))
    if route:
        keys["route"] = route
    _tags(attrs, keys)
    return keys


def records(
    value: Any, file: str, line: int, stats: ReadStats, line_of: LineOf | None = None
) -> Iterator[UsageRecord | BadRecord]:
    """The usage of one export request (a line, or a whole document with ``line_of``)."""
    if not isinstance(value, dict) or "resourceSpans" not in value:
        if isinstance(value, dict) and any(k in value for k in OTHER_SIGNALS):
            return  # logs or metrics the same exporter wrote: no calls in them
        raise InputFileError(file, NOT_OTLP, line)
    resource_spans = value["resourceSpans"]
    if not isinstance(resource_spans, list):
        raise InputFileError(file, "resourceSpans: expected a list", line)
    for rs in resource_spans:
        if not isinstance(rs, dict):
            raise InputFileError(file, "resourceSpans: expected a list of objects", line)
        try:
            base = _resource_keys(rs.get("resource"))
        except (TypeError, KeyError, AttributeError):
            why = "resource.attributes: expected key/value objects"
            raise InputFileError(file, why, line) from None
        scopes = rs.get("scopeSpans")
        if scopes is None:
            scopes = rs.get("instrumentationLibrarySpans") or ()
        for scope in scopes if isinstance(scopes, list) else ():
            spans = scope.get("spans") if isinstance(scope, dict) else None
            if not isinstance(spans, list):
                continue
            for span in spans:
                stats.seen += 1
                at = line_of(span) if line_of is not None else line
                got = _span(span, file, at, base)
                if got is None:
                    stats.skipped += 1
                    continue
                if type(got) is BadRecord:
                    stats.bad += 1
                else:
                    stats.usage += 1
                yield got


def _span(span: Any, file: str, line: int, base: dict[str, str]) -> UsageRecord | BadRecord | None:
    """One span's usage, its fault, or None when it is not a model call."""
    if not isinstance(span, dict):
        return bad(file, line, "span: expected a JSON object")
    try:
        a = _attributes(span.get("attributes"))
    except (TypeError, KeyError, AttributeError):
        return bad(file, line, "span attributes: expected a list of key/value objects")
    typed_in = a.get(INPUT[0])
    if typed_in is None:
        typed_in = a.get(INPUT[1])
    typed_out = a.get(OUTPUT[0])
    if typed_out is None:
        typed_out = a.get(OUTPUT[1])
    op = _text(a.get(OPERATION))
    if op in NOT_CALLS:
        return None
    if typed_in is None and typed_out is None:
        call = op is not None or "gen_ai.request.model" in a or "gen_ai.response.model" in a
        status = span.get("status")
        failed = isinstance(status, dict) and status.get("code") in ERROR
        if not call or failed:
            return None
        return bad(file, line, "a GenAI call span without gen_ai.usage.input_tokens/output_tokens")
    model = _text(a.get("gen_ai.response.model")) or _text(a.get("gen_ai.request.model"))
    if model is None:
        return bad(file, line, "model missing (gen_ai.request.model / gen_ai.response.model)")
    try:
        if typed_in is None:
            return bad(file, line, "gen_ai.usage.input_tokens missing")
        reported = count(value_of(typed_in), INPUT[0])
        if typed_out is None:
            if op not in NO_OUTPUT:
                return bad(file, line, "gen_ai.usage.output_tokens missing")
            output = 0
        else:
            output = count(value_of(typed_out), OUTPUT[0])
        typed = a.get(CACHE_READ[0]) or a.get(CACHE_READ[1])
        cached = 0 if typed is None else count(value_of(typed), CACHE_READ[0])
        typed = a.get(CACHE_WRITE[0]) or a.get(CACHE_WRITE[1])
        written = 0 if typed is None else count(value_of(typed), CACHE_WRITE[0])
    except TokenError as exc:
        return bad(file, line, str(exc))
    try:
        start = _seconds(span.get("startTimeUnixNano"))
        end = _seconds(span.get("endTimeUnixNano"))
    except ValueError:
        return bad(file, line, "startTimeUnixNano/endTimeUnixNano: expected whole nanoseconds")
    keys = dict(base)
    if op is not None:
        keys["operation"] = op
    route = _text(a.get("http.route")) or _text(a.get("url.path"))
    if route:
        keys["route"] = route
    user = _text(a.get("enduser.id")) or _text(a.get("user.id"))
    if user:
        keys["user"] = user
    _tags(a, keys)
    streamed = _flag(a.get("gen_ai.request.stream"))
    if streamed is None:
        streamed = _flag(a.get("llm.is_streaming"))
    tier = None
    for name in TIERS:
        tier = _text(a.get(name))
        if tier:
            break
    return UsageRecord(
        file=file,
        line=line,
        format="otlp",
        start=start,
        end=end,
        provider=_text(a.get("gen_ai.provider.name")) or _text(a.get("gen_ai.system")),
        model=model,
        requests=1,
        input_tokens=all_input(reported, cached, written),
        cached_input_tokens=cached,
        cache_write_tokens=written,
        output_tokens=output,
        streamed=streamed,
        batched=_flag(a.get("costcalc.batch")) is True or (op is not None and "batch" in op),
        service_tier=tier,
        keys=keys,
    )
