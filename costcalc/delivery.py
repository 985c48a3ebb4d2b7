"""The delivery modes, one place each: what a mode costs and how long it takes.

stream    standard prices; the first token arrives after the time to first token; a user can
          cancel, and a cancelled request bills what was generated before the server noticed.
request   standard prices; the whole answer arrives at once, so the first token comes with the
          last; everything is billed.
batch     Batch API prices; results arrive when the batch is done: typically the provider's
          turnaround, at worst its completion window; big jobs wait for the batch queue.
flex      flex prices (OpenAI: Batch rates) on models that sell it; slower requests.
priority  priority prices on models that sell it; same speed figures as standard here.

How long each takes is timing.py's: synchronous modes finish the workload as fast as the rate
limits (tokens and requests per minute) and the concurrency allow.
"""

import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from types import MappingProxyType
from typing import Annotated, Any, NamedTuple

from pydantic import BaseModel, ConfigDict, PlainSerializer

from costcalc.cost import component_costs, rate_of
from costcalc.errors import UsageError, arg
from costcalc.money import MoneyOut, usd_price
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
from costcalc.timing import HOUR as HOUR  # kept importable here
from costcalc.timing import Times, batch_time, sync_time
from costcalc.units import count_of as count_of  # written quantities, kept importable here
from costcalc.units import duration as duration
from costcalc.workload import DeliveryMode, Workload

PRICE_MODE: dict[DeliveryMode, Mode] = {
    "stream": "standard",
    "request": "standard",
    "batch": "batch",
    "flex": "flex",
    "priority": "priority",
    "fast": "fast",
}
FAST_TIMES = (
    "fast mode's times are standard's: it generates faster, by a factor no source read gives "
    "(an upper bound)"
)

Seconds = Annotated[Decimal, PlainSerializer(lambda v: float(round(v, 3)), return_type=float)]
"""A duration in seconds: exact inside, a number with 3 decimals in JSON."""
Tokens = Annotated[
    Decimal, PlainSerializer(lambda v: float(v) if v % 1 else int(v), return_type=int | float)
]
"""A token count: a whole number in JSON, or a fraction where a share of requests is meant."""


class ModeQuote(BaseModel):
    """One delivery mode for one workload: its cost breakdown and its time."""

    # Built by costcalc from values it computed (results.construct), so its schema is needed
    # only to write JSON: built then, not at every start-up.
    model_config = ConfigDict(defer_build=True)

    mode: DeliveryMode
    available: bool
    reason: str = ""
    """Why the mode is unavailable (it is never shown as free)."""
    price_mode: Mode
    """Which prices apply: standard, batch, flex or priority."""
    cost: MoneyOut | None = None
    input_cost: MoneyOut | None = None
    cached_input_cost: MoneyOut | None = None
    cache_write_cost: MoneyOut | None = None
    output_cost: MoneyOut | None = None
    input_tokens: Tokens = Decimal(0)
    """Uncached input tokens billed, all requests."""
    cached_input_tokens: Tokens = Decimal(0)
    cache_write_tokens: Tokens = Decimal(0)
    output_tokens: Tokens = Decimal(0)
    """Output tokens billed, all requests (after cancels, for stream)."""
    output_tokens_billed_after_cancel: Tokens = Decimal(0)
    """Of those, tokens generated after users cancelled, before the server noticed."""
    output_tokens_saved_by_cancel: Tokens = Decimal(0)
    rates: dict[str, MoneyOut] = {}
    """USD per 1M tokens used, per component."""
    assumed: list[str] = []
    """Components whose price is derived from a provider rule, not published."""
    notes: list[str] = []
    time_to_first_token_s: Seconds | None = None
    time_to_complete_s: Seconds | None = None
    """One request, from sending to the last token (batch: the typical turnaround)."""
    wait_s: Seconds | None = None
    """The whole workload, expected (batch: typical turnaround per wave)."""
    worst_wait_s: Seconds | None = None
    """The whole workload at worst (batch: the completion window per wave)."""
    limited_by: str = ""
    """What sets the wait of the whole workload."""
    # filled by the calculator, against the baseline and the fastest mode
    savings: MoneyOut | None = None
    savings_pct: Decimal | None = None
    extra_wait_s: Seconds | None = None
    """Wait beyond the fastest mode's (on the workload's batch_wait basis)."""
    savings_per_hour_waited: MoneyOut | None = None

    def basis_wait(self, basis: str) -> Decimal:
        """The wait used for decisions: worst case or expected."""
        assert self.wait_s is not None and self.worst_wait_s is not None
        return self.worst_wait_s if basis == "worst" else self.wait_s


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


