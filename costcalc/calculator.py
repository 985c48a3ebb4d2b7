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
from typing import Any, NamedTuple

from pydantic import BaseModel

from costcalc._version import __version__
from costcalc.delivery import (
    HOUR,
    Job,
    ModeQuote,
    RequestGroup,
    Seconds,
    Tokens,
    baseline_of,
    cost_modes,
    count_of,
    request_groups,
    tier_bounds,
)
from costcalc.errors import UsageError, arg, require_count, require_type
from costcalc.money import MoneyOut, per_hour_rate
from costcalc.prices import (
    ModelPrices,
    PricedModel,
    PriceTable,
    RateLimit,
    load_price_table,
    require_table,
)
from costcalc.prices.schema import Model
from costcalc.results import RESULT_CONFIG, adopt, render_result, to_json
from costcalc.units import today
from costcalc.verdict import Recommendation, _background, recommend
from costcalc.workload import MAX_REQUESTS, MAX_TOKENS_PER_REQUEST, DeliveryMode, Workload

_RESULT = RESULT_CONFIG


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
        token). A mode whose time is not known (no speed figures) comes last."""
        unknown = Decimal("Infinity")

        def wait(m: ModeQuote) -> Decimal:
            timed = m.wait_s is not None and m.worst_wait_s is not None
            return m.basis_wait(self.batch_wait) if timed else unknown

        return min(
            self.available,
            key=lambda m: (
                wait(m),
                m.cost,
                _background(self, m),
                m.time_to_first_token_s if m.time_to_first_token_s is not None else unknown,
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
    priced = table.priced(workload.model, workload.as_of)
    prices = priced.prices
    model = prices.model
    _warn_if_retired(priced)
    if workload.as_of is not None and workload.as_of > today():
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
        assert requests is not None and input_tokens is not None
        _sizes_agree(input_sizes, input_tokens, limit, model.id)
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
    limits = priced.rate_limits
    own = workload.rate_limits  # a field never set is None
    given = {k: v for k, v in own.__dict__.items() if v is not None} if own.model_fields_set else {}
    merged: RateLimit | None
    if limits is None:
        # a provider known only from its prices: its limits are the caller's, if given
        if workload.tier is not None:
            raise UsageError(
                f"no rate-limit tiers are known for {prices.provider.name}, so {arg('tier')} "
                f"{workload.tier!r} cannot be looked up; give your own limits instead"
            )
        tier = "your limits" if given else "no known rate limits"
        merged = None  # unless the caller gave both per-minute limits
        if "requests_per_minute" in given and "tokens_per_minute" in given:
            merged = RateLimit.model_construct(**{**dict.fromkeys(RateLimit.model_fields), **given})
        cache_reads_count = True
    else:
        tier = workload.tier or limits.default_tier
        if tier not in limits.tiers:
            raise UsageError(
                f"unknown rate-limit tier {tier!r} for {model.id}; known: {', '.join(limits.tiers)}"
            )
        merged = limits.tiers[tier]  # frozen: the table's own, unless the caller adds to it
        if given:
            merged = merged.model_copy(update=given)
        cache_reads_count = limits.cache_reads_count
        tier = tier if not given else f"{tier}, with your limits"
    return (
        Job(
            workload,
            requests,
            input_tokens,  # per request
            workload.output_tokens,
            priced,
            priced.speed,
            merged,  # limits
            tier,
            groups,
            sampled,  # groups_estimated
            cache_reads_count,
        ),
        measured,
    )


def _warn_if_retired(priced: PricedModel) -> None:
    """A model retired by the prices' day (or marked deprecated) is quoted with a warning
    (its words worked out once per model and day; the warning given at every quote, as the
    caller's warning filters decide)."""
    why: str | None = priced.memo.get("retired", "")
    if why == "":
        why = priced.memo["retired"] = _retired(priced.prices.model, priced.prices.on)
    if why is not None:
        import warnings

        from costcalc.errors import CostcalcWarning

        warnings.warn(why, CostcalcWarning, stacklevel=3)


def _retired(model: Model, day: dt.date) -> str | None:
    """Why a model retired by ``day`` (or marked deprecated) is; None if it is not."""
    if not model.retired_by(day):
        return None  # retiring later, if ever: `prices show` says when
    why = (
        f"{model.id} was retired on {model.deprecated}"
        if model.deprecated is not None
        else f"{model.id} is retired or deprecated"
    )
    source = f" ({model.deprecation})" if model.deprecation else ""
    return f"{why}{source}"


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
    if w.input_column is not None and fmt not in ("csv", "parquet"):
        raise UsageError(
            f"{w.input_file}: {arg('input_column', both=True)} applies to CSV files (.csv, .tsv) "
            "and Parquet; JSON requests are read from their messages or prompt, text one per line"
        )
    if w.input_column is None and fmt in ("csv", "parquet"):
        what = "a CSV file" if fmt == "csv" else "Parquet input"
        columns = ""
        if fmt == "parquet":  # its schema is at hand without reading a row
            from costcalc.tokens.parquet import parquet_columns

            columns = f" (columns: {', '.join(parquet_columns(w.input_file)) or 'none'})"
        raise UsageError(
            f"{w.input_file}: {what} needs {arg('input_column NAME', both=True)}, the column "
            f"holding each request's text{columns}"
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
    if counted.sample is not None:
        groups = _at_estimate(groups, prices, Decimal(counted.tokens) * requests / counted.requests)
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


def _at_estimate(
    groups: tuple[RequestGroup, ...], prices: ModelPrices, total: Decimal
) -> tuple[RequestGroup, ...]:
    """A sample's groups with their tokens scaled to its estimated ``total``: the histogram
    gives the split between price bands, the estimate the total (a sample kept by size
    weights its histogram otherwise: a quote from 2 of 100,000 rows priced 20,511 tokens a
    request beside an estimate of 13.7). Kept as they were where scaling would move a group
    to another band."""
    now = sum((g.input_tokens for g in groups), Decimal(0))
    if not now or now == total:
        return groups
    scaled = tuple(RequestGroup(g.requests, g.input_tokens * total / now) for g in groups)
    band = [prices.band(g.tier_input()) for g in groups]
    return scaled if [prices.band(g.tier_input()) for g in scaled] == band else groups


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
    require_type(workload, Workload, "workload", "quote", "a costcalc.Workload")
    require_table(table, "quote")
    if input_sizes is not None:
        _check_sizes(input_sizes)
    table = table or load_price_table()
    job, measured = resolve(workload, table, input_sizes)
    costed = cost_modes(job, workload.modes)
    wait = "worst_wait_s" if workload.batch_wait == "worst" else "wait_s"  # the basis
    # savings are set against waits only when every available mode's is known
    base: dict[str, Any] | None = None
    baseline, timed, waits = workload.baseline, True, []
    for f in costed:
        if f["mode"] == baseline:
            base = f
        if f["available"]:
            if f[wait] is None:
                timed = False
            waits.append(f[wait])
    if base is None or not base["available"]:  # another mode, or why there is none
        base = baseline_of(job, costed)
        baseline = base["mode"]
    if timed:
        fastest = min(waits)
        base_wait = base[wait]
    base_cost = base["cost"]
    modes = []
    for f in costed:
        if f["available"]:
            savings = base_cost - f["cost"]
            f["savings"] = savings
            f["savings_pct"] = _pct(savings, base_cost)
            if timed:  # without times, no wait to set the saving against
                extra = f[wait] - base_wait
                f["extra_wait_s"] = f[wait] - fastest
                if extra > 0:
                    f["savings_per_hour_waited"] = per_hour_rate(savings, extra / HOUR)
        modes.append(adopt(ModeQuote, f))  # every field, in order (delivery.cost_modes)
    q = _quote(workload, job, measured, modes, baseline)
    q.__dict__["recommendation"] = recommend(q)  # the verdict reads the quote it belongs to
    return q


TENTH = Decimal("0.1")
NO_CHANGE = Decimal("0.0")


def _check_sizes(sizes: object) -> None:
    what = "a dict of input tokens per request -> requests, or None"
    require_type(sizes, Mapping, "input_sizes", "quote", what)
    assert isinstance(sizes, Mapping)
    for tokens, requests in sizes.items():
        require_count(tokens, "input_sizes key", "quote", minimum=0)
        require_count(requests, f"input_sizes[{tokens}]", "quote", minimum=0)
        if tokens > MAX_TOKENS_PER_REQUEST or requests > MAX_REQUESTS:
            raise UsageError(
                f"input_sizes {{{tokens}: {requests}}}: at most {MAX_TOKENS_PER_REQUEST:,} "
                f"tokens a request and {MAX_REQUESTS:,} requests"
            )


def _sizes_agree(
    sizes: Mapping[int, int], input_tokens: Decimal, limit: int | None, model: str
) -> None:
    """``input_sizes`` describe the workload's requests: none past the model's window (as
    ``input_tokens`` is refused there), and their mean is its ``input_tokens`` (the groups
    priced are the histogram's: another mean would price other requests than it says)."""
    counted = sum(sizes.values())
    if not counted:
        return
    largest = max(tokens for tokens, requests in sizes.items() if requests)
    if limit is not None and largest > limit:
        raise UsageError(
            f"input_sizes holds requests of {largest:,} input tokens, past {model}'s limit of "
            f"{limit:,} input tokens"
        )
    mean = Decimal(sum(t * r for t, r in sizes.items())) / counted
    if abs(mean - input_tokens) > max(HALF_TOKEN, input_tokens * Decimal("1e-9")):
        raise UsageError(
            f"input_sizes' mean is {mean:,.2f} input tokens a request, but input_tokens is "
            f"{input_tokens:,}: give the sizes' mean (to the token) as input_tokens"
        )


HALF_TOKEN = Decimal("0.5")
"""How far ``input_tokens`` may be from ``input_sizes``' mean: the mean rounded to a token."""


def _pct(part: Decimal, whole: Decimal) -> Decimal | None:
    if whole == 0:
        return None
    if not part and not part.is_signed() and whole > 0:  # nothing saved: what the sum makes
        return NO_CHANGE
    return (part / whole * 100).quantize(TENTH, ROUND_HALF_UP)


def _quote(
    w: Workload, job: Job, measured: str | None, modes: list[ModeQuote], baseline: str
) -> Quote:
    """The quote, its verdict still to come (``recommend`` reads the rest of it)."""
    return adopt(
        Quote,
        {
            "name": w.name,
            **_about(job).fields,
            "requests": job.requests,
            "input_tokens_per_request": job.input_tokens,
            "output_tokens_per_request": job.output_tokens,
            "input_measured": measured,
            "cached_share": w.cached_share,
            "cache_write_share": w.cache_write_share,
            "cancel_rate": w.cancel.rate,
            "tier": job.tier,
            "rate_limits": job.limits,
            "rate_limited": w.rate_limited,
            "baseline": baseline,
            "batch_wait": w.batch_wait,
            "deadline_s": w.deadline_s,
            "value_of_time": w.value_of_time,
            "source": w.source,
            "modes": modes,
            "recommendation": None,
            "assumptions": _assumptions(w, job, measured, modes),
        },
    )


def _pct_text(share: Decimal) -> str:
    return f"{(share * 100).normalize():f}%"


class _About(NamedTuple):
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


def _about(job: Job) -> _About:
    about: _About | None = job.priced.memo.get("assumptions")
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
    about = job.priced.memo["assumptions"] = _About(
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


def _assumptions(w: Workload, job: Job, measured: str | None, modes: list[ModeQuote]) -> list[str]:
    lim = job.limits
    about = _about(job)
    out = list(about.head)
    if measured:
        out.append(measured)
    assumed = [f"{m.mode} {c}" for m in modes if m.assumed for c in m.assumed]
    if assumed:
        out.append(
            "assumed from the provider's rule, not published: " + ", ".join(sorted(set(assumed)))
        )
    out.append(about.speed)
    if lim is None:
        out.append(about.no_limits)
    elif w.rate_limited:
        uncounted = bool(w.cached_share) and not job.cache_reads_count
        tiers = job.priced.rate_limits
        if tiers is not None and tiers.tiers.get(job.tier) is lim:  # a tier as the table has it
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
    if about.flex is not None and [m for m in modes if m.mode == "flex" and m.available]:
        out.append(about.flex)
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
    if isinstance(workloads, (str, bytes, Workload)) or not isinstance(workloads, Iterable):
        raise TypeError(
            "quote_all: workloads must be a list of costcalc.Workload, "
            f"got {type(workloads).__name__}"
        )
    require_table(table, "quote_all")
    table = table or load_price_table()
    return QuoteReport.of([quote(w, table) for w in workloads])
