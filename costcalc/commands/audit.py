"""`costcalc audit`: recorded traffic -> cost per stream, routed moves, monthly saving."""

from __future__ import annotations

import click

import costcalc
from costcalc.cli import (
    PathType,
    emit,
    emit_result,
    format_option,
    out_is_no_input,
    prices_option,
    read_price_files,
)


@click.command()
@click.argument("paths", nargs=-1, required=True, type=PathType(), metavar="PATH...")
@click.option(
    "--input-format",
    "input_format",
    type=click.Choice(["auto", "otlp", "openai-usage", "litellm"]),
    default="auto",
    show_default=True,
    help="Format of the records (auto: detected from each file's content).",
)
@click.option(
    "--group-by",
    metavar="KEY",
    help="Group streams by service, operation, route, project, api_key, user, team, "
    "key_alias or tag:NAME (or several, comma-separated) [default: each format's finest].",
)
@click.option(
    "--mapping",
    type=PathType(),
    metavar="FILE",
    help="YAML: what each stream is (source, deadline).",
)
@click.option(
    "--policy", type=PathType(), metavar="FILE", help="Your routing policy (as for costcalc route)."
)
@click.option(
    "--days-per-month",
    type=click.IntRange(28, 31),
    default=30,
    show_default=True,
    help="Days in a month of the monthly figures.",
)
@click.option("--as-of", metavar="DATE", help="Prices of the monthly figures [default: the "
              "last day the records cover].")  # fmt: skip
@click.option(
    "--write-config",
    type=PathType(allow_dash=True),
    metavar="FILE",
    help="Write a costcalc.yaml with one workload per stream (costcalc check reproduces the "
    "monthly total); - writes it to stdout instead of the report. Never one of the inputs.",
)
@click.option("--force", is_flag=True, help="Replace --write-config FILE if it exists.")
@format_option("table", "json", "markdown")
@prices_option
def audit(
    paths: tuple[str, ...], input_format: str, group_by: str | None, mapping: str | None,
    policy: str | None, days_per_month: int, as_of: str | None, write_config: str | None,
    force: bool, fmt: str, price_files: tuple[str, ...],
) -> None:  # fmt: skip
    """Audit recorded traffic (OpenTelemetry spans, OpenAI usage exports, LiteLLM spend
    logs): what each stream cost, where the routing policy would send it, and what batch or
    flex would save a month.

    Each PATH is an OTLP JSON file (the Collector's file exporter), an OpenAI organization
    usage export or a LiteLLM spend log (JSON, JSONL or CSV), compressed or not, or - for
    stdin. Malformed records are reported with their line (stderr; all of them in --format
    json) and left out; the audit still exits 0.

    \b
    Examples:
        costcalc audit spans.jsonl
        costcalc audit usage/*.json --mapping streams.yaml --format markdown
        costcalc audit spans.jsonl.gz --write-config costcalc.yaml && costcalc check
    """
    to_stdout = write_config == "-"
    if to_stdout:
        write_config = None
    # --force would replace a price file read with the config (audit() checks its own inputs)
    out_is_no_input(write_config, read_price_files(price_files), "--write-config")
    table = costcalc.load_price_table(price_files)
    report = costcalc.audit(
        list(paths),
        mapping=mapping,
        group_by=group_by,
        policy=policy,
        table=table,
        days_per_month=days_per_month,
        input_format=input_format,
        as_of=as_of,
        write_config=write_config,
        force=force,
    )
    if to_stdout:
        emit(report.config_text())
    else:
        emit_result(report, fmt)