def split(job: Job) -> Billing:
    """The job's tokens, group by group and in all, as every mode bills them."""
    w = job.workload
    write_component = "cache_write_1h" if w.cache_ttl == "1h" else "cache_write_5m"
    out_each = job.output_tokens
    cancels = w.cancel.rate > 0
    if not cancels and not job.groups and not w.cached_share and not w.cache_write_share:
        return _plain_split(job, write_component)
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


def _plain_split(job: Job, write_component: str) -> Billing:
    """``split`` of the commonest job: every request alike, nothing cached, nobody cancels
    (what the general loop makes of it, without the loop)."""
    n = Decimal(job.requests)
    total_in = n * job.input_tokens
    total_out = n * job.output_tokens
    billed = {}
    if total_in:
        billed["input"] = total_in
    if total_out:
        billed["output"] = total_out
    # the band is picked by the tokens of one request only where the model has bands
    tier_input = math.ceil(job.input_tokens) if job.prices.period.tiers and n else 0
    tokens = {
        "input_tokens": total_in,
        "cached_input_tokens": ZERO,
        "cache_write_tokens": ZERO,
        "output_tokens": total_out,
        "output_tokens_billed_after_cancel": ZERO,
        "output_tokens_saved_by_cancel": ZERO,
    }
    group = RequestGroup(n, total_in)
    return Billing((Split(group, tier_input, billed, billed),), tokens, tokens, write_component)


def cost_modes(job: Job, modes: Sequence[DeliveryMode]) -> list[dict[str, Any]]:
    """Every field of each mode's ModeQuote for the job, in the class's order, savings still
    None (those are measured against the baseline, once every mode is priced): what it costs,
    component by component, and how long it takes; an unavailable mode carries why.

    Modes billed alike (stream and request, when nobody cancels) are priced once."""
    billing = split(job)
    priced: dict[tuple[Mode, bool], dict[str, Any] | str] = {}
    timed: dict[tuple[bool, bool], Times | None] = {}
    cancel = job.workload.cancel.rate > 0
    slower = job.provider.flex is not None  # flex requests take longer than standard ones
    out = []
    for mode in modes:
        price_mode = PRICE_MODE[mode]
        cancels = cancel and mode == "stream"
        costs = priced.get((price_mode, cancels))
        if costs is None:
            costs = priced[price_mode, cancels] = _cost(job, price_mode, cancels, billing)
            if isinstance(costs, str):
                out.append(_unavailable(job, mode, price_mode, costs))
                continue
            fields = costs  # the first to use them takes them
        elif isinstance(costs, str):
            out.append(_unavailable(job, mode, price_mode, costs))
            continue
        else:  # each object its own dict and lists
            fields = costs.copy()
            fields["rates"] = dict(costs["rates"])
            fields["assumed"] = list(costs["assumed"])
            fields["notes"] = list(costs["notes"])
        fields["mode"] = mode
        out.append(fields)
        times: Times | None
        if mode == "batch":
            times = batch_time(job)
            if times is None:
                continue
            fields["time_to_first_token_s"] = times.first
        else:
            # modes as fast per request that generate as much take as long
            key = (slower and mode == "flex", cancels)
            if key in timed:
                times = timed[key]
            else:
                times = timed[key] = sync_time(job, key[0], fields["output_tokens"])
            if times is None:
                continue
            # a stream's first token as soon as it is written; request's comes with the last
            fields["time_to_first_token_s"] = times.first if mode == "stream" else times.one
            if mode == "fast":
                fields["notes"] = [*fields["notes"], FAST_TIMES]
        fields["time_to_complete_s"] = times.one
        fields["wait_s"] = times.wait
        fields["worst_wait_s"] = times.worst
        fields["limited_by"] = times.limited_by
    return out


