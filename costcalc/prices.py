"""The price table: strict models of ``pricing/<provider>.yaml``, a loader, and lookups.

Every model entry is dated (``as_of``: when its prices were last checked against ``source``)
and may carry several price periods (o3 was cut on 2025-06-10); lookups take a date.
Prices are USD per 1M tokens, as ``Decimal`` from the YAML text.

Delivery-mode prices are resolved here, in one place: a price written in the table for a
mode is ``published``; one derived from the provider's rule (Batch API = 50% of standard)
is ``assumed`` and says so wherever it is shown.
"""

import datetime as dt
import difflib
import functools
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, model_validator

from costcalc._version import PACKAGE_DIR
from costcalc.errors import CostcalcError, PriceTableError, UnknownModelError, UsageError
from costcalc.money import Money

PRICES_ENV = "COSTCALC_PRICES"
"""Environment variable: extra price files, separated by the OS path separator (``:``)."""

Component = Literal["input", "cached_input", "cache_write_5m", "cache_write_1h", "output"]
COMPONENTS: tuple[Component, ...] = (
    "input",
    "cached_input",
    "cache_write_5m",
    "cache_write_1h",
    "output",
)
COMPONENT_LABELS: dict[str, str] = {
    "input": "input",
    "cached_input": "cached input (cache read)",
    "cache_write_5m": "cache write, 5 minutes",
    "cache_write_1h": "cache write, 1 hour",
    "output": "output",
}
Mode = Literal["standard", "batch", "flex", "priority"]
PRICE_MODES: tuple[Mode, ...] = ("standard", "batch", "flex", "priority")
Encoding = Literal["o200k_base", "cl100k_base"]
Basis = Literal["published", "assumed"]

_ID_PATTERN = r"^[a-z0-9][a-z0-9._:@/-]*$"


class Strict(BaseModel):
    # Attribute docstrings document the fields; they go into the JSON Schema through
    # price_schema() rather than use_attribute_docstrings, which re-reads this file's source
    # for every class at import time (most of costcalc's start-up).
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class ComponentPrices(Strict):
    """Prices per 1M tokens for some or all billing components (absent: not sold, or derived)."""

    input: Money | None = None
    """Input (prompt) tokens that are not read from or written to a cache."""
    cached_input: Money | None = None
    """Input tokens read from the prompt cache (cache hits)."""
    cache_write_5m: Money | None = None
    """Input tokens written to a 5-minute prompt cache (Anthropic: 1.25x input)."""
    cache_write_1h: Money | None = None
    """Input tokens written to a 1-hour prompt cache (Anthropic: 2x input)."""
    output: Money | None = None
    """Output (completion) tokens, reasoning tokens included."""

    def given(self) -> dict[str, Decimal]:
        return {c: v for c in COMPONENTS if (v := getattr(self, c)) is not None}


class StandardPrices(ComponentPrices):
    """Standard (request/response and streaming) prices: input and output are required."""

    input: Money
    output: Money


class ContextTier(Strict):
    """Prices that apply to a whole request once its input exceeds a threshold (long context)."""

    above_input_tokens: int = Field(gt=0)
    """The tier applies when a request's input tokens exceed this number."""
    standard: StandardPrices
    batch: ComponentPrices | None = None
    flex: ComponentPrices | None = None
    priority: ComponentPrices | None = None


class PricePeriod(Strict):
    """The prices of a model from one date on."""

    effective_from: dt.date | None = None
    """First day these prices apply; absent on the first period (since release)."""
    as_of: dt.date
    """When these prices were last checked against ``source``."""
    source: str = Field(min_length=8, pattern=r"^https?://")
    """Where the prices can be checked (a URL)."""
    note: str | None = None
    standard: StandardPrices
    batch: ComponentPrices | None = None
    """Published Batch API prices; components absent here follow the provider's batch rule."""
    flex: ComponentPrices | None = None
    """Flex processing prices; absent means the model has no flex tier."""
    priority: ComponentPrices | None = None
    """Priority processing prices; absent means the model has no priority tier."""
    tiers: list[ContextTier] = []
    """Long-context tiers, in increasing ``above_input_tokens``."""

    @model_validator(mode="after")
    def _tiers_increase(self) -> "PricePeriod":
        bounds = [t.above_input_tokens for t in self.tiers]
        if bounds != sorted(set(bounds)):
            raise ValueError("tiers must have strictly increasing above_input_tokens")
        return self


