"""Reading recorded LLM traffic: ``read_usage(paths)`` yields a ``UsageRecord`` per call or
bucket of calls, and a ``BadRecord`` (with its file and line) per record that looks like
usage but cannot be read; ``.stats`` counts what it saw, skipped records included.

Inputs are read as streams: JSON Lines line by line, or one JSON document per file (read
whole, within ``MAX_REQUEST_BYTES``), or CSV (LiteLLM); compressed (gzip, bzip2, xz, zstd) by
their magic bytes; ``"-"`` is stdin. Nothing is kept per record. A file that is not the
format at all (invalid JSON, not UTF-8, the wrong shape) is a ``CostcalcError`` naming its
file and line.

The formats: otlp.py (OpenTelemetry spans), openai_usage.py (OpenAI organization usage
pages), litellm.py (LiteLLM spend logs); detect_format tells them apart by content.
"""

from __future__ import annotations

import io
import json
import json.decoder
import json.scanner
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any, cast

from costcalc.audit import litellm, openai_usage, otlp
from costcalc.audit.usage import (
    FORMATS,
    BadRecord,
    LineOf,
    ReadStats,
    UsageRecord,
    bad,
    line_finder,
)
from costcalc.errors import InputFileError, UsageError, arg, path_argument, quoted
from costcalc.jsonlines import (
    MAX_REQUEST_BYTES,
    TOO_LARGE,
    UTF8_BOM,
    JsonError,
    parse_json,
    parse_record,
    read_document,
    read_lines,
)
from costcalc.tokens.sources import decompressed, inner_name, is_remote, open_source

__all__ = ["FORMATS", "BadRecord", "ReadStats", "UsageRecord", "detect_format", "read_usage"]

STDIN = "-"
HEAD_BYTES = 64 * 1024
"""How much of an input detect_format looks at."""

Reader = Callable[..., Iterator["UsageRecord | BadRecord"]]
_READERS: dict[str, Reader] = {
    "otlp": otlp.records,
    "openai-usage": openai_usage.records,
    "litellm": litellm.records,
}
_EXPECTED = "OTLP JSON spans, OpenAI usage pages or LiteLLM spend logs"


def detect_format(head: bytes, name: str) -> str:
    """The format of an input from its first bytes (decompressed) and then its name:
    ``resourceSpans`` is OTLP, ``"object": "page"`` or usage results OpenAI usage, spend-log
    columns (``request_id``, ``call_type``, ``prompt_tokens``) LiteLLM; a ``.csv`` file is a
    LiteLLM export. A ``CostcalcError`` naming the file when none fits."""
    text = head[:HEAD_BYTES]
    if b'"resourceSpans"' in text:
        return "otlp"
    if b"organization.usage." in text or (
        b'"object"' in text and b'"page"' in text and b'"data"' in text
    ):
        return "openai-usage"
    first = text.lstrip().split(b"\n", 1)[0]
    if b'"prompt_tokens"' in text and (b'"call_type"' in text or b'"request_id"' in text):
        return "litellm"
    if not first.startswith((b"{", b"[")) and b"prompt_tokens" in first and b"," in first:
        return "litellm"  # a CSV header
    if inner_name(name).lower().endswith(".csv"):
        return "litellm"
    formats = ", ".join(repr(f) for f in FORMATS)
    raise InputFileError(
        name,
        f"cannot tell its format (expected {_EXPECTED}); give "
        f"{arg('input_format FORMAT')} ({formats})",
    )


class read_usage:  # a function to its callers, with the counts it kept
    """The usage recorded in ``sources`` (paths, ``"-"`` for stdin), in order: a
    ``UsageRecord`` per call or bucket, a ``BadRecord`` per record that cannot be read.
    ``stats`` (a ``ReadStats``) counts what was read so far: complete once iterated.

    ``format``: ``"auto"`` (by content, per file), ``"otlp"``, ``"openai-usage"`` or
    ``"litellm"``."""

    def __init__(
        self, sources: Iterable[str | os.PathLike[str]] | str | os.PathLike[str], *,
        input_format: str = "auto",
    ) -> None:  # fmt: skip
        if isinstance(sources, (str, os.PathLike)):
            sources = [sources]
        if not isinstance(sources, Iterable):
            raise TypeError(
                f"read_usage: sources must be paths (str or os.PathLike), got "
                f"{type(sources).__name__}"
            )
        self.sources = [
            path_argument(s, f"sources[{i}]", "read_usage") for i, s in enumerate(sources)
        ]
        if input_format != "auto" and input_format not in FORMATS:
            choices = ", ".join(repr(f) for f in ("auto", *FORMATS))
            raise UsageError(
                f"{arg('input_format')}: expected one of {choices}, got {quoted(str(input_format))}"
            )
        if self.sources.count(STDIN) > 1:
            raise UsageError("stdin ('-') can be read only once")
        seen: dict[str, str] = {}
        for name in self.sources:
            if name == STDIN or is_remote(name):
                continue
            same = seen.setdefault(os.path.realpath(name), name)
            if same != name or self.sources.count(name) > 1:  # counted twice, cost doubled
                again = "" if same == name else f" (as {same})"
                raise UsageError(f"{name}: given twice{again}: its records would count twice")
        self.input_format = input_format
        self.stats = ReadStats()

    def __iter__(self) -> Iterator[UsageRecord | BadRecord]:
        for name in self.sources:
            self.stats.files += 1
            yield from self._file(name)

    def _file(self, name: str) -> Iterator[UsageRecord | BadRecord]:
        stream = decompressed(sys.stdin.buffer, STDIN) if name == STDIN else open_source(name)
        try:
            blank_lines, head = _skip_blank(stream)
            if not head:
                return
            fmt = detect_format(head, name) if self.input_format == "auto" else self.input_format
            rest = cast(IO[bytes], _Resumed(head, stream))
            if fmt == "litellm" and not head.startswith((b"{", b"[")):
                yield from litellm.csv_records(rest, name, self.stats, blank_lines)
            else:
                yield from _json_records(rest, name, _READERS[fmt], self.stats, blank_lines)
        finally:
            if name != STDIN:
                stream.close()


