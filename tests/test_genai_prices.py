"""Every model genai-prices knows can be quoted, at the prices genai-prices gives.

genai-prices is a dependency: these tests compare costcalc's quotes of a sample of models of
every provider with ``genai_prices.calc_price`` for the same usage and date (the data is the
index compiled from the pinned genai-prices; ``costcalc prices compile`` rebuilds it).
"""

from __future__ import annotations

import datetime as dt
import json
import random
from decimal import Decimal

import pytest
from genai_prices import Usage, calc_price

import costcalc
from costcalc.prices import builtin_pricing_dir, load_price_table
from costcalc.prices.genai import INDEX_FILE, exact_names, installed_version, matches

DAY = dt.date(2026, 12, 1)
AT = dt.datetime(2026, 12, 1, 20, tzinfo=dt.timezone.utc)  # outside DeepSeek's busy hours
PROVIDERS = [
    "openai", "anthropic", "google", "aws", "azure", "mistral", "deepseek", "x-ai", "groq",
    "together", "openrouter", "cohere", "fireworks",
]  # fmt: skip
INDEX = json.loads((builtin_pricing_dir() / INDEX_FILE).read_text("utf-8"))


def _ref(model: dict[str, object]) -> str | None:
    """A name genai-prices' own matcher takes for the model (its id does not always match)."""
    name = str(model["id"]).lower()
    if matches(model.get("match"), name):
        return name
    return next(iter(exact_names(model.get("match"))), None)


def _sample(per_provider: int = 6) -> list[tuple[str, str, str]]:
    rng = random.Random(2026)
    out = []
    for pid in PROVIDERS:
        models = [(m["id"], ref) for m in INDEX["providers"][pid]["models"] if (ref := _ref(m))]
        picked = rng.sample(models, min(per_provider, len(models)))
        out += [(pid, model, ref) for model, ref in picked]
    return out


SAMPLE = _sample()


def test_the_index_is_the_installed_genai_prices() -> None:
    assert INDEX["source"]["package"] == "genai-prices"
    assert INDEX["source"]["version"] == installed_version()


def _quote(name: str, cached: Decimal = Decimal(0)) -> costcalc.Quote:
    return costcalc.quote(
        costcalc.Workload(
            model=name,
            requests=1,
            input_tokens=Decimal(400),  # within the smallest context windows (512)
            output_tokens=Decimal(50),
            cached_share=cached,
            as_of=DAY,
        )
    )


def _genai(pid: str, model: str, cached: int = 0, context: dict[str, str] | None = None) -> Decimal:
    usage = Usage(input_tokens=400, cache_read_tokens=cached, output_tokens=50)
    price = calc_price(
        usage, model, provider_id=pid, genai_request_timestamp=AT, price_context=context
    )
    return price.total_price


@pytest.mark.parametrize(("pid", "model", "ref"), SAMPLE)
def test_request_and_batch_cost_agree_with_genai_prices(pid: str, model: str, ref: str) -> None:
    table = load_price_table()
    prov, entry = table.find(f"{pid}:{model}")
    curated = prov.provider in table.providers and any(
        m.id == entry.id for m in table.providers[prov.provider].models
    )
    if curated:
        pytest.skip("a curated model: `prices audit` compares those")
    q = _quote(f"{pid}:{model}", Decimal("0.2"))
    assert q.mode("request").cost == _genai(pid, ref, cached=80)
    plain = _quote(f"{pid}:{model}")
    # modes priced from genai-prices' published variants (an assumed price is costcalc's
    # provider rule, where genai-prices has no variant and bills standard)
    batch = plain.mode("batch")
    if batch.available and not batch.assumed:
        assert batch.cost == _genai(pid, ref, context={"processing": "batch"})
    for tier in ("flex", "priority"):
        mode = plain.mode(tier)
        if mode.available and not mode.assumed:
            assert mode.cost == _genai(pid, ref, context={"service_tier": tier})


def test_the_sample_covers_every_provider_and_batch_prices() -> None:
    quoted = {pid for pid, _, _ in SAMPLE}
    assert quoted == set(PROVIDERS)
    batch = [m for pid in ("mistral", "groq", "x-ai") for m in INDEX["providers"][pid]["models"]]
    assert any("batch" in p for m in batch for p in m["periods"])


@pytest.mark.parametrize(
    ("name", "provider", "model"),
    [
        ("claude-sonnet-4-6", "anthropic", "claude-sonnet-4-6"),  # the maker's own API
        ("anthropic:claude-sonnet-4-6", "anthropic", "claude-sonnet-4-6"),
        ("gpt-5.1", "openai", "gpt-5.1"),
        ("mistral:codestral", "mistral", "codestral"),
        ("openrouter:openai/gpt-4o", "openrouter", "openai/gpt-4o"),
        ("groq:openai/gpt-oss-120b", "groq", "openai/gpt-oss-120b"),
        ("gpt-4o", "openai", "gpt-4o"),  # curated: the curated model
        ("openai:gpt-4o", "openai", "gpt-4o"),
    ],
)
def test_names_resolve(name: str, provider: str, model: str) -> None:
    prov, entry = load_price_table().find(name)
    assert (prov.provider, entry.id) == (provider, model)


def test_a_model_of_a_curated_provider_gets_its_rules() -> None:
    q = _quote("gpt-5.1")
    assert q.mode("request").time_to_first_token_s is not None  # OpenAI's speed
    assert q.mode("batch").worst_wait_s == 24 * 3600  # OpenAI's 24 h window
    assert "from genai-prices" in q.assumptions[0]


def test_a_provider_known_only_from_genai_prices_has_prices_and_no_invented_times() -> None:
    q = _quote("mistral:codestral")
    assert q.price_origin == f"genai-prices {installed_version()}"
    assert q.mode("request").wait_s is None and q.mode("batch").wait_s is None
    assert q.recommendation.mode == "batch"
    assert "not known for mistral" in q.recommendation.reason
    assert q.mode("flex").available is False


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("nope:foo", "no provider 'nope'"),
        ("openai/claude-haiku-4-5", "unknown model"),
        ("claude-sonet-4-6", "did you mean"),
    ],
)
def test_unknown_names_say_so(name: str, message: str) -> None:
    with pytest.raises(costcalc.UnknownModelError, match=message):
        load_price_table().find(name)


def test_prices_from_the_data_say_where_they_came_from(run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("quote", "-m", "mistral:codestral", "-n", "10", "-i", "100", "-o", "10")
    assert result.exit_code == 0, result.stderr
    assert "from genai-prices" in result.stdout and "checked" not in result.stdout


def test_prices_show_says_where_catalog_prices_came_from_and_an_unknown_context(run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("prices", "show", "mistral:devstral-small")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert f"from genai-prices {installed_version()} (read " in lines[1]
    assert "checked" not in lines[1]
    assert "context window not known" in result.stdout
    data = json.loads(
        run_cli("prices", "show", "mistral:devstral-small", "--format", "json").stdout
    )
    assert data["context_window"] is None and data["origin"].startswith("genai-prices")
