"""Batch files ready to upload: build, split, validate, quote and reconcile (OpenAI, Anthropic).

build   CSV, JSONL or text (one prompt per line) -> provider-format JSONL, split into parts
        that respect the provider's request and byte limits, plus a manifest (JSON) listing
        each part (requests, bytes, sha256) and the quote for the whole job. custom_ids are
        ``<prefix><n>``: n is the input's line number (the data row number for CSV), so every
        result maps back to its input row. Everything is written to temporary files and
        renamed into place at the end: a failed build leaves nothing behind, and an existing
        file is replaced only with ``force``.
validate  JSON on every line, the keys each provider requires, one model per file, custom_ids
        unique across all files and of the allowed shape, the provider's count and size limits.
reconcile provider output files -> actual cost at batch prices, outcomes, and the requests of
        the input that have no result.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import math
import os
import random
import re
from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal, NamedTuple

from pydantic import BaseModel

from costcalc.atomic import new_temp, stage
from costcalc.errors import EMPTY_PROMPT, CostcalcError, InputFileError, UsageError, open_input
from costcalc.money import MoneyOut, per_million, tidy

if TYPE_CHECKING:
    from costcalc.prices import ModeRates

Provider = Literal["openai", "anthropic"]
ANTHROPIC_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
OPENAI_URLS = (
    "/v1/chat/completions",
    "/v1/responses",
    "/v1/embeddings",
    "/v1/completions",
    "/v1/moderations",
)
DEFAULT_MAX_TOKENS = 1024
QUOTE_SAMPLE = 2000
"""Requests whose tokens are counted for the manifest's quote (a uniform sample)."""


# --- requests from input rows ---------------------------------------------------------------


class Row(NamedTuple):
    """One request of the input (a tuple: one is made per input row)."""

    number: int
    """Line number of the input (data row number for CSV)."""
    messages: list[dict[str, Any]]
    system: str | None = None


