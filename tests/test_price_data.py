"""Price data from outside the package: genai-prices' data.json and LiteLLM's JSON, detected,
compiled into the compact index, and matched to names as the catalogue matches them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from costcalc.errors import CostcalcError
from costcalc.prices.catalog import Catalog, layered, origin_of
from costcalc.prices.data import GENAI, LITELLM, compile_data, detect, read_price_data
from costcalc.prices.genai import index_from_raw, raw_from_package
from costcalc.prices.litellm import provider_id

LITELLM_SAMPLE = Path(__file__).parent / "data" / "litellm_prices.json"


@pytest.fixture(scope="module")
def genai_raw() -> list[dict[str, object]]:
    return raw_from_package()[0]


def test_a_genai_data_json_is_detected_and_compiled_as_the_package_is(
    tmp_path: Path, genai_raw: list[dict[str, object]]
) -> None:
    path = tmp_path / "data.json"
    path.write_text(json.dumps(genai_raw))
    data = read_price_data(path)
    assert data.kind == GENAI and data.where == str(path.resolve())
    assert data.compiled["source"]["from"] == str(path.resolve())
    assert data.compiled["source"]["format"] == "genai-prices"
    expected = index_from_raw(genai_raw, {})
    assert data.compiled["providers"] == expected["providers"]
    assert data.compiled["skipped"] == expected["skipped"]


def test_litellm_json_is_detected_and_compiled() -> None:
    data = read_price_data(LITELLM_SAMPLE)
    assert data.kind == LITELLM
    providers = data.compiled["providers"]
    assert sorted(providers) == [
        "anthropic",
        "aws",
        "azure",
        "deepseek",
        "google",
        "openai",
        "x-ai",
    ]
    gpt4o = next(m for m in providers["openai"]["models"] if m["id"] == "gpt-4o")
    assert gpt4o["periods"] == [
        {
            "from": None,
            "standard": {"input": "2.5", "cached_input": "1.25", "output": "10"},
            "batch": {"input": "1.25", "output": "5"},
            "priority": {"input": "4.25", "cached_input": "2.125", "output": "17"},
        }
    ]
    assert (gpt4o["max_input_tokens"], gpt4o["max_output_tokens"]) == (128000, 16384)
    # the embedding, the image model and the sample_spec entry are left out, and so is
    # Vertex AI's gemini-2.5-pro: the Gemini API's own entry is google's
    assert [m["id"] for m in providers["openai"]["models"]] == ["gpt-4o", "o4-mini"]
    assert data.compiled["skipped"] == 3
    (pro,) = providers["google"]["models"]
    assert pro["id"] == "gemini-2.5-pro" and pro["periods"][0]["standard"]["input"] == "1.25"
    assert pro["url"] == "https://ai.google.dev/gemini-api/docs/pricing"
    assert pro["periods"][0]["tiers"] == [
        {
            "above": 200000,
            "standard": {"input": "2.5", "cached_input": "0.25", "output": "15"},
            "priority": {"input": "4.5", "output": "27"},
        }
    ]
    sonnet = providers["anthropic"]["models"][0]["periods"][0]
    assert sonnet["standard"] == {
        "input": "3",
        "cached_input": "0.3",
        "cache_write_5m": "3.75",
        "cache_write_1h": "6",
        "output": "15",
    }
    assert sonnet["tiers"][0]["standard"]["cache_write_5m"] == "7.5"
    assert sonnet["tiers"][0]["standard"]["cache_write_1h"] == "6"  # no tier price: the base one
    chat = providers["deepseek"]["models"][0]
    assert (chat["id"], chat["deprecation_date"]) == ("deepseek-chat", "2027-03-01")
    assert providers["x-ai"]["models"][0]["id"] == "grok-4"
    assert providers["aws"]["models"][0]["id"] == "anthropic.claude-sonnet-4-5-20250929-v1:0"


@pytest.mark.parametrize(
    ("litellm", "genai"),
    [
        ("openai", "openai"),
        ("text-completion-openai", "openai"),
        ("gemini", "google"),
        ("vertex_ai-language-models", "google"),
        ("vertex_ai-anthropic_models", "google"),
        ("bedrock", "aws"),
        ("bedrock_converse", "aws"),
        ("azure_ai", "azure"),
        ("xai", "x-ai"),
        ("together_ai", "together"),
        ("fireworks_ai", "fireworks"),
        ("moonshot", "moonshotai"),
        ("dashscope", "dashscope"),
        ("Some Provider!", "some-provider"),
    ],
)
def test_litellm_provider_names_map_onto_genai_prices_ids(litellm: str, genai: str) -> None:
    assert provider_id(litellm) == genai


def test_a_litellm_catalogue_resolves_names_and_builds_models() -> None:
    data = read_price_data(LITELLM_SAMPLE)
    catalog = Catalog(data.compiled, "LiteLLM")
    pid, i = catalog.resolve("gpt-4o", "openai")  # type: ignore[misc]
    model = catalog.model(pid, i)
    assert (model.max_input_tokens, model.max_output_tokens) == (128000, 16384)
    assert model.prices[0].source.startswith("https://github.com/BerriAI/litellm")
    pid, i = catalog.resolve("deepseek-chat", None)  # type: ignore[misc]
    assert str(catalog.model(pid, i).deprecated) == "2027-03-01"
    assert catalog.find(["claude-4-5-sonnet", "claude-sonnet-4-5"], "anthropic") is not None


def test_layered_data_keeps_the_shipped_models_it_does_not_name(
    genai_raw: list[dict[str, object]],
) -> None:
    updated = read_price_data(LITELLM_SAMPLE).compiled
    shipped = index_from_raw(
        genai_raw, {"package": "genai-prices", "version": "9", "read": "2026-11-30"}
    )
    index = layered(updated, shipped)
    catalog = Catalog(index, origin_of(updated["source"]))
    openai = [m["id"] for m in index["providers"]["openai"]["models"]]
    assert openai[:2] == ["gpt-4o", "o4-mini"] and "gpt-5.1" in openai
    assert openai.count("gpt-4o") == 1  # named by the update: not taken from behind it
    pid, i = catalog.resolve("gpt-5.1", "openai")  # type: ignore[misc]
    period = catalog.model(pid, i).prices[-1]
    assert (period.origin, str(period.as_of)) == ("genai-prices 9", "2026-11-30")
    assert "mistral" in index["providers"]  # a provider the update lacks


# --- bad data: one line naming the file and what is wrong ----------------------------------


def _genai(tmp: Path, raw: object) -> Path:
    path = tmp / "data.json"
    path.write_text(json.dumps(raw))
    return path


def test_detect() -> None:
    assert detect([{"id": "x", "models": []}]) == GENAI
    assert detect({"gpt-x": {"litellm_provider": "openai"}}) == LITELLM
    assert detect({"a": 1}) is None and detect("text") is None and detect([1, 2]) is None


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda raw: raw[0].pop("models"), "provider 'anthropic': has no models"),
        (lambda raw: raw[0].update(models=[]), "provider 'anthropic': has no models"),
        (
            lambda raw: raw[0]["models"][0]["prices"].update(input_mtok="cheap"),
            "prices.input_mtok: expected a number, got 'cheap'",
        ),
        (
            lambda raw: raw[0]["models"][0]["prices"].update(output_mtok=True),
            "prices.output_mtok: expected a number, got True",
        ),
        (
            lambda raw: raw[0]["models"][0]["prices"].update(input_mtok="-1"),
            "a price must be >= 0",
        ),
    ],
)
def test_bad_genai_data_is_named(
    tmp_path: Path, genai_raw: list[dict[str, object]], mutate: object, message: str
) -> None:
    raw = json.loads(json.dumps(genai_raw))
    raw[0]["models"][0]["prices"] = {"input_mtok": "1", "output_mtok": "2"}
    mutate(raw)  # type: ignore[operator]
    with pytest.raises(CostcalcError, match=r"genai-prices data\.json: ") as info:
        read_price_data(_genai(tmp_path, raw))
    assert message in str(info.value)


def test_bad_litellm_price_is_named() -> None:
    raw = {"gpt-x": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": "lots"}}
    with pytest.raises(
        CostcalcError, match="model 'gpt-x': input_cost_per_token: expected a number"
    ):
        compile_data(raw, "f.json", {"read": "2026-12-01"})


def test_a_model_with_an_absurd_price_is_left_out_not_fatal() -> None:
    raw = {
        "gpt-x": {
            "litellm_provider": "openai",
            "input_cost_per_token": 1.0,
            "output_cost_per_token": 1.0,
        },
        "gpt-y": {"litellm_provider": "openai", "input_cost_per_token": 1e-06},
    }
    data = compile_data(raw, "f.json", {"read": "2026-12-01"})
    assert [m["id"] for m in data.compiled["providers"]["openai"]["models"]] == ["gpt-y"]
    assert data.compiled["skipped"] == 1
    # no output price: billed at 0 and marked, as genai-prices' data is
    assert data.compiled["providers"]["openai"]["models"][0]["periods"][0]["no_output_price"]
