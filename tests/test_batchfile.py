"""Batch files: build, split, validate, quote, reconcile; routing."""

from __future__ import annotations

import csv
import json
import warnings
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from costcalc.batch.build import build
from costcalc.batch.reconcile import reconcile
from costcalc.batch.validate import validate_files
from costcalc.errors import CostcalcNote
from costcalc.prices import load_price_table
from costcalc.requests import blank
from costcalc.router import load_policy, route
from costcalc.workload import Workload
from tests.conftest import RunCli


def write_csv(path: Path, texts: list[str], column: str = "body") -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", column])
        for i, t in enumerate(texts, start=1):
            w.writerow([i, t])
    return path


def read_parts(out: Path, stem: str) -> list[list[dict[str, Any]]]:
    return [
        [json.loads(line) for line in part.read_text(encoding="utf-8").splitlines()]
        for part in sorted(out.glob(f"{stem}-[0-9][0-9][0-9].jsonl"))
    ]


# --- build ----------------------------------------------------------------------------------


def test_openai_lines_and_round_trip(tmp_path: Path) -> None:
    texts = ["Summarise: the printer is on fire", 'Translate "hola"', "multi\nline, with comma"]
    src = write_csv(tmp_path / "tickets.csv", texts)
    m = build(
        str(src), "gpt-4o-mini", tmp_path / "out", column="body", system="Be brief.", max_tokens=50
    )
    (part,) = read_parts(tmp_path / "out", "tickets-batch")
    assert [line["custom_id"] for line in part] == ["row-1", "row-2", "row-3"]
    first = part[0]
    assert first["method"] == "POST" and first["url"] == "/v1/chat/completions"
    assert first["body"] == {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": texts[0]},
        ],
        "max_tokens": 50,
    }
    # custom_id -> input row -> text
    for line in part:
        row = int(line["custom_id"].removeprefix("row-"))
        assert line["body"]["messages"][-1]["content"] == texts[row - 1]
    assert m.requests == 3 and m.parts[0].requests == 3
    manifest = json.loads((tmp_path / "out" / "tickets-batch.manifest.json").read_text())
    assert manifest["parts"][0]["sha256"] == m.parts[0].sha256
    assert manifest["quote"]["batch_cost"] is not None

    # results for every row come back in another order; reconcile maps them all
    results = tmp_path / "results.jsonl"
    results.write_text("".join(
        json.dumps({"id": f"b{i}", "custom_id": line["custom_id"], "error": None, "response": {
            "status_code": 200, "body": {"model": "gpt-4o-mini-2024-07-18",
            "usage": {"prompt_tokens": 100, "completion_tokens": 10, "prompt_tokens_details": {"cached_tokens": 40}}}}}) + "\n"
        for i, line in reversed(list(enumerate(part)))
    ))  # fmt: skip
    files = [str(p) for p in (tmp_path / "out").glob("*.jsonl")]
    r = reconcile([str(results)], files)
    assert r.missing == [] and r.unexpected == [] and r.outcomes["succeeded"] == 3
    # 3 x (60 uncached x $0.075 + 40 cached x $0.0375 (assumed) + 10 output x $0.30) / 1M
    assert (
        r.actual_cost
        == (
            Decimal(180) * Decimal("0.075")
            + Decimal(120) * Decimal("0.0375")
            + Decimal(30) * Decimal("0.30")
        )
        / 10**6
    )
    assert r.usage.input_tokens == 180 and r.usage.cached_input_tokens == 120


