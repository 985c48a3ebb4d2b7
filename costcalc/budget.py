"""Budget checks for CI: ``check`` a project config, ``diff`` two versions of it.

A project config (``costcalc.yaml``) lists the workloads a project runs, each with a volume
per day or per month and the delivery mode it runs in today, and the budgets: a total monthly
budget, per-workload budgets, the largest allowed increase against a base, and policies. The
built-in "batch-eligible" policy fails a workload that nobody waits for (source cron,
webhook or batch-job, or a deadline at least the batch window) when it is not batched and
batching would save more than a set amount a month: at scale, batching is a fiduciary
requirement, not an optimisation.

A month is ``days_per_month`` days (30 unless the config says otherwise), so every monthly
figure is requests per day x 30 x the per-request cost, and can be checked by hand.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import os
import re
import subprocess
from decimal import Decimal
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from costcalc.errors import (
    CostcalcError,
    FieldError,
    InputFileError,
    UsageError,
    WorkloadError,
)
from costcalc.money import MoneyOut, usd
from costcalc.prices import PriceTable
from costcalc.units import Date, Duration, MoneyIn, Share
from costcalc.workload import (
    MAX_REQUESTS,
    MAX_TOKENS_PER_REQUEST,
    CancelProfile,
    DeliveryMode,
    Source,
    Workload,
)
from costcalc.yamlfile import parse_yaml, validate

DEFAULT_CONFIG = "costcalc.yaml"
MARKER = "<!-- costcalc-diff -->"
"""Hidden marker in the markdown, so a CI step can find and update its own comment."""
GITHUB_COMMENT_LIMIT = 65536
BATCH_SOURCES = ("cron", "webhook", "batch-job")


class BatchEligiblePolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    min_monthly_saving: MoneyIn = Decimal(0)
    """Fail only when batching would save more than this a month (USD)."""


class Policies(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    batch_eligible: BatchEligiblePolicy = Field(
        default_factory=BatchEligiblePolicy, alias="batch-eligible"
    )


class Budgets(BaseModel):
    model_config = ConfigDict(extra="forbid")

    monthly: MoneyIn | None = None
    """Total monthly budget of all workloads (USD)."""
    max_increase: MoneyIn | None = None
    """Largest allowed increase of the monthly total against the base (USD)."""
    max_increase_pct: Decimal | None = Field(default=None, ge=0, allow_inf_nan=False)
    """Largest allowed increase against the base, in percent."""


class ProjectWorkload(BaseModel):
    """One workload of the project, as it runs today."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    model: str
    requests_per_day: Decimal | None = Field(
        default=None, gt=0, le=MAX_REQUESTS, allow_inf_nan=False
    )
    requests_per_month: Decimal | None = Field(
        default=None, gt=0, le=MAX_REQUESTS, allow_inf_nan=False
    )
    input_tokens: Decimal = Field(ge=0, le=MAX_TOKENS_PER_REQUEST, allow_inf_nan=False)
    output_tokens: Decimal = Field(ge=0, le=MAX_TOKENS_PER_REQUEST, allow_inf_nan=False)
    """Required, as in a workload file: 0 for requests without output (embeddings)."""
    mode: DeliveryMode = "request"
    """How the workload runs today."""
    source: Source | None = None
    deadline: Duration | None = None
    cached_share: Share = Decimal(0)
    cache_write_share: Share = Decimal(0)
    cache_ttl: Literal["5m", "1h"] = "5m"
    cancel: CancelProfile = CancelProfile()
    """Streaming only: how many requests users cancel, and when (as in a workload file)."""
    budget: MoneyIn | None = None
    """This workload's monthly budget (USD)."""

    @model_validator(mode="after")
    def _volume(self) -> ProjectWorkload:
        if (self.requests_per_day is None) == (self.requests_per_month is None):
            raise ValueError("give requests_per_day or requests_per_month (one of them)")
        if self.cached_share + self.cache_write_share > 1:
            raise ValueError("cached_share + cache_write_share must be at most 1")
        if self.input_tokens == 0 and self.output_tokens == 0:
            raise ValueError("input_tokens and output_tokens are both zero: nothing to price")
        return self


