"""Sampling by seeking: a JSONL, text-lines or CSV file on disk is sampled reading only the
lines at random byte offsets (no pass over the file), and the draw's length bias corrected
(a ratio to the file's bytes); ``costcalc.tokens.sample`` chooses this way where it can."""

from __future__ import annotations

import bisect
import csv
import itertools
import math
import os
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from costcalc.errors import EMPTY_PROMPT, InputFileError, RequestError
from costcalc.jsonlines import MAX_REQUEST_BYTES, TOO_LARGE, UTF8_BOM
from costcalc.requests import blank
from costcalc.tokens.encodings import get_encoding
from costcalc.tokens.engine import _decode_line, count_jsonl_block
from costcalc.tokens.forked import TokenizerProcess
from costcalc.tokens.readers import CsvPlan, Source, _is_tsv, template_fields
from costcalc.tokens.requests import CountSpec, Errors

# A JSONL, text-lines or CSV file on disk is sampled reading only the sampled lines: byte
# offsets are drawn uniformly (with replacement) over the data bytes B (all files, CSV header
# left out), and each offset takes the line that CONTAINS it (back to the newline before it,
# on to the one after). No line index, nothing else is read: the cost is O(N), not O(file).
# The line i of b_i bytes (its newline included) is drawn with probability exactly b_i / B
# whatever the order of the file (sorted, grouped: no assumption about neighbours). A draw by
# bytes over-draws long lines (on lognormal lengths it tokenizes 2.6 times the text of a
# uniform draw of as many lines), so a line longer than a cap c is kept with chance c / b_i
# (another offset is drawn in its place), and the N lines kept are drawn in proportion to
# m_i = min(b_i, c) (``length_cap`` chooses c from a pilot of line lengths, or none). Every
# figure is then estimated as its ratio to bytes, scaled to B, which is known exactly: total
# tokens = B x sum(t_j / m_j) / sum(b_j / m_j) over the lines kept, requests likewise with
# 1 for t_j; without a cap it is Hansen-Hurwitz's B x mean(t_j / b_j). Tokens per byte is
# nearly constant for text, so the total's error is far smaller than a uniform draw of lines
# gives on skewed lengths, with or without the cap (the count of requests is what varies: its
# relative SE is about sqrt(E[b] E[1/b] - 1) / sqrt(N)). Per-request figures weight each
# line kept by 1/m_j (an estimate of the histogram of the whole file).

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

    def __init__(self, fd: int, name: str) -> None:
        self.fd = fd
        self.name = name
        self.size = os.fstat(fd).st_size

    def __len__(self) -> int:
        return self.size

    def close(self) -> None:
        os.close(self.fd)

    def __getitem__(self, part: slice) -> bytes:
        lo, hi, _ = part.indices(self.size)
        return os.pread(self.fd, max(0, hi - lo), lo)

    def read(self, lo: int, hi: int) -> bytes:
        """Bytes ``lo`` to ``hi`` (0 <= lo <= hi), as ``[lo:hi]`` without making a slice:
        a sample reads some 20,000 times."""
        return os.pread(self.fd, hi - lo, lo)

    def find(self, sub: bytes, lo: int, hi: int) -> int:
        step = 4096
        while lo < min(hi, self.size):
            chunk = self._part(lo, min(hi, lo + step))
            if (i := chunk.find(sub)) >= 0:
                return lo + i
            lo, step = lo + len(chunk), min(step * 2, 1 << 20)
        return -1

    def rfind(self, sub: bytes, lo: int, hi: int) -> int:
        step = 4096
        while hi > lo:
            a = max(lo, hi - step)
            if (i := self._part(a, hi).rfind(sub)) >= 0:
                return a + i
            hi, step = a, min(step * 2, 1 << 20)
        return -1

    def _part(self, lo: int, hi: int) -> bytes:
        """Bytes ``lo`` to ``hi`` (within the size the file had), at least one: a file cut
        short while it is sampled (a log rotated) would have the search read nothing forever."""
        part = self[lo:hi]
        if not part and lo < min(hi, self.size):
            raise InputFileError(self.name, SHRUNK)
        return part


