"""genai-prices' models as a catalogue behind the curated table: names resolved, models built
into price-table models on demand.

The curated YAML (pricing/*.yaml) wins for every model it lists; every other model that
genai-prices knows is found here. A model of a curated provider (a new OpenAI model, say)
gets that provider's rules: its Batch API, flex and priority rules, speed and rate limits. A
model of any other provider gets its prices and nothing invented: no speed, no rate limits
and no Batch API rule until a curated rule says what the provider sells.
"""

import datetime as dt
import os
import re
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from costcalc.errors import CostcalcError, UnknownModelError
from costcalc.prices.genai import exact_names, matches
from costcalc.prices.schema import (
    ComponentPrices,
    ContextTier,
    Encoding,
    Model,
    PricePeriod,
    Provider,
    StandardPrices,
    TokenEstimate,
)

BEDROCK_ID = re.compile(
    r"(?:bedrock/)?(?:(?:us|eu|apac|jp|au|ca|global|regional|us-gov)\.)?"
    r"(?:anthropic|amazon|meta|mistral|cohere|ai21|deepseek|writer|qwen|openai)\.[a-z0-9]"
)
"""A Bedrock model id (``anthropic.claude-3-haiku-20240307-v1:0``, with a cross-region
prefix ``us.`` or LiteLLM's ``bedrock/``): the model is AWS's, whoever else matches its name
(genai-prices' Vertex patterns take the Claude part of it: priced as Google's, it was)."""

MAKER_ORDER = ("openai", "anthropic", "google", "mistral", "deepseek", "x-ai", "meta", "cohere")
"""When a bare name is sold by several providers and none claims it as its maker (genai-prices'
``model_match``), the first of these that sells it is taken: the maker's own API."""

UNKNOWN_TOKENIZER = TokenEstimate(
    encoding="o200k_base",
    factor=Decimal(1),
    reason="this provider's tokenizer is not known to costcalc: counted with o200k_base as is "
    "(an estimate)",
)


