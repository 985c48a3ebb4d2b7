"""What `costcalc route` shows: the mode alone, for scripts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from costcalc.errors import printable
from costcalc.results import Note

if TYPE_CHECKING:
    from costcalc.router import Route


def route_plain(r: Route) -> list[str]:
    """The mode, and on stderr the money it decides when a workload was given."""
    parts: list[str] = [f"{r.mode}\n"]
    if r.stake is not None:
        parts.append(Note(f"{printable(r.stake.workload)}: {r.stake.text} (rule {r.rule})\n"))
    return parts
