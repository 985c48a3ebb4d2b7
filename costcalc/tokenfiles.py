"""Counting the tokens of real inputs: text files, JSONL request files, CSV exports, stdin.

Files are read in blocks, so memory stays flat on multi-GB inputs: a block of whole JSONL
lines, a batch of CSV rows, or a piece of a text file cut where no token can cross (just after
a newline that is followed by a non-space character). Per-request counts are kept as a
histogram (count of requests per token count), which gives exact percentiles in little memory.

``jobs > 1`` hands blocks to worker processes, at most two per worker in flight. ``sample=N``
counts a uniform random sample of N requests (lines of JSONL, rows of CSV, files of text) and
estimates the total with a 95% confidence interval.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import math
import os
import random
import re
import string
import sys
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from pydantic import BaseModel, PrivateAttr

from costcalc.errors import EMPTY_PROMPT, CostcalcError, InputFileError, UsageError, open_input
from costcalc.tokens import (
    DEFAULT_MODEL,
    ChatOverhead,
    ModelTokenizer,
    count_raw,
    get_encoding,
    message_tokens_raw,
    tokenizer_for,
)

InputFormat = Literal["text", "lines", "jsonl", "json", "csv"]
"""text: a whole file is one request; lines: each non-blank line is one (as `batch build`
reads a text file); jsonl: each line is one; json: a document of one or more; csv: each row."""
Errors = Literal["strict", "replace"]
BLOCK_BYTES = 4 * 1024 * 1024
CSV_BATCH_ROWS = 2000
STDIN = "-"
Progress = Callable[[int], None]

_SURROGATE = re.compile("[\udc80-\udcff]")


# --- results --------------------------------------------------------------------------------


class PerRequest(BaseModel):
    mean: float
    p50: int
    p95: int
    max: int


class Interval(BaseModel):
    low: int
    high: int
    confidence: float


class SampleInfo(BaseModel):
    size: int
    """Requests (lines, rows or files) counted."""
    population: int
    """Lines, rows or files sampled from."""
    seed: int
    """Pass it back with --seed to draw the same sample."""


class TokenCount(BaseModel):
    """What `costcalc tokens` reports; the CLI renders this object."""

    tokens: int
    """Total input tokens (estimated when ``estimate`` is true)."""
    requests: int
    per_request: PerRequest
    over_context: int
    """Requests whose input exceeds the model's context (or input) limit."""
    context_limit: int
    encoding: str
    model: str
    estimate: bool
    estimate_reasons: list[str]
    raw_tokens: int
    """The encoding's own count, before any calibration factor."""
    inputs: list[str]
    sample: SampleInfo | None = None
    interval: Interval | None = None
    _hist: Counter[int] = PrivateAttr(default_factory=Counter)
    """Tokens per request -> requests with that many (of the sample, when sampled)."""

    def sizes(self) -> Counter[int]:
        """Input tokens per request -> requests with that many (of the sample, when sampled):
        long-context prices apply request by request, so a quote needs more than the total."""
        return Counter(self._hist)


# --- what one request is ----------------------------------------------------------------------


@dataclass(frozen=True)
class CountSpec:
    """Everything a worker needs to count a block (picklable)."""

    encoding: str
    overhead: ChatOverhead
    field: tuple[str, ...] | None
    errors: Errors
    prompt_overhead: int = 0
    """Tokens added to a request that is bare text (a prompt, a CSV cell, a line) because it
    will be sent as one user message (as `batch build` writes it); 0: count the text alone."""


class RequestError(Exception):
    """A request line that cannot be counted; carries the message for the user."""


_TEXT_KEYS = ("prompt", "text", "input", "content")


def _dig(obj: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if isinstance(obj, Mapping) and part in obj:
            obj = obj[part]
        elif isinstance(obj, list) and part.isdigit() and int(part) < len(obj):
            obj = obj[int(part)]
        else:
            raise RequestError(f"no field {'.'.join(path)!r}")
    return obj


def _is_messages(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(m, dict) and "role" in m for m in value)
    )