class Catalog:
    """The models of a genai-prices index, by provider."""

    def __init__(self, index: Mapping[str, Any], origin: str) -> None:
        self.index = index
        self.origin = origin
        """Where the data came from, as shown with each price (``genai-prices 0.2.3``)."""
        self.read_on = dt.date.fromisoformat(index["source"]["read"])
        self._exact: dict[str, list[tuple[str, int]]] = {}
        for pid, prov in index["providers"].items():
            for i, m in enumerate(prov["models"]):
                for name in {m["id"].lower(), *exact_names(m.get("match"))}:
                    self._exact.setdefault(name, []).append((pid, i))
        self._built: dict[tuple[str, int, bool], Model] = {}

    @property
    def providers(self) -> list[str]:
        return sorted(self.index["providers"])

    def entries(self, provider: str | None = None) -> Iterator[tuple[str, int]]:
        for pid in self.providers:
            if provider is None or pid == provider:
                for i in range(len(self.index["providers"][pid]["models"])):
                    yield pid, i

    def unpriced(self, name: str, provider: str | None = None) -> str | None:
        """``provider:id`` of a model the data lists without a text-token price (left out of
        the index), named ``name`` (lower case) by ``provider`` or any provider; else None."""
        for pid, prov in self.index["providers"].items():
            if provider is None or pid == provider:
                for model_id in prov.get("unpriced", ()):
                    if model_id.lower() == name:
                        return f"{pid}:{model_id}"
        return None

    def entry(self, pid: str, i: int) -> Mapping[str, Any]:
        return self.index["providers"][pid]["models"][i]  # type: ignore[no-any-return]

    def resolve(
        self, name: str, provider: str | None = None, exact: bool = False
    ) -> tuple[str, int] | None:
        """The (provider, position) of the model ``name`` (lower case) names, if any (by an
        id or exact name only, when ``exact``; else by the data's match rules too); a name
        that several providers sell is the maker's (an error when no maker is clear)."""
        hits = self._named(name, provider) or ([] if exact else self._matched(name, provider))
        if not hits and provider is not None:
            # a model the provider sells at another's prices (genai-prices' fallback)
            for other in self.index["providers"][provider].get("fallback", []):
                if other in self.index["providers"] and (hit := self.resolve(name, other)):
                    return hit
        if len(hits) <= 1:
            return hits[0] if hits else None
        # a name that is nearly one entry's own id is that entry's (a Bedrock id is AWS's)
        import difflib

        def likeness(hit: tuple[str, int]) -> float:
            own = str(self.entry(*hit)["id"]).lower()
            return difflib.SequenceMatcher(None, name, own).ratio()

        ranked = sorted(hits, key=likeness, reverse=True)
        if likeness(ranked[0]) >= 0.9 and likeness(ranked[0]) > likeness(ranked[1]):
            return ranked[0]
        if BEDROCK_ID.match(name):  # "anthropic.claude-3-haiku-...-v1:0" is sold by AWS only
            aws = [h for h in hits if h[0] == "aws"]
            if aws:
                return aws[0]
        makers = [
            h for h in hits if matches(self.index["providers"][h[0]].get("model_match"), name)
        ]
        if len({pid for pid, _ in makers}) == 1:
            return makers[0]
        for pid in MAKER_ORDER:
            for h in hits:
                if h[0] == pid:
                    return h
        choices = ", ".join(f"{pid}:{self.entry(pid, i)['id']}" for pid, i in hits[:6])
        raise CostcalcError(f"model {name!r} is sold by several providers: name one ({choices})")

    def names(self) -> list[str]:
        """Every name the data gives its models (ids and exact aliases)."""
        return sorted(self._exact)

    def find(self, names: list[str], provider: str) -> tuple[str, int] | None:
        """The entry of ``provider`` that one of a curated model's ``names`` (id, aliases,
        snapshots, in that order) names: an exact name first, then genai-prices' patterns."""
        if provider not in self.index["providers"]:
            return None
        keys = [n.strip().lower() for n in names]
        for key in keys:
            if hits := self._named(key, provider):
                return hits[0]
        for key in keys:
            if hits := self._matched(key, provider):
                return hits[0]
        return None

    def _named(self, name: str, provider: str | None) -> list[tuple[str, int]]:
        """The entries (of ``provider``, or of any) whose id or exact alias is ``name``."""
        return [h for h in self._exact.get(name, []) if provider in (None, h[0])]

    def _matched(self, name: str, provider: str | None) -> list[tuple[str, int]]:
        """The entries (of ``provider``, or of any) whose genai-prices pattern takes ``name``."""
        return [
            (pid, i)
            for pid, i in self.entries(provider)
            if matches(self.entry(pid, i).get("match"), name)
        ]

    def model(
        self, pid: str, i: int, encoding: Encoding | None = None, variants: bool = True
    ) -> Model:
        """The price-table model of entry ``i`` of provider ``pid`` (built once); without
        ``variants``, its standard prices only (a model another provider sells at these
        prices: that provider's own rules decide its modes, as genai-prices prices it)."""
        built = self._built.get((pid, i, variants))
        if built is None:
            built = self._build(pid, self.entry(pid, i), encoding, variants)
            self._built[(pid, i, variants)] = built
        return built

    def url(self, pid: str, m: Mapping[str, Any]) -> str:
        """The page an entry's prices cite: its own, its provider's, or the data's home."""
        return str(
            m.get("url")
            or self.index["providers"][pid].get("url")
            or self.index["source"].get("url")
            or "https://github.com/pydantic/genai-prices"
        )

    def provenance(self, m: Mapping[str, Any]) -> tuple[str, dt.date]:
        """The data an entry came from and the day it was read (an entry of the shipped index
        behind updated data keeps its own)."""
        read = m.get("read")
        return m.get("origin") or self.origin, dt.date.fromisoformat(read) if read else self.read_on

    def _build(
        self, pid: str, m: Mapping[str, Any], encoding: Encoding | None, variants: bool
    ) -> Model:
        url = self.url(pid, m)
        origin, read_on = self.provenance(m)
        periods = []
        for p in m["periods"]:
            note = "; ".join(m.get("notes", [])) or None
            if p.get("no_output_price"):
                note = "; ".join(filter(None, [note, "no output price: output is billed at 0"]))
            periods.append(
                PricePeriod.model_construct(
                    effective_from=dt.date.fromisoformat(p["from"]) if p["from"] else None,
                    as_of=read_on,
                    source=url,
                    origin=origin,
                    note=note,
                    standard=_prices(StandardPrices, p["standard"]),
                    batch=_prices(ComponentPrices, p.get("batch")) if variants else None,
                    flex=_prices(ComponentPrices, p.get("flex")) if variants else None,
                    priority=_prices(ComponentPrices, p.get("priority")) if variants else None,
                    fast=_prices(ComponentPrices, p.get("fast")) if variants else None,
                    tiers=tuple(
                        ContextTier.model_construct(
                            above_input_tokens=t["above"],
                            standard=_prices(StandardPrices, t["standard"]),
                            batch=_prices(ComponentPrices, t.get("batch")) if variants else None,
                            flex=_prices(ComponentPrices, t.get("flex")) if variants else None,
                            priority=(
                                _prices(ComponentPrices, t.get("priority")) if variants else None
                            ),
                            fast=_prices(ComponentPrices, t.get("fast")) if variants else None,
                        )
                        for t in p.get("tiers", [])
                    ),
                )
            )
        return Model.model_construct(
            id=m["id"],
            name=m.get("name") or m["id"],
            aliases=(),
            snapshots=(),
            encoding=encoding,
            context_window=m.get("context_window"),
            max_input_tokens=m.get("max_input_tokens"),
            max_output_tokens=m.get("max_output_tokens"),
            released=None,
            deprecated=(
                dt.date.fromisoformat(m["deprecation_date"]) if m.get("deprecation_date") else None
            ),
            deprecation=(
                f"{origin} marks it deprecated"
                + ("" if m.get("deprecation_date") else " (no date given)")
                if m.get("deprecated") or m.get("deprecation_date")
                else None
            ),
            teaching=False,
            reasoning=False,
            description=m.get("price_comments"),
            batch=True,
            speed=None,
            rate_limits=None,
            prices=tuple(periods),
        )

    def provider(self, pid: str) -> Provider:
        """A provider that only genai-prices knows: its name and pricing page, no rules."""
        prov = self.index["providers"][pid]
        return Provider.model_construct(
            provider=pid,
            name=prov["name"],
            currency="USD",
            source=prov.get("url") or "https://github.com/pydantic/genai-prices",
            batch=None,
            flex=None,
            priority=None,
            token_estimate=UNKNOWN_TOKENIZER,
            speed=None,
            rate_limits=None,
            known_from=self.origin,
            models=(),
        )


