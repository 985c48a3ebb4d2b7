"""The Python API: paths as str or os.PathLike (one path is one file), TypeError naming the
argument for a wrong type, and one costcalc error for a Workload with bad fields."""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import costcalc
from costcalc import Workload

GOOD = dict(model="gpt-4o", requests=10, input_tokens=10, output_tokens=10)


def _w(**fields: Any) -> Any:
    return Workload(**{**GOOD, **fields})


Call = Callable[[Path], Any]

# (case id, call, expected exception type, fragment of its message)
CASES: list[tuple[str, Call, type[BaseException], str]] = [
    # wrong types: TypeError naming the function and the argument
    ("quote-none", lambda d: costcalc.quote(None), TypeError, "quote: workload must be a costcalc.Workload, got None"),  # type: ignore[arg-type]
    ("quote-str", lambda d: costcalc.quote("gpt-4o"), TypeError, "quote: workload must be a costcalc.Workload, got str"),  # type: ignore[arg-type]
    ("quote-dict", lambda d: costcalc.quote(dict(GOOD)), TypeError, "quote: workload must be a costcalc.Workload, got dict"),  # type: ignore[arg-type]
    ("quote-bad-table", lambda d: costcalc.quote(_w(), table="prices.yaml"), TypeError, "quote: table must be a costcalc.PriceTable or None, got str"),  # type: ignore[arg-type]
    ("quote-all-str", lambda d: costcalc.quote_all("gpt-4o"), TypeError, "quote_all: workloads must be a list of costcalc.Workload, got str"),  # type: ignore[arg-type]
    ("quote-all-one-workload", lambda d: costcalc.quote_all(_w()), TypeError, "quote_all: workloads must be a list"),  # type: ignore[arg-type]
    ("quote-all-of-str", lambda d: costcalc.quote_all(["gpt-4o"]), TypeError, "quote: workload must be a costcalc.Workload, got str"),  # type: ignore[list-item]
    ("count-file-int", lambda d: costcalc.count_file(123), TypeError, "count_file: paths must be a path (str or os.PathLike) or a list of paths, got int"),  # type: ignore[arg-type]
    ("count-file-none", lambda d: costcalc.count_file(None), TypeError, "count_file: paths must be a path"),  # type: ignore[arg-type]
    ("count-file-list-of-int", lambda d: costcalc.count_file(["a.txt", 5]), TypeError, "count_file: paths[1] must be a path (str or os.PathLike), got int"),  # type: ignore[list-item]
    ("count-string-int", lambda d: costcalc.count_string(5), TypeError, "count_string: text must be a str, got int"),  # type: ignore[arg-type]
    ("count-string-bytes", lambda d: costcalc.count_string(b"hi"), TypeError, "count_string: text must be a str, got bytes"),  # type: ignore[arg-type]
    ("price-table-int", lambda d: costcalc.load_price_table(5), TypeError, "load_price_table: overrides must be a path (str or os.PathLike) or a list of paths, got int"),  # type: ignore[arg-type]
    ("price-table-list-of-none", lambda d: costcalc.load_price_table([None]), TypeError, "load_price_table: overrides[0] must be a path"),  # type: ignore[list-item]
    ("validate-price-file-int", lambda d: costcalc.validate_price_file(1), TypeError, "validate_price_file: path must be a path"),  # type: ignore[arg-type]
    ("load-workloads-none", lambda d: costcalc.load_workloads(None), TypeError, "load_workloads: path must be a path (str or os.PathLike), got None"),  # type: ignore[arg-type]
    ("load-policy-int", lambda d: costcalc.load_policy(3), TypeError, "load_policy: path must be a path"),  # type: ignore[arg-type]
    ("build-input-none", lambda d: costcalc.build_batch(None, "gpt-4o", d / "out"), TypeError, "build_batch: input_path must be a path"),  # type: ignore[arg-type]
    ("build-out-int", lambda d: costcalc.build_batch(str(d / "p.txt"), "gpt-4o", 7), TypeError, "build_batch: out_dir must be a path"),  # type: ignore[arg-type]
    ("build-model-none", lambda d: costcalc.build_batch(str(d / "p.txt"), None, d / "out"), TypeError, "build_batch: model must be a model name (str), got None"),  # type: ignore[arg-type]
    ("validate-batch-int", lambda d: costcalc.validate_batch_files(5), TypeError, "validate_batch_files: paths must be a path"),  # type: ignore[arg-type]
    ("quote-batch-none", lambda d: costcalc.quote_batch_files(None), TypeError, "quote_batch_files: paths must be a path"),  # type: ignore[arg-type]
    ("reconcile-int", lambda d: costcalc.reconcile_batch(1), TypeError, "reconcile_batch: outputs must be a path"),  # type: ignore[arg-type]
    ("reconcile-inputs-int", lambda d: costcalc.reconcile_batch([], 2), TypeError, "reconcile_batch: inputs must be a path"),  # type: ignore[arg-type]
    ("reconcile-as-of-int", lambda d: costcalc.reconcile_batch([], as_of=5), TypeError, "reconcile_batch: as_of must be a datetime.date"),  # type: ignore[arg-type]
    ("audit-write-config-int", lambda d: costcalc.audit([], write_config=5), TypeError, "audit: write_config must be"),  # type: ignore[arg-type]
    ("audit-as-of-int", lambda d: costcalc.audit([], as_of=5), TypeError, "audit: as_of must be a datetime.date"),  # type: ignore[arg-type]
    ("queue-add-db-none", lambda d: costcalc.queue_add(None, ["hi"]), TypeError, "queue_add: db must be a path"),  # type: ignore[arg-type]
    ("queue-flush-db-int", lambda d: costcalc.queue_flush(1, d, "gpt-4o"), TypeError, "queue_flush: db must be a path"),  # type: ignore[arg-type]
    ("queue-flush-out-none", lambda d: costcalc.queue_flush(d / "q.db", None, "gpt-4o"), TypeError, "queue_flush: out_dir must be a path"),  # type: ignore[arg-type]
    ("queue-status-db-none", lambda d: costcalc.queue_status(None), TypeError, "queue_status: db must be a path"),  # type: ignore[arg-type]
    ("route-workload-str", lambda d: costcalc.route("cron", workload="gpt-4o"), TypeError, "route: workload must be a costcalc.Workload or None, got str"),  # type: ignore[arg-type]
    # a Workload with bad fields: one costcalc error, one line, naming the fields
    ("workload-requests", lambda d: _w(requests=0), costcalc.InvalidWorkloadError, "Workload: requests: must be > 0"),
    ("workload-two-fields", lambda d: _w(requests=0, cancel={"rate": 2}), costcalc.InvalidWorkloadError, "Workload: requests: must be > 0; cancel.rate: must be <= 1"),
    ("workload-unknown-field", lambda d: _w(colour="red"), costcalc.InvalidWorkloadError, "Workload: colour: unknown key"),
    ("workload-misspelt-field", lambda d: _w(requestss=5), costcalc.InvalidWorkloadError, "did you mean 'requests'?"),
    ("workload-no-model", lambda d: Workload(requests=1, input_tokens=1, output_tokens=1), costcalc.InvalidWorkloadError, "Workload: model: required field is missing"),
    ("workload-no-output", lambda d: Workload(model="gpt-4o", requests=1, input_tokens=1), costcalc.InvalidWorkloadError, "Workload: output_tokens is required (give 0 when nothing is generated"),
    ("workload-no-input", lambda d: Workload(model="gpt-4o", requests=1, output_tokens=1), costcalc.InvalidWorkloadError, "Workload: input_tokens is required"),
    ("workload-nothing", lambda d: _w(input_tokens=0, output_tokens=0), costcalc.InvalidWorkloadError, "both zero: nothing to price"),
    ("workload-negative-deadline", lambda d: _w(deadline=-5), costcalc.InvalidWorkloadError, "Workload: deadline: duration -5 must be a time longer than zero, e.g. 24h"),
    ("workload-zero-deadline", lambda d: _w(deadline=0), costcalc.InvalidWorkloadError, "deadline: duration 0 must be a time longer than zero"),
    ("workload-nan-deadline", lambda d: _w(deadline=float("nan")), costcalc.InvalidWorkloadError, "deadline: duration nan must be a time longer than zero"),
    ("workload-negative-timedelta", lambda d: _w(deadline=dt.timedelta(hours=-1)), costcalc.InvalidWorkloadError, "must be longer than zero"),
    ("workload-deadline-no-unit", lambda d: _w(deadline=24), costcalc.InvalidWorkloadError, "deadline: duration 24 needs a unit, e.g. 24h"),
    ("workload-bad-mode", lambda d: _w(modes=["warp"]), costcalc.InvalidWorkloadError, "Workload: modes[0]:"),
    ("workload-shares", lambda d: _w(cached_share=0.7, cache_write_share=0.5), costcalc.InvalidWorkloadError, "cached_share + cache_write_share must be at most 1"),
    ("workload-baseline", lambda d: _w(modes=["batch"], baseline="request"), costcalc.InvalidWorkloadError, "baseline 'request' is not one of the modes compared"),
    ("workload-name-too-long", lambda d: _w(name="w" * 201), costcalc.InvalidWorkloadError, "Workload: name: string should have at most 200 characters"),
    ("workload-text-tokens", lambda d: _w(input_tokens="lots"), costcalc.InvalidWorkloadError, "Workload: input_tokens: expected a number, got 'lots'"),
    # queue_add: a str is one prompt, never five one-letter tasks; a refused task is refused
    # as every command refuses it (costcalc.requests), not unpacked
    ("queue-add-str", lambda d: costcalc.queue_add(d / "q.db", "hello"), TypeError, "queue_add: tasks must be a list of prompts or request objects, got str"),  # type: ignore[arg-type]
    ("queue-add-none", lambda d: costcalc.queue_add(d / "q.db", None), TypeError, "queue_add: tasks must be a list"),  # type: ignore[arg-type]
    ("queue-add-int-task", lambda d: costcalc.queue_add(d / "q.db", [5]), TypeError, "queue_add: tasks[0] must be a prompt (str), a request object (dict) or a (custom_id, request) pair, got int"),  # type: ignore[list-item]
    ("queue-add-empty-prompt", lambda d: costcalc.queue_add(d / "q.db", [{"prompt": ""}]), costcalc.UsageError, "task 1: empty prompt (providers reject a message with no text)"),
    ("queue-add-surrogate", lambda d: costcalc.queue_add(d / "q.db", ["\ud800"]), costcalc.UsageError, "task 1: text holds a lone surrogate (\\ud800), which is not valid Unicode"),
    ("queue-add-zero-width", lambda d: costcalc.queue_add(d / "q.db", ["ok", "\u200b"]), costcalc.UsageError, "task 2: empty prompt"),
    # route: the source, model and deadline checked as the command line and Workload check them
    ("route-unknown-source", lambda d: costcalc.route("nope"), costcalc.FieldError, "source: unknown source 'nope' (expected one of: web-ui, api, webhook, cron, batch-job)"),  # type: ignore[arg-type]
    ("route-source-int", lambda d: costcalc.route(5), TypeError, "route: source must be a source name (str) or None, got int"),  # type: ignore[arg-type]
    ("route-model-int", lambda d: costcalc.route("cron", model=5), TypeError, "route: model must be a model name (str), got int"),  # type: ignore[arg-type]
    ("route-negative-deadline", lambda d: costcalc.route("cron", deadline=-1), costcalc.FieldError, "deadline: duration -1 must be a time longer than zero, e.g. 24h"),  # type: ignore[arg-type]
    ("route-nan-deadline", lambda d: costcalc.route("cron", deadline=float("nan")), costcalc.FieldError, "deadline: duration nan must be a time longer than zero"),  # type: ignore[arg-type]
    ("route-negative-deadline-text", lambda d: costcalc.route("cron", deadline="-1h"), costcalc.FieldError, "deadline: bad duration '-1h'"),
    ("route-deadline-list", lambda d: costcalc.route("cron", deadline=[1]), TypeError, "route: deadline must be a duration such as '24h', seconds as a number, or None, got list"),  # type: ignore[arg-type]
    ("route-table-str", lambda d: costcalc.route("cron", table="prices.yaml"), TypeError, "route: table must be a costcalc.PriceTable or None, got str"),  # type: ignore[arg-type]
    # tokens: the model and text named
    ("tokenizer-for-int", lambda d: costcalc.tokenizer_for(5), TypeError, "tokenizer_for: model must be a model name (str), got int"),  # type: ignore[arg-type]
    ("count-tokens-model-int", lambda d: costcalc.count_tokens("hi", model=5), TypeError, "count_tokens: model must be a model name (str), got int"),  # type: ignore[arg-type]
    ("count-tokens-text-none", lambda d: costcalc.count_tokens(None), TypeError, "count_tokens: text must be a str, got None"),  # type: ignore[arg-type]
    ("count-message-tokens-model-int", lambda d: costcalc.count_message_tokens([], model=5), TypeError, "count_message_tokens: model must be a model name (str), got int"),  # type: ignore[arg-type]
    ("count-file-unknown-input-format", lambda d: costcalc.count_file(d / "p.txt", input_format="xml"), costcalc.FieldError, "input_format: must be one of text, lines, jsonl, json, csv, parquet, got 'xml'"),  # type: ignore[arg-type]
    ("count-file-jobs-str", lambda d: costcalc.count_file(d / "p.txt", jobs="2"), TypeError, "count_file: jobs must be a whole number (int), got str"),  # type: ignore[arg-type]
    ("count-file-column-int", lambda d: costcalc.count_file(d / "p.txt", column=5), TypeError, "count_file: column must be a str or None, got int"),  # type: ignore[arg-type]
    ("count-file-model-int", lambda d: costcalc.count_file(d / "p.txt", 5), TypeError, "count_file: model must be a str or None, got int"),  # type: ignore[arg-type]
    ("count-file-sample-float", lambda d: costcalc.count_file(d / "p.txt", sample=1.5), TypeError, "count_file: sample must be a whole number (int) or None, got float"),  # type: ignore[arg-type]
    ("count-file-messages-str", lambda d: costcalc.count_file(d / "p.txt", messages="yes"), TypeError, "count_file: messages must be True or False, got str"),  # type: ignore[arg-type]
    # budgets
    ("load-config-int", lambda d: costcalc.load_config(5), TypeError, "load_config: spec must be a path (str or os.PathLike), got int"),  # type: ignore[arg-type]
    ("check-budgets-none", lambda d: costcalc.check_budgets(None), TypeError, "check_budgets: config must be a costcalc.ProjectConfig (from costcalc.load_config) or a path, got None"),  # type: ignore[arg-type]
    ("check-budgets-missing-path", lambda d: costcalc.check_budgets(d / "none.yaml"), costcalc.InputFileError, "none.yaml: no such config file"),
    ("check-budgets-where-int", lambda d: costcalc.check_budgets(costcalc.ProjectConfig(), 5), TypeError, "check_budgets: where must be a path (str or os.PathLike), got int"),  # type: ignore[arg-type]
    ("check-budgets-base-str", lambda d: costcalc.check_budgets(costcalc.ProjectConfig(), base="x"), TypeError, "check_budgets: base must be a costcalc.ProjectConfig"),  # type: ignore[arg-type]
    # second hostile trial: TypeError naming function and argument, FieldError for a bad value
    ("queue-flush-model-int", lambda d: costcalc.queue_flush(d / "q.db", d / "o", 5), TypeError, "queue_flush: model must be a model name (str), got int"),  # type: ignore[arg-type]
    ("queue-flush-max-tokens-str", lambda d: costcalc.queue_flush(d / "q.db", d / "o", "gpt-4o", max_tokens="x"), TypeError, "queue_flush: max_tokens must be a whole number (int), got str"),  # type: ignore[arg-type]
    ("parse-modes-int", lambda d: costcalc.parse_modes(5), TypeError, "parse_modes: text must be a str, got int"),  # type: ignore[arg-type]
    ("price-sheet-table-none", lambda d: costcalc.price_sheet(None, "gpt-4o"), TypeError, "price_sheet: table must be a costcalc.PriceTable, got None"),  # type: ignore[arg-type]
    ("price-sheet-name-int", lambda d: costcalc.price_sheet(costcalc.load_price_table(), 5), TypeError, "price_sheet: name must be a model name (str), got int"),  # type: ignore[arg-type]
    ("quote-input-sizes-str", lambda d: costcalc.quote(_w(), input_sizes="x"), TypeError, "quote: input_sizes must be a dict"),  # type: ignore[arg-type]
    ("quote-input-sizes-negative", lambda d: costcalc.quote(_w(), input_sizes={1: -5}), costcalc.FieldError, "input_sizes[1] must be at least 0, got -5"),
    ("quote-input-sizes-huge", lambda d: costcalc.quote(_w(), input_sizes={10**30: 1}), costcalc.UsageError, "at most 100,000,000 tokens a request"),
    ("quote-input-sizes-past-the-window", lambda d: costcalc.quote(_w(input_tokens=100), input_sizes={100: 10, 300_000: 0, 200_000: 1}), costcalc.UsageError, "input_sizes holds requests of 200,000 input tokens, past gpt-4o's limit of 128,000"),
    ("quote-input-sizes-another-mean", lambda d: costcalc.quote(_w(input_tokens=800), input_sizes={100: 10}), costcalc.UsageError, "input_sizes' mean is 100.00 input tokens a request, but input_tokens is 800"),
    ("workload-from-options-none", lambda d: costcalc.workload_from_options(None), TypeError, "workload_from_options: options must be a dict, got None"),  # type: ignore[arg-type]
    ("check-budgets-table-int", lambda d: costcalc.check_budgets(costcalc.ProjectConfig(), table=5), TypeError, "check_budgets: table must be a costcalc.PriceTable or None, got int"),  # type: ignore[arg-type]
    ("build-max-tokens-str", lambda d: costcalc.build_batch(str(d / "p.txt"), "gpt-4o", d / "out", max_tokens="10"), TypeError, "build_batch: max_tokens must be a whole number (int), got str"),  # type: ignore[arg-type]
    ("build-system-int", lambda d: costcalc.build_batch(str(d / "p.txt"), "gpt-4o", d / "out", system=5), TypeError, "build_batch: system must be a str or None, got int"),  # type: ignore[arg-type]
    ("build-force-str", lambda d: costcalc.build_batch(str(d / "p.txt"), "gpt-4o", d / "out", force="no"), TypeError, "build_batch: force must be True or False, got str"),  # type: ignore[arg-type]
    ("build-progress-int", lambda d: costcalc.build_batch(str(d / "p.txt"), "gpt-4o", d / "out", progress=5), TypeError, "build_batch: progress must be a function"),  # type: ignore[arg-type]
    ("queue-flush-system-int", lambda d: costcalc.queue_flush(d / "q.db", d / "o", "gpt-4o", system=5), TypeError, "queue_flush: system must be a str or None, got int"),  # type: ignore[arg-type]
    ("table-find-none", lambda d: costcalc.load_price_table().find(None), TypeError, "PriceTable.find: name must be a model name (str), got None"),  # type: ignore[arg-type]
    ("model-prices-mode-stream", lambda d: costcalc.load_price_table().prices("gpt-4o").mode("stream"), ValueError, "mode: expected one of standard, batch, flex, priority, fast (stream and request are billed at standard prices), got 'stream'"),  # type: ignore[arg-type]
    ("model-prices-mode-negative", lambda d: costcalc.load_price_table().prices("gpt-4o").mode("standard", -5), costcalc.FieldError, "input_tokens must be at least 0, got -5"),
    ("table-prices-none", lambda d: costcalc.load_price_table().prices(None), TypeError, "PriceTable.prices: name must be a model name (str), got None"),  # type: ignore[arg-type]
    ("table-suggest-none", lambda d: costcalc.load_price_table().suggest(None), TypeError, "PriceTable.suggest: name must be a model name (str), got None"),  # type: ignore[arg-type]
    ("model-prices-band-none", lambda d: costcalc.load_price_table().prices("gpt-4o").band(None), TypeError, "ModelPrices.band: input_tokens must be a whole number (int), got None"),  # type: ignore[arg-type]
    ("build-table-str", lambda d: costcalc.build_batch(str(d / "p.txt"), "gpt-4o", d / "out", table="x"), TypeError, "build_batch: table must be a costcalc.PriceTable or None, got str"),  # type: ignore[arg-type]
    ("table-priced-none", lambda d: costcalc.load_price_table().priced(None), TypeError, "PriceTable.priced: name must be a model name (str), got None"),  # type: ignore[arg-type]
    ("quote-batch-files-table-str", lambda d: costcalc.quote_batch_files([str(d / "p.txt")], table="x"), TypeError, "quote_batch_files: table must be a costcalc.PriceTable or None, got str"),  # type: ignore[arg-type]
    ("build-max-tokens-bool", lambda d: costcalc.build_batch(str(d / "p.txt"), "gpt-4o", d / "out", max_tokens=True), TypeError, "build_batch: max_tokens must be a whole number (int), got bool"),
    ("stale-report-days-str", lambda d: costcalc.stale_report(costcalc.load_price_table(), "5"), TypeError, "stale_report: days must be a whole number (int), got str"),  # type: ignore[arg-type]
    ("stale-report-days-negative", lambda d: costcalc.stale_report(costcalc.load_price_table(), -5), costcalc.FieldError, "days must be at least 0, got -5"),
    ("diff-budgets-int", lambda d: costcalc.diff_budgets(5, 5), TypeError, "diff_budgets: base must be a path (str or os.PathLike), got int"),  # type: ignore[arg-type]
    ("diff-budgets-limit-list", lambda d: costcalc.diff_budgets("a.yaml", "b.yaml", fail_on_increase=[10]), TypeError, "fail_on_increase must be a str such as '10%' or '500', or a number of dollars (int, float, Decimal), got list"),  # type: ignore[arg-type]
    ("diff-budgets-limit-bool", lambda d: costcalc.diff_budgets("a.yaml", "b.yaml", fail_on_increase=True), TypeError, "got bool"),
    ("marker-for-int", lambda d: costcalc.marker_for(5), TypeError, "marker_for: path must be a path (str or os.PathLike), got int"),  # type: ignore[arg-type]
    ("find-configs-int", lambda d: costcalc.find_configs([5]), TypeError, "find_configs: patterns[0] must be a path (str or os.PathLike), got int"),  # type: ignore[list-item]
    ("find-configs-bare-int", lambda d: costcalc.find_configs(5), TypeError, "find_configs: patterns must be a path (str or os.PathLike) or a list of paths, got int"),  # type: ignore[arg-type]
    ("find-configs-dict", lambda d: costcalc.find_configs({"a": 1}), TypeError, "find_configs: patterns must be a path (str or os.PathLike) or a list of paths, got dict"),  # type: ignore[arg-type]
    ("count-on-spark-int", lambda d: costcalc.count_on_spark(5, "text"), TypeError, "count_on_spark: paths must be a path (str or os.PathLike) or a list of paths, got int"),  # type: ignore[arg-type]
    ("workload-input-file-bytes", lambda d: costcalc.Workload(model="gpt-4o", input_file=b"p.txt", output_tokens=1), costcalc.InvalidWorkloadError, "input_file: expected a path (str or os.PathLike), got bytes"),
    ("table-prices-on-datetime", lambda d: costcalc.load_price_table().prices("gpt-4o", dt.datetime(2026, 1, 1)), TypeError, "PriceTable.prices: on must be a datetime.date or a 'YYYY-MM-DD' str, got a datetime (a day, not a time)"),
    ("workload-as-of-int", lambda d: costcalc.Workload(model="gpt-4o", requests=1, input_tokens=1, output_tokens=1, as_of=20260101), costcalc.InvalidWorkloadError, "as_of: expected a date as YYYY-MM-DD, got 20260101"),
    ("queue-tasks-int", lambda d: costcalc.queue_tasks(5), TypeError, "queue_tasks: lines must be an iterable of lines"),  # type: ignore[arg-type]
    ("queue-tasks-str", lambda d: costcalc.queue_tasks('"hi"'), TypeError, "queue_tasks: lines must be an iterable of lines (str or bytes) or a binary stream, got str"),
    ("count-message-tokens-none", lambda d: costcalc.count_message_tokens(None), TypeError, "count_message_tokens: messages must be a list of chat messages (dicts), got None"),  # type: ignore[arg-type]
    ("count-message-tokens-of-str", lambda d: costcalc.count_message_tokens(["hi"]), TypeError, "count_message_tokens: messages[0] must be a dict, got str"),  # type: ignore[list-item]
    ("queue-status-last-negative", lambda d: costcalc.queue_status(d / "q.db", last=-1), costcalc.FieldError, "last must be at least 0, got -1"),
    ("parse-count-too-long", lambda d: costcalc.parse_count("9" * 5000, "n"), costcalc.FieldError, "n: number too long (5,000 characters)"),
    ("register-line-format-int", lambda d: costcalc.register_line_format(5), TypeError, "register_line_format: fmt must be a costcalc LineFormat, got int"),  # type: ignore[arg-type]
    # dates: a datetime.date or 'YYYY-MM-DD' text; another type a TypeError naming both
    ("audit-prices-on-int", lambda d: costcalc.audit_prices(on=5), TypeError, "audit_prices: on must be a datetime.date or a 'YYYY-MM-DD' str, got int"),  # type: ignore[arg-type]
    ("audit-prices-bad-on", lambda d: costcalc.audit_prices(on="2026-13-01"), costcalc.FieldError, "on: bad date '2026-13-01': expected YYYY-MM-DD"),
    ("audit-prices-against-int", lambda d: costcalc.audit_prices(against=5), TypeError, "audit_prices: against must be a path (str or os.PathLike), got int"),  # type: ignore[arg-type]
    ("audit-prices-known-list", lambda d: costcalc.audit_prices(known=["k.yaml"]), TypeError, "audit_prices: known must be a path (str or os.PathLike), got list"),  # type: ignore[arg-type]
    ("audit-prices-table-str", lambda d: costcalc.audit_prices("prices.yaml"), TypeError, "audit_prices: table must be a costcalc.PriceTable or None, got str"),  # type: ignore[arg-type]
    ("update-prices-today-int", lambda d: costcalc.update_prices("x.json", today=20261201, home=d), TypeError, "update_prices: today must be a datetime.date or a 'YYYY-MM-DD' str, got int"),  # type: ignore[arg-type]
    ("update-prices-bad-today", lambda d: costcalc.update_prices("x.json", today="2026-13-01", home=d), costcalc.FieldError, "today: bad date '2026-13-01'"),
    ("update-prices-home-int", lambda d: costcalc.update_prices("x.json", home=5), TypeError, "update_prices: home must be a path (str or os.PathLike), got int"),  # type: ignore[arg-type]
    ("update-prices-source-int", lambda d: costcalc.update_prices(5, home=d), TypeError, "update_prices: source must be a path (str or os.PathLike), got int"),  # type: ignore[arg-type]
    ("remove-price-update-home-int", lambda d: costcalc.remove_price_update(home=5), TypeError, "remove_price_update: home must be a path (str or os.PathLike), got int"),  # type: ignore[arg-type]
    ("price-update-file-home-int", lambda d: costcalc.price_update_file(5), TypeError, "price_update_file: home must be a path (str or os.PathLike), got int"),  # type: ignore[arg-type]
    ("stale-report-today-int", lambda d: costcalc.stale_report(costcalc.load_price_table(), 90, today=5), TypeError, "stale_report: today must be a datetime.date or a 'YYYY-MM-DD' str, got int"),  # type: ignore[arg-type]
    ("stale-report-bad-today", lambda d: costcalc.stale_report(costcalc.load_price_table(), 90, today="soon"), costcalc.FieldError, "today: bad date 'soon'"),
    ("price-sheet-bad-on", lambda d: costcalc.price_sheet(costcalc.load_price_table(), "gpt-4o", on="2026-13-01"), costcalc.FieldError, "on: bad date '2026-13-01'"),
    ("price-sheet-on-int", lambda d: costcalc.price_sheet(costcalc.load_price_table(), "gpt-4o", on=5), TypeError, "price_sheet: on must be a datetime.date or a 'YYYY-MM-DD' str, got int"),  # type: ignore[arg-type]
    ("price-list-on-list", lambda d: costcalc.price_list(costcalc.load_price_table(), on=[2026]), TypeError, "price_list: on must be a datetime.date or a 'YYYY-MM-DD' str, got list"),  # type: ignore[arg-type]
    ("table-prices-bad-on", lambda d: costcalc.load_price_table().prices("gpt-4o", "2026-13-01"), costcalc.FieldError, "on: bad date '2026-13-01'"),
    ("exercise-as-of-float", lambda d: costcalc.exercise(as_of=2026.12), TypeError, "exercise: as_of must be a datetime.date or a 'YYYY-MM-DD' str, got float"),  # type: ignore[arg-type]
    ("render-result-unknown-format", lambda d: costcalc.render_result(_w(), "xml"), costcalc.CostcalcError, "costcalc has no 'xml' output for Workload"),
]  # fmt: skip


