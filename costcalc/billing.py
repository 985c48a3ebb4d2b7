"""How a job's tokens bill: the job (a workload resolved against the price table), its
requests grouped by the prices they get (long-context bands), each group's tokens by the
component that bills them, a delivery mode's tariff per band, and a mode priced group by group.

``costcalc.delivery`` prices the modes from these (all requests alike, from a plan made once;
several groups, with ``cost_groups``) and adds how long each takes.
"""

import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from types import MappingProxyType
from typing import Any, NamedTuple

from costcalc.cost import component_costs, rate_of
from costcalc.money import per_thousand, usd_price
from costcalc.prices import (
    COMPONENTS,
    Mode,
    ModelPrices,
    ModeRates,
    PricedModel,
    Provider,
    RateLimit,
    Speed,
)
from costcalc.prices.table import REQUEST_FEE
from costcalc.units import count_of
from costcalc.workload import Workload


class RequestGroup(NamedTuple):
    """Requests whose input size puts them under the same prices (long-context tiers are
    chosen per request)."""

    requests: Decimal
    """How many (a share of the workload's requests, so not always whole)."""
    input_tokens: Decimal
    """Input tokens of all of them together."""

    def tier_input(self) -> int:
        """Input tokens per request, rounded up: what picks the price tier."""
        return math.ceil(self.input_tokens / self.requests) if self.requests else 0


def tier_bounds(prices: ModelPrices) -> list[int]:
    """The input sizes above which a model's long-context prices start."""
    return [t.above_input_tokens for t in prices.period.tiers]


def request_groups(
    sizes: Mapping[int, int], bounds: Sequence[int], requests: int
) -> tuple[RequestGroup, ...]:
    """``requests`` split into price groups by a histogram of input tokens per request (all
    requests, or a sample of them): one group per band between long-context ``bounds``."""
    edges = sorted(bounds)
    bands = [(0, 0)] * (len(edges) + 1)
    for value, count in sizes.items():
        i = next((k for k, edge in enumerate(edges) if value <= edge), len(edges))
        bands[i] = (bands[i][0] + count, bands[i][1] + value * count)
    counted = sum(c for c, _ in bands)
    n = Decimal(requests)
    return tuple(RequestGroup(n * c / counted, n * t / counted) for c, t in bands if c)


class Job(NamedTuple):
    """A workload resolved against the price table: everything the modes need."""

    workload: Workload
    requests: int
    input_tokens: Decimal
    """Per request (the mean, when measured from a file)."""
    output_tokens: Decimal
    """Per request."""
    priced: PricedModel
    """The model's prices on the day, with each mode's rates as the table resolved them."""
    speed: Speed | None
    """None: the provider has no speed figures (times are not estimated)."""
    limits: RateLimit | None
    """None: no rate limits are known (and the caller gave none)."""
    tier: str
    groups: tuple[RequestGroup, ...] = ()
    """The requests split by price tier (measured from a file); empty: all alike."""
    groups_estimated: bool = False
    """The split comes from a sample of the file, so it is an estimate."""
    cache_reads_count: bool = True
    """Whether cache reads count against the tokens-per-minute limit."""

    def price_groups(self) -> tuple[RequestGroup, ...]:
        """The groups, or all requests as one group when they are alike."""
        if self.groups:
            return self.groups
        n = Decimal(self.requests)
        return (RequestGroup(n, n * self.input_tokens),)

    @property
    def prices(self) -> ModelPrices:
        return self.priced.prices

    @property
    def provider(self) -> Provider:
        return self.priced.prices.provider


ZERO = Decimal(0)
TOKEN_FIELDS = (
    "input_tokens",
    "cached_input_tokens",
    "cache_write_tokens",
    "output_tokens",
    "output_tokens_billed_after_cancel",
    "output_tokens_saved_by_cancel",
)
"""ModeQuote's token fields, in order (``Billing.tokens``)."""
NO_COST = Decimal("0.00")
"""What ``per_million`` makes of no tokens (give or take the sign of zero)."""


class Split(NamedTuple):
    """One group of requests' tokens by the component that bills them: the same in every
    mode, but for stream's output when users cancel. Components without tokens are left out
    (they cost nothing)."""

    group: RequestGroup
    tier_input: int
    """What picks the group's prices (``RequestGroup.tier_input``)."""
    billed: dict[str, Decimal]
    streamed: dict[str, Decimal]
    """``billed`` with stream's cancels (the same when nobody cancels)."""


class Billing(NamedTuple):
    """A job's tokens as every mode bills them: group by group, and in all as ModeQuote's
    token fields."""

    splits: tuple[Split, ...]
    tokens: dict[str, Decimal]
    streamed: dict[str, Decimal]
    """``tokens`` with stream's cancels."""
    write_component: str
    """The cache write the workload's cache lifetime bills (5 minutes or 1 hour)."""


