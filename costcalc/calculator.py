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

from pydantic import BaseModel

from costcalc._version import __version__
from costcalc.assumptions import about_prices, quote_assumptions
from costcalc.billing import Job, RequestGroup, request_groups, tier_bounds
from costcalc.delivery import (
    HOUR,
    ModeQuote,
    Plan,
    Seconds,
    Tokens,
    baseline_of,
    cost_modes,
    count_of,
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
from costcalc.prices.schema import INPUT_WINDOWS, Model
from costcalc.results import RESULT_CONFIG, adopt, adopt_all, render_result, to_json
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
    window = prices.period.context_window or model.context_window
    if (  # the window holds the output too (the provider refuses a request past it)
        window is not None
        and input_tokens + workload.output_tokens > window
        and prices.provider.provider not in INPUT_WINDOWS
    ):
        raise UsageError(
            f"input_tokens {input_tokens:,} + output_tokens {workload.output_tokens:,} per "
            f"request exceed {model.id}'s context window of {window:,} tokens (input plus "
            "output)"
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
        tier = limits.default_tier if workload.tier is None else workload.tier
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
    if type(workload) is not Workload:  # (a subclass passes the check)
        require_type(workload, Workload, "workload", "quote", "a costcalc.Workload")
    if table is None:
        table = load_price_table()
    elif type(table) is not PriceTable:
        require_table(table, "quote")
    if input_sizes is not None:
        _check_sizes(input_sizes)
    job, measured = resolve(workload, table, input_sizes)
    costed, plan = cost_modes(job, workload.modes)
    wait = "worst_wait_s" if workload.batch_wait == "worst" else "wait_s"  # the basis
    # savings are set against waits only when every available mode's is known
    base: dict[str, Any] | None = None
    baseline, timed, fastest = workload.baseline, True, None
    for f in costed:
        if f["mode"] == baseline:
            base = f
        if f["available"]:
            waited = f[wait]
            if waited is None:
                timed = False
            elif fastest is None or waited < fastest:
                fastest = waited
    if base is None or not base["available"]:  # another mode, or why there is none
        base = baseline_of(job, costed)
        baseline = base["mode"]
    if timed:
        base_wait = base[wait]
    base_cost = base["cost"]
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
    modes = adopt_all(ModeQuote, costed)  # every field, in order (delivery.cost_modes)
    q = _quote(workload, job, measured, modes, baseline, plan)
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
    w: Workload,
    job: Job,
    measured: str | None,
    modes: list[ModeQuote],
    baseline: str,
    plan: Plan | None,
) -> Quote:
    """The quote, its verdict still to come (``recommend`` reads the rest of it)."""
    # the template's copy is the class's order with the model's fields in place, and no dict
    # built key by key (half the time of a literal of 27 keys)
    template: dict[str, Any] | None = job.priced.memo.get("quote fields")
    if template is None:
        template = dict.fromkeys(Quote.model_fields)  # in order, the rest None
        template.update(about_prices(job).fields)
        job.priced.memo["quote fields"] = template
    fields = template.copy()
    fields["name"] = w.name
    fields["requests"] = job.requests
    fields["input_tokens_per_request"] = job.input_tokens
    fields["output_tokens_per_request"] = job.output_tokens
    fields["input_measured"] = measured
    fields["cached_share"] = w.cached_share
    fields["cache_write_share"] = w.cache_write_share
    fields["cancel_rate"] = w.cancel.rate
    fields["tier"] = job.tier
    fields["rate_limits"] = job.limits
    fields["rate_limited"] = w.rate_limited
    fields["baseline"] = baseline
    fields["batch_wait"] = w.batch_wait
    fields["deadline_s"] = w.deadline_s
    fields["value_of_time"] = w.value_of_time
    fields["source"] = w.source
    fields["modes"] = modes
    fields["assumptions"] = quote_assumptions(w, job, measured, modes, plan)
    return adopt(Quote, fields)


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
