"""`costcalc check` and `costcalc diff`: budgets in pull-request CI."""

from __future__ import annotations

import click

import costcalc
from costcalc.cli import (
    CheckFailed,
    F,
    PathType,
    format_option,
    out_is_no_input,
    prices_option,
    read_price_files,
    write_or_emit,
)
from costcalc.errors import UsageError


def report_options(func: F) -> F:
    """The options check and diff share: a missing base, the format, --out and --prices."""
    for option in reversed(
        [
            click.option(
                "--allow-missing-base",
                is_flag=True,
                help="A base REF without the file counts as no workloads (the config is new).",
            ),
            format_option("table", "json", "markdown"),
            click.option(
                "--out",
                type=PathType(),
                metavar="FILE",
                help="Write the report to FILE, not stdout.",
            ),
            click.option("--force", is_flag=True, help="Replace --out FILE if it exists."),
            prices_option,
        ]
    ):
        func = option(func)
    return func


@click.command()
@click.argument("configs", nargs=-1, type=PathType(), metavar="[CONFIG ...]")
@click.option(
    "--base",
    metavar="CONFIG|REF:PATH",
    help="The base to check the increase limits against, e.g. origin/main:costcalc.yaml "
    "(one CONFIG only).",
)
@report_options
def check(
    configs: tuple[str, ...], base: str | None, allow_missing_base: bool, fmt: str,
    out: str | None, force: bool, price_files: tuple[str, ...],
) -> None:  # fmt: skip
    """Check a project's LLM budgets and policies: exit 0 when all hold, 1 when any fails.

    Each CONFIG (default costcalc.yaml; several for pre-commit) is a file or REF:PATH. It
    lists workloads with their volume per day or month and the mode they run in today, and
    budgets: a monthly total, per-workload budgets, warning levels (reported, never
    failing), the largest allowed increase against --base, and the batch-eligible policy
    (background work that is not batched fails when batching would save more than a set
    amount).

    \b
    Examples:
        costcalc check
        costcalc check costcalc.yaml --base origin/main:costcalc.yaml --format markdown
        costcalc check services/api/costcalc.yaml services/web/costcalc.yaml
    """

    configs = configs or ("costcalc.yaml",)
    if base is not None and len(configs) > 1:
        raise UsageError(f"--base compares one config, got {len(configs)}")
    out_is_no_input(out, [*configs, base, *read_price_files(price_files)])
    table = costcalc.load_price_table(price_files)
    base_cfg = costcalc.load_config(base, allow_missing_ref=allow_missing_base) if base else None
    reports = [costcalc.check_budgets(costcalc.load_config(c), c, base_cfg, table) for c in configs]
    # several: a JSON array, or each report in turn
    write_or_emit(costcalc.render_result(reports if len(reports) > 1 else reports[0], fmt),
                  out, force)  # fmt: skip
    if not all(r.passed for r in reports):
        raise CheckFailed()


@click.command()
@click.argument("base", type=PathType(), metavar="BASE")
@click.argument("head", type=PathType(), metavar="HEAD")
@click.option(
    "--fail-on-increase",
    metavar="10%|500",
    help="Exit 1 when the monthly total rises by more than this percentage or amount (USD).",
)
@report_options
def diff(
    base: str, head: str, fail_on_increase: str | None, allow_missing_base: bool, fmt: str,
    out: str | None, force: bool, price_files: tuple[str, ...],
) -> None:  # fmt: skip
    """Monthly LLM cost of HEAD against BASE, each a config file or REF:PATH.

    Prints a headline ("monthly LLM cost will increase by $1,080.00 (+40.2%)"), a table per
    workload and the details. The markdown is a pull-request comment: it carries a hidden
    marker (<!-- costcalc-diff -->) so CI can update one comment in place, and stays under
    GitHub's 65,536-character limit.

    \b
    Examples:
        costcalc diff origin/main:costcalc.yaml costcalc.yaml
        costcalc diff old.yaml new.yaml --format markdown --fail-on-increase 10%
    """

    out_is_no_input(out, [base, head, *read_price_files(price_files)])
    report = costcalc.diff_budgets(
        base, head, fail_on_increase, allow_missing_base, costcalc.load_price_table(price_files)
    )
    write_or_emit(costcalc.render_result(report, fmt), out, force)
    if report.failed:
        raise CheckFailed()
