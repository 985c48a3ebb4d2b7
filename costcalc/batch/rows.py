"""Requests from input rows: CSV, JSONL or text, one prompt per row."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from costcalc.errors import (
    EMPTY_PROMPT,
    InputFileError,
    RequestError,
    UsageError,
    arg,
)
from costcalc.jsonlines import JsonError, parse_json
from costcalc.requests import EXPECTED_PROMPT, UnsentKeys, blank, input_request, unsent_keys

# --- requests from input rows ---------------------------------------------------------------


class Row(NamedTuple):
    """One request of the input (a tuple: one is made per input row)."""

    number: int
    """Line number of the input (data row number for CSV)."""
    messages: list[dict[str, Any]]
    system: str | None = None


def _prompt_messages(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def _prompt_row(path: str, number: int, line: int, text: str) -> Row:
    if blank(text):  # the rule of costcalc.requests, for a line of text
        raise InputFileError(path, EMPTY_PROMPT, line)
    return Row(number, _prompt_messages(text))


def input_rows(
    path: str,
    *,
    column: str | None = None,
    template: str | None = None,
    field_path: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> Iterator[Row]:
    """The requests of an input file: CSV rows, JSONL lines (a string, a prompt/text field,
    messages, or ``field_path``), or non-blank lines of text."""
    from costcalc.tokens.readers import template_fields
    from costcalc.tokens.sources import said_if_changed

    if template is not None:
        template_fields(template)
    with said_if_changed(path):
        yield from _rows_of(path, column, template, field_path, progress)


def _rows_of(
    path: str,
    column: str | None,
    template: str | None,
    field_path: str | None,
    progress: Callable[[int], None] | None,
) -> Iterator[Row]:
    from costcalc.tokens.readers import CsvPlan, Source, detect_format, jsonl_blocks

    fmt = detect_format(path, column, template)
    if fmt == "parquet":
        yield from _parquet_rows(path, column, template, field_path, progress)
        return
    source = Source(
        path, "csv" if fmt == "csv" else "jsonl" if fmt in ("jsonl", "json") else "text"
    )
    if fmt == "text" and source.is_stream and not source.is_stdin and not source.compressed:
        # a pipe has no suffix to say JSONL: its JSON lines would be sent as prompts
        head = source.head(64).lstrip()
        if head.startswith((b"{", b"[")):
            raise InputFileError(
                path,
                "its lines look like JSON, but a pipe has no name to say so and is read as "
                "text, one prompt a line: write it to a .jsonl file to build from its requests",
            )
    if fmt == "csv":
        from costcalc.tokens.readers import csv_rows

        if not (column or template):
            if not source.is_stdin:
                source.open().close()  # a missing file says so first
            raise UsageError(
                f"{path}: CSV input needs {arg('column NAME')} or {arg('template TEXT')}"
            )
        if field_path is not None:
            raise UsageError(
                f"{path}: {arg('field_path')} applies to JSONL input; use {arg('column')} for CSV"
            )
        for number, (text, line) in enumerate(
            csv_rows(source, CsvPlan(column, template), "strict", progress), start=1
        ):
            # the hot loop of a million-row build: ``blank`` called only for text that starts
            # with what is not a letter or digit (white space, a BOM, a zero-width space)
            if not text or (not text[0].isalnum() and blank(text)):
                raise InputFileError(path, EMPTY_PROMPT, line)
            yield Row(number, [{"role": "user", "content": text}])
        return
    if column or template:
        raise UsageError(f"{path}: {arg('column')} and {arg('template')} apply to CSV input only")
    if fmt == "text" and field_path is not None:
        # read as text, each line would be sent whole, JSON and all, as the prompt
        raise UsageError(
            f"{path}: {arg('field_path')} applies to JSONL input, and this is read as text "
            "(one prompt per line): name it .jsonl"
        )
    stream = source.open()
    unsent = UnsentKeys()
    try:
        for block, first in jsonl_blocks(stream, path, progress):
            for offset, raw in enumerate(block.split(b"\n")):
                if not raw.strip():
                    continue
                line = first + offset
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError:
                    raise InputFileError(path, "is not valid UTF-8 text", line) from None
                if fmt == "text":
                    yield _prompt_row(path, line, line, text.rstrip("\r"))
                else:
                    row, keys = _json_row(path, line, text, field_path)
                    unsent.add(f"{path}:{line}", keys)
                    yield row
        unsent.say()
    finally:
        if not source.is_stdin:
            stream.close()


def _parquet_rows(
    path: str,
    column: str | None,
    template: str | None,
    field_path: str | None,
    progress: Callable[[int], None] | None,
) -> Iterator[Row]:
    from costcalc.tokens.parquet import parquet_columns, parquet_rows

    if template is not None or field_path is not None:
        raise UsageError(f"{path}: Parquet input is read from one {arg('column NAME')}")
    if column is None:
        raise UsageError(
            f"{path}: Parquet input needs {arg('column NAME')} "
            f"(columns: {', '.join(parquet_columns(path)) or 'none'})"
        )
    for number, (text, row) in enumerate(parquet_rows(path, column, progress), start=1):
        if not text or (not text[0].isalnum() and blank(text)):  # a null is an empty prompt
            raise InputFileError(path, f"row {row}: {EMPTY_PROMPT}")
        yield Row(number, [{"role": "user", "content": text}])


def _json_row(path: str, line: int, text: str, field_path: str | None) -> tuple[Row, list[str]]:
    """The request of a JSONL line, and the keys of its object that are not sent (none when
    ``field_path`` names where the request is: the rest is the line's own business)."""
    try:
        obj = parse_json(text)
    except JsonError as exc:
        raise InputFileError(path, str(exc), line) from None
    try:
        request = input_request(obj, field_path)
    except RequestError as exc:
        reason = str(exc)
        if reason == EXPECTED_PROMPT:
            reason += f", or {arg('field_path')}"
        raise InputFileError(path, reason, line) from None
    unsent = unsent_keys(obj) if field_path is None and type(obj) is dict and len(obj) > 1 else []
    return Row(line, request.messages, request.system), unsent


class Reservoir:
    """A uniform random sample of at most ``size`` items from a stream of unknown length.

    Algorithm L (Li, 1994): after the first ``size`` items it jumps straight to the next item
    to keep, so a long stream costs a few random numbers, not one per item.
    """

    def __init__(self, size: int, rng: random.Random) -> None:
        self.size = size
        self.items: list[Any] = []
        self._rng = rng
        self._w = 1.0
        self.next = 0
        """The 1-based position of the next item to keep once the reservoir is full."""

    def _skip(self, seen: int) -> None:
        self._w *= math.exp(math.log(self._rng.random() or 1e-300) / self.size)
        gap = math.floor(math.log(self._rng.random() or 1e-300) / math.log1p(-self._w))
        self.next = seen + gap + 1

    def offer(self, item: Any, seen: int) -> None:
        """Item number ``seen`` (1-based) of the stream; callers may skip offering any item
        after the first ``size`` whose number is not ``next``."""
        if len(self.items) < self.size:
            self.items.append(item)
            if len(self.items) == self.size:
                self._skip(seen)
        elif seen == self.next:
            self.items[self._rng.randrange(self.size)] = item
            self._skip(seen)
