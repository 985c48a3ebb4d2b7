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
from collections.abc import Hashable, Mapping, Sequence
from decimal import Decimal
from types import MappingProxyType
from typing import Annotated, Any, NamedTuple

from pydantic import BaseModel, ConfigDict, PlainSerializer

from costcalc.billing import (
    NO_COST,
    TOKEN_FIELDS,
    ZERO,
    Alike,
    Billing,
    Job,
    Tariff,
    cost_groups,
    priced_fields,
    rates_used,
    split,
    tariff,
    unpriced_notes,
)
from costcalc.cost import component_costs
from costcalc.errors import UsageError, arg
from costcalc.money import MoneyOut, per_thousand
from costcalc.prices import Mode
from costcalc.timing import HOUR as HOUR  # kept importable here
from costcalc.timing import Times, batch_time, sync_time
from costcalc.units import count_of as count_of  # written quantities, kept importable here
from costcalc.units import duration as duration
from costcalc.workload import DeliveryMode, listed_twice

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
    request_fee_cost: MoneyOut | None = None
    """Fees per request, all requests (0.00 where the model charges none)."""
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
    """USD per 1M tokens used, per component; ``per_1k_requests``: USD per 1,000 requests,
    where the model charges a fee per request."""
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


def cost_modes(
    job: Job, modes: Sequence[DeliveryMode]
) -> tuple[list[dict[str, Any]], "Plan | None"]:
    """Every field of each mode's ModeQuote for the job, in the class's order, savings still
    None (those are measured against the baseline, once every mode is priced): what it costs,
    component by component, and how long it takes; an unavailable mode carries why. With
    them the plan they followed when every request is billed alike (None otherwise), whose
    ``memo`` keeps what a quote works out from the modes alone.

    Modes billed alike (stream and request, when nobody cancels) are priced once."""
    w = job.workload
    write_component = "cache_write_1h" if w.cache_ttl == "1h" else "cache_write_5m"
    if not (w.cancel.rate or job.groups or w.cached_share or w.cache_write_share):
        # the commonest job: every request alike, nothing cached, nobody cancels (what
        # split() makes of it, without the loop)
        n = Decimal(job.requests)
        total_in = n * job.input_tokens
        total_out = n * job.output_tokens
        billed = {}
        if total_in:
            billed["input"] = total_in
        if total_out:
            billed["output"] = total_out
        # the band is picked by the tokens of one request only where the model has bands
        tier_input = math.ceil(job.input_tokens) if job.priced.prices.period.tiers and n else 0
        tokens = {
            "input_tokens": total_in,
            "cached_input_tokens": ZERO,
            "cache_write_tokens": ZERO,
            "output_tokens": total_out,
            "output_tokens_billed_after_cancel": ZERO,
            "output_tokens_saved_by_cancel": ZERO,
        }
        alike = Alike(tier_input, billed, billed, tokens, tokens, write_component)
        return _cost_alike(job, modes, False, alike)
    cancel = w.cancel.rate > 0
    billing = split(job)
    if len(billing.splits) == 1:
        s = billing.splits[0]
        alike = Alike(
            s.tier_input, s.billed, s.streamed, billing.tokens, billing.streamed, write_component
        )
        return _cost_alike(job, modes, cancel, alike)
    return cost_each(job, modes, billing), None


def cost_each(job: Job, modes: Sequence[DeliveryMode], billing: Billing) -> list[dict[str, Any]]:
    """``cost_modes``'s figures priced group by group (what it does when the requests are
    not all alike; for those, the figures its plan gives, its notes aside)."""
    _each_once(modes)
    cancel = job.workload.cancel.rate > 0
    priced: dict[tuple[Mode, bool], dict[str, Any] | str] = {}
    timed: dict[tuple[bool, bool], Times | None] = {}
    out: list[dict[str, Any]] = []
    for mode in modes:
        price_mode = PRICE_MODE[mode]
        cancels = cancel and mode == "stream"
        costs = priced.get((price_mode, cancels))
        if costs is None:
            costs = priced[price_mode, cancels] = cost_groups(job, price_mode, cancels, billing)
            if isinstance(costs, str):
                out.append(_unavailable(job, mode, price_mode, costs))
                continue
            fields = costs  # the first to use them takes them
        elif isinstance(costs, str):
            out.append(_unavailable(job, mode, price_mode, costs))
            continue
        else:
            fields = _own(costs)
        fields["mode"] = mode
        out.append(fields)
        _time(job, fields, mode, cancels, timed)
    return out


