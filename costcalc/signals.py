"""Ctrl-C held off where it would do harm."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator


@contextlib.contextmanager
def interrupts_held() -> Iterator[None]:
    """SIGINT held back (pending) for the block, then delivered: around the import of an
    extension module whose set-up crashes when a KeyboardInterrupt is raised inside it
    (orjson: SIGSEGV, exit 139, nothing said). A Ctrl-C in the block then interrupts the
    command just after it, as one anywhere else does. It is held in the calling thread, the
    command line's only one; where signals cannot be masked (Windows), nothing is held."""
    mask = getattr(signal, "pthread_sigmask", None)
    if mask is None:
        yield
        return
    before = mask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        mask(signal.SIG_SETMASK, before)
