"""The price table's schema: strict models of ``pricing/<provider>.yaml``."""

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from costcalc.money import Money
from costcalc.userdata import PRICES_ENV as PRICES_ENV  # also named here, where it always was

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
Mode = Literal["standard", "batch", "flex", "priority", "fast"]
PRICE_MODES: tuple[Mode, ...] = ("standard", "batch", "flex", "priority", "fast")
Encoding = Literal["o200k_base", "cl100k_base"]
Basis = Literal["published", "assumed"]

_ID_PATTERN = r"^[a-z0-9][a-z0-9._:@/-]*$"


class ReadOnlyDict(dict[str, Any]):
    """A mapping of a loaded price table: read like a dict (and serialised as one), never
    changed, since every later quote in the process reads the same table."""

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("a loaded price table cannot be changed: give a price file instead")

    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse

    def __reduce__(self) -> tuple[type, tuple[dict[str, Any]]]:
        return (ReadOnlyDict, (dict(self),))


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
    per_1k_requests: Money | None = None
    """A fee per request, whatever its tokens: USD per 1,000 requests (Perplexity's Sonar)."""

    def given(self) -> dict[str, Decimal]:
        """The token components' prices (the fee per request is apart: ``per_1k_requests``)."""
        return {c: v for c in COMPONENTS if (v := getattr(self, c)) is not None}

    def stated(self) -> dict[str, Decimal]:
        """Every price it states: the token components' and the fee per request."""
        given = self.given()
        if self.per_1k_requests is not None:
            given["per_1k_requests"] = self.per_1k_requests
        return given


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
    fast: ComponentPrices | None = None


class PricePeriod(Strict):
    """The prices of a model from one date on."""

    effective_from: dt.date | None = None
    """First day these prices apply; absent on the first period (since release)."""
    as_of: dt.date
    """When these prices were last checked against ``source``."""
    source: str = Field(min_length=8, pattern=r"^https?://")
    """Where the prices can be checked (a URL)."""
    read: str | None = None
    """What was read on ``as_of`` when it was not the page at ``source`` itself: ``a stored
    copy`` (a copy of the page kept by a search service), or another source, named."""
    origin: str | None = None
    """The data these prices were taken from when no one checked them against ``source``
    (``genai-prices 0.2.3``): ``as_of`` is then the day costcalc read that data."""
    note: str | None = None
    context_window: int | None = Field(default=None, gt=0)
    """The context window while these prices applied, where it differed from the model's
    (Claude Sonnet 4.5's 1M-token beta, retired 2026-04-30)."""
    standard: StandardPrices
    batch: ComponentPrices | None = None
    """Published Batch API prices; components absent here follow the provider's batch rule."""
    flex: ComponentPrices | None = None
    """Flex processing prices; absent means the model has no flex tier."""
    priority: ComponentPrices | None = None
    """Priority processing prices; absent means the model has no priority tier."""
    fast: ComponentPrices | None = None
    """Fast mode prices (Anthropic's ``speed: fast``, OpenAI's ``service_tier: fast``): faster
    output at a premium; absent means the model has no fast mode."""
    tiers: tuple[ContextTier, ...] = ()
    """Long-context tiers, in increasing ``above_input_tokens``."""

    def provenance(self) -> str:
        """Where these prices come from, as every output says it: "checked DATE against URL"
        only when someone read that source that day; otherwise the data they came from."""
        if self.origin is not None:
            return f"from {self.origin} (read {self.as_of}; it cites {self.source})"
        if self.read is not None:
            return f"checked {self.as_of} against {self.read} of {self.source}"
        return f"checked {self.as_of} against {self.source}"

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
    tiers: Annotated[dict[str, RateLimit], AfterValidator(ReadOnlyDict)]
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
    aliases: tuple[str, ...] = ()
    """Other names that resolve to this model."""
    snapshots: tuple[Snapshot, ...] = ()
    """Dated snapshot ids that resolve to this model."""
    encoding: Encoding | None = None
    """tiktoken encoding (OpenAI models); other providers use the provider's token estimate."""
    context_window: int | None = Field(gt=0)
    """Most tokens (input plus output) in one request (null: not known)."""
    max_input_tokens: int | None = Field(default=None, gt=0)
    """Most input tokens in one request, where less than the context window (gpt-5: 272K)."""
    max_output_tokens: int | None = Field(default=None, gt=0)
    released: dt.date | None = None
    deprecated: dt.date | None = None
    """The day the provider retires (retired) the model: quoting it warns, `prices list
    --active` leaves it out."""
    deprecation: str | None = None
    """Where the retirement comes from (the data and its version), and the successor where the
    data names one; alone (no ``deprecated`` date), a mark with no date."""
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
    prices: tuple[PricePeriod, ...] = Field(min_length=1)
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

    def retired_by(self, day: dt.date) -> bool:
        """Retired on or before ``day``, or marked deprecated without a date."""
        if self.deprecated is not None:
            return self.deprecated <= day
        return self.deprecation is not None


