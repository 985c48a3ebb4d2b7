"""`costcalc prices audit`: the curated table, model by model and price by price, against
genai-prices (the installed package's data, or a data.json) or LiteLLM's JSON.

Each curated model (the YAML models, after user price files; not updated data, and not
teaching rates) is matched to the other data's model as the catalogue matches names: its id,
aliases and snapshots, exactly or by genai-prices' patterns, for the same provider. Then, as
in effect on one day (default today), field by field:

- prices: input, cached input, cache writes and output, standard and for each of batch, flex
  and priority that both sides sell, in the base prices and in each long-context tier both
  have. A mode price is what each side bills: ours published or derived by the provider's
  rule (marked assumed), theirs its variant's price or, where the variant lists none, its
  standard price (as genai-prices and LiteLLM bill it). A difference fails when it is more
  than ``tolerance`` percent of theirs (default 0: any difference);
- the context window (genai-prices: both sides' ``context_window``), the most input tokens
  (LiteLLM's ``max_input_tokens`` against ours, or our context window) and the most output
  tokens: a difference fails when it is more than ``context_tolerance`` percent (default 5:
  "1M" is 1,000,000 on one page and 1,048,576 = 2^20 on another, 4.9% apart);
- deprecation: genai-prices' flag, or LiteLLM's date, against ours; any difference fails;
- the fee per request (``per 1k requests``), as a price: a side that lists none charges none,
  so a fee only one side states is a difference from $0 (it changes every quote).

A price, mode, tier or model only one side states is listed apart, never a failure. Where
genai-prices' price comments explain a figure (a rate it keeps at standard), the sentence is
shown with the row. Disagreements named in a file of known ones (``known``: model, field,
reason) carry the reason and do not fail.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from costcalc.errors import FieldError, UsageError, path_argument
from costcalc.prices.catalog import Catalog, origin_of
from costcalc.prices.genai import MODES
from costcalc.prices.load import AUDIT_KNOWN, builtin_pricing_dir
from costcalc.prices.schema import COMPONENTS, PRICE_MODES, Basis, Model, Provider, Strict
from costcalc.prices.table import (
    REQUEST_FEE,
    ModelPrices,
    ModeRates,
    PriceTable,
    Rate,
    require_table,
)
from costcalc.prices.update import in_effect
from costcalc.units import date_argument

Kind = Literal["price", "tokens", "date", "presence"]


class Report(BaseModel):
    model_config = ConfigDict(defer_build=True)


class AuditRow(Report):
    """One field of one model on which the two sides differ, or that only one side states."""

    provider: str
    model: str
    field: str
    """``input``, ``batch cached input``, ``input > 200,000: output``, ``context window``,
    ``max output tokens``, ``deprecated``, ``flex`` (a mode), ``model`` ..."""
    kind: Kind
    ours: str | None
    """Our figure (USD per 1M tokens, tokens, a date) as text; None: we state none."""
    theirs: str | None
    difference: str | None = None
    """Ours minus theirs, and the percentage of theirs: ``-0.0005 (-0.36%)``."""
    exceeds: bool = False
    """More than the tolerance: a failure, unless the disagreement is known."""
    ours_basis: str = ""
    theirs_basis: str = ""
    comment: str | None = None
    """What genai-prices' price comments say about it."""
    known: str | None = None
    """Why the disagreement is known (from the file of known disagreements)."""


class KnownDisagreement(Strict):
    """One explained disagreement (``pricing/audit-known.yaml``)."""

    provider: str | None = None
    model: str
    field: str
    ours: str | None = None
    """When given, the disagreement is known only while our figure is this (as the audit
    writes it: ``0.1375``, ``1,000,000``)."""
    theirs: str | None = None
    """The same for their figure: a known disagreement that moves is a new one."""
    reason: str = Field(min_length=1)

    def matches(self, row: AuditRow) -> bool:
        return (
            (self.model, self.field) == (row.model, row.field)
            and self.provider in (None, row.provider)
            and self.ours in (None, row.ours)
            and self.theirs in (None, row.theirs)
        )


class KnownFile(Strict):
    known: list[KnownDisagreement]


class PriceAudit(Report):
    """What `costcalc prices audit` found."""

    on: dt.date
    against: str
    tolerance: Decimal
    """Percent of their price a price may differ by before the audit fails."""
    context_tolerance: Decimal
    models: int
    """Curated models audited (teaching rates are not list prices: not audited)."""
    matched: int
    """Of those, the models the other data lists."""
    disagreements: list[AuditRow]
    one_sided: list[AuditRow]
    """What only one side states: listed, never a failure."""
    unused_known: list[KnownDisagreement] = []
    """Known disagreements the audit no longer finds (the file can lose them)."""
    failed: bool
    """Whether a disagreement beyond the tolerance is not known: `prices audit` exits 1."""