class ProjectConfig(BaseModel):
    """``costcalc.yaml``."""

    model_config = ConfigDict(extra="forbid")

    currency: str = "USD"
    as_of: Date | None = None
    """Price date: YYYY-MM-DD or ``today`` (the default)."""
    days_per_month: int = Field(default=30, ge=28, le=31)
    budgets: Budgets = Budgets()
    policies: Policies = Policies()
    workloads: list[ProjectWorkload] = []

    @field_validator("budgets", "policies", "workloads", mode="before")
    @classmethod
    def _empty_is_default(cls, value: Any, info: ValidationInfo) -> Any:
        # `budgets:` with nothing under it is YAML null: read it as "none set"
        if value is None:
            return [] if info.field_name == "workloads" else {}
        return value

    @field_validator("currency")
    @classmethod
    def _usd(cls, value: str) -> str:
        if value.upper() != "USD":
            raise ValueError(
                f"currency {value!r}: the price table is in USD, so budgets must be too"
            )
        return "USD"

    @model_validator(mode="after")
    def _unique(self) -> ProjectConfig:
        names = [w.name for w in self.workloads]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"workload names must be unique: {', '.join(dupes)}")
        return self


# --- reading a config: a file or REF:PATH --------------------------------------------------


def read_config_text(spec: str, allow_missing_ref: bool = False) -> tuple[str, str] | None:
    """(text, where) of a config: a file path, or ``REF:PATH`` read with ``git show``.

    With ``allow_missing_ref`` a path that does not exist at REF gives None (a config added
    by this change: the base is empty).
    """
    if os.path.exists(spec) or ":" not in spec:
        from costcalc.yamlfile import read_text

        return read_text(spec, "config file"), spec
    ref, _, path = spec.partition(":")
    if not ref or not path:
        raise UsageError(
            f"{spec!r}: expected a config file or REF:PATH such as origin/main:costcalc.yaml"
        )
    if ref.startswith("-"):  # git would read it as one of its options
        raise UsageError(f"{spec!r}: a git ref cannot begin with '-'")
    kind = _git(["cat-file", "-t"], spec)
    if (
        kind.returncode != 0
        and allow_missing_ref
        and _git(["cat-file", "-e"], f"{ref}^{{commit}}").returncode == 0
    ):
        return None  # REF exists without the file: the config is new
    if kind.returncode == 0 and kind.stdout.strip() == b"tree":
        raise InputFileError(spec, "is a folder, expected a config file")
    shown = _git(["show"], spec)
    if shown.returncode != 0:
        lines = shown.stderr.decode("utf-8", "replace").strip().splitlines()
        # git's cause is its "fatal:" line; "hint:" lines after it only suggest
        causes = [ln for ln in lines if not ln.startswith("hint:")]
        reason = causes[0] if causes else (lines[0] if lines else "git show failed")
        raise UsageError(f"cannot read {spec}: {reason.removeprefix('fatal: ')}")
    try:
        return shown.stdout.decode("utf-8"), spec
    except UnicodeDecodeError:
        raise InputFileError(spec, "is not valid UTF-8 text") from None


def _git(command: list[str], operand: str) -> subprocess.CompletedProcess[bytes]:
    """``git COMMAND [--end-of-options] OPERAND``: the operand, which comes from the user, is
    never read as an option (git before 2.24 has no ``--end-of-options``; there an operand
    that begins with "-" was refused before)."""
    if operand.startswith("-"):  # pragma: no cover - read_config_text refuses these first
        raise UsageError(f"{operand!r}: a git ref cannot begin with '-'")
    try:
        return subprocess.run(
            ["git", *command, *_end_of_options(), operand], capture_output=True, check=False
        )
    except FileNotFoundError:
        raise UsageError(f"cannot read {operand}: git is not installed") from None


@functools.cache
def _end_of_options() -> tuple[str, ...]:
    """``("--end-of-options",)`` when this git knows it (2.24 and later), else nothing."""
    try:
        found = subprocess.run(["git", "--version"], capture_output=True, check=False)
    except OSError:
        return ()
    version = re.search(rb"(\d+)\.(\d+)", found.stdout)
    if version is None:
        return ()
    return ("--end-of-options",) if (int(version[1]), int(version[2])) >= (2, 24) else ()


