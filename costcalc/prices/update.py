"""`costcalc prices update`: read newer price data, keep it in the user data folder, and say
what changed against the data in use before.

The data is genai-prices' published ``data.json`` (by default, from genai-prices' own URL) or
LiteLLM's ``model_prices_and_context_window.json``, from a file or a URL
(``costcalc.prices.data``). It is compiled into the index the shipped genai-prices data is
compiled into and written atomically to ``prices-update.json`` in the user data folder
(``costcalc.userdata``), never into the installed package. From then on it wins over the
shipped prices for every price it states (``costcalc.prices.overlay`` has the rules) and each
such price says it came from it; ``remove_price_update`` goes back to the shipped prices.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import os
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from costcalc.errors import (
    CostcalcError,
    EnvironmentFailure,
    InputFileError,
    os_failure,
    path_argument,
)
from costcalc.money import MoneyOut
from costcalc.prices.genai import INDEX_FILE, MODES
from costcalc.prices.load import (
    UpdateStamp,
    builtin_pricing_dir,
    file_stamp,
    forget_loaded,
    price_update_file,
    updated_index,
)
from costcalc.prices.schema import PRICE_MODES
from costcalc.prices.table import REQUEST_FEE, ModelPrices, PriceTable
from costcalc.units import date_argument


class Report(BaseModel):
    model_config = ConfigDict(defer_build=True)


class ModelRef(Report):
    provider: str
    model: str


class PriceChange(Report):
    """One price of one model that differs between the data before and after."""

    provider: str
    model: str
    was: str | None = None
    """The old data's id for the model, where it is another (``grok-4-0709`` for ``grok-4``)."""
    component: str
    """``input``, ``batch cached input``, ``input > 200,000: output`` ..."""
    old: MoneyOut | None
    """USD per 1M tokens before (None: not stated)."""
    new: MoneyOut | None


class ProviderCounts(Report):
    provider: str
    before: int
    after: int
    added: int
    removed: int
    changed: int
    """Models whose prices changed."""


class PriceUpdate(Report):
    """What `costcalc prices update` read, where it kept it, and what changed."""

    on: dt.date
    """The day the data was read: prices are compared as in effect on it."""
    source: str
    """The file (absolute path) or URL read."""
    format: str
    origin: str
    """How prices from this data say where they came from from now on."""
    written: str
    previous: str
    """The data in use before, that this update is compared with."""
    models: int
    skipped: int
    """Models of the data left out: no token price, not text generation, or a price above
    ``MAX_PRICE`` per 1M tokens (a typo in the data)."""
    added: list[ModelRef]
    """Models the new data lists and the old did not (by id, or by any name either gives)."""
    removed: list[ModelRef]
    """Models the old data listed and the new does not: those the shipped genai-prices data
    lists are still priced, from it."""
    changed: list[PriceChange]
    providers: list[ProviderCounts]


class PriceUpdateRemoval(Report):
    """What `costcalc prices update --remove` did."""

    path: str
    removed: bool
    """False: there was no updated data."""
    now: str
    """The data in use now."""


def _shipped() -> tuple[dict[str, Any] | None, str]:
    from costcalc.prices.catalog import origin_of, read_index

    path = builtin_pricing_dir() / INDEX_FILE
    try:
        index = read_index(path)
    except (OSError, ValueError):
        return None, "the curated table alone (no genai-prices index is shipped)"
    return index, f"the shipped {origin_of(index['source'])} ({path.name})"


def _in_use(target: Path) -> tuple[dict[str, Any] | None, str, UpdateStamp | None]:
    """The data in use now, what it is, and the stamp of the updated data it is (None: the
    shipped data, also where the update kept there cannot be read: updating replaces it)."""
    from costcalc.prices.catalog import origin_of

    stamp = file_stamp(target)
    if stamp is not None:
        try:
            index = updated_index(stamp)
        except CostcalcError:
            pass
        else:
            origin = f"{origin_of(index['source'])} from {index['source'].get('from')}"
            return _behind(index), origin, stamp
    return (*_shipped(), None)


def _behind(updated: dict[str, Any]) -> dict[str, Any]:
    """The models quoted with updated data: its own and, behind them, the shipped index's
    models it does not name (``costcalc.prices.load._catalog`` layers them the same way), so
    a partial update removes nothing it does not replace."""
    from costcalc.prices.catalog import layered

    shipped, _ = _shipped()
    return updated if shipped is None else layered(updated, shipped)


