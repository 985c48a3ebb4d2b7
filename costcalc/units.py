"""One parser per quantity a user writes: a date (or ``today``), a duration, an amount of money,
a share, a count. The library, the YAML readers and the command line all use these.

Each parser takes the name of the field it parses, as a Python caller writes it (``as_of``,
``deadline``, ``value_of_time``), and its errors name that field (a ``FieldError``, which the
command line writes with the field's flag). The ``Annotated`` types below are the same parsers
for pydantic models (workloads, budget configs, routing policies), where the error's location
in the file names the field.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, ValidationInfo

from costcalc.errors import FieldError, UsageError, quoted, require_type, shown

MAX_DURATION_S = 10 * 366 * 86400
"""Deadlines and waits longer than 10 years are typos (and overflow ``timedelta``)."""


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
"""YYYY-MM-DD and nothing around it: a time, even midnight, would say a moment, not a day."""


_TODAY: tuple[float, float, dt.date] = (0.0, 0.0, dt.date.min)
"""Today's local date, and the clock times of its start and end."""


def today() -> dt.date:
    """``datetime.date.today()``, from the clock: a quote asks for the day every time, and the
    date costs 15 times the clock, so the day is looked up again only when the clock leaves it
    (past midnight, or set back)."""
    global _TODAY
    now = time.time()
    start, end, day = _TODAY
    if start <= now < end:
        return day
    day = dt.date.today()
    start = dt.datetime.combine(day, dt.time()).timestamp()  # local midnight
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time()).timestamp()
    _TODAY = (start, end, day)
    return day


_DAY, _MOMENT = dt.date, dt.datetime  # bound once: a stand-in clock may replace dt.date