class Speed(Strict):
    """Latency and throughput of one request (estimates: they change; keep them dated)."""

    time_to_first_token_s: Decimal = Field(gt=0, allow_inf_nan=False)
    output_tokens_per_s: Decimal = Field(gt=0, allow_inf_nan=False)
    as_of: dt.date
    source: str = Field(min_length=8, pattern=r"^https?://")


class RateLimit(Strict):
    """Rate limits of one usage tier (per organisation and model)."""

    requests_per_minute: int = Field(gt=0)
    tokens_per_minute: int = Field(gt=0)
    """Tokens per minute for the synchronous modes: input plus output, or input only when
    ``output_tokens_per_minute`` is given (Anthropic limits the two apart)."""
    output_tokens_per_minute: int | None = Field(default=None, gt=0)
    batch_queue_tokens: int | None = Field(default=None, gt=0)
    """Most input tokens enqueued in batches at once (OpenAI, Gemini); absent: not known."""
    batch_queue_requests: int | None = Field(default=None, gt=0)
    """Most batch requests waiting at once (Anthropic); absent: not known."""


class RateLimits(Strict):
    """Rate limits by usage tier, with the tier assumed when a workload names none."""

    default_tier: str
    tiers: dict[str, RateLimit]
    cache_reads_count: bool = True
    """Whether input tokens read from the prompt cache count against tokens per minute
    (Anthropic: not for current models, so caching raises throughput)."""
    as_of: dt.date
    source: str = Field(min_length=8, pattern=r"^https?://")

    @model_validator(mode="after")
    def _default_known(self) -> "RateLimits":
        if self.default_tier not in self.tiers:
            raise ValueError(f"default_tier {self.default_tier!r} is not one of the tiers")
        return self


class Snapshot(Strict):
    """A dated model snapshot that resolves to this model's prices."""

    id: str = Field(pattern=_ID_PATTERN)
    released: dt.date | None = None
    """Not priced before this day."""
    priced_from: dt.date | None = None
    """The snapshot sold at the model's prices in effect from this day on, from its release
    (gpt-4o-2024-08-06 launched at the prices the gpt-4o name moved to on 2024-10-02)."""


class Model(Strict):
    """One model and its dated prices."""

    id: str = Field(pattern=_ID_PATTERN)
    """The name users type (lower case)."""
    name: str
    """Display name."""
    aliases: list[str] = []
    """Other names that resolve to this model."""
    snapshots: list[Snapshot] = []
    """Dated snapshot ids that resolve to this model."""
    encoding: Encoding | None = None
    """tiktoken encoding (OpenAI models); other providers use the provider's token estimate."""
    context_window: int = Field(gt=0)
    """Most tokens (input plus output) in one request."""
    max_input_tokens: int | None = Field(default=None, gt=0)
    """Most input tokens in one request, where less than the context window (gpt-5: 272K)."""
    max_output_tokens: int | None = Field(default=None, gt=0)
    released: dt.date | None = None
    deprecated: dt.date | None = None
    teaching: bool = False
    """A teaching rate, not a list price (the lesson's flat $15 per 1M tokens)."""
    reasoning: bool = False
    """A reasoning model: OpenAI requests limit output with max_completion_tokens."""
    description: str | None = None
    batch: bool = True
    """Whether the model can be used through the provider's Batch API."""
    speed: Speed | None = None
    """Overrides the provider's default speed for this model."""
    rate_limits: RateLimits | None = None
    """Overrides the provider's default rate limits for this model."""
    prices: list[PricePeriod] = Field(min_length=1)
    """Price periods in date order; the first may omit ``effective_from``."""

    @model_validator(mode="after")
    def _periods_in_order(self) -> "Model":
        starts = [p.effective_from for p in self.prices]
        if any(s is None for s in starts[1:]):
            raise ValueError("only the first price period may omit effective_from")
        dated = [s for s in starts if s is not None]
        if dated != sorted(set(dated)):
            raise ValueError("price periods must be in increasing effective_from order")
        return self

    def names(self) -> list[str]:
        return [self.id, *self.aliases, *(s.id for s in self.snapshots)]