def test_queue_add_takes_prompts_request_objects_and_pairs(tmp_path: Path) -> None:
    db = tmp_path / "q.db"
    tasks: list[Any] = ["one", {"prompt": "two", "custom_id": "c2"}, (None, {"prompt": "three"})]
    assert costcalc.queue_add(db, tasks) == ["task-1", "c2", "task-3"]
    assert costcalc.queue_status(db).pending == 3


def test_route_takes_a_deadline_in_seconds_or_text() -> None:
    assert (
        costcalc.route("webhook", deadline=7200).mode
        == costcalc.route("webhook", deadline="2h").mode
    )


@pytest.mark.parametrize(
    ("call", "kind", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_wrong_arguments_raise_one_named_error(
    tmp_path: Path, call: Call, kind: type[BaseException], fragment: str
) -> None:
    (tmp_path / "p.txt").write_text("hello\n", encoding="utf-8")
    with pytest.raises(kind) as info:
        call(tmp_path)
    message = str(info.value)
    assert fragment in message
    assert "\n" not in message


def test_an_invalid_workload_is_a_costcalc_error_and_a_value_error() -> None:
    with pytest.raises(costcalc.CostcalcError) as info:
        _w(requests=0, deadline=-5)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, costcalc.InvalidWorkloadError)
    assert info.value.fields == ["requests", "deadline"]
    assert "InvalidWorkloadError" in costcalc.__all__


def test_one_path_is_one_file_and_pathlike_is_a_path(tmp_path: Path) -> None:
    text = tmp_path / "p.txt"
    text.write_text("hello world\n", encoding="utf-8")
    assert costcalc.count_file(text).tokens == costcalc.count_file(str(text)).tokens == 3
    assert costcalc.count_file((text, str(text))).requests == 2
    prices = tmp_path / "prices.yaml"
    prices.write_text("provider: openai\nmodels: []\n", encoding="utf-8")
    # one str is one file (it was read as a list of one-character paths: "/: is a directory")
    for given in (str(prices), prices, [prices], (str(prices),)):
        try:
            costcalc.load_price_table(given)
        except costcalc.CostcalcError as exc:
            assert "prices.yaml" in str(exc), exc  # its own message about that one file
    workloads = tmp_path / "w.yaml"
    workloads.write_text(
        "model: gpt-4o\nrequests: 5\ninput_tokens: 5\noutput_tokens: 0\n", encoding="utf-8"
    )
    assert costcalc.load_workloads(workloads)[0].requests == 5
    from_path = _w(requests=None, input_tokens=None, input_file=text)
    assert from_path.input_file == str(text) and costcalc.quote(from_path).requests == 1
    # find_configs takes one path or glob as count_file does ('PosixPath' is not iterable)
    for one in (text, str(text), [text], (str(text),)):
        assert costcalc.find_configs(one) == [str(text)]


BASE_CONFIG = """\
as_of: 2026-11-26
workloads:
  - name: a
    model: gpt-4o-mini
    requests_per_day: 1000
    input_tokens: 1000
    output_tokens: 100
"""


@pytest.mark.parametrize("limit", [5, Decimal(5), 5.0, "5", "$5"])
def test_diff_budgets_takes_a_number_of_dollars_and_pathlike_paths(
    tmp_path: Path, limit: object
) -> None:
    """`fail_on_increase=10` raised AttributeError ('int' object has no attribute 'strip')
    and a Path base raised TypeError."""
    base, head = tmp_path / "a.yaml", tmp_path / "b.yaml"
    base.write_text(BASE_CONFIG)
    head.write_text(BASE_CONFIG.replace("requests_per_day: 1000", "requests_per_day: 2000"))
    report = costcalc.diff_budgets(base, head, fail_on_increase=limit)  # type: ignore[arg-type]
    assert report.failed and report.diff_total_monthly == Decimal("6.3")
    assert report.failure == "the increase of $6.30 is over the allowed $5.00"
    assert not costcalc.diff_budgets(base, head, fail_on_increase=7).failed
    assert costcalc.diff_budgets(base, head, fail_on_increase=0).failed  # 0 is a limit
    assert not costcalc.diff_budgets(base, head).failed
    assert costcalc.check_budgets(costcalc.load_config(head), head).config == str(head)
    assert costcalc.marker_for(Path("svc/costcalc.yaml")) == costcalc.marker_for(
        "svc/costcalc.yaml"
    )


def test_batch_files_take_one_path_or_a_list(tmp_path: Path) -> None:
    src = tmp_path / "p.txt"
    src.write_text("hello\nthere\n", encoding="utf-8")
    manifest = costcalc.build_batch(src, "gpt-4o", tmp_path / "out")
    part = tmp_path / "out" / manifest.parts[0].file
    assert costcalc.validate_batch_files(part).valid
    assert costcalc.validate_batch_files([part, str(part)]).files[0].requests == 2
    assert costcalc.quote_batch_files(part).workloads[0].requests == 2


def test_unknown_format_is_a_lookup_error_and_a_value_error() -> None:
    with pytest.raises(LookupError):
        costcalc.render_result(_w(), "xml")
    with pytest.raises(ValueError):
        costcalc.render_result(_w(), "xml")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("requests", -5, "requests: must be > 0"),
        ("requests", "abc", "requests: expected a whole number, got 'abc'"),
        ("modes", ["bogus"], "modes[0]: input should be 'stream'"),
        ("concurrency", 0, "concurrency: must be > 0"),
        ("cancel", None, "cancel: expected a mapping"),
        ("input_tokens", None, "input_tokens is required"),  # a check across fields
    ],
)
def test_a_field_set_later_is_checked_and_a_refused_one_left_as_it_was(
    field: str, value: Any, message: str
) -> None:
    w = _w()
    before = w.model_dump()
    with pytest.raises(costcalc.InvalidWorkloadError, match=re.escape(message)):
        setattr(w, field, value)
    assert w.model_dump() == before  # a quote of it prices what it held
    w.requests = 20  # and it takes a good value still: 20 x (10 x $2.50 + 10 x $10) / 1M
    assert costcalc.quote(w).mode("request").cost == Decimal("0.0025")


