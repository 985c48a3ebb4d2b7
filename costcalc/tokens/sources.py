"""Opening an input: local files, object storage (``s3://``, ``gs://``) through pyarrow's
filesystems, and gzip, bzip2, xz or zstd compression recognised by its magic bytes, read as a
stream (never decompressed whole into memory)."""

from __future__ import annotations

import bz2
import contextlib
import gzip
import io
import lzma
import os
import re
import stat
import warnings
import zlib
from collections.abc import Callable, Iterator
from pathlib import PurePosixPath
from typing import IO, Any

from costcalc.errors import (
    CostcalcError,
    CostcalcWarning,
    EnvironmentFailure,
    InputFileError,
    UsageError,
    open_input,
)

PARQUET_EXTRA = "pip install 'costcalc[parquet]'"

# The first bytes of each compressed format (its "magic number").
_MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
)
COMPRESSION_SUFFIXES = {
    ".gz": "gzip",
    ".gzip": "gzip",
    ".bz2": "bzip2",
    ".xz": "xz",
    ".zst": "zstd",
    ".zstd": "zstd",
}
_URI = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
REMOTE_SCHEMES = ("s3", "gs", "gcs", "hdfs", "viewfs", "abfs", "abfss", "file")
"""URIs opened through ``pyarrow.fs.FileSystem.from_uri`` (credentials come from the
environment, as pyarrow reads them: AWS_* variables or ~/.aws for s3, Google's application
default credentials for gs)."""


def is_remote(name: str) -> bool:
    """Whether ``name`` is a URI read through pyarrow's filesystems (``s3://b/k``)."""
    m = _URI.match(name)
    return m is not None and m.group(1).lower() in REMOTE_SCHEMES


def inner_name(name: str) -> str:
    """The name without its compression suffix: ``x.csv.gz`` -> ``x.csv`` (so its format
    is read from what is inside)."""
    path = PurePosixPath(name)
    if path.suffix.lower() in COMPRESSION_SUFFIXES:
        return name[: -len(path.suffix)]
    return name


def compression_of(head: bytes) -> str | None:
    """The compression of a stream starting with ``head``, by its magic bytes; None: plain."""
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    return None


GCS_RETRY_SECONDS = 10
"""How long a ``gs://`` input retries before it fails, unless its URI says
(``?retry_limit_seconds=N``): pyarrow's own default retries for 15 minutes, so an offline
machine or missing credentials looked like a hang."""


def _from_uri(pafs: Any, name: str) -> tuple[Any, str]:
    uri = name
    scheme = name.split("://", 1)[0].lower()
    if scheme in ("gs", "gcs") and "retry_limit_seconds=" not in name:
        uri += f"{'&' if '?' in name else '?'}retry_limit_seconds={GCS_RETRY_SECONDS}"
    fs, path = pafs.FileSystem.from_uri(uri)
    return fs, str(path)


def filesystem(name: str) -> tuple[Any, str]:
    """(pyarrow filesystem, path in it) for a URI; the one-line error naming the extra when
    pyarrow is not installed."""
    pafs = import_pyarrow(name, "fs")
    try:
        fs, path = _from_uri(pafs, name)
    except (ValueError, OSError) as exc:  # pyarrow.ArrowInvalid is a ValueError
        raise _remote_failure(name, "cannot open", exc) from None
    return fs, str(path)


_NETWORK = (
    *("resolve host", "resolve hostname", "network_connection", "couldn't connect"),
    *("could not connect", "connection refused", "timed out", "timeout", "unreachable"),
    "retry policy exhausted",  # Google Cloud's client, offline or without credentials
)
"""How pyarrow's filesystems word a network that failed (not the path or the data)."""


