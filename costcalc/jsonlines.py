"""Reading requests from users within bounds: the cap on one request's size, lines read with
a limit (never a whole endless line into memory), and JSON parsed without a crash on deep
nesting or endless integers. Every reader of user input goes through here."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import IO, Any

from costcalc.errors import InputFileError
from costcalc.signals import interrupts_held

with interrupts_held():  # Ctrl-C inside orjson's set-up crashed the process (SIGSEGV)
    from orjson import loads as _loads

MAX_REQUEST_BYTES = 32 * 1024 * 1024
"""The largest request costcalc reads (one JSONL line, CSV row, line of text or JSON document):
far more than any model's context takes (a million tokens is a few MB of text), so only a
broken or hostile input reaches it; reading stops there instead of filling memory."""

TOO_LARGE = (
    f"request is larger than {MAX_REQUEST_BYTES // 2**20} MiB (costcalc's cap on one request)"
)

MAX_JSON_DEPTH = 256
"""The deepest nesting of arrays and objects accepted in a request (real requests, tool
schemas included, stay far below; Python's parser would crash at about 1,000)."""


class JsonError(ValueError):
    """A line or document is not JSON costcalc accepts; ``str()`` says why in one line
    (``invalid JSON: ... (column 12)``), ``reason`` without the column."""

    def __init__(self, reason: str, line: int = 1, column: int | None = None) -> None:
        self.reason = reason
        self.line = line
        """1-based line within the parsed text (a JSON document may span lines)."""
        self.column = column
        super().__init__(reason if column is None else f"{reason} (column {column})")


_DIGITS_AS_ZERO = bytes(48 if 48 <= b <= 57 else b if b == 34 else 32 for b in range(256))
_LONG_NUMBER = b"0" * 19


def _long_number(raw: bytes) -> bool:
    """Whether ``raw`` may hold a number of 19 digits or more, which orjson may not read as
    ``json.loads`` does (it turns an integer past 64 bits into a float: 10**26 tokens would
    read as 1e+26, not as the integer the checks refuse). Digits become 0, quotes stay,
    the rest is blank; a string's first digit is blanked too, so a quoted run of exactly 19
    digits (an OTLP time in nanoseconds) is not one, while a number, never right after a
    quote, keeps all its digits. A longer quoted run is taken for one: the slow way then
    reads the line, as it would. A regex took 2.5 us a line, more than the parse."""
    return _LONG_NUMBER in raw.translate(_DIGITS_AS_ZERO).replace(b'"0', b'" ')


def plain_object(text: str | bytes) -> Any:
    """The JSON object a plain line holds, exactly as ``json.loads`` reads it, or None when
    the line is anything else (not UTF-8, a BOM, NUL bytes where ``json.loads`` guesses
    UTF-16, not an object, malformed, too many brackets, a number orjson reads otherwise):
    ``parse_json`` then reads it the slow way, which says what is wrong. Bytes it reads are
    valid UTF-8, and its texts hold no lone surrogate (orjson refuses one).

    orjson reads a line about four times as fast as ``json.loads`` (most of reconcile's
    and the audit's time per line). Where it refuses what ``json.loads`` takes (NaN, 1e400,
    a lone surrogate) the slow way reads it; where it would read a value otherwise (integers
    past 64 bits) the line never reaches it (tests/test_bounds.py checks they agree)."""
    if isinstance(text, bytes):
        if b"\x00" in text[:4] or text.startswith(UTF8_BOM):  # json.loads reads UTF-16 then
            return None
        if text.count(b"[") + text.count(b"{") > MAX_JSON_DEPTH:
            return None
        if _long_number(text):
            return None
    elif isinstance(text, str):
        if text.startswith("\ufeff") or text.count("[") + text.count("{") > MAX_JSON_DEPTH:
            return None
        if _long_number(text.encode("utf-8", "surrogatepass")):
            return None
    else:
        return None
    try:
        obj = _loads(text)
    except ValueError:  # orjson.JSONDecodeError: the slow way says which
        return None
    return obj if type(obj) is dict else None


def string_object(raw: bytes) -> dict[str, str] | None:
    """The object a line holds when every value in it is a string (``queue add``'s common
    task: a prompt, perhaps a custom_id), exactly as ``json.loads`` reads it; None for any
    other line (``parse_json`` then reads it). orjson alone reads it: what ``plain_object``
    guards against are numbers (none here) and nesting (one level); what orjson refuses
    (invalid UTF-8, a lone surrogate, NUL bytes, a BOM) is left to ``parse_json``."""
    try:
        obj = _loads(raw)
    except ValueError:
        return None
    if type(obj) is not dict:
        return None
    for value in obj.values():
        if type(value) is not str:
            return None
    return obj


def parse_record(raw: bytes) -> Any:
    """A JSON line of a record export (OTLP spans, usage pages, spend logs) read by orjson
    alone, whatever its brackets (an OTLP line of many spans has hundreds) or numbers: an
    integer past 64 bits reads as a float, which the record readers refuse as too large as
    they refuse a large integer (``costcalc.audit.usage.MAX_COUNT``); nesting stops at
    orjson's 1,024 levels. What orjson refuses (NaN, 1e400, a lone surrogate, malformed
    JSON) ``parse_json`` reads, or refuses saying why."""
    if b"\x00" not in raw[:4] and not raw.startswith(UTF8_BOM):
        try:
            return _loads(raw)
        except ValueError:
            pass
    return parse_json(raw)


def reads_as_text(raw: bytes) -> bool:
    """Whether ``parse_json`` reads these bytes as it reads their text decoded strictly as
    UTF-8 (what the token counters parse): no BOM, no NUL byte where ``json.loads`` guesses
    UTF-16, no invalid UTF-8 (``json.loads`` lets encoded surrogates through)."""
    if b"\x00" in raw[:4] or raw.startswith(UTF8_BOM):
        return False
    if raw.isascii():
        return True
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def parse_json(text: str | bytes) -> Any:
    """``json.loads`` for input from users: too deep nesting and over-long integers are a
    ``JsonError`` like any other malformed JSON, never a RecursionError or a crash."""
    obj = plain_object(text)
    if obj is not None:
        return obj
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise JsonError(f"invalid JSON: {exc.msg}", exc.lineno, exc.colno) from None
    except UnicodeDecodeError:  # bytes that are not UTF-8: the caller names it
        raise
    except RecursionError:
        raise JsonError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError as exc:  # Python's cap on digits of an int (sys.get_int_max_str_digits)
        if "digits" not in str(exc):
            raise JsonError(f"invalid JSON: {exc}") from None
        limit = sys.get_int_max_str_digits()
        raise JsonError(f"number too long (more than {limit:,} digits)") from None
    # counting brackets is cheap; only a line with many of them can be too deep
    if isinstance(text, str):
        brackets = text.count("[") + text.count("{")
    else:
        brackets = text.count(b"[") + text.count(b"{")
    if brackets > MAX_JSON_DEPTH and _depth(obj) > MAX_JSON_DEPTH:
        raise JsonError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    return obj


def _depth(obj: Any) -> int:
    """Nesting depth of arrays and objects, without recursion."""
    deepest = 0
    stack = [(obj, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            value = list(value.values())
        elif not isinstance(value, list):
            continue
        deepest = max(deepest, depth)
        if depth > MAX_JSON_DEPTH:
            return depth
        stack.extend((v, depth + 1) for v in value if isinstance(v, (list, dict)))
    return deepest


UTF8_BOM = b"\xef\xbb\xbf"
"""The byte order mark some editors put at the start of a UTF-8 file: every reader drops it."""


def read_lines(stream: IO[bytes], name: str) -> Iterator[tuple[int, bytes]]:
    """(1-based number, bytes) of each line, newline included; a line longer than
    ``MAX_REQUEST_BYTES`` stops the reading with an error naming it, having read at most that."""
    number = 0
    while True:
        raw = stream.readline(MAX_REQUEST_BYTES + 1)
        if not raw:
            return
        number += 1
        if number == 1:  # a BOM (an editor's mark of UTF-8) is no part of the first line
            raw = raw.removeprefix(UTF8_BOM)
        if len(raw.rstrip(b"\r\n")) > MAX_REQUEST_BYTES:
            raise InputFileError(name, TOO_LARGE, number)
        yield number, raw


def read_document(stream: IO[bytes], name: str) -> bytes:
    """A whole document (a JSON file of requests), refused past ``MAX_REQUEST_BYTES``."""
    data = stream.read(MAX_REQUEST_BYTES + 1)
    if len(data) > MAX_REQUEST_BYTES:
        raise InputFileError(
            name, f"{TOO_LARGE}; write one request per line as JSONL to count more"
        )
    return data
