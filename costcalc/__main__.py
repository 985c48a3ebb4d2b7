"""The ``costcalc`` command (its console script, and ``python -m costcalc``).

The command producers run for each task or batch of tasks, ``queue add --db PATH [PROMPT
...]``, runs without click, whose import is a fifth of an add of 10,000 tasks
(bench/bench_queue.py), in the same process around it (``costcalc.console``); any other
command line, and any form of that one click reads otherwise (another option, ``--``, a
terminal on stdin, ...), goes to click (``costcalc.cli``).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

COMPLETE_ENV = "_COSTCALC_COMPLETE"
"""click's shell-completion request (its script, not a command, is printed): click's to do."""
EXIT_INTERRUPTED = 130  # costcalc.console's, known before it is imported


def main() -> None:
    """The ``costcalc`` command."""
    try:
        args = sys.argv[1:]
        plain = _plain_queue_add(args)
        if plain is not None:
            from costcalc.console import standard_streams

            standard_streams()
            if plain[1] or not sys.stdin.isatty():  # a terminal: click says what to give
                _queue_add(args, *plain)
        from costcalc.cli import cli
    except KeyboardInterrupt:
        _interrupted()
    try:
        cli(prog_name="costcalc")
    except SystemExit as done:
        _exit_now(done)


def _interrupted() -> NoReturn:
    """Ctrl-C while costcalc loads, before a command's own handling is in place: said as
    it says it there, exit 130, never a traceback."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        sys.stderr.write("costcalc: interrupted\n")
        sys.stderr.flush()
    sys.exit(EXIT_INTERRUPTED)


def _exit_now(done: SystemExit) -> NoReturn:
    """Exit as ``done`` says, without the interpreter freeing every object first: a tenth
    of a second once a tokenizer is built (its 200,000 ranks, in Python and in tiktoken, are
    freed one by one), a fifth of a sampled count. What a command wrote is flushed and
    atexit's handlers run, as at any exit. Where more could be pending (another thread a
    normal exit would wait for, an SQLite database whose write-ahead log is folded back in
    when it is closed, a code that is not a number), the normal exit runs."""
    code = done.code
    threading = sys.modules.get("threading")
    run_exit_handlers = getattr(atexit, "_run_exitfuncs", None)
    if (
        (code is not None and type(code) is not int)
        or (threading is not None and threading.active_count() > 1)
        or "sqlite3" in sys.modules
        or run_exit_handlers is None
    ):
        raise done
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):
        raise done from None  # the normal exit says what it always said
    run_exit_handlers()
    os._exit(code or 0)


def _plain_queue_add(args: Sequence[str]) -> tuple[str, list[str]] | None:
    """(the database, the prompts) of ``queue add --db PATH [PROMPT ...]`` (``--db=PATH``,
    anywhere among the prompts, once, not empty) as click would read it; None for any other
    command line, which click reads (and refuses, or helps with)."""
    if args[:2] != ["queue", "add"] or COMPLETE_ENV in os.environ:
        return None
    db: str | None = None
    prompts = []
    rest = iter(args[2:])
    for arg in rest:
        if arg == "--db" or arg.startswith("--db="):
            value = arg[5:] if arg.startswith("--db=") else next(rest, "")
            if db is not None or not value:
                return None
            db = value
        elif arg.startswith("-"):
            return None
        else:
            prompts.append(arg)
    return None if db is None else (db, prompts)


def _queue_add(args: Sequence[str], db: str, prompts: list[str]) -> NoReturn:
    """``costcalc queue add``, as ``costcalc.cli`` runs it (``commands.queue``), without
    click."""
    from costcalc.console import (
        EXIT_OK,
        add_tasks,
        check_arguments,
        environment_failures,
        exit_for,
        flush_stdout,
        warnings_said,
    )

    try:
        check_arguments(args)
        with warnings_said(), environment_failures():
            add_tasks(db, prompts)
        with environment_failures():
            flush_stdout()
    except (Exception, KeyboardInterrupt) as exc:
        exit_for(exc)
    sys.exit(EXIT_OK)


if __name__ == "__main__":
    main()
