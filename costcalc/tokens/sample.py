"""Counting a random sample of requests and estimating the total with a 95% interval: lines
at random byte offsets where the input allows (``costcalc.tokens.seek``), Parquet row groups,
or one pass of reservoir sampling."""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from costcalc.errors import FieldError, InputFileError, RequestError
from costcalc.requests import blank
from costcalc.tokens.encodings import (
    ModelTokenizer,
    get_encoding,
)
from costcalc.tokens.engine import count_jsonl_block, count_text_piece
from costcalc.tokens.priority import PrioritySample, priority_estimate
from costcalc.tokens.readers import (
    CsvPlan,
    Source,
    csv_rows,
    jsonl_blocks,
    read_json_document,
    text_lines,
    text_pieces,
)
from costcalc.tokens.requests import (
    CountSpec,
    Errors,
    Progress,
    request_count,
)
from costcalc.tokens.result import (
    WEIGHT,
    Figures,
    Interval,
    SampleInfo,
    TokenCount,
    _result,
    over_limit,
    sampled_count,
    t95,
)
from costcalc.tokens.seek import (
    QUOTED_NEWLINES,
    SEEKABLE,
    Draws,
    open_files,
    seek_sample,
)
from costcalc.tokens.seek_estimate import at_least_one, over_context_bytes, weighted_estimate
from costcalc.tokens.sources import refuse_device

if TYPE_CHECKING:
    from costcalc.tokens.parquet import ParquetSample

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
) -> TokenCount | None:
    """The estimate from a sample of ``size`` requests; None when the files are small for
    the sample (the exact count costs no more)."""
    for source in sources:  # a device is refused as such, not as a pipe
        if not source.is_stdin:
            refuse_device(source.name)
    if any(s.is_stream for s in sources):
        raise FieldError(
            "sample", "reads its input twice, so it needs files, not stdin or a pipe", sep=" "
        )
    if seed is None:
        seed = random.SystemRandom().randrange(2**32)
    rng = random.Random(seed)
    names = [s.name for s in sources]
    notes: list[str] = []
    if all(s.format in SEEKABLE for s in sources):
        files = open_files(sources, plan, notes)
        try:
            whole_from = over_context_bytes(tok, spec)
            sampled = (
                None if files is None else seek_sample(files, spec, plan, size, rng, whole_from)
            )
            if sampled == "all":  # small for the sample: the exact count reads no more
                return None
            if isinstance(sampled, Draws):
                if any(d.chat for d in sampled.lines):
                    tok.warn_if_overhead_unknown()
                assert files is not None
                data_bytes = sum(f.nbytes for f in files)
                return weighted_estimate(tok, sampled, whole_from, data_bytes, seed, names, notes)
            if files is not None:
                notes.append(QUOTED_NEWLINES)
        finally:
            for f in files or ():
                f.close()

    if all(s.format == "parquet" for s in sources):
        from costcalc.tokens.parquet import MIN_ROW_GROUPS, parquet_sample

        picked = parquet_sample(names, plan.column, size, rng)
        if picked is None:
            return None  # the sample is the whole input
        if picked.kept is None:
            return _group_estimate(tok, spec, picked, seed, names)
        counted = []
        for text, p in picked.kept:
            raw, _, is_refused = _record_tokens(("text", text), spec)
            counted.append((raw, is_refused, p))
        if spec.prompt_overhead:
            tok.warn_if_overhead_unknown()
        notes.append(
            f"the Parquet input's {picked.groups:,} row groups are too few for a sample of "
            f"{size:,} to read only some of them (it takes {MIN_ROW_GROUPS} or more, the drawn "
            "ones holding under half the rows): every row group's column was read, only the "
            "sampled rows were tokenized"
        )
        return priority_estimate(tok, counted, picked.rows, seed, names, notes)

    # one pass over every request (compressed input, CSV rows that span lines, a sample as
    # large as the input); only those kept are tokenized
    records = _records(sources, plan, errors, progress)
    if all(s.format in SIZED for s in sources):  # each request's size at hand: by size
        sampler = PrioritySample(size, rng)
        for record in records:
            sampler.offer(record, _size(record) or 0)
        kept = sampler.kept()
        counted = []
        for record, p in kept:
            raw, is_chat, is_refused = _record_tokens(record, spec)
            counted.append((raw, is_refused, p))
            if is_chat:
                tok.warn_if_overhead_unknown()
        if sampler.everything:  # the "sample" is everything: the count is exact
            refused_kept = sum(r for _, r, _ in counted)
            return _result(tok, Counter(v for v, _, _ in counted), names, refused_kept)
        return priority_estimate(tok, counted, sampler.offered, seed, names, notes)
    reservoir: list[tuple[str, Any]] = []  # requests alike: a JSON document's, whole files
    population = 0
    for population, record in enumerate(records, 1):
        if len(reservoir) < size:
            reservoir.append(record)
        else:
            j = rng.randrange(population)
            if j < size:
                reservoir[j] = record
    values: list[int | None] = []
    chat = False
    refused = 0
    for record in reservoir:
        raw, is_chat, is_refused = _record_tokens(record, spec)
        values.append(raw)
        chat = chat or is_chat
        refused += is_refused
    if chat:
        tok.warn_if_overhead_unknown()
    if len(values) >= population:  # the "sample" is everything: the count is exact
        return _result(tok, Counter(v for v in values if v is not None), names, refused)
    return _estimate(tok, values, population, seed, names, notes, refused)


