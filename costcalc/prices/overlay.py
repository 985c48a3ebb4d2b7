"""Updated price data over the curated table: which price wins.

Precedence, highest first:

1. user price files (``--prices FILE``, ``$COSTCALC_PRICES``): applied last, each model in
   them replaces the whole model of that id;
2. updated data (``costcalc prices update``, kept in the user data folder): every price it
   states, for every model it lists, curated models included (it is newer than anything
   shipped);
3. the curated YAML (``pricing/*.yaml``): everything the updated data does not state;
4. the shipped genai-prices index (``pricing/genai-prices.json``): models that neither the
   updated data nor the curated YAML names.

A curated model that the updated data lists (by its id, an alias or a snapshot, exactly or by
genai-prices' patterns, for the same provider) keeps its names, speed, rate limits, context
window, batch rules and its dated history before the data's first date, and takes the data's
prices from then on. The data's first date is the start of its first price period; when that
period has no start (genai-prices and LiteLLM give none for the prices they list as current),
the start of the curated prices in effect on the day the data was read: the data says what
the prices are, not since when, so the curated history before them stands.

From that date each period of the data is a period of the model; a price it does not state
(a delivery mode, a component, a long-context tier) is the curated one in effect on that
period's first day, and the period's note says which. Teaching rates are not list prices: the
data never replaces them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from costcalc.prices.catalog import Catalog
from costcalc.prices.genai import MODES
from costcalc.prices.schema import ComponentPrices, ContextTier, Model, PricePeriod, Provider


def apply_update(providers: Mapping[str, Provider], catalog: Catalog) -> dict[str, Provider]:
    """The curated providers with the updated data's prices over their models."""
    out: dict[str, Provider] = {}
    for pid, prov in providers.items():
        models = []
        for model in prov.models:
            hit = None if model.teaching else catalog.find(model.names(), pid)
            models.append(model if hit is None else merged(model, catalog, *hit))
        changed = any(a is not b for a, b in zip(models, prov.models, strict=True))
        out[pid] = prov.model_copy(update={"models": tuple(models)}) if changed else prov
    return out


def _day(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _in_effect(periods: Sequence[PricePeriod], day: dt.date | None) -> PricePeriod:
    """The curated period in effect on ``day`` (None, or before the first: the first)."""
    chosen = periods[0]
    for p in periods:
        if day is not None and (p.effective_from is None or p.effective_from <= day):
            chosen = p
    return chosen


def merged(model: Model, catalog: Catalog, pid: str, i: int) -> Model:
    """``model`` with the prices of entry ``i`` of ``pid`` in the updated data from the
    data's first date on (see the module docstring)."""
    entry = catalog.entry(pid, i)
    origin, read_on = catalog.provenance(entry)
    data = entry["periods"]
    first = _day(data[0]["from"])
    cut = first if first is not None else _in_effect(model.prices, read_on).effective_from
    periods = [
        p
        for p in model.prices
        if cut is not None and (p.effective_from is None or p.effective_from < cut)
    ]
    at_cut = 0  # the data's period in effect on the cut
    for n, p in enumerate(data):
        begins = _day(p["from"])
        if cut is not None and (begins is None or begins <= cut):
            at_cut = n
    for n, p in enumerate(data):
        start = _day(p["from"])
        if n == at_cut:
            start = cut
        elif start is None or (cut is not None and start <= cut):
            continue  # superseded before the cut
        curated = _in_effect(model.prices, start)
        periods.append(_period(p, start, curated, entry, origin, read_on, catalog.url(pid, entry)))
    return model.model_copy(update={"prices": tuple(periods)})


def _period(
    p: Mapping[str, Any],
    start: dt.date | None,
    curated: PricePeriod,
    entry: Mapping[str, Any],
    origin: str,
    read_on: dt.date,
    url: str,
) -> PricePeriod:
    kept: list[str] = []
    no_output = bool(p.get("no_output_price"))
    period: dict[str, Any] = {
        "effective_from": start,
        "as_of": read_on,
        "source": url,
        "origin": origin,
        "standard": _fill(p["standard"], curated.standard, "standard", kept, no_output),
    }
    for mode in MODES:
        period[mode] = _fill_mode(p.get(mode), getattr(curated, mode), mode, kept)
    period["tiers"] = _tiers(p.get("tiers", []), curated.tiers, kept, no_output)
    notes = list(entry.get("notes", []))
    if kept:
        notes.append(
            f"prices the update does not state are the curated table's "
            f"({curated.provenance()}): {', '.join(kept)}"
        )
    period["note"] = "; ".join(notes) or None
    return PricePeriod.model_validate(period)


def _fill(
    given: Mapping[str, Any],
    curated: ComponentPrices | None,
    label: str,
    kept: list[str],
    no_output: bool = False,
) -> dict[str, Any]:
    """The data's prices of one mode, with the components it lacks from the curated ones."""
    out = dict(given)
    if no_output:
        out.pop("output", None)  # the data has no output price: not a price of 0
    for component, value in (curated.stated() if curated is not None else {}).items():
        if component not in out:
            out[component] = value
            kept.append(f"{label} {component.replace('_', ' ')}")
    return out


def _fill_mode(
    given: Mapping[str, Any] | None, curated: ComponentPrices | None, mode: str, kept: list[str]
) -> dict[str, Any] | None:
    if given is None:
        if curated is None:
            return None
        kept.append(mode)
        return dict(curated.stated())
    return _fill(given, curated, mode, kept)


def _tiers(
    data: list[Mapping[str, Any]], curated: Sequence[ContextTier], kept: list[str], no_output: bool
) -> list[dict[str, Any]]:
    by_above = {t.above_input_tokens: t for t in curated}
    out: list[dict[str, Any]] = []
    for t in data:
        above = t["above"]
        c = by_above.pop(above, None)
        label = f"input > {above:,}:"
        tier: dict[str, Any] = {
            "above_input_tokens": above,
            "standard": _fill(
                t["standard"],
                c.standard if c else None,
                f"{label} standard",
                kept,
                no_output and c is not None,
            ),
        }
        for mode in MODES:
            tier[mode] = _fill_mode(
                t.get(mode), getattr(c, mode) if c else None, f"{label} {mode}", kept
            )
        out.append(tier)
    for above, c in by_above.items():
        kept.append(f"the long-context tier above {above:,} input tokens")
        out.append(c.model_dump(exclude_none=True))
    return sorted(out, key=lambda t: int(t["above_input_tokens"]))