SHRUNK = "changed while it was sampled: it is shorter than when the sample began"


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
    odd_quotes: bool = False
    """A CSV: some whole line read around an offset has an odd number of quotes, so rows
    span lines (a quoted field opens or closes there)."""
    windows_to_check: int = 1024
    """A CSV: the reads whose lines are each checked for an odd number of quotes (after
    these, only the quotes of all the whole lines read at once)."""

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
        near = data.read(lo, offset + _NEAR)
        at = offset - lo
        before = near.rfind(b"\n", 0, at)
        after = near.find(b"\n", at)
        if self.header is not None and b'"' in near:
            # a row that spans lines has a line with an odd number of quotes where it opens
            # and where it closes, and the lines between can look like rows: the whole lines
            # read around the offset are checked too, each one around the first offsets
            # (some 5 us a read), then all at once (odd in all: one of them is); where one
            # is, the sample reads every row instead
            first, last = near.find(b"\n") + 1, near.rfind(b"\n") + 1
            if self.windows_to_check > 0:
                self.windows_to_check -= 1
                odd = any(line.count(b'"') % 2 for line in near[first:last].split(b"\n"))
            else:
                odd = first < last and near.count(b'"', first, last) % 2 == 1
            self.odd_quotes |= odd
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
        data = _Pread(os.open(source.name, os.O_RDONLY), source.name)
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
    quotes = raw.count(b'"')
    if quotes % 2:
        return None
    try:
        text = _decode_line(raw, errors)
    except RequestError:
        return None
    if not quotes:
        # the fields are what lies between the delimiters, as csv.reader has them, without
        # its reader and list per line; a carriage return inside the line or a NUL is csv's
        # to refuse
        body = text.rstrip("\r\n")
        if "\r" not in body and "\0" not in body:
            return body.split(delimiter) if body else []
    csv.field_size_limit(MAX_REQUEST_BYTES)  # as the full read's (csv's own is 128 KiB)
    try:
        rows = list(csv.reader([text], delimiter=delimiter, strict=True))
    except (csv.Error, RequestError):
        return None
    return rows[0] if rows else []


@dataclass
class _KeptLine:
    """One line drawn (once or more) at a random byte offset, and kept."""

    raw: int | None
    """Raw tokens (None: a blank line, no request)."""
    chat: bool
    """Counted as chat messages (the per-message overhead applies)."""
    refused: bool
    """A provider would refuse the request (an empty prompt, a message with no text)."""
    nbytes: int
    """Its bytes, newline included."""
    chance_bytes: int
    """``min(nbytes, cap)`` (``nbytes`` when not capped): it was drawn and kept with chance
    in proportion to this."""
    hits: int
    """How many of the draws kept it."""


_PILOT = 256
"""Line lengths drawn first to choose the cap (read only: nothing is tokenized)."""
_READ_BYTES = 64
"""A line read at an offset costs about as much as tokenizing this many bytes (the read, the
newline search and the bookkeeping: some 4 us, where o200k_base tokenizes 14-16 MB a second)."""
_MOST_GROWTH = (2.0, 1.25)
"""The most a cap may multiply the variance of an estimate of something in proportion to a
line's bytes (tokens, should lines differ in tokens per byte: long code among short prose),
and of something the same in every line (the count of requests, and the part of a line's
tokens its fixed wrapper adds: a JSONL batch line's custom_id, method and url)."""
_LEAST_KEPT = 0.25
"""Nor may it keep under a quarter of the lines drawn (reads would outweigh the gain)."""


def length_cap(lengths: list[int]) -> int | None:
    """The cap c for lines drawn at random offsets (None: none), from ``lengths``, lines so
    drawn (in proportion to their bytes). A line of b > c bytes is kept with chance c / b, so
    lines are drawn in proportion to min(b, c): the long ones, which a draw by bytes
    favours, are tokenized less often (``weighted_estimate`` weights each by 1 / min(b, c)).
    The cap is the length of least expected cost per line kept, (a read's _READ_BYTES +
    bytes tokenized) / chance kept, among those within _MOST_GROWTH and _LEAST_KEPT.

    With m = min(b, c), an estimate's variance is sum(m) x sum(e^2 / m) for residuals e of
    the ratio to bytes (``weighted_estimate``); over lines drawn by bytes, each sum is B x
    the mean of its terms / b, so its growth over no cap is mean(m/b) x mean(e^2/(m b)) /
    mean(e^2/b^2): e = b for the first bound, e = b x mean(1/b) - 1 for the second."""
    n = len(lengths)
    if n < 2:
        return None
    b = sorted(lengths)
    h = sum(1 / x for x in b) / n
    line_base = sum((x * h - 1) ** 2 / x**2 for x in b)
    # suffix sums over the lines longer than a cap (those it shortens)
    inv = [*itertools.accumulate((1 / x for x in reversed(b)), initial=0.0)][::-1]
    size = [*itertools.accumulate(reversed(b), initial=0)][::-1]
    line_long = [*itertools.accumulate(((x * h - 1) ** 2 / x for x in reversed(b)), initial=0.0)]
    line_long.reverse()
    short_bytes = 0
    line_short = 0.0
    best: tuple[float, int | None] = (_READ_BYTES + size[0] / n, None)
    for k, cap in enumerate(b):
        short_bytes += cap
        line_short += (cap * h - 1) ** 2 / cap**2
        if k + 1 < n and b[k + 1] == cap:
            continue  # the lines as long as the cap are not shortened by it
        longer = k + 1
        kept = (longer + cap * inv[longer]) / n
        growth = kept * (longer + size[longer] / cap) / n
        line_growth = kept * (line_short + line_long[longer] / cap) / line_base if line_base else 1
        if kept < _LEAST_KEPT or growth > _MOST_GROWTH[0] or line_growth > _MOST_GROWTH[1]:
            continue
        cost = (_READ_BYTES + (short_bytes + cap * (n - longer)) / n) / kept
        if cost < best[0]:
            best = (cost, cap)
    return best[1]


