"""Counting the tokens of real inputs: text files, JSONL request files, CSV exports, stdin."""

from __future__ import annotations

import contextlib
import os
import typing
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

from costcalc.errors import (
    CostcalcError,
    CostcalcNote,
    FieldError,
    InputFileError,
    RequestError,
    UnknownModelError,
    UsageError,
    arg,
    path_arguments,
    quoted,
    require_type,
)
from costcalc.jsonlines import JsonError, parse_json
from costcalc.requests import refused
from costcalc.tokens.encodings import (
    DEFAULT_MODEL,
    count_raw,
    tokenizer_for,
)
from costcalc.tokens.engine import (
    count_jsonl_block,
    count_jsonl_range,
    count_text_piece,
    count_texts,
    file_ranges,
    ordered_map,
    usable_jobs,
)
from costcalc.tokens.parquet import parquet_batches, parquet_columns
from costcalc.tokens.readers import (
    CsvPlan,
    Source,
    _batched,
    _non_empty,
    _non_empty_batches,
    csv_rows,
    detect_format,
    jsonl_blocks,
    peek_model,
    read_json_document,
    template_fields,
    text_lines,
    text_pieces,
)
from costcalc.tokens.requests import (
    CSV_BATCH_ROWS,
    STDIN,
    CountSpec,
    Errors,
    InputFormat,
    Progress,
    request_count,
)
from costcalc.tokens.result import TokenCount
from costcalc.tokens.sample import _count_sample
from costcalc.tokens.sources import said_if_changed
from costcalc.tokens.tally import Tally, tally_count

if TYPE_CHECKING:
    from costcalc.prices import PriceTable

# --- the whole count ------------------------------------------------------------------------


_TYPE_WORDS = {str: "a str", int: "a whole number (int)", bool: "True or False"}


def _check_types(*arguments: tuple[str, object, type, bool]) -> None:
    """TypeError naming the first of ``count_file``'s (name, value, type, None allowed)
    arguments given a value of another type."""
    for name, value, kind, optional in arguments:
        if value is None and optional:
            continue
        what = _TYPE_WORDS[kind] + (" or None" if optional else "")
        require_type(value, kind, name, "count_file", what)


