"""Recorded traffic grouped into streams, and what each stream is (its source and deadline).

A stream is the traffic of one grouping key (a service, a project and API key, a key alias...)
to one model, sent in one way: traffic already sent through a batch API is always a stream of
its own, as is traffic sent at the flex or priority tier, so each stream is billed in one
price mode. What a stream is comes from the mapping file when it names the stream, else from
the heuristic (``guess``), documented in README's "Audit your real traffic":

- streamed calls (most of the stream's requests) -> ``web-ui``;
- traffic sent through a batch API -> ``batch-job`` (what the records say, not a guess);
- calls not streamed with at least 60% of their requests inside one 2-hour window of the day
  (UTC; a daily burst, as a scheduled job makes: a daytime service spreads over more hours),
  in a trace covering at least a day -> ``cron`` with deadline 24h;
- anything else -> ``api``.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import os
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, field_validator

from costcalc.audit.records import UsageRecord
from costcalc.errors import FieldError, WorkloadError, path_argument, quoted
from costcalc.units import Duration
from costcalc.workload import MAX_NAME_CHARS, Source

KEY_NAMES = ("service", "operation", "route", "project", "api_key", "user", "team", "key_alias")
"""Grouping keys every reader may give (``tag:NAME`` too: a tag of the records)."""

DEFAULT_GROUPING: dict[str, tuple[tuple[str, ...], ...]] = {
    "otlp": (("service", "operation"),),
    "openai-usage": (("project", "api_key"),),
    "litellm": (("key_alias",), ("team",), ("api_key",)),
}
"""Each format's finest natural grouping: the first of its candidates a record has a value
for (a LiteLLM row without a key alias is grouped by its team, then by its API key)."""

NO_KEY = "(none)"
"""The key of a record that has none of the grouping's values."""

TIER_MODES = {"flex": "flex", "priority": "priority"}
"""A recorded service tier -> the price mode it is billed at (any other tier: standard)."""

BURST_HOURS = 2
BURST_SHARE = Decimal("0.6")
BURST_DEADLINE = "24h"
WHOLE_DAY_S = 86400.0


def parse_group_by(text: str | None) -> tuple[str, ...] | None:
    """``service`` or ``project,api_key`` or ``tag:source`` -> the key names (None: each
    format's default)."""
    if text is None:
        return None
    if not isinstance(text, str):
        raise TypeError(f"audit: group_by must be a str or None, got {type(text).__name__}")
    names = tuple(part.strip() for part in text.split(","))
    for name in names:
        if name not in KEY_NAMES and not (name.startswith("tag:") and len(name) > 4):
            raise FieldError(
                "group_by",
                f"unknown key {quoted(name)} (expected {', '.join(KEY_NAMES)} or tag:NAME, "
                "or several separated by commas)",
            )
    return names


def stream_key(rec: UsageRecord, group_by: tuple[str, ...] | None) -> tuple[str, ...]:
    """The values of the grouping keys of one record (empty: none recorded); ``key_names``
    writes them as the stream's name starts."""
    keys = rec.keys
    if group_by is None:
        for names in DEFAULT_GROUPING.get(rec.format, (("service",),)):
            values = tuple(keys[n] for n in names if keys.get(n))
            if values:
                return values
        return ()
    values = tuple(keys.get(n) or "" for n in group_by)
    return values if any(values) else ()


def key_names(keys: Iterable[tuple[str, ...]]) -> dict[tuple[str, ...], str]:
    """Each stream key's name: its values joined by "/" (``web-ui/chat``), or by " | " where
    two keys would join alike (service ``a`` with operation ``b/c`` and service ``a/b``
    with ``c``: one stream else, their tokens averaged)."""
    joined: dict[str, set[tuple[str, ...]]] = {}
    for key in keys:
        joined.setdefault("/".join(key) or NO_KEY, set()).add(key)
    return {
        key: name if len(same) == 1 else " | ".join(key)
        for name, same in joined.items()
        for key in same
    }


def price_mode_of(rec: UsageRecord) -> str:
    """The price mode a record was billed at: batch, flex, priority or standard."""
    if rec.batched:
        return "batch"
    return TIER_MODES.get((rec.service_tier or "").lower(), "standard")


def stream_name(key: str, model: str, price_mode: str) -> str:
    """``KEY (MODEL[, MODE])``, at most ``MAX_NAME_CHARS`` long (a workload's name in the
    config): a longer one is cut and marked with a hash of the whole, so two long names cut
    alike stay two (the stream's ``key`` keeps the whole key)."""
    sent = "" if price_mode == "standard" else f", {price_mode}"
    name = f"{key} ({model}{sent})"
    if len(name) <= MAX_NAME_CHARS:
        return name
    mark = "~" + hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    tail = f" ({model}{sent})"
    room = MAX_NAME_CHARS - len(mark) - len(tail)
    if room >= 20:  # the model stays readable
        return key[:room] + mark + tail
    return name[: MAX_NAME_CHARS - len(mark)] + mark


