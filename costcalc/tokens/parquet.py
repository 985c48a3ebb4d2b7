"""Reading one string column of Parquet files (a file, or a folder of them as Spark and
other engines write a table) in record batches: never the whole table in memory."""

from __future__ import annotations

import errno
import os
import random
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from costcalc.atomic import not_regular
from costcalc.errors import InputFileError, UsageError, arg, quoted
from costcalc.jsonlines import MAX_REQUEST_BYTES, TOO_LARGE
from costcalc.tokens.requests import Progress
from costcalc.tokens.sources import PARQUET_EXTRA, filesystem, is_remote, refuse_device

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
        # a folder is read as a Parquet dataset: say so, or "needs pyarrow" reads as nonsense
        what = (
            "a folder, read as a Parquet dataset, which" if os.path.isdir(name) else "Parquet input"
        )
        raise UsageError(f"{name}: {what} needs pyarrow: {PARQUET_EXTRA}") from None
    return pyarrow, pyarrow.parquet, pyarrow.fs


def _location(name: str) -> tuple[Any, str]:
    """(pyarrow filesystem, path in it) of a local path or a URI."""
    _, _, pafs = _pyarrow(name)
    if is_remote(name):
        return filesystem(name)
    return pafs.LocalFileSystem(), os.path.abspath(name)


def parquet_files(name: str) -> list[tuple[Any, str]]:
    """(filesystem, path) of each Parquet file of ``name``: the file itself, or the files of a
    folder and its subfolders (``year=2024/part-0.parquet``), in order of their paths. As
    Spark reads a folder: every file but the hidden and ``_`` ones (``_SUCCESS``,
    ``_metadata``, ``.crc``), whatever its suffix (Hive writes ``000000_0``): a file that is
    not Parquet is an error, not left out (Spark counted files without a .parquet suffix
    that the local count left out). The filesystem is None for a local file (opened by
    ``_open`` from its path as bytes: a name that is not UTF-8 is read too)."""
    _, _, pafs = _pyarrow(name)
    fs, path = _location(name)
    if isinstance(fs, pafs.LocalFileSystem):  # a path or a file:// URI: walked as local
        refuse_device(path, name)
        try:
            is_dir = stat.S_ISDIR(os.stat(path).st_mode)
        except FileNotFoundError:
            raise InputFileError(name, "no such file or folder") from None
        except OSError as exc:
            raise _unreachable(name, exc) from None
        return [(None, f) for f in _local_files(name, path)] if is_dir else [(None, path)]
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
        and not any(part.startswith(("_", ".")) for part in f.path[len(path) :].split("/"))
    )
    if not files:
        raise _no_data_files(name)
    return [(fs, f) for f in files]


def _no_data_files(name: str) -> InputFileError:
    return InputFileError(
        name, "is a directory with no data files (a folder is read as a Parquet table)"
    )


def _unreachable(shown: str, exc: OSError) -> InputFileError:
    """A path ``os.stat`` failed on: a symlink loop, or what the system says."""
    if exc.errno == errno.ELOOP:
        return InputFileError(shown, "is a symlink loop, expected a Parquet file or folder")
    return InputFileError(shown, f"cannot read: {(exc.strerror or str(exc)).lower()}")


def _local_files(name: str, top: str) -> list[str]:
    """The data files of a local folder and its subfolders, symlinks followed as Spark
    follows them, but each file read once: a symlink back to a folder that holds it (a loop:
    pyarrow's listing followed it until the path was too long, counting every file 40 times)
    is refused, naming it, and so is a part that is not a regular file (a FIFO would hang
    the count, a device never end, a dangling link be left out)."""
    files: list[str] = []
    # (device, inode) of the folders from the top down to the one listed: a link to one of
    # them is a loop
    folders = [(top, {_identity(os.stat(top))})]
    while folders:
        folder, above = folders.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            raise _unreachable(_shown(name, folder), exc) from None
        below = []  # listed next, in order of their names (the first bad part is named)
        for entry in entries:
            if entry.name.startswith(("_", ".")):
                continue
            shown = _shown(name, entry.path)
            try:
                st = os.stat(entry.path)
            except FileNotFoundError:
                target = quoted(os.readlink(entry.path)) if entry.is_symlink() else "nothing"
                raise InputFileError(
                    shown, f"is a dangling symlink (to {target}), expected a Parquet file"
                ) from None
            except OSError as exc:
                raise _unreachable(shown, exc) from None
            if stat.S_ISDIR(st.st_mode):
                if _identity(st) in above:
                    # the link itself, or a folder reached again through a link above it
                    # (tbl/up -> .. holds tbl again: readlink of up/tbl has nothing to say)
                    how = (
                        f"to {quoted(os.readlink(entry.path))}, a folder that holds it"
                        if entry.is_symlink()
                        else "a folder reached again through a symlink above it"
                    )
                    raise InputFileError(
                        shown, f"is a symlink loop ({how}): its files would be read again and again"
                    )
                below.append((entry.path, above | {_identity(st)}))
            elif stat.S_ISREG(st.st_mode):
                files.append(entry.path)
            else:
                kind = not_regular(Path(os.path.realpath(entry.path))) or "not a regular file"
                raise InputFileError(
                    shown, f"is {kind}, not a regular file: expected a Parquet file"
                )
        folders.extend(reversed(below))
    if not files:
        raise _no_data_files(name)
    return sorted(files)


