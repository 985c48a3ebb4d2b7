"""Budget checks for CI: ``check`` a project config, ``diff`` two versions of it.

A project config (``costcalc.yaml``) lists the workloads a project runs, each with a volume
per day or per month and the delivery mode it runs in today, and the budgets: a total monthly
budget, per-workload budgets, the largest allowed increase against a base, and policies. The
built-in "batch-eligible" policy fails a workload that nobody waits for (a deadline at least
the batch window; without a deadline, source cron, webhook or batch-job) when it is not
batched and batching would save more than a set amount a month: at scale, batching is a
fiduciary requirement, not an optimisation.

A month is ``days_per_month`` days (30 unless the config says otherwise), so every monthly
figure is requests per day x 30 x the per-request cost, and can be checked by hand.
"""

from __future__ import annotations

import collections
import datetime as dt
import math
import os
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from costcalc.budget_changes import config_changes, workload_changes
from costcalc.errors import (
    CostcalcError,
    FieldError,
    InputFileError,
    UnknownModelError,
    UsageError,
    WorkloadError,
    field_path,
    path_argument,
    require_type,
)
from costcalc.gcpause import paused_gc
from costcalc.gitread import read_config_text
from costcalc.money import MoneyOut, usd
from costcalc.prices import PriceTable, require_table
from costcalc.units import Date, Duration, MoneyIn, Share, Threshold, given_threshold
from costcalc.workload import (
    MAX_NAME_CHARS,
    MAX_REQUESTS,
    MAX_TOKENS_PER_REQUEST,
    CancelProfile,
    DeliveryMode,
    Source,
    Workload,
)
from costcalc.yamlfile import line_of, parse_yaml, validate

if TYPE_CHECKING:
    from collections.abc import Mapping

    from typing_extensions import Self

DEFAULT_CONFIG = "costcalc.yaml"
MARKER = "<!-- costcalc-diff -->"
"""Hidden marker in the markdown, so a CI step can find and update its own comment."""
GITHUB_COMMENT_LIMIT = 65536
BATCH_SOURCES = ("cron", "webhook", "batch-job")


class ReadOnly(BaseModel):
    """A part of a loaded config: read-only (a workload changed in place escaped every check:
    -1,000 requests a month priced negative), changed by ``model_copy(update=...)``, which
    checks the update as loading the file does (pydantic's own takes it unchecked)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        if not update:
            return super().model_copy(deep=deep)
        given = {name: getattr(self, name) for name in self.model_fields_set}
        return type(self).model_validate({**given, **update})


class BatchEligiblePolicy(ReadOnly):
    enabled: bool = True
    min_monthly_saving: MoneyIn = Decimal(0)
    """Fail only when batching would save more than this a month (USD)."""


class Policies(ReadOnly):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    batch_eligible: BatchEligiblePolicy = Field(
        default_factory=BatchEligiblePolicy, alias="batch-eligible"
    )


class Budgets(ReadOnly):
    monthly: MoneyIn | None = None
    """Total monthly budget of all workloads (USD)."""
    max_increase: MoneyIn | None = None
    """Largest allowed increase of the monthly total against the base (USD)."""
    max_increase_pct: Decimal | None = Field(default=None, ge=0, allow_inf_nan=False)
    """Largest allowed increase against the base, in percent."""
    # warning levels: reported (a PR comment, an annotation) without failing the check
    warn_monthly: MoneyIn | None = None
    """Warn when the monthly total is over this (USD)."""
    warn_increase: MoneyIn | None = None
    """Warn when the monthly total rises against the base by more than this (USD)."""
    warn_increase_pct: Decimal | None = Field(default=None, ge=0, allow_inf_nan=False)
    """Warn when the monthly total rises against the base by more than this, in percent."""


class ProjectWorkload(ReadOnly):
    """One workload of the project, as it runs today."""

    name: str = Field(min_length=1, max_length=MAX_NAME_CHARS)
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
    warn_budget: MoneyIn | None = None
    """Warn (without failing) when this workload costs more than this a month (USD)."""

    @model_validator(mode="after")
    def _volume(self) -> ProjectWorkload:
        if (self.requests_per_day is None) == (self.requests_per_month is None):
            raise ValueError("give requests_per_day or requests_per_month (one of them)")
        if self.cached_share + self.cache_write_share > 1:
            raise ValueError("cached_share + cache_write_share must be at most 1")
        if self.input_tokens == 0 and self.output_tokens == 0:
            raise ValueError("input_tokens and output_tokens are both zero: nothing to price")
        return self


class ProjectConfig(ReadOnly):
    """``costcalc.yaml``."""

    currency: str = "USD"
    as_of: Date | None = None
    """Price date: YYYY-MM-DD or ``today`` (the default)."""
    days_per_month: int = Field(default=30, ge=28, le=31)
    budgets: Budgets = Budgets()
    policies: Policies = Policies()
    workloads: tuple[ProjectWorkload, ...] = ()
    _text: str | None = PrivateAttr(default=None)
    """The YAML it was read from (``load_config``): what finds a field's line."""
    _spec: str | None = PrivateAttr(default=None)
    """The path ``load_config`` was given: what a check of it names."""

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """``ReadOnly.model_copy``, keeping the YAML its lines are found in and its path."""
        copy = super().model_copy(update=update, deep=deep)
        copy._text, copy._spec = self._text, self._spec
        return copy

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
        counts = collections.Counter(w.name for w in self.workloads)  # linear: 20,000 fit
        dupes = sorted(n for n, k in counts.items() if k > 1)
        if dupes:
            raise ValueError(f"workload names must be unique: {', '.join(dupes)}")
        return self


