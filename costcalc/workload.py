"""What is being priced: a workload (model, requests, tokens, caching, cancels, timing needs).

A workload is built in Python, from command-line flags, or from a YAML file holding one
workload or several (``workloads: [...]``). Input tokens per request are a number or are
measured from a file with the token estimator (exactly, or from a sample).
"""

import os
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from costcalc.errors import (
    FieldError,
    InvalidWorkloadError,
    UsageError,
    WorkloadError,
    arg,
    require_type,
)
from costcalc.units import Count, Date, Duration, MoneyIn, Share

if TYPE_CHECKING:
    from typing_extensions import Self

    from costcalc.calculator import Quote

DeliveryMode = Literal["stream", "request", "batch", "flex", "priority", "fast"]
DELIVERY_MODES: tuple[DeliveryMode, ...] = ("stream", "request", "batch", "flex", "priority")
"""The modes a quote compares unless told otherwise."""
ALL_MODES: tuple[DeliveryMode, ...] = (*DELIVERY_MODES, "fast")
"""Every mode (``all``): fast mode, sold for a few models only, is asked for by name."""
Source = Literal["web-ui", "api", "webhook", "cron", "batch-job"]
SOURCES: tuple[Source, ...] = ("web-ui", "api", "webhook", "cron", "batch-job")

MAX_REQUESTS = 10**12
MAX_TOKENS_PER_REQUEST = 10**8

OUTPUT_TOKENS_REQUIRED = (
    "output_tokens is required (give 0 when nothing is generated, as for embeddings)"
)
"""Why a workload without an output size is refused: a quote never assumes one."""

DEFAULT_TOKENS_BILLED_AFTER_CANCEL = 50
"""Output tokens billed after a streamed request is cancelled.

No provider documents abort billing; reports (LiteLLM, gateway docs, community threads) say
the model keeps generating until the server notices the disconnect, so some output beyond
what the user saw is billed. 50 tokens is about half a second of generation at typical
speeds. Set it to 0 for the lesson's idealised claim (cancel after 5 tokens, pay for 5).
"""


def listed_twice(modes: Sequence[Any]) -> Any:
    """The first mode ``modes`` lists a second time, or None."""
    return next((m for i, m in enumerate(modes) if m in modes[:i]), None)


def _modes_field(value: Any) -> Any:
    # `modes: all` or `modes: stream,batch` in YAML, as on the command line
    if isinstance(value, str):
        try:
            return parse_modes(value)
        except FieldError as exc:  # pydantic names the field itself
            raise ValueError(exc.message) from None
    # each mode once: a quote has one row per mode
    if isinstance(value, list) and (twice := listed_twice(value)) is not None:
        raise ValueError(f"lists {twice!s} twice")
    return value


class CancelProfile(BaseModel):
    """How streamed requests are cut short by their users (the lesson's cancel claim).
    Read-only, as the rate limits are: a workload's parts are set whole, and checked."""

    model_config = ConfigDict(extra="forbid", defer_build=True, frozen=True)

    rate: Share = Decimal(0)
    """Share of streamed requests the user cancels."""
    after_tokens: Count | None = Field(default=None, ge=0, le=MAX_TOKENS_PER_REQUEST)
    """Output tokens the user has seen when cancelling (default: half the output)."""
    billed_after_cancel: Count = Field(
        default=DEFAULT_TOKENS_BILLED_AFTER_CANCEL, ge=0, le=MAX_TOKENS_PER_REQUEST
    )
    """Output tokens still generated and billed before the server notices the cancel."""


class RateLimitOverride(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True, frozen=True)

    requests_per_minute: Count | None = Field(default=None, gt=0)
    tokens_per_minute: Count | None = Field(default=None, gt=0)
    output_tokens_per_minute: Count | None = Field(default=None, gt=0)
    batch_queue_tokens: Count | None = Field(default=None, gt=0)
    batch_queue_requests: Count | None = Field(default=None, gt=0)


MAX_NAME_CHARS = 200
"""The longest workload name: a name is shown in every table and comment, so a megabyte of it
(from a file anyone may edit) is refused rather than printed again and again."""


def _path_text(value: Any) -> Any:
    """A path given as ``os.PathLike`` (``Path("a.jsonl")``) is its text, as elsewhere; bytes
    are refused, as by every other path argument (pydantic would decode them)."""
    path = os.fspath(value) if isinstance(value, os.PathLike) else value
    if isinstance(path, bytes):
        raise ValueError("expected a path (str or os.PathLike), got bytes")
    return path


