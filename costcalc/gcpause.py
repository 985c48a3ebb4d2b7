"""Pause Python's cycle collector while building many objects that form no cycles.

A full collection walks every tracked object, and the collector runs one each time the
objects it has seen grow by a quarter: loading a config of 10,000 workloads and pricing each
ran seven (about 0.1 s each, 40% of `costcalc check`'s CPU; one at 1,000 workloads), which made
the command grow faster than its input. The objects built there (parsed YAML, validated
models, quotes) are trees that reference counting frees, so nothing collectable piles up
while the collector waits; it runs as usual once the block ends.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """The cycle collector off inside the block (as it was after it; nesting is fine)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