def _remote_failure(name: str, what: str, exc: BaseException) -> CostcalcError | EnvironmentFailure:
    """A URI that failed: the network (exit 3, as a failing disk) or the path itself (2)."""
    text = _first_line(exc)
    if len(text) > 300:  # Google's client puts the whole retry history on one line
        text = text[:300] + "..."
    if any(word in text.lower() for word in _NETWORK):
        return EnvironmentFailure(name, f"{what}: the network failed: {text}")
    return InputFileError(name, f"{what}: {text}")


def import_pyarrow(name: str, module: str) -> Any:
    """``pyarrow.<module>``, or the one-line error saying how to install it."""
    import importlib

    try:
        return importlib.import_module(f"pyarrow.{module}")
    except ImportError:
        raise UsageError(f"{name}: reading it needs pyarrow: {PARQUET_EXTRA}") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def is_folder(name: str) -> bool:
    """Whether a URI names a folder (a Parquet table as Spark writes it); False when pyarrow
    is missing (opening the file then says it is needed)."""
    try:
        import pyarrow.fs as pafs
    except ImportError:
        return False
    try:
        fs, path = _from_uri(pafs, name)
        return bool(fs.get_file_info(path).type == pafs.FileType.Directory)
    except (OSError, ValueError) as exc:  # opening it says what is wrong, but not twice
        failure = _remote_failure(name, "cannot open", exc)  # after as long a retry
        if isinstance(failure, EnvironmentFailure):
            raise failure from None
        return False


