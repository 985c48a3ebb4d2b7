"""Errors a user can act on.

Library code raises these; only ``costcalc.cli`` turns them into exit codes (2 for all of
them: bad input or usage). Each message is one line that names the file, line or field and
says what was expected.

A message names a field or parameter as a Python caller writes it (``rows``, ``as_of``,
``errors='replace'``), never as a command-line flag: the library marks each name it mentions
with ``arg``, ``str()`` writes the mark as the Python name, and the command line writes it as
its flag (``--rows``, ``--errors replace``) from its one table, ``costcalc.commands.flags``.
"""

from __future__ import annotations

import errno
import io
import os
import re
import reprlib
import typing
from collections.abc import Callable, Iterable
from typing import Any, BinaryIO, NamedTuple

# --- fields named in messages --------------------------------------------------------------

_START, _SEP, _END = "\x02", "\x1f", "\x03"
_MARK = re.compile("\x02([^\x02\x03]*)\x03")


class Arg(NamedTuple):
    """A field or parameter that a message names."""

    name: str
    """As a Python caller writes it: ``rows``, ``as_of``, ``cancel.rate``."""
    value: str | bool | None = None
    """A value to give it: ``errors='replace'`` in Python, ``--errors replace`` on the command
    line (``True``: the flag alone, ``--force``)."""
    metavar: str = ""
    """What the command line writes after the flag: ``--column NAME``."""
    both: bool = False
    """The command line writes the field and the flag: ``as_of (--as-of)``, for a value that
    may come from a file or from the flag."""

    def python(self) -> str:
        """The name as a Python caller writes it."""
        return self.name if self.value is None else f"{self.name}={self.value!r}"


def arg(name: str, value: str | bool | None = None, *, both: bool = False) -> str:
    """Mark the field or parameter ``name`` in a message (``"column NAME"``: with the metavar
    the command line writes after the flag). ``str()`` of the error writes it as ``name``."""
    name, _, metavar = name.partition(" ")
    kind = "" if value is None else "b" if value is True else "s"
    text = "" if value is None or value is True else str(value)
    fields = (name, kind, text, metavar, "b" if both else "")
    return _START + _SEP.join(fields) + _END


def _arg(mark: re.Match[str]) -> Arg:
    name, kind, text, metavar, both = mark.group(1).split(_SEP)
    value: str | bool | None = None if not kind else True if kind == "b" else text
    return Arg(name, value, metavar, bool(both))


def named(text: str, name: Callable[[Arg], str] = Arg.python) -> str:
    """``text`` with each field marked by ``arg`` written by ``name`` (default: as in Python)."""
    if _START not in text:
        return text

    def write(mark: re.Match[str]) -> str:
        if mark.group(1).count(_SEP) != 4:  # not a mark of ours: control bytes from the input
            return mark.group(0)
        return name(_arg(mark))

    return _MARK.sub(write, text)


_LONG_QUOTED = re.compile(r"""(['"])([^'"\n]{100,})\1""")
_LONG_RUN = re.compile(r"[^\s'\"]{200,}")


def cut_long_values(message: str) -> str:
    """``message`` with every long value it quotes (over 100 characters in quotes, or a run of
    200 without a space: a 5,000-digit number, a pasted file) cut to its first 60 characters
    and an ellipsis: an error is one line a person reads, whatever the input held."""
    if len(message) < 100:
        return message
    message = _LONG_QUOTED.sub(lambda m: f"{m[1]}{m[2][:60]}...{m[1]}", message)
    return _LONG_RUN.sub(lambda m: m[0][:60] + "...", message)


def printable_line(line: str) -> str:
    """``line`` with every character a terminal would act on (escapes, NUL, other controls,
    undecodable bytes) written as Python writes it in a string: ``\\x1b``, ``\\x00``."""
    if line.isprintable():
        return line
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in line)


def _keep_marks(message: Exception, args: tuple[object, ...]) -> tuple[object, ...]:
    """``args`` of an error or warning whose one message marks fields (``arg``): the marked
    text kept on ``message`` (its ``marked``), the args holding the Python text (so repr,
    pickling and logs never see the marks)."""
    if len(args) == 1 and isinstance(args[0], str) and _START in args[0]:
        message._marked = args[0]  # type: ignore[attr-defined]
        return (named(args[0]),)
    return args