def _percent(value: Any, name: str) -> Decimal:
    try:
        pct = Decimal(str(value))
    except ArithmeticError:
        raise FieldError(name, f"expected a percentage, got {value!r}") from None
    if not pct.is_finite() or pct < 0:
        raise FieldError(name, f"must be a percentage >= 0, got {value!r}")
    return pct


def _theirs(against: str | Path | None, on: dt.date) -> tuple[Catalog, str]:
    if against is None:
        from costcalc.prices.genai import GENAI_PACKAGE, index_from_raw, raw_from_package

        raw, version = raw_from_package()
        source = {"package": GENAI_PACKAGE, "version": version, "read": on.isoformat()}
        index = index_from_raw(raw, source)
        origin = origin_of(index["source"])
        return Catalog(index, origin), f"{origin} (the installed package)"
    from costcalc.prices.data import read_price_data

    data = read_price_data(against, read=on)
    return Catalog(data.compiled, data.format_name), f"{data.format_name} {data.where}"


def load_known(path: str | Path) -> list[KnownDisagreement]:
    """The known disagreements in a YAML file: ``known: [{model, field, reason}, ...]``."""
    from costcalc.errors import InputFileError
    from costcalc.yamlfile import load_mapping, validate

    data, text = load_mapping(path, "file of known disagreements")
    return validate(KnownFile, data, path, text, InputFileError).known


def audit_prices(
    table: PriceTable | None = None,
    against: str | os.PathLike[str] | None = None,
    *,
    tolerance: Decimal | int | str = 0,
    context_tolerance: Decimal | int | str = 5,
    on: dt.date | str | None = None,
    known: str | os.PathLike[str] | bool | None = None,
) -> PriceAudit:
    """Compare every curated model of ``table`` (default: the shipped YAML with user price
    files, without updated data) with ``against`` (a genai-prices data.json or a LiteLLM JSON,
    a file or URL; default: the installed genai-prices' data), as in effect on ``on`` (a
    ``datetime.date`` or 'YYYY-MM-DD'; default today), less the disagreements explained in
    the file ``known`` (``True``: the list shipped with costcalc, pricing/audit-known.yaml).
    See the module docstring for what is compared and what fails."""
    from costcalc.prices.load import load_price_table

    require_table(table, "audit_prices")
    if against is not None:
        against = path_argument(against, "against", "audit_prices")
    known_file: str | Path | None = None
    if known is True:
        known_file = builtin_pricing_dir() / AUDIT_KNOWN
    elif known is not None and known is not False:
        known_file = path_argument(known, "known", "audit_prices")
    tol = _percent(tolerance, "tolerance")
    context_tol = _percent(context_tolerance, "context_tolerance")
    day = date_argument(on, "on", "audit_prices") if on is not None else dt.date.today()
    table = table or load_price_table(updated=False)
    catalog, described = _theirs(against, day)
    rows: list[AuditRow] = []
    audited = matched = 0
    for prov, model in table.models():
        if model.teaching:
            continue
        audited += 1
        hit = catalog.find(model.names(), prov.provider)
        if hit is None:
            rows.append(_row(prov, model, "model", "presence", "listed", None, theirs_basis=""))
            continue
        matched += 1
        entry = catalog.entry(*hit)
        comments = _comments(catalog, hit[0], entry)
        try:
            mp = table.prices(model.id, day)
        except UsageError as exc:
            rows.append(
                _row(prov, model, "prices", "presence", None, "listed", ours_basis=str(exc))
            )
            continue
        found = _prices(mp, in_effect(entry, day), tol)
        found += _facts(prov, model, entry, day, context_tol)
        for row in found:
            row.comment = _explained(row.field, comments)
        rows.extend(found)
    disagreements = [r for r in rows if r.ours is not None and r.theirs is not None]
    one_sided = [r for r in rows if r.ours is None or r.theirs is None]
    unused: list[KnownDisagreement] = []
    if known_file is not None:
        unused = _mark_known(disagreements, load_known(known_file))
    return PriceAudit(
        on=day,
        against=described,
        tolerance=tol,
        context_tolerance=context_tol,
        models=audited,
        matched=matched,
        disagreements=disagreements,
        one_sided=one_sided,
        unused_known=unused,
        failed=any(r.exceeds and r.known is None for r in disagreements),
    )


