"""Reading requests from files: JSONL blocks, text pieces and lines, CSV rows, JSON documents."""

from __future__ import annotations

import codecs
import csv
import functools
import io
import os
import re
import string
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
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
    quoted,
)
from costcalc.jsonlines import (
    MAX_REQUEST_BYTES,
    TOO_LARGE,
    UTF8_BOM,
    JsonError,
    parse_json,
    read_document,
    read_lines,
)
from costcalc.requests import blank
from costcalc.tokens.engine import _decode_line
from costcalc.tokens.parquet import PARQUET_MAGIC, PARQUET_SUFFIXES
from costcalc.tokens.requests import (
    _SURROGATE,
    BLOCK_BYTES,
    STDIN,
    Errors,
    InputFormat,
    Progress,
    _is_messages,
)
from costcalc.tokens.sources import (
    compression_of,
    decompressed,
    inner_name,
    is_compressed,
    is_folder,
    is_remote,
    is_stream_path,
    open_raw,
    open_source,
)

# --- readers ----------------------------------------------------------------------------------


@dataclass
class Source:
    """One input: a path or stdin, and how to read it."""

    name: str
    format: InputFormat
    _raw: Any = field(default=None, repr=False, compare=False)
    """A stream's one reader, once opened (``is_stream``)."""

    @property
    def is_stdin(self) -> bool:
        return self.name == STDIN

    @functools.cached_property
    def is_stream(self) -> bool:
        """stdin, or a local path that is neither a regular file nor a folder (a FIFO, a
        shell's ``<(...)``, a device): it can be read once, from its start, and no more
        (peeking at it by opening it again lost its first bytes; a FIFO's second open hung)."""
        return self.is_stdin or is_stream_path(self.name)

    def open(self) -> IO[bytes]:
        """The bytes of the input, decompressed as read when compressed (gzip, bzip2, xz,
        zstd, by their magic bytes), from a local file or a URI (``s3://``, ``gs://``). A
        stream is opened once: every call returns its one reader."""
        if self.is_stream:  # stdin too: `zcat`-less pipes of .gz files are common
            return decompressed(self._reader(), self.name)
        return open_source(self.name)

    def _reader(self) -> Any:
        """A stream's one buffered reader (stdin's own), opened the first time it is asked
        for."""
        if self._raw is None:
            if self.is_stdin:  # (a stdin replaced by a test harness may not peek)
                stdin = sys.stdin.buffer
                self._raw = stdin if hasattr(stdin, "peek") else io.BufferedReader(stdin)
            else:
                self._raw = open_raw(self.name)
        return self._raw

    @property
    def compressed(self) -> bool:
        """Whether the file is compressed (so it cannot be read in parallel byte ranges)."""
        if self.is_stdin or self.format == "parquet":
            return False
        if self.is_stream:  # peeked at, not read: the count reads it from its start
            return compression_of(self.head(6)) is not None
        return is_compressed(self.name)

    def head(self, n: int) -> bytes:
        """The first ``n`` bytes of an uncompressed stream, peeked at: its one reader still
        reads them."""
        return bytes(self._reader().peek(n)[:n])

    def size(self) -> int | None:
        if self.is_stream or is_remote(self.name):
            return None
        try:
            return os.path.getsize(self.name)
        except OSError:
            return None


def jsonl_blocks(
    stream: IO[bytes], name: str, progress: Progress | None = None
) -> Iterator[tuple[bytes, int]]:
    """(block of whole lines, 1-based number of its first line). A line longer than
    ``MAX_REQUEST_BYTES`` stops the reading with its number, before more is read."""
    carry = b""
    line = 1
    first = True
    while True:
        chunk = stream.read(BLOCK_BYTES)
        if not chunk:
            break
        if progress is not None:
            progress(len(chunk))
        if first:  # a BOM (an editor's mark of UTF-8) is no part of the first request
            chunk, first = chunk.removeprefix(UTF8_BOM), False
        data = carry + chunk
        # only the first line can be longer than a chunk: the others lie within this one
        first_end = data.find(b"\n")
        if (first_end if first_end >= 0 else len(data)) > MAX_REQUEST_BYTES:
            raise InputFileError(name, TOO_LARGE, line)
        cut = data.rfind(b"\n")
        if cut < 0:
            carry = data
            continue
        block, carry = data[: cut + 1], data[cut + 1 :]
        yield block, line
        line += block.count(b"\n")
    if carry:
        yield carry, line


