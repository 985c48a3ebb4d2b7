"""The user data folder: $COSTCALC_HOME, else the platform's rule; never the package."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from costcalc._version import PACKAGE_DIR
from costcalc.userdata import HOME_ENV, user_data_dir
from tests.conftest import RunCli, assert_one_line_error


def test_tests_never_see_the_real_folder(costcalc_home: Path) -> None:
    assert user_data_dir() == costcalc_home
    assert not user_data_dir().is_relative_to(PACKAGE_DIR)


@pytest.mark.parametrize(
    ("platform", "env", "expected"),
    [
        ("linux", {"XDG_DATA_HOME": "/data/me"}, "/data/me/costcalc"),
        ("linux", {"XDG_DATA_HOME": "relative/ignored"}, "HOME/.local/share/costcalc"),
        ("linux", {}, "HOME/.local/share/costcalc"),
        ("darwin", {"XDG_DATA_HOME": "/data/me"}, "HOME/Library/Application Support/costcalc"),
        ("win32", {"LOCALAPPDATA": "/appdata/local"}, "/appdata/local/costcalc"),
        ("win32", {}, "HOME/AppData/Local/costcalc"),
    ],
)
def test_platform_rules(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    platform: str,
    env: dict[str, str],
    expected: str,
) -> None:
    monkeypatch.delenv(HOME_ENV)
    for name in ("XDG_DATA_HOME", "LOCALAPPDATA"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("USERPROFILE", str(tmp_path))
    assert user_data_dir(platform) == Path(expected.replace("HOME", str(tmp_path)))


def test_costcalc_home_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(HOME_ENV, str(tmp_path / "mine"))
    monkeypatch.setenv("XDG_DATA_HOME", "/elsewhere")
    assert user_data_dir("linux") == tmp_path / "mine"


def test_a_relative_or_non_folder_costcalc_home_is_refused(
    run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a relative one named another folder in every folder; a file broke every command with
    # advice (update again, --remove) that failed too
    monkeypatch.setenv(HOME_ENV, "relcc")
    assert_one_line_error(
        run_cli("tokens", "-t", "hello"), "$COSTCALC_HOME must be an absolute path, got 'relcc'"
    )
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    monkeypatch.setenv(HOME_ENV, str(not_a_folder))
    for args in (("tokens", "-t", "hello"), ("prices", "update", "--remove")):
        assert_one_line_error(
            run_cli(*args), f"{not_a_folder}: is not a folder ($COSTCALC_HOME names"
        )


def test_an_empty_home_is_the_accounts(monkeypatch: pytest.MonkeyPatch) -> None:
    # HOME= made ~ the root folder: prices update wrote /.local/share/costcalc
    import pwd

    monkeypatch.delenv(HOME_ENV, raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setenv("HOME", "")
    account = Path(pwd.getpwuid(os.getuid()).pw_dir)
    assert user_data_dir("linux") == account / ".local" / "share" / "costcalc"
    monkeypatch.setenv("HOME", "relative/home")
    assert user_data_dir("darwin") == account / "Library" / "Application Support" / "costcalc"
