"""The audit: recorded traffic -> per stream, what it cost at the prices of its dates, what it
would cost a month in each delivery mode, where the routing policy sends it, and the saving.

Every figure can be redone from what the report prints:

- **actual cost**: each day's tokens of a stream at that day's prices (UTC days) of the price
  mode its records were billed in (batch records at batch prices; flex or priority tier at
  those prices where the model sells them, else standard, with a note); cached input at the
  cached-input price, cache writes at the 5-minute cache-write price.
- **per day**: the stream's totals divided by the days the whole trace covers (the time from
  its first record to its last, a bucket's start to its end, to 0.001 day; at least a day),
  rounded as the config ``--write-config`` writes them: requests a day
  to 0.01, tokens per request to 0.1, cache shares down to 0.0001.
- **per month**: exactly what ``costcalc check`` computes from those written values: one
  request's cost in the mode x requests a day x ``days_per_month``, at the prices of
  ``as_of`` (default: the last day the trace covers).
- **times**: a quote of one day's requests (requests a day rounded to whole requests) with
  the rate limits and batch queue of the model's default tier applied.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import warnings
from collections.abc import Iterable, Mapping
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from costcalc._version import __version__
from costcalc.audit.config import batch_allowance, check_config_target
from costcalc.audit.models import RecordLimits, resolve, retired_warnings
from costcalc.audit.records import BadRecord, ReadStats, UsageRecord
from costcalc.audit.report import (
    AuditReport,
    AuditTotals,
    BadRecordOut,
    ModeMonth,
    StreamAudit,
)
from costcalc.audit.streams import (
    NO_KEY,
    Classification,
    StreamMap,
    classify,
    duration_text,
    key_names,
    load_mapping,
    parse_group_by,
    price_mode_of,
    stream_key,
    stream_name,
)
from costcalc.audit.usage import SpanIds, record_problem
from costcalc.errors import CostcalcError, CostcalcWarning, FieldError, printable
from costcalc.prices import PriceTable, require_table
from costcalc.router import Policy
from costcalc.units import count_of
from costcalc.workload import DELIVERY_MODES, DeliveryMode

DAY_S = 86400
BAD_KEPT = 100_000
"""The most bad records the report lists (all are counted)."""
BAD_SHOWN = 5
"""Bad records named in the warning on stderr."""
RPD_STEP = Decimal("0.01")
TOKENS_STEP = Decimal("0.1")
SHARE_STEP = Decimal("0.0001")
DAYS_STEP = Decimal("0.001")
WRITE_COMPONENT = "cache_write_5m"


# --- reading ----------------------------------------------------------------------------------


class _Tally:
    """One stream's traffic, added up record by record (nothing kept per record)."""

    __slots__ = ("days", "first", "hours", "last", "provider", "requests", "streamed")

    def __init__(self, provider: str | None) -> None:
        self.provider = provider
        self.requests = 0
        self.streamed = 0
        self.first: float | None = None
        self.last: float | None = None
        self.hours = [0] * 24
        self.days: dict[int | None, list[int]] = {}
        """UTC day (days since 1970; None: no time) -> requests, input, cached, written,
        output."""

    def add(self, rec: UsageRecord) -> None:
        n = rec.requests
        self.requests += n
        if rec.streamed:
            self.streamed += n
        start, end = rec.start, rec.end
        when = start if start is not None else end
        day = None
        if when is not None:
            day = int(when // DAY_S)
            if self.first is None or when < self.first:
                self.first = when
            last = end if end is not None else when
            if self.last is None or last > self.last:
                self.last = last
            # the hour of day only where the record says it (a span, not a day's bucket)
            if end is None or start is None or end - start <= 3600:
                self.hours[int(when % DAY_S) // 3600] += n
        sums = self.days.get(day)
        if sums is None:
            sums = self.days[day] = [0, 0, 0, 0, 0]
        sums[0] += n
        sums[1] += rec.input_tokens
        sums[2] += rec.cached_input_tokens
        sums[3] += rec.cache_write_tokens
        sums[4] += rec.output_tokens

    def total(self, i: int) -> int:
        return sum(d[i] for d in self.days.values())


def _paths(records_or_paths: Any) -> list[Any]:
    """The files ``audit`` reads, when given paths (records given are left unread)."""
    if isinstance(records_or_paths, (str, os.PathLike)):
        return [records_or_paths]
    if isinstance(records_or_paths, (list, tuple)):
        return [p for p in records_or_paths if isinstance(p, (str, os.PathLike))]
    return []


def _read(
    records_or_paths: Any, fmt: str, group_by: tuple[str, ...] | None, limits: RecordLimits
) -> tuple[dict[tuple[tuple[str, ...], str, str], _Tally], ReadStats, list[BadRecordOut]]:
    if isinstance(records_or_paths, (str, os.PathLike)):
        records_or_paths = [records_or_paths]
    if isinstance(records_or_paths, (bytes, Mapping)) or not isinstance(records_or_paths, Iterable):
        raise TypeError(
            "audit: records_or_paths must be a path, a list of paths or an iterable of "
            f"UsageRecord, got {type(records_or_paths).__name__}"
        )
    items = iter(records_or_paths)
    first = next(items, None)
    stats: ReadStats | None = None
    source: Iterable[Any]
    if isinstance(first, (str, os.PathLike)):
        from costcalc.audit.records import read_usage

        reader = read_usage([first, *items], input_format=fmt)
        source, stats = reader, reader.stats
    else:
        source = [first, *items] if first is not None else []
    tallies: dict[tuple[tuple[str, ...], str, str], _Tally] = {}
    bad: list[BadRecordOut] = []
    seen = usage = bad_count = 0
    for rec in source:
        seen += 1
        if type(rec) is not UsageRecord and isinstance(rec, BadRecord):
            bad_count += 1
            if len(bad) < BAD_KEPT:
                bad.append(BadRecordOut(file=rec.file, line=rec.line, reason=rec.reason))
            continue
        if not isinstance(rec, UsageRecord):
            raise TypeError(
                "audit: records_or_paths must hold UsageRecord (or BadRecord) objects or "
                f"paths, got {type(rec).__name__}"
            )
        why = record_problem(rec)
        if why is None:
            why = limits.problem(rec)
        if why is not None:  # "": nothing recorded (no requests, no tokens): skipped
            if stats is not None:
                stats.usage -= 1
                stats.bad += bool(why)
                stats.skipped += not why
            if why:
                bad_count += 1
                if len(bad) < BAD_KEPT:
                    bad.append(BadRecordOut(file=rec.file, line=rec.line, reason=why))
            continue
        usage += 1
        key = (stream_key(rec, group_by), rec.model or "", price_mode_of(rec))
        tally = tallies.get(key)
        if tally is None:
            tally = tallies[key] = _Tally(rec.provider)
        tally.add(rec)
    if stats is None:
        stats = ReadStats(records=seen, usage=usage, skipped=0, bad=bad_count)
    return tallies, stats, bad


# --- pricing ----------------------------------------------------------------------------------


def _actual_cost(
    table: PriceTable, model: str, price_mode: str, tally: _Tally, last_day: dt.date
) -> tuple[Decimal, list[str]]:
    """The stream's cost over the trace: each day's tokens at that day's prices, those of
    requests without a time at the prices of the trace's ``last_day`` (never --as-of's: what
    was spent does not depend on the day monthly figures are priced at)."""
    from costcalc.billing import Tariff, tariff
    from costcalc.cost import component_costs
    from costcalc.money import per_thousand

    notes: list[str] = []
    total = Decimal(0)
    for day_number, (n, tokens_in, cached, written, out) in sorted(
        tally.days.items(), key=lambda kv: -1 if kv[0] is None else kv[0]
    ):
        day = last_day if day_number is None else dt.date(1970, 1, 1) + dt.timedelta(day_number)
        priced = table.priced(model, day)
        band_input = math.ceil(Decimal(tokens_in) / n) if n else 0
        mode: Any = price_mode
        t = tariff(priced, mode, band_input)
        if not isinstance(t, Tariff):
            note = f"billed as {price_mode}, not sold ({t.reason}): priced at standard"
            notes += [] if note in notes else [note]
            t = tariff(priced, "standard", band_input)
            assert isinstance(t, Tariff)
        billed = {
            "input": Decimal(tokens_in - cached - written),
            "cached_input": Decimal(cached),
            WRITE_COMPONENT: Decimal(written),
            "output": Decimal(out),
        }
        total += sum(
            component_costs({c: v for c, v in billed.items() if v}, t.usd).values(), Decimal(0)
        )
        if t.request_fee is not None:
            total += per_thousand(n, t.request_fee)
    if None in tally.days:
        notes.append(
            f"{tally.days[None][0]:,} requests without a time priced at the prices of "
            f"{last_day}, the trace's last day"
        )
    return total, notes


def covered_days(trace_s: float) -> Decimal:
    """The days a trace covers, to 0.001 day (no trailing zeros: 7, 2.5), at least one: a
    trace of an hour is no 24th of a day's traffic to multiply by 24."""
    days = max(Decimal(trace_s) / DAY_S, Decimal(1)).quantize(DAYS_STEP)
    return days.to_integral() if days == days.to_integral() else days.normalize()


def _mode_in_use(price_mode: str, tally: _Tally) -> DeliveryMode:
    if price_mode in ("batch", "flex", "priority"):
        return price_mode  # type: ignore[return-value]
    return "stream" if tally.streamed * 2 > tally.requests else "request"


def _round(value: Decimal, step: Decimal, rounding: str = ROUND_HALF_UP) -> Decimal:
    return value.quantize(step, rounding=rounding)


def _per_day(tally: _Tally, days: Decimal) -> dict[str, Decimal]:
    """The written values of a stream: requests a day and tokens per request, rounded."""
    requests = Decimal(tally.requests)
    tokens_in = Decimal(tally.total(1))
    rpd = max(_round(requests / days, RPD_STEP), RPD_STEP)
    cached = Decimal(tally.total(2)) / tokens_in if tokens_in else Decimal(0)
    written = Decimal(tally.total(3)) / tokens_in if tokens_in else Decimal(0)
    return {
        "requests_per_day": rpd,
        "input_tokens": _round(tokens_in / requests, TOKENS_STEP),
        "output_tokens": _round(Decimal(tally.total(4)) / requests, TOKENS_STEP),
        "cached_share": _round(cached, SHARE_STEP, ROUND_DOWN),
        "cache_write_share": _round(written, SHARE_STEP, ROUND_DOWN),
    }


def _months(
    s: dict[str, Any], table: PriceTable, as_of: dt.date, days_per_month: int
) -> tuple[Decimal, list[ModeMonth], Decimal | None]:
    """The month of a stream in the mode in use (as ``check`` computes it) and in each mode,
    and what check's batch-eligible policy would fail it for (its saving through batch; None
    when it would not fail it)."""
    from costcalc.audit.config import config_workload
    from costcalc.budget import ProjectConfig, monthly_costs
    from costcalc.calculator import quote
    from costcalc.workload import Workload

    config = ProjectConfig(
        as_of=as_of, days_per_month=days_per_month, workloads=[config_workload(s)]
    )
    checked = monthly_costs(config, table).workloads[0]
    current = checked.monthly_cost
    unbatched = checked.batch_saving if checked.batch_eligible and checked.mode != "batch" else None
    common = {
        "name": s["name"],
        "model": s["model"],
        "input_tokens": s["input_tokens_per_request"],
        "output_tokens": s["output_tokens_per_request"],
        "cached_share": s["cached_share"],
        "cache_write_share": s["cache_write_share"],
        "modes": list(DELIVERY_MODES),
        "baseline": "request",
        "as_of": as_of,
    }
    unit = quote(Workload(**common, requests=1, rate_limited=False), table)
    day_requests = max(1, int(_round(s["requests_per_day"], Decimal(1))))
    day = quote(Workload(**common, requests=day_requests, rate_limited=True), table)
    monthly = s["requests_per_day"] * days_per_month  # as check multiplies
    modes = []
    for m in unit.modes:
        timed = day.mode(m.mode)
        if not m.available or m.cost is None:
            modes.append(ModeMonth(mode=m.mode, available=False, reason=m.reason))
            continue
        cost = m.cost * monthly
        modes.append(
            ModeMonth(
                mode=m.mode,
                available=True,
                monthly_cost=cost,
                saving=current - cost,
                rates=m.rates,
                assumed=m.assumed,
                day_wait_s=float(timed.wait_s) if timed.wait_s is not None else None,
                day_worst_wait_s=float(timed.worst_wait_s)
                if timed.worst_wait_s is not None
                else None,
                limited_by=timed.limited_by,
            )
        )
    return current, modes, unbatched if unbatched is not None and unbatched > 0 else None


def _closing(first: float | None, last: float | None) -> float | None:
    """The last moment of traffic: a bucket ending at midnight closes the day before (its
    end is not a day of traffic more)."""
    if first is not None and last is not None and last % DAY_S == 0 and last > first:
        return last - 1
    return last


def _when(seconds: float | None) -> dt.datetime | None:
    if seconds is None:
        return None
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).replace(microsecond=0)


def _stream(
    key: tuple[str, str, str],
    tally: _Tally,
    c: Classification,
    table: PriceTable,
    policy: Policy | None,
    as_of: dt.date,
    days: Decimal,
    days_per_month: int,
    savings: list[Decimal],
) -> StreamAudit:
    """A stream's audit; its saving check's batch-eligible policy would fail is added to
    ``savings`` (the allowance the written config gives is their largest)."""
    from costcalc.router import route

    group, recorded_model, price_mode = key
    s: dict[str, Any] = {
        "name": stream_name(group, recorded_model, price_mode),
        "key": group,
        "model": recorded_model,
        "model_id": None,
        "provider": tally.provider,
        "first_seen": _when(tally.first),
        "last_seen": _when(_closing(tally.first, tally.last)),
        "requests": tally.requests,
        "input_tokens": tally.total(1),
        "cached_input_tokens": tally.total(2),
        "cache_write_tokens": tally.total(3),
        "output_tokens": tally.total(4),
        "streamed_requests": tally.streamed,
        "price_mode": price_mode,
        "mode": _mode_in_use(price_mode, tally),
        "actual_cost": None,
        "priced": False,
        "source": c.source,
        "deadline": duration_text(c.deadline) if c.deadline is not None else None,
        "classified_by": c.by,
        "classified_why": c.reason,
    }
    # the traffic's own last day names the model (--as-of moves only the monthly figures)
    seen = dt.date(1970, 1, 1) + dt.timedelta(int(tally.last // DAY_S)) if tally.last else as_of
    try:
        model = s["model"] = resolve(table, recorded_model, tally.provider, seen)
        s["model_id"] = table.priced(model, seen).prices.model.id
        s["actual_cost"], s["notes"] = _actual_cost(table, model, price_mode, tally, seen)
        if any(n.startswith(f"billed as {price_mode}, not sold") for n in s["notes"]):
            s["mode"] = _mode_in_use("standard", tally)  # a month as it was billed, too
    except CostcalcError as exc:
        return StreamAudit(**{**s, "reason": exc.marked})
    per_day = _per_day(tally, days)
    s["requests_per_day"] = per_day["requests_per_day"]
    s["input_tokens_per_request"] = per_day["input_tokens"]
    s["output_tokens_per_request"] = per_day["output_tokens"]
    s["cached_share"] = per_day["cached_share"]
    s["cache_write_share"] = per_day["cache_write_share"]
    if per_day["input_tokens"] == 0 and per_day["output_tokens"] == 0:
        return StreamAudit(**{**s, "reason": "no tokens a request: nothing to price a month"})
    try:
        r = route(c.source, s["deadline"], model, policy, table=table)
        s["routed_mode"], s["route_rule"], s["route_why"] = r.mode, r.rule, r.why
        current, modes, unbatched = _months(s, table, as_of, days_per_month)
    except CostcalcError as exc:
        return StreamAudit(**{**s, "reason": exc.marked})
    routed = next(m for m in modes if m.mode == r.mode)
    s["monthly_cost"] = current
    s["routed_monthly_cost"] = routed.monthly_cost
    s["monthly_saving"] = current - (routed.monthly_cost or Decimal(0))
    s["modes"] = modes
    s["priced"] = True
    if unbatched is not None:
        savings.append(unbatched)
    return StreamAudit(**s)


# --- the audit --------------------------------------------------------------------------------


def audit(
    records_or_paths: Any,
    *,
    mapping: str | os.PathLike[str] | Mapping[str, Any] | StreamMap | None = None,
    group_by: str | None = None,
    policy: Policy | str | os.PathLike[str] | None = None,
    table: PriceTable | None = None,
    days_per_month: int = 30,
    input_format: str = "auto",
    as_of: dt.date | str | None = None,
    write_config: str | os.PathLike[str] | None = None,
    force: bool = False,
) -> AuditReport:
    """Audit recorded traffic: paths of OTLP JSON, OpenAI usage or LiteLLM spend-log files
    (``input_format`` auto-detected), or an iterable of ``UsageRecord``.

    ``mapping`` says what each stream is (a YAML file, or its contents as a dict); ``policy``
    routes each stream (default: costcalc's); monthly figures are at the prices of ``as_of``
    (default: the last day the trace covers) over ``days_per_month`` days (28 to 31).
    ``write_config`` writes the report's costcalc.yaml there (``force``: replacing a file),
    its path checked before any record is read.

    >>> report = audit(["spans.jsonl"])                       # doctest: +SKIP
    >>> report.totals.monthly_saving                          # doctest: +SKIP
    """
    from costcalc.prices import load_price_table
    from costcalc.router import default_policy, load_policy
    from costcalc.units import date_argument

    if isinstance(days_per_month, bool) or not isinstance(days_per_month, int):
        raise TypeError(
            f"audit: days_per_month must be an int, got {type(days_per_month).__name__}"
        )
    if not 28 <= days_per_month <= 31:
        raise FieldError("days_per_month", f"must be between 28 and 31, got {days_per_month}")
    if input_format not in ("auto", "otlp", "openai-usage", "litellm"):
        raise FieldError(
            "input_format",
            f"unknown format {input_format!r} (expected auto, otlp, openai-usage or litellm)",
        )
    grouping = parse_group_by(group_by)
    require_table(table, "audit")
    if write_config is not None:  # refused before the records are read, not after
        check_config_target(write_config, force, [*_paths(records_or_paths), mapping, policy])
    stream_map = load_mapping(mapping) if mapping is not None else None
    policy_name = "the default policy"
    if policy is not None and not isinstance(policy, Policy):
        policy_name = str(Path(policy))
        policy = load_policy(os.fspath(policy))
    elif policy is not None:
        policy_name = "the policy given"
    else:  # read once, not once a stream (route reads it whenever it is given none)
        policy = default_policy()
    day_given = date_argument(as_of, "as_of", "audit") if as_of is not None else None
    table = table or load_price_table()

    tallies, stats, bad = _read(records_or_paths, input_format, grouping, RecordLimits(table))
    firsts = [t.first for t in tallies.values() if t.first is not None]
    lasts = [t.last for t in tallies.values() if t.last is not None]
    start = _when(min(firsts)) if firsts else None
    end = _when(_closing(min(firsts), max(lasts))) if firsts and lasts else None
    trace_s = (max(lasts) - min(firsts)) if firsts and lasts else 0.0
    days = covered_days(trace_s)
    if day_given is not None:
        day = day_given
    elif end is not None:
        day = end.date()
    else:
        from costcalc.units import today

        day = today()
    streams = []
    unbatched: list[Decimal] = []  # each stream's saving check's batch-eligible would fail
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CostcalcWarning)  # said once below, not per quote
        names = key_names(k[0] for k in tallies)
        for values, model, mode in sorted(tallies, key=lambda k: (names[k[0]], k[1], k[2])):
            tally, key = tallies[values, model, mode], (names[values], model, mode)
            c = classify(key[0], mode, tally.requests, tally.streamed, tally.hours, trace_s,
                         stream_map)  # fmt: skip
            streams.append(
                _stream(key, tally, c, table, policy, day, days, days_per_month, unbatched)
            )
    for why in retired_warnings(table, {s.model for s in streams if s.priced}, day):
        warnings.warn(why, CostcalcWarning, stacklevel=2)  # as quote and check say it
    if stats.bad:
        shown = ", ".join(f"{printable(b.file)}:{b.line} ({b.reason})" for b in bad[:BAD_SHOWN])
        more = f" and {stats.bad - BAD_SHOWN:,} more" if stats.bad > BAD_SHOWN else ""
        warnings.warn(
            f"{stats.bad:,} malformed usage records left out: {shown}{more}",
            CostcalcWarning,
            stacklevel=2,
        )
    if stats.repeated:
        warnings.warn(
            f"{stats.repeated:,} repeated records left out (ids read before: a span's trace "
            "and span ids, a LiteLLM row's request_id; an export retried, or files that "
            "overlap): each is counted once",
            CostcalcWarning,
            stacklevel=2,
        )
    report = _report(streams, stats, bad, start, end, days, days_per_month, day, grouping,
                     policy_name, stream_map)  # fmt: skip
    report.batch_allowance = batch_allowance(unbatched)
    if write_config is not None:
        report.write_config(write_config, force)
    return report


def _report(
    streams: list[StreamAudit],
    stats: ReadStats,
    bad: list[BadRecordOut],
    start: dt.datetime | None,
    end: dt.datetime | None,
    days: Decimal,
    days_per_month: int,
    day: dt.date,
    grouping: tuple[str, ...] | None,
    policy_name: str,
    stream_map: StreamMap | None,
) -> AuditReport:
    priced = [s for s in streams if s.priced]
    zero = Decimal(0)
    totals = AuditTotals(
        requests=sum(s.requests for s in streams),
        input_tokens=sum(s.input_tokens for s in streams),
        output_tokens=sum(s.output_tokens for s in streams),
        actual_cost=sum((s.actual_cost or zero for s in streams), zero),
        monthly_cost=sum((s.monthly_cost or zero for s in priced), zero),
        routed_monthly_cost=sum((s.routed_monthly_cost or zero for s in priced), zero),
        monthly_saving=sum((s.monthly_saving or zero for s in priced), zero),
    )
    period = f"{start.date()} to {end.date()} (UTC)" if start and end else "no times recorded"
    assumptions = [
        f"period: {period}, {count_of(days, 'day')} (from the first record to the last, a "
        f"bucket's start to its end; a trace under a day counts as one); a stream's requests "
        f"a day are its requests ÷ {days:,}, rounded to 0.01, at least 0.01 (tokens per request to "
        "0.1, cache shares down to 0.0001)",
        "actual cost: each day's tokens at that day's prices of the mode they were billed in "
        "(batched records at batch prices, flex and priority records at those prices where "
        "sold); cache reads at the cached-input price, cache writes at the 5-minute "
        "cache-write price",
        f"a month is {days_per_month} days at the prices of {day}: a mode's monthly cost = "
        f"one request's cost × requests a day × {days_per_month}, as costcalc check "
        "computes it from the config --write-config writes",
        "times: one day's requests (requests a day rounded to whole requests) under the rate "
        "limits and batch queue of the model's default tier",
        f"routing: {policy_name}; the saving is the mode in use's monthly cost minus the "
        "routed mode's",
    ]
    guesses = [s for s in streams if s.classified_by == "guess"]
    if guesses:
        assumptions.append(
            "sources marked guess come from the heuristic (streamed -> web-ui; a nightly "
            "burst -> cron, deadline 24h; else api): give a mapping file to say what each "
            "stream is"
        )
    notes = [f"{s.name}: not priced: {s.reason}" for s in streams if not s.priced]
    if stats.skipped > stats.repeated:
        other = stats.skipped - stats.repeated
        notes.append(
            f"{other:,} records were not billed LLM usage (other spans, failed calls, LiteLLM "
            "cache hits): skipped"
        )
    if stats.repeated:
        notes.append(f"{stats.repeated:,} repeated records (ids read before) were counted once")
    if stats.repeats_unchecked:
        notes.append(
            f"repeated records were looked for among the first {SpanIds.CAPACITY:,}: the "
            f"last {stats.repeats_unchecked:,} were not kept to compare with"
        )
    if grouping is not None and any(s.key == NO_KEY for s in streams):
        asked = ", ".join(grouping)
        notes.append(f"records that record none of {asked} are grouped as {NO_KEY}")
    notes += [
        f"{printable(f, 300)}:{n}: the last usage page read says has_more: the export stops early "
        "(fetch every page, following next_page)"
        for f, n in stats.more_pages.items()
    ]
    if stream_map is not None:
        used = {s.classified_why for s in streams if s.classified_by == "mapping"}
        unused = [
            n for n in stream_map.streams
            if not any(s.key == n for s in streams) and not any(quoted_in(n, u) for u in used)
        ]  # fmt: skip
        if unused:
            notes.append(
                f"mapping entries that name no stream, or match only streams an earlier entry "
                f"took: {', '.join(unused)}"
            )
    return AuditReport(
        currency="USD",
        generated_by=f"costcalc {__version__}",
        period_start=start.date() if start else None,
        period_end=end.date() if end else None,
        days_covered=days,
        days_per_month=days_per_month,
        prices_as_of=day,
        grouping=",".join(grouping) if grouping else "default",
        policy=policy_name,
        records=stats.records,
        usage_records=stats.usage,
        skipped_records=stats.skipped,
        repeated_records=stats.repeated,
        bad_records=stats.bad,
        bad=bad,
        streams=streams,
        totals=totals,
        assumptions=assumptions,
        notes=notes,
    )


def quoted_in(name: str, why: str) -> bool:
    from costcalc.errors import quoted

    return quoted(name) in why
