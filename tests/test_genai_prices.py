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
from costcalc.errors import CostcalcError
from costcalc.prices import builtin_pricing_dir, load_price_table
from costcalc.prices.genai import INDEX_FILE, exact_names, installed_version, matches

# retired models in the sample warn, as a quote of them should; that is tested apart
pytestmark = pytest.mark.filterwarnings("ignore::costcalc.CostcalcWarning")

DAY = dt.date(2026, 12, 1)
# at noon UTC genai-prices bills what costcalc quotes for time-of-day prices, those of most
# hours of the day: DeepSeek chat's 16 day hours (00:30-16:30), V4's hours outside its peaks
AT = dt.datetime(2026, 12, 1, 12, tzinfo=dt.timezone.utc)
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
    # compiled by the current code from the installed data: run `costcalc prices compile`
    from costcalc.prices.genai import index_from_raw, raw_from_package

    raw, version = raw_from_package()
    fresh = index_from_raw(raw, {**INDEX["source"], "version": version})
    assert json.loads(json.dumps(fresh)) == INDEX


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
        ("openai/gpt-4o", "openai", "gpt-4o"),  # the older provider/model
        # an id with a slash whose first part is a provider, but none of its models: the id
        # whole, sold by one provider alone
        ("google/gemma-2-2b-it", "huggingface_nebius", "google/gemma-2-2b-it"),
    ],
)
def test_names_resolve(name: str, provider: str, model: str) -> None:
    prov, entry = load_price_table().find(name)
    assert (prov.provider, entry.id) == (provider, model)


def test_an_id_with_a_slash_sold_by_several_says_so() -> None:
    with pytest.raises(CostcalcError, match="is sold by several providers: name one"):
        load_price_table().find("moonshotai/kimi-k2-instruct")


def test_a_model_of_a_curated_provider_gets_its_rules() -> None:
    q = _quote("gpt-5.1")
    assert q.mode("request").time_to_first_token_s is not None  # OpenAI's speed
    assert q.mode("batch").worst_wait_s == 24 * 3600  # OpenAI's 24 h window
    assert "from genai-prices" in q.assumptions[0]


def test_a_provider_known_only_from_genai_prices_has_prices_and_no_invented_times() -> None:
    q = _quote("cohere:command-r")
    assert q.price_origin == f"genai-prices {installed_version()}"
    assert q.mode("request").wait_s is None
    assert not q.mode("batch").available  # nothing read says Cohere sells one
    assert "nothing costcalc has read says Cohere" in q.mode("batch").reason
    assert "not known for cohere" in q.recommendation.reason


def test_a_curated_rule_gives_what_the_data_lacks() -> None:
    # Mistral: prices from genai-prices, its Batch API (50%, 24 h) from pricing/mistral.yaml
    q = _quote("mistral:mistral-large-latest")
    batch = q.mode("batch")
    assert batch.available and batch.assumed == ["input", "output"]
    assert batch.cost == q.mode("request").cost / 2
    assert batch.worst_wait_s == 24 * 3600 and q.mode("request").wait_s is None
    assert q.recommendation.mode == "batch"
    # a published batch price wins over the rule (codestral's comes from the data)
    assert _quote("mistral:codestral").mode("batch").assumed == []
    # DeepSeek: read, and no Batch API
    assert _quote("deepseek-chat").mode("batch").reason == "Deepseek has no Batch API"
    # Azure sells OpenAI's models at OpenAI's prices, under its own rule
    azure = _quote("azure:gpt-4o")
    assert azure.provider == "azure" and azure.mode("batch").available


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("nope:foo", "no provider 'nope'"),
        ("openai/claude-haiku-4-5", "unknown model"),
        ("claude-sonet-4-6", "did you mean"),
        # listed by genai-prices without a text-token price: said so, not "unknown model" with
        # unrelated suggestions (a hostile trial's find)
        ("groq:whisper-large-v3", "^no price per text token for model 'groq:whisper-large-v3'"),
        ("whisper-large-v3", "genai-prices 0.2.3 lists groq:whisper-large-v3 without one"),
        ("openrouter:openai/gpt-oss-120b:free", "lists openrouter:openai/gpt-oss-120b:free"),
        ("mistral:mistral-ocr-latest", "a free model, or one priced per image"),
    ],
)
def test_unknown_names_say_so(name: str, message: str) -> None:
    with pytest.raises(costcalc.UnknownModelError, match=message):
        load_price_table().find(name)


