"""Batch files and the queue: the manifest of a build, validation, reconciliation, queue status."""

from __future__ import annotations

from typing import TYPE_CHECKING

from costcalc.errors import printable, printable_line
from costcalc.money import shared_places, usd
from costcalc.render.tables import text_table
from costcalc.results import Note

if TYPE_CHECKING:  # each command imports only what it renders (start-up time)
    from costcalc.batch.build import Manifest
    from costcalc.batch.queue import FlushResult, QueueStatus
    from costcalc.batch.reconcile import Reconciliation
    from costcalc.batch.validate import ValidationReport


def manifest_table(m: Manifest, out_dir: str | None = None) -> str:
    """The parts written, with their folder when it is given (``out_dir``)."""
    from costcalc.delivery import duration

    rows = [
        [
            printable(p.file),
            f"{p.requests:,}",
            f"{p.bytes:,}",
            p.sha256[:16],
            f"{p.first_custom_id} .. {p.last_custom_id}",
        ]
        for p in m.parts
    ]
    lines = [
        f"{m.requests:,} requests for {m.model} ({m.provider} format) in "
        f"{len(m.parts)} file(s)" + (f" in {printable(out_dir)}" if out_dir is not None else ""),
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
            f"{printable(f.file, 4096)}: {status}: {f.requests:,} requests, {f.bytes:,} bytes, "
            f"{f.provider or '?'} format, model {printable(f.model) if f.model else '?'}"
        )
        shown = f.problems[:20]
        lines += [f"  {printable_line(p)}" for p in shown]
        if len(f.problems) > len(shown):
            lines.append(f"  ... and {len(f.problems) - len(shown):,} more")
    lines.append("valid" if report.valid else f"invalid: {report.problems:,} problem(s)")
    return "\n".join(lines) + "\n"


def reconcile_table(r: Reconciliation) -> str:
    places = shared_places((r.actual_cost, r.estimate, r.difference))
    lines = [
        f"model {printable(r.model) if r.model else '?'}: "
        + ", ".join(f"{n:,} {k}" for k, n in r.outcomes.items()),
        f"usage of the succeeded requests: {r.usage.input_tokens:,} input, "
        f"{r.usage.cached_input_tokens:,} cached input, {r.usage.cache_write_tokens:,} cache "
        f"writes"
        + (
            f" (5 min) and {r.usage.cache_write_1h_tokens:,} (1 h)"
            if r.usage.cache_write_1h_tokens
            else ""
        )
        + f", {r.usage.output_tokens:,} output tokens",
        f"actual cost at batch prices of {r.prices_as_of}: {usd(r.actual_cost, places)} "
        "(errored, cancelled and expired requests bill nothing)",
        "  prices "
        + (
            f"from {printable(r.price_origin)} (it cites {printable(r.price_source, 200)})"
            if r.price_origin
            else f"checked {r.prices_checked} against "
            + (f"{printable(r.price_read)} of " if r.price_read else "")
            + printable(r.price_source, 200)
        ),
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
        lines += [f"  missing: {printable(cid)}" for cid in r.missing[:50]]
        if len(r.missing) > 50:
            lines.append(f"  ... and {len(r.missing) - 50:,} more (--format json lists all)")
        if r.unexpected:
            lines.append(f"results not in the input: {len(r.unexpected):,}")
            lines += [f"  unexpected: {printable(cid)}" for cid in r.unexpected[:50]]
            if len(r.unexpected) > 50:
                lines.append(f"  ... and {len(r.unexpected) - 50:,} more (--format json lists all)")
    lines += [f"note: {note}" for note in r.notes]
    return "\n".join(lines) + "\n"


def flushes_plain(results: list[FlushResult]) -> list[str]:
    """The files written, one a line, for scripts; then each flush (or that there was none
    to do) said on stderr, once the files are written out: stdout that fails is the one line
    on stderr."""
    from costcalc.delivery import count_of

    parts: list[str] = [f"{printable(f.file, 4096)}\n" for r in results for f in r.files]
    if not results:
        parts.append(Note("nothing to flush\n"))
    for r in results:
        note = " (finishing a flush left open by a crash)" if r.resumed else ""
        parts.append(Note(f"flush {r.flush}: {count_of(r.tasks, 'task')}{note}\n"))
    return parts


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
