"""Prices from pydantic's genai-prices: its published data (``data.json``) turned into costcalc's
price-table models.

genai-prices (MIT) keeps list prices, cache prices, long-context tiers, dated changes and
price variants (``processing: batch``, ``service_tier: flex|priority``) for about 2,300
models of 47 providers. costcalc reads the data in the shape genai-prices publishes it (the
``data.json`` its own auto-update fetches); the installed package's bundled data is turned
into that same shape first (:func:`raw_from_package`).

The data is compiled into a compact index (:func:`index_from_raw`): per provider, each model
with its names, context window, and price periods in costcalc's terms. The shipped index
(``pricing/genai-prices.json``, written by ``costcalc prices compile``) is read on demand,
one provider at a time, so a quote of a curated model never reads it.

What the index keeps, and what it leaves out (each left-out price is counted in ``skipped``):
text-token prices (input, cached input, 5-minute and 1-hour cache writes, output), their
long-context tiers (a tier applies to the whole request once its input exceeds the tier's
start, as in genai-prices) and the variants batch, flex and priority, each from its start
date. Audio, image, search and per-request prices, Anthropic's and OpenAI's ``fast`` tiers
and time-of-day prices (DeepSeek's off-peak hours) are not delivery modes costcalc prices
yet: a model whose only prices are of those kinds is left out. Of time-of-day prices, a
model keeps those of most hours of the day (DeepSeek chat: its 16 day hours, not the night's
discount genai-prices lists as the base; V4: the hours outside its 7 peak hours), with a note
giving the others.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

GENAI_PACKAGE = "genai-prices"
INDEX_FILE = "genai-prices.json"
INDEX_FORMAT = 1

COMPONENT_OF = {
    "input_mtok": "input",
    "cache_read_mtok": "cached_input",
    "cache_write_mtok": "cache_write_5m",
    "cache_write_1h_mtok": "cache_write_1h",
    "output_mtok": "output",
    "requests_kcount": "per_1k_requests",
}
"""genai-prices price keys -> costcalc's price components (USD per 1M tokens, both; the fee
per request per 1,000 requests, both)."""

VARIANT_MODE = {
    (("processing", "batch"),): "batch",
    (("service_tier", "flex"),): "flex",
    (("service_tier", "priority"),): "priority",
    (("service_tier", "fast"),): "fast",
    (("speed", "fast"),): "fast",
}
"""genai-prices price variants (``when``) -> costcalc's price modes."""

MODES = ("batch", "flex", "priority", "fast")


# --- the installed package's data, in the published shape -----------------------------------


def installed_version() -> str | None:
    """The version of the installed genai-prices, without importing it (None: not installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(GENAI_PACKAGE)
    except PackageNotFoundError:
        return None


def raw_from_package() -> tuple[list[dict[str, Any]], str]:
    """The installed genai-prices' bundled data as published (a list of providers), and its
    version."""
    try:
        from genai_prices.data import providers
    except ImportError:  # pragma: no cover - a dependency from Python 3.11 on
        from costcalc.errors import CostcalcError

        raise CostcalcError(
            "genai-prices is not installed (it needs Python 3.11 or later): "
            "pip install 'genai-prices>=0.2.3,<0.3'"
        ) from None
    return [_raw(p) for p in providers], installed_version() or "unknown"


def _raw(value: Any) -> Any:
    """genai-prices' dataclasses as the JSON it publishes (``None`` fields left out)."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {k: _raw(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_raw(v) for v in value]
    fields = {
        k.rstrip("_"): v for k, v in vars(value).items() if not k.startswith("_") and v is not None
    }
    return {k: _raw(v) for k, v in fields.items()}


# --- the compact index ----------------------------------------------------------------------