def test_a_copy_checks_its_update() -> None:
    with pytest.raises(costcalc.InvalidWorkloadError, match=re.escape("requests: must be > 0")):
        _w().model_copy(update={"requests": -5})
    copy = _w(baseline="stream", modes=["stream", "batch"]).model_copy(
        update={"as_of": "2026-11-26"}
    )
    assert copy.as_of == dt.date(2026, 11, 26) and copy.baseline == "stream"
    # a text of modes is read as the constructor reads it; the default baseline follows them
    assert _w().model_copy(update={"modes": "batch,stream"}).baseline == "batch"


def test_a_loaded_price_table_cannot_be_changed() -> None:
    # the table is shared by every later quote in the process (load_price_table keeps it):
    # m.prices.pop() made gpt-4o quote at its launch price, in later loads too
    table = costcalc.load_price_table()
    provider, model = table.find("gpt-4o")
    limits = model.rate_limits or provider.rate_limits
    assert limits is not None
    changes = [
        lambda: model.prices.pop(),  # type: ignore[attr-defined]
        lambda: limits.tiers.__setitem__("tier-4", limits.tiers["tier-1"]),
        lambda: limits.tiers.update({}),
        lambda: table.providers.__setitem__("openai", provider),  # type: ignore[index]
        lambda: setattr(model, "id", "x"),
    ]
    for change in changes:
        with pytest.raises((TypeError, AttributeError, ValueError)):
            change()
    assert copy.deepcopy(table) is table and copy.copy(table) is table  # nothing to copy
    w = _w(requests=1000, input_tokens=800, output_tokens=200, as_of="2026-11-26")
    # 1,000 x (800 x $2.50 + 200 x $10) / 1M
    assert costcalc.quote(w, costcalc.load_price_table()).mode("request").cost == Decimal("4.00")
    assert json.loads(json.dumps(limits.model_dump(mode="json")))["tiers"]  # a dict in JSON


