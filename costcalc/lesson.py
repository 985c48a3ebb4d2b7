"""The lesson's Batch Budgeter, reproduced: standard against batch at two scales, with the
value of the wait, then the same job at today's gpt-4o list prices. (The module is named
lesson, not exercise: once imported, a module of that name would hide ``costcalc.exercise``,
the function.)

The lesson's arithmetic is kept as the lesson does it: a flat rate per 1M tokens for every
token, batch at the provider's 50% rule, results within the 24 h completion window, and
standard answers taken to arrive at once. Every assumption is listed in the result.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from pydantic import BaseModel

from costcalc.calculator import Quote, quote
from costcalc.cost import component_costs
from costcalc.delivery import count_of
from costcalc.errors import FieldError, UsageError
from costcalc.money import MoneyOut, per_hour, per_hour_rate, usd
from costcalc.prices import PriceTable, load_price_table
from costcalc.workload import Workload

LESSON_MODEL = "gpt-4o-lesson"
TODAY_MODEL = "gpt-4o"
POCKET_CHANGE = Decimal(100)
"""A saving below this (USD) is the lesson's "pocket change"."""
LESSON_TOKENS = 1_000_000
"""The lesson's first scale: 1M tokens."""


class ExerciseScale(BaseModel):
    label: str
    tokens: int
    standard_cost: MoneyOut
    batch_cost: MoneyOut
    savings: MoneyOut
    wait_hours: Decimal
    break_even_usd_per_hour: MoneyOut
    """Saving per hour of waiting: worth it unless an hour of waiting costs more."""
    question: str
    answer: str


class Exercise(BaseModel):
    """What `costcalc exercise` reports."""

    currency: str
    prices_as_of: dt.date
    model: str
    rate_usd_per_mtok: MoneyOut
    batch_rate_usd_per_mtok: MoneyOut
    batch_rate_basis: str
    window_hours: Decimal
    rows: int
    tokens_per_row: int
    value_of_time: MoneyOut | None
    assumptions: list[str]
    scales: list[ExerciseScale]
    conclusion: str
    today_prices: str
    """Which list prices the last section uses: "today's prices" or "the prices of <date>"."""
    today_split: dict[str, int]
    today_break_even_usd_per_hour: MoneyOut | None
    """Today's batch saving per hour of the completion window (the lesson's view)."""
    today: Quote


def _answer(savings: Decimal, hours: Decimal, vot: Decimal | None) -> str:
    be = per_hour_rate(savings, hours)
    if vot is None:
        return (
            f"worth it unless an hour of waiting costs you more than {per_hour(be)}"
            if savings > 0
            else "no saving"
        )
    waiting = vot * hours
    if savings > waiting:
        return (
            f"yes: at {usd(vot)} an hour, {hours.normalize():f} h of waiting costs "
            f"{usd(waiting)}, less than the {usd(savings)} saved"
        )
    return (
        f"no: at {usd(vot)} an hour, {hours.normalize():f} h of waiting costs {usd(waiting)}, "
        f"more than the {usd(savings)} saved"
    )


