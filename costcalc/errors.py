"""Errors a user can act on.

Library code raises these; only ``costcalc.cli`` turns them into exit codes (2 for all of
them: bad input or usage). Each message is one line that names the file, line or field and
says what was expected.
"""

from __future__ import annotations

from collections.abc import Iterable


class CostcalcError(ValueError):
    """Base class: bad input that the user can fix. The CLI prints it and exits 2."""


class InputFileError(CostcalcError):
    """A file is missing, unreadable, not text, or not in the expected format."""

    def __init__(self, path: object, message: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.detail = message
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")


class PriceTableError(InputFileError):
    """A price-table YAML file (shipped or user override) is invalid."""


class WorkloadError(InputFileError):
    """A workload file or workload option is invalid."""


class UnknownModelError(CostcalcError, LookupError):
    """A model name is in no price table; carries close matches."""

    def __init__(self, name: str, suggestions: Iterable[str] = ()) -> None:
        self.name = name
        self.suggestions = list(suggestions)
        hint = ""
        if self.suggestions:
            hint = "; did you mean " + ", ".join(repr(s) for s in self.suggestions) + "?"
        super().__init__(f"unknown model {name!r}{hint} (`costcalc prices list` shows every model)")


class UsageError(CostcalcError):
    """An option or argument value is out of range or malformed."""


class CostcalcWarning(UserWarning):
    """Something the user should know that does not stop the command (the CLI prints it on
    stderr as ``costcalc: warning: ...``)."""