def parse_date(value: dt.date | str, field: str) -> dt.date:
    """A calendar date: the text YYYY-MM-DD or ``today``, or a ``datetime.date`` (a datetime
    is a moment, not a day: refused, as a time in the text is)."""
    if isinstance(value, _MOMENT):
        raise FieldError(
            field, f"bad date {value.isoformat()!r}: expected YYYY-MM-DD, a day, not a time"
        )
    if isinstance(value, _DAY):
        return value
    if not isinstance(value, str):  # a number or a list from YAML: said as written there
        raise FieldError(field, f"expected a date as YYYY-MM-DD, got {_written(value)}")
    if value.lower() == "today":
        return today()
    if _DATE.fullmatch(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise FieldError(field, f"bad date {quoted(value)}: expected YYYY-MM-DD", both=True)


def _written(value: object) -> str:
    """A value of the wrong type as a YAML file or a caller wrote it, without Python's repr."""
    if isinstance(value, (bool, int, float, Decimal)):
        return shown(value)
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


_DATE_ARGUMENT = (dt.date, str)  # bound once: what a date argument may be
_DATE_WORDS = "a datetime.date or a 'YYYY-MM-DD' str"


def date_argument(value: object, name: str, function: str) -> dt.date:
    """A date argument of the Python API: a ``datetime.date`` or text ``parse_date`` reads
    (YYYY-MM-DD, ``today``); another type (a datetime too) is a TypeError naming ``function``
    and ``name``, a bad text a ``FieldError`` naming ``name``."""
    require_type(value, _DATE_ARGUMENT, name, function, _DATE_WORDS)
    if isinstance(value, dt.datetime):
        raise TypeError(
            f"{function}: {name} must be {_DATE_WORDS}, got a datetime (a day, not a time)"
        )
    assert isinstance(value, _DATE_ARGUMENT)
    return parse_date(value, name)


_UNITS = {
    "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
    "w": 604800, "week": 604800, "weeks": 604800,
}  # fmt: skip
_DURATION_PART = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*")


def parse_duration(value: Any, field: str = "deadline") -> Decimal:
    """Seconds in a duration such as ``24h``, ``1d``, ``90m``, ``2 hours`` or ``1h30m``.

    A bare number is rejected: "24" could be hours or seconds.
    """
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        number = Decimal(str(value))
        if not number.is_finite() or number <= 0:  # no unit makes it a deadline: no hint
            raise FieldError(field, f"duration {value!r} must be a time longer than zero, e.g. 24h")
        raise FieldError(
            field, f"duration {value!r} needs a unit, e.g. {value}h, {value}m or {value}d"
        )
    text = str(value).strip().lower()
    pos, total = 0, Decimal(0)
    while pos < len(text):
        m = _DURATION_PART.match(text, pos)
        if m is None or m.group(2) not in _UNITS:
            raise FieldError(
                field,
                f"bad duration {value!r}: expected a number and a unit, e.g. 24h, 1d, 90m, 2 hours",
            )
        total += Decimal(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if pos == 0:
        raise FieldError(field, f"bad duration {value!r}: expected e.g. 24h, 1d, 90m, 2 hours")
    if total <= 0:
        raise FieldError(field, f"duration {value!r} must be longer than zero")
    if total > MAX_DURATION_S:
        raise FieldError(field, f"duration {value!r} is longer than 10 years")
    return total


MONEY_MAX = 10**12
"""The most USD a user may give (a rate, a value of time, a budget): beyond it, a typo."""


def parse_money(value: Any, field: str) -> Decimal:
    """USD from ``50``, ``12.5`` or ``$1,200``, up to ``MONEY_MAX`` either side of zero."""
    if isinstance(value, bool):
        raise FieldError(field, f"expected an amount of money, got {value!r}")
    if isinstance(value, int) and abs(value) <= MONEY_MAX:
        return Decimal(value)
    # copy_abs, not abs(): abs() rounds to the context and overflows on 1e99999999
    if isinstance(value, Decimal) and value.is_finite() and value.copy_abs() <= MONEY_MAX:
        return value
    text = str(value).strip().replace(",", "").removeprefix("$").removesuffix("/h").strip()
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise FieldError(field, f"expected an amount of money in USD, got {value!r}") from None
    if not amount.is_finite():
        raise FieldError(field, f"expected an amount of money in USD, got {value!r}")
    if amount.copy_abs() > MONEY_MAX:  # a typo, and beyond what a cent-rounded Decimal holds
        raise FieldError(field, f"must be <= {MONEY_MAX}")
    return amount


def parse_share(value: Any, field: str) -> Decimal:
    """A share between 0 and 1 (``0.2``)."""
    try:
        share = Decimal(str(value).strip())
    except InvalidOperation:
        raise FieldError(field, f"expected a number between 0 and 1, got {value!r}") from None
    if not share.is_finite() or not 0 <= share <= 1:
        raise FieldError(field, f"expected a number between 0 and 1, got {value!r}")
    return share


_WHOLE = re.compile(r"\s*[+-]?\d+(?:_\d+)*(?:\.0*)?\s*")


def parse_count(value: Any, field: str) -> int:
    """A whole number: ``1000``, ``"1000"`` or ``1000.0``; true and false are not numbers here
    (pydantic would read ``requests: true`` as one request)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, (float, Decimal)) and Decimal(value).is_finite() and value == int(value):
        return int(value)
    if isinstance(value, str) and _WHOLE.fullmatch(value):
        try:
            return int(value.strip().split(".")[0])
        except ValueError:  # over Python's limit on the digits of a str -> int conversion
            raise FieldError(
                field, f"number too long ({len(value.strip()):,} characters)"
            ) from None

    raise FieldError(field, f"expected a whole number, got {shown(value)}")


# --- the same parsers as pydantic field types ------------------------------------------------


def _field(parse: Callable[[Any, str], Any]) -> BeforeValidator:
    """A pydantic validator that reads a field with ``parse``; None is left to the model."""

    def validate(value: Any, info: ValidationInfo) -> Any:
        if value is None:
            return None
        try:
            return parse(value, info.field_name or "value")
        except FieldError as exc:  # the location in the file or the option names the field
            raise UsageError(exc.message) from None

    return BeforeValidator(validate)


def _timedelta(value: Any, field: str) -> dt.timedelta:
    if isinstance(value, dt.timedelta):
        if value <= dt.timedelta(0):
            raise FieldError(field, f"duration {value} must be longer than zero")
        return value
    return dt.timedelta(seconds=float(parse_duration(value, field)))


Date = Annotated[dt.date, _field(parse_date)]
"""Written as YYYY-MM-DD or ``today`` (or a ``datetime.date`` in Python)."""
Duration = Annotated[dt.timedelta, _field(_timedelta)]
"""Written as 24h, 1d, 90m, 2 hours (or a ``datetime.timedelta`` in Python)."""
MoneyIn = Annotated[Decimal, _field(parse_money), Field(ge=0, le=MONEY_MAX, allow_inf_nan=False)]
"""USD a user gives (value of time, budgets): up to a trillion, beyond which it is a typo."""
Share = Annotated[Decimal, Field(ge=0, le=1, allow_inf_nan=False)]
"""A share between 0 and 1. Read as pydantic reads a number, with its bounds: a bad share in
a file or option says ``must be <= 1``, as ``parse_share`` says for the arguments it reads."""
Count = Annotated[int, _field(parse_count)]
"""A whole number (true and false are not numbers here)."""


# --- written back: the quantities as text ----------------------------------------------------


def count_of(n: int | Decimal, noun: str) -> str:
    """1 request, 2 requests, 1,000 requests, 2.5 days."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def duration(seconds: Decimal | float | None) -> str:
    """0.4 s, 12 s, 3.5 min, 2.1 h, 24 h, 1.3 d."""
    if seconds is None:
        return "-"
    s = float(seconds)
    if s < 10:
        return f"{s:.1f} s"
    if s < 120:
        return f"{s:.0f} s"
    if s < 2 * 3600:
        return f"{s / 60:.1f} min".replace(".0 min", " min")
    if s < 3 * 86400:
        return f"{s / 3600:.1f} h".replace(".0 h", " h")
    return f"{s / 86400:,.1f} d".replace(".0 d", " d")


_THRESHOLD = "expected a percentage such as 10% or an amount such as 500"
Threshold = str | int | float | Decimal
"""An increase limit: ``"10%"``, ``"500"``, or a number of dollars (``500``)."""


def given_threshold(
    value: Threshold | None, field: str = "fail_on_increase"
) -> tuple[Decimal | None, Decimal | None] | None:
    """``parse_threshold`` of a limit that may be left out: None for None or ``""`` (the
    number 0 is a limit: no increase at all)."""
    return None if value is None or value == "" else parse_threshold(value, field)


def parse_threshold(
    text: Threshold, field: str = "fail_on_increase"
) -> tuple[Decimal | None, Decimal | None]:
    """``10%`` -> (None, 10); ``500``, ``$500`` or the number 500 -> (500, None): the largest
    increase `costcalc diff` allows. Errors name ``field``."""
    if isinstance(text, bool) or not isinstance(text, (str, int, float, Decimal)):
        kind = type(text).__name__
        raise TypeError(f"{field} must be a str such as '10%' or '500', or a number of dollars "
                        f"(int, float, Decimal), got {kind}")  # fmt: skip
    if not isinstance(text, str):  # a number is dollars; str() keeps a float's shortest form
        text = str(text)
    raw = text.strip()
    if raw.endswith("%"):
        try:
            pct = Decimal(raw[:-1].strip())
        except ArithmeticError:
            pct = Decimal(-1)
        if not pct.is_finite() or pct < 0:
            raise FieldError(field, f"{text!r}: {_THRESHOLD}", sep=" ")
        return None, pct
    try:
        amount = parse_money(raw, field)
    except UsageError:
        raise FieldError(field, f"{text!r}: {_THRESHOLD}", sep=" ") from None
    if amount < 0:
        raise FieldError(field, f"{text!r}: must not be negative", sep=" ")
    return amount, None
