"""The ``costcalc`` command: parse, call the library, render. No logic lives here.

Exit codes: 0 ok; 1 a check failed (budget, threshold, stale prices, invalid batch file);
2 bad input or usage; 3 the environment failed (disk full, read-only, permission, broken
pipe). Each failure is one line on stderr, never a traceback.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import click

from costcalc import _pydantic_plugins
from costcalc._version import __version__
from costcalc.errors import CostcalcError, CostcalcWarning, EnvironmentFailure

# costcalc's models use no pydantic plugins, and looking for them reads the metadata of every
# installed package (15 ms of each run); a user's own setting wins. Nothing above imports
# pydantic, so the stand-in for its plugin loader is in place before it is first asked.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
_pydantic_plugins.install()

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_CHECK_FAILED, EXIT_BAD_INPUT, EXIT_ENVIRONMENT = 0, 1, 2, 3


class CheckFailed(click.exceptions.Exit):
    """A check ran and failed: exit 1 after the report is written."""

    def __init__(self) -> None:
        super().__init__(EXIT_CHECK_FAILED)


def prices_option(func: F) -> F:
    """``--prices FILE`` (repeatable): user price files on top of the shipped table."""
    return click.option(
        "--prices",
        "price_files",
        multiple=True,
        type=click.Path(dir_okay=True),
        metavar="FILE",
        help="Extra price file (repeatable); adds or replaces providers and models. "
        "Also read from $COSTCALC_PRICES.",
    )(func)


seed_option = click.option(
    "--seed",
    type=click.IntRange(min=0),
    help="Seed for --sample (printed, so a sample can be redrawn).",
)
"""``--seed N`` for commands that take ``--sample``."""


def format_option(*choices: str, default: str = "table") -> Callable[[F], F]:
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(choices),
        default=default,
        show_default=True,
        help="Output format.",
    )


@contextlib.contextmanager
def progress_bar(files: Sequence[str]) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on stderr when it is a terminal and the inputs have sizes; else quiet."""
    if not sys.stderr.isatty() or any(f == "-" for f in files):
        yield None
        return
    try:
        total = sum(os.path.getsize(f) for f in files)
    except OSError:
        yield None
        return
    with click.progressbar(length=total, file=sys.stderr, label="counting") as bar:
        yield bar.update


def emit(text: str) -> None:
    """Write data to stdout (chatter goes to stderr)."""
    click.echo(text, nl=False)


def emit_result(result: Any, fmt: str, **options: Any) -> None:
    """Write a result in the chosen format (costcalc.render): its text to stdout, and the
    notes the format has no room for to stderr, in order."""
    from costcalc.results import Note, render_parts

    for part in render_parts(result, fmt, **options):
        click.echo(part, nl=False, err=isinstance(part, Note))


def emit_quote(report: Any, fmt: str, **options: Any) -> None:
    """Write a QuoteReport in the chosen format."""
    emit_result(report, fmt, **options)


def write_or_emit(text: str, out: str | None, force: bool) -> None:
    if out is None:
        emit(text)
    else:
        from costcalc.atomic import write_file

        write_file(out, text, force)


COMMANDS = {
    "exercise": "costcalc.commands.quote:exercise",
    "quote": "costcalc.commands.quote:quote",
    "tokens": "costcalc.commands.tokens:tokens",
    "route": "costcalc.commands.route:route",
    "batch": "costcalc.commands.batch:batch",
    "queue": "costcalc.commands.queue:queue",
    "check": "costcalc.commands.budget:check",
    "diff": "costcalc.commands.budget:diff",
    "prices": "costcalc.commands.prices:prices",
}
"""Each command lives in its own module, imported only when it runs (or for --help): a
command's options cost start-up time, and a quote is run in loops."""


class CostcalcGroup(click.Group):
    """Loads commands on first use, and turns a ``CostcalcError`` from any of them into one
    line on stderr and exit 2, naming fields by their flags (``costcalc.commands.flags``)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module, _, attr = target.partition(":")
        command = getattr(importlib.import_module(module), attr)
        assert isinstance(command, click.Command)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("always", CostcalcWarning)
            warnings.showwarning = _show_warning
            try:
                return super().invoke(ctx)
            except CostcalcError as exc:
                from costcalc.commands.flags import on_command_line

                # the fields it names as their flags; one line, whatever the message quotes
                # from the input (a CSV header, a value)
                message = " ".join(on_command_line(exc).split("\n"))
                click.echo(f"costcalc: error: {message}", err=True)
                raise click.exceptions.Exit(EXIT_BAD_INPUT) from None
            except EnvironmentFailure as exc:
                click.echo(f"costcalc: error: {exc}", err=True)
                raise click.exceptions.Exit(EXIT_ENVIRONMENT) from None

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """As click's, but a usage error is one line too: ``costcalc: error: ...``, exit 2."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except click.UsageError as exc:
            where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
            click.echo(f"costcalc: error: {exc.format_message()}{where}", err=True)
            sys.exit(EXIT_BAD_INPUT)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("costcalc: aborted", err=True)
            sys.exit(130)
        sys.exit(code if isinstance(code, int) else EXIT_OK)


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    click.echo(f"costcalc: warning: {message}", err=True)


@click.group(cls=CostcalcGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="costcalc")
def cli() -> None:
    """What an LLM API workload costs under each delivery mode, and how long it takes.

    Prices are dated and sourced (costcalc prices), tokens are counted offline, and every
    figure can be recomputed by hand from the price table and the inputs.
    """