def test_prices_from_the_data_say_where_they_came_from(run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("quote", "-m", "mistral:codestral", "-n", "10", "-i", "100", "-o", "10")
    assert result.exit_code == 0, result.stderr
    assert "from genai-prices" in result.stdout and "checked" not in result.stdout


def test_a_retired_model_warns_with_its_date_and_source(run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("quote", "-m", "o4-mini", "-n", "10", "-i", "100", "-o", "10")
    assert result.exit_code == 0
    assert "warning: o4-mini was retired on 2026-10-23 (LiteLLM" in result.stderr
    # retiring later: no warning on a quote, the date in `prices show`
    later = run_cli("quote", "-m", "o3", "-n", "10", "-i", "100", "-o", "10")
    assert "warning" not in later.stderr
    assert "to be retired on 2026-12-11" in run_cli("prices", "show", "o3").stdout
    flagged = run_cli("quote", "-m", "mistral:open-mistral-7b", "-n", "1", "-i", "1", "-o", "1")
    assert "deprecated (no date given)" in flagged.stderr or flagged.exit_code == 0


def test_prices_list_reaches_every_provider_and_hides_the_retired(run_cli) -> None:  # type: ignore[no-untyped-def]
    mistral = run_cli("prices", "list", "--provider", "mistral", "--format", "json")
    rows = json.loads(mistral.stdout)["models"]
    assert {r["provider"] for r in rows} == {"mistral"} and len(rows) > 10
    everything = json.loads(run_cli("prices", "list", "--all", "--format", "json").stdout)
    assert len({r["provider"] for r in everything["models"]}) > 30
    curated = json.loads(run_cli("prices", "list", "--format", "json").stdout)["models"]
    active = json.loads(run_cli("prices", "list", "--active", "--format", "json").stdout)["models"]
    assert "o4-mini" in {r["model"] for r in curated} - {r["model"] for r in active}
    unknown = run_cli("prices", "list", "--provider", "nope")
    assert unknown.exit_code == 2 and "unknown provider 'nope'" in unknown.stderr


@pytest.mark.parametrize(
    ("provider", "discount", "window", "line_format"),
    [
        ("aws", Decimal("0.5"), Decimal(24), "bedrock"),
        ("azure", Decimal("0.5"), None, None),
        ("mistral", Decimal("0.5"), Decimal(24), None),
        ("groq", Decimal("0.5"), None, "openai"),
        ("together", None, Decimal(24), None),
        ("x-ai", None, None, None),
    ],
)
def test_curated_provider_rules_are_sourced(
    provider: str, discount: Decimal | None, window: Decimal | None, line_format: str | None
) -> None:
    prov = load_price_table().providers[provider]
    rule = prov.batch
    assert rule is not None
    assert (rule.discount, rule.completion_window_hours, rule.line_format) == (
        discount,
        window,
        line_format,
    )
    assert rule.source.startswith("https://") and rule.read == "a stored copy"
    assert prov.speed is None and prov.rate_limits is None  # none read: none invented
    assert load_price_table().providers["deepseek"].batch is None


def test_the_newest_variant_in_effect_wins_as_in_genai_prices() -> None:
    # gemini-4-argon and mistral-large-4 list several dated batch prices, newest first
    for pid, model in (("google", "gemini-4-argon"), ("mistral", "mistral-large-4")):
        batch = _quote(f"{pid}:{model}").mode("batch")
        assert batch.cost == _genai(pid, model, context={"processing": "batch"})


def test_a_variant_without_prices_sells_the_mode_at_the_standard_prices() -> None:
    # genai-prices lists gpt-3.5-turbo-1106's batch variant with no prices ("the Batch table
    # lists the same rates as standard"): calc_price bills the standard rates, and so does
    # costcalc, as published prices (it took the empty variant for none and applied OpenAI's
    # 50% rule: a hostile trial's find)
    batch = _quote("openai:gpt-3.5-turbo-1106").mode("batch")
    assert batch.available and not batch.assumed
    assert batch.cost == _quote("openai:gpt-3.5-turbo-1106").mode("request").cost
    assert batch.cost == _genai("openai", "gpt-3.5-turbo-1106", context={"processing": "batch"})


def test_a_model_sold_at_another_providers_prices_takes_the_sellers_rules() -> None:
    # Azure sells gpt-5.1 at OpenAI's list prices; OpenAI's batch/flex/priority variants are
    # OpenAI's, so Azure's batch is its own rule's (assumed) and it sells no flex or priority
    q = _quote("azure:gpt-5.1")
    assert q.mode("request").cost == _genai("azure", "gpt-5.1")
    assert q.mode("batch").assumed == ["input", "output"]
    assert not q.mode("flex").available and not q.mode("priority").available


def test_prices_costcalc_leaves_out_are_named_in_the_quote() -> None:
    # a web search is paid for when a request uses the tool: not part of a token workload
    q = _quote("meta:muse-spark-1.1")
    assert any("does not price" in a and "web_searches_kcount" in a for a in q.assumptions)
    # the fee every request pays is priced (tests/test_request_fee.py), so not named here
    q = _quote("perplexity:sonar")
    assert not any("does not price" in a for a in q.assumptions)


@pytest.mark.parametrize(
    ("name", "provider"),
    [
        ("anthropic.claude-3-5-sonnet-20241022-v2:0", "aws"),
        ("AWS:anthropic.claude-3-5-sonnet-20241022-v2:0", "aws"),
        # Google's Vertex patterns take the Claude part of these too: they were Google's
        ("anthropic.claude-3-haiku-20240307-v1:0", "aws"),
        ("bedrock/anthropic.claude-3-5-sonnet-20241022-v2:0", "aws"),
        ("us.anthropic.claude-3-5-sonnet-20241022-v2:0", "aws"),
        ("claude-3-haiku", "anthropic"),
        ("bedrock:anthropic.claude-3-5-sonnet-20241022-v2:0", "aws"),  # the name people use
    ],
)
def test_a_bare_bedrock_id_is_bedrocks(name: str, provider: str) -> None:
    assert load_price_table().find(name)[0].provider == provider


def test_did_you_mean_looks_at_every_model_and_provider() -> None:
    with pytest.raises(costcalc.UnknownModelError, match="'claude-opus-4-6'"):
        load_price_table().find("claud-opus-4-6")
    with pytest.raises(costcalc.UnknownModelError, match="did you mean 'anthropic'"):
        load_price_table().find("anthropc:claude-opus-4-6")


def test_batch_files_for_a_provider_without_a_batch_rule_are_refused(run_cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    src = tmp_path / "s.csv"
    src.write_text("body\nhi\n")
    for model in ("openrouter:anthropic/claude-opus-4.6", "cerebras:gpt-oss-120b"):
        result = run_cli("batch", "build", str(src), "-m", model, "--column", "body",
                         "--out", str(tmp_path / "o"))  # fmt: skip
        assert result.exit_code == 2 and "Traceback" not in result.stderr
    nova = run_cli("batch", "build", str(src), "-m", "aws:amazon.nova-lite-v1:0", "--column",
                   "body", "--out", str(tmp_path / "n"))  # fmt: skip
    assert nova.exit_code == 2 and "Claude models only" in nova.stderr


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


def test_vertex_ai_sells_googles_models_under_its_own_rules(run_cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    q = _quote("google-vertex:gemini-2.5-pro")
    assert q.provider == "google-vertex"
    assert q.mode("request").cost == _genai("google", "gemini-2.5-pro")  # Google's list price
    batch = q.mode("batch")
    assert batch.assumed == ["input", "output"] and batch.cost == q.mode("request").cost / 2
    assert q.mode("request").wait_s is None  # no speed figures read for Vertex
    cached = _quote("google-vertex:gemini-2.5-pro", Decimal("0.5")).mode("batch")
    assert "cached_input" in cached.assumed  # the discounts do not stack: standard cache price
    src = tmp_path / "p.csv"
    src.write_text("body\nhello there\n")
    built = run_cli("batch", "build", str(src), "-m", "google-vertex:gemini-2.5-pro",
                    "--column", "body", "--out", str(tmp_path / "o"))  # fmt: skip
    assert built.exit_code == 0, built.stderr
    (part,) = sorted((tmp_path / "o").glob("*.jsonl"))
    line = json.loads(part.read_text().splitlines()[0])
    assert line["request"]["labels"]["custom_id"] == "row-1"
    listed = run_cli("prices", "list", "--provider", "google-vertex", "--format", "json")
    assert len(json.loads(listed.stdout)["models"]) > 20


def test_the_fastest_of_an_untimed_quote_is_a_mode_not_an_error() -> None:
    q = _quote("cohere:command-r")
    assert q.fastest.mode in ("stream", "request") and q.cheapest.available
    timed = _quote("mistral:mistral-large-latest")  # only batch has a (window) time
    assert timed.fastest.mode == "batch"


@pytest.mark.parametrize(
    ("pid", "model", "context"),
    [
        ("anthropic", "claude-opus-5", {"speed": "fast"}),
        ("anthropic", "claude-opus-4-8", {"speed": "fast"}),
        ("openai", "gpt-5.1", {"service_tier": "fast"}),
        ("openai", "gpt-5.4", {"service_tier": "fast"}),
    ],
)
def test_fast_mode_is_priced_as_genai_prices_prices_it(
    pid: str, model: str, context: dict[str, str]
) -> None:
    q = costcalc.quote(
        costcalc.Workload(model=f"{pid}:{model}", requests=1, input_tokens=Decimal(400),
                          output_tokens=Decimal(50), modes="request,fast", as_of=DAY)
    )  # fmt: skip
    fast = q.mode("fast")
    assert fast.available and not fast.assumed
    assert fast.cost == _genai(pid, model, context=context)
    assert fast.cost is not None and fast.cost > q.mode("request").cost  # a premium
    assert any("upper bound" in n for n in fast.notes)  # its times are standard's


def test_fast_mode_is_asked_for_by_name_or_with_all() -> None:
    assert [m.mode for m in _quote("gpt-5.1").modes] == [
        "stream", "request", "batch", "flex", "priority",
    ]  # fmt: skip
    every = costcalc.quote(
        costcalc.Workload(model="gpt-5.1", requests=1, input_tokens=Decimal(400),
                          output_tokens=Decimal(50), modes="all")
    )  # fmt: skip
    assert every.modes[-1].mode == "fast"


@pytest.mark.parametrize(
    ("name", "input_usd", "hours"),
    [("deepseek-chat", "0.27", "16 hours"), ("deepseek:deepseek-v4-flash", "0.15", "")],
)
def test_time_of_day_prices_are_those_of_most_hours(name: str, input_usd: str, hours: str) -> None:
    """DeepSeek chat lists its night discount as the base and its 16 day hours as a window:
    quoting the base understated a workload spread over the day by half (a trial found it).
    V4's peak windows hold 7 hours: the base holds most, and stays."""
    q = _quote(name)
    assert q.mode("request").rates["input"] == Decimal(input_usd)
    if hours:
        assert any(hours in a and "cheaper" in a for a in q.assumptions), q.assumptions