def test_a_workloads_parts_and_a_loaded_config_are_set_whole_and_checked(
    tmp_path: Path,
) -> None:
    # changed in place they escaped every check: cancel.after_tokens = -1000 billed output at
    # -110 tokens a request; a config's workload at -1000 requests a month priced negative,
    # and a workload appended twice passed the unique-name check
    w = _w(cancel={"rate": 0.2, "after_tokens": 10})
    for change in (
        lambda: setattr(w.cancel, "after_tokens", -1000),
        lambda: setattr(w.rate_limits, "tokens_per_minute", 0),
    ):
        with pytest.raises(ValueError, match="frozen"):
            change()
    with pytest.raises(AttributeError, match=r"Workload\.requests cannot be deleted"):
        del w.requests
    with pytest.raises(costcalc.InvalidWorkloadError, match=r"cancel\.rate: must be <= 1"):
        w.cancel = {"rate": 5}  # type: ignore[assignment]
    w.cancel = {"rate": 0.5}  # type: ignore[assignment]  # set whole: checked, taken
    assert w.cancel.rate == Decimal("0.5")

    config = tmp_path / "c.yaml"
    config.write_text(
        "workloads:\n"
        "  - {name: a, model: gpt-4o, requests_per_day: 10, input_tokens: 10, output_tokens: 10}\n"
        "  - {name: b, model: gpt-4o, requests_per_day: 10, input_tokens: 10, output_tokens: 10}\n"
    )
    cfg = costcalc.load_config(str(config))
    with pytest.raises(ValueError, match="frozen"):
        cfg.workloads[0].requests_per_month = Decimal(-1000)  # type: ignore[misc]
    with pytest.raises(AttributeError):
        cfg.workloads.append(cfg.workloads[1])  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="workload names must be unique"):
        cfg.model_copy(update={"workloads": [*cfg.workloads, cfg.workloads[1]]})
    # a workload of it, copied with a change and put back: checked at the copy (a copy with
    # -5 requests a day passed the budget with a negative cost; "many" was a TypeError deep
    # inside check, mode "warp" a KeyError, an unknown key taken)
    for change in ({"requests_per_day": -5}, {"requests_per_day": "many"}, {"mode": "warp"},
                   {"bogus": 1}):  # fmt: skip
        with pytest.raises(ValueError, match="validation error for ProjectWorkload"):
            cfg.workloads[1].model_copy(update=change)
    more = cfg.model_copy(
        update={"workloads": (cfg.workloads[0], cfg.workloads[1].model_copy(update={"name": "c"}))}
    )
    assert [w.name for w in more.workloads] == ["a", "c"]
    dated = cfg.model_copy(update={"as_of": "2026-11-26"})
    assert dated.as_of == dt.date(2026, 11, 26)
    # 2 x 10 a day x 30 days x (10 x $2.50 + 10 x $10) / 1M
    assert costcalc.check_budgets(dated).total_monthly == Decimal("0.075")