def request_tokens(obj: Any, spec: CountSpec) -> tuple[int, bool]:
    """Raw tokens of one parsed request, and whether it was counted as chat messages.

    Knows OpenAI batch lines (``body.messages`` / ``body.input``), Anthropic batch lines
    (``params.system`` + ``params.messages``), Gemini batch lines (``request.contents``),
    plain ``{"messages": [...]}``, a bare list of messages, a string, or ``--field a.b.c``.
    """
    if spec.field is not None:
        return _value_tokens(_dig(obj, spec.field), spec)
    if isinstance(obj, dict):  # parsed JSON: dict, not the slower Mapping check
        body = obj.get("body")
        if isinstance(body, dict) and "messages" in body:
            return _value_tokens(_with_system({"messages": body["messages"]}), spec)
        if isinstance(body, dict) and "input" in body:  # the Responses API: text or messages
            return _value_tokens(body["input"], spec)
        params = obj.get("params")
        if isinstance(params, dict) and "messages" in params:
            return _value_tokens(_with_system(params), spec)
        req = obj.get("request")
        if isinstance(req, dict) and "contents" in req:
            return _gemini_tokens(req, spec), False
        if "messages" in obj:
            return _value_tokens(_with_system(obj), spec)
        for key in _TEXT_KEYS:
            if isinstance(obj.get(key), str):
                system = obj.get("system")
                if spec.prompt_overhead and isinstance(system, str) and system:
                    # sent as a system and a user message, as `batch build` writes the line
                    sent = [
                        {"role": "system", "content": system},
                        {"role": "user", "content": obj[key]},
                    ]
                    return message_tokens_raw(spec.encoding, sent, spec.overhead), True
                return _value_tokens(obj[key], spec)
        raise RequestError(
            "no request text found (expected body.messages, params.messages, messages, "
            "prompt or text; choose a field with --field a.b.c)"
        )
    return _value_tokens(obj, spec)


def _with_system(obj: Mapping[str, Any]) -> Any:
    messages = obj["messages"]
    if not isinstance(messages, list):  # a string here is a malformed request, not a prompt
        kind = type(messages).__name__ if messages is not None else "null"
        raise RequestError(f"messages must be a list of chat messages, got {kind}")
    system = obj.get("system")
    if system and isinstance(messages, list):
        return [{"role": "system", "content": system}, *messages]
    return messages


def _gemini_tokens(req: Mapping[str, Any], spec: CountSpec) -> int:
    enc = get_encoding(spec.encoding)
    total = 0
    parts: list[Any] = []
    system = req.get("systemInstruction") or req.get("system_instruction")
    if isinstance(system, Mapping):
        parts.extend(system.get("parts") or [])
    for content in req.get("contents") or []:
        if isinstance(content, Mapping):
            parts.extend(content.get("parts") or [])
    for part in parts:
        if isinstance(part, Mapping) and isinstance(part.get("text"), str):
            total += len(enc.encode_ordinary(part["text"]))
    return total


def _value_tokens(value: Any, spec: CountSpec) -> tuple[int, bool]:
    if isinstance(value, list) and value and isinstance(value[0], dict) and _is_messages(value):
        return message_tokens_raw(spec.encoding, value, spec.overhead), True
    enc = get_encoding(spec.encoding)
    if isinstance(value, str):
        return len(enc.encode_ordinary(value)) + spec.prompt_overhead, bool(spec.prompt_overhead)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return sum(len(enc.encode_ordinary(v)) for v in value), False
    kind = type(value).__name__ if value is not None else "null"
    raise RequestError(f"found {kind}, expected text or a list of chat messages")


# --- partial results from one block ------------------------------------------------------------


@dataclass
class Partial:
    hist: Counter[int] = field(default_factory=Counter)
    """Raw tokens -> number of requests with that many."""
    chat: bool = False
    """Some request was counted as chat messages (so the chat overhead was applied)."""
    error: tuple[int, str] | None = None
    """(line, message) of the first request that could not be counted."""
    lines: int = 0
    """Lines in the block (set by range workers, to number lines across blocks)."""
    nbytes: int = 0


def _decode_line(raw: bytes, errors: Errors) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        if errors == "replace":
            return raw.decode("utf-8", "replace")
        raise RequestError(
            "is not valid UTF-8 text (use --errors replace to count it anyway)"
        ) from None


def count_jsonl_block(spec: CountSpec, block: bytes, first_line: int) -> Partial:
    """Count every request line of a block of whole JSONL lines."""
    out = Partial()
    hist = out.hist
    for offset, raw in enumerate(block.split(b"\n")):
        if not raw.strip():
            continue
        try:
            text = _decode_line(raw, spec.errors)
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as exc:
                raise RequestError(f"invalid JSON: {exc.msg} (column {exc.colno})") from None
            tokens, chat = request_tokens(obj, spec)
        except (RequestError, CostcalcError) as exc:
            out.error = (first_line + offset, str(exc))
            return out
        hist[tokens] += 1
        if chat:
            out.chat = True
    return out


