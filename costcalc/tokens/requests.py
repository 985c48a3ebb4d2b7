"""What one request is, and how many tokens its text has: prompts, chat messages and
provider request lines."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from costcalc.batch.formats import NO_TEXT, registered_formats, with_system
from costcalc.errors import RequestError, arg
from costcalc.requests import PROMPT_KEYS, input_request, lone_surrogate, refusal
from costcalc.tokens.encodings import (
    ChatOverhead,
    get_encoding,
    message_tokens_raw,
)

InputFormat = Literal["text", "lines", "jsonl", "json", "csv", "parquet"]
"""text: a whole file is one request; lines: each non-blank line is one (as `batch build`
reads a text file); jsonl: each line is one; json: a document of one or more; csv: each row;
parquet: each row of one string column of a Parquet file or folder of them."""
Errors = Literal["strict", "replace"]
BLOCK_BYTES = 4 * 1024 * 1024
CSV_BATCH_ROWS = 2000
STDIN = "-"
Progress = Callable[[int], None]

_SURROGATE = re.compile("[\udc80-\udcff]")

# --- what one request is ----------------------------------------------------------------------


@dataclass(frozen=True)
class CountSpec:
    """Everything a worker needs to count a block (picklable)."""

    encoding: str
    overhead: ChatOverhead
    field: tuple[str, ...] | None
    errors: Errors
    prompt_overhead: int = 0
    """Tokens added to a request that is bare text (a prompt, a CSV cell, a line) because it
    will be sent as one user message (as `batch build` writes it); 0: count the text alone."""


def _dig(obj: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if isinstance(obj, Mapping) and part in obj:
            obj = obj[part]
        elif isinstance(obj, list) and part.isdigit() and int(part) < len(obj):
            obj = obj[int(part)]
        else:
            raise RequestError(f"no field {'.'.join(path)!r}")
    return obj


def _is_messages(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(m, dict) and "role" in m for m in value)
    )


def request_tokens(obj: Any, spec: CountSpec) -> tuple[int, bool]:
    """Raw tokens of one parsed request, and whether it was counted as chat messages.

    Knows the lines of every batch line format (``costcalc.batch.formats``: OpenAI
    ``body.messages`` / ``body.input``, Anthropic ``params.system`` + ``params.messages``),
    Gemini batch lines (``request.contents``), plain ``{"messages": [...]}``, a bare list of
    messages, a string, or ``--field a.b.c``.

    Counted as sent (``spec.prompt_overhead``: a quote of the requests ``batch build`` will
    write), a request is read as ``batch build`` reads it, and refused as it refuses it
    (``costcalc.requests.input_request``).
    """
    if spec.prompt_overhead:
        return _sent_tokens(obj, spec)
    value = _counted(obj, spec)
    if isinstance(value, _Gemini):
        return _gemini_tokens(value.request, spec), False
    return _value_tokens(value, spec)


def _sent_tokens(obj: Any, spec: CountSpec) -> tuple[int, bool]:
    """A request counted as sent: a batch line's messages as they are, refused as ``batch
    validate`` refuses them; an input row as ``batch build`` reads it (the same rule)."""
    if spec.field is None and isinstance(obj, dict):
        for fmt in registered_formats():
            text = fmt.request_text(obj)
            if text is NO_TEXT:
                continue
            reason = refusal(text)
            if reason is None and (bad_id := lone_surrogate(fmt.custom_id_of(obj))):
                reason = f"{fmt.id_name} {bad_id}"  # as batch validate refuses it
            if reason is not None:
                raise RequestError(reason)
            return _value_tokens(text, spec)
    sent = input_request(obj, ".".join(spec.field) if spec.field else None)
    messages = with_system(sent.messages, sent.system)
    return message_tokens_raw(spec.encoding, messages, spec.overhead), True


def request_refused(obj: Any, spec: CountSpec) -> bool:
    """Whether a provider would refuse the request ``request_tokens`` counted (``costcalc
    .requests``): the counters count it, and say how many such requests they saw."""
    return _refused(_counted(obj, spec))


def request_count(obj: Any, spec: CountSpec, surrogates: bool = True) -> tuple[int, bool, bool]:
    """``request_tokens`` and, unless counted as sent, ``request_refused`` of one request,
    reading it once (every counter wants both of each line): (raw tokens, counted as chat,
    a provider would refuse it). A request counted as sent is refused by raising, as
    ``request_tokens`` does, so it is never counted as refused. ``surrogates=False``: the
    request is known to hold no lone surrogate (``jsonlines.plain_object`` read it)."""
    if spec.prompt_overhead:
        tokens, chat = _sent_tokens(obj, spec)
        return tokens, chat, False
    value = _counted(obj, spec)
    if isinstance(value, _Gemini):
        return _gemini_tokens(value.request, spec), False, _refused(value, surrogates)
    tokens, chat = _value_tokens(value, spec)
    return tokens, chat, _refused(value, surrogates)


def _refused(value: Any, surrogates: bool = True) -> bool:
    """``request_refused`` of what ``_counted`` found."""
    if isinstance(value, _Gemini):
        parts = [
            part
            for content in value.request.get("contents") or []
            if isinstance(content, Mapping)
            for part in content.get("parts") or []
        ]
        value = [{"role": "user", "content": parts}]
    return refusal(value, surrogates) is not None


class _Gemini(NamedTuple):
    request: Mapping[str, Any]


def _counted(obj: Any, spec: CountSpec) -> Any:
    """What ``request_tokens`` counts of a request: text, texts, chat messages, or a Gemini
    request (counted by its parts)."""
    if spec.field is not None:
        return _dig(obj, spec.field)
    if isinstance(obj, dict):  # parsed JSON: dict, not the slower Mapping check
        for fmt in registered_formats():
            text = fmt.request_text(obj)
            if text is not NO_TEXT:
                return text
        req = obj.get("request")
        if isinstance(req, dict) and "contents" in req:
            return _Gemini(req)
        if "messages" in obj:
            return _with_system(obj)
        for key in PROMPT_KEYS:
            if isinstance(obj.get(key), str):
                return obj[key]
        raise RequestError(
            "no request text found (expected body.messages, params.messages, messages, "
            f"prompt or text; choose a field with {arg('field', 'a.b.c')})"
        )
    return obj


def _with_system(obj: Mapping[str, Any]) -> Any:
    return with_system(obj["messages"], obj.get("system"))


def _gemini_tokens(req: Mapping[str, Any], spec: CountSpec) -> int:
    enc = get_encoding(spec.encoding)
    total = 0
    parts: list[Any] = []
    system = req.get("systemInstruction") or req.get("system_instruction")
    if isinstance(system, Mapping):
        parts.extend(system.get("parts") or [])
    for content in req.get("contents") or []:
        if isinstance(content, Mapping):
            parts.extend(content.get("parts") or [])
    for part in parts:
        if isinstance(part, Mapping) and isinstance(part.get("text"), str):
            total += len(enc.encode_ordinary(part["text"]))
    return total


def _value_tokens(value: Any, spec: CountSpec) -> tuple[int, bool]:
    if isinstance(value, list) and value and isinstance(value[0], dict) and _is_messages(value):
        return message_tokens_raw(spec.encoding, value, spec.overhead), True
    enc = get_encoding(spec.encoding)
    if isinstance(value, str):
        return len(enc.encode_ordinary(value)), False
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return sum(len(enc.encode_ordinary(v)) for v in value), False
    kind = type(value).__name__ if value is not None else "null"
    raise RequestError(f"found {kind}, expected text or a list of chat messages")
