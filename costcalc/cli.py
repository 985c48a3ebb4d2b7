"""The ``costcalc`` command: parse, call the library, render. No logic lives here.

Exit codes: 0 ok; 1 a check failed (budget, threshold, stale prices, invalid batch file);
2 bad input or usage. Bad input is one line on stderr, never a traceback.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import click

# costcalc's models use no pydantic plugins, and looking for them reads the metadata of every
# installed package (15 ms of each run); a user's own setting wins.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from costcalc._version import __version__
from costcalc.errors import CostcalcError, CostcalcWarning

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_CHECK_FAILED, EXIT_BAD_INPUT = 0, 1, 2


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


class CostcalcGroup(click.Group):
    """Turns a ``CostcalcError`` from any subcommand into one line on stderr and exit 2."""

    def invoke(self, ctx: click.Context) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("always", CostcalcWarning)
            warnings.showwarning = _show_warning
            try:
                return super().invoke(ctx)
            except CostcalcError as exc:
                click.echo(f"costcalc: error: {exc}", err=True)
                raise click.exceptions.Exit(EXIT_BAD_INPUT) from None

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


# --- prices ---------------------------------------------------------------------------------


@cli.group()
def prices() -> None:
    """The dated price table: list, show, validate, check staleness, print the schema."""


@prices.command("list")
@click.option("--provider", help="Only this provider (openai, anthropic, google, ...).")
@click.option("--as-of", "as_of", metavar="DATE", help="Prices in effect on DATE (YYYY-MM-DD).")
@format_option("table", "json", "csv")
@prices_option
def prices_list(
    provider: str | None, as_of: str | None, fmt: str, price_files: tuple[str, ...]
) -> None:
    """List every model with its standard and batch prices (USD per 1M tokens).

    \b
    Example:
        costcalc prices list --provider anthropic
        costcalc prices list --format csv > prices.csv
    """
    from costcalc import render
    from costcalc.prices import load_price_table, price_list

    result = price_list(load_price_table(price_files), provider, as_of)
    if fmt == "json":
        emit(render.to_json(result))
    elif fmt == "csv":
        emit(render.price_list_csv(result))
    else:
        emit(render.price_list_table(result))


@prices.command("show")
@click.argument("model")
@click.option("--as-of", "as_of", metavar="DATE", help="Prices in effect on DATE (YYYY-MM-DD).")
@format_option("table", "json")
@prices_option
def prices_show(model: str, as_of: str | None, fmt: str, price_files: tuple[str, ...]) -> None:
    """Show every price of MODEL: standard, cached, cache writes, batch, flex, priority and
    long-context tiers, each marked published or assumed.

    \b
    Example:
        costcalc prices show gpt-4o
        costcalc prices show o3 --as-of 2025-06-01 --format json
    """
    from costcalc import render
    from costcalc.prices import load_price_table, price_sheet

    sheet = price_sheet(load_price_table(price_files), model, as_of)
    emit(render.to_json(sheet) if fmt == "json" else render.price_sheet_table(sheet))


@prices.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path())
def prices_validate(files: tuple[str, ...]) -> None:
    """Check price files (shipped or your own): exit 0 when all are valid, 2 otherwise.

    Each file is checked on its own and merged over the shipped table, so a name that
    clashes with a shipped model is reported too.
    """
    from costcalc.prices import validate_price_file

    bad = 0
    for f in files:
        try:
            summary = validate_price_file(f)
        except CostcalcError as exc:
            bad += 1
            click.echo(f"costcalc: error: {exc}", err=True)
        else:
            click.echo(f"ok: {f}: {summary}")
    if bad:
        raise click.exceptions.Exit(EXIT_BAD_INPUT)


@prices.command("stale")
@click.option(
    "--days", default=90, show_default=True, type=click.IntRange(min=0), help="Allowed age."
)
@format_option("table", "json")
@prices_option
def prices_stale(days: int, fmt: str, price_files: tuple[str, ...]) -> None:
    """Exit 1 when any model's prices were last checked more than DAYS days ago (for CI)."""
    from costcalc import render
    from costcalc.prices import load_price_table, stale_report

    report = stale_report(load_price_table(price_files), days)
    emit(render.to_json(report) if fmt == "json" else render.stale_table(report))
    if report.stale:
        raise CheckFailed()


