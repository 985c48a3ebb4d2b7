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
OpenInference's names (Arize Phoenix's instrumentations) are read the same way:
``llm.token_count.prompt``/``completion``, ``llm.token_count.prompt_details.cache_read``/
``cache_write``, ``llm.model_name`` (``llm.response.model_name``, ``llm.request.model_name``),
``llm.provider``, ``llm.system``; a span whose ``openinference.span.kind`` is not ``LLM`` or
``EMBEDDING`` (a chain, agent or tool) is skipped like an agent span.

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
    EARLIEST,
    LATEST,
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


def _text(value: Any) -> str | None:
    return value if value.__class__ is str and value else None


def _flag(value: Any) -> bool | None:
    if value is True or value is False:
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
    """An OTLP attribute list as a dict of key -> plain value (an array's value stays as
    recorded: no key read here is one); TypeError, KeyError, ValueError when it is not a list
    of {"key", "value"}."""
    out = {}
    for kv in items or ():
        typed = kv["value"]
        if isinstance(typed, dict) and len(typed) == 1:
            (out[kv["key"]],) = typed.values()
        else:
            out[kv["key"]] = typed
    return out


def _tags(attrs: dict[str, Any], into: dict[str, str]) -> None:
    for key, value in attrs.items():
        if key.startswith(TAGS):
            name = key.partition("tag.")[2]
            if name and value is not None and not isinstance(value, (dict, list)):
                into["tag:" + name] = str(value).lower() if isinstance(value, bool) else str(value)


def _resource_keys(resource: Any) -> dict[str, str]:
    items = resource.get("attributes") if isinstance(resource, dict) else None
    if not items:
        return {}
    if len(items) == 1 and items[0]["key"] == "service.name":  # the commonest resource
        service = _text(_attributes(items).get("service.name"))
        return {"service": service} if service else {}
    attrs = _attributes(items)
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
        except (TypeError, KeyError, AttributeError, ValueError):
            why = "resource.attributes: expected key/value objects"
            raise InputFileError(file, why, line) from None
        scopes = rs.get("scopeSpans")
        if scopes is None:
            scopes = rs.get("instrumentationLibrarySpans") or ()
        if not isinstance(scopes, list):  # skipped, its spans would go uncounted
            raise InputFileError(file, "scopeSpans: expected a list", line)
        for scope in scopes:
            spans = scope.get("spans", []) if isinstance(scope, dict) else None
            if not isinstance(spans, list):
                raise InputFileError(file, "scopeSpans: expected objects with a spans list", line)
            for span in spans:
                stats.records += 1
                at = line_of(span) if line_of is not None else line
                got = _span(span, file, at, base)
                if got.__class__ is UsageRecord and stats.repeated_span(
                    span.get("traceId"), span.get("spanId")
                ):
                    continue  # OTel span ids are unique: a repeat is an export read twice
                if stats.counted(got):
                    yield got


# Each attribute a span's usage reads, by its place in ``_SLOTS`` (the first name of a
# pair is the current convention's, the second the older or another library's name).
_NAMES = (
    *INPUT, *OUTPUT, *CACHE_READ, *CACHE_WRITE, OPERATION,
    "gen_ai.response.model", "gen_ai.request.model", "gen_ai.provider.name", "gen_ai.system",
    "gen_ai.request.stream", "llm.is_streaming", *TIERS, "http.route", "url.path",
    "enduser.id", "user.id", "costcalc.batch", "openinference.span.kind",
)  # fmt: skip
_SLOTS = {name: i for i, name in enumerate(_NAMES)}
# OpenInference's names (Arize Phoenix and its instrumentations) read into the same slots
_SLOTS.update({
    "llm.token_count.prompt": _SLOTS[INPUT[1]],
    "llm.token_count.completion": _SLOTS[OUTPUT[1]],
    "llm.token_count.prompt_details.cache_read": _SLOTS[CACHE_READ[1]],
    "llm.token_count.prompt_details.cache_write": _SLOTS[CACHE_WRITE[1]],
    "llm.model_name": _SLOTS["gen_ai.response.model"],
    "llm.response.model_name": _SLOTS["gen_ai.response.model"],
    "llm.request.model_name": _SLOTS["gen_ai.request.model"],
    "llm.provider": _SLOTS["gen_ai.provider.name"],
    "llm.system": _SLOTS["gen_ai.system"],
})  # fmt: skip
OPENINFERENCE_CALLS = frozenset({"LLM", "EMBEDDING"})
"""OpenInference span kinds that are model calls; the others (CHAIN, AGENT, TOOL, ...) may
carry the tokens of the calls they made, counted on those."""
_NONE = [None] * len(_NAMES)