class BatchRule(Strict):
    """The provider's Batch API: its discount, limits and timing."""

    discount: Decimal = Field(gt=0, le=1, allow_inf_nan=False)
    """Batch price as a fraction of standard (0.5 = 50% off)."""
    cache_discount_stacks: bool
    """Whether cache reads and writes in a batch also get the batch discount."""
    max_requests: int | None = Field(default=None, gt=0)
    """Most requests in one batch (file); absent: no documented limit."""
    max_bytes: int = Field(gt=0)
    """Largest batch file, in bytes."""
    completion_window_hours: Decimal = Field(gt=0, allow_inf_nan=False)
    """Worst case: batches not finished by then expire (unfinished requests are not billed)."""
    typical_turnaround_hours: Decimal = Field(gt=0, allow_inf_nan=False)
    """What the provider says most batches take."""
    line_format: Literal["openai", "anthropic", "gemini"]
    as_of: dt.date
    source: str = Field(min_length=8, pattern=r"^https?://")


class TierRule(Strict):
    """How a flex or priority price is derived when the table gives none for a component."""

    multiplier: Decimal = Field(gt=0, allow_inf_nan=False)
    """Price as a multiple of standard (OpenAI flex = Batch rates = 0.5)."""
    latency_factor: Decimal = Field(default=Decimal(1), gt=0, allow_inf_nan=False)
    """How much slower (>1) or faster (<1) a request is than standard (an estimate)."""
    applies_to_cache: bool = True
    """Whether cache reads and writes are multiplied too (False: they stay at standard)."""
    source: str = Field(min_length=8, pattern=r"^https?://")


class TokenEstimate(Strict):
    """How tokens are estimated offline for models without a tiktoken encoding."""

    encoding: Encoding = "o200k_base"
    factor: Decimal = Field(gt=0, allow_inf_nan=False)
    """Multiply the encoding's count by this to estimate the provider's own count."""
    reason: str
    """Why this is an estimate, shown with every such count."""


class Provider(Strict):
    """One provider file: ``pricing/<provider>.yaml``."""

    provider: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    """Provider id (the file name without .yaml)."""
    name: str
    currency: Literal["USD"] = "USD"
    """Currency of every price in the file (USD)."""
    source: str = Field(min_length=8, pattern=r"^https?://")
    batch: BatchRule | None = None
    """The provider's Batch API; absent: none."""
    flex: TierRule | None = None
    priority: TierRule | None = None
    token_estimate: TokenEstimate | None = None
    """Required when any model has no ``encoding``."""
    speed: Speed
    """Default speed for models that give none."""
    rate_limits: RateLimits
    """Default rate limits for models that give none."""
    models: list[Model] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> "Provider":
        if self.token_estimate is None:
            for i, m in enumerate(self.models):
                if m.encoding is None:
                    raise ValueError(
                        f"models[{i}] ({m.id}) has no encoding, so the provider needs "
                        "token_estimate"
                    )
        return self


class ProviderOverride(Strict):
    """A user price file: like a provider file, but provider settings are optional.

    Models replace same-id models of that provider or are added; settings given replace the
    provider's. A new provider must give every setting a provider file requires.
    """

    provider: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str | None = None
    currency: Literal["USD"] = "USD"
    source: str | None = Field(default=None, min_length=8, pattern=r"^https?://")
    batch: BatchRule | None = None
    flex: TierRule | None = None
    priority: TierRule | None = None
    token_estimate: TokenEstimate | None = None
    speed: Speed | None = None
    rate_limits: RateLimits | None = None
    models: list[Model] = []


# --- resolved prices -------------------------------------------------------------------------


