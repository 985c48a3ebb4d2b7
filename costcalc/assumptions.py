"""What a quote says it assumed: where its prices come from, speed, rate limits, batch's
wait, flex's, cancels and the prompt cache (``Quote.assumptions``), and the fields that name
the model and its prices. What depends on the model and day alone is worked out once per
``PricedModel``; what follows from a plan of modes, once per plan (``delivery.Plan``)."""

from decimal import Decimal
from typing import Any, NamedTuple

from costcalc.billing import Job
from costcalc.delivery import ModeQuote, Plan
from costcalc.prices import RateLimit
from costcalc.prices.table import REQUEST_FEE
from costcalc.workload import Workload


def _pct_text(share: Decimal) -> str:
    return f"{(share * 100).normalize():f}%"


class About(NamedTuple):
    """What a quote says about a model's prices on a day, whatever the workload: worked out
    once per ``PricedModel`` (its ``memo``)."""

    fields: dict[str, Any]
    """The quote's fields that say which model and prices."""
    head: list[str]
    speed: str
    batch: dict[str, str]
    """The batch line for each ``batch_wait`` (none: no Batch API)."""
    flex: str | None
    no_limits: str
    """The line a quote without rate limits says."""


UNDATED = "; the data gives them no start date, so they stand for any earlier day"


def about_prices(job: Job) -> About:
    about: About | None = job.priced.memo.get("assumptions")
    if about is not None:
        return about
    p, speed = job.prices, job.speed
    head = []
    if p.model.teaching:
        head.append(f"{p.model.id} is a teaching rate, not a list price: {p.model.name}")
    # a day before the data was read, at prices the data gives no start: said, not refused
    undated = not (p.period.effective_from or p.model.released) and p.on < p.period.as_of
    head.append(f"prices in effect on {p.on}, {p.period.provenance()}" + UNDATED * undated)
    if p.period.note and not p.model.teaching:  # the teaching rate says so above
        head.append(f"note on these prices: {p.period.note}")
    fallback = ""
    if p.model.speed is None:
        fallback = f"; {p.model.id} has no figure of its own, so {p.provider.name}'s default"
        if p.model.reasoning:
            fallback += ", which leaves out thinking time: a reasoning model is slower"
    if speed is None:
        speed_line = (
            f"speed: no figures for {p.provider.name}, so how long the synchronous modes take "
            "is not estimated"
        )
    else:
        speed_line = (
            f"speed (estimate, {speed.as_of}{fallback}): {speed.time_to_first_token_s} s to "
            f"the first token, {speed.output_tokens_per_s} output tokens/s ({speed.source})"
        )
    batch = {}
    rule = p.provider.batch
    hours = rule.completion_window_hours if rule is not None else None
    if rule is not None and hours is None:
        batch = dict.fromkeys(
            ("worst", "typical"),
            f"batch: {p.provider.name} documents no completion window: no wait is known",
        )
    elif rule is not None and hours is not None:
        window = f"{hours.normalize():f} h"
        if rule.typical_turnaround_hours is None:
            batch = dict.fromkeys(
                ("worst", "typical"),
                f"batch: at most {window} (no typical turnaround published: the window is used)",
            )
        else:
            typical = f"{rule.typical_turnaround_hours.normalize():f} h"
            batch = {
                "worst": f"batch: typically {typical}, at most {window}; decisions use the "
                f"{window} completion window",
                "typical": f"batch: typically {typical}, at most {window}; decisions use the "
                f"typical {typical} turnaround",
            }
    flex = p.provider.flex
    flex_line = None
    if flex is not None:
        flex_line = (
            f"flex: each request takes {flex.latency_factor.normalize():f}x as long as standard "
            "(an estimate; the provider says only that flex is slower)"
        )
    fields = {
        "model": p.model.id,
        "model_name": p.model.name,
        "provider": p.provider.provider,
        "teaching": p.model.teaching,
        "currency": p.currency,
        "prices_as_of": p.on,
        "prices_checked": p.period.as_of,
        "price_source": p.period.source,
        "price_origin": p.period.origin,
    }
    no_limits = f"rate limits: none known for {p.provider.name} (give your own to apply them)"
    about = job.priced.memo["assumptions"] = About(
        fields, head, speed_line, batch, flex_line, no_limits
    )
    return about


