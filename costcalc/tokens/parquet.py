"""Reading one string column of Parquet files (a file, or a folder of them as Spark and
other engines write a table) in record batches: never the whole table in memory."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from costcalc.errors import InputFileError, UsageError, arg, quoted
from costcalc.jsonlines import MAX_REQUEST_BYTES, TOO_LARGE
from costcalc.tokens.requests import Progress
from costcalc.tokens.sources import PARQUET_EXTRA, filesystem, is_remote

PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
PARQUET_MAGIC = b"PAR1"
BATCH_ROWS = 4096
"""Rows per record batch: a few MB of text at most, whatever the row groups."""


def _pyarrow(name: str) -> tuple[Any, Any, Any]:
    """(pyarrow, pyarrow.parquet, pyarrow.fs), or the one-line error naming the extra."""
    try:
        import pyarrow
        import pyarrow.fs
        import pyarrow.parquet
    except ImportError:
        raise UsageError(f"{name}: Parquet input needs pyarrow: {PARQUET_EXTRA}") from None
    return pyarrow, pyarrow.parquet, pyarrow.fs


def _location(name: str) -> tuple[Any, str]:
    """(pyarrow filesystem, path in it) of a local path or a URI."""
    _, _, pafs = _pyarrow(name)
    if is_remote(name):
        return filesystem(name)
    return pafs.LocalFileSystem(), os.path.abspath(name)


def parquet_files(name: str) -> list[tuple[Any, str]]:
    """(filesystem, path) of each Parquet file of ``name``: the file itself, or the files of a
    folder and its subfolders (``year=2024/part-0.parquet``), in order of their paths;
    hidden and ``_``-files (``_SUCCESS``, ``_metadata``, ``.crc``) left out."""
    _, _, pafs = _pyarrow(name)
    fs, path = _location(name)
    try:
        info = fs.get_file_info(path)
        if info.type == pafs.FileType.NotFound:
            raise InputFileError(name, "no such file or folder")
        if info.type != pafs.FileType.Directory:
            return [(fs, path)]
        found = fs.get_file_info(pafs.FileSelector(path, recursive=True))
    except (OSError, ValueError) as exc:
        if isinstance(exc, InputFileError):
            raise
        raise InputFileError(name, f"cannot read: {_first_line(exc)}") from None
    files = sorted(
        f.path
        for f in found
        if f.type == pafs.FileType.File
        and f.path.lower().endswith(PARQUET_SUFFIXES)
        and not any(part.startswith(("_", ".")) for part in f.path[len(path) :].split("/"))
    )
    if not files:
        raise InputFileError(
            name, "is a directory with no .parquet files (a folder is read as a Parquet table)"
        )
    return [(fs, f) for f in files]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def _open(name: str, fs: Any, path: str) -> tuple[Any, str, int]:
    """(ParquetFile, the name to show in messages, size in bytes) of one file."""
    _, pq, _ = _pyarrow(name)
    shown = name if len(path) <= 1 else _shown(name, path)
    try:
        stream = fs.open_input_file(path)
        # pre_buffer=False: pyarrow's default read-ahead keeps what it read, so memory grew
        # with the file (652 MiB at 10M rows, bench/bench_parquet.py); without it, flat
        return pq.ParquetFile(stream, pre_buffer=False), shown, stream.size()
    except FileNotFoundError:
        raise InputFileError(shown, "no such file") from None
    except (OSError, ValueError) as exc:  # ArrowInvalid: not Parquet, or a broken footer
        raise InputFileError(shown, f"is not a Parquet file ({_first_line(exc)})") from None


def _shown(name: str, path: str) -> str:
    """How to name one file of a folder in a message: as the user reaches it."""
    if is_remote(name):
        scheme = name.split("://", 1)[0]
        return f"{scheme}://{path}" if scheme != "file" else path
    base = os.path.abspath(name)
    if path == base:
        return name
    return os.path.join(name, os.path.relpath(path, base))


def _is_text(pa: Any, kind: Any) -> bool:
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return bool(
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or getattr(pa.types, "is_string_view", lambda _: False)(kind)
        or pa.types.is_null(kind)
    )


def parquet_columns(name: str) -> list[str]:
    """The column names of the first Parquet file of ``name`` (for a message)."""
    fs, path = parquet_files(name)[0]
    pf, _, _ = _open(name, fs, path)
    return list(pf.schema_arrow.names)


def parquet_rows(
    name: str, column: str | None, progress: Progress | None = None
) -> Iterator[tuple[str, int]]:
    """(text, 1-based row number within its file) of each row of ``column``; a null is the
    empty request (refused, as an empty prompt is)."""
    for texts, first in parquet_batches(name, column, progress):
        for i, text in enumerate(texts):
            yield text, first + i


def parquet_batches(
    name: str, column: str | None, progress: Progress | None = None
) -> Iterator[tuple[list[str], int]]:
    """(texts, 1-based row number of the first within its file) of each record batch of
    ``column``, nulls as empty requests: a count hands each list on whole (no per-row step)."""
    pa, _, _ = _pyarrow(name)
    for fs, path in parquet_files(name):
        pf, shown, size = _open(name, fs, path)
        _check_column(pa, pf, shown, column)
        assert column is not None
        yield from _column_batches(pf, shown, column, size, progress)


def _check_column(pa: Any, pf: Any, shown: str, column: str | None) -> None:
    names = list(pf.schema_arrow.names)
    if column is None or column not in names:
        listed = ", ".join(quoted(n, 40)[1:-1] for n in names[:20]) or "none"
        if len(names) > 20:
            listed += f", ... ({len(names):,} columns)"
        if column is None:
            raise UsageError(f"{shown}: Parquet input needs {arg('column NAME')} ({listed})")
        raise InputFileError(shown, f"no column {quoted(column)} (columns: {listed})")
    kind = pf.schema_arrow.field(column).type
    if not _is_text(pa, kind):
        raise InputFileError(
            shown, f"column {quoted(column)} holds {kind}, expected strings (text)"
        )


def _texts(values: Any, shown: str, first: int) -> list[str]:
    """The strings of one batch's column (a null as ""), refusing one over the request cap."""
    import pyarrow.compute as pc

    if len(values) and values.null_count < len(values):
        lengths = pc.binary_length(values.cast("large_string"))
        longest = pc.max(lengths).as_py()
        if longest is not None and longest > MAX_REQUEST_BYTES:
            at = next(i for i, n in enumerate(lengths.to_pylist()) if n and n > MAX_REQUEST_BYTES)
            raise InputFileError(shown, f"row {first + at}: {TOO_LARGE}")
    texts: list[str] = values.to_pylist()
    if values.null_count:
        texts = ["" if text is None else text for text in texts]
    return texts


def _column_batches(
    pf: Any, shown: str, column: str, size: int, progress: Progress | None
) -> Iterator[tuple[list[str], int]]:
    first = 1
    # progress in bytes of the file, spread over its rows (a bar needs no more precision)
    per_row = size / max(pf.metadata.num_rows, 1) if progress else 0.0
    try:
        for batch in pf.iter_batches(batch_size=BATCH_ROWS, columns=[column]):
            values = batch.column(0)
            yield _texts(values, shown, first), first
            first += len(values)
            if progress is not None:
                progress(round(per_row * len(values)))
    except (OSError, ValueError) as exc:
        if isinstance(exc, InputFileError):
            raise
        raise InputFileError(shown, f"cannot read Parquet data: {_first_line(exc)}") from None


def looks_like_parquet(head: bytes) -> bool:
    """Whether a file starting with ``head`` is Parquet (by its magic bytes)."""
    return head.startswith(PARQUET_MAGIC)