PIECE_CHARS = 65_536
"""Text is tokenized in pieces of at most this many characters (tiktoken is linear only on
short pieces; one long line used to take superlinear time), each cut at the last place in
it where no token can cross (see ``_LAST_CUT``). A run this long with no such place (CJK
text, base64, binary) is cut at this length anyway: the count of such a run may then differ
from one whole tokenization by about a token per cut."""

# Places where o200k's and cl100k's pre-tokenizers always start a new piece, so that the text
# on either side tokenizes the same alone: after a newline followed by a non-space other than
# "/" (o200k joins "\n/" to punctuation before the newline: "!\n/"); before a
# space that follows a non-space (no piece holding a non-space continues into a space);
# between an ASCII letter and a digit, either way; between an ASCII letter or digit and ASCII
# punctuation other than the apostrophe (which joins a contraction: "don't"). The greedy
# ``.*`` makes the search find the last such place, scanning back from the end.
_LAST_CUT = re.compile(
    r"(?s:.*)(?:\n(?=[^\s/])|(?<=\S)(?= )|(?<=[A-Za-z])(?=[0-9])|(?<=[0-9])(?=[A-Za-z])"
    r"|(?<=[A-Za-z0-9])(?=[!-&(-/:-@\[-`{-~]))"
)


def _safe_cut(text: str, start: int = 0, end: int | None = None) -> int:
    """Index of the last safe place to cut ``text[start:end]`` (-1 if none)."""
    m = _LAST_CUT.match(text, start, len(text) if end is None else end)
    return m.end() if m is not None else -1


def text_pieces(
    stream: IO[bytes],
    path: str,
    errors: Errors,
    progress: Progress | None = None,
    piece_chars: int = PIECE_CHARS,
) -> Iterator[str]:
    """Pieces of a text file that tokenize independently, each at most ``piece_chars`` long
    whatever the lines, so counting takes linear time and flat memory."""
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
        pos = 0  # an index, not slicing: a 4 MB chunk holds many pieces
        while len(data) - pos > piece_chars:
            end = pos + piece_chars
            cut = _safe_cut(data, pos + 1, end)
            if cut < 0:
                cut = end  # a run with no safe place: cut it anyway (see PIECE_CHARS)
            piece = data[pos:cut]
            newlines_before += piece.count("\n")
            yield piece
            pos = cut
        carry = data[pos:]
        if final:
            if carry:
                yield carry
            return


@dataclass
class CsvPlan:
    column: str | None
    template: str | None


def _field_text(name: str, conversion: str | None, spec: str | None) -> str:
    """A template field as the user wrote it: ``{body!r:>9}``."""
    return (
        "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
    )


def template_fields(template: str) -> list[str]:
    """The column names a ``{name}`` template uses; only plain names are allowed."""
    names = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise FieldError("template", f"{quoted(template)}: {exc}", sep=" ") from None
    for _, name, spec, conv in parsed:
        if name is None:
            continue
        if not name or not re.fullmatch(r"[^.\[\]{}!:]+", name) or spec or conv:
            raise UsageError(
                f"{arg('template')}: {quoted(_field_text(name, conv, spec))} is not a plain "
                "column name (write {column}, and {{ }} for literal braces)"
            )
        names.append(name)
    return names


def _non_empty(rows: Iterable[tuple[str, int]], name: str) -> Iterator[tuple[str, int]]:
    for text, line in rows:
        if blank(text):
            raise InputFileError(name, EMPTY_PROMPT, line)
        yield text, line


def _non_empty_batches(
    batches: Iterable[tuple[list[str], int]], name: str
) -> Iterator[tuple[list[str], int]]:
    """``_non_empty`` for (texts, number of the first) batches."""
    for texts, first in batches:
        for i, text in enumerate(texts):
            if blank(text):
                raise InputFileError(name, EMPTY_PROMPT, first + i)
        yield texts, first


def text_lines(
    source: Source, errors: Errors, progress: Progress | None = None
) -> Iterator[tuple[str, int]]:
    """(text, line number) of each non-blank line of a text file: one request per line."""
    stream = source.open()
    try:
        for number, raw in read_lines(stream, source.name):
            if progress is not None:
                progress(len(raw))
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


# Fed to the CSV reader after the last line: it joins the field of a quote left open (the
# reader, not strict, would silently end the field there) or makes a row of its own.
_END_OF_FILE = "\ufdd0costcalc: end of file\ufdd1"
_END_LINE = _END_OF_FILE + '"'
"""The last line given to the reader: a row of its own after a complete row; after a quote
left open, the end of that field (its quote closes it: the strict reader would raise an
error without the line, where the field's body tells the line the quote opened at)."""