class Alike(NamedTuple):
    """A job whose requests are all billed alike (one group), as ``cost_modes`` prices it."""

    tier_input: int
    """What picks the prices (``RequestGroup.tier_input``)."""
    billed: dict[str, Decimal]
    streamed: dict[str, Decimal]
    """``billed`` with stream's cancels."""
    tokens: dict[str, Decimal]
    """ModeQuote's token fields."""
    streamed_tokens: dict[str, Decimal]
    """``tokens`` with stream's cancels."""
    write_component: str


def split(job: Job) -> Billing:
    """The job's tokens, group by group and in all, as every mode bills them."""
    w = job.workload
    write_component = "cache_write_1h" if w.cache_ttl == "1h" else "cache_write_5m"
    out_each = job.output_tokens
    cancels = w.cancel.rate > 0
    if cancels:
        seen = Decimal(w.cancel.after_tokens) if w.cancel.after_tokens is not None else out_each / 2
        billed_each = min(out_each, seen + w.cancel.billed_after_cancel)
    splits = []
    plain = cached = written = total_out = streamed_out = after_cancel = saved = ZERO
    billed: dict[str, Decimal]
    for group in job.price_groups():
        n = group.requests
        total_in = group.input_tokens
        g_cached = total_in * w.cached_share
        g_written = total_in * w.cache_write_share
        g_plain = total_in - g_cached - g_written
        g_out = n * out_each
        billed = {}
        if g_plain:
            billed["input"] = g_plain
        if g_cached:
            billed["cached_input"] = g_cached
        if g_written:
            billed[write_component] = g_written
        if g_out:
            billed["output"] = g_out
        streamed = billed
        if cancels:
            cancelled = n * w.cancel.rate
            g_saved = cancelled * (out_each - billed_each)
            g_streamed = g_out - g_saved
            streamed = {c: tokens for c, tokens in billed.items() if c != "output"}
            if g_streamed:
                streamed["output"] = g_streamed
            streamed_out += g_streamed
            after_cancel += cancelled * (billed_each - min(out_each, seen))
            saved += g_saved
        splits.append(Split(group, group.tier_input(), billed, streamed))
        plain += g_plain
        cached += g_cached
        written += g_written
        total_out += g_out
    tokens = {
        "input_tokens": plain,
        "cached_input_tokens": cached,
        "cache_write_tokens": written,
        "output_tokens": total_out,
        "output_tokens_billed_after_cancel": ZERO,
        "output_tokens_saved_by_cancel": ZERO,
    }
    streamed_tokens = tokens
    if cancels:
        streamed_tokens = {
            **tokens,
            "output_tokens": streamed_out,
            "output_tokens_billed_after_cancel": after_cancel,
            "output_tokens_saved_by_cancel": saved,
        }
    return Billing(tuple(splits), tokens, streamed_tokens, write_component)


class Tariff(NamedTuple):
    """A mode's rates for one long-context band as costing reads them: each component's
    price per 1M tokens (the input price where it has none of its own), which components
    have none, and which are assumed from a provider rule."""

    mode_rates: ModeRates
    input: Decimal
    cached_input: Decimal
    cache_write_5m: Decimal
    cache_write_1h: Decimal
    output: Decimal
    usd: Mapping[str, Decimal]
    """Every component's price by name."""
    unpriced: frozenset[str]
    assumed: frozenset[str]
    request_fee: Decimal | None
    """USD per 1,000 requests, whatever their tokens (None: no fee per request)."""


def tariff(priced: PricedModel, price_mode: Mode, input_tokens: int) -> Tariff | ModeRates:
    """What ``price_mode`` charges a request of ``input_tokens`` (an unavailable mode's
    ``ModeRates``, with why), worked out once per table, model, day, mode and band."""
    key = (
        "tariff",
        price_mode,
        priced.prices.band(input_tokens) if priced.prices.period.tiers else 0,
    )
    found: Tariff | ModeRates | None = priced.memo.get(key)
    if found is None:
        rates = priced.mode(price_mode, input_tokens)
        if not rates.available:
            found = rates
        else:
            usd: Mapping[str, Decimal] = MappingProxyType(
                {c: rate_of(rates, c).usd_per_mtok for c in COMPONENTS}
            )
            found = Tariff(
                rates,
                usd["input"],
                usd["cached_input"],
                usd["cache_write_5m"],
                usd["cache_write_1h"],
                usd["output"],
                usd,
                frozenset(c for c in COMPONENTS if rates.rate(c) is None),
                frozenset(rates.assumed),
                rates.request_fee,
            )
        priced.memo[key] = found
    return found


