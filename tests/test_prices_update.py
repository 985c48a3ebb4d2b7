"""`costcalc prices update`: newer price data kept in the user data folder ($COSTCALC_HOME, a
temporary folder in every test), its diff, and its precedence over the shipped prices.

Every file here is built from the installed genai-prices' data (its published shape) or from
tests/data/litellm_prices.json, with one planted change; no test touches the network.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import costcalc
from costcalc.prices import builtin_pricing_dir, load_price_table
from costcalc.prices.genai import installed_version, raw_from_package
from tests.conftest import RunCli, assert_one_line_error

TODAY = dt.date.today().isoformat()
LITELLM_SAMPLE = Path(__file__).parent / "data" / "litellm_prices.json"
GENAI_ORIGIN = f"genai-prices data.json (prices update {TODAY})"


def _raw() -> list[dict[str, Any]]:
    return json.loads(json.dumps(raw_from_package()[0]))


def _model(raw: list[dict[str, Any]], provider: str, model: str) -> dict[str, Any]:
    prov = next(p for p in raw if p["id"] == provider)
    return next(m for m in prov["models"] if m["id"] == model)  # type: ignore[no-any-return]


@pytest.fixture
def planted(tmp_path: Path) -> Path:
    """genai-prices' data with gpt-4o's input at $3.00 (it is $2.50), gpt-4 gone and a new
    model added."""
    raw = _raw()
    _model(raw, "openai", "gpt-4o")["prices"]["input_mtok"] = "3"
    openai = next(p for p in raw if p["id"] == "openai")
    openai["models"] = [m for m in openai["models"] if m["id"] != "gpt-4"]
    openai["models"].append(
        {
            "id": "gpt-planted",
            "match": {"equals": "gpt-planted"},
            "prices": {"input_mtok": "1", "output_mtok": "2"},
        }
    )
    path = tmp_path / "data.json"
    path.write_text(json.dumps(raw))
    return path


def _pricing_files() -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(builtin_pricing_dir().iterdir())
        if p.is_file()
    }


def _quote(run_cli: RunCli, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    quote = ["quote", "-n", "1000", "-i", "1000", "-o", "100", "--format", "json"]
    result = run_cli(*quote, *args, env=env)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["workloads"][0]  # type: ignore[no-any-return]


def _cost(workload: dict[str, Any], mode: str) -> str:
    return next(m["cost"] for m in workload["modes"] if m["mode"] == mode)  # type: ignore[no-any-return]


def test_a_planted_change_is_diffed_kept_quoted_shown_and_removed(
    run_cli: RunCli, planted: Path, costcalc_home: Path
) -> None:
    before = _pricing_files()
    assert _cost(_quote(run_cli, "-m", "gpt-4o"), "request") == "3.50"

    result = run_cli("prices", "update", "--from", str(planted))
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert out.startswith(f"prices update {TODAY}: genai-prices data.json from {planted}\n")
    assert f"kept in {costcalc_home / 'prices-update.json'}: " in out
    assert (
        f"compared with the data in use before, the shipped genai-prices {installed_version()}"
        in out
    )
    words = " ".join(out.split())
    assert "openai gpt-4o input $2.50 $3.00" in words
    assert "models added (1):" in out and "openai    gpt-planted" in out
    # gpt-4, which the planted data leaves out, keeps the shipped prices: nothing is removed
    assert "models removed: none" in out
    assert "models per provider (providers with a change):" in out
    words = " ".join(out.split())
    # changes are of prices as quoted: a curated model takes what the data states over the
    # curated table (nine OpenAI models get genai-prices' fast prices the curated table has
    # not, claude-sonnet-4-5 its tiers above 200,000 tokens), so 10 OpenAI models change
    assert "openai gpt-4o fast input - $4.25" in words
    assert "openai 104 105 1 0 10" in words and " 45 providers without a change " in words
    assert "a model it does not list keeps the shipped prices" in words
    assert (costcalc_home / "prices-update.json").is_file()

    # 1,000 requests x (1,000 input x $3.00 + 100 output x $10.00) / 1M = $4.00 (was $3.50);
    # batch is genai-prices' published batch price ($1.25 / $5.00): $1.75, as before
    workload = _quote(run_cli, "-m", "gpt-4o")
    assert _cost(workload, "request") == "4.00" and _cost(workload, "batch") == "1.75"
    assert workload["price_origin"] == GENAI_ORIGIN
    assert workload["assumptions"][0].startswith(
        f"prices in effect on {TODAY}, from {GENAI_ORIGIN}"
    )
    # a model only the update has: 1,000 x (1,000 x $1 + 100 x $2) / 1M = $1.20
    assert _cost(_quote(run_cli, "-m", "gpt-planted"), "request") == "1.20"
    # one the update leaves out keeps the shipped prices: 1,000 x (1,000 x $30 + 100 x $60)
    # / 1M = $36.00, curated (no data package named)
    gpt4 = _quote(run_cli, "-m", "openai:gpt-4")
    assert _cost(gpt4, "request") == "36.00" and gpt4["price_origin"] is None

    shown = run_cli("prices", "show", "gpt-4o")
    assert shown.exit_code == 0, shown.stderr
    assert f"from {GENAI_ORIGIN} (read {TODAY}; it cites https://" in shown.stdout.splitlines()[1]
    assert (
        "all requests  standard  input                                $3.00  published"
        in shown.stdout
    )

    assert _pricing_files() == before  # the installed package is untouched

    removed = run_cli("prices", "update", "--remove")
    assert removed.exit_code == 0, removed.stderr
    assert removed.stdout.startswith(f"removed {costcalc_home / 'prices-update.json'}: ")
    assert _cost(_quote(run_cli, "-m", "gpt-4o"), "request") == "3.50"
    again = run_cli("prices", "update", "--remove")
    assert again.stdout.startswith("no updated prices at ")
    assert _pricing_files() == before


def test_a_user_price_file_still_wins(run_cli: RunCli, planted: Path, write: Any) -> None:
    assert run_cli("prices", "update", "--from", str(planted)).exit_code == 0
    mine = write(
        "mine.yaml",
        """
        provider: openai
        models:
          - id: gpt-4o
            name: GPT-4o at our contract rate
            encoding: o200k_base
            context_window: 128000
            prices:
              - as_of: 2026-10-01
                source: https://example.com/our-contract
                standard: {input: 2.00, output: 8.00}
        """,
    )
    # 1,000 x (1,000 x $2.00 + 100 x $8.00) / 1M = $2.80
    workload = _quote(run_cli, "-m", "gpt-4o", "--prices", str(mine))
    assert _cost(workload, "request") == "2.80" and workload["price_origin"] is None
    workload = _quote(run_cli, "-m", "gpt-4o", env={"COSTCALC_PRICES": str(mine)})
    assert _cost(workload, "request") == "2.80"


def test_precedence_in_the_loaded_table(planted: Path) -> None:
    raw = json.loads(planted.read_text())
    # a dated change in the data, later than anything curated
    gpt4o = _model(raw, "openai", "gpt-4o")
    gpt4o["prices"] = [
        {"prices": gpt4o["prices"]},
        {
            "constraint": {"start_date": "2027-01-01"},
            "prices": {"input_mtok": "2", "output_mtok": "8"},
        },
    ]
    _model(raw, "anthropic", "claude-sonnet-4-5")["context_window"] = 150000
    planted.write_text(json.dumps(raw))
    costcalc.update_prices(planted)
    table = load_price_table()
    # the curated history before the data's first date stands: the launch price
    launch = table.prices("gpt-4o", "2024-06-01").period
    assert launch.standard.input == Decimal("5.00") and launch.origin is None
    # the data's prices from the start of the curated prices it replaces (2024-10-02)
    first = table.prices("gpt-4o", "2024-10-02").period
    assert first.standard.input == Decimal(3) and first.origin == GENAI_ORIGIN
    # what the data does not state for that period (priority before its 2026-10-12 variant)
    # is the curated table's, and the note says so
    assert first.priority is not None and first.priority.input == Decimal("4.25")
    assert "curated table's (checked 2026-11-26 against" in (first.note or "")
    assert "priority" in (first.note or "")
    assert table.prices("gpt-4o", "2027-02-01").period.standard.input == Decimal(2)
    # the curated model keeps its names, speed, rate limits and context window
    _, model = table.find("gpt-4o-2024-11-20")
    assert model.id == "gpt-4o" and table.speed("gpt-4o") is not None
    assert table.rate_limits("gpt-4o") is not None
    assert table.find("claude-sonnet-4-5")[1].context_window == 200_000
    # teaching rates are not list prices: never replaced
    assert table.prices("gpt-4o-lesson").period.origin is None
    # the table without the update is the shipped one
    assert load_price_table(updated=False).prices("gpt-4o").period.standard.input == Decimal("2.50")


def test_a_litellm_update(run_cli: RunCli, tmp_path: Path) -> None:
    raw = json.loads(LITELLM_SAMPLE.read_text())
    raw["claude-sonnet-4-5"]["input_cost_per_token"] = 3.5e-06
    path = tmp_path / "model_prices_and_context_window.json"
    path.write_text(json.dumps(raw))
    result = run_cli("prices", "update", "--from", str(path), "--format", "json")
    assert result.exit_code == 0, result.stderr
    update = json.loads(result.stdout)
    assert update["format"] == "LiteLLM model_prices_and_context_window.json"
    assert (
        update["origin"] == f"LiteLLM model_prices_and_context_window.json (prices update {TODAY})"
    )
    # models are paired by name with the genai-prices data in use before: LiteLLM's grok-4 is
    # genai-prices' grok-4-0709, which answers to grok-4; Azure's gpt-4o is new
    assert {"provider": "x-ai", "model": "grok-4"} not in update["added"]
    assert {"provider": "x-ai", "model": "grok-4-0709"} not in update["removed"]
    assert update["added"] == [{"provider": "azure", "model": "gpt-4o"}]
    # a model the update does not list keeps the shipped prices: not removed
    assert update["removed"] == []
    sonnet = [c for c in update["changed"] if c["model"] == "claude-sonnet-4-5"]
    assert {"component": "input", "old": "3.00", "new": "3.50"}.items() <= sonnet[0].items()
    # 1,000 x (1,000 x $3.50 + 100 x $15) / 1M = $5.00
    workload = _quote(run_cli, "-m", "claude-sonnet-4-5")
    assert _cost(workload, "request") == "5.00"
    assert workload["price_origin"] == update["origin"]
    # a model the update lists replaces the shipped one; one it does not list is still there
    assert _quote(run_cli, "-m", "x-ai:grok-4")["price_origin"] == update["origin"]
    codestral = _quote(run_cli, "-m", "mistral:codestral")
    assert codestral["price_origin"] == f"genai-prices {installed_version()}"


def test_updating_again_compares_with_the_previous_update(run_cli: RunCli, planted: Path) -> None:
    assert run_cli("prices", "update", "--from", str(planted)).exit_code == 0
    raw = json.loads(planted.read_text())
    _model(raw, "openai", "gpt-4o")["prices"]["input_mtok"] = "3.5"
    planted.write_text(json.dumps(raw))
    update = costcalc.update_prices(planted)
    assert update.previous == f"{GENAI_ORIGIN} from {planted}"
    assert [(c.model, c.component, c.old, c.new) for c in update.changed] == [
        ("gpt-4o", "input", Decimal(3), Decimal("3.5"))
    ]
    assert update.added == [] and update.removed == []
    assert load_price_table().prices("gpt-4o").period.standard.input == Decimal("3.5")


# --- fetching: only when asked, and only http(s) ------------------------------------------


class _Response:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def __enter__(self) -> _Response:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def read(self, n: int = -1) -> bytes:
        return self.body if n < 0 else self.body[:n]


def test_the_default_is_genai_prices_published_url(
    run_cli: RunCli, planted: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import urllib.request

    from genai_prices.update_prices import DEFAULT_UPDATE_URL

    asked: list[tuple[str, float]] = []

    def urlopen(request: urllib.request.Request, timeout: float) -> _Response:
        asked.append((request.full_url, timeout))
        return _Response(planted.read_bytes())

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    result = run_cli("prices", "update")
    assert result.exit_code == 0, result.stderr
    assert asked == [(DEFAULT_UPDATE_URL, 30.0)]
    assert result.stdout.startswith(
        f"prices update {TODAY}: genai-prices data.json from {DEFAULT_UPDATE_URL}\n"
    )
    assert load_price_table().prices("gpt-4o").period.standard.input == Decimal(3)


def test_a_body_over_the_size_cap_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import urllib.request

    from costcalc.prices.data import fetch_url

    monkeypatch.setattr(urllib.request, "urlopen", lambda request, timeout: _Response(b"x" * 11))
    with pytest.raises(costcalc.CostcalcError, match="more than 10 bytes"):
        fetch_url("https://example.com/data.json", max_bytes=10)


@pytest.mark.parametrize(
    ("where", "code", "fragment"),
    [
        ("mkdir", errno.EACCES, "cannot create the user data folder: permission denied"),
        ("mkdir", errno.EROFS, "cannot create the user data folder: read-only file system"),
        ("replace", errno.ENOSPC, "no space left on device"),
        ("replace", errno.EROFS, "read-only file system"),
    ],
)
def test_a_failing_data_folder_is_an_environment_failure_and_keeps_the_update_before(
    run_cli: RunCli,
    planted: Path,
    costcalc_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    where: str,
    code: int,
    fragment: str,
) -> None:
    """A disk that fails while `prices update` writes: exit 3, one line, the update in use
    before untouched and no temporary file beside it."""
    first = run_cli("prices", "update", "--from", str(planted))
    assert first.exit_code == 0, first.stderr
    kept = (costcalc_home / "prices-update.json").read_bytes()
    if where == "mkdir":
        monkeypatch.setenv("COSTCALC_HOME", str(costcalc_home / "new"))

    def fail(*args: Any, **kwargs: Any) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, where, fail)
    result = run_cli("prices", "update", "--from", str(planted))
    assert_one_line_error(result, fragment, code=3)
    monkeypatch.undo()
    assert (costcalc_home / "prices-update.json").read_bytes() == kept
    assert sorted(p.name for p in costcalc_home.iterdir()) == ["prices-update.json"]


def test_a_price_the_update_leaves_out_is_no_change_when_the_table_still_gives_it(
    run_cli: RunCli, tmp_path: Path
) -> None:
    # a LiteLLM file of two models with their list prices only: gpt-4o's batch price comes
    # from the curated table before and after, so it is no change ("$1.25 -> -" was listed,
    # 17 such, while every quote stayed the same)
    raw = {
        name: {
            "litellm_provider": "openai",
            "mode": "chat",
            "input_cost_per_token": inp,
            "output_cost_per_token": out,
            "cache_read_input_token_cost": cached,
        }
        for name, inp, out, cached in (
            ("gpt-4o", 2.5e-06, 1e-05, 1.25e-06),
            ("gpt-4o-mini", 1.5e-07, 6e-07, 7.5e-08),
        )
    }
    path = tmp_path / "two.json"
    path.write_text(json.dumps(raw))
    before = _quote(run_cli, "-m", "gpt-4o", "--modes", "all")
    result = run_cli("prices", "update", "--from", str(path), "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["changed"] == []
    after = _quote(run_cli, "-m", "gpt-4o", "--modes", "all")
    assert [(m["mode"], m["cost"]) for m in after["modes"]] == [
        (m["mode"], m["cost"]) for m in before["modes"]
    ]
