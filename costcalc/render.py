"""Renderers: table, JSON, Markdown and CSV text from the same result objects.

Nothing here computes a figure; it only writes what a result object holds. JSON is the
canonical form (``model_dump_json``: money as decimal strings); the others are views of it.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from costcalc.money import per_hour, shared_places, signed_usd, usd, usd_price
from costcalc.prices import COMPONENT_LABELS

if TYPE_CHECKING:  # each command imports only what it renders (start-up time)
    from costcalc.batch.build import Manifest
    from costcalc.batch.queue import QueueStatus
    from costcalc.batch.reconcile import Reconciliation
    from costcalc.batch.validate import ValidationReport
    from costcalc.budget import CheckReport, DiffReport, WorkloadCost
    from costcalc.calculator import Quote, QuoteReport
    from costcalc.delivery import ModeQuote
    from costcalc.exercise import Exercise
    from costcalc.prices.sheet import PriceList, PriceSheet, StaleReport
    from costcalc.tokens.result import TokenCount

Row = Sequence[Any]


def capitalized(text: str) -> str:
    """The text with its first letter in upper case (the rest untouched, unlike str.capitalize)."""
    return text[:1].upper() + text[1:]


def to_json(result: BaseModel) -> str:
    return result.model_dump_json(indent=2) + "\n"


def text_table(headers: Row, rows: Iterable[Row], right: Iterable[int] = ()) -> str:
    """Aligned plain-text columns; ``right`` lists column indexes to right-align."""
    body = [[str(c) for c in r] for r in rows]
    head = [str(h) for h in headers]
    widths = [len(h) for h in head]
    for r in body:
        widths = [max(w, len(c)) for w, c in zip(widths, r, strict=True)]
    right_set = set(right)

    def line(cells: list[str]) -> str:
        out = [
            c.rjust(w) if i in right_set else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(out).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(head), rule, *(line(r) for r in body)]) + "\n"


def markdown_table(headers: Row, rows: Iterable[Row], right: Iterable[int] = ()) -> str:
    right_set = set(right)
    head = "| " + " | ".join(str(h) for h in headers) + " |"
    align = "|" + "|".join("---:" if i in right_set else "---" for i in range(len(headers))) + "|"
    body = ["| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join([head, align, *body]) + "\n"


def csv_text(headers: Row, rows: Iterable[Row]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(headers)
    writer.writerows(rows)
    return buf.getvalue()


# --- prices --------------------------------------------------------------------------------


def price_sheet_table(sheet: PriceSheet) -> str:
    teaching = "  [teaching rate, not a list price]" if sheet.teaching else ""
    lines = [f"{sheet.model}  {sheet.name}  ({sheet.provider}){teaching}"]
    since = (
        f"in effect since {sheet.effective_from}"
        if sheet.effective_from
        else f"since release ({sheet.released})"
        if sheet.released
        else "since release"
    )
    lines.append(f"prices on {sheet.on}: {since}; checked {sheet.as_of} against {sheet.source}")
    if sheet.note:
        lines.append(f"note: {sheet.note}")
    if sheet.description:
        lines.append(sheet.description)
    names = [*sheet.aliases, *sheet.snapshots]
    if names:
        lines.append("also answers to: " + ", ".join(names))
    facts = [f"context {sheet.context_window:,} tokens"]
    if sheet.max_input_tokens:
        facts.append(f"max input {sheet.max_input_tokens:,}")
    if sheet.max_output_tokens:
        facts.append(f"max output {sheet.max_output_tokens:,}")
    facts.append(f"encoding {sheet.encoding or 'estimated (provider token_estimate)'}")
    lines.append(" · ".join(facts))
    lines.append("")
    rows: list[Row] = []
    for tier in sheet.tiers:
        scope = (
            "all requests"
            if tier.above_input_tokens is None
            else (f"input > {tier.above_input_tokens:,}")
        )
        for mode in tier.modes:
            if not mode.available:
                rows.append([scope, mode.mode, "-", "unavailable", mode.reason])
                continue
            for r in mode.prices:
                rows.append(
                    [
                        scope,
                        mode.mode,
                        COMPONENT_LABELS[r.component],
                        usd_price(r.usd_per_mtok),
                        r.basis + (f" ({r.note})" if r.note else ""),
                    ]
                )
    lines.append(
        text_table(
            ["requests", "mode", "component", f"{sheet.currency} / 1M tokens", "basis"],
            rows,
            right=[3],
        ).rstrip("\n")
    )
    if len(sheet.periods) > 1:
        lines.append("")
        lines.append("price history:")
        lines.append(
            text_table(
                ["from", "input", "output", "checked", "source"],
                [
                    [
                        str(p.effective_from or "release"),
                        usd_price(p.input),
                        usd_price(p.output),
                        str(p.as_of),
                        p.source,
                    ]
                    for p in sheet.periods
                ],
                right=[1, 2],
            ).rstrip("\n")
        )
    if sheet.batch_rule is not None:
        b = sheet.batch_rule
        lines.append("")
        limits = f"{b.max_requests:,} requests or " if b.max_requests else ""
        lines.append(
            f"batch: {limits}{b.max_bytes:,} bytes per file; typical "
            f"{b.typical_turnaround_hours.normalize():f} h, at most "
            f"{b.completion_window_hours.normalize():f} h ({b.source})"
        )
    return "\n".join(lines) + "\n"


def _opt_price(value: Any) -> str:
    return usd_price(value) if value is not None else "-"


def price_list_rows(lst: PriceList) -> tuple[list[str], list[list[str]]]:
    headers = [
        "provider",
        "model",
        "input",
        "cached",
        "output",
        "batch in",
        "batch out",
        "modes",
        "context",
        "checked",
    ]
    rows = []
    for m in lst.models:
        mark = "*" if m.batch_assumed else ""
        rows.append(
            [
                m.provider,
                m.model + (" (teaching)" if m.teaching else ""),
                usd_price(m.input),
                _opt_price(m.cached_input),
                usd_price(m.output),
                _opt_price(m.batch_input) + mark,
                _opt_price(m.batch_output) + mark,
                ",".join(m.modes),
                f"{m.context_window:,}",
                str(m.as_of),
            ]
        )
    return headers, rows


def price_list_table(lst: PriceList) -> str:
    headers, rows = price_list_rows(lst)
    out = text_table(headers, rows, right=[2, 3, 4, 5, 6, 8])
    note = f"{lst.currency} per 1M tokens, prices on {lst.on}."
    if any(m.batch_assumed for m in lst.models):
        note += " * batch price assumed from the provider's batch rule."
    return out + note + "\n"


def price_list_csv(lst: PriceList) -> str:
    headers = [
        "provider",
        "model",
        "teaching",
        "currency",
        "input",
        "cached_input",
        "output",
        "batch_input",
        "batch_output",
        "batch_assumed",
        "modes",
        "context_window",
        "as_of",
    ]
    rows = [
        [
            m.provider,
            m.model,
            str(m.teaching).lower(),
            lst.currency,
            *(
                "" if v is None else format(v.normalize(), "f")
                for v in (m.input, m.cached_input, m.output, m.batch_input, m.batch_output)
            ),
            str(m.batch_assumed).lower(),
            " ".join(m.modes),
            m.context_window,
            m.as_of,
        ]
        for m in lst.models
    ]
    return csv_text(headers, rows)


def stale_table(report: StaleReport) -> str:
    if not report.stale:
        return (
            f"all {report.checked} models were checked within {report.days} days "
            f"(today is {report.today})\n"
        )
    rows = [[s.provider, s.model, str(s.as_of), str(s.days_old)] for s in report.stale]
    head = (
        f"{len(report.stale)} of {report.checked} models were last checked more than "
        f"{report.days} days ago:\n"
    )
    return head + text_table(["provider", "model", "checked", "days"], rows, right=[3])


# --- tokens ---------------------------------------------------------------------------------


def token_count_table(result: TokenCount) -> str:
    per = result.per_request
    about = "about " if result.sample is not None else ""
    rows = [
        ["model", f"{result.model} ({result.encoding})"],
        ["tokens", f"{about}{result.tokens:,}"],
    ]
    if result.interval is not None:
        iv = result.interval
        rows.append([f"{iv.confidence:.0%} interval", f"{iv.low:,} to {iv.high:,}"])
    rows += [
        ["requests", f"{about}{result.requests:,}"],
        [
            "per request",
            f"mean {per.mean:,.2f} · p50 {per.p50:,} · p95 {per.p95:,} · max {per.max:,}",
        ],
        ["over context", f"{about}{result.over_context:,} (limit {result.context_limit:,} tokens)"],
    ]
    if result.sample is not None:
        s = result.sample
        rows.append(["sample", f"{s.size:,} of {s.population:,}, seed {s.seed}"])
    for reason in result.estimate_reasons:
        rows.append(["estimate", reason])
    width = max(len(r[0]) for r in rows)
    return "".join(f"{k.ljust(width)}  {v}\n" for k, v in rows)


# --- quotes ---------------------------------------------------------------------------------


def _tokens(value: Decimal) -> str:
    return f"{value:,.0f}" if value % 1 == 0 else f"{value:,.2f}"


def _teaching_tag(q: Quote, tag: str) -> str:
    return tag if q.teaching and "teaching" not in q.model_name.lower() else ""


def quote_headline(q: Quote) -> str:
    from costcalc.delivery import count_of

    teaching = _teaching_tag(q, " [teaching rate]")
    return (
        f"{q.name}: {q.model} ({q.model_name}{teaching}), {count_of(q.requests, 'request')} × "
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
    headers = [
        *("mode", "cost", "input"),
        *(["cache"] if cache else []),
        *("output", f"vs {q.baseline}", "first token", "one request", "whole job", "at worst"),
    ]
    rows = []
    places = shared_places(
        v
        for m in q.available
        for v in (m.cost, m.input_cost, m.cached_input_cost, m.cache_write_cost, m.output_cost,
                  m.savings)
    )  # fmt: skip
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
                _vs_base(q, m, places),
                duration(m.time_to_first_token_s),
                duration(m.time_to_complete_s),
                duration(m.wait_s),
                duration(m.worst_wait_s),
            ]
        )
    right = [1, 2, 3, 4] if cache else [1, 2, 3]
    return headers, rows, right


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
        lines += _unavailable_lines(q) + _note_lines(q)
        if any(m.assumed for m in q.available):
            lines.append("* includes prices assumed from the provider's rule (see assumptions)")
        lines += ["", *_verdict_lines(q), "", "assumptions:"]
        lines += [f"  - {a}" for a in q.assumptions]
        out.append("\n".join(lines) + "\n")
    return "\n".join(out)


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
        remarks = _unavailable_lines(q) + _note_lines(q)
        parts = [
            f"### {q.name}",
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


QUOTE_CSV_FIELDS = [
    "workload", "model", "mode", "available", "currency", "cost", "input_cost",
    "cached_input_cost", "cache_write_cost", "output_cost", "savings", "savings_pct",
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


# --- the lesson's exercise ------------------------------------------------------------------


def _exercise_rows(ex: Exercise) -> tuple[list[str], list[list[str]]]:
    headers = ["scale", "tokens", "standard", "batch", "saving", "wait", "break-even"]
    rows = []
    for s in ex.scales:  # each scale is its own job: one precision per row, not per table
        places = shared_places((s.standard_cost, s.batch_cost, s.savings))
        rows.append(
            [
                s.label,
                f"{s.tokens:,}",
                usd(s.standard_cost, places),
                usd(s.batch_cost, places),
                usd(s.savings, places),
                f"{s.wait_hours.normalize():f} h",
                per_hour(s.break_even_usd_per_hour) + "/h",
            ]
        )
    return headers, rows


def _today_line(ex: Exercise) -> str:
    b = ex.today.mode("batch")
    if b.savings is None or ex.today_break_even_usd_per_hour is None:
        return ""
    return (
        f"At {ex.today_prices} batch saves {usd(b.savings)} on this job: "
        f"{per_hour(ex.today_break_even_usd_per_hour)} per hour of a "
        f"{ex.window_hours.normalize():f} h wait, the lesson's way of counting. The rate limits "
        "below stretch the wall times."
    )


def exercise_table(ex: Exercise) -> str:
    from costcalc.calculator import QuoteReport

    headers, rows = _exercise_rows(ex)
    lines = [
        "The Batch Budgeter: standard against batch, and what the wait is worth",
        "",
        text_table(headers, rows, right=[1, 2, 3, 4, 6]).rstrip("\n"),
        "",
        *(f"{capitalized(s.question)} {capitalized(s.answer)}."
          for s in ex.scales),
        "",
        ex.conclusion,
        "",
        "assumptions:",
        *(f"  - {a}" for a in ex.assumptions),
        "",
        _today_line(ex),
        "",
        quote_table(QuoteReport.of([ex.today])).rstrip("\n"),
    ]  # fmt: skip
    return "\n".join(lines) + "\n"


def exercise_markdown(ex: Exercise) -> str:
    from costcalc.calculator import QuoteReport

    headers, rows = _exercise_rows(ex)
    lines = [
        "## The Batch Budgeter",
        "",
        markdown_table(headers, rows, right=[1, 2, 3, 4, 6]).rstrip("\n"),
        "",
        *(f"- **{capitalized(s.question)}** {capitalized(s.answer)}."
          for s in ex.scales),
        "",
        ex.conclusion,
        "",
        "<details><summary>Assumptions</summary>",
        "",
        *(f"- {a}" for a in ex.assumptions),
        "",
        "</details>",
        "",
        _today_line(ex),
        "",
        quote_markdown(QuoteReport.of([ex.today])).rstrip("\n"),
    ]  # fmt: skip
    return "\n".join(lines) + "\n"


def to_json_list(results: Sequence[BaseModel]) -> str:
    return "[\n" + ",\n".join(r.model_dump_json(indent=2) for r in results) + "\n]\n"


# --- batch files ----------------------------------------------------------------------------


def manifest_table(m: Manifest, out_dir: str) -> str:
    from costcalc.delivery import duration

    rows = [
        [
            p.file,
            f"{p.requests:,}",
            f"{p.bytes:,}",
            p.sha256[:16],
            f"{p.first_custom_id} .. {p.last_custom_id}",
        ]
        for p in m.parts
    ]
    lines = [
        f"{m.requests:,} requests for {m.model} ({m.provider} format) in "
        f"{len(m.parts)} file(s) in {out_dir}",
        "",
        text_table(
            ["file", "requests", "bytes", "sha256", "custom_ids"], rows, right=[1, 2]
        ).rstrip("\n"),
        "",
        f"custom_id = {m.custom_id_prefix!r} + {m.custom_id_number}",
    ]
    q = m.quote
    if q is not None and q.standard_cost is not None and q.batch_cost is not None:
        places = shared_places((q.standard_cost, q.batch_cost, q.savings))
        lines += [
            "",
            f"quote: standard {usd(q.standard_cost, places)}, batch {usd(q.batch_cost, places)}"
            + (f" (saves {usd(q.savings, places)})" if q.savings is not None else "")
            + f"; batch typically {duration(q.batch_typical_wait_s)}, "
            f"at most {duration(q.batch_worst_wait_s)}",
            f"  input {q.input_tokens_per_request} tokens per request, {q.input_tokens_basis}",
            f"  output {q.output_tokens_per_request} tokens per request, {q.output_tokens_basis}",
        ]
        if q.assumed:
            lines.append(f"  assumed from the provider's batch rule: {', '.join(q.assumed)}")
    return "\n".join(lines) + "\n"


def validation_table(report: ValidationReport) -> str:
    lines = []
    for f in report.files:
        status = "ok" if not f.problems else f"{len(f.problems)} problem(s)"
        lines.append(
            f"{f.file}: {status}: {f.requests:,} requests, {f.bytes:,} bytes, "
            f"{f.provider or '?'} format, model {f.model or '?'}"
        )
        shown = f.problems[:20]
        lines += [f"  {p}" for p in shown]
        if len(f.problems) > len(shown):
            lines.append(f"  ... and {len(f.problems) - len(shown):,} more")
    lines.append("valid" if report.valid else f"invalid: {report.problems:,} problem(s)")
    return "\n".join(lines) + "\n"


def reconcile_table(r: Reconciliation) -> str:
    places = shared_places((r.actual_cost, r.estimate, r.difference))
    lines = [
        f"model {r.model}: " + ", ".join(f"{n:,} {k}" for k, n in r.outcomes.items()),
        f"usage of the succeeded requests: {r.usage.input_tokens:,} input, "
        f"{r.usage.cached_input_tokens:,} cached input, {r.usage.cache_write_tokens:,} cache "
        f"writes"
        + (
            f" (5 min) and {r.usage.cache_write_1h_tokens:,} (1 h)"
            if r.usage.cache_write_1h_tokens
            else ""
        )
        + f", {r.usage.output_tokens:,} output tokens",
        f"actual cost at batch prices: {usd(r.actual_cost, places)} (errored, cancelled and "
        "expired requests bill nothing)",
    ]
    if r.assumed:
        lines.append(f"  assumed from the provider's batch rule: {', '.join(r.assumed)}")
    if r.estimate is not None and r.difference is not None:
        lines.append(
            f"estimate before upload: {usd(r.estimate, places)} ({r.estimate_basis}); "
            f"actual {'+' if r.difference > 0 else ''}{usd(r.difference, places)} against it"
        )
    if r.input_requests is not None:
        lines.append(f"input requests: {r.input_requests:,}; without a result: {len(r.missing):,}")
        lines += [f"  missing: {cid}" for cid in r.missing[:50]]
        if len(r.missing) > 50:
            lines.append(f"  ... and {len(r.missing) - 50:,} more (--format json lists all)")
        if r.unexpected:
            lines.append(f"results not in the input: {len(r.unexpected):,}")
            lines += [f"  unexpected: {cid}" for cid in r.unexpected[:50]]
            if len(r.unexpected) > 50:
                lines.append(f"  ... and {len(r.unexpected) - 50:,} more (--format json lists all)")
    return "\n".join(lines) + "\n"


def queue_status_table(s: QueueStatus) -> str:
    lines = [f"{s.db}: {s.pending:,} pending, {s.flushed:,} flushed"]
    if s.open_flushes:
        lines.append(
            "open flushes (a crash interrupted them; the next flush finishes them): "
            + ", ".join(map(str, s.open_flushes))
        )
    rows = [
        [
            str(f.flush),
            f.started_at,
            f.done_at or "open",
            f.model,
            f"{f.tasks:,}",
            str(len(f.files)),
        ]
        for f in s.flushes
    ]
    if rows:
        lines += [
            "",
            text_table(
                ["flush", "started", "done", "model", "tasks", "files"], rows, right=[4, 5]
            ).rstrip("\n"),
        ]
    return "\n".join(lines) + "\n"


# --- budgets: check and diff ------------------------------------------------------------------


def _diff_text(diff: Decimal, past: Decimal | None) -> str:
    if diff == 0:
        return "$0.00"
    pct = (
        f" ({'+' if diff > 0 else ''}{(diff / past * 100).quantize(Decimal('0.1'))}%)"
        if past
        else ""
    )
    return signed_usd(diff) + pct


def check_rows(r: CheckReport) -> tuple[list[str], list[list[str]]]:
    headers = ["workload", "model", "mode", "requests/month", "monthly", "budget", "through batch"]

    def star(w: WorkloadCost, mode: str) -> str:
        return "*" if mode in w.assumed_modes else ""

    rows = [
        [
            w.name,
            w.model,
            w.mode,
            f"{w.monthly_requests:,.0f}",
            usd(w.monthly_cost) + star(w, w.mode),
            usd(w.budget) if w.budget is not None else "-",
            usd(w.batch_monthly_cost) + star(w, "batch")
            if w.batch_monthly_cost is not None
            else "-",
        ]
        for w in r.workloads
    ]
    return headers, rows


ASSUMED_NOTE = "* includes prices assumed from the provider's rule"


def _assumed_note(r: CheckReport) -> list[str]:
    return [ASSUMED_NOTE] if any(w.assumed_modes for w in r.workloads) else []


def _check_summary(r: CheckReport) -> str:
    budget = f" (budget {usd(r.budget_monthly)})" if r.budget_monthly is not None else ""
    base = f"; base {usd(r.past_total_monthly)}" if r.past_total_monthly is not None else ""
    return f"monthly total {usd(r.total_monthly)}{budget}{base}, prices of {r.prices_as_of}"


def check_table(r: CheckReport) -> str:
    headers, rows = check_rows(r)
    verdict = "passed" if r.passed else f"FAILED ({len(r.failures)})"
    lines = [f"costcalc check {r.config}: {verdict}", _check_summary(r), ""]
    lines.append(text_table(headers, rows, right=[3, 4, 5, 6]).rstrip("\n"))
    lines += _assumed_note(r)
    if r.failures:
        lines += ["", "failures:", *(f"  - {f.message}" for f in r.failures)]
    lines += [f"note: {n}" for n in r.notes]
    return "\n".join(lines) + "\n"


def check_markdown(r: CheckReport) -> str:
    headers, rows = check_rows(r)
    icon = "✅ passed" if r.passed else f"❌ failed ({len(r.failures)})"
    parts = [
        f"### costcalc check: {icon}",
        "",
        capitalized(_check_summary(r)) + ".",
        "",
        markdown_table(headers, rows, right=[3, 4, 5, 6]).rstrip("\n"),
        *(line for note in _assumed_note(r) for line in ("", "\\" + note)),
    ]
    if r.failures:
        parts += ["", *(f"- ❌ {f.message}" for f in r.failures)]
    parts += [f"\n_{n}_" for n in r.notes]
    return "\n".join(parts) + "\n"


def diff_rows(d: DiffReport) -> list[list[str]]:
    rows = [
        [
            w.name + ("" if w.status in ("changed", "unchanged") else f" ({w.status})"),
            usd(w.past_monthly) if w.past_monthly is not None else "-",
            usd(w.monthly) if w.monthly is not None else "-",
            _diff_text(w.diff, w.past_monthly),
        ]
        for w in d.workloads
    ]
    return rows


def diff_table(d: DiffReport) -> str:
    rows = diff_rows(d)
    rows.append(["all workloads", usd(d.past_total_monthly), usd(d.total_monthly),
                 _diff_text(d.diff_total_monthly, d.past_total_monthly)])  # fmt: skip
    lines = [
        d.headline,
        "",
        text_table(["workload", "previous", "new", "diff"], rows, right=[1, 2, 3]).rstrip("\n"),
    ]
    for w in d.workloads:
        if w.changes:
            lines.append(f"  {w.name}: " + "; ".join(w.changes))
    if d.failed:
        lines += ["", f"FAILED: {d.failure}"]
    lines += [f"note: {n}" for n in d.notes]
    lines.append(f"\nbase {d.base}, head {d.head}, prices of {d.prices_as_of}")
    return "\n".join(lines) + "\n"


def diff_markdown(d: DiffReport, limit: int = 65536) -> str:
    """The pull-request comment: headline, table, collapsible details, hidden marker; cut to
    ``limit`` characters (GitHub's comment limit) with a note when it would be longer."""
    from costcalc.budget import MARKER

    arrow = "📈" if d.diff_total_monthly > 0 else "📉" if d.diff_total_monthly < 0 else ""
    head = [MARKER, f"### 💰 costcalc: {d.headline} {arrow}".rstrip(), ""]
    total_row = [
        "**All workloads**",
        f"**{usd(d.past_total_monthly)}**",
        f"**{usd(d.total_monthly)}**",
        f"**{_diff_text(d.diff_total_monthly, d.past_total_monthly)}**",
    ]
    table_head = ["| Workload | Previous | New | Diff |", "|---|---:|---:|---:|"]
    rows = ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in diff_rows(d)]
    total = "| " + " | ".join(total_row) + " |"
    verdict = ["", f"❌ **Cost check failed:** {d.failure}."] if d.failed else []
    details = []
    for w in d.workloads:
        if w.status == "unchanged":
            continue
        details.append(f"- **{w.name}** ({w.status}): {_diff_text(w.diff, w.past_monthly)}")
        details += [f"  - {c}" for c in w.changes]
    unchanged = sum(1 for w in d.workloads if w.status == "unchanged")
    same = f"{unchanged} workload{'s' if unchanged != 1 else ''} without cost changes. "
    foot = [
        "",
        *(f"_Note: {n}._" for n in d.notes),
        f"{same if unchanged else ''}Prices of {d.prices_as_of}; base `{d.base}`, head `{d.head}`.",
    ]

    def assemble(table_rows: list[str], detail_lines: list[str], note: str) -> str:
        body = [*head, *table_head, *table_rows, total, *verdict, "",
                "<details><summary>Details</summary>", "", *detail_lines]  # fmt: skip
        if note:
            body += ["", note]
        return "\n".join([*body, "", "</details>", *foot]) + "\n"

    text = assemble(rows, details, "")
    if len(text) <= limit:
        return text
    # too long for one comment: drop detail lines, then table rows, and say so
    keep_rows, keep_details = len(rows), len(details)
    while len(text) > limit and (keep_details or keep_rows):
        if keep_details:
            keep_details = max(0, keep_details - max(1, keep_details // 4))
        else:
            keep_rows = max(0, keep_rows - max(1, keep_rows // 4))
        note = (
            f"_Truncated to fit GitHub's {limit:,}-character comment limit: "
            f"{len(rows) - keep_rows:,} table rows and {len(details) - keep_details:,} detail "
            "lines left out. The JSON output (`--format json`) has everything._"
        )
        text = assemble(rows[:keep_rows], details[:keep_details], note)
    return text
