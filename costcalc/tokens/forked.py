"""A tokenizer built in a forked process while this one reads, and what ends such a process.

A sample of 10,000 lines at random offsets spends a third of its time building the tokenizer
(200,000 ranks into a dict, then into tiktoken's CoreBPE: both hold the GIL, so a thread
cannot overlap them) and about as much reading and parsing the lines; neither needs the other
until the texts are tokenized. ``TokenizerProcess.start`` forks a child that builds the
encoding while the parent reads; the parent then sends it the texts and gets their counts
back. Used once per encoding and process (a process that counts again builds its own, once),
on Linux, in a process of one thread (forking one with other threads can deadlock the
child); anything that goes wrong with the child (it cannot start, dies, stops, takes longer
than ``READY_WITHIN`` to build or than ``COUNT_WITHIN`` to count, its socket breaks) leaves
the parent to count the texts itself, with the same result. The child says nothing (its
standard output and error are /dev/null: a Rust allocator's message is not the parent's to
show) and leaves Ctrl-C to the parent, which ends it.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import socket
import sys
import time
import warnings
from array import array
from collections.abc import Sequence

from costcalc.tokens.encodings import LONGEST_RUN, encoding_built, get_encoding

READY_WITHIN = 20.0
"""Seconds the parent waits for the child to build the encoding (a fifth to half a second
here) before counting the texts itself: a safety net, should a forked child ever hang."""
COUNT_WITHIN = (20.0, 1_000_000)
"""Then (seconds, plus a second per this many bytes of text) for the counts: tiktoken counts
10-15 MB a second here."""
_HELD = {signal.SIGINT, signal.SIGTERM}
"""Signals held while the child is forked: one landing between fork() and the child's own
handlers would raise the parent's exception (KeyboardInterrupt) in the child."""

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

    def __init__(self, pid: int, channel: socket.socket) -> None:
        self.pid: int | None = pid
        self.channel = channel

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
        try:
            ours, theirs = socket.socketpair()
        except OSError:
            return None
        parent = os.getpid()
        held = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
        try:
            pid = os.fork()
        except OSError:
            ours.close()
            theirs.close()
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
            return None
        if pid == 0:  # pragma: no cover - the child
            code = 1
            try:
                ours.close()
                _quiet(held)
                _serve(encoding, parent, theirs)
                code = 0
            finally:
                os._exit(code)
        child = cls(pid, ours)
        try:
            theirs.close()
            signal.pthread_sigmask(signal.SIG_SETMASK, held)  # a Ctrl-C held lands here
        except BaseException:
            child.close()
            raise
        return child

    def counts(self, texts: Sequence[str]) -> list[int] | None:
        """``len(encode_ordinary(text))`` of each text, from the child; None if it could not
        give them (the caller counts them itself). The child is done with after this."""
        try:
            if any(len(text) >= LONGEST_RUN for text in texts):
                return None  # may be tokenized in parts, with a note: the parent's to say
            channel = self.channel
            if _receive(channel, 1, time.monotonic() + READY_WITHIN) != b"R":
                return None
            data = "".join(texts).encode("utf-8", "surrogatepass")
            deadline = time.monotonic() + COUNT_WITHIN[0] + len(data) / COUNT_WITHIN[1]
            head = array("q", [len(texts), len(data)]).tobytes()
            lengths = array("q", map(len, texts)).tobytes()
            for part in (head, lengths, data):
                channel.settimeout(max(0.001, deadline - time.monotonic()))
                # no SIGPIPE should the child be gone: a caller may have made it fatal
                channel.sendall(part, socket.MSG_NOSIGNAL)
            reply = _receive(channel, 8 * len(texts), deadline)
            return None if reply is None else array("q", reply).tolist()
        except OSError:  # socket.timeout too
            return None
        finally:
            self.close()

    def close(self) -> None:
        """Stop the child (if it runs still) and reap it."""
        pid, self.pid = self.pid, None
        if pid is None:
            return
        with contextlib.suppress(OSError):
            self.channel.close()
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.waitpid(pid, 0)


def _quiet(held: set[int | signal.Signals]) -> None:  # pragma: no cover - runs in the child
    """The child's signals and standard streams: Ctrl-C is the parent's to handle (it ends
    the child), SIGTERM ends it (a parent's handler may raise), signals no longer held; what
    it would print (a Rust allocator's "memory allocation failed") goes nowhere."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, held)
    nowhere = os.open(os.devnull, os.O_WRONLY)
    os.dup2(nowhere, 1)
    os.dup2(nowhere, 2)
    os.close(nowhere)


def _serve(encoding: str, parent: int, channel: socket.socket) -> None:  # pragma: no cover
    """The child: build the encoding, say so, count the texts sent, send the counts."""
    # the parent's objects are not this process's to finalize (a collection could run
    # their __del__: a temporary file's would delete it)
    gc.disable()
    die_with_parent(parent)
    warnings.simplefilter("ignore")
    encode = get_encoding(encoding).encode_ordinary
    channel.sendall(b"R", socket.MSG_NOSIGNAL)
    head = _receive(channel, 16)
    if head is None:
        return
    n, size = array("q", head)
    lengths = _receive(channel, 8 * n)
    data = _receive(channel, size)
    if lengths is None or data is None:
        return
    whole = data.decode("utf-8", "surrogatepass")
    counts = array("q")
    at = 0
    for length in array("q", lengths):
        counts.append(len(encode(whole[at : at + length])))
        at += length
    channel.sendall(counts.tobytes(), socket.MSG_NOSIGNAL)


def _receive(channel: socket.socket, size: int, deadline: float | None = None) -> bytes | None:
    """``size`` bytes from ``channel`` (by ``deadline``, a time.monotonic(), if given:
    socket.timeout after it); None if it ends first."""
    data = bytearray(size)
    view = memoryview(data)
    while view:
        if deadline is not None:
            channel.settimeout(max(0.001, deadline - time.monotonic()))
        got = channel.recv_into(view)
        if not got:
            return None
        view = view[got:]
    return bytes(data)
