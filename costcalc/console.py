"""The process around every command, without click: the standard streams a command was
started without, its arguments checked, stdout written and flushed with failures named, one
line on stderr for each failure and its exit code (``costcalc.cli``'s docstring lists them),
warnings said once. ``costcalc.cli`` parses the command line with click inside it;
``costcalc.__main__`` runs ``queue add`` in it without click.
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import io
import os
import sys
import warnings
from collections.abc import Iterator, Sequence
from typing import Any, NoReturn

from costcalc.errors import (
    CostcalcError,
    CostcalcNote,
    CostcalcWarning,
    EnvironmentFailure,
    cut_long_values,
    os_failure,
    printable_line,
)

EXIT_OK, EXIT_CHECK_FAILED, EXIT_BAD_INPUT, EXIT_ENVIRONMENT, EXIT_INTERNAL = 0, 1, 2, 3, 4
EXIT_INTERRUPTED = 130
DEBUG_ENV = "COSTCALC_DEBUG"
"""Set to 1 for the traceback of an internal error instead of its one line."""


def add_tasks(db: str, prompts: Sequence[str]) -> None:
    """Add the prompts, or with none the JSONL tasks on stdin, to the queue at ``db``,
    printing each transaction's custom_ids once it is on disk."""
    import costcalc

    tasks = prompts or costcalc.queue_tasks(sys.stdin.buffer)
    # streamed: each transaction's ids are printed once it is on disk, before the next is read
    for ids in costcalc.queue_add_in_transactions(db, tasks):
        # an id holds only letters, digits, _ and - (every batch format's rule): nothing
        # for click to strip or encode
        emit("".join(cid + "\n" for cid in ids), plain=True)


def exit_for(exc: BaseException) -> NoReturn:
    """The exit of a command that raised ``exc``: one line on stderr (none for a closed
    pipe) and the exit code; an exception costcalc did not expect is an internal error (the
    traceback with ``COSTCALC_DEBUG=1``)."""
    if isinstance(exc, CostcalcError):
        say_bad_input(exc)
        sys.exit(EXIT_BAD_INPUT)
    if isinstance(exc, KeyboardInterrupt):
        say("costcalc: interrupted")
        _silence(sys.stdout)
        sys.exit(EXIT_INTERRUPTED)
    if isinstance(exc, StdoutClosed):
        _silence(sys.stdout)
        sys.exit(EXIT_ENVIRONMENT)
    if isinstance(exc, EnvironmentFailure):
        say(f"costcalc: error: {printable_line(cut_long_values(str(exc)))}")
        if exc.path == "stdout":
            _silence(sys.stdout)
        sys.exit(EXIT_ENVIRONMENT)
    if os.environ.get(DEBUG_ENV, "") not in ("", "0"):
        raise exc
    text = " ".join(str(exc).split())
    text = printable_line(text[:300])
    text += "..." if len(str(exc)) > 300 else ""
    say(
        f"costcalc: internal error: {type(exc).__name__}: {text} (please report it, "
        f"with the command that caused it; {DEBUG_ENV}=1 shows the traceback)"
    )
    sys.exit(EXIT_INTERNAL)


def say_bad_input(exc: CostcalcError) -> None:
    from costcalc.commands.flags import on_command_line

    # the fields it names as their flags; one line, whatever the message quotes from the
    # input (a CSV header, a value)
    say(f"costcalc: error: {printable_line(on_command_line(exc))}")


def show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    from costcalc.commands.flags import on_command_line

    kind = "note" if issubclass(category, CostcalcNote) else "warning"
    text = on_command_line(message) if isinstance(message, CostcalcWarning) else str(message)
    said = f"costcalc: {kind}: {printable_line(text)}"
    # a warning once a run (diff prices both sides: a retired model warned twice); a note
    # tells of one event each (an id already queued, line after line)
    if kind == "note" or said not in SAID:
        SAID.add(said)
        say(said)


SAID: set[str] = set()
"""The warnings said in this run (``show_warning``)."""


@contextlib.contextmanager
def warnings_said() -> Iterator[None]:
    """A command's warnings said on stderr as ``show_warning`` says them: each warning once
    in the command (a planning script runs several), each note every time."""
    SAID.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("always", CostcalcWarning)
        warnings.showwarning = show_warning
        yield


class StdoutClosed(Exception):
    """The reader of stdout went away (``| head``): stop quietly. Not an ``OSError``, so
    click's own handling of a broken pipe (exit 1, which means "a check failed") stays out."""


def emit(text: str, *, plain: bool = False) -> None:
    """Write data to stdout now (chatter goes to stderr); a failure is the environment's
    (exit 3), named stdout. ``plain``: text with nothing click's echo would strip (terminal
    styles) or encode otherwise, written without it."""
    if sys.stdout is None:  # started with stdout closed (>&-): click would drop the text
        raise EnvironmentFailure("stdout", "is closed")
    try:
        raw = getattr(sys.stdout, "buffer", None)
        if isinstance(raw, io.RawIOBase) and os.linesep == "\n":
            _write_all(raw, text.encode(sys.stdout.encoding, sys.stdout.errors or "strict"))
        elif plain:
            sys.stdout.write(text)
            sys.stdout.flush()
        else:
            import click  # imported already (queue add's own path writes plain text only)

            click.echo(text, nl=False)
    except OSError as exc:
        raise _stdout_failure(exc) from None


