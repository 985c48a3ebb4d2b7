"""The render layer: one entry, a registry of lazily imported renderers, one JSON writer."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

import costcalc
from costcalc.render import RENDERERS, UnknownFormatError, formats, render, render_parts
from costcalc.results import Note, render_result, to_json
from tests.conftest import RunCli

WORKLOADS = Path(__file__).resolve().parent / "data" / "workloads.yaml"


def test_every_renderer_in_the_registry_exists() -> None:
    for (name, fmt), spec in RENDERERS.items():
        module, _, attr = spec.partition(":")
        assert module == "costcalc.results" or module.startswith("costcalc.render."), spec
        assert callable(getattr(importlib.import_module(module), attr)), (name, fmt, spec)


def test_importing_the_entry_imports_no_renderer_module() -> None:
    code = (
        "import sys, costcalc.render\n"
        "print([m for m in sys.modules if m.startswith('costcalc.render.')])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == "[]"


def test_result_modules_import_no_renderer() -> None:
    code = (
        "import sys, costcalc.calculator, costcalc.budget, costcalc.lesson, costcalc.router\n"
        "print([m for m in sys.modules if m.startswith('costcalc.render')])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == "[]"


def test_json_is_one_writer_for_a_result_and_a_list_of_results() -> None:
    q = costcalc.quote(
        costcalc.Workload(model="gpt-4o", requests=1000, input_tokens=800, output_tokens=200)
    )
    report = costcalc.QuoteReport.of([q])
    one = report.model_dump_json(indent=2) + "\n"
    assert to_json(report) == render(report, "json") == render_result(report, "json") == one
    assert costcalc.render_result(report, "json") == report.to_json() == q.to_json() == one
    assert render(report, "markdown") == report.to_markdown() == q.to_markdown()
    both = [q, q]
    text = "[\n" + ",\n".join(r.model_dump_json(indent=2) for r in both) + "\n]\n"
    assert to_json(both) == render(both, "json") == render_result(both, "json") == text
    assert json.loads(text) == [json.loads(q.model_dump_json())] * 2
    assert to_json([]) == render([], "json") == "[\n\n]\n"


def test_an_unknown_pair_is_a_clear_error() -> None:
    sheet = costcalc.price_list(costcalc.load_price_table())
    assert formats(sheet) == ["csv", "json", "table"]
    with pytest.raises(
        UnknownFormatError, match=r"no 'markdown' output for PriceList \(it has csv, json, table\)"
    ):
        render(sheet, "markdown")
    with pytest.raises(UnknownFormatError, match="no 'table' output for str"):
        render("text", "table")
    with pytest.raises(UnknownFormatError, match=r"no 'table' output for list\[FlushResult\]"):
        render([], "table", of="FlushResult")
    with pytest.raises(TypeError, match="no JSON for str"):
        render_result("text", "json")


def test_notes_are_parts_for_stderr_and_left_out_of_the_text() -> None:
    r = costcalc.route(
        "cron",
        workload=costcalc.Workload(model="gpt-4o", requests=10, input_tokens=10, output_tokens=1),
    )
    parts = render_parts(r, "plain")
    assert parts[0] == "batch\n" and isinstance(parts[1], Note)
    assert render(r, "plain") == "batch\n"
    assert render([r, r], "plain") == "batch\nbatch\n"  # a list without an entry: item by item
    assert [type(p) for p in render_parts([r, r], "plain")] == [str, Note, str, Note]


def test_options_reach_only_the_renderers_that_name_them() -> None:
    report = costcalc.quote_all(costcalc.load_workloads(str(WORKLOADS)))
    table = render(report, "table")
    assert render(report, "table", total=True).startswith(table)
    assert render(report, "table", total=True) != table
    assert render(report, "csv", total=True) == render(report, "csv")
    assert render(report, "json", total=True) == to_json(report)


def test_route_json_is_an_object_for_one_workload_and_an_array_for_several(
    run_cli: RunCli, tmp_path: Path
) -> None:
    one = tmp_path / "one.yaml"
    one.write_text("name: a\nmodel: gpt-4o\nrequests: 10\ninput_tokens: 10\noutput_tokens: 1\n")
    single = run_cli("route", "--source", "cron", "--workload", str(one), "--format", "json")
    several = run_cli("route", "--source", "cron", "--workload", str(WORKLOADS), "--format", "json")
    assert single.stdout.startswith("{\n") and single.stdout.endswith("}\n")
    assert several.stdout.startswith("[\n{\n") and several.stdout.endswith("}\n]\n")
    assert len(json.loads(several.stdout)) == 2


def test_a_manifest_renders_without_its_folder(tmp_path: Path) -> None:
    src = tmp_path / "p.txt"
    src.write_text("Say hi.\nSay bye.\n")
    manifest = costcalc.build_batch(str(src), "gpt-4o-mini", str(tmp_path / "out"))
    text = costcalc.render_result(manifest, "table")
    assert "1 file(s)" in text and "out" not in text.split("file(s)")[1].split("\n")[0]
    assert "1 file(s) in x" in costcalc.render_result(manifest, "table", out_dir="x")
