"""Checking batch files before upload."""

from __future__ import annotations

import io
import math
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from costcalc.batch.formats import LineFormat, request_format
from costcalc.batch.idstore import IdStore, repeats
from costcalc.errors import CostcalcError, InputFileError, open_input, path_arguments, quoted
from costcalc.jsonlines import JsonError, parse_json, read_lines
from costcalc.requests import lone_surrogate

if TYPE_CHECKING:
    from costcalc.prices import BatchRule, PriceTable


# --- validate -------------------------------------------------------------------------------


class FileReport(BaseModel):
    file: str
    provider: str | None
    """The line format of the file's requests."""
    model: str | None
    """The model its lines name; for a format whose lines name none (bedrock, vertex), the
    one given (``--model``) or named by the manifest ``batch build`` wrote beside the file."""
    requests: int
    bytes: int
    max_tokens_total: int
    without_max_tokens: int = 0
    """Requests that write output and give no output limit (max_tokens, or the format's
    name for it): their output size is unknown, so ``batch quote`` needs one given."""
    first_without_max_tokens: int | None = None
    """The line of the first of them."""
    output_limit: str | None = "max_tokens"
    """The request field that gives the output limit (``max_output_tokens`` for the Responses
    API); None: the file's requests write no output (embeddings)."""
    problems: list[str]


class ValidationReport(BaseModel):
    valid: bool
    files: list[FileReport]
    problems: int


def _read_lines(path: str) -> Iterator[tuple[int, bytes]]:
    """(line number, bytes) of a file; a file that cannot be read is bad input (exit 2), as
    is a compressed one (batch APIs take plain JSONL; "not valid UTF-8" said nothing)."""
    from costcalc.tokens.sources import compression_of

    with open_input(path, "JSONL file") as f:
        head = f.peek(8)[:8] if isinstance(f, io.BufferedReader) else b""
        if (kind := compression_of(head)) is not None:
            raise InputFileError(
                path,
                f"is {kind}-compressed: batch files, to upload and of results, are plain JSONL",
            )
        yield from read_lines(f, path)


class ContextGuard:
    """Finds requests over a model's input limit without counting every request: a token is
    at least one byte of the line, so only a line longer than the limit (times the model's
    calibration factor) can be over it, and only such lines are counted."""

    def __init__(self, table: PriceTable, model: str) -> None:
        from costcalc.tokens.encodings import tokenizer_for
        from costcalc.tokens.requests import CountSpec

        self.tok = tokenizer_for(model, table)
        self.limit = self.tok.context_limit
        self.spec = CountSpec(self.tok.encoding, self.tok.overhead, None, "strict")
        # no known limit: no line is suspect
        self.shortest_suspect = (
            math.floor(self.limit / self.tok.factor) if self.limit is not None else sys.maxsize
        )

    def over(self, line: bytes, request: Mapping[str, Any]) -> str | None:
        """Why the request is too long for the model, or None."""
        if len(line) <= self.shortest_suspect:
            return None
        from costcalc.errors import RequestError
        from costcalc.tokens.requests import request_tokens

        try:
            tokens = self.tok.scale(request_tokens(request, self.spec)[0])
        except (RequestError, CostcalcError):
            return None  # a malformed request is reported by the checks that find it
        if self.limit is None or tokens <= self.limit:
            return None
        return f"{tokens:,} input tokens, over {self.tok.model}'s limit of {self.limit:,}"


_PART = re.compile(r"(.+)-\d{3,}\.jsonl")
"""A part ``batch build`` wrote: ``<stem>-001.jsonl``, beside ``<stem>.manifest.json``."""


