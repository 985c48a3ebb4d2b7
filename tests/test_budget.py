"""Budget checks in CI: check, diff, REF:PATH and the PR comment (the Action: tests/test_action.py)."""

from __future__ import annotations

import json
import os
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from costcalc.budget import MARKER, check, diff, load_config
from costcalc.errors import CostcalcWarning
from costcalc.render.budget import check_markdown, diff_markdown
from costcalc.render.tables import md
from tests.conftest import RunCli

REPO = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent

BASE = """\
as_of: 2026-11-26
budgets:
  monthly: 1000
workloads:
  - name: nightly-summaries
    model: gpt-4o-mini
    requests_per_day: 200000
    input_tokens: 1200
    output_tokens: 300
    mode: batch
    source: cron
  - name: support-chat
    model: claude-haiku-4-5
    requests_per_day: 20000
    input_tokens: 2500
    output_tokens: 350
    cached_share: 0.7
    mode: stream
    source: web-ui
"""
HEAD = BASE.replace("mode: batch", "mode: request").replace(
    "  monthly: 1000\n", "  monthly: 5000\n"
)


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_monthly_costs_by_hand(tmp_path: Path) -> None:
    report = check(load_config(write(tmp_path, "c.yaml", BASE)))
    nightly, chat = report.workloads
    # 200,000 a day x 30 = 6,000,000 requests; batch: 1,200 x $0.075 + 300 x $0.30 per 1M
    assert nightly.monthly_requests == 6_000_000
    assert (
        nightly.monthly_cost
        == 6_000_000 * (1200 * Decimal("0.075") + 300 * Decimal("0.30")) / 10**6
        == 1080
    )
    # 600,000 requests; 750 uncached x $1 + 1,750 cached x $0.10 + 350 out x $5 per 1M
    assert (
        chat.monthly_cost
        == 600_000 * (750 * Decimal(1) + 1750 * Decimal("0.10") + 350 * 5) / 10**6
        == 1605
    )
    assert report.total_monthly == 2685
    assert [f.kind for f in report.failures] == ["total-budget"]
    assert report.failures[0].message == "monthly total $2,685.00 is over the budget of $1,000.00"


def test_a_workload_names_its_seller_where_the_bare_id_is_another(tmp_path: Path) -> None:
    # gemini-2.5-flash is the Gemini API's; on Vertex AI the report must say so, or two rows
    # of one model name would stand for two sellers' prices
    text = BASE.replace("model: gpt-4o-mini", "model: google-vertex:gemini-2.5-flash").replace(
        "model: claude-haiku-4-5", "model: gemini-2.5-flash"
    )
    with pytest.warns(CostcalcWarning, match="gemini-2.5-flash was retired"):
        report = check(load_config(write(tmp_path, "c.yaml", text)))
    assert [w.model for w in report.workloads] == [
        "google-vertex:gemini-2.5-flash",
        "gemini-2.5-flash",
    ]


def test_each_failure_kind_and_exit_code(tmp_path: Path, run_cli: RunCli) -> None:
    base = write(tmp_path, "base.yaml", BASE.replace("  monthly: 1000\n", "  monthly: 9000\n"))
    ok = run_cli("check", base)
    assert ok.exit_code == 0, ok.stdout
    cases = {
        "total-budget": BASE,
        "workload-budget": BASE.replace("  monthly: 1000\n", "").replace(
            "source: web-ui\n", "source: web-ui\n    budget: 1000\n"
        ),
        "batch-eligible": HEAD,
        "increase": HEAD.replace("  monthly: 5000\n", "  monthly: 5000\n  max_increase: 500\n"),
        "increase-pct": HEAD.replace(
            "  monthly: 5000\n", "  monthly: 5000\n  max_increase_pct: 10\n"
        ),
    }
    for kind, text in cases.items():
        if kind.startswith("increase"):
            text = text.replace("mode: request", "mode: batch").replace(
                "requests_per_day: 200000", "requests_per_day: 300000"
            )
        path = write(tmp_path, f"{kind}.yaml", text)
        result = run_cli("check", path, "--base", base, "--format", "json")
        assert result.exit_code == 1, (kind, result.stdout)
        failures = json.loads(result.stdout)["failures"]
        assert kind in [f["kind"] for f in failures], (kind, failures)
    batch_fail = check(load_config(write(tmp_path, "h.yaml", HEAD))).failures
    (policy,) = [f for f in batch_fail if f.kind == "batch-eligible"]
    assert policy.message == (
        "nightly-summaries: runs as request from cron; the Batch API would save $1,080.00 a month (allowed: $0.00)"
    )