def refuse_device(path: str, name: str | None = None) -> None:
    """Refuse a local character or block device as an input (``name``: as the user gave it),
    as outputs are: ``/dev/zero`` never ends, and a text input is read whole. A FIFO or a
    shell's ``<(...)`` is read."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):  # opening it says what is wrong
        return
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        raise InputFileError(name or path, "is a device, expected a file")


def open_raw(name: str) -> IO[bytes]:
    """The bytes of a local file or a URI, as stored (compressed or not)."""
    if not is_remote(name):
        refuse_device(name)
        return open_input(name)
    fs, path = filesystem(name)
    if type(fs).__name__ == "LocalFileSystem":  # file:///dev/zero
        refuse_device(path, name)
    try:
        stream = fs.open_input_stream(path)
    except FileNotFoundError:
        raise InputFileError(name, "no such file") from None
    except (OSError, ValueError) as exc:
        raise _remote_failure(name, "cannot read", exc) from None
    return io.BufferedReader(_Guarded(stream, name, "cannot read"))


def open_source(name: str) -> IO[bytes]:
    """The bytes of an input, decompressed as they are read when they are compressed."""
    return decompressed(open_raw(name), name)


def decompressed(raw: IO[bytes], name: str) -> IO[bytes]:
    """``raw`` (a buffered stream: a file, stdin), decompressed as it is read when its first
    bytes say it is compressed; ``name`` is what its errors name."""
    kind = compression_of(_peek(raw, 6))
    if kind is None:
        return raw
    try:
        stream = _decompressor(kind, raw, name)
    except BaseException:
        raw.close()
        raise
    return io.BufferedReader(_Guarded(stream, name, f"corrupt or truncated {kind} data"))


def is_stream_path(name: str) -> bool:
    """Whether a local path is neither a regular file nor a folder (a FIFO, ``/dev/fd/63``
    of a shell's ``<(...)``, a device): what is read of it cannot be read again."""
    if is_remote(name):
        return False
    try:
        mode = os.stat(name).st_mode
    except (OSError, ValueError):  # reading it says what is wrong
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def is_compressed(name: str) -> bool:
    """Whether a local file or URI holds compressed data (read by its first bytes)."""
    with open_raw(name) as raw:
        return compression_of(_peek(raw, 6)) is not None


def _peek(stream: IO[bytes], n: int) -> bytes:
    peek: Callable[[int], bytes] | None = getattr(stream, "peek", None)
    if peek is None:  # pragma: no cover - open_raw returns buffered readers
        return b""
    return peek(n)[:n]


def _decompressor(kind: str, raw: IO[bytes], name: str) -> Any:
    """A stream of the decompressed bytes (a GzipFile, BZ2File, LZMAFile or _Zstd)."""
    if kind == "gzip":
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if kind == "bzip2":
        return bz2.BZ2File(raw, "rb")
    if kind == "xz":
        return lzma.LZMAFile(raw, "rb")
    try:
        import zstandard
    except ImportError:
        raise UsageError(f"{name}: zstd input needs the parquet extra: {PARQUET_EXTRA}") from None
    return _Zstd(zstandard, raw)


class _Zstd(io.RawIOBase):
    """zstd frames one after another, decompressed a little at a time so the output of one
    step stays bounded (a decompression bomb cannot fill memory); a stream that ends inside a
    frame is an error (zstandard's own reader would end quietly there)."""

    FEED = 1024
    """Compressed bytes per step: a zstd block expands at most about 32,000-fold, so one
    step yields at most about 32 MiB whatever the data."""

    def __init__(self, zstandard: Any, raw: IO[bytes]) -> None:
        self._raw = raw
        self._dctx = zstandard.ZstdDecompressor()
        self._error: type[Exception] = zstandard.ZstdError
        self._frame: Any = None
        self._input = memoryview(b"")
        self._out = b""
        self._at = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while self._at >= len(self._out):
            if not self._input:
                self._input = memoryview(self._raw.read(64 * 1024))
                if not self._input:
                    if self._frame is not None:
                        raise EOFError("the data ends inside a zstd frame")
                    return 0
            if self._frame is None:
                self._frame = self._dctx.decompressobj()
            feed, self._input = self._input[: self.FEED], self._input[self.FEED :]
            try:
                self._out, self._at = self._frame.decompress(feed), 0
            except self._error as exc:
                raise OSError(str(exc)) from None
            if self._frame.eof:  # the frame ended: what follows is the next frame
                rest = self._frame.unused_data
                self._input = memoryview(rest + bytes(self._input)) if rest else self._input
                self._frame = None
        n = min(len(buffer), len(self._out) - self._at)
        buffer[:n] = self._out[self._at : self._at + n]
        self._at += n
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


# What decompressors and pyarrow's streams raise on bad or truncated data.
_READ_ERRORS = (OSError, EOFError, ValueError, lzma.LZMAError, zlib.error)


class _Guarded(io.RawIOBase):
    """A stream whose read failures are one line naming the input (a corrupt archive, a
    connection lost), never a traceback."""

    def __init__(self, stream: Any, name: str, what: str) -> None:
        self._stream = stream
        self._name = name
        self._what = what

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            data = self._stream.read(len(buffer))
        except CostcalcError:
            raise
        except _READ_ERRORS as exc:
            raise InputFileError(self._name, f"{self._what}: {_first_line(exc)}") from None
        n = len(data)
        buffer[:n] = data
        return n

    def close(self) -> None:
        try:
            self._stream.close()
        finally:
            super().close()


@contextlib.contextmanager
def said_if_changed(name: str) -> Iterator[None]:
    """Warn when the local file ``name`` changes while the block reads it (a log being
    written, a file truncated meanwhile): what was counted or built is then of neither the old
    file nor the new one, and exit 0 said nothing. Streams and remote objects are not looked
    at (they have no size to compare)."""
    before = _state(name)
    yield
    after = _state(name) if before is not None else None
    if before is not None and after != before:
        size = f"{before[0]:,} bytes at the start, " + (
            f"{after[0]:,} at the end" if after is not None else "gone at the end"
        )
        warnings.warn(
            f"{name} changed while it was read ({size}): the result is of what was read, "
            "which may be neither version of it",
            CostcalcWarning,
            stacklevel=3,
        )


def _state(name: str) -> tuple[int, int, int] | None:
    if is_remote(name) or name == "-":
        return None
    try:
        st = os.stat(name)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    return st.st_size, st.st_mtime_ns, st.st_ino