def load_config(spec: str = DEFAULT_CONFIG, allow_missing_ref: bool = False) -> ProjectConfig:
    """The config at ``spec``: a file, or ``REF:PATH`` in git."""
    spec = path_argument(spec, "spec", "load_config")
    read = read_config_text(spec, allow_missing_ref)
    if read is None:
        return ProjectConfig()  # a REF:PATH not in that ref: nothing was loaded
    text, where = read
    with paused_gc():  # thousands of workloads: no full collection every few hundred
        data = parse_yaml(text, where)
        if data is None:
            raise InputFileError(where, "is empty, expected a costcalc config")
        if not isinstance(data, dict):
            raise InputFileError(where, "expected a mapping at the top level", line=1)
        _unique_names(data.get("workloads"), where, text)
        config = validate(ProjectConfig, data, where, text, WorkloadError)
        config._text, config._spec = text, spec
        return config


def _unique_names(workloads: Any, where: str, text: str) -> None:
    """A second workload of one name, at its ``name:`` line (``ProjectConfig`` checks it too,
    for configs built in Python, but knows no line)."""
    first: dict[str, int] = {}
    for i, w in enumerate(workloads if isinstance(workloads, list) else []):
        name = w.get("name") if isinstance(w, dict) else None
        if isinstance(name, str) and first.setdefault(name, i) != i:
            line = line_of(text, ("workloads", i, "name"))
            message = f"workload names must be unique: {name!r} is also workloads[{first[name]}]"
            raise WorkloadError(where, f"workloads[{i}].name: {message}", line=line)


# --- monthly cost ---------------------------------------------------------------------------


class WorkloadCost(BaseModel):
    name: str
    model: str
    mode: DeliveryMode
    source: Source | None
    monthly_requests: Decimal
    monthly_cost: MoneyOut
    budget: MoneyOut | None
    warn_budget: MoneyOut | None = None
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
    with paused_gc():  # a quote per workload: no full collection every few hundred
        for i, w in enumerate(config.workloads):
            try:
                out.append(_workload_cost(config, w, table))
            except CostcalcError as exc:
                raise _workload_failure(exc, config, i, where) from None
    return Costs(
        currency="USD",
        prices_as_of=config.as_of or dt.date.today(),
        days_per_month=config.days_per_month,
        total_monthly=sum((c.monthly_cost for c in out), Decimal(0)),
        workloads=out,
    )