def test_batch_eligible_threshold_and_deadline(tmp_path: Path) -> None:
    allowed = HEAD.replace(
        "workloads:", "policies:\n  batch-eligible:\n    min_monthly_saving: 2000\nworkloads:"
    )
    assert not [
        f
        for f in check(load_config(write(tmp_path, "a.yaml", allowed))).failures
        if f.kind == "batch-eligible"
    ]
    by_deadline = HEAD.replace("source: cron", "deadline: 2 days")
    kinds = [f.kind for f in check(load_config(write(tmp_path, "b.yaml", by_deadline))).failures]
    assert "batch-eligible" in kinds
    short = HEAD.replace("source: cron", "deadline: 2h")
    kinds = [f.kind for f in check(load_config(write(tmp_path, "c.yaml", short))).failures]
    assert "batch-eligible" not in kinds
    # a deadline inside the batch window keeps a webhook or cron off the Batch API, as route
    # decides (the audit writes both, and check must not fail the move route refused)
    for source in ("cron", "webhook"):
        hurried = HEAD.replace("source: cron", f"source: {source}\n    deadline: 2h")
        config = load_config(write(tmp_path, f"d-{source}.yaml", hurried))
        assert "batch-eligible" not in [f.kind for f in check(config).failures]


def test_diff_figures_and_fail_on_increase(tmp_path: Path, run_cli: RunCli) -> None:
    base, head = write(tmp_path, "base.yaml", BASE), write(tmp_path, "head.yaml", HEAD)
    d = diff(base, head)
    assert (d.past_total_monthly, d.total_monthly, d.diff_total_monthly) == (2685, 3765, 1080)
    assert d.headline == "monthly LLM cost will increase by $1,080.00 (+40.2%)"
    nightly = d.workloads[0]
    assert nightly.status == "changed" and nightly.changes == ["mode: batch -> request"]
    assert d.workloads[1].status == "unchanged"
    data = json.loads(run_cli("diff", base, head, "--format", "json").stdout)
    assert (data["currency"], data["past_total_monthly"], data["total_monthly"], data["diff_total_monthly"]) == (
        "USD", "2685.00", "3765.00", "1080.00"
    )  # fmt: skip
    assert run_cli("diff", base, head, "--fail-on-increase", "50%").exit_code == 0
    failed = run_cli("diff", base, head, "--fail-on-increase", "10%")
    assert failed.exit_code == 1 and "over the allowed 10%" in failed.stdout
    assert run_cli("diff", base, head, "--fail-on-increase", "1000").exit_code == 1
    assert run_cli("diff", base, head, "--fail-on-increase", "$1,500").exit_code == 0
    assert run_cli("diff", head, base, "--fail-on-increase", "0").exit_code == 0  # a decrease
    assert diff(head, base).headline == "monthly LLM cost will decrease by $1,080.00 (-28.7%)"


def test_percentage_limits_compare_the_exact_increase(tmp_path: Path, run_cli: RunCli) -> None:
    # 1,080 / 2,685 = 40.2234...%: shown as +40.2%, but over a 40.2% limit
    base, head = write(tmp_path, "base.yaml", BASE), write(tmp_path, "head.yaml", HEAD)
    over = run_cli("diff", base, head, "--fail-on-increase", "40.2%")
    assert (
        over.exit_code == 1 and "the increase of +40.22% is over the allowed 40.2%" in over.stdout
    )
    assert run_cli("diff", base, head, "--fail-on-increase", "40.23%").exit_code == 0
    limited = write(
        tmp_path,
        "limited.yaml",
        HEAD.replace("  monthly: 5000\n", "  monthly: 5000\n  max_increase_pct: 40.2\n"),
    )
    report = check(load_config(limited), base=load_config(base))
    (failure,) = [f for f in report.failures if f.kind == "increase-pct"]
    assert failure.unit == "percent" and failure.figure == Decimal(1080) / Decimal(2685) * 100
    assert failure.message == "monthly total rises by 40.22%, over the allowed 40.2%"