def baseline_of(job: Job, costed: list[dict[str, Any]]) -> dict[str, Any]:
    """The mode of ``costed`` (``cost_modes``'s) that savings are measured against: the
    workload's baseline, or when that is only defaulted and the model lacks it, the first mode
    compared that the model has."""
    w, model = job.workload, job.prices.model.id
    base = next((f for f in costed if f["mode"] == w.baseline), None)
    if base is None:  # a workload changed after it was made (its checks ran then)
        raise UsageError(
            f"baseline {w.baseline!r} is not one of the modes compared; add it to the modes or "
            f"choose another {arg('baseline', both=True)}"
        )
    if not base["available"] and "baseline" not in w.model_fields_set:
        base = next((f for f in costed if f["available"]), None)
        if base is None:
            reasons = "; ".join(f"{f['mode']}: {f['reason']}" for f in costed)
            raise UsageError(
                f"none of the modes compared is available for {model} ({reasons}); choose "
                f"others with {arg('modes')}"
            )
    if not base["available"]:
        raise UsageError(
            f"baseline {w.baseline} is not available for {model}: {base['reason']}; choose "
            f"another with {arg('baseline')}"
        )
    return base


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
            )
        priced.memo[key] = found
    return found


def _cost(job: Job, price_mode: Mode, cancels: bool, billing: Billing) -> dict[str, Any] | str:
    """Every field of a ModeQuote billed at ``price_mode`` prices (with stream's cancels, or
    not), its mode and times still to fill in, or why the mode cannot be sold to the job."""
    splits = billing.splits
    write_component = billing.write_component
    notes: list[str] = []
    cost_in = cost_cached = cost_write = cost_out = ZERO
    used: dict[str, Decimal] = {}
    assumed: list[str] = []
    if len(splits) == 1:  # all requests alike: everything but the figures worked out once
        s = splits[0]
        shape = _shape(job, price_mode, s, write_component)
        if isinstance(shape, str):
            return shape
        usd, template = shape
        costs = component_costs(s.streamed if cancels else s.billed, usd)
        fields = template.copy()
        cost_in = fields["input_cost"] = costs.get("input", NO_COST)
        cost_cached = fields["cached_input_cost"] = costs.get("cached_input", NO_COST)
        cost_write = fields["cache_write_cost"] = costs.get(write_component, NO_COST)
        cost_out = fields["output_cost"] = costs.get("output", NO_COST)
        fields["cost"] = ZERO + cost_in + cost_cached + cost_write + cost_out
        fields.update(billing.streamed if cancels else billing.tokens)
        fields["rates"] = dict(template["rates"])
        fields["assumed"] = list(template["assumed"])
        fields["notes"] = list(template["notes"])
        return fields
    for s in splits:
        t = tariff(job.priced, price_mode, s.tier_input)
        if not isinstance(t, Tariff):  # the first group that cannot be sold it says why
            return t.reason
        # each component at its price, or at the input price with a note when it has none
        billed = s.streamed if cancels else s.billed
        if t.unpriced:
            notes += _unpriced_notes(job, t, billed, write_component)
        # a component without tokens costs nothing: $0.00, whatever per_million's zero's sign
        # (added to zero below, every zero is 0.00), so only those with tokens are priced
        costs = component_costs(billed, t.usd)
        cost_in += costs.get("input", NO_COST)
        cost_cached += costs.get("cached_input", NO_COST)
        cost_write += costs.get(write_component, NO_COST)
        cost_out += costs.get("output", NO_COST)
        g_used = _rates_used(t, s.billed, write_component)
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
    return _priced(
        price_mode,
        (cost_in, cost_cached, cost_write, cost_out),
        billing.streamed if cancels else billing.tokens,
        used,
        list(dict.fromkeys(assumed)) if assumed else [],
        list(dict.fromkeys(notes)) if notes else [],
    )


