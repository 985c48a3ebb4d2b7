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
"""

from costcalc.errors import (
    CostcalcError,
    CostcalcWarning,
    InputFileError,
    PriceTableError,
    UnknownModelError,
    UsageError,
    WorkloadError,
)
from costcalc.prices import (
    ModelPrices,
    ModeRates,
    PriceTable,
    Rate,
    load_price_table,
    price_list,
    price_sheet,
)
from costcalc.tokenfiles import TokenCount, count_file, count_string
from costcalc.tokens import count_message_tokens, count_tokens, tokenizer_for

__version__ = "0.1.0"

__all__ = [
    "CostcalcError",
    "CostcalcWarning",
    "InputFileError",
    "ModeRates",
    "ModelPrices",
    "PriceTable",
    "PriceTableError",
    "Rate",
    "TokenCount",
    "UnknownModelError",
    "UsageError",
    "WorkloadError",
    "__version__",
    "count_file",
    "count_message_tokens",
    "count_string",
    "count_tokens",
    "load_price_table",
    "price_list",
    "price_sheet",
    "tokenizer_for",
]