def _prices(kind: type[ComponentPrices], given: Mapping[str, str] | None) -> Any:
    if not given:
        return None
    values = {c: Decimal(v) for c, v in given.items()}
    fields = dict.fromkeys(ComponentPrices.model_fields)
    fields.update(values)
    return kind.model_construct(**fields)


def origin_of(source: Mapping[str, Any]) -> str:
    """How prices from an index say where they came from: ``genai-prices 0.2.3`` for the
    package's data, the name given for other data (``genai-prices data.json (prices update
    2026-12-01)``)."""
    if source.get("origin"):
        return str(source["origin"])
    if "package" in source:
        return f"{source['package']} {source['version']}"
    return str(source.get("file") or source.get("from") or "price data")


MAX_INDEX_BYTES = 64 * 1024 * 1024
"""The largest index file read: as large as the price data it could be compiled from
(``costcalc.prices.data.MAX_BYTES``; the shipped index is under 1 MB)."""


def read_index(path: Path) -> dict[str, Any]:
    """A compiled index file, read within bounds (the updated one is in the user's folder,
    where anything may be put): a regular file of at most ``MAX_INDEX_BYTES``, JSON as
    ``parse_json`` reads it. ``OSError`` or ``ValueError`` saying why when it is not."""
    import stat

    from costcalc.jsonlines import parse_json

    # without waiting: a FIFO with no writer would block the open itself
    nonblocking = getattr(os, "O_NONBLOCK", 0)
    with open(path, "rb", opener=lambda p, flags: os.open(p, flags | nonblocking)) as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise ValueError("not a regular file")
        data = f.read(MAX_INDEX_BYTES + 1) if st.st_size <= MAX_INDEX_BYTES else b""
    if st.st_size > MAX_INDEX_BYTES or len(data) > MAX_INDEX_BYTES:
        raise ValueError(f"more than {MAX_INDEX_BYTES:,} bytes")
    index = parse_json(data)
    if not isinstance(index, dict):
        raise ValueError(f"expected a JSON object, found {type(index).__name__}")
    return index


def load_catalog(path: Path) -> Catalog:
    """The catalogue of a compiled index file."""
    index = read_index(path)
    return Catalog(index, origin_of(index["source"]))


def layered(updated: Mapping[str, Any], shipped: Mapping[str, Any]) -> dict[str, Any]:
    """One index of updated data and, behind it, every model of the shipped index that the
    updated data does not name (by id or exact name, for the same provider). Each entry taken
    from the shipped index keeps where it came from (``origin``, ``read``, ``url``)."""
    providers = {pid: dict(p) for pid, p in updated["providers"].items()}
    origin, read = origin_of(shipped["source"]), shipped["source"]["read"]
    home = shipped["source"].get("url") or "https://github.com/pydantic/genai-prices"
    for pid, prov in shipped["providers"].items():
        target = providers.setdefault(
            pid, {**{k: v for k, v in prov.items() if k != "models"}, "models": []}
        )
        names = {
            n for m in target["models"] for n in {m["id"].lower(), *exact_names(m.get("match"))}
        }
        behind = [
            {**m, "origin": origin, "read": read, "url": m.get("url") or prov.get("url") or home}
            for m in prov["models"]
            if not ({m["id"].lower(), *exact_names(m.get("match"))} & names)
        ]
        if behind:
            target["models"] = [*target["models"], *behind]
    return {**updated, "providers": providers}


def not_found(
    name: str,
    curated: list[str],
    catalog: Catalog | None,
    model: str | None = None,
    provider: str | None = None,
) -> UnknownModelError:
    """Why ``name`` (``model`` of ``provider``, as looked up) is no model to quote."""
    import difflib

    key = name.lower().partition(":")[2] or name.lower()
    if catalog is not None and model is not None:
        listed = catalog.unpriced(model, provider)
        if listed is not None:
            return UnknownModelError(
                name,
                unpriced=f"{catalog.origin} lists {listed} without one (a free model, or one "
                "priced per image, audio second or request), so costcalc cannot quote it",
            )
    # the closest names of the curated table and the data together, best first
    names = sorted({*curated, *(catalog.names() if catalog is not None else ())})
    close = difflib.get_close_matches(key, names, n=3, cutoff=0.6)
    return UnknownModelError(name, close)