def _prompt_messages(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def _prompt_row(path: str, number: int, line: int, text: str, system: str | None = None) -> Row:
    if not text or text.isspace():
        raise InputFileError(path, EMPTY_PROMPT, line)
    return Row(number, _prompt_messages(text), system)


def input_rows(
    path: str,
    *,
    column: str | None = None,
    template: str | None = None,
    field_path: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> Iterator[Row]:
    """The requests of an input file: CSV rows, JSONL lines (a string, a prompt/text field,
    messages, or ``field_path``), or non-blank lines of text."""
    from costcalc.tokenfiles import (
        CsvPlan,
        Source,
        detect_format,
        jsonl_blocks,
        template_fields,
    )

    if template is not None:
        template_fields(template)
    fmt = detect_format(path, column, template)
    source = Source(
        path, "csv" if fmt == "csv" else "jsonl" if fmt in ("jsonl", "json") else "text"
    )
    if fmt == "csv":
        from costcalc.tokenfiles import csv_rows

        if not (column or template):
            raise UsageError(f"{path}: CSV input needs --column NAME or --template TEXT")
        for number, (text, line) in enumerate(
            csv_rows(source, CsvPlan(column, template), "strict", progress), start=1
        ):
            # the hot loop of a million-row build: _prompt_row's check, inlined
            if not text or text.isspace():
                raise InputFileError(path, EMPTY_PROMPT, line)
            yield Row(number, [{"role": "user", "content": text}])
        return
    if column or template:
        raise UsageError(f"{path}: --column and --template apply to CSV input only")
    stream = source.open()
    try:
        for block, first in jsonl_blocks(stream, progress):
            for offset, raw in enumerate(block.split(b"\n")):
                if not raw.strip():
                    continue
                line = first + offset
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError:
                    raise InputFileError(path, "is not valid UTF-8 text", line) from None
                if fmt == "text":
                    yield _prompt_row(path, line, line, text.rstrip("\r"))
                else:
                    yield _json_row(path, line, text, field_path)
    finally:
        if not source.is_stdin:
            stream.close()


def _json_row(path: str, line: int, text: str, field_path: str | None) -> Row:
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputFileError(path, f"invalid JSON: {exc.msg} (column {exc.colno})", line) from None
    if field_path:
        for part in field_path.split("."):
            if isinstance(obj, Mapping) and part in obj:
                obj = obj[part]
            else:
                raise InputFileError(path, f"no field {field_path!r}", line)
    system = None
    if isinstance(obj, Mapping):
        if isinstance(obj.get("system"), str):
            system = obj["system"]
        if isinstance(obj.get("messages"), list):
            obj = obj["messages"]
        else:
            obj = next(
                (
                    obj[k]
                    for k in ("prompt", "text", "input", "content")
                    if isinstance(obj.get(k), str)
                ),
                obj,
            )
    if isinstance(obj, str):
        return _prompt_row(path, line, line, obj, system)
    if isinstance(obj, list) and obj and all(isinstance(m, Mapping) and "role" in m for m in obj):
        for i, m in enumerate(obj):
            if m.get("content") in (None, "", []):
                raise InputFileError(path, f"message {i + 1} has no content", line)
        return Row(line, [dict(m) for m in obj], system)
    raise InputFileError(
        path,
        'expected a prompt: a string, {"prompt": ...}, {"messages": [...]}, or --field',
        line,
    )


class Reservoir:
    """A uniform random sample of at most ``size`` items from a stream of unknown length.

    Algorithm L (Li, 1994): after the first ``size`` items it jumps straight to the next item
    to keep, so a long stream costs a few random numbers, not one per item.
    """

    def __init__(self, size: int, rng: random.Random) -> None:
        self.size = size
        self.items: list[Any] = []
        self._rng = rng
        self._w = 1.0
        self.next = 0
        """The 1-based position of the next item to keep once the reservoir is full."""

    def _skip(self, seen: int) -> None:
        self._w *= math.exp(math.log(self._rng.random() or 1e-300) / self.size)
        gap = math.floor(math.log(self._rng.random() or 1e-300) / math.log1p(-self._w))
        self.next = seen + gap + 1

    def offer(self, item: Any, seen: int) -> None:
        """Item number ``seen`` (1-based) of the stream; callers may skip offering any item
        after the first ``size`` whose number is not ``next``."""
        if len(self.items) < self.size:
            self.items.append(item)
            if len(self.items) == self.size:
                self._skip(seen)
        elif seen == self.next:
            self.items[self._rng.randrange(self.size)] = item
            self._skip(seen)


# --- provider lines ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LineFormat:
    provider: Provider
    model: str
    max_tokens: int
    system: str | None
    reasoning: bool
    """OpenAI reasoning models take max_completion_tokens, not max_tokens."""

    def request(self, custom_id: str, row: Row) -> dict[str, Any]:
        system = row.system if row.system is not None else self.system
        messages = row.messages
        if self.provider == "anthropic":
            # Anthropic takes the system prompt apart from the messages
            inline = [m for m in messages if m.get("role") == "system"]
            messages = [m for m in messages if m.get("role") != "system"]
            parts = [system] if system else []
            parts += [str(m.get("content", "")) for m in inline]
            params: dict[str, Any] = {
                "model": self.model,
                "max_tokens": self.max_tokens,
                "messages": messages,
            }
            if parts:
                params["system"] = "\n\n".join(parts)
            return {"custom_id": custom_id, "params": params}
        if system:
            messages = [{"role": "system", "content": system}, *messages]
        limit = "max_completion_tokens" if self.reasoning else "max_tokens"
        return {
            "custom_id": custom_id,
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {"model": self.model, "messages": messages, limit: self.max_tokens},
        }


def _compact_encoder() -> Callable[[Any], str]:
    """Compact, non-ASCII-escaping JSON, set up once: json.dumps and JSONEncoder.encode
    build their C encoder again on every call, a third of the cost of a short line."""
    slow = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - a Python without the C accelerator
        return slow

    def default(value: Any) -> Any:
        raise TypeError(f"cannot write {type(value).__name__} as JSON")

    try:
        fast = make(
            None, default, json.encoder.encode_basestring, None, ":", ",", False, False, True
        )
        if "".join(fast({"a": ["é", 1]}, 0)) != slow({"a": ["é", 1]}):
            return slow  # pragma: no cover - the private signature changed
    except TypeError:  # pragma: no cover - likewise
        return slow
    return lambda obj: "".join(fast(obj, 0))


_ENCODE = _compact_encoder()


def encode_line(obj: Mapping[str, Any]) -> bytes:
    """One compact JSONL line."""
    return (_ENCODE(obj) + "\n").encode("utf-8")


# --- writing parts atomically ---------------------------------------------------------------


class PartInfo(BaseModel):
    file: str
    requests: int
    bytes: int
    sha256: str
    first_custom_id: str
    last_custom_id: str


class RequestTooLarge(CostcalcError):
    """One request line is larger than a whole batch file may be."""


IO_CHUNK = 1 << 20
"""Lines are handed to the I/O thread in chunks of about this many bytes."""
IO_IN_FLIGHT = 16
"""Most chunks waiting for the I/O thread (memory stays flat if the disk is slow)."""


class _OpenPart:
    """A part being written: its temporary file, running hash and counts.

    Writing and hashing run on one I/O thread, in order, on chunks of about 1 MiB (large
    buffers release the GIL), so they overlap with building the next lines.
    """

    def __init__(self, tmp: Path, handle: IO[bytes]) -> None:
        self.tmp = tmp
        self.handle = handle
        self.hash = hashlib.sha256()
        self.buffer = bytearray()
        self.requests = 0
        self.size = 0
        self.first = ""
        self.last = ""

    def write_chunk(self, chunk: bytes) -> None:
        self.handle.write(chunk)
        self.hash.update(chunk)

    def finish(self) -> None:
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.handle.close()


@dataclass
class PartWriter:
    """Writes lines into parts of at most ``max_requests`` lines and ``max_bytes`` bytes, as
    temporary files in ``out_dir``; ``commit`` renames them into place."""

    out_dir: Path
    stem: str
    max_requests: int | None
    max_bytes: int
    force: bool = False
    parts: list[PartInfo] = field(default_factory=list)
    _closed: list[_OpenPart] = field(default_factory=list)
    _current: _OpenPart | None = None
    _pending: deque[Future[None]] = field(default_factory=deque)
    _io: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(1))

    def __post_init__(self) -> None:
        self._created_dir = prepare_out_dir(self.out_dir)

    def name(self, index: int) -> str:
        return f"{self.stem}-{index:03d}.jsonl"

    def add(self, line: bytes, custom_id: str) -> None:
        size = len(line)
        part = self._current
        if (
            part is None
            or part.size + size > self.max_bytes
            or (self.max_requests is not None and part.requests >= self.max_requests)
        ):
            if size > self.max_bytes:
                raise RequestTooLarge(
                    f"one request is {size:,} bytes, over the {self.max_bytes:,}-byte limit "
                    "of a batch file"
                )
            self._close()
            part = self._open()
            part.first = custom_id
        part.buffer += line
        part.requests += 1
        part.size += size
        part.last = custom_id
        if len(part.buffer) >= IO_CHUNK:
            self._spill(part)

    def _submit(self, func: Any, *args: Any) -> None:
        self._pending.append(self._io.submit(func, *args))
        while len(self._pending) > IO_IN_FLIGHT:
            self._pending.popleft().result()

    def _spill(self, part: _OpenPart) -> None:
        if part.buffer:
            chunk = bytes(part.buffer)
            part.buffer.clear()
            self._submit(part.write_chunk, chunk)

    def _open(self) -> _OpenPart:
        fd, tmp = new_temp(self.out_dir, self.stem)
        self._current = _OpenPart(tmp, os.fdopen(fd, "wb"))
        return self._current

    def _close(self) -> None:
        part = self._current
        if part is None:
            return
        self._spill(part)
        self._submit(part.finish)
        self._closed.append(part)
        self._current = None

    def finish(self) -> list[PartInfo]:
        """Close the last part, wait for the I/O thread, and describe every part."""
        self._close()
        while self._pending:
            self._pending.popleft().result()
        for part in self._closed[len(self.parts) :]:
            self.parts.append(
                PartInfo(
                    file=self.name(len(self.parts) + 1),
                    requests=part.requests,
                    bytes=part.size,
                    sha256=part.hash.hexdigest(),
                    first_custom_id=part.first,
                    last_custom_id=part.last,
                )
            )
        return self.parts

    def commit(self, extra: Sequence[tuple[str, bytes]] = ()) -> None:
        """Put every part (and ``extra`` files, such as the manifest) in place."""
        self.finish()
        self._io.shutdown()
        moves = [
            (p.tmp, self.out_dir / info.file)
            for p, info in zip(self._closed, self.parts, strict=True)
        ]
        for name, data in extra:
            moves.append((stage(self.out_dir, self.stem, data), self.out_dir / name))
        if not self.force:
            clash = [final for _, final in moves if final.exists()]
            if clash:
                for tmp, _ in moves:
                    tmp.unlink(missing_ok=True)
                self._closed = []
                raise CostcalcError(f"{clash[0]} already exists (use --force to replace it)")
        for tmp, final in moves:
            os.replace(tmp, final)
        self._closed = []

    def abort(self) -> None:
        """Remove every temporary file (after a failure)."""
        for future in self._pending:
            future.cancel()
        self._io.shutdown(wait=True)
        self._pending.clear()
        parts = [*self._closed, *([self._current] if self._current else [])]
        for part in parts:
            if not part.handle.closed:
                part.handle.close()
            part.tmp.unlink(missing_ok=True)
        self._closed = []
        self._current = None
        if self._created_dir:  # a folder made for this build goes too, when nothing is in it
            with contextlib.suppress(OSError):
                self.out_dir.rmdir()


def effective_limits(
    rule: Any, max_requests: int | None, max_bytes: int | None
) -> tuple[int | None, int]:
    """Requests and bytes per file: yours may be lower than the provider's, never higher."""
    given = [x for x in (max_requests, rule.max_requests) if x is not None]
    return (min(given) if given else None), (
        min(max_bytes, rule.max_bytes) if max_bytes is not None else rule.max_bytes
    )


def prepare_out_dir(out_dir: Path) -> bool:
    """Create ``out_dir`` if needed (and say whether it was); a file in its place or no write
    access is bad input."""
    if out_dir.exists() and not out_dir.is_dir():
        raise InputFileError(out_dir, "is a file, expected a folder for the batch files")
    created = not out_dir.exists()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputFileError(out_dir, f"cannot create the folder: {exc.strerror}") from None
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise InputFileError(out_dir, "folder is not writable")
    return created


# --- build ------------------------------------------------------------------------------------


class JobQuote(BaseModel):
    """Standard against batch for the whole job, and the wait."""

    currency: str
    requests: int
    input_tokens_per_request: Decimal
    input_tokens_basis: str
    output_tokens_per_request: Decimal
    output_tokens_basis: str
    standard_cost: MoneyOut | None
    batch_cost: MoneyOut | None
    savings: MoneyOut | None
    batch_typical_wait_s: float | None
    batch_worst_wait_s: float | None
    assumed: list[str]


class Manifest(BaseModel):
    """The manifest written next to the parts (``<stem>.manifest.json``)."""

    created_by: str
    input: str
    provider: Provider
    model: str
    requests: int
    custom_id_prefix: str
    custom_id_number: str
    """What the number in each custom_id is: the input's line or data row."""
    max_requests_per_file: int | None
    max_bytes_per_file: int
    parts: list[PartInfo]
    quote: JobQuote | None


def _provider_of(table: Any, model: str, provider: str | None) -> tuple[Any, Provider]:
    prov, entry = table.find(model)
    name = provider or prov.provider
    if name not in ("openai", "anthropic"):
        raise UsageError(
            f"{entry.id} is a model of {prov.provider}; batch files are built for openai or "
            "anthropic (--provider)"
        )
    if provider is not None and provider != prov.provider:
        raise UsageError(f"{entry.id} is a model of {prov.provider}, not {provider}")
    return entry, name  # type: ignore[return-value]


def check_batch_options(
    entry: Any, max_tokens: int, max_requests: int | None, max_bytes: int | None, min_bytes: int = 1
) -> None:
    """The options every writer of batch files takes (build, queue flush), checked alike."""
    if max_tokens < 1:
        raise UsageError(f"--max-tokens must be at least 1, got {max_tokens}")
    if entry.max_output_tokens and max_tokens > entry.max_output_tokens:
        raise UsageError(
            f"--max-tokens {max_tokens:,} is over {entry.id}'s maximum output of "
            f"{entry.max_output_tokens:,}"
        )
    if max_requests is not None and max_requests < 1:
        raise UsageError(f"--max-requests must be at least 1, got {max_requests}")
    if max_bytes is not None and max_bytes < min_bytes:
        raise UsageError(f"--max-bytes must be at least {min_bytes:,}, got {max_bytes:,}")


def build(
    input_path: str,
    model: str,
    out_dir: str | Path,
    *,
    provider: str | None = None,
    column: str | None = None,
    template: str | None = None,
    field_path: str | None = None,
    system: str | None = None,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    id_prefix: str = "row-",
    max_requests: int | None = None,
    max_bytes: int | None = None,
    output_tokens: int | None = None,
    force: bool = False,
    table: Any = None,
    progress: Callable[[int], None] | None = None,
    seed: int = 0,
) -> Manifest:
    """Build provider-format batch files from ``input_path`` into ``out_dir``."""
    from costcalc._version import __version__
    from costcalc.prices import load_price_table

    table = table or load_price_table()
    entry, prov_name = _provider_of(table, model, provider)
    rule = table.providers[table.find(model)[0].provider].batch
    if rule is None:
        raise UsageError(f"{entry.id}: the provider has no Batch API")
    check_batch_options(entry, max_tokens, max_requests, max_bytes)
    limit_requests, limit_bytes = effective_limits(rule, max_requests, max_bytes)
    if not re.fullmatch(r"[a-zA-Z0-9_-]{0,48}", id_prefix):
        raise UsageError(
            f"--id-prefix {id_prefix!r}: use letters, digits, _ and - (at most 48), so every "
            "custom_id matches ^[a-zA-Z0-9_-]{1,64}$"
        )
    fmt = LineFormat(prov_name, entry.id, max_tokens, system, entry.reasoning)
    out = Path(out_dir)
    stem = f"{Path(input_path).stem or 'batch'}-batch"
    writer = PartWriter(out, stem, limit_requests, limit_bytes, force)
    sample = Reservoir(QUOTE_SAMPLE, random.Random(seed))
    count = 0
    guard = ContextGuard(table, entry.id)
    try:
        for row in input_rows(
            input_path, column=column, template=template, field_path=field_path, progress=progress
        ):
            count += 1
            cid = f"{id_prefix}{row.number}"
            request = fmt.request(cid, row)
            line = encode_line(request)
            # the provider would reject a request over the limit; only long lines can be
            if len(line) > guard.shortest_suspect and (too_long := guard.over(line, request)):
                raise CostcalcError(f"{input_path}:{row.number}: one request has {too_long}")
            try:
                writer.add(line, cid)
            except RequestTooLarge as exc:
                raise CostcalcError(f"{input_path}:{row.number}: {exc}") from None
            if count <= QUOTE_SAMPLE or count == sample.next:
                sample.offer(row, count)
        if count == 0:
            raise InputFileError(input_path, "has no requests to put in a batch")
        job_quote = _job_quote(table, entry.id, fmt, sample.items, count, output_tokens)
        manifest = Manifest(
            created_by=f"costcalc {__version__}",
            input=str(input_path),
            provider=prov_name,
            model=entry.id,
            requests=count,
            custom_id_prefix=id_prefix,
            custom_id_number="data row of the CSV (1 = first row after the header)"
            if (column or template)
            else "line number of the input file",
            max_requests_per_file=limit_requests,
            max_bytes_per_file=limit_bytes,
            parts=[],
            quote=job_quote,
        )
        manifest.parts = list(writer.finish())
        data = (manifest.model_dump_json(indent=2) + "\n").encode()
        writer.commit(extra=[(f"{stem}.manifest.json", data)])
    except BaseException:
        writer.abort()
        raise
    return manifest


def _job_quote(
    table: Any,
    model: str,
    fmt: LineFormat,
    sample: list[Row],
    count: int,
    output_tokens: int | None,
) -> JobQuote:
    from costcalc.calculator import quote
    from costcalc.tokenfiles import CountSpec, request_tokens
    from costcalc.tokens import tokenizer_for
    from costcalc.workload import Workload

    tok = tokenizer_for(model, table)
    # count each request as the line it becomes (system prompts merged as the provider
    # takes them), exactly as `batch quote` counts the written file
    spec = CountSpec(tok.encoding, tok.overhead, None, "strict")
    sizes = [tok.scale(request_tokens(fmt.request("", row), spec)[0]) for row in sample]
    mean = Decimal(sum(sizes)) / Decimal(len(sizes))
    basis = f"counted offline ({tok.encoding}{', estimated' if tok.estimate else ''}) " + (
        "for every request" if len(sample) == count else f"on a sample of {len(sample):,}"
    )
    out = Decimal(output_tokens if output_tokens is not None else fmt.max_tokens)
    out_basis = "given" if output_tokens is not None else "max_tokens (an upper bound)"
    q = quote(
        Workload(
            model=model,
            requests=count,
            input_tokens=min(mean, Decimal(10**8)),
            output_tokens=out,
            modes=["request", "batch"],
            rate_limited=False,
        ),
        table,
        input_sizes=Counter(sizes),  # long-context prices per request, as batch quote does
    )
    std, batch = q.mode("request"), q.mode("batch")
    return JobQuote(
        currency=q.currency,
        requests=count,
        input_tokens_per_request=mean.quantize(Decimal("0.01")),
        input_tokens_basis=basis,
        output_tokens_per_request=out,
        output_tokens_basis=out_basis,
        standard_cost=std.cost,
        batch_cost=batch.cost,
        savings=batch.savings,
        batch_typical_wait_s=float(batch.wait_s) if batch.wait_s is not None else None,
        batch_worst_wait_s=float(batch.worst_wait_s) if batch.worst_wait_s is not None else None,
        assumed=batch.assumed,
    )


# --- validate -------------------------------------------------------------------------------


class FileReport(BaseModel):
    file: str
    provider: Provider | None
    model: str | None
    requests: int
    bytes: int
    max_tokens_total: int
    problems: list[str]


class ValidationReport(BaseModel):
    valid: bool
    files: list[FileReport]
    problems: int


def _read_lines(path: str) -> Iterator[tuple[int, bytes]]:
    """(line number, bytes) of a file; a file that cannot be read is bad input (exit 2)."""
    with open_input(path, "JSONL file") as f:
        yield from enumerate(f, start=1)


def _message_problems(messages: list[Any], where: str) -> list[str]:
    """What a provider would reject in a list of chat messages: none at all, a message that
    is not an object, has no role, or has no (or empty) content."""
    if not messages:
        return [f"{where} is empty"]
    for i, m in enumerate(messages):
        if not isinstance(m, Mapping) or not isinstance(m.get("role"), str):
            return [f"{where}[{i}] must be an object with a role"]
        content = m.get("content")
        if content is None or content == "" or content == []:
            return [f"{where}[{i}] has no content"]
    return []


class ContextGuard:
    """Finds requests over a model's input limit without counting every request: a token is
    at least one byte of the line, so only a line longer than the limit (times the model's
    calibration factor) can be over it, and only such lines are counted."""

    def __init__(self, table: Any, model: str) -> None:
        from costcalc.tokenfiles import CountSpec
        from costcalc.tokens import tokenizer_for

        self.tok = tokenizer_for(model, table)
        self.limit = self.tok.context_limit
        self.spec = CountSpec(self.tok.encoding, self.tok.overhead, None, "strict")
        self.shortest_suspect = math.floor(self.limit / self.tok.factor)

    def over(self, line: bytes, request: Mapping[str, Any]) -> str | None:
        """Why the request is too long for the model, or None."""
        if len(line) <= self.shortest_suspect:
            return None
        from costcalc.tokenfiles import RequestError, request_tokens

        try:
            tokens = self.tok.scale(request_tokens(request, self.spec)[0])
        except (RequestError, CostcalcError):
            return None  # a malformed request is reported by the checks that find it
        if tokens <= self.limit:
            return None
        return f"{tokens:,} input tokens, over {self.tok.model}'s limit of {self.limit:,}"


def validate_files(
    paths: Sequence[str],
    *,
    max_requests: int | None = None,
    max_bytes: int | None = None,
    table: Any = None,
) -> ValidationReport:
    """Check batch files before upload; problems name file and line."""
    from costcalc.prices import load_price_table

    table = table or load_price_table()
    seen: dict[str, str] = {}
    reports = []
    for path in paths:
        reports.append(_validate_file(path, seen, max_requests, max_bytes, table))
    total = sum(len(r.problems) for r in reports)
    return ValidationReport(valid=total == 0, files=reports, problems=total)


def _validate_file(
    path: str, seen: dict[str, str], max_requests: int | None, max_bytes: int | None, table: Any
) -> FileReport:
    problems: list[str] = []
    provider: Provider | None = None
    guard: ContextGuard | None = None
    model: str | None = None
    model_line = 0
    url: str | None = None
    requests = size = max_total = 0
    for number, raw in _read_lines(path):
        size += len(raw)
        if not raw.strip():
            continue
        where = f"{path}:{number}"
        try:
            obj = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            msg = exc.msg if isinstance(exc, json.JSONDecodeError) else "not valid UTF-8"
            problems.append(f"{where}: invalid JSON: {msg}")
            continue
        if not isinstance(obj, dict):
            problems.append(f"{where}: expected a JSON object, got {type(obj).__name__}")
            continue
        requests += 1
        kind: Provider = "anthropic" if "params" in obj else "openai"
        if provider is None:
            provider = kind
        elif kind != provider:
            problems.append(f"{where}: a request for {kind} in a file of {provider} requests")
            continue
        cid = obj.get("custom_id")
        if not isinstance(cid, str) or not cid:
            problems.append(f"{where}: custom_id is missing or not a string")
        else:
            if kind == "anthropic" and not ANTHROPIC_ID.fullmatch(cid):
                problems.append(
                    f"{where}: custom_id {cid!r} does not match ^[a-zA-Z0-9_-]{{1,64}}$"
                )
            if cid in seen:
                problems.append(f"{where}: custom_id {cid!r} is also used at {seen[cid]}")
            else:
                seen[cid] = where
        body_key = "params" if kind == "anthropic" else "body"
        body = obj.get(body_key)
        if kind == "openai":
            if obj.get("method") != "POST":
                problems.append(f'{where}: method must be "POST", got {obj.get("method")!r}')
            line_url = obj.get("url")
            if line_url not in OPENAI_URLS:
                problems.append(
                    f"{where}: url {line_url!r} is not a batch endpoint ({', '.join(OPENAI_URLS)})"
                )
            elif url is None:
                url = line_url
            elif line_url != url:
                problems.append(
                    f"{where}: url {line_url!r} differs from {url!r} (one endpoint per file)"
                )
        if not isinstance(body, dict):
            problems.append(f"{where}: {body_key} is missing or not an object")
            continue
        line_model = body.get("model")
        if not isinstance(line_model, str):
            problems.append(f"{where}: {body_key}.model is missing")
        elif model is None:
            model, model_line = line_model, number
            try:
                guard = ContextGuard(table, model)
            except CostcalcError:
                guard = None  # an unknown model: reported where the files are priced
        elif line_model != model:
            problems.append(
                f"{where}: model {line_model!r} differs from {model!r} on line {model_line} "
                "(one model per file)"
            )
        if guard is not None and (too_long := guard.over(raw, obj)):
            problems.append(f"{where}: {too_long}")
        if kind == "anthropic":
            mt = body.get("max_tokens")
            if not isinstance(mt, int) or isinstance(mt, bool) or mt < 1:
                problems.append(f"{where}: params.max_tokens must be a whole number >= 1")
            else:
                max_total += mt
            if not isinstance(body.get("messages"), list):
                problems.append(f"{where}: params.messages must be a list")
            else:
                problems += _message_problems(body["messages"], f"{where}: params.messages")
            if body.get("stream"):
                problems.append(f"{where}: params.stream is not allowed in a batch")
        else:
            mt = body.get("max_completion_tokens", body.get("max_tokens"))
            if isinstance(mt, int) and not isinstance(mt, bool):
                max_total += mt
            if url == "/v1/chat/completions":
                if not isinstance(body.get("messages"), list):
                    problems.append(f"{where}: body.messages must be a list")
                else:
                    problems += _message_problems(body["messages"], f"{where}: body.messages")
    if provider is not None:
        rule = table.providers[provider].batch if provider in table.providers else None
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
        problems=problems,
    )


