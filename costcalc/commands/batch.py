"""`costcalc batch`: build, validate, quote and reconcile batch files."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

import costcalc
from costcalc.cli import (
    CheckFailed,
    PathType,
    emit_quote,
    emit_result,
    format_option,
    prices_option,
    progress_bar,
)

if TYPE_CHECKING:
    _Choice = click.Choice[str]
else:
    _Choice = click.Choice  # generic from click 8.4 on


class _LineFormatChoice(_Choice):
    """The registered batch line formats, read when the option is parsed or shown (so a
    format registered after this module was imported is a choice too)."""

    def __init__(self) -> None:
        super().__init__(())

    @property
    def choices(self) -> tuple[str, ...]:

        return tuple(costcalc.line_formats())

    @choices.setter
    def choices(self, _value: Any) -> None:
        pass  # set by click.Choice.__init__: the registry is the list


_JOB_MODEL_HELP = (
    "Model of files whose lines name none (bedrock, vertex: the job names it) "
    "[default: the manifest batch build wrote beside them]."
)


@click.group()
def batch() -> None:
    """Batch files ready to upload: build, validate, quote, reconcile.

    \b
    Examples:
        costcalc batch build tickets.csv --column text -m gpt-4o-mini --out batches
        costcalc batch validate batches/*.jsonl
        costcalc batch quote batches/*.jsonl --output-tokens 150
        costcalc batch reconcile results.jsonl --input batches/tickets-batch-001.jsonl
    """


@batch.command("build")
@click.argument("input_file", type=PathType(), metavar="INPUT")
@click.option("-m", "--model", required=True, help="Model of every request.")
@click.option("--out", "out_dir", required=True, type=PathType(), help="Folder for the files.")
@click.option(
    "--provider",
    type=_LineFormatChoice(),
    help="Line format [default: the model's provider].",
)
@click.option("--column", metavar="NAME", help="CSV column holding the prompt.")
@click.option(
    "--template", metavar="TEXT", help='Prompt built from CSV columns, e.g. "Summarise: {body}".'
)
@click.option("--field", metavar="A.B.C", help="JSONL field holding the prompt or messages.")
@click.option("--system", metavar="TEXT", help="System prompt for every request.")
@click.option(
    "--max-tokens", type=int, default=1024, show_default=True, help="Output limit per request."
)
@click.option(
    "--output-tokens",
    type=int,
    metavar="N",
    help="Expected output per request, for the quote [default: --max-tokens].",
)
@click.option(
    "--id-prefix", default="row-", show_default=True, help="custom_id = PREFIX + input row."
)
@click.option(
    "--max-requests", type=int, metavar="N", help="Requests per file [default: provider's]."
)
@click.option("--max-bytes", type=int, metavar="N", help="Bytes per file [default: provider's].")
@click.option("--force", is_flag=True, help="Replace existing files.")
@format_option("table", "json")
@prices_option
def batch_build(
    input_file: str,
    model: str,
    out_dir: str,
    provider: str | None,
    column: str | None,
    template: str | None,
    field: str | None,
    system: str | None,
    max_tokens: int,
    output_tokens: int | None,
    id_prefix: str,
    max_requests: int | None,
    max_bytes: int | None,
    force: bool,
    fmt: str,
    price_files: tuple[str, ...],
) -> None:
    """Write provider-format batch JSONL from a CSV, JSONL or text file (one prompt per line),
    split to the provider's limits, with a manifest and the quote for the whole job.

    \b
    Examples:
        costcalc batch build tickets.csv -m gpt-4o-mini --column body --out batches/
        costcalc batch build prompts.txt -m claude-haiku-4-5 --system "Be brief." --out out/
    """

    with progress_bar([input_file]) as advance:
        manifest = costcalc.build_batch(
            input_file, model, out_dir, provider=provider, column=column, template=template,
            field_path=field, system=system, max_tokens=max_tokens, id_prefix=id_prefix,
            max_requests=max_requests, max_bytes=max_bytes, output_tokens=output_tokens,
            force=force, table=costcalc.load_price_table(price_files), progress=advance,
        )  # fmt: skip
    emit_result(manifest, fmt, out_dir=out_dir)


@batch.command("validate")
@click.argument("files", nargs=-1, required=True, type=PathType())
@click.option(
    "--max-requests", type=int, metavar="N", help="Requests per file [default: provider's]."
)
@click.option("--max-bytes", type=int, metavar="N", help="Bytes per file [default: provider's].")
@click.option("-m", "--model", help=_JOB_MODEL_HELP)
@format_option("table", "json")
@prices_option
def batch_validate(
    files: tuple[str, ...], max_requests: int | None, max_bytes: int | None,
    model: str | None, fmt: str, price_files: tuple[str, ...],
) -> None:  # fmt: skip
    """Check batch files before upload: exit 0 valid, 1 invalid, 2 unreadable.

    Checks JSON on every line, the keys each provider requires, one model (and endpoint) per
    file, custom_ids unique across all the files given and of the allowed shape, and the
    provider's request and size limits.

    \b
    Examples:
        costcalc batch validate batches/*.jsonl
        costcalc batch validate requests.jsonl --max-requests 10000 --format json
    """

    report = costcalc.validate_batch_files(
        list(files), max_requests=max_requests, max_bytes=max_bytes,
        table=costcalc.load_price_table(price_files), model=model,
    )  # fmt: skip
    emit_result(report, fmt)
    if not report.valid:
        raise CheckFailed()


@batch.command("quote")
@click.argument("files", nargs=-1, required=True, type=PathType())
@click.option(
    "--output-tokens",
    type=int,
    metavar="N",
    help="Expected output per request [default: each request's max_tokens; needed when a "
    "request gives none].",
)
@click.option("-m", "--model", help=_JOB_MODEL_HELP)
@format_option("table", "json", "markdown", "csv")
@prices_option
def batch_quote(
    files: tuple[str, ...], output_tokens: int | None, model: str | None, fmt: str,
    price_files: tuple[str, ...],
) -> None:  # fmt: skip
    """Token counts and cost, standard against batch, for batch files ready to upload.

    \b
    Examples:
        costcalc batch quote batches/*.jsonl
        costcalc batch quote requests.jsonl --output-tokens 200 --format markdown
    """

    report = costcalc.quote_batch_files(
        list(files), output_tokens, costcalc.load_price_table(price_files), model=model
    )
    emit_quote(report, fmt, total=True)


@batch.command("reconcile")
@click.argument("outputs", nargs=-1, required=True, type=PathType(), metavar="OUTPUT.jsonl...")
@click.option(
    "--input",
    "inputs",
    multiple=True,
    type=PathType(),
    metavar="FILE",
    help="The batch file(s) uploaded (repeatable): estimate and missing results.",
)
@click.option("-m", "--model", help="Model [default: named in the results].")
@click.option("--as-of", "as_of", metavar="DATE", help="Prices of the day the batch ran.")
@format_option("table", "json")
@prices_option
def batch_reconcile(
    outputs: tuple[str, ...], inputs: tuple[str, ...], model: str | None, as_of: str | None,
    fmt: str, price_files: tuple[str, ...],
) -> None:  # fmt: skip
    """Actual cost of provider batch output files at batch prices, against the estimate for
    the input; outcomes by kind; input requests with no result.

    Errored, cancelled and expired requests bill nothing.

    \b
    Examples:
        costcalc batch reconcile results.jsonl --input batches/part-001.jsonl
        costcalc batch reconcile results.jsonl -m gpt-4o-mini --as-of 2026-11-26 --format json
    """

    day = costcalc.parse_date(as_of, "as_of") if as_of is not None else None  # as quote reads it
    result = costcalc.reconcile_batch(
        list(outputs), list(inputs), model, costcalc.load_price_table(price_files), as_of=day
    )
    emit_result(result, fmt)