def test_anthropic_lines(tmp_path: Path) -> None:
    src = tmp_path / "prompts.jsonl"
    src.write_text(
        json.dumps({"messages": [{"role": "system", "content": "Use French."}, {"role": "user", "content": "Hi"}]}) + "\n"
        + json.dumps("Plain string prompt") + "\n\n" + json.dumps({"prompt": "Third", "system": "Own system"}) + "\n"
    )  # fmt: skip
    build(str(src), "claude-haiku-4-5", tmp_path / "out", system="Be brief.", id_prefix="job7_")
    (part,) = read_parts(tmp_path / "out", "prompts-batch")
    assert [line["custom_id"] for line in part] == ["job7_1", "job7_2", "job7_4"]  # line numbers
    assert part[0]["params"] == {
        "model": "claude-haiku-4-5", "max_tokens": 1024,
        "messages": [{"role": "user", "content": "Hi"}], "system": "Be brief.\n\nUse French.",
    }  # fmt: skip
    assert part[2]["params"]["system"] == "Own system"
    assert validate_files([str(p) for p in (tmp_path / "out").glob("*.jsonl")]).valid


def test_reasoning_models_use_max_completion_tokens(tmp_path: Path) -> None:
    src = tmp_path / "p.txt"
    src.write_text("one\ntwo\n")
    build(str(src), "gpt-5-mini", tmp_path / "out", max_tokens=99)
    (part,) = read_parts(tmp_path / "out", "p-batch")
    assert part[0]["body"]["max_completion_tokens"] == 99 and "max_tokens" not in part[0]["body"]


def _rows(tmp_path: Path, n: int) -> Path:
    src = tmp_path / "rows.txt"
    src.write_text("".join(f"q{i}\n" for i in range(n)))
    return src


def test_split_at_exactly_50000_and_50001(tmp_path: Path) -> None:
    exact = build(str(_rows(tmp_path, 50_000)), "gpt-4o-mini", tmp_path / "a")
    assert [p.requests for p in exact.parts] == [50_000]
    over = build(str(_rows(tmp_path, 50_001)), "gpt-4o-mini", tmp_path / "b")
    assert [p.requests for p in over.parts] == [50_000, 1]
    assert over.parts[1].first_custom_id == "row-50001"


def test_byte_limit_reached_before_count_limit(tmp_path: Path) -> None:
    src = _rows(tmp_path, 100)
    m = build(str(src), "gpt-4o-mini", tmp_path / "out", max_bytes=1500, max_requests=60)
    assert all(p.bytes <= 1500 for p in m.parts) and all(p.requests < 60 for p in m.parts)
    assert sum(p.requests for p in m.parts) == 100 and len(m.parts) > 2
    for p in m.parts:
        assert (tmp_path / "out" / p.file).stat().st_size == p.bytes


def test_existing_files_are_kept_unless_force(tmp_path: Path) -> None:
    src = _rows(tmp_path, 10)
    build(str(src), "gpt-4o-mini", tmp_path / "out", max_requests=3)
    before = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()}
    from costcalc.errors import CostcalcError

    with pytest.raises(CostcalcError, match="already exists"):
        build(str(src), "gpt-4o-mini", tmp_path / "out", max_requests=5)
    after = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()}
    assert before == after  # nothing written, no temporary files left
    build(str(src), "gpt-4o-mini", tmp_path / "out", max_requests=5, force=True)
    assert len(read_parts(tmp_path / "out", "rows-batch")[0]) == 5


def test_a_failed_build_leaves_nothing(tmp_path: Path) -> None:
    src = tmp_path / "bad.jsonl"
    src.write_text('{"prompt": "fine"}\n' * 5 + "{broken\n")
    from costcalc.errors import CostcalcError

    with pytest.raises(CostcalcError, match=r"bad\.jsonl:6"):
        build(str(src), "gpt-4o-mini", tmp_path / "out", max_requests=2)
    assert not (tmp_path / "out").exists()  # the folder it made is gone too
    kept = tmp_path / "kept"
    kept.mkdir()
    with pytest.raises(CostcalcError):
        build(str(src), "gpt-4o-mini", kept, max_requests=2)
    assert kept.is_dir() and list(kept.iterdir()) == []  # a folder the user made stays


