"""Money: exact ``Decimal`` values and the few ways we write them.

Prices are USD per 1M tokens; costs are USD. Nothing here rounds a value that is later
computed with; rounding happens only when text is written for a person.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated

from pydantic import Field, PlainSerializer

MILLION = Decimal(1_000_000)
CENT = Decimal("0.01")

MAX_PRICE = Decimal(100_000)
"""No model costs $100,000 per 1M tokens; a bigger price is a typo (and 1e400 overflows)."""
Money = Annotated[Decimal, Field(ge=0, le=MAX_PRICE, allow_inf_nan=False)]
"""A non-negative, finite price per 1M tokens, at most ``MAX_PRICE``."""


def decimal_str(value: Decimal) -> str:
    """Exact decimal text with at least two decimal places: 2.5 -> '2.50', 0.0625 -> '0.0625'.

    Used in JSON, where money is a decimal string (as infracost does).
    """
    if value == 0:
        return "0.00"
    text = format(value.normalize(), "f")
    whole, _, frac = text.partition(".")
    return f"{whole}.{frac.ljust(2, '0')}"


def usd(value: Decimal, places: int = 2) -> str:
    """Human text: $15,000.00. Rounds half up to ``places`` (cents by default); an amount
    below a cent keeps two significant digits ($0.000035) rather than showing $0.00."""
    rounded = value.quantize(CENT if places == 2 else _step(places), ROUND_HALF_UP)
    if not rounded and value:
        places = min(10, 1 - value.adjusted())
        rounded = value.quantize(_step(places), ROUND_HALF_UP)
    # quantized, its digits are the ones to write: ",f" writes them as they are
    if rounded < 0:
        return f"-${-rounded:,f}"
    return f"${rounded.copy_abs():,f}"  # -0.00 reads $0.00


def _step(places: int) -> Decimal:
    """10 ** -places: 0.01 for cents."""
    return _STEPS.get(places) or Decimal(1).scaleb(-places)


_STEPS = {places: Decimal(1).scaleb(-places) for places in range(11)}


def shared_places(values: Iterable[Decimal | None]) -> int:
    """Decimal places for figures read side by side: cents, or as many places as the smallest
    amount under a cent needs for two significant digits (so $0.0090 sits beside $0.0045,
    not $0.01 beside $0.0045)."""
    places = 2
    for value in values:
        if value is not None and value != 0 and abs(value) < CENT:
            places = max(places, min(10, 1 - value.adjusted()))
    return places


def usd_price(value: Decimal) -> str:
    """A per-1M-token price for people: exact, at least cents ($2.50, $0.0625)."""
    return "$" + decimal_str(value)


def signed_usd(value: Decimal) -> str:
    """+$1,402.00 / -$12.00 / $0.00, for diffs."""
    rounded = value.quantize(CENT, rounding=ROUND_HALF_UP)
    if rounded == 0:
        return usd(Decimal(0))
    return ("+" if rounded > 0 else "") + usd(rounded)


def tidy(value: Decimal) -> Decimal:
    """The same value with tidy digits: whole cents as cents (36.0000 -> 36.00), otherwise
    without trailing zeros (0.000050 -> 0.00005)."""
    cents = value.quantize(CENT)
    return cents if cents == value else value.normalize()


def per_million(tokens: int | Decimal, price_per_mtok: Decimal) -> Decimal:
    """Cost of ``tokens`` at ``price_per_mtok`` USD per 1M tokens, exact (and ``tidy``)."""
    value = (price_per_mtok * tokens).scaleb(-6)  # / 1,000,000, exactly, without dividing
    cents = value.quantize(CENT)  # tidy(), without a call: every cost comes through here
    return cents if cents == value else value.normalize()


def per_thousand(count: int | Decimal, price_per_k: Decimal) -> Decimal:
    """Cost of ``count`` requests at ``price_per_k`` USD per 1,000 requests, exact (and
    ``tidy``): a fee per request."""
    return tidy((price_per_k * count).scaleb(-3))  # / 1,000, exactly, without dividing


MoneyOut = Annotated[Decimal, PlainSerializer(lambda v: decimal_str(v), return_type=str)]
"""Money in a result object: serialised as an exact decimal string (JSON never sees a float)."""


PER_HOUR_STEP = Decimal("0.0001")
"""Savings per hour waited are a ratio: kept to 1/100 of a cent (or two significant digits
when smaller, so a tiny saving does not read as $0.00 an hour)."""


def per_hour_rate(amount: Decimal, hours: Decimal) -> Decimal:
    """``amount`` per hour over ``hours``, rounded half up to ``PER_HOUR_STEP``."""
    rate = amount / hours
    if rate != 0 and abs(rate) < CENT:  # two significant digits, so $0.000073 is not $0.0001
        return rate.quantize(Decimal(1).scaleb(rate.adjusted() - 1), rounding=ROUND_HALF_UP)
    return rate.quantize(PER_HOUR_STEP, rounding=ROUND_HALF_UP)


def per_hour(value: Decimal) -> str:
    """$312.50; under a dollar, up to 4 places so cents do not hide it ($0.3125)."""
    size = abs(value)
    if value != 0 and size < CENT:  # two significant digits: $0.000073
        return usd(value, places=min(10, 1 - value.adjusted()))
    if size < 1:
        exponent = value.normalize().as_tuple().exponent
        places = -exponent if isinstance(exponent, int) else 2
        if places > 2:
            return usd(value, places=min(places, 4))
    return usd(value)
