"""The price table: strict models of ``pricing/<provider>.yaml`` (``schema``), resolved prices
and lookups (``table``), loading and overrides (``load``), and the reports on it (``sheet``).
Behind it, every model of genai-prices (``genai``, ``catalog``); in front of it, newer data
read by ``costcalc prices update`` (``data``, ``litellm``, ``update``; which price wins:
``overlay``); and the audit of it against genai-prices or LiteLLM (``audit``).

Every model entry is dated (``as_of``: when its prices were last checked against ``source``)
and may carry several price periods (o3 was cut on 2025-06-10); lookups take a date.
Prices are USD per 1M tokens, as ``Decimal`` from the YAML text.

Delivery-mode prices are resolved in one place (``ModelPrices.mode``): a price written in
the table for a mode is ``published``; one derived from the provider's rule (Batch API = 50%
of standard) is ``assumed`` and says so wherever it is shown.
"""

from costcalc.prices.load import *  # noqa: F403
from costcalc.prices.schema import *  # noqa: F403
from costcalc.prices.table import *  # noqa: F403