def load_config(spec: str = DEFAULT_CONFIG, allow_missing_ref: bool = False) -> ProjectConfig:
    read = read_config_text(spec, allow_missing_ref)
    if read is None:
        return ProjectConfig()
    text, where = read
    data = parse_yaml(text, where)
    if data is None:
        raise InputFileError(where, "is empty, expected a costcalc config")
    if not isinstance(data, dict):
        raise InputFileError(where, "expected a mapping at the top level", line=1)
    return validate(ProjectConfig, data, where, text, WorkloadError)


# --- monthly cost ---------------------------------------------------------------------------


class WorkloadCost(BaseModel):
    name: str
    model: str
    mode: DeliveryMode
    source: Source | None
    monthly_requests: Decimal
    monthly_cost: MoneyOut
    budget: MoneyOut | None
    batch_monthly_cost: MoneyOut | None
    """What the workload would cost a month through the Batch API (None: not sold)."""
    batch_saving: MoneyOut | None
    batch_eligible: bool
    """Nobody waits for it: source cron/webhook/batch-job or a deadline >= the batch window."""
    assumed: list[str]
    """Price components assumed from the provider's rule, in either figure."""
    assumed_modes: list[DeliveryMode] = []
    """The modes (of ``mode`` and batch) whose figure includes an assumed price."""


class Costs(BaseModel):
    currency: str
    prices_as_of: dt.date
    days_per_month: int
    total_monthly: MoneyOut
    workloads: list[WorkloadCost]


def monthly_costs(
    config: ProjectConfig, table: PriceTable | None = None, where: str | None = None
) -> Costs:
    """Every workload's monthly cost in the mode it runs in today, and through batch.

    An error about one workload names it (and ``where``, the config it came from)."""
    from costcalc.prices import load_price_table

    table = table or load_price_table()
    out = []
    for w in config.workloads:
        try:
            out.append(_workload_cost(config, w, table))
        except CostcalcError as exc:
            prefix = f"{where}: " if where else ""
            raise UsageError(f"{prefix}workload {w.name!r}: {exc.marked}") from None
    return Costs(
        currency="USD",
        prices_as_of=config.as_of or dt.date.today(),
        days_per_month=config.days_per_month,
        total_monthly=sum((c.monthly_cost for c in out), Decimal(0)),
        workloads=out,
    )


def _workload_cost(config: ProjectConfig, w: ProjectWorkload, table: PriceTable) -> WorkloadCost:
    from costcalc.calculator import quote
    from costcalc.delivery import PRICE_MODE

    day = config.as_of or dt.date.today()
    monthly = w.requests_per_month or (w.requests_per_day or Decimal(0)) * config.days_per_month
    priced = table.priced(w.model, day)  # resolved once per model and day, for the quote too
    prices = priced.prices
    sold = priced.mode(PRICE_MODE[w.mode], math.ceil(w.input_tokens))
    if not sold.available:
        raise UsageError(f"runs in {w.mode}, but {sold.reason}")
    # one request's cost, scaled: the volume may be fractional per day
    q = quote(
        Workload(
            name=w.name,
            model=w.model,
            requests=1,
            input_tokens=w.input_tokens,
            output_tokens=w.output_tokens,
            cached_share=w.cached_share,
            cache_write_share=w.cache_write_share,
            cache_ttl=w.cache_ttl,
            cancel=w.cancel,
            modes=list(dict.fromkeys([w.mode, "batch"])),
            baseline=w.mode,
            rate_limited=False,
            as_of=day,
        ),
        table,
    )
    current = q.mode(w.mode)
    if not current.available or current.cost is None:
        raise UsageError(f"runs in {w.mode}, but {current.reason}")
    batch = q.mode("batch")
    cost = current.cost * monthly
    batch_cost = batch.cost * monthly if batch.available and batch.cost is not None else None
    rule = prices.provider.batch
    eligible = (w.source in BATCH_SOURCES) or (
        w.deadline is not None
        and rule is not None
        and rule.completion_window_hours is not None
        and w.deadline.total_seconds() >= float(rule.completion_window_hours) * 3600
    )
    return WorkloadCost(
        name=w.name,
        model=q.model,
        mode=w.mode,
        source=w.source,
        monthly_requests=monthly,
        monthly_cost=cost,
        budget=w.budget,
        batch_monthly_cost=batch_cost,
        batch_saving=(cost - batch_cost) if batch_cost is not None else None,
        batch_eligible=eligible,
        assumed=sorted({c for m in q.available for c in m.assumed}),
        assumed_modes=[m.mode for m in q.available if m.assumed],
    )


