"""Bad-input catalogue for `costcalc quote` and `costcalc exercise`: exit 2, one line, no traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import RunCli, assert_one_line_error

BASE = ["quote", "-m", "gpt-4o", "-n", "1000", "-i", "800", "-o", "200"]

# (case id, argument list, message fragments)
FLAG_CASES: list[tuple[str, list[str], tuple[str, ...]]] = [
    ("name-too-long", [*BASE, "--name", "n" * 201], ("--name: string should have at most 200 characters",)),
    ("negative-requests", ["quote", "-m", "gpt-4o", "-n", "-5", "-i", "800", "-o", "0"], ("--requests: must be > 0",)),
    ("zero-requests", ["quote", "-m", "gpt-4o", "-n", "0", "-i", "800", "-o", "0"], ("--requests: must be > 0",)),
    ("absurd-requests", ["quote", "-m", "gpt-4o", "-n", "10000000000000", "-i", "8", "-o", "0"], ("--requests: must be <= 1000000000000",)),
    ("negative-input", ["quote", "-m", "gpt-4o", "-n", "5", "-i", "-800", "-o", "0"], ("--input-tokens: must be >= 0",)),
    ("non-numeric-input", ["quote", "-m", "gpt-4o", "-n", "5", "-i", "lots", "-o", "0"], ("--input-tokens: expected a number, got 'lots'",)),
    ("absurd-output", [*BASE[:7], "-o", "1e12"], ("--output-tokens: must be <= 100000000",)),
    ("zero-tokens", ["quote", "-m", "gpt-4o", "-n", "5", "-i", "0", "-o", "0"], ("both zero: nothing to price",)),
    ("over-context", ["quote", "-m", "gpt-4o", "-n", "5", "-i", "200000", "-o", "0"], ("exceeds gpt-4o's limit of 128,000 input tokens",)),
    ("over-max-output", ["quote", "-m", "gpt-4o", "-n", "5", "-i", "10", "-o", "20000"], ("exceeds gpt-4o's maximum output of 16,384",)),
    ("cancel-rate-above-1", [*BASE, "--cancel-rate", "1.5"], ("--cancel-rate: must be <= 1",)),
    ("cancel-rate-negative", [*BASE, "--cancel-rate", "-0.1"], ("--cancel-rate: must be >= 0",)),
    ("cached-share-above-1", [*BASE, "--cached-share", "2"], ("--cached-share: must be <= 1",)),
    ("shares-over-1", [*BASE, "--cached-share", "0.7", "--cache-write-share", "0.5"], ("cached_share + cache_write_share must be at most 1",)),
    ("unknown-mode", [*BASE, "--modes", "stream,turbo"], ("--modes: unknown mode 'turbo'", "stream, request, batch, flex, priority")),
    ("baseline-not-compared", [*BASE, "--modes", "batch,stream", "--baseline", "request"], ("baseline 'request' is not one of the modes compared",)),
    ("baseline-unavailable", [*BASE, "--baseline", "flex"], ("baseline flex is not available for gpt-4o",)),
    ("deadline-soon", [*BASE, "--deadline", "soon"], ("--deadline: bad duration 'soon'", "24h, 1d, 90m, 2 hours")),
    ("deadline-no-unit", [*BASE, "--deadline", "24"], ("--deadline: bad duration '24'",)),
    ("deadline-zero", [*BASE, "--deadline", "0h"], ("--deadline: duration '0h' must be longer than zero",)),
    ("deadline-absurd", [*BASE, "--deadline", "99999999999d"], ("--deadline: duration '99999999999d' is longer than 10 years",)),
    ("bad-value-of-time", [*BASE, "--value-of-time", "lots"], ("--value-of-time: expected an amount of money in USD, got 'lots'",)),
    ("absurd-value-of-time", [*BASE, "--value-of-time", "1e400"], ("--value-of-time: must be <= 1000000000000",)),
    ("negative-value-of-time", [*BASE, "--value-of-time", "-5"], ("--value-of-time: must be >= 0",)),
    ("unknown-model", ["quote", "-m", "gpt-4-0", "-n", "5", "-i", "5", "-o", "0"], ("unknown model 'gpt-4-0'", "did you mean")),
    ("model-without-token-price", ["quote", "-m", "groq:whisper-large-v3", "-n", "5", "-i", "5", "-o", "0"], ("no price per text token for model 'groq:whisper-large-v3'", "lists groq:whisper-large-v3 without one")),
    ("unknown-tier", [*BASE, "--tier", "tier-9"], ("unknown rate-limit tier 'tier-9' for gpt-4o", "tier-1, tier-4")),
    ("no-model", ["quote", "-n", "5"], ("give --model",)),
    ("missing-requests", ["quote", "-m", "gpt-4o", "-i", "5", "-o", "0"], ("--requests is required",)),
    ("missing-output", ["quote", "-m", "gpt-4o", "-n", "10", "-i", "10"], ("workload: --output-tokens is required (give 0 when nothing is generated, as for embeddings)",)),
    ("missing-output-with-file", ["quote", "-m", "gpt-4o", "--input-file", "x.txt"], ("workload: --output-tokens is required",)),
    ("missing-input", ["quote", "-m", "gpt-4o", "-n", "5"], ("--input-tokens is required (or give --input-file",)),
    ("bad-as-of", [*BASE, "--as-of", "2026-02-30"], ("--as-of", "2026-02-30")),
    ("before-release", ["quote", "-m", "gpt-5", "-n", "5", "-i", "5", "-o", "0", "--as-of", "2024-01-01"], ("gpt-5 has no prices on 2024-01-01",)),
    ("missing-workload-file", ["quote", "/nonexistent/w.yaml"], ("/nonexistent/w.yaml: no such workload file",)),
    ("exercise-zero-rows", ["exercise", "--rows", "0"], ("--rows: must be between 1 and 10^12",)),
    ("exercise-bad-rate", ["exercise", "--rate", "free"], ("--rate: expected an amount of money in USD, got 'free'",)),
    ("exercise-negative-rate", ["exercise", "--rate", "-1"], ("--rate: must be a positive price",)),
    ("exercise-bad-share", ["exercise", "--output-share", "1.5"], ("--output-share: expected a number between 0 and 1",)),
    ("exercise-row-too-big-for-gpt-4o", ["exercise", "--tokens-per-row", "200000"], ("--tokens-per-row 200,000", "160,000 input", "exceeds gpt-4o's limit of 128,000")),
    ("empty-modes", [*BASE, "--modes", ""], ("unknown mode ''",)),
    ("all-in-a-list", [*BASE, "--modes", "all,foo"], ("--modes: 'all,foo': all names every mode, so it stands alone",)),
    ("mode-twice", [*BASE, "--modes", "batch,Batch"], ("--modes: 'batch,Batch' lists batch twice",)),
    ("no-mode-compared-available", [*BASE, "--modes", "flex"], ("none of the modes compared is available for gpt-4o (flex: gpt-4o has no flex tier); choose others with --modes",)),
    ("sample-without-file", [*BASE, "--sample", "10"], ("--sample applies to --input-file, which is not given",)),
    ("seed-without-file", [*BASE, "--seed", "3"], ("--seed applies to --input-file",)),
    ("column-without-file", [*BASE, "--input-column", "text"], ("--column applies to --input-file",)),
    ("long-deadline-cut-short", [*BASE, "--deadline", "9" * 5000 + "h"], ("--deadline: duration '" + "9" * 60 + "...' is longer than 10 years",)),
    ("long-model-cut-short", ["quote", "-m", "x" * 5000, "-n", "1", "-i", "1", "-o", "1"], ("unknown model '" + "x" * 60 + "...'",)),
    ("long-format-cut-short", [*BASE, "--format", "x" * 500], ("'" + "x" * 60 + "...' is not one of",)),
    ("exercise-rate-beyond-decimal-context", ["exercise", "--rate", "1e99999999"], ("--rate: must be <= 1000000000000",)),
    ("exercise-value-of-time-beyond-decimal-context", ["exercise", "--value-of-time", "-1e99999999"], ("--value-of-time: must be <= 1000000000000",)),
    ("escape-in-model-name", ["quote", "-m", "gpt\x1b[2J", "-n", "1", "-i", "1", "-o", "1"], ("unknown model 'gpt\\x1b[2J'",)),
    ("negative-seed", ["quote", "-m", "gpt-4o", "--input-file", "x.txt", "--seed", "-1"], ("Invalid value for '--seed': -1 is not in the range x>=0",)),
]  # fmt: skip


@pytest.mark.parametrize(("name", "args", "fragments"), FLAG_CASES, ids=[c[0] for c in FLAG_CASES])
def test_quote_flags_rejected(
    run_cli: RunCli, name: str, args: list[str], fragments: tuple[str, ...]
) -> None:
    assert_one_line_error(run_cli(*args), *fragments)


GOOD = """\
workloads:
  - name: a
    model: gpt-4o
    requests: 1000
    input_tokens: 800
    output_tokens: 200
