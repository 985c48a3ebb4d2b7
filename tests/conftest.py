"""Shared test helpers: run the CLI the way a user does, and write throwaway price files."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from costcalc.cli import cli
from costcalc.prices import PRICES_ENV
from costcalc.userdata import HOME_ENV


@pytest.fixture(autouse=True)
def _no_user_prices(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests see only the shipped price table unless they set $COSTCALC_PRICES themselves."""
    monkeypatch.delenv(PRICES_ENV, raising=False)


@pytest.fixture(autouse=True)
def costcalc_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Every test has its own user data folder ($COSTCALC_HOME, created empty): no test reads
    or writes the real one (~/.local/share/costcalc), and subprocesses inherit the setting."""
    home = tmp_path_factory.mktemp("costcalc-home")
    monkeypatch.setenv(HOME_ENV, str(home))
    return home


RunCli = Callable[..., Result]


@pytest.fixture
def run_cli() -> RunCli:
    def run(
        *args: str, input: str | bytes | None = None, env: dict[str, str] | None = None
    ) -> Result:
        runner = CliRunner()
        return runner.invoke(cli, list(args), input=input, env=env, catch_exceptions=False)

    return run


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str | bytes], Path]:
    """Write a file under tmp_path (text is dedented) and return its path."""

    def _write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
        return path

    return _write


def assert_one_line_error(result: Result, *fragments: str, code: int = 2) -> None:
    """Exit ``code`` (2: bad input; 3: the environment failed), one line on stderr starting
    'costcalc: error:', no traceback, nothing on stdout."""
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    err = result.stderr.strip()
    assert "Traceback" not in result.stderr
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("costcalc: error: "), err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
