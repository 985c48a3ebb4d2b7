"""Start-up stays lean: what a quote imports, and the stand-in for pydantic's plugin loader.

Speed itself is measured in bench/bench_quote.py; these tests pin the structural choices
behind it, each in a fresh interpreter because pytest has already imported most things.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

QUOTE = ["quote", "-m", "gpt-4o", "-n", "1000", "-i", "1000", "-o", "200", "--format", "json"]

RUN_CLI = """
import json, sys
from costcalc.cli import cli
cli.main({args!r}, standalone_mode=False)
sys.stdout.write("\\n" + json.dumps(sorted(sys.modules)))
"""


def run_cli(args: list[str], **env: str) -> tuple[dict[str, object], set[str]]:
    """Run the CLI in a fresh interpreter: its JSON output and the modules it imported."""
    environ = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    done = subprocess.run(
        [sys.executable, "-c", RUN_CLI.format(args=args)],
        capture_output=True,
        text=True,
        env={**environ, **env},
        check=True,
        timeout=120,
    )
    output, _, modules = done.stdout.rpartition("\n")
    return json.loads(output), set(json.loads(modules))


def test_quote_imports_no_tokenizer_yaml_or_package_metadata() -> None:
    report, modules = run_cli(QUOTE)
    assert report["workloads"][0]["model"] == "gpt-4o"  # type: ignore[index]
    for heavy in ("tiktoken", "yaml", "importlib.metadata", "costcalc.tokens", "costcalc.render"):
        assert heavy not in modules, heavy


QUEUE_ADD = """
import json, sys
from costcalc.cli import cli
try:
    cli.main(["queue", "add", "--db", {db!r}, "a prompt"])
except SystemExit as exc:
    assert exc.code in (0, None), exc.code
sys.stderr.write(json.dumps(sorted(sys.modules)))
"""


def test_queue_add_imports_no_pydantic_and_nothing_only_other_paths_need(tmp_path: Path) -> None:
    # a small add is mostly start-up (bench/bench_queue.py, 10,000 tasks): the random queue
    # id comes from os.urandom (secrets imports hashlib and hmac), temporary files and
    # "did you mean" suggestions import their modules when they are needed
    done = subprocess.run(
        [sys.executable, "-c", QUEUE_ADD.format(db=str(tmp_path / "q.db"))],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    modules = set(json.loads(done.stderr))
    assert "costcalc.batch.queuedb" in modules
    for heavy in ("pydantic", "yaml", "tiktoken", "secrets", "tempfile", "difflib"):
        assert heavy not in modules, heavy


@pytest.mark.parametrize("setting", ["", "logfire", "0"])
def test_plugins_not_disabled_by_the_user_are_looked_up_by_pydantic_itself(setting: str) -> None:
    report, modules = run_cli(QUOTE, PYDANTIC_DISABLE_PLUGINS=setting)
    assert report["workloads"][0]["modes"]  # type: ignore[index]
    assert "importlib.metadata" in modules


STAND_IN = """
import os, sys
from costcalc import _pydantic_plugins
os.environ["PYDANTIC_DISABLE_PLUGINS"] = "true"
assert _pydantic_plugins.install()
assert not _pydantic_plugins.install()  # once only
from pydantic.plugin._loader import get_plugins
assert tuple(get_plugins()) == ()
assert "importlib.metadata" not in sys.modules
from pydantic.plugin._loader import PYDANTIC_ENTRY_POINT_GROUP  # any other name: the real module
assert PYDANTIC_ENTRY_POINT_GROUP == "pydantic"
assert not isinstance(sys.modules[_pydantic_plugins.LOADER], _pydantic_plugins._LoaderStandIn)
os.environ["PYDANTIC_DISABLE_PLUGINS"] = "__all__"
assert tuple(get_plugins()) == ()
"""


def test_stand_in_answers_as_pydantic_does_and_hands_other_names_to_the_real_loader() -> None:
    subprocess.run([sys.executable, "-c", STAND_IN], check=True, timeout=120)


def test_stand_in_is_not_installed_over_a_loaded_loader() -> None:
    import pydantic.plugin._loader as real

    from costcalc import _pydantic_plugins

    assert not _pydantic_plugins.install()
    assert sys.modules[_pydantic_plugins.LOADER] is real


LISTED_MODULES = """
import json, sys
from costcalc.cli import cli
try:
    cli.main({args!r})
except SystemExit as exc:
    assert exc.code in (0, None), exc.code
