"""Quotes: the table, Markdown (with its cost-against-wait chart) and CSV of a QuoteReport;
the table and Markdown of one Quote (as of a report of it alone)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING

from costcalc.errors import printable
from costcalc.money import per_hour, shared_places, usd
from costcalc.render.tables import capitalized, csv_text, markdown_table, text_table

if TYPE_CHECKING:  # each command imports only what it renders (start-up time)
    from costcalc.calculator import Quote, QuoteReport
    from costcalc.delivery import ModeQuote


def _tokens(value: Decimal) -> str:
    return f"{value:,.0f}" if value % 1 == 0 else f"{value:,.2f}"


def _teaching_tag(q: Quote, tag: str) -> str:
    return tag if q.teaching and "teaching" not in q.model_name.lower() else ""


def quote_headline(q: Quote) -> str:
    from costcalc.delivery import count_of

    teaching = _teaching_tag(q, " [teaching rate]")
    # a name resolved in the data may be sold by several providers: say whose it is
    seller = f", sold by {q.provider}" if q.price_origin is not None else ""
    return (
        f"{printable(q.name)}: {q.model} ({q.model_name}{teaching}{seller}), "
        f"{count_of(q.requests, 'request')} × "
        f"{_tokens(q.input_tokens_per_request)} input + {_tokens(q.output_tokens_per_request)} "
        f"output tokens, prices of {q.prices_as_of}"
    )


def _vs_base(q: Quote, m: ModeQuote, places: int = 2) -> str:
    if m.mode == q.baseline:
        return "baseline"
    if m.savings is None:
        return "-"
    if m.savings > 0:
        return f"saves {usd(m.savings, places)} ({m.savings_pct}%)"
    if m.savings < 0:
        return f"costs {usd(-m.savings, places)} more"
    return "same cost"


def quote_rows(q: Quote) -> tuple[list[str], list[list[str]], list[int]]:
    from costcalc.delivery import duration

    cache = any(m.cached_input_cost or m.cache_write_cost for m in q.available)
    fees = any(m.request_fee_cost for m in q.available)
    headers = [
        *("mode", "cost", "input"),
        *(["cache"] if cache else []),
        "output",
        *(["request fees"] if fees else []),
        *(f"vs {q.baseline}", "first token", "one request", "whole job", "at worst"),
    ]
    rows = []
    places = _places(q)
    for m in q.modes:
        if not m.available or m.cost is None:
            rows.append([m.mode, "unavailable"] + ["-"] * (len(headers) - 2))
            continue
        mark = "*" if m.assumed else ""
        cache_cost = (m.cached_input_cost or Decimal(0)) + (m.cache_write_cost or Decimal(0))
        rows.append(
            [
                m.mode,
                usd(m.cost, places) + mark,
                usd(m.input_cost or Decimal(0), places),
                *([usd(cache_cost, places)] if cache else []),
                usd(m.output_cost or Decimal(0), places),
                *([usd(m.request_fee_cost or Decimal(0), places)] if fees else []),
                _vs_base(q, m, places),
                duration(m.time_to_first_token_s),
                duration(m.time_to_complete_s),
                duration(m.wait_s),
                duration(m.worst_wait_s),
            ]
        )
    return headers, rows, list(range(1, 4 + cache + fees))


def _places(q: Quote) -> int:
    """Decimal places of the quote's money, shown side by side (``shared_places``)."""
    return shared_places(
        v
        for m in q.available
        for v in (m.cost, m.input_cost, m.cached_input_cost, m.cache_write_cost, m.output_cost,
                  m.request_fee_cost, m.savings)
    )  # fmt: skip


ROUNDED = (
    "amounts are rounded: a part, a saving or an extra cost may be off by one in the last "
    "digit from the figures beside it (the JSON output is exact)"
)


