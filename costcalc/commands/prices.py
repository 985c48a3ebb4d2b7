"""`costcalc prices`: list, show, validate, stale, schema, update, audit."""

from __future__ import annotations

import json

import click

import costcalc
from costcalc.cli import (
    EXIT_BAD_INPUT,
    CheckFailed,
    PathType,
    emit,
    emit_result,
    format_option,
    prices_option,
)
from costcalc.errors import CostcalcError


@click.group()
def prices() -> None:
    """The dated price table: list, show, validate, check staleness, print the schema, update
    it from newer data, audit it against genai-prices or LiteLLM.

    \b
    Examples:
        costcalc prices list --active
        costcalc prices show claude-sonnet-4-5
        costcalc prices update --from data.json
        costcalc prices audit --known shipped
    """


@prices.command("list")
@click.option(
    "--provider",
    help="Only this provider (openai, anthropic, google, aws, mistral, ...): its curated models "
    "and every model genai-prices knows of it.",
)
@click.option("--as-of", "as_of", metavar="DATE", help="Prices in effect on DATE (YYYY-MM-DD).")
@click.option(
    "--all",
    "everything",
    is_flag=True,
    help="Every model of every provider genai-prices knows, not only the curated ones.",
)
@click.option("--active", is_flag=True, help="Leave out models retired by DATE (or today).")
@format_option("table", "json", "csv")
@prices_option
def prices_list(
    provider: str | None,
    as_of: str | None,
    everything: bool,
    active: bool,
    fmt: str,
    price_files: tuple[str, ...],
) -> None:
    """List models with their standard and batch prices (USD per 1M tokens): the curated ones,
    or a provider's, or (--all) every model genai-prices knows.

    \b
    Example:
        costcalc prices list --provider anthropic
        costcalc prices list --provider mistral --active
        costcalc prices list --all --format csv > prices.csv
    """

    table = costcalc.load_price_table(price_files)
    provider = provider.strip().lower() if provider is not None else None
    on = costcalc.parse_date(as_of, "as_of") if as_of is not None else None
    result = costcalc.price_list(table, provider, on, active=active, everything=everything)
    emit_result(result, fmt)


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

    on = costcalc.parse_date(as_of, "as_of") if as_of is not None else None
    sheet = costcalc.price_sheet(costcalc.load_price_table(price_files), model, on)
    emit_result(sheet, fmt)


@prices.command("validate")
@click.argument("files", nargs=-1, required=True, type=PathType())
def prices_validate(files: tuple[str, ...]) -> None:
    """Check price files (shipped or your own): exit 0 when all are valid, 2 otherwise.

    Each file is checked on its own and merged over the shipped table, so a name that
    clashes with a shipped model is reported too.

    \b
    Example:
        costcalc prices validate my-prices.yaml
        costcalc prices validate pricing/*.yaml
    """
    from costcalc.commands.flags import on_command_line

    bad = 0
    for f in files:
        try:
            summary = costcalc.validate_price_file(f)
        except CostcalcError as exc:
            bad += 1
            click.echo(f"costcalc: error: {on_command_line(exc)}", err=True)
        else:
            emit(f"ok: {f}: {summary}\n")
    if bad:
        raise click.exceptions.Exit(EXIT_BAD_INPUT)


@prices.command("stale")
@click.option(
    "--days", default=90, show_default=True, type=click.IntRange(min=0), help="Allowed age."
)
@format_option("table", "json")
@prices_option
def prices_stale(days: int, fmt: str, price_files: tuple[str, ...]) -> None:
    """Exit 1 when any model's prices were last checked more than DAYS days ago (for CI).

    \b
    Example:
        costcalc prices stale
        costcalc prices stale --days 30 --format json
    """

    report = costcalc.stale_report(costcalc.load_price_table(price_files), days)
    emit_result(report, fmt)
    if report.stale:
        raise CheckFailed()


@prices.command("compile", hidden=True)
@click.option(
    "--out",
    "out_dir",
    metavar="DIR",
    type=PathType(file_okay=False),
    help="Write the files into DIR (default: pricing/ of the source checkout; an installed "
    "package is refused).",
)
def prices_compile(out_dir: str | None) -> None:
    """For maintainers, in a source checkout: write pricing/compiled.json from the YAML files
    (fast start-up), and pricing/genai-prices.json from the installed genai-prices (after
    upgrading its pin). Never into an installed package: --out DIR writes elsewhere.

    \b
    Example:
        costcalc prices compile
        costcalc prices compile --out /tmp/compiled
    """
    from costcalc.atomic import write_file
    from costcalc.prices import compile_target, compiled_files

    folder = compile_target(out_dir)
    for name, text in compiled_files().items():
        target = folder / name
        write_file(target, text, force=True)
        click.echo(f"wrote {target}", err=True)