def index_from_raw(raw: Any, source: Mapping[str, Any]) -> dict[str, Any]:
    """The compact index of genai-prices data in its published shape (``raw``: a list of
    providers). ``source`` says where the data came from (package and version, or file).

    Data that is not in that shape raises ``ValueError`` naming the provider, model and
    price: no providers, a provider without models, a price that is not a number."""
    if not isinstance(raw, list):
        raise ValueError("expected a list of providers (genai-prices' data.json)")
    if not raw:
        raise ValueError("an empty list: no providers")
    providers: dict[str, Any] = {}
    skipped = 0
    for n, p in enumerate(raw):
        if not isinstance(p, Mapping) or not isinstance(p.get("id"), str):
            raise ValueError(f"providers[{n}]: expected a provider (an object with an id)")
        where = f"provider {p['id']!r}"
        if not isinstance(p.get("models"), list) or not p["models"]:
            raise ValueError(f"{where}: has no models")
        check_match(p.get("model_match"), f"{where}: model_match")
        models = []
        unpriced = []
        for m in p["models"]:
            _check_model(m, where)
            entry = _model_entry(m)
            if entry is None:
                skipped += 1
                unpriced.append(m["id"])
                continue
            models.append(entry)
        urls = [u for u in p.get("pricing_urls") or [] if _is_url(u)]
        providers[p["id"]] = {
            "name": p.get("name") or p["id"],
            "url": urls[0] if urls else None,
            "model_match": p.get("model_match"),
            # models it sells at another provider's prices (Azure sells OpenAI's)
            "fallback": list(p.get("fallback_model_providers") or []),
            "models": models,
        }
        if isinstance(p.get("price_comments"), str):
            providers[p["id"]]["price_comments"] = p["price_comments"]
        if unpriced:  # named, so a quote of one says why, not "unknown model"
            providers[p["id"]]["unpriced"] = unpriced
    if not any(p["models"] for p in providers.values()):
        # kept, it would replace every updated price with none
        raise ValueError(
            f"no model with a usable token price ({skipped:,} left out: no text-token price, "
            "or one above $100,000 per 1M tokens or per 1,000 requests)"
        )
    return {
        "format": INDEX_FORMAT,
        "source": dict(source),
        "providers": providers,
        "skipped": skipped,
    }


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and re.match(r"https?://\S{4,}$", value) is not None


def number(value: Any, where: str) -> Decimal:
    """A price as the data gives it (a number or a numeric string): a finite ``Decimal``, at
    least 0; anything else raises ``ValueError`` naming ``where``."""
    if isinstance(value, (int, float, str, Decimal)) and not isinstance(value, bool):
        try:
            price = Decimal(str(value).strip())
        except ArithmeticError:
            price = None
        if price is not None and price.is_finite():
            if price < 0:
                raise ValueError(f"{where}: a price must be >= 0, got {value!r}")
            return price
    raise ValueError(f"{where}: expected a number, got {value!r}")


def _check_prices(prices: Any, where: str) -> None:
    if not isinstance(prices, Mapping):
        raise ValueError(f"{where}: expected an object of prices, got {prices!r}")
    for key in COMPONENT_OF:
        value = prices.get(key)
        if isinstance(value, Mapping):
            number(value.get("base"), f"{where}.{key}.base")
            tiers = value.get("tiers") or []
            if not isinstance(tiers, list):
                raise ValueError(f"{where}.{key}.tiers: expected a list, got {tiers!r}")
            for t, tier in enumerate(tiers):
                at = f"{where}.{key}.tiers[{t}]"
                if not isinstance(tier, Mapping) or not isinstance(tier.get("start"), int):
                    raise ValueError(f"{at}: expected a start (a whole number) and a price")
                number(tier.get("price"), f"{at}.price")
        elif value is not None:
            number(value, f"{where}.{key}")


def _check_constraint(constraint: Any, where: str) -> None:
    start = constraint.get("start_date") if isinstance(constraint, Mapping) else None
    if start is None:
        return
    try:
        day = dt.date.fromisoformat(str(start))
    except ValueError:
        day = None
    if day is None or len(str(start)) != 10:
        raise ValueError(f"{where}.constraint.start_date: expected YYYY-MM-DD, got {start!r}")