class Workload(BaseModel):
    """A workload to price under every delivery mode.

    >>> Workload(model="gpt-4o", requests=1_000_000, input_tokens=800, output_tokens=200)
    """

    # a field set later is checked as the constructor checks it: requests = -5 would price
    # negative, modes = "stream,batch" fail deep inside the quote
    model_config = ConfigDict(extra="forbid", defer_build=True, validate_assignment=True)

    def __init__(self, **fields: Any) -> None:
        # built in Python: one costcalc error naming the fields, not pydantic's report (files
        # and options are read with model_validate, whose callers say where the value was)
        from pydantic import ValidationError

        try:
            super().__init__(**fields)
        except ValidationError as exc:
            raise _invalid_workload(exc) from None

    # pydantic's mark of its own __init__: model_validate keeps validating without this one,
    # so its callers still get the ValidationError they turn into their own messages
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    def __setattr__(self, name: str, value: Any) -> None:
        from pydantic import ValidationError

        before, given = dict(self.__dict__), set(self.model_fields_set)
        try:
            super().__setattr__(name, value)
        except ValidationError as exc:
            # pydantic has set the field when the checks across fields refuse it: put it back
            self.__dict__.update(before)
            self.model_fields_set.intersection_update(given)
            raise _invalid_workload(exc) from None

    def __delattr__(self, name: str) -> None:
        if name in type(self).model_fields:  # a quote of it would fail deep inside
            raise AttributeError(f"Workload.{name} cannot be deleted: set it to a value")
        super().__delattr__(name)

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> "Self":
        """A copy, with ``update``'s fields checked as the constructor checks them (pydantic's
        own takes them unchecked)."""
        if not update:
            return super().model_copy(deep=deep)
        given = {name: getattr(self, name) for name in self.model_fields_set}
        return type(self)(**{**given, **update})

    name: str = Field(default="workload", max_length=MAX_NAME_CHARS)
    model: str
    """Model id or alias from the price table."""
    requests: Count | None = Field(default=None, gt=0, le=MAX_REQUESTS)
    """Number of requests (taken from ``input_file`` when absent)."""
    input_tokens: Decimal | None = Field(
        default=None, ge=0, le=MAX_TOKENS_PER_REQUEST, allow_inf_nan=False
    )
    """Input tokens per request (measured from ``input_file`` when absent)."""
    input_file: Annotated[str | None, BeforeValidator(_path_text)] = None
    """A file of requests whose tokens are counted offline: one request per JSONL line, CSV
    row or non-blank line of text (as ``batch build`` reads them)."""
    input_column: str | None = None
    """CSV column of ``input_file`` holding the request text."""
    input_sample: Count | None = Field(default=None, gt=0)
    """Count a random sample of this many requests of ``input_file`` instead of all."""
    input_seed: Count | None = Field(default=None, ge=0)
    """Seed of the sample (printed in the quote, so the same sample can be drawn again)."""
    input_errors: Literal["strict", "replace"] = "strict"
    """Invalid UTF-8 in ``input_file``: stop with its line (strict) or count it replaced."""
    output_tokens: Decimal = Field(
        default=Decimal(0), ge=0, le=MAX_TOKENS_PER_REQUEST, allow_inf_nan=False
    )
    """Output tokens per request (reasoning tokens included). Required: give 0 for requests
    without output (embeddings); the default is only there to keep the field's type."""
    cached_share: Share = Decimal(0)
    """Share of input tokens read from the prompt cache."""
    cache_write_share: Share = Decimal(0)
    """Share of input tokens written to the prompt cache."""
    cache_ttl: Literal["5m", "1h"] = "5m"
    """Lifetime of cache writes (Anthropic bills 1.25x input for 5 minutes, 2x for 1 hour)."""
    cancel: CancelProfile = CancelProfile()
    """Streaming only: how many requests users cancel, and when."""
    source: Source | None = None
    """Where the requests come from (web-ui, api, webhook, cron, batch-job)."""
    deadline: Duration | None = None
    """The whole workload must be done within this (24h, 90m, 2 days)."""

    @property
    def deadline_s(self) -> Decimal | None:
        if self.deadline is None:
            return None
        return Decimal(self.deadline.days * 86400 + self.deadline.seconds) + Decimal(
            self.deadline.microseconds
        ) / Decimal(1_000_000)

    value_of_time: MoneyIn | None = None
    """USD that an hour of waiting for the results costs you."""
    tier: str | None = None
    """Rate-limit tier (tier-1, tier-4, ...); default: the price table's default tier."""
    rate_limits: RateLimitOverride = RateLimitOverride()
    """Your own limits, over the tier's."""
    rate_limited: bool = True
    """Whether rate limits and the batch queue bound the wall time (False: unlimited)."""
    concurrency: Count | None = Field(default=None, gt=0)
    """Most requests in flight at once for the synchronous modes (default: unbounded)."""
    modes: Annotated[list[DeliveryMode], BeforeValidator(_modes_field)] = list(DELIVERY_MODES)
    """Delivery modes to compare."""
    baseline: DeliveryMode = "request"
    """Savings are measured against this mode (default: request, or when request is not
    compared or the model lacks it, the first mode compared that the model has: the quote's
    ``baseline`` says which)."""
    batch_wait: Literal["worst", "typical"] = "worst"
    """Batch wait used for deadlines, value of time and break-even: the completion window
    (worst, the default: "up to 24 h") or the provider's typical turnaround."""
    as_of: Date | None = None
    """Price date: YYYY-MM-DD or ``today`` (the default)."""

    @model_validator(mode="after")
    def _consistent(self) -> "Workload":
        if self.input_file is None:
            if self.requests is None:
                raise ValueError("requests is required (or give input_file to count them)")
            if self.input_tokens is None:
                raise ValueError("input_tokens is required (or give input_file to measure it)")
        if "output_tokens" not in self.model_fields_set:
            # no file holds it, and 0 priced quietly hid the larger half of most bills
            raise ValueError(OUTPUT_TOKENS_REQUIRED)
        if self.input_file is None:
            if self.input_tokens == 0 and self.output_tokens == 0:
                raise ValueError("input_tokens and output_tokens are both zero: nothing to price")
        elif self.input_tokens is not None:
            raise ValueError("give input_tokens or input_file, not both")
        if self.input_file is None:
            given = [
                f
                for f in ("input_column", "input_sample", "input_seed")
                if getattr(self, f) is not None
            ]
            if given:
                raise ValueError(f"{given[0]} applies to input_file, which is not given")
        if self.cached_share + self.cache_write_share > 1:
            raise ValueError("cached_share + cache_write_share must be at most 1")
        if not self.modes:
            raise ValueError("modes must name at least one delivery mode")
        if self.baseline not in self.modes and "baseline" not in self.model_fields_set:
            # request is the default baseline; without it, the first mode compared is (set in
            # place: an assignment would validate again, and again)
            self.__dict__["baseline"] = self.modes[0]
            self.model_fields_set.discard("baseline")  # still the default, for overrides
        if self.baseline not in self.modes:
            raise UsageError(
                f"baseline {self.baseline!r} is not one of the modes compared; add it to the "
                f"modes or choose another {arg('baseline', both=True)}"
            )
        return self