def file_ranges(path: str) -> Iterator[tuple[int, int]]:
    """Byte ranges of a file, about ``BLOCK_BYTES`` each, that end just after a newline."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        start = 0
        while start < size:
            end = start + BLOCK_BYTES
            if end >= size:
                yield start, size
                return
            f.seek(end)
            while True:
                chunk = f.read(65536)
                newline = chunk.find(b"\n")
                if not chunk or newline >= 0:
                    end = end + newline + 1 if newline >= 0 else size
                    break
                end += len(chunk)
            yield start, end
            start = end


def count_jsonl_range(spec: CountSpec, path: str, start: int, end: int) -> Partial:
    """Count the requests in bytes [start, end) of a JSONL file (a worker reads its own
    range, so the main process only hands out offsets)."""
    with open(path, "rb") as f:
        f.seek(start)
        block = f.read(end - start)
    part = count_jsonl_block(spec, block, 1)
    part.lines = block.count(b"\n") + (0 if block.endswith(b"\n") else 1)
    part.nbytes = len(block)
    return part


def count_texts(spec: CountSpec, texts: Sequence[str]) -> Partial:
    """Count each text as one request (CSV rows, lines of text)."""
    enc = get_encoding(spec.encoding)
    out = Partial()
    hist = out.hist
    extra = spec.prompt_overhead
    for text in texts:
        hist[len(enc.encode_ordinary(text)) + extra] += 1
    out.chat = bool(extra)
    return out


def count_text_piece(spec: CountSpec, piece: str) -> int:
    return len(get_encoding(spec.encoding).encode_ordinary(piece))


# --- running blocks in one or more processes -------------------------------------------------


def _init_worker(encoding: str) -> None:  # pragma: no cover - runs in worker processes
    get_encoding(encoding)


def ordered_map(
    func: Callable[..., Any], items: Iterable[tuple[Any, ...]], jobs: int, encoding: str
) -> Iterator[Any]:
    """``func(*item)`` for each item, in order; with jobs > 1 in worker processes, keeping at
    most two items per worker in flight so memory stays flat."""
    if jobs <= 1:
        for item in items:
            yield func(*item)
        return
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    # fork shares the already-built encoding with the workers; spawn (other platforms)
    # builds it once per worker in the initializer. An executor, not multiprocessing.Pool:
    # if a worker dies, the pool reports it instead of waiting for its result forever.
    method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
    get_encoding(encoding)
    ctx = mp.get_context(method)
    with ProcessPoolExecutor(
        jobs, mp_context=ctx, initializer=_init_worker, initargs=(encoding,)
    ) as pool:
        pending: deque[Any] = deque()
        for item in items:
            pending.append(pool.submit(func, *item))
            if len(pending) >= 2 * jobs:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


# --- readers ----------------------------------------------------------------------------------


@dataclass
class Source:
    """One input: a path or stdin, and how to read it."""

    name: str
    format: InputFormat

    @property
    def is_stdin(self) -> bool:
        return self.name == STDIN

    def open(self) -> IO[bytes]:
        if self.is_stdin:
            return sys.stdin.buffer
        return open_input(self.name)

    def size(self) -> int | None:
        if self.is_stdin:
            return None
        try:
            return os.path.getsize(self.name)
        except OSError:
            return None


def jsonl_blocks(
    stream: IO[bytes], progress: Progress | None = None
) -> Iterator[tuple[bytes, int]]:
    """(block of whole lines, 1-based number of its first line)."""
    carry = b""
    line = 1
    while True:
        chunk = stream.read(BLOCK_BYTES)
        if not chunk:
            break
        if progress is not None:
            progress(len(chunk))
        data = carry + chunk
        cut = data.rfind(b"\n")
        if cut < 0:
            carry = data
            continue
        block, carry = data[: cut + 1], data[cut + 1 :]
        yield block, line
        line += block.count(b"\n")
    if carry:
        yield carry, line


def text_pieces(
    stream: IO[bytes], path: str, errors: Errors, progress: Progress | None = None
) -> Iterator[str]:
    """Pieces of a text file that tokenize independently: each ends just after a newline
    followed by a non-space character, where no token of o200k or cl100k can cross."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors)
    carry = ""
    newlines_before = 0
    first = True
    while True:
        chunk = stream.read(BLOCK_BYTES)
        final = not chunk
        if progress is not None and chunk:
            progress(len(chunk))
        try:
            text = decoder.decode(chunk, final=final)
        except UnicodeDecodeError as exc:
            line = newlines_before + carry.count("\n") + chunk[: exc.start].count(b"\n") + 1
            raise InputFileError(
                path, "is not valid UTF-8 text (use --errors replace to count it anyway)", line
            ) from None
        if first and text.startswith("\ufeff"):
            text = text[1:]
        first = False
        data = carry + text
        if final:
            if data:
                yield data
            return
        cut = _safe_cut(data)
        if cut <= 0:
            carry = data
            continue
        piece, carry = data[:cut], data[cut:]
        newlines_before += piece.count("\n")
        yield piece


_SAFE_CUT = re.compile(r"\n(?=\S)")


def _safe_cut(text: str) -> int:
    """Index just after the last newline followed by a non-space character (0 if none)."""
    start = max(0, len(text) - 65536)
    while True:
        last = -1
        for m in _SAFE_CUT.finditer(text, start):
            last = m.end()
        if last >= 0 or start == 0:
            return max(last, 0)
        start = max(0, start - 1_048_576)


