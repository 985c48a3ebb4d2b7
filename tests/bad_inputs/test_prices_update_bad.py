"""Bad-input catalogue for `costcalc prices update` (and audit --against, which reads the same
data): exit 2, one line on stderr naming the file or URL and what is wrong, no traceback, and
the data in use before stays in use."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from costcalc.prices.genai import raw_from_package
from tests.conftest import RunCli, assert_one_line_error


def _genai(change: Any) -> str:
    raw = json.loads(json.dumps(raw_from_package()[0][:2]))
    change(raw)
    return json.dumps(raw)


def _set_price(raw: list[dict[str, Any]], key: str, value: Any) -> None:
    raw[0]["models"][0]["prices"] = {"input_mtok": "1", "output_mtok": "2", key: value}


NEITHER = (
    "neither genai-prices' data.json (a JSON list of providers, each with models) nor LiteLLM's"
)

# (case id, file content or None for "no file" / DIR for a directory, message fragments)
CASES: list[tuple[str, str | bytes | None, tuple[str, ...]]] = [
    ("neither-format", '{"models": {"a": 1}}', (NEITHER,)),
    ("a-json-string", '"prices"', (NEITHER,)),
    ("a-list-of-numbers", "[1, 2, 3]", (NEITHER,)),
    ("invalid-json", '[{"id": "openai", "models": [', ("invalid JSON", ":1:")),
    ("invalid-json-line", '{\n  "gpt-x": {\n    "litellm_provider": "openai",,\n', (":3:", "invalid JSON")),
    ("empty-file", "", ("is empty: expected genai-prices' data.json (a JSON list of providers, each with models) or LiteLLM's",)),
    ("not-utf8", b"\xff\xfe\x00[", ("is not UTF-8 text",)),
    ("empty-list", "[]", ("genai-prices data.json: an empty list: no providers",)),
    ("provider-without-models", '[{"id": "acme", "name": "Acme"}]', ("provider 'acme': has no models",)),
    ("provider-with-empty-models", '[{"id": "acme", "models": []}]', ("provider 'acme': has no models",)),
    ("genai-price-not-a-number", _genai(lambda raw: _set_price(raw, "cache_read_mtok", "cheap")), ("prices.cache_read_mtok: expected a number, got 'cheap'",)),
    ("genai-price-negative", _genai(lambda raw: _set_price(raw, "output_mtok", -2)), ("prices.output_mtok: a price must be >= 0, got -2",)),
    ("genai-fee-not-a-number", _genai(lambda raw: _set_price(raw, "requests_kcount", "12 dollars")), ("prices.requests_kcount: expected a number, got '12 dollars'",)),
    ("genai-fee-negative", _genai(lambda raw: _set_price(raw, "requests_kcount", -12)), ("prices.requests_kcount: a price must be >= 0, got -12",)),
    ("genai-tier-price-not-a-number", _genai(lambda raw: _set_price(raw, "input_mtok", {"base": "1", "tiers": [{"start": 200000, "price": None}]})), ("input_mtok.tiers[0].price: expected a number, got None",)),
    ("genai-bad-start-date", _genai(lambda raw: raw[0]["models"][0].update(prices=[{"constraint": {"start_date": "soon"}, "prices": {"input_mtok": "1"}}])), ("constraint.start_date: expected YYYY-MM-DD, got 'soon'",)),
    ("genai-bad-regex", _genai(lambda raw: raw[0]["models"][0].update(match={"or": [{"regex": "gpt-("}]})), ("match: bad regex 'gpt-('",)),
    ("genai-bad-variant", _genai(lambda raw: raw[0]["models"][0].update(price_variants=[{"when": ["batch"], "prices": {}}])), ("price_variants[0]: expected an object with a when",)),
    ("litellm-price-not-a-number", '{"gpt-x": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": "lots"}}', ("LiteLLM model_prices_and_context_window.json: model 'gpt-x': input_cost_per_token: expected a number, got 'lots'",)),
    ("litellm-without-token-prices", '{"dall-e-9": {"litellm_provider": "openai", "mode": "image_generation", "output_cost_per_image": 0.04}}', ("no model with a token price",)),
    ("missing-file", None, ("no such price data file",)),
    ("a-directory", "DIR", ("is a directory",)),
]  # fmt: skip


def _make(tmp_path: Path, name: str, content: str | bytes | None) -> Path:
    path = tmp_path / f"{name}.json"
    if content == "DIR":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.mark.parametrize(("name", "content", "fragments"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("command", ["update", "audit"])
def test_bad_data_is_refused(
    run_cli: RunCli,
    tmp_path: Path,
    costcalc_home: Path,
    command: str,
    name: str,
    content: str | bytes | None,
    fragments: tuple[str, ...],
) -> None:
    path = _make(tmp_path, name, content)
    flag = "--from" if command == "update" else "--against"
    result = run_cli("prices", command, flag, str(path))
    assert_one_line_error(result, str(path), *fragments)
    assert list(costcalc_home.iterdir()) == []  # nothing written


def test_an_update_that_would_keep_no_model_is_refused_and_the_last_one_kept(
    run_cli: RunCli, tmp_path: Path, costcalc_home: Path
) -> None:
    # every price past $100,000 per 1M tokens (a typo: the model is left out), so nothing
    # usable: kept, it replaced all the updated prices with none, at exit 0 (a hostile trial)
    good = _make(tmp_path, "good", _genai(lambda raw: None))
    assert run_cli("prices", "update", "--from", str(good)).exit_code == 0
    kept = {p: p.read_bytes() for p in costcalc_home.rglob("*") if p.is_file()}

    def one_huge_price(raw: list[dict[str, Any]]) -> None:
        raw[:] = [{**raw[0], "models": raw[0]["models"][:1]}]
        _set_price(raw, "input_mtok", "1e999999")

    huge = _make(tmp_path, "huge", _genai(one_huge_price))
    result = run_cli("prices", "update", "--from", str(huge))
    assert_one_line_error(
        result, str(huge), "no model with a usable token price (1 left out", "above $100,000"
    )
    assert {p: p.read_bytes() for p in costcalc_home.rglob("*") if p.is_file()} == kept


# (case id, URL, exit code, message fragments); no test reaches the network: urlopen is
# replaced. A wrong URL is bad input (2); a network or server that fails, the environment (3).
URLS: list[tuple[str, str, int, tuple[str, ...]]] = [
    ("ftp", "ftp://example.com/data.json", 2, ("ftp://example.com/data.json: not an http or https URL",)),
    ("file-url", "file:///etc/passwd", 2, ("file:///etc/passwd: not an http or https URL",)),
    ("unreachable", "https://prices.invalid/data.json", 3, ("https://prices.invalid/data.json: could not fetch it: [Errno -2] Name or service not known",)),
    ("http-error", "https://example.com/404.json", 2, ("https://example.com/404.json: could not fetch it: HTTP 404 Not Found",)),
    ("server-error", "https://example.com/503.json", 3, ("https://example.com/503.json: could not fetch it: HTTP 503 Service Unavailable",)),
    ("timeout", "https://example.com/slow.json", 3, ("https://example.com/slow.json: could not fetch it: timed out",)),
    ("reset", "https://example.com/reset.json", 3, ("https://example.com/reset.json: could not fetch it: [Errno 104] Connection reset by peer",)),
]  # fmt: skip


@pytest.mark.parametrize(("name", "url", "code", "fragments"), URLS, ids=[c[0] for c in URLS])
def test_bad_urls_are_refused(
    run_cli: RunCli,
    monkeypatch: pytest.MonkeyPatch,
    costcalc_home: Path,
    name: str,
    url: str,
    code: int,
    fragments: tuple[str, ...],
) -> None:
    import socket
    import urllib.error
    import urllib.request

    def urlopen(request: urllib.request.Request, timeout: float) -> Any:
        assert timeout == 30.0
        if "invalid" in request.full_url:
            raise urllib.error.URLError(socket.gaierror(-2, "Name or service not known"))
        if "404" in request.full_url:
            raise urllib.error.HTTPError(request.full_url, 404, "Not Found", {}, None)  # type: ignore[arg-type]
        if "503" in request.full_url:
            raise urllib.error.HTTPError(request.full_url, 503, "Service Unavailable", {}, None)  # type: ignore[arg-type]
        if "reset" in request.full_url:
            raise ConnectionResetError(104, "Connection reset by peer")
        raise TimeoutError("timed out")

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    assert_one_line_error(run_cli("prices", "update", "--from", url), *fragments, code=code)
    assert list(costcalc_home.iterdir()) == []


def _good(tmp_path: Path) -> Path:
    path = tmp_path / "data.json"
    path.write_text(json.dumps(raw_from_package()[0]))
    return path


def test_an_unwritable_data_folder(run_cli: RunCli, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = run_cli(
        "prices",
        "update",
        "--from",
        str(_good(tmp_path)),
        env={"COSTCALC_HOME": str(blocker / "home")},
    )
    assert_one_line_error(result, str(blocker / "home"), "cannot create the user data folder")
    result = run_cli(
        "prices", "update", "--from", str(_good(tmp_path)), env={"COSTCALC_HOME": str(blocker)}
    )
    # $COSTCALC_HOME naming a file: said as such (an update could neither write nor remove)
    assert_one_line_error(result, str(blocker), "is not a folder ($COSTCALC_HOME names")


@pytest.mark.parametrize("where", ["package", "pricing"])
def test_a_data_folder_inside_the_package_is_refused(
    run_cli: RunCli, tmp_path: Path, where: str
) -> None:
    from costcalc._version import PACKAGE_DIR
    from costcalc.prices import builtin_pricing_dir

    inside = (PACKAGE_DIR if where == "package" else builtin_pricing_dir()) / "user-data"
    result = run_cli(
        "prices", "update", "--from", str(_good(tmp_path)), env={"COSTCALC_HOME": str(inside)}
    )
    assert_one_line_error(result, "is inside the installed costcalc package")
    assert not inside.exists()


def test_remove_takes_no_from(run_cli: RunCli) -> None:
    assert_one_line_error(
        run_cli("prices", "update", "--remove", "--from", "x.json"), "--remove takes no --from"
    )


def test_a_damaged_update_file_is_one_line(run_cli: RunCli, costcalc_home: Path) -> None:
    (costcalc_home / "prices-update.json").write_text('{"format": 1, "providers": ')
    result = run_cli("quote", "-m", "gpt-4o", "-n", "5", "-i", "5", "-o", "0")
    assert_one_line_error(
        result,
        "prices-update.json: the updated prices cannot be read",
        "costcalc prices update --remove",
    )
    assert run_cli("prices", "update", "--remove").exit_code == 0
    assert run_cli("quote", "-m", "gpt-4o", "-n", "5", "-i", "5", "-o", "0").exit_code == 0


def test_updating_again_replaces_a_damaged_update_file(
    run_cli: RunCli, costcalc_home: Path, tmp_path: Path
) -> None:
    # the advice the damaged file's error gives: `costcalc prices update` again (it failed on
    # the damaged file while working out what the update changed)
    (costcalc_home / "prices-update.json").write_text('{"format": 1, "providers": ')
    result = run_cli("prices", "update", "--from", str(_good(tmp_path)))
    assert result.exit_code == 0, result.stderr
    assert "compared with the data in use before, the shipped genai-prices" in result.stdout
    assert run_cli("quote", "-m", "gpt-4o", "-n", "5", "-i", "5", "-o", "0").exit_code == 0


@pytest.mark.parametrize("kind", ["symlink-loop", "dangling-symlink"])
def test_an_unreadable_update_link_is_named_not_passed_over(
    run_cli: RunCli, costcalc_home: Path, kind: str
) -> None:
    """Not read silently as "no update": the quote would use other prices than updated to."""
    update = costcalc_home / "prices-update.json"
    update.symlink_to(update.name if kind == "symlink-loop" else costcalc_home / "gone.json")
    result = run_cli("quote", "-m", "gpt-4o", "-n", "5", "-i", "5", "-o", "0")
    assert_one_line_error(result, f"{update}: the updated prices cannot be read (")
    assert run_cli("prices", "update", "--remove").exit_code == 0
    assert not os.path.lexists(update)