def _shape(
    job: Job, price_mode: Mode, s: Split, write_component: str
) -> tuple[Mapping[str, Decimal], dict[str, Any]] | str:
    """What ``price_mode`` makes of requests all billed alike, but the figures: its prices
    by component and a ModeQuote's fields (rates used, assumed, notes; costs, tokens, times
    and savings to fill in), or why it cannot be sold. The same for every quote of the model
    and day with the same components billed in the same band: worked out once (callers copy
    the template and its lists)."""
    prices = job.priced.prices
    band = prices.band(s.tier_input) if prices.period.tiers else 0
    key = ("shape", price_mode, band, tuple(s.billed), write_component)
    found: tuple[Mapping[str, Decimal], dict[str, Any]] | str | None = job.priced.memo.get(key)
    if found is None:
        t = tariff(job.priced, price_mode, s.tier_input)
        if not isinstance(t, Tariff):
            found = t.reason
        else:
            used, assumed, notes = _words(job, t, s.billed, write_component)
            tokens = dict.fromkeys(TOKEN_FIELDS, ZERO)  # in place, to be filled in
            found = (t.usd, _priced(price_mode, (NO_COST,) * 4, tokens, used, assumed, notes))
        job.priced.memo[key] = found
    return found


def _priced(
    price_mode: Mode,
    costs: tuple[Decimal, Decimal, Decimal, Decimal],
    tokens: dict[str, Decimal],
    rates: dict[str, Decimal],
    assumed: list[str],
    notes: list[str],
) -> dict[str, Any]:
    """Every field of a priced mode's ModeQuote, in order: its mode, times and savings None."""
    cost_in, cost_cached, cost_write, cost_out = costs
    return {
        "mode": None,
        "available": True,
        "reason": "",
        "price_mode": price_mode,
        "cost": ZERO + cost_in + cost_cached + cost_write + cost_out,
        "input_cost": cost_in,
        "cached_input_cost": cost_cached,
        "cache_write_cost": cost_write,
        "output_cost": cost_out,
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


def _unpriced_notes(
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


def _rates_used(
    t: Tariff, billed: Mapping[str, Decimal], write_component: str
) -> dict[str, Decimal]:
    """The rates a group of requests billed at ``t`` shows: input and output always, a
    cache's when it bills that cache's tokens."""
    used = {"input": t.input, "output": t.output}
    if "cached_input" in billed:
        used["cached_input"] = t.cached_input
    if write_component in billed:
        used[write_component] = t.usd[write_component]
    return used


def _words(
    job: Job, t: Tariff, billed: Mapping[str, Decimal], write_component: str
) -> tuple[dict[str, Decimal], list[str], list[str]]:
    """The rates used, the assumed components and the notes of one group of requests all
    billed at ``t`` (``_shape`` keeps them, once per model, mode, band and components)."""
    notes = _unpriced_notes(job, t, billed, write_component) if t.unpriced else []
    used = _rates_used(t, billed, write_component)
    assumed = [c for c in used if c in t.assumed]
    above = t.mode_rates.above_input_tokens
    if above is not None:
        notes.append(f"long-context prices: requests above {above:,} input tokens")
    return used, assumed, list(dict.fromkeys(notes))


def _unavailable(job: Job, mode: DeliveryMode, price_mode: Mode, reason: str) -> dict[str, Any]:
    """Every field of an unavailable mode's ModeQuote: why, and nothing priced or timed (the
    same for every quote of the model on the day: made once, copied)."""
    key = ("unavailable", mode, reason)
    fields: dict[str, Any] | None = job.priced.memo.get(key)
    if fields is None:
        fields = job.priced.memo[key] = _UNPRICED.copy()
        fields.update(mode=mode, reason=reason, price_mode=price_mode)
    fields = fields.copy()
    fields["rates"] = {}
    fields["assumed"] = []
    fields["notes"] = []
    return fields


def _count(requests: Decimal) -> str:
    """A number of requests: whole, or to one decimal when scaled from a sample."""
    return f"{requests:,.0f}" if requests == requests.to_integral_value() else f"{requests:,.1f}"


_UNPRICED: dict[str, Any] = {
    name: False if name == "available" else field.default if not field.is_required() else None
    for name, field in ModeQuote.model_fields.items()
}
"""ModeQuote's fields with their defaults, in order: an unavailable mode's, once its own
filled in."""