def test_date_arguments_take_a_date_or_its_iso_text_and_paths_a_str_or_pathlike(
    tmp_path: Path,
) -> None:
    """Each raised AttributeError ('str' object has no attribute 'isoformat') or a TypeError
    of an operator ('<=' date and str; '/' str and str) for an ISO text or a str folder."""
    day, text = dt.date(2026, 12, 1), "2026-12-01"
    table = costcalc.load_price_table()
    assert costcalc.stale_report(table, 90, today=text) == costcalc.stale_report(table, 90, day)
    assert costcalc.price_sheet(table, "gpt-4o", on=text).on == day
    assert costcalc.price_list(table, on=text).on == day
    assert costcalc.exercise(as_of=text).prices_as_of == costcalc.exercise(as_of=day).prices_as_of
    data = Path(__file__).parent / "data" / "litellm_prices.json"
    home = tmp_path / "home"
    for source, folder in ((data, str(home)), (str(data), home)):
        update = costcalc.update_prices(source, home=folder, today=text)
        assert update.on == day and update.written == str(home / "prices-update.json")
    assert costcalc.price_update_file(str(home)) == costcalc.price_update_file(home)
    assert costcalc.remove_price_update(home=str(home)).removed
    known = tmp_path / "known.yaml"
    known.write_text("known: []\n", encoding="utf-8")
    assert costcalc.audit_prices(table, on=text, known=True).unused_known == []  # the shipped list
    audit = costcalc.audit_prices(table, data, on=text, known=known)
    assert audit.on == day and audit == costcalc.audit_prices(
        table, str(data), on=day, known=str(known)
    )