def check_match(clause: Any, where: str) -> None:
    """A match clause's patterns compile (a bad one would fail every later name lookup)."""
    if not isinstance(clause, Mapping):
        return
    if "regex" in clause:
        try:
            re.compile(str(clause["regex"]))
        except re.error as exc:
            raise ValueError(f"{where}: bad regex {clause['regex']!r} ({exc})") from None
    for key in ("or", "and"):
        parts = clause.get(key)
        for part in parts if isinstance(parts, list) else []:
            check_match(part, where)


def _check_model(m: Any, where: str) -> None:
    """The parts of a model costcalc reads are of the published shape (raises ValueError)."""
    if not isinstance(m, Mapping) or not isinstance(m.get("id"), str):
        raise ValueError(f"{where}: expected each model to be an object with an id")
    where = f"{where}, model {m['id']!r}"
    check_match(m.get("match"), f"{where}: match")
    prices = m.get("prices")
    if isinstance(prices, list):
        for n, c in enumerate(prices):
            if not isinstance(c, Mapping):
                raise ValueError(f"{where}: prices[{n}]: expected an object")
            _check_constraint(c.get("constraint"), f"{where}: prices[{n}]")
            _check_prices(c.get("prices") or {}, f"{where}: prices[{n}].prices")
    elif prices is not None:
        _check_prices(prices, f"{where}: prices")
    variants = m.get("price_variants") or []
    if not isinstance(variants, list):
        raise ValueError(f"{where}: price_variants: expected a list")
    for n, v in enumerate(variants):
        if not isinstance(v, Mapping) or not isinstance(v.get("when") or {}, Mapping):
            raise ValueError(f"{where}: price_variants[{n}]: expected an object with a when")
        _check_constraint(v.get("constraint"), f"{where}: price_variants[{n}]")
        _check_prices(v.get("prices") or {}, f"{where}: price_variants[{n}].prices")
    window = m.get("context_window")
    if window is not None and (not isinstance(window, int) or isinstance(window, bool)):
        raise ValueError(f"{where}: context_window: expected a whole number, got {window!r}")


def within_bounds(periods: Iterable[Mapping[str, Any]]) -> bool:
    """Whether every price of these index periods is one costcalc takes (at most
    ``MAX_PRICE`` per 1M tokens: a bigger one is a typo in the data, and its model is left
    out rather than failing every price lookup)."""
    from costcalc.money import MAX_PRICE

    for period in periods:
        parts = [period, *period.get("tiers", [])]
        for part in parts:
            for key in ("standard", *MODES):
                for value in (part.get(key) or {}).values():
                    if Decimal(value) > MAX_PRICE:
                        return False
    return True


def _model_entry(m: Mapping[str, Any]) -> dict[str, Any] | None:
    periods = _periods(m)
    if not periods or not within_bounds(periods):
        return None
    entry: dict[str, Any] = {"id": m["id"], "match": m.get("match")}
    for key in ("name", "context_window", "deprecated", "price_comments"):
        if m.get(key) is not None:
            entry[key] = m[key]
    entry["periods"] = periods
    notes = _time_of_day_notes(m) + _left_out(m)
    if notes:
        entry["notes"] = notes
    return entry


def _conditionals(m: Mapping[str, Any]) -> list[tuple[str | None, Mapping[str, Any]]]:
    """(start date or None, prices) of the model's dated prices; time-of-day prices dropped,
    except prices that hold most hours of the day, which stand for the undated ones."""
    prices = m.get("prices")
    if isinstance(prices, Mapping):
        return [(None, prices)]
    most = _most_hours(m)
    out = []
    for c in prices or []:
        constraint = c.get("constraint") or {}
        if "start_time" in constraint:
            continue  # time-of-day prices: see _time_of_day_notes
        date = constraint.get("start_date")
        out.append((date, most[0] if most is not None and date is None else c.get("prices") or {}))
    return out


def _hours(constraint: Mapping[str, Any]) -> float:
    """Hours of the day from ``start_time`` to ``end_time`` (past midnight: wrapping)."""
    start, end = (dt.time.fromisoformat(str(constraint[k])) for k in ("start_time", "end_time"))
    span = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
    return (span % (24 * 60)) / 60


