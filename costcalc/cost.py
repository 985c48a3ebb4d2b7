"""The one pricing function: tokens by component times a mode's rates gives cost by component.

Every cost costcalc shows goes through :func:`component_costs`: a quote's modes (and so the
batch build manifest, ``batch quote`` and ``check``), ``batch reconcile``'s actual cost and
estimate, and the lesson's exercise. Each component is priced exactly (``Decimal``) and
rounded nowhere; rounding happens only when text is written for a person.
"""

from collections.abc import Mapping
from decimal import Decimal

from costcalc.money import per_million
from costcalc.prices.table import ModeRates, Rate

FALLBACK_COMPONENT = "input"
"""A component with no price of its own (a cache read or write on a model that lists none) is
billed at the input price..."""
ONE_HOUR_FALLBACK = "cache_write_5m"
"""...but a 1-hour cache write on a model that lists only the 5-minute write price is billed at
that price (as genai-prices bills every write), never at less than a 5-minute write costs."""


def rate_of(rates: ModeRates, component: str) -> Rate:
    """The rate ``rates`` charges for ``component``, or the rate it is billed at when it has
    none: the 5-minute write's for a 1-hour write, else the input rate."""
    rate = rates.rate(component)
    if rate is None and component == "cache_write_1h":
        rate = rates.rate(ONE_HOUR_FALLBACK)
    if rate is None:
        rate = rates.rate(FALLBACK_COMPONENT)
    if rate is None:  # every available mode prices input
        raise KeyError(f"{rates.mode} prices have no {component!r} and no input price")
    return rate


def component_costs(
    tokens: Mapping[str, Decimal | int], usd_per_mtok: Mapping[str, Decimal]
) -> dict[str, Decimal]:
    """USD for each component's tokens at its price per 1M tokens: ``tokens[c] × price[c] /
    1,000,000``, exact.

    >>> component_costs({"input": 800, "output": 200}, {"input": Decimal("2.50"),
    ...                                                   "output": Decimal("10")})
    {'input': Decimal('0.002'), 'output': Decimal('0.002')}
    """
    return {c: per_million(n, usd_per_mtok[c]) for c, n in tokens.items()}


def mode_costs(tokens: Mapping[str, Decimal | int], rates: ModeRates) -> dict[str, Decimal]:
    """:func:`component_costs` at the rates of one delivery mode (input price for a component
    it does not list)."""
    return component_costs(tokens, {c: rate_of(rates, c).usd_per_mtok for c in tokens})