def cost_groups(
    job: Job, price_mode: Mode, cancels: bool, billing: Billing
) -> dict[str, Any] | str:
    """Every field of a ModeQuote billed at ``price_mode`` prices (with stream's cancels, or
    not), its mode and times still to fill in, or why the mode cannot be sold to the job."""
    splits = billing.splits
    write_component = billing.write_component
    notes: list[str] = []
    cost_in = cost_cached = cost_write = cost_out = cost_fee = ZERO
    used: dict[str, Decimal] = {}
    assumed: list[str] = []
    for s in splits:
        t = tariff(job.priced, price_mode, s.tier_input)
        if not isinstance(t, Tariff):  # the first group that cannot be sold it says why
            return t.reason
        # each component at its price, or at the input price with a note when it has none
        billed = s.streamed if cancels else s.billed
        if t.unpriced:
            notes += unpriced_notes(job, t, billed, write_component)
        # a component without tokens costs nothing: $0.00, whatever per_million's zero's sign
        # (added to zero below, every zero is 0.00), so only those with tokens are priced
        costs = component_costs(billed, t.usd)
        cost_in += costs.get("input", NO_COST)
        cost_cached += costs.get("cached_input", NO_COST)
        cost_write += costs.get(write_component, NO_COST)
        cost_out += costs.get("output", NO_COST)
        if t.request_fee is not None:  # every request pays it, cancelled or not
            cost_fee += per_thousand(s.group.requests, t.request_fee)
        g_used = rates_used(t, s.billed, write_component)
        if t.assumed:
            assumed += [c for c in g_used if c in t.assumed]
        if not used:
            used = g_used
        above = t.mode_rates.above_input_tokens
        if above is None:
            continue
        # several groups (one alone takes the path above): each band's prices said
        priced = ", ".join(f"{c} {usd_price(v)}" for c, v in g_used.items())
        about = "about " if job.groups_estimated else ""
        sample = " (estimated from the sample)" if job.groups_estimated else ""
        notes.append(
            f"{about}{_count(s.group.requests)} of {count_of(job.requests, 'request')}"
            f"{sample} above {above:,} input tokens: long-context prices per 1M ({priced})"
        )
    return priced_fields(
        price_mode,
        (cost_in, cost_cached, cost_write, cost_out, cost_fee),
        billing.streamed if cancels else billing.tokens,
        used,
        list(dict.fromkeys(assumed)) if assumed else [],
        list(dict.fromkeys(notes)) if notes else [],
    )


def priced_fields(
    price_mode: Mode,
    costs: tuple[Decimal, Decimal, Decimal, Decimal, Decimal],
    tokens: dict[str, Decimal],
    rates: dict[str, Decimal],
    assumed: list[str],
    notes: list[str],
) -> dict[str, Any]:
    """Every field of a priced mode's ModeQuote, in order: its mode, times and savings None."""
    cost_in, cost_cached, cost_write, cost_out, cost_fee = costs
    return {
        "mode": None,
        "available": True,
        "reason": "",
        "price_mode": price_mode,
        "cost": ZERO + cost_in + cost_cached + cost_write + cost_out + cost_fee,
        "input_cost": cost_in,
        "cached_input_cost": cost_cached,
        "cache_write_cost": cost_write,
        "output_cost": cost_out,
        "request_fee_cost": cost_fee,
        **tokens,
        "rates": rates,
        "assumed": assumed,
        "notes": notes,
        "time_to_first_token_s": None,
        "time_to_complete_s": None,
        "wait_s": None,
        "worst_wait_s": None,
        "limited_by": "",
        "savings": None,
        "savings_pct": None,
        "extra_wait_s": None,
        "savings_per_hour_waited": None,
    }


def unpriced_notes(
    job: Job, t: Tariff, billed: Mapping[str, Decimal], write_component: str
) -> list[str]:
    """What a note says of the components billed that ``t`` has no price for (billed as
    input)."""
    notes = []
    if "cached_input" in billed and "cached_input" in t.unpriced:
        notes.append(
            f"{job.prices.model.id} has no cached-input price: cached tokens billed as input"
        )
    if write_component in billed and write_component in t.unpriced:
        if write_component == "cache_write_1h" and "cache_write_5m" not in t.unpriced:
            notes.append(
                f"{job.prices.model.id} has no 1-hour cache-write price: 1-hour cache writes "
                "billed at the 5-minute write price (the provider may charge more)"
            )
        else:
            notes.append("no cache-write premium: cache writes billed as input")
    if "output" in t.unpriced:
        notes.append("")
    return notes


def rates_used(
    t: Tariff, billed: Mapping[str, Decimal], write_component: str
) -> dict[str, Decimal]:
    """The rates a group of requests billed at ``t`` shows: input and output always, a
    cache's when it bills that cache's tokens, and the fee per 1,000 requests where there
    is one."""
    used = {"input": t.input, "output": t.output}
    if "cached_input" in billed:
        used["cached_input"] = t.cached_input
    if write_component in billed:
        used[write_component] = t.usd[write_component]
    if t.request_fee is not None:
        used[REQUEST_FEE] = t.request_fee
    return used


def _count(requests: Decimal) -> str:
    """A number of requests: whole, or to one decimal when scaled from a sample."""
    return f"{requests:,.0f}" if requests == requests.to_integral_value() else f"{requests:,.1f}"
