"""``--write-config``: an audit as a costcalc.yaml, one workload per stream, so that
``costcalc check`` starts from what really runs.

The values written are those the audit's monthly figures were computed from (requests a day,
tokens per request and cache shares, rounded as the audit rounds them, the mode in use, the
prices' date and the days in a month), so ``check`` on the file gives the audit's monthly
total to the cent and beyond: the same numbers through the same function.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_UP, Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from costcalc.audit.report import AuditReport

CENT = Decimal("0.01")


def _scalar(value: Any) -> str:
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, int):
        return str(value)
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a YAML scalar


def config_workload(s: Mapping[str, Any]) -> dict[str, Any]:
    """A stream's workload in costcalc.yaml: the values its monthly figures come from."""
    out: dict[str, Any] = {
        "name": s["name"],
        "model": s["model"],
        "requests_per_day": s["requests_per_day"],
        "input_tokens": s["input_tokens_per_request"],
        "output_tokens": s["output_tokens_per_request"],
        "mode": s["mode"],
        "source": s["source"],
    }
    if s["deadline"] is not None:
        out["deadline"] = s["deadline"]
    if s["cached_share"]:
        out["cached_share"] = s["cached_share"]
    if s["cache_write_share"]:
        out["cache_write_share"] = s["cache_write_share"]
    return out


def batch_allowance(savings: Sequence[Decimal]) -> Decimal | None:
    """The largest of the streams' monthly savings ``check``'s batch-eligible policy would fail
    (background work not on the Batch API), rounded up to the cent; None when none would fail.
    The config allows it, so ``check`` passes on what runs today and fails any new background
    work left off the Batch API (a baseline, as linters keep)."""
    return max(savings).quantize(CENT, rounding=ROUND_UP) if savings else None


def config_text(report: AuditReport) -> str:
    """The costcalc.yaml of an audit: every priced stream as a workload."""
    from costcalc.units import count_of

    period = (
        f"{report.period_start} to {report.period_end}"
        if report.period_start and report.period_end
        else "a trace without times"
    )
    lines = [
        f"# written by {report.generated_by} audit from {report.usage_records:,} usage "
        f"records ({period}, {count_of(report.days_covered, 'day')})",
        "# requests_per_day = a stream's requests / the days covered; tokens are means per",
        "# request; `costcalc check` on this file gives the audit's monthly total",
        f"as_of: {report.prices_as_of}",
        f"days_per_month: {report.days_per_month}",
    ]
    if report.batch_allowance is not None:
        lines += [
            "policies:",
            "  batch-eligible:",
            "    # what runs today leaves this much a month off the Batch API (the moves the",
            "    # audit proposes; the largest, rounded up to the cent): allowed, so check",
            "    # passes now and fails new background work that is not batched; lower it to 0",
            "    # to require the moves",
            f"    min_monthly_saving: {report.batch_allowance:f}",
        ]
    # no stream priced: an empty list, the streams left out as comments below it
    lines.append("workloads:" if any(s.priced for s in report.streams) else "workloads: []")
    for s in report.streams:
        if not s.priced:
            lines.append(f"  # left out: {json.dumps(s.name, ensure_ascii=False)}: not priced")
            continue
        fields = config_workload(s.model_dump())
        first = True
        for name, value in fields.items():
            lead = "  - " if first else "    "
            lines.append(f"{lead}{name}: {_scalar(value)}")
            first = False
        if s.classified_by == "guess":
            lines.append(f"    # source guessed: {s.classified_why}")
    return "\n".join(lines) + "\n"


def check_config_target(
    path: str | os.PathLike[str], force: bool, inputs: Iterable[object] = ()
) -> None:
    """Refuse, before any record is read, a config path ``write_config`` would refuse: not a
    regular file, an existing file without ``force``, a folder that does not exist, or one of
    the audit's ``inputs`` (traffic, mapping, policy: ``force`` would replace it)."""
    from pathlib import Path

    from costcalc.atomic import check_target, input_at
    from costcalc.errors import FieldError, InputFileError, path_argument

    target = Path(path_argument(path, "write_config", "audit"))
    if os.fspath(path) == "-":  # a file named "-" is never what was meant
        raise FieldError("write_config", "'-' is no file: give a path (or use config_text())")
    if (given := input_at(target, inputs)) is not None:
        raise FieldError(
            "write_config",
            f"{os.fspath(path)}: is the input {given}; write the report to another file",
            sep=" ",
        )
    if not target.parent.is_dir():
        raise InputFileError(str(target), "its folder does not exist")
    check_target(target, force)


def write_config(report: AuditReport, path: str | os.PathLike[str], force: bool = False) -> None:
    """Write the audit's costcalc.yaml to ``path`` atomically (an existing file is replaced
    only with ``force``; anything but a regular file is refused)."""
    from costcalc.atomic import write_file
    from costcalc.errors import path_argument

    text = config_text(report)
    _check_readable(text, len(report.streams))
    write_file(path_argument(path, "path", "write_config"), text, force)


def _check_readable(text: str, streams: int) -> None:
    """Refuse a config ``check`` could not read back (over its YAML caps: a stream per API
    key of a large organisation can make one)."""
    from costcalc.errors import UsageError, arg
    from costcalc.yamlfile import MAX_YAML_BYTES, MAX_YAML_NODES

    values = 2 * sum(
        1 for line in text.splitlines() if ":" in line and not line.lstrip().startswith("#")
    )
    if len(text.encode()) > MAX_YAML_BYTES or values > MAX_YAML_NODES:
        raise UsageError(
            f"a config of {streams:,} streams is over costcalc's caps on a YAML file "
            f"({MAX_YAML_BYTES // 2**20} MiB, {MAX_YAML_NODES:,} values): check could not "
            f"read it; group the streams more coarsely ({arg('group_by')} service, project or "
            "team)"
        )