# --- the mapping file -----------------------------------------------------------------------


class StreamSpec(BaseModel):
    """What one stream (or several, by ``match``) is."""

    model_config = ConfigDict(extra="forbid")

    source: Source
    deadline: Duration | None = None
    match: list[str] = []
    """Glob patterns (``*``, ``?``, ``[...]``) on the stream's key, besides its own name."""

    @field_validator("match", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class StreamMap(BaseModel):
    """The mapping file: ``streams: {NAME: {source: ..., deadline: ..., match: [...]}}``."""

    model_config = ConfigDict(extra="forbid")

    streams: dict[str, StreamSpec] = Field(min_length=1)

    def find(self, key: str) -> tuple[str, StreamSpec] | None:
        """The entry for a stream key: the one named so, else the first (in the file's
        order) whose ``match`` pattern fits it."""
        spec = self.streams.get(key)
        if spec is not None:
            return key, spec
        for name, spec in self.streams.items():
            if any(fnmatch.fnmatchcase(key, p) for p in spec.match):
                return name, spec
        return None


def load_mapping(mapping: str | os.PathLike[str] | Mapping[str, Any] | StreamMap) -> StreamMap:
    """A mapping file (YAML), or its contents as a dict, or a ``StreamMap``; errors name the
    file, the line and the field."""
    from costcalc.yamlfile import load_mapping as load_yaml
    from costcalc.yamlfile import validate

    if isinstance(mapping, StreamMap):
        return mapping
    if isinstance(mapping, Mapping):
        return validate(StreamMap, dict(mapping), "mapping", None, WorkloadError)
    if not isinstance(mapping, (str, os.PathLike)):
        raise TypeError(
            "audit: mapping must be a path (str or os.PathLike), a dict of its contents or a "
            f"StreamMap, got {type(mapping).__name__}"
        )
    path = path_argument(mapping, "mapping", "audit")
    data, text = load_yaml(path, "mapping file")
    return validate(StreamMap, data, path, text, WorkloadError)


# --- what a stream is -----------------------------------------------------------------------


class Classification(NamedTuple):
    source: Source
    deadline: dt.timedelta | None
    by: str
    """``mapping`` (the mapping file's entry), ``recorded`` (batched) or ``guess``."""
    reason: str


def duration_text(value: dt.timedelta) -> str:
    """A deadline as a config writes it: 24h, 90m, 45s."""
    seconds = int(value.total_seconds())
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    if seconds % 60 == 0:
        return f"{seconds // 60}m"
    return f"{seconds}s"


def busiest_window(hours: list[int]) -> tuple[int, int]:
    """The start hour of the ``BURST_HOURS`` consecutive hours of the day (wrapping past
    midnight) holding the most requests, and how many they hold."""
    # on a tie, a window that starts with requests (a burst at 02:00 is 02:00-08:00)
    held = [sum(hours[(start + i) % 24] for i in range(BURST_HOURS)) for start in range(24)]
    best_start = max(range(24), key=lambda start: (held[start], hours[start] > 0, -start))
    return best_start, held[best_start]


def classify(
    key: str,
    price_mode: str,
    requests: int,
    streamed: int,
    hours: list[int],
    trace_s: float,
    mapping: StreamMap | None,
) -> Classification:
    """The source and deadline of a stream: the mapping's, else the heuristic's guess."""
    found = mapping.find(key) if mapping is not None else None
    if found is not None:
        name, spec = found
        how = "" if name == key else f" (matched by {quoted(name)})"
        return Classification(spec.source, spec.deadline, "mapping", f"mapping file{how}")
    if price_mode == "batch":
        return Classification("batch-job", None, "recorded", "sent through a batch API")
    if streamed * 2 > requests:
        why = f"streamed ({streamed:,} of {requests:,} requests)"
        return Classification("web-ui", None, "guess", why)
    timed = sum(hours)
    if trace_s < WHOLE_DAY_S:
        why = "not streamed; the trace covers less than a day, so no daily burst can be told"
        return Classification("api", None, "guess", why)
    if timed:
        start, held = busiest_window(hours)
        share = Decimal(held) / Decimal(timed)
        window = f"{start:02d}:00-{(start + BURST_HOURS) % 24:02d}:00 UTC"
        pct = f"{(share * 100).quantize(Decimal('1'))}%"
        if share >= BURST_SHARE:
            from costcalc.units import parse_duration

            deadline = dt.timedelta(seconds=int(parse_duration(BURST_DEADLINE)))
            why = f"not streamed, {pct} of requests within {window} (a daily burst)"
            return Classification("cron", deadline, "guess", why)
        why = (
            f"not streamed, spread over the day (at most {pct} within {BURST_HOURS} hours: "
            f"{window})"
        )
        return Classification("api", None, "guess", why)
    return Classification("api", None, "guess", "not streamed; no time of day recorded")
