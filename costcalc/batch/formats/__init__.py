"""Batch line formats: one object per format, registered by name.

A provider's price file names the format of its batch files (``batch.line_format``), and
that name, not the provider's id, picks the object here that writes, checks, reads and
reconciles the lines. ``openai``, ``anthropic``, ``bedrock`` (AWS Bedrock batch inference,
Claude bodies) and ``vertex`` (Google Vertex AI batch inference for Gemini) are built in.

Adding a format is one module plus its registration:

1. ``costcalc/batch/formats/<name>.py``: a subclass of ``LineFormat`` (``base``) with its
   ``name``, ``body_key`` and methods (the built-in modules are examples; ``bedrock`` and
   ``vertex`` show a line without ``custom_id`` or model);
2. its ``register()`` call: for a built-in format, one entry in ``_BUILTIN`` below; from
   other code (a plugin, a test), ``register(MyLines())`` before the price table that names
   it is loaded (``unregister(name)`` takes it away again).

Worker processes of ``costcalc tokens --jobs N`` started with spawn (not fork) see only the
built-in formats.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from costcalc.batch.formats.anthropic import AnthropicLines
from costcalc.batch.formats.base import (
    NO_TEXT,
    OUTCOMES,
    LineFormat,
    LineUsage,
    Outcome,
    RequestWriter,
    ResultLine,
    encode_line,
    is_object,
    message_problems,
    usage_int,
    with_system,
)
from costcalc.batch.formats.bedrock import BedrockLines
from costcalc.batch.formats.openai import OpenAILines
from costcalc.batch.formats.vertex import VertexLines
from costcalc.errors import UsageError, require_type

__all__ = [
    "NO_TEXT",
    "OUTCOMES",
    "LineFormat",
    "LineUsage",
    "Outcome",
    "RequestWriter",
    "ResultLine",
    "encode_line",
    "is_object",
    "known_names",
    "line_format",
    "line_formats",
    "message_problems",
    "register",
    "registered_formats",
    "request_format",
    "result_format",
    "unregister",
    "usage_int",
    "with_system",
]

_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")

_FORMATS: dict[str, LineFormat] = {}
_IN_ORDER: tuple[LineFormat, ...] = ()
_NEWEST_FIRST: tuple[LineFormat, ...] = ()


def register(fmt: LineFormat) -> LineFormat:
    """Make a line format known by its name (and return it)."""
    global _IN_ORDER, _NEWEST_FIRST
    require_type(fmt, LineFormat, "fmt", "register_line_format", "a costcalc LineFormat")
    name = getattr(fmt, "name", None)
    if not isinstance(fmt, LineFormat) or not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(
            f"{fmt!r}: a line format is a LineFormat whose name is lower-case letters, digits, "
            "_ and -"
        )
    if name in _FORMATS:
        raise ValueError(f"a line format named {name!r} is registered already")
    _FORMATS[name] = fmt
    _IN_ORDER = tuple(_FORMATS.values())
    _NEWEST_FIRST = _IN_ORDER[::-1]
    return fmt


def unregister(name: str) -> None:
    """Forget a registered line format (nothing happens if there is none of that name)."""
    global _IN_ORDER, _NEWEST_FIRST
    if _FORMATS.pop(name, None) is not None:
        _IN_ORDER = tuple(_FORMATS.values())
        _NEWEST_FIRST = _IN_ORDER[::-1]


def line_formats() -> list[str]:
    """The names of the registered line formats, in the order they were registered."""
    return list(_FORMATS)


def registered_formats() -> tuple[LineFormat, ...]:
    """The registered line formats, in the order they were registered."""
    return _IN_ORDER


def known_names() -> str:
    """The registered names as a phrase: ``openai or anthropic``."""
    names = list(_FORMATS)
    return " or ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)


def line_format(name: str) -> LineFormat:
    """The line format of that name; an unknown name is a usage error naming the known ones."""
    try:
        return _FORMATS[name]
    except KeyError:
        raise UsageError(f"unknown batch line format {name!r} (known: {known_names()})") from None


def request_format(obj: Mapping[str, Any]) -> LineFormat:
    """The format of a parsed request line whose file does not say: the format registered
    last that claims it (a later format may claim lines an earlier one would take), else the
    first registered (openai), whose checks then say what the line lacks."""
    for fmt in _NEWEST_FIRST:
        if fmt.is_request(obj):
            return fmt
    return _IN_ORDER[0]


def result_format(obj: Mapping[str, Any]) -> LineFormat | None:
    """The format of a parsed result line (the format registered last that claims it), or
    None if no format does."""
    for fmt in _NEWEST_FIRST:
        if fmt.is_result(obj):
            return fmt
    return None


def keys_decide(keys: tuple[str, ...]) -> bool:
    """Whether ``result_format`` of a line with these keys is that of any line with them
    (every registered format's ``keys_decide``)."""
    return all(fmt.keys_decide(keys) for fmt in _NEWEST_FIRST)


_BUILTIN: tuple[LineFormat, ...] = (OpenAILines(), AnthropicLines(), BedrockLines(), VertexLines())
"""In recognition order, last first: a later format's lines carry keys no earlier one's do
(bedrock: recordId, modelInput; vertex: request), so none claims an earlier one's lines."""
for _fmt in _BUILTIN:
    register(_fmt)
