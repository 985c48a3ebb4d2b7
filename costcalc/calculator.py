"""quote(workload) -> Quote: every delivery mode side by side, the savings set against the wait,
and a verdict.

Savings are measured against the baseline (request/response unless chosen). The wait of a
mode is the wall time of the whole workload; for batch, decisions use the completion window
(the guaranteed bound: "up to 24 h") unless the workload asks for the typical turnaround.
The break-even value of time is the saving divided by the extra hours of waiting: if an hour
of waiting costs you more than that, the slower, cheaper mode is not worth it.
"""

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict

from costcalc._version import __version__
from costcalc.delivery import (
    HOUR,
    Job,
    ModeQuote,
    RequestGroup,
    Seconds,
    Tokens,
    cost_of,
    count_of,
    duration,
    request_groups,
    tier_bounds,
)
from costcalc.errors import UsageError, arg
from costcalc.money import MoneyOut, per_hour, per_hour_rate, usd
from costcalc.prices import ModelPrices, PriceTable, RateLimit, load_price_table
from costcalc.prices.schema import PricePeriod
from costcalc.results import render_result, to_json
from costcalc.workload import DeliveryMode, Workload

_RESULT = ConfigDict(defer_build=True, protected_namespaces=())
"""Result objects are made by costcalc from values it computed (model_construct): their
schemas are built only when JSON is written, not at every start-up. ``Quote.model_name`` is
a field, not pydantic's (older pydantic warns about the ``model_`` prefix otherwise)."""


class Recommendation(BaseModel):
    model_config = _RESULT
    mode: DeliveryMode | None
    """The mode to use (None when no mode is available)."""
    reason: str
    """The verdict in words."""
    break_even_usd_per_hour: MoneyOut | None = None
    """Saving of the cheapest slower mode against the baseline per extra hour of waiting."""
    break_even_mode: DeliveryMode | None = None
    """The mode ``break_even_usd_per_hour`` is about."""
    meets_deadline: bool | None = None
    """Whether the recommended mode finishes within the deadline (None: no deadline)."""


class Quote(BaseModel):
    """One workload priced under every delivery mode."""

    model_config = _RESULT

    name: str
    model: str
    model_name: str
    provider: str
    teaching: bool
    currency: str
    prices_as_of: dt.date
    """The date whose prices apply."""
    prices_checked: dt.date
    """When those prices were last checked against their source."""
    price_source: str
    price_origin: str | None = None
    """The data the prices were taken from when no one checked them against the source
    (``genai-prices 0.2.3``); None: checked on ``prices_checked``."""
    requests: int
    input_tokens_per_request: Tokens
    output_tokens_per_request: Tokens
    input_measured: str | None = None
    """How input tokens were measured, when they came from a file."""
    cached_share: Decimal
    cache_write_share: Decimal
    cancel_rate: Decimal
    tier: str
    rate_limits: RateLimit | None
    """None: no rate limits known for the provider (and none given)."""
    rate_limited: bool
    baseline: DeliveryMode
    batch_wait: str
    deadline_s: Seconds | None
    value_of_time: MoneyOut | None
    source: str | None
    modes: list[ModeQuote]
    recommendation: Recommendation
    assumptions: list[str]

    def mode(self, name: str) -> ModeQuote:
        """The quote of one delivery mode (KeyError if it was not compared)."""
        for m in self.modes:
            if m.mode == name:
                return m
        compared = ", ".join(m.mode for m in self.modes)
        raise KeyError(f"{name!r} is not among the modes of this quote ({compared})")

    @property
    def available(self) -> list[ModeQuote]:
        return [m for m in self.modes if m.available]

    @property
    def cheapest(self) -> ModeQuote:
        """The available mode that costs least (the faster on a tie)."""
        return min(self.available, key=lambda m: (m.cost, m.wait_s or Decimal(0)))

    @property
    def fastest(self) -> ModeQuote:
        """The available mode that finishes the workload first, on the ``batch_wait`` basis
        (on a tie the cheaper, then request for work nobody watches, then the earlier first
        token)."""
        return min(
            self.available,
            key=lambda m: (
                m.basis_wait(self.batch_wait),
                m.cost,
                _background(self, m),
                m.time_to_first_token_s,
            ),
        )

    def to_json(self) -> str:
        return to_json(QuoteReport.of([self]))

    def to_markdown(self) -> str:
        return render_result(QuoteReport.of([self]), "markdown")