def test_added_and_removed_workloads(tmp_path: Path) -> None:
    extra = (
        BASE
        + "  - name: evals\n    model: gpt-4.1\n    requests_per_month: 10000\n    input_tokens: 4000\n    output_tokens: 0\n    mode: batch\n"
    )
    d = diff(write(tmp_path, "a.yaml", BASE), write(tmp_path, "b.yaml", extra))
    assert [(w.name, w.status) for w in d.workloads][-1] == ("evals", "added")
    assert d.diff_total_monthly == 10_000 * 4000 * Decimal("1.00") / 10**6
    back = diff(write(tmp_path, "c.yaml", extra), write(tmp_path, "d.yaml", BASE))
    assert back.workloads[-1].status == "removed"


def test_golden_markdown(tmp_path: Path, run_cli: RunCli) -> None:
    base, head = write(tmp_path, "base.yaml", BASE), write(tmp_path, "head.yaml", HEAD)
    outputs = {
        "diff.md": run_cli(
            "diff", "base.yaml", "head.yaml", "--format", "markdown", "--fail-on-increase", "10%"
        ),
        "check.md": run_cli("check", "head.yaml", "--base", "base.yaml", "--format", "markdown"),
    }
    for name, result in outputs.items():
        path = HERE / "golden" / name
        if os.environ.get("UPDATE_GOLDEN"):
            path.write_text(result.stdout)
        assert result.stdout == path.read_text(), name
    assert outputs["diff.md"].stdout.startswith(MARKER)
    _ = (base, head)


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, timeout=60)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    r = tmp_path / "repo"
    r.mkdir()
    git(r, "init", "-q", "-b", "main")
    git(r, "config", "user.email", "t@example.com")
    git(r, "config", "user.name", "t")
    (r / "costcalc.yaml").write_text(BASE)
    git(r, "add", ".")
    git(r, "commit", "-qm", "base")
    (r / "costcalc.yaml").write_text(HEAD)
    git(r, "commit", "-qam", "head")
    return r


