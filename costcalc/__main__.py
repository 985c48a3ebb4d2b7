"""The ``costcalc`` command (its console script, and ``python -m costcalc``).

The command producers run for each task or batch of tasks, ``queue add --db PATH [PROMPT
...]``, runs without click, whose import is a fifth of an add of 10,000 tasks
(bench/bench_queue.py), in the same process around it (``costcalc.console``); any other
command line, and any form of that one click reads otherwise (another option, ``--``, a
terminal on stdin, ...), goes to click (``costcalc.cli``).
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Sequence
from typing import NoReturn

from costcalc.console import (
    EXIT_OK,
    add_tasks,
    check_arguments,
    environment_failures,
    exit_for,
    flush_stdout,
    show_warning,
    standard_streams,
)
from costcalc.errors import CostcalcWarning


def main() -> None:
    """The ``costcalc`` command."""
    args = sys.argv[1:]
    plain = _plain_queue_add(args)
    if plain is not None:
        standard_streams()
        if plain[1] or not sys.stdin.isatty():  # a terminal: click says what to give
            _queue_add(args, *plain)
    from costcalc.cli import cli

    cli(prog_name="costcalc")


def _plain_queue_add(args: Sequence[str]) -> tuple[str, list[str]] | None:
    """(the database, the prompts) of ``queue add --db PATH [PROMPT ...]`` (``--db=PATH``,
    anywhere among the prompts, once, not empty) as click would read it; None for any other
    command line, which click reads (and refuses, or helps with)."""
    if args[:2] != ["queue", "add"]:
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
    try:
        check_arguments(args)
        with warnings.catch_warnings():
            warnings.simplefilter("always", CostcalcWarning)
            warnings.showwarning = show_warning
            with environment_failures():
                add_tasks(db, prompts)
        with environment_failures():
            flush_stdout()
    except (Exception, KeyboardInterrupt) as exc:
        exit_for(exc)
    sys.exit(EXIT_OK)


if __name__ == "__main__":
    main()
