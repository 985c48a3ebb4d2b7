"""The estimates from lines drawn at random byte offsets (``costcalc.tokens.seek``): each
figure as its ratio to the data's bytes, the number of requests from every length read, and
their 95% intervals."""

from __future__ import annotations

import math
import operator
import sys
from collections import Counter

from costcalc.tokens.encodings import ModelTokenizer
from costcalc.tokens.requests import CountSpec
from costcalc.tokens.result import (
    WEIGHT,
    Figures,
    Interval,
    SampleInfo,
    TokenCount,
    sampled_count,
    t95,
)
from costcalc.tokens.seek import Draws


def at_least_one(estimate: float) -> int:
    """An estimate of requests a provider would refuse, when the sample holds some: never 0."""
    return max(1, round(estimate))


def over_context_bytes(tok: ModelTokenizer, spec: CountSpec) -> int | None:
    """The fewest bytes a line over the model's context can have (a token covers a byte or
    more, bar the overhead added per request); None when no limit is known."""
    limit = tok.context_limit
    if limit is None:
        return None
    raw_over = max(1, int(limit / tok.factor))
    while tok.scale(raw_over) <= limit:
        raw_over += 1
    return max(1, raw_over - spec.prompt_overhead - spec.overhead.reply)


def _dot(xs: list[float], ys: list[float] | list[int]) -> float:
    return float(sum(map(operator.mul, xs, ys)))


_MOST_LENGTHS = 4
"""At most this many line lengths per line kept are read to estimate the number of requests
(a read each, some 3-4 us, nothing tokenized: on 1,000,000 batch JSONL lines 30,000 more took
a tenth more time and halved the tokens' interval)."""