def update_prices(
    source: str | os.PathLike[str] | None = None,
    *,
    today: dt.date | str | None = None,
    home: str | os.PathLike[str] | None = None,
) -> PriceUpdate:
    """Read the price data at ``source`` (a file, str or os.PathLike, or an http(s) URL;
    default: genai-prices' published data.json), keep it in the user data folder (``home``:
    another folder, str or os.PathLike), and return what changed against the data in use
    before, as in effect on ``today`` (a ``datetime.date`` or 'YYYY-MM-DD'; default today).

    Updated data wins over the shipped prices for every price it states, the curated YAML's
    included; user price files win over it (``costcalc.prices.overlay``)."""
    from costcalc.prices.data import default_url, read_price_data

    if source is not None:
        source = path_argument(source, "source", "update_prices")
    day = date_argument(today, "today", "update_prices") if today is not None else dt.date.today()
    target = price_update_file(home, "update_prices")
    data = read_price_data(default_url() if source is None else source, read=day)
    data.compiled["source"]["origin"] = f"{data.format_name} (prices update {day.isoformat()})"
    before, previous, stamp = _in_use(target)
    from costcalc.prices.load import _load

    quoted_before = _load((), stamp)  # the curated models as quoted until now
    _write(target, json.dumps(data.compiled, separators=(",", ":"), sort_keys=True) + "\n")
    forget_loaded()
    after = _behind(data.compiled)
    added, removed, changed, counts = diff_indexes(before or {"providers": {}}, after, day)
    # a curated model is quoted from the curated table where the data states nothing: its
    # changes are those of its prices as quoted (the data's entries alone listed a batch
    # price "removed" that the curated table still gives)
    curated, quoted = _curated_changes(quoted_before, _load((), file_stamp(target)), day)
    changed = sorted(
        [c for c in changed if (c.provider, c.model) not in curated] + quoted,
        key=lambda c: (c.provider, c.model, _component_order(c.component)),
    )
    models_changed = collections.Counter(p for p, _ in {(c.provider, c.model) for c in changed})
    counts = [p.model_copy(update={"changed": models_changed[p.provider]}) for p in counts]
    return PriceUpdate(
        on=day,
        source=data.where,
        format=data.format_name,
        origin=data.compiled["source"]["origin"],
        written=str(target),
        previous=previous,
        models=sum(len(p["models"]) for p in data.compiled["providers"].values()),
        skipped=data.compiled.get("skipped", 0),
        added=added,
        removed=removed,
        changed=changed,
        providers=counts,
    )


def _curated_changes(
    old: PriceTable, new: PriceTable, on: dt.date
) -> tuple[set[tuple[str, str]], list[PriceChange]]:
    """The curated models, and each price of theirs that changed as it is quoted on ``on``
    (the table with the data before, and with the data after)."""
    curated: set[tuple[str, str]] = set()
    changes = []
    for pid, prov in new.providers.items():
        for model in prov.models:
            curated.add((pid, model.id))
            name = f"{pid}:{model.id}"
            a, b = quoted_prices(old.prices(name, on)), quoted_prices(new.prices(name, on))
            changes += [
                PriceChange(provider=pid, model=model.id, component=c, old=a.get(c), new=b.get(c))
                for c in sorted(a.keys() | b.keys(), key=_component_order)
                if a.get(c) != b.get(c)
            ]
    return curated, changes


def quoted_prices(prices: ModelPrices) -> dict[str, Decimal]:
    """Every price a model is quoted at on its day (each mode's, published or from the
    provider's rule), by the labels of ``flat_prices``."""
    out: dict[str, Decimal] = {}
    for above in (None, *(t.above_input_tokens for t in prices.period.tiers)):
        prefix = "" if above is None else f"input > {above:,}: "
        for mode in PRICE_MODES:
            rates = prices.mode(mode, 0 if above is None else above + 1)
            if not rates.available:
                continue
            given = {c: rate.usd_per_mtok for c, rate in rates.rates.items()}
            if rates.request_fee is not None:
                given[REQUEST_FEE] = rates.request_fee
            for component, value in given.items():
                label = component.replace("_", " ")
                out[prefix + (label if mode == "standard" else f"{mode} {label}")] = value
    return out


def remove_price_update(home: str | os.PathLike[str] | None = None) -> PriceUpdateRemoval:
    """Delete the updated data kept by ``update_prices`` (in ``home``, str or os.PathLike,
    when given): the shipped prices are used again."""
    target = price_update_file(home, "remove_price_update")
    try:
        target.unlink()
        removed = True
    except FileNotFoundError:
        removed = False
    except OSError as exc:
        raise os_failure(target, exc, "cannot remove it") from None
    forget_loaded()
    return PriceUpdateRemoval(path=str(target), removed=removed, now=_shipped()[1])