# --- check ------------------------------------------------------------------------------------

FailureKind = Literal[
    "total-budget", "workload-budget", "increase", "increase-pct", "batch-eligible"
]


class Failure(BaseModel):
    kind: FailureKind
    workload: str | None
    figure: MoneyOut
    limit: MoneyOut
    unit: Literal["USD", "percent"] = "USD"
    """What ``figure`` and ``limit`` count: dollars a month, or percent (increase-pct)."""
    message: str


class CheckReport(BaseModel):
    currency: str
    config: str
    prices_as_of: dt.date
    total_monthly: MoneyOut
    budget_monthly: MoneyOut | None
    past_total_monthly: MoneyOut | None
    workloads: list[WorkloadCost]
    failures: list[Failure]
    notes: list[str]
    passed: bool


def check(
    config: ProjectConfig,
    where: str = DEFAULT_CONFIG,
    base: ProjectConfig | None = None,
    table: PriceTable | None = None,
) -> CheckReport:
    """Every budget and policy of ``config``; increase limits against ``base`` when given."""
    costs = monthly_costs(config, table, where)
    failures: list[Failure] = []

    def fail(
        kind: FailureKind, name: str | None, figure: Decimal, limit: Decimal, msg: str
    ) -> None:
        unit: Literal["USD", "percent"] = "percent" if kind == "increase-pct" else "USD"
        failures.append(
            Failure(kind=kind, workload=name, figure=figure, limit=limit, unit=unit, message=msg)
        )

    b = config.budgets
    total = costs.total_monthly
    if b.monthly is not None and total > b.monthly:
        fail("total-budget", None, total, b.monthly,
             f"monthly total {usd(total)} is over the budget of {usd(b.monthly)}")  # fmt: skip
    for w in costs.workloads:
        if w.budget is not None and w.monthly_cost > w.budget:
            over = f"{usd(w.monthly_cost)} a month is over its budget of {usd(w.budget)}"
            fail("workload-budget", w.name, w.monthly_cost, w.budget, f"{w.name}: {over}")
    policy = config.policies.batch_eligible
    for w in costs.workloads if policy.enabled else []:
        saving = w.batch_saving
        if w.batch_eligible and w.mode != "batch" and saving and saving > policy.min_monthly_saving:
            why = f"from {w.source}" if w.source in BATCH_SOURCES else "with a deadline batch meets"
            fail("batch-eligible", w.name, saving, policy.min_monthly_saving,
                 f"{w.name}: runs as {w.mode} {why}; the Batch API would save {usd(saving)} a "
                 f"month (allowed: {usd(policy.min_monthly_saving)})")  # fmt: skip
    notes = []
    past = None
    if base is not None:
        past = monthly_costs(
            base.model_copy(update={"as_of": costs.prices_as_of}), table, "the base config"
        )
        increase = total - past.total_monthly
        if b.max_increase is not None and increase > b.max_increase:
            allowed = usd(b.max_increase)
            fail("increase", None, increase, b.max_increase,
                 f"monthly total rises by {usd(increase)}, over the allowed {allowed}")  # fmt: skip
        exact = _exact_pct(increase, past.total_monthly)
        limit = b.max_increase_pct
        if limit is not None and increase > 0 and (exact is None or exact > limit):
            if exact is None:
                fail("increase-pct", None, increase, limit,
                     f"monthly total rises from nothing to {usd(total)}, which no percentage "
                     f"limit allows (allowed: {limit}%)")  # fmt: skip
            else:
                fail("increase-pct", None, exact, limit,
                     f"monthly total rises by {_pct_over(exact, limit)}%, over the allowed "
                     f"{limit}%")  # fmt: skip
    elif b.max_increase is not None or b.max_increase_pct is not None:
        notes.append("increase limits not checked: no base given (--base REF:PATH)")
    return CheckReport(
        currency=costs.currency,
        config=where,
        prices_as_of=costs.prices_as_of,
        total_monthly=total,
        budget_monthly=b.monthly,
        past_total_monthly=past.total_monthly if past is not None else None,
        workloads=costs.workloads,
        failures=failures,
        notes=notes,
        passed=not failures,
    )