def _rounding_lines(q: Quote) -> list[str]:
    """``ROUNDED`` when the figures as shown do not add up as the exact ones do: a mode's
    parts to its cost, or the baseline's cost less a mode's to its saving or extra cost
    ($0.75 - $0.37 is not the $0.37 saved when the exact figures are $0.745 and $0.3725)."""
    places = _places(q)

    def shown(value: Decimal | None) -> Decimal:
        return Decimal(usd(value or Decimal(0), places).lstrip("-$").replace(",", ""))

    base = next((m for m in q.available if m.mode == q.baseline), None)
    for m in q.available:
        cache = (m.cached_input_cost or Decimal(0)) + (m.cache_write_cost or Decimal(0))
        parts = shown(m.input_cost) + shown(cache) + shown(m.output_cost)
        if shown(m.cost) != parts + shown(m.request_fee_cost):
            return [ROUNDED]
        if base is None or m.savings is None or not m.savings:
            continue
        # "saves $X" or "costs $X more": the difference shown must be the costs' shown
        if shown(abs(m.savings)) != abs(shown(base.cost) - shown(m.cost)):
            return [ROUNDED]
    return []


def quotes_total_line(report: QuoteReport) -> str:
    """One line adding up the modes of several quotes (the parts of one batch job)."""
    totals: dict[str, Decimal] = {}
    for q in report.workloads:
        for m in q.available:
            totals[m.mode] = totals.get(m.mode, Decimal(0)) + (m.cost or Decimal(0))
    places = shared_places(totals.values())
    parts = ", ".join(f"{mode} {usd(cost, places)}" for mode, cost in totals.items())
    line = f"all {len(report.workloads)} files: {parts}"
    if "request" in totals and "batch" in totals:
        line += f" (batch saves {usd(totals['request'] - totals['batch'], places)})"
    return line


def _unavailable_lines(q: Quote) -> list[str]:
    return [f"{m.mode} unavailable: {m.reason}" for m in q.modes if not m.available]


def _note_lines(q: Quote) -> list[str]:
    """Notes on how modes were priced (long-context tiers, missing cache prices), each once,
    naming the modes it applies to unless it applies to all."""
    modes_of: dict[str, list[str]] = {}
    for m in q.available:
        for note in m.notes:
            modes_of.setdefault(note, []).append(m.mode)
    every = len(q.available)
    return [
        f"note: {note}" if len(modes) == every else f"note ({', '.join(modes)}): {note}"
        for note, modes in modes_of.items()
    ]


def _verdict_lines(q: Quote) -> list[str]:
    r = q.recommendation
    lines = [f"recommended: {r.mode or 'none'}", f"why: {r.reason}"]
    if r.break_even_usd_per_hour is not None and r.break_even_mode is not None:
        lines.append(
            f"break-even: {per_hour(r.break_even_usd_per_hour)} per hour of waiting "
            f"({r.break_even_mode} against {q.baseline})"
        )
    return lines


def quote_table(report: QuoteReport) -> str:
    out = []
    for q in report.workloads:
        headers, rows, right = quote_rows(q)
        lines = [quote_headline(q), "", text_table(headers, rows, right).rstrip("\n")]
        lines += _unavailable_lines(q) + _note_lines(q) + _rounding_lines(q)
        if any(m.assumed for m in q.available):
            lines.append("* includes prices assumed from the provider's rule (see assumptions)")
        lines += ["", *_verdict_lines(q), "", "assumptions:"]
        lines += [f"  - {a}" for a in q.assumptions]
        out.append("\n".join(lines) + "\n")
    return "\n".join(out)


def quote_report_table(report: QuoteReport, *, total: bool = False) -> str:
    """The quote table; ``total``: with a last line adding up several quotes (batch quote)."""
    return quote_table(report) + _total(report, total)


def _total(report: QuoteReport, total: bool) -> str:
    return quotes_total_line(report) + "\n" if total and len(report.workloads) > 1 else ""


def _mermaid_label(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9 _-]", "", text)