def test_ref_path_reads_git(repo: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    d = diff("HEAD~1:costcalc.yaml", "HEAD:costcalc.yaml")
    assert d.diff_total_monthly == 1080
    result = run_cli("diff", "main~1:costcalc.yaml", "costcalc.yaml")
    assert result.exit_code == 0 and result.stdout.startswith(
        "monthly LLM cost will increase by $1,080.00"
    )
    missing = diff("HEAD~1:new.yaml", "costcalc.yaml", allow_missing_base=True)
    assert missing.past_total_monthly == 0 and all(w.status == "added" for w in missing.workloads)


def test_comment_is_cut_at_githubs_limit(tmp_path: Path) -> None:
    many = "as_of: 2026-11-26\nworkloads:\n" + "".join(
        f"  - name: workload-with-a-long-name-{i:05d}\n    model: gpt-4o-mini\n    requests_per_day: {1000 + i}\n"
        f"    input_tokens: 1000\n    output_tokens: 100\n    mode: request\n"
        for i in range(1500)
    )
    more = many.replace("output_tokens: 100", "output_tokens: 200")
    d = diff(write(tmp_path, "a.yaml", many), write(tmp_path, "b.yaml", more))
    text = diff_markdown(d)
    assert len(text) <= 65536
    assert (
        text.startswith(MARKER)
        and "Truncated to fit GitHub's 65,536-character comment limit" in text
    )
    assert text.rstrip().endswith(f"head {md(tmp_path / 'b.yaml')}.") and "</details>" in text
    small = diff_markdown(d, limit=10_000)
    assert len(small) <= 10_000 and "**All workloads**" in small


def test_a_cut_diff_comment_keeps_what_changed(tmp_path: Path) -> None:
    """5,000 workloads and the last one changed: the rows of unchanged workloads go first,
    so the changed row and its detail stay in the comment."""
    many = "as_of: 2026-11-26\nworkloads:\n" + "".join(
        f"  - name: w{i}\n    model: gpt-4o-mini\n    requests_per_day: {1000 + i}\n"
        f"    input_tokens: 1000\n    output_tokens: 100\n    mode: request\n"
        for i in range(5000)
    )
    changed = many.replace("requests_per_day: 5999\n", "requests_per_day: 9999\n")
    d = diff(write(tmp_path, "a.yaml", many), write(tmp_path, "b.yaml", changed))
    text = diff_markdown(d)
    assert len(text) <= 65536 and "Truncated to fit" in text
    assert "| w4999 |" in text and "- **w4999** (changed)" in text


def test_check_markdown_is_cut_at_githubs_limit(tmp_path: Path, run_cli: RunCli) -> None:
    """10,000 workloads made a 681,381-byte `check --format markdown`: now cut as the gate's
    comment is, with the failures first and a note saying so."""
    many = "as_of: 2026-11-26\nworkloads:\n" + "".join(
        f"  - name: workload-with-a-long-name-{i:05d}\n    model: gpt-4o-mini\n"
        f"    requests_per_day: {1000 + i}\n    input_tokens: 1000\n    output_tokens: 100\n"
        f"    budget: 1\n"
        for i in range(2000)
    )
    write(tmp_path, "many.yaml", many)
    result = run_cli("check", "many.yaml", "--format", "markdown")
    assert result.exit_code == 1, result.stderr
    text = result.stdout
    assert len(text) <= 65536 and text.startswith("### costcalc check: ❌ failed (2000)")
    assert "_Cut to fit the 65,536-character comment limit: the first " in text
    assert "- ❌ workload-with-a-long-name-00000: \\$" in text
    assert len(check_markdown(check(load_config("many.yaml")), limit=5_000)) <= 5_000


def test_a_moved_price_date_is_noted_in_the_diff(tmp_path: Path, run_cli: RunCli) -> None:
    base = write(tmp_path, "base.yaml", BASE.replace("as_of: 2026-11-26", "as_of: 2024-09-01"))
    head = write(tmp_path, "head.yaml", BASE)
    d = diff(base, head)
    assert d.diff_total_monthly == 0
    (note,) = d.notes
    assert note.startswith(
        "the price date moved from 2024-09-01 to 2026-11-26; both sides are priced on 2026-11-26"
    )
    assert "note: the price date moved" in run_cli("diff", base, head).stdout


def test_stream_cancels_in_the_project_config_lower_the_monthly_cost(tmp_path: Path) -> None:
    with_cancels = BASE.replace(
        "    mode: stream\n", "    mode: stream\n    cancel: {rate: 0.5, after_tokens: 100}\n"
    )
    base, head = write(tmp_path, "base.yaml", BASE), write(tmp_path, "head.yaml", with_cancels)
    d = diff(base, head)
    chat = next(w for w in d.workloads if w.name == "support-chat")
    # half of 600,000 streamed answers stop after 100 + 50 billed of 350 tokens: 200 tokens
    # fewer each at Haiku 4.5's $5 per 1M = $300 less a month
    assert chat.diff == Decimal(-300)
    assert chat.changes == ["cancel: none -> rate 0.5, after_tokens 100"]


def test_a_warning_is_said_once_a_command(tmp_path: Path, run_cli: RunCli) -> None:
    """diff prices both sides: a retired model warned once per side, twice in all."""
    text = HEAD.replace("model: gpt-4o-mini", "model: gemini-2.5-flash")  # retired 2026-10-20
    base, head = write(tmp_path, "a.yaml", text), write(tmp_path, "b.yaml", text)
    for _ in range(2):  # and again in the next command: each says its own
        out = run_cli("diff", base, head)
        warned = [line for line in out.stderr.splitlines() if "retired" in line]
        assert len(warned) == len(set(warned)) >= 1, out.stderr
