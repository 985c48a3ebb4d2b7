"""What changed between two versions of a project config (``costcalc diff``, the gate's
comment): one ``field: old -> new`` line per changed workload field, budget or policy."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

if TYPE_CHECKING:
    from costcalc.budget import ProjectConfig, ProjectWorkload

_COMPARED = (
    "model",
    "mode",
    "requests_per_day",
    "requests_per_month",
    "input_tokens",
    "output_tokens",
    "cached_share",
    "cache_write_share",
    "cache_ttl",
    "cancel",
    "source",
    "deadline",
    "budget",
    "warn_budget",
)


def workload_changes(old: ProjectWorkload, new: ProjectWorkload) -> list[str]:
    """What changed in one workload: model, mode, volume, tokens, source, deadline, budgets."""
    out = []
    for field_name in _COMPARED:
        a, b = getattr(old, field_name), getattr(new, field_name)
        if a != b:
            out.append(f"{field_name}: {_show(a)} -> {_show(b)}")
    return out


def config_changes(old: ProjectConfig, new: ProjectConfig) -> list[str]:
    """What changed outside the workloads: budgets, warning levels, policies, the month."""

    def flat(section: str, values: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in values.items():
            out.update(flat(f"{section}.{key}", value) if isinstance(value, dict) else
                       {f"{section}.{key}": value})  # fmt: skip
        return out

    out = []
    for section in ("budgets", "policies"):
        a = flat(section, getattr(old, section).model_dump(by_alias=True))
        b = flat(section, getattr(new, section).model_dump(by_alias=True))
        out += [f"{key}: {_show(a[key])} -> {_show(b[key])}" for key in a if a[key] != b[key]]
    if old.days_per_month != new.days_per_month:
        out.append(f"days_per_month: {old.days_per_month} -> {new.days_per_month}")
    return out


def _show(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, Decimal):
        return f"{value.normalize():,f}"
    if isinstance(value, BaseModel):  # the cancel profile: its given fields, compactly
        given = value.model_dump(exclude_defaults=True)
        return ", ".join(f"{k} {_show(v)}" for k, v in given.items()) or "none"
    return str(value)