def _limits_line(tier: str, lim: RateLimit, uncounted: bool) -> str:
    parts = [
        f"{lim.requests_per_minute:,} requests/min",
        f"{lim.tokens_per_minute:,} tokens/min",
    ]
    if lim.output_tokens_per_minute:
        parts[-1] = f"{lim.tokens_per_minute:,} input tokens/min"
        parts.append(f"{lim.output_tokens_per_minute:,} output tokens/min")
    if lim.batch_queue_tokens:
        parts.append(f"batch queue {lim.batch_queue_tokens:,} tokens")
    if lim.batch_queue_requests:
        parts.append(f"batch queue {lim.batch_queue_requests:,} requests")
    if uncounted:
        parts.append("cache reads do not count against input tokens/min")
    return f"rate limits of {tier}: " + ", ".join(parts)


def _fixed(
    w: Workload,
    job: Job,
    about: About,
    measured: str | None,
    assumed: list[str],
    flex: bool,
    uncounted: bool,
    table_limits: bool,
) -> list[str]:
    """A quote's assumptions up to the workload's own (cancels, cache): the prices, how input
    was measured, what is assumed, speed, rate limits (``table_limits``: none, or a tier as
    the table has it), batch's wait and flex's."""
    lim = job.limits
    out = list(about.head)
    if measured:
        out.append(measured)
    if assumed:
        out.append(
            "assumed from the provider's rule, not published: " + ", ".join(sorted(set(assumed)))
        )
    out.append(about.speed)
    if lim is None:
        out.append(about.no_limits)
    elif w.rate_limited:
        if table_limits:  # a tier as the table has it: its line made once
            key = ("limits", job.tier, uncounted)
            line = job.priced.memo.get(key)
            if line is None:
                line = job.priced.memo[key] = _limits_line(job.tier, lim, uncounted)
            out.append(line)
        else:
            out.append(_limits_line(job.tier, lim, uncounted))
    else:
        out.append("rate limits and the batch queue ignored (rate_limited: false)")
    if about.batch and "batch" in w.modes:
        out.append(about.batch[w.batch_wait])
    if flex:
        assert about.flex is not None
        out.append(about.flex)
    return out


def quote_assumptions(
    w: Workload,
    job: Job,
    measured: str | None,
    modes: list[ModeQuote],
    plan: Plan | None,
) -> list[str]:
    """``Quote.assumptions`` of the quote of ``w`` (its ``modes``, priced from ``plan`` when
    its requests are all alike)."""
    lim = job.limits
    uncounted = bool(w.cached_share) and not job.cache_reads_count
    tiers = job.priced.rate_limits
    table_limits = lim is None or (tiers is not None and tiers.tiers.get(job.tier) is lim)
    # the lines before the workload's own (cancels, cache) are the same for every quote that
    # follows the plan (the modes, which are sold, what is assumed) with the same limits and
    # flags: worked out once
    key, found = None, None
    if plan is not None and table_limits and not measured:
        key = (job.tier, w.rate_limited, w.batch_wait, uncounted)
        found = plan.memo.get(key)
    if found is None:
        about = about_prices(job)
        assumed = [
            f"{m.mode} {c}" if c != REQUEST_FEE else f"{m.mode} fee per request (standard's)"
            for m in modes
            if m.assumed
            for c in m.assumed
        ]
        flex = about.flex is not None and any(m.mode == "flex" and m.available for m in modes)
        found = _fixed(w, job, about, measured, assumed, flex, uncounted, table_limits)
        if key is not None:
            assert plan is not None
            plan.memo[key] = found
    out: list[str] = found.copy()
    if "stream" in w.modes and w.cancel.rate > 0:
        seen = (
            f"{w.cancel.after_tokens:,} tokens"
            if w.cancel.after_tokens is not None
            else "half the output"
        )
        if w.cancel.after_tokens is not None and w.cancel.after_tokens >= job.output_tokens:
            seen += f", at or past the {job.output_tokens:,}-token answer, so nothing is saved"
        out.append(
            f"streaming: {_pct_text(w.cancel.rate)} of requests cancelled after {seen}; "
            f"{w.cancel.billed_after_cancel} more tokens billed per cancel before the server "
            "notices (no provider documents abort billing)"
        )
    if w.cached_share or w.cache_write_share:
        out.append(
            f"prompt cache: {_pct_text(w.cached_share)} of input tokens read from cache, "
            f"{_pct_text(w.cache_write_share)} written ({w.cache_ttl})"
        )
    return out
