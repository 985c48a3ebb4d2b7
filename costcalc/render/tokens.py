"""What `costcalc tokens` shows: a TokenCount."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from costcalc.results import Note

if TYPE_CHECKING:  # each command imports only what it renders (start-up time)
    from costcalc.tokens.result import TokenCount


def refused_note(count: int, estimated: bool = False) -> str:
    """Requests counted that a provider would refuse: the counters count them, batch build
    and a quote do not (``estimated``: from a sample, so about that many)."""
    those = "1 request" if count == 1 else f"{count:,} requests"
    about = "about " if estimated else ""
    sampled = " (estimated from the sample)" if estimated else ""
    return (
        f"{about}{those} counted here would be refused by the providers (an empty prompt, a "
        f"message with no text, text that is not valid Unicode){sampled}; batch build and "
        "quote --input-file refuse them"
    )


def token_count_plain(result: TokenCount, seed: int | None = None) -> list[str]:
    """The bare number, for pipes; a sample drawn without ``seed`` (the --seed given) says on
    stderr how to draw it again, as plain output has no room for it."""
    parts: list[str] = [f"{result.tokens}\n"]
    if result.refused_requests:
        note = refused_note(result.refused_requests, result.sample is not None)
        parts.append(Note(f"costcalc: note: {note}\n"))
    if result.sample is not None and seed is None:  # plain output has no room for it
        parts.append(
            Note(
                f"costcalc: estimated from a sample of {result.sample.size:,} "
                f"(--seed {result.sample.seed} draws the same one again)\n"
            )
        )
    return parts


def token_count_table(result: TokenCount) -> str:
    per = result.per_request
    about = "about " if result.sample is not None else ""
    rows = [
        ["model", f"{result.model} ({result.encoding})"],
        ["tokens", f"{about}{result.tokens:,}"],
    ]
    if result.interval is not None:
        iv = result.interval
        rows.append([f"{iv.confidence:.0%} interval", _span(iv.low, iv.high)])
    # a sample that read every request (by size, by row groups) knows how many there are
    exact = result.sample is not None and result.sample.drawn in ("size", "row groups")
    rows += [
        ["requests", f"{'' if exact else about}{result.requests:,}"],
        [
            "per request",
            f"mean {per.mean:,.2f} · p50 {per.p50:,} · p95 {per.p95:,} · max {per.max:,}",
        ],
        [
            "over context",
            f"{about}{result.over_context:,} (limit {result.context_limit:,} tokens)"
            if result.context_limit is not None
            else "not known (no context limit known for the model)",
        ],
    ]
    s = result.sample
    if s is not None and s.drawn == "bytes":
        if s.requests_interval is not None:
            iv = s.requests_interval
            rows.insert(4, ["95% interval", _span(iv.low, iv.high, " requests")])
        if s.over_context_at_most is not None:
            rows[-1][1] += f"; at most {s.over_context_at_most:,} can be (by their bytes)"
        lines = "line" if s.size == 1 else "lines"
        sample = f"{s.size:,} {lines} at random byte offsets of {s.data_bytes or 0:,}"
        if s.length_cap is not None:
            cap = f"{s.length_cap:,}"
            sample += f" (a line over {cap} bytes kept with chance {cap} / its length)"
        if s.lengths_read is not None:
            sample += f"; requests from the lengths of {s.lengths_read:,} lines drawn"
        rows.append(["sample", f"{sample}, seed {s.seed}"])
    elif s is not None:
        rows.append(["sample", f"{s.size:,} of {s.population:,}, seed {s.seed}"])
    for reason in result.estimate_reasons:
        rows.append(["estimate", reason])
    if result.refused_requests:
        rows.append(["note", refused_note(result.refused_requests, result.sample is not None)])
    width = max(len(r[0]) for r in rows)
    return "".join(f"{k.ljust(width)}  {v}\n" for k, v in rows)


def _span(low: int, high: int, unit: str = "") -> str:
    """An interval's bounds; one with no upper bound (a sample of one draw has no spread)
    says so rather than print the largest integer."""
    if high >= sys.maxsize:
        return f"{low:,} and up (one draw: no spread to bound it)"
    return f"{low:,} to {high:,}{unit}"