# Rate, ModeRates and ModelPrices are NamedTuples rather than dataclasses: making a dataclass
# compiles several methods at import, a cost every quote would pay.


class Rate(NamedTuple):
    """One price per 1M tokens and where it comes from."""

    usd_per_mtok: Decimal
    basis: Basis
    note: str = ""


class ModeRates(NamedTuple):
    """What one delivery mode charges per component for one request size."""

    mode: Mode
    available: bool
    reason: str = ""
    rates: Mapping[str, Rate] = MappingProxyType({})
    above_input_tokens: int | None = None
    """The long-context tier these rates belong to (None: base prices)."""

    @property
    def assumed(self) -> list[str]:
        return [c for c, r in self.rates.items() if r.basis == "assumed"]

    def rate(self, component: str) -> Rate | None:
        return self.rates.get(component)


class ModelPrices(NamedTuple):
    """A model's prices on one date, with every delivery mode resolvable."""

    provider: Provider
    model: Model
    period: PricePeriod
    on: dt.date

    @property
    def currency(self) -> str:
        return self.provider.currency

    def tier_for(self, input_tokens: int) -> ContextTier | None:
        chosen = None
        for tier in self.period.tiers:
            if input_tokens > tier.above_input_tokens:
                chosen = tier
        return chosen

    def mode(self, mode: Mode, input_tokens: int = 0) -> ModeRates:
        """Rates of ``mode`` for a request with ``input_tokens`` (which picks the tier)."""
        tier = self.tier_for(input_tokens)
        base = tier if tier is not None else self.period
        above = tier.above_input_tokens if tier is not None else None
        standard = base.standard.given()
        if mode == "standard":
            rates = {c: Rate(v, "published") for c, v in standard.items()}
            return ModeRates("standard", True, rates=rates, above_input_tokens=above)
        if mode == "batch":
            return self._batch(base, standard, above)
        return self._tier(mode, base, standard, above)

    def _batch(
        self, base: PricePeriod | ContextTier, standard: dict[str, Decimal], above: int | None
    ) -> ModeRates:
        rule = self.provider.batch
        if rule is None:
            return ModeRates("batch", False, f"{self.provider.name} has no Batch API")
        if not self.model.batch:
            return ModeRates("batch", False, f"{self.model.id} is not offered in the Batch API")
        published = base.batch.given() if base.batch is not None else {}
        pct = f"{((1 - rule.discount) * 100).normalize():f}%"
        rates: dict[str, Rate] = {}
        for c, std in standard.items():
            if c in published:
                rates[c] = Rate(published[c], "published")
            elif c in ("input", "output") or rule.cache_discount_stacks:
                rates[c] = Rate(
                    std * rule.discount, "assumed", f"provider rule: {pct} off standard"
                )
            else:
                rates[c] = Rate(
                    std, "assumed", "provider rule: cache prices do not get the batch discount"
                )
        return ModeRates("batch", True, rates=rates, above_input_tokens=above)

    def _tier(
        self,
        mode: Mode,
        base: PricePeriod | ContextTier,
        standard: dict[str, Decimal],
        above: int | None,
    ) -> ModeRates:
        if getattr(self.period, mode) is None:
            # flex and priority are sold per model: only where the table lists them
            return ModeRates(mode, False, f"{self.model.id} has no {mode} tier")
        listed: ComponentPrices | None = getattr(base, mode)
        rule: TierRule | None = getattr(self.provider, mode)
        if listed is None and rule is None:
            return ModeRates(
                mode, False, f"{self.model.id} has no {mode} price above {above:,} input tokens"
            )
        published = listed.given() if listed is not None else {}
        rates: dict[str, Rate] = {}
        for c, std in standard.items():
            if c in published:
                rates[c] = Rate(published[c], "published")
            elif rule is not None and (rule.applies_to_cache or c in ("input", "output")):
                rates[c] = Rate(
                    std * rule.multiplier,
                    "assumed",
                    f"provider rule: {rule.multiplier.normalize():f}x standard",
                )
            elif rule is not None:
                rates[c] = Rate(
                    std, "assumed", f"provider rule: cache prices are not changed by {mode}"
                )
        if "input" not in rates or "output" not in rates:
            return ModeRates(mode, False, f"{self.model.id} has no {mode} price for input/output")
        return ModeRates(mode, True, rates=rates, above_input_tokens=above)

    def all_modes(self, input_tokens: int = 0) -> list[ModeRates]:
        return [self.mode(m, input_tokens) for m in PRICE_MODES]


