"""Memory stays flat on hostile YAML and price-update files, proved in a subprocess under a
1 GiB address-space limit: each of these grew to gigabytes (MemoryError, exit 4) before the
caps of ``costcalc.yamlfile`` and the bounded read of the updated price index."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.bad_inputs.test_yaml_bad import GOOD, laughs
from tests.test_bounds import one_line_error, run_limited

QUOTE = ["quote", "-m", "gpt-4o", "-n", "1", "-i", "1", "-o", "1"]


@pytest.fixture
def endless_fifo(tmp_path: Path) -> Iterator[Path]:
    """A FIFO that a writer fills with zeros for as long as it is read (/dev/zero's role)."""
    path = tmp_path / "endless.yaml"
    os.mkfifo(path)
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys\nwith open(sys.argv[1], 'wb') as f:\n"
            "    while True: f.write(bytes(1 << 20))",
            str(path),
        ],
        stderr=subprocess.DEVNULL,
    )
    try:
        yield path
    finally:
        writer.kill()
        writer.wait(10)


@pytest.mark.parametrize(
    "args",
    [["check", "{f}"], ["check", "{good}", "--base", "{f}"], [*QUOTE, "--prices", "{f}"]],
    ids=["check", "check-base", "quote-prices"],
)
def test_an_endless_yaml_file_stops_at_the_cap(
    endless_fifo: Path, tmp_path: Path, args: list[str]
) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(GOOD)
    proc = run_limited([a.format(f=endless_fifo, good=good) for a in args])
    line = one_line_error(proc)
    assert line.endswith(f"{endless_fifo}: is larger than 16 MiB (costcalc's cap on a YAML file)")


@pytest.mark.parametrize(
    ("command", "text"),
    [
        ("check", GOOD.replace("name: a", f"name: {laughs()}")),
        ("quote", f"name: w\nmodel: {laughs()}\nrequests: 10\ninput_tokens: 1\noutput_tokens: 1\n"),
    ],
    ids=["check-name", "quote-model"],
)
def test_a_billion_laughs_in_a_field_is_refused_at_once(
    tmp_path: Path, command: str, text: str
) -> None:
    path = tmp_path / "laughs.yaml"
    path.write_text(text)
    started = time.monotonic()
    line = one_line_error(run_limited([command, str(path)]))
    assert "alias *e takes it past 250,000 YAML values" in line
    assert time.monotonic() - started < 20  # it took 40 s and 2.5 GB before


def test_a_million_workloads_are_refused_before_they_are_built(tmp_path: Path) -> None:
    path = tmp_path / "many.yaml"
    path.write_text("workloads:\n" + "  - x\n" * 1_000_000)  # 6 MB; took 2 GB and 21 s
    line = one_line_error(run_limited(["check", str(path)]))
    assert line.endswith(":249999: more than 250,000 YAML values, costcalc's cap on a YAML file")


@pytest.mark.parametrize("kind", ["deep", "fifo", "endless-fifo"])
def test_a_hostile_price_update_is_named(
    costcalc_home: Path, tmp_path: Path, endless_fifo: Path, kind: str
) -> None:
    update = costcalc_home / "prices-update.json"
    if kind == "deep":
        update.write_text("[" * 100_000)  # a RecursionError before
    elif kind == "fifo":
        os.mkfifo(tmp_path / "quiet")  # nothing writes: opening it must not wait
        update.symlink_to(tmp_path / "quiet")
    else:
        update.symlink_to(endless_fifo)  # a MemoryError before
    line = one_line_error(run_limited(QUOTE))
    assert f"{update}: the updated prices cannot be read (" in line
