"""What a count gives: TokenCount, its per-request figures and sample, built from a histogram."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Literal, NamedTuple

from pydantic import BaseModel, PrivateAttr

from costcalc.errors import CostcalcError
from costcalc.tokens.encodings import (
    ModelTokenizer,
)

if TYPE_CHECKING:
    from costcalc.tokens.tally import Tally

# --- results --------------------------------------------------------------------------------


class PerRequest(BaseModel):
    mean: float
    p50: int
    p95: int
    max: int


class Interval(BaseModel):
    low: int
    high: int
    confidence: float


WEIGHT = 2**40
"""A request drawn with a chance in proportion to c stands for WEIGHT / c requests in the
per-request figures (a line of b bytes drawn by bytes: WEIGHT // b): whole numbers in the
right proportions (a relative rounding error under 2**-15 for the largest line)."""


class SampleInfo(BaseModel):
    size: int
    """Requests (lines, rows or files) counted; drawn by bytes: the offsets drawn (a line
    two of them land in counts twice)."""
    population: int
    """Lines, rows or files sampled from (drawn by bytes: their estimated number)."""
    seed: int
    """Pass it back with --seed to draw the same sample."""
    drawn: Literal["uniform", "bytes", "row groups", "size"] = "uniform"
    """"uniform": requests drawn alike, without replacement; "bytes": the lines holding
    random byte offsets, each drawn in proportion to its length (up to ``length_cap``) and
    weighted by 1 / that;
    "row groups": Parquet row groups drawn in proportion to their rows, rows drawn in each;
    "size": every request read, those kept drawn about in proportion to their size (the
    longest always), each weighted by 1/its chance (priority sampling)."""
    data_bytes: int | None = None
    """Drawn by bytes: the bytes the offsets were drawn from (a CSV header left out)."""
    requests_interval: Interval | None = None
    """Drawn by bytes: the 95% interval of the number of requests (an estimate too)."""
    row_groups: int | None = None
    """Drawn by row groups: the row groups of the input."""
    row_groups_read: int | None = None
    """Drawn by row groups: the row groups read (their one column only)."""
    over_context_at_most: int | None = None
    """Drawn by bytes: no more requests than this can be over the context (each such one has
    at least about as many bytes as the limit has tokens), whatever the sample saw."""
    length_cap: int | None = None
    """Drawn by bytes: a line longer than this (and too short to be over the context) was
    kept with chance length_cap / its bytes, so drawn in proportion to min(bytes,
    length_cap) and weighted by 1 / that; None: every line drawn was kept."""
    lengths_read: int | None = None
    """Drawn by bytes: the lines at random offsets whose length was read (those kept, those
    not, and more read for this alone): the number of requests is estimated from them, and
    the part of the tokens that goes with it."""


class TokenCount(BaseModel):
    """What `costcalc tokens` reports; the CLI renders this object."""

    tokens: int
    """Total input tokens (estimated when ``estimate`` is true)."""
    requests: int
    per_request: PerRequest
    over_context: int
    """Requests whose input exceeds the model's context (or input) limit."""
    context_limit: int | None
    encoding: str
    model: str
    estimate: bool
    estimate_reasons: list[str]
    raw_tokens: int
    """The encoding's own count, before any calibration factor."""
    inputs: list[str]
    sample: SampleInfo | None = None
    refused_requests: int = 0
    """Requests counted that a provider would refuse (an empty prompt, a message with no
    text: ``costcalc.requests``); ``batch build`` and a quote refuse them. For a sample, an
    estimate from the requests drawn (at least 1 when the sample holds one)."""
    interval: Interval | None = None
    _hist: Counter[int] = PrivateAttr(default_factory=Counter)
    """Tokens per request -> requests with that many (of the sample, when sampled)."""
    _tally: Tally | None = PrivateAttr(default=None)
    """The raw histogram it was computed from, when it was counted exactly."""

    def tally(self) -> Tally:
        """The mergeable form of this count (``costcalc.TokenTally``): add the tallies of
        several counts and ``costcalc.count_from_tally`` gives the count of them all. Only an
        exact count has one: a sample's estimate does not add up."""
        if self._tally is None:
            raise CostcalcError(
                "an estimate from a sample has no tally: count every request to merge counts"
            )
        return self._tally.copy()

    def sizes(self) -> Counter[int]:
        """Input tokens per request -> requests with that many (of the sample, when sampled):
        long-context prices apply request by request, so a quote needs more than the total."""
        return Counter(self._hist)


# two-sided 95% Student t quantiles for small samples (df = n - 1); z = 1.96 beyond
_T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
        2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
        2.060, 2.056, 2.052, 2.048, 2.045]  # fmt: skip


def t95(df: int) -> float:
    return _T95[df - 1] if 1 <= df <= len(_T95) else 1.96


