"""Quoting batch files ready to upload: standard against batch."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from costcalc.batch.validate import validate_files
from costcalc.errors import CostcalcError, UsageError, arg, path_arguments

if TYPE_CHECKING:
    from costcalc.calculator import QuoteReport
    from costcalc.prices import PriceTable


def quote_files(
    paths: Sequence[str],
    output_tokens: int | None = None,
    table: PriceTable | None = None,
    model: str | None = None,
) -> QuoteReport:
    """Token counts and cost, standard against batch, for batch files ready to upload.

    ``model``: the model of files whose lines name none (bedrock, vertex), when no manifest
    of ``batch build`` beside them names it."""
    from costcalc.calculator import QuoteReport, quote
    from costcalc.prices import load_price_table, require_table
    from costcalc.workload import Workload

    paths = path_arguments(paths, "paths", "quote_batch_files")
    require_table(table, "quote_batch_files")
    table = table or load_price_table()
    report = validate_files(paths, table=table, model=model)
    for f in report.files:
        if f.problems:
            raise CostcalcError(f"{f.problems[0]} (run costcalc batch validate)")
        if f.model is None:
            raise UsageError(
                f"{f.file}: {f.provider} lines do not name their model (the batch job does): "
                f"give {arg('model')}, or keep the manifest batch build wrote beside the file"
            )
        if f.without_max_tokens and output_tokens is None:  # never quoted at 0 output
            n, limit = f.without_max_tokens, f.output_limit
            which = (
                f"{n:,} of {f.requests:,} requests give no output limit ({limit}), this "
                "line the first, so their"
                if n > 1
                else f"this request gives no output limit ({limit}), so its"
            )
            raise UsageError(
                f"{f.file}:{f.first_without_max_tokens}: {which} output size is unknown: give "
                f"the expected output tokens per request with {arg('output_tokens N')}"
            )
    quotes = []
    for f in report.files:
        assert f.model is not None
        out = (
            Decimal(output_tokens)
            if output_tokens is not None
            else Decimal(f.max_tokens_total) / Decimal(f.requests)
        )
        if output_tokens is not None:
            basis = "output given"
        elif f.output_limit is None:  # embeddings: no output to quote
            basis = "no output"
        else:
            basis = f"output at {f.output_limit}"
        # measured from the file, so long-context prices apply request by request
        quotes.append(
            quote(
                Workload(
                    name=f"{f.file} ({basis})",
                    model=f.model,
                    input_file=f.file,
                    output_tokens=out,
                    modes=["request", "batch"],
                ),
                table,
            )
        )
    return QuoteReport.of(quotes)
