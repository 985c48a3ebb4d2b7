"""`costcalc quote` and `costcalc exercise`."""

from __future__ import annotations

import warnings
from typing import Any

import click

import costcalc
from costcalc.cli import (
    PathType,
    emit_quote,
    emit_result,
    format_option,
    prices_option,
    seed_option,
)
from costcalc.errors import CostcalcNote
from costcalc.workload import ALL_MODES, SOURCES, baseline_note


@click.command()
@click.argument("workload_file", required=False, type=PathType(), metavar="[WORKLOAD.yaml]")
@click.option("-m", "--model", help="Model id or alias (costcalc prices list).")
@click.option("--name", help="Name of the workload in the report.")
@click.option("-n", "--requests", type=int, help="Number of requests.")
@click.option("-i", "--input-tokens", metavar="N", help="Input tokens per request.")
@click.option(
    "--input-file",
    type=PathType(),
    metavar="FILE",
    help="Measure input tokens (and requests) from a file: a request per JSONL line, CSV row "
    "or non-blank line of text (as batch build reads them).",
)
@click.option(
    "--column",
    "--input-column",
    "column",
    metavar="NAME",
    help="CSV (or Parquet) column of --input-file, as in tokens and batch build "
    "(--input-column: the same).",
)
@click.option("--sample", type=int, metavar="N", help="Measure --input-file from a sample of N.")
@seed_option
@click.option(
    "--errors",
    type=click.Choice(["strict", "replace"]),
    help="Invalid UTF-8 in --input-file: stop with its line, or replace it [default: strict].",
)
@click.option("-o", "--output-tokens", metavar="N", help="Output tokens per request.")
@click.option("--cached-share", metavar="0..1", help="Share of input tokens read from cache.")
@click.option("--cache-write-share", metavar="0..1", help="Share of input tokens written to cache.")
@click.option("--cache-ttl", type=click.Choice(["5m", "1h"]), help="Cache-write lifetime.")
@click.option("--cancel-rate", metavar="0..1", help="Share of streamed requests cancelled.")
@click.option(
    "--cancel-after",
    type=int,
    metavar="N",
    help="Output tokens seen before a cancel [default: half the output].",
)
@click.option(
    "--billed-after-cancel",
    type=int,
    metavar="N",
    help="Output tokens billed after a cancel before the server notices [default: 50].",
)
@click.option(
    "--source",
    type=click.Choice(SOURCES),
    help="Where the requests come from (web-ui: someone is watching, so stream is recommended).",
)
@click.option(
    "--deadline", metavar="DURATION", help="The work must be done within, e.g. 24h, 90m, 2 days."
)
@click.option("--value-of-time", metavar="USD", help="What an hour of waiting costs you.")
@click.option(
    "--modes",
    metavar="LIST",
    help="Modes to compare: stream,request,batch,flex,priority (the default), fast, or all.",
)
@click.option(
    "--baseline",
    type=click.Choice(ALL_MODES),
    help="Savings are measured against this mode [default: request, or the first of --modes "
    "the model has when they leave it out or it has no request mode].",
)
@click.option("--tier", help="Rate-limit tier (tier-1, tier-4, ...).")
@click.option("--rpm", type=int, help="Your requests per minute.")
@click.option("--tpm", type=int, help="Your tokens per minute.")
@click.option("--batch-queue-tokens", type=int, help="Your batch queue limit (input tokens).")
@click.option("--concurrency", type=int, help="Requests in flight at once.")
@click.option(
    "--no-rate-limits", is_flag=True, default=None, help="Ignore rate limits and the batch queue."
)
@click.option(
    "--batch-wait",
    type=click.Choice(["worst", "typical"]),
    help="Batch wait for decisions: completion window (worst) or typical turnaround.",
)
@click.option("--as-of", "as_of", metavar="DATE", help="Prices in effect on DATE.")
@format_option("table", "json", "markdown", "csv")
@prices_option
def quote(workload_file: str | None, fmt: str, price_files: tuple[str, ...], **flags: Any) -> None:
    """Price a workload under every delivery mode: cost, time, savings against the wait, and
    a recommendation.

    Describe the workload with flags, or in a YAML file (one workload, or `workloads:` with
    several); flags given with a file override every workload in it.

    \b
    Examples:
        costcalc quote -m gpt-4o -n 1000000 -i 800 -o 200
        costcalc quote -m claude-sonnet-4-5 -n 50000 -i 3000 -o 500 --cached-share 0.8 \\
            --deadline 2h
        costcalc quote -m gpt-4o-mini --input-file batch.jsonl -o 150 --value-of-time 20
        costcalc quote workloads.yaml --format markdown
    """
    from costcalc.commands.flags import WORKLOAD_FLAGS

    # each option -> the workload field it sets, from the one table of flags (click names an
    # option's parameter after its flag: --cancel-rate -> cancel_rate)
    field_of = {flag.removeprefix("--").replace("-", "_"): f for f, flag in WORKLOAD_FLAGS.items()}
    options = {field_of[name]: value for name, value in flags.items()}
    if options["modes"] is not None:
        options["modes"] = costcalc.parse_modes(options["modes"])
    options["rate_limited"] = False if options["rate_limited"] else None
    if workload_file is not None:
        from_file = costcalc.load_workloads(workload_file)
        if options.get("name") is not None and len(from_file) > 1:
            raise click.UsageError(
                f"--name names one workload; {workload_file} has {len(from_file)}"
            )
        workloads = [costcalc.workload_from_options(options, base=w) for w in from_file]
    else:
        if options.get("model") is None:
            raise click.UsageError("give --model (and the workload flags) or a WORKLOAD.yaml")
        workloads = [costcalc.workload_from_options(options)]
    table = costcalc.load_price_table(price_files)
    quotes = []
    for w in workloads:
        try:
            q = costcalc.quote(w, table)
        except costcalc.CostcalcError as exc:
            if workload_file is None:
                raise
            # several workloads in one file: say which one the error is about
            raise costcalc.WorkloadError(
                workload_file, f"workload {w.name!r}: {exc.marked}"
            ) from None
        note = baseline_note(w, q)  # the quote knows which modes the model has
        if note is not None:
            named = f"workload {w.name!r}: " if len(workloads) > 1 else ""
            warnings.warn(CostcalcNote(named + note), stacklevel=1)
        quotes.append(q)
    emit_quote(costcalc.QuoteReport.of(quotes), fmt)