def count_file(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    model: str | None = None,
    *,
    messages: bool = False,
    field: str | None = None,
    column: str | None = None,
    template: str | None = None,
    input_format: InputFormat | None = None,
    sample: int | None = None,
    seed: int | None = None,
    jobs: int = 1,
    errors: Errors = "strict",
    progress: Progress | None = None,
    table: PriceTable | None = None,
    prompts_as_messages: bool = False,
) -> TokenCount:
    """Count the tokens of files (``"-"`` is stdin) for ``model``.

    Each JSONL line, CSV row or text file is one request. ``sample`` counts a random sample
    of that many requests and estimates the total; ``jobs`` counts in that many processes.
    ``prompts_as_messages`` counts a request that is bare text as the one user message it will
    be sent as, with the chat overhead (as a quote must, to match the batch file); a text
    file is then read as a quote reads it, one request per non-blank line, unless
    ``input_format`` says otherwise.
    """
    names = path_arguments(paths, "paths", "count_file")
    _check_types(
        ("model", model, str, True), ("field", field, str, True),
        ("column", column, str, True), ("template", template, str, True),
        ("input_format", input_format, str, True), ("sample", sample, int, True),
        ("seed", seed, int, True), ("jobs", jobs, int, False), ("errors", errors, str, False),
        ("messages", messages, bool, False),
        ("prompts_as_messages", prompts_as_messages, bool, False),
    )  # fmt: skip
    if not names:
        raise UsageError("no input: give a file, or - for stdin")
    if jobs < 1:
        raise FieldError("jobs", f"must be at least 1, got {jobs}", sep=" ")
    if sample is not None and sample < 1:
        raise FieldError("sample", f"must be at least 1, got {sample}", sep=" ")
    if seed is not None and sample is None:  # as the CLI says: it would be ignored
        raise FieldError("seed", "applies to sample only (it draws the same sample again)", sep=" ")
    if seed is not None and seed < 0:  # as the CLI takes it
        raise FieldError("seed", f"must be 0 or more, got {seed}", sep=" ")
    if errors not in ("strict", "replace"):
        raise FieldError("errors", f"must be strict or replace, got {errors!r}", sep=" ")
    formats = typing.get_args(InputFormat)
    if input_format is not None and input_format not in formats:
        raise FieldError(
            "input_format", f"must be one of {', '.join(formats)}, got {quoted(input_format)}"
        )
    jobs = usable_jobs(jobs)
    if names.count(STDIN) > 1:
        raise UsageError("stdin (-) can be read only once")
    if template is not None:
        template_fields(template)
    field_path = tuple(field.split(".")) if field else None
    if field is not None and (not field or any(not p for p in field_path or ())):
        raise FieldError(
            "field", f"{field!r}: expected a dotted path such as body.messages", sep=" "
        )

    sources = []
    for name in names:
        fmt = input_format or detect_format(name, column, template)
        if messages and fmt == "text":
            fmt = "json"
        elif prompts_as_messages and fmt == "text" and input_format is None:
            fmt = "lines"  # as a quote's input file is read: one request per non-blank line
        if fmt == "csv" and not (column or template):
            if name != STDIN:
                Source(name, fmt).open().close()  # a missing file says so first
            raise UsageError(
                f"{name}: CSV input needs {arg('column NAME')} or {arg('template TEXT')}"
            )
        if fmt == "parquet" and column is None and template is None:
            raise UsageError(
                f"{name}: Parquet input needs {arg('column NAME')} "
                f"(columns: {', '.join(parquet_columns(name)) or 'none'})"
            )
        if messages and fmt in ("csv", "parquet"):
            # a column's values are counted as text here (Spark reads them as messages)
            what = "a CSV" if fmt == "csv" else "a Parquet"
            raise UsageError(
                f"{name}: {arg('messages', True)} applies to JSON input; {what} column is "
                "counted as text (counting on Spark reads its values as messages)"
            )
        if fmt == "parquet" and (template or field is not None):
            raise UsageError(f"{name}: Parquet input is read from one {arg('column NAME')}")
        if fmt not in ("csv", "parquet") and (column or template):
            raise UsageError(
                f"{name}: {arg('column')} and {arg('template')} apply to CSV or Parquet input only"
            )
        if fmt == "csv" and field is not None:
            raise UsageError(
                f"{name}: {arg('field')} applies to JSON input; use {arg('column')} for CSV"
            )
        if fmt in ("text", "lines") and field is not None:
            # read as text, the field would be ignored and the JSON counted as prose
            raise UsageError(
                f"{name}: {arg('field')} applies to JSON input, and this is read as text "
                f"(name it .jsonl or .json, or give {arg('input_format', 'jsonl')})"
            )
        sources.append(Source(name, fmt))

    tok = None
    if model is None and (named := next((m for s in sources if (m := peek_model(s))), None)):
        with contextlib.suppress(UnknownModelError):  # a model no table knows: the default
            tok = tokenizer_for(named, table)
    tok = tok or tokenizer_for(DEFAULT_MODEL if model is None else model, table)
    prompt_overhead = 0
    if prompts_as_messages:
        o = tok.overhead
        prompt_overhead = o.reply + o.per_message + count_raw(tok.encoding, "user")
    spec = CountSpec(tok.encoding, tok.overhead, field_path, errors, prompt_overhead)
    plan = CsvPlan(column, template)

    if sample is not None:
        estimate = _count_sample(sources, tok, spec, plan, sample, seed, errors, progress)
        if estimate is not None:
            return estimate

    tally = Tally.empty(tok.encoding)
    for source in sources:
        with said_if_changed(source.name):
            _count_source(source, spec, plan, jobs, errors, progress, tally)
    tally.inputs = names  # as given (a merge sorts them)
    if sample is not None:  # said once the count is done: a failing one says only why
        warnings.warn(
            f"a sample of {sample:,} would read half of the input or more: it was counted "
            "exactly (no estimate, no seed)",
            CostcalcNote,
            stacklevel=2,
        )
    return tally_count(tally, tok)