# --- diff -------------------------------------------------------------------------------------


class WorkloadDiff(BaseModel):
    name: str
    status: Literal["added", "removed", "changed", "unchanged"]
    past_monthly: MoneyOut | None
    monthly: MoneyOut | None
    diff: MoneyOut
    changes: list[str]
    """What changed in the workload (model, mode, volume, tokens)."""


class DiffReport(BaseModel):
    currency: str
    base: str
    head: str
    prices_as_of: dt.date
    past_total_monthly: MoneyOut
    total_monthly: MoneyOut
    diff_total_monthly: MoneyOut
    diff_pct: Decimal | None
    headline: str
    workloads: list[WorkloadDiff]
    threshold: str | None = None
    failed: bool = False
    failure: str | None = None
    notes: list[str] = []
    """What a reader should know, such as a price date that moved (both sides are priced on
    the head's date, so the diff shows the change of workloads, not of prices)."""


_THRESHOLD = "expected a percentage such as 10% or an amount such as 500"


def parse_threshold(text: str) -> tuple[Decimal | None, Decimal | None]:
    """``10%`` -> (None, 10); ``500`` or ``$500`` -> (500, None)."""
    from costcalc.units import parse_money

    raw = text.strip()
    if raw.endswith("%"):
        try:
            pct = Decimal(raw[:-1].strip())
        except ArithmeticError:
            pct = Decimal(-1)
        if not pct.is_finite() or pct < 0:
            raise FieldError("fail_on_increase", f"{text!r}: {_THRESHOLD}", sep=" ")
        return None, pct
    try:
        amount = parse_money(raw, "fail_on_increase")
    except UsageError:
        raise FieldError("fail_on_increase", f"{text!r}: {_THRESHOLD}", sep=" ") from None
    if amount < 0:
        raise FieldError("fail_on_increase", f"{text!r}: must not be negative", sep=" ")
    return amount, None


def _exact_pct(diff: Decimal, past: Decimal) -> Decimal | None:
    return diff / past * 100 if past else None


def _pct(diff: Decimal, past: Decimal) -> Decimal | None:
    """The change in percent, to a tenth (for people; limits compare the exact value)."""
    exact = _exact_pct(diff, past)
    return exact.quantize(Decimal("0.1")) if exact is not None else None


def _pct_over(exact: Decimal, limit: Decimal) -> Decimal:
    """``exact`` to a tenth, or to as many places as it takes to read as over ``limit``."""
    for places in range(1, 10):
        shown = exact.quantize(Decimal(1).scaleb(-places))
        if shown > limit:
            return shown
    return exact


def headline(diff: Decimal, past: Decimal) -> str:
    if diff == 0:
        return "monthly LLM cost will not change"
    pct = _pct(diff, past)
    shown = f" ({'+' if diff > 0 else ''}{pct}%)" if pct is not None else ""
    verb = "increase" if diff > 0 else "decrease"
    return f"monthly LLM cost will {verb} by {usd(abs(diff))}{shown}"