def _invalid_workload(exc: Any) -> InvalidWorkloadError:
    """The costcalc error for pydantic's errors about a Workload: one line, each field named."""
    from costcalc.errors import describe_error, field_path

    parts, fields = [], []
    for err in exc.errors():
        loc = tuple(err["loc"])
        message = describe_error(err, Workload)
        if loc:
            fields.append(field_path(loc))
            parts.append(f"{arg(field_path(loc))}: {message}")
        else:  # the fields disagree: name those the message names
            parts.append(message)
            fields += [f for f in Workload.model_fields if re.search(rf"\b{f}\b", message)]
    return InvalidWorkloadError("Workload: " + "; ".join(parts), fields)


def baseline_note(w: Workload, q: "Quote") -> str | None:
    """What to tell of the baseline of ``q``, the quote of ``w``, when none was given and it is
    not request: savings are measured against the first mode compared that the model has
    instead. None otherwise."""
    if q.baseline == "request" or "baseline" in w.model_fields_set:
        return None
    first = "the first mode compared"
    if q.baseline != w.modes[0]:
        first += f" that {q.model} has"
    why = "the modes leave out request"
    if "request" in w.modes:
        why = f"request is not available for {q.model}"
    return (
        f"savings are measured against {q.baseline}, {first}: {why} "
        f"(choose another with {arg('baseline')})"
    )