def cost_wait_chart(q: Quote) -> str:
    """A mermaid quadrant chart of cost against wait, one point per available mode."""
    modes = [m for m in q.available if m.cost is not None and m.wait_s is not None]
    if not modes:
        return ""
    basis = q.batch_wait
    max_cost = max(m.cost or Decimal(0) for m in modes) or Decimal(1)
    max_wait = max(m.basis_wait(basis) for m in modes) or Decimal(1)

    def axis(value: Decimal, top: Decimal) -> str:
        return f"{min(0.97, max(0.03, float(value / top))):.2f}"

    lines = [
        "```mermaid",
        "quadrantChart",
        f"    title {_mermaid_label(q.name)}: cost against wait",
        "    x-axis Shorter wait --> Longer wait",
        "    y-axis Cheaper --> Dearer",
        "    quadrant-1 slow and dear",
        "    quadrant-2 fast and dear",
        "    quadrant-3 fast and cheap",
        "    quadrant-4 slow and cheap",
    ]
    for m in modes:
        lines.append(
            f"    {m.mode}: [{axis(m.basis_wait(basis), max_wait)}, "
            f"{axis(m.cost or Decimal(0), max_cost)}]"
        )
    lines.append("```")
    return "\n".join(lines) + "\n"


def quote_markdown(report: QuoteReport) -> str:
    from costcalc.delivery import count_of

    out = []
    for q in report.workloads:
        headers, rows, right = quote_rows(q)
        r = q.recommendation
        teaching = _teaching_tag(q, " (teaching rate)")
        remarks = _unavailable_lines(q) + _note_lines(q) + _rounding_lines(q)
        parts = [
            f"### {printable(q.name)}",
            "",
            f"`{q.model}` ({q.model_name}{teaching}): {count_of(q.requests, 'request')} × "
            f"{_tokens(q.input_tokens_per_request)} input + "
            f"{_tokens(q.output_tokens_per_request)} output tokens, prices of {q.prices_as_of}.",
            "",
            markdown_table(headers, rows, right).rstrip("\n"),
            "",
            *(f"- {line}" for line in remarks),
            *([""] if remarks else []),
            *(
                ["\\* includes prices assumed from the provider's rule (see assumptions)", ""]
                if any(m.assumed for m in q.available)
                else []
            ),
            f"**Recommended: {r.mode or 'none'}.** {capitalized(r.reason)}.",
            *(
                [
                    "",
                    f"Break-even: {per_hour(r.break_even_usd_per_hour)} per hour of waiting "
                    f"({r.break_even_mode} against {q.baseline}).",
                ]
                if r.break_even_usd_per_hour is not None
                else []
            ),
            "",
            cost_wait_chart(q).rstrip("\n"),
            "",
            "<details><summary>Assumptions</summary>",
            "",
            *(f"- {a}" for a in q.assumptions),
            "",
            "</details>",
        ]
        out.append("\n".join(parts) + "\n")
    return "\n".join(out)


def one_quote_table(q: Quote) -> str:
    """One ``Quote``: the table ``quote_all([q])`` renders, as the command line writes it."""
    from costcalc.calculator import QuoteReport

    return quote_table(QuoteReport.of([q]))


def one_quote_markdown(q: Quote) -> str:
    """One ``Quote``: the Markdown ``quote_all([q])`` renders (``Quote.to_markdown``)."""
    from costcalc.calculator import QuoteReport

    return quote_markdown(QuoteReport.of([q]))


def quote_report_markdown(report: QuoteReport, *, total: bool = False) -> str:
    """The quote Markdown; ``total``: with a last line adding up several quotes (batch quote)."""
    return quote_markdown(report) + _total(report, total)


QUOTE_CSV_FIELDS = [
    "workload", "model", "mode", "available", "currency", "cost", "input_cost",
    "cached_input_cost", "cache_write_cost", "output_cost", "request_fee_cost", "savings",
    "savings_pct",
    "time_to_first_token_s", "time_to_complete_s", "wait_s", "worst_wait_s", "extra_wait_s",
    "savings_per_hour_waited", "assumed", "reason",
]  # fmt: skip


def _csv_text(value: str) -> str:
    """A name a user chose, kept from being read as a formula by a spreadsheet (OWASP's
    advice for CSV injection: a leading quote)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def quote_csv(report: QuoteReport) -> str:
    rows = []
    for q in report.workloads:
        data = q.model_dump(mode="json")
        for m in data["modes"]:
            rows.append(
                [_csv_text(q.name), q.model, m["mode"], str(m["available"]).lower(), q.currency]
                + ["" if m[k] is None else m[k] for k in QUOTE_CSV_FIELDS[5:-2]]
                + [" ".join(m["assumed"]), m["reason"]]
            )
    return csv_text(QUOTE_CSV_FIELDS, rows)