def _most_hours(m: Mapping[str, Any]) -> tuple[Mapping[str, Any], float] | None:
    """(prices, hours) of time-of-day prices that hold more than half the day, when the model
    has no dated prices: those are its prices for most requests (DeepSeek's chat models list
    the night's discount as their base, the day's 16 hours as a window); None otherwise."""
    prices = m.get("prices")
    if not isinstance(prices, list):
        return None
    if any("start_date" in (c.get("constraint") or {}) for c in prices):
        return None
    held: dict[str, tuple[Mapping[str, Any], float]] = {}
    for c in prices:
        constraint = c.get("constraint") or {}
        if "start_time" in constraint and "end_time" in constraint:
            key = json.dumps(c.get("prices") or {}, sort_keys=True)
            was = held.get(key, (c.get("prices") or {}, 0.0))[1]
            held[key] = (c.get("prices") or {}, was + _hours(constraint))
    best = max(held.values(), key=lambda v: v[1], default=None)
    return best if best is not None and best[1] > 12 else None


def _time_of_day_notes(m: Mapping[str, Any]) -> list[str]:
    prices = m.get("prices")
    notes = []
    most = _most_hours(m)
    if most is not None:  # the window's prices stand for the base: the base is the exception
        base = next((c.get("prices") or {} for c in prices or [] if not c.get("constraint")), {})
        other = ", ".join(f"{k} ${_base(v)}" for k, v in _components(base).items())
        hours = f"{most[1]:g}"
        notes.append(
            f"genai-prices lists time-of-day prices: costcalc prices the ones of {hours} hours "
            f"of the day (most requests), and the other {24 - most[1]:g} hours are cheaper "
            f"({other})"
        )
        return notes
    for c in prices if isinstance(prices, list) else []:
        constraint = c.get("constraint") or {}
        if "start_time" in constraint:
            given = _components(c.get("prices") or {})
            priced = ", ".join(f"{k} ${_base(v)}" for k, v in given.items())
            notes.append(
                f"genai-prices lists other prices from {constraint['start_time']} to "
                f"{constraint['end_time']} (time of day; {priced}); costcalc prices the hours "
                "outside"
            )
    return notes


def _left_out(m: Mapping[str, Any]) -> list[str]:
    """A note naming the prices costcalc does not apply (per request, audio, images, ...)."""
    prices = m.get("prices")
    given = (
        [prices] if isinstance(prices, Mapping) else [c.get("prices") or {} for c in prices or []]
    )
    other = sorted({k for p in given for k, v in p.items() if k not in COMPONENT_OF and v})
    if not other:
        return []
    return [f"genai-prices also lists {', '.join(other)}, which costcalc does not price"]


def _base(value: Any) -> str:
    return str(value["base"] if isinstance(value, Mapping) else value)


def _components(prices: Mapping[str, Any]) -> dict[str, Any]:
    return {COMPONENT_OF[k]: v for k, v in prices.items() if k in COMPONENT_OF and v is not None}


def _variants(m: Mapping[str, Any]) -> list[tuple[str, str | None, dict[str, Any]]]:
    out = []
    for v in m.get("price_variants") or []:
        when = tuple(sorted((v.get("when") or {}).items()))
        mode = VARIANT_MODE.get(when)
        if mode is None:
            continue
        constraint = v.get("constraint") or {}
        if "start_time" in constraint:
            continue
        out.append((mode, constraint.get("start_date"), _components(v.get("prices") or {})))
    return out