# --- the table ------------------------------------------------------------------------------


def _normal(name: str) -> str:
    return name.strip().lower()


class PriceTable:
    """Every provider and model, indexed by id, alias and snapshot id."""

    def __init__(self, providers: dict[str, Provider], origins: dict[str, str]) -> None:
        self.providers = providers
        self.origins = origins  # provider id -> file it (last) came from, for messages
        self._index: dict[str, tuple[str, int]] = {}
        for pid, prov in providers.items():
            for i, model in enumerate(prov.models):
                for name in model.names():
                    key = _normal(name)
                    if key in self._index:
                        other_p, other_i = self._index[key]
                        other = providers[other_p].models[other_i].id
                        raise PriceTableError(
                            origins[pid],
                            f"name {name!r} is used by both {other} ({other_p}) and "
                            f"{model.id} ({pid}): an id, alias or snapshot names one model",
                        )
                    self._index[key] = (pid, i)

    @property
    def currency(self) -> str:
        return "USD"

    def models(self, provider: str | None = None) -> Iterator[tuple[Provider, Model]]:
        if provider is not None and provider not in self.providers:
            raise CostcalcError(
                f"unknown provider {provider!r}; known: {', '.join(sorted(self.providers))}"
            )
        for pid in sorted(self.providers):
            if provider is not None and pid != provider:
                continue
            prov = self.providers[pid]
            for model in prov.models:
                yield prov, model

    def names(self) -> list[str]:
        return sorted(self._index)

    def find(self, name: str) -> tuple[Provider, Model]:
        """The provider and model for an id, alias, snapshot or ``provider/model`` name."""
        key = _normal(name)
        hit = self._index.get(key)
        if hit is None and "/" in key:
            prov, _, rest = key.partition("/")
            hit = self._index.get(rest)
            if hit is not None and hit[0] != prov:
                hit = None
        if hit is None:
            raise UnknownModelError(name, self.suggest(name))
        pid, i = hit
        return self.providers[pid], self.providers[pid].models[i]

    def suggest(self, name: str, n: int = 3) -> list[str]:
        key = _normal(name)
        names = self.names()
        close = difflib.get_close_matches(key, names, n=n, cutoff=0.6)
        if not close:
            close = [x for x in names if key and key in x][:n]
        return close

    def prices(self, name: str, on: dt.date | str | None = None) -> ModelPrices:
        """The prices of model ``name`` in effect on date ``on`` (default: today)."""
        day = parse_date(on) if isinstance(on, str) else (on or dt.date.today())
        prov, model = self.find(name)
        snapshot = next((s for s in model.snapshots if _normal(s.id) == _normal(name)), None)
        if snapshot is not None and snapshot.released is not None and day < snapshot.released:
            raise UsageError(
                f"{snapshot.id} has no prices on {day.isoformat()}: it was released "
                f"{snapshot.released}"
            )
        # a snapshot launched at later prices than its model name had then is priced as of them
        priced_on = max(day, snapshot.priced_from) if snapshot and snapshot.priced_from else day
        period = None
        for p in model.prices:
            if p.effective_from is None or p.effective_from <= priced_on:
                period = p
        start = model.prices[0].effective_from or model.released
        if period is None or (start is not None and day < start):
            raise UsageError(f"{model.id} has no prices on {day.isoformat()}: they start {start}")
        return ModelPrices(prov, model, period, day)

    def speed(self, name: str) -> Speed:
        prov, model = self.find(name)
        return model.speed or prov.speed

    def rate_limits(self, name: str) -> RateLimits:
        prov, model = self.find(name)
        return model.rate_limits or prov.rate_limits


