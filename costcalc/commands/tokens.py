"""`costcalc tokens`: count input tokens offline."""

from __future__ import annotations

import sys

import click

import costcalc
from costcalc.cli import (
    PathType,
    emit_result,
    format_option,
    prices_option,
    progress_bar,
    seed_option,
)


@click.command()
@click.argument("files", nargs=-1, type=PathType(allow_dash=True))
@click.option("-t", "--text", help="Count this text instead of files.")
@click.option(
    "-m",
    "--model",
    help="Model whose tokenizer to use [default: gpt-4o, or the model named in a batch file].",
)
@click.option(
    "--messages",
    is_flag=True,
    help="The input is chat messages (JSON or JSONL): count with the chat overhead.",
)
@click.option(
    "--as-sent",
    is_flag=True,
    help="Count each request that is bare text as it is sent: one user message, with the "
    "chat overhead, and a text file one request per non-blank line (what quote --input-file "
    "and batch build count).",
)
@click.option(
    "--field", metavar="A.B.C", help="JSON field holding each request's text or messages."
)
@click.option("--column", metavar="NAME", help="CSV or Parquet column holding each request's text.")
@click.option(
    "--template",
    metavar="TEXT",
    help='Build each request from CSV columns, e.g. "Summarise: {text}".',
)
@click.option(
    "--input-format",
    type=click.Choice(["text", "lines", "jsonl", "json", "csv", "parquet"]),
    help="Override the format guessed from the file name (lines: one request per line of text).",
)
@click.option(
    "--sample",
    type=int,
    metavar="N",
    help="Count a random sample of N requests and estimate the total (95% interval).",
)
@seed_option
@click.option("--jobs", type=int, default=1, show_default=True, help="Worker processes.")
@click.option(
    "--errors",
    type=click.Choice(["strict", "replace"]),
    default="strict",
    show_default=True,
    help="Invalid UTF-8: stop with its line, or replace it.",
)
@click.option(
    "--engine",
    type=click.Choice(["local", "spark"]),
    default="local",
    show_default=True,
    help="Count here, or on Spark (Parquet files or folders and --column; the extra spark).",
)
@click.option(
    "--master",
    metavar="URL",
    help="Spark master URL for --engine spark, e.g. local[4] [default: spark-submit's].",
)
@format_option("plain", "table", "json", default="plain")
@prices_option
def tokens(
    files: tuple[str, ...],
    text: str | None,
    model: str | None,
    messages: bool,
    as_sent: bool,
    field: str | None,
    column: str | None,
    template: str | None,
    input_format: str | None,
    sample: int | None,
    seed: int | None,
    jobs: int,
    errors: str,
    engine: str,
    master: str | None,
    fmt: str,
    price_files: tuple[str, ...],
) -> None:
    """Count input tokens offline: text, chat messages, JSONL batch files, CSV exports.

    Each JSONL line, CSV row or text file is one request. Plain output is a bare number,
    for pipes; --format table or json adds requests, per-request mean / p50 / p95 / max and
    how many requests exceed the model's context window.

    \b
    Examples:
        costcalc tokens notes.txt
        echo "Hello world" | costcalc tokens -
        costcalc tokens batch.jsonl --format json
        costcalc tokens export.csv --column body --template "Summarise: {body}"
        costcalc tokens export.csv --column body --as-sent   # as quote --input-file counts
        costcalc tokens prompts.parquet --column text      # a file or a folder of them
        costcalc tokens requests.jsonl.gz                  # gzip, bzip2, xz or zstd
        costcalc tokens big.jsonl --sample 2000 --seed 7
        costcalc tokens prompt.txt -m claude-sonnet-4-5     # an estimate, and says so
        costcalc tokens --engine spark --column text s3a://bucket/prompts/
    """

    # without --prices, a curated model's tokenizer is looked up without building the table
    table = costcalc.load_price_table(price_files) if price_files else None
    if master is not None and engine != "spark":
        raise click.UsageError("--master applies to --engine spark only")
    if seed is not None and sample is None:
        raise click.UsageError("--seed applies to --sample only (it draws the same sample again)")
    if as_sent and (engine == "spark" or text is not None):
        raise click.UsageError(
            "--as-sent applies to files counted here (echo TEXT | costcalc tokens - --as-sent)"
        )
    if engine == "spark":
        spark_column = _spark_column(
            files, text, column, field, template, input_format, sample, jobs
        )
        result = costcalc.count_on_spark(
            list(files), spark_column, model, master=master, messages=messages, table=table
        )
    elif text is not None:
        if files:
            raise click.UsageError("give either --text or files, not both")
        result = costcalc.count_string(text, model, messages=messages, table=table)
    else:
        if not files:
            if sys.stdin.isatty():
                raise click.UsageError("give a file, - for stdin, or --text TEXT")
            files = ("-",)
        with progress_bar(files) as advance:
            result = costcalc.count_file(
                list(files), model, messages=messages, field=field, column=column,
                template=template, input_format=input_format,  # type: ignore[arg-type]
                sample=sample, seed=seed, jobs=jobs, errors=errors,  # type: ignore[arg-type]
                prompts_as_messages=as_sent, progress=advance, table=table,
            )  # fmt: skip
    emit_result(result, fmt, seed=seed)


def _spark_column(
    files: tuple[str, ...],
    text: str | None,
    column: str | None,
    field: str | None,
    template: str | None,
    input_format: str | None,
    sample: int | None,
    jobs: int,
) -> str:
    """The column --engine spark counts; the options it does not read are refused (Spark
    reads Parquet and splits the work itself)."""
    given = [
        name
        for name, value in (
            ("--text", text), ("--field", field), ("--template", template),
            ("--input-format", input_format), ("--sample", sample),
            ("--jobs", jobs if jobs != 1 else None),
        )
        if value is not None
    ]  # fmt: skip
    if given:
        raise click.UsageError(f"{given[0]} does not apply to --engine spark")
    if not files:
        raise click.UsageError("--engine spark needs Parquet files or folders")
    if column is None:
        raise click.UsageError("--engine spark needs --column NAME")
    return column
