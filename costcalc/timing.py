"""How long each delivery mode takes: a synchronous request's time from the model's speed,
the whole workload's as the rate limits and concurrency allow, and a batch's turnaround and
completion window, per wave of the batch queue. Speeds are estimates from the price table."""

from __future__ import annotations

import math
from decimal import Decimal
from operator import itemgetter
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from costcalc.billing import Job
    from costcalc.prices import Provider

HOUR = Decimal(3600)
MINUTE = Decimal(60)


class Times(NamedTuple):
    """How long a mode takes: ModeQuote's time fields."""

    first: Decimal
    """A stream's first token (batch: the typical turnaround)."""
    one: Decimal
    """One request, from sending to the last token (batch: the typical turnaround)."""
    wait: Decimal
    worst: Decimal
    limited_by: str


def sync_time(job: Job, flex: bool, total_out: Decimal) -> Times | None:
    """A synchronous mode's times (none when the provider has no speed figures), at flex's
    speed or standard's, for ``total_out`` output tokens."""
    if job.speed is None:  # no figures for the provider: times not known
        return None
    ttft = job.speed.time_to_first_token_s
    tps = job.speed.output_tokens_per_s
    if flex:
        factor = job.provider.flex.latency_factor  # type: ignore[union-attr]
        ttft, tps = ttft * factor, tps / factor
    one = ttft + job.output_tokens / tps
    wall, limited_by = sync_wall(job, one, total_out)
    return Times(ttft, one, wall, wall, limited_by)


def sync_wall(job: Job, one: Decimal, total_out: Decimal) -> tuple[Decimal, str]:
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
    wall, why = max(bounds, key=itemgetter(0))
    if why != "one request's time" and w.rate_limited:
        why = f"{why} ({job.tier})"
    return wall, why


def batch_time(job: Job) -> Times | None:
    """Batch's times: the turnaround and window, per wave of the queue."""
    one: Times | None = job.priced.memo.get("batch times", _NONE)
    if one is _NONE:
        one = job.priced.memo["batch times"] = _one_batch(job.provider)
    if one is None or not job.workload.rate_limited or job.limits is None:
        return one
    if not job.limits.batch_queue_tokens and not job.limits.batch_queue_requests:
        return one
    typical, window = one.one, one.worst
    waves, limited_by = 1, "completion window"
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
    return Times(typical, typical, typical * waves, window * waves, limited_by)


_NONE: Any = object()


def _one_batch(provider: Provider) -> Times | None:
    """One batch's times, whatever the job: the turnaround and the window (None: nothing
    says how long a batch takes, though batch prices are published)."""
    rule = provider.batch
    if rule is None or rule.completion_window_hours is None:
        return None
    window = rule.completion_window_hours * HOUR
    # no typical turnaround published: the window is all that is known
    typical = rule.typical_turnaround_hours * HOUR if rule.typical_turnaround_hours else window
    return Times(typical, typical, typical, window, "completion window")