class CostcalcError(ValueError):
    """Base class: bad input that the user can fix. The CLI prints it and exits 2."""

    def __init__(self, *args: object) -> None:
        if len(args) == 1 and isinstance(args[0], str):
            args = (cut_long_values(args[0]),)
        super().__init__(*_keep_marks(self, args))

    def __str__(self) -> str:
        return named(super().__str__())

    @property
    def marked(self) -> str:
        """The message with the fields it names still marked: to quote it in another error's
        message, so the command line can write them as its flags."""
        return getattr(self, "_marked", None) or Exception.__str__(self)

    def __reduce__(self) -> tuple[Any, ...]:
        # subclasses take other arguments than their message: rebuild from the state, so an
        # error raised in a worker process reaches the parent as itself
        return (_rebuilt, (type(self), self.args, self.__dict__))


def _rebuilt(cls: type[CostcalcError], args: tuple[object, ...], state: dict[str, Any]) -> Any:
    exc = cls.__new__(cls)
    Exception.__init__(exc, *args)
    exc.__dict__.update(state)
    return exc


def file_name_text(path: str) -> str:
    """A file name to print: the bytes of a name that are not UTF-8 (read from a folder, as
    Python decodes them: lone surrogates) written ``\\xff``, as ``ls -b`` does."""
    try:
        return os.fsencode(path).decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a lone surrogate that no byte gave: printed escaped
        return path