class _Lines:
    """The lines at byte offsets into all the files' data, as one run of bytes."""

    def __init__(self, files: list[_MappedFile]) -> None:
        self.files = files
        self.ends = list(itertools.accumulate(f.nbytes for f in files))
        self.total = self.ends[-1]
        # an offset into all the data is offset + shift[k] in the k-th file
        self.shift = [f.start - (end - f.nbytes) for f, end in zip(files, self.ends, strict=True)]
        self.line_at = [f.line_at for f in files]
        self.drawn_shares: list[float] = []
        """The ``share`` of every line drawn so far (kept or not)."""

    def at(self, offset: int) -> tuple[int, int, int, bytes]:
        """(file, start, end, bytes) of the line holding ``offset``."""
        ends = self.ends
        k = bisect.bisect_right(ends, offset) if len(ends) > 1 else 0
        start, end, raw = self.line_at[k](offset + self.shift[k])
        return k, start, end, raw

    def share(self, k: int, start: int, end: int, raw: bytes) -> float:
        """1 / the line's bytes, 0 for a blank line (a CSV row of no fields, as
        ``_line_text`` has it): times the data's bytes, an unbiased estimate of the number
        of requests from one line drawn in proportion to its bytes."""
        blank = not (raw.rstrip(b"\r\n") if self.files[k].header is not None else raw.strip())
        return 0.0 if blank else 1 / (end - start)

    def shares(self, count: int, rng: random.Random) -> list[float]:
        """The ``share`` of each of ``count`` lines at new random offsets."""
        draw, total, at, share = rng.random, self.total, self.at, self.share
        return [
            share(*at(offset)) for offset in sorted([int(draw() * total) for _ in range(count)])
        ]


@dataclass
class Draws:
    """What ``seek_sample`` read: the lines kept (tokenized), the cap, and 1 / bytes of
    every line drawn (kept or not: each is a draw in proportion to its bytes)."""

    lines: list[_KeptLine]
    cap: int | None
    shares: list[float]
    more: Callable[[int], list[float]]
    """Shares of that many more lines, drawn at new offsets."""


def seek_sample(
    files: list[_MappedFile],
    spec: CountSpec,
    plan: CsvPlan,
    size: int,
    rng: random.Random,
    whole_from: int | None = None,
) -> Draws | str | None:
    """``size`` lines drawn at uniformly random byte offsets, each kept with chance
    min(1, cap / its bytes) (``length_cap``; a line of ``whole_from`` bytes or more, which
    could be over the context, always), each tokenized once (a CSV's or text lines' by a
    ``TokenizerProcess`` where one starts: it builds the encoding while the lines are read);
    None when a CSV line is not a whole row; "all" when the lines kept cover half the data
    (the file is small for the sample: counting it all costs no more)."""
    found = _Lines(files)
    total = found.total
    if size >= total:  # at least as many offsets as bytes, so as lines: all of them
        return "all"
    helper = None
    if all(f.source.format != "jsonl" for f in files):  # JSON is parsed where it is counted
        helper = TokenizerProcess.start(spec.encoding)
    try:
        drawn = _draw(found, size, rng, whole_from)
        if drawn is None or isinstance(drawn, str):
            return drawn
        lines, kept, cap = drawn
        counted = _kept_tokens(files, lines, kept, spec, plan, helper)
    finally:
        if helper is not None:
            helper.close()
    if counted is None:
        return None
    return Draws(counted, cap, found.drawn_shares, lambda count: found.shares(count, rng))


_Key = tuple[int, int, int]
"""A line drawn: (file, start, end)."""