@dataclass
class CsvPlan:
    column: str | None
    template: str | None


def template_fields(template: str) -> list[str]:
    """The column names a ``{name}`` template uses; only plain names are allowed."""
    names = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise UsageError(f"--template {template!r}: {exc}") from None
    for _, name, spec, conv in parsed:
        if name is None:
            continue
        if not name or not re.fullmatch(r"[^.\[\]{}!:]+", name) or spec or conv:
            raise UsageError(
                f"--template: {{{name}}} is not a plain column name (write {{column}}, "
                "and {{{{ }}}} for literal braces)"
            )
        names.append(name)
    return names


def _non_empty(rows: Iterable[tuple[str, int]], name: str) -> Iterator[tuple[str, int]]:
    for text, line in rows:
        if not text.strip():
            raise InputFileError(name, EMPTY_PROMPT, line)
        yield text, line


def text_lines(
    source: Source, errors: Errors, progress: Progress | None = None
) -> Iterator[tuple[str, int]]:
    """(text, line number) of each non-blank line of a text file: one request per line."""
    stream = source.open()
    try:
        for number, raw in enumerate(stream, 1):
            if progress is not None:
                progress(len(raw))
            if number == 1:
                raw = raw.removeprefix(b"\xef\xbb\xbf")
            if not raw.strip():
                continue
            try:
                text = _decode_line(raw, errors)
            except RequestError as exc:
                raise InputFileError(source.name, str(exc), number) from None
            yield text.rstrip("\r\n"), number
    finally:
        if not source.is_stdin:
            stream.close()


def csv_rows(
    source: Source, plan: CsvPlan, errors: Errors, progress: Progress | None = None
) -> Iterator[tuple[str, int]]:
    """(text of the request, line number) for each data row of a CSV file."""
    raw = source.open()
    counting_raw = _CountingReader(raw, progress)
    counting = io.BufferedReader(counting_raw)
    text = io.TextIOWrapper(counting, encoding="utf-8-sig", errors="surrogateescape", newline="")
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    try:
        reader = csv.reader(text)
        try:
            header = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InputFileError(source.name, f"invalid CSV: {exc}", 1) from None
        index = {name: i for i, name in enumerate(header)}
        needed = [plan.column] if plan.column else []
        if plan.template:
            needed += template_fields(plan.template)
        for name in needed:
            if name not in index:
                what = "column" if name == plan.column else "template column"
                raise InputFileError(
                    source.name,
                    f"no {what} {name!r} (columns: {_names(header) or 'none'})",
                    1,
                )
        width = len(header)
        column = index[plan.column] if plan.column else -1
        picks = [(n, index[n]) for n in needed]
        last = max(i for _, i in picks) if picks else 0
        try:
            for row in reader:
                if not row:
                    continue
                if len(row) <= last:
                    raise InputFileError(
                        source.name,
                        f"row has {len(row)} fields, the header has {width}",
                        reader.line_num,
                    )
                if plan.template:
                    value = plan.template.format_map({n: row[i] for n, i in picks})
                else:
                    value = row[column]
                # invalid bytes arrive as lone surrogates; look only once the reader saw any
                if counting_raw.dirty and _SURROGATE.search(value):
                    if errors == "strict":
                        raise InputFileError(
                            source.name,
                            "is not valid UTF-8 text (use --errors replace to count it anyway)",
                            reader.line_num,
                        )
                    value = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                yield value, reader.line_num
        except csv.Error as exc:
            raise InputFileError(source.name, f"invalid CSV: {exc}", reader.line_num) from None
    finally:
        if not source.is_stdin:
            raw.close()


def _names(header: Sequence[str]) -> str:
    """CSV column names for a message: each on one line and cut short if long."""
    shown = [" ".join(h.split()) for h in header[:20]]
    text = ", ".join(h if len(h) <= 40 else h[:37] + "..." for h in shown)
    return text + (f", ... ({len(header):,} columns)" if len(header) > 20 else "")


class _CountingReader(io.RawIOBase):
    """Passes reads through, reports bytes read to the progress callback, and notes whether
    any bytes were not valid UTF-8 (so clean files skip the per-row check)."""

    def __init__(self, raw: IO[bytes], progress: Progress | None) -> None:
        self._raw = raw
        self._progress = progress
        self._utf8 = codecs.getincrementaldecoder("utf-8")()
        self.dirty = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        if self._progress is not None and n:
            self._progress(n)
        if not self.dirty and not data.isascii():
            try:
                self._utf8.decode(data)
            except UnicodeDecodeError:
                self.dirty = True
        return n