def _workload_failure(
    exc: CostcalcError, config: ProjectConfig, i: int, where: str | None
) -> UsageError:
    """The error of workload ``i``, at the line and field it is about when that is known: a
    model no price table knows, a mode its model is not sold in, an ``as_of`` without
    prices (``where``: the config it came from)."""
    loc: tuple[int | str, ...] | None = None
    if isinstance(exc, UnknownModelError):
        loc, message = ("workloads", i, "model"), exc.marked
    elif isinstance(exc, FieldError) and exc.field == "mode":
        loc, message = ("workloads", i, "mode"), exc.message
    elif isinstance(exc, FieldError) and exc.field == "as_of" and config.as_of is not None:
        loc, message = ("as_of",), f"{exc.message} (workloads[{i}].model)"
    if loc is not None and where and config._text is not None:
        return UsageError(f"{where}:{line_of(config._text, loc)}: {field_path(loc)}: {message}")
    prefix = f"{where}: " if where else ""
    return UsageError(f"{prefix}workload {config.workloads[i].name!r}: {exc.marked}")


def _workload_cost(config: ProjectConfig, w: ProjectWorkload, table: PriceTable) -> WorkloadCost:
    from costcalc.calculator import quote
    from costcalc.delivery import PRICE_MODE

    day = config.as_of or dt.date.today()
    monthly = w.requests_per_month or (w.requests_per_day or Decimal(0)) * config.days_per_month
    try:  # resolved once per model and day, for the quote too
        priced = table.priced(w.model, day)
    except UsageError as exc:
        table.find(w.model)  # raises again when the model, not the day, is the cause
        raise FieldError("as_of", str(exc)) from None  # no prices that day
    prices = priced.prices
    sold = priced.mode(PRICE_MODE[w.mode], math.ceil(w.input_tokens))
    if not sold.available:
        raise FieldError("mode", f"runs in {w.mode}, but {sold.reason}")
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
        raise FieldError("mode", f"runs in {w.mode}, but {current.reason}")
    batch = q.mode("batch")
    cost = current.cost * monthly
    batch_cost = batch.cost * monthly if batch.available and batch.cost is not None else None
    rule = prices.provider.batch
    window = rule.completion_window_hours if rule is not None else None
    # a deadline says how long it can wait, whatever the source (as route decides)
    eligible = (w.source in BATCH_SOURCES) if w.deadline is None else (
        window is not None and w.deadline.total_seconds() >= float(window) * 3600
    )  # fmt: skip
    return WorkloadCost(
        name=w.name,
        model=table.name_of(w.model),  # PROVIDER:MODEL where the bare id is another seller's
        mode=w.mode,
        source=w.source,
        monthly_requests=monthly,
        monthly_cost=cost,
        budget=w.budget,
        warn_budget=w.warn_budget,
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
    """A budget, limit or policy that does not hold (``level`` error), or a warning level
    that is passed (``level`` warning: reported, never failing)."""

    kind: FailureKind
    level: Literal["error", "warning"] = "error"
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
    warnings: list[Failure] = []
    """Warning levels passed (``warn_monthly``, ``warn_budget``, ``warn_increase(_pct)``)."""

    @property
    def failed(self) -> bool:
        """``not passed``: a budget, limit or policy does not hold (as ``DiffReport.failed``)."""
        return not self.passed


ZERO_BASE_NOTE = (
    "percentage limits not checked: the base costs nothing, so a rise has no percentage"
)
NO_BASE_NOTE = "increase limits not checked: no base given (--base REF:PATH)"


def check(
    config: ProjectConfig | str | os.PathLike[str],
    where: str | os.PathLike[str] | None = None,
    base: ProjectConfig | None = None,
    table: PriceTable | None = None,
    *,
    no_base_note: str = NO_BASE_NOTE,
) -> CheckReport:
    """Every budget, warning level and policy of ``config`` (a ``ProjectConfig``, or the path
    of one, str or os.PathLike, or REF:PATH); increase limits against ``base`` when given
    (without one, ``no_base_note`` says they were not checked). ``where`` names the config in
    the report (``.config``): default the path it was loaded from."""
    what = "a costcalc.ProjectConfig (from costcalc.load_config)"
    if isinstance(config, (str, os.PathLike)):
        config = load_config(path_argument(config, "config", "check_budgets"))
    require_type(config, ProjectConfig, "config", "check_budgets", f"{what} or a path")
    where = path_argument(where, "where", "check_budgets") if where is not None else None
    where = where or config._spec or DEFAULT_CONFIG
    if base is not None:
        require_type(base, ProjectConfig, "base", "check_budgets", f"{what} or None")
    require_table(table, "check_budgets")
    costs = monthly_costs(config, table, where)
    failures: list[Failure] = []
    warnings: list[Failure] = []
    Level = Literal["error", "warning"]

    def add(
        level: Level, kind: FailureKind, name: str | None, figure: Decimal, limit: Decimal,
        msg: str,
    ) -> None:  # fmt: skip
        unit: Literal["USD", "percent"] = "percent" if kind == "increase-pct" else "USD"
        found = Failure(kind=kind, level=level, workload=name, figure=figure, limit=limit,
                        unit=unit, message=msg)  # fmt: skip
        (failures if level == "error" else warnings).append(found)

    def over(level: Level) -> str:
        return "the allowed " if level == "error" else "the warning level of "

    b = config.budgets
    total = costs.total_monthly
    levels: tuple[tuple[Level, Decimal | None], ...] = (
        ("error", b.monthly), ("warning", b.warn_monthly)
    )  # fmt: skip
    for level, budget in levels:
        if budget is not None and total > budget:
            word = "budget" if level == "error" else "warning level"
            add(level, "total-budget", None, total, budget,
                f"monthly total {usd(total)} is over the {word} of {usd(budget)}")  # fmt: skip
    for w in costs.workloads:
        for level, budget in (("error", w.budget), ("warning", w.warn_budget)):
            if budget is not None and w.monthly_cost > budget:
                word = "budget" if level == "error" else "warning level"
                over_it = f"{usd(w.monthly_cost)} a month is over its {word} of {usd(budget)}"
                add(level, "workload-budget", w.name, w.monthly_cost, budget,
                    f"{w.name}: {over_it}")  # fmt: skip
    policy = config.policies.batch_eligible
    for w in costs.workloads if policy.enabled else []:
        saving = w.batch_saving
        if w.batch_eligible and w.mode != "batch" and saving and saving > policy.min_monthly_saving:
            why = f"from {w.source}" if w.source in BATCH_SOURCES else "with a deadline batch meets"
            add("error", "batch-eligible", w.name, saving, policy.min_monthly_saving,
                f"{w.name}: runs as {w.mode} {why}; the Batch API would save {usd(saving)} a "
                f"month (allowed: {usd(policy.min_monthly_saving)})")  # fmt: skip
    notes = []
    past = None
    limits: tuple[tuple[Level, Decimal | None, Decimal | None], ...] = (
        ("error", b.max_increase, b.max_increase_pct),
        ("warning", b.warn_increase, b.warn_increase_pct),
    )
    if base is not None:
        past = monthly_costs(
            base.model_copy(update={"as_of": costs.prices_as_of}), table, "the base config"
        )
        increase = total - past.total_monthly
        exact = _exact_pct(increase, past.total_monthly)
        for level, amount, pct in limits:
            if amount is not None and increase > amount:
                rise = f"monthly total rises by {usd(increase)}"
                add(level, "increase", None, increase, amount,
                    f"{rise}, over {over(level)}{usd(amount)}")  # fmt: skip
            if pct is not None and increase > 0 and exact is not None and exact > pct:
                rise = f"monthly total rises by {_pct_over(exact, pct)}%"
                add(level, "increase-pct", None, exact, pct,
                    f"{rise}, over {over(level)}{pct}%")  # fmt: skip
            elif pct is not None and increase > 0 and exact is None:
                notes += [] if ZERO_BASE_NOTE in notes else [ZERO_BASE_NOTE]
    elif any(amount is not None or pct is not None for _, amount, pct in limits):
        notes.append(no_base_note)
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
        warnings=warnings,
    )