def _identity(st: os.stat_result) -> tuple[int, int]:
    return st.st_dev, st.st_ino


FOLDER_RULE = (
    " (a folder is read as a Parquet table, as Spark reads it: every file in it is one but "
    "those whose names start with _ or .)"
)


def not_parquet(name: str, shown: str, why: str = "") -> InputFileError:
    """A file of the input that is not Parquet; one of a folder says how folders are read."""
    rule = FOLDER_RULE if shown != name else ""
    return InputFileError(shown, f"is not a Parquet file{rule}{': ' + why if why else ''}")


def require_parquet(name: str) -> None:
    """Refuse, naming it, a file of a local Parquet input that is not Parquet (no ``PAR1``
    at its start and end), before Spark starts: its error would be a Java stack. A name
    that is not UTF-8 is refused too: Spark does not see the file (the local engine reads
    it)."""
    for _, path in parquet_files(name):
        shown = _shown(name, path)
        if not _is_utf8(path):
            raise InputFileError(
                shown, "its name is not UTF-8, and Spark cannot read it (the local engine can)"
            )
        try:
            with open(path, "rb") as f:
                head = f.read(4)
                f.seek(0, os.SEEK_END)
                size = f.tell()
                f.seek(max(size - 4, 0))
                tail = f.read(4)
        except OSError as exc:
            raise InputFileError(shown, f"cannot read it ({exc.strerror})") from None
        if head != PARQUET_MAGIC or tail != PARQUET_MAGIC or size < 12:
            raise not_parquet(name, shown)


def _is_utf8(path: str) -> bool:
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def _open(name: str, fs: Any, path: str) -> tuple[Any, str, int]:
    """(ParquetFile, the name to show in messages, size in bytes) of one file."""
    pa, pq, _ = _pyarrow(name)
    shown = name if len(path) <= 1 else _shown(name, path)
    try:
        # a local path as bytes: pyarrow's own filesystem refused a name that is not UTF-8
        stream = fs.open_input_file(path) if fs is not None else pa.OSFile(os.fsencode(path))
        # pre_buffer=False: pyarrow's default read-ahead keeps what it read, so memory grew
        # with the file (652 MiB at 10M rows, bench/bench_parquet.py); without it, flat
        return pq.ParquetFile(stream, pre_buffer=False), shown, stream.size()
    except FileNotFoundError:
        raise InputFileError(shown, "no such file") from None
    except (OSError, ValueError) as exc:  # ArrowInvalid: not Parquet, or a broken footer
        raise not_parquet(name, shown, _first_line(exc)) from None


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


MIN_ROW_GROUPS = 30
"""Fewer row groups than this in all: a sample reads every row (too few units to estimate
the spread between them)."""


@dataclass
class GroupDraw:
    """One draw of the first stage of a Parquet sample: a row group (drawn in proportion to
    its column's bytes) and the texts of the rows drawn in it (in proportion to theirs)."""

    rows: int
    texts: list[str]
    scale: float = 0.0
    """The group's bytes (+1 a row) / its chance of being drawn: the draw estimates the
    total as scale x mean(tokens / (bytes + 1)) of its rows."""
    sizes: list[int] = field(default_factory=list)
    """Bytes + 1 of each row drawn (rows are drawn in proportion to it)."""
    rows_at: list[tuple[int, int]] = field(default_factory=list)
    """(group, row) of each row drawn: a row drawn again is tokenized once."""


@dataclass
class ParquetSample:
    rows: int
    """Rows of all the files (exact, from their footers)."""
    groups: int
    """Row groups of all the files."""
    read: int
    """Distinct row groups read (only the column asked for)."""
    draws: list[GroupDraw]
    kept: list[tuple[str, float]] | None = None
    """Rows drawn by their size from all the rows (every group's column read: priority
    sampling, ``costcalc.tokens.priority``): each text with its chance of being kept."""


