"""costcalc: what an LLM API workload costs under each delivery mode, and how long it takes.

Planning scripts import from here::

    import costcalc

    table = costcalc.load_price_table()
    gpt4o = table.prices("gpt-4o")                 # prices in effect today
    batch = gpt4o.mode("batch")                    # published or assumed, per component
    print(batch.rates["input"].usd_per_mtok)       # Decimal('1.25')

    costcalc.count_tokens("Hello world", model="gpt-4o")           # 2
    costcalc.count_message_tokens(messages, model="gpt-4")         # the cookbook's count
    costcalc.count_file("batch.jsonl", sample=2000).tokens         # a TokenCount
    whole = costcalc.count_file("a.jsonl").tally() + costcalc.count_file("b.jsonl").tally()
    costcalc.count_from_tally(whole, "gpt-4o")                      # counts that merge

    q = costcalc.quote(costcalc.Workload(model="gpt-4o", requests=1_000_000,
                                         input_tokens=800, output_tokens=200))
    q.cheapest.mode, q.recommendation.reason                       # 'batch', '...'

Bad input raises ``costcalc.CostcalcError`` (a ``ValueError``) with a one-line message that
names fields and arguments as Python writes them (``rows: must be between 1 and 10^12``; a
``FieldError`` carries the name as ``.field``). A ``Workload`` built with bad fields raises
``costcalc.InvalidWorkloadError``, a ``CostcalcError``, naming each field in one line
(``Workload: requests: must be > 0; deadline: ...``; ``.fields`` lists them); a workload
without ``output_tokens`` is refused (give 0 when nothing is generated).

Arguments of the wrong type raise ``TypeError`` naming the function and the argument
(``quote: workload must be a costcalc.Workload, got str``). Functions that read files take
each path as a ``str`` or ``os.PathLike``; those that read several (``load_price_table``,
``count_file``, ``validate_batch_files``, ``quote_batch_files``, ``reconcile_batch``) take
one path (one file) or a list or tuple of paths; a folder (``home``) is a path too. Dates
(``on``, ``as_of``, ``today``) are a ``datetime.date`` or its text, ``'YYYY-MM-DD'``.

Which requests a provider would refuse (an empty prompt, a message with no text) is decided
once: ``build_batch``, ``validate_batch_files``, ``queue_add`` and a quote's ``input_file``
refuse them alike; ``count_file`` and ``count_string`` count them and report how many in
``TokenCount.refused_requests``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from costcalc._version import __version__
from costcalc.errors import (
    CostcalcError,
    CostcalcWarning,
    EnvironmentFailure,
    FieldError,
    InputFileError,
    InvalidWorkloadError,
    PriceTableError,
    UnknownModelError,
    UsageError,
    WorkloadError,
)

# The rest of the API is imported on first use: `costcalc` is a command people run in loops
# and CI, and each command needs only part of the package (PEP 562).
_LAZY = {
    "Quote": "costcalc.calculator",
    "QuoteReport": "costcalc.calculator",
    "Recommendation": "costcalc.verdict",
    "quote": "costcalc.calculator",
    "quote_all": "costcalc.calculator",
    "ModeQuote": "costcalc.delivery",
    "Exercise": "costcalc.lesson",
    "exercise": "costcalc.lesson",
    "ModelPrices": "costcalc.prices",
    "ModeRates": "costcalc.prices",
    "PriceTable": "costcalc.prices",
    "Rate": "costcalc.prices",
    "load_price_table": "costcalc.prices",
    "price_list": "costcalc.prices.sheet",
    "price_sheet": "costcalc.prices.sheet",
    "TokenCount": "costcalc.tokens.result",
    "TokenTally": "costcalc.tokens.tally:Tally",
    "count_from_tally": "costcalc.tokens.tally",
    "count_file": "costcalc.tokens.count",
    "count_on_spark": "costcalc.spark",
    "count_string": "costcalc.tokens.count",
    "count_message_tokens": "costcalc.tokens.encodings",
    "count_tokens": "costcalc.tokens.encodings",
    "tokenizer_for": "costcalc.tokens.encodings",
    "render_result": "costcalc.results",
    "route": "costcalc.router",
    "Route": "costcalc.router",
    "Workload": "costcalc.workload",
    "load_workloads": "costcalc.workload",
    "parse_modes": "costcalc.workload",
    "workload_from_options": "costcalc.workload",
    "parse_count": "costcalc.units",
    "parse_date": "costcalc.units",
    "parse_duration": "costcalc.units",
    "parse_money": "costcalc.units",
    "parse_share": "costcalc.units",
    "stale_report": "costcalc.prices.sheet",
    "PriceUpdate": "costcalc.prices.update",
    "PriceUpdateRemoval": "costcalc.prices.update",
    "update_prices": "costcalc.prices.update",
    "remove_price_update": "costcalc.prices.update",
    "price_update_file": "costcalc.prices.load",
    "user_data_dir": "costcalc.userdata",
    "PriceAudit": "costcalc.prices.audit",
    "AuditRow": "costcalc.prices.audit",
    "audit_prices": "costcalc.prices.audit",
    "validate_price_file": "costcalc.prices",
    "price_schema": "costcalc.prices",
    "load_policy": "costcalc.router",
    "default_policy_text": "costcalc.router",
    "ProjectConfig": "costcalc.budget",
    "load_config": "costcalc.budget",
    "check_budgets": "costcalc.budget:check",
    "diff_budgets": "costcalc.budget:diff",
    "audit": "costcalc.audit.plan",
    "AuditReport": "costcalc.audit.report",
    "UsageRecord": "costcalc.audit.records",
    "GateReport": "costcalc.gate.report",
    "gate_configs": "costcalc.gate.report",
    "find_configs": "costcalc.gate.configs",
    "marker_for": "costcalc.gate.report",
    "gate_comment_body": "costcalc.render.gate:comment_body",
    "gate_annotations": "costcalc.render.gate:annotations",
    "LineFormat": "costcalc.batch.formats",
    "line_formats": "costcalc.batch.formats",
    "register_line_format": "costcalc.batch.formats:register",
    "build_batch": "costcalc.batch.build:build",
    "validate_batch_files": "costcalc.batch.validate:validate_files",
    "quote_batch_files": "costcalc.batch.quote:quote_files",
    "reconcile_batch": "costcalc.batch.reconcile:reconcile",
    "queue_tasks": "costcalc.batch.queueadd:parse_tasks",
    "queue_add": "costcalc.batch.queueadd:add",
    "queue_add_in_transactions": "costcalc.batch.queueadd:add_in_transactions",
    "queue_flush": "costcalc.batch.queue:flush",
    "queue_status": "costcalc.batch.queue:status",
}
"""Public name -> the module that defines it (``module:name`` where the name differs)."""

if TYPE_CHECKING:
    from costcalc.audit.plan import audit
    from costcalc.audit.records import UsageRecord
    from costcalc.audit.report import AuditReport
    from costcalc.batch.build import build as build_batch
    from costcalc.batch.formats import LineFormat, line_formats
    from costcalc.batch.formats import register as register_line_format
    from costcalc.batch.queue import flush as queue_flush
    from costcalc.batch.queue import status as queue_status
    from costcalc.batch.queueadd import add as queue_add
    from costcalc.batch.queueadd import add_in_transactions as queue_add_in_transactions
    from costcalc.batch.queueadd import parse_tasks as queue_tasks
    from costcalc.batch.quote import quote_files as quote_batch_files
    from costcalc.batch.reconcile import reconcile as reconcile_batch
    from costcalc.batch.validate import validate_files as validate_batch_files
    from costcalc.budget import ProjectConfig, load_config
    from costcalc.budget import check as check_budgets
    from costcalc.budget import diff as diff_budgets
    from costcalc.calculator import Quote, QuoteReport, quote, quote_all
    from costcalc.delivery import ModeQuote
    from costcalc.gate.configs import find_configs
    from costcalc.gate.report import GateReport, gate_configs, marker_for
    from costcalc.lesson import Exercise, exercise
    from costcalc.prices import (
        ModelPrices,
        ModeRates,
        PriceTable,
        Rate,
        load_price_table,
        price_schema,
        validate_price_file,
    )
    from costcalc.prices.audit import AuditRow, PriceAudit, audit_prices
    from costcalc.prices.load import price_update_file
    from costcalc.prices.sheet import price_list, price_sheet, stale_report
    from costcalc.prices.update import (
        PriceUpdate,
        PriceUpdateRemoval,
        remove_price_update,
        update_prices,
    )
    from costcalc.render.gate import annotations as gate_annotations
    from costcalc.render.gate import comment_body as gate_comment_body
    from costcalc.results import render_result
    from costcalc.router import Route, default_policy_text, load_policy, route
    from costcalc.spark import count_on_spark
    from costcalc.tokens.count import count_file, count_string
    from costcalc.tokens.encodings import count_message_tokens, count_tokens, tokenizer_for
    from costcalc.tokens.result import TokenCount
    from costcalc.tokens.tally import Tally as TokenTally
    from costcalc.tokens.tally import count_from_tally
    from costcalc.units import parse_count, parse_date, parse_duration, parse_money, parse_share
    from costcalc.userdata import user_data_dir
    from costcalc.verdict import Recommendation
    from costcalc.workload import Workload, load_workloads, parse_modes, workload_from_options


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'costcalc' has no attribute {name!r}")
    module, _, attr = module.partition(":")
    value = getattr(importlib.import_module(module), attr or name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "AuditReport",
    "AuditRow",
    "CostcalcError",
    "CostcalcWarning",
    "EnvironmentFailure",
    "Exercise",
    "FieldError",
    "GateReport",
    "InputFileError",
    "InvalidWorkloadError",
    "LineFormat",
    "ModeQuote",
    "ModeRates",
    "ModelPrices",
    "PriceAudit",
    "PriceTable",
    "PriceTableError",
    "PriceUpdate",
    "PriceUpdateRemoval",
    "ProjectConfig",
    "Quote",
    "QuoteReport",
    "Rate",
    "Recommendation",
    "Route",
    "TokenCount",
    "TokenTally",
    "UnknownModelError",
    "UsageError",
    "UsageRecord",
    "Workload",
    "WorkloadError",
    "__version__",
    "audit",
    "audit_prices",
    "build_batch",
    "check_budgets",
    "count_file",
    "count_from_tally",
    "count_message_tokens",
    "count_on_spark",
    "count_string",
    "count_tokens",
    "default_policy_text",
    "diff_budgets",
    "exercise",
    "find_configs",
    "gate_annotations",
    "gate_comment_body",
    "gate_configs",
    "line_formats",
    "load_config",
    "load_policy",
    "load_price_table",
    "load_workloads",
    "marker_for",
    "parse_count",
    "parse_date",
    "parse_duration",
    "parse_modes",
    "parse_money",
    "parse_share",
    "price_list",
    "price_schema",
    "price_sheet",
    "price_update_file",
    "queue_add",
    "queue_add_in_transactions",
    "queue_flush",
    "queue_status",
    "queue_tasks",
    "quote",
    "quote_all",
    "quote_batch_files",
    "reconcile_batch",
    "register_line_format",
    "remove_price_update",
    "render_result",
    "route",
    "stale_report",
    "tokenizer_for",
    "update_prices",
    "user_data_dir",
    "validate_batch_files",
    "validate_price_file",
    "workload_from_options",
]
