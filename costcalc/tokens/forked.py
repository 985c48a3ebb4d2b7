"""A tokenizer built in a forked process while this one reads, and what ends such a process.

A sample of 10,000 lines at random offsets spends a third of its time building the tokenizer
(200,000 ranks into a dict, then into tiktoken's CoreBPE: both hold the GIL, so a thread
cannot overlap them) and about as much reading and parsing the lines; neither needs the other
until the texts are tokenized. ``TokenizerProcess.start`` forks a child that builds the
encoding while the parent reads; the parent then sends it the texts and gets their counts
back. Used once per encoding and process (a process that counts again builds its own, once),
on Linux, in a process of one thread (forking one with other threads can deadlock the
child); anything that goes wrong with the child (it dies, takes longer than ``READY_WITHIN``
to build, a pipe breaks) leaves the parent to count the texts itself, with the same result.
"""

from __future__ import annotations

import contextlib
import gc
import os
import select
import signal
import sys
import warnings
from array import array
from collections.abc import Sequence

from costcalc.tokens.encodings import LONGEST_RUN, encoding_built, get_encoding

READY_WITHIN = 20.0
"""Seconds the parent waits for the child to build the encoding (a fifth to half a second
here) before counting the texts itself: a safety net, should a forked child ever hang."""

_STARTED: set[str] = set()
"""Encodings a child was started for in this process."""

PR_SET_PDEATHSIG = 1
"""prctl(2) option: the signal a process gets when the thread that made it exits."""


def die_with_parent(parent: int) -> None:  # pragma: no cover - runs in child processes
    """End this child when the parent ends, even by SIGKILL (its own clean-up cannot run):
    on Linux the kernel sends SIGTERM (prctl PR_SET_PDEATHSIG); elsewhere a parent killed
    outright leaves a child waiting until its pipe breaks."""
    if sys.platform.startswith("linux"):
        import ctypes
        import ctypes.util

        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the line above: nothing would tell
        os._exit(1)


def _single_threaded() -> bool:
    """This process has one thread (the OS's count: a library's threads too, pyarrow's)."""
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False


class TokenizerProcess:
    """A forked child that builds one encoding and counts the tokens of texts sent to it."""

    def __init__(self, pid: int, to_child: int, from_child: int) -> None:
        self.pid: int | None = pid
        self.to_child = to_child
        self.from_child = from_child

    @classmethod
    def start(cls, encoding: str) -> TokenizerProcess | None:
        """A child building ``encoding``; None where none is started (not Linux, threads,
        the encoding at hand already, one started before for it, fork failing)."""
        if (
            not sys.platform.startswith("linux")
            or encoding in _STARTED
            or encoding_built(encoding)
            or not _single_threaded()
        ):
            return None
        _STARTED.add(encoding)
        fds: list[int] = []
        try:
            fds += os.pipe()
            fds += os.pipe()
            parent = os.getpid()
            pid = os.fork()
        except OSError:
            for fd in fds:
                os.close(fd)
            return None
        texts_in, texts_out, counts_in, counts_out = fds
        if pid == 0:  # pragma: no cover - the child
            code = 1
            try:
                os.close(texts_out)
                os.close(counts_in)
                _serve(encoding, parent, texts_in, counts_out)
                code = 0
            finally:
                os._exit(code)
        os.close(texts_in)
        os.close(counts_out)
        return cls(pid, texts_out, counts_in)

    def counts(self, texts: Sequence[str]) -> list[int] | None:
        """``len(encode_ordinary(text))`` of each text, from the child; None if it could not
        give them (the caller counts them itself). The child is done with after this."""
        try:
            if any(len(text) >= LONGEST_RUN for text in texts):
                return None  # may be tokenized in parts, with a note: the parent's to say
            waiting = select.poll()  # not select(): a descriptor past 1023 is refused there
            waiting.register(self.from_child, select.POLLIN)
            ready = waiting.poll(READY_WITHIN * 1000)
            if not ready or _read_exactly(self.from_child, 1) != b"R":
                return None
            data = "".join(texts).encode("utf-8", "surrogatepass")
            lengths = array("q", map(len, texts))
            head = array("q", [len(texts), len(data)]).tobytes()
            _write_all(self.to_child, head + lengths.tobytes() + data)
            reply = _read_exactly(self.from_child, 8 * len(texts))
            if reply is None:
                return None
            return array("q", reply).tolist()
        except OSError:
            return None
        finally:
            self.close()

    def close(self) -> None:
        """Stop the child (if it runs still) and reap it."""
        pid, self.pid = self.pid, None
        if pid is None:
            return
        for fd in (self.to_child, self.from_child):
            with contextlib.suppress(OSError):
                os.close(fd)
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.waitpid(pid, 0)


def _serve(encoding: str, parent: int, texts_in: int, counts_out: int) -> None:  # pragma: no cover
    """The child: build the encoding, say so, count the texts sent, send the counts."""
    # the parent's objects are not this process's to finalize (a collection could run
    # their __del__: a temporary file's would delete it); the parent alone handles Ctrl-C
    gc.disable()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    die_with_parent(parent)
    warnings.simplefilter("ignore")
    encode = get_encoding(encoding).encode_ordinary
    _write_all(counts_out, b"R")
    head = _read_exactly(texts_in, 16)
    if head is None:
        return
    n, size = array("q", head)
    lengths = _read_exactly(texts_in, 8 * n)
    data = _read_exactly(texts_in, size)
    if lengths is None or data is None:
        return
    whole = data.decode("utf-8", "surrogatepass")
    counts = array("q")
    at = 0
    for length in array("q", lengths):
        counts.append(len(encode(whole[at : at + length])))
        at += length
    _write_all(counts_out, counts.tobytes())


def _read_exactly(fd: int, size: int) -> bytes | None:
    """``size`` bytes from ``fd``; None if it ends first."""
    parts = []
    while size > 0:
        part = os.read(fd, min(size, 1 << 20))
        if not part:
            return None
        parts.append(part)
        size -= len(part)
    return b"".join(parts)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