def diff(
    base: str,
    head: str,
    fail_on_increase: str | None = None,
    allow_missing_base: bool = False,
    table: PriceTable | None = None,
) -> DiffReport:
    """Monthly cost of ``head`` against ``base`` (each a config file or REF:PATH)."""
    from costcalc.prices import load_price_table

    table = table or load_price_table()
    limit_usd, limit_pct = parse_threshold(fail_on_increase) if fail_on_increase else (None, None)
    base_cfg = load_config(base, allow_missing_ref=allow_missing_base)
    head_cfg = load_config(head)
    # both sides priced on the same day, so the diff is the change, not a price update
    day = head_cfg.as_of or dt.date.today()
    past = monthly_costs(base_cfg.model_copy(update={"as_of": day}), table, base)
    now = monthly_costs(head_cfg.model_copy(update={"as_of": day}), table, head)
    before = {w.name: (w, c) for w, c in zip(base_cfg.workloads, past.workloads, strict=True)}
    after = {w.name: (w, c) for w, c in zip(head_cfg.workloads, now.workloads, strict=True)}
    rows = []
    for name in [*after, *(n for n in before if n not in after)]:
        old, new = before.get(name), after.get(name)
        old_cost = old[1].monthly_cost if old else None
        new_cost = new[1].monthly_cost if new else None
        change = (new_cost or Decimal(0)) - (old_cost or Decimal(0))
        if old is None:
            status: Literal["added", "removed", "changed", "unchanged"] = "added"
            changes = [f"new workload: {new[0].model} via {new[0].mode}"] if new else []
        elif new is None:
            status, changes = "removed", ["workload removed"]
        else:
            changes = _changes(old[0], new[0])
            status = "changed" if changes or change else "unchanged"
        rows.append(WorkloadDiff(name=name, status=status, past_monthly=old_cost, monthly=new_cost,
                                 diff=change, changes=changes))  # fmt: skip
    total_diff = now.total_monthly - past.total_monthly
    report = DiffReport(
        currency="USD",
        base=base,
        head=head,
        prices_as_of=day,
        past_total_monthly=past.total_monthly,
        total_monthly=now.total_monthly,
        diff_total_monthly=total_diff,
        diff_pct=_pct(total_diff, past.total_monthly),
        headline=headline(total_diff, past.total_monthly),
        workloads=rows,
        threshold=fail_on_increase,
    )
    if base_cfg.as_of != head_cfg.as_of:
        moved = (
            f"the price date moved from {base_cfg.as_of or 'today'} to {head_cfg.as_of or 'today'}"
        )
        try:
            own = monthly_costs(base_cfg, table, base).total_monthly
            was = f" (the base at its own date: {usd(own)} a month)"
        except CostcalcError:  # the base's date has no prices for one of its models
            was = ""
        report.notes.append(
            f"{moved}; both sides are priced on {day}, so the diff leaves out the price change{was}"
        )
    if limit_usd is not None and total_diff > limit_usd:
        report.failed = True
        report.failure = f"the increase of {usd(total_diff)} is over the allowed {usd(limit_usd)}"
    if limit_pct is not None and total_diff > 0:
        exact = _exact_pct(total_diff, past.total_monthly)
        if exact is None:
            report.failed = True
            report.failure = (
                f"monthly cost rises from nothing to {usd(now.total_monthly)}, which no "
                f"percentage limit allows (allowed: {limit_pct}%)"
            )
        elif exact > limit_pct:
            report.failed = True
            report.failure = (
                f"the increase of +{_pct_over(exact, limit_pct)}% is over the allowed {limit_pct}%"
            )
    return report


_COMPARED = (
    "model",
    "mode",
    "requests_per_day",
    "requests_per_month",
    "input_tokens",
    "output_tokens",
    "cached_share",
    "cache_write_share",
    "cache_ttl",
    "cancel",
    "source",
)


def _changes(old: ProjectWorkload, new: ProjectWorkload) -> list[str]:
    out = []
    for field_name in _COMPARED:
        a, b = getattr(old, field_name), getattr(new, field_name)
        if a != b:
            out.append(f"{field_name}: {_show(a)} -> {_show(b)}")
    return out


def _show(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, Decimal):
        return f"{value.normalize():,f}"
    if isinstance(value, BaseModel):  # the cancel profile: its given fields, compactly
        given = value.model_dump(exclude_defaults=True)
        return ", ".join(f"{k} {_show(v)}" for k, v in given.items()) or "none"
    return str(value)