def _write(target: Path, text: str) -> None:
    from costcalc._version import PACKAGE_DIR
    from costcalc.atomic import write_file

    folder = target.parent
    where = folder.resolve()
    if where.is_relative_to(PACKAGE_DIR) or where.is_relative_to(builtin_pricing_dir()):
        raise InputFileError(
            folder, "is inside the installed costcalc package: set $COSTCALC_HOME elsewhere"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise os_failure(folder, exc, "cannot create the user data folder") from None
    try:
        write_file(target, text, force=True)
    except (CostcalcError, EnvironmentFailure):
        raise
    except OSError as exc:
        raise os_failure(folder, exc, "cannot write there") from None


# --- the diff ------------------------------------------------------------------------------


def in_effect(entry: Mapping[str, Any], on: dt.date) -> Mapping[str, Any]:
    """The period of an index entry in effect on ``on`` (before the first: the first)."""
    periods = entry["periods"]
    chosen = periods[0]
    for p in periods:
        if p["from"] is None or p["from"] <= on.isoformat():
            chosen = p
    return chosen  # type: ignore[no-any-return]


def flat_prices(entry: Mapping[str, Any], on: dt.date) -> dict[str, Decimal]:
    """Every price of an index entry in effect on ``on``, by label (``batch cached input``,
    ``input > 200,000: output``)."""
    period = in_effect(entry, on)
    out: dict[str, Decimal] = {}
    parts = [("", period), *((f"input > {t['above']:,}: ", t) for t in period.get("tiers", []))]
    for prefix, part in parts:
        for mode in ("standard", *MODES):
            for component, value in (part.get(mode) or {}).items():
                if mode == "standard" and component == "output" and period.get("no_output_price"):
                    continue  # 0 stands for "not stated"
                label = component.replace("_", " ")
                out[prefix + (label if mode == "standard" else f"{mode} {label}")] = Decimal(value)
    return out


def _models(index: Mapping[str, Any]) -> dict[tuple[str, str], Mapping[str, Any]]:
    return {
        (pid, m["id"]): m
        for pid, prov in index.get("providers", {}).items()
        for m in prov["models"]
    }


def _pairs(
    old: Mapping[tuple[str, str], Mapping[str, Any]],
    new: Mapping[tuple[str, str], Mapping[str, Any]],
) -> dict[tuple[str, str], tuple[str, str]]:
    """Each new model -> the old model it is: the same id, else one whose names (or, last,
    genai-prices' patterns) name it, for the same provider, as the catalogue matches names
    (genai-prices' ``grok-4-0709`` answers to LiteLLM's ``grok-4``)."""
    from costcalc.prices.genai import exact_names, matches

    named: dict[tuple[str, str], tuple[str, str]] = {}
    for key, m in old.items():
        for name in (m["id"].lower(), *exact_names(m.get("match"))):
            named.setdefault((key[0], name), key)
    pairs: dict[tuple[str, str], tuple[str, str]] = {}
    for key, m in new.items():
        if key in old:
            pairs[key] = key
            continue
        names = [m["id"].lower(), *exact_names(m.get("match"))]
        hit = next((named[(key[0], n)] for n in names if (key[0], n) in named), None)
        if hit is None:
            hit = next(
                (k for k, o in old.items() if k[0] == key[0] and matches(o.get("match"), names[0])),
                None,
            )
        if hit is not None:
            pairs[key] = hit
    return pairs


def diff_indexes(
    before: Mapping[str, Any], after: Mapping[str, Any], on: dt.date
) -> tuple[list[ModelRef], list[ModelRef], list[PriceChange], list[ProviderCounts]]:
    """Models added, removed, prices changed (as in effect on ``on``), counts per provider.
    A model is the same model when it has the same id, or when the other's names name it."""
    old, new = _models(before), _models(after)
    pairs = _pairs(old, new)
    kept = set(pairs.values())
    added = [ModelRef(provider=p, model=m) for p, m in sorted(new.keys() - pairs.keys())]
    removed = [ModelRef(provider=p, model=m) for p, m in sorted(old.keys() - kept)]
    changed: list[PriceChange] = []
    changed_models: set[tuple[str, str]] = set()
    for key, was in sorted(pairs.items()):
        a, b = flat_prices(old[was], on), flat_prices(new[key], on)
        for component in sorted(a.keys() | b.keys(), key=_component_order):
            if a.get(component) != b.get(component):
                changed_models.add(key)
                changed.append(
                    PriceChange(
                        provider=key[0],
                        model=key[1],
                        was=None if was == key else was[1],
                        component=component,
                        old=a.get(component),
                        new=b.get(component),
                    )
                )
    counts = []
    for pid in sorted({p for p, _ in old} | {p for p, _ in new}):
        counts.append(
            ProviderCounts(
                provider=pid,
                before=sum(1 for p, _ in old if p == pid),
                after=sum(1 for p, _ in new if p == pid),
                added=sum(1 for r in added if r.provider == pid),
                removed=sum(1 for r in removed if r.provider == pid),
                changed=sum(1 for p, _ in changed_models if p == pid),
            )
        )
    return added, removed, changed, counts


_ORDER = ["input", "cached input", "cache write 5m", "cache write 1h", "output", "per 1k requests"]


def _component_order(label: str) -> tuple[int, int, int]:
    """Base prices first, then tiers; standard, batch, flex, priority; then the components."""
    tier, _, rest = label.rpartition(": ")
    above = int(tier.removeprefix("input > ").replace(",", "")) if tier else 0
    mode, _, component = rest.partition(" ")
    if mode not in MODES:
        mode, component = "standard", rest
    modes = ["standard", *MODES]
    return above, modes.index(mode), _ORDER.index(component) if component in _ORDER else 9