SIZED = ("csv", "parquet", "lines", "jsonl")
"""Formats whose every request's size is at hand as it is read (``_size``)."""


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


def _record_tokens(record: tuple[str, Any], spec: CountSpec) -> tuple[int, bool, bool]:
    """(raw tokens, counted as chat, a provider would refuse it) of one sampled record, as
    the full count reads it."""
    kind, value = record
    if kind == "text":
        raw = len(get_encoding(spec.encoding).encode_ordinary(value))
        return raw + spec.prompt_overhead, bool(spec.prompt_overhead), blank(value)
    if kind == "json":
        name, obj = value
        try:
            return request_count(obj, spec)
        except RequestError as exc:
            raise InputFileError(name, str(exc)) from None
    if kind == "line":
        name, raw, line = value
        part = count_jsonl_block(spec, raw, line)
        if part.error is not None:
            raise InputFileError(name, part.error[1], part.error[0])
        return next(part.hist.elements()), part.chat, part.refused > 0
    source: Source = value
    with source.open() as f:
        pieces = text_pieces(f, source.name, spec.errors)
        return sum(count_text_piece(spec, p) for p in pieces), False, False


def _estimate(
    tok: ModelTokenizer,
    values: list[int | None],
    population: int,
    seed: int,
    names: list[str],
    notes: list[str],
    refused: int = 0,
) -> TokenCount:
    """Total, requests and over-context for the whole input from a uniform sample of raw
    token counts (None: a blank line, 0 tokens), ``refused`` of them requests a provider
    would refuse: the sample's tally, estimated as every sampled count is
    (``costcalc.tokens.tally``), with this sampler's notes."""
    from costcalc.tokens.tally import Tally, tally_count

    tally = Tally.empty(tok.encoding)
    tally.hist.update(v for v in values if v is not None)
    sample = SampleInfo(size=len(values), population=population, seed=seed)
    count = tally_count(tally, tok, sample)
    count.inputs = names
    count.estimate_reasons += notes
    if refused and values:
        count.refused_requests = at_least_one(population * refused / len(values))
    return count


def _size(record: tuple[str, Any]) -> int | None:
    """A record's size, which its tokens follow closely: the characters of a text, the bytes
    of a JSON line; None for what has none at hand (a JSON document's request, a whole file),
    which leaves the sample mean's estimate."""
    kind, value = record
    if kind == "text":
        return len(value)
    if kind == "line":
        return len(value[1])
    return None


def _group_estimate(
    tok: ModelTokenizer, spec: CountSpec, picked: ParquetSample, seed: int, names: list[str]
) -> TokenCount:
    """Two-stage estimate (Hansen-Hurwitz at both stages): each draw gives
    z = scale x mean(t_i / b_i) over its rows (``GroupDraw.scale``), an unbiased estimate of
    the total; their mean estimates it, their spread (between and within groups at once)
    gives the 95% interval. Rows are weighted by scale / b_i in the per-request figures."""
    enc = get_encoding(spec.encoding)
    extra = spec.prompt_overhead
    population = picked.rows
    zs: list[float] = []
    raw_zs: list[float] = []
    weights: Counter[int] = Counter()
    weight = refused_weight = 0.0  # rows weighted as in the histogram: scale / b
    counted: dict[tuple[int, int], int] = {}  # a row drawn again is tokenized once
    for draw in picked.draws:
        raws = []
        for at, t in zip(draw.rows_at, draw.texts, strict=True):
            raw = counted.get(at)
            if raw is None:
                raw = counted[at] = len(enc.encode_ordinary(t)) + extra
            raws.append(raw)
        pairs = list(zip(raws, draw.sizes, strict=True))
        zs.append(draw.scale * sum(tok.scale(r) / b for r, b in pairs) / len(pairs))
        raw_zs.append(draw.scale * sum(r / b for r, b in pairs) / len(pairs))
        for r, b in pairs:
            weights[tok.scale(r)] += round(WEIGHT * draw.scale / b / population)
        for t, b in zip(draw.texts, draw.sizes, strict=True):
            weight += draw.scale / b
            refused_weight += draw.scale / b if blank(t) else 0.0
    if extra:
        tok.warn_if_overhead_unknown()
    m = len(zs)
    mean = sum(zs) / m
    half = t95(m - 1) * math.sqrt(sum((z - mean) ** 2 for z in zs) / (m - 1) / m)
    hist = +weights
    n = sum(len(d.texts) for d in picked.draws)
    sample = SampleInfo(
        size=n,
        population=population,
        seed=seed,
        drawn="row groups",
        row_groups=picked.groups,
        row_groups_read=picked.read,
    )
    seen = sum(hist.values())
    figures = Figures(
        tokens=round(mean),
        requests=population,
        over_context=round(population * over_limit(hist, tok.context_limit) / seen),
        raw_tokens=round(sum(raw_zs) / m),
        interval=Interval(
            low=max(0, math.floor(mean - half)), high=math.ceil(mean + half), confidence=0.95
        ),
        refused_requests=(
            at_least_one(population * refused_weight / weight) if refused_weight else 0
        ),
    )
    return sampled_count(tok, sample, hist, figures, names)