def manifest_model(path: str, line_format: str) -> str | None:
    """The model the manifest of ``batch build`` names for this part, if the part is listed
    in the manifest beside it and written in ``line_format`` (else None)."""
    part = Path(path)
    match = _PART.fullmatch(part.name)
    if match is None:
        return None
    try:
        manifest = parse_json((part.parent / f"{match[1]}.manifest.json").read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or manifest.get("provider") != line_format:
        return None
    parts = manifest.get("parts")
    listed = isinstance(parts, list) and any(
        isinstance(p, dict) and p.get("file") == part.name for p in parts
    )
    model = manifest.get("model")
    return model if listed and isinstance(model, str) else None


def validate_files(
    paths: Sequence[str],
    *,
    max_requests: int | None = None,
    max_bytes: int | None = None,
    table: PriceTable | None = None,
    model: str | None = None,
) -> ValidationReport:
    """Check batch files before upload; problems name file and line.

    ``model`` is the model of files whose lines name none (bedrock, vertex: the batch job
    names it); without it, such a file's model is the one the manifest of ``batch build``
    beside it names, if any. Files whose lines name their model are checked against those."""
    from costcalc.prices import load_price_table

    paths = path_arguments(paths, "paths", "validate_batch_files")
    return validate_lines(paths, max_requests, max_bytes, table or load_price_table(), model)


LineHook = Callable[[str, int, bytes, Any, "LineFormat | None"], None]
"""``(file, line number, bytes, parsed value or None if not JSON, the line's request format
or None if not an object)``: what ``validate_lines`` read of each non-blank line."""


def validate_lines(
    paths: Sequence[str],
    max_requests: int | None,
    max_bytes: int | None,
    table: PriceTable,
    model: str | None,
    each_line: LineHook | None = None,
) -> ValidationReport:
    """``validate_files``, handing each line as parsed to ``each_line`` too (so a reader
    that needs the files checked and read, as reconcile does, parses each line once)."""
    with IdStore() as ids:
        seen = _SeenIds(paths, ids)
        reports = []
        for path in paths:
            reports.append(
                _validate_file(path, seen, max_requests, max_bytes, table, model, each_line)
            )
            seen.file += 1
        seen.report_repeats(reports)
    total = sum(len(r.problems) for r in reports)
    return ValidationReport(valid=total == 0, files=reports, problems=total)


_BITS = 64
_MASK = (1 << _BITS) - 1


class _SeenIds:
    """The ids of the files checked, each with where it was used and where in its file's
    problems an id used before is reported: ``IdStore`` keeps them in bounded memory, and
    ids used twice are found, and their problems put in place, once every file is read."""

    def __init__(self, paths: Sequence[str], ids: IdStore) -> None:
        self.paths = paths
        self.ids = ids
        self.file = 0
        """Index of the file being checked."""
        self.id_names: dict[int, str] = {}
        """What each file's format calls the custom_id."""

    def add(self, cid: str, line: int, slot: int) -> None:
        """``cid`` used on ``line`` of the current file; were it used before, the problem
        would be its problem number ``slot`` (ordered as read: file, line, slot)."""
        self.ids.add(cid, ((self.file << _BITS | line) << _BITS) | slot)

    def report_repeats(self, reports: list[FileReport]) -> None:
        """Put the problem of each id used before in its file's problems, where the check
        of its line would have put it."""
        found: dict[int, list[tuple[int, int, str]]] = {}
        for at, cid, first in repeats(self.ids):
            file, line, slot = at >> 2 * _BITS, at >> _BITS & _MASK, at & _MASK
            was = f"{self.paths[first >> 2 * _BITS]}:{first >> _BITS & _MASK}"
            found.setdefault(file, []).append((slot, line, f"{self.paths[file]}:{line}: "
                f"{self.id_names[file]} {quoted(cid)} is also used at {was}"))  # fmt: skip
        for file, problems in found.items():
            into = reports[file].problems
            for slot, _, problem in sorted(problems, reverse=True):  # later ones first
                into.insert(slot, problem)


def _job_model(
    path: str, fmt: LineFormat, given: str | None, table: PriceTable
) -> tuple[str | None, list[str]]:
    """The model of a file whose lines name none, and a problem if the price table says that
    model's batch files are in another format (its prices would not be the ones billed)."""
    model = given or manifest_model(path, fmt.name)
    if model is None:
        return None, []
    try:
        prov, entry = table.find(model)
    except CostcalcError as exc:  # an unknown model: the file cannot be priced
        return model, [f"{path}: {exc}"]
    rule = prov.batch
    own = rule.line_format if rule is not None else None
    if own != fmt.name:
        return model, [
            f"{path}: {entry.id} is a model of {prov.provider}, whose batch files are "
            f"{own or 'not built'}{' lines' if own else ''}, not {fmt.name} lines"
        ]
    return model, []


def _validate_file(
    path: str,
    seen: _SeenIds,
    max_requests: int | None,
    max_bytes: int | None,
    table: PriceTable,
    given_model: str | None = None,
    each_line: LineHook | None = None,
) -> FileReport:
    problems: list[str] = []
    provider: str | None = None  # the name of the file's line format
    fmt: LineFormat | None = None
    state: dict[str, Any] = {}  # the format's own, for this file
    guard: ContextGuard | None = None
    max_output: int | None = None
    model: str | None = None
    model_line = 0
    requests = size = max_total = unlimited = 0
    first_unlimited: int | None = None
    for number, raw in _read_lines(path):
        size += len(raw)
        if not raw.strip():
            continue
        where = f"{path}:{number}"
        try:
            obj = parse_json(raw)
        except JsonError as exc:
            problems.append(f"{where}: {exc.reason}")
            if each_line is not None:
                each_line(path, number, raw, None, None)
            continue
        except UnicodeDecodeError:
            problems.append(f"{where}: invalid JSON: not valid UTF-8")
            if each_line is not None:
                each_line(path, number, raw, None, None)
            continue
        if (b"NaN" in raw or b"Infinity" in raw) and _not_json_constant(raw):
            problems.append(f"{where}: NaN or Infinity is not JSON (the provider refuses it)")
        if not isinstance(obj, dict):
            problems.append(f"{where}: expected a JSON object, got {type(obj).__name__}")
            if each_line is not None:
                each_line(path, number, raw, obj, None)
            continue
        requests += 1
        line_fmt = request_format(obj)
        if each_line is not None:
            each_line(path, number, raw, obj, line_fmt)
        kind = line_fmt.name
        if fmt is None:
            fmt, provider = line_fmt, kind
            seen.id_names[seen.file] = fmt.id_name
            if not fmt.names_model:  # the job names the model: --model or the manifest
                model, job_problems = _job_model(path, fmt, given_model, table)
                problems += job_problems
                if model is not None:
                    guard = _guard(table, model)
                    max_output = _max_output(table, model)
        elif kind != provider:
            problems.append(f"{where}: a request for {kind} in a file of {provider} requests")
            continue
        cid = fmt.custom_id_of(obj)
        id_name = fmt.id_name
        if not isinstance(cid, str) or not cid:
            problems.append(f"{where}: {id_name} is missing or not a string")
        else:
            problems += fmt.custom_id_problems(cid, where)
            if reason := lone_surrogate(cid):  # the anthropic pattern refuses it; others did not
                problems.append(f"{where}: {id_name} {reason}")
            seen.add(cid, number, len(problems))  # used before: reported here, at the end
        body_key = fmt.body_key
        body = obj.get(body_key)
        problems += fmt.envelope_problems(obj, where, state)
        if not isinstance(body, dict):
            problems.append(f"{where}: {body_key} is missing or not an object")
            continue
        if fmt.names_model:  # else the format checks the request (a model may be refused)
            line_model = body.get("model")
            if not isinstance(line_model, str):
                problems.append(f"{where}: {body_key}.model is missing")
            elif model is None:
                model, model_line = line_model, number
                guard = _guard(table, model)
                max_output = _max_output(table, model)
                problems += _unknown_model(table, model, where)
            elif line_model != model:
                problems.append(
                    f"{where}: model {quoted(line_model)} differs from {quoted(model)} on line "
                    f"{model_line} (one model per file)"
                )
        if guard is not None and (too_long := guard.over(raw, obj)):
            problems.append(f"{where}: {too_long}")
        body_problems, max_tokens = fmt.body_problems(body, where, state)
        problems += body_problems
        # a message key the provider does not take: named with the line's id, to find it
        named = f"{where}: {id_name} {quoted(cid)}" if isinstance(cid, str) and cid else where
        problems += fmt.message_key_problems(body, named)
        if max_output is not None and max_tokens > max_output:  # the provider refuses it
            problems.append(
                f"{where}: asks for up to {max_tokens:,} output tokens, over {model}'s "
                f"maximum output of {max_output:,}"
            )
        max_total += max_tokens
        if not max_tokens and not body_problems and fmt.writes_output(state):
            unlimited += 1
            first_unlimited = first_unlimited or number
    if fmt is not None:
        rule = _model_rule(table, model, fmt.name) or fmt.batch_rule(table)
        limit_requests = max_requests or (rule.max_requests if rule else None)
        limit_bytes = max_bytes or (rule.max_bytes if rule else None)
        if limit_requests and requests > limit_requests:
            problems.append(
                f"{path}: {requests:,} requests, over the limit of {limit_requests:,} per file"
            )
        if limit_bytes and size > limit_bytes:
            problems.append(f"{path}: {size:,} bytes, over the limit of {limit_bytes:,} per file")
    elif requests == 0 and not problems:
        problems.append(f"{path}: no requests")
    return FileReport(
        file=path,
        provider=provider,
        model=model,
        requests=requests,
        bytes=size,
        max_tokens_total=max_total,
        without_max_tokens=unlimited,
        first_without_max_tokens=first_unlimited,
        output_limit=_output_limit(fmt, state),
        problems=problems,
    )


def _output_limit(fmt: LineFormat | None, state: dict[str, Any]) -> str | None:
    if fmt is None:
        return "max_tokens"
    return fmt.output_limit(state) if fmt.writes_output(state) else None


def _unknown_model(table: PriceTable, model: str, where: str) -> list[str]:
    """A model the price table does not know: its batch file cannot be priced or checked."""
    try:
        table.find(model)
    except CostcalcError as exc:
        return [f"{where}: {exc}"]
    return []


def _max_output(table: PriceTable, model: str) -> int | None:
    """The most output tokens ``model`` writes a request (None: not known)."""
    try:
        return table.find(model)[1].max_output_tokens
    except CostcalcError:
        return None  # an unknown model: reported where the files are priced


def _guard(table: PriceTable, model: str) -> ContextGuard | None:
    try:
        return ContextGuard(table, model)
    except CostcalcError:
        return None  # an unknown model: reported where the files are priced


def _model_rule(table: PriceTable, model: str | None, fmt: str) -> BatchRule | None:
    """The Batch API rule of the file's model's provider, when it writes this format (several
    providers may share a format: their limits differ)."""
    if model is None:
        return None
    try:
        prov, _ = table.find(model)
    except CostcalcError:
        return None
    rule = prov.batch
    return rule if rule is not None and rule.line_format == fmt else None


def _not_json_constant(raw: bytes) -> bool:
    """Whether a line holds NaN, Infinity or -Infinity outside its strings: Python's parser
    reads them, the providers' JSON does not."""
    import json

    def refuse(constant: str) -> None:
        raise ValueError(constant)

    try:
        json.loads(raw, parse_constant=refuse)
    except ValueError:
        return True
    return False
