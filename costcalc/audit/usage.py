"""What one recorded call (or bucket of calls) is to the audit, whatever format recorded it:
``UsageRecord``, ``BadRecord`` for a record that looks like usage but cannot be read, and
``ReadStats``, the counts a reading keeps. The format readers (otlp.py, openai_usage.py,
litellm.py) build these; records.py reads files into them."""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeGuard

from costcalc.errors import printable
from costcalc.units import count_of
from costcalc.workload import MAX_TOKENS_PER_REQUEST

FORMATS = ("otlp", "openai-usage", "litellm")
"""The formats ``read_usage`` reads, as ``input_format=`` names them."""


@dataclass(slots=True)
class UsageRecord:
    """One call (a span, a spend-log row) or one bucket of calls (an OpenAI usage result)."""

    file: str
    """The path as given (``"-"`` for stdin)."""
    line: int
    """1-based line where the record's own JSON object starts (a span, a usage result, a
    spend-log row), in JSON Lines and whole JSON documents alike; for CSV, the row's first
    line. Every span of one OTLP line has that line."""
    format: str
    """``"otlp"``, ``"openai-usage"`` or ``"litellm"``."""
    start: float | None
    """Epoch seconds UTC: span start, bucket ``start_time``, log ``startTime``."""
    end: float | None
    """Span end, bucket ``end_time``, log ``endTime``."""
    provider: str | None
    """As recorded (``gen_ai.provider.name`` or ``gen_ai.system``, ``custom_llm_provider``);
    ``"openai"`` for OpenAI usage."""
    model: str | None
    """As recorded: the response's model when recorded, else the request's."""
    requests: int
    """1 for a span or a log row; ``num_model_requests`` for a usage bucket; a batch's
    request count for a LiteLLM batch row that records it."""
    input_tokens: int
    """ALL input tokens, cache reads and cache writes included."""
    cached_input_tokens: int
    """Of ``input_tokens``, those read from the provider's cache (0 if not recorded)."""
    cache_write_tokens: int
    """Of ``input_tokens``, those written to the cache (0 if not recorded)."""
    output_tokens: int
    streamed: bool | None
    """Whether the response was streamed; None when not recorded."""
    batched: bool
    """Sent through a batch API."""
    service_tier: str | None
    """``"flex"``, ``"priority"``, ``"default"``, ... as recorded."""
    keys: dict[str, str] = field(default_factory=dict)
    """Candidates for grouping: ``service``, ``operation``, ``route``, ``project``,
    ``api_key``, ``user``, ``team``, ``key_alias``, ``tag:<name>``; only those recorded."""


class BadRecord(NamedTuple):
    """A record that looks like usage but is partial or malformed: reported, not priced."""

    file: str
    line: int
    reason: str
    """What was expected, one printable line."""


@dataclass(slots=True)
class ReadStats:
    """What a reading saw: every record is counted once, in ``usage``, ``skipped`` or
    ``bad``."""

    records: int = 0
    """Records looked at: spans, usage results, spend-log rows."""
    usage: int = 0
    """Yielded as a ``UsageRecord``."""
    skipped: int = 0
    """Not usage, skipped: a span with no GenAI call (HTTP, database), an agent or tool span
    (its tokens are its calls' own, counted there), a failed call or a LiteLLM cache hit with
    no tokens, a non-completions usage result."""
    bad: int = 0
    """Yielded as a ``BadRecord``."""
    files: int = 0
    """Files (or stdin) read."""
    repeated: int = 0
    """Of ``skipped``, spans read before (the same trace and span ids: a retried export,
    rotated files that overlap): each span is counted once."""
    more_pages: dict[str, int] = field(default_factory=dict)
    """File -> line of its last usage page when that page says ``has_more``: the export
    stops before the period does."""

    repeats_unchecked: int = 0
    """Spans past ``SpanIds.CAPACITY`` whose ids were not kept (repeats of them go unseen)."""
    _span_ids: SpanIds | None = field(default=None, repr=False, compare=False)

    def repeated_span(self, trace_id: Any, span_id: Any) -> bool:
        """Whether a span with these ids was read before (then it is counted as skipped, and
        as repeated); spans without both ids are never repeats."""
        if not (trace_id.__class__ is str and span_id.__class__ is str and trace_id and span_id):
            return False
        if self._span_ids is None:
            self._span_ids = SpanIds()
        seen = self._span_ids.seen(hash((trace_id, span_id)))
        if seen is None:
            self.repeats_unchecked += 1
        elif seen:
            self.repeated += 1
            self.skipped += 1
            return True
        return False

    def counted(self, got: UsageRecord | BadRecord | None) -> TypeGuard[UsageRecord | BadRecord]:
        """Count what a reader made of one record (None: skipped, not usage); True when it
        is to be yielded."""
        if got is None:
            self.skipped += 1
            return False
        if type(got) is BadRecord:
            self.bad += 1
        else:
            self.usage += 1
        return True


