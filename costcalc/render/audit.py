"""`costcalc audit`: the streams, each mode's month, the moves the policy proposes, as a
table and as Markdown (JSON is the report itself)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from costcalc.errors import printable
from costcalc.money import signed_usd, usd, usd_price
from costcalc.prices.table import REQUEST_FEE
from costcalc.render.tables import markdown_table, text_table
from costcalc.units import count_of, duration

if TYPE_CHECKING:  # each command imports only what it renders (start-up time)
    from decimal import Decimal

    from costcalc.audit.report import AuditReport, StreamAudit

RIGHT = [3, 4, 5, 9, 10, 11]


def _money(value: Decimal | None) -> str:
    return usd(value) if value is not None else "-"


def _name(s: StreamAudit) -> str:
    """The stream's name as shown: a long one cut in the middle, keeping its end (the hash
    that tells long names apart, and the model)."""
    return printable(s.name, 80, keep_end=True)


def _source(s: StreamAudit) -> str:
    deadline = f" {s.deadline}" if s.deadline else ""
    return f"{s.source}{deadline}" + (" (guess)" if s.classified_by == "guess" else "")


def _period(s: StreamAudit) -> str:
    if s.first_seen is None or s.last_seen is None:
        return "-"
    first, last = s.first_seen.date(), s.last_seen.date()
    return str(first) if first == last else f"{first}..{last}"


def stream_rows(r: AuditReport) -> tuple[list[str], list[list[str]]]:
    headers = ["stream", "period", "source", "requests", "tokens", "actual cost", "mode",
               "routed", "rule", "monthly now", "routed monthly", "saving/month"]  # fmt: skip
    rows = []
    for s in r.streams:
        rows.append([
            _name(s), _period(s), _source(s), f"{s.requests:,}",
            f"{s.input_tokens + s.output_tokens:,}", _money(s.actual_cost), s.mode,
            s.routed_mode or "-", s.route_rule or "-", _money(s.monthly_cost),
            _money(s.routed_monthly_cost), _money(s.monthly_saving),
        ])  # fmt: skip
    t = r.totals
    costed = any(s.actual_cost is not None for s in r.streams)
    month = [usd(t.monthly_cost), usd(t.routed_monthly_cost), usd(t.monthly_saving)]
    rows.append(["total", "", "", f"{t.requests:,}", f"{t.input_tokens + t.output_tokens:,}",
                 usd(t.actual_cost) if costed else "-", "", "", "",
                 *(month if any(s.priced for s in r.streams) else ["-"] * 3)])  # fmt: skip
    return headers, rows


def mode_rows(r: AuditReport) -> tuple[list[str], list[list[str]]]:
    headers = ["stream", "mode", "monthly", "vs now", "a day's requests take", "at worst"]
    rows = []
    for s in r.streams:
        for m in s.modes:
            mark = " (now)" if m.mode == s.mode else ""
            mark += " (routed)" if m.mode == s.routed_mode else ""
            if not m.available:
                rows.append([_name(s), m.mode, "unavailable", "-", "-", "-"])
                continue
            assert m.monthly_cost is not None and m.saving is not None
            vs = "same" if m.saving == 0 else signed_usd(-m.saving)
            rows.append([
                _name(s), m.mode + mark, usd(m.monthly_cost) + "*" * bool(m.assumed),
                vs, duration(m.day_wait_s), duration(m.day_worst_wait_s),
            ])  # fmt: skip
    return headers, rows


def _stream_assumption(s: StreamAudit) -> str:
    if not s.priced:
        return f"{_name(s)}: not priced: {s.reason}"
    assert s.requests_per_day is not None and s.cached_share is not None
    cached = f" ({s.cached_share * 100:.2f}% cached)" if s.cached_share else ""
    written = f" ({s.cache_write_share * 100:.2f}% written to cache)" if s.cache_write_share else ""
    prices = []
    for m in s.modes:
        if m.available and m.mode in (s.mode, s.routed_mode):
            rates = ", ".join(
                f"{c} {usd_price(v)}" if c != REQUEST_FEE else f"fee {usd_price(v)} per 1k requests"
                for c, v in m.rates.items()
            )
            prices.append(f"{m.mode} {rates}")
    return (
        f"{_name(s)}: {s.requests_per_day:,} requests/day × "
        f"{s.input_tokens_per_request:,} input{cached}{written} + "
        f"{s.output_tokens_per_request:,} output tokens; {s.source} ({s.classified_by}: "
        f"{s.classified_why}); per 1M tokens: {'; '.join(dict.fromkeys(prices))}"
    )


def _head(r: AuditReport) -> list[str]:
    period = (
        f"{r.period_start} to {r.period_end}, {count_of(r.days_covered, 'day')}"
        if r.period_start
        else "no times recorded"
    )
    bad = f", {r.bad_records:,} malformed (left out)" if r.bad_records else ""
    other = r.skipped_records - r.repeated_records
    skipped = f", {other:,} not LLM usage" if other else ""
    skipped += f", {r.repeated_records:,} repeated (counted once)" if r.repeated_records else ""
    t, n = r.totals, len(r.streams)
    costed = sum(s.actual_cost is not None for s in r.streams)
    priced = sum(s.priced for s in r.streams)
    # a total of no priced stream is no $0.00: say so, and how many a partial total covers
    actual = usd(t.actual_cost) if costed else "not priced (see the notes)"
    actual += f" ({costed} of {n} streams)" if 0 < costed < n else ""
    month = (
        f"{usd(t.monthly_cost)} now, {usd(t.routed_monthly_cost)} routed by policy, saving "
        f"{usd(t.monthly_saving)}" + (f" ({priced} of {n} streams)" if priced < n else "")
        if priced
        else "not priced (see the notes)"
    )
    return [
        f"audit of {r.usage_records:,} usage records ({period}{skipped}{bad}); streams by "
        f"{r.grouping} grouping",
        f"actual cost {actual}; a month ({r.days_per_month} days, prices of {r.prices_as_of}): "
        f"{month}",
    ]


def _bad_lines(r: AuditReport, limit: int = 5) -> list[str]:
    if not r.bad_records:
        return []
    shown = [f"  - {printable(b.file, 200)}:{b.line}: {printable(b.reason, 200)}"
             for b in r.bad[:limit]]  # fmt: skip
    more = r.bad_records - len(shown)
    return ["", f"malformed records ({r.bad_records:,}, all listed in --format json):", *shown,
            *([f"  - and {more:,} more"] if more > 0 else [])]  # fmt: skip


def _notes(r: AuditReport) -> list[str]:
    """The report's notes, then each stream's (a tier the model does not sell, requests
    without a time)."""
    return [*r.notes, *(f"{_name(s)}: {n}" for s in r.streams for n in s.notes)]


def audit_table(r: AuditReport) -> str:
    lines = [*_head(r), ""]
    headers, rows = stream_rows(r)
    lines.append(text_table(headers, rows, right=RIGHT).rstrip("\n"))
    headers, rows = mode_rows(r)
    if rows:
        lines += ["", "each mode, a month of each stream:", ""]
        lines.append(text_table(headers, rows, right=[2, 3]).rstrip("\n"))
        if any(m.assumed for s in r.streams for m in s.modes):
            lines.append("* includes prices assumed from the provider's rule")
    lines += ["", "assumptions:", *(f"  - {a}" for a in r.assumptions)]
    lines += [f"  - {_stream_assumption(s)}" for s in r.streams]
    lines += _bad_lines(r)
    lines += [f"note: {n}" for n in _notes(r)]
    return "\n".join(lines) + "\n"


def audit_markdown(r: AuditReport) -> str:
    head = _head(r)
    parts = ["### costcalc audit", "", head[0] + ".", "", head[1] + ".", ""]
    headers, rows = stream_rows(r)
    parts.append(markdown_table(headers, rows, right=RIGHT).rstrip("\n"))
    headers, rows = mode_rows(r)
    if rows:
        parts += ["", "Each mode, a month of each stream:", ""]
        parts.append(markdown_table(headers, rows, right=[2, 3]).rstrip("\n"))
    parts += ["", "Assumptions:", "", *(f"- {a}" for a in r.assumptions)]
    parts += [f"- {_stream_assumption(s)}" for s in r.streams]
    parts += [line.replace("  - ", "- ", 1) for line in _bad_lines(r)]
    parts += [f"\n_{n}_" for n in _notes(r)]
    return "\n".join(parts) + "\n"