def _skip_blank(stream: IO[bytes]) -> tuple[int, bytes]:
    """The lines of whitespace an input starts with (a BOM too: CSV exports start with one),
    however many, read a chunk at a time; and the first ``HEAD_BYTES`` after them (empty: the
    input holds nothing else). A record after megabytes of blank lines is still a record."""
    lines, chunk = 0, stream.read(HEAD_BYTES).removeprefix(UTF8_BOM)
    while chunk:
        body = chunk.lstrip()
        lines += chunk.count(b"\n", 0, len(chunk) - len(body))
        if body:
            return lines, body + stream.read(HEAD_BYTES - len(body))
        chunk = stream.read(HEAD_BYTES)
    return lines, b""


class _Resumed(io.BufferedIOBase):
    """An input read from its ``head`` (already read off ``rest``) on: ``readline`` and
    ``read``, all its readers use."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head, self._left, self._rest = io.BytesIO(head), len(head), rest

    def readable(self) -> bool:
        return True

    def readline(self, size: int | None = -1) -> bytes:
        if not self._left:
            return self._rest.readline(-1 if size is None else size)
        line = self._head.readline(size)
        self._left -= len(line)
        if self._left or line.endswith(b"\n") or (size is not None and 0 <= size <= len(line)):
            return line
        return line + self._rest.readline(-1 if size is None or size < 0 else size - len(line))

    def read(self, size: int | None = -1) -> bytes:
        if not self._left:
            return self._rest.read(-1 if size is None else size)
        part = self._head.read(size)
        self._left -= len(part)
        if size is None or size < 0:
            return part + self._rest.read()
        return part + (self._rest.read(size - len(part)) if len(part) < size else b"")


def _json_records(
    stream: IO[bytes], name: str, reader: Reader, stats: ReadStats, lines_before: int = 0
) -> Iterator[UsageRecord | BadRecord]:
    """JSON Lines, one value per line; or, when the first value spans lines, the whole
    input as one JSON document. ``lines_before``: blank lines already read off its start."""
    first = True  # until a first value is read whole on its line: JSON Lines from then on
    for number, raw in read_lines(stream, name):
        number += lines_before
        if not raw.strip():
            continue
        try:
            value = parse_record(raw)
        except JsonError as exc:
            if first and raw.lstrip()[:1] in (b"{", b"["):  # a document over several lines
                yield from _document(raw, stream, name, number, reader, stats)
                return
            if not first and not raw.endswith(b"\n"):  # cut mid-write: its last record partial
                stats.records += 1
                stats.bad += 1
                yield bad(name, number, "the file ends inside this record (cut mid-write?)")
                return
            raise _invalid(name, number, exc) from None
        except UnicodeDecodeError:
            raise InputFileError(name, "is not valid UTF-8 text", number) from None
        first = False
        yield from reader(value, name, number, stats)


def _invalid(name: str, number: int, exc: JsonError) -> InputFileError:
    return InputFileError(name, f"{exc} (expected {_EXPECTED}, one JSON value per line)", number)


def _document(
    first: bytes, stream: IO[bytes], name: str, number: int, reader: Reader, stats: ReadStats
) -> Iterator[UsageRecord | BadRecord]:
    """The whole input as one JSON document starting on line ``number``; each record's line
    is where its object starts."""
    rest = read_document(stream, name)
    data = first + rest
    if len(data) > MAX_REQUEST_BYTES:
        raise InputFileError(name, f"{TOO_LARGE}; write one JSON value per line to read more")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = number + data.count(b"\n", 0, exc.start)
        raise InputFileError(name, "is not valid UTF-8 text", line) from None
    try:
        parse_json(text)  # checks depth and numbers, says where it is malformed
    except JsonError as exc:
        line = number + exc.line - 1
        raise InputFileError(name, f"{exc.reason} (expected {_EXPECTED})", line) from None
    value, line_of = positioned(text, number)
    yield from reader(value, name, number, stats, line_of)


class _At(dict):  # type: ignore[type-arg]
    """A JSON object that knows the offset where it starts in its document."""

    __slots__ = ("offset",)
    offset: int


def positioned(text: str, first: int = 1) -> tuple[Any, LineOf]:
    """``text`` (valid JSON, already checked by ``parse_json``) parsed with each object's
    offset kept, and the ``LineOf`` telling an object's line. Python's own scanner, slower
    than the C one: only for a whole-document input, at most ``MAX_REQUEST_BYTES``."""
    decoder = json.JSONDecoder()

    def parse_object(s_end: tuple[str, int], *args: Any) -> tuple[Any, int]:
        obj, end = json.decoder.JSONObject(s_end, *args)  # type: ignore[attr-defined]
        at = _At(obj)
        at.offset = s_end[1] - 1
        return at, end

    decoder.parse_object = parse_object  # type: ignore[attr-defined]
    scan = json.scanner.py_make_scanner(decoder)  # type: ignore[attr-defined]
    start = len(text) - len(text.lstrip())
    try:
        value, _ = scan(text, start)
    except RecursionError:  # deep, yet within parse_json's bound: lines of the document's start
        value = json.loads(text)
    return value, line_finder(text, first)
