"""Reconciling provider batch output files: actual cost, outcomes, and the input requests
with no result."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from costcalc.batch.formats import (
    OUTCOMES,
    LineFormat,
    LineUsage,
    is_object,
    keys_decide,
    known_names,
    result_format,
)
from costcalc.batch.idstore import IdStore, compare, first_repeat
from costcalc.batch.validate import FileReport, _read_lines, validate_lines
from costcalc.cost import mode_costs
from costcalc.errors import (
    CostcalcError,
    InputFileError,
    RequestError,
    UsageError,
    arg,
    path_arguments,
    printable,
    quoted,
)
from costcalc.jsonlines import JsonError, parse_json, plain_object, reads_as_text
from costcalc.money import MoneyOut, per_thousand, tidy
from costcalc.prices.table import REQUEST_FEE
from costcalc.tokens.encodings import ModelTokenizer, tokenizer_for
from costcalc.tokens.engine import count_jsonl_block
from costcalc.tokens.requests import CountSpec, request_count
from costcalc.tokens.tally import Tally, tally_count
from costcalc.units import date_argument

if TYPE_CHECKING:
    from costcalc.prices import PricedModel, PriceTable
    from costcalc.tokens.result import TokenCount


# --- reconcile ------------------------------------------------------------------------------


class Usage(BaseModel):
    input_tokens: int = 0
    """Uncached input tokens."""
    cached_input_tokens: int = 0
    cache_write_tokens: int = 0
    """Tokens written to a 5-minute cache (and writes whose lifetime is not reported)."""
    cache_write_1h_tokens: int = 0
    """Tokens written to a 1-hour cache (Anthropic's ephemeral_1h)."""
    output_tokens: int = 0


class Reconciliation(BaseModel):
    currency: str
    model: str | None
    outcomes: dict[str, int]
    usage: Usage
    actual_cost: MoneyOut
    """What the succeeded requests cost at batch prices (the others bill nothing)."""
    prices_as_of: dt.date
    """The date whose prices apply (``as_of``, else today)."""
    prices_checked: dt.date
    """When those prices were last checked against their source."""
    price_source: str
    price_read: str | None = None
    """What was read on ``prices_checked`` when it was not ``price_source`` itself (``a
    stored copy``)."""
    price_origin: str | None = None
    """The data the prices were taken from when no one checked them against the source
    (``genai-prices 0.2.3``); None: checked on ``prices_checked``."""
    estimate: MoneyOut | None = None
    """Batch cost of the input as estimated before upload (output at max_tokens)."""
    estimate_basis: str | None = None
    difference: MoneyOut | None = None
    """actual_cost - estimate."""
    input_requests: int | None = None
    missing: list[str] = []
    """custom_ids of input requests with no result line."""
    unexpected: list[str] = []
    """custom_ids of results that are not in the input."""
    assumed: list[str] = []
    notes: list[str] = []
    """What the figures rest on that the reader may not expect (a model given over the one
    the results name)."""


_SOME_INPUT = 5
"""Index, in a band's sums, of the whole input of one of its requests (which picks its rates)."""
_REQUESTS = 6
"""Index, in a band's sums, of how many requests it has (a fee per request bills them)."""


class _Billed:
    """Succeeded requests' billed tokens, summed in plain ints per long-context price band
    (every request of a band is billed at the same rates). The bands are the model's, known
    once a line names it (or ``model`` is given); until then, and for a model that cannot be
    priced, sums are kept per whole input size and put in bands when the prices are known."""

    def __init__(self, table: PriceTable, model: str | None, as_of: dt.date | str | None):
        self.table = table
        self.as_of = as_of
        self.result_model: str | None = None
        """The first model a succeeded result names."""
        self.bounds: list[int] | None = None
        """Long-context tier bounds of the model (None: not known yet)."""
        self.by_key: dict[int, list[int]] = {}
        """Band (bounds known) -> [input, cached, 5m write, 1h write, output, some input,
        requests]."""
        self.by_size: dict[int, list[int]] = {}
        """Whole input -> the same sums, for requests read before the bounds were known."""
        self.tried = False
        self.same_model: set[str] = set()
        """Names results give that are the first one's model (each checked once)."""
        if model:
            self.learn(model)

    def check_model(self, name: str, where: str) -> None:
        """A result naming another model than the first result did is refused: one price
        applies to the whole run, so it would be priced at the wrong model without a word (a
        batch has one model; two batches' results given together have two)."""
        first = self.result_model
        assert first is not None
        try:
            same = self.table.prices(first, self.as_of).model.id == (
                self.table.prices(name, self.as_of).model.id
            )
        except ValueError:  # a name without prices: only the same name is the same model
            same = False
        if not same:
            raise CostcalcError(
                f"{where}: this result names model {quoted(name)}, an earlier one "
                f"{quoted(first)}: reconcile prices one model at a time (give each batch's "
                "results on their own)"
            )
        self.same_model.add(name)

    def learn(self, name: str) -> None:
        """Take the bands of model ``name`` (the one reconcile prices at), if it has prices;
        a model that has none is reported where reconcile prices it."""
        self.tried = True
        try:
            tiers = self.table.prices(name, self.as_of).period.tiers
        except ValueError:  # CostcalcError included
            return
        self.bounds = [t.above_input_tokens for t in tiers]
        self.by_key = {}

    def band(self, whole_input: int) -> int:
        """``ModelPrices.band``: the last tier whose bound the input is above (0: none)."""
        band = 0
        for i, bound in enumerate(self.bounds or (), 1):
            if whole_input > bound:
                band = i
        return band

    def by_band(self, prices: Any) -> list[list[int]]:
        """The sums of each band of ``prices`` (the model priced at the end: the one whose
        bands were read, so each sum, put in a band by one of its inputs, stays whole)."""
        bands: dict[int, list[int]] = {}
        for source in (self.by_size, self.by_key):
            for sums in source.values():
                key = prices.band(sums[_SOME_INPUT])
                into = bands.get(key)
                if into is None:
                    bands[key] = list(sums)
                else:
                    for i in range(5):
                        into[i] += sums[i]
                    into[_REQUESTS] += sums[_REQUESTS]
        return list(bands.values())


def _count_spec(tok: ModelTokenizer) -> CountSpec:
    """How ``count_file`` counts requests for a model of this tokenizer."""
    return CountSpec(tok.encoding, tok.overhead, None, "strict")


def _upload_spec(table: PriceTable, name: str, as_of: dt.date | str | None) -> CountSpec | None:
    """``_count_spec`` of the model reconcile will price at, if it has prices and a tokenizer
    (else None: reconcile says what is wrong where it prices it)."""
    try:
        return _count_spec(tokenizer_for(table.prices(name, as_of).model.id, table))
    except ValueError:  # CostcalcError included
        return None


class _Uploaded:
    """What reconcile takes from each line of the uploaded files as ``batch validate`` reads
    them (one parse): the custom_ids (against the results', at the end), and the requests'
    input tokens as ``count_file`` counts them. Errors wait for the end, to be raised in the
    order of the steps that found them before (ids, then counting)."""

    def __init__(self, ids: IdStore, spec: CountSpec | None) -> None:
        self.ids = ids
        """Each id with (its file's index in ``paths`` << 40 | its line): input order."""
        self.paths: dict[str, int] = {}
        self.spec = spec
        self.tally = Tally.empty(spec.encoding) if spec is not None else None
        self.count_error: InputFileError | None = None

    def __call__(self, path: str, number: int, raw: bytes, obj: Any, fmt: Any) -> None:
        if fmt is not None:
            cid = fmt.custom_id_of(obj)
            if isinstance(cid, str):
                file = self.paths.setdefault(path, len(self.paths))
                self.ids.add(cid, file << 40 | number)  # input order, and where
            elif cid is not None:  # skipped, it would be reported missing: say what it is
                raise CostcalcError(f"{path}:{number}: {_not_an_id(fmt.id_name, cid)}")
        if self.tally is not None and self.count_error is None:
            self._count(path, number, raw, obj)

    def where(self, at: int) -> str:
        """``file:line`` of an id's place."""
        return f"{list(self.paths)[at >> 40]}:{at & _LINE}"

    def _count(self, path: str, number: int, raw: bytes, obj: Any) -> None:
        """One request counted as ``count_file`` counts it (``count_jsonl_block``)."""
        spec, tally = self.spec, self.tally
        assert spec is not None and tally is not None
        if obj is None or not reads_as_text(raw):  # the counter's own reading says what
            part = count_jsonl_block(spec, raw, number)
            if part.error is not None:
                self.count_error = InputFileError(path, part.error[1], part.error[0])
            else:
                tally += part
            return
        try:
            tokens, chat, refused = request_count(obj, spec)
        except (RequestError, CostcalcError) as exc:
            self.count_error = InputFileError(path, str(exc), number)
            return
        tally.add(tokens, refused=refused, chat=chat)

    def counted(self, inputs: Sequence[str], model: str, table: PriceTable) -> TokenCount:
        """The token count of the uploaded files, as ``count_file(inputs, model)`` makes it:
        from this pass when it read them as count_file does (plain JSONL files, counted for
        that model), else by count_file."""
        from costcalc.tokens.count import count_file
        from costcalc.tokens.readers import detect_format
        from costcalc.tokens.requests import STDIN
        from costcalc.tokens.sources import is_compressed, is_remote

        tok = tokenizer_for(model, table)
        plain = all(
            name != STDIN
            and not is_remote(name)
            and detect_format(name, None, None) == "jsonl"
            and not is_compressed(name)
            for name in inputs
        )
        if not plain or self.tally is None or self.spec != _count_spec(tok):
            return count_file(list(inputs), model, table=table)
        if self.count_error is not None:
            raise self.count_error
        self.tally.inputs = list(inputs)
        return tally_count(self.tally, tok)


_LINE = (1 << 40) - 1
"""A result's place: its file's index << 40 | its line number."""


def _read_results(
    path: str, file: int, outcomes: Counter[str], ids: IdStore, billed: _Billed
) -> None:
    """Read one output file line by line, each parsed once: its outcomes, its ids (kept to
    check that none has two results) and its succeeded requests' tokens, summed per band."""
    by_size = billed.by_size
    ids_add, at_add, held, limit = ids.ids.append, ids.at.append, ids.ids, ids.limit
    base = file << 40
    # the format of lines with the keys of one read before, where the keys decide it (as
    # they do for every built-in format but a Vertex line's): asking each format again took
    # a tenth of a line's time
    formats: dict[tuple[str, ...], LineFormat] = {}
    for number, raw in _read_lines(path):
        if not raw.strip():
            continue
        obj = plain_object(raw)
        line: LineUsage | None = None
        fmt = formats.get(tuple(obj)) if obj is not None else None
        if fmt is not None and (plain := fmt.plain_success(obj)) is not None:
            # a succeeded result of the usual shape: the checks below, the long way, pass
            cid = fmt.custom_id_of(obj)
            outcome, line_model = "succeeded", plain[1]
            line = plain[0]
            used: Any = line
            if type(cid) is not str:
                line = None  # the long way says what is wrong with it
        if line is None:
            fmt, cid, outcome, used, line_model = _result_line(raw, obj, path, number, formats)
        ids_add(cid)  # checked at the end (or at an error): the same result twice is an error
        at_add(base | number)
        if len(held) >= limit:
            ids.spill()
        outcomes[outcome] += 1
        if used is None:
            continue
        if line_model is not None and not isinstance(line_model, str):
            raise CostcalcError(
                f"{path}:{number}: the result's model must be text, got {type(line_model).__name__}"
            )
        if not billed.result_model:  # the first that names one (as `a or b` picks)
            billed.result_model = line_model
            if line_model and not billed.tried:
                billed.learn(line_model)
        elif (
            line_model
            and line_model != billed.result_model
            and (line_model not in billed.same_model)
        ):
            billed.check_model(line_model, f"{path}:{number}")
        if line is None:
            assert fmt is not None  # the long way found it
            line = fmt.usage(used, f"{path}:{number}")
        whole = line[0] + line[1] + line[2] + line[3]
        if billed.bounds is None:
            key, sums_of = whole, by_size
        else:
            key, sums_of = (billed.band(whole) if billed.bounds else 0), billed.by_key
        sums = sums_of.get(key)
        if sums is None:
            sums_of[key] = [*line, whole, 1]
        else:
            sums[0] += line[0]
            sums[1] += line[1]
            sums[2] += line[2]
            sums[3] += line[3]
            sums[4] += line[4]
            sums[6] += 1


def _result_line(
    raw: bytes,
    obj: Any,
    path: str,
    number: int,
    formats: dict[tuple[str, ...], LineFormat],
) -> tuple[LineFormat, str, str, Any, Any]:
    """(format, id, outcome, usage object or None, model) of a result line read the long
    way: every check, each failure an error naming the line. ``obj`` is the line as
    ``plain_object`` read it (None: it did not)."""
    where = f"{path}:{number}"
    if obj is None:
        try:
            obj = parse_json(raw)
        except JsonError as exc:
            why = "invalid JSON" if exc.reason.startswith("invalid JSON") else exc.reason
            raise CostcalcError(f"{where}: {why} (is this a batch output file?)") from None
        except UnicodeDecodeError:
            raise CostcalcError(f"{where}: invalid JSON (is this a batch output file?)") from None
    if not is_object(obj):
        raise CostcalcError(f"{where}: expected a JSON object")
    fmt = result_format(obj)
    if fmt is None:
        if not isinstance(obj.get("custom_id"), str):
            raise CostcalcError(f"{where}: custom_id is missing (not a batch output line?)")
        raise CostcalcError(
            f"{where}: not an output line of a known batch line format ({known_names()})"
        )
    keys = tuple(obj)
    if keys not in formats and keys_decide(keys):
        formats[keys] = fmt
    cid = fmt.custom_id_of(obj)
    if not isinstance(cid, str):
        if cid is not None:
            raise CostcalcError(f"{where}: {_not_an_id(fmt.id_name, cid)}")
        raise CostcalcError(f"{where}: {fmt.id_name} is missing (not a batch output line?)")
    outcome, used, line_model = fmt.outcome(obj, where)
    return fmt, cid, outcome, used, line_model


def reconcile(
    outputs: Sequence[str],
    inputs: Sequence[str] = (),
    model: str | None = None,
    table: PriceTable | None = None,
    as_of: dt.date | str | None = None,
) -> Reconciliation:
    """Actual cost of provider batch output files at batch prices, against the estimate for
    the input files, with outcomes and the input requests that have no result."""
    from costcalc.prices import load_price_table

    if as_of is not None:  # checked here, where the Python API names it
        as_of = date_argument(as_of, "as_of", "reconcile_batch")
    outputs = path_arguments(outputs, "outputs", "reconcile_batch")
    inputs = path_arguments(inputs, "inputs", "reconcile_batch")
    table = table or load_price_table()
    with IdStore() as result_ids, IdStore() as uploaded_ids:
        return _reconcile(outputs, inputs, model, table, as_of, result_ids, uploaded_ids)


def _writable(cid: str) -> str:
    """An id as JSON can write it: a lone surrogate (json.loads lets one through) escaped as
    ``\\ud800`` (pydantic's writer refused the whole report)."""
    if cid.isascii():
        return cid
    return cid.encode("utf-8", "backslashreplace").decode("utf-8")


def _not_an_id(name: str, value: object) -> str:
    shown = printable(repr(value), 40)
    return f"{name} is {shown}, expected a string (batch APIs take string ids)"


def _twice(paths: Sequence[str], ids: IdStore) -> CostcalcError | None:
    """The error of the first result of an id read before (the read stopped there)."""
    repeat = first_repeat(ids)
    if repeat is None:
        return None
    at, cid, _ = repeat
    return CostcalcError(
        f"{paths[at >> 40]}:{at & _LINE}: custom_id {quoted(cid)} has a result already (is "
        "a file given twice?)"
    )


def _reconcile(
    outputs: Sequence[str],
    inputs: Sequence[str],
    model: str | None,
    table: PriceTable,
    as_of: dt.date | str | None,
    result_ids: IdStore,
    uploaded_ids: IdStore,
) -> Reconciliation:
    outcomes: Counter[str] = Counter(dict.fromkeys(OUTCOMES, 0))
    billed = _Billed(table, model, as_of)
    try:
        for file, path in enumerate(outputs):
            _read_results(path, file, outcomes, result_ids, billed)
    except Exception:
        # every id kept was read before what failed: a repeat among them came first
        if (twice := _twice(outputs, result_ids)) is not None:
            raise twice from None
        raise
    if (twice := _twice(outputs, result_ids)) is not None:
        raise twice
    result_model = billed.result_model
    name = model or result_model
    uploaded = _Uploaded(uploaded_ids, _upload_spec(table, name, as_of) if name else None)
    # validated first: for lines that name no model (bedrock, vertex), the manifests of the
    # inputs name it; the same pass reads their ids and counts their tokens
    report = validate_lines(inputs, None, None, table, model, uploaded) if inputs else None
    if name is None and report is not None:
        name = next((f.model for f in report.files if f.model), None)
    if name is None:
        raise UsageError(
            f"no succeeded result names its model; give {arg('model')} (bedrock and vertex "
            f"results never do: so can {arg('inputs')} with the manifest batch build wrote)"
        )
    priced = table.priced(name, as_of)  # the day the batch ran: prices change
    prices = priced.prices
    _warn_about_the_day(priced, as_of)
    batch = prices.mode("batch")
    if not batch.available:
        raise UsageError(f"{prices.model.id}: {batch.reason}")

    usage = Usage()
    actual = Decimal(0)
    assumed: set[str] = set()
    for sums in billed.by_band(prices):
        # long-context prices apply per request, by its whole input (cache reads and writes
        # included, as Anthropic counts it): every request of a band has the same rates, so
        # a band's tokens are priced once, from their sum
        rates = prices.mode("batch", sums[_SOME_INPUT])
        billed_tokens = {
            component: tokens
            for component, tokens in zip(LineUsage._fields, sums, strict=False)
            if tokens
        }
        actual += sum(mode_costs(billed_tokens, rates).values(), Decimal(0))
        assumed.update(c for c in billed_tokens if c in rates.assumed)
        if rates.request_fee is not None:  # succeeded requests only: the others bill nothing
            actual += per_thousand(sums[_REQUESTS], rates.request_fee)
            if rates.request_fee_note:  # standard's fee, taken for batch
                assumed.add(REQUEST_FEE)
        usage.input_tokens += sums[0]
        usage.cached_input_tokens += sums[1]
        usage.cache_write_tokens += sums[2]
        usage.cache_write_1h_tokens += sums[3]
        usage.output_tokens += sums[4]
    result = Reconciliation(
        currency=prices.currency,
        model=prices.model.id,
        outcomes=dict(outcomes),
        usage=usage,
        actual_cost=tidy(actual),
        prices_as_of=prices.on,
        prices_checked=prices.period.as_of,
        price_source=prices.period.source,
        price_read=prices.period.read,
        price_origin=prices.period.origin,
        # only the assumed prices this usage was billed at
        assumed=[c for c in (*LineUsage._fields, REQUEST_FEE) if c in assumed],
    )
    if model and result_model and _model_id(table, result_model) != prices.model.id:
        result.notes.append(
            f"the results name {printable(result_model)}; priced as {prices.model.id}, the "
            "model given"
        )
    if inputs:
        assert report is not None
        repeat = first_repeat(uploaded_ids)
        if repeat is not None:
            at, cid, first = repeat
            raise CostcalcError(
                f"{uploaded.where(at)}: custom_id {quoted(cid)} is in the input twice, first at "
                f"{uploaded.where(first)} (is a file given twice?)"
            )
        if not uploaded_ids:
            raise UsageError(
                f"{', '.join(inputs)}: no request with a custom_id: {arg('inputs')} takes the "
                "batch file(s) that were uploaded"
            )
        counted = uploaded.counted(inputs, prices.model.id, table)
        max_out = sum(f.max_tokens_total for f in report.files)
        from costcalc.billing import request_groups, tier_bounds

        estimate = Decimal(0)
        for group in request_groups(counted.sizes(), tier_bounds(prices), counted.requests):
            # each group at its own tier; output at max_tokens, shared by requests
            rates = prices.mode("batch", group.tier_input())
            share = Decimal(max_out) * group.requests / counted.requests
            costs = mode_costs({"input": group.input_tokens, "output": share}, rates)
            estimate += costs["input"] + costs["output"]
            if rates.request_fee is not None:
                estimate += per_thousand(group.requests, rates.request_fee)
        estimate = tidy(estimate)
        result.estimate = estimate
        result.estimate_basis = (
            f"{counted.tokens:,} input tokens counted offline ({counted.encoding}"
            f"{', estimated' if counted.estimate else ''}), {max_out:,} output tokens at max_tokens"
        )
        if others := _other_models(table, report.files, prices.model.id):
            whose = "given" if model else "the results name"
            result.estimate_basis += (
                f"; the input names {others}, not {prices.model.id}: priced as "
                f"{prices.model.id}, the model {whose} (are these the files of one batch?)"
            )
        if unlimited := sum(f.without_max_tokens for f in report.files):
            result.estimate_basis += (
                f"; {unlimited:,} of {counted.requests:,} requests give no output limit "
                "(max_tokens): their output is not in the estimate"
            )
        result.difference = actual - estimate
        result.input_requests = len(uploaded_ids)  # no id twice: each is one request
        missing, unexpected = compare(uploaded_ids, result_ids)
        result.missing = [_writable(cid) for _, cid in sorted(missing)]  # in input order
        result.unexpected = [_writable(cid) for cid in sorted(unexpected)]
    return result


def _warn_about_the_day(priced: PricedModel, as_of: dt.date | str | None) -> None:
    """What a quote says of its day, said of a batch's: a model retired by then, a day to
    come (no batch has run on it: the latest prices stand for it)."""
    import warnings

    from costcalc.calculator import _warn_if_retired  # quote's own words
    from costcalc.errors import CostcalcWarning
    from costcalc.units import today

    _warn_if_retired(priced)
    prices = priced.prices
    if isinstance(as_of, dt.date) and as_of > today():
        warnings.warn(
            f"{as_of} is in the future, when no batch has run: {prices.model.id} is priced at "
            f"the latest known prices (checked {prices.period.as_of})",
            CostcalcWarning,
            stacklevel=3,
        )


def _model_id(table: PriceTable, name: str) -> str:
    """The id of the model ``name`` resolves to (a snapshot or alias is its model); the name
    itself when the table does not know it."""
    try:
        return table.find(name)[1].id
    except CostcalcError:
        return name


def _other_models(table: PriceTable, files: Sequence[FileReport], model_id: str) -> str:
    """The models the input files name that are not ``model_id`` (a snapshot or alias of it
    is it), for the estimate's words; empty when they all name it (or none)."""
    others = []
    for name in dict.fromkeys(f.model for f in files if f.model):
        if _model_id(table, name) != model_id:  # not in the table: another model
            others.append(name)
    return ", ".join(others)
