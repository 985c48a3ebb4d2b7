"""The lesson's exercise (the Batch Budgeter): its table and Markdown."""

from __future__ import annotations

from typing import TYPE_CHECKING

from costcalc.money import per_hour, shared_places, usd
from costcalc.render.quote import quote_markdown, quote_table
from costcalc.render.tables import capitalized, markdown_table, text_table

if TYPE_CHECKING:  # each command imports only what it renders (start-up time)
    from costcalc.lesson import Exercise


def _exercise_rows(ex: Exercise) -> tuple[list[str], list[list[str]]]:
    headers = ["scale", "tokens", "standard", "batch", "saving", "wait", "break-even"]
    rows = []
    for s in ex.scales:  # each scale is its own job: one precision per row, not per table
        places = shared_places((s.standard_cost, s.batch_cost, s.savings))
        rows.append(
            [
                s.label,
                f"{s.tokens:,}",
                usd(s.standard_cost, places),
                usd(s.batch_cost, places),
                usd(s.savings, places),
                f"{s.wait_hours.normalize():f} h",
                per_hour(s.break_even_usd_per_hour) + "/h",
            ]
        )
    return headers, rows


def _today_line(ex: Exercise) -> str:
    b = ex.today.mode("batch")
    if b.savings is None or ex.today_break_even_usd_per_hour is None:
        return ""
    return (
        f"At {ex.today_prices} batch saves {usd(b.savings)} on this job: "
        f"{per_hour(ex.today_break_even_usd_per_hour)} per hour of a "
        f"{ex.window_hours.normalize():f} h wait, the lesson's way of counting. The rate limits "
        "below stretch the wall times."
    )


def exercise_table(ex: Exercise) -> str:
    from costcalc.calculator import QuoteReport

    headers, rows = _exercise_rows(ex)
    lines = [
        "The Batch Budgeter: standard against batch, and what the wait is worth",
        "",
        text_table(headers, rows, right=[1, 2, 3, 4, 6]).rstrip("\n"),
        "",
        *(f"{capitalized(s.question)} {capitalized(s.answer)}."
          for s in ex.scales),
        "",
        ex.conclusion,
        "",
        "assumptions:",
        *(f"  - {a}" for a in ex.assumptions),
        "",
        _today_line(ex),
        "",
        quote_table(QuoteReport.of([ex.today])).rstrip("\n"),
    ]  # fmt: skip
    return "\n".join(lines) + "\n"


def exercise_markdown(ex: Exercise) -> str:
    from costcalc.calculator import QuoteReport

    headers, rows = _exercise_rows(ex)
    lines = [
        "## The Batch Budgeter",
        "",
        markdown_table(headers, rows, right=[1, 2, 3, 4, 6]).rstrip("\n"),
        "",
        *(f"- **{capitalized(s.question)}** {capitalized(s.answer)}."
          for s in ex.scales),
        "",
        ex.conclusion,
        "",
        "<details><summary>Assumptions</summary>",
        "",
        *(f"- {a}" for a in ex.assumptions),
        "",
        "</details>",
        "",
        _today_line(ex),
        "",
        quote_markdown(QuoteReport.of([ex.today])).rstrip("\n"),
    ]  # fmt: skip
    return "\n".join(lines) + "\n"