def exercise(
    rows: int = 1_000_000,
    tokens_per_row: int = 1_000,
    rate: Decimal | int | str | None = None,
    value_of_time: Decimal | int | str | None = None,
    output_share: Decimal | int | str = Decimal("0.2"),
    table: PriceTable | None = None,
    as_of: dt.date | str | None = None,
) -> Exercise:
    """The lesson's exercise: ``rows`` of ``tokens_per_row`` at a flat ``rate`` per 1M tokens
    (default: the lesson's $15), standard against batch, and at today's gpt-4o prices.

    Amounts may be given as ``Decimal``, ``int`` or text ("15", "$1,200"); ``as_of`` as a date
    or YYYY-MM-DD."""
    from costcalc.units import date_argument, parse_count, parse_money, parse_share

    rows = parse_count(rows, "rows")
    tokens_per_row = parse_count(tokens_per_row, "tokens_per_row")
    rate = parse_money(rate, "rate") if rate is not None else None
    value_of_time = (
        parse_money(value_of_time, "value_of_time") if value_of_time is not None else None
    )
    output_share = parse_share(output_share, "output_share")
    as_of = date_argument(as_of, "as_of", "exercise") if as_of is not None else None
    if rows < 1 or rows > 10**12:
        raise FieldError("rows", f"must be between 1 and 10^12, got {rows:,}")
    if tokens_per_row < 1 or tokens_per_row > 10**7:
        raise FieldError(
            "tokens_per_row", f"must be between 1 and 10,000,000, got {tokens_per_row:,}"
        )
    if rate is not None and (not rate.is_finite() or rate <= 0):
        raise FieldError("rate", f"must be a positive price per 1M tokens, got {rate}")
    if value_of_time is not None and (not value_of_time.is_finite() or value_of_time < 0):
        raise FieldError("value_of_time", f"must be zero or more, got {value_of_time}")
    if not 0 <= output_share <= 1:
        raise FieldError("output_share", f"must be between 0 and 1, got {output_share}")
    table = table or load_price_table()
    lesson = table.prices(LESSON_MODEL, as_of)
    rule = lesson.provider.batch
    # the teaching rate's provider (OpenAI) documents its discount and window
    assert rule is not None and rule.discount is not None
    assert rule.completion_window_hours is not None
    std_rate = lesson.period.standard.input if rate is None else rate
    batch_rates = lesson.mode("batch")
    published_batch = batch_rates.rates["input"].basis == "published" and rate is None
    batch_rate = batch_rates.rates["input"].usd_per_mtok if rate is None else rate * rule.discount
    hours = rule.completion_window_hours
    scales = []
    for label, tokens in (
        ("1M tokens", LESSON_TOKENS),
        (f"{count_of(rows, 'row')} × {count_of(tokens_per_row, 'token')}", rows * tokens_per_row),
    ):
        # the lesson's flat rate prices every token alike: one component
        standard = component_costs({"tokens": tokens}, {"tokens": std_rate})["tokens"]
        batch = component_costs({"tokens": tokens}, {"tokens": batch_rate})["tokens"]
        savings = standard - batch
        scales.append(
            ExerciseScale(
                label=label,
                tokens=tokens,
                standard_cost=standard,
                batch_cost=batch,
                savings=savings,
                wait_hours=hours,
                break_even_usd_per_hour=per_hour_rate(savings, hours),
                question=f"is {usd(savings)} worth {hours.normalize():f} hours?",
                answer=_answer(savings, hours, value_of_time),
            )
        )
    small, big = scales
    # the lesson's word for $7.50; a --rate that makes the small saving real does not get it
    shrug = "pocket change, " if small.savings < POCKET_CHANGE else ""
    conclusion = (
        f"At {small.label} the saving is {usd(small.savings)}: {shrug}"
        f"{per_hour(small.break_even_usd_per_hour)} per hour of waiting. At {big.label} it is "
        f"{usd(big.savings)} a run, {per_hour(big.break_even_usd_per_hour)} for every hour of "
        f"the {hours.normalize():f} h wait. Work nobody is waiting on (nightly jobs, backfills, "
        "evaluations, webhooks) belongs in the Batch API; people at a screen get streaming."
    )
    out_tokens = int(
        (Decimal(tokens_per_row) * output_share).to_integral_value(rounding=ROUND_HALF_UP)
    )
    in_tokens = tokens_per_row - out_tokens
    today_prices = "today's prices" if as_of is None else f"the prices of {as_of.isoformat()}"
    try:
        today = quote(
            Workload(
                name=f"the same job at today's {TODAY_MODEL} list prices"
                if as_of is None
                else f"the same job at {TODAY_MODEL} list prices of {as_of.isoformat()}",
                model=TODAY_MODEL,
                requests=rows,
                input_tokens=Decimal(in_tokens),
                output_tokens=Decimal(out_tokens),
                value_of_time=value_of_time,
                as_of=as_of,
            ),
            table,
        )
    except UsageError as exc:
        raise FieldError(
            "tokens_per_row",
            f"{tokens_per_row:,}: the job at {TODAY_MODEL} list prices splits a row into "
            f"{in_tokens:,} input + {out_tokens:,} output tokens, and {exc.marked}",
            sep=" ",
        ) from None
    today_batch = today.mode("batch")
    today_be = (
        per_hour_rate(today_batch.savings, hours) if today_batch.savings is not None else None
    )
    basis = (
        "published in the price table"
        if published_batch
        else f"assumed: OpenAI's batch rule, {((1 - rule.discount) * 100).normalize():f}% off"
    )
    actual_share = Decimal(out_tokens) / Decimal(tokens_per_row)
    rounded = (
        f" of a row, rounded to whole tokens: {(actual_share * 100).quantize(Decimal('0.1'))}%"
        if actual_share != output_share
        else ""
    )
    assumptions = [
        f"rate: {usd(std_rate)} per 1M tokens for every token, input and output alike"
        + (
            ": the lesson's teaching rate for GPT-4o (its launch output price; its launch "
            "input price was $5.00), not today's list price"
            if rate is None
            else " (given with --rate)"
        ),
        f"batch: {usd(batch_rate)} per 1M tokens ({basis}); results within the "
        f"{hours.normalize():f} h completion window, so the wait is taken as "
        f"{hours.normalize():f} h",
        "standard (request/response) answers are taken to arrive at once, as in the lesson; "
        "rate limits are left out of the lesson's arithmetic",
        ("today's section" if as_of is None else f"the {as_of.isoformat()} section")
        + f": {TODAY_MODEL} list "
        f"prices on {today.prices_as_of}, each row "
        f"{in_tokens:,} input + {out_tokens:,} output tokens (output share "
        f"{(output_share * 100).normalize():f}%{rounded}, set with --output-share), timed "
        f"under the {today.tier} rate limits",
    ]
    return Exercise(
        currency=lesson.currency,
        prices_as_of=lesson.on,
        model=lesson.model.id,
        rate_usd_per_mtok=std_rate,
        batch_rate_usd_per_mtok=batch_rate,
        batch_rate_basis=basis,
        window_hours=hours,
        rows=rows,
        tokens_per_row=tokens_per_row,
        value_of_time=value_of_time,
        assumptions=assumptions,
        scales=scales,
        conclusion=conclusion,
        today_prices=today_prices,
        today_split={"input_tokens": in_tokens, "output_tokens": out_tokens},
        today_break_even_usd_per_hour=today_be,
        today=today,
    )
