"""Sampling by seeking: a JSONL, text-lines or CSV file on disk is sampled reading only the
lines at random byte offsets (no pass over the file), and the draw's length bias corrected
(Hansen-Hurwitz); ``costcalc.tokens.sample`` chooses this way where it can."""

from __future__ import annotations

import bisect
import csv
import itertools
import math
import os
import random
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from costcalc.errors import EMPTY_PROMPT, InputFileError, RequestError
from costcalc.jsonlines import MAX_REQUEST_BYTES, TOO_LARGE, UTF8_BOM
from costcalc.requests import blank
from costcalc.tokens.encodings import ModelTokenizer, get_encoding
from costcalc.tokens.engine import _decode_line, count_jsonl_block
from costcalc.tokens.readers import CsvPlan, Source, _is_tsv, template_fields
from costcalc.tokens.requests import CountSpec, Errors
from costcalc.tokens.result import (
    WEIGHT,
    Figures,
    Interval,
    SampleInfo,
    TokenCount,
    sampled_count,
    t95,
)

# A JSONL, text-lines or CSV file on disk is sampled reading only the sampled lines: N byte
# offsets are drawn uniformly (with replacement) over the data bytes B (all files, CSV header
# left out), and each offset takes the line that CONTAINS it (back to the newline before it,
# on to the one after). No line index, nothing else is read: the cost is O(N), not O(file).
# The line i of b_i bytes (its newline included) is drawn with probability exactly b_i / B
# whatever the order of the file (sorted, grouped: no assumption about neighbours), so the
# Hansen-Hurwitz estimator is unbiased: total tokens = B x mean(t_i / b_i), requests =
# B x mean(1 / b_i), with the usual variance of a mean of independent draws for the 95%
# interval. Tokens per byte is nearly constant for text, so the total's error is far smaller
# than a uniform draw of lines gives on skewed lengths (the count of requests is what varies:
# its relative SE is sqrt(E[b] E[1/b] - 1) / sqrt(N)). Per-request figures weight each drawn
# line by 1/b_i (an estimate of the histogram of the whole file).

SEEKABLE = ("jsonl", "lines", "csv")
_COUNT_BYTES = 16 * 1024 * 1024
QUOTED_NEWLINES = (
    "the CSV has rows that span lines (quoted line breaks), so the sample was drawn reading "
    "the whole file"
)
_COMPRESSED_NOTE = (
    "compressed input cannot be read at random offsets, so the sample was drawn reading the "
    "whole file"
)


class _Pread:
    """The bytes of an open file read where asked (``os.pread``), with the slicing and
    newline search the sampler uses: a memory map would fault in read-ahead around each
    offset, and its pages count in the process's RSS (a 10,000-line sample of a 305 MiB file
    showed 376 MiB of ru_maxrss), where pread's stay in the page cache."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.size = os.fstat(fd).st_size

    def __len__(self) -> int:
        return self.size

    def close(self) -> None:
        os.close(self.fd)

    def __getitem__(self, part: slice) -> bytes:
        lo, hi, _ = part.indices(self.size)
        return os.pread(self.fd, max(0, hi - lo), lo)

    def find(self, sub: bytes, lo: int, hi: int) -> int:
        step = 4096
        while lo < min(hi, self.size):
            chunk = self[lo : min(hi, lo + step)]
            if (i := chunk.find(sub)) >= 0:
                return lo + i
            lo, step = lo + len(chunk), min(step * 2, 1 << 20)
        return -1

    def rfind(self, sub: bytes, lo: int, hi: int) -> int:
        step = 4096
        while hi > lo:
            a = max(lo, hi - step)
            if (i := self[a:hi].rfind(sub)) >= 0:
                return a + i
            hi, step = a, min(step * 2, 1 << 20)
        return -1


@dataclass
class _MappedFile:
    """A file of one request per line, read only where a sampled offset lands."""

    source: Source
    data: _Pread
    start: int
    """Offset of the first request byte (after a BOM and a CSV header)."""
    header: list[str] | None = None
    delimiter: str = ","
    """A CSV's field separator (a tab for .tsv)."""
    columns: dict[str, int] = field(default_factory=dict)
    """A CSV's column index by name, of the columns the count reads."""

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

    def line_at(self, offset: int) -> tuple[int, int, bytes]:
        """(start, end, bytes) of the line holding byte ``offset`` (``end`` past its newline).

        One read of the bytes around the offset finds most lines whole (a pread each: the
        sample's cost is its reads); a longer line is looked for outwards."""
        data = self.data
        lo = max(self.start, offset - _NEAR)
        near = data[lo : offset + _NEAR]
        at = offset - lo
        before = near.rfind(b"\n", 0, at)
        after = near.find(b"\n", at)
        if (before >= 0 or lo == self.start) and (after >= 0 or lo + len(near) == len(data)):
            first = before + 1  # 0 when the line starts the data
            last = after + 1 if after >= 0 else len(near)
            return lo + first, lo + last, near[first:last]
        floor = max(self.start, offset - MAX_REQUEST_BYTES - 1)
        start = data.rfind(b"\n", floor, offset) + 1
        if start == 0:
            if floor > self.start:
                raise InputFileError(self.source.name, TOO_LARGE, self.line_number(floor))
            start = self.start
        end = data.find(b"\n", offset, start + MAX_REQUEST_BYTES + 1)
        if end < 0:
            if start + MAX_REQUEST_BYTES < len(data):
                raise InputFileError(self.source.name, TOO_LARGE, self.line_number(start))
            end = len(data)
        else:
            end += 1
        return start, end, data[start:end]


