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

    q = costcalc.quote(costcalc.Workload(model="gpt-4o", requests=1_000_000,
                                         input_tokens=800, output_tokens=200))
    q.cheapest.mode, q.recommendation.reason                       # 'batch', '...'

Bad input raises ``costcalc.CostcalcError`` (a ``ValueError``) with a one-line message that
names fields and arguments as Python writes them (``rows: must be between 1 and 10^12``; a
``FieldError`` carries the name as ``.field``); a ``Workload`` built with bad fields raises
pydantic's ``ValidationError``, also a ``ValueError``, so ``except ValueError`` catches both.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from costcalc._version import __version__
from costcalc.errors import (
    CostcalcError,
    CostcalcWarning,
    FieldError,
    InputFileError,
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
    "Recommendation": "costcalc.calculator",
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
    "count_file": "costcalc.tokens.count",
    "count_string": "costcalc.tokens.count",
    "count_message_tokens": "costcalc.tokens.encodings",
    "count_tokens": "costcalc.tokens.encodings",
    "tokenizer_for": "costcalc.tokens.encodings",
    "render_result": "costcalc.results",
    "route": "costcalc.router",
    "Route": "costcalc.router",
    "Workload": "costcalc.workload",
    "load_workloads": "costcalc.workload",
}

if TYPE_CHECKING:
    from costcalc.calculator import Quote, QuoteReport, Recommendation, quote, quote_all
    from costcalc.delivery import ModeQuote
    from costcalc.lesson import Exercise, exercise
    from costcalc.prices import (
        ModelPrices,
        ModeRates,
        PriceTable,
        Rate,
        load_price_table,
    )
    from costcalc.prices.sheet import price_list, price_sheet
    from costcalc.results import render_result
    from costcalc.router import Route, route
    from costcalc.tokens.count import count_file, count_string
    from costcalc.tokens.encodings import count_message_tokens, count_tokens, tokenizer_for
    from costcalc.tokens.result import TokenCount
    from costcalc.workload import Workload, load_workloads


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'costcalc' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "CostcalcError",
    "CostcalcWarning",
    "Exercise",
    "FieldError",
    "InputFileError",
    "ModeQuote",
    "ModeRates",
    "ModelPrices",
    "PriceTable",
    "PriceTableError",
    "Quote",
    "QuoteReport",
    "Rate",
    "Recommendation",
    "Route",
    "TokenCount",
    "UnknownModelError",
    "UsageError",
    "Workload",
    "WorkloadError",
    "__version__",
    "count_file",
    "count_message_tokens",
    "count_string",
    "count_tokens",
    "exercise",
    "load_price_table",
    "load_workloads",
    "price_list",
    "price_sheet",
    "quote",
    "quote_all",
    "render_result",
    "route",
    "tokenizer_for",
]
