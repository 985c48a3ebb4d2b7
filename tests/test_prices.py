"""The price table: loader, lookups by alias and date, overrides, schema, CLI output."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from costcalc.errors import UnknownModelError, UsageError
from costcalc.prices import (
    PRICES_ENV,
    Provider,
    builtin_price_files,
    load_price_table,
    load_provider_file,
    price_schema,
)
from costcalc.prices.sheet import stale_report
from tests.conftest import RunCli, assert_one_line_error

REPO = Path(__file__).resolve().parent.parent

NEW_PROVIDER = """
    provider: acme
    name: Acme AI
    source: https://acme.example/pricing
    batch:
      discount: 0.6
      cache_discount_stacks: false
      max_requests: 1000
      max_bytes: 1000000
      completion_window_hours: 12
      typical_turnaround_hours: 2
      line_format: openai
      as_of: 2026-01-01
      source: https://acme.example/batch
    token_estimate: {factor: 1.5, reason: acme tokenizer is not public}
    speed: {time_to_first_token_s: 1, output_tokens_per_s: 50, as_of: 2026-01-01, source: https://acme.example/speed}
    rate_limits:
      default_tier: t1
      tiers: {t1: {requests_per_minute: 60, tokens_per_minute: 100000}}
      as_of: 2026-01-01
      source: https://acme.example/limits
    models:
      - id: acme-1
        name: Acme One
        aliases: [acme-one]
        context_window: 32000
        prices:
          - as_of: 2026-01-01
            source: https://acme.example/pricing
            standard: {input: 1.00, cached_input: 0.25, output: 4.00}
"""


def test_every_shipped_file_is_valid_and_covers_the_required_models() -> None:
    files = builtin_price_files()
    assert {f.stem for f in files} >= {"openai", "anthropic", "google"}
    for f in files:
        assert isinstance(load_provider_file(f), Provider)
    table = load_price_table()
    required = [
        "gpt-4o", "gpt-4o-2024-05-13", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano",
        "o3", "o4-mini", "gpt-5", "gpt-5-mini", "gpt-5-nano", "claude-sonnet-4",
        "claude-sonnet-4-5", "claude-3-5-haiku", "claude-haiku-4-5", "claude-opus-4",
        "claude-opus-4-1", "claude-opus-4-5", "gemini-2.5-pro", "gemini-2.5-flash",
        "gemini-2.5-flash-lite", "gpt-4o-lesson",
    ]  # fmt: skip
    for name in required:
        table.find(name)


def test_every_model_is_dated_and_sourced() -> None:
    for _prov, model in load_price_table().models():
        for period in model.prices:
            assert period.as_of <= dt.date.today()
            assert period.source.startswith("https://")


def test_prices_are_exact_decimals_from_the_yaml_text() -> None:
    p = load_price_table().prices("gpt-4o-mini").period.standard
    assert p.cached_input == Decimal("0.075")
    assert isinstance(p.input, Decimal)


def test_gpt_4o_today_and_at_launch() -> None:
    table = load_price_table()
    today = table.prices("gpt-4o").mode("standard").rates
    assert today["input"].usd_per_mtok == Decimal("2.50")
    assert today["cached_input"].usd_per_mtok == Decimal("1.25")
    assert today["output"].usd_per_mtok == Decimal("10.00")
    launch = table.prices("gpt-4o-2024-05-13").mode("standard").rates
    assert (launch["input"].usd_per_mtok, launch["output"].usd_per_mtok) == (5, 15)
    # the gpt-4o name itself was priced at launch rates before 2024-10-02
    before = table.prices("gpt-4o", "2024-09-01").mode("standard").rates
    assert before["input"].usd_per_mtok == 5


def test_lookup_by_alias_snapshot_case_and_provider_prefix() -> None:
    table = load_price_table()
    assert table.find("gpt-4o-2024-08-06")[1].id == "gpt-4o"
    assert table.find("claude-sonnet-4-5-20250929")[1].id == "claude-sonnet-4-5"
    assert table.find("GPT-4o")[1].id == "gpt-4o"
    assert table.find("anthropic/claude-haiku-4.5")[1].id == "claude-haiku-4-5"
    with pytest.raises(UnknownModelError):
        table.find("openai/claude-haiku-4-5")


def test_o3_price_cut_is_dated() -> None:
    table = load_price_table()
    before = table.prices("o3", dt.date(2025, 6, 9)).mode("standard").rates
    after = table.prices("o3", dt.date(2025, 6, 10)).mode("standard").rates
    assert before["input"].usd_per_mtok == 10 and before["output"].usd_per_mtok == 40
    assert after["input"].usd_per_mtok == 2 and after["output"].usd_per_mtok == 8
    with pytest.raises(UsageError, match="start 2025-04-16"):
        table.prices("o3", "2025-01-01")


def test_batch_published_or_assumed() -> None:
    table = load_price_table()
    batch = table.prices("gpt-4o").mode("batch")
    assert batch.rates["input"].basis == "published"
    assert batch.rates["input"].usd_per_mtok == Decimal("1.25")
    # cached input in batch is not published: derived by the rule and flagged
    assert batch.rates["cached_input"].basis == "assumed"
    assert batch.rates["cached_input"].usd_per_mtok == Decimal("0.625")
    lesson = table.prices("gpt-4o-lesson").mode("batch")
    assert lesson.rates["input"].usd_per_mtok == Decimal("7.50")
    assert lesson.assumed == ["input", "output"]


def test_anthropic_cache_prices_stack_with_batch_and_google_do_not() -> None:
    table = load_price_table()
    sonnet = table.prices("claude-sonnet-4-5").mode("batch").rates
    assert sonnet["cached_input"].usd_per_mtok == Decimal("0.15")  # 0.30 x 0.5
    assert sonnet["cache_write_5m"].usd_per_mtok == Decimal("1.875")  # 3.75 x 0.5
    assert sonnet["cache_write_1h"].usd_per_mtok == Decimal("3.00")  # 6.00 x 0.5
    flash = table.prices("gemini-2.5-flash").mode("batch").rates
    assert flash["cached_input"].usd_per_mtok == Decimal("0.03")  # standard cached rate
    assert flash["cached_input"].basis == "assumed"


def test_long_context_tiers() -> None:
    table = load_price_table()
    sonnet = table.prices("claude-sonnet-4-5", "2026-04-01")  # in its 1M beta
    assert table.prices("claude-sonnet-4-5", "2026-04-30").period.tiers == ()  # beta retired
    assert sonnet.mode("standard", 200_000).rates["input"].usd_per_mtok == 3
    above = sonnet.mode("standard", 200_001)
    assert above.above_input_tokens == 200_000
    assert above.rates["input"].usd_per_mtok == 6
    assert above.rates["output"].usd_per_mtok == Decimal("22.50")
    assert sonnet.mode("batch", 300_000).rates["output"].usd_per_mtok == Decimal("11.25")
    pro = table.prices("gemini-2.5-pro").mode("standard", 250_000).rates
    assert (pro["input"].usd_per_mtok, pro["output"].usd_per_mtok) == (Decimal("2.50"), 15)


def test_flex_and_priority_only_where_sold() -> None:
    table = load_price_table()
    flex = table.prices("gpt-4o").mode("flex")
    assert not flex.available and "no flex tier" in flex.reason
    assert table.prices("o3").mode("flex").rates["input"].usd_per_mtok == 1
    pri = table.prices("gpt-5").mode("priority").rates
    assert (pri["input"].usd_per_mtok, pri["output"].usd_per_mtok) == (Decimal("2.50"), 20)
    assert not table.prices("gpt-5-nano").mode("priority").available
    assert not table.prices("claude-opus-4-5").mode("flex").available


def test_did_you_mean() -> None:
    table = load_price_table()
    with pytest.raises(UnknownModelError) as info:
        table.find("gpt-4-o")
    assert "gpt-4o" in info.value.suggestions
    assert "did you mean" in str(info.value)


def test_override_file_replaces_and_adds(write, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    override = write(
        "mine.yaml",
        """
        provider: openai
        models:
          - id: gpt-4o
            name: GPT-4o (our negotiated rate)
            encoding: o200k_base
            context_window: 128000
            prices:
              - as_of: 2026-10-01
                source: https://example.com/contract
                standard: {input: 2.00, output: 8.00}
          - id: ft-gpt-4o-ours
            name: our fine-tune
            encoding: o200k_base
            context_window: 128000
            prices:
              - as_of: 2026-10-01
                source: https://example.com/contract
                standard: {input: 3.75, output: 15.00}
        """,
    )
    table = load_price_table([override])
    assert table.prices("gpt-4o").mode("standard").rates["input"].usd_per_mtok == 2
    assert table.prices("ft-gpt-4o-ours").mode("batch").rates["output"].usd_per_mtok == Decimal(
        "7.50"
    )
    # other OpenAI models and the provider's batch rule are untouched
    assert table.prices("gpt-4.1").mode("standard").rates["input"].usd_per_mtok == 2
    assert table.providers["openai"].batch is not None


def test_override_adds_a_provider_and_env_var_is_read(write, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    path = write("acme.yaml", NEW_PROVIDER)
    monkeypatch.setenv(PRICES_ENV, str(path))
    table = load_price_table()
    batch = table.prices("acme-one").mode("batch").rates
    assert batch["input"].usd_per_mtok == Decimal("0.60")
    assert batch["cached_input"].usd_per_mtok == Decimal("0.25")  # no stacking at acme


def test_cli_override_wins_over_env(write, run_cli: RunCli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    env_file = write("env.yaml", NEW_PROVIDER)
    cli_file = write("cli.yaml", NEW_PROVIDER.replace("input: 1.00", "input: 9.00"))
    monkeypatch.setenv(PRICES_ENV, str(env_file))
    result = run_cli("prices", "show", "acme-1", "--format", "json", "--prices", str(cli_file))
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    std = next(t for t in data["tiers"] if t["above_input_tokens"] is None)["modes"][0]
    assert {p["component"]: p["usd_per_mtok"] for p in std["prices"]}["input"] == "9.00"


def test_schema_file_is_current() -> None:
    committed = json.loads((REPO / "pricing" / "schema.json").read_text())
    assert committed == price_schema(), "run: costcalc prices schema > pricing/schema.json"


def test_yaml_files_reference_the_schema() -> None:
    for f in builtin_price_files():
        assert f.read_text().startswith("# yaml-language-server: $schema=schema.json\n"), f


def test_schema_forbids_unknown_keys_and_requires_currency_usd() -> None:
    schema = price_schema()
    assert schema["additionalProperties"] is False
    assert schema["properties"]["currency"]["const"] == "USD"


# --- CLI ------------------------------------------------------------------------------------


def test_show_json_has_standard_and_batch_prices(run_cli: RunCli) -> None:
    result = run_cli("prices", "show", "gpt-4o", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["currency"] == "USD"
    assert data["model"] == "gpt-4o"
    base = data["tiers"][0]
    modes = {m["mode"]: m for m in base["modes"]}
    std = {p["component"]: p for p in modes["standard"]["prices"]}
    batch = {p["component"]: p for p in modes["batch"]["prices"]}
    assert std["input"] == {
        "component": "input", "usd_per_mtok": "2.50", "basis": "published", "note": ""
    }  # fmt: skip
    assert batch["output"]["usd_per_mtok"] == "5.00"
    assert batch["cached_input"]["basis"] == "assumed"
    assert modes["flex"]["available"] is False
    assert data["source"].startswith("https://")


def test_show_table_marks_assumed_prices(run_cli: RunCli) -> None:
    result = run_cli("prices", "show", "gpt-4o-lesson")
    assert result.exit_code == 0
    assert "teaching rate" in result.stdout
    assert "$7.50" in result.stdout and "assumed" in result.stdout


def test_list_formats(run_cli: RunCli) -> None:
    table = run_cli("prices", "list", "--provider", "anthropic")
    assert table.exit_code == 0
    assert "claude-opus-4-5" in table.stdout and "gpt-4o" not in table.stdout
    as_json = json.loads(run_cli("prices", "list", "--format", "json").stdout)
    assert as_json["currency"] == "USD"
    row = next(m for m in as_json["models"] if m["model"] == "gpt-4o")
    assert (row["input"], row["batch_input"], row["batch_assumed"]) == ("2.50", "1.25", False)
    csv_out = run_cli("prices", "list", "--format", "csv").stdout.splitlines()
    assert csv_out[0].startswith("provider,model,teaching,currency,input")
    assert any(line.startswith("openai,gpt-4o,false,USD,2.5,1.25,10,") for line in csv_out)


def test_list_as_of_leaves_out_models_not_yet_released(run_cli: RunCli) -> None:
    data = json.loads(run_cli("prices", "list", "--as-of", "2024-06-01", "--format", "json").stdout)
    ids = {m["model"] for m in data["models"]}
    assert "gpt-4o" in ids and "gpt-5" not in ids


def test_unknown_provider_is_bad_input(run_cli: RunCli) -> None:
    assert_one_line_error(run_cli("prices", "list", "--provider", "nope"), "unknown provider")


def test_validate_ok(run_cli: RunCli) -> None:
    files = [str(f) for f in builtin_price_files()]
    result = run_cli("prices", "validate", *files)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.count("ok: ") == len(files)


def test_stale_exit_codes(run_cli: RunCli) -> None:
    table = load_price_table()
    future = dt.date.today() + dt.timedelta(days=400)
    assert stale_report(table, 90, today=future).stale
    assert not stale_report(table, 100_000).stale
    ok = run_cli("prices", "stale", "--days", "100000")
    assert ok.exit_code == 0 and "checked within" in ok.stdout
    failed = run_cli("prices", "stale", "--days", "0", "--format", "json")
    if json.loads(failed.stdout)["stale"]:  # prices checked today are 0 days old: not stale
        assert failed.exit_code == 1
    else:
        assert failed.exit_code == 0


def test_stale_fails_with_an_old_override(write, run_cli: RunCli) -> None:  # type: ignore[no-untyped-def]
    old = write(
        "old.yaml",
        NEW_PROVIDER.replace(
            "as_of: 2026-01-01\n            source", "as_of: 2020-01-01\n            source"
        ),
    )
    result = run_cli("prices", "stale", "--days", "365", "--prices", str(old))
    assert result.exit_code == 1
    assert "acme-1" in result.stdout


def test_schema_command_prints_json(run_cli: RunCli) -> None:
    result = run_cli("prices", "schema")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["title"].startswith("costcalc price table")


def test_version_and_module_entry_point() -> None:
    import subprocess
    import sys

    from costcalc import __version__

    out = subprocess.run(
        [sys.executable, "-m", "costcalc", "--version"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert __version__ in out.stdout


def test_compiled_table_is_current() -> None:
    from costcalc.prices import COMPILED, builtin_pricing_dir, compile_price_table

    committed = (builtin_pricing_dir() / COMPILED).read_text()
    assert committed == compile_price_table(), "run: costcalc prices compile"


def test_an_edited_yaml_file_wins_over_the_compiled_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from costcalc import shipped
    from costcalc.prices import load as prices

    copy = tmp_path / "pricing"
    shutil.copytree(prices.builtin_pricing_dir(), copy)
    openai = copy / "openai.yaml"
    openai.write_text(
        openai.read_text().replace(
            "standard: {input: 0.15, cached_input: 0.075, output: 0.60}",
            "standard: {input: 0.99, cached_input: 0.075, output: 0.60}",
        )
    )
    monkeypatch.setattr(shipped, "builtin_pricing_dir", lambda: copy)
    prices.forget_loaded()
    try:
        assert prices.load_price_table().prices("gpt-4o-mini").mode("standard").rates[
            "input"
        ].usd_per_mtok == Decimal("0.99")
    finally:
        prices.forget_loaded()


def test_a_snapshot_is_priced_as_it_sold_and_not_before_its_release() -> None:
    from costcalc.errors import UsageError

    table = load_price_table()
    day = dt.date(2024, 9, 1)  # the gpt-4o name still pointed at the $5/$15 snapshot
    assert table.prices("gpt-4o", day).mode("standard").rates["input"].usd_per_mtok == Decimal(
        "5.00"
    )
    aug = table.prices("gpt-4o-2024-08-06", day).mode("standard").rates
    assert (aug["input"].usd_per_mtok, aug["output"].usd_per_mtok) == (
        Decimal("2.50"),
        Decimal("10.00"),
    )
    with pytest.raises(
        UsageError,
        match="gpt-4o-2024-11-20 has no prices on 2024-09-01: it was released 2024-11-20",
    ):
        table.prices("gpt-4o-2024-11-20", day)