def _percentile(hist: Mapping[int, int], n: int, q: float) -> int:
    """Nearest-rank percentile of a histogram holding ``n`` values."""
    if n == 0:
        return 0
    rank = max(1, math.ceil(q * n))
    seen = 0
    for value in sorted(hist):
        seen += hist[value]
        if seen >= rank:
            return value
    return max(hist)


def _per_request(hist: Mapping[int, int]) -> PerRequest:
    n = sum(hist.values())
    return PerRequest(
        mean=round(sum(v * c for v, c in hist.items()) / n, 2) if n else 0.0,
        p50=_percentile(hist, n, 0.50),
        p95=_percentile(hist, n, 0.95),
        max=max(hist) if hist else 0,
    )


def _scaled(tok: ModelTokenizer, raw_hist: Mapping[int, int]) -> Counter[int]:
    hist: Counter[int] = Counter()
    for raw, n in raw_hist.items():
        hist[tok.scale(raw)] += n
    return hist


def _reasons(tok: ModelTokenizer, sample: SampleInfo | None) -> list[str]:
    reasons = [tok.reason] if tok.estimate else []
    if sample is not None and sample.drawn == "bytes":
        weight = (
            "its length" if sample.length_cap is None else f"min(its length, {sample.length_cap:,})"
        )
        lengths = (
            ""
            if sample.lengths_read is None
            else f", and the number of requests from the lengths of {sample.lengths_read:,}"
        )
        reasons.append(
            f"estimated from a sample of {sample.size:,} line{'s' if sample.size != 1 else ''} "
            "at random byte offsets of "
            f"{sample.data_bytes or 0:,} bytes, each weighted by 1/{weight}{lengths} "
            f"(seed {sample.seed})"
        )
    elif sample is not None and sample.drawn == "size":
        reasons.append(
            f"estimated from {sample.size:,} of the {sample.population:,} requests read, drawn "
            "in proportion to their size (the longest always kept), each weighted by 1/its "
            f"chance (seed {sample.seed})"
        )
    elif sample is not None and sample.drawn == "row groups":
        reasons.append(
            f"estimated from a sample of {sample.size:,} of {sample.population:,} rows, drawn "
            f"in {sample.row_groups_read or 0:,} of the {sample.row_groups or 0:,} row groups "
            f"(only those were read; seed {sample.seed})"
        )
    elif sample is not None:
        reasons.append(
            f"estimated from a random sample of {sample.size:,} of {sample.population:,} "
            f"(seed {sample.seed})"
        )
    return reasons


def _result(
    tok: ModelTokenizer, raw_hist: Mapping[int, int], inputs: list[str], refused: int = 0
) -> TokenCount:
    """The exact result from a histogram of raw counts (scaled by the model's factor)."""
    hist = _scaled(tok, raw_hist)
    reasons = _reasons(tok, None)
    count = TokenCount(
        tokens=sum(v * c for v, c in hist.items()),
        requests=sum(hist.values()),
        per_request=_per_request(hist),
        over_context=over_limit(hist, tok.context_limit),
        context_limit=tok.context_limit,
        encoding=tok.encoding,
        model=tok.model,
        estimate=bool(reasons),
        estimate_reasons=reasons,
        raw_tokens=sum(v * c for v, c in raw_hist.items()),
        inputs=inputs,
        refused_requests=refused,
    )
    count._hist = hist
    return count


class Figures(NamedTuple):
    """What an estimator makes of a sample, beyond its histogram (``sampled_count``)."""

    tokens: int
    requests: int
    over_context: int
    raw_tokens: int
    interval: Interval
    refused_requests: int


def sampled_count(
    tok: ModelTokenizer,
    sample: SampleInfo,
    hist: Counter[int],
    figures: Figures,
    inputs: list[str],
    notes: Sequence[str] = (),
) -> TokenCount:
    """The estimate a sampler makes: its figures, and its histogram of requests by tokens,
    weighted as the sample stands for them (``sizes()``: what a quote prices band by band;
    one estimator that left it out had quotes price 0 input tokens a request)."""
    count = TokenCount(
        tokens=figures.tokens,
        requests=figures.requests,
        per_request=_per_request(hist),
        over_context=figures.over_context,
        context_limit=tok.context_limit,
        encoding=tok.encoding,
        model=tok.model,
        estimate=True,
        estimate_reasons=_reasons(tok, sample) + list(notes),
        raw_tokens=figures.raw_tokens,
        inputs=inputs,
        sample=sample,
        interval=figures.interval,
        refused_requests=figures.refused_requests,
    )
    count._hist = hist
    return count


def over_limit(hist: Mapping[int, int], limit: int | None) -> int:
    """Requests of ``hist`` (tokens -> requests) above ``limit`` (none when it is unknown)."""
    return 0 if limit is None else sum(c for v, c in hist.items() if v > limit)
