"""Reading requests from files: JSONL blocks, text pieces and lines, CSV rows, JSON documents."""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import re
import string
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from costcalc.batch.formats import registered_formats
from costcalc.errors import (
    EMPTY_PROMPT,
    NOT_UTF8,
    FieldError,
    InputFileError,
    RequestError,
    UsageError,
    arg,
    open_input,
)
from costcalc.tokens.engine import _decode_line
from costcalc.tokens.requests import (
    _SURROGATE,
    BLOCK_BYTES,
    STDIN,
    Errors,
    InputFormat,
    Progress,
    _is_messages,
)

# --- readers ----------------------------------------------------------------------------------


@dataclass
class Source:
    """One input: a path or stdin, and how to read it."""

    name: str
    format: InputFormat

    @property
    def is_stdin(self) -> bool:
        return self.name == STDIN

    def open(self) -> IO[bytes]:
        if self.is_stdin:
            return sys.stdin.buffer
        return open_input(self.name)

    def size(self) -> int | None:
        if self.is_stdin:
            return None
        try:
            return os.path.getsize(self.name)
        except OSError:
            return None


def jsonl_blocks(
    stream: IO[bytes], progress: Progress | None = None
) -> Iterator[tuple[bytes, int]]:
    """(block of whole lines, 1-based number of its first line)."""
    carry = b""
    line = 1
    while True:
        chunk = stream.read(BLOCK_BYTES)
        if not chunk:
            break
        if progress is not None:
            progress(len(chunk))
        data = carry + chunk
        cut = data.rfind(b"\n")
        if cut < 0:
            carry = data
            continue
        block, carry = data[: cut + 1], data[cut + 1 :]
        yield block, line
        line += block.count(b"\n")
    if carry:
        yield carry, line