def _mark_known(rows: list[AuditRow], known: list[KnownDisagreement]) -> list[KnownDisagreement]:
    used: set[int] = set()
    for row in rows:
        for n, k in enumerate(known):
            if k.matches(row):
                row.known = k.reason
                used.add(n)
                break
    return [k for n, k in enumerate(known) if n not in used]


def _row(
    prov: Provider,
    model: Model,
    field: str,
    kind: Kind,
    ours: str | None,
    theirs: str | None,
    **more: Any,
) -> AuditRow:
    return AuditRow(
        provider=prov.provider,
        model=model.id,
        field=field,
        kind=kind,
        ours=ours,
        theirs=theirs,
        **more,
    )


def _text(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _compare(
    mp: ModelPrices,
    field: str,
    ours: Decimal | None,
    theirs: Decimal | None,
    tol: Decimal,
    ours_basis: str,
    theirs_basis: str,
) -> AuditRow | None:
    if ours is None and theirs is None:
        return None
    if ours is not None and theirs is not None and ours == theirs:
        return None
    row = _row(
        mp.provider,
        mp.model,
        field,
        "price",
        None if ours is None else _text(ours),
        None if theirs is None else _text(theirs),
        ours_basis=ours_basis if ours is not None else "",
        theirs_basis=theirs_basis if theirs is not None else "",
    )
    if ours is not None and theirs is not None:
        diff = ours - theirs
        pct = diff / theirs * 100 if theirs else None
        shown = "n/a" if pct is None else f"{pct:+.2f}%"
        row.difference = f"{'+' if diff > 0 else ''}{_text(diff)} ({shown})"
        row.exceeds = pct is None or abs(pct) > tol
    return row


def _label(prefix: str, mode: str, component: str) -> str:
    words = component.replace("_", " ")
    return prefix + (words if mode == "standard" else f"{mode} {words}")


def _prices(mp: ModelPrices, period: Mapping[str, Any], tol: Decimal) -> list[AuditRow]:
    rows: list[AuditRow] = []
    ours_tiers = {t.above_input_tokens for t in mp.period.tiers}
    theirs_tiers = {t["above"]: t for t in period.get("tiers", [])}
    scopes: list[int | None] = [None, *sorted(ours_tiers | set(theirs_tiers))]
    for above in scopes:
        prefix = "" if above is None else f"input > {above:,}: "
        scope = period if above is None else theirs_tiers.get(above)
        if above is not None and (scope is None or above not in ours_tiers):
            on_ours = above in ours_tiers
            rows.append(
                _row(
                    mp.provider,
                    mp.model,
                    f"long-context tier above {above:,} input tokens",
                    "presence",
                    "listed" if on_ours else None,
                    None if on_ours else "listed",
                )
            )
            continue
        assert scope is not None
        theirs_std = dict(scope["standard"])
        if period.get("no_output_price"):
            theirs_std.pop("output", None)
        for mode in PRICE_MODES:
            ours = mp.mode(mode, 0 if above is None else above + 1)
            listed = theirs_std if mode == "standard" else scope.get(mode)
            if mode != "standard" and (not ours.available or listed is None):
                if ours.available or listed is not None:
                    rows.append(
                        _row(
                            mp.provider,
                            mp.model,
                            prefix + mode,
                            "presence",
                            "sold" if ours.available else None,
                            None if listed is None else "listed",
                            ours_basis=ours.reason,
                        )
                    )
                continue
            assert listed is not None
            theirs_any = {*listed, *(theirs_std if mode != "standard" else ())}
            components: list[str] = [c for c in COMPONENTS if c in ours.rates or c in theirs_any]
            if ours.request_fee is not None or REQUEST_FEE in theirs_any:
                components.append(REQUEST_FEE)
            for c in components:
                rate = ours.rate(c) if c != REQUEST_FEE else _fee_rate(ours)
                if c in listed:
                    theirs, basis = Decimal(listed[c]), "published"
                elif c in theirs_std:
                    theirs, basis = Decimal(theirs_std[c]), f"the standard rate (no {mode} price)"
                else:
                    theirs, basis = None, ""
                ours_basis = (
                    "" if rate is None else rate.basis + (f" ({rate.note})" if rate.note else "")
                )
                ours_price = rate.usd_per_mtok if rate else None
                if c == REQUEST_FEE:  # a side that lists no fee charges none: $0, compared
                    if ours_price is None:
                        ours_price, ours_basis = Decimal(0), "no fee per request"
                    if theirs is None:
                        theirs, basis = Decimal(0), "no fee per request"
                field = _label(prefix, mode, c)
                row = _compare(mp, field, ours_price, theirs, tol, ours_basis, basis)
                if row is not None:
                    rows.append(row)
    return rows


def _fee_rate(ours: ModeRates) -> Rate | None:
    """A mode's fee per 1,000 requests as a rate, so it is compared as the prices are."""
    if ours.request_fee is None:
        return None
    basis: Basis = "assumed" if ours.request_fee_note else "published"
    return Rate(ours.request_fee, basis, ours.request_fee_note)


def _facts(
    prov: Provider, model: Model, entry: Mapping[str, Any], on: dt.date, tol: Decimal
) -> list[AuditRow]:
    """Context window, most input and output tokens, deprecation."""
    rows: list[AuditRow] = []
    pairs = [
        ("context window", model.context_window, entry.get("context_window")),
        (
            "max input tokens",
            model.max_input_tokens or model.context_window,
            entry.get("max_input_tokens"),
        ),
        ("max output tokens", model.max_output_tokens, entry.get("max_output_tokens")),
    ]
    for field, ours, theirs in pairs:
        if ours is None or theirs is None or ours == theirs:
            continue
        pct = Decimal(ours - theirs) / Decimal(theirs) * 100
        rows.append(
            AuditRow(
                provider=prov.provider,
                model=model.id,
                field=field,
                kind="tokens",
                ours=f"{ours:,}",
                theirs=f"{theirs:,}",
                difference=f"{ours - theirs:+,} ({pct:+.2f}%)",
                exceeds=abs(pct) > tol,
            )
        )
    ours_date = model.deprecated
    if entry.get("deprecation_date") is not None or (ours_date and "deprecated" not in entry):
        theirs_date = entry.get("deprecation_date")
        if str(ours_date or "") != str(theirs_date or ""):
            rows.append(
                AuditRow(
                    provider=prov.provider,
                    model=model.id,
                    field="deprecation date",
                    kind="date",
                    ours=str(ours_date) if ours_date else None,
                    theirs=theirs_date,
                    exceeds=ours_date is not None and theirs_date is not None,
                )
            )
    elif "deprecated" in entry:
        ours_flag = ours_date is not None and ours_date <= on
        if ours_flag != bool(entry["deprecated"]):
            rows.append(
                AuditRow(
                    provider=prov.provider,
                    model=model.id,
                    field="deprecated",
                    kind="date",
                    ours=f"since {ours_date}" if ours_flag else "no",
                    theirs="yes" if entry["deprecated"] else "no",
                    exceeds=True,
                )
            )
    return rows


# --- price comments --------------------------------------------------------------------------

_WORDS = {
    "cached input": ("cached", "cache read", "caching"),
    "cache write 5m": ("cache write",),
    "cache write 1h": ("one-hour", "1-hour", "1h"),
    "input": ("input",),
    "output": ("output",),
}


def _comments(catalog: Catalog, pid: str, entry: Mapping[str, Any]) -> list[str]:
    """The sentences of genai-prices' price comments on the model, then on its provider."""
    texts = [entry.get("price_comments"), catalog.index["providers"][pid].get("price_comments")]
    return [
        s.strip()
        for text in texts
        if isinstance(text, str)
        for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", text)
        if s.strip() and not s.startswith(("Ref:", "Refs:"))
    ]


def _explained(field: str, sentences: list[str]) -> str | None:
    """The sentences that speak of ``field``: its mode, its component, its tier."""
    scope, _, rest = field.rpartition(": ")
    groups: list[tuple[str, ...]] = []
    if scope:
        groups.append(("tier", f"{int(scope.removeprefix('input > ').replace(',', '')) // 1000}k"))
    mode, _, component = rest.partition(" ")
    if mode in MODES:
        groups.append((mode,))
    else:
        component = rest
    if component in _WORDS:
        groups.append(_WORDS[component])
    elif field in ("context window", "max input tokens"):
        groups.append(("context",))
    elif field in ("deprecated", "deprecation date"):
        groups.append(("deprecat", "retire"))
    elif not groups:
        return None
    about_cache = component in ("cached input", "cache write 5m", "cache write 1h")
    found = [
        s
        for s in sentences
        if all(any(w in s.lower() for w in g) for g in groups)
        and not any(w in s.lower() for w in _ELSEWHERE)
        and (about_cache or "cach" not in s.lower())
    ]
    # a sentence saying what is not listed explains a missing figure best
    found.sort(key=lambda s: not any(w in s.lower() for w in _ABSENCE))
    return found[0] if found else None


_ELSEWHERE = ("web search", "search", "audio", "image", "video")
"""Prices costcalc does not quote: sentences about them explain nothing here."""
_ABSENCE = ("no ", "not ", "skipped", "keeps the standard", "stays at the standard", "retired")
