"""Building batch files from an input file, with a manifest and the quote of the whole job."""

from __future__ import annotations

import os
import random
import re
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel

from costcalc.atomic import check_target
from costcalc.batch.formats import (
    LineFormat,
    RequestWriter,
    encode_line,
    known_names,
    line_format,
    line_formats,
)
from costcalc.batch.rows import Reservoir, Row, input_rows
from costcalc.batch.validate import ContextGuard
from costcalc.batch.writer import PartInfo, PartWriter, RequestTooLarge, effective_limits
from costcalc.errors import (
    CostcalcError,
    CostcalcNote,
    FieldError,
    InputFileError,
    RequestError,
    UsageError,
    arg,
    os_failure,
    path_argument,
    require_count,
    require_type,
)
from costcalc.jsonlines import parse_json
from costcalc.money import MoneyOut
from costcalc.results import to_json

if TYPE_CHECKING:
    from costcalc.prices import Model, PriceTable


DEFAULT_MAX_TOKENS = 1024
QUOTE_SAMPLE = 2000
"""Requests whose tokens are counted for the manifest's quote (a uniform sample)."""

# --- build ------------------------------------------------------------------------------------


class JobQuote(BaseModel):
    """Standard against batch for the whole job, and the wait."""

    currency: str
    requests: int
    input_tokens_per_request: Decimal
    input_tokens_basis: str
    output_tokens_per_request: Decimal
    output_tokens_basis: str
    standard_cost: MoneyOut | None
    batch_cost: MoneyOut | None
    savings: MoneyOut | None
    batch_typical_wait_s: float | None
    batch_worst_wait_s: float | None
    assumed: list[str]


class Manifest(BaseModel):
    """The manifest written next to the parts (``<stem>.manifest.json``)."""

    created_by: str
    input: str
    provider: str
    """The line format (``openai``, ``anthropic``): the provider's, named in its price file."""
    model: str
    requests: int
    custom_id_prefix: str
    custom_id_number: str
    """What the number in each custom_id is: the input's line or data row."""
    max_requests_per_file: int | None
    max_bytes_per_file: int
    parts: list[PartInfo]
    quote: JobQuote | None


def model_line_format(
    table: PriceTable, model: str, provider: str | None
) -> tuple[Model, LineFormat]:
    """The model's entry and the line format of its batch files: the one its provider's price
    file names (``batch.line_format``); ``provider``, if given, must be that format."""
    prov, entry = table.find(model)
    rule = prov.batch
    own = rule.line_format if rule is not None else None
    if provider is None and rule is not None and own is None:
        raise UsageError(
            f"{entry.id} is a model of {prov.provider}, whose batch files costcalc cannot write "
            f"yet ({rule.note or 'no line format of its own'})"
        )
    name = provider or own
    if name not in line_formats():
        raise UsageError(
            f"{entry.id} is a model of {prov.provider}; batch files are built for {known_names()} "
            f"({arg('provider')})"
        )
    if provider is not None and provider != own:
        raise UsageError(f"{entry.id} is a model of {prov.provider}, not {provider}")
    return entry, line_format(name)


def check_batch_options(
    entry: Model,
    max_tokens: int,
    max_requests: int | None,
    max_bytes: int | None,
    min_bytes: int = 1,
    function: str = "build_batch",
) -> None:
    """The options every writer of batch files takes (build, queue flush), checked alike."""
    require_count(max_tokens, "max_tokens", function)
    for name, value in (("max_requests", max_requests), ("max_bytes", max_bytes)):
        if value is not None:
            require_count(value, name, function)
    if max_tokens < 1:
        raise FieldError("max_tokens", f"must be at least 1, got {max_tokens}", sep=" ")
    if entry.max_output_tokens and max_tokens > entry.max_output_tokens:
        raise UsageError(
            f"{arg('max_tokens')} {max_tokens:,} is over {entry.id}'s maximum output of "
            f"{entry.max_output_tokens:,}"
        )
    if max_requests is not None and max_requests < 1:
        raise FieldError("max_requests", f"must be at least 1, got {max_requests}", sep=" ")
    if max_bytes is not None and max_bytes < min_bytes:
        raise FieldError("max_bytes", f"must be at least {min_bytes:,}, got {max_bytes:,}", sep=" ")


