"""Resolved prices and the price table's lookups."""

import datetime as dt
from collections.abc import Callable, Hashable, Iterator, Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

from costcalc.errors import (
    CostcalcError,
    PriceTableError,
    UnknownModelError,
    UsageError,
    require_count,
    require_type,
)
from costcalc.prices.schema import (
    PRICE_MODES,
    Basis,
    ComponentPrices,
    ContextTier,
    Mode,
    Model,
    PricePeriod,
    Provider,
    RateLimits,
    ReadOnlyDict,
    Speed,
    TierRule,
)
from costcalc.shipped import normal_name
from costcalc.units import date_argument, today

if TYPE_CHECKING:
    from costcalc.prices.catalog import Catalog

# --- resolved prices -------------------------------------------------------------------------


# Rate, ModeRates and ModelPrices are NamedTuples rather than dataclasses: making a dataclass
# compiles several methods at import, a cost every quote would pay.


PROVIDER_ALIASES = {
    "bedrock": "aws", "vertex": "google-vertex", "vertex_ai": "google-vertex",
    # LiteLLM's provider prefixes and custom_llm_provider ("gemini/gemini-2.5-flash")
    "gemini": "google", "vertex_ai_beta": "google-vertex", "together_ai": "together",
    "xai": "x-ai", "azure_ai": "azure",
    # OpenTelemetry's gen_ai.provider.name values, as recorded traffic names its provider
    "aws.bedrock": "aws", "gcp.vertex_ai": "google-vertex", "gcp.gemini": "google",
    "gcp.gen_ai": "google", "azure.ai.openai": "azure", "azure.ai.inference": "azure",
    "x_ai": "x-ai", "mistral_ai": "mistral",
}  # fmt: skip
"""Provider names people and tools write for genai-prices' ids (``bedrock:anthropic.claude-...``,
``gemini/gemini-2.5-flash``); a name that is a provider's own id is never taken for another."""


class Rate(NamedTuple):
    """One price per 1M tokens and where it comes from."""

    usd_per_mtok: Decimal
    basis: Basis
    note: str = ""


REQUEST_FEE = "per_1k_requests"
"""The fee per request's name beside the token components (in rates, assumed, audits)."""