def parse_date(text: str) -> dt.date:
    """A calendar date as YYYY-MM-DD, or 'today'."""
    if text.strip().lower() == "today":
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"as_of (--as-of): bad date {text!r}: expected YYYY-MM-DD") from None


# --- loading --------------------------------------------------------------------------------


def builtin_pricing_dir() -> Path:
    """The shipped price table: inside the package when installed, pricing/ in a checkout."""
    packaged = PACKAGE_DIR / "pricing"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "pricing"


def builtin_price_files() -> list[Path]:
    return sorted(builtin_pricing_dir().glob("*.yaml"))


def load_provider_file(path: Path | str) -> Provider:
    """Load and validate one provider price file."""
    from costcalc.yamlfile import load_mapping, validate

    data, text = load_mapping(path, "price file")
    provider = validate(Provider, data, path, text, PriceTableError)
    _check_unique_names(provider.models, path, text)
    stem = Path(path).stem
    if Path(path).parent == builtin_pricing_dir() and stem != provider.provider:
        raise PriceTableError(path, f"provider: {provider.provider!r} must match the file name")
    return provider


def load_override_file(path: Path | str) -> ProviderOverride:
    """Load and validate one user price file (``--prices FILE``)."""
    from costcalc.yamlfile import load_mapping, validate

    data, text = load_mapping(path, "price file")
    override = validate(ProviderOverride, data, path, text, PriceTableError)
    _check_unique_names(override.models, path, text)
    return override


def _check_unique_names(models: Sequence[Model], path: Path | str, text: str) -> None:
    from costcalc.yamlfile import line_of

    seen: dict[str, int] = {}
    for i, model in enumerate(models):
        for name in model.names():
            key = _normal(name)
            if key in seen:
                first = models[seen[key]].id
                raise PriceTableError(
                    path,
                    f"models[{i}]: duplicate model name {name!r} (also used by {first}, "
                    f"models[{seen[key]}])",
                    line=line_of(text, ("models", i)),
                )
            seen[key] = i


_REQUIRED_FOR_NEW = ("name", "source", "speed", "rate_limits")


def apply_override(
    providers: dict[str, Provider],
    origins: dict[str, str],
    override: ProviderOverride,
    path: Path | str,
) -> None:
    """Merge a user price file into ``providers`` in place."""
    from costcalc.yamlfile import validate

    settings = override.model_dump(exclude={"models"}, exclude_unset=True)
    current = providers.get(override.provider)
    if current is None:
        missing = [k for k in _REQUIRED_FOR_NEW if getattr(override, k) is None]
        if missing:
            raise PriceTableError(
                path,
                f"provider {override.provider!r} is new, so it needs {', '.join(missing)} "
                f"(known providers: {', '.join(sorted(providers))})",
            )
        if not override.models:
            raise PriceTableError(path, f"provider {override.provider!r} is new and has no models")
        merged: dict[str, Any] = settings
        models = list(override.models)
    else:
        merged = current.model_dump(exclude={"models"}, exclude_unset=True)
        merged.update(settings)
        by_id = {m.id: m for m in current.models}
        for m in override.models:
            by_id[m.id] = m
        models = list(by_id.values())
    merged["models"] = [m.model_dump(exclude_unset=True) for m in models]
    merged["provider"] = override.provider
    providers[override.provider] = validate(Provider, merged, path, None, PriceTableError)
    origins[override.provider] = str(path)


def override_paths_from_env() -> list[str]:
    raw = os.environ.get(PRICES_ENV, "")
    return [p for p in raw.split(os.pathsep) if p.strip()]


COMPILED = "compiled.json"
"""The shipped YAML files as JSON, with the SHA-256 of each file they came from.

Parsing JSON takes a millisecond where importing PyYAML and parsing the YAML takes twenty,
and a quote is a command people run in loops. The YAML stays the source: when a file's
hash differs from the one recorded (an edited checkout), the YAML is read instead.
"""


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def compile_price_table() -> str:
    """``pricing/compiled.json`` for the current YAML files (see ``COMPILED``)."""
    import json

    from costcalc.yamlfile import load_mapping

    files = builtin_price_files()
    for f in files:
        load_provider_file(f)  # only valid files are compiled
    document = {
        "sources": {f.name: _sha256(f) for f in files},
        "providers": {f.name: load_mapping(f, "price file")[0] for f in files},
    }
    return json.dumps(document, indent=1, sort_keys=True, default=str) + "\n"


