"""The delivery modes, one place each: what a mode costs and how long it takes.

stream    standard prices; the first token arrives after the time to first token; a user can
          cancel, and a cancelled request bills what was generated before the server noticed.
request   standard prices; the whole answer arrives at once, so the first token comes with the
          last; everything is billed.
batch     Batch API prices; results arrive when the batch is done: typically the provider's
          turnaround, at worst its completion window; big jobs wait for the batch queue.
flex      flex prices (OpenAI: Batch rates) on models that sell it; slower requests.
priority  priority prices on models that sell it; same speed figures as standard here.

Synchronous modes finish the workload as fast as the rate limits (tokens and requests per
minute) and the concurrency allow. Speeds are estimates from the price table.
"""

import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Annotated, Any, NamedTuple

from pydantic import BaseModel, ConfigDict, PlainSerializer

from costcalc.cost import component_costs, rate_of
from costcalc.money import MoneyOut, usd_price
from costcalc.prices import Mode, ModelPrices, ModeRates, Provider, RateLimit, Speed
from costcalc.workload import DeliveryMode, Workload

PRICE_MODE: dict[DeliveryMode, Mode] = {
    "stream": "standard",
    "request": "standard",
    "batch": "batch",
    "flex": "flex",
    "priority": "priority",
}
HOUR = Decimal(3600)
MINUTE = Decimal(60)

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
    prices: ModelPrices
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
    def provider(self) -> Provider:
        return self.prices.provider


def _rate(rates: ModeRates, component: str, notes: list[str], why: str) -> Decimal:
    """The price of ``component`` (the input price when it has none, and ``why`` is noted)."""
    if rates.rate(component) is None:
        notes.append(why)
    return rate_of(rates, component).usd_per_mtok


def cost_of(job: Job, mode: DeliveryMode) -> dict[str, Any]:
    """The fields of ``mode``'s ModeQuote for the job but its savings (those are measured
    against the baseline, once every mode is priced): what it costs, component by component,
    and how long it takes; an unavailable mode carries why."""
    price_mode = PRICE_MODE[mode]
    groups = job.price_groups()
    group_rates = [job.prices.mode(price_mode, g.tier_input()) for g in groups]
    for rates in group_rates:
        if not rates.available:
            return {
                "mode": mode,
                "available": False,
                "reason": rates.reason,
                "price_mode": price_mode,
            }
    notes: list[str] = []
    parts = dict.fromkeys(("input", "cached_input", "cache_write", "output"), Decimal(0))
    tokens = dict.fromkeys(("plain", "cached", "written", "out", "after", "saved"), Decimal(0))
    used: dict[str, Decimal] = {}
    assumed: list[str] = []
    for group, rates in zip(groups, group_rates, strict=True):
        g_parts, g_tokens, g_used = _group_cost(job, mode, group, rates, notes)
        for k, v in g_parts.items():
            parts[k] += v
        for k, v in g_tokens.items():
            tokens[k] += v
        assumed += [c for c in g_used if (r := rates.rate(c)) is not None and r.basis == "assumed"]
        if not used:
            used = g_used
        if rates.above_input_tokens is None:
            continue
        if len(groups) == 1:
            notes.append(
                f"long-context prices: requests above {rates.above_input_tokens:,} input tokens"
            )
        else:
            priced = ", ".join(f"{c} {usd_price(v)}" for c, v in g_used.items())
            about = "about " if job.groups_estimated else ""
            sample = " (estimated from the sample)" if job.groups_estimated else ""
            notes.append(
                f"{about}{_count(group.requests)} of {count_of(job.requests, 'request')}"
                f"{sample} above {rates.above_input_tokens:,} input tokens: long-context "
                f"prices per 1M ({priced})"
            )
    fields: dict[str, Any] = {
        "mode": mode,
        "available": True,
        "price_mode": price_mode,
        "cost": sum(parts.values(), Decimal(0)),
        "input_cost": parts["input"],
        "cached_input_cost": parts["cached_input"],
        "cache_write_cost": parts["cache_write"],
        "output_cost": parts["output"],
        "input_tokens": tokens["plain"],
        "cached_input_tokens": tokens["cached"],
        "cache_write_tokens": tokens["written"],
        "output_tokens": tokens["out"],
        "output_tokens_billed_after_cancel": tokens["after"],
        "output_tokens_saved_by_cancel": tokens["saved"],
        "rates": used,
        "assumed": list(dict.fromkeys(assumed)),
        "notes": list(dict.fromkeys(notes)),
    }
    if mode == "batch":
        _batch_time(job, fields)
    else:
        _sync_time(job, mode, fields)
    return fields