class ModeRates(NamedTuple):
    """What one delivery mode charges per component for one request size."""

    mode: Mode
    available: bool
    reason: str = ""
    rates: Mapping[str, Rate] = MappingProxyType({})
    above_input_tokens: int | None = None
    """The long-context tier these rates belong to (None: base prices)."""
    request_fee: Decimal | None = None
    """A fee per request, USD per 1,000 requests, whatever their tokens (None: none)."""
    request_fee_note: str = ""
    """Why the fee is assumed, when the mode lists none of its own (standard's is taken)."""

    @property
    def assumed(self) -> list[str]:
        assumed = [c for c, r in self.rates.items() if r.basis == "assumed"]
        return [*assumed, REQUEST_FEE] if self.request_fee_note else assumed

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

    def band(self, input_tokens: int) -> int:
        """Which prices a request of ``input_tokens`` gets: 0 the base prices, ``i`` the
        ``i``-th long-context tier (the one ``tier_for`` picks)."""
        if type(input_tokens) is not int:  # None compared as no tokens at all
            require_count(input_tokens, "input_tokens", "ModelPrices.band")
        band = 0
        for i, tier in enumerate(self.period.tiers, 1):
            if input_tokens > tier.above_input_tokens:
                band = i
        return band

    def mode(self, mode: Mode, input_tokens: int = 0) -> ModeRates:
        """Rates of ``mode`` for a request with ``input_tokens`` (which picks the tier)."""
        if mode not in PRICE_MODES:
            raise ValueError(
                f"mode: expected one of {', '.join(PRICE_MODES)} (stream and request are billed "
                f"at standard prices), got {mode!r}"
            )
        require_count(input_tokens, "input_tokens", "ModelPrices.mode", minimum=0)
        tier = self.tier_for(input_tokens)
        base = tier if tier is not None else self.period
        above = tier.above_input_tokens if tier is not None else None
        standard = base.standard.given()
        if mode == "standard":
            rates = {c: Rate(v, "published") for c, v in standard.items()}
            fee = self._fee(base, "standard")
            return ModeRates("standard", True, "", rates, above, request_fee=fee)
        if mode == "batch":
            found = self._batch(base, standard, above)
        else:
            found = self._tier(mode, base, standard, above)
        if not found.available:
            return found
        own = self._fee(base, mode)
        if own is not None:
            return found._replace(request_fee=own)
        fee = self._fee(base, "standard")
        if fee is None:
            return found
        # a fee is charged per request, not per token: no discount or multiplier is known
        # to apply to it, so the mode is taken to charge standard's, and says so
        note = f"no {mode} fee per request listed: the standard fee taken"
        return found._replace(request_fee=fee, request_fee_note=note)

    def _fee(self, base: PricePeriod | ContextTier, mode: Mode) -> Decimal | None:
        """The fee per request ``mode`` lists: the long-context tier's where it lists one,
        else the period's (a tier changes what tokens cost, not what a request does)."""
        for scope in (base, self.period):
            listed: ComponentPrices | None = getattr(scope, mode)
            if listed is not None and listed.per_1k_requests is not None:
                return listed.per_1k_requests
        return None

    def _batch(
        self, base: PricePeriod | ContextTier, standard: dict[str, Decimal], above: int | None
    ) -> ModeRates:
        rule = self.provider.batch
        published = base.batch.given() if base.batch is not None else {}
        if rule is None and self.period.origin is not None and published:
            # batch prices published in the data, but no rule of the provider's: each
            # component without a batch price is billed as genai-prices bills it, at standard
            note = f"{self.period.origin} lists no batch price for it: billed at standard"
            listed = {
                c: Rate(published[c], "published") if c in published else Rate(std, "assumed", note)
                for c, std in standard.items()
            }
            return ModeRates("batch", True, rates=listed, above_input_tokens=above)
        if rule is None:
            if self.provider.known_from is not None:
                return ModeRates(
                    "batch",
                    False,
                    f"nothing costcalc has read says {self.provider.name} sells {self.model.id} "
                    f"through a Batch API ({self.period.origin} lists no batch price)",
                )
            return ModeRates("batch", False, f"{self.provider.name} has no Batch API")
        if not self.model.batch:
            return ModeRates("batch", False, f"{self.model.id} is not offered in the Batch API")
        discount = rule.discount
        if discount is None and not {"input", "output"} <= published.keys():
            return ModeRates(
                "batch",
                False,
                f"{self.provider.name} publishes no one batch discount ({rule.note or 'per model'})"
                f" and no batch price for {self.model.id}",
            )
        pct = f"{((1 - discount) * 100).normalize():f}%" if discount is not None else ""
        rates: dict[str, Rate] = {}
        for c, std in standard.items():
            if c in published:
                rates[c] = Rate(published[c], "published")
            elif discount is not None and c in ("input", "output"):
                rates[c] = Rate(std * discount, "assumed", f"provider rule: {pct} off standard")
            elif discount is not None and rule.cache_discount_stacks:
                doubt = f"; {rule.cache_note}" if rule.cache_note else ""
                rates[c] = Rate(
                    std * discount, "assumed", f"provider rule: {pct} off standard{doubt}"
                )
            elif rule.cache_discount_stacks is None or discount is None:
                rates[c] = Rate(
                    std, "assumed", "not documented whether cache prices get the batch discount"
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


class PricedModel:
    """A model's prices on one day and what a quote looks up with them, resolved once per
    price table (``PriceTable.priced``): the ``ModelPrices``, the speed and rate limits, and
    each delivery mode's rates per long-context band, made the first time they are asked for.

    Everything here follows from the table's (immutable) data, the model's name and the day,
    which key it: a table made from other price files has its own."""

    __slots__ = ("_modes", "memo", "prices", "rate_limits", "speed")

    def __init__(
        self, prices: ModelPrices, speed: Speed | None, rate_limits: RateLimits | None
    ) -> None:
        self.prices = prices
        self.speed = speed
        """None: the provider has no speed figures."""
        self.rate_limits = rate_limits
        """None: no rate limits are known."""
        self.memo: dict[Hashable, Any] = {}
        """What other modules work out from these alone, once (the words a quote says about
        the model's prices, speed and delivery modes), under a key of theirs."""
        self._modes: dict[tuple[Mode, int], ModeRates] = {}

    def mode(self, mode: Mode, input_tokens: int = 0) -> ModeRates:
        """``prices.mode(mode, input_tokens)``, worked out once per mode and band (its rates
        are read-only)."""
        key = (mode, self.prices.band(input_tokens) if self.prices.period.tiers else 0)
        rates = self._modes.get(key)
        if rates is None:
            rates = self.prices.mode(mode, input_tokens)
            if isinstance(rates.rates, dict):
                rates = rates._replace(rates=MappingProxyType(rates.rates))
            self._modes[key] = rates
        return rates


# --- the table ------------------------------------------------------------------------------


PRICED_KEPT = 4096
"""Most (name, day) pairs a table keeps resolved (``PriceTable.priced``); past them it starts
again (a script walking every model through years of days)."""


_normal = normal_name


def require_table(table: object, function: str) -> None:
    """A TypeError naming ``function``'s ``table`` argument unless it is a price table or
    None (the default table), as every function that takes one checks it."""
    if table is not None:
        require_type(table, PriceTable, "table", function, "a costcalc.PriceTable or None")


class PriceTable:
    """Every provider and model, indexed by id, alias and snapshot id."""

    def __init__(
        self,
        providers: dict[str, Provider],
        origins: dict[str, str],
        catalog: "Callable[[], Catalog | None] | None" = None,
    ) -> None:
        # read-only, as its models are: a loaded table is shared by every later quote
        self.providers: Mapping[str, Provider] = ReadOnlyDict(providers)
        self.origins: Mapping[str, str] = ReadOnlyDict(origins)  # id -> file it came from
        self._catalog_loader = catalog
        self._catalog: Catalog | None = None
        self._catalog_loaded = catalog is None
        self._found: dict[str, tuple[Provider, Model]] = {}
        self._priced: dict[tuple[str, dt.date], PricedModel] = {}
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

    def __copy__(self) -> "PriceTable":
        return self  # nothing in it can change: a copy is the table

    def __deepcopy__(self, memo: dict[int, Any]) -> "PriceTable":
        return self

    @property
    def currency(self) -> str:
        return "USD"

    def models(
        self, provider: str | None = None, everything: bool = False
    ) -> Iterator[tuple[Provider, Model]]:
        """The curated models (of ``provider``), and those genai-prices adds: for a provider
        that is named, or for every provider with ``everything``."""
        catalog = self.catalog if (everything or provider is not None) else None
        known = {*self.providers, *(catalog.providers if catalog is not None else ())}
        if provider is not None and provider not in known:
            raise CostcalcError(f"unknown provider {provider!r}; known: {', '.join(sorted(known))}")
        for pid in sorted(known):
            if provider is not None and pid != provider:
                continue
            prov = self.providers.get(pid)
            curated = {_normal(m.id) for m in prov.models} if prov is not None else set()
            if prov is not None:
                yield from ((prov, model) for model in prov.models)
            lookup = prov.prices_from if prov is not None and prov.prices_from else pid
            if catalog is None or lookup not in catalog.index["providers"]:
                continue
            seller = prov if prov is not None else catalog.provider(pid)
            for _, i in catalog.entries(lookup):
                model = catalog.model(
                    lookup, i, "o200k_base" if lookup == "openai" else None, lookup == pid
                )
                if _normal(model.id) not in curated and model.id not in self._index:
                    yield seller, model

    def names(self) -> list[str]:
        return sorted(self._index)

    def tokenizer_fields(self, name: str) -> dict[str, Any]:
        """How the tokens of model ``name`` are counted, as JSON values: its id and provider,
        the encoding, the calibration factor (a decimal string), whether a count is an
        estimate and why, the most input tokens of one request (None: not known).
        ``pricing/compiled.json`` keeps them for every curated name (``costcalc.shipped``)."""
        prov, entry = self.find(name)
        limit = entry.max_input_tokens or entry.context_window
        if entry.encoding is not None:
            return {
                "model": entry.id, "provider": prov.provider, "encoding": entry.encoding,
                "factor": "1", "estimate": False, "reason": "", "context_limit": limit,
            }  # fmt: skip
        est = prov.token_estimate
        assert est is not None  # the price-table model guarantees it
        return {
            "model": entry.id, "provider": prov.provider, "encoding": est.encoding,
            "factor": str(est.factor), "estimate": True, "reason": " ".join(est.reason.split()),
            "context_limit": limit,
        }  # fmt: skip

    @property
    def catalog(self) -> "Catalog | None":
        """genai-prices' models behind the curated ones (read on first use)."""
        if not self._catalog_loaded:
            assert self._catalog_loader is not None
            self._catalog = self._catalog_loader()
            self._catalog_loaded = True
        return self._catalog

    def name_of(self, name: str) -> str:
        """A name for the model ``name`` finds that finds it again, from the same seller: its
        id, or ``PROVIDER:ID`` where the bare id is another provider's (``gemini-2.5-flash``
        is the Gemini API's; ``google-vertex:gemini-2.5-flash`` Vertex AI's). What a batch
        manifest records, so validate, quote and reconcile price the seller the build did."""
        provider, model = self.find(name)
        try:
            same = self.find(model.id)[0].provider == provider.provider
        except CostcalcError:  # the bare id names no model or several
            same = False
        return model.id if same else f"{provider.provider}:{model.id}"

    def find(self, name: str) -> tuple[Provider, Model]:
        """The provider and model for a name: an id, alias or snapshot of the curated table,
        ``PROVIDER:MODEL`` (split at the first colon: Bedrock ids hold colons), the older
        ``provider/model``, or any model genai-prices knows, by its bare id when one
        provider is clearly its maker."""
        if type(name) is not str:
            require_type(name, str, "name", "PriceTable.find", "a model name (str)")
        key = _normal(name)
        hit = self._index.get(key)
        if hit is None and "/" in key and ":" not in key:
            prov, _, rest = key.partition("/")
            hit = self._index.get(rest)
            if hit is not None and hit[0] != prov:
                hit = None
        if hit is not None:
            pid, i = hit
            return self.providers[pid], self.providers[pid].models[i]
        found = self._found.get(key)
        if found is None:
            found = self._from_catalog(name, key)
            self._found[key] = found
            # not kept under the model's own id too: that id may be another seller's
            # (claude-3-5-sonnet is Anthropic's, google-vertex:claude-3-5-sonnet Vertex AI's)
        return found

    def _from_catalog(self, name: str, key: str) -> tuple[Provider, Model]:
        from costcalc.prices.catalog import not_found

        provider: str | None = None
        lookup: str | None = None
        model = key
        catalog = self.catalog
        known = {*self.providers, *(catalog.providers if catalog is not None else ())}
        prefix = key.partition(":")[0]
        named = {*known, *PROVIDER_ALIASES}
        colon = ":" in key and (prefix in named or "." not in prefix)
        if colon or ("/" in key and key.partition("/")[0] in named):
            # PROVIDER:MODEL, or the older provider/model (openrouter's ids hold a slash:
            # openrouter:openai/gpt-4o); a bare Bedrock id (anthropic.claude-...-v2:0) holds a
            # colon too, after a dotted name that is no provider's
            provider, _, model = key.partition(":" if colon else "/")
            if provider not in known:
                provider = PROVIDER_ALIASES.get(provider, provider)
            hit = self._index.get(model)
            if hit is not None and hit[0] == provider:
                return self.providers[provider], self.providers[provider].models[hit[1]]
        if catalog is not None:
            if provider is not None and provider not in known:
                import difflib

                close = difflib.get_close_matches(provider, sorted(known), n=3, cutoff=0.5)
                hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
                raise UnknownModelError(name, [], f"no provider {provider!r}{hint}")
            seller = self.providers.get(provider) if provider is not None else None
            lookup = seller.prices_from if seller is not None and seller.prices_from else provider
            if lookup is not None and lookup not in catalog.index["providers"]:
                raise not_found(name, self.names(), None)
            at = catalog.resolve(model, lookup)
            if at is None and not colon and provider is not None:
                # provider/model that names no model of the provider: an id with a slash
                # (google/gemma-2-2b-it, a Hugging Face provider's), looked up whole, by its
                # exact name (the match rules would take openai/claude-x for claude-x)
                at = catalog.resolve(key, None, exact=True)
                if at is not None:
                    provider, lookup, model = None, None, key
            if at is not None:
                priced_by, i = at
                pid = provider or priced_by  # the seller, whose rules apply
                curated = self.providers.get(pid)
                entry_id = _normal(catalog.entry(priced_by, i)["id"])
                if curated is not None:
                    same = self._index.get(entry_id)
                    if same is not None and same[0] == pid:  # the curated model, by another name
                        return curated, curated.models[same[1]]
                    # OpenAI's models since gpt-4o count with o200k_base; others, the provider's
                    # estimate
                    return curated, catalog.model(
                        priced_by,
                        i,
                        "o200k_base" if priced_by == "openai" else None,
                        variants=priced_by == pid,
                    )
                return catalog.provider(pid), catalog.model(priced_by, i, variants=priced_by == pid)
        raise not_found(name, self.names(), catalog, model, lookup)

    def suggest(self, name: str, n: int = 3) -> list[str]:
        require_type(name, str, "name", "PriceTable.suggest", "a model name (str)")
        key = _normal(name)
        names = self.names()
        import difflib  # only for a name not found: not at start-up

        close = difflib.get_close_matches(key, names, n=n, cutoff=0.6)
        if not close:
            close = [x for x in names if key and key in x][:n]
        return close

    def prices(self, name: str, on: dt.date | str | None = None) -> ModelPrices:
        """The prices of model ``name`` in effect on date ``on`` (default: today)."""
        if type(name) is not str:
            require_type(name, str, "name", "PriceTable.prices", "a model name (str)")
        return self.priced(name, on).prices

    def priced(self, name: str, on: dt.date | str | None = None) -> PricedModel:
        """Model ``name``'s prices on ``on`` (default: today) with its speed and rate limits,
        resolved once per name and day: ``find`` names one model for good, and the table's
        data does not change (another price file makes another table, with its own)."""
        day = date_argument(on, "on", "PriceTable.prices") if on is not None else today()
        found = self._priced.get((name, day))  # the name as given, then as find() reads it
        if found is None:
            require_type(name, str, "name", "PriceTable.priced", "a model name (str)")
            key = (_normal(name), day)
            found = self._priced.get(key)
            if found is None:
                prov, model = self.find(name)
                prices = self.prices_of(prov, model, day, name)
                # the seller's (another provider may sell a model of the same id)
                found = PricedModel(
                    prices, model.speed or prov.speed, model.rate_limits or prov.rate_limits
                )
                self._keep(key, found)
            self._keep((name, day), found)
        return found

    def _keep(self, key: tuple[str, dt.date], priced: PricedModel) -> None:
        if len(self._priced) >= PRICED_KEPT:
            self._priced.clear()
        self._priced[key] = priced

    def prices_of(
        self, prov: Provider, model: Model, on: dt.date | str | None = None, name: str = ""
    ) -> ModelPrices:
        """The prices of ``model`` (sold by ``prov``; as ``name``, a snapshot perhaps) on
        ``on`` (default: today)."""
        day = date_argument(on, "on", "PriceTable.prices_of") if on is not None else today()
        name = name or model.id
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

    def speed(self, name: str) -> Speed | None:
        prov, model = self.find(name)
        return model.speed or prov.speed

    def rate_limits(self, name: str) -> RateLimits | None:
        prov, model = self.find(name)
        return model.rate_limits or prov.rate_limits
