"""Counting blocks of input in this process or in worker processes, in order."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from costcalc.atomic import sigterm_raises
from costcalc.errors import NOT_UTF8, CostcalcError, CostcalcWarning, RequestError
from costcalc.jsonlines import (
    MAX_REQUEST_BYTES,
    TOO_LARGE,
    UTF8_BOM,
    JsonError,
    parse_json,
    plain_object,
)
from costcalc.requests import blank
from costcalc.tokens.encodings import (
    get_encoding,
)
from costcalc.tokens.forked import die_with_parent
from costcalc.tokens.requests import (
    BLOCK_BYTES,
    CountSpec,
    Errors,
    request_count,
)
from costcalc.tokens.tally import Tally

# --- partial results from one block ------------------------------------------------------------


@dataclass
class Partial(Tally):
    """The tally of one block, and where counting it stopped."""

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
        raise RequestError(NOT_UTF8) from None


def count_jsonl_block(spec: CountSpec, block: bytes, first_line: int) -> Partial:
    """Count every request line of a block of whole JSONL lines."""
    out = Partial(spec.encoding)
    hist = out.hist
    for offset, raw in enumerate(block.split(b"\n")):
        if not raw.strip():
            continue
        try:
            if len(raw) > MAX_REQUEST_BYTES:  # a range worker's block is not checked yet
                raise RequestError(TOO_LARGE)
            # most lines: orjson reads the bytes (valid UTF-8, no lone surrogate in them)
            obj = plain_object(raw)
            if obj is not None:
                tokens, chat, refused = request_count(obj, spec, surrogates=False)
            else:  # the rest as their text reads: decoded as asked, errors said
                text = _decode_line(raw, spec.errors)
                try:
                    obj = parse_json(text)
                except JsonError as exc:
                    raise RequestError(str(exc)) from None
                tokens, chat, refused = request_count(obj, spec)
            if refused:
                out.refused += 1
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
                if end - start > BLOCK_BYTES + MAX_REQUEST_BYTES:
                    break  # a line over the cap: its worker reports it, reading no further
            yield start, end
            start = end


def count_jsonl_range(spec: CountSpec, path: str, start: int, end: int) -> Partial:
    """Count the requests in bytes [start, end) of a JSONL file (a worker reads its own
    range, so the main process only hands out offsets)."""
    with open(path, "rb") as f:
        f.seek(start)
        block = f.read(end - start)
    # a BOM starting the file is no part of the first request (as jsonl_blocks drops it)
    part = count_jsonl_block(spec, block.removeprefix(UTF8_BOM) if start == 0 else block, 1)
    part.lines = block.count(b"\n") + (0 if block.endswith(b"\n") else 1)
    part.nbytes = len(block)
    return part


def count_texts(spec: CountSpec, texts: Sequence[str]) -> Partial:
    """Count each text as one request (CSV rows, lines of text)."""
    enc = get_encoding(spec.encoding)
    out = Partial(spec.encoding)
    hist = out.hist
    extra = spec.prompt_overhead
    for text in texts:
        hist[len(enc.encode_ordinary(text)) + extra] += 1
        if blank(text):  # a provider refuses it
            out.refused += 1
    out.chat = bool(extra)
    return out


def count_text_piece(spec: CountSpec, piece: str) -> int:
    return len(get_encoding(spec.encoding).encode_ordinary(piece))


# --- running blocks in one or more processes -------------------------------------------------


def _init_worker(encoding: str, parent: int) -> None:  # pragma: no cover - in workers
    # Ctrl-C reaches the whole process group: the parent alone handles it, stopping the
    # workers, instead of each printing its own traceback
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # a forked worker inherits the parent's SIGTERM handler (``sigterm_raises``): the
    # parent's terminate() must end it, not raise inside the pool's loop
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    die_with_parent(parent)
    get_encoding(encoding)


def usable_jobs(jobs: int) -> int:
    """``jobs`` capped to the CPUs this process may use (more only add start-up time and
    memory), with a warning when it is capped."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    if jobs > cpus:
        warnings.warn(
            CostcalcWarning(f"{jobs:,} jobs asked for, more than the {cpus} CPUs: using {cpus}"),
            stacklevel=2,
        )
        return cpus
    return jobs


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
    pool = ProcessPoolExecutor(
        jobs, mp_context=ctx, initializer=_init_worker, initargs=(encoding, os.getpid())
    )
    signals = contextlib.ExitStack()
    try:
        if not sys.platform.startswith("linux"):
            # SIGTERM raises (as Ctrl-C does), so the workers are stopped below, not orphaned.
            # Not on Linux, where the workers end with the parent whatever kills it: a SIGTERM
            # that came as a worker was forked was seen lost there, the parent never woke
            signals.enter_context(sigterm_raises())
        pending: deque[Any] = deque()
        for item in items:
            pending.append(pool.submit(func, *item))
            if len(pending) >= 2 * jobs:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    except BaseException:
        # an error, Ctrl-C or a consumer that stopped early: stop the workers now rather
        # than wait for the work in flight (shutdown alone waits for running items)
        workers = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.join(5)
        raise
    finally:
        signals.close()
    pool.shutdown()
