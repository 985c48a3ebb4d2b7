"""What `costcalc prices` reports: a model's whole price sheet, the list of models, and
which prices are stale. Result objects read by the renderers; kept apart from prices.py so
that commands which only look prices up do not build them."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict

from costcalc.errors import UsageError, require_count, require_type
from costcalc.money import MoneyOut
from costcalc.prices import (
    Basis,
    BatchRule,
    Mode,
    ModeRates,
    PriceTable,
    days_old,
)
from costcalc.units import date_argument


class Report(BaseModel):
    """Base of the `costcalc prices` result objects: built on first use, not at import."""

    model_config = ConfigDict(defer_build=True)


class RateOut(Report):
    component: str
    usd_per_mtok: MoneyOut
    basis: Basis
    note: str = ""


class ModeOut(Report):
    mode: Mode
    available: bool
    reason: str = ""
    prices: list[RateOut] = []
    per_1k_requests: MoneyOut | None = None
    """A fee per request, USD per 1,000 requests, whatever their tokens (None: none)."""
    per_1k_requests_note: str = ""
    """Why the fee is assumed (the mode lists none of its own); empty: published."""


class TierOut(Report):
    above_input_tokens: int | None
    """None: the base prices; otherwise a request whose input exceeds this many tokens."""
    modes: list[ModeOut]


class PeriodOut(Report):
    effective_from: dt.date | None
    as_of: dt.date
    source: str
    origin: str | None = None
    """The data these prices were taken from (``as_of``: the day it was read), if any."""
    input: MoneyOut
    output: MoneyOut
    per_1k_requests: MoneyOut | None = None
    """The standard fee per 1,000 requests (None: none)."""


class PriceSheet(Report):
    """Everything `costcalc prices show` reports about one model on one date."""

    currency: str
    model: str
    name: str
    provider: str
    teaching: bool
    description: str | None
    aliases: list[str]
    snapshots: list[str]
    encoding: str | None
    context_window: int | None
    """None: not known (some models known only from price data)."""
    max_input_tokens: int | None
    max_output_tokens: int | None
    released: dt.date | None
    deprecated: dt.date | None = None
    """The day the provider retires (retired) the model."""
    deprecation: str | None = None
    """Where that comes from (or a deprecation mark without a date)."""
    on: dt.date
    effective_from: dt.date | None
    as_of: dt.date
    source: str
    origin: str | None = None
    provenance: str
    """Where the prices come from, as every output says it ("checked DATE against URL", or
    "from DATA (read DATE; it cites URL)")."""
    note: str | None
    tiers: list[TierOut]
    periods: list[PeriodOut]
    batch_rule: BatchRule | None


def _mode_out(rates: ModeRates) -> ModeOut:
    return ModeOut(
        mode=rates.mode,
        available=rates.available,
        reason=rates.reason,
        prices=[
            RateOut(component=c, usd_per_mtok=r.usd_per_mtok, basis=r.basis, note=r.note)
            for c, r in rates.rates.items()
        ],
        per_1k_requests=rates.request_fee,
        per_1k_requests_note=rates.request_fee_note,
    )


def price_sheet(table: PriceTable, name: str, on: dt.date | str | None = None) -> PriceSheet:
    """Every price of ``name`` on ``on``: each mode and long-context tier, published or assumed."""
    require_type(table, PriceTable, "table", "price_sheet", "a costcalc.PriceTable")
    require_type(name, str, "name", "price_sheet", "a model name (str)")
    mp = table.prices(name, date_argument(on, "on", "price_sheet") if on is not None else None)
    model, period = mp.model, mp.period
    starts = [0] + [t.above_input_tokens + 1 for t in period.tiers]
    tiers = [
        TierOut(
            above_input_tokens=(tokens - 1) if tokens else None,
            modes=[_mode_out(r) for r in mp.all_modes(tokens)],
        )
        for tokens in starts
    ]
    return PriceSheet(
        currency=mp.currency,
        model=model.id,
        name=model.name,
        provider=mp.provider.provider,
        teaching=model.teaching,
        description=model.description,
        aliases=list(model.aliases),
        snapshots=[s.id for s in model.snapshots],
        encoding=model.encoding,
        context_window=model.context_window,
        max_input_tokens=model.max_input_tokens,
        max_output_tokens=model.max_output_tokens,
        released=model.released,
        deprecated=model.deprecated,
        deprecation=model.deprecation,
        on=mp.on,
        effective_from=period.effective_from,
        as_of=period.as_of,
        source=period.source,
        origin=period.origin,
        provenance=period.provenance(),
        note=period.note,
        tiers=tiers,
        periods=[
            PeriodOut(
                effective_from=p.effective_from,
                as_of=p.as_of,
                source=p.source,
                origin=p.origin,
                input=p.standard.input,
                output=p.standard.output,
                per_1k_requests=p.standard.per_1k_requests,
            )
            for p in model.prices
        ],
        batch_rule=mp.provider.batch,
    )


class PriceListRow(Report):
    provider: str
    model: str
    name: str
    teaching: bool
    as_of: dt.date
    input: MoneyOut
    cached_input: MoneyOut | None
    output: MoneyOut
    batch_input: MoneyOut | None
    batch_output: MoneyOut | None
    batch_assumed: bool
    modes: list[Mode]
    context_window: int | None
    per_1k_requests: MoneyOut | None = None
    """A fee per request on top of the tokens, USD per 1,000 requests (None: none)."""


class PriceList(Report):
    currency: str
    on: dt.date
    models: list[PriceListRow]


def price_list(
    table: PriceTable,
    provider: str | None = None,
    on: dt.date | str | None = None,
    active: bool = False,
    everything: bool = False,
) -> PriceList:
    """One row per model: its prices on ``on`` (default today) and the modes it sells.

    The curated models, or for a ``provider`` also the models genai-prices adds (every model
    of every provider with ``everything``); ``active`` leaves out retired models."""
    day = date_argument(on, "on", "price_list") if on is not None else dt.date.today()
    rows = []
    for prov, model in table.models(provider, everything):
        if active and model.retired_by(day):
            continue
        try:
            mp = table.prices_of(prov, model, day)
        except UsageError:
            continue  # not yet priced on that day
        std = mp.period.standard
        batch = mp.mode("batch")
        b_in, b_out = batch.rate("input"), batch.rate("output")
        rows.append(
            PriceListRow(
                provider=prov.provider,
                model=model.id,
                name=model.name,
                teaching=model.teaching,
                as_of=mp.period.as_of,
                input=std.input,
                cached_input=std.cached_input,
                output=std.output,
                batch_input=b_in.usd_per_mtok if b_in else None,
                batch_output=b_out.usd_per_mtok if b_out else None,
                batch_assumed=bool(batch.available and {"input", "output"} & set(batch.assumed)),
                modes=[m.mode for m in mp.all_modes() if m.available],
                context_window=model.context_window,
                per_1k_requests=std.per_1k_requests,
            )
        )
    return PriceList(currency=table.currency, on=day, models=rows)


class StaleModel(Report):
    provider: str
    model: str
    as_of: dt.date
    days_old: int


class StaleReport(Report):
    days: int
    today: dt.date
    stale: list[StaleModel]
    checked: int


def stale_report(table: PriceTable, days: int, today: dt.date | str | None = None) -> StaleReport:
    """Models whose current prices were last checked more than ``days`` days before ``today``
    (a ``datetime.date`` or 'YYYY-MM-DD'; default: today)."""
    require_type(table, PriceTable, "table", "stale_report", "a costcalc.PriceTable")
    require_count(days, "days", "stale_report", minimum=0)
    today = date_argument(today, "today", "stale_report") if today is not None else dt.date.today()
    stale = []
    count = 0
    for prov, model in table.models():
        count += 1
        age = days_old(model, today)
        if age > days:
            as_of = today - dt.timedelta(days=age)
            stale.append(
                StaleModel(provider=prov.provider, model=model.id, as_of=as_of, days_old=age)
            )
    return StaleReport(days=days, today=today, stale=stale, checked=count)