class QuoteReport(BaseModel):
    """The JSON document of `costcalc quote`: one or more workloads."""

    model_config = _RESULT

    currency: str
    prices_as_of: dt.date
    generated_by: str
    workloads: list[Quote]

    @classmethod
    def of(cls, quotes: Sequence[Quote]) -> "QuoteReport":
        return cls.model_construct(
            currency=quotes[0].currency if quotes else "USD",
            prices_as_of=max((q.prices_as_of for q in quotes), default=dt.date.today()),
            generated_by=f"costcalc {__version__}",
            workloads=list(quotes),
        )

    def to_json(self) -> str:
        return to_json(self)

    def to_markdown(self) -> str:
        return render_result(self, "markdown")


# --- resolving a workload -------------------------------------------------------------------


def resolve(
    workload: Workload, table: PriceTable, input_sizes: Mapping[int, int] | None = None
) -> tuple[Job, str | None]:
    """Look up prices, speed and limits; measure input tokens from a file if asked."""
    prices = table.prices(workload.model, workload.as_of)
    model = prices.model
    if workload.as_of is not None and workload.as_of > dt.date.today():
        import warnings

        from costcalc.errors import CostcalcWarning

        warnings.warn(
            f"{workload.as_of} is in the future: {model.id} is priced at the latest known "
            f"prices (checked {prices.period.as_of})",
            CostcalcWarning,
            stacklevel=3,
        )
    # the window of the prices' day (a retired beta may have allowed more then)
    limit = prices.period.context_window or model.max_input_tokens or model.context_window
    requests, input_tokens, measured = workload.requests, workload.input_tokens, None
    groups: tuple[RequestGroup, ...] = ()
    sampled = False
    if workload.input_file is not None:
        requests, input_tokens, groups, measured, sampled = _measure(workload, table, prices, limit)
    elif input_sizes:  # a histogram from the caller (batch build's sample)
        assert requests is not None
        groups = request_groups(input_sizes, tier_bounds(prices), requests)
    assert requests is not None and input_tokens is not None
    if limit is not None and input_tokens > limit:
        raise UsageError(
            f"input_tokens {input_tokens:,} per request exceeds {model.id}'s limit of "
            f"{limit:,} input tokens"
        )
    if model.max_output_tokens and workload.output_tokens > model.max_output_tokens:
        raise UsageError(
            f"output_tokens {workload.output_tokens:,} per request exceeds {model.id}'s "
            f"maximum output of {model.max_output_tokens:,} tokens"
        )
    limits = table.rate_limits(model.id)
    given = workload.rate_limits.model_dump(exclude_none=True)
    merged: RateLimit | None
    if limits is None:
        # a provider known only from its prices: its limits are the caller's, if given
        if workload.tier is not None:
            raise UsageError(
                f"no rate-limit tiers are known for {prices.provider.name}, so {arg('tier')} "
                f"{workload.tier!r} cannot be looked up; give your own limits instead"
            )
        tier = "your limits" if given else "no known rate limits"
        has_both = "requests_per_minute" in given and "tokens_per_minute" in given
        merged = RateLimit.model_construct(**{**dict.fromkeys(RateLimit.model_fields), **given})
        if not has_both:
            merged = None
        cache_reads_count = True
    else:
        tier = workload.tier or limits.default_tier
        if tier not in limits.tiers:
            raise UsageError(
                f"unknown rate-limit tier {tier!r} for {model.id}; known: {', '.join(limits.tiers)}"
            )
        merged = limits.tiers[tier].model_copy(update=given)
        cache_reads_count = limits.cache_reads_count
        tier = tier if not given else f"{tier}, with your limits"
    return (
        Job(
            workload=workload,
            requests=requests,
            input_tokens=input_tokens,
            output_tokens=workload.output_tokens,
            prices=prices,
            speed=table.speed(model.id),
            limits=merged,
            tier=tier,
            groups=groups,
            groups_estimated=sampled,
            cache_reads_count=cache_reads_count,
        ),
        measured,
    )