@prices.command("compile", hidden=True)
def prices_compile() -> None:
    """For maintainers: write pricing/compiled.json from the YAML files (fast start-up)."""
    from costcalc.atomic import write_file
    from costcalc.prices import COMPILED, builtin_pricing_dir, compile_price_table

    target = builtin_pricing_dir() / COMPILED
    write_file(target, compile_price_table(), force=True)
    click.echo(f"wrote {target}", err=True)


@prices.command("schema")
def prices_schema() -> None:
    """Print the JSON Schema of a price file (the shipped pricing/schema.json)."""
    from costcalc.prices import price_schema

    emit(json.dumps(price_schema(), indent=2) + "\n")


# --- tokens ---------------------------------------------------------------------------------


@cli.command()
@click.argument("files", nargs=-1, type=click.Path(allow_dash=True))
@click.option("-t", "--text", help="Count this text instead of files.")
@click.option(
    "-m",
    "--model",
    help="Model whose tokenizer to use [default: gpt-4o, or the model named in a batch file].",
)
@click.option(
    "--messages",
    is_flag=True,
    help="The input is chat messages (JSON or JSONL): count with the chat overhead.",
)
@click.option(
    "--field", metavar="A.B.C", help="JSON field holding each request's text or messages."
)
@click.option("--column", metavar="NAME", help="CSV column holding each request's text.")
@click.option(
    "--template",
    metavar="TEXT",
    help='Build each request from CSV columns, e.g. "Summarise: {text}".',
)
@click.option(
    "--input-format",
    type=click.Choice(["text", "jsonl", "json", "csv"]),
    help="Override the format guessed from the file name.",
)
@click.option(
    "--sample",
    type=int,
    metavar="N",
    help="Count a random sample of N requests and estimate the total (95% interval).",
)
@click.option("--seed", type=int, help="Seed for --sample (printed, so a sample can be redrawn).")
@click.option("--jobs", type=int, default=1, show_default=True, help="Worker processes.")
@click.option(
    "--errors",
    type=click.Choice(["strict", "replace"]),
    default="strict",
    show_default=True,
    help="Invalid UTF-8: stop with its line, or replace it.",
)
@format_option("plain", "table", "json", default="plain")
@prices_option
def tokens(
    files: tuple[str, ...],
    text: str | None,
    model: str | None,
    messages: bool,
    field: str | None,
    column: str | None,
    template: str | None,
    input_format: str | None,
    sample: int | None,
    seed: int | None,
    jobs: int,
    errors: str,
    fmt: str,
    price_files: tuple[str, ...],
) -> None:
    """Count input tokens offline: text, chat messages, JSONL batch files, CSV exports.

    Each JSONL line, CSV row or text file is one request. Plain output is a bare number,
    for pipes; --format table or json adds requests, per-request mean / p50 / p95 / max and
    how many requests exceed the model's context window.

    \b
    Examples:
        costcalc tokens notes.txt
        echo "Hello world" | costcalc tokens -
        costcalc tokens batch.jsonl --format json
        costcalc tokens export.csv --column body --template "Summarise: {body}"
        costcalc tokens big.jsonl --sample 2000 --seed 7
        costcalc tokens prompt.txt -m claude-sonnet-4-5     # an estimate, and says so
    """
    from costcalc import render
    from costcalc.prices import load_price_table
    from costcalc.tokenfiles import count_file, count_string

    table = load_price_table(price_files)
    if text is not None:
        if files:
            raise click.UsageError("give either --text or files, not both")
        result = count_string(text, model, messages=messages, table=table)
    else:
        if not files:
            if sys.stdin.isatty():
                raise click.UsageError("give a file, - for stdin, or --text TEXT")
            files = ("-",)
        with progress_bar(files) as advance:
            result = count_file(
                list(files), model, messages=messages, field=field, column=column,
                template=template, input_format=input_format,  # type: ignore[arg-type]
                sample=sample, seed=seed, jobs=jobs, errors=errors,  # type: ignore[arg-type]
                progress=advance, table=table,
            )  # fmt: skip
    if fmt == "json":
        emit(render.to_json(result))
    elif fmt == "table":
        emit(render.token_count_table(result))
    else:
        emit(f"{result.tokens}\n")