"""

# (case id, YAML text, message fragments: each names the file and line)
YAML_CASES: list[tuple[str, str, tuple[str, ...]]] = [
    ("unknown-key", GOOD + "    colour: red\n", (":7:", "workloads[0].colour: unknown key")),
    ("misspelt-key", GOOD.replace("output_tokens", "output_tokns"), (":6:", "output_tokns: unknown key (did you mean 'output_tokens'?)")),
    ("negative-requests", GOOD.replace("1000", "-1"), (":4:", "workloads[0].requests: must be > 0")),
    ("cancel-rate", GOOD + "    cancel: {rate: 1.2}\n", (":7:", "workloads[0].cancel.rate: must be <= 1")),
    ("deadline", GOOD + "    deadline: soon\n", (":7:", "workloads[0].deadline: bad duration 'soon'")),
    ("deadline-bare-number", GOOD + "    deadline: 24\n", (":7:", "needs a unit")),
    ("unknown-mode", GOOD + "    modes: [stream, warp]\n", (":7:", "workloads[0].modes[1]", "'stream'")),
    ("missing-model", GOOD.replace("    model: gpt-4o\n", ""), (":2:", "workloads[0].model: required field is missing")),
    ("malformed", "workloads:\n  - name: a\n    model: [gpt\n", ("invalid YAML",)),
    ("not-a-list", "workloads: 5\n", (":1:", "workloads: expected a list of workloads")),
    ("empty", "", ("is empty",)),
    ("duplicate-names", GOOD + GOOD.split("workloads:\n", 1)[1], (":7:", "two workloads are named 'a'")),
    ("extra-top-level", GOOD + "budget: 5\n", (":7:", "budget: unknown key (expected only 'workloads')")),
    ("extra-top-level-first", "as_of: 2026-01-01\n" + GOOD, (":1:", "as_of: unknown key (expected only 'workloads')")),
    ("boolean-count", GOOD.replace("requests: 1000", "requests: true"), (":4:", "workloads[0].requests: expected a whole number, got true")),
    ("duplicate-key", GOOD + "    requests: 20\n", (":7:", "duplicate key 'requests' (first on line 4)")),
    ("unknown-model-names-the-workload", GOOD.replace("gpt-4o", "gtp-4o"), ("workload 'a': unknown model 'gtp-4o'", "did you mean")),
    ("sample-without-file", GOOD + "    input_sample: 5\n", ("input_sample applies to input_file",)),
    ("scalar-for-mapping", GOOD + "    cancel: 0.2\n", (":7:", "workloads[0].cancel: expected a mapping of keys and values, got 0.2")),
    ("list-for-text", GOOD.replace("model: gpt-4o", "model: [gpt-4o]"), (":3:", "workloads[0].model: expected text, got ['gpt-4o']")),
    ("missing-output", GOOD.replace("    output_tokens: 200\n", ""), (":2:", "workloads[0]: output_tokens is required (give 0 when nothing is generated")),
    ("unknown-mode-in-text", GOOD + "    modes: stream, warp\n", (":7:", "unknown mode 'warp'")),
    ("mode-twice", GOOD + "    modes: [batch, stream, batch]\n", (":7:", "workloads[0].modes: lists batch twice")),
    ("as-of-a-list", GOOD + "    as_of: [2026-01-01]\n", (":7:", "workloads[0].as_of: expected a date as YYYY-MM-DD, got a list")),
    ("as-of-a-number", GOOD + "    as_of: 20260101\n", (":7:", "workloads[0].as_of: expected a date as YYYY-MM-DD, got 20260101")),
    ("as-of-a-timestamp", GOOD + "    as_of: 2026-01-01 00:00:00\n", (":7:", "a day, not a time")),
]  # fmt: skip


@pytest.mark.parametrize(("name", "text", "fragments"), YAML_CASES, ids=[c[0] for c in YAML_CASES])
def test_workload_yaml_rejected(
    run_cli: RunCli, tmp_path: Path, name: str, text: str, fragments: tuple[str, ...]
) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(text, encoding="utf-8")
    assert_one_line_error(run_cli("quote", str(path)), str(path), *fragments)


@pytest.mark.parametrize("text", ["24h", "1d", "90m", "2 hours", "1h30m", "3 days"])
def test_durations_accepted(run_cli: RunCli, text: str) -> None:
    result = run_cli(*BASE, "--deadline", text)
    assert result.exit_code == 0, result.stderr


def test_yaml_single_workload_and_flag_override(run_cli: RunCli, tmp_path: Path) -> None:
    path = tmp_path / "one.yaml"
    path.write_text("model: gpt-4o\nrequests: 1000\ninput_tokens: 800\noutput_tokens: 200\n")
    result = run_cli("quote", str(path), "--value-of-time", "1000", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert '"name": "one"' in result.stdout and '"value_of_time": "1000.00"' in result.stdout


def test_name_flag_cannot_name_several_workloads(run_cli: RunCli, tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(GOOD + GOOD.split("workloads:\n", 1)[1].replace("name: a", "name: b"))
    assert_one_line_error(
        run_cli("quote", str(path), "--name", "x"), "--name names one workload", "has 2"
    )


# (case id, input file name, its content, extra flags, message fragments)
INPUT_FILE_CASES: list[tuple[str, str, bytes, list[str], tuple[str, ...]]] = [
    ("empty-text", "empty.txt", b"", [], ("empty.txt: no requests to price",)),
    ("blank-lines-only", "blank.txt", b"\n  \n\n", [], ("blank.txt: no requests to price",)),
    ("column-on-jsonl", "r.jsonl", b'{"prompt": "hi"}\n', ["--input-column", "body"], ("r.jsonl: input_column (--column) applies to CSV files",)),
    ("column-on-text", "r.txt", b"hello there\n", ["--input-column", "body"], ("r.txt: input_column (--column) applies to CSV files",)),
    ("empty-csv-cell", "r.csv", b'body\nhello\n""\n', ["--input-column", "body"], ("r.csv:3: empty prompt",)),
    ("csv-without-column", "r.csv", b"body\nhello\n", [], ("r.csv: a CSV file needs input_column (--column NAME)",)),
    ("invalid-utf8-line", "latin.txt", b"ok\ncaf\xe9\n", [], ("latin.txt:2:", "not valid UTF-8", "--errors replace")),
    ("empty-string-request", "r.jsonl", b'"hi"\n""\n', [], ("r.jsonl:2: empty prompt (providers reject a message with no text)",)),
    ("empty-text-request", "r.jsonl", b'{"text": ""}\n', [], ("r.jsonl:1: empty prompt",)),
    ("blank-prompt-request", "r.jsonl", b'{"prompt": " \\n "}\n', [], ("r.jsonl:1: empty prompt",)),
    ("empty-message-content", "r.jsonl", b'{"messages": [{"role": "user", "content": ""}]}\n', [], ("r.jsonl:1: message 1 has no content",)),
    ("empty-text-parts", "r.jsonl", b'{"messages": [{"role": "user", "content": [{"type": "text", "text": ""}]}]}\n', [], ("r.jsonl:1: message 1 has no content",)),
    ("no-messages", "r.jsonl", b'{"messages": []}\n', [], ("r.jsonl:1: messages is empty",)),
    ("system-only", "r.jsonl", b'{"messages": [{"role": "system", "content": "x"}]}\n', [], ("r.jsonl:1: messages holds only system messages",)),
    ("number-request", "r.jsonl", b'42\n', [], ("r.jsonl:1: expected a prompt",)),
    ("batch-line-empty-content", "b.jsonl", b'{"custom_id": "a", "body": {"model": "gpt-4o", "messages": [{"role": "user", "content": ""}]}}\n', [], ("b.jsonl:1: message 1 has no content",)),
    ("request-over-context", "big.txt", b"hello" + b" hello" * 130_000 + b"\nhi\n", [], ("big.txt: 1 request over gpt-4o's limit of 128,000", "the largest has 130,008")),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "filename", "content", "flags", "fragments"),
    INPUT_FILE_CASES,
    ids=[c[0] for c in INPUT_FILE_CASES],
)
def test_input_file_rejected(
    run_cli: RunCli,
    tmp_path: Path,
    name: str,
    filename: str,
    content: bytes,
    flags: list[str],
    fragments: tuple[str, ...],
) -> None:
    path = tmp_path / filename
    path.write_bytes(content)
    result = run_cli("quote", "-m", "gpt-4o", "--input-file", str(path), "-o", "10", *flags)
    assert_one_line_error(result, *fragments)


def test_invalid_utf8_input_can_be_counted_replaced(run_cli: RunCli, tmp_path: Path) -> None:
    path = tmp_path / "latin.txt"
    path.write_bytes(b"ok\ncaf\xe9\n")
    args = ["quote", "-m", "gpt-4o", "--input-file", str(path), "-o", "10", "--errors", "replace"]
    result = run_cli(*args)
    assert result.exit_code == 0, result.stderr
    assert "2 requests" in result.stdout


def test_a_bad_number_is_shown_as_written(run_cli: RunCli, tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text("model: gpt-4o\nrequests: 10.7\ninput_tokens: 5\n")
    assert_one_line_error(
        run_cli("quote", str(path)), ":2:", "requests: expected a whole number, got 10.7"
    )


def test_modes_in_yaml_may_be_written_as_on_the_command_line(
    run_cli: RunCli, tmp_path: Path
) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(GOOD + "    modes: all\n")
    assert run_cli("quote", str(path)).exit_code == 0
    path.write_text(GOOD + "    modes: request, batch\n")
    result = run_cli("quote", str(path), "--format", "json")
    assert [m["mode"] for m in json.loads(result.stdout)["workloads"][0]["modes"]] == [
        "request",
        "batch",
    ]


def test_input_flags_replace_the_files_way_of_giving_input(run_cli: RunCli, tmp_path: Path) -> None:
    (tmp_path / "p.txt").write_text("hello there\nhow are you\n")
    path = tmp_path / "w.yaml"
    path.write_text(
        GOOD + "  - name: b\n    model: gpt-4o\n    input_file: p.txt\n    output_tokens: 5\n"
    )
    result = run_cli("quote", str(path), "-n", "10", "-i", "100", "-o", "0", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert [w["input_tokens_per_request"] for w in json.loads(result.stdout)["workloads"]] == [
        100,
        100,
    ]
    result = run_cli(
        "quote", str(path), "--input-file", str(tmp_path / "p.txt"), "--format", "json"
    )
    assert result.exit_code == 0, result.stderr
    assert [w["requests"] for w in json.loads(result.stdout)["workloads"]] == [1000, 2]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"baseline": "fast"}, "baseline 'fast' is not one of the modes compared"),
        ({"modes": ["batch"]}, "baseline 'request' is not one of the modes compared"),
    ],
)
def test_a_workload_changed_after_it_was_made_is_refused(
    change: dict[str, object], expected: str
) -> None:
    """A Workload checks its baseline against its modes when it is made, and again when one
    of them is set: in words, not a StopIteration inside quote()."""
    import costcalc

    w = costcalc.Workload(
        model="gpt-4o", requests=10, input_tokens=10, output_tokens=10, baseline="request"
    )
    for name, value in change.items():
        with pytest.raises(costcalc.InvalidWorkloadError, match=expected):
            setattr(w, name, value)
    assert costcalc.quote(w).baseline == "request"  # as it was


def test_modes_without_request_say_the_baseline_moved(run_cli: RunCli, tmp_path: Path) -> None:
    """--modes batch,priority measured savings against batch without a word."""
    result = run_cli(*BASE, "--modes", "batch,priority", "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["workloads"][0]["baseline"] == "batch"
    assert result.stderr == (
        "costcalc: note: savings are measured against batch, the first mode compared: the "
        "modes leave out request (choose another with --baseline)\n"
    )
    for chosen in (
        ["--modes", "batch,priority", "--baseline", "batch"],
        ["--modes", "batch,request"],
    ):
        assert run_cli(*BASE, *chosen).stderr == ""


def test_a_defaulted_baseline_the_model_lacks_is_the_first_mode_it_has(run_cli: RunCli) -> None:
    """--modes flex,batch for gpt-4o noted flex as the baseline, then failed: gpt-4o has no
    flex. A baseline only defaulted follows the first mode available; one given does not."""
    import costcalc

    result = run_cli(*BASE, "--modes", "flex,batch", "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["workloads"][0]["baseline"] == "batch"
    assert result.stderr == (
        "costcalc: note: savings are measured against batch, the first mode compared that "
        "gpt-4o has: the modes leave out request (choose another with --baseline)\n"
    )
    w = costcalc.Workload(
        model="gpt-4o", requests=10, input_tokens=10, output_tokens=10, modes=["flex", "batch"]
    )
    assert costcalc.quote(w).baseline == "batch"  # a planning script sees the same
    with pytest.raises(costcalc.UsageError, match="baseline flex is not available for gpt-4o"):
        costcalc.quote(w.model_copy(update={"baseline": "flex"}))
    given = run_cli(*BASE, "--modes", "flex,batch", "--baseline", "flex")
    assert_one_line_error(given, "baseline flex is not available for gpt-4o")


def test_quote_takes_column_as_tokens_and_batch_build_do(run_cli: RunCli, tmp_path: Path) -> None:
    """The CSV column flag was --column in tokens and batch build but --input-column in
    quote; both now work in quote, and messages name --column."""
    csv = tmp_path / "r.csv"
    csv.write_text("body\nhello world\n", encoding="utf-8")
    args = ["quote", "-m", "gpt-4o", "-o", "10", "--input-file", str(csv), "--format", "json"]
    given = [run_cli(*args, flag, "body") for flag in ("--column", "--input-column")]
    assert [r.exit_code for r in given] == [0, 0]
    assert json.loads(given[0].stdout) == json.loads(given[1].stdout)
    assert "--column, --input-column NAME" in run_cli("quote", "--help").stdout
    assert_one_line_error(run_cli(*args), "needs input_column (--column NAME)")