@prices.command("schema")
def prices_schema() -> None:
    """Print the JSON Schema of a price file (the shipped pricing/schema.json).

    \b
    Example:
        costcalc prices schema > price-file.schema.json
    """

    emit(json.dumps(costcalc.price_schema(), indent=2) + "\n")


@prices.command("update")
@click.option(
    "--from",
    "source",
    type=PathType(),
    metavar="FILE|URL",
    help="genai-prices' data.json or LiteLLM's model_prices_and_context_window.json (detected), "
    "a file or an http(s) URL. Default: genai-prices' published data.json.",
)
@click.option(
    "--remove", is_flag=True, help="Delete the updated data: use the shipped prices again."
)
@format_option("table", "json")
def prices_update(source: str | None, remove: bool, fmt: str) -> None:
    """Read newer prices and use them from now on; print what changed against the data in
    use before (models added, removed, prices changed, counts per provider).

    The data is kept in your data folder ($COSTCALC_HOME, else $XDG_DATA_HOME/costcalc or
    ~/.local/share/costcalc on Linux, ~/Library/Application Support/costcalc on macOS,
    %LOCALAPPDATA%\\costcalc on Windows), never in the installed package. costcalc reaches
    the network only when asked: reading a URL here or in prices audit --against, gate
    posting its pull-request comment, and s3:// or gs:// inputs.

    \b
    Precedence, highest first:
      1. your price files (--prices FILE, $COSTCALC_PRICES): whole models
      2. the updated data: every price it states, curated models included
      3. the curated table (pricing/*.yaml): what the updated data does not state
      4. the shipped genai-prices data: models neither names
    A curated model keeps its names, speed, rate limits, context window, batch rules and
    its price history before the data's first date. Prices from the data say so.

    \b
    Example:
        costcalc prices update
        costcalc prices update --from model_prices_and_context_window.json
        costcalc prices update --remove
    """

    if remove and source is not None:
        raise click.UsageError("--remove takes no --from")
    if remove:
        emit_result(costcalc.remove_price_update(), fmt)
    else:
        emit_result(costcalc.update_prices(source), fmt)


@prices.command("audit")
@click.option(
    "--against",
    type=PathType(),
    metavar="FILE|URL",
    help="genai-prices' data.json or LiteLLM's JSON (detected). Default: the installed "
    "genai-prices' data.",
)
@click.option(
    "--tolerance",
    metavar="PCT",
    default="0",
    show_default=True,
    help="How far a price may differ, in percent of theirs, before the audit fails.",
)
@click.option(
    "--context-tolerance",
    "context_tolerance",
    metavar="PCT",
    default="5",
    show_default=True,
    help="The same for context windows and token limits (1M is 1,000,000 or 1,048,576).",
)
@click.option(
    "--known",
    metavar="FILE|shipped",
    type=PathType(dir_okay=False),
    help="Explained disagreements (YAML: known: [{model, field, reason}]): listed with their "
    "reason, not failures. 'shipped': the list shipped with costcalc (pricing/audit-known.yaml, "
    "inside the installed package too); ./shipped for a file of that name.",
)
@click.option("--as-of", "as_of", metavar="DATE", help="Prices in effect on DATE (YYYY-MM-DD).")
@format_option("table", "json")
@prices_option
def prices_audit(
    against: str | None,
    tolerance: str,
    context_tolerance: str,
    known: str | None,
    as_of: str | None,
    fmt: str,
    price_files: tuple[str, ...],
) -> None:
    """Compare every curated model with genai-prices or LiteLLM, field by field: prices
    (standard, cached, cache writes, output; batch, flex, priority; long-context tiers),
    context window, max output, deprecation. Exit 1 when a disagreement is beyond the
    tolerance, 0 otherwise, 2 for bad input. What only one side states is listed apart.

    \b
    Example:
        costcalc prices audit
        costcalc prices audit --known shipped
        costcalc prices audit --against model_prices_and_context_window.json --tolerance 1
    """

    report = costcalc.audit_prices(
        costcalc.load_price_table(price_files, updated=False),
        against,
        tolerance=tolerance,
        context_tolerance=context_tolerance,
        on=costcalc.parse_date(as_of, "as_of") if as_of is not None else None,
        known=True if known == "shipped" else known,
    )
    emit_result(report, fmt)
    if report.failed:
        raise CheckFailed()