# --- quote ----------------------------------------------------------------------------------


def _decimal_text(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    return value  # parsed (and reported with its flag) by the workload model


@cli.command()
@click.argument("workload_file", required=False, type=click.Path(), metavar="[WORKLOAD.yaml]")
@click.option("-m", "--model", help="Model id or alias (costcalc prices list).")
@click.option("--name", help="Name of the workload in the report.")
@click.option("-n", "--requests", type=int, help="Number of requests.")
@click.option("-i", "--input-tokens", metavar="N", help="Input tokens per request.")
@click.option(
    "--input-file",
    metavar="FILE",
    help="Measure input tokens (and requests) from a JSONL, CSV or text file.",
)
@click.option("--input-column", metavar="NAME", help="CSV column of --input-file.")
@click.option("--sample", type=int, metavar="N", help="Measure --input-file from a sample of N.")
@click.option("-o", "--output-tokens", metavar="N", help="Output tokens per request.")
@click.option("--cached-share", metavar="0..1", help="Share of input tokens read from cache.")
@click.option("--cache-write-share", metavar="0..1", help="Share of input tokens written to cache.")
@click.option("--cache-ttl", type=click.Choice(["5m", "1h"]), help="Cache-write lifetime.")
@click.option("--cancel-rate", metavar="0..1", help="Share of streamed requests cancelled.")
@click.option(
    "--cancel-after",
    type=int,
    metavar="N",
    help="Output tokens seen before a cancel [default: half the output].",
)
@click.option(
    "--billed-after-cancel",
    type=int,
    metavar="N",
    help="Output tokens billed after a cancel before the server notices [default: 50].",
)
@click.option(
    "--source",
    type=click.Choice(["web-ui", "api", "webhook", "cron", "batch-job"]),
    help="Where the requests come from.",
)
@click.option(
    "--deadline", metavar="DURATION", help="The work must be done within, e.g. 24h, 90m, 2 days."
)
@click.option("--value-of-time", metavar="USD", help="What an hour of waiting costs you.")
@click.option(
    "--modes",
    "modes_text",
    metavar="LIST",
    help="Modes to compare: stream,request,batch,flex,priority or all.",
)
@click.option(
    "--baseline",
    type=click.Choice(["stream", "request", "batch", "flex", "priority"]),
    help="Savings are measured against this mode [default: request].",
)
@click.option("--tier", help="Rate-limit tier (tier-1, tier-4, ...).")
@click.option("--rpm", type=int, help="Your requests per minute.")
@click.option("--tpm", type=int, help="Your tokens per minute.")
@click.option("--batch-queue-tokens", type=int, help="Your batch queue limit (input tokens).")
@click.option("--concurrency", type=int, help="Requests in flight at once.")
@click.option(
    "--no-rate-limits", is_flag=True, default=None, help="Ignore rate limits and the batch queue."
)
@click.option(
    "--batch-wait",
    type=click.Choice(["worst", "typical"]),
    help="Batch wait for decisions: completion window (worst) or typical turnaround.",
)
@click.option("--as-of", "as_of", metavar="DATE", help="Prices in effect on DATE.")
@format_option("table", "json", "markdown", "csv")
@prices_option
def quote(workload_file: str | None, fmt: str, price_files: tuple[str, ...], **flags: Any) -> None:
    """Price a workload under every delivery mode: cost, time, savings against the wait, and
    a recommendation.

    Describe the workload with flags, or in a YAML file (one workload, or `workloads:` with
    several); flags given with a file override every workload in it.

    \b
    Examples:
        costcalc quote -m gpt-4o -n 1000000 -i 800 -o 200
        costcalc quote -m claude-sonnet-4-5 -n 50000 -i 3000 -o 500 --cached-share 0.8 \\
            --deadline 2h
        costcalc quote -m gpt-4o-mini --input-file batch.jsonl -o 150 --value-of-time 20
        costcalc quote workloads.yaml --format markdown
    """
    from costcalc.calculator import QuoteReport
    from costcalc.calculator import quote as quote_workload
    from costcalc.prices import load_price_table
    from costcalc.workload import load_workloads, parse_modes, workload_from_options

    options = dict(flags)
    modes_text = options.pop("modes_text")
    options["modes"] = parse_modes(modes_text) if modes_text else None
    options["rate_limited"] = False if options.pop("no_rate_limits") else None
    options["input_sample"] = options.pop("sample")
    for flat, flag in (("cancel.rate", "cancel_rate"), ("cancel.after_tokens", "cancel_after"),
                       ("cancel.billed_after_cancel", "billed_after_cancel"),
                       ("rate_limits.requests_per_minute", "rpm"),
                       ("rate_limits.tokens_per_minute", "tpm"),
                       ("rate_limits.batch_queue_tokens", "batch_queue_tokens")):  # fmt: skip
        options[flat] = options.pop(flag)
    if workload_file is not None:
        workloads = [workload_from_options(options, base=w) for w in load_workloads(workload_file)]
    else:
        if options.get("model") is None:
            raise click.UsageError("give --model (and the workload flags) or a WORKLOAD.yaml")
        workloads = [workload_from_options(options)]
    table = load_price_table(price_files)
    _emit_quote(QuoteReport.of([quote_workload(w, table) for w in workloads]), fmt)


@cli.command()
@click.option("--rows", type=int, default=1_000_000, show_default=True, help="Rows in the job.")
@click.option(
    "--tokens-per-row", type=int, default=1_000, show_default=True, help="Tokens per row."
)
@click.option(
    "--rate", metavar="USD", help="Flat price per 1M tokens [default: the lesson's $15.00]."
)
@click.option("--value-of-time", metavar="USD", help="What an hour of waiting costs you.")
@click.option(
    "--output-share",
    default="0.2",
    show_default=True,
    metavar="0..1",
    help="Share of each row's tokens that are output, for today's prices.",
)
@click.option("--as-of", "as_of", metavar="DATE", help="Prices in effect on DATE.")
@format_option("table", "json", "markdown")
@prices_option
def exercise(
    rows: int,
    tokens_per_row: int,
    rate: str | None,
    value_of_time: str | None,
    output_share: str,
    as_of: str | None,
    fmt: str,
    price_files: tuple[str, ...],
) -> None:
    """The lesson's Batch Budgeter: 1M rows at GPT-4o's flat $15 per 1M tokens, standard
    against batch, and whether the saving is worth the 24-hour wait; then the same job at
    today's gpt-4o list prices. Every assumption is printed.

    \b
    Examples:
        costcalc exercise
        costcalc exercise --value-of-time 100
        costcalc exercise --rows 20000 --tokens-per-row 3000 --format markdown
    """
    from costcalc.exercise import exercise as run_exercise
    from costcalc.prices import load_price_table, parse_date
    from costcalc.workload import parse_money, parse_share

    result = run_exercise(
        rows=rows,
        tokens_per_row=tokens_per_row,
        rate=parse_money(rate, "--rate") if rate is not None else None,
        value_of_time=(
            parse_money(value_of_time, "--value-of-time") if value_of_time is not None else None
        ),
        output_share=parse_share(output_share, "--output-share"),
        table=load_price_table(price_files),
        as_of=parse_date(as_of) if as_of is not None else None,
    )
    if fmt == "json":
        emit(render_json(result))
    elif fmt == "markdown":
        from costcalc.render import exercise_markdown

        emit(exercise_markdown(result))
    else:
        from costcalc.render import exercise_table

        emit(exercise_table(result))


def render_json(result: Any) -> str:
    from costcalc.render import to_json

    return to_json(result)


# --- route ----------------------------------------------------------------------------------


@cli.command()
@click.option(
    "--source",
    type=click.Choice(["web-ui", "api", "webhook", "cron", "batch-job"]),
    help="Where the request comes from.",
)
@click.option("--deadline", metavar="DURATION", help="Needed within, e.g. 2h, 90m, 3 days.")
@click.option(
    "-m",
    "--model",
    default="gpt-4o",
    show_default=True,
    help="Model (decides which modes are sold and the batch window).",
)
@click.option(
    "--policy",
    "policy_file",
    type=click.Path(),
    metavar="FILE",
    help="Your routing policy (ordered YAML rules, first match wins).",
)
@click.option(
    "--workload",
    "workload_file",
    type=click.Path(),
    metavar="FILE",
    help="A workload YAML: also report the money at stake.",
)
@click.option("--show-policy", is_flag=True, help="Print the default policy and exit.")
@format_option("plain", "json", default="plain")
@prices_option
def route(
    source: str | None,
    deadline: str | None,
    model: str,
    policy_file: str | None,
    workload_file: str | None,
    show_policy: bool,
    fmt: str,
    price_files: tuple[str, ...],
) -> None:
    """Route a request to a delivery mode by its source and deadline.

    The default policy is the lesson's (web UI -> stream; webhook, cron, batch job ->
    batch), extended with deadlines: a deadline shorter than the provider's batch window
    goes to flex where the model sells it, else request/response. Plain output is the mode
    alone, for scripts; --format json adds the rule that matched and why.

    \b
    Examples:
        costcalc route --source cron                       # batch
        costcalc route --source webhook --deadline 2h -m o3   # flex
        costcalc route --source cron --workload nightly.yaml --format json
    """
    from costcalc.prices import load_price_table
    from costcalc.router import default_policy_text, load_policy
    from costcalc.router import route as route_request
    from costcalc.workload import load_workloads

    if show_policy:
        emit(default_policy_text())
        return
    table = load_price_table(price_files)
    policy = load_policy(policy_file) if policy_file else None
    workloads = load_workloads(workload_file) if workload_file else [None]
    results = [
        route_request(source, deadline, model, policy, workload=w, table=table)  # type: ignore[arg-type]
        for w in workloads
    ]
    if fmt == "json":
        from costcalc.render import to_json_list

        emit(
            to_json_list(results)
            if len(results) > 1
            else results[0].model_dump_json(indent=2) + "\n"
        )
    else:
        for r in results:
            emit(f"{r.mode}\n")
            if r.stake is not None:
                click.echo(f"{r.stake.workload}: {r.stake.text} (rule {r.rule})", err=True)


# --- batch files ------------------------------------------------------------------------------


@cli.group()
def batch() -> None:
    """Batch files ready to upload: build, validate, quote, reconcile."""


@batch.command("build")
@click.argument("input_file", type=click.Path(), metavar="INPUT")
@click.option("-m", "--model", required=True, help="Model of every request.")
@click.option("--out", "out_dir", required=True, type=click.Path(), help="Folder for the files.")
@click.option(
    "--provider",
    type=click.Choice(["openai", "anthropic"]),
    help="Line format [default: the model's provider].",
)
@click.option("--column", metavar="NAME", help="CSV column holding the prompt.")
@click.option(
    "--template", metavar="TEXT", help='Prompt built from CSV columns, e.g. "Summarise: {body}".'
)
@click.option("--field", metavar="A.B.C", help="JSONL field holding the prompt or messages.")
@click.option("--system", metavar="TEXT", help="System prompt for every request.")
@click.option(
    "--max-tokens", type=int, default=1024, show_default=True, help="Output limit per request."
)
@click.option(
    "--output-tokens",
    type=int,
    metavar="N",
    help="Expected output per request, for the quote [default: --max-tokens].",
)
@click.option(
    "--id-prefix", default="row-", show_default=True, help="custom_id = PREFIX + input row."
)
@click.option(
    "--max-requests", type=int, metavar="N", help="Requests per file [default: provider's]."
)
@click.option("--max-bytes", type=int, metavar="N", help="Bytes per file [default: provider's].")
@click.option("--force", is_flag=True, help="Replace existing files.")
@format_option("table", "json")
@prices_option
def batch_build(
    input_file: str,
    model: str,
    out_dir: str,
    provider: str | None,
    column: str | None,
    template: str | None,
    field: str | None,
    system: str | None,
    max_tokens: int,
    output_tokens: int | None,
    id_prefix: str,
    max_requests: int | None,
    max_bytes: int | None,
    force: bool,
    fmt: str,
    price_files: tuple[str, ...],
) -> None:
    """Write provider-format batch JSONL from a CSV, JSONL or text file (one prompt per line),
    split to the provider's limits, with a manifest and the quote for the whole job.

    \b
    Examples:
        costcalc batch build tickets.csv -m gpt-4o-mini --column body --out batches/
        costcalc batch build prompts.txt -m claude-haiku-4-5 --system "Be brief." --out out/
    """
    from costcalc.batchfile import build
    from costcalc.prices import load_price_table

    with progress_bar([input_file]) as advance:
        manifest = build(
            input_file, model, out_dir, provider=provider, column=column, template=template,
            field_path=field, system=system, max_tokens=max_tokens, id_prefix=id_prefix,
            max_requests=max_requests, max_bytes=max_bytes, output_tokens=output_tokens,
            force=force, table=load_price_table(price_files), progress=advance,
        )  # fmt: skip
    if fmt == "json":
        emit(manifest.model_dump_json(indent=2) + "\n")
    else:
        from costcalc.render import manifest_table

        emit(manifest_table(manifest, out_dir))


@batch.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option(
    "--max-requests", type=int, metavar="N", help="Requests per file [default: provider's]."
)
@click.option("--max-bytes", type=int, metavar="N", help="Bytes per file [default: provider's].")
@format_option("table", "json")
@prices_option
def batch_validate(
    files: tuple[str, ...], max_requests: int | None, max_bytes: int | None, fmt: str,
    price_files: tuple[str, ...],
) -> None:  # fmt: skip
    """Check batch files before upload: exit 0 valid, 1 invalid, 2 unreadable.

    Checks JSON on every line, the keys each provider requires, one model (and endpoint) per
    file, custom_ids unique across all the files given and of the allowed shape, and the
    provider's request and size limits.
    """
    from costcalc.batchfile import validate_files
    from costcalc.prices import load_price_table

    report = validate_files(
        list(files), max_requests=max_requests, max_bytes=max_bytes,
        table=load_price_table(price_files),
    )  # fmt: skip
    if fmt == "json":
        emit(report.model_dump_json(indent=2) + "\n")
    else:
        from costcalc.render import validation_table

        emit(validation_table(report))
    if not report.valid:
        raise CheckFailed()


@batch.command("quote")
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option(
    "--output-tokens",
    type=int,
    metavar="N",
    help="Expected output per request [default: each request's max_tokens].",
)
@format_option("table", "json", "markdown", "csv")
@prices_option
def batch_quote(
    files: tuple[str, ...], output_tokens: int | None, fmt: str, price_files: tuple[str, ...]
) -> None:
    """Token counts and cost, standard against batch, for batch files ready to upload."""
    from costcalc.batchfile import quote_files
    from costcalc.prices import load_price_table

    report = quote_files(list(files), output_tokens, load_price_table(price_files))
    _emit_quote(report, fmt)


def _emit_quote(report: Any, fmt: str) -> None:
    if fmt == "json":
        emit(report.to_json())
    elif fmt == "markdown":
        emit(report.to_markdown())
    elif fmt == "csv":
        from costcalc.render import quote_csv

        emit(quote_csv(report))
    else:
        from costcalc.render import quote_table

        emit(quote_table(report))


@batch.command("reconcile")
@click.argument("outputs", nargs=-1, required=True, type=click.Path(), metavar="OUTPUT.jsonl...")
@click.option(
    "--input",
    "inputs",
    multiple=True,
    type=click.Path(),
    metavar="FILE",
    help="The batch file(s) uploaded (repeatable): estimate and missing results.",
)
@click.option("-m", "--model", help="Model [default: named in the results].")
@format_option("table", "json")
@prices_option
def batch_reconcile(
    outputs: tuple[str, ...], inputs: tuple[str, ...], model: str | None, fmt: str,
    price_files: tuple[str, ...],
) -> None:  # fmt: skip
    """Actual cost of provider batch output files at batch prices, against the estimate for
    the input; outcomes by kind; input requests with no result.

    Errored, cancelled and expired requests bill nothing.
    """
    from costcalc.batchfile import reconcile
    from costcalc.prices import load_price_table

    result = reconcile(list(outputs), list(inputs), model, load_price_table(price_files))
    if fmt == "json":
        emit(result.model_dump_json(indent=2) + "\n")
    else:
        from costcalc.render import reconcile_table

        emit(reconcile_table(result))


# --- the queue --------------------------------------------------------------------------------


def db_option(func: F) -> F:
    return click.option("--db", required=True, type=click.Path(), help="Queue database (SQLite).")(
        func
    )


@cli.group()
def queue() -> None:
    """A SQLite queue that gathers small tasks into one batch file a day (run flush from cron)."""


@queue.command("add")
@click.argument("prompts", nargs=-1)
@db_option
def queue_add(prompts: tuple[str, ...], db: str) -> None:
    """Add tasks: each PROMPT argument, or JSONL on stdin (a string, or an object with prompt
    or messages, optionally system and custom_id). Prints the custom_ids."""
    from costcalc.queue import add, parse_tasks

    if prompts:
        tasks: list[Any] = list(prompts)
    else:
        if sys.stdin.isatty():
            raise click.UsageError("give prompts as arguments, or JSONL on stdin")
        tasks = list(parse_tasks(sys.stdin))
    for cid in add(db, tasks):
        emit(cid + "\n")


@queue.command("flush")
@db_option
@click.option(
    "--out", "out_dir", required=True, type=click.Path(), help="Folder for the batch files."
)
@click.option("-m", "--model", required=True, help="Model of the batch.")
@click.option("--max-tokens", type=int, default=1024, show_default=True)
@click.option("--system", metavar="TEXT", help="System prompt for tasks that give none.")
@click.option("--max-requests", type=int, metavar="N")
@click.option("--max-bytes", type=int, metavar="N")
@format_option("plain", "json", default="plain")
@prices_option
def queue_flush(
    db: str, out_dir: str, model: str, max_tokens: int, system: str | None,
    max_requests: int | None, max_bytes: int | None, fmt: str, price_files: tuple[str, ...],
) -> None:  # fmt: skip
    """Write every pending task into batch file(s), crash-safely; prints the files written."""
    from costcalc.prices import load_price_table
    from costcalc.queue import flush

    results = flush(
        db, out_dir, model, max_tokens=max_tokens, system=system, max_requests=max_requests,
        max_bytes=max_bytes, table=load_price_table(price_files),
    )  # fmt: skip
    if fmt == "json":
        from costcalc.render import to_json_list

        emit(to_json_list(results))
        return
    if not results:
        click.echo("nothing to flush", err=True)
    for r in results:
        note = " (finishing a flush left open by a crash)" if r.resumed else ""
        click.echo(f"flush {r.flush}: {r.tasks:,} tasks{note}", err=True)
        for f in r.files:
            emit(f"{f.file}\n")


@queue.command("status")
@db_option
@format_option("table", "json")
def queue_status(db: str, fmt: str) -> None:
    """Pending and flushed tasks, and the last flushes."""
    from costcalc.queue import status

    report = status(db)
    if fmt == "json":
        emit(report.model_dump_json(indent=2) + "\n")
    else:
        from costcalc.render import queue_status_table

        emit(queue_status_table(report))


# --- budgets in CI ------------------------------------------------------------------------------


def _write_or_emit(text: str, out: str | None, force: bool) -> None:
    if out is None:
        emit(text)
    else:
        from costcalc.atomic import write_file

        write_file(out, text, force)


@cli.command()
@click.argument("config", default="costcalc.yaml", required=False, metavar="[CONFIG]")
@click.option(
    "--base",
    metavar="CONFIG|REF:PATH",
    help="The base to check the increase limits against, e.g. origin/main:costcalc.yaml.",
)
@click.option(
    "--allow-missing-base",
    is_flag=True,
    help="A base REF without the file counts as no workloads (the config is new).",
)
@format_option("table", "json", "markdown")
@click.option("--out", metavar="FILE", help="Write the report to FILE instead of stdout.")
@click.option("--force", is_flag=True, help="Replace --out FILE if it exists.")
@prices_option
def check(
    config: str, base: str | None, allow_missing_base: bool, fmt: str, out: str | None,
    force: bool, price_files: tuple[str, ...],
) -> None:  # fmt: skip
    """Check a project's LLM budgets and policies: exit 0 when all hold, 1 when any fails.

    CONFIG (default costcalc.yaml) is a file or REF:PATH. It lists workloads with their
    volume per day or month and the mode they run in today, and budgets: a monthly total,
    per-workload budgets, the largest allowed increase against --base, and the
    batch-eligible policy (background work that is not batched fails when batching would
    save more than a set amount).

    \b
    Examples:
        costcalc check
        costcalc check costcalc.yaml --base origin/main:costcalc.yaml --format markdown
    """
    from costcalc import render
    from costcalc.budget import check as run_check
    from costcalc.budget import load_config
    from costcalc.prices import load_price_table

    table = load_price_table(price_files)
    cfg = load_config(config)
    base_cfg = load_config(base, allow_missing_ref=allow_missing_base) if base else None
    report = run_check(cfg, config, base_cfg, table)
    text = (
        render.to_json(report)
        if fmt == "json"
        else render.check_markdown(report)
        if fmt == "markdown"
        else render.check_table(report)
    )
    _write_or_emit(text, out, force)
    if not report.passed:
        raise CheckFailed()


@cli.command()
@click.argument("base", metavar="BASE")
@click.argument("head", metavar="HEAD")
@click.option(
    "--fail-on-increase",
    metavar="10%|500",
    help="Exit 1 when the monthly total rises by more than this percentage or amount (USD).",
)
@click.option(
    "--allow-missing-base",
    is_flag=True,
    help="A base REF without the file counts as no workloads (the config is new).",
)
@format_option("table", "json", "markdown")
@click.option("--out", metavar="FILE", help="Write the report to FILE instead of stdout.")
@click.option("--force", is_flag=True, help="Replace --out FILE if it exists.")
@prices_option
def diff(
    base: str, head: str, fail_on_increase: str | None, allow_missing_base: bool, fmt: str,
    out: str | None, force: bool, price_files: tuple[str, ...],
) -> None:  # fmt: skip
    """Monthly LLM cost of HEAD against BASE, each a config file or REF:PATH.

    Prints a headline ("monthly LLM cost will increase by $1,402.00 (+17.0%)"), a table per
    workload and the details. The markdown is a pull-request comment: it carries a hidden
    marker (<!-- costcalc-diff -->) so CI can update one comment in place, and stays under
    GitHub's 65,536-character limit.

    \b
    Examples:
        costcalc diff origin/main:costcalc.yaml costcalc.yaml
        costcalc diff old.yaml new.yaml --format markdown --fail-on-increase 10%
    """
    from costcalc import render
    from costcalc.budget import diff as run_diff
    from costcalc.prices import load_price_table

    report = run_diff(
        base, head, fail_on_increase, allow_missing_base, load_price_table(price_files)
    )
    text = (
        render.to_json(report)
        if fmt == "json"
        else render.diff_markdown(report)
        if fmt == "markdown"
        else render.diff_table(report)
    )
    _write_or_emit(text, out, force)
    if report.failed:
        raise CheckFailed()