def _batched(rows: Iterable[tuple[str, int]], size: int) -> Iterator[list[str]]:
    batch: list[str] = []
    for text, _line in rows:
        batch.append(text)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def read_json_document(source: Source, errors: Errors) -> list[Any]:
    """The requests of one JSON document: a conversation, a request, or a list of requests."""
    with source.open() as f:
        data = f.read()
    try:
        text = data.decode("utf-8-sig", errors)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputFileError(
            source.name, "is not valid UTF-8 text (use --errors replace to count it anyway)", line
        ) from None
    if not text.strip():
        return []
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputFileError(
            source.name, f"invalid JSON: {exc.msg} (column {exc.colno})", exc.lineno
        ) from None
    if _is_messages(doc) or not isinstance(doc, list):
        return [doc]
    return doc


TEXT_SUFFIXES = (".txt", ".text", ".md")


def detect_format(name: str, column: str | None, template: str | None) -> InputFormat:
    """The format of an input by its name; a CSV column or template makes any file without a
    JSON or text suffix a CSV (so a .dat or stdin can be one), but not a .txt or .jsonl."""
    suffix = Path(name).suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix == ".json":
        return "json"
    if suffix in (".csv", ".tsv") or ((column or template) and suffix not in TEXT_SUFFIXES):
        return "csv"
    return "text"


def peek_model(source: Source) -> str | None:
    """The model named by the first request of a JSONL or JSON file (batch files carry one)."""
    if source.is_stdin or source.format not in ("jsonl", "json"):
        return None
    try:
        with open(source.name, "rb") as f:
            for raw in f:
                if raw.strip():
                    obj = json.loads(raw)
                    break
            else:
                return None
    except (OSError, ValueError):
        return None
    if isinstance(obj, Mapping):
        for holder in (obj.get("body"), obj.get("params"), obj):
            if isinstance(holder, Mapping) and isinstance(holder.get("model"), str):
                return str(holder["model"])
    return None


# --- the whole count ------------------------------------------------------------------------


@dataclass
class _Totals:
    hist: Counter[int] = field(default_factory=Counter)
    chat: bool = False
    text_requests: list[int] = field(default_factory=list)


def count_file(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    model: str | None = None,
    *,
    messages: bool = False,
    field: str | None = None,
    column: str | None = None,
    template: str | None = None,
    input_format: InputFormat | None = None,
    sample: int | None = None,
    seed: int | None = None,
    jobs: int = 1,
    errors: Errors = "strict",
    progress: Progress | None = None,
    table: Any = None,
    prompts_as_messages: bool = False,
) -> TokenCount:
    """Count the tokens of files (``"-"`` is stdin) for ``model``.

    Each JSONL line, CSV row or text file is one request. ``sample`` counts a random sample
    of that many requests and estimates the total; ``jobs`` counts in that many processes.
    ``prompts_as_messages`` counts a request that is bare text as the one user message it will
    be sent as, with the chat overhead (as a quote must, to match the batch file).
    """
    names = (
        [os.fspath(paths)]
        if isinstance(paths, (str, os.PathLike))
        else [os.fspath(p) for p in paths]
    )
    if not names:
        raise UsageError("no input: give a file, or - for stdin")
    if jobs < 1:
        raise UsageError(f"--jobs must be at least 1, got {jobs}")
    if sample is not None and sample < 1:
        raise UsageError(f"--sample must be at least 1, got {sample}")
    if errors not in ("strict", "replace"):
        raise UsageError(f"--errors must be strict or replace, got {errors!r}")
    if names.count(STDIN) > 1:
        raise UsageError("stdin (-) can be read only once")
    if template is not None:
        template_fields(template)
    field_path = tuple(field.split(".")) if field else None
    if field is not None and (not field or any(not p for p in field_path or ())):
        raise UsageError(f"--field {field!r}: expected a dotted path such as body.messages")

    sources = []
    for name in names:
        fmt = input_format or detect_format(name, column, template)
        if messages and fmt == "text":
            fmt = "json"
        if fmt == "csv" and not (column or template):
            raise UsageError(f"{name}: CSV input needs --column NAME or --template TEXT")
        if fmt != "csv" and (column or template):
            raise UsageError(f"{name}: --column and --template apply to CSV input only")
        if fmt == "csv" and field is not None:
            raise UsageError(f"{name}: --field applies to JSON input; use --column for CSV")
        sources.append(Source(name, fmt))

    if model is None:
        model = next((m for s in sources if (m := peek_model(s))), None)
        if model is not None:
            from costcalc.errors import UnknownModelError
            from costcalc.prices import load_price_table

            try:
                (table or load_price_table()).find(model)
            except UnknownModelError:
                model = None
    tok = tokenizer_for(model or DEFAULT_MODEL, table)
    prompt_overhead = 0
    if prompts_as_messages:
        o = tok.overhead
        prompt_overhead = o.reply + o.per_message + count_raw(tok.encoding, "user")
    spec = CountSpec(tok.encoding, tok.overhead, field_path, errors, prompt_overhead)
    plan = CsvPlan(column, template)

    if sample is not None:
        return _count_sample(sources, tok, spec, plan, sample, seed, errors, progress)

    totals = _Totals()
    for source in sources:
        _count_source(source, spec, plan, jobs, errors, progress, totals)
    hist = Counter(totals.hist)
    for raw in totals.text_requests:
        hist[raw] += 1
    if totals.chat:
        tok.warn_if_overhead_unknown()
    return _result(tok, hist, names)


