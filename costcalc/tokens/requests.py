"""What one request is, and how many tokens its text has: prompts, chat messages and
provider request lines."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from costcalc.batch.formats import NO_TEXT, registered_formats, with_system
from costcalc.errors import RequestError, arg
from costcalc.tokens.encodings import (
    ChatOverhead,
    get_encoding,
    message_tokens_raw,
)

InputFormat = Literal["text", "lines", "jsonl", "json", "csv"]
"""text: a whole file is one request; lines: each non-blank line is one (as `batch build`
reads a text file); jsonl: each line is one; json: a document of one or more; csv: each row."""
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


_TEXT_KEYS = ("prompt", "text", "input", "content")


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
    """
    if spec.field is not None:
        return _value_tokens(_dig(obj, spec.field), spec)
    if isinstance(obj, dict):  # parsed JSON: dict, not the slower Mapping check
        for fmt in registered_formats():
            text = fmt.request_text(obj)
            if text is not NO_TEXT:
                return _value_tokens(text, spec)
        req = obj.get("request")
        if isinstance(req, dict) and "contents" in req:
            return _gemini_tokens(req, spec), False
        if "messages" in obj:
            return _value_tokens(_with_system(obj), spec)
        for key in _TEXT_KEYS:
            if isinstance(obj.get(key), str):
                system = obj.get("system")
                if spec.prompt_overhead and isinstance(system, str) and system:
                    # sent as a system and a user message, as `batch build` writes the line
                    sent = [
                        {"role": "system", "content": system},
                        {"role": "user", "content": obj[key]},
                    ]
                    return message_tokens_raw(spec.encoding, sent, spec.overhead), True
                return _value_tokens(obj[key], spec)
        raise RequestError(
            "no request text found (expected body.messages, params.messages, messages, "
            f"prompt or text; choose a field with {arg('field', 'a.b.c')})"
        )
    return _value_tokens(obj, spec)


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
        return len(enc.encode_ordinary(value)) + spec.prompt_overhead, bool(spec.prompt_overhead)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return sum(len(enc.encode_ordinary(v)) for v in value), False
    kind = type(value).__name__ if value is not None else "null"
    raise RequestError(f"found {kind}, expected text or a list of chat messages")