def count_string(
    text: str, model: str | None = None, *, messages: bool = False, table: PriceTable | None = None
) -> TokenCount:
    """Count one string as one request; with ``messages`` it is JSON chat messages (or a
    request object holding them)."""
    require_type(text, str, "text", "count_string", "a str")
    tok = tokenizer_for(DEFAULT_MODEL if model is None else model, table)
    tally = Tally.empty(tok.encoding, ["<text>"])
    if not messages:
        tally.add(count_raw(tok.encoding, text), refused=refused(text))
        return tally_count(tally, tok)
    try:
        obj = parse_json(text)
    except JsonError as exc:
        raise UsageError(f"{arg('text')} with {arg('messages', True)}: {exc}") from None
    spec = CountSpec(tok.encoding, tok.overhead, None, "strict")
    try:
        raw, chat, rejected = request_count(obj, spec)
    except RequestError as exc:
        raise UsageError(f"{arg('text')} with {arg('messages', True)}: {exc}") from None
    tally.add(raw, refused=rejected, chat=chat)
    return tally_count(tally, tok)


def _count_source(
    source: Source,
    spec: CountSpec,
    plan: CsvPlan,
    jobs: int,
    errors: Errors,
    progress: Progress | None,
    totals: Tally,
) -> None:
    if source.format == "jsonl" and jobs > 1 and not source.is_stream and source.compressed:
        warnings.warn(
            f"{source.name}: a compressed stream cannot be split in byte ranges: one process "
            f"decompresses it and {jobs} count its lines",
            CostcalcNote,
            stacklevel=2,
        )
    if source.format == "jsonl" and jobs > 1 and not source.is_stream and not source.compressed:
        source.open().close()  # a missing or unreadable file: one clear error first
        ranges = ((spec, source.name, a, b) for a, b in file_ranges(source.name))
        before = 0  # lines in the ranges already counted
        for part in ordered_map(count_jsonl_range, ranges, jobs, spec.encoding):
            if part.error is not None:
                line, message = part.error
                raise InputFileError(source.name, message, before + line)
            before += part.lines
            if progress is not None:
                progress(part.nbytes)
            totals += part
    elif source.format == "jsonl":
        stream = source.open()
        try:
            items = (
                (spec, block, line) for block, line in jsonl_blocks(stream, source.name, progress)
            )
            for part in ordered_map(count_jsonl_block, items, jobs, spec.encoding):
                if part.error is not None:
                    line, message = part.error
                    raise InputFileError(source.name, message, line)
                totals += part
        finally:
            if not source.is_stdin:
                stream.close()
    elif source.format == "parquet":  # record batches handed on whole, no step per row
        parts = parquet_batches(source.name, plan.column, progress)
        if spec.prompt_overhead:  # counted as sent: an empty prompt would not be accepted
            parts = _non_empty_batches(parts, source.name)
        for part in ordered_map(
            count_texts, ((spec, texts) for texts, _ in parts), jobs, spec.encoding
        ):
            totals += part
    elif source.format in ("csv", "lines"):
        rows = (
            csv_rows(source, plan, errors, progress)
            if source.format == "csv"
            else text_lines(source, errors, progress)
        )
        if spec.prompt_overhead:  # counted as sent: an empty prompt would not be accepted
            rows = _non_empty(rows, source.name)
        batches = ((spec, batch) for batch in _batched(rows, CSV_BATCH_ROWS))
        for part in ordered_map(count_texts, batches, jobs, spec.encoding):
            totals += part
    elif source.format == "json":
        for i, obj in enumerate(read_json_document(source, errors)):
            try:
                tokens, chat, rejected = request_count(obj, spec)
            except (RequestError, CostcalcError) as exc:
                where = f"request {i + 1}: " if i else ""
                raise InputFileError(source.name, f"{where}{exc}") from None
            totals.add(tokens, refused=rejected, chat=chat)
    else:
        stream = source.open()
        try:
            pieces = ((spec, p) for p in text_pieces(stream, source.name, errors, progress))
            raw = sum(ordered_map(count_text_piece, pieces, jobs, spec.encoding))
        finally:
            if not source.is_stdin:
                stream.close()
        totals.add(raw)
