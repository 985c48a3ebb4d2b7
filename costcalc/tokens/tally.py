"""A count that merges: the raw-token histogram of some requests, from which a TokenCount is
computed exactly, so the tallies of parts of an input (blocks, files, worker processes, Spark
partitions) add up to the tally of the whole."""

from __future__ import annotations

import math
import sys
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from costcalc.errors import CostcalcError, FieldError, require_type
from costcalc.tokens.encodings import ENCODINGS, ModelTokenizer, tokenizer_for
from costcalc.tokens.result import (
    Interval,
    SampleInfo,
    TokenCount,
    _per_request,
    _reasons,
    _result,
    _scaled,
    over_limit,
    t95,
)

if TYPE_CHECKING:
    from costcalc.prices import PriceTable


@dataclass
class Tally:
    """The mergeable part of a count: raw tokens per request -> requests with that many.

    ``tally + other`` (or ``merge``) is associative and commutative and refuses tallies of
    different encodings; ``count_from_tally`` turns a tally into the ``TokenCount`` that
    ``count_file`` reports. ``to_dict``/``from_dict`` carry it between processes as JSON.
    """

    encoding: str
    """The tiktoken encoding the raw counts are in (``o200k_base``)."""
    hist: Counter[int] = field(default_factory=Counter)
    """Raw tokens of one request -> number of requests with that many."""
    chat: bool = False
    """Some request was counted as chat messages, so the per-message overhead applies."""
    refused: int = 0
    """Requests counted that a provider would refuse (``costcalc.requests``)."""
    inputs: list[str] = field(default_factory=list)
    """What was counted (file names); a merge keeps each name once, sorted."""

    @classmethod
    def empty(cls, encoding: str, inputs: Iterable[str] = ()) -> Tally:
        require_type(encoding, str, "encoding", "Tally.empty", "a str")
        _known_encoding(encoding)
        return cls(encoding, inputs=list(inputs))

    @property
    def requests(self) -> int:
        return sum(self.hist.values())

    @property
    def raw_tokens(self) -> int:
        return sum(v * c for v, c in self.hist.items())

    def add(self, raw_tokens: int, *, refused: bool = False, chat: bool = False) -> None:
        """Count one request of ``raw_tokens`` (the encoding's count, overhead included:
        ``costcalc.tokens.requests.request_tokens``); ``refused``: a provider would refuse
        it; ``chat``: it was counted as chat messages."""
        if type(raw_tokens) is not int or raw_tokens < 0:
            require_type(raw_tokens, int, "raw_tokens", "Tally.add", "a whole number (int)")
            raise FieldError("raw_tokens", f"must be 0 or more, got {raw_tokens}", sep=" ")
        self.hist[raw_tokens] += 1
        if refused:
            self.refused += 1
        if chat:
            self.chat = True

    def copy(self) -> Tally:
        """A new ``Tally`` (not a subclass) counting the same requests."""
        return Tally(self.encoding, Counter(self.hist), self.chat, self.refused, list(self.inputs))

    def merge(self, other: Tally) -> Tally:
        """A new tally counting the requests of both."""
        out = self.copy()
        out += other
        return out

    def __add__(self, other: Tally) -> Tally:
        return self.merge(other)

    def __radd__(self, other: object) -> Tally:
        """``sum(tallies)``: its start, 0, adds nothing."""
        if other == 0:
            return self.copy()
        return NotImplemented

    def __iadd__(self, other: Tally) -> Tally:
        """Merge ``other`` into this tally (in place, as ``+=`` does for a list)."""
        require_type(other, Tally, "other", "Tally.merge", "a costcalc.TokenTally")
        if other.encoding != self.encoding:
            raise CostcalcError(
                f"cannot merge a tally in {other.encoding} into one in {self.encoding}: "
                "tokens of one encoding are not tokens of another"
            )
        self.hist.update(other.hist)
        self.chat = self.chat or other.chat
        self.refused += other.refused
        self.inputs = sorted(set(self.inputs) | set(other.inputs))  # in any order of merging
        return self

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: the histogram as ``[raw_tokens, requests]`` pairs, smallest first."""
        return {
            "encoding": self.encoding,
            "hist": [[v, c] for v, c in sorted(self.hist.items()) if c],
            "chat": self.chat,
            "refused": self.refused,
            "inputs": list(self.inputs),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Tally:
        """The tally ``to_dict`` gave (the histogram may also be a mapping, keys as str)."""
        if not isinstance(data, Mapping):
            raise CostcalcError(f"a tally must be a mapping, got {type(data).__name__}")
        unknown = sorted(set(data) - {"encoding", "hist", "chat", "refused", "inputs"})
        if unknown:
            raise FieldError(str(unknown[0]), "unknown field of a tally")
        encoding = data.get("encoding")
        if not isinstance(encoding, str) or not encoding:
            raise FieldError("encoding", f"expected an encoding name, got {encoding!r}")
        _known_encoding(encoding)
        chat = data.get("chat", False)
        if not isinstance(chat, bool):
            raise FieldError("chat", f"expected true or false, got {chat!r}")
        refused = _count(data.get("refused", 0), "refused")
        inputs = data.get("inputs", [])
        if not isinstance(inputs, list) or not all(isinstance(i, str) for i in inputs):
            raise FieldError("inputs", "expected a list of names")
        raw = data.get("hist", [])
        pairs = raw.items() if isinstance(raw, Mapping) else raw
        if not isinstance(pairs, Iterable) or isinstance(pairs, str | bytes):
            raise FieldError("hist", "expected [raw_tokens, requests] pairs")
        hist: Counter[int] = Counter()
        for i, pair in enumerate(pairs):
            if not isinstance(pair, list | tuple) or len(pair) != 2:
                raise FieldError(f"hist[{i}]", f"expected [raw_tokens, requests], got {pair!r}")
            value = int(pair[0]) if isinstance(pair[0], str) and pair[0].isdigit() else pair[0]
            value = _count(value, f"hist[{i}][0]")
            if requests := _count(pair[1], f"hist[{i}][1]"):
                hist[value] += requests
        if refused > sum(hist.values()):
            raise FieldError(
                "refused", f"{refused:,} refused of {sum(hist.values()):,} requests counted"
            )
        return cls(encoding, hist, chat, refused, list(inputs))


def _known_encoding(encoding: str) -> None:
    if encoding not in ENCODINGS:
        known = ", ".join(ENCODINGS)
        raise FieldError("encoding", f"unknown encoding {encoding!r}; costcalc ships {known}")


def _count(value: object, name: str) -> int:
    if type(value) is not int or value < 0:
        raise FieldError(name, f"expected a whole number, 0 or more, got {value!r}")
    return value


def count_from_tally(
    tally: Tally,
    model: str,
    table: PriceTable | None = None,
    *,
    sample: SampleInfo | None = None,
) -> TokenCount:
    """The ``TokenCount`` of a tally for ``model`` (whose encoding must be the tally's): what
    ``count_file`` reports for the same requests, computed from the histogram alone.

    With ``sample``, the tally holds a uniform random sample of ``sample.size`` of
    ``sample.population`` requests (requests the sample drew but found blank count as 0
    tokens and are not in the tally); the result estimates the whole, with a 95% interval.
    """
    require_type(tally, Tally, "tally", "count_from_tally", "a costcalc.TokenTally")
    require_type(model, str, "model", "count_from_tally", "a str")
    if sample is not None:
        require_type(sample, SampleInfo, "sample", "count_from_tally", "a SampleInfo")
    tok = tokenizer_for(model, table)
    if tok.encoding != tally.encoding:
        raise CostcalcError(
            f"the tally was counted in {tally.encoding}, but {tok.model} counts in "
            f"{tok.encoding}: count again with the model's encoding"
        )
    return tally_count(tally, tok, sample)


def tally_count(tally: Tally, tok: ModelTokenizer, sample: SampleInfo | None = None) -> TokenCount:
    """``count_from_tally`` for a tokenizer already resolved (of the tally's encoding)."""
    if tally.chat:
        tok.warn_if_overhead_unknown()
    if sample is None or sample.size >= sample.population:
        count = _result(tok, tally.hist, list(tally.inputs), refused=tally.refused)
        if sample is None:
            count._tally = tally.copy()
        return count
    return _estimate(tally, tok, sample)


def _estimate(tally: Tally, tok: ModelTokenizer, sample: SampleInfo) -> TokenCount:
    """Total, requests and over-context for the whole input from a uniform sample: the total
    is population x sample mean; its 95% interval uses the t (n < 30) or normal quantile
    with the finite-population correction."""
    n, population = sample.size, sample.population
    hist = _scaled(tok, tally.hist)
    present = sum(hist.values())
    if n < 1 or present > n:
        raise FieldError("sample", f"size {n:,} is not the {present:,} requests of the tally")
    blanks = n - present  # drawn, found blank: 0 tokens each
    seen = sum(v * c for v, c in hist.items())
    mean = seen / n
    spread = sum(c * (v - mean) ** 2 for v, c in hist.items()) + blanks * mean**2
    var = spread / (n - 1) if n > 1 else 0.0
    fpc = math.sqrt((population - n) / (population - 1))
    total = mean * population
    if n > 1:
        half = t95(n - 1) * math.sqrt(var / n) * fpc * population
        low, high = max(seen, math.floor(total - half)), math.ceil(total + half)
    else:  # one value says nothing about the spread
        low, high = seen, sys.maxsize
    reasons = _reasons(tok, sample)
    count = TokenCount(
        tokens=round(total),
        requests=round(population * present / n),
        per_request=_per_request(hist),
        over_context=round(population * over_limit(hist, tok.context_limit) / n),
        context_limit=tok.context_limit,
        encoding=tok.encoding,
        model=tok.model,
        estimate=True,
        estimate_reasons=reasons,
        raw_tokens=round(tally.raw_tokens / n * population),
        inputs=list(tally.inputs),
        sample=sample,
        interval=Interval(low=int(low), high=int(high), confidence=0.95),
    )
    count._hist = hist
    return count