def _measure(
    w: Workload, table: PriceTable, prices: ModelPrices, limit: int | None
) -> tuple[int, Decimal, tuple[RequestGroup, ...], str, bool]:
    """Requests, mean input tokens, the requests split by price tier, how they were measured,
    and whether from a sample, from the workload's input file (one request per JSONL line,
    CSV row, or non-blank line of text, as `batch build` reads them)."""
    from costcalc.tokens.count import count_file
    from costcalc.tokens.readers import detect_format

    assert w.input_file is not None
    fmt = detect_format(w.input_file, None, None)
    if w.input_column is not None and fmt != "csv":
        raise UsageError(
            f"{w.input_file}: {arg('input_column', both=True)} applies to CSV files (.csv, .tsv); "
            "JSON requests are read from their messages or prompt, text one per line"
        )
    if w.input_column is None and fmt == "csv":
        raise UsageError(
            f"{w.input_file}: a CSV file needs {arg('input_column NAME', both=True)}, the column "
            "holding each request's text"
        )
    counted = count_file(
        w.input_file,
        prices.model.id,
        column=w.input_column,
        input_format="lines" if fmt == "text" else None,
        sample=w.input_sample,
        seed=w.input_seed,
        errors=w.input_errors,
        table=table,
        prompts_as_messages=True,
    )
    if counted.requests == 0:
        raise UsageError(f"{w.input_file}: no requests to price")
    over = counted.over_context
    if limit != counted.context_limit:  # the prices' day had another window (a retired beta)
        from costcalc.tokens.result import over_limit

        hist = counted.sizes()
        seen = sum(hist.values())
        over = round(counted.requests * over_limit(hist, limit) / seen) if seen else 0
    if over:
        raise UsageError(
            f"{w.input_file}: {count_of(over, 'request')} over {prices.model.id}'s "
            f"limit of {limit or 0:,} input tokens (the largest has {counted.per_request.max:,})"
        )
    requests = w.requests or counted.requests
    groups = request_groups(counted.sizes(), tier_bounds(prices), requests)
    input_tokens = sum((g.input_tokens for g in groups), Decimal(0)) / Decimal(requests)
    if counted.sample is not None:
        assert counted.interval is not None
        how = (
            f"an estimate from a random sample of {counted.sample.size:,} of "
            f"{counted.sample.population:,} (seed {counted.sample.seed}; 95% interval "
            f"{counted.interval.low:,} to {counted.interval.high:,} tokens)"
        )
    else:
        how = "every request"
    # a sample's reason comes last; any other is the tokenizer's (Claude, Gemini: estimates)
    tokenizer_estimated = len(counted.estimate_reasons) > (counted.sample is not None)
    estimated = ", estimated" if tokenizer_estimated else ""
    measured = (
        f"input tokens measured from {w.input_file} ({how}, {counted.encoding}{estimated}; "
        "a bare prompt counted as the one user message it is sent as): "
        f"{counted.tokens:,} tokens in {count_of(counted.requests, 'request')}"
    )
    if w.requests is not None and w.requests != counted.requests:
        measured += f"; priced for {count_of(w.requests, 'request')} at the same mean"
    return requests, input_tokens, groups, measured, counted.sample is not None


# --- the quote ------------------------------------------------------------------------------


def quote(
    workload: Workload,
    table: PriceTable | None = None,
    *,
    input_sizes: Mapping[int, int] | None = None,
) -> Quote:
    """Price ``workload`` under each of its delivery modes and recommend one.

    ``input_sizes`` (input tokens per request -> requests, of all requests or a sample) lets
    long-context prices apply request by request when the workload gives only the mean.

    >>> q = quote(Workload(model="gpt-4o", requests=1000, input_tokens=800, output_tokens=200))
    >>> q.cheapest.mode
    'batch'
    """
    table = table or load_price_table()
    job, measured = resolve(workload, table, input_sizes)
    modes = [cost_of(job, m) for m in workload.modes]
    by_name = {m.mode: m for m in modes}
    base = by_name[workload.baseline]
    if not base.available:
        raise UsageError(
            f"baseline {workload.baseline} is not available for {job.prices.model.id}: "
            f"{base.reason}; choose another with {arg('baseline')}"
        )
    available = [m for m in modes if m.available]
    basis = workload.batch_wait
    timed = all(b.wait_s is not None for b in available)
    fastest = min(b.basis_wait(basis) for b in available) if timed else Decimal(0)
    base_wait = base.basis_wait(basis) if timed else Decimal(0)
    assert base.cost is not None
    filled = []
    for m in modes:
        if not m.available:
            filled.append(m)
            continue
        assert m.cost is not None
        savings = base.cost - m.cost
        update: dict[str, Any] = {"savings": savings, "savings_pct": _pct(savings, base.cost)}
        if timed:  # without times, no wait to set the saving against
            extra = m.basis_wait(basis) - base_wait
            update["extra_wait_s"] = m.basis_wait(basis) - fastest
            update["savings_per_hour_waited"] = (
                per_hour_rate(savings, extra / HOUR) if extra > 0 else None
            )
        filled.append(m.model_copy(update=update))
    provisional = _quote(
        workload, job, measured, filled, Recommendation.model_construct(mode=None, reason="")
    )
    return provisional.model_copy(update={"recommendation": recommend(provisional)})