def _draw(
    found: _Lines, size: int, rng: random.Random, whole_from: int | None
) -> tuple[Counter[_Key], dict[_Key, tuple[bytes, int]], int | None] | str | None:
    """(the lines kept and their hits, each one's bytes and chance bytes, the cap) of
    ``size`` draws; None or "all" as ``seek_sample`` says. The share of every line drawn is
    kept in ``found.drawn_shares``."""
    files, total = found.files, found.total
    line, share = found.at, found.share
    # an offset is floor(random() x total): uniform to within total / 2**53, in a tenth of
    # randrange's time (a sample draws some 20,000)
    draw = rng.random
    shares = found.drawn_shares
    pilot = []
    for _ in range(min(_PILOT, size)):
        k, start, end, raw = line(int(draw() * total))
        pilot.append(end - start)
        shares.append(share(k, start, end, raw))
    cap = length_cap(pilot)
    kept_share = 1.0 if cap is None else sum(min(1.0, cap / b) for b in pilot) / len(pilot)
    lines: Counter[_Key] = Counter()
    kept: dict[_Key, tuple[bytes, int]] = {}  # its bytes, its chance bytes
    taken = 0
    while taken < size:
        # the draws still needed, and a few more for those not kept; any over are let go
        # at random (not by offset: the kept draws stay independent and alike)
        wanted = size - taken
        batch = []
        offsets = sorted([int(draw() * total) for _ in range(math.ceil(wanted / kept_share))])
        for offset in offsets:
            k, start, end, raw = line(offset)
            nbytes = end - start
            shares.append(share(k, start, end, raw))
            chance_bytes = nbytes
            if cap is not None and nbytes > cap and (whole_from is None or nbytes < whole_from):
                chance_bytes = cap
                if draw() * nbytes >= cap:
                    continue
            batch.append((k, start, end))
            kept[(k, start, end)] = raw, chance_bytes
        if len(batch) > wanted:
            batch = rng.sample(batch, wanted)
        lines.update(batch)
        taken += len(batch)
    if any(f.odd_quotes for f in files):
        return None  # rows span lines: read every row
    if 2 * sum(end - start for _, start, end in lines) >= total:
        return "all"
    return lines, kept, cap


def _kept_tokens(
    files: list[_MappedFile],
    lines: Counter[_Key],
    kept: dict[_Key, tuple[bytes, int]],
    spec: CountSpec,
    plan: CsvPlan,
    helper: TokenizerProcess | None,
) -> list[_KeptLine] | None:
    """Each line kept, tokenized (its text's tokens from ``helper`` where there is one);
    None when a CSV line is not a whole row."""
    found: list[tuple[_Key, int, tuple[int | None, bool, bool] | str | None]] = []
    texts: list[str] = []
    for key, hits in lines.items():
        k, start, _ = key
        f = files[k]
        if f.source.format == "jsonl":
            found.append((key, hits, _jsonl_tokens(f, start, kept[key][0], spec)))
            continue
        whole, text = _line_text(f, start, kept[key][0], spec, plan)
        if not whole:
            return None
        found.append((key, hits, text))
        if text is not None:
            texts.append(text)
    counts = None if helper is None else helper.counts(texts)
    if counts is None:
        encode = get_encoding(spec.encoding).encode_ordinary
        counts = [len(encode(text)) for text in texts]
    overhead = spec.prompt_overhead
    next_count = iter(counts).__next__
    drawn = []
    for key, hits, counted in found:
        if isinstance(counted, str):
            counted = next_count() + overhead, bool(overhead), blank(counted)
        elif counted is None:
            counted = None, False, False
        _, start, end = key
        drawn.append(_KeptLine(*counted, end - start, kept[key][1], hits))
    return drawn


def _line_text(
    f: _MappedFile, start: int, raw: bytes, spec: CountSpec, plan: CsvPlan
) -> tuple[bool, str | None]:
    """(whether the line is a whole request, its text or None for a blank line) of a
    CSV or text line: a CSV line with an odd number of quotes or the wrong number of fields
    may be part of a row that spans lines."""
    source = f.source
    if f.header is not None:
        row = _csv_line(raw, f.delimiter, spec.errors)
        if row is None or (row and len(row) != len(f.header)):
            return False, None
        if not row:
            return True, None
        if plan.template:
            text = plan.template.format_map({n: row[i] for n, i in f.columns.items()})
        else:
            text = row[f.columns[str(plan.column)]]
    else:
        if not raw.strip():
            return True, None
        try:
            text = _decode_line(raw, spec.errors).rstrip("\r\n")
        except RequestError as exc:
            raise InputFileError(source.name, str(exc), f.line_number(start)) from None
    if spec.prompt_overhead and blank(text):
        raise InputFileError(source.name, EMPTY_PROMPT, f.line_number(start))
    return True, text


def _jsonl_tokens(
    f: _MappedFile, start: int, raw: bytes, spec: CountSpec
) -> tuple[int | None, bool, bool]:
    """(raw tokens or None for a blank line, counted as chat, a provider would refuse it) of
    one JSONL line."""
    if not raw.strip():
        return None, False, False
    part = count_jsonl_block(spec, raw.rstrip(b"\n"), 1)
    if part.error is not None:
        raise InputFileError(f.source.name, part.error[1], f.line_number(start))
    return next(part.hist.elements()), part.chat, part.refused > 0