def count_string(
    text: str, model: str | None = None, *, messages: bool = False, table: Any = None
) -> TokenCount:
    """Count one string as one request; with ``messages`` it is JSON chat messages (or a
    request object holding them)."""
    tok = tokenizer_for(model or DEFAULT_MODEL, table)
    if not messages:
        return _result(tok, Counter([count_raw(tok.encoding, text)]), ["<text>"])
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"--text with --messages: invalid JSON: {exc.msg} (column {exc.colno})"
        ) from None
    spec = CountSpec(tok.encoding, tok.overhead, None, "strict")
    try:
        raw, chat = request_tokens(obj, spec)
    except RequestError as exc:
        raise UsageError(f"--text with --messages: {exc}") from None
    if chat:
        tok.warn_if_overhead_unknown()
    return _result(tok, Counter([raw]), ["<text>"])


def _count_source(
    source: Source,
    spec: CountSpec,
    plan: CsvPlan,
    jobs: int,
    errors: Errors,
    progress: Progress | None,
    totals: _Totals,
) -> None:
    if source.format == "jsonl" and jobs > 1 and not source.is_stdin:
        source.open().close()  # a missing or unreadable file: one clear error first
        ranges = ((spec, source.name, a, b) for a, b in file_ranges(source.name))
        before = 0  # lines in the ranges already counted
        for part in ordered_map(count_jsonl_range, ranges, jobs, spec.encoding):
            if part.error is not None:
                line, message = part.error
                raise InputFileError(source.name, message, before + line)
            before += part.lines
            if progress is not None:
                progress(part.nbytes)
            totals.hist.update(part.hist)
            totals.chat = totals.chat or part.chat
    elif source.format == "jsonl":
        stream = source.open()
        try:
            items = ((spec, block, line) for block, line in jsonl_blocks(stream, progress))
            for part in ordered_map(count_jsonl_block, items, jobs, spec.encoding):
                if part.error is not None:
                    line, message = part.error
                    raise InputFileError(source.name, message, line)
                totals.hist.update(part.hist)
                totals.chat = totals.chat or part.chat
        finally:
            if not source.is_stdin:
                stream.close()
    elif source.format in ("csv", "lines"):
        rows = (
            csv_rows(source, plan, errors, progress)
            if source.format == "csv"
            else text_lines(source, errors, progress)
        )
        if spec.prompt_overhead:  # counted as sent: an empty prompt would not be accepted
            rows = _non_empty(rows, source.name)
        batches = ((spec, batch) for batch in _batched(rows, CSV_BATCH_ROWS))
        for part in ordered_map(count_texts, batches, jobs, spec.encoding):
            totals.hist.update(part.hist)
            totals.chat = totals.chat or part.chat
    elif source.format == "json":
        for i, obj in enumerate(read_json_document(source, errors)):
            try:
                tokens, chat = request_tokens(obj, spec)
            except (RequestError, CostcalcError) as exc:
                where = f"request {i + 1}: " if i else ""
                raise InputFileError(source.name, f"{where}{exc}") from None
            totals.hist[tokens] += 1
            totals.chat = totals.chat or chat
    else:
        stream = source.open()
        try:
            pieces = ((spec, p) for p in text_pieces(stream, source.name, errors, progress))
            raw = sum(ordered_map(count_text_piece, pieces, jobs, spec.encoding))
        finally:
            if not source.is_stdin:
                stream.close()
        totals.text_requests.append(raw)


def _percentile(hist: Mapping[int, int], n: int, q: float) -> int:
    """Nearest-rank percentile of a histogram holding ``n`` values."""
    if n == 0:
        return 0
    rank = max(1, math.ceil(q * n))
    seen = 0
    for value in sorted(hist):
        seen += hist[value]
        if seen >= rank:
            return value
    return max(hist)


def _per_request(hist: Mapping[int, int]) -> PerRequest:
    n = sum(hist.values())
    return PerRequest(
        mean=round(sum(v * c for v, c in hist.items()) / n, 2) if n else 0.0,
        p50=_percentile(hist, n, 0.50),
        p95=_percentile(hist, n, 0.95),
        max=max(hist) if hist else 0,
    )