def _write_all(raw: io.RawIOBase, data: bytes) -> None:
    """Unbuffered stdout (``python -u``, ``PYTHONUNBUFFERED``) writes straight to the file,
    and a text stream drops what a short write left over (a full disk, a reader that went
    away): write the rest until it is all out or the error shows."""
    sys.stdout.flush()
    view = memoryview(data)
    while view:
        written = raw.write(view)
        if written is None:  # a non-blocking stdout that is full: wait until it drains
            import select

            select.select([], [raw], [])
            continue
        view = view[written:]


def _stdout_failure(exc: OSError) -> Exception:
    if exc.errno == errno.EPIPE:
        return StdoutClosed()
    return EnvironmentFailure.from_os_error("stdout", exc)


def flush_stdout() -> None:
    """Write out what stdout holds; a failure is the environment's (exit 3), named stdout."""
    if sys.stdout is None:
        return
    try:
        sys.stdout.flush()
    except OSError as exc:
        raise _stdout_failure(exc) from None


class _ClosedStdin(io.RawIOBase):
    """Stands for a stdin the process was started without (``<&-``): reading it is an
    error that names it, where Python would have left None to crash on."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        raise OSError(errno.EBADF, "is closed (the command was started without it)", "stdin")


def standard_streams() -> None:
    """Stand-ins for the standard streams a command was started without (cron and daemons
    close them): stderr the null device (what it would say is lost; the exit code tells),
    stdin ``_ClosedStdin``. A stream that cannot encode every character (an ASCII locale,
    ``PYTHONIOENCODING=ascii``) writes a replacement rather than fail on a name or a dot."""
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - for good
    if sys.stdin is None:
        sys.stdin = io.TextIOWrapper(io.BufferedReader(_ClosedStdin()), encoding="utf-8")
    for stream in (sys.stdout, sys.stderr):
        if (
            isinstance(stream, io.TextIOWrapper)
            and stream.errors == "strict"
            and codecs.lookup(stream.encoding).name != "utf-8"
        ):
            stream.reconfigure(errors="replace")


@contextlib.contextmanager
def environment_failures() -> Iterator[None]:
    """An ``OSError`` that reaches the command line becomes costcalc's error for it
    (``errors.os_failure``: the machine's failure, exit 3, or bad input, exit 2) naming its
    path, stdout or stderr when click was writing them; a closed pipe ``StdoutClosed``."""
    try:
        yield
    except OSError as exc:
        if exc.errno == errno.EPIPE:
            raise StdoutClosed() from None
        stream = None if exc.filename is not None else _echoed_to(exc)
        if stream is None:
            raise os_failure(exc.filename or "(a file it does not name)", exc) from None
        if stream == "stderr":  # nothing can be said: exit 3 quietly
            _silence(sys.stderr)
        raise EnvironmentFailure.from_os_error(stream, exc) from None


def _echoed_to(exc: OSError) -> str | None:
    """ "stdout" or "stderr" when ``exc`` was raised writing it with ``click.echo`` (as click
    writes ``--help`` and ``--version``, and notes go to stderr): the error does not say."""
    click = sys.modules.get("click")
    if click is None:  # not imported (``queue add``'s own path): nothing was echoed
        return None
    tb = exc.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_code is click.echo.__code__:
            return "stderr" if frame.f_locals.get("err") else "stdout"
        tb = tb.tb_next
    return None


def check_arguments(args: Sequence[str]) -> None:
    """Arguments are UTF-8 text without NUL bytes: no path or value holds a NUL, and bytes
    that are not UTF-8 (a lone surrogate once decoded) can be neither written to a batch
    file nor printed."""
    from costcalc.errors import UsageError, quoted

    for number, arg in enumerate(args, start=1):
        if "\x00" in arg:
            raise UsageError(f"argument {number} ({quoted(arg)}) holds a NUL byte")
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            raise UsageError(f"argument {number} ({quoted(arg)}) is not valid UTF-8 text") from None


def say(line: str, nl: bool = True) -> None:
    """A line on stderr; when stderr cannot be written, it is not said (chatter and the
    failures have nowhere else to go, and the exit code still tells). In GitHub Actions the
    runner reads ``##[command]`` anywhere in a line of stderr too: text from a config (a
    workload's name) is broken there with a zero-width space, so it cannot issue one."""
    if "##[" in line and os.environ.get("GITHUB_ACTIONS") == "true":
        line = line.replace("##[", "#\u200b#[")
    import click  # imported already, but by queue add's own path (a note, an error)

    try:
        click.echo(line, nl=nl, err=True)
    except OSError:
        _silence(sys.stderr)


def _silence(stream: Any) -> None:
    """Send what is left of a failed stream to the null device, so that the interpreter's
    flush at exit does not fail again and print a traceback (the recipe of the Python docs'
    note on SIGPIPE)."""
    try:
        fd = stream.fileno()
    except (OSError, ValueError, AttributeError):  # not a real file (tests' CliRunner)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)