def build(
    input_path: str,
    model: str,
    out_dir: str | Path,
    *,
    provider: str | None = None,
    column: str | None = None,
    template: str | None = None,
    field_path: str | None = None,
    system: str | None = None,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    id_prefix: str = "row-",
    max_requests: int | None = None,
    max_bytes: int | None = None,
    output_tokens: int | None = None,
    force: bool = False,
    table: PriceTable | None = None,
    progress: Callable[[int], None] | None = None,
    seed: int = 0,
) -> Manifest:
    """Build provider-format batch files from ``input_path`` into ``out_dir``.

    An earlier build of the same input there is refused, or with ``force`` replaced whole: its
    parts are removed (``earlier_build``). Files are written as ``costcalc.atomic`` writes:
    only regular files, temporary files removed on failure and SIGTERM; a failing disk raises
    ``EnvironmentFailure``."""
    from costcalc._version import __version__
    from costcalc.prices import load_price_table, require_table

    input_path = path_argument(input_path, "input_path", "build_batch")
    out_dir = path_argument(out_dir, "out_dir", "build_batch")
    require_type(model, str, "model", "build_batch", "a model name (str)")
    require_type(id_prefix, str, "id_prefix", "build_batch", "a str")
    for name, value in (
        ("provider", provider),
        ("column", column),
        ("template", template),
        ("field_path", field_path),
        ("system", system),  # 5 was written into every line as the system message
    ):
        require_type(value, (str, type(None)), name, "build_batch", "a str or None")
    require_type(force, bool, "force", "build_batch", "True or False")  # "no" replaced a build
    require_table(table, "build_batch")
    if progress is not None and not callable(progress):
        raise TypeError("build_batch: progress must be a function of the rows read, or None")
    table = table or load_price_table()
    entry, fmt = model_line_format(table, model, provider)
    seller = table.find(model)[0]
    rule = seller.batch
    seller_model = table.name_of(model)  # what the manifest says: it finds the same seller
    if rule is None:
        raise UsageError(f"{entry.id}: the provider has no Batch API")
    check_batch_options(entry, max_tokens, max_requests, max_bytes)
    limit_requests, limit_bytes = effective_limits(rule, max_requests, max_bytes)
    if not re.fullmatch(r"[a-zA-Z0-9_-]{0,48}", id_prefix):
        raise UsageError(
            f"{arg('id_prefix')} {id_prefix!r}: use letters, digits, _ and - (at most 48), so "
            "every custom_id matches ^[a-zA-Z0-9_-]{1,64}$"
        )
    # a format may take fewer ids (vertex: lower case): checked once, on the first id
    if id_problems := fmt.custom_id_problems(f"{id_prefix}1", f"{arg('id_prefix')} {id_prefix!r}"):
        raise UsageError(id_problems[0])
    # the format's writer, made once: it runs for every row
    write = fmt.writer(
        model=entry.id, max_tokens=max_tokens, system=system, reasoning=entry.reasoning
    )
    # after the checks that refuse the build: a failure is one line
    if rule.max_requests is None and rule.max_bytes is None and not (max_requests or max_bytes):
        import warnings

        # Bedrock's and Vertex AI's limits are per-account quotas: none in the table to keep to
        warnings.warn(
            f"costcalc knows no per-file limit of {seller.name}'s batch files "
            f"(quotas of your account): files are split at {limit_bytes:,} bytes only; give "
            f"{arg('max_requests')} or {arg('max_bytes')} to split at yours",
            CostcalcNote,
            stacklevel=2,
        )
    out = Path(out_dir)
    stem = f"{safe_stem(Path(input_path).stem) or 'batch'}-batch"
    replaces = earlier_build(out, stem, force)
    writer = PartWriter(out, stem, limit_requests, limit_bytes, force)
    sample = Reservoir(QUOTE_SAMPLE, random.Random(seed))
    count = 0
    guard = ContextGuard(table, seller_model)
    try:
        for row in input_rows(
            input_path, column=column, template=template, field_path=field_path, progress=progress
        ):
            count += 1
            cid = f"{id_prefix}{row.number}"
            try:
                request = write(cid, row)
            except RequestError as exc:  # what the format's provider would refuse
                raise InputFileError(input_path, str(exc), row.number) from None
            line = encode_line(request)
            # the provider would reject a request over the limit; only long lines can be
            if len(line) > guard.shortest_suspect and (too_long := guard.over(line, request)):
                raise CostcalcError(f"{input_path}:{row.number}: one request has {too_long}")
            try:
                writer.add(line, cid)
            except RequestTooLarge as exc:
                raise CostcalcError(f"{input_path}:{row.number}: {exc}") from None
            if count <= QUOTE_SAMPLE or count == sample.next:
                sample.offer(row, count)
        if count == 0:
            raise InputFileError(input_path, "has no requests to put in a batch")
        job_quote = _job_quote(
            table, seller_model, write, max_tokens, sample.items, count, output_tokens
        )
        manifest = Manifest(
            created_by=f"costcalc {__version__}",
            input=str(input_path),
            provider=fmt.name,
            model=seller_model,
            requests=count,
            custom_id_prefix=id_prefix,
            custom_id_number=_id_number(input_path, column, template),
            max_requests_per_file=limit_requests,
            max_bytes_per_file=limit_bytes,
            parts=[],
            quote=job_quote,
        )
        manifest.parts = list(writer.finish())
        data = to_json(manifest).encode()
        writer.commit(extra=[(f"{stem}.manifest.json", data)], replaces=replaces)
    except BaseException:
        writer.abort()
        raise
    return manifest