def text_pieces(
    stream: IO[bytes], path: str, errors: Errors, progress: Progress | None = None
) -> Iterator[str]:
    """Pieces of a text file that tokenize independently: each ends just after a newline
    followed by a non-space character, where no token of o200k or cl100k can cross."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors)
    carry = ""
    newlines_before = 0
    first = True
    while True:
        chunk = stream.read(BLOCK_BYTES)
        final = not chunk
        if progress is not None and chunk:
            progress(len(chunk))
        try:
            text = decoder.decode(chunk, final=final)
        except UnicodeDecodeError as exc:
            line = newlines_before + carry.count("\n") + chunk[: exc.start].count(b"\n") + 1
            raise InputFileError(path, NOT_UTF8, line) from None
        if first and text.startswith("\ufeff"):
            text = text[1:]
        first = False
        data = carry + text
        if final:
            if data:
                yield data
            return
        cut = _safe_cut(data)
        if cut <= 0:
            carry = data
            continue
        piece, carry = data[:cut], data[cut:]
        newlines_before += piece.count("\n")
        yield piece


_SAFE_CUT = re.compile(r"\n(?=\S)")


def _safe_cut(text: str) -> int:
    """Index just after the last newline followed by a non-space character (0 if none)."""
    start = max(0, len(text) - 65536)
    while True:
        last = -1
        for m in _SAFE_CUT.finditer(text, start):
            last = m.end()
        if last >= 0 or start == 0:
            return max(last, 0)
        start = max(0, start - 1_048_576)


@dataclass
class CsvPlan:
    column: str | None
    template: str | None


def template_fields(template: str) -> list[str]:
    """The column names a ``{name}`` template uses; only plain names are allowed."""
    names = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise FieldError("template", f"{template!r}: {exc}", sep=" ") from None
    for _, name, spec, conv in parsed:
        if name is None:
            continue
        if not name or not re.fullmatch(r"[^.\[\]{}!:]+", name) or spec or conv:
            raise UsageError(
                f"{arg('template')}: {{{name}}} is not a plain column name (write {{column}}, "
                "and {{{{ }}}} for literal braces)"
            )
        names.append(name)
    return names


def _non_empty(rows: Iterable[tuple[str, int]], name: str) -> Iterator[tuple[str, int]]:
    for text, line in rows:
        if not text.strip():
            raise InputFileError(name, EMPTY_PROMPT, line)
        yield text, line


def text_lines(
    source: Source, errors: Errors, progress: Progress | None = None
) -> Iterator[tuple[str, int]]:
    """(text, line number) of each non-blank line of a text file: one request per line."""
    stream = source.open()
    try:
        for number, raw in enumerate(stream, 1):
            if progress is not None:
                progress(len(raw))
            if number == 1:
                raw = raw.removeprefix(b"\xef\xbb\xbf")
            if not raw.strip():
                continue
            try:
                text = _decode_line(raw, errors)
            except RequestError as exc:
                raise InputFileError(source.name, str(exc), number) from None
            yield text.rstrip("\r\n"), number
    finally:
        if not source.is_stdin:
            stream.close()


def csv_rows(
    source: Source, plan: CsvPlan, errors: Errors, progress: Progress | None = None
) -> Iterator[tuple[str, int]]:
    """(text of the request, line number) for each data row of a CSV file."""
    raw = source.open()
    counting_raw = _CountingReader(raw, progress)
    counting = io.BufferedReader(counting_raw)
    text = io.TextIOWrapper(counting, encoding="utf-8-sig", errors="surrogateescape", newline="")
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    try:
        reader = csv.reader(text)
        try:
            header = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InputFileError(source.name, f"invalid CSV: {exc}", 1) from None
        index = {name: i for i, name in enumerate(header)}
        needed = [plan.column] if plan.column else []
        if plan.template:
            needed += template_fields(plan.template)
        for name in needed:
            if name not in index:
                what = "column" if name == plan.column else "template column"
                raise InputFileError(
                    source.name,
                    f"no {what} {name!r} (columns: {_names(header) or 'none'})",
                    1,
                )
        width = len(header)
        column = index[plan.column] if plan.column else -1
        picks = [(n, index[n]) for n in needed]
        last = max(i for _, i in picks) if picks else 0
        try:
            for row in reader:
                if not row:
                    continue
                if len(row) <= last:
                    raise InputFileError(
                        source.name,
                        f"row has {len(row)} fields, the header has {width}",
                        reader.line_num,
                    )
                if plan.template:
                    value = plan.template.format_map({n: row[i] for n, i in picks})
                else:
                    value = row[column]
                # invalid bytes arrive as lone surrogates; look only once the reader saw any
                if counting_raw.dirty and _SURROGATE.search(value):
                    if errors == "strict":
                        raise InputFileError(
                            source.name,
                            NOT_UTF8,
                            reader.line_num,
                        )
                    value = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                yield value, reader.line_num
        except csv.Error as exc:
            raise InputFileError(source.name, f"invalid CSV: {exc}", reader.line_num) from None
    finally:
        if not source.is_stdin:
            raw.close()


def _names(header: Sequence[str]) -> str:
    """CSV column names for a message: each on one line and cut short if long."""
    shown = [" ".join(h.split()) for h in header[:20]]
    text = ", ".join(h if len(h) <= 40 else h[:37] + "..." for h in shown)
    return text + (f", ... ({len(header):,} columns)" if len(header) > 20 else "")


class _CountingReader(io.RawIOBase):
    """Passes reads through, reports bytes read to the progress callback, and notes whether
    any bytes were not valid UTF-8 (so clean files skip the per-row check)."""

    def __init__(self, raw: IO[bytes], progress: Progress | None) -> None:
        self._raw = raw
        self._progress = progress
        self._utf8 = codecs.getincrementaldecoder("utf-8")()
        self.dirty = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        if self._progress is not None and n:
            self._progress(n)
        if not self.dirty and not data.isascii():
            try:
                self._utf8.decode(data)
            except UnicodeDecodeError:
                self.dirty = True
        return n


def _batched(rows: Iterable[tuple[str, int]], size: int) -> Iterator[list[str]]:
    batch: list[str] = []
    for text, _line in rows:
        batch.append(text)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def read_json_document(source: Source, errors: Errors) -> list[Any]:
    """The requests of one JSON document: a conversation, a request, or a list of requests."""
    with source.open() as f:
        data = f.read()
    try:
        text = data.decode("utf-8-sig", errors)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputFileError(source.name, NOT_UTF8, line) from None
    if not text.strip():
        return []
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputFileError(
            source.name, f"invalid JSON: {exc.msg} (column {exc.colno})", exc.lineno
        ) from None
    if _is_messages(doc) or not isinstance(doc, list):
        return [doc]
    return doc


TEXT_SUFFIXES = (".txt", ".text", ".md")


def detect_format(name: str, column: str | None, template: str | None) -> InputFormat:
    """The format of an input by its name; a CSV column or template makes any file without a
    JSON or text suffix a CSV (so a .dat or stdin can be one), but not a .txt or .jsonl."""
    suffix = Path(name).suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix == ".json":
        return "json"
    if suffix in (".csv", ".tsv") or ((column or template) and suffix not in TEXT_SUFFIXES):
        return "csv"
    return "text"


def peek_model(source: Source) -> str | None:
    """The model named by the first request of a JSONL or JSON file (batch files carry one)."""
    if source.is_stdin or source.format not in ("jsonl", "json"):
        return None
    try:
        with open(source.name, "rb") as f:
            for raw in f:
                if raw.strip():
                    obj = json.loads(raw)
                    break
            else:
                return None
    except (OSError, ValueError):
        return None
    if isinstance(obj, Mapping):
        for fmt in registered_formats():  # a batch line's, then a plain request's
            if (model := fmt.model_of(obj)) is not None:
                return model
        if isinstance(obj.get("model"), str):
            return str(obj["model"])
    return None
