"""The ``costcalc`` command: parse, call the library, render. No logic lives here.

Exit codes (README.md's "Exit codes" says the same):

- 0 ok;
- 1 a check failed (budget, threshold, stale prices, invalid batch file);
- 2 bad input or usage (an input file that cannot be read, too);
- 3 the environment failed: disk full, read-only, permission denied, a database or disk I/O
  error, stdout that cannot be written (``costcalc: error: stdout: no space left on
  device``), a file or folder that cannot be written. A closed pipe (``costcalc ... | head
  -1``) is one too, but quiet: the reader asked for no more, so nothing is printed; the exit
  status is still 3 (not 1, a failed check; not 0, the output was not all written), as a
  shell's ``pipefail`` sees 141 from other tools;
- 4 an internal error, a bug in costcalc: one line asking for a report
  (``COSTCALC_DEBUG=1`` shows the traceback);
- 130 interrupted (Ctrl-C).

Each failure is one line on stderr, never a traceback.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import click

from costcalc import _pydantic_plugins
from costcalc._version import __version__

# the process around every command (streams, failures and their exit codes, warnings) is
# click-free, in costcalc.console; the command modules and the tests import these from here
from costcalc.console import DEBUG_ENV as DEBUG_ENV
from costcalc.console import EXIT_BAD_INPUT as EXIT_BAD_INPUT
from costcalc.console import EXIT_CHECK_FAILED as EXIT_CHECK_FAILED
from costcalc.console import EXIT_ENVIRONMENT as EXIT_ENVIRONMENT
from costcalc.console import EXIT_INTERNAL as EXIT_INTERNAL
from costcalc.console import EXIT_INTERRUPTED as EXIT_INTERRUPTED
from costcalc.console import EXIT_OK as EXIT_OK
from costcalc.console import StdoutClosed as StdoutClosed
from costcalc.console import add_tasks as add_tasks
from costcalc.console import (
    check_arguments,
    environment_failures,
    exit_for,
    flush_stdout,
    say,
    say_bad_input,
    standard_streams,
    warnings_said,
)
from costcalc.console import emit as emit
from costcalc.errors import CostcalcError, cut_long_values, printable_line

# costcalc's models use no pydantic plugins, and looking for them reads the metadata of every
# installed package (15 ms of each run); a user's own setting wins. Nothing above imports
# pydantic, so the stand-in for its plugin loader is in place before it is first asked.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
_pydantic_plugins.install()

F = TypeVar("F", bound=Callable[..., Any])


class CheckFailed(click.exceptions.Exit):
    """A check ran and failed: exit 1 after the report is written."""

    def __init__(self) -> None:
        super().__init__(EXIT_CHECK_FAILED)


class PathType(click.Path):
    """click's Path, refusing an empty one by name (``--db ""`` was read as the folder "."
    and ``tokens ""`` as a file without a name)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and not value:
            self.fail("an empty path: give a file or folder name", param, ctx)
        return super().convert(value, param, ctx)


def prices_option(func: F) -> F:
    """``--prices FILE`` (repeatable): user price files on top of the shipped table."""
    return click.option(
        "--prices",
        "price_files",
        multiple=True,
        type=PathType(dir_okay=True),
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


def emit_result(result: Any, fmt: str, **options: Any) -> None:
    """Write a result in the chosen format (costcalc.render): its text to stdout, and the
    notes the format has no room for to stderr, in order."""
    from costcalc.results import Note, render_parts

    written = False
    for part in render_parts(result, fmt, **options):
        if isinstance(part, Note):
            if written:  # the text before it is out (or its failure is the one line said)
                flush_stdout()
                written = False
            say(part, nl=False)
        else:
            emit(part)
            written = True


def emit_quote(report: Any, fmt: str, **options: Any) -> None:
    """Write a QuoteReport in the chosen format."""
    emit_result(report, fmt, **options)


def out_is_no_input(out: str | None, inputs: Sequence[str | None], what: str = "--out") -> None:
    """An output (``what``: ``--out``, ``--summary``, ``$GITHUB_OUTPUT``) naming one of the
    command's input files would replace it, or append to it, with the report (``check
    costcalc.yaml --out costcalc.yaml --force``): refused before any work."""
    from costcalc.atomic import input_at

    if out is not None and (given := input_at(out, inputs)) is not None:
        raise click.UsageError(
            f"{what} {out}: is the input {given}; write the report to another file"
        )


def read_price_files(price_files: Sequence[str]) -> list[str]:
    """The price files a command reads: ``--prices`` and ``$COSTCALC_PRICES`` (which no
    output may replace, as no input config may be)."""
    from costcalc.userdata import override_paths_from_env

    return [*price_files, *override_paths_from_env()]


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
    "gate": "costcalc.commands.gate:gate",
    "audit": "costcalc.commands.audit:audit",
    "prices": "costcalc.commands.prices:prices",
}
"""Each command lives in its own module, imported only when it runs (or for its own --help):
a command's options cost start-up time, and a quote is run in loops."""