def _periods(m: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Price periods in costcalc's terms: one from each date on which a price or a variant
    changes, each with the standard prices and the variants in effect from then on."""
    conditionals = [(d, _components(p)) for d, p in _conditionals(m)]
    conditionals = [(d, c) for d, c in conditionals if "input" in c]
    if not conditionals:
        return []
    variants = _variants(m)
    starts = sorted(
        {d for d, _ in conditionals if d} | {d for _, d, _ in variants if d},
    )
    periods: list[dict[str, Any]] = []
    for start in [None, *starts]:
        standard = _in_effect(conditionals, start)
        modes: dict[str, dict[str, Any]] = {}
        for mode, begins, given in variants:
            if begins is None or (start is not None and begins <= start):
                # genai-prices lists variants newest first; the first in effect wins, per price
                chosen = modes.setdefault(mode, {})
                for component, price in given.items():
                    chosen.setdefault(component, price)
        period = _period(start, standard, modes)
        if periods and {k: v for k, v in period.items() if k != "from"} == {
            k: v for k, v in periods[-1].items() if k != "from"
        }:
            continue  # nothing changed on this date
        periods.append(period)
    return periods


def _in_effect(conditionals: list[tuple[str | None, dict[str, Any]]], day: str | None) -> Any:
    """The standard prices on ``day`` (None: before any dated change): the last conditional
    price whose start has come, else the first (genai-prices' rule)."""
    chosen = conditionals[0][1]
    for start, prices in conditionals:
        if start is None or (day is not None and start <= day):
            chosen = prices
    return chosen


def _period(
    start: str | None, standard: Mapping[str, Any], modes: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    """One period: flat prices at the base, and one tier per long-context threshold."""
    thresholds = sorted(
        {t["start"] for v in _all_values(standard, modes) for t in _tiers(v)},
    )
    period: dict[str, Any] = {"from": start, "standard": _flat(standard, None)}
    if "output" not in period["standard"]:
        period["standard"]["output"] = "0"
        period["no_output_price"] = True
    # a variant without prices says the mode is sold at the standard ones (genai-prices'
    # calc_price bills them; OpenAI's gpt-3.5-turbo-1106: "the Batch table lists the same
    # rates as standard"), not that its prices are unknown
    for mode, given in modes.items():
        period[mode] = _flat(given or standard, None)
    if thresholds:
        period["tiers"] = []
        for above in thresholds:
            tier: dict[str, Any] = {"above": above, "standard": _flat(standard, above)}
            if "output" not in tier["standard"]:
                tier["standard"]["output"] = "0"
            for mode, given in modes.items():
                tier[mode] = _flat(given or standard, above)
            period["tiers"].append(tier)
    return period


def _all_values(
    standard: Mapping[str, Any], modes: Mapping[str, Mapping[str, Any]]
) -> Iterable[Any]:
    yield from standard.values()
    for given in modes.values():
        yield from given.values()


def _tiers(value: Any) -> list[Mapping[str, Any]]:
    return list(value.get("tiers") or []) if isinstance(value, Mapping) else []


def _flat(prices: Mapping[str, Any], above: int | None) -> dict[str, str]:
    """Each component's price for a request above ``above`` input tokens (None: the base)."""
    out = {}
    for component, value in prices.items():
        if isinstance(value, Mapping):
            price = value["base"]
            for tier in sorted(_tiers(value), key=lambda t: t["start"]):
                if above is not None and above >= tier["start"]:
                    price = tier["price"]
            out[component] = str(Decimal(str(price)))
        else:
            out[component] = str(Decimal(str(value)))
    return out


# --- names -----------------------------------------------------------------------------------


def matches(clause: Any, name: str) -> bool:
    """Whether ``name`` (lower case) matches a genai-prices match clause."""
    if not isinstance(clause, Mapping):
        return False
    if "equals" in clause:
        return name == str(clause["equals"]).lower()
    if "starts_with" in clause:
        return name.startswith(str(clause["starts_with"]).lower())
    if "ends_with" in clause:
        return name.endswith(str(clause["ends_with"]).lower())
    if "contains" in clause:
        return str(clause["contains"]).lower() in name
    if "regex" in clause:
        return re.search(str(clause["regex"]), name) is not None
    if "or" in clause:
        return any(matches(c, name) for c in clause["or"])
    if "and" in clause:
        return all(matches(c, name) for c in clause["and"])
    return False


def exact_names(clause: Any) -> list[str]:
    """The names a clause matches exactly (its ``equals``, at any depth of ``or``)."""
    if not isinstance(clause, Mapping):
        return []
    if "equals" in clause:
        return [str(clause["equals"]).lower()]
    if "or" in clause:
        return [n for c in clause["or"] for n in exact_names(c)]
    return []