def _pct(part: Decimal, whole: Decimal) -> Decimal | None:
    if whole == 0:
        return None
    return (part / whole * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _quote(
    w: Workload, job: Job, measured: str | None, modes: list[ModeQuote], rec: Recommendation
) -> Quote:
    p = job.prices
    return Quote.model_construct(
        name=w.name,
        model=p.model.id,
        model_name=p.model.name,
        provider=p.provider.provider,
        teaching=p.model.teaching,
        currency=p.currency,
        prices_as_of=p.on,
        prices_checked=p.period.as_of,
        price_source=p.period.source,
        price_origin=p.period.origin,
        requests=job.requests,
        input_tokens_per_request=job.input_tokens,
        output_tokens_per_request=job.output_tokens,
        input_measured=measured,
        cached_share=w.cached_share,
        cache_write_share=w.cache_write_share,
        cancel_rate=w.cancel.rate,
        tier=job.tier,
        rate_limits=job.limits,
        rate_limited=w.rate_limited,
        baseline=w.baseline,
        batch_wait=w.batch_wait,
        deadline_s=w.deadline_s,
        value_of_time=w.value_of_time,
        source=w.source,
        modes=modes,
        recommendation=rec,
        assumptions=_assumptions(w, job, measured, modes),
    )


def recommend(q: Quote) -> Recommendation:
    """The verdict: with a deadline the cheapest mode that meets it; with a value of time the
    lowest money-plus-waiting cost; otherwise the cheapest, with its break-even."""
    available = q.available
    if not available:
        return Recommendation.model_construct(
            mode=None, reason="no delivery mode is available for this model"
        )
    basis = q.batch_wait
    base = q.mode(q.baseline)
    assert base.cost is not None
    if any(m.wait_s is None for m in available):
        return _untimed(q, available)
    slower = [
        m
        for m in available
        if m.savings_per_hour_waited is not None and m.savings is not None and m.savings > 0
    ]
    be_mode = min(slower, key=lambda m: m.cost or Decimal(0)) if slower else None
    be_value = be_mode.savings_per_hour_waited if be_mode else None
    be_name = be_mode.mode if be_mode else None

    def verdict(mode: DeliveryMode, reason: str) -> Recommendation:
        chosen = q.mode(mode)
        # a mode that saves at least as much without more waiting leaves no trade-off to price
        no_trade_off = (
            be_mode is not None
            and chosen.cost is not None
            and chosen.cost <= (be_mode.cost or Decimal(0))
            and chosen.savings_per_hour_waited is None
        )
        value: Decimal | None
        name: DeliveryMode | None
        if chosen.savings_per_hour_waited is not None and (chosen.savings or 0) > 0:
            # the choice itself trades money for waiting: its own break-even, as the reason says
            value, name = chosen.savings_per_hour_waited, chosen.mode
        else:
            value, name = (None, None) if no_trade_off else (be_value, be_name)
        meets = chosen.basis_wait(basis) <= q.deadline_s if q.deadline_s is not None else None
        return Recommendation.model_construct(
            mode=mode,
            reason=reason,
            break_even_usd_per_hour=value,
            break_even_mode=name,
            meets_deadline=meets,
        )

    if q.source == "web-ui":
        interactive = [m for m in available if m.mode != "batch"]
        if interactive:
            return verdict(*_someone_watching(q, interactive))
    candidates = available
    lead, sep = "", ":"
    if q.deadline_s is not None:
        meets = [m for m in available if m.basis_wait(basis) <= q.deadline_s]
        if meets:
            candidates = meets
            missed = [m.mode for m in available if m not in meets]
            lead = f"within the {duration(q.deadline_s)} deadline"
            if missed:
                lead += f" ({', '.join(missed)} may take longer)"
        elif q.value_of_time is None:
            return verdict(*_missed_deadline(q, q.deadline_s))
        else:
            # every mode is late: the money-plus-waiting comparison below still ranks them
            lead, sep = f"no mode finishes within the {duration(q.deadline_s)} deadline", ";"
    if q.value_of_time is not None:
        vot = q.value_of_time

        def all_told(m: ModeQuote) -> Decimal:
            assert m.cost is not None
            return m.cost + vot * m.basis_wait(basis) / HOUR

        best = min(candidates, key=lambda m: (all_told(m), m.basis_wait(basis), _background(q, m)))
        waited = duration(best.basis_wait(basis))
        reason = (
            f"with an hour of waiting worth {usd(vot)}, {best.mode} costs least all told: "
            f"{usd(best.cost or Decimal(0))} + {waited} of waiting = {usd(all_told(best))}"
        )
        # set against a mode that differs in money or wait (stream and request often tie)
        others = [
            m
            for m in candidates
            if (m.cost, m.basis_wait(basis)) != (best.cost, best.basis_wait(basis))
        ]
        cheaper = [m for m in others if (m.cost or 0) < (best.cost or 0)]
        if cheaper or others:
            # set against the cheaper mode it beat when there is one: that is the trade-off
            runner = (
                min(cheaper, key=lambda m: m.cost or 0) if cheaper else min(others, key=all_told)
            )
            waited = duration(runner.basis_wait(basis))
            reason += (
                f", against {usd(runner.cost or Decimal(0))} + {waited} = "
                f"{usd(all_told(runner))} for {runner.mode}"
            )
        if lead:
            reason = f"{lead}{sep} {reason}"
        return verdict(best.mode, reason)
    best = min(candidates, key=lambda m: (m.cost, m.basis_wait(basis), _background(q, m)))
    reason = _cheapest_reason(q, best, base)
    if lead:
        reason = f"{lead}, {reason}"
    return verdict(best.mode, reason)


def _untimed(q: Quote, available: list[ModeQuote]) -> Recommendation:
    """The verdict when how long the modes take is not known (no speed or rate-limit figures
    for the provider): the cheapest, and the deadline and value of time left unjudged."""
    best = min(available, key=lambda m: (m.cost, _background(q, m)))
    reason = (
        f"{best.mode} costs least ({usd(best.cost or Decimal(0))}); how long each mode takes "
        f"is not known for {q.provider} (no speed or rate-limit figures), so "
        + ("the deadline is not judged" if q.deadline_s is not None else "no wait is weighed")
    )
    return Recommendation.model_construct(mode=best.mode, reason=reason)


def _background(q: Quote, m: ModeQuote) -> int:
    """Tie-break between equal modes: work nobody watches takes the whole answer at once
    (request), not a stream; otherwise the stream's earlier first token wins."""
    return int(m.mode == "stream" and q.source in ("cron", "batch-job", "webhook", "api"))


def _someone_watching(q: Quote, interactive: list[ModeQuote]) -> tuple[DeliveryMode, str]:
    """Requests from a web UI have a person at the screen: stream, as the default routing
    policy says (or, without it, the cheapest mode that answers while they wait), whatever
    batch would save; the saving is still named."""
    if any(m.mode == "stream" for m in interactive):
        chosen = q.mode("stream")
        text = "someone is watching (source web-ui): stream shows the answer as it is written"
    else:
        chosen = min(interactive, key=lambda m: (m.cost, m.basis_wait(q.batch_wait)))
        text = (
            f"someone is watching (source web-ui): {chosen.mode} is the cheapest mode that "
            "answers while they wait"
        )
    text += f" ({usd(chosen.cost or Decimal(0))})"
    cheapest = q.cheapest
    if chosen.cost is not None and cheapest.cost is not None and cheapest.cost < chosen.cost:
        up_to = "up to " if q.batch_wait == "worst" and cheapest.mode == "batch" else ""
        text += (
            f"; {cheapest.mode} would save {usd(chosen.cost - cheapest.cost)} but takes "
            f"{up_to}{duration(cheapest.basis_wait(q.batch_wait))}"
        )
    return chosen.mode, text


def _missed_deadline(q: Quote, deadline_s: Decimal) -> tuple[DeliveryMode, str]:
    """No mode meets the deadline: the cheapest of the modes that finish first."""
    basis = q.batch_wait
    first = q.fastest
    wait = first.basis_wait(basis)
    tied = [m.mode for m in q.available if m.basis_wait(basis) == wait]
    text = f"no mode finishes within the {duration(deadline_s)} deadline; "
    if len(tied) == 1:
        text += f"the fastest is {first.mode} ({duration(wait)}, {usd(first.cost or Decimal(0))})"
    else:
        text += (
            f"{', '.join(tied)} finish first ({duration(wait)}); {first.mode} is the cheapest "
            f"of them ({usd(first.cost or Decimal(0))})"
        )
    return first.mode, text


def _cheapest_reason(q: Quote, best: ModeQuote, base: ModeQuote) -> str:
    assert best.cost is not None and base.cost is not None
    if best.mode == base.mode or not best.savings or best.savings <= 0:
        return f"{best.mode} is the cheapest mode ({usd(best.cost)})"
    up_to = "up to " if q.batch_wait == "worst" and best.mode == "batch" else ""
    extra_s = best.basis_wait(q.batch_wait) - base.basis_wait(q.batch_wait)
    text = f"{best.mode} saves {usd(best.savings)} ({best.savings_pct}%) against {base.mode}"
    if extra_s > 0 and best.savings_per_hour_waited is not None:
        total = best.basis_wait(q.batch_wait)
        # the break-even divides by the extra wait; name it when the baseline's own wait is
        # not negligible beside it
        waiting = (
            f"{up_to}{duration(total)} of waiting"
            if extra_s * 20 >= total * 19
            else f"{duration(extra_s)} more waiting ({up_to}{duration(total)} in all)"
        )
        text += (
            f" for {waiting}: worth it unless an hour of waiting costs you more than "
            f"{per_hour(best.savings_per_hour_waited)}"
        )
    else:
        text += " and takes no longer"
    return text


def _pct_text(share: Decimal) -> str:
    return f"{(share * 100).normalize():f}%"


def _assumptions(w: Workload, job: Job, measured: str | None, modes: list[ModeQuote]) -> list[str]:
    p, speed, lim = job.prices, job.speed, job.limits
    out = []
    if p.model.teaching:
        out.append(f"{p.model.id} is a teaching rate, not a list price: {p.model.name}")
    out.append(f"prices in effect on {p.on}, {PricePeriod.provenance(p.period)}")
    if measured:
        out.append(measured)
    assumed = sorted({f"{m.mode} {c}" for m in modes for c in m.assumed})
    if assumed:
        out.append("assumed from the provider's rule, not published: " + ", ".join(assumed))
    fallback = ""
    if p.model.speed is None:
        fallback = f"; {p.model.id} has no figure of its own, so {p.provider.name}'s default"
        if p.model.reasoning:
            fallback += ", which leaves out thinking time: a reasoning model is slower"
    if speed is None:
        out.append(
            f"speed: no figures for {p.provider.name}, so how long the synchronous modes take "
            "is not estimated"
        )
    else:
        out.append(
            f"speed (estimate, {speed.as_of}{fallback}): {speed.time_to_first_token_s} s to "
            f"the first token, {speed.output_tokens_per_s} output tokens/s ({speed.source})"
        )
    if lim is None:
        out.append(f"rate limits: none known for {p.provider.name} (give your own to apply them)")
    elif w.rate_limited:
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
        if w.cached_share and not job.cache_reads_count:
            parts.append("cache reads do not count against input tokens/min")
        out.append(f"rate limits of {job.tier}: " + ", ".join(parts))
    else:
        out.append("rate limits and the batch queue ignored (rate_limited: false)")
    rule = job.provider.batch
    if rule is not None and "batch" in w.modes:
        typical = f"{rule.typical_turnaround_hours.normalize():f} h"
        window = f"{rule.completion_window_hours.normalize():f} h"
        basis = (
            f"decisions use the {window} completion window"
            if w.batch_wait == "worst"
            else f"decisions use the typical {typical} turnaround"
        )
        out.append(f"batch: typically {typical}, at most {window}; {basis}")
    flex = job.provider.flex
    if flex is not None and any(m.mode == "flex" and m.available for m in modes):
        out.append(
            f"flex: each request takes {flex.latency_factor.normalize():f}x as long as standard "
            "(an estimate; the provider says only that flex is slower)"
        )
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


def quote_all(workloads: Iterable[Workload], table: PriceTable | None = None) -> QuoteReport:
    """Quote several workloads into one report."""
    table = table or load_price_table()
    return QuoteReport.of([quote(w, table) for w in workloads])