# --- diff -------------------------------------------------------------------------------------


class WorkloadDiff(BaseModel):
    name: str
    status: Literal["added", "removed", "changed", "unchanged", "checked"]
    """``checked``: the gate's row of a workload checked without a base (no past, diff 0)."""
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
    config_changes: list[str] = []
    """What changed outside the workloads (budgets, policies), as ``budgets.monthly: a -> b``."""
    notes: list[str] = []
    """What a reader should know, such as a price date that moved (both sides are priced on
    the head's date, so the diff shows the change of workloads, not of prices)."""

    @property
    def passed(self) -> bool:
        """``not failed``: the increase is within the limit (as ``CheckReport.passed``)."""
        return not self.failed


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
    base: str | os.PathLike[str],
    head: str | os.PathLike[str],
    fail_on_increase: Threshold | None = None,
    allow_missing_base: bool = False,
    table: PriceTable | None = None,
) -> DiffReport:
    """Monthly cost of ``head`` against ``base`` (each a config file, str or os.PathLike, or
    REF:PATH); ``fail_on_increase``: ``"10%"``, ``"500"`` or a number of dollars."""
    base = path_argument(base, "base", "diff_budgets")
    head = path_argument(head, "head", "diff_budgets")
    require_table(table, "diff_budgets")
    given = given_threshold(fail_on_increase)
    limits = given or (None, None)
    base_read = read_config_text(base, allow_missing_ref=allow_missing_base)
    base_cfg = load_config(base) if base_read is not None else None
    report = diff_configs(base_cfg, load_config(head), base, head, table, limits)
    report.threshold = str(fail_on_increase) if given else None
    return report


