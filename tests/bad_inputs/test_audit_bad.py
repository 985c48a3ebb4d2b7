"""Bad-input catalogue for `costcalc audit`'s mapping file and options: exit 2, one line
naming the file, the line and the field (the mapping is read before any record)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import RunCli, assert_one_line_error

# (case id, the mapping file's text, fragments of the message: "{f}" is the file's path)
MAPPINGS: list[tuple[str, str, tuple[str, ...]]] = [
    ("empty", "", ("{f}: is empty, expected a mapping file",)),
    ("not-a-mapping", "- web-ui\n", ("{f}:1: expected a mapping at the top level",)),
    ("no-streams", "streams: {}\n", ("{f}:1: streams:",)),
    ("unknown-top-key", "streams:\n  a: {source: cron}\nstream: x\n", ("{f}:3: stream:",)),
    ("unknown-source", "streams:\n  web:\n    source: browser\n", ("{f}:3: streams.web.source:",)),
    ("bad-deadline", "streams:\n  nightly:\n    source: cron\n    deadline: soon\n",
     ("{f}:4: streams.nightly.deadline:",)),
    ("unknown-field", "streams:\n  a:\n    source: cron\n    deadlne: 2h\n",
     ("{f}:4: streams.a.deadlne:",)),
    ("source-missing", "streams:\n  a:\n    deadline: 2h\n", ("{f}:2: streams.a.source:",)),
    ("bad-yaml", "streams:\n  a: [\n", ("{f}",)),
]  # fmt: skip


@pytest.mark.parametrize(("text", "fragments"), [c[1:] for c in MAPPINGS],
                         ids=[c[0] for c in MAPPINGS])  # fmt: skip
def test_bad_mapping_file(
    run_cli: RunCli, tmp_path: Path, text: str, fragments: tuple[str, ...]
) -> None:
    mapping = tmp_path / "streams.yaml"
    mapping.write_text(text, encoding="utf-8")
    spans = tmp_path / "spans.jsonl"
    spans.write_text("{}\n")
    result = run_cli("audit", str(spans), "--mapping", str(mapping))
    assert_one_line_error(result, *(f.format(f=mapping) for f in fragments))


def test_missing_mapping_file(run_cli: RunCli, tmp_path: Path) -> None:
    spans = tmp_path / "spans.jsonl"
    spans.write_text("{}\n")
    missing = tmp_path / "nope.yaml"
    assert_one_line_error(run_cli("audit", str(spans), "--mapping", str(missing)), str(missing))


def test_bad_days_per_month(run_cli: RunCli, tmp_path: Path) -> None:
    spans = tmp_path / "spans.jsonl"
    spans.write_text("{}\n")
    assert_one_line_error(run_cli("audit", str(spans), "--days-per-month", "40"),
                          "--days-per-month")  # fmt: skip


def test_bad_policy_file(run_cli: RunCli, tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("rules:\n  - name: x\n    mode: teleport\n")
    spans = tmp_path / "spans.jsonl"
    spans.write_text("{}\n")
    assert_one_line_error(run_cli("audit", str(spans), "--policy", str(policy)),
                          f"{policy}:3")  # fmt: skip


def test_a_file_given_twice_is_refused(
    run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its records would count twice, and every cost double."""
    monkeypatch.chdir(tmp_path)
    Path("spans.jsonl").write_text('{"resourceSpans": []}\n')
    assert_one_line_error(run_cli("audit", "spans.jsonl", "spans.jsonl"),
                          "spans.jsonl: given twice: its records would count twice")  # fmt: skip
    assert_one_line_error(run_cli("audit", "spans.jsonl", "./spans.jsonl"),
                          "./spans.jsonl: given twice (as spans.jsonl)")  # fmt: skip


@pytest.mark.parametrize("given", ["spans.jsonl", "./spans.jsonl", "streams.yaml"])
def test_write_config_over_an_input_is_refused_even_with_force(
    run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, given: str
) -> None:
    """--force would replace the traffic (or the mapping) with the config written from it."""
    monkeypatch.chdir(tmp_path)
    Path("spans.jsonl").write_text('{"resourceSpans": []}\n')
    Path("streams.yaml").write_text("streams:\n  a: {source: cron}\n")
    out = run_cli("audit", "spans.jsonl", "--mapping", "streams.yaml", "--write-config", given,
                  "--force")  # fmt: skip
    assert_one_line_error(out, f"--write-config {given}: is the input")
    assert Path("spans.jsonl").read_text() == '{"resourceSpans": []}\n'
    assert Path("streams.yaml").read_text().startswith("streams:")


def test_write_config_dash_is_stdout_and_no_file_named_dash(
    run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("spans.jsonl").write_text('{"resourceSpans": []}\n')
    out = run_cli("audit", "spans.jsonl", "--write-config", "-")
    assert out.exit_code == 0, out.stderr
    assert out.stdout.startswith("# written by costcalc") and not Path("-").exists()
    assert "stdout" in run_cli("audit", "--help").stdout


def test_write_config_dash_from_python_is_refused(tmp_path: Path) -> None:
    import costcalc
    from costcalc.errors import FieldError

    with pytest.raises(FieldError, match="write_config: '-' is no file"):
        costcalc.audit([], write_config="-")


@pytest.mark.parametrize(
    "given", ["in.json", "./in.json", "link.json", "streams.yaml", "policy.yaml"]
)
def test_write_config_over_an_input_is_refused_from_python(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, given: str
) -> None:
    """The library refuses as the CLI does: ``force`` would replace the traffic, the mapping
    or the policy with the config (the same file by any name: ``./``, a symlink)."""
    import costcalc
    from costcalc.errors import FieldError

    monkeypatch.chdir(tmp_path)
    Path("in.json").write_text('{"resourceSpans": []}\n')
    Path("link.json").symlink_to("in.json")
    Path("streams.yaml").write_text("streams:\n  a: {source: cron}\n")
    Path("policy.yaml").write_text("rules:\n  - name: cheap\n    mode: flex\n    why: half price\n")
    before = {p: p.read_text() for p in Path().iterdir()}
    with pytest.raises(FieldError, match=rf"write_config {given}: is the input"):
        costcalc.audit(["in.json"], mapping="streams.yaml", policy="policy.yaml",
                       write_config=given, force=True)  # fmt: skip
    assert {p: p.read_text() for p in Path().iterdir()} == before
