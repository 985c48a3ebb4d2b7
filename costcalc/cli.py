"""The ``costcalc`` command: parse, call the library, render. No logic lives here.

Exit codes: 0 ok; 1 a check failed (budget, threshold, stale prices, invalid batch file);
2 bad input or usage. Bad input is one line on stderr, never a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import click

from costcalc import __version__
from costcalc.errors import CostcalcError

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_CHECK_FAILED, EXIT_BAD_INPUT = 0, 1, 2


class CheckFailed(click.exceptions.Exit):
    """A check ran and failed: exit 1 after the report is written."""

    def __init__(self) -> None:
        super().__init__(EXIT_CHECK_FAILED)


def prices_option(func: F) -> F:
    """``--prices FILE`` (repeatable): user price files on top of the shipped table."""
    return click.option(
        "--prices",
        "price_files",
        multiple=True,
        type=click.Path(dir_okay=True),
        metavar="FILE",
        help="Extra price file (repeatable); adds or replaces providers and models. "
        "Also read from $COSTCALC_PRICES.",
    )(func)


def format_option(*choices: str, default: str = "table") -> Callable[[F], F]:
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(choices),
        default=default,
        show_default=True,
        help="Output format.",
    )


def emit(text: str) -> None:
    """Write data to stdout (chatter goes to stderr)."""
    click.echo(text, nl=False)


class CostcalcGroup(click.Group):
    """Turns a ``CostcalcError`` from any subcommand into one line on stderr and exit 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CostcalcError as exc:
            click.echo(f"costcalc: error: {exc}", err=True)
            raise click.exceptions.Exit(EXIT_BAD_INPUT) from None


@click.group(cls=CostcalcGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="costcalc")
def cli() -> None:
    """What an LLM API workload costs under each delivery mode, and how long it takes.

    Prices are dated and sourced (costcalc prices), tokens are counted offline, and every
    figure can be recomputed by hand from the price table and the inputs.
    """


# --- prices ---------------------------------------------------------------------------------


@cli.group()
def prices() -> None:
    """The dated price table: list, show, validate, check staleness, print the schema."""


@prices.command("list")
@click.option("--provider", help="Only this provider (openai, anthropic, google, ...).")
@click.option("--as-of", "as_of", metavar="DATE", help="Prices in effect on DATE (YYYY-MM-DD).")
@format_option("table", "json", "csv")
@prices_option
def prices_list(
    provider: str | None, as_of: str | None, fmt: str, price_files: tuple[str, ...]
) -> None:
    """List every model with its standard and batch prices (USD per 1M tokens).

    \b
    Example:
        costcalc prices list --provider anthropic
        costcalc prices list --format csv > prices.csv
    """
    from costcalc import render
    from costcalc.prices import load_price_table, price_list

    result = price_list(load_price_table(price_files), provider, as_of)
    if fmt == "json":
        emit(render.to_json(result))
    elif fmt == "csv":
        emit(render.price_list_csv(result))
    else:
        emit(render.price_list_table(result))


@prices.command("show")
@click.argument("model")
@click.option("--as-of", "as_of", metavar="DATE", help="Prices in effect on DATE (YYYY-MM-DD).")
@format_option("table", "json")
@prices_option
def prices_show(model: str, as_of: str | None, fmt: str, price_files: tuple[str, ...]) -> None:
    """Show every price of MODEL: standard, cached, cache writes, batch, flex, priority and
    long-context tiers, each marked published or assumed.

    \b
    Example:
        costcalc prices show gpt-4o
        costcalc prices show o3 --as-of 2025-06-01 --format json
    """
    from costcalc import render
    from costcalc.prices import load_price_table, price_sheet

    sheet = price_sheet(load_price_table(price_files), model, as_of)
    emit(render.to_json(sheet) if fmt == "json" else render.price_sheet_table(sheet))


@prices.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path())
def prices_validate(files: tuple[str, ...]) -> None:
    """Check price files (shipped or your own): exit 0 when all are valid, 2 otherwise.

    Each file is checked on its own and merged over the shipped table, so a name that
    clashes with a shipped model is reported too.
    """
    from costcalc.prices import validate_price_file

    bad = 0
    for f in files:
        try:
            summary = validate_price_file(f)
        except CostcalcError as exc:
            bad += 1
            click.echo(f"costcalc: error: {exc}", err=True)
        else:
            click.echo(f"ok: {f}: {summary}")
    if bad:
        raise click.exceptions.Exit(EXIT_BAD_INPUT)


@prices.command("stale")
@click.option(
    "--days", default=90, show_default=True, type=click.IntRange(min=0), help="Allowed age."
)
@format_option("table", "json")
@prices_option
def prices_stale(days: int, fmt: str, price_files: tuple[str, ...]) -> None:
    """Exit 1 when any model's prices were last checked more than DAYS days ago (for CI)."""
    from costcalc import render
    from costcalc.prices import load_price_table, stale_report

    report = stale_report(load_price_table(price_files), days)
    emit(render.to_json(report) if fmt == "json" else render.stale_table(report))
    if report.stale:
        raise CheckFailed()


@prices.command("schema")
def prices_schema() -> None:
    """Print the JSON Schema of a price file (the shipped pricing/schema.json)."""
    from costcalc.prices import price_schema

    emit(json.dumps(price_schema(), indent=2) + "\n")