def _twice(span: dict[str, Any], key: str, value: Any) -> bool:
    """Whether a span lists ``key`` before with a value other than ``value`` (a slot filled
    already may be another name's: ``llm.model_name`` and ``gen_ai.response.model``)."""
    for kv in span["attributes"]:
        if kv["key"] == key:
            typed = kv["value"]
            if isinstance(typed, dict) and len(typed) == 1:
                (typed,) = typed.values()
            return bool(typed != value)
    return False


def _span(span: Any, file: str, line: int, base: dict[str, str]) -> UsageRecord | BadRecord | None:
    """One span's usage, its fault, or None when it is not a model call. One pass over its
    attributes: each one read is put in its slot, tags gathered (the hot loop of a read)."""
    if not isinstance(span, dict):
        return bad(file, line, "span: expected a JSON object")
    v = _NONE.copy()
    tags: list[tuple[str, Any]] = []
    slots = _SLOTS
    try:
        for kv in span.get("attributes") or ():
            key = kv["key"]
            slot = slots.get(key)
            if slot is None and not key.startswith(TAGS):
                continue
            typed = kv["value"]
            if isinstance(typed, dict) and len(typed) == 1:
                (typed,) = typed.values()
            if slot is None:
                tags.append((key, typed))
            else:
                if v[slot] is not None and v[slot] != typed and _twice(span, key, typed):
                    return bad(file, line, f"attribute {key} recorded twice, with two values")
                v[slot] = typed
    except (TypeError, KeyError, AttributeError, ValueError):
        return bad(file, line, "span attributes: expected a list of key/value objects")
    if len(tags) > 1 and len(dict(tags)) < len(tags):
        values: dict[str, Any] = {}
        for key, typed in tags:
            if values.setdefault(key, typed) != typed:
                return bad(file, line, f"attribute {key} recorded twice, with two values")
    (typed_in, old_in, typed_out, old_out, read, old_read, write, old_write, op,
     response_model, request_model, provider, system, stream, streaming,
     tier1, tier2, tier3, tier4, route, path, enduser, user, batch, oi_kind) = v  # fmt: skip
    if typed_in is None:
        typed_in = old_in
    if typed_out is None:
        typed_out = old_out
    op = _text(op)
    if op in NOT_CALLS or (oi_kind is not None and str(oi_kind).upper() not in OPENINFERENCE_CALLS):
        return None
    model = _text(response_model) or _text(request_model)
    if typed_in is None and typed_out is None:
        status = span.get("status")
        failed = isinstance(status, dict) and status.get("code") in ERROR
        if (op is None and model is None) or failed:
            return None
        return bad(file, line, "a GenAI call span without gen_ai.usage.input_tokens/output_tokens")
    if model is None:
        return bad(file, line, "model missing (gen_ai.request.model / gen_ai.response.model)")
    try:
        if typed_in is None:
            return bad(file, line, "gen_ai.usage.input_tokens missing")
        reported = count(typed_in, INPUT[0])
        if typed_out is None:
            if op not in NO_OUTPUT:
                return bad(file, line, "gen_ai.usage.output_tokens missing")
            output = 0
        else:
            output = count(typed_out, OUTPUT[0])
        read = old_read if read is None else read
        cached = 0 if read is None else count(read, CACHE_READ[0])
        write = old_write if write is None else write
        written = 0 if write is None else count(write, CACHE_WRITE[0])
    except TokenError as exc:
        return bad(file, line, str(exc))
    try:
        start = _seconds(span.get("startTimeUnixNano"))
        end = _seconds(span.get("endTimeUnixNano"))
    except ValueError:
        return bad(file, line, "startTimeUnixNano/endTimeUnixNano: expected whole nanoseconds")
    if not (start is not None and end is not None and EARLIEST <= start <= end < LATEST) and (
        why := time_problem(start, end)
    ):  # the usual span passes the first test alone
        return bad(file, line, why)
    keys = base.copy()
    if op is not None:
        keys["operation"] = op
    if route is not None or path is not None:
        route = _text(route) or _text(path)
        if route:
            keys["route"] = route
    if enduser is not None or user is not None:
        user = _text(enduser) or _text(user)
        if user:
            keys["user"] = user
    if tags:
        _tags(dict(tags), keys)
    streamed = _flag(stream)
    if streamed is None and streaming is not None:
        streamed = _flag(streaming)
    tier = _text(tier1) or _text(tier2) or _text(tier3) or _text(tier4)
    return UsageRecord(
        file=file,
        line=line,
        format="otlp",
        start=start,
        end=end,
        provider=_text(provider) or _text(system),
        model=model,
        requests=1,
        input_tokens=all_input(reported, cached, written),
        cached_input_tokens=cached,
        cache_write_tokens=written,
        output_tokens=output,
        streamed=streamed,
        batched=(batch is not None and _flag(batch) is True) or (op is not None and "batch" in op),
        service_tier=tier,
        keys=keys,
    )