class _CsvLines:
    """The lines of a CSV file for ``csv.reader``, read with a limit: a row longer than
    ``MAX_REQUEST_BYTES``, a NUL byte or invalid UTF-8 (``errors='strict'``) stops the reading
    with its line; invalid UTF-8 is replaced otherwise. Counts physical lines."""

    def __init__(self, text: IO[str], raw: _CountingReader, name: str, errors: Errors) -> None:
        self._text = text
        self._raw = raw
        self._name = name
        self._errors = errors
        self.lines = 0
        """Physical lines read so far."""
        self.row_start = 1
        """The line where the current row begins (the caller sets it after each row)."""
        self.ended = False
        """The reader was given ``_END_OF_FILE``."""

    def __iter__(self) -> Iterator[str]:
        # the hot loop of a million-row file: locals, and the rare checks only once the raw
        # reader saw a NUL or invalid UTF-8 somewhere
        readline, raw, limit = self._text.readline, self._raw, MAX_REQUEST_BYTES
        row_start, row_chars = 1, 0
        while True:
            line = readline(limit + 1)
            if not line:
                self.ended = True
                yield _END_LINE
                return
            self.lines += 1
            if self.row_start != row_start:
                row_start, row_chars = self.row_start, 0
            row_chars += len(line)
            if row_chars > limit // 4 and (
                row_chars > limit or len(line.encode("utf-8", "surrogateescape")) > limit
            ):
                raise InputFileError(self._name, TOO_LARGE, row_start)
            if raw.suspect:
                line = self._checked(line)
            yield line

    def _checked(self, line: str) -> str:
        if "\0" in line:
            raise InputFileError(self._name, "NUL byte (is this a binary file?)", self.lines)
        # invalid bytes arrive as lone surrogates
        if _SURROGATE.search(line):
            if self._errors == "strict":
                raise InputFileError(self._name, NOT_UTF8, self.lines)
            line = line.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        return line


def csv_rows(
    source: Source, plan: CsvPlan, errors: Errors, progress: Progress | None = None
) -> Iterator[tuple[str, int]]:
    """(text of the request, line number) for each data row of a CSV file."""
    raw = source.open()
    counting_raw = _CountingReader(raw, progress)
    counting = io.BufferedReader(counting_raw)
    text = io.TextIOWrapper(counting, encoding="utf-8-sig", errors="surrogateescape", newline="")
    lines = _CsvLines(text, counting_raw, source.name, errors)
    csv.field_size_limit(MAX_REQUEST_BYTES)

    def at_end(row: list[str]) -> bool:
        """Whether the row is the end of the file; a quote left open is an error."""
        if row == [_END_LINE]:
            return True
        if not row or not row[-1].endswith(_END_OF_FILE):
            return False
        # the quote opened in the last field, which holds the newlines of every line after
        body = row[-1][: -len(_END_OF_FILE)]
        opened = lines.lines - body.count("\n") + body.endswith("\n")
        why = "unterminated quoted field (it runs to the end of the file)"
        raise InputFileError(source.name, why, opened)

    try:
        # tab-separated values by their name (.tsv), as spreadsheets export them
        tsv = _is_tsv(source.name)
        # strict: a quote inside a quoted field that does not end it (1,"a"b) is an error,
        # where the lenient reader would take it as text
        reader = csv.reader(lines, delimiter="\t" if tsv else ",", strict=True)
        try:
            header = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InputFileError(source.name, f"invalid CSV: {exc}", lines.lines) from None
        if lines.ended and at_end(header):
            return
        lines.row_start = lines.lines + 1
        index = {name: i for i, name in enumerate(header)}
        needed = [plan.column] if plan.column else []
        if plan.template:
            needed += template_fields(plan.template)
        for name in needed:
            what = "column" if name == plan.column else "template column"
            if name not in index:
                raise InputFileError(
                    source.name,
                    f"no {what} {quoted(name)} (columns: {_names(header) or 'none'})",
                    1,
                )
            if (times := header.count(name)) > 1:  # which one is meant? (others may repeat)
                raise InputFileError(
                    source.name, f"the header names the {what} {quoted(name)} {times} times", 1
                )
        width = len(header)
        column = index[plan.column] if plan.column else -1
        picks = [(n, index[n]) for n in needed]
        last = max(i for _, i in picks) if picks else 0
        try:
            for row in reader:
                if lines.ended and at_end(row):
                    return
                line = lines.lines
                lines.row_start = line + 1
                if not row:
                    continue
                if len(row) != width and (len(row) <= last or len(row) > width):
                    # more fields than the header: a comma in an unquoted field split it
                    hint = f" (quote a field that holds {'tabs' if tsv else 'commas'})"
                    hint = hint if len(row) > width else ""
                    raise InputFileError(
                        source.name,
                        f"row has {len(row)} fields, the header has {width}{hint}",
                        line,
                    )
                if plan.template:
                    value = plan.template.format_map({n: row[i] for n, i in picks})
                else:
                    value = row[column]
                yield value, line
        except csv.Error as exc:
            raise InputFileError(source.name, f"invalid CSV: {exc}", lines.lines) from None
    finally:
        if not source.is_stdin:
            raw.close()


