"""The ``costcalc`` command (its console script, and ``python -m costcalc``).

The command producers run for each task or batch of tasks, ``queue add --db PATH [PROMPT
...]``, runs without click, whose import is a fifth of an add of 10,000 tasks
(bench/bench_queue.py), in the same process around it (``costcalc.console``); any other
command line, and any form of that one click reads otherwise (another option, ``--``, a
terminal on stdin, ...), goes to click (``costcalc.cli``).
"""

from __future__ import annotations

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
    cli(prog_name="costcalc")


def _interrupted() -> NoReturn:
    """Ctrl-C while costcalc loads, before a command's own handling is in place: said as
    it says it there, exit 130, never a traceback."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        sys.stderr.write("costcalc: interrupted\n")
        sys.stderr.flush()
    sys.exit(EXIT_INTERRUPTED)


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
