"""Counting a uniform random sample of requests and estimating the total with a 95% interval."""

from __future__ import annotations

import bisect
import csv
import itertools
import mmap
import os
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from costcalc.errors import EMPTY_PROMPT, FieldError, InputFileError, RequestError
from costcalc.jsonlines import MAX_REQUEST_BYTES, TOO_LARGE, UTF8_BOM
from costcalc.requests import blank
from costcalc.tokens.encodings import (
    ModelTokenizer,
    get_encoding,
)
from costcalc.tokens.engine import _decode_line, count_jsonl_block, count_text_piece
from costcalc.tokens.readers import (
    CsvPlan,
    Source,
    _is_tsv,
    csv_rows,
    jsonl_blocks,
    read_json_document,
    template_fields,
    text_lines,
    text_pieces,
)
from costcalc.tokens.requests import (
    CountSpec,
    Errors,
    Progress,
    request_tokens,
)
from costcalc.tokens.result import (
    SampleInfo,
    TokenCount,
    _result,
)

# --- sampling -------------------------------------------------------------------------------


def _count_sample(
    sources: list[Source],
    tok: ModelTokenizer,
    spec: CountSpec,
    plan: CsvPlan,
    size: int,
    seed: int | None,
    errors: Errors,
    progress: Progress | None,
) -> TokenCount:
    if any(s.is_stdin for s in sources):
        raise FieldError("sample", "reads its input twice, so it needs files, not stdin", sep=" ")
    if seed is None:
        seed = random.SystemRandom().randrange(2**32)
    rng = random.Random(seed)
    names = [s.name for s in sources]
    notes: list[str] = []
    if all(s.format in _SEEKABLE for s in sources):
        files = _open_lined(sources, plan, progress, notes)
        try:
            if files and sum(f.lines for f in files) > size:
                drawn = _seek_sample(files, spec, plan, size, rng)
                if drawn is not None:
                    if any(d.chat for d in drawn):
                        tok.warn_if_overhead_unknown()
                    lines = sum(f.lines for f in files)
                    raws = [d.raw for d in drawn]
                    return _estimate(tok, raws, lines, seed, names, notes)
                notes.append(_QUOTED_NEWLINES)
        finally:
            for f in files or ():
                f.close()

    # one pass of reservoir sampling (stdin, compressed input, CSV rows that span lines, a
    # sample as large as the input); only the kept records are tokenized
    reservoir: list[tuple[str, Any]] = []
    population = 0
    for population, record in enumerate(_records(sources, plan, errors, progress), 1):
        if len(reservoir) < size:
            reservoir.append(record)
        else:
            j = rng.randrange(population)
            if j < size:
                reservoir[j] = record
    values: list[int | None] = []
    chat = False
    for record in reservoir:
        raw, is_chat = _record_tokens(record, spec)
        values.append(raw)
        chat = chat or is_chat
    if chat:
        tok.warn_if_overhead_unknown()
    if len(values) >= population:  # the "sample" is everything: the count is exact
        return _result(tok, Counter(v for v in values if v is not None), names)
    return _estimate(tok, values, population, seed, names, notes)


# --- sampling by seeking -----------------------------------------------------------------------
# A JSONL, text-lines or CSV file on disk is sampled reading only the sampled lines. One pass
# counts newlines over the mapped file (bytes.count runs at memory speed, ~1-3 GB/s from the
# page cache) and keeps the count per 16 KiB stretch; then N line numbers are drawn uniformly
# without replacement, each found by seeking to its stretch and splitting that alone, and only
# those lines are decoded, parsed and tokenized. So the number of requests is exact and the
# sample has no length bias at all: seeking to a random byte offset instead picks a line with
# probability proportional to its length, and the usual corrections assume lines independent
# of their neighbours ("take the line after") or leave short requests unseen in the
# per-request figures (weights of 1/length); neither holds for a file sorted or grouped by size.
# The total is the exact number of lines times the sample's mean (``_estimate``). A regression
# on the bytes (known exactly) was tried for a narrower interval: tokens are nearly affine in
# bytes, so its residuals are mostly zero and a few rare ones carry the error, which a sample of
# a hundred misses: its interval covered the truth a third of the time.

_SEEKABLE = ("jsonl", "lines", "csv")
_COMPRESSED = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"(\xb5/\xfd")
_COUNT_BYTES = 16 * 1024 * 1024
_STRETCH = 16 * 1024
_QUOTED_NEWLINES = (
    "the CSV has rows that span lines (quoted line breaks), so the sample was drawn reading "
    "the whole file"
)


