"""The render layer: ``render(result, fmt)``, the one way every result is written out.

Nothing here computes a figure; a renderer only writes what a result object holds. JSON is
the canonical form of every result, written one way (``costcalc.results.to_json``); the
other formats are views of it, one module per family of results (quote, exercise, prices,
tokens, batch, budget, route; tables holds the helpers they share).

``RENDERERS`` maps (result class name, format) to the renderer, as a "module:function"
string imported on first use: importing this package imports no renderer module, and a
command imports only the one it writes with (start-up time).

A renderer takes the result and returns its text for stdout, or a list of texts in which
``Note`` parts are chatter for stderr (what the format has no room for), written in order.
Parameters after the result are its options: ``render(manifest, "table", out_dir="out")``.
A command passes its options whatever format was picked; each renderer gets only those it
names. A list of results is looked up as ``list[ItemClass]``, then ``list``; without an entry
of its own it is written item by item (an empty list needs ``of``, the item class name).

A new format for a result: write the function in its family's module and add a line here.
A new result type: the same, in a new module for a new family; it has JSON already.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from costcalc.errors import CostcalcError
from costcalc.results import Note

__all__ = ["RENDERERS", "Note", "UnknownFormatError", "formats", "render", "render_parts"]

RENDERERS: dict[tuple[str, str], str] = {
    # JSON: every result, and a list of them (an array), one writer
    ("BaseModel", "json"): "costcalc.results:to_json",
    ("list", "json"): "costcalc.results:to_json",
    # quote, batch quote (total=True: a last line adding up several files)
    ("QuoteReport", "table"): "costcalc.render.quote:quote_report_table",
    ("QuoteReport", "markdown"): "costcalc.render.quote:quote_report_markdown",
    ("QuoteReport", "csv"): "costcalc.render.quote:quote_csv",
    # one Quote (costcalc.quote): the text of quote_all([it])
    ("Quote", "table"): "costcalc.render.quote:one_quote_table",
    ("Quote", "markdown"): "costcalc.render.quote:one_quote_markdown",
    # exercise
    ("Exercise", "table"): "costcalc.render.exercise:exercise_table",
    ("Exercise", "markdown"): "costcalc.render.exercise:exercise_markdown",
    # tokens (plain: the bare number; seed=the --seed given)
    ("TokenCount", "plain"): "costcalc.render.tokens:token_count_plain",
    ("TokenCount", "table"): "costcalc.render.tokens:token_count_table",
    # route (plain: the mode alone, for scripts)
    ("Route", "plain"): "costcalc.render.route:route_plain",
    # prices list / show / stale / update / audit
    ("PriceList", "table"): "costcalc.render.prices:price_list_table",
    ("PriceList", "csv"): "costcalc.render.prices:price_list_csv",
    ("PriceSheet", "table"): "costcalc.render.prices:price_sheet_table",
    ("StaleReport", "table"): "costcalc.render.prices:stale_table",
    ("PriceUpdate", "table"): "costcalc.render.prices:price_update_table",
    ("PriceUpdateRemoval", "table"): "costcalc.render.prices:price_update_removal_table",
    ("PriceAudit", "table"): "costcalc.render.prices:price_audit_table",
    # batch build (out_dir=the folder written) / validate / reconcile; queue flush / status
    ("Manifest", "table"): "costcalc.render.batch:manifest_table",
    ("ValidationReport", "table"): "costcalc.render.batch:validation_table",
    ("Reconciliation", "table"): "costcalc.render.batch:reconcile_table",
    ("list[FlushResult]", "plain"): "costcalc.render.batch:flushes_plain",
    ("QueueStatus", "table"): "costcalc.render.batch:queue_status_table",
    # check and diff
    ("CheckReport", "table"): "costcalc.render.budget:check_table",
    ("CheckReport", "markdown"): "costcalc.render.budget:check_markdown",
    ("DiffReport", "table"): "costcalc.render.budget:diff_table",
    ("DiffReport", "markdown"): "costcalc.render.budget:diff_markdown",
    # audit
    ("AuditReport", "table"): "costcalc.render.audit:audit_table",
    ("AuditReport", "markdown"): "costcalc.render.audit:audit_markdown",
    # gate (the comment of one config: comment_body; annotations: gate.annotations)
    ("GateReport", "table"): "costcalc.render.gate:gate_table",
    ("GateReport", "markdown"): "costcalc.render.gate:gate_markdown",
}


class UnknownFormatError(CostcalcError, LookupError):
    """No renderer for this result in this format: a ``LookupError`` and, as a format the
    caller chose, a costcalc error (a ``ValueError``)."""


def render(result: Any, fmt: str, **options: Any) -> str:
    """The text of ``result`` in format ``fmt``: what the command line writes to stdout."""
    return "".join(p for p in render_parts(result, fmt, **options) if not isinstance(p, Note))


def render_parts(result: Any, fmt: str, *, of: str | None = None, **options: Any) -> list[str]:
    """The text of ``result`` in format ``fmt`` in parts, ``Note`` parts for stderr."""
    keys = _names(result, of)
    for name in keys:
        spec = RENDERERS.get((name, fmt))
        if spec is not None:
            return _call(spec, result, options)
    if isinstance(result, list) and result:  # written item by item
        return [part for item in result for part in render_parts(item, fmt, **options)]
    offered = formats(result, of)
    raise UnknownFormatError(
        f"costcalc has no {fmt!r} output for {keys[0]}"
        + (f" (it has {', '.join(offered)})" if offered else "")
    )


def formats(result: Any, of: str | None = None) -> list[str]:
    """The formats ``result`` can be written in."""
    names = _names(result, of)
    return sorted({fmt for (name, fmt) in RENDERERS if name in names})


def _names(result: Any, of: str | None) -> list[str]:
    """The keys to look ``result`` up by, most specific first: its class and base classes, or
    for a list, ``list[Item]`` for the item's classes, then ``list``."""
    if isinstance(result, list):
        if of is not None:
            items = [of]
        else:
            items = [c.__name__ for c in type(result[0]).__mro__] if result else []
        return [*(f"list[{name}]" for name in items), "list"]
    return [c.__name__ for c in type(result).__mro__]


def _call(spec: str, result: Any, options: dict[str, Any]) -> list[str]:
    module, _, name = spec.partition(":")
    renderer = getattr(importlib.import_module(module), name)
    if options:
        _, *params = inspect.signature(renderer).parameters.values()
        named = {p.name for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
        options = {k: v for k, v in options.items() if k in named}
    out = renderer(result, **options)
    return [out] if isinstance(out, str) else list(out)
