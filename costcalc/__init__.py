"""costcalc: what an LLM API workload costs under each delivery mode, and how long it takes.

Planning scripts import from here::

    import costcalc

    table = costcalc.load_price_table()
    gpt4o = table.prices("gpt-4o")                 # prices in effect today
    batch = gpt4o.mode("batch")                    # published or assumed, per component
    print(batch.rates["input"].usd_per_mtok)       # Decimal('1.25')
"""

from costcalc.errors import (
    CostcalcError,
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

__version__ = "0.1.0"

__all__ = [
    "CostcalcError",
    "InputFileError",
    "ModeRates",
    "ModelPrices",
    "PriceTable",
    "PriceTableError",
    "Rate",
    "UnknownModelError",
    "UsageError",
    "WorkloadError",
    "__version__",
    "load_price_table",
    "price_list",
    "price_sheet",
]