def quote_files(paths: Sequence[str], output_tokens: int | None = None, table: Any = None) -> Any:
    """Token counts and cost, standard against batch, for batch files ready to upload."""
    from costcalc.calculator import QuoteReport, quote
    from costcalc.prices import load_price_table
    from costcalc.workload import Workload

    table = table or load_price_table()
    report = validate_files(paths, table=table)
    for f in report.files:
        if f.problems:
            raise CostcalcError(f"{f.problems[0]} (run costcalc batch validate)")
    quotes = []
    for f in report.files:
        assert f.model is not None
        out = (
            Decimal(output_tokens)
            if output_tokens is not None
            else Decimal(f.max_tokens_total) / Decimal(f.requests)
        )
        basis = "at max_tokens" if output_tokens is None else "given"
        # measured from the file, so long-context prices apply request by request
        quotes.append(
            quote(
                Workload(
                    name=f"{f.file} (output {basis})",
                    model=f.model,
                    input_file=f.file,
                    output_tokens=out,
                    modes=["request", "batch"],
                ),
                table,
            )
        )
    return QuoteReport.of(quotes)


# --- reconcile ------------------------------------------------------------------------------

Outcome = Literal["succeeded", "errored", "expired", "cancelled"]
OUTCOMES: tuple[Outcome, ...] = ("succeeded", "errored", "expired", "cancelled")
_OPENAI_ERROR_OUTCOME: dict[str, Outcome] = {
    "batch_expired": "expired",
    "batch_cancelled": "cancelled",
}


