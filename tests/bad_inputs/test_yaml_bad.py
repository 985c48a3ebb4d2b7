"""Bad-input catalogue for every reader of a YAML file (config, workload, policy, price file)
and for the updated price data in the user data folder: a file too large, aliases that
expand too much, too many values, an endless integer, a recursive alias; exit 2, one line
naming the file (and the line, where there is one)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from costcalc.yamlfile import MAX_YAML_BYTES, MAX_YAML_NODES
from tests.conftest import RunCli, assert_one_line_error

GOOD = """\
workloads:
  - name: a
    model: gpt-4o
    requests_per_day: 1000
    input_tokens: 800
    output_tokens: 200
"""


def laughs(levels: int = 9) -> str:
    """A "billion laughs" as one flow list: 9 lols, each next level 9 aliases of the last."""
    names = "abcdefghijklmnop"[:levels]
    text = "[&a [" + ", ".join(["lol"] * 9) + "]"
    for name, previous in zip(names[1:], names, strict=False):
        text += f", &{name} [" + ", ".join([f"*{previous}"] * 9) + "]"
    return text + "]"


def _big(path: Path) -> None:  # sparse: a few KB on disk, read as 16 MiB of zeros
    with open(path, "wb") as f:
        f.truncate(MAX_YAML_BYTES + 1)


def _text(text: str) -> Callable[[Path], None]:
    return lambda path: path.write_text(text, encoding="utf-8")


TOO_LARGE = "is larger than 16 MiB (costcalc's cap on a YAML file)"
PAST = f"alias *e takes it past {MAX_YAML_NODES:,} YAML values, costcalc's cap on a YAML file"

# (case id, how to write the file, fragments of the message: "{f}" is the file's path)
FILES: list[tuple[str, Callable[[Path], None], tuple[str, ...]]] = [
    ("too-large", _big, (f"{{f}}: {TOO_LARGE}",)),
    ("billion-laughs", _text(f"name: {laughs()}\nmodel: gpt-4o\n"), ("{f}:1: " + PAST,)),
    ("too-many-values", _text("workloads:\n" + "  - x\n" * MAX_YAML_NODES), (f"{{f}}:{MAX_YAML_NODES - 1}: more than {MAX_YAML_NODES:,} YAML values",)),
    ("long-integer", _text("provider: x\nrequests: " + "9" * 5000 + "\n"), ("{f}:2: requests: number too long (more than 30 digits)",)),
    ("recursive-alias", _text("name: &x [a, *x]\n"), ("{f}:1: invalid YAML: alias *x is inside the node it names",)),
]  # fmt: skip

# (reader id, arguments with "{f}" for the file, environment)
READERS: list[tuple[str, tuple[str, ...], dict[str, str]]] = [
    ("check", ("check", "{f}"), {}),
    ("check-base", ("check", "{good}", "--base", "{f}"), {}),
    ("diff", ("diff", "{f}", "{good}"), {}),
    ("quote-workload-file", ("quote", "{f}"), {}),
    ("route-policy", ("route", "--source", "cron", "--policy", "{f}"), {}),
    ("route-workload", ("route", "--workload", "{f}"), {}),
    ("prices-validate", ("prices", "validate", "{f}"), {}),
    ("quote-prices", ("quote", "-m", "gpt-4o", "-n", "1", "-i", "1", "-o", "1", "--prices", "{f}"), {}),
    ("env-prices", ("tokens", "--text", "hi"), {"COSTCALC_PRICES": "{f}"}),
]  # fmt: skip


@pytest.mark.parametrize(("reader", "args", "env"), READERS, ids=[r[0] for r in READERS])
@pytest.mark.parametrize(("case", "make", "fragments"), FILES, ids=[c[0] for c in FILES])
def test_every_yaml_reader_refuses(
    run_cli: RunCli,
    tmp_path: Path,
    reader: str,
    args: tuple[str, ...],
    env: dict[str, str],
    case: str,
    make: Callable[[Path], None],
    fragments: tuple[str, ...],
) -> None:
    bad, good = tmp_path / "bad.yaml", tmp_path / "good.yaml"
    make(bad)
    good.write_text(GOOD)
    names = {"f": str(bad), "good": str(good)}
    result = run_cli(
        *(a.format(**names) for a in args), env={k: v.format(**names) for k, v in env.items()}
    )
    assert_one_line_error(result, *(f.format(**names) for f in fragments))


def test_a_long_integer_is_named_by_field_and_line(run_cli: RunCli, tmp_path: Path) -> None:
    path = tmp_path / "costcalc.yaml"
    path.write_text(GOOD.replace("1000", "1" * 5000))
    assert_one_line_error(
        run_cli("check", str(path)),
        f"{path}:4: workloads[0].requests_per_day: number too long (more than 30 digits)",
    )
    assert "set_int_max_str_digits" not in run_cli("check", str(path)).stderr


def test_aliases_within_the_cap_still_work(run_cli: RunCli, tmp_path: Path) -> None:
    # merge keys and aliases are ordinary YAML (the shipped audit-known.yaml uses them)
    path = tmp_path / "costcalc.yaml"
    path.write_text(
        "workloads:\n  - &first {name: a, model: gpt-4o, requests_per_day: 10,"
        " input_tokens: 800, output_tokens: 200}\n  - {<<: *first, name: b}\n"
    )
    assert run_cli("check", str(path)).exit_code == 0


def test_a_nested_list_in_a_field_is_shown_cut_short(run_cli: RunCli, tmp_path: Path) -> None:
    # under the cap (9**5 lols), shown at a few items per level: no repr of the whole
    path = tmp_path / "costcalc.yaml"
    path.write_text(GOOD.replace("name: a", f"name: {laughs(5)}"))
    result = run_cli("check", str(path))
    assert_one_line_error(result, f"{path}:2: workloads[0].name: expected text, got [[")
    assert len(result.stderr) < 300


# --- the updated price data in $COSTCALC_HOME ----------------------------------------------


def _fifo(path: Path) -> None:  # nothing writes to it: opening it must not wait
    os.mkfifo(path)


def _sparse(path: Path) -> None:
    with open(path, "wb") as f:
        f.truncate(64 * 1024 * 1024 + 1)


def _update_text(text: str) -> Callable[[Path], None]:
    return lambda path: path.write_text(text)


UPDATES: list[tuple[str, Callable[[Path], None], str]] = [
    ("deep-nesting", _update_text("[" * 100_000), "(JSON nested deeper than 256 levels)"),
    ("long-integer", _update_text('{"a": ' + "1" * 5000 + "}"), "(number too long (more than 4,300 digits))"),
    ("not-an-object", _update_text("[1, 2]"), "(expected a JSON object, found list)"),
    ("a-fifo", _fifo, "(not a regular file)"),
    ("too-large", _sparse, "(more than 67,108,864 bytes)"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "make", "why"), UPDATES, ids=[u[0] for u in UPDATES])
def test_a_bad_price_update_is_named(
    run_cli: RunCli,
    costcalc_home: Path,
    tmp_path: Path,
    case: str,
    make: Callable[[Path], None],
    why: str,
) -> None:
    target = tmp_path / "data"
    make(target)
    update = costcalc_home / "prices-update.json"
    update.symlink_to(target)  # as the tester did; the same when it is the file itself
    result = run_cli("quote", "-m", "gpt-4o", "-n", "1", "-i", "1", "-o", "1")
    assert_one_line_error(result, f"{update}: the updated prices cannot be read {why}")
