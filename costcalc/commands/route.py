"""`costcalc route`: request source and deadline -> delivery mode."""

from __future__ import annotations

import click

import costcalc
from costcalc.cli import (
    PathType,
    emit,
    emit_result,
    format_option,
    prices_option,
)
from costcalc.workload import SOURCES


@click.command()
@click.option(
    "--source",
    type=click.Choice(SOURCES),
    help="Where the request comes from.",
)
@click.option("--deadline", metavar="DURATION", help="Needed within, e.g. 2h, 90m, 3 days.")
@click.option(
    "-m",
    "--model",
    help="Model (decides which modes are sold and the batch window) [default: gpt-4o, or "
    "the workload's; given with --workload, it replaces the workload's].",
)
@click.option(
    "--policy",
    "policy_file",
    type=PathType(),
    metavar="FILE",
    help="Your routing policy (ordered YAML rules, first match wins).",
)
@click.option(
    "--workload",
    "workload_file",
    type=PathType(),
    metavar="FILE",
    help="A workload YAML: also report the money at stake.",
)
@click.option("--show-policy", is_flag=True, help="Print the default policy and exit.")
@format_option("plain", "json", default="plain")
@prices_option
def route(
    source: str | None,
    deadline: str | None,
    model: str | None,
    policy_file: str | None,
    workload_file: str | None,
    show_policy: bool,
    fmt: str,
    price_files: tuple[str, ...],
) -> None:
    """Route a request to a delivery mode by its source and deadline.

    The default policy is the lesson's (web UI -> stream; webhook, cron, batch job ->
    batch), extended with deadlines: a deadline shorter than the provider's batch window
    goes to flex where the model sells it, else request/response. Plain output is the mode
    alone, for scripts; --format json adds the rule that matched and why.

    \b
    Examples:
        costcalc route --source cron                       # batch
        costcalc route --source webhook --deadline 2h -m o3   # flex
        costcalc route --source cron --workload nightly.yaml --format json
    """

    if show_policy:
        emit(costcalc.default_policy_text())
        return
    table = costcalc.load_price_table(price_files)
    policy = costcalc.load_policy(policy_file) if policy_file else None
    workloads: list[costcalc.Workload | None] = (
        [*costcalc.load_workloads(workload_file)] if workload_file else [None]
    )
    if model is not None:
        workloads = [w.model_copy(update={"model": model}) if w else None for w in workloads]
    results = [
        costcalc.route(source, deadline, model or "gpt-4o", policy, workload=w, table=table)  # type: ignore[arg-type]
        for w in workloads
    ]
    emit_result(results if len(results) > 1 else results[0], fmt)  # one workload: one object