class Usage(BaseModel):
    input_tokens: int = 0
    """Uncached input tokens."""
    cached_input_tokens: int = 0
    cache_write_tokens: int = 0
    """Tokens written to a 5-minute cache (and writes whose lifetime is not reported)."""
    cache_write_1h_tokens: int = 0
    """Tokens written to a 1-hour cache (Anthropic's ephemeral_1h)."""
    output_tokens: int = 0


class _LineUsage(NamedTuple):
    """One succeeded request's billed tokens: its price tier depends on its own input."""

    input: int
    cached_input: int
    cache_write_5m: int
    cache_write_1h: int
    output: int


class Reconciliation(BaseModel):
    currency: str
    model: str | None
    outcomes: dict[str, int]
    usage: Usage
    actual_cost: MoneyOut
    """What the succeeded requests cost at batch prices (the others bill nothing)."""
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


def _outcome(
    obj: Mapping[str, Any], where: str
) -> tuple[str, Outcome, Mapping[str, Any] | None, str | None]:
    """custom_id, outcome, usage and model of one output line of either provider."""
    cid = obj.get("custom_id")
    if not isinstance(cid, str):
        raise CostcalcError(f"{where}: custom_id is missing (not a batch output line?)")
    if "result" in obj:  # Anthropic
        result = obj["result"]
        if not isinstance(result, Mapping) or result.get("type") not in (
            "succeeded",
            "errored",
            "canceled",
            "expired",
        ):
            raise CostcalcError(
                f"{where}: result.type must be succeeded, errored, canceled or expired"
            )
        kind = result["type"]
        if kind != "succeeded":
            return cid, ("cancelled" if kind == "canceled" else kind), None, None
        message = result.get("message")
        if not isinstance(message, Mapping) or not isinstance(message.get("usage"), Mapping):
            raise CostcalcError(f"{where}: result.message.usage is missing")
        return cid, "succeeded", message["usage"], message.get("model")
    if "response" in obj or "error" in obj:  # OpenAI
        error = obj.get("error")
        response = obj.get("response")
        if error:
            code = error.get("code") if isinstance(error, Mapping) else None
            return cid, _OPENAI_ERROR_OUTCOME.get(str(code), "errored"), None, None
        if not isinstance(response, Mapping):
            raise CostcalcError(f"{where}: response is missing")
        if response.get("status_code") != 200:
            return cid, "errored", None, None
        body = response.get("body")
        if not isinstance(body, Mapping) or not isinstance(body.get("usage"), Mapping):
            raise CostcalcError(f"{where}: response.body.usage is missing")
        return cid, "succeeded", body["usage"], body.get("model")
    raise CostcalcError(
        f"{where}: neither an OpenAI (response/error) nor an Anthropic (result) output line"
    )