@settings(max_examples=60, deadline=None)
@given(
    # a text costcalc takes for blank (white space, a BOM, zero-width characters) is refused
    texts=st.lists(st.text(alphabet=st.characters(blacklist_categories=["Cs", "Cc", "Zl", "Zp"]), min_size=1, max_size=40).filter(lambda t: not blank(t)), min_size=1, max_size=60),
    max_requests=st.integers(min_value=1, max_value=12),
    slack=st.integers(min_value=0, max_value=400),
)  # fmt: skip
def test_splitting_never_loses_duplicates_or_reorders(
    tmp_path_factory: pytest.TempPathFactory, texts: list[str], max_requests: int, slack: int
) -> None:
    tmp = tmp_path_factory.mktemp("split")
    src = write_csv(tmp / "in.csv", texts)
    longest = max(len(json.dumps({"custom_id": f"row-{i}", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": t}], "max_tokens": 1024}}, ensure_ascii=False, separators=(",", ":")).encode()) + 1 for i, t in enumerate(texts, 1))  # fmt: skip
    m = build(
        str(src),
        "gpt-4o-mini",
        tmp / "out",
        column="body",
        max_requests=max_requests,
        max_bytes=longest + slack,
    )
    parts = read_parts(tmp / "out", "in-batch")
    ids = [line["custom_id"] for part in parts for line in part]
    assert ids == [f"row-{i}" for i in range(1, len(texts) + 1)]
    assert [line["body"]["messages"][0]["content"] for part in parts for line in part] == texts
    assert all(len(part) <= max_requests for part in parts)
    assert all(p.bytes <= longest + slack for p in m.parts)


# --- validate ---------------------------------------------------------------------------------


def test_validate_cli_exit_codes(run_cli: RunCli, tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    good.write_text(
        json.dumps(
            {
                "custom_id": "a",
                "method": "POST",
                "url": "/v1/chat/completions",
                "body": {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]},
            }
        )
        + "\n"
    )
    assert run_cli("batch", "validate", str(good)).exit_code == 0
    for messages, problem in (
        ([], "body.messages is empty"),
        ([{"role": "user"}], "body.messages[0] has no content"),
        ([{"role": "user", "content": ""}], "body.messages[0] has no content"),
        (["hi"], "body.messages[0] must be an object with a role"),
    ):
        bad = tmp_path / "bad.jsonl"
        line = json.loads(good.read_text())
        line["body"]["messages"] = messages
        bad.write_text(json.dumps(line) + "\n")
        result = run_cli("batch", "validate", str(bad))
        assert result.exit_code == 1 and problem in result.stdout, (messages, result.stdout)
    dup = tmp_path / "dup.jsonl"
    dup.write_text(good.read_text())
    result = run_cli("batch", "validate", str(good), str(dup))
    assert result.exit_code == 1
    assert f"{dup}:1: custom_id 'a' is also used at {good}:1" in result.stdout
    missing = run_cli("batch", "validate", str(tmp_path / "nope.jsonl"))
    assert missing.exit_code == 2


def test_batch_quote(run_cli: RunCli, tmp_path: Path) -> None:
    src = _rows(tmp_path, 20)
    build(str(src), "gpt-4o", tmp_path / "out", max_tokens=100)
    result = run_cli(
        "batch", "quote", str(tmp_path / "out" / "rows-batch-001.jsonl"), "--format", "json"
    )
    assert result.exit_code == 0, result.stderr
    (w,) = json.loads(result.stdout)["workloads"]
    modes = {m["mode"]: m for m in w["modes"]}
    assert set(modes) == {"request", "batch"} and w["requests"] == 20
    assert w["output_tokens_per_request"] == 100  # a token count, so a JSON number
    assert Decimal(modes["batch"]["cost"]) * 2 == Decimal(modes["request"]["cost"])


@pytest.mark.parametrize(
    ("name", "content", "column"),
    [
        ("p.csv", 'body,id\nSummarise the ticket please,1\n"A, quoted one",2\nhi,3\n', "body"),
        ("p.jsonl", '{"prompt": "Summarise the ticket please"}\n{"prompt": "hi"}\n', None),
        ("p.txt", "Summarise the ticket please\n\nhi there\n", None),
        (
            "s.jsonl",
            '{"prompt": "Classify: cats", "system": "You are careful."}\n{"prompt": "hi"}\n',
            None,
        ),
    ],
)
def test_quote_of_an_input_file_matches_the_batch_file_built_from_it(
    tmp_path: Path, run_cli: RunCli, name: str, content: str, column: str | None
) -> None:
    from costcalc import quote

    src = tmp_path / name
    src.write_text(content)
    build(str(src), "gpt-4o-mini", tmp_path / "out", column=column, max_tokens=50)
    (part,) = sorted((tmp_path / "out").glob("*.jsonl"))
    batch = json.loads(run_cli("batch", "quote", str(part), "--format", "json").stdout)
    (from_batch,) = batch["workloads"]
    q = quote(
        Workload(model="gpt-4o-mini", input_file=str(src), input_column=column, output_tokens=50)
    )
    assert q.requests == from_batch["requests"]
    assert float(q.input_tokens_per_request) == from_batch["input_tokens_per_request"]


def test_build_quote_counts_the_lines_it_writes_with_merged_system_prompts(
    tmp_path: Path, run_cli: RunCli
) -> None:
    src = tmp_path / "sys.jsonl"
    src.write_text(
        '{"prompt": "Summarise this"}\n'
        '{"messages": [{"role": "system", "content": "Be brief and exact."}, '
        '{"role": "user", "content": "Summarise that"}]}\n'
    )
    manifest = build(str(src), "claude-haiku-4-5", tmp_path / "o", system="You are careful.")
    (part,) = sorted((tmp_path / "o").glob("*.jsonl"))
    batch = json.loads(run_cli("batch", "quote", str(part), "--format", "json").stdout)
    written = batch["workloads"][0]["input_tokens_per_request"]
    assert manifest.quote is not None
    assert float(manifest.quote.input_tokens_per_request) == written


def test_batch_quote_of_several_parts_adds_them_up(tmp_path: Path, run_cli: RunCli) -> None:
    build(str(_rows(tmp_path, 25)), "gpt-4o-mini", tmp_path / "out", max_requests=10)
    parts = [str(p) for p in sorted((tmp_path / "out").glob("*.jsonl"))]
    data = json.loads(run_cli("batch", "quote", *parts, "--format", "json").stdout)
    costs = {
        mode: sum(
            Decimal(m["cost"]) for w in data["workloads"] for m in w["modes"] if m["mode"] == mode
        )
        for mode in ("request", "batch")
    }
    assert [w["requests"] for w in data["workloads"]] == [10, 10, 5]
    last = run_cli("batch", "quote", *parts).stdout.splitlines()[-1]
    # 25 requests of "qN": 2 + 7 chat tokens in at $0.15 and 1,024 out (max_tokens) at $0.60
    assert (round(costs["request"], 4), round(costs["batch"], 4)) == (
        Decimal("0.0154"),
        Decimal("0.0077"),
    )
    assert last == "all 3 files: request $0.0154, batch $0.0077 (batch saves $0.0077)"


# --- reconcile ------------------------------------------------------------------------------


def test_reconcile_anthropic_outcomes_and_missing(tmp_path: Path) -> None:
    lines = [
        {"custom_id": "r1", "result": {"type": "succeeded", "message": {"model": "claude-haiku-4-5", "usage": {
            "input_tokens": 1000, "output_tokens": 200, "cache_read_input_tokens": 5000, "cache_creation_input_tokens": 100}}}},
        {"custom_id": "r2", "result": {"type": "errored", "error": {"type": "invalid_request"}}},
        {"custom_id": "r3", "result": {"type": "expired"}},
        {"custom_id": "r4", "result": {"type": "canceled"}},
    ]  # fmt: skip
    out = tmp_path / "results.jsonl"
    out.write_text("".join(json.dumps(x) + "\n" for x in lines))
    inp = tmp_path / "in.jsonl"
    inp.write_text(
        "".join(
            json.dumps(
                {
                    "custom_id": f"r{i}",
                    "params": {
                        "model": "claude-haiku-4-5",
                        "max_tokens": 10,
                        "messages": [{"role": "user", "content": "hi"}],
                    },
                }
            )
            + "\n"
            for i in range(1, 7)
        )
    )
    r = reconcile([str(out)], [str(inp)])
    assert r.outcomes == {"succeeded": 1, "errored": 1, "expired": 1, "cancelled": 1}
    # batch: input $0.50, cache read $0.05, 5-minute write $0.625, output $2.50 per 1M
    assert (
        r.actual_cost
        == (
            1000 * Decimal("0.50")
            + 5000 * Decimal("0.05")
            + 100 * Decimal("0.625")
            + 200 * Decimal("2.50")
        )
        / 10**6
    )
    assert r.missing == ["r5", "r6"] and r.input_requests == 6
    assert r.estimate is not None and r.difference == r.actual_cost - r.estimate


def test_reconcile_prices_each_request_at_its_own_tier_and_cache_lifetime(tmp_path: Path) -> None:
    lines = [  # Sonnet 4.5 in its 1M beta: one request above 200K input, one 1-hour cache write
        {"custom_id": "a", "result": {"type": "succeeded", "message": {"model": "claude-sonnet-4-5", "usage": {
            "input_tokens": 300_000, "output_tokens": 1000}}}},
        {"custom_id": "b", "result": {"type": "succeeded", "message": {"model": "claude-sonnet-4-5", "usage": {
            "input_tokens": 1000, "output_tokens": 100, "cache_creation_input_tokens": 100_000,
            "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 100_000}}}}},
    ]  # fmt: skip
    out = tmp_path / "results.jsonl"
    out.write_text("".join(json.dumps(x) + "\n" for x in lines))
    r = reconcile([str(out)], as_of="2026-04-01")  # the beta ended 2026-04-30
    # batch is half of standard: above 200K $3.00 in and $11.25 out; below $1.50 in, $7.50
    # out, and a 1-hour write at $3.00 (2x input, halved)
    big = 300_000 * Decimal("3.00") + 1000 * Decimal("11.25")
    small = 1000 * Decimal("1.50") + 100_000 * Decimal("3.00") + 100 * Decimal("7.50")
    assert r.actual_cost == (big + small) / 10**6 == Decimal("1.21350")
    assert r.usage.cache_write_1h_tokens == 100_000 and r.usage.cache_write_tokens == 0


# --- routing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "deadline", "model", "mode", "rule"),
    [
        ("web-ui", None, "gpt-4o", "stream", "interactive"),
        ("cron", None, "gpt-4o", "batch", "background"),
        ("webhook", None, "gpt-4o", "batch", "background"),
        ("batch-job", None, "claude-haiku-4-5", "batch", "background"),
        ("webhook", "2h", "gpt-4o", "request", "deadline-inside-batch-window"),
        ("webhook", "2h", "o3", "flex", "deadline-inside-batch-window"),
        ("cron", "5m", "o3", "request", "tight-deadline"),
        ("api", None, "gpt-4o", "request", "api"),
        ("api", "2 days", "gpt-4o", "batch", "deadline-allows-batch"),
        ("api", "24h", "gpt-4o", "batch", "deadline-allows-batch"),
        (None, None, "gpt-4o", "request", "fallback"),
    ],
)  # fmt: skip
def test_default_policy(source: Any, deadline: Any, model: str, mode: str, rule: str) -> None:
    r = route(source, deadline, model)
    assert (r.mode, r.rule) == (mode, rule)


def test_route_names_skipped_modes_and_money_at_stake() -> None:
    r = route("webhook", "2h", "gpt-4o")
    assert r.skipped == ["flex (gpt-4o has no flex tier; rule deadline-inside-batch-window)"]
    w = Workload(
        model="gpt-4o-mini", requests=200_000, input_tokens=1200, output_tokens=300, source="cron"
    )
    staked = route(workload=w)
    assert staked.mode == "batch" and staked.stake is not None
    assert staked.stake.savings == Decimal("36.00")
    assert staked.stake.text == "batch costs $36.00, which saves $36.00 against request"


def test_custom_policy_first_match_wins(tmp_path: Path, run_cli: RunCli) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "rules:\n"
        "  - name: everything-batched\n    when: {source: [api, cron]}\n    mode: batch\n"
        "  - name: rest\n    mode: [priority, request]\n"
    )
    assert route("api", policy=load_policy(policy)).rule == "everything-batched"
    assert route("web-ui", model="gpt-4o", policy=load_policy(policy)).mode == "priority"
    assert route("web-ui", model="claude-haiku-4-5", policy=load_policy(policy)).mode == "request"
    result = run_cli("route", "--source", "api", "--policy", str(policy))
    assert result.exit_code == 0 and result.stdout == "batch\n"


def test_route_cli_json_and_default_policy(run_cli: RunCli) -> None:
    data = json.loads(run_cli("route", "--source", "cron", "--format", "json").stdout)
    assert data["mode"] == "batch" and data["rule"] == "background" and data["why"]
    assert "rules:" in run_cli("route", "--show-policy").stdout


def test_reservoir_is_uniform_and_complete() -> None:
    import random

    from costcalc.batch.rows import Reservoir

    counts = [0] * 100
    for trial in range(3000):
        r = Reservoir(10, random.Random(trial))
        for n in range(1, 101):
            if n <= 10 or n == r.next:
                r.offer(n, n)
        assert len(r.items) == 10 and len(set(r.items)) == 10
        for item in r.items:
            counts[item - 1] += 1
    # each of the 100 items is kept with probability 10/100: 300 times in 3,000 trials
    assert all(220 < c < 380 for c in counts), counts
    small = Reservoir(10, random.Random(1))
    for n in range(1, 6):
        small.offer(n, n)
    assert small.items == [1, 2, 3, 4, 5]


def test_written_files_have_the_usual_permissions(tmp_path: Path) -> None:
    import os
    import stat

    mask = os.umask(0)
    os.umask(mask)
    build(str(_rows(tmp_path, 3)), "gpt-4o-mini", tmp_path / "out")
    for f in (tmp_path / "out").iterdir():
        assert stat.S_IMODE(f.stat().st_mode) == 0o666 & ~mask, f


def test_route_model_flag_replaces_the_workloads_model(tmp_path: Path, run_cli: RunCli) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(
        "model: o3\nrequests: 10\ninput_tokens: 10\noutput_tokens: 0\nsource: webhook\ndeadline: 2h\n"
    )
    assert run_cli("route", "--workload", str(path)).stdout == "flex\n"  # o3 sells flex
    assert run_cli("route", "--workload", str(path), "-m", "claude-haiku-4-5").stdout == "request\n"


def test_route_records_modes_passed_over_in_earlier_rules(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(
        "rules:\n  - name: cheap\n    mode: flex\n    why: half price\n"
        "  - name: rest\n    mode: request\n    why: the default\n"
    )
    r = route("cron", None, "gpt-4o", load_policy(path))
    assert (r.mode, r.rule) == ("request", "rest")
    assert r.skipped == ["flex (gpt-4o has no flex tier; rule cheap)"]


def test_build_manifest_prices_long_context_requests_at_their_tier(
    tmp_path: Path, run_cli: RunCli
) -> None:
    # a model with a long-context tier above 1,000 input tokens (Anthropic's line format)
    prices = tmp_path / "lc.yaml"
    prices.write_text(
        "provider: anthropic\nmodels:\n  - id: acme-long\n    name: Acme Long\n"
        "    context_window: 1000000\n    prices:\n      - as_of: 2026-11-26\n"
        "        source: https://example.com/prices\n"
        "        standard: {input: 3.00, output: 15.00}\n"
        "        tiers:\n          - above_input_tokens: 1000\n"
        "            standard: {input: 6.00, output: 22.50}\n"
    )
    src = tmp_path / "lc.txt"
    src.write_text("hello" + " hello" * 2_000 + "\nshort one\n")
    table = load_price_table([prices])
    manifest = build(str(src), "acme-long", tmp_path / "o", max_tokens=100, table=table)
    (part,) = sorted((tmp_path / "o").glob("*.jsonl"))
    result = run_cli("batch", "quote", str(part), "--format", "json", "--prices", str(prices))
    data = json.loads(result.stdout)
    assert "long-context prices" in json.dumps(data)
    costs = {m["mode"]: Decimal(m["cost"]) for m in data["workloads"][0]["modes"]}
    assert manifest.quote is not None
    assert (manifest.quote.standard_cost, manifest.quote.batch_cost) == (
        costs["request"],
        costs["batch"],
    )


def test_reconcile_at_the_prices_of_the_day_the_batch_ran(tmp_path: Path) -> None:
    out = tmp_path / "o3.jsonl"
    usage = {
        "prompt_tokens": 100_000,
        "prompt_tokens_details": {"cached_tokens": 40_000},
        "completion_tokens": 20_000,
    }
    out.write_text(
        json.dumps(
            {
                "custom_id": "a",
                "response": {"status_code": 200, "body": {"model": "o3", "usage": usage}},
            }
        )
        + "\n"
    )
    # o3 batch before the 2025-06-10 cut: $5 in, $1.25 cached (no batch discount published:
    # half the $2.50 standard), $20 out; after it: $1, $0.25, $4
    before = reconcile([str(out)], as_of="2025-06-01").actual_cost
    assert before == (60_000 * Decimal(5) + 40_000 * Decimal("1.25") + 20_000 * Decimal(20)) / 10**6
    assert reconcile([str(out)], as_of="2025-07-01").actual_cost == before / 5


def test_stream_wall_time_counts_only_the_output_generated_before_cancels() -> None:
    from costcalc import Workload, quote

    w = Workload(model="claude-haiku-4-5", requests=100_000, input_tokens=300, output_tokens=1000,
                 cancel={"rate": 1, "after_tokens": 50}, modes=["stream", "request"])  # fmt: skip
    q = quote(w)
    # 100 tokens each are generated (50 seen + 50 billed after the cancel): 10M at 800K/min is
    # 12.5 min, so 100,000 requests at 4,000/min (25 min) set the time
    assert q.mode("stream").wait_s == 1500 and q.mode("stream").limited_by.startswith(
        "requests per minute"
    )
    assert q.mode("request").wait_s == 7500


def test_keys_a_request_does_not_send_are_said_once(tmp_path: Path) -> None:
    rows = tmp_path / "rows.jsonl"
    rows.write_text(
        '{"prompt": "a"}\n{"prompt": "b", "temperature": 0}\n'
        '{"prompt": "c", "model": "gpt-3.5-turbo", "custom_id": "mine-7"}\n'
    )
    with pytest.warns(CostcalcNote) as said:
        build(str(rows), "gpt-4o-mini", tmp_path / "out")
    notes = [str(w.message) for w in said if "not sent" in str(w.message)]
    assert notes == [
        f"'temperature', 'model', 'custom_id' not sent (2 requests, the first at {rows}:2): a "
        "request is its prompt or messages and system; the model, max_tokens and the rest "
        "come from the command"
    ]
    # a field path says where the request is: the line's other keys are its own business
    nested = tmp_path / "nested.jsonl"
    nested.write_text('{"id": 1, "body": {"prompt": "a"}}\n')
    with warnings.catch_warnings():
        warnings.simplefilter("error", CostcalcNote)
        build(str(nested), "gpt-4o-mini", tmp_path / "out2", field_path="body")