def test_check_budgets_takes_a_config_or_its_path_and_names_the_file_loaded(
    tmp_path: Path,
) -> None:
    """A loaded config's check said `costcalc check costcalc.yaml` whatever file it was; a
    path was refused though diff_budgets takes paths; a DiffReport had no .passed."""
    config = tmp_path / "proposed.yaml"
    config.write_text(BASE_CONFIG.replace("as_of:", "budgets: {monthly: 1}\nas_of:"))
    loaded = costcalc.check_budgets(costcalc.load_config(str(config)))
    assert loaded.config == str(config) and loaded.failed and not loaded.passed
    assert costcalc.render_result(loaded, "table").startswith(f"costcalc check {config}: FAILED")
    dated = costcalc.load_config(str(config)).model_copy(update={"as_of": "2026-11-26"})
    assert costcalc.check_budgets(dated).config == str(config)  # a copy keeps its file
    for given in (config, str(config)):
        assert costcalc.check_budgets(given).model_dump() == loaded.model_dump()
    assert costcalc.check_budgets(config, "named.yaml").config == "named.yaml"
    assert costcalc.check_budgets(costcalc.ProjectConfig()).config == "costcalc.yaml"
    diff = costcalc.diff_budgets(config, config, fail_on_increase=0)
    assert diff.passed and not diff.failed
    assert "passed" not in diff.model_dump() and "failed" not in loaded.model_dump()


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_one_quote_renders_as_the_report_of_it_alone(fmt: str) -> None:
    """render_result(quote(w), "table") was UnknownFormatError (it had json only)."""
    w = _w(as_of="2026-11-26")
    text = costcalc.render_result(costcalc.quote(w), fmt)
    assert text == costcalc.render_result(costcalc.quote_all([w]), fmt)
    assert text.startswith("workload: gpt-4o" if fmt == "table" else "### ")