_NEAR = 2048
"""Bytes read either side of a sampled offset: most requests' lines fit."""


def open_files(sources: list[Source], plan: CsvPlan, notes: list[str]) -> list[_MappedFile] | None:
    """The files mapped; None if one cannot be (not a regular file, compressed, a CSV header
    that spans lines: said in ``notes``)."""
    files: list[_MappedFile] = []
    try:
        for source in sources:
            mapped = _open_one(source, plan)
            if isinstance(mapped, str):
                notes.append(mapped)
            if not isinstance(mapped, _MappedFile):
                for f in files:
                    f.close()
                return None
            files.append(mapped)
    except BaseException:
        for f in files:
            f.close()
        raise
    return files


def _open_one(source: Source, plan: CsvPlan) -> _MappedFile | str | None:
    if not os.path.isfile(source.name):
        return None
    if source.compressed:
        return _COMPRESSED_NOTE
    try:
        data = _Pread(os.open(source.name, os.O_RDONLY))
    except OSError:  # the full read says what is wrong
        return None
    size = len(data)
    start = len(UTF8_BOM) if data[:3] == UTF8_BOM else 0
    header = None
    if source.format == "csv":
        end = data.find(b"\n", start, start + MAX_REQUEST_BYTES)
        first = data[start : end + 1 if end >= 0 else size]
        header = _csv_line(first, _delimiter(source), "strict")
        needed = [plan.column] if plan.column else []
        needed += template_fields(plan.template) if plan.template else []
        if not header or any(header.count(n) != 1 for n in needed):
            data.close()  # the full read says what is wrong, or reads rows that span lines
            return QUOTED_NEWLINES if header is None else None
        start += len(first)
        columns = {name: header.index(name) for name in needed}
        return _MappedFile(source, data, start, header, _delimiter(source), columns)
    return _MappedFile(source, data, start)


def _delimiter(source: Source) -> str:
    return "\t" if _is_tsv(source.name) else ","


def _csv_line(raw: bytes, delimiter: str, errors: Errors) -> list[str] | None:
    """The fields of one physical CSV line, or None if it may be part of a row that spans
    lines: an odd number of quotes (a quoted field opens or closes on another line) or a line
    the reader refuses."""
    if raw.count(b'"') % 2:
        return None
    csv.field_size_limit(MAX_REQUEST_BYTES)  # as the full read's (csv's own is 128 KiB)
    try:
        text = _decode_line(raw, errors)
        rows = list(csv.reader([text], delimiter=delimiter, strict=True))
    except (csv.Error, RequestError):
        return None
    return rows[0] if rows else []


@dataclass
class _Drawn:
    """One line drawn (once or more) at a random byte offset."""

    raw: int | None
    """Raw tokens (None: a blank line, no request)."""
    chat: bool
    """Counted as chat messages (the per-message overhead applies)."""
    refused: bool
    """A provider would refuse the request (an empty prompt, a message with no text)."""
    nbytes: int
    """Its bytes, newline included: it was drawn with probability nbytes / B."""
    hits: int
    """How many of the N offsets landed in it."""


def seek_sample(
    files: list[_MappedFile], spec: CountSpec, plan: CsvPlan, size: int, rng: random.Random
) -> list[_Drawn] | str | None:
    """The lines holding ``size`` uniformly random byte offsets, each tokenized once; None
    when a CSV line is not a whole row; "all" when the lines drawn cover half the data (the
    file is small for the sample: counting it all costs no more)."""
    ends = list(itertools.accumulate(f.nbytes for f in files))
    if size >= ends[-1]:  # at least as many offsets as bytes, so as lines: all of them
        return "all"
    lines: Counter[tuple[int, int, int]] = Counter()
    raws: dict[tuple[int, int, int], bytes] = {}
    for offset in sorted(rng.randrange(ends[-1]) for _ in range(size)):
        k = bisect.bisect_right(ends, offset)
        f = files[k]
        start, end, raw = f.line_at(f.start + offset - (ends[k] - f.nbytes))
        lines[(k, start, end)] += 1
        raws[(k, start, end)] = raw
    if 2 * sum(end - start for _, start, end in lines) >= ends[-1]:
        return "all"
    drawn: list[_Drawn] = []
    encode = get_encoding(spec.encoding).encode_ordinary
    for (k, start, end), hits in lines.items():
        counted = _line_tokens(files[k], start, raws[(k, start, end)], spec, plan, encode)
        if counted is None:
            return None
        drawn.append(_Drawn(*counted, end - start, hits))
    return drawn