def weighted_estimate(
    tok: ModelTokenizer,
    draws: Draws,
    whole_from: int | None,
    data_bytes: int,
    seed: int,
    names: list[str],
    notes: list[str],
) -> TokenCount:
    """Estimates from lines drawn with chance in proportion to m_j = min(b_j, cap)
    (``seek_sample``; m_j = b_j without a cap), and the number of requests from the lengths
    of every line drawn.

    The ratio to bytes: the total of y is B x sum(y_j / m_j) / sum(b_j / m_j) over the lines
    kept, each weighted by 1 / m_j, scaled to the B bytes (known exactly); without a cap
    Hansen-Hurwitz's B x mean(y_j / b_j). What tokens per byte does not explain is mostly a
    part the same in every request (a JSONL line's custom_id and url are bytes without
    tokens; the per-message tokens are tokens without bytes), whose error is the error of the
    number of requests the lines kept imply. Every line drawn, kept or not, is a draw in
    proportion to its bytes, so the number of requests is also B x mean(1 / b_k) over all K
    of them (a blank line 0): the estimate of y is corrected by a times the difference of
    the two numbers of requests, a the regression of y's residual on the request's, and K
    is grown (up to ``_MOST_LENGTHS`` x N, reads only) while that part's variance is more
    than the rest's. The 95% intervals are the delta method's, draws independent."""
    drawn = draws.lines
    cap = draws.cap
    n = sum(d.hits for d in drawn)
    limit = tok.context_limit
    # each draw's y / m for the five totals (tokens, raw tokens, requests, refused, over the
    # context), its b / m, and the histogram in one pass: five passes of lambdas took 25 ms
    # of a 10,000-line sample
    scale = tok.scale
    hits = [d.hits for d in drawn]
    u_tokens, u_raw, u_requests, u_refused, u_over, v_bytes = [], [], [], [], [], []
    hist: Counter[int] = Counter()
    for d in drawn:
        raw = d.raw
        m = d.chance_bytes
        scaled = 0 if raw is None else scale(raw)
        if raw is not None:
            hist[scaled] += d.hits * (WEIGHT // m)
        u_tokens.append(scaled / m)
        u_raw.append((raw or 0) / m)
        u_requests.append((raw is not None) / m)
        u_refused.append(d.refused / m)
        over_limit = raw is not None and limit is not None and scaled > limit
        u_over.append(over_limit / m)
        v_bytes.append(d.nbytes / m)
    # sums of products in C (map over operator.mul): generator expressions over the draws
    # took two thirds of this function's time
    v_mean = _dot(v_bytes, hits) / n
    per_byte = data_bytes / v_mean
    t = t95(n - 1) if n > 1 else math.inf

    # residuals of the ratio to bytes, of the requests and of y
    requests_mean = _dot(u_requests, hits) / n
    s_ratio = requests_mean / v_mean
    d_requests = [s - s_ratio * v for s, v in zip(u_requests, v_bytes, strict=True)]
    hd_requests = list(map(operator.mul, d_requests, hits))
    ss_requests = _dot(hd_requests, d_requests)
    shares = list(draws.shares)

    def lines_estimate() -> tuple[float, float]:
        """The number of requests from every length read, and its variance."""
        k = len(shares)
        mean = sum(shares) / k
        dev = [x - mean for x in shares]
        spread = _dot(dev, dev) / (k - 1) if k > 1 else math.inf
        return data_bytes * mean, data_bytes**2 * spread / k

    def parts(us: list[float]) -> tuple[float, float, float]:
        """(y's ratio estimate, a, the variance of the estimate of y minus a x requests)."""
        mean = _dot(us, hits) / n
        ratio = mean / v_mean
        d_y = [u - ratio * v for u, v in zip(us, v_bytes, strict=True)]
        cross = _dot(d_y, hd_requests)
        slope = cross / ss_requests if ss_requests > 0 else 0.0
        # sum of h (d_y - slope d_requests)^2, expanded (never below 0: an exact fit)
        spread = max(0.0, _dot(d_y, list(map(operator.mul, d_y, hits))) - slope * cross)
        var = per_byte**2 * spread / (n - 1) / n if n > 1 else math.inf
        return per_byte * mean, slope, var

    requests_2 = per_byte * requests_mean
    token_parts = parts(u_tokens)
    lines, lines_var = lines_estimate()
    most = _MOST_LENGTHS * n
    with_lines, rest = token_parts[1] ** 2 * lines_var, token_parts[2]
    if n > 1 and with_lines > rest and len(shares) < most:
        # the part of the error that goes with the number of requests is the larger: more
        # lengths make it smaller (its variance goes as 1 / K), up to the point it is not
        wanted = len(shares) * with_lines / rest if rest > 0 else most
        shares += draws.more(min(most, math.ceil(wanted)) - len(shares))
        lines, lines_var = lines_estimate()

    def estimate(us: list[float]) -> tuple[float, Interval]:
        ratio_total, slope, var = token_parts if us is u_tokens else parts(us)
        total = max(0.0, ratio_total + slope * (lines - requests_2))
        half = t * math.sqrt(var + slope * slope * lines_var)
        if not math.isfinite(half):  # one draw: no spread to bound it by
            return total, Interval(low=0, high=sys.maxsize, confidence=0.95)
        low = max(0, math.floor(total - half))
        high = math.ceil(total + half)
        return total, Interval(low=low, high=high, confidence=0.95)

    tokens, interval = estimate(u_tokens)
    raw_tokens = estimate(u_raw)[0]
    requests, requests_interval = estimate(u_requests)
    refused = estimate(u_refused)[0]
    over = estimate(u_over)[0]
    # a request over the context has at least whole_from bytes (``over_context_bytes``)
    at_most = None if whole_from is None else data_bytes // whole_from
    sample = SampleInfo(
        size=n,
        population=round(requests),
        seed=seed,
        drawn="bytes",
        data_bytes=data_bytes,
        requests_interval=requests_interval,
        over_context_at_most=at_most,
        length_cap=cap,
        lengths_read=len(shares),
    )
    figures = Figures(
        tokens=round(tokens),
        requests=round(requests),
        over_context=round(over),
        raw_tokens=round(raw_tokens),
        interval=interval,
        refused_requests=at_least_one(refused) if any(d.refused for d in drawn) else 0,
    )
    return sampled_count(tok, sample, hist, figures, names, notes)
