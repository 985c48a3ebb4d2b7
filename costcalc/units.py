"""One parser per quantity a user writes: a date (or ``today``), a duration, an amount of money,
a share, a count. The library, the YAML readers and the command line all use these."""

import datetime as dt

from costcalc.errors import UsageError


def parse_date(text: str) -> dt.date:
    """A calendar date as YYYY-MM-DD, or 'today'."""
    if text.strip().lower() == "today":
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"as_of (--as-of): bad date {text!r}: expected YYYY-MM-DD") from None
