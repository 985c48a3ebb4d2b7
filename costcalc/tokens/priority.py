"""Priority sampling of requests read in one pass, weighted by their size: the sample
``tokens --sample`` takes where it reads every request anyway (compressed input, CSV rows
that span lines, Parquet with few row groups) and so knows each one's size.

Priority sampling (Duffield, Lund and Thorup, "Priority sampling for estimation of arbitrary
subset sums", Journal of the ACM 54(6), 2007): a request of size w (characters of its text,
bytes of a JSON line; plus one, so an empty one can be drawn) gets the priority w / u, u
uniform in (0, 1]; the k of highest priority are kept, and tau is the (k+1)-th priority. A
kept request stands for 1/p requests, p = min(1, w / tau): one at least tau long is always
kept and stands for itself; a shorter one is kept about in proportion to its size. The sum
of y / p over the kept requests is an unbiased estimate of the total of any y (tokens,
requests, requests over the context), and the sum of (y / p)^2 (1 - p) an unbiased
estimate of its variance.

Tokens follow size closely, so y / p varies little from request to request and the interval
is narrow where it can be; and the heavy tail (a few huge requests holding most of the
tokens) is kept and counted, not extrapolated. The regression on size this replaces drew 500
of 200,000 rows, of which the 0.1% long ones held 70% of the tokens, fitted its line through
short rows only, and was 10% low with an interval of +-0.7% (covering the truth for 8 seeds
of 20).
"""

from __future__ import annotations

import heapq
import math
import random
import sys
from collections import Counter
from typing import TYPE_CHECKING, Any

from costcalc.tokens.result import (
    WEIGHT,
    Figures,
    Interval,
    SampleInfo,
    TokenCount,
    sampled_count,
    t95,
)

if TYPE_CHECKING:
    from costcalc.tokens.encodings import ModelTokenizer


class PrioritySample:
    """The ``size`` requests of highest priority among those offered, kept with what each
    stands for (``kept``)."""

    def __init__(self, size: int, rng: random.Random) -> None:
        self.size = size
        self.rng = rng
        self.offered = 0
        # a min-heap of [priority, order offered, weight, record]: the k + 1 highest
        self._heap: list[list[Any]] = []

    def offer(self, record: Any, size: int) -> list[Any] | None:
        """Offer a request of ``size`` (characters or bytes); its heap entry when it is
        kept for now (the caller may fill in its record later: entry[3]), else None."""
        self.offered += 1
        weight = size + 1
        priority = weight / (1.0 - self.rng.random())
        heap = self._heap
        if len(heap) <= self.size:
            entry = [priority, self.offered, weight, record]
            heapq.heappush(heap, entry)
            return entry
        if priority <= heap[0][0]:
            return None
        entry = [priority, self.offered, weight, record]
        heapq.heapreplace(heap, entry)
        return entry

    @property
    def everything(self) -> bool:
        """Whether every request offered is kept (no more than ``size`` were)."""
        return len(self._heap) <= self.size

    def kept(self) -> list[tuple[Any, float]]:
        """(record, p) of each request kept, in the order offered: p is the chance it had
        of being kept, 1 for each when ``everything``."""
        if self.everything:
            return [(e[3], 1.0) for e in sorted(self._heap, key=lambda e: e[1])]
        threshold = min(self._heap)
        tau = threshold[0]
        kept = sorted((e for e in self._heap if e is not threshold), key=lambda e: e[1])
        return [(e[3], min(1.0, e[2] / tau)) for e in kept]


def priority_estimate(
    tok: ModelTokenizer,
    counted: list[tuple[int, bool, float]],
    population: int,
    seed: int,
    names: list[str],
    notes: list[str],
) -> TokenCount:
    """The estimate from the kept requests' (raw tokens, refused by a provider, p) out of
    the ``population`` requests read (every one of them a request: the number is exact)."""
    limit = tok.context_limit
    tokens = raw = refused = over = variance = 0.0
    seen = 0  # the tokens of the sample itself: the total is no less
    hist: Counter[int] = Counter()
    for value, is_refused, p in counted:
        stands_for = 1 / p
        scaled = tok.scale(value)
        seen += scaled
        tokens += scaled * stands_for
        raw += value * stands_for
        variance += (scaled * stands_for) ** 2 * (1 - p)
        if limit is not None and scaled > limit:
            over += stands_for
        if is_refused:
            refused += stands_for
        hist[scaled] += max(1, round(WEIGHT * stands_for / population))
    half = t95(len(counted) - 1) * math.sqrt(variance) if len(counted) > 1 else math.inf
    sample = SampleInfo(size=len(counted), population=population, seed=seed, drawn="size")
    high = math.ceil(tokens + half) if math.isfinite(half) else sys.maxsize
    figures = Figures(
        tokens=max(seen, round(tokens)),
        requests=population,
        over_context=min(population, round(over)),
        raw_tokens=round(raw),
        interval=Interval(
            low=max(seen, math.floor(tokens - half)) if math.isfinite(half) else seen,
            high=high,
            confidence=0.95,
        ),
        refused_requests=min(population, max(1, round(refused))) if refused else 0,
    )
    return sampled_count(tok, sample, hist, figures, names, notes)