def _count(requests: Decimal) -> str:
    """A number of requests: whole, or to one decimal when scaled from a sample."""
    return f"{requests:,.0f}" if requests == requests.to_integral_value() else f"{requests:,.1f}"


def _group_cost(
    job: Job, mode: DeliveryMode, group: RequestGroup, rates: ModeRates, notes: list[str]
) -> tuple[dict[str, Decimal], dict[str, Decimal], dict[str, Decimal]]:
    """Cost components, token counts and rates used for one group of requests."""
    w = job.workload
    n = group.requests
    total_in = group.input_tokens
    cached = total_in * w.cached_share
    written = total_in * w.cache_write_share
    plain = total_in - cached - written
    in_rate = _rate(rates, "input", notes, "")
    cached_rate = _rate(
        rates, "cached_input", notes if cached else [],
        f"{job.prices.model.id} has no cached-input price: cached tokens billed as input",
    )  # fmt: skip
    write_component = "cache_write_1h" if w.cache_ttl == "1h" else "cache_write_5m"
    write_rate = _rate(
        rates, write_component, notes if written else [],
        "no cache-write premium: cache writes billed as input",
    )  # fmt: skip
    out_rate = _rate(rates, "output", notes, "")

    out_each = job.output_tokens
    total_out = n * out_each
    after_cancel = saved = Decimal(0)
    if mode == "stream" and w.cancel.rate > 0:
        cancelled = n * w.cancel.rate
        seen = Decimal(w.cancel.after_tokens) if w.cancel.after_tokens is not None else out_each / 2
        billed_each = min(out_each, seen + w.cancel.billed_after_cancel)
        after_cancel = cancelled * (billed_each - min(out_each, seen))
        saved = cancelled * (out_each - billed_each)
        total_out -= saved

    costs = component_costs(
        {"input": plain, "cached_input": cached, write_component: written, "output": total_out},
        {
            "input": in_rate,
            "cached_input": cached_rate,
            write_component: write_rate,
            "output": out_rate,
        },
    )
    parts = {
        "input": costs["input"],
        "cached_input": costs["cached_input"],
        "cache_write": costs[write_component],
        "output": costs["output"],
    }
    tokens = {
        "plain": plain,
        "cached": cached,
        "written": written,
        "out": total_out,
        "after": after_cancel,
        "saved": saved,
    }
    used = {"input": in_rate, "output": out_rate}
    if cached:
        used["cached_input"] = cached_rate
    if written:
        used[write_component] = write_rate
    return parts, tokens, used


def _sync_time(job: Job, mode: DeliveryMode, fields: dict[str, Any]) -> None:
    """Add a synchronous mode's times to its ``fields`` (none when the provider has no speed
    figures)."""
    if job.speed is None:  # no figures for the provider: times not known
        return
    ttft = job.speed.time_to_first_token_s
    tps = job.speed.output_tokens_per_s
    if mode == "flex" and job.provider.flex is not None:
        factor = job.provider.flex.latency_factor
        ttft, tps = ttft * factor, tps / factor
    one = ttft + job.output_tokens / tps
    first = ttft if mode == "stream" else one  # request/response: all at once
    wall, limited_by = _sync_wall(job, one, fields["output_tokens"])
    fields["time_to_first_token_s"] = first
    fields["time_to_complete_s"] = one
    fields["wait_s"] = wall
    fields["worst_wait_s"] = wall
    fields["limited_by"] = limited_by


