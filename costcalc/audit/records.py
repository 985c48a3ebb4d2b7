"""What the readers of recorded traffic yield: one ``UsageRecord`` per recorded call (or usage
bucket), a ``BadRecord`` for one that looks like usage but cannot be read, and the counts of
what was read (``ReadStats``).

Placeholder of the audit-core branch: the record types as the contract gives them, readers
still to come (the audit-readers branch replaces this file).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from costcalc.errors import CostcalcError


@dataclass(slots=True)
class UsageRecord:
    """One recorded call (a span, a log row) or usage bucket (many requests).

    ``line`` is the 1-based line of the record; for a file read as one JSON document, the line
    its object starts on."""

    file: str
    line: int
    format: str
    start: float | None
    end: float | None
    provider: str | None
    model: str | None
    requests: int
    input_tokens: int
    cached_input_tokens: int
    cache_write_tokens: int
    output_tokens: int
    streamed: bool | None
    batched: bool
    service_tier: str | None
    keys: dict[str, str] = field(default_factory=dict)


class BadRecord(NamedTuple):
    """A record that looks like usage but is partial or malformed."""

    file: str
    line: int
    reason: str


@dataclass(slots=True)
class ReadStats:
    """What a read saw: every record, those that were usage, those skipped (not LLM calls)
    and the bad ones."""

    records: int = 0
    usage: int = 0
    skipped: int = 0
    bad: int = 0


def detect_format(head: bytes, name: str) -> str:
    raise CostcalcError("no reader yet")


class read_usage:  # a function to its callers, a class for its stats
    """Usage records of ``sources`` (placeholder: no reader yet)."""

    def __init__(self, sources: Iterable[str | os.PathLike[str]], *, format: str = "auto") -> None:
        self.sources = list(sources)
        self.format = format
        self.stats = ReadStats()

    def __iter__(self) -> Iterator[UsageRecord | BadRecord]:
        raise CostcalcError("no reader yet")