@click.command()
@click.option("--rows", type=int, default=1_000_000, show_default=True, help="Rows in the job.")
@click.option(
    "--tokens-per-row", type=int, default=1_000, show_default=True, help="Tokens per row."
)
@click.option(
    "--rate", metavar="USD", help="Flat price per 1M tokens [default: the lesson's $15.00]."
)
@click.option("--value-of-time", metavar="USD", help="What an hour of waiting costs you.")
@click.option(
    "--output-share",
    default="0.2",
    show_default=True,
    metavar="0..1",
    help="Share of each row's tokens that are output, for today's prices.",
)
@click.option("--as-of", "as_of", metavar="DATE", help="Prices in effect on DATE.")
@format_option("table", "json", "markdown")
@prices_option
def exercise(
    rows: int,
    tokens_per_row: int,
    rate: str | None,
    value_of_time: str | None,
    output_share: str,
    as_of: str | None,
    fmt: str,
    price_files: tuple[str, ...],
) -> None:
    """The lesson's Batch Budgeter: 1M rows at GPT-4o's flat $15 per 1M tokens, standard
    against batch, and whether the saving is worth the 24-hour wait; then the same job at
    today's gpt-4o list prices. Every assumption is printed.

    \b
    Examples:
        costcalc exercise
        costcalc exercise --value-of-time 100
        costcalc exercise --rows 20000 --tokens-per-row 3000 --format markdown
    """

    result = costcalc.exercise(
        rows=rows,
        tokens_per_row=tokens_per_row,
        rate=costcalc.parse_money(rate, "rate") if rate is not None else None,
        value_of_time=(
            costcalc.parse_money(value_of_time, "value_of_time")
            if value_of_time is not None
            else None
        ),
        output_share=costcalc.parse_share(output_share, "output_share"),
        table=costcalc.load_price_table(price_files),
        as_of=costcalc.parse_date(as_of, "as_of") if as_of is not None else None,
    )
    emit_result(result, fmt)