def _sync_wall(job: Job, one: Decimal, total_out: Decimal) -> tuple[Decimal, str]:
    """Wall time of the whole workload for a synchronous mode, and what sets it; ``total_out``
    is the output generated (cancelled streams stop early, so they count less)."""
    w, lim = job.workload, job.limits
    n = Decimal(job.requests)
    bounds: list[tuple[Decimal, str]] = [(one, "one request's time")]
    if w.rate_limited and lim is not None:
        total_in = n * job.input_tokens
        if not job.cache_reads_count:
            total_in -= total_in * w.cached_share
        if lim.output_tokens_per_minute is not None:
            bounds.append((total_in / lim.tokens_per_minute * MINUTE, "input tokens per minute"))
            bounds.append(
                (total_out / lim.output_tokens_per_minute * MINUTE, "output tokens per minute")
            )
        else:
            bounds.append(
                ((total_in + total_out) / lim.tokens_per_minute * MINUTE, "tokens per minute")
            )
        bounds.append((n / lim.requests_per_minute * MINUTE, "requests per minute"))
    if w.concurrency is not None:
        bounds.append((n * one / w.concurrency, f"concurrency of {w.concurrency:,}"))
    wall, why = max(bounds, key=lambda b: b[0])
    if why != "one request's time" and w.rate_limited:
        why = f"{why} ({job.tier})"
    return wall, why


def _batch_time(job: Job, fields: dict[str, Any]) -> None:
    """Add batch's times to its ``fields``: the turnaround and window, per wave of the queue."""
    rule = job.provider.batch
    if rule is None or rule.completion_window_hours is None:
        return  # batch prices published, but nothing says how long a batch takes
    window = rule.completion_window_hours * HOUR
    # no typical turnaround published: the window is all that is known
    typical = rule.typical_turnaround_hours * HOUR if rule.typical_turnaround_hours else window
    waves, limited_by = 1, "completion window"
    if job.workload.rate_limited and job.limits is not None:
        total_in = Decimal(job.requests) * job.input_tokens
        if job.limits.batch_queue_tokens:
            by_tokens = math.ceil(total_in / job.limits.batch_queue_tokens)
            if by_tokens > waves:
                waves = by_tokens
                limited_by = (
                    f"batch queue of {job.limits.batch_queue_tokens:,} input tokens "
                    f"({job.tier}): {waves:,} batches one after another"
                )
        if job.limits.batch_queue_requests:
            by_requests = math.ceil(job.requests / job.limits.batch_queue_requests)
            if by_requests > waves:
                waves = by_requests
                limited_by = (
                    f"batch queue of {job.limits.batch_queue_requests:,} requests "
                    f"({job.tier}): {waves:,} batches one after another"
                )
    fields["time_to_first_token_s"] = typical
    fields["time_to_complete_s"] = typical
    fields["wait_s"] = typical * waves
    fields["worst_wait_s"] = window * waves
    fields["limited_by"] = limited_by


def count_of(n: int, noun: str) -> str:
    """1 request, 2 requests, 1,000 requests."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def duration(seconds: Decimal | float | None) -> str:
    """0.4 s, 12 s, 3.5 min, 2.1 h, 24 h, 1.3 d."""
    if seconds is None:
        return "-"
    s = float(seconds)
    if s < 10:
        return f"{s:.1f} s"
    if s < 120:
        return f"{s:.0f} s"
    if s < 2 * 3600:
        return f"{s / 60:.1f} min".replace(".0 min", " min")
    if s < 3 * 86400:
        return f"{s / 3600:.1f} h".replace(".0 h", " h")
    return f"{s / 86400:,.1f} d".replace(".0 d", " d")
