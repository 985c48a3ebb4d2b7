"""`costcalc queue`: the SQLite queue that gathers tasks into one batch file a day."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

import costcalc
from costcalc.cli import (
    PathType,
    add_tasks,
    emit_result,
    format_option,
    prices_option,
)

F = TypeVar("F", bound=Callable[..., Any])


def db_option(func: F) -> F:
    """``--db PATH``: the queue database."""
    # readable=False: a database this user may not open is the environment's failure (exit 3,
    # as SQLite's error says it), not a usage error; queue add's own path says the same
    return click.option(
        "--db", required=True, type=PathType(readable=False), help="Queue database (SQLite)."
    )(func)


@click.group()
def queue() -> None:
    """A SQLite queue that gathers small tasks into one batch file a day (run flush from cron).

    \b
    Examples:
        costcalc queue add --db queue.db "Summarise ticket 4411"
        costcalc queue status --db queue.db
        costcalc queue flush --db queue.db --out batches -m gpt-4o-mini
    """


@queue.command("add")
@click.argument("prompts", nargs=-1)
@db_option
def queue_add(prompts: tuple[str, ...], db: str) -> None:
    """Add tasks: each PROMPT argument, or JSONL on stdin (a string, or an object with prompt
    or messages, optionally system and custom_id), in transactions of 10,000. Prints each
    transaction's custom_ids once it is on disk.

    \b
    Examples:
        costcalc queue add --db queue.db "Summarise ticket 4411" "Summarise ticket 4412"
        jq -c '{custom_id: .id, prompt: .text}' tickets.jsonl | costcalc queue add --db queue.db
    """

    if not prompts and sys.stdin.isatty():
        raise click.UsageError("give prompts as arguments, or JSONL on stdin")
    # the console script runs this form without click (costcalc.__main__), sharing add_tasks
    add_tasks(db, prompts)


@queue.command("flush")
@db_option
@click.option(
    "--out", "out_dir", required=True, type=PathType(), help="Folder for the batch files."
)
@click.option("-m", "--model", required=True, help="Model of the batch.")
@click.option(
    "--max-tokens",
    type=int,
    default=1024,
    show_default=True,
    help="Output limit per request (max_tokens in each request of the batch).",
)
@click.option("--system", metavar="TEXT", help="System prompt for tasks that give none.")
@click.option(
    "--max-requests", type=int, metavar="N", help="Requests per file [default: provider's]."
)
@click.option("--max-bytes", type=int, metavar="N", help="Bytes per file [default: provider's].")
@format_option("plain", "json", default="plain")
@prices_option
def queue_flush(
    db: str, out_dir: str, model: str, max_tokens: int, system: str | None,
    max_requests: int | None, max_bytes: int | None, fmt: str, price_files: tuple[str, ...],
) -> None:  # fmt: skip
    """Write every pending task into batch file(s), crash-safely; prints the files written.

    \b
    Examples:
        costcalc queue flush --db queue.db --out batches/ -m gpt-4o-mini
        costcalc queue flush --db queue.db --out batches/ -m gpt-4o --max-requests 10000
    """

    results = costcalc.queue_flush(
        db, out_dir, model, max_tokens=max_tokens, system=system, max_requests=max_requests,
        max_bytes=max_bytes, table=costcalc.load_price_table(price_files),
    )  # fmt: skip
    emit_result(results, fmt, of="FlushResult")


@queue.command("status")
@db_option
@format_option("table", "json")
def queue_status(db: str, fmt: str) -> None:
    """Pending and flushed tasks, and the last flushes.

    \b
    Examples:
        costcalc queue status --db queue.db
        costcalc queue status --db queue.db --format json
    """

    report = costcalc.queue_status(db)
    emit_result(report, fmt)