class InputFileError(CostcalcError):
    """A file is missing, unreadable, not text, or not in the expected format."""

    def __init__(self, path: object, message: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.detail = message
        shown = file_name_text(self.path)
        where = f"{shown}:{line}" if line is not None else shown
        super().__init__(f"{where}: {message}")


class _InputFile(io.FileIO):
    """A file opened to read whose read failures name it: an I/O error in the middle of a
    file (a failing disk, a device, /proc/self/mem) is bad input naming the file, not an
    ``OSError`` that names nothing."""

    def readinto(self, buffer: Any) -> int | None:
        try:
            return super().readinto(buffer)
        except OSError as exc:
            raise self._failed(exc) from None

    def readall(self) -> bytes:
        try:
            return super().readall()
        except OSError as exc:
            raise self._failed(exc) from None

    def read(self, size: int | None = -1, /) -> bytes:
        try:
            return super().read(size)
        except OSError as exc:
            raise self._failed(exc) from None

    def _failed(self, exc: OSError) -> InputFileError:
        return InputFileError(self.name, f"cannot read: {(exc.strerror or str(exc)).lower()}")


def open_input(path: str | os.PathLike[str], what: str = "file") -> BinaryIO:
    """Open a file to read, turning every way that can fail, then or while reading it, into
    one line naming the file."""
    try:
        return io.BufferedReader(_InputFile(path, "rb"))
    except FileNotFoundError:
        raise InputFileError(path, f"no such {what}") from None
    except IsADirectoryError:
        raise InputFileError(path, f"is a directory, expected a {what}") from None
    except PermissionError:
        raise InputFileError(path, "permission denied") from None
    except OSError as exc:
        raise InputFileError(path, f"cannot read: {exc.strerror or exc}") from None


# --- arguments of the Python API ----------------------------------------------------------
# A wrong type is a programming error, not bad input: TypeError, naming the function and the
# argument, before it fails somewhere deep inside (a str iterated as a list of paths).


def _kind(value: object) -> str:
    return "None" if value is None else type(value).__name__


def path_argument(value: object, name: str, function: str) -> str:
    """One path argument (``str`` or ``os.PathLike``) as a str; else TypeError naming it."""
    if isinstance(value, (str, os.PathLike)):
        path = os.fspath(value)
        if isinstance(path, str):
            return path
    raise TypeError(f"{function}: {name} must be a path (str or os.PathLike), got {_kind(value)}")


def path_arguments(value: object, name: str, function: str) -> list[str]:
    """Paths given as one path (``str``, ``os.PathLike``: one file, never its characters) or a
    list or tuple of them, as a list of str; else TypeError naming the argument."""
    if isinstance(value, (str, os.PathLike)):
        return [path_argument(value, name, function)]
    if isinstance(value, (list, tuple)):
        paths = []
        for i, item in enumerate(value):
            if not isinstance(item, (str, os.PathLike)):
                raise TypeError(
                    f"{function}: {name}[{i}] must be a path (str or os.PathLike), "
                    f"got {_kind(item)}"
                )
            paths.append(path_argument(item, f"{name}[{i}]", function))
        return paths
    raise TypeError(
        f"{function}: {name} must be a path (str or os.PathLike) or a list of paths, "
        f"got {_kind(value)}"
    )


def require_type(
    value: object, expected: type | tuple[type, ...], name: str, function: str, what: str
) -> None:
    """TypeError naming the argument unless ``value`` is an ``expected`` (``what``: the type
    in words, ``a costcalc.Workload``)."""
    if not isinstance(value, expected) or (
        isinstance(value, bool)
        and bool not in (expected if isinstance(expected, tuple) else (expected,))
    ):
        raise TypeError(f"{function}: {name} must be {what}, got {_kind(value)}")


def require_count(value: object, name: str, function: str, minimum: int | None = None) -> int:
    """A whole-number argument (an int, not a bool): TypeError naming it otherwise, and a
    ``FieldError`` when it is below ``minimum``."""
    require_type(value, int, name, function, "a whole number (int)")
    assert isinstance(value, int)
    if minimum is not None and value < minimum:
        raise FieldError(name, f"must be at least {minimum}, got {value}", sep=" ")
    return value


class PriceTableError(InputFileError):
    """A price-table YAML file (shipped or user override) is invalid."""


class WorkloadError(InputFileError):
    """A workload file or workload option is invalid."""


class InvalidWorkloadError(CostcalcError):
    """A ``costcalc.Workload`` built in Python with bad fields. The message is one line naming
    each (``Workload: requests: must be > 0; deadline: ...``); ``fields`` lists their names
    as Python writes them (``cancel.rate``), empty when the fields disagree with each other
    (``input_tokens and output_tokens are both zero``)."""

    def __init__(self, message: str, fields: Iterable[str] = ()) -> None:
        self.fields = list(fields)
        super().__init__(message)


class UnknownModelError(CostcalcError, LookupError):
    """A model name is in no price table; carries close matches."""

    def __init__(
        self, name: str, suggestions: Iterable[str] = (), why: str = "", *, unpriced: str = ""
    ) -> None:
        self.name = name
        self.suggestions = list(suggestions)
        if unpriced:  # listed by the data, without a price costcalc can quote
            super().__init__(f"no price per text token for model {quoted(name)}: {unpriced}")
            return
        hint = f": {why}" if why else ""
        if self.suggestions:
            hint += "; did you mean " + ", ".join(repr(s) for s in self.suggestions) + "?"
        super().__init__(
            f"unknown model {quoted(name)}{hint} (`costcalc prices list --all` shows every model)"
        )


EMPTY_PROMPT = "empty prompt (providers reject a message with no text)"
"""Why a request with no text is refused: by batch build, and by a quote of the same file."""

NOT_UTF8 = f"is not valid UTF-8 text (use {arg('errors', 'replace')} to count it anyway)"
"""Why a line of input is refused when invalid UTF-8 stops the count (``errors='strict'``)."""


class RequestError(Exception):
    """A request line that cannot be counted; carries the message for the user."""


class UsageError(CostcalcError):
    """An option or argument value is out of range or malformed."""


class FieldError(UsageError):
    """The value given for one field or parameter is wrong: ``rows: must be > 0``.

    ``field`` is the name as a Python caller writes it (``rows``, ``as_of``, ``cancel.rate``),
    ``message`` what is wrong; the command line writes the field as its flag (``--rows: must
    be > 0``). ``sep`` joins the two (``" "``: ``jobs must be at least 1``); ``both``: the
    command line writes the field and the flag (``as_of (--as-of): bad date ...``).
    """

    def __init__(self, field: str, message: str, *, sep: str = ": ", both: bool = False) -> None:
        self.field = field
        self.message = message
        super().__init__(arg(field, both=both) + sep + message)


class EnvironmentFailure(Exception):
    """The machine, not the input, failed: a disk is full or read-only, a file or folder may
    not be written, the reader of stdout went away. The CLI prints it as one line and exits 3
    (``EXIT_ENVIRONMENT``), so a CI job can tell it from bad input (2) and a failed check (1).

    ``path`` names what was being written or read ("stdout" for standard output), ``reason``
    what failed, in words (``no space left on device``)."""

    def __init__(self, path: object, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")

    def __reduce__(self) -> tuple[Any, ...]:
        # raised in a worker process, it reaches the parent as itself
        return (type(self), (self.path, self.reason))

    @classmethod
    def from_os_error(cls, path: object, exc: OSError) -> EnvironmentFailure:
        """The failure an ``OSError`` met while writing or reading ``path`` stands for."""
        return cls(path, (exc.strerror or str(exc)).lower())


ENVIRONMENT_ERRNOS = frozenset(
    getattr(errno, name)
    for name in ("ENOSPC", "EDQUOT", "EROFS", "EIO", "EFBIG", "EACCES", "EPERM", "EPIPE", "ENOMEM")
    if hasattr(errno, name)
)
"""What the machine did wrong, not the user's input: a full or read-only disk, a quota, a
failing device, a folder one may not write, a reader that went away."""


def os_failure(path: object, exc: OSError, doing: str = "") -> CostcalcError | EnvironmentFailure:
    """The error to raise for ``exc`` met while ``doing`` something to ``path``: an
    ``EnvironmentFailure`` (exit 3) when the machine failed, else bad input (a path under a
    file, a name too long: exit 2)."""
    reason = (exc.strerror or str(exc) or type(exc).__name__).lower()
    reason = f"{doing}: {reason}" if doing else reason
    if exc.errno in ENVIRONMENT_ERRNOS or isinstance(exc, TimeoutError):
        return EnvironmentFailure(path, reason)
    return InputFileError(path, reason)


class CostcalcWarning(UserWarning):
    """Something the user should know that does not stop the command (the CLI prints it on
    stderr as ``costcalc: warning: ...``). Fields it names are marked as an error's are
    (``arg``): Python names in ``str()``, flags on the command line."""

    def __init__(self, *args: object) -> None:
        super().__init__(*_keep_marks(self, args))

    @property
    def marked(self) -> str:
        """The message with the fields it names still marked (``CostcalcError.marked``)."""
        return getattr(self, "_marked", None) or str(self)


class CostcalcNote(CostcalcWarning):
    """Information, not a problem: what a command did not do, and why (the CLI prints it
    on stderr as ``costcalc: note: ...``)."""


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
        # unwrap Optional[...], list[...], tuple[..., ...], dict[str, ...] to a model class
        for _ in range(4):
            args = [a for a in typing.get_args(current) if a is not type(None) and a is not ...]
            if isinstance(current, type) and issubclass(current, BaseModel):
                break
            if not args:
                break
            current = args[-1]
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def quoted(text: str, limit: int = 60, *, keep_end: bool = False) -> str:
    """User text quoted in a message: in quotes, every character printable (control
    characters, NUL and undecodable bytes written as escapes, as ``repr`` does) and cut to
    about ``limit`` characters with an ellipsis, so an error stays one readable line.
    ``keep_end``: cut in the middle (``'abc…xyz'``), for names that differ at their end."""
    if len(text) <= limit:
        return repr(text)
    if keep_end:  # one repr of both halves, so they share its quotes
        tail = limit // 2
        return repr(text[: limit - tail] + "\u2026" + text[-tail:])
    out = repr(text[:limit])
    return out[:-1] + "..." + out[-1]


def printable(text: str, limit: int = 60, *, keep_end: bool = False) -> str:
    """User text in a report (a table, markdown): as it is when short and printable, else
    ``quoted``, so a name from a file cannot clear the screen or fill it."""
    if len(text) <= limit and text.isprintable():
        return text
    return quoted(text, limit, keep_end=keep_end)


def shown(value: Any) -> str:
    """A bad value as the user wrote it: 10.7, not Decimal('10.7'); text quoted and cut short."""
    from decimal import Decimal

    if isinstance(value, (Decimal, float)):
        return format(value, "f") if isinstance(value, Decimal) else repr(value)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return quoted(value)
    # reprlib stops after a few items and levels: a list aliased a billion times over (a YAML
    # "billion laughs") is shown in microseconds instead of filling memory
    text = _SHORT_REPR.repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _short_repr() -> reprlib.Repr:
    short = reprlib.Repr()
    short.maxlevel = 3
    short.maxdict = short.maxlist = short.maxtuple = short.maxset = short.maxfrozenset = 6
    short.maxstring = short.maxother = short.maxlong = 60
    return short


_SHORT_REPR = _short_repr()


def describe_error(err: Any, model: Any = None) -> str:
    """A short, plain message for one pydantic error."""
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    if kind == "missing":
        if tuple(err.get("loc", ()))[-1:] == ("output_tokens",):  # never assumed to be 0
            return "required field is missing (give 0 when nothing is generated, as for embeddings)"
        return "required field is missing"
    if kind == "extra_forbidden":
        loc = tuple(err.get("loc", ()))
        parent = _model_at(model, loc[:-1]) if model is not None and loc else None
        if parent is not None and loc and isinstance(loc[-1], str):
            allowed = list(parent.model_fields)
            import difflib  # only for a mistake: not at start-up

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
        return f"expected a number, got {shown(err.get('input'))}"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"expected a whole number, got {shown(err.get('input'))}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping of keys and values, got {shown(err.get('input'))}"
    if kind == "list_type":
        return f"expected a list, got {shown(err.get('input'))}"
    if kind == "string_type":
        return f"expected text, got {shown(err.get('input'))}"
    if kind in ("date_from_datetime_parsing", "date_parsing", "date_type"):
        return f"expected a date as YYYY-MM-DD, got {shown(err.get('input'))}"
    error = ctx.get("error")
    if isinstance(error, CostcalcError):  # raised by a validator: keep the fields it names
        msg = error.marked
    else:
        msg = str(err.get("msg", "invalid value"))
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
    return msg[:1].lower() + msg[1:]
