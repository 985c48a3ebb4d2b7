"""The user's data folder: where costcalc keeps what a user asked it to keep (updated prices).

Never inside the installed package: an upgrade replaces the package, and the package may not
be writable. The folder is, in order:

1. ``$COSTCALC_HOME``, when set (tests and CI set it to a temporary folder);
2. on Linux and other Unix systems, ``$XDG_DATA_HOME/costcalc`` when that variable holds an
   absolute path (the XDG Base Directory rule: a relative one is ignored), else
   ``~/.local/share/costcalc``;
3. on macOS, ``~/Library/Application Support/costcalc``;
4. on Windows, ``%LOCALAPPDATA%\\costcalc`` (``~\\AppData\\Local\\costcalc`` when unset).

Nothing here creates the folder: only a command that writes into it does.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from costcalc.errors import InputFileError, UsageError, quoted

HOME_ENV = "COSTCALC_HOME"
"""Environment variable: the user data folder, overriding the platform's default."""
PRICES_ENV = "COSTCALC_PRICES"
"""Environment variable: extra price files, separated by the OS path separator (``:``)."""


def override_paths_from_env() -> list[str]:
    """The price files ``$COSTCALC_PRICES`` names (here, not with the price table: the CLI
    reads it without importing pydantic)."""
    raw = os.environ.get(PRICES_ENV, "")
    return [p for p in raw.split(os.pathsep) if p.strip()]


APP = "costcalc"


def user_data_dir(platform: str | None = None) -> Path:
    """The folder costcalc keeps the user's data in (see the module docstring for the rules).
    ``$COSTCALC_HOME`` must be an absolute path (a relative one names another folder in each
    folder a command runs in) and, where something is there, a folder."""
    home = os.environ.get(HOME_ENV)
    if home:
        path = Path(home).expanduser()
        if not path.is_absolute():
            raise UsageError(f"${HOME_ENV} must be an absolute path, got {quoted(home)}")
        if path.exists() and not path.is_dir():
            raise InputFileError(
                path, f"is not a folder (${HOME_ENV} names costcalc's data folder)"
            )
        return path
    platform = platform or sys.platform
    if platform.startswith("win"):
        local = os.environ.get("LOCALAPPDATA")
        base = Path(local) if local else Path.home() / "AppData" / "Local"
        return base / APP
    if platform == "darwin":
        return _home() / "Library" / "Application Support" / APP
    xdg = os.environ.get("XDG_DATA_HOME", "")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else _home() / ".local" / "share"
    return base / APP


def _home() -> Path:
    """The user's home on Unix: ``$HOME`` when it is an absolute path, else the account's
    (an empty ``HOME=`` made ``~`` the root folder: /.local/share)."""
    home = os.environ.get("HOME", "")
    if os.path.isabs(home):
        return Path(home)
    try:
        import pwd

        return Path(pwd.getpwuid(os.getuid()).pw_dir)
    except (ImportError, KeyError):
        raise UsageError(
            f"$HOME is not an absolute path and the account has no home: set ${HOME_ENV}"
        ) from None