LINE_FORMATS = ("openai", "anthropic", "gemini")
"""The batch line formats the shipped price files name (costcalc writes openai and
anthropic lines; ``costcalc.batch.formats.register()`` adds formats, and their names)."""


def _line_format(value: Any) -> Any:
    """A line format's name: one of ``LINE_FORMATS`` or a registered format's (looked up only
    for other names, so the shipped table loads without the batch code)."""
    if isinstance(value, str) and value in LINE_FORMATS:
        return value
    from costcalc.batch.formats import line_formats

    registered = line_formats()
    if isinstance(value, str) and value in registered:
        return value
    known = [repr(n) for n in (*LINE_FORMATS, *(n for n in registered if n not in LINE_FORMATS))]
    expected = " or ".join([", ".join(known[:-1]), known[-1]])
    # the error pydantic gives for a Literal, so the message names the known formats
    raise PydanticCustomError("literal_error", "Input should be {expected}", {"expected": expected})


LineFormatName = Annotated[
    str,
    BeforeValidator(_line_format),
    WithJsonSchema({"enum": list(LINE_FORMATS), "type": "string"}),
]


class BatchRule(Strict):
    """The provider's Batch API: its discount, limits and timing."""

    discount: Decimal | None = Field(gt=0, le=1, allow_inf_nan=False)
    """Batch price as a fraction of standard (0.5 = 50% off); null: no one figure is
    published (per model, or the sources disagree), so only published batch prices apply."""
    cache_discount_stacks: bool | None
    """Whether cache reads and writes in a batch also get the batch discount (null: not
    documented; they are then taken at their standard price, and say so)."""
    cache_note: str | None = None
    """What is in doubt about that (shown with every cache price the rule gives)."""
    max_requests: int | None = Field(default=None, gt=0)
    """Most requests in one batch (file); absent: no documented limit."""
    max_bytes: int | None = Field(gt=0)
    """Largest batch file, in bytes (null: no documented limit)."""
    completion_window_hours: Decimal | None = Field(gt=0, allow_inf_nan=False)
    """Worst case: batches not finished by then expire (unfinished requests are not billed);
    null: none documented."""
    typical_turnaround_hours: Decimal | None = Field(gt=0, allow_inf_nan=False)
    """What the provider says most batches take (null: it says nothing)."""
    line_format: LineFormatName | None
    """The format of its batch files (null: costcalc writes none for this provider yet)."""
    as_of: dt.date
    source: str = Field(min_length=8, pattern=r"^https?://")
    read: str | None = None
    """What was read on ``as_of`` when it was not the page at ``source`` itself."""
    note: str | None = None


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


INPUT_WINDOWS = ("google", "google-vertex")
"""Providers whose model pages give the most input and the most output tokens each on its own
("Maximum input tokens: 1,048,576", "Maximum output tokens: 65,535" on Google's Gemini pages):
their context window is the input's limit, and a request may add its output to it. Elsewhere
the window holds both (OpenAI and Anthropic refuse input plus max_tokens past it)."""


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
    fast: TierRule | None = None
    token_estimate: TokenEstimate | None = None
    """Required when any model has no ``encoding``."""
    speed: Speed | None
    """Default speed for models that give none (null: how long requests take is not known,
    as for providers known only from genai-prices)."""
    rate_limits: RateLimits | None
    """Default rate limits for models that give none (null: not known)."""
    prices_from: str | None = None
    """The genai-prices provider whose models and list prices this one sells (Vertex AI sells
    Google's): its own rules apply to them, not that provider's price variants."""
    known_from: str | None = None
    """Set (to the data's name) for a provider costcalc knows only from a price package: no
    one has read what delivery modes it sells, so none is assumed."""
    models: tuple[Model, ...] = ()
    """The provider's models; empty: its models and prices come from genai-prices
    (pricing/genai-prices.json) and this file gives what that data lacks (its Batch API,
    limits, speed)."""

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
    prices_from: str | None = None
    models: tuple[Model, ...] = ()


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