def _each_once(modes: Sequence[DeliveryMode]) -> None:
    """A mode compared twice is refused, as the Workload refuses it (a list of modes changed
    in place after the workload was made is not checked there)."""
    if (twice := listed_twice(modes)) is not None:
        raise UsageError(
            f"modes lists {twice} twice; set the workload's modes anew rather than changing "
            "the list in place"
        )


def _own(fields: dict[str, Any]) -> dict[str, Any]:
    """A copy of a mode's fields with its own dict and lists (each object has its own)."""
    fields = fields.copy()
    fields["rates"] = dict(fields["rates"])
    fields["assumed"] = list(fields["assumed"])
    fields["notes"] = list(fields["notes"])
    return fields


def _cost_alike(
    job: Job,
    modes: Sequence[DeliveryMode],
    cancel: bool,
    alike: Alike,
) -> tuple[list[dict[str, Any]], "Plan"]:
    """``cost_modes`` of requests all billed alike: each mode's prices, words and fields (its
    plan) are the same for every quote of the model on the day that bills the same components
    in the same band, so they are worked out once and only the figures per quote."""
    prices = job.priced.prices
    band = prices.band(alike.tier_input) if prices.period.tiers else 0
    key = ("plan", *modes, cancel, band, *alike.billed, alike.write_component)
    plan: Plan | None = job.priced.memo.get(key)
    if plan is None:
        plan = job.priced.memo[key] = _plan(job, modes, cancel, alike)
    billed, streamed, tokens, streamed_tokens, write_component = alike[1:]
    # a provider without speed figures times batch alone (its rule's), so only then is there
    # nothing to keep between modes
    timed: dict[tuple[bool, bool], Times | None] = {} if job.speed is not None else _NO_TIMES
    out: list[dict[str, Any]] = []
    for mode, cancels, usd, fee, template, untimed, same_as in plan.steps:
        if usd is None:  # unavailable: why, and nothing priced or timed
            fields = template.copy()
            fields["rates"] = {}
            fields["assumed"] = []
            fields["notes"] = []
            out.append(fields)
            continue
        if same_as is None:
            costs = component_costs(streamed if cancels else billed, usd)
            fields = _own(template)
            cost_in = fields["input_cost"] = costs.get("input", NO_COST)
            cost_cached = fields["cached_input_cost"] = costs.get("cached_input", NO_COST)
            cost_write = fields["cache_write_cost"] = costs.get(write_component, NO_COST)
            cost_out = fields["output_cost"] = costs.get("output", NO_COST)
            fields["cost"] = ZERO + cost_in + cost_cached + cost_write + cost_out
            if fee is not None:  # every request pays it, cancelled or not
                fields["request_fee_cost"] = per_thousand(job.requests, fee)
                fields["cost"] += fields["request_fee_cost"]
            fields.update(streamed_tokens if cancels else tokens)
        else:  # billed as a mode already priced (request as stream)
            fields = _own(out[same_as])
            fields["mode"] = mode
        out.append(fields)
        if not untimed:
            _time(job, fields, mode, cancels, timed)
    return out, plan


_NO_TIMES: dict[tuple[bool, bool], Times | None] = MappingProxyType({})  # type: ignore[assignment]
"""``timed`` of a job no synchronous mode of which is timed (read-only: nothing is kept)."""


class _Step(NamedTuple):
    """One mode of a plan: its prices by component (None: not sold to the job) and its
    ModeQuote's fields (an unavailable mode's in full; a priced one's figures to fill in)."""

    mode: DeliveryMode
    cancels: bool
    usd: Mapping[str, Decimal] | None
    fee: Decimal | None
    """USD per 1,000 requests (None: no fee per request)."""
    template: dict[str, Any]
    untimed: bool
    """A synchronous mode of a provider without speed figures: its times are not known."""
    same_as: int | None
    """The step before billed alike, whose figures this one copies (None: priced here)."""


class Plan(NamedTuple):
    """How ``cost_modes`` prices the modes of jobs all billed alike (per model, day, modes,
    band and components billed): what each step does, and what quotes work out from them."""

    steps: list[_Step]
    memo: dict[Hashable, Any]
    """Whatever a quote of these modes works out from them alone (its assumptions), once."""


