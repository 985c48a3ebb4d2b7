"""Prices from LiteLLM's ``model_prices_and_context_window.json``, in the compact index that
genai-prices' data compiles to (``costcalc.prices.genai``), so both feed the same catalogue.

LiteLLM's file is one JSON object: model name -> fields. The fields read here (USD per token,
turned into USD per 1M tokens):

- ``input_cost_per_token``, ``output_cost_per_token``, ``cache_read_input_token_cost``,
  ``cache_creation_input_token_cost`` (a 5-minute cache write) and
  ``cache_creation_input_token_cost_above_1hr`` (a 1-hour cache write);
- each with a suffix ``_batches`` (Batch API), ``_flex`` or ``_priority`` (service tiers);
- each with ``_above_200k_tokens`` (any ``_above_<N>k_tokens`` / ``_above_<N>_tokens``; then
  optionally a service-tier suffix): a long-context tier for the whole request once its input
  exceeds N tokens, as LiteLLM applies it; a tier's missing prices are the base ones;
- ``input_cost_per_request``: a fee every request pays (as USD per 1,000 requests);
- ``max_input_tokens``, ``max_output_tokens``, ``deprecation_date`` (YYYY-MM-DD), ``source``
  (a URL), ``litellm_provider`` and ``mode``.

Only text-generation entries (``mode`` chat, completion or responses, or none) with an input
price are kept; embeddings, images, audio, rerank and the ``sample_spec`` entry are counted in
``skipped``. Other fields (audio, image, search prices) are not delivery modes costcalc
prices.

LiteLLM's provider names are mapped onto genai-prices' provider ids (``PROVIDER_IDS``), so
``openai:gpt-4o`` names the same model whichever data is in use; a name LiteLLM prefixes
with its provider (``gemini/gemini-2.5-pro``, ``xai/grok-4``) loses the prefix.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from costcalc.prices.genai import INDEX_FORMAT, number, within_bounds

PROVIDER_IDS = {
    "openai": "openai",
    "text-completion-openai": "openai",
    "anthropic": "anthropic",
    # the Gemini API; Vertex AI (vertex_ai, vertex_ai-language-models, vertex_ai-anthropic_models,
    # ...) is google too, as genai-prices has it, with the Gemini API's own entry preferred
    "gemini": "google",
    "vertex_ai": "google",
    "bedrock": "aws",
    "bedrock_converse": "aws",
    "azure": "azure",
    "azure_ai": "azure",
    "azure_text": "azure",
    "xai": "x-ai",
    "mistral": "mistral",
    "codestral": "mistral",
    "text-completion-codestral": "mistral",
    "deepseek": "deepseek",
    "groq": "groq",
    "together_ai": "together",
    "fireworks_ai": "fireworks",
    "openrouter": "openrouter",
    "cohere": "cohere",
    "cohere_chat": "cohere",
    "perplexity": "perplexity",
    "cerebras": "cerebras",
    "moonshot": "moonshotai",
    "meta_llama": "meta",
    "databricks": "databricks",
    "novita": "novita",
    "ovhcloud": "ovhcloud",
    "cloudflare": "cloudflare",
    "minimax": "minimax",
    "zai": "zai",
    "baseten": "baseten",
    "voyage": "voyageai",
}
"""LiteLLM ``litellm_provider`` -> genai-prices provider id. ``vertex_ai-*`` is google; any
other name is kept as it is (made a valid provider id: lower case, ``-`` for other marks)."""

PRIMARY = {"google": "gemini"}
"""Where two LiteLLM providers name one model of the same genai-prices provider (Vertex AI's
``gemini-2.5-pro`` and the Gemini API's ``gemini/gemini-2.5-pro``), this one's entry is kept:
costcalc's ``google`` is the Gemini API. Otherwise the first entry in the file is kept."""

TEXT_MODES = {"chat", "completion", "responses"}

COMPONENT_OF = {
    "input_cost_per_token": "input",
    "cache_read_input_token_cost": "cached_input",
    "cache_creation_input_token_cost": "cache_write_5m",
    "cache_creation_input_token_cost_above_1hr": "cache_write_1h",
    "output_cost_per_token": "output",
}
"""LiteLLM's per-token price fields -> costcalc's price components."""

REQUEST_FIELD = "input_cost_per_request"
"""LiteLLM's fee per request (USD per request): costcalc's ``per_1k_requests``."""

MODE_SUFFIX = {"": "standard", "_batches": "batch", "_flex": "flex", "_priority": "priority"}

_TIER_KEY = re.compile(
    r"^(?P<base>cache_creation_input_token_cost_above_1hr|input_cost_per_token"
    r"|output_cost_per_token|cache_read_input_token_cost|cache_creation_input_token_cost)"
    r"_above_(?P<n>\d+)(?P<k>k?)_tokens(?P<mode>_batches|_flex|_priority)?$"
)

HOME = "https://github.com/BerriAI/litellm/blob/main/model_prices_and_context_window.json"


def provider_id(litellm_provider: str) -> str:
    """The genai-prices provider id for a LiteLLM provider name (see ``PROVIDER_IDS``)."""
    name = litellm_provider.strip().lower()
    if name in PROVIDER_IDS:
        return PROVIDER_IDS[name]
    if name.startswith("vertex_ai"):
        return "google"
    cleaned = re.sub(r"[^a-z0-9_-]+", "-", name).strip("-_")
    return cleaned or "unknown"


def looks_like_litellm(raw: Any) -> bool:
    """Whether ``raw`` is LiteLLM's shape: an object of model name -> fields with prices."""
    if not isinstance(raw, Mapping):
        return False
    return any(
        isinstance(v, Mapping)
        and ("litellm_provider" in v or any(str(k).endswith("_cost_per_token") for k in v))
        for k, v in raw.items()
        if k != "sample_spec"
    )


def index_from_litellm(
    raw: Any, source: Mapping[str, Any], known: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The compact index of LiteLLM's JSON (``raw``). ``known``: the providers of a genai-prices
    index, whose names and makers' model patterns are kept for the same provider ids.

    Data that is not in LiteLLM's shape raises ``ValueError`` naming the model and field."""
    if not isinstance(raw, Mapping):
        raise ValueError("expected an object of model name -> prices (LiteLLM's JSON)")
    known = known or {}
    providers: dict[str, dict[str, Any]] = {}
    chosen: dict[tuple[str, str], str] = {}  # (provider, id) -> the LiteLLM provider kept
    skipped = 0
    for key, fields in raw.items():
        if key == "sample_spec":
            continue
        where = f"model {key!r}"
        if not isinstance(fields, Mapping):
            raise ValueError(f"{where}: expected an object of fields, got {fields!r}")
        litellm_provider = fields.get("litellm_provider")
        mode = fields.get("mode")
        if not isinstance(litellm_provider, str) or (mode is not None and mode not in TEXT_MODES):
            skipped += 1
            continue
        entry = _entry(str(key), fields, litellm_provider, where)
        if entry is None:
            skipped += 1
            continue
        pid = provider_id(litellm_provider)
        prov = providers.setdefault(pid, _provider(pid, known.get(pid)))
        before = chosen.get((pid, entry["id"]))
        if before is not None:
            skipped += 1
            if before == PRIMARY.get(pid, pid) or litellm_provider != PRIMARY.get(pid, pid):
                continue  # the entry kept already is the preferred one
            prov["models"] = [m for m in prov["models"] if m["id"] != entry["id"]]
        chosen[(pid, entry["id"])] = litellm_provider
        prov["models"].append(entry)
    if not any(p["models"] for p in providers.values()):
        raise ValueError("no model with a token price (LiteLLM's JSON: input_cost_per_token)")
    return {
        "format": INDEX_FORMAT,
        "source": dict(source),
        "providers": providers,
        "skipped": skipped,
    }


def _provider(pid: str, known: Mapping[str, Any] | None) -> dict[str, Any]:
    return {
        "name": (known or {}).get("name") or pid,
        "url": None,
        "model_match": (known or {}).get("model_match"),
        "models": [],
    }


def _model_id(key: str, litellm_provider: str, pid: str) -> str:
    """The model's name without LiteLLM's provider prefix (``gemini/gemini-2.5-pro``)."""
    name = key.strip().lower()
    first, sep, rest = name.partition("/")
    lp = litellm_provider.lower()
    if sep and rest and first in {lp, lp.split("-")[0], pid}:
        return rest
    return name


def _entry(
    key: str, fields: Mapping[str, Any], litellm_provider: str, where: str
) -> dict[str, Any] | None:
    prices = _prices(fields, where)
    standard = prices.get((None, "standard"), {})
    if "input" not in standard:
        return None
    pid = provider_id(litellm_provider)
    model_id = _model_id(key, litellm_provider, pid)
    period: dict[str, Any] = {"from": None, "standard": _text(standard)}
    if "output" not in standard:
        period["standard"]["output"] = "0"
        period["no_output_price"] = True
    for mode in ("batch", "flex", "priority"):
        if prices.get((None, mode)):
            period[mode] = _text(prices[(None, mode)])
    thresholds = sorted({above for above, _ in prices if above is not None})
    tiers = []
    for above in thresholds:
        tier_standard = {**standard, **prices.get((above, "standard"), {})}
        if "input" not in prices.get((above, "standard"), {}):
            continue  # LiteLLM prices a tier only where its input price is given
        tier: dict[str, Any] = {"above": above, "standard": _text(tier_standard)}
        tier["standard"].setdefault("output", "0")
        for mode in ("batch", "flex", "priority"):
            given = prices.get((above, mode))
            if given:
                tier[mode] = _text(given)
        tiers.append(tier)
    if tiers:
        period["tiers"] = tiers
    entry: dict[str, Any] = {"id": model_id, "match": {"equals": model_id}}
    for name in ("max_input_tokens", "max_output_tokens"):
        value = fields.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            entry[name] = value
    deprecation = fields.get("deprecation_date")
    if isinstance(deprecation, str) and _is_date(deprecation):
        entry["deprecation_date"] = deprecation
    url = fields.get("source")
    if isinstance(url, str) and re.match(r"https?://\S{4,}$", url):
        entry["url"] = url
    entry["periods"] = [period]
    return entry if within_bounds(entry["periods"]) else None


def _prices(fields: Mapping[str, Any], where: str) -> dict[tuple[int | None, str], dict[str, Any]]:
    """{(tier threshold or None, mode): {component: USD per 1M tokens}} of the fields given."""
    out: dict[tuple[int | None, str], dict[str, Any]] = {}
    for name, value in fields.items():
        if value is None:
            continue
        if name == REQUEST_FIELD:  # USD per request -> per 1,000 requests
            fee = number(value, f"{where}: {name}").scaleb(3)
            out.setdefault((None, "standard"), {})["per_1k_requests"] = fee
            continue
        found = _price_field(str(name))
        if found is None:
            continue
        above, mode, component = found
        per_token = number(value, f"{where}: {name}")
        out.setdefault((above, mode), {})[component] = per_token.scaleb(6)
    return out


def _price_field(name: str) -> tuple[int | None, str, str] | None:
    """(tier threshold, mode, component) of a LiteLLM price field name, if it is one."""
    tier = _TIER_KEY.match(name)
    if tier is not None:
        above = int(tier["n"]) * (1000 if tier["k"] else 1)
        return above, MODE_SUFFIX[tier["mode"] or ""], COMPONENT_OF[tier["base"]]
    for base, component in COMPONENT_OF.items():
        for suffix, mode in MODE_SUFFIX.items():
            if name == base + suffix:
                return None, mode, component
    return None


def _text(prices: Mapping[str, Decimal]) -> dict[str, str]:
    return {c: format(v.normalize(), "f") for c, v in prices.items()}


def _is_date(value: str) -> bool:
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10
