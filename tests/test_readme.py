"""README examples are real output: every ```console block is run and compared."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest

from costcalc.cli import cli
from tests.conftest import RunCli

README = Path(__file__).resolve().parent.parent / "README.md"


def console_examples() -> list[tuple[str, str, int]]:
    """(command, expected output, exit code) for each `$ costcalc ...` in a ```console block;
    a last line `[exit N]` gives the exit code (0 otherwise)."""
    examples = []

    def close(command: str | None, lines: list[str]) -> None:
        if command is None:
            return
        code = 0
        if lines and (m := re.fullmatch(r"\[exit (\d+)\]", lines[-1])):
            code, lines = int(m.group(1)), lines[:-1]
        examples.append((command, "\n".join(lines) + "\n", code))

    for block in re.findall(r"```console\n(.*?)```", README.read_text(), flags=re.S):
        command: str | None = None
        expected: list[str] = []
        for line in block.splitlines():
            if line.startswith("$ "):
                close(command, expected)
                command, expected = line[2:], []
            else:
                expected.append(line)
        close(command, expected)
    return examples


EXAMPLES = console_examples()


def test_readme_has_examples() -> None:
    assert len(EXAMPLES) >= 2


@pytest.mark.parametrize(("command", "expected", "code"), EXAMPLES, ids=[c for c, _, _ in EXAMPLES])
def test_readme_example_is_real_output(
    run_cli: RunCli, command: str, expected: str, code: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(README.parent)  # examples name files relative to the repository
    args = shlex.split(command)
    assert args[0] == "costcalc"
    result = run_cli(*args[1:])
    assert result.exit_code == code, result.stderr
    assert result.stdout == expected


def test_readme_test_command_matches_ci() -> None:
    ci = (README.parent / ".ci" / "run").read_text()
    (cmd,) = re.findall(r"^TEST_CMD='(.*)'$", ci, flags=re.M)
    assert cmd in README.read_text()


def test_readme_planning_script_runs_and_prints_what_it_says(
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = README.read_text()
    script = re.search(r"<!-- planning-script -->\n```python\n(.*?)```", text, flags=re.S)
    output = re.search(r"<!-- planning-script-output -->\n```\n(.*?)```", text, flags=re.S)
    assert script and output
    exec(compile(script.group(1), "README planning script", "exec"), {})
    assert capsys.readouterr().out == output.group(1)


def test_readme_workload_file_example_is_valid(run_cli: RunCli, tmp_path: Path) -> None:
    (block,) = re.findall(r"```yaml\n(workloads:.*?)```", README.read_text(), flags=re.S)
    path = tmp_path / "workloads.yaml"
    path.write_text(block)
    result = run_cli("quote", str(path))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.count("recommended: ") == 2


def test_readme_mapping_example_is_the_example_file() -> None:
    """The mapping file README shows is the one its audit example reads."""
    (block,) = re.findall(
        r"<!-- mapping-example: examples/streams.yaml -->\n```yaml\n(.*?)```",
        README.read_text(),
        flags=re.S,
    )
    assert block == (README.parent / "examples" / "streams.yaml").read_text()


def test_readme_audit_config_is_what_the_audit_writes_and_check_agrees(tmp_path: Path) -> None:
    """The config README shows is what `--write-config` writes for its example, and check
    on it passes with the monthly total README says."""
    import warnings

    import costcalc
    from costcalc.budget import check, load_config

    (block,) = re.findall(
        r"<!-- audit-config-example -->\n```yaml\n(.*?)```", README.read_text(), flags=re.S
    )
    root = README.parent
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the example's malformed records
        report = costcalc.audit(
            [str(root / "examples" / "spans.jsonl.gz")],
            mapping=root / "examples" / "streams.yaml",
        )
    text = report.config_text().replace(str(root / "examples"), "examples")
    assert text == block
    path = tmp_path / "costcalc.yaml"
    path.write_text(block)
    checked = check(load_config(str(path)))
    assert checked.total_monthly == report.totals.monthly_cost  # exactly, before rounding
    assert f"{report.totals.monthly_cost:.2f}" == "6.01"
    assert checked.passed and not checked.failures
    assert f"{report.batch_allowance}" == "2.59"  # the nightly report's saving, allowed


def _command(path: tuple[str, ...]) -> click.Command:
    """The command at ``path`` (the group loads its commands on first use)."""
    command: click.Command = cli
    for name in path:
        assert isinstance(command, click.Group)
        found = command.get_command(click.Context(command), name)
        assert found is not None
        command = found
    return command


def _commands(path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    group = _command(path)
    assert isinstance(group, click.Group)
    out: list[tuple[str, ...]] = []
    for name in group.list_commands(click.Context(group)):
        command = _command((*path, name))
        if isinstance(command, click.Group):
            out += _commands((*path, name))
        elif not command.hidden:
            out.append((*path, name))
    return out


@pytest.mark.parametrize("path", _commands(), ids=" ".join)
def test_each_command_has_help_with_examples_and_each_option_help(
    run_cli: RunCli, path: tuple[str, ...]
) -> None:
    """The README says each command's --help has examples; nine had none, and queue flush's
    --max-tokens, --max-requests and --max-bytes had no help."""
    result = run_cli(*path, "--help")
    assert result.exit_code == 0
    assert re.search(r"^\s*Examples?:\n\s+costcalc ", result.stdout, flags=re.M), result.stdout
    params = _command(path).params
    assert [p.opts for p in params if isinstance(p, click.Option) and not p.help] == []