def _int(usage: Mapping[str, Any], key: str, where: str) -> int:
    value = usage.get(key, 0) or 0
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise CostcalcError(f"{where}: usage.{key} must be a whole number >= 0, got {value!r}")
    return value


def _line_usage(obj: Mapping[str, Any], used: Mapping[str, Any], where: str) -> _LineUsage:
    if "result" in obj:  # Anthropic: input_tokens excludes cache reads and writes
        written = _int(used, "cache_creation_input_tokens", where)
        split = used.get("cache_creation")
        one_hour = (
            _int(split, "ephemeral_1h_input_tokens", where) if isinstance(split, Mapping) else 0
        )
        return _LineUsage(
            input=_int(used, "input_tokens", where),
            cached_input=_int(used, "cache_read_input_tokens", where),
            cache_write_5m=max(written - one_hour, 0),
            cache_write_1h=one_hour,
            output=_int(used, "output_tokens", where),
        )
    # OpenAI: prompt_tokens includes the cached tokens
    prompt = _int(used, "prompt_tokens", where)
    details = used.get("prompt_tokens_details") or {}
    cached = _int(details, "cached_tokens", where) if isinstance(details, Mapping) else 0
    return _LineUsage(prompt - cached, cached, 0, 0, _int(used, "completion_tokens", where))