def _line_tokens(
    f: _MappedFile,
    start: int,
    raw: bytes,
    spec: CountSpec,
    plan: CsvPlan,
    encode: Callable[[str], list[int]],
) -> tuple[int | None, bool, bool] | None:
    """(raw tokens or None for a blank line, counted as chat, a provider would refuse it) of
    one line; None for a CSV line that may not be a whole row."""
    source = f.source
    if f.header is not None:
        row = _csv_line(raw, f.delimiter, spec.errors)
        if row is None or (row and len(row) != len(f.header)):
            return None
        if not row:
            return None, False, False
        if plan.template:
            text = plan.template.format_map({n: row[i] for n, i in f.columns.items()})
        else:
            text = row[f.columns[str(plan.column)]]
    elif source.format == "lines":
        if not raw.strip():
            return None, False, False
        try:
            text = _decode_line(raw, spec.errors).rstrip("\r\n")
        except RequestError as exc:
            raise InputFileError(source.name, str(exc), f.line_number(start)) from None
    else:
        if not raw.strip():
            return None, False, False
        part = count_jsonl_block(spec, raw.rstrip(b"\n"), 1)
        if part.error is not None:
            raise InputFileError(source.name, part.error[1], f.line_number(start))
        return next(part.hist.elements()), part.chat, part.refused > 0
    if spec.prompt_overhead and blank(text):
        raise InputFileError(source.name, EMPTY_PROMPT, f.line_number(start))
    overhead = spec.prompt_overhead
    return len(encode(text)) + overhead, bool(overhead), blank(text)


def at_least_one(estimate: float) -> int:
    """An estimate of requests a provider would refuse, when the sample holds some: never 0."""
    return max(1, round(estimate))


def weighted_estimate(
    tok: ModelTokenizer,
    spec: CountSpec,
    drawn: list[_Drawn],
    data_bytes: int,
    seed: int,
    names: list[str],
    notes: list[str],
) -> TokenCount:
    """Hansen-Hurwitz estimates from lines drawn with probability b_i / B (``seek_sample``):
    each draw j gives z_j = B y_j / b_j, an unbiased estimate of the total of y; the mean of
    the N draws estimates it, with a 95% interval from their spread (draws are independent)."""
    n = sum(d.hits for d in drawn)
    limit = tok.context_limit
    # each draw's z for the five totals (tokens, raw tokens, requests, refused, over the
    # context) and the histogram in one pass: five passes of lambdas took 25 ms of a
    # 10,000-line sample
    scale = tok.scale
    hits = [d.hits for d in drawn]
    z_tokens, z_raw, z_requests, z_refused, z_over = [], [], [], [], []
    hist: Counter[int] = Counter()
    for d in drawn:
        raw = d.raw
        scaled = 0 if raw is None else scale(raw)
        if raw is not None:
            hist[scaled] += d.hits * (WEIGHT // d.nbytes)
        z_tokens.append(data_bytes * scaled / d.nbytes)
        z_raw.append(data_bytes * (raw or 0) / d.nbytes)
        z_requests.append(data_bytes * (raw is not None) / d.nbytes)
        z_refused.append(data_bytes * d.refused / d.nbytes)
        over_limit = raw is not None and limit is not None and scaled > limit
        z_over.append(data_bytes * over_limit / d.nbytes)

    def mean_of(zs: list[float]) -> float:
        return sum(z * h for z, h in zip(zs, hits, strict=True)) / n

    def estimate(zs: list[float]) -> tuple[float, Interval]:
        mean = mean_of(zs)
        spread = sum(h * (z - mean) ** 2 for z, h in zip(zs, hits, strict=True))
        var = spread / (n - 1) if n > 1 else math.inf
        half = t95(n - 1) * math.sqrt(var / n) if n > 1 else math.inf
        if not math.isfinite(half):  # one draw: no spread to bound it by
            return mean, Interval(low=0, high=sys.maxsize, confidence=0.95)
        low = max(0, math.floor(mean - half))
        high = math.ceil(mean + half)
        return mean, Interval(low=low, high=high, confidence=0.95)

    tokens, interval = estimate(z_tokens)
    raw_tokens = mean_of(z_raw)
    requests, requests_interval = estimate(z_requests)
    refused = mean_of(z_refused)
    over = mean_of(z_over)
    at_most = None
    if limit is not None:  # a token covers a byte or more, bar the overhead added per request
        raw_over = max(1, int(limit / tok.factor))
        while tok.scale(raw_over) <= limit:
            raw_over += 1
        overhead = spec.prompt_overhead + spec.overhead.reply
        at_most = data_bytes // max(1, raw_over - overhead)
    sample = SampleInfo(
        size=n,
        population=round(requests),
        seed=seed,
        drawn="bytes",
        data_bytes=data_bytes,
        requests_interval=requests_interval,
        over_context_at_most=at_most,
    )
    figures = Figures(
        tokens=round(tokens),
        requests=round(requests),
        over_context=round(over),
        raw_tokens=round(raw_tokens),
        interval=interval,
        refused_requests=at_least_one(refused) if any(d.refused for d in drawn) else 0,
    )
    return sampled_count(tok, sample, hist, figures, names, notes)
