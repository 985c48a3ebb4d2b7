"""One parser per quantity (costcalc.units): library errors name the field as Python writes it,
and the command line writes the same field as its flag."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal as D
from pathlib import Path

import pytest

import costcalc
from costcalc.atomic import write_file
from costcalc.batch.build import build
from costcalc.commands.flags import on_command_line
from costcalc.errors import CostcalcError, FieldError
from costcalc.lesson import exercise as run_exercise
from costcalc.units import (
    parse_count,
    parse_date,
    parse_duration,
    parse_money,
    parse_share,
    parse_threshold,
)
from costcalc.workload import workload_from_options
from tests.conftest import RunCli

TODAY = dt.date.today().isoformat()
QUOTE = ["quote", "-m", "gpt-4o", "-n", "1000", "-i", "800", "-o", "200", "--format", "json"]


def test_each_parser_reads_its_quantity() -> None:
    assert parse_date("2026-11-26", "as_of") == dt.date(2026, 11, 26)
    assert parse_date("Today", "as_of") == dt.date.today()
    assert parse_date(dt.date(2025, 1, 2), "as_of") == dt.date(2025, 1, 2)
    assert parse_duration("1h30m", "deadline") == 5400
    assert parse_money("$1,200", "value_of_time") == D(1200)
    assert parse_share("0.25", "output_share") == D("0.25")
    assert [parse_count(v, "rows") for v in (7, "7", 7.0, D("7"))] == [7, 7, 7, 7]


@pytest.mark.parametrize(
    ("parse", "value", "field", "message"),
    [
        (parse_date, "2026-02-30", "as_of", "as_of: bad date '2026-02-30': expected YYYY-MM-DD"),
        (parse_duration, "soon", "deadline", "deadline: bad duration 'soon'"),
        (parse_duration, 24, "deadline", "deadline: duration 24 needs a unit"),
        (parse_money, "lots", "budget", "budget: expected an amount of money in USD, got 'lots'"),
        (parse_share, "1.5", "cached_share", "cached_share: expected a number between 0 and 1"),
        (parse_count, True, "requests", "requests: expected a whole number, got true"),
        (parse_count, 10.7, "requests", "requests: expected a whole number, got 10.7"),
        (parse_count, "1e3", "requests", "requests: expected a whole number, got '1e3'"),
    ],
)
def test_a_parser_names_the_field_it_parses(parse, value, field, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(FieldError) as err:
        parse(value, field)
    assert err.value.field == field
    assert str(err.value).startswith(message)
    assert "--" not in str(err.value)


def test_quote_takes_as_of_today_like_exercise(run_cli: RunCli) -> None:
    result = run_cli(*QUOTE, "--as-of", "today")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["prices_as_of"] == TODAY
    result = run_cli("exercise", "--as-of", "today", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["today"]["prices_as_of"] == TODAY


def test_a_bad_date_reads_alike_in_every_command(run_cli: RunCli) -> None:
    said = "bad date '2026-02-30': expected YYYY-MM-DD"
    assert run_cli(*QUOTE, "--as-of", "2026-02-30").stderr == f"costcalc: error: --as-of: {said}\n"
    for command in (["exercise"], ["prices", "show", "gpt-4o"], ["prices", "list"]):
        result = run_cli(*command, "--as-of", "2026-02-30")
        assert result.stderr == f"costcalc: error: as_of (--as-of): {said}\n"


def test_workload_and_budget_files_take_as_of_today(run_cli: RunCli, tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(
        "model: gpt-4o\nrequests: 1000\ninput_tokens: 800\noutput_tokens: 0\nas_of: today\n"
    )
    result = run_cli("quote", str(path), "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["prices_as_of"] == TODAY
    config = tmp_path / "costcalc.yaml"
    config.write_text(
        "as_of: today\nworkloads:\n  - name: a\n    model: gpt-4o\n    requests_per_day: 10\n"
        "    input_tokens: 800\n    output_tokens: 0\n"
    )
    result = run_cli("check", str(config), "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["prices_as_of"] == TODAY


def test_a_python_workload_takes_as_of_today() -> None:
    w = costcalc.Workload(
        model="gpt-4o", requests=1000, input_tokens=800, output_tokens=200, as_of="today"
    )
    assert w.as_of == dt.date.today()
    assert costcalc.quote(w).prices_as_of == dt.date.today()
    with pytest.raises(ValueError, match="bad date 'someday': expected YYYY-MM-DD"):
        costcalc.Workload(
            model="gpt-4o", requests=1, input_tokens=1, output_tokens=0, as_of="someday"
        )


def test_a_python_count_is_not_a_boolean() -> None:
    with pytest.raises(ValueError, match="expected a whole number, got true"):
        costcalc.Workload(model="gpt-4o", requests=True, input_tokens=1, output_tokens=0)
    with pytest.raises(CostcalcError, match=r"^rows: expected a whole number, got true$"):
        run_exercise(rows=True)


def test_a_planning_script_sees_the_argument_it_passed() -> None:
    script = (
        "import costcalc\n"
        "try:\n    costcalc.exercise(rows=0)\n"
        "except costcalc.CostcalcError as exc:\n    print(exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.stdout == "rows: must be between 1 and 10^12, got 0\n", done.stderr


def _written(folder: Path, name: str) -> Path:
    path = folder / name
    path.write_text("x\n")
    return path


# (library call, its message in Python, the same error on the command line)
LIBRARY_ERRORS: list[tuple[Callable[[Path], object], str, str]] = [
    (lambda d: run_exercise(rows=0), "rows: must be between 1 and 10^12, got 0", "--rows: must be between 1 and 10^12, got 0"),
    (lambda d: run_exercise(tokens_per_row=0), "tokens_per_row: must be between", "--tokens-per-row: must be between"),
    (lambda d: run_exercise(rate="free"), "rate: expected an amount of money in USD, got 'free'", "--rate: expected an amount"),
    (lambda d: run_exercise(value_of_time=-5), "value_of_time: must be zero or more, got -5", "--value-of-time: must be zero or more"),
    (lambda d: run_exercise(output_share="1.5"), "output_share: expected a number between 0 and 1", "--output-share: expected"),
    (lambda d: run_exercise(tokens_per_row=200_000), "tokens_per_row 200,000: the job at gpt-4o", "--tokens-per-row 200,000: the job at gpt-4o"),
    (lambda d: run_exercise(as_of="someday"), "as_of: bad date 'someday'", "as_of (--as-of): bad date 'someday'"),
    (lambda d: parse_threshold("10x"), "fail_on_increase '10x': expected a percentage", "--fail-on-increase '10x': expected a percentage"),
    (lambda d: write_file(_written(d, "a.md"), "y"), "already exists (use force=True to replace it)", "already exists (use --force to replace it)"),
    (lambda d: costcalc.route("cron", "soon"), "deadline: bad duration 'soon'", "--deadline: bad duration 'soon'"),
    (lambda d: costcalc.quote(costcalc.Workload(model="gpt-4o", requests=5, input_tokens=5, output_tokens=0, baseline="flex")),
     "no flex tier; choose another with baseline", "no flex tier; choose another with --baseline"),
    (lambda d: costcalc.quote(costcalc.Workload(model="gpt-4o", input_file=str(_written(d, "r.csv")), output_tokens=0)),
     "a CSV file needs input_column, the column", "a CSV file needs input_column (--column NAME), the column"),
    (lambda d: costcalc.quote(costcalc.Workload(model="gpt-4o", input_file=str(_written(d, "r.txt")), input_column="x", output_tokens=0)),
     "r.txt: input_column applies to CSV files", "r.txt: input_column (--column) applies to CSV files"),
    (lambda d: workload_from_options({"model": "gpt-4o", "requests": 5, "input_tokens": 5, "cancel.rate": 2}),
     "cancel.rate: must be <= 1", "--cancel-rate: must be <= 1"),
    (lambda d: workload_from_options({"model": "gpt-4o", "requests": 5, "input_tokens": 5}),
     "workload: output_tokens is required (give 0 when nothing", "workload: --output-tokens is required (give 0 when nothing"),
    (lambda d: workload_from_options({"model": "gpt-4o", "requests": 5}),
     "workload: input_tokens is required (or give input_file to measure it)", "workload: --input-tokens is required (or give --input-file to measure it)"),
    (lambda d: workload_from_options({"model": "gpt-4o", "requests": 5, "input_tokens": 5, "output_tokens": 0, "modes": ["batch"], "baseline": "request"}),
     "add it to the modes or choose another baseline", "add it to the modes or choose another baseline (--baseline)"),
    (lambda d: costcalc.count_file(_written(d, "p.txt"), jobs=0), "jobs must be at least 1, got 0", "--jobs must be at least 1, got 0"),
    (lambda d: costcalc.count_file(_written(d, "r.csv")), "r.csv: CSV input needs column or template", "r.csv: CSV input needs --column NAME or --template TEXT"),
    (lambda d: costcalc.count_string("{", messages=True), "text with messages=True: invalid JSON", "--text with --messages: invalid JSON"),
    (lambda d: costcalc.count_file(_bytes(d, "l.txt", b"caf\xe9\n")), "l.txt:1: is not valid UTF-8 text (use errors='replace' to count it anyway)",
     "l.txt:1: is not valid UTF-8 text (use --errors replace to count it anyway)"),
    (lambda d: costcalc.count_file(_bytes(d, "n.jsonl", b'{"a": 1}\n')), "choose a field with field='a.b.c')", "choose a field with --field a.b.c)"),
    (lambda d: build(_written(d, "p.txt"), "gpt-4o", d / "out", max_requests=0), "max_requests must be at least 1", "--max-requests must be at least 1"),
    (lambda d: build(_written(d, "p.txt"), "gpt-4o", d / "out", id_prefix="a b"), "id_prefix 'a b': use letters", "--id-prefix 'a b': use letters"),
    (lambda d: build(_bytes(d, "n.jsonl", b'{"a": 1}\n'), "gpt-4o", d / "out"), '{"messages": [...]}, or field_path', '{"messages": [...]}, or --field'),
]  # fmt: skip


def _bytes(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(("call", "python", "cli"), LIBRARY_ERRORS)
def test_library_errors_name_fields_and_the_command_line_writes_flags(
    tmp_path: Path, call: Callable[[Path], object], python: str, cli: str
) -> None:
    with pytest.raises(CostcalcError) as err:
        call(tmp_path)
    assert python in str(err.value) and "--" not in str(err.value)
    assert cli in on_command_line(err.value)


def test_control_bytes_from_the_input_are_not_taken_for_field_marks() -> None:
    from costcalc.commands.flags import on_command_line
    from costcalc.errors import CostcalcError, arg

    exc = CostcalcError("header '\x02x\x03' and " + arg("rows"))
    assert str(exc) == "header '\x02x\x03' and rows"
    assert on_command_line(exc) == "header '\x02x\x03' and --rows"


def test_the_public_exercise_stays_a_function_after_its_module_is_imported() -> None:
    import costcalc
    import costcalc.lesson

    assert callable(costcalc.exercise)
    with pytest.raises(costcalc.CostcalcError, match=r"^rows: "):
        costcalc.exercise(rows=0)


@pytest.mark.parametrize(
    "value",
    [
        "20261126", "2026-W48-4", "2026-11-26T10:00", "2026-13-45", "26/11/2026",
        " 2026-11-26 ", "2026-11-26\n", "2026-11-26 00:00", "2026-11-26T00:00:00",
        "2026-11-26 00:00:00Z", " today",
    ],
)  # fmt: skip
def test_only_a_day_is_a_date(value: str) -> None:
    # a day is YYYY-MM-DD and nothing more: a time, even midnight, names a moment
    with pytest.raises(costcalc.CostcalcError, match=r"^as_of: bad date"):
        parse_date(value, "as_of")
    assert parse_date(dt.date(2026, 11, 26), "as_of") == dt.date(2026, 11, 26)


@pytest.mark.parametrize(
    "moment", [dt.datetime(2026, 11, 26), dt.datetime(2026, 11, 26, 12, 30, tzinfo=dt.timezone.utc)]
)
def test_a_datetime_is_not_a_day(moment: dt.datetime) -> None:
    with pytest.raises(costcalc.CostcalcError, match="a day, not a time"):
        parse_date(moment, "as_of")
    with pytest.raises(TypeError, match=r"^PriceTable.prices: on must be .*a day, not a time"):
        costcalc.load_price_table().prices("gpt-4o", moment)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "said"),
    [
        (20260101, "got 20260101"),
        ([dt.date(2026, 1, 1)], "got a list"),
        ({"a": 1}, "got a mapping"),
    ],
)
def test_a_date_of_another_type_says_what_was_expected(value: object, said: str) -> None:
    # a YAML `as_of: [2026-01-01]` leaked "[datetime.date(2026, 1, 1)]"
    with pytest.raises(costcalc.InvalidWorkloadError) as caught:
        costcalc.Workload(model="gpt-4o", requests=1, input_tokens=1, output_tokens=1, as_of=value)
    message = str(caught.value)
    assert f"as_of: expected a date as YYYY-MM-DD, {said}" in message
    assert "datetime" not in message


def _rows_zero() -> None:
    costcalc.exercise(rows=0)


def test_errors_cross_process_boundaries_as_themselves() -> None:
    import pickle
    from concurrent.futures import ProcessPoolExecutor

    from costcalc.errors import FieldError, InputFileError, arg

    for exc in (
        FieldError("rows", "must be > 0"),
        InputFileError("x.txt", "bad line", 3),
        costcalc.CostcalcError("use " + arg("errors", "replace")),
    ):
        back = pickle.loads(pickle.dumps(exc))
        assert type(back) is type(exc) and str(back) == str(exc) and back.marked == exc.marked
        assert "\x02" not in repr(back)
    with ProcessPoolExecutor(1) as pool, pytest.raises(FieldError, match=r"^rows: "):
        pool.submit(_rows_zero).result(timeout=60)
