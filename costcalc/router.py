"""The routing layer: where a request comes from and how soon it is needed -> delivery mode.

A policy is an ordered list of rules; the first whose conditions all hold decides. A rule may
name several modes in order of preference: the first one the model sells is used (flex on
gpt-4o is not sold, so ``[flex, request]`` gives request). The default policy is the lesson's
(web UI -> stream, webhook or crontab -> batch) extended with deadlines: a deadline shorter
than the provider's batch window cannot wait for a batch.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from costcalc._version import PACKAGE_DIR
from costcalc.errors import (
    FieldError,
    UsageError,
    WorkloadError,
    path_argument,
    quoted,
    require_type,
)
from costcalc.money import MoneyOut
from costcalc.prices import PriceTable, require_table
from costcalc.units import MAX_DURATION_S, parse_duration
from costcalc.workload import SOURCES, DeliveryMode, Source, Workload
from costcalc.yamlfile import load_mapping, parse_yaml, validate

BATCH_WINDOW = "batch_window"
"""In a policy, a duration written ``batch_window`` means the provider's completion window."""


def _threshold(value: Any, field: str) -> Any:
    if value is None or value == BATCH_WINDOW:
        return value
    return parse_duration(value, field)  # FieldError -> reported with the rule's line


class When(BaseModel):
    """Conditions of a rule; all given must hold (none given: always)."""

    model_config = ConfigDict(extra="forbid")

    source: list[Source] | None = None
    """The request comes from one of these."""
    deadline: bool | None = None
    """True: the request has a deadline; false: it has none."""
    deadline_under: Decimal | Literal["batch_window"] | None = None
    """The deadline is shorter than this (24h, 90m or batch_window)."""
    deadline_at_least: Decimal | Literal["batch_window"] | None = None
    """The deadline is this long or longer."""

    @field_validator("source", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("deadline_under", "deadline_at_least", mode="before")
    @classmethod
    def _duration(cls, value: Any, info: ValidationInfo) -> Any:
        try:
            return _threshold(value, info.field_name or "deadline")
        except FieldError as exc:
            raise ValueError(f"{exc.message} (or batch_window)") from None


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    when: When = When()
    mode: list[DeliveryMode] = Field(min_length=1)
    """Modes in order of preference; the first the model sells is chosen."""
    why: str = ""

    @field_validator("mode", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: list[Rule] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> Policy:
        names = [r.name for r in self.rules]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"rule names must be unique: {', '.join(dupes)}")
        return self


def default_policy_text() -> str:
    return (PACKAGE_DIR / "policies" / "default.yaml").read_text("utf-8")


def default_policy() -> Policy:
    return Policy.model_validate(parse_yaml(default_policy_text(), "default policy"))


def load_policy(path: Path | str) -> Policy:
    path = path_argument(path, "path", "load_policy")
    data, text = load_mapping(path, "policy file")
    return validate(Policy, data, path, text, WorkloadError)


class Stake(BaseModel):
    """The money a route decides, for a given workload."""

    workload: str
    mode_cost: MoneyOut | None
    baseline: DeliveryMode
    baseline_cost: MoneyOut | None
    savings: MoneyOut | None
    cheapest_mode: DeliveryMode | None
    cheapest_cost: MoneyOut | None
    text: str


class Route(BaseModel):
    """What `costcalc route` answers."""

    mode: DeliveryMode
    rule: str
    why: str
    source: Source | None
    deadline_s: float | None
    model: str
    skipped: list[str] = []
    """Preferred modes the model does not sell, in the rule's order."""
    stake: Stake | None = None


def _seconds(value: Decimal | Literal["batch_window"], window: Decimal) -> Decimal:
    return window if value == BATCH_WINDOW else Decimal(value)


def _matches(when: When, source: str | None, deadline: Decimal | None, window: Decimal) -> bool:
    if when.source is not None and source not in when.source:
        return False
    if when.deadline is not None and when.deadline != (deadline is not None):
        return False
    if when.deadline_under is not None and (
        deadline is None or deadline >= _seconds(when.deadline_under, window)
    ):
        return False
    return when.deadline_at_least is None or (
        deadline is not None and deadline >= _seconds(when.deadline_at_least, window)
    )


def _check_arguments(
    source: object, deadline: object, model: object, policy: object, table: object
) -> None:
    """``route``'s arguments: a wrong type is a TypeError naming it, a bad value a costcalc
    error, refused as the command line and a ``Workload`` refuse it."""
    if source is not None:
        require_type(source, str, "source", "route", "a source name (str) or None")
        if source not in SOURCES:
            raise FieldError("source", f"unknown source {quoted(str(source))} (expected one of: "
                             f"{', '.join(SOURCES)})")  # fmt: skip
    if deadline is not None and not isinstance(deadline, str):
        what = "a duration such as '24h', seconds as a number, or None"
        require_type(deadline, (int, float, Decimal), "deadline", "route", what)
        seconds = Decimal(str(deadline))
        if not seconds.is_finite() or seconds <= 0:
            parse_duration(deadline)  # refused as the command line and a Workload refuse it
        if seconds > MAX_DURATION_S:
            parse_duration(f"{seconds}s")
    require_type(model, str, "model", "route", "a model name (str)")
    if policy is not None:
        require_type(policy, Policy, "policy", "route", "a costcalc policy or None")
    require_table(table, "route")


def route(
    source: Source | None = None,
    deadline: str | Decimal | None = None,
    model: str = "gpt-4o",
    policy: Policy | None = None,
    workload: Workload | None = None,
    table: PriceTable | None = None,
) -> Route:
    """The delivery mode for a request from ``source`` needed within ``deadline``.

    >>> route("cron").mode
    'batch'
    >>> route("webhook", deadline="2h").mode      # shorter than the 24 h batch window
    'request'
    """
    from costcalc.prices import load_price_table

    if workload is not None:
        require_type(workload, Workload, "workload", "route", "a costcalc.Workload or None")
    _check_arguments(source, deadline, model, policy, table)
    table = table or load_price_table()
    if workload is not None:
        model = workload.model
        source = source or workload.source
        if deadline is None and workload.deadline_s is not None:
            deadline = workload.deadline_s
    prices = table.prices(model, workload.as_of if workload is not None else None)
    seconds = parse_duration(deadline, "deadline") if isinstance(deadline, str) else deadline
    rule_batch = prices.provider.batch
    hours = rule_batch.completion_window_hours if rule_batch is not None else None
    # no documented window: the policy's batch_window is read as the usual 24 h
    window = hours * 3600 if hours is not None else Decimal(86400)
    policy = policy or default_policy()
    skipped: list[str] = []  # modes passed over, in this rule or in earlier matching rules
    for rule in policy.rules:
        if not _matches(rule.when, source, seconds, window):
            continue
        for mode in rule.mode:
            from costcalc.delivery import PRICE_MODE

            if prices.mode(PRICE_MODE[mode]).available:
                break
            skipped.append(f"{mode} ({prices.mode(PRICE_MODE[mode]).reason}; rule {rule.name})")
        else:
            continue  # the model sells none of this rule's modes: try the next rule
        result = Route(
            mode=mode,
            rule=rule.name,
            why=rule.why,
            source=source,
            deadline_s=float(seconds) if seconds is not None else None,
            model=prices.model.id,
            skipped=skipped,
        )
        if workload is not None:
            result.stake = _stake(result.mode, workload, table)
        return result
    raise UsageError(
        f"no rule of the policy matches source={source or 'none'}"
        f"{f', deadline {deadline}' if deadline is not None else ''}; add a last rule with "
        "no conditions"
    )


def _stake(mode: DeliveryMode, workload: Workload, table: PriceTable) -> Stake:
    from costcalc.calculator import quote
    from costcalc.money import usd

    modes = list(dict.fromkeys([*workload.modes, mode]))
    q = quote(workload.model_copy(update={"modes": modes}), table)
    chosen = q.mode(mode)
    base = q.mode(q.baseline)
    cheapest = q.cheapest
    text = f"{mode} costs {usd(chosen.cost or Decimal(0))}"
    if mode != q.baseline and chosen.savings is not None:
        verb = "saves" if chosen.savings >= 0 else "costs"
        text += f", which {verb} {usd(abs(chosen.savings))} against {q.baseline}"
    if cheapest.cost is not None and chosen.cost is not None and cheapest.cost < chosen.cost:
        text += (
            f"; {cheapest.mode} would cost {usd(cheapest.cost)} "
            f"({usd(chosen.cost - cheapest.cost)} less)"
        )
    return Stake(
        workload=workload.name,
        mode_cost=chosen.cost,
        baseline=q.baseline,
        baseline_cost=base.cost,
        savings=chosen.savings,
        cheapest_mode=cheapest.mode,
        cheapest_cost=cheapest.cost,
        text=text,
    )
