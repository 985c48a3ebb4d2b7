"""Bad-input catalogue for price files and price lookups.

Every case: exit 2, one line on stderr naming the file, line or field and what was expected,
no traceback. Each case runs twice: through `prices validate FILE` and as `--prices FILE`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import RunCli, assert_one_line_error

GOOD_MODEL = """\
provider: openai
models:
  - id: my-model
    name: My model
    encoding: o200k_base
    context_window: 1000
    prices:
      - as_of: 2026-01-01
        source: https://example.com/prices
        standard: {input: 1.00, output: 2.00}
"""

# (case id, file content or None for "no file" / a directory, fragments the message must hold)
CASES: list[tuple[str, str | bytes | None, tuple[str, ...]]] = [
    ("malformed-yaml", "provider: openai\nmodels: [\n  - id: x\n", ("invalid YAML",)),
    (
        "unknown-key",
        GOOD_MODEL.replace(
            "    context_window: 1000\n", "    context_window: 1000\n    colour: red\n"
        ),
        (":7:", "models[0].colour", "unknown key"),
    ),
    (
        "misspelt-key",
        GOOD_MODEL.replace("{input: 1.00", "{inptu: 1.00"),
        (":10:", "standard.inptu", "unknown key (did you mean 'input'?)"),
    ),
    (
        "negative-price",
        GOOD_MODEL.replace("input: 1.00", "input: -1.00"),
        (":10:", "models[0].prices[0].standard.input", "must be >= 0"),
    ),
    (
        "negative-fee-per-request",
        GOOD_MODEL.replace("output: 2.00}", "output: 2.00, per_1k_requests: -5}"),
        (":10:", "models[0].prices[0].standard.per_1k_requests", "must be >= 0"),
    ),
    (
        "fee-per-request-as-text",
        GOOD_MODEL.replace("output: 2.00}", "output: 2.00, per_1k_requests: 5 cents}"),
        (":10:", "standard.per_1k_requests", "expected a number"),
    ),
    (
        "non-numeric-price",
        GOOD_MODEL.replace("output: 2.00", "output: cheap"),
        (":10:", "standard.output", "expected a number", "'cheap'"),
    ),
    (
        "missing-required-field",
        GOOD_MODEL.replace("    context_window: 1000\n", ""),
        (":3:", "models[0].context_window", "required field is missing"),
    ),
    (
        "missing-source",
        GOOD_MODEL.replace("        source: https://example.com/prices\n", ""),
        (":8:", "models[0].prices[0].source", "required"),
    ),
    (
        "duplicate-model-id",
        GOOD_MODEL + GOOD_MODEL.split("models:\n", 1)[1],
        (":11:", "models[1]", "duplicate model name 'my-model'"),
    ),
    (
        "duplicate-alias",
        GOOD_MODEL.replace(
            "    name: My model\n", "    name: My model\n    aliases: [mine, mine]\n"
        ),
        ("duplicate model name 'mine'",),
    ),
    (
        "alias-clashes-with-shipped-model",
        GOOD_MODEL.replace("    name: My model\n", "    name: My model\n    aliases: [gpt-4.1]\n"),
        ("name 'gpt-4.1' is used by both gpt-4.1 (openai) and my-model (openai)",),
    ),
    (
        "bad-date",
        GOOD_MODEL.replace("as_of: 2026-01-01", "as_of: 2026-13-45"),
        ("models[0].prices[0].as_of", "expected a date as YYYY-MM-DD"),
    ),
    (
        "periods-out-of-order",
        GOOD_MODEL + "      - effective_from: 2025-01-01\n        as_of: 2026-01-01\n"
        "        source: https://example.com/p\n        standard: {input: 1, output: 2}\n"
        "      - effective_from: 2024-01-01\n        as_of: 2026-01-01\n"
        "        source: https://example.com/p\n        standard: {input: 1, output: 2}\n",
        ("price periods must be in increasing effective_from order",),
    ),
    ("empty-file", "", ("is empty",)),
    ("only-comments", "# nothing here\n", ("is empty",)),
    ("top-level-list", "- a\n- b\n", ("expected a mapping at the top level",)),
    ("binary-file", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", ("binary file",)),
    ("not-utf8", b"provider: openai\nname: caf\xe9\n", (":2:", "not valid UTF-8")),
    ("missing-file", None, ("no such price file",)),
    ("a-directory", "DIR", ("is a directory",)),
    (
        "new-provider-without-settings",
        GOOD_MODEL.replace("provider: openai", "provider: newco"),
        ("provider 'newco' is new, so it needs name, source, speed, rate_limits",),
    ),
    ("wrong-currency", "provider: openai\ncurrency: EUR\n", (":2:", "currency", "'USD'")),
    ("infinite-price", GOOD_MODEL.replace("input: 1.00", "input: .inf"), ("standard.input",)),
    (
        "absurd-price",
        GOOD_MODEL.replace("input: 1.00", "input: 1e400"),
        ("standard.input: must be <= 100000",),
    ),
]


def _make(tmp_path: Path, name: str, content: str | bytes | None) -> Path:
    path = tmp_path / f"{name}.yaml"
    if content == "DIR":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.mark.parametrize(("name", "content", "fragments"), CASES, ids=[c[0] for c in CASES])
def test_validate_rejects(
    run_cli: RunCli,
    tmp_path: Path,
    name: str,
    content: str | bytes | None,
    fragments: tuple[str, ...],
) -> None:
    path = _make(tmp_path, name, content)
    result = run_cli("prices", "validate", str(path))
    assert_one_line_error(result, str(path), *fragments)


@pytest.mark.parametrize(("name", "content", "fragments"), CASES, ids=[c[0] for c in CASES])
def test_override_rejects(
    run_cli: RunCli,
    tmp_path: Path,
    name: str,
    content: str | bytes | None,
    fragments: tuple[str, ...],
) -> None:
    path = _make(tmp_path, name, content)
    result = run_cli("prices", "show", "gpt-4o", "--prices", str(path))
    assert_one_line_error(result, str(path), *fragments)


def test_validate_reports_every_bad_file_and_still_passes_good_ones(
    run_cli: RunCli, tmp_path: Path
) -> None:
    good = _make(tmp_path, "good", GOOD_MODEL)
    bad = _make(tmp_path, "bad", "")
    result = run_cli("prices", "validate", str(good), str(bad))
    assert result.exit_code == 2
    assert f"ok: {good}" in result.stdout
    assert_one_line_error(result, str(bad))


# fmt: off
LOOKUPS = [
    ("unknown-model", ["prices", "show", "gpt-4-o"], ("unknown model 'gpt-4-o'", "did you mean", "'gpt-4o'")),
    ("unknown-model-no-match", ["prices", "show", "zzzzzz"], ("unknown model 'zzzzzz'",)),
    ("bad-as-of", ["prices", "show", "gpt-4o", "--as-of", "yesterday"], ("bad date 'yesterday'", "YYYY-MM-DD")),
    ("before-release", ["prices", "show", "gpt-5", "--as-of", "2024-01-01"], ("gpt-5 has no prices on 2024-01-01",)),
    ("bad-list-as-of", ["prices", "list", "--as-of", "2024-02-30"], ("bad date '2024-02-30'",)),
]
# fmt: on


@pytest.mark.parametrize(("name", "args", "fragments"), LOOKUPS, ids=[c[0] for c in LOOKUPS])
def test_lookup_rejects(
    run_cli: RunCli, name: str, args: list[str], fragments: tuple[str, ...]
) -> None:
    assert_one_line_error(run_cli(*args), *fragments)


def test_a_missing_file_in_the_environment_names_the_variable(
    run_cli: RunCli, tmp_path: Path
) -> None:
    missing = str(tmp_path / "gone.yaml")
    result = run_cli(
        "quote", "-m", "gpt-4o", "-n", "5", "-i", "5", "-o", "0", env={"COSTCALC_PRICES": missing}
    )
    assert_one_line_error(result, f"{missing}: no such price file (named in $COSTCALC_PRICES)")


def test_a_bad_price_date_names_as_of(run_cli: RunCli) -> None:
    assert_one_line_error(
        run_cli("prices", "list", "--as-of", "2024-02-30"), "as_of (--as-of): bad date '2024-02-30'"
    )


def test_prices_show_names_a_bad_date_as_its_flag(run_cli: RunCli) -> None:
    # the library names price_sheet's argument `on`; the command line its flag
    assert_one_line_error(
        run_cli("prices", "show", "gpt-4o", "--as-of", "2026-13-01"),
        "as_of (--as-of): bad date '2026-13-01'",
    )


def test_prices_compile_refuses_to_write_into_an_installed_package(
    run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It rewrote site-packages/costcalc/pricing/compiled.json and genai-prices.json."""
    import costcalc.prices.load

    installed = tmp_path / "site-packages" / "costcalc"
    (installed / "pricing").mkdir(parents=True)
    monkeypatch.setattr(costcalc.prices.load, "PACKAGE_DIR", installed)
    assert_one_line_error(
        run_cli("prices", "compile"),
        f"{installed} is an installed package, not a source checkout",
        "give --out DIR to write the files elsewhere",
    )
    assert list((installed / "pricing").iterdir()) == []
    out = tmp_path / "out"
    out.mkdir()
    result = run_cli("prices", "compile", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["compiled.json", "genai-prices.json"]
    assert list((installed / "pricing").iterdir()) == []
    # nor an --out inside the package, named plainly, from above, or through a symlink
    (tmp_path / "link").symlink_to(installed / "pricing")
    for inside in (installed / "pricing", installed, installed / "pricing" / ".." / "new",
                   tmp_path / "link", tmp_path / "link" / "sub"):  # fmt: skip
        assert_one_line_error(
            run_cli("prices", "compile", "--out", str(inside)),
            f"out_dir (--out): {inside} is inside the installed package {installed}",
        )
    assert list((installed / "pricing").iterdir()) == []
    assert not (installed / "new").exists()
