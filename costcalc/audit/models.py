"""The recorded models as the price table knows them: the name a recorded model is priced
under, what one request of it can hold (a record past its context window is malformed, not
traffic: no provider billed it), and the warning for a retired model, once per model."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from costcalc.errors import CostcalcError

if TYPE_CHECKING:
    from costcalc.audit.usage import UsageRecord
    from costcalc.prices import PriceTable

DAY_S = 86400
EPOCH = dt.date(1970, 1, 1)


def resolve(table: PriceTable, model: str, provider: str | None, day: dt.date) -> str:
    """The name under which the table knows a recorded model: as recorded (a LiteLLM prefix,
    ``gemini/gemini-2.5-flash``, is a provider the table knows by that name too), else with
    its provider in front (``PROVIDER:MODEL``), else without the part before a slash
    (``models/gemini-2.5-flash``)."""
    names = [model]
    if provider and ":" not in model:
        names.append(f"{provider}:{model}")
    rest = model.partition("/")[2]
    if rest:
        names.append(rest)
    first: CostcalcError | None = None
    for name in names:
        try:
            table.priced(name, day)
            return name
        except CostcalcError as exc:
            first = first or exc
    assert first is not None
    raise first


_Limits = tuple[int | None, int | None, int | None]
"""A model's most input, most output, and most input plus output (its context window)."""


class RecordLimits:
    """Why a record holds more a request than its model takes (input past the context
    window or the most input it reads, output past the most it writes, input and output
    together past the context window), looked up once per model and UTC day."""

    def __init__(self, table: PriceTable) -> None:
        self.table = table
        self._limits: dict[tuple[str, str | None, int | None], _Limits] = {}

    def problem(self, rec: UsageRecord) -> str | None:
        when = rec.start if rec.start is not None else rec.end
        day = None if when is None else int(when // DAY_S)
        key = (rec.model or "", rec.provider, day)
        limits = self._limits.get(key)
        if limits is None:
            limits = self._limits[key] = self._look_up(*key)
        most_in, most_out, window = limits
        n = max(rec.requests, 1)
        tokens_in, tokens_out = rec.input_tokens, rec.output_tokens
        if (  # within every limit, as nearly every record is: said without building words
            (most_in is None or tokens_in <= most_in * n)
            and (most_out is None or tokens_out <= most_out * n)
            and (window is None or tokens_in + tokens_out <= window * n)
        ):
            return None
        each = "" if n == 1 else f" a request (a mean over {n:,})"
        for tokens, most, what in ((rec.input_tokens, most_in, "input"),
                                   (rec.output_tokens, most_out, "output")):  # fmt: skip
            if most is not None and tokens > most * n:
                return (
                    f"{tokens // n:,} {what} tokens{each}: over {rec.model}'s limit of "
                    f"{most:,} {what} tokens"
                )
        both = rec.input_tokens + rec.output_tokens
        if window is not None and both > window * n:  # the window holds the output too
            return (
                f"{rec.input_tokens // n:,} input + {rec.output_tokens // n:,} output "
                f"tokens{each}: over {rec.model}'s context window of {window:,} tokens "
                "(input plus output)"
            )
        return None

    def _look_up(self, model: str, provider: str | None, day: int | None) -> _Limits:
        from costcalc.units import today

        on = today() if day is None else EPOCH + dt.timedelta(day)
        try:
            priced = self.table.priced(resolve(self.table, model, provider, on), on)
        except CostcalcError:  # an unknown model: its stream says it is not priced
            return None, None, None
        prices = priced.prices
        m = prices.model
        window = prices.period.context_window or m.context_window
        from costcalc.prices.schema import INPUT_WINDOWS

        if prices.provider.provider in INPUT_WINDOWS:
            window = None  # the most input, not input and output together
        return (
            prices.period.context_window or m.max_input_tokens or m.context_window,
            m.max_output_tokens,
            window,
        )


def retired_warnings(table: PriceTable, models: set[str], day: dt.date) -> list[str]:
    """What quote and check say of each model retired by ``day`` (the monthly figures'),
    once per model."""
    from costcalc.calculator import _retired  # quote's and check's own words

    said: list[str] = []
    for model in sorted(models):
        try:
            why = _retired(table.priced(model, day).prices.model, day)
        except CostcalcError:
            continue
        if why is not None and why not in said:
            said.append(why)
    return said
