"""`costcalc prices audit`: the curated table against genai-prices or LiteLLM, field by field.

The audit of the shipped table against the pinned, installed genai-prices finds exactly the
disagreements in pricing/audit-known.yaml: a new one (a curated price edited, genai-prices
upgraded) fails here until it is fixed or explained there, with its figures.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

import costcalc
from costcalc.prices import builtin_pricing_dir
from costcalc.prices.audit import load_known
from costcalc.prices.genai import installed_version, raw_from_package
from tests.conftest import RunCli, assert_one_line_error

DAY = dt.date(2026, 12, 1)
KNOWN = builtin_pricing_dir() / "audit-known.yaml"
LITELLM_SAMPLE = Path(__file__).parent / "data" / "litellm_prices.json"


def _words(text: str) -> str:
    return " ".join(text.split())


def _key(row: Any) -> tuple[str | None, str, str, str | None, str | None]:
    return (row.provider, row.model, row.field, row.ours, row.theirs)


def test_the_shipped_table_against_the_pinned_genai_prices_finds_only_known_disagreements() -> None:
    audit = costcalc.audit_prices(on=DAY)
    assert audit.against == f"genai-prices {installed_version()} (the installed package)"
    assert audit.models == audit.matched == 24  # every curated model but the teaching rate
    found = sorted(_key(r) for r in audit.disagreements)
    known = sorted(_key(k) for k in load_known(KNOWN))
    assert found == known, (
        "the audit's disagreements are not pricing/audit-known.yaml's: fix the new ones or "
        "explain them there (with their figures); drop the entries of fixed ones"
    )
    explained = costcalc.audit_prices(on=DAY, known=KNOWN)
    assert explained.failed is False and explained.unused_known == []
    assert all(r.known for r in explained.disagreements)
    # without the file the audit fails: these are real disagreements
    assert audit.failed is True
    beyond = {(r.model, r.field) for r in audit.disagreements if r.exceeds}
    assert ("o4-mini", "batch cached input") in beyond
    assert ("gpt-4.1", "context window") not in beyond  # 4.8%: within the 5% for windows


def test_rows_say_what_each_side_bills_and_why() -> None:
    audit = costcalc.audit_prices(on=DAY)
    rows = {(r.model, r.field): r for r in audit.disagreements + audit.one_sided}
    assert ("o4-mini", "flex cached input") not in rows  # 0.138 in openai.yaml now
    batch = rows[("gpt-4o", "batch cached input")]
    assert batch.ours_basis.startswith("assumed (provider rule: 50% off standard; disputed")
    assert batch.theirs_basis == "the standard rate (no batch price)"
    assert batch.comment == (
        "The Batch table publishes no cached-input rate, so cached input keeps the standard rate."
    )
    # only one side states it: listed apart, never a failure
    only = rows[("claude-sonnet-4", "batch")]
    assert (only.ours, only.theirs, only.exceeds) == ("sold", None, False)
    assert only.comment and "earlier batch history is not modelled" in only.comment
    assert ("gemini-2.5-pro", "flex") in rows


def test_the_command_exits_1_on_disagreements_and_0_when_known(run_cli: RunCli) -> None:
    failed = run_cli("prices", "audit", "--as-of", "2026-12-01")
    assert failed.exit_code == 1, failed.stderr
    row = "openai o4-mini batch cached input 0.1375 0.275 -0.1375 (-50.00%) beyond [1]"
    assert row in _words(failed.stdout)
    assert failed.stdout.endswith(
        "FAILED: 7 unexplained disagreements beyond the tolerance (exit 1)\n"
    )
    ok = run_cli("prices", "audit", "--as-of", "2026-12-01", "--known", str(KNOWN))
    assert ok.exit_code == 0, ok.stdout
    data = json.loads(
        run_cli("prices", "audit", "--as-of", "2026-12-01", "--format", "json").stdout
    )
    assert data["failed"] is True and len(data["disagreements"]) == 11


def _planted_genai(tmp_path: Path) -> Path:
    raw = json.loads(json.dumps(raw_from_package()[0]))
    anthropic = next(p for p in raw if p["id"] == "anthropic")
    haiku = next(m for m in anthropic["models"] if m["id"] == "claude-haiku-4-5")
    haiku["prices"]["output_mtok"] = "5.5"
    path = tmp_path / "data.json"
    path.write_text(json.dumps(raw))
    return path


def test_a_planted_genai_change_fails_the_audit(run_cli: RunCli, tmp_path: Path) -> None:
    path = _planted_genai(tmp_path)
    result = run_cli(
        "prices", "audit", "--against", str(path), "--known", str(KNOWN), "--as-of", "2026-12-01"
    )
    assert result.exit_code == 1, result.stderr
    assert f"against genai-prices data.json {path}, prices on 2026-12-01" in result.stdout
    # ours $5.00, theirs $5.50: -0.5, -9.09% of theirs
    row = "anthropic claude-haiku-4-5 output 5 5.5 -0.5 (-9.09%) beyond"
    assert row in _words(result.stdout)
    # the planted price is the only unexplained one; within a 10% tolerance it passes
    assert result.stdout.endswith(
        "FAILED: 1 unexplained disagreement beyond the tolerance (exit 1)\n"
    )
    tolerant = run_cli(
        "prices",
        "audit",
        "--against",
        str(path),
        "--known",
        str(KNOWN),
        "--tolerance",
        "10",
        "--as-of",
        "2026-12-01",
    )
    assert tolerant.exit_code == 0, tolerant.stdout
    assert "claude-haiku-4-5 output 5 5.5 -0.5 (-9.09%) within" in _words(tolerant.stdout)


def test_a_planted_litellm_change_fails_the_audit(run_cli: RunCli, tmp_path: Path) -> None:
    raw = json.loads(LITELLM_SAMPLE.read_text())
    raw["gpt-4o"]["input_cost_per_token"] = 2.75e-06
    path = tmp_path / "model_prices_and_context_window.json"
    path.write_text(json.dumps(raw))
    result = run_cli(
        "prices", "audit", "--against", str(path), "--as-of", "2026-12-01", "--format", "json"
    )
    assert result.exit_code == 1, result.stderr
    audit = json.loads(result.stdout)
    assert audit["against"] == f"LiteLLM model_prices_and_context_window.json {path}"
    rows = {(r["model"], r["field"]): r for r in audit["disagreements"]}
    planted = rows[("gpt-4o", "input")]
    assert (planted["ours"], planted["theirs"], planted["exceeds"]) == ("2.5", "2.75", True)
    assert planted["difference"] == "-0.25 (-9.09%)"
    # LiteLLM's figures the shipped table agrees with raise nothing; its token limits compare
    assert ("gpt-4o", "output") not in rows and ("gemini-2.5-pro", "input") not in rows
    window = rows[("gemini-2.5-pro", "max output tokens")]
    assert (window["ours"], window["theirs"], window["exceeds"]) == ("65,536", "65,535", False)
    one_sided = {(r["model"], r["field"]) for r in audit["one_sided"]}
    assert ("claude-sonnet-4-5", "batch") in one_sided  # LiteLLM lists no batch price for it
    assert ("gpt-4o-mini", "model") in one_sided  # not in the sample at all


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--tolerance", "-1"], ("--tolerance: must be a percentage >= 0, got '-1'",)),
        (["--tolerance", "lots"], ("--tolerance: expected a percentage, got 'lots'",)),
        (["--context-tolerance", "nan"], ("--context-tolerance: must be a percentage >= 0",)),
        (["--as-of", "2026-02-30"], ("as_of (--as-of): bad date '2026-02-30'",)),
        (
            ["--known", "/nonexistent/known.yaml"],
            ("/nonexistent/known.yaml: no such file of known disagreements",),
        ),
    ],
)
def test_bad_audit_options(run_cli: RunCli, args: list[str], fragments: tuple[str, ...]) -> None:
    assert_one_line_error(run_cli("prices", "audit", *args), *fragments)


def test_a_bad_known_file_names_the_line(run_cli: RunCli, write: Any) -> None:
    path = write("known.yaml", "known:\n  - model: gpt-4o\n    feild: input\n    reason: x\n")
    assert_one_line_error(run_cli("prices", "audit", "--known", str(path)), f"{path}:3:", "feild")


def test_known_entries_the_audit_no_longer_finds_are_listed(write: Any) -> None:
    path = write(
        "known.yaml",
        "known:\n  - {model: gpt-4o, field: output, reason: long fixed}\n",
    )
    audit = costcalc.audit_prices(on=DAY, known=path)
    assert [(k.model, k.field) for k in audit.unused_known] == [("gpt-4o", "output")]
    assert "drop them from the file" in costcalc.render_result(audit, "table")


def test_the_audit_file_is_not_a_provider_file() -> None:
    from costcalc.prices import builtin_price_files

    assert KNOWN.is_file() and KNOWN not in builtin_price_files()


def test_the_audit_is_of_the_curated_table_not_of_updated_data(tmp_path: Path) -> None:
    path = _planted_genai(tmp_path)
    costcalc.update_prices(path)
    assert costcalc.load_price_table().prices("claude-haiku-4-5").period.standard.output == 5.5
    # the updated data is not audited against itself, nor hidden from the audit
    audit = costcalc.audit_prices(on=DAY, against=path)
    assert ("claude-haiku-4-5", "output") in {(r.model, r.field) for r in audit.disagreements}


def test_deprecation_is_compared(tmp_path: Path) -> None:
    raw = json.loads(json.dumps(raw_from_package()[0]))
    openai = next(p for p in raw if p["id"] == "openai")
    next(m for m in openai["models"] if m["id"] == "gpt-4o")["deprecated"] = True
    genai = tmp_path / "data.json"
    genai.write_text(json.dumps(raw))
    rows = {
        (r.model, r.field): r for r in costcalc.audit_prices(on=DAY, against=genai).disagreements
    }
    flag = rows[("gpt-4o", "deprecated")]  # ours retires it on 2027-01-14: not yet
    assert (flag.ours, flag.theirs, flag.exceeds) == ("no", "yes", True)

    lite = json.loads(LITELLM_SAMPLE.read_text())
    lite["gpt-4o"]["deprecation_date"] = "2027-06-30"
    path = tmp_path / "litellm.json"
    path.write_text(json.dumps(lite))
    audit = costcalc.audit_prices(on=DAY, against=path)
    # both sides date it (ours from LiteLLM's map of 2026-12-01): a disagreement
    row = {(r.model, r.field): r for r in audit.disagreements}[("gpt-4o", "deprecation date")]
    assert (row.ours, row.theirs) == ("2027-01-14", "2027-06-30")


def test_known_shipped_reads_the_list_shipped_with_costcalc_from_any_folder(
    run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's `--known pricing/audit-known.yaml` worked only from a source checkout."""
    args = ["prices", "audit", "--as-of", DAY.isoformat(), "--format", "json"]
    by_path = run_cli(*args, "--known", str(KNOWN))
    monkeypatch.chdir(tmp_path)  # no pricing/ here, as for a user of the wheel
    shipped = run_cli(*args, "--known", "shipped")
    assert shipped.exit_code == by_path.exit_code == 0, shipped.stderr
    assert json.loads(shipped.stdout) == json.loads(by_path.stdout)
    (tmp_path / "shipped").write_text("known: []\n", encoding="utf-8")
    assert run_cli(*args, "--known", "./shipped").exit_code == 1  # a file of that name