def _plan(job: Job, modes: Sequence[DeliveryMode], cancel: bool, alike: Alike) -> "Plan":
    _each_once(modes)
    steps: list[_Step] = []
    first: dict[tuple[Mode, bool], int] = {}  # the step that prices each kind of billing
    for mode in modes:
        price_mode = PRICE_MODE[mode]
        cancels = cancel and mode == "stream"
        shape = _shape(job, price_mode, alike.tier_input, alike.billed, alike.write_component)
        if isinstance(shape, str):
            template = _unavailable(job, mode, price_mode, shape)
            steps.append(_Step(mode, cancels, None, None, template, True, None))
            continue
        t, fields = shape
        template = _own(fields)
        template["mode"] = mode
        untimed = job.speed is None and mode != "batch"  # batch's times are its rule's
        same_as = first.setdefault((price_mode, cancels), len(steps))
        same = same_as if same_as < len(steps) else None
        steps.append(_Step(mode, cancels, t.usd, t.request_fee, template, untimed, same))
    return Plan(steps, {})


def _time(
    job: Job,
    fields: dict[str, Any],
    mode: DeliveryMode,
    cancels: bool,
    timed: dict[tuple[bool, bool], Times | None],
) -> None:
    """Fill in how long ``mode`` takes (left None when not known); ``timed`` keeps the
    synchronous modes' times for the others billed and timed alike."""
    times: Times | None
    if mode == "batch":
        times = batch_time(job)
        if times is None:
            return
        fields["time_to_first_token_s"] = times.first
    else:
        # modes as fast per request that generate as much take as long
        key = (mode == "flex" and job.provider.flex is not None, cancels)  # flex is slower
        if key in timed:
            times = timed[key]
        else:
            times = timed[key] = sync_time(job, key[0], fields["output_tokens"])
        if times is None:
            return
        # a stream's first token as soon as it is written; request's comes with the last
        fields["time_to_first_token_s"] = times.first if mode == "stream" else times.one
        if mode == "fast":
            fields["notes"] = [*fields["notes"], FAST_TIMES]
    fields["time_to_complete_s"] = times.one
    fields["wait_s"] = times.wait
    fields["worst_wait_s"] = times.worst
    fields["limited_by"] = times.limited_by


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


def _shape(
    job: Job, price_mode: Mode, tier_input: int, billed: Mapping[str, Decimal], write_component: str
) -> tuple[Tariff, dict[str, Any]] | str:
    """What ``price_mode`` makes of requests all billed alike, but the figures: its tariff
    and a ModeQuote's fields (rates used, assumed, notes; costs, tokens, times
    and savings to fill in), or why it cannot be sold. The same for every quote of the model
    and day with the same components billed in the same band: worked out once (callers copy
    the template and its lists)."""
    prices = job.priced.prices
    band = prices.band(tier_input) if prices.period.tiers else 0
    key = ("shape", price_mode, band, tuple(billed), write_component)
    found: tuple[Tariff, dict[str, Any]] | str | None = job.priced.memo.get(key)
    if found is None:
        t = tariff(job.priced, price_mode, tier_input)
        if not isinstance(t, Tariff):
            found = t.reason
        else:
            used, assumed, notes = _words(job, t, billed, write_component)
            tokens = dict.fromkeys(TOKEN_FIELDS, ZERO)  # in place, to be filled in
            found = (t, priced_fields(price_mode, (NO_COST,) * 5, tokens, used, assumed, notes))
        job.priced.memo[key] = found
    return found


def _words(
    job: Job, t: Tariff, billed: Mapping[str, Decimal], write_component: str
) -> tuple[dict[str, Decimal], list[str], list[str]]:
    """The rates used, the assumed components and the notes of one group of requests all
    billed at ``t`` (``_shape`` keeps them, once per model, mode, band and components)."""
    notes = unpriced_notes(job, t, billed, write_component) if t.unpriced else []
    used = rates_used(t, billed, write_component)
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


_UNPRICED: dict[str, Any] = {
    name: False if name == "available" else field.default if not field.is_required() else None
    for name, field in ModeQuote.model_fields.items()
}
"""ModeQuote's fields with their defaults, in order: an unavailable mode's, once its own
filled in."""
