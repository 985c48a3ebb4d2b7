"""The command line's one table of names: the flag of each field or parameter the library names.

Library errors name a field as a Python caller writes it (``rows: must be between ...``); the
command line writes it as the flag that sets it (``--rows: must be between ...``). ``quote``
also reads its options into workload fields through this table.
"""

from __future__ import annotations

from costcalc.errors import Arg, CostcalcError, CostcalcWarning, named

WORKLOAD_FLAGS = {
    "name": "--name", "model": "--model", "requests": "--requests",
    "input_tokens": "--input-tokens", "input_file": "--input-file",
    "input_column": "--column", "input_sample": "--sample", "input_seed": "--seed",
    "input_errors": "--errors",
    "output_tokens": "--output-tokens", "cached_share": "--cached-share",
    "cache_write_share": "--cache-write-share", "cache_ttl": "--cache-ttl",
    "cancel.rate": "--cancel-rate", "cancel.after_tokens": "--cancel-after",
    "cancel.billed_after_cancel": "--billed-after-cancel", "source": "--source",
    "deadline": "--deadline", "value_of_time": "--value-of-time", "tier": "--tier",
    "rate_limits.requests_per_minute": "--rpm", "rate_limits.tokens_per_minute": "--tpm",
    "rate_limits.batch_queue_tokens": "--batch-queue-tokens",
    "rate_limited": "--no-rate-limits", "concurrency": "--concurrency", "modes": "--modes",
    "baseline": "--baseline", "batch_wait": "--batch-wait", "as_of": "--as-of",
}  # fmt: skip
"""Each ``Workload`` field (dotted inside ``cancel`` and ``rate_limits``) -> its flag in
``costcalc quote``."""

FLAGS = {
    **WORKLOAD_FLAGS,
    # costcalc exercise
    "rows": "--rows", "tokens_per_row": "--tokens-per-row", "rate": "--rate",
    "output_share": "--output-share",
    # costcalc tokens (count_file, count_string) and batch build / reconcile, queue flush
    "text": "--text", "messages": "--messages", "field": "--field", "field_path": "--field",
    "column": "--column", "template": "--template", "sample": "--sample", "seed": "--seed",
    "jobs": "--jobs", "errors": "--errors", "input_format": "--input-format",
    "provider": "--provider",
    "max_tokens": "--max-tokens", "max_requests": "--max-requests",
    "max_bytes": "--max-bytes", "id_prefix": "--id-prefix", "inputs": "--input",
    "force": "--force", "out_dir": "--out",
    # costcalc diff
    "fail_on_increase": "--fail-on-increase", "warn_on_increase": "--warn-on-increase",
    # costcalc audit
    "group_by": "--group-by", "mapping": "--mapping", "days_per_month": "--days-per-month",
    "policy": "--policy", "write_config": "--write-config",
    # costcalc prices audit
    "tolerance": "--tolerance", "context_tolerance": "--context-tolerance",
}  # fmt: skip
"""Every field or parameter a library error may name -> the flag that sets it. A name with
no flag here is written as in Python."""


def flag_of(field: Arg) -> str:
    """How the command line writes a field named in a message: ``--errors replace``."""
    flag = FLAGS.get(field.name)
    if flag is None:
        return field.python()
    if field.value is not None and field.value is not True:
        flag += f" {field.value}"
    if field.metavar:
        flag += f" {field.metavar}"
    return f"{field.name} ({flag})" if field.both else flag


def on_command_line(exc: CostcalcError | CostcalcWarning) -> str:
    """The message of ``exc`` (an error or a warning) with each field it names written as
    its flag."""
    return named(exc.marked, flag_of)