@paused_gc()  # both configs' rows: no full collection every few hundred
def diff_configs(
    base_cfg: ProjectConfig | None,
    head_cfg: ProjectConfig,
    base: str,
    head: str,
    table: PriceTable | None = None,
    limits: tuple[Decimal | None, Decimal | None] = (None, None),
) -> DiffReport:
    """``diff`` of two loaded configs (``base_cfg`` None: the config is new); ``limits`` the
    largest allowed increase in USD and in percent. ``base`` and ``head`` name them."""
    from costcalc.prices import load_price_table

    table = table or load_price_table()
    limit_usd, limit_pct = limits
    new = base_cfg is None
    base_cfg = base_cfg or ProjectConfig()
    # both sides priced on the same day, so the diff is the change, not a price update
    day = head_cfg.as_of or dt.date.today()
    now = monthly_costs(head_cfg.model_copy(update={"as_of": day}), table, head)  # its date first
    past = monthly_costs(base_cfg.model_copy(update={"as_of": day}), table, base)
    before = {w.name: (w, c) for w, c in zip(base_cfg.workloads, past.workloads, strict=True)}
    after = {w.name: (w, c) for w, c in zip(head_cfg.workloads, now.workloads, strict=True)}
    rows = []
    for name in [*after, *(n for n in before if n not in after)]:
        old, new_w = before.get(name), after.get(name)
        old_cost = old[1].monthly_cost if old else None
        new_cost = new_w[1].monthly_cost if new_w else None
        change = (new_cost or Decimal(0)) - (old_cost or Decimal(0))
        if old is None:
            status: Literal["added", "removed", "changed", "unchanged"] = "added"
            changes = [f"new workload: {new_w[0].model} via {new_w[0].mode}"] if new_w else []
        elif new_w is None:
            status, changes = "removed", ["workload removed"]
        else:
            changes = workload_changes(old[0], new_w[0])
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
        config_changes=[] if new else config_changes(base_cfg, head_cfg),
    )
    if new:
        report.notes.append(NEW_NOTE)
    elif base_cfg.as_of != head_cfg.as_of:
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
    if limit_usd is not None and total_diff > limit_usd and not new:
        report.failed = True
        report.failure = f"the increase of {usd(total_diff)} is over the allowed {usd(limit_usd)}"
    exact = _exact_pct(total_diff, past.total_monthly)
    if limit_pct is not None and total_diff > 0 and not new:
        if exact is None:
            report.notes.append(ZERO_BASE_NOTE)
        elif exact > limit_pct:
            report.failed = True
            report.failure = (
                f"the increase of +{_pct_over(exact, limit_pct)}% is over the allowed {limit_pct}%"
            )
    return report


NEW_NOTE = "new: no base to compare (the config is not in the base), so increase limits pass"