def _names(header: Sequence[str]) -> str:
    """CSV column names for a message: each on one line and cut short if long; one with
    white space at either end (or none at all) in quotes, so that the space shows."""
    shown = [
        quoted(h, 40) if not h or h != h.strip() else quoted(" ".join(h.split()), 40)[1:-1]
        for h in header[:20]
    ]
    text = ", ".join(shown)
    return text + (f", ... ({len(header):,} columns)" if len(header) > 20 else "")


class _CountingReader(io.RawIOBase):
    """Passes reads through, reports bytes read to the progress callback, and notes whether
    any bytes were not valid UTF-8 (so clean files skip the per-row check)."""

    def __init__(self, raw: IO[bytes], progress: Progress | None) -> None:
        self._raw = raw
        self._progress = progress
        self._utf8 = codecs.getincrementaldecoder("utf-8")()
        self.dirty = False
        self.suspect = False
        """Some bytes read were a NUL or not valid UTF-8: lines need a closer look."""

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
                self.dirty = self.suspect = True
        if b"\0" in data:
            self.suspect = True
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
        data = read_document(f, source.name)
    try:
        text = data.decode("utf-8-sig", errors)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputFileError(source.name, NOT_UTF8, line) from None
    if not text.strip():
        return []
    try:
        doc = parse_json(text)
    except JsonError as exc:
        raise InputFileError(source.name, str(exc), exc.line) from None
    if _is_messages(doc) or not isinstance(doc, list):
        return [doc]
    return doc


TEXT_SUFFIXES = (".txt", ".text", ".md")


@functools.lru_cache(maxsize=256)  # asked per line when sampling
def _is_tsv(name: str) -> bool:
    return Path(inner_name(name)).suffix.lower() == ".tsv"


def detect_format(name: str, column: str | None, template: str | None) -> InputFormat:
    """The format of an input by its name (less a compression suffix: ``x.csv.gz`` is CSV);
    a folder, or a file starting with Parquet's magic bytes, is Parquet; a CSV column or
    template makes any other file without a JSON or text suffix a CSV (so a .dat or stdin can
    be one), but not a .txt or .jsonl."""
    suffix = Path(inner_name(name)).suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix == ".json":
        return "json"
    if suffix in (".csv", ".tsv"):
        return "csv"
    local = name != STDIN and not is_remote(name)
    if (
        local
        and suffix not in TEXT_SUFFIXES
        and (os.path.isdir(name) or (os.path.isfile(name) and _starts_with(name, PARQUET_MAGIC)))
    ):  # a FIFO or pipe is not peeked at: what is read of it is gone
        return "parquet"
    if is_remote(name) and not suffix and is_folder(name):
        return "parquet"
    if (column or template) and suffix not in TEXT_SUFFIXES:
        return "csv"
    return "text"


def _starts_with(name: str, magic: bytes) -> bool:
    try:
        with open(name, "rb") as f:
            return f.read(len(magic)) == magic
    except OSError:  # reading it says what is wrong
        return False


def peek_model(source: Source) -> str | None:
    """The model named by the first request of a JSONL or JSON file (batch files carry one)."""
    if source.is_stream or source.format not in ("jsonl", "json"):
        return None
    try:
        with source.open() as f:
            for _number, raw in read_lines(f, source.name):
                if raw.strip():
                    obj = parse_json(raw)
                    break
            else:
                return None
    except (OSError, ValueError):  # the count says what is wrong with the file
        return None
    if isinstance(obj, Mapping):
        for fmt in registered_formats():  # a batch line's, then a plain request's
            if (model := fmt.model_of(obj)) is not None:
                return model
        if isinstance(obj.get("model"), str):
            return str(obj["model"])
    return None