def _scaled(tok: ModelTokenizer, raw_hist: Mapping[int, int]) -> Counter[int]:
    hist: Counter[int] = Counter()
    for raw, n in raw_hist.items():
        hist[tok.scale(raw)] += n
    return hist


def _reasons(tok: ModelTokenizer, sample: SampleInfo | None) -> list[str]:
    reasons = [tok.reason] if tok.estimate else []
    if sample is not None:
        reasons.append(
            f"estimated from a random sample of {sample.size:,} of {sample.population:,} "
            f"(seed {sample.seed})"
        )
    return reasons


def _result(tok: ModelTokenizer, raw_hist: Mapping[int, int], inputs: list[str]) -> TokenCount:
    """The exact result from a histogram of raw counts (scaled by the model's factor)."""
    hist = _scaled(tok, raw_hist)
    reasons = _reasons(tok, None)
    count = TokenCount(
        tokens=sum(v * c for v, c in hist.items()),
        requests=sum(hist.values()),
        per_request=_per_request(hist),
        over_context=sum(c for v, c in hist.items() if v > tok.context_limit),
        context_limit=tok.context_limit,
        encoding=tok.encoding,
        model=tok.model,
        estimate=bool(reasons),
        estimate_reasons=reasons,
        raw_tokens=sum(v * c for v, c in raw_hist.items()),
        inputs=inputs,
    )
    count._hist = hist
    return count


# --- sampling -------------------------------------------------------------------------------

# two-sided 95% Student t quantiles for small samples (df = n - 1); z = 1.96 beyond
_T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
        2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
        2.060, 2.056, 2.052, 2.048, 2.045]  # fmt: skip


def t95(df: int) -> float:
    return _T95[df - 1] if 1 <= df <= len(_T95) else 1.96


def _count_sample(
    sources: list[Source],
    tok: ModelTokenizer,
    spec: CountSpec,
    plan: CsvPlan,
    size: int,
    seed: int | None,
    errors: Errors,
    progress: Progress | None,
) -> TokenCount:
    if any(s.is_stdin for s in sources):
        raise UsageError("--sample reads its input twice, so it needs files, not stdin")
    if seed is None:
        seed = random.SystemRandom().randrange(2**32)
    rng = random.Random(seed)
    names = [s.name for s in sources]

    if all(s.format == "jsonl" for s in sources):
        # two passes: index the lines (newline counting only), then read the chosen ones
        indexed = [_line_index(s, progress) for s in sources]
        counts = [n for _, n in indexed]
        population = sum(counts)
        chosen = sorted(rng.sample(range(population), min(size, population)))
        values, chat = _sampled_jsonl(sources, [b for b, _ in indexed], counts, chosen, spec)
    else:
        # one pass of reservoir sampling; only the kept records are tokenized
        reservoir: list[tuple[str, Any]] = []
        population = 0
        for population, record in enumerate(_records(sources, plan, errors, progress), 1):
            if len(reservoir) < size:
                reservoir.append(record)
            else:
                j = rng.randrange(population)
                if j < size:
                    reservoir[j] = record
        values, chat = [], False
        for record in reservoir:
            raw, is_chat = _record_tokens(record, spec)
            values.append(raw)
            chat = chat or is_chat
    if chat:
        tok.warn_if_overhead_unknown()
    if len(values) >= population:  # the "sample" is everything: the count is exact
        return _result(tok, Counter(v for v in values if v is not None), names)
    return _estimate(tok, values, population, seed, names)


@dataclass
class _Block:
    offset: int
    length: int
    first: int
    """0-based index (within the file) of the block's first line."""
    lines: int


def _line_index(source: Source, progress: Progress | None) -> tuple[list[_Block], int]:
    """Blocks of whole lines (offset, length, first line) and the file's line count, in
    one pass of newline counting: the second pass reads only the lines it wants."""
    blocks: list[_Block] = []
    offset = lines = 0
    carry = b""
    with source.open() as f:
        while chunk := f.read(BLOCK_BYTES):
            if progress is not None:
                progress(len(chunk))
            data = carry + chunk if carry else chunk
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                carry = data
                continue
            count = data.count(b"\n", 0, cut)
            blocks.append(_Block(offset, cut, lines, count))
            offset, lines, carry = offset + cut, lines + count, data[cut:]
    if carry:
        blocks.append(_Block(offset, len(carry), lines, 1))
        lines += 1
    return blocks, lines


