"""What ``costcalc.audit`` answers: the report, its streams, each mode's month, the totals
and the malformed records (made by plan.py, rendered by costcalc/render/audit.py, written
as a costcalc.yaml by config.py)."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal

from pydantic import BaseModel

from costcalc.money import MoneyOut
from costcalc.results import RESULT_CONFIG
from costcalc.workload import DeliveryMode, Source


class BadRecordOut(BaseModel):
    model_config = RESULT_CONFIG

    file: str
    line: int
    reason: str


class ModeMonth(BaseModel):
    """One delivery mode of a stream, a month of its traffic."""

    model_config = RESULT_CONFIG

    mode: DeliveryMode
    available: bool
    reason: str = ""
    monthly_cost: MoneyOut | None = None
    saving: MoneyOut | None = None
    """The mode in use's monthly cost minus this one's (negative: it costs more)."""
    rates: dict[str, MoneyOut] = {}
    """USD per 1M tokens of each component billed."""
    assumed: list[str] = []
    day_wait_s: float | None = None
    """How long one day's requests take (typical); None: not known."""
    day_worst_wait_s: float | None = None
    limited_by: str = ""


class StreamAudit(BaseModel):
    model_config = RESULT_CONFIG

    name: str
    key: str
    model: str
    """The model as the config names it (as recorded, or PROVIDER:MODEL)."""
    model_id: str | None
    provider: str | None
    first_seen: dt.datetime | None
    last_seen: dt.datetime | None
    requests: int
    input_tokens: int
    cached_input_tokens: int
    cache_write_tokens: int
    output_tokens: int
    streamed_requests: int
    price_mode: str
    """What the records were billed at: standard, batch, flex or priority."""
    mode: DeliveryMode
    """The delivery mode in use."""
    actual_cost: MoneyOut | None
    priced: bool
    reason: str = ""
    """Why the stream could not be priced (then it is left out of every total)."""
    source: Source
    deadline: str | None
    classified_by: str
    """``mapping``, ``recorded`` (batched) or ``guess``."""
    classified_why: str
    requests_per_day: Decimal | None = None
    input_tokens_per_request: Decimal | None = None
    output_tokens_per_request: Decimal | None = None
    cached_share: Decimal | None = None
    cache_write_share: Decimal | None = None
    routed_mode: DeliveryMode | None = None
    route_rule: str = ""
    route_why: str = ""
    monthly_cost: MoneyOut | None = None
    """A month in the mode in use: what ``costcalc check`` says of the written config."""
    routed_monthly_cost: MoneyOut | None = None
    monthly_saving: MoneyOut | None = None
    """The mode in use's monthly cost minus the routed mode's."""
    modes: list[ModeMonth] = []
    notes: list[str] = []


class AuditTotals(BaseModel):
    model_config = RESULT_CONFIG

    requests: int
    input_tokens: int
    output_tokens: int
    actual_cost: MoneyOut
    monthly_cost: MoneyOut
    routed_monthly_cost: MoneyOut
    monthly_saving: MoneyOut


class AuditReport(BaseModel):
    """What ``costcalc.audit`` and ``costcalc audit`` answer."""

    model_config = RESULT_CONFIG

    currency: str
    generated_by: str
    period_start: dt.date | None
    period_end: dt.date | None
    days_covered: Decimal
    """From the first record to the last (a bucket's start to its end), to 0.001 day; at
    least 1."""
    days_per_month: int
    prices_as_of: dt.date
    """The prices of the monthly figures."""
    grouping: str
    policy: str
    records: int
    usage_records: int
    skipped_records: int
    """Records not usage, repeated spans included."""
    repeated_records: int = 0
    """Of ``skipped_records``, spans read before (the same ids): each counted once."""
    bad_records: int
    bad: list[BadRecordOut]
    streams: list[StreamAudit]
    totals: AuditTotals
    assumptions: list[str]
    notes: list[str]
    batch_allowance: MoneyOut | None = None
    """The batch-eligible saving the written config allows (``config.batch_allowance``)."""

    def stream(self, name: str) -> StreamAudit:
        """The stream of that name (or key, when one stream has it); KeyError if none."""
        for s in self.streams:
            if s.name == name:
                return s
        keyed = [s for s in self.streams if s.key == name]
        if len(keyed) == 1:
            return keyed[0]
        raise KeyError(f"no stream {name!r} (streams: {', '.join(s.name for s in self.streams)})")

    def to_json(self) -> str:
        from costcalc.results import to_json

        return to_json(self)

    def to_markdown(self) -> str:
        from costcalc.results import render_result

        return render_result(self, "markdown")

    def config_text(self) -> str:
        """The costcalc.yaml of this audit (``--write-config``): one workload per stream."""
        from costcalc.audit.config import config_text

        return config_text(self)

    def write_config(self, path: str | os.PathLike[str], force: bool = False) -> None:
        """Write ``config_text()`` to ``path`` atomically (replacing a file only with
        ``force``); ``costcalc check`` on it gives this audit's monthly total."""
        from costcalc.audit.config import write_config

        write_config(self, path, force)