def reconcile(
    outputs: Sequence[str],
    inputs: Sequence[str] = (),
    model: str | None = None,
    table: Any = None,
    as_of: dt.date | str | None = None,
) -> Reconciliation:
    """Actual cost of provider batch output files at batch prices, against the estimate for
    the input files, with outcomes and the input requests that have no result."""
    from costcalc.prices import load_price_table

    table = table or load_price_table()
    outcomes: Counter[str] = Counter(dict.fromkeys(OUTCOMES, 0))
    billed: Counter[_LineUsage] = Counter()
    seen_ids: set[str] = set()
    result_model = None
    for path in outputs:
        for number, raw in _read_lines(path):
            if not raw.strip():
                continue
            where = f"{path}:{number}"
            try:
                obj = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise CostcalcError(
                    f"{where}: invalid JSON (is this a batch output file?)"
                ) from None
            if not isinstance(obj, Mapping):
                raise CostcalcError(f"{where}: expected a JSON object")
            cid, outcome, used, line_model = _outcome(obj, where)
            if cid in seen_ids:  # the same result twice would be billed twice here
                raise CostcalcError(
                    f"{where}: custom_id {cid!r} has a result already (is a file given twice?)"
                )
            seen_ids.add(cid)
            outcomes[outcome] += 1
            if used is None:
                continue
            result_model = result_model or line_model
            billed[_line_usage(obj, used, where)] += 1
    name = model or result_model
    if name is None:
        raise UsageError("no succeeded result names its model; give --model")
    prices = table.prices(name, as_of)  # the day the batch ran: prices change
    batch = prices.mode("batch")
    if not batch.available:
        raise UsageError(f"{prices.model.id}: {batch.reason}")

    def rate(component: str, rates: ModeRates = batch) -> Decimal:
        r = rates.rate(component) or rates.rate("input")
        assert r is not None
        return Decimal(r.usd_per_mtok)

    usage = Usage()
    actual = Decimal(0)
    assumed: set[str] = set()
    for line, count in billed.items():
        # long-context prices apply per request, by its whole input (cache reads and writes
        # included, as Anthropic counts it)
        rates = prices.mode("batch", sum(line[:4]))
        for component, tokens in zip(_LineUsage._fields, line, strict=True):
            if tokens:
                actual += per_million(tokens * count, rate(component, rates))
                if component in rates.assumed:
                    assumed.add(component)
        usage.input_tokens += line.input * count
        usage.cached_input_tokens += line.cached_input * count
        usage.cache_write_tokens += line.cache_write_5m * count
        usage.cache_write_1h_tokens += line.cache_write_1h * count
        usage.output_tokens += line.output * count
    result = Reconciliation(
        currency=prices.currency,
        model=prices.model.id,
        outcomes=dict(outcomes),
        usage=usage,
        actual_cost=tidy(actual),
        # only the assumed prices this usage was billed at
        assumed=[c for c in _LineUsage._fields if c in assumed],
    )
    if inputs:
        from costcalc.tokenfiles import count_file

        report = validate_files(inputs, table=table)
        ids: list[str] = []
        wanted_ids: set[str] = set()
        for path in inputs:
            for _number, raw in _read_lines(path):
                if raw.strip():
                    try:
                        cid = json.loads(raw).get("custom_id")
                    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
                        continue
                    if isinstance(cid, str):
                        if cid in wanted_ids:
                            raise CostcalcError(
                                f"{path}: custom_id {cid!r} is in the input twice (is a file "
                                "given twice?)"
                            )
                        wanted_ids.add(cid)
                        ids.append(cid)
        if not ids:
            raise UsageError(
                f"{', '.join(inputs)}: no request with a custom_id: --input takes the batch "
                "file(s) that were uploaded"
            )
        counted = count_file(list(inputs), prices.model.id, table=table)
        max_out = sum(f.max_tokens_total for f in report.files)
        from costcalc.delivery import request_groups, tier_bounds

        estimate = Decimal(0)
        for group in request_groups(counted.sizes(), tier_bounds(prices), counted.requests):
            # each group at its own tier; output at max_tokens, shared by requests
            rates = prices.mode("batch", group.tier_input())
            share = Decimal(max_out) * group.requests / counted.requests
            estimate += per_million(group.input_tokens, rate("input", rates))
            estimate += per_million(share, rate("output", rates))
        estimate = tidy(estimate)
        wanted = set(ids)
        result.estimate = estimate
        result.estimate_basis = (
            f"{counted.tokens:,} input tokens counted offline ({counted.encoding}"
            f"{', estimated' if counted.estimate else ''}), {max_out:,} output tokens at max_tokens"
        )
        result.difference = actual - estimate
        result.input_requests = len(ids)
        result.missing = [c for c in ids if c not in seen_ids]
        result.unexpected = sorted(seen_ids - wanted)
    return result