def _sampled_jsonl(
    sources: list[Source],
    indexes: list[list[_Block]],
    counts: list[int],
    chosen: list[int],
    spec: CountSpec,
) -> tuple[list[int | None], bool]:
    """Raw tokens of the chosen lines (None for a blank line).

    ``chosen`` holds sorted 0-based line indexes across all files. Only blocks that hold a
    chosen line are read, and within a block the lines are found by walking newlines, without
    splitting the block into a million small strings.
    """
    values: list[int | None] = []
    chat = False
    base = 0  # index of the current file's first line
    targets = iter(chosen)
    target = next(targets, None)
    for source, blocks, count in zip(sources, indexes, counts, strict=True):
        if target is not None and target < base + count:
            with source.open() as f:
                for block in blocks:
                    first = base + block.first
                    if target is None or target >= base + count:
                        break
                    if target >= first + block.lines:
                        continue
                    f.seek(block.offset)
                    data = f.read(block.length)
                    pos, at = 0, first
                    while target is not None and target < first + block.lines:
                        while at < target:
                            pos = data.index(b"\n", pos) + 1
                            at += 1
                        end = data.find(b"\n", pos)
                        raw = data[pos : end if end >= 0 else len(data)]
                        if raw.strip():
                            part = count_jsonl_block(spec, raw, target - base + 1)
                            if part.error is not None:
                                raise InputFileError(source.name, part.error[1], part.error[0])
                            values.append(next(part.hist.elements()))
                            chat = chat or part.chat
                        else:
                            values.append(None)
                        target = next(targets, None)
        base += count
    return values, chat


def _records(
    sources: list[Source], plan: CsvPlan, errors: Errors, progress: Progress | None
) -> Iterator[tuple[str, Any]]:
    """Sampling units that are not JSONL lines: CSV rows, JSON requests, text files (and JSONL
    lines when formats are mixed)."""
    for source in sources:
        if source.format == "csv":
            for text, _line in csv_rows(source, plan, errors, progress):
                yield ("text", text)
        elif source.format == "lines":
            for text, _line in text_lines(source, errors, progress):
                yield ("text", text)
        elif source.format == "json":
            for obj in read_json_document(source, errors):
                yield ("json", (source.name, obj))
        elif source.format == "jsonl":
            with source.open() as f:
                for block, line in jsonl_blocks(f, progress):
                    for offset, raw in enumerate(block.split(b"\n")):
                        if raw.strip():
                            yield ("line", (source.name, raw, line + offset))
        else:
            yield ("file", source)


def _record_tokens(record: tuple[str, Any], spec: CountSpec) -> tuple[int, bool]:
    kind, value = record
    if kind == "text":
        raw = len(get_encoding(spec.encoding).encode_ordinary(value))
        return raw + spec.prompt_overhead, bool(spec.prompt_overhead)
    if kind == "json":
        name, obj = value
        try:
            return request_tokens(obj, spec)
        except RequestError as exc:
            raise InputFileError(name, str(exc)) from None
    if kind == "line":
        name, raw, line = value
        part = count_jsonl_block(spec, raw, line)
        if part.error is not None:
            raise InputFileError(name, part.error[1], part.error[0])
        return next(part.hist.elements()), part.chat
    source: Source = value
    with source.open() as f:
        pieces = text_pieces(f, source.name, spec.errors)
        return sum(count_text_piece(spec, p) for p in pieces), False


def _estimate(
    tok: ModelTokenizer,
    values: list[int | None],
    population: int,
    seed: int,
    names: list[str],
) -> TokenCount:
    """Total, requests and over-context for the whole input from a uniform sample.

    The total is population x sample mean (a blank line counts 0 tokens); its 95% interval
    uses the t (n < 30) or normal quantile with the finite-population correction.
    """
    n = len(values)
    scaled = [tok.scale(v) if v is not None else 0 for v in values]
    raw = [v if v is not None else 0 for v in values]
    mean = sum(scaled) / n
    var = sum((x - mean) ** 2 for x in scaled) / (n - 1) if n > 1 else 0.0
    fpc = math.sqrt((population - n) / (population - 1))
    total = mean * population
    present = [v for v in values if v is not None]
    hist = _scaled(tok, Counter(present))
    if n > 1:
        half = t95(n - 1) * math.sqrt(var / n) * fpc * population
        low, high = max(sum(scaled), math.floor(total - half)), math.ceil(total + half)
    else:  # one value says nothing about the spread
        low, high = sum(scaled), sys.maxsize
    sample = SampleInfo(size=n, population=population, seed=seed)
    reasons = _reasons(tok, sample)
    limit = tok.context_limit
    count = TokenCount(
        tokens=round(total),
        requests=round(population * len(present) / n),
        per_request=_per_request(hist),
        over_context=round(population * sum(c for v, c in hist.items() if v > limit) / n),
        context_limit=tok.context_limit,
        encoding=tok.encoding,
        model=tok.model,
        estimate=True,
        estimate_reasons=reasons,
        raw_tokens=round(sum(raw) / n * population),
        inputs=names,
        sample=sample,
        interval=Interval(low=int(low), high=int(high), confidence=0.95),
    )
    count._hist = hist
    return count