class SpanIds:
    """The spans read so far, by a hash of their ids, in bounded memory: a table of 32-bit
    tags (open addressing) in an anonymous map, whose pages become memory only as they are
    written (at most a 4 KiB page a span for a small trace, 64 MiB in all). A set of the
    ids would take some 100 bytes a span: a gigabyte for 10 million. Two spans are taken for
    the same when their hashes agree on the slot and the 32-bit tag: about one false repeat
    in a hundred audits of 10 million spans."""

    SLOTS = 1 << 24
    CAPACITY = SLOTS * 3 // 4
    """Spans kept; past it, spans are still looked up, not kept."""

    def __init__(self) -> None:
        import mmap

        self._map = mmap.mmap(-1, self.SLOTS * 4)
        self._table = memoryview(self._map).cast("I")
        self._kept = 0

    def seen(self, h: int) -> bool | None:
        """Whether a span of hash ``h`` was kept before; else keeps it (None: not kept, the
        table is full)."""
        table, mask = self._table, self.SLOTS - 1
        i, tag = h & mask, ((h >> 32) & 0xFFFFFFFF) or 1
        while True:
            held = table[i]
            if held == tag:
                return True
            if held == 0:
                if self._kept >= self.CAPACITY:
                    return None
                table[i] = tag
                self._kept += 1
                return False
            i = (i + 1) & mask


def bad(file: str, line: int, reason: str) -> BadRecord:
    """A ``BadRecord`` whose reason is one printable line, whatever the input held."""
    return BadRecord(file, line, printable(reason, 200))


class TokenError(ValueError):
    """A token count that is not a whole number >= 0; ``str()`` says why, naming the field."""


MAX_COUNT = 10**15
"""The largest token or request count one record may hold: a thousand times a year of the
busiest organisation's traffic. Past it a count is refused as too large, whether the JSON
parser read it as an integer or, past 64 bits, as a float (``parse_record``)."""


def count(value: Any, name: str) -> int:
    """A token or request count as recorded: an int, a whole float (some exporters write
    doubles) or a decimal string (OTLP's ``intValue``, a CSV cell); else ``TokenError``."""
    if value.__class__ is str and value.isdigit() and value.isascii() and len(value) < 16:
        return int(value)  # the common case first: OTLP's intValue as a string
    if type(value) is int:
        # past MAX_COUNT no number is shown: orjson reads one past 64 bits as a float, rounded
        if value < 0:
            raise TokenError(f"{name} is negative" + (f" ({value})" if value > -MAX_COUNT else ""))
        if value > MAX_COUNT:
            raise TokenError(f"{name} is too large (over {MAX_COUNT:,})")
        return value
    if isinstance(value, float) and not isinstance(value, bool) and value.is_integer():
        return count(int(value), name)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and value.isascii():
        if len(value) > 30:
            raise TokenError(f"{name} is too large (over {MAX_COUNT:,})")
        return count(int(value), name)
    if isinstance(value, (list, dict)):  # its repr could recurse a thousand levels deep
        raise TokenError(f"{name} is not a whole number (a JSON {type(value).__name__})")
    shown = printable(repr(value), 40)
    raise TokenError(f"{name} is not a whole number ({shown})")


EARLIEST = 946_684_800.0
"""2000-01-01 UTC: no LLM API bills before it; an earlier time is a unit or a clock gone wrong."""
LATEST = 4_102_444_800.0
"""2100-01-01 UTC: past it, a time is no recorded traffic (and past 9999, no date at all)."""


def time_problem(start: float | None, end: float | None) -> str | None:
    """Why a record's times cannot be traffic (before 2000, from 2100, an end before its
    start), or None: such a record is a bad record, not a day of the period."""
    for name, value in (("start", start), ("end", end)):
        if value is not None and not EARLIEST <= value < LATEST:
            return f"{name} time {value:,.0f} (epoch seconds) is not between 2000 and 2100"
    if start is not None and end is not None and end < start:
        return "ends before it starts"
    return None


def record_problem(rec: UsageRecord) -> str | None:
    """Why a read record cannot be audited, or None: text no JSON writer can write (a lone
    surrogate, which ``json.loads`` lets through), tokens without a request, more tokens a
    request than any request bills. Checked once per record, readers' or a caller's."""
    texts = (rec.model or "", rec.provider or "", rec.service_tier or "", *rec.keys.values())
    if not "".join(texts).isascii():  # the common case in one C call
        for text in texts:
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                return f"text with a lone surrogate ({printable(text, 40)}): not Unicode"
    tokens = rec.input_tokens + rec.output_tokens
    if rec.requests <= 0:
        return "tokens recorded for no request (a request count of 0)" if tokens else ""
    if max(rec.input_tokens, rec.output_tokens) > MAX_TOKENS_PER_REQUEST * rec.requests:
        return (
            f"{tokens:,} tokens over {count_of(rec.requests, 'request')}: more a request than any "
            f"model takes ({MAX_TOKENS_PER_REQUEST:,})"
        )
    return None


def all_input(reported: int, cache_read: int, cache_write: int) -> int:
    """All input tokens from what a record reports. The conventions (OpenTelemetry's
    ``gen_ai.usage.input_tokens``, OpenAI's ``input_tokens``, LiteLLM's ``prompt_tokens``)
    count cache reads and writes inside the input; some instrumentations of Anthropic's API
    report its ``input_tokens``, which leaves them out. A record whose cache parts exceed its
    input can only be the latter: its input is the sum."""
    if cache_read + cache_write > reported:
        return reported + cache_read + cache_write
    return reported


LineOf = Callable[[Any], int]
"""The 1-based line where a parsed JSON object starts (a whole document read with
``positions``)."""


def line_finder(text: str, first: int) -> LineOf:
    """``LineOf`` for objects parsed from ``text`` (whose first line is line ``first``) by
    ``positioned``: each carries its offset; an object without one is on line ``first``."""
    breaks = [m.start() for m in re.finditer("\n", text)]

    def line_of(obj: Any) -> int:
        at = getattr(obj, "offset", None)
        return first if at is None else first + bisect.bisect_left(breaks, at)

    return line_of