def _id_number(input_path: str, column: str | None, template: str | None) -> str:
    """What the number in each custom_id counts, as ``input_rows`` numbers its rows."""
    from costcalc.tokens.readers import detect_format

    fmt = detect_format(input_path, column, template)
    if fmt == "parquet":
        return "row of the Parquet input (1 = its first row)"
    if fmt == "csv":
        return "data row of the CSV (1 = first row after the header)"
    return "line number of the input file"


def safe_stem(name: str) -> str:
    """An input's name as a name for the files built from it: control characters (an escape
    sequence in a file name reaches every terminal that lists the folder) become ``_``."""
    return "".join(c if c.isprintable() else "_" for c in name)


def earlier_build(out: Path, stem: str, force: bool) -> list[Path]:
    """The part files of an earlier build of ``stem`` in ``out``, which this one replaces: those
    its manifest (``<stem>.manifest.json``) lists. Without ``force`` any of them, or the
    manifest, is refused; so is, even with ``force``, a ``<stem>-NNN.jsonl`` the manifest does
    not list (another build's, or a copy): replacing some parts and leaving others would make
    a folder whose ``*.jsonl`` send requests twice."""
    part_name = re.compile(rf"{re.escape(stem)}-\d{{3,}}\.jsonl")
    try:
        present = sorted(e.name for e in os.scandir(out) if part_name.fullmatch(e.name))
    except (FileNotFoundError, NotADirectoryError):
        return []  # PartWriter creates the folder, or says what is in its place
    except OSError as exc:
        raise os_failure(out, exc, "cannot read the folder") from None
    manifest = out / f"{stem}.manifest.json"
    for name in [*present, manifest.name]:
        check_target(out / name, force)
    listed = _listed_parts(manifest)
    if unknown := [name for name in present if name not in listed]:
        raise InputFileError(
            out / unknown[0],
            f"is not a part of the earlier build (not in {manifest.name}); move it away: "
            "costcalc will not leave old and new batch files side by side",
        )
    return [out / name for name in present]


def _listed_parts(manifest: Path) -> set[str]:
    """The part file names an earlier manifest lists (none if it is missing or unreadable)."""
    try:
        with open(manifest, "rb") as f:
            data = parse_json(f.read(MANIFEST_MAX_BYTES))
        return {
            p["file"]
            for p in data["parts"]
            if isinstance(p, dict) and isinstance(p.get("file"), str)
        }
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return set()


MANIFEST_MAX_BYTES = 64 << 20
"""An earlier manifest is read up to this size (one lists at most thousands of parts)."""


def _job_quote(
    table: PriceTable,
    model: str,
    write: RequestWriter,
    max_tokens: int,
    sample: list[Row],
    count: int,
    output_tokens: int | None,
) -> JobQuote:
    from costcalc.calculator import quote
    from costcalc.tokens.encodings import tokenizer_for
    from costcalc.tokens.requests import CountSpec, request_tokens
    from costcalc.workload import Workload

    tok = tokenizer_for(model, table)
    # count each request as the line it becomes (system prompts merged as the provider
    # takes them), exactly as `batch quote` counts the written file
    spec = CountSpec(tok.encoding, tok.overhead, None, "strict")
    sizes = [tok.scale(request_tokens(write("", row), spec)[0]) for row in sample]
    mean = Decimal(sum(sizes)) / Decimal(len(sizes))
    basis = f"counted offline ({tok.encoding}{', estimated' if tok.estimate else ''}) " + (
        "for every request" if len(sample) == count else f"on a sample of {len(sample):,}"
    )
    out = Decimal(output_tokens if output_tokens is not None else max_tokens)
    out_basis = "given" if output_tokens is not None else "max_tokens (an upper bound)"
    q = quote(
        Workload(
            model=model,
            requests=count,
            input_tokens=min(mean, Decimal(10**8)),
            output_tokens=out,
            modes=["request", "batch"],
            rate_limited=False,
        ),
        table,
        input_sizes=Counter(sizes),  # long-context prices per request, as batch quote does
    )
    std, batch = q.mode("request"), q.mode("batch")
    return JobQuote(
        currency=q.currency,
        requests=count,
        input_tokens_per_request=mean.quantize(Decimal("0.01")),
        input_tokens_basis=basis,
        output_tokens_per_request=out,
        output_tokens_basis=out_basis,
        standard_cost=std.cost,
        batch_cost=batch.cost,
        savings=batch.savings,
        batch_typical_wait_s=float(batch.wait_s) if batch.wait_s is not None else None,
        batch_worst_wait_s=float(batch.worst_wait_s) if batch.worst_wait_s is not None else None,
        assumed=batch.assumed,
    )