sys.stderr.write(json.dumps(sorted(sys.modules)))
"""
HEAVY = ("pydantic", "pydantic_core", "yaml", "tiktoken", "costcalc.workload", "costcalc.prices")


@pytest.mark.parametrize("args", [["--help"], ["-h"], ["--version"]])
def test_help_and_version_import_no_command_and_none_of_its_dependencies(args: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", LISTED_MODULES.format(args=args)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    modules = set(json.loads(done.stderr))
    assert "costcalc.cli" in modules and done.stdout
    for heavy in HEAVY:
        assert heavy not in modules, heavy
    # the stand-in for pydantic's plugin loader is a plain module; pydantic itself is not loaded
    assert not {m for m in modules if m.startswith(("pydantic.", "costcalc.commands"))} - {
        "pydantic.plugin._loader"
    }


def test_help_lists_each_command_by_the_first_paragraph_of_its_own_help() -> None:
    """``SUMMARIES`` stands in for the commands in ``costcalc --help``: it must say what they
    say, or the list would drift from the commands' own help."""
    import inspect

    import click

    from costcalc.cli import COMMANDS, SUMMARIES, cli

    assert SUMMARIES.keys() == COMMANDS.keys()
    ctx = click.Context(cli)
    for name in COMMANDS:
        command = cli.get_command(ctx, name)
        assert command is not None and command.help is not None
        assert not command.hidden and not command.deprecated and command.short_help is None
        first = inspect.cleandoc(command.help).partition("\n\n")[0]
        assert SUMMARIES[name].split() == first.split(), name


@pytest.mark.parametrize("width", [40, 80, 120])
def test_help_lists_the_commands_as_click_would_with_them_loaded(width: int) -> None:
    import click

    from costcalc.cli import COMMANDS, cli

    ctx = click.Context(cli, terminal_width=width)
    loaded = click.Group(commands={n: cli.get_command(ctx, n) for n in COMMANDS})  # type: ignore[misc]
    want, got = click.HelpFormatter(width=width), click.HelpFormatter(width=width)
    loaded.format_commands(ctx, want)
    cli.format_commands(ctx, got)
    assert got.getvalue() == want.getvalue()
    assert all(f"\n  {name} " in got.getvalue() for name in COMMANDS)


def test_a_count_for_a_curated_model_builds_no_price_table() -> None:
    # the model's tokenizer comes from pricing/compiled.json (costcalc.shipped): the price
    # table's pydantic models are a third of a short count's start-up
    report, modules = run_cli(
        ["tokens", "--text", "hello world", "-m", "gpt-4o", "--format", "json"]
    )
    assert (report["tokens"], report["context_limit"]) == (2, 128_000)
    for heavy in ("costcalc.prices", "costcalc.prices.schema", "yaml"):
        assert heavy not in modules, heavy


def test_a_count_with_user_prices_reads_them(tmp_path: Path) -> None:
    # $COSTCALC_PRICES may give a model another context window: the compiled lookup steps aside
    prices = tmp_path / "mine.yaml"
    prices.write_text(
        "provider: openai\nmodels:\n  - id: gpt-4o\n    name: GPT-4o (mine)\n"
        "    encoding: o200k_base\n    context_window: 1000\n    prices:\n"
        "      - as_of: 2026-11-26\n        source: https://example.com/prices\n"
        "        standard: {input: 2.50, output: 10.00}\n"
    )
    report, modules = run_cli(
        ["tokens", "--text", "hello world", "--format", "json"], COSTCALC_PRICES=str(prices)
    )
    assert report["context_limit"] == 1000 and "costcalc.prices.schema" in modules


EXIT = """
import atexit, os, sys, threading
from costcalc.__main__ import _exit_now

class Freed:
    def __del__(self):
        os.write(1, b" freed")

kept = Freed()  # freed only by the interpreter's own clean-up
atexit.register(lambda: sys.stdout.write(" atexit"))
sys.stdout.write("written")
{setup}
_exit_now(SystemExit({code!r}))
"""


@pytest.mark.parametrize(
    ("code", "setup", "status", "out"),
    [
        (None, "", 0, "written atexit"),
        (3, "", 3, "written atexit"),
        # a thread a normal exit waits for, an SQLite database, a message: the normal exit
        (0, "threading.Thread(target=lambda: [__import__('time').sleep(0.2), "
         "sys.stdout.write(' thread')]).start()", 0, "written thread atexit freed"),
        (2, "import sqlite3", 2, "written atexit freed"),
        ("a message", "", 1, "written atexit freed"),
    ],
)  # fmt: skip
def test_a_command_exits_without_freeing_everything_first_where_nothing_is_pending(
    code: object, setup: str, status: int, out: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", EXIT.format(setup=setup, code=code)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stdout) == (status, out), done.stderr
    assert done.stderr == ("a message\n" if code == "a message" else "")