def parse_modes(text: str) -> list[DeliveryMode]:
    """``stream,request,batch`` -> list of modes (``all`` for every mode); an unknown mode is a
    ``FieldError`` naming ``modes``, the field the text is for."""
    require_type(text, str, "text", "parse_modes", "a str")
    if text.strip().lower() == "all":
        return list(ALL_MODES)
    modes: list[DeliveryMode] = []
    for part in text.split(","):
        name = part.strip().lower()
        if name == "all":
            raise FieldError("modes", f"{text.strip()!r}: all names every mode, so it stands alone")
        if name not in ALL_MODES:
            raise FieldError(
                "modes", f"unknown mode {part.strip()!r}: expected {', '.join(ALL_MODES)} or all"
            )
        if name in modes:
            raise FieldError("modes", f"{text.strip()!r} lists {name} twice")
        modes.append(name)
    return modes


def _nest(flat: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in flat.items():
        head, _, rest = key.partition(".")
        if rest:
            out.setdefault(head, {})[rest] = value
        else:
            out[key] = value
    return out


def workload_from_options(options: dict[str, Any], base: Workload | None = None) -> Workload:
    """A workload from option values keyed by field (``cancel.rate`` inside ``cancel``), over
    ``base`` if given; values that are None are not given.

    Errors name the field (``cancel.rate: must be <= 1``; ``costcalc quote`` writes it as its
    flag, ``--cancel-rate: must be <= 1``).
    """
    from pydantic import ValidationError

    from costcalc.errors import FieldError, describe_error

    require_type(options, Mapping, "options", "workload_from_options", "a dict")
    if base is not None:
        require_type(base, Workload, "base", "workload_from_options", "a costcalc.Workload or None")

    given = {k: v for k, v in options.items() if v is not None}
    data = base.model_dump(exclude_unset=True) if base is not None else {}
    # an option for input tokens replaces the file's way of giving them, not adds to it
    if "input_tokens" in given:
        for key in ("input_file", "input_column", "input_sample", "input_seed"):
            data.pop(key, None)
    if "input_file" in given:
        data.pop("input_tokens", None)
        if "input_column" not in given:
            data.pop("input_column", None)
    for key, value in _nest(given).items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    try:
        return Workload.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        loc = ".".join(str(p) for p in first["loc"] if not isinstance(p, int))
        message = describe_error(first, Workload)
        if loc:
            raise FieldError(loc, message) from None
        if base is None:  # all from options: the fields it names are options too
            message = re.sub(
                r"\b(input_sample|input_seed|input_column|input_file|input_tokens|output_tokens"
                r"|requests)\b",
                lambda m: arg(m.group(1)),
                message,
            )
        raise UsageError(f"{base.name if base is not None else 'workload'}: {message}") from None


def load_workloads(path: Path | str) -> list[Workload]:
    """Workloads from a YAML file: one workload mapping, or ``workloads: [...]``.

    ``input_file`` paths are relative to the YAML file.
    """
    from costcalc.errors import path_argument
    from costcalc.yamlfile import line_of, load_mapping, validate

    path = path_argument(path, "path", "load_workloads")
    data, text = load_mapping(path, "workload file")
    many = "workloads" in data
    if many:
        extra = [key for key in data if key != "workloads"]
        if extra:
            raise WorkloadError(
                path,
                f"{extra[0]}: unknown key (expected only 'workloads')",
                line_of(text, (extra[0],)),
            )
        items = data["workloads"]
        if not isinstance(items, list) or not items:
            raise WorkloadError(
                path, "workloads: expected a list of workloads", line_of(text, ("workloads",))
            )
    else:
        items = [data]
    base = Path(path).parent
    out = []
    names: set[str] = set()
    for i, item in enumerate(items):
        prefix: tuple[int | str, ...] = ("workloads", i) if many else ()
        if isinstance(item, dict) and "name" not in item:
            item = {**item, "name": f"workload {i + 1}" if many else Path(path).stem}
        workload = validate(Workload, item, path, text, WorkloadError, prefix)
        if workload.input_file is not None and not Path(workload.input_file).is_absolute():
            workload = workload.model_copy(update={"input_file": str(base / workload.input_file)})
        if workload.name in names:
            raise WorkloadError(
                path, f"two workloads are named {workload.name!r}", line_of(text, prefix)
            )
        names.add(workload.name)
        out.append(workload)
    return out
