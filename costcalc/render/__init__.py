"""Renderers: table, JSON, Markdown and CSV text from the same result objects.

Nothing here computes a figure; it only writes what a result object holds. JSON is the
canonical form (``model_dump_json``: money as decimal strings); the others are views of it,
one module per family of results.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel

from costcalc.render.batch import (
    manifest_table,
    queue_status_table,
    reconcile_table,
    validation_table,
)
from costcalc.render.budget import (
    check_markdown,
    check_table,
    diff_markdown,
    diff_table,
)
from costcalc.render.exercise import exercise_markdown, exercise_table
from costcalc.render.prices import (
    price_list_csv,
    price_list_table,
    price_sheet_table,
    stale_table,
)
from costcalc.render.quote import quote_csv, quote_markdown, quote_table, quotes_total_line
from costcalc.render.tokens import token_count_table

__all__ = [
    "check_markdown",
    "check_table",
    "diff_markdown",
    "diff_table",
    "exercise_markdown",
    "exercise_table",
    "manifest_table",
    "price_list_csv",
    "price_list_table",
    "price_sheet_table",
    "queue_status_table",
    "quote_csv",
    "quote_markdown",
    "quote_table",
    "quotes_total_line",
    "reconcile_table",
    "stale_table",
    "to_json",
    "to_json_list",
    "token_count_table",
    "validation_table",
]


def to_json(result: BaseModel) -> str:
    return result.model_dump_json(indent=2) + "\n"


def to_json_list(results: Sequence[BaseModel]) -> str:
    return "[\n" + ",\n".join(r.model_dump_json(indent=2) for r in results) + "\n]\n"
