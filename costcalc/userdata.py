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

HOME_ENV = "COSTCALC_HOME"
"""Environment variable: the user data folder, overriding the platform's default."""

APP = "costcalc"


def user_data_dir(platform: str | None = None) -> Path:
    """The folder costcalc keeps the user's data in (see the module docstring for the rules)."""
    home = os.environ.get(HOME_ENV)
    if home:
        return Path(home).expanduser()
    platform = platform or sys.platform
    if platform.startswith("win"):
        local = os.environ.get("LOCALAPPDATA")
        base = Path(local) if local else Path.home() / "AppData" / "Local"
        return base / APP
    if platform == "darwin":
        return Path.home() / "Library" / "Application Support" / APP
    xdg = os.environ.get("XDG_DATA_HOME", "")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".local" / "share"
    return base / APP