@dataclass
class _LinedFile:
    """A mapped file of one request per line: where its lines start and how many there are."""

    source: Source
    data: mmap.mmap
    start: int
    """Offset of the first request line (after a CSV header)."""
    lines: int
    index: list[int]
    """Newlines from ``start`` to the end of each ``_STRETCH`` bytes after it."""
    header: list[str] | None = None

    @property
    def nbytes(self) -> int:
        return len(self.data) - self.start

    def close(self) -> None:
        self.data.close()

    def line_number(self, offset: int) -> int:
        """1-based line number of the line starting at ``offset`` (only to name a bad line)."""
        return (
            sum(
                self.data[i : min(offset, i + _COUNT_BYTES)].count(b"\n")
                for i in range(0, offset, _COUNT_BYTES)
            )
            + 1
        )

    def line(self, j: int) -> tuple[int, bytes]:
        """(start, bytes with its newline) of the ``j``-th (0-based) request line."""
        data, start = self.data, self.start
        if j:  # the line starts after the j-th newline: find its stretch, split that alone
            k = bisect.bisect_left(self.index, j)
            before = self.index[k - 1] if k else 0
            lo = start + k * _STRETCH
            chunk = data[lo : lo + _STRETCH]
            start = lo + len(chunk) - len(chunk.split(b"\n", j - before)[-1])
        end = data.find(b"\n", start, start + MAX_REQUEST_BYTES + 1)
        if end < 0:
            if start + MAX_REQUEST_BYTES < len(data):
                raise InputFileError(self.source.name, TOO_LARGE, self.line_number(start))
            end = len(data) - 1
        return start, data[start : end + 1]


def _open_lined(
    sources: list[Source], plan: CsvPlan, progress: Progress | None, notes: list[str]
) -> list[_LinedFile] | None:
    """The files mapped, lines counted; None if one cannot be (not a regular file,
    compressed, a CSV header that spans lines: said in ``notes``)."""
    files: list[_LinedFile] = []
    try:
        for source in sources:
            lined = _open_one(source, plan, progress)
            if isinstance(lined, str):
                notes.append(lined)
            if not isinstance(lined, _LinedFile):
                for f in files:
                    f.close()
                return None
            files.append(lined)
    except BaseException:
        for f in files:
            f.close()
        raise
    return files


def _open_one(source: Source, plan: CsvPlan, progress: Progress | None) -> _LinedFile | str | None:
    if not os.path.isfile(source.name):
        return None
    with source.open() as f:
        if f.read(6).startswith(_COMPRESSED):
            return None
        try:
            data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError):  # empty, or a file that cannot be mapped
            return None
    size = len(data)
    start = len(UTF8_BOM) if data[:3] == UTF8_BOM else 0
    header = None
    if source.format == "csv":
        end = data.find(b"\n", start, start + MAX_REQUEST_BYTES)
        first = data[start : end + 1 if end >= 0 else size]
        header = _csv_line(first, source, "strict")
        needed = [plan.column] if plan.column else []
        needed += template_fields(plan.template) if plan.template else []
        if not header or any(header.count(n) != 1 for n in needed):
            data.close()  # the full read says what is wrong, or reads rows that span lines
            return _QUOTED_NEWLINES if header is None else None
        start += len(first)
    index = []
    newlines = 0
    for i in range(start, size, _STRETCH):
        newlines += data[i : i + _STRETCH].count(b"\n")
        index.append(newlines)
        if progress is not None and (i - start) % _COUNT_BYTES == 0:
            progress(min(_COUNT_BYTES, size - i))
    lines = newlines + (size > start and data[size - 1 : size] != b"\n")
    return _LinedFile(source, data, start, lines, index, header)


def _csv_line(raw: bytes, source: Source, errors: Errors) -> list[str] | None:
    """The fields of one physical CSV line, or None if it may be part of a row that spans
    lines: an odd number of quotes (a quoted field opens or closes on another line) or a line
    the reader refuses."""
    if raw.count(b'"') % 2:
        return None
    try:
        text = _decode_line(raw, errors)
        rows = list(
            csv.reader([text], delimiter="\t" if _is_tsv(source.name) else ",", strict=True)
        )
    except (csv.Error, RequestError):
        return None
    return rows[0] if rows else []


@dataclass
class _Drawn:
    """One sampled line."""

    raw: int | None
    """Raw tokens (None: a blank line, no request)."""
    chat: bool
    """Counted as chat messages (the per-message overhead applies)."""


def _seek_sample(
    files: list[_LinedFile], spec: CountSpec, plan: CsvPlan, size: int, rng: random.Random
) -> list[_Drawn] | None:
    """``size`` lines drawn uniformly without replacement, read in file order; None when a
    CSV line is not a whole row."""
    ends = list(itertools.accumulate(f.lines for f in files))
    drawn: list[_Drawn] = []
    for j in sorted(rng.sample(range(ends[-1]), size)):
        k = bisect.bisect_right(ends, j)
        f = files[k]
        start, raw = f.line(j - (ends[k] - f.lines))
        counted = _line_tokens(f, start, raw, spec, plan)
        if counted is None:
            return None
        drawn.append(_Drawn(*counted))
    return drawn


