"""Counting a uniform random sample of requests and estimating the total with a 95% interval."""

from __future__ import annotations

import math
import random
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from costcalc.errors import FieldError, InputFileError, RequestError
from costcalc.jsonlines import MAX_REQUEST_BYTES, TOO_LARGE
from costcalc.tokens.encodings import (
    ModelTokenizer,
    get_encoding,
)
from costcalc.tokens.engine import count_jsonl_block, count_text_piece
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
    BLOCK_BYTES,
    CountSpec,
    Errors,
    Progress,
    request_tokens,
)
from costcalc.tokens.result import (
    Interval,
    SampleInfo,
    TokenCount,
    _per_request,
    _reasons,
    _result,
    _scaled,
    over_limit,
)

# --- sampling -------------------------------------------------------------------------------

# two-sided 95% Student t quantiles for small samples (df = n - 1); z = 1.96 beyond
_T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
        2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
        2.060, 2.056, 2.052, 2.048, 2.045]  # fmt: skip


def t95(df: int) -> float:
    return _T95[df - 1] if 1 <= df <= len(_T95) else 1.96


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

    if all(s.format == "jsonl" for s in sources):
        # two passes: index the lines (newline counting only), then read the chosen ones
        indexed = [_line_index(s, progress) for s in sources]
        counts = [n for _, n in indexed]
        population = sum(counts)
        chosen = sorted(rng.sample(range(population), min(size, population)))
        values, chat = _sampled_jsonl(sources, [b for b, _ in indexed], counts, chosen, spec)
    else:
        # one pass of reservoir sampling; only the kept records are tokenized
        reservoir: list[tuple[str, Any]] = []
        population = 0
        for population, record in enumerate(_records(sources, plan, errors, progress), 1):
            if len(reservoir) < size:
                reservoir.append(record)
            else:
                j = rng.randrange(population)
                if j < size:
                    reservoir[j] = record
        values, chat = [], False
        for record in reservoir:
            raw, is_chat = _record_tokens(record, spec)
            values.append(raw)
            chat = chat or is_chat
    if chat:
        tok.warn_if_overhead_unknown()
    if len(values) >= population:  # the "sample" is everything: the count is exact
        return _result(tok, Counter(v for v in values if v is not None), names)
    return _estimate(tok, values, population, seed, names)


@dataclass
class _Block:
    offset: int
    length: int
    first: int
    """0-based index (within the file) of the block's first line."""
    lines: int


def _line_index(source: Source, progress: Progress | None) -> tuple[list[_Block], int]:
    """Blocks of whole lines (offset, length, first line) and the file's line count, in
    one pass of newline counting: the second pass reads only the lines it wants."""
    blocks: list[_Block] = []
    offset = lines = 0
    carry = b""
    with source.open() as f:
        while chunk := f.read(BLOCK_BYTES):
            if progress is not None:
                progress(len(chunk))
            data = carry + chunk if carry else chunk
            first_end = data.find(b"\n")
            if (first_end if first_end >= 0 else len(data)) > MAX_REQUEST_BYTES:
                raise InputFileError(source.name, TOO_LARGE, lines + 1)
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                carry = data
                continue
            count = data.count(b"\n", 0, cut)
            blocks.append(_Block(offset, cut, lines, count))
            offset, lines, carry = offset + cut, lines + count, data[cut:]
    if carry:
        blocks.append(_Block(offset, len(carry), lines, 1))
        lines += 1
    return blocks, lines


def _sampled_jsonl(
    sources: list[Source],
    indexes: list[list[_Block]],
    counts: list[int],
    chosen: list[int],
    spec: CountSpec,
) -> tuple[list[int | None], bool]:
    """Raw tokens of the chosen lines (None for a blank line).

    ``chosen`` holds sorted 0-based line indexes across all files. Only blocks that hold a
    chosen line are read, and within a block the lines are found by walking newlines, without
    splitting the block into a million small strings.
    """
    values: list[int | None] = []
    chat = False
    base = 0  # index of the current file's first line
    targets = iter(chosen)
    target = next(targets, None)
    for source, blocks, count in zip(sources, indexes, counts, strict=True):
        if target is not None and target < base + count:
            with source.open() as f:
                for block in blocks:
                    first = base + block.first
                    if target is None or target >= base + count:
                        break
                    if target >= first + block.lines:
                        continue
                    f.seek(block.offset)
                    data = f.read(block.length)
                    pos, at = 0, first
                    while target is not None and target < first + block.lines:
                        while at < target:
                            pos = data.index(b"\n", pos) + 1
                            at += 1
                        end = data.find(b"\n", pos)
                        raw = data[pos : end if end >= 0 else len(data)]
                        if raw.strip():
                            part = count_jsonl_block(spec, raw, target - base + 1)
                            if part.error is not None:
                                raise InputFileError(source.name, part.error[1], part.error[0])
                            values.append(next(part.hist.elements()))
                            chat = chat or part.chat
                        else:
                            values.append(None)
                        target = next(targets, None)
        base += count
    return values, chat


def _records(
    sources: list[Source], plan: CsvPlan, errors: Errors, progress: Progress | None
) -> Iterator[tuple[str, Any]]:
    """Sampling units that are not JSONL lines: CSV rows, JSON requests, text files (and JSONL
    lines when formats are mixed)."""
    for source in sources:
        if source.format == "csv":
            for text, _line in csv_rows(source, plan, errors, progress):
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
) -> TokenCount:
    """Total, requests and over-context for the whole input from a uniform sample.

    The total is population x sample mean (a blank line counts 0 tokens); its 95% interval
    uses the t (n < 30) or normal quantile with the finite-population correction.
    """
    n = len(values)
    scaled = [tok.scale(v) if v is not None else 0 for v in values]
    raw = [v if v is not None else 0 for v in values]
    mean = sum(scaled) / n
    var = sum((x - mean) ** 2 for x in scaled) / (n - 1) if n > 1 else 0.0
    fpc = math.sqrt((population - n) / (population - 1))
    total = mean * population
    present = [v for v in values if v is not None]
    hist = _scaled(tok, Counter(present))
    if n > 1:
        half = t95(n - 1) * math.sqrt(var / n) * fpc * population
        low, high = max(sum(scaled), math.floor(total - half)), math.ceil(total + half)
    else:  # one value says nothing about the spread
        low, high = sum(scaled), sys.maxsize
    sample = SampleInfo(size=n, population=population, seed=seed)
    reasons = _reasons(tok, sample)
    count = TokenCount(
        tokens=round(total),
        requests=round(population * len(present) / n),
        per_request=_per_request(hist),
        over_context=round(population * over_limit(hist, tok.context_limit) / n),
        context_limit=tok.context_limit,
        encoding=tok.encoding,
        model=tok.model,
        estimate=True,
        estimate_reasons=reasons,
        raw_tokens=round(sum(raw) / n * population),
        inputs=names,
        sample=sample,
        interval=Interval(low=int(low), high=int(high), confidence=0.95),
    )
    count._hist = hist
    return count
