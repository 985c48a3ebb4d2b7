"""Errors a user can act on.

Library code raises these; only ``costcalc.cli`` turns them into exit codes (2 for all of
them: bad input or usage). Each message is one line that names the file, line or field and
says what was expected.
"""

from __future__ import annotations

import difflib
import os
import typing
from collections.abc import Iterable
from typing import Any, BinaryIO


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


def open_input(path: str | os.PathLike[str], what: str = "file") -> BinaryIO:
    """Open a file to read, turning every way that can fail into one line naming the file."""
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise InputFileError(path, f"no such {what}") from None
    except IsADirectoryError:
        raise InputFileError(path, f"is a directory, expected a {what}") from None
    except PermissionError:
        raise InputFileError(path, "permission denied") from None
    except OSError as exc:
        raise InputFileError(path, f"cannot read: {exc.strerror or exc}") from None


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


EMPTY_PROMPT = "empty prompt (providers reject a message with no text)"
"""Why a request with no text is refused: by batch build, and by a quote of the same file."""


class RequestError(Exception):
    """A request line that cannot be counted; carries the message for the user."""


class UsageError(CostcalcError):
    """An option or argument value is out of range or malformed."""


class CostcalcWarning(UserWarning):
    """Something the user should know that does not stop the command (the CLI prints it on
    stderr as ``costcalc: warning: ...``)."""


# --- describing validation errors (shared by every file and option we validate) ---------


def field_path(loc: tuple[int | str, ...]) -> str:
    """Render a pydantic error location as ``models[3].input``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _model_at(model: Any, loc: tuple[int | str, ...]) -> Any:
    """The pydantic model class that validates the value at ``loc`` (None if not a model)."""
    from pydantic import BaseModel

    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue  # list index: the item type is already unwrapped below
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            return None
        current = fields[part].annotation
        # unwrap Optional[...], list[...], dict[str, ...] down to a model class
        for _ in range(4):
            args = [a for a in typing.get_args(current) if a is not type(None)]
            if isinstance(current, type) and issubclass(current, BaseModel):
                break
            if not args:
                break
            current = args[-1]
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _shown(value: Any) -> str:
    """A bad value as the user wrote it: 10.7, not Decimal('10.7')."""
    from decimal import Decimal

    if isinstance(value, (Decimal, float)):
        return format(value, "f") if isinstance(value, Decimal) else repr(value)
    if isinstance(value, bool):
        return str(value).lower()
    return repr(value)


def describe_error(err: Any, model: Any = None) -> str:
    """A short, plain message for one pydantic error."""
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        loc = tuple(err.get("loc", ()))
        parent = _model_at(model, loc[:-1]) if model is not None and loc else None
        if parent is not None and loc and isinstance(loc[-1], str):
            allowed = list(parent.model_fields)
            close = difflib.get_close_matches(loc[-1], allowed, n=1)
            if close:
                return f"unknown key (did you mean {close[0]!r}?)"
            return "unknown key (expected one of: " + ", ".join(allowed) + ")"
        return "unknown key"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        sign = {
            "greater_than_equal": ">=",
            "greater_than": ">",
            "less_than_equal": "<=",
            "less_than": "<",
        }[kind]
        bound = next(iter(ctx.values()), "")
        return f"must be {sign} {bound}"
    if kind in ("decimal_parsing", "decimal_type", "float_parsing", "float_type"):
        return f"expected a number, got {_shown(err.get('input'))}"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"expected a whole number, got {_shown(err.get('input'))}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping of keys and values, got {_shown(err.get('input'))}"
    if kind == "list_type":
        return f"expected a list, got {_shown(err.get('input'))}"
    if kind == "string_type":
        return f"expected text, got {_shown(err.get('input'))}"
    if kind in ("date_from_datetime_parsing", "date_parsing", "date_type"):
        return f"expected a date as YYYY-MM-DD, got {_shown(err.get('input'))}"
    msg = str(err.get("msg", "invalid value"))
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    return msg[:1].lower() + msg[1:]