def parquet_sample(
    names: list[str], column: str | None, size: int, rng: random.Random
) -> ParquetSample | None:
    """A two-stage sample of about ``size`` rows: row groups drawn with replacement in
    proportion to their column's bytes, then rows in proportion to theirs in each, reading
    only the drawn groups' column chunks. With fewer than ``MIN_ROW_GROUPS`` row groups, or
    when the drawn ones hold half the rows, ``size`` rows drawn uniformly (``uniform``);
    None when the sample is as large as the input."""
    pa, _, _ = _pyarrow(names[0])
    # (ParquetFile, shown, group, rows, the column chunk's uncompressed bytes in the footer)
    groups: list[tuple[Any, str, int, int, int]] = []
    for name in names:
        for fs, path in parquet_files(name):
            pf, shown, _ = _open(name, fs, path)
            _check_column(pa, pf, shown, column)
            meta = pf.metadata
            for i in range(meta.num_row_groups):
                rg = meta.row_group(i)
                chunk = next(
                    (rg.column(j) for j in range(rg.num_columns)
                     if rg.column(j).path_in_schema == column),
                    None,
                )  # fmt: skip
                size_hint = chunk.total_uncompressed_size if chunk is not None else 0
                groups.append((pf, shown, i, rg.num_rows, max(1, size_hint or 0)))
    groups = [g for g in groups if g[3]]
    total = sum(g[3] for g in groups)
    if size >= total:
        return None
    draws = min(len(groups), max(MIN_ROW_GROUPS, size // 20))
    # groups drawn in proportion to their column's bytes (the footer has them), rows in
    # proportion to their own bytes: tokens per byte varies little, so each draw's estimate
    # varies little, even between groups of very different lengths
    hint = sum(g[4] for g in groups)
    picked = rng.choices(range(len(groups)), weights=[g[4] for g in groups], k=draws)
    if len(groups) < MIN_ROW_GROUPS or 2 * sum(groups[i][3] for i in set(picked)) >= total:
        # few groups: every group's column decoded, rows kept by their size (no Python
        # string made for a row not kept), only the kept rows tokenized
        import pyarrow.compute as pc

        from costcalc.tokens.priority import PrioritySample

        sampler = PrioritySample(size, rng)
        for pf, shown, group, _rows, _ in groups:
            values = _read_group(pf, shown, group, column)
            chars = pc.fill_null(pc.utf8_length(values.cast("large_string")), 0).to_pylist()
            entries = {i: e for i, n in enumerate(chars) if (e := sampler.offer(None, n))}
            if entries:  # the texts of the rows kept for now
                order = sorted(entries)
                for i, text in zip(order, _texts(values.take(order), shown, 1), strict=True):
                    entries[i][3] = text
        return ParquetSample(total, len(groups), len(groups), [], kept=sampler.kept())
    import pyarrow.compute as pc

    per_draw = -(-size // draws)
    out = ParquetSample(total, len(groups), len(set(picked)), [])
    last = -1
    for i in sorted(picked):
        pf, shown, group, rows, size_hint = groups[i]
        if i != last:  # a group drawn again is read once (draws are in group order)
            values = _read_group(pf, shown, group, column)
            # a row's bytes + 1, so an empty or null row can be drawn too
            lengths = pc.add(pc.fill_null(pc.binary_length(values.cast("large_string")), 0), 1)
            sizes = lengths.to_pylist()
            scale = pc.sum(lengths).as_py() * hint / size_hint
            last = i
        at = rng.choices(range(rows), weights=sizes, k=per_draw)
        out.draws.append(
            GroupDraw(
                rows,
                _texts(values.take(at), shown, 1),
                scale=scale,
                sizes=[sizes[j] for j in at],
                rows_at=[(i, j) for j in at],
            )
        )
    return out


def _read_group(pf: Any, shown: str, group: int, column: str | None) -> Any:
    """One row group's column, as one array."""
    try:
        return pf.read_row_group(group, columns=[column]).column(0).combine_chunks()
    except (OSError, ValueError) as exc:
        raise InputFileError(shown, f"cannot read Parquet data: {_first_line(exc)}") from None


def looks_like_parquet(head: bytes) -> bool:
    """Whether a file starting with ``head`` is Parquet (by its magic bytes)."""
    return head.startswith(PARQUET_MAGIC)