def _line_tokens(
    f: _LinedFile, start: int, raw: bytes, spec: CountSpec, plan: CsvPlan
) -> tuple[int | None, bool] | None:
    """(raw tokens or None for a blank line, counted as chat) of one line; None for a CSV
    line that may not be a whole row."""
    source = f.source
    if f.header is not None:
        row = _csv_line(raw, source, spec.errors)
        if row is None or (row and len(row) != len(f.header)):
            return None
        if not row:
            return None, False
        index = {name: i for i, name in enumerate(f.header)}
        if plan.template:
            names = template_fields(plan.template)
            text = plan.template.format_map({n: row[index[n]] for n in names})
        else:
            text = row[index[str(plan.column)]]
    elif source.format == "lines":
        if not raw.strip():
            return None, False
        try:
            text = _decode_line(raw, spec.errors).rstrip("\r\n")
        except RequestError as exc:
            raise InputFileError(source.name, str(exc), f.line_number(start)) from None
    else:
        if not raw.strip():
            return None, False
        part = count_jsonl_block(spec, raw.rstrip(b"\n"), 1)
        if part.error is not None:
            raise InputFileError(source.name, part.error[1], f.line_number(start))
        return next(part.hist.elements()), part.chat
    if spec.prompt_overhead and blank(text):
        raise InputFileError(source.name, EMPTY_PROMPT, f.line_number(start))
    raw_tokens = len(get_encoding(spec.encoding).encode_ordinary(text)) + spec.prompt_overhead
    return raw_tokens, bool(spec.prompt_overhead)


def _records(
    sources: list[Source], plan: CsvPlan, errors: Errors, progress: Progress | None
) -> Iterator[tuple[str, Any]]:
    """Sampling units that are not JSONL lines: CSV rows, JSON requests, text files (and JSONL
    lines when formats are mixed)."""
    for source in sources:
        if source.format == "csv":
            for text, _line in csv_rows(source, plan, errors, progress):
                yield ("text", text)
        elif source.format == "parquet":  # row groups in order: a reservoir over every row
            from costcalc.tokens.parquet import parquet_rows

            for text, _line in parquet_rows(source.name, plan.column, progress):
                yield ("text", text)
        elif source.format == "lines":
            for text, _line in text_lines(source, errors, progress):
                yield ("text", text)
        elif source.format == "json":
            for obj in read_json_document(source, errors):
                yield ("json", (source.name, obj))
        elif source.format == "jsonl":
            with source.open() as f:
                for block, line in jsonl_blocks(f, source.name, progress):
                    for offset, raw in enumerate(block.split(b"\n")):
                        if raw.strip():
                            yield ("line", (source.name, raw, line + offset))
        else:
            yield ("file", source)


def _record_tokens(record: tuple[str, Any], spec: CountSpec) -> tuple[int, bool]:
    kind, value = record
    if kind == "text":
        raw = len(get_encoding(spec.encoding).encode_ordinary(value))
        return raw + spec.prompt_overhead, bool(spec.prompt_overhead)
    if kind == "json":
        name, obj = value
        try:
            return request_tokens(obj, spec)
        except RequestError as exc:
            raise InputFileError(name, str(exc)) from None
    if kind == "line":
        name, raw, line = value
        part = count_jsonl_block(spec, raw, line)
        if part.error is not None:
            raise InputFileError(name, part.error[1], part.error[0])
        return next(part.hist.elements()), part.chat
    source: Source = value
    with source.open() as f:
        pieces = text_pieces(f, source.name, spec.errors)
        return sum(count_text_piece(spec, p) for p in pieces), False


def _estimate(
    tok: ModelTokenizer,
    values: list[int | None],
    population: int,
    seed: int,
    names: list[str],
    notes: list[str],
) -> TokenCount:
    """Total, requests and over-context for the whole input from a uniform sample of raw
    token counts (None: a blank line, 0 tokens): the sample's tally, estimated as every
    sampled count is (``costcalc.tokens.tally``), with this sampler's notes."""
    from costcalc.tokens.tally import Tally, tally_count

    tally = Tally.empty(tok.encoding)
    tally.hist.update(v for v in values if v is not None)
    sample = SampleInfo(size=len(values), population=population, seed=seed)
    count = tally_count(tally, tok, sample)
    count.inputs = names
    count.estimate_reasons += notes
    return count