def _compiled_providers(files: list[Path]) -> dict[str, Any] | None:
    """The compiled provider data, if it was compiled from exactly these files."""
    import json

    try:
        document = json.loads((builtin_pricing_dir() / COMPILED).read_text("utf-8"))
        if document["sources"] != {f.name: _sha256(f) for f in files}:
            return None
        data: dict[str, Any] = document["providers"]
        return data
    except (OSError, ValueError, KeyError, TypeError):
        return None


@functools.lru_cache(maxsize=8)
def _load(paths: tuple[str, ...]) -> PriceTable:
    providers: dict[str, Provider] = {}
    origins: dict[str, str] = {}
    files = builtin_price_files()
    compiled = _compiled_providers(files)
    for builtin in files:
        if compiled is not None:
            prov = Provider.model_validate(compiled[builtin.name])
        else:
            prov = load_provider_file(builtin)
        providers[prov.provider] = prov
        origins[prov.provider] = str(builtin)
    for path in paths:
        apply_override(providers, origins, load_override_file(path), path)
    return PriceTable(providers, origins)


def load_price_table(overrides: Iterable[Path | str] = (), use_env: bool = True) -> PriceTable:
    """The shipped price table with user price files applied in order.

    Files in ``$COSTCALC_PRICES`` come first, then ``overrides`` (so a file given on the
    command line wins). The result is cached per list of files.
    """
    from_env = override_paths_from_env() if use_env else []
    for path in from_env:  # a stale setting is not the user's command line: say where it is
        if not os.path.exists(path):
            raise PriceTableError(path, f"no such price file (named in ${PRICES_ENV})")
    return _load(tuple(from_env + [str(p) for p in overrides]))


def validate_price_file(path: Path | str) -> str:
    """Check one price file alone and merged over the shipped table; return a summary."""
    override = load_override_file(path)
    base = _load(())
    providers, origins = dict(base.providers), dict(base.origins)
    apply_override(providers, origins, override, path)
    PriceTable(providers, origins)  # raises on a name used twice
    n = len(override.models)
    return f"provider {override.provider}, {n} model{'s' if n != 1 else ''}"


def _attribute_docstrings() -> dict[str, dict[str, str]]:
    """``{class: {field: docstring}}`` for the string literals that follow fields here."""
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(__import__(__name__, fromlist=["_"])))
    docs: dict[str, dict[str, str]] = {}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        fields: dict[str, str] = {}
        for stmt, following in zip(node.body, node.body[1:], strict=False):
            if (
                isinstance(stmt, ast.AnnAssign)
                and isinstance(stmt.target, ast.Name)
                and isinstance(following, ast.Expr)
                and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)
            ):
                fields[stmt.target.id] = inspect.cleandoc(following.value.value)
        docs[node.name] = fields
    return docs


def price_schema() -> dict[str, Any]:
    """JSON Schema of a provider price file, generated from the models, with each field's
    docstring as its description."""
    schema = Provider.model_json_schema()
    docs = _attribute_docstrings()
    for name, definition in [("Provider", schema), *schema.get("$defs", {}).items()]:
        inherited: dict[str, str] = {}
        for klass in reversed(globals()[name].__mro__):
            inherited.update(docs.get(klass.__name__, {}))
        for field_name, prop in definition.get("properties", {}).items():
            doc = inherited.get(field_name)
            if doc and "description" not in prop:
                prop["description"] = doc
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "costcalc price table: one provider"
    return schema


def days_old(model: Model, today: dt.date | None = None) -> int:
    """Days since the current price period of ``model`` was checked."""
    today = today or dt.date.today()
    current = model.prices[-1]
    for p in model.prices:
        if p.effective_from is None or p.effective_from <= today:
            current = p
    return (today - current.as_of).days