SUMMARIES = {
    "exercise": "The lesson's Batch Budgeter: 1M rows at GPT-4o's flat $15 per 1M tokens, "
    "standard against batch, and whether the saving is worth the 24-hour wait; then the same "
    "job at today's gpt-4o list prices. Every assumption is printed.",
    "quote": "Price a workload under every delivery mode: cost, time, savings against the "
    "wait, and a recommendation.",
    "tokens": "Count input tokens offline: text, chat messages, JSONL batch files, CSV exports.",
    "route": "Route a request to a delivery mode by its source and deadline.",
    "batch": "Batch files ready to upload: build, validate, quote, reconcile.",
    "queue": "A SQLite queue that gathers small tasks into one batch file a day (run flush "
    "from cron).",
    "check": "Check a project's LLM budgets and policies: exit 0 when all hold, 1 when any fails.",
    "diff": "Monthly LLM cost of HEAD against BASE, each a config file or REF:PATH.",
    "gate": "Gate a pull request on its LLM costs: check each CONFIG (default costcalc.yaml; "
    "globs such as 'services/*/costcalc.yaml' are expanded) and compare it with --base.",
    "audit": "Audit recorded traffic (OpenTelemetry spans, OpenAI usage exports, LiteLLM spend "
    "logs): what each stream cost, where the routing policy would send it, and what batch or "
    "flex would save a month.",
    "prices": "The dated price table: list, show, validate, check staleness, print the schema, "
    "update it from newer data, audit it against genai-prices or LiteLLM.",
}
"""The first paragraph of each command's help, for ``costcalc --help``'s list, so that listing
the commands imports none of them (two import pydantic's models: 0.88x a whole quote's time).
tests/test_startup.py checks that each is its command's own first paragraph."""


class CostcalcGroup(click.Group):
    """Loads commands on first use, and turns every failure into one line on stderr and its
    exit code (the module's docstring): a ``CostcalcError`` exit 2, naming fields by their
    flags (``costcalc.commands.flags``), an ``EnvironmentFailure`` exit 3, an ``OSError`` as
    ``errors.os_failure`` classes it."""

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

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """click's list, from ``SUMMARIES``: the commands are not imported to print it."""
        listed = click.Group(commands=dict(self.commands))
        for name in COMMANDS.keys() - self.commands.keys():
            listed.add_command(click.Command(name, help=SUMMARIES[name]))
        listed.format_commands(ctx, formatter)

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        # --help and --version write here, outside invoke: the same stdout failures
        with environment_failures():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        with warnings_said():
            try:
                with environment_failures():
                    return super().invoke(ctx)
            except KeyboardInterrupt:
                # click would print an empty line first: main says it in one
                raise click.Abort() from None
            except CostcalcError as exc:
                say_bad_input(exc)
                raise click.exceptions.Exit(EXIT_BAD_INPUT) from None

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """As click's, but every failure is one line and its exit code (the module's
        docstring): a usage error ``costcalc: error: ...`` and 2, stdout that cannot be
        written 3 (a closed pipe quietly), an unexpected exception 4, Ctrl-C 130."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        standard_streams()
        try:
            check_arguments(sys.argv[1:] if args is None else args)
            code = super().main(args, prog_name, complete_var, False, **extra)
            # what is still buffered is written now, while a failure can be reported
            with environment_failures():
                flush_stdout()
        except click.UsageError as exc:
            where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
            message = printable_line(cut_long_values(exc.format_message()))
            say(f"costcalc: error: {message}{where}")
            sys.exit(EXIT_BAD_INPUT)
        except click.ClickException as exc:
            with contextlib.suppress(OSError):
                exc.show()
            sys.exit(exc.exit_code)
        except click.Abort:
            exit_for(KeyboardInterrupt())
        except (Exception, KeyboardInterrupt) as exc:
            exit_for(exc)
        sys.exit(code if isinstance(code, int) else EXIT_OK)


@click.group(cls=CostcalcGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="costcalc")
def cli() -> None:
    """What an LLM API workload costs under each delivery mode, and how long it takes.

    Prices are dated and sourced (costcalc prices), tokens are counted offline, and every
    figure can be recomputed by hand from the price table and the inputs.
    """
