"""custom_ids kept in bounded memory, for the checks that compare every id of a run of batch
files exactly: ids used twice, uploaded requests with no result, results not uploaded."""

from __future__ import annotations

import marshal
import tempfile
from array import array
from collections.abc import Callable, Iterator
from typing import IO, Any

from costcalc.errors import EnvironmentFailure

BUFFER = 65_536
"""Ids held in memory before they are partitioned and written out (a few MiB)."""
BUCKETS = 1024
"""Hash partitions of a spilled store: each is read back on its own, so a check holds about
1/1024 of the ids at once (10,000 of 10 million)."""
ID_HASH: Callable[[str], int] = hash
"""Which bucket an id goes to: Python's string hash (keyed SipHash, cached on the string)
only has to agree with itself within the process; tests put one that collides here."""


class IdStore:
    """Ids in the order they were added, each with an int saying where it was read (larger:
    read later). Up to ``BUFFER`` are held in memory; then they are partitioned by a hash of
    the id into ``BUCKETS`` parts appended to one temporary file (unnamed: nothing is left
    behind whatever ends the process; ``close`` frees it). Every occurrence of an id is in the
    same bucket, so the checks compare the exact strings one bucket at a time: a hash that
    collides only puts two different ids in one bucket, it never makes them equal."""

    def __init__(self) -> None:
        self.limit = BUFFER
        self.buckets = BUCKETS
        """A power of two."""
        self.hash_id = ID_HASH
        self.ids: list[str] = []
        """Ids not yet written out (cleared in place: a reader may hold the list)."""
        self.at: list[int] = []
        self.count = 0
        """Ids added and written out (``count + len(ids)``: all added)."""
        self._file: IO[bytes] | None = None
        self._records: list[array[int]] = []
        """Per bucket: (offset, size) of each record written, flat."""

    def __len__(self) -> int:
        return self.count + len(self.ids)

    def add(self, cid: str, at: int) -> None:
        self.ids.append(cid)
        self.at.append(at)
        if len(self.ids) >= self.limit:
            self.spill()

    @property
    def spilled(self) -> bool:
        return self._file is not None

    def spill(self) -> None:
        """Write the held ids out, partitioned by hash, one record per bucket."""
        try:
            self._spill()
        except OSError as exc:  # a full or unwritable temp folder: the machine, not the input
            raise _failure(exc) from None

    def _spill(self) -> None:
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="costcalc-ids-")  # noqa: SIM115 (closed by close)
            self._records = [array("Q") for _ in range(self.buckets)]
        ids, at, mask, hash_id = self.ids, self.at, self.buckets - 1, self.hash_id
        parts: list[list[str]] = [[] for _ in range(self.buckets)]
        places: list[list[int]] = [[] for _ in range(self.buckets)]
        for cid, where in zip(ids, at, strict=True):
            b = hash_id(cid) & mask
            parts[b].append(cid)
            places[b].append(where)
        f = self._file
        f.seek(0, 2)
        offset = f.tell()
        for b, part in enumerate(parts):
            if part:
                data = marshal.dumps((part, places[b]))
                f.write(data)
                self._records[b].extend((offset, len(data)))
                offset += len(data)
        self.count += len(ids)
        ids.clear()
        at.clear()

    def parts(self) -> Iterator[tuple[list[str], list[int]]]:
        """Each bucket's ids and places, in the order added (one part if nothing spilled)."""
        if self._file is None:
            yield self.ids, self.at
            return
        self.spill()
        for b in range(self.buckets):
            try:
                part = self._read(b)
            except OSError as exc:
                raise _failure(exc) from None
            yield part

    def _read(self, b: int) -> tuple[list[str], list[int]]:
        ids: list[str] = []
        at: list[int] = []
        f, records = self._file, self._records[b]
        assert f is not None
        for i in range(0, len(records), 2):
            f.seek(records[i])
            part, places = marshal.loads(f.read(records[i + 1]))
            ids += part
            at += places
        return ids, at

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self.ids.clear()
        self.at.clear()

    def __enter__(self) -> IdStore:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _failure(exc: OSError) -> EnvironmentFailure:
    where = f"{tempfile.gettempdir()} (the temporary file of custom_ids)"
    return EnvironmentFailure.from_os_error(where, exc)


def repeats(store: IdStore) -> Iterator[tuple[int, str, int]]:
    """(where, id, where it was first added) of each id added again, bucket by bucket."""
    for ids, at in store.parts():
        if len(set(ids)) == len(ids):
            continue
        first: dict[str, int] = {}
        for cid, where in zip(ids, at, strict=True):
            was = first.setdefault(cid, where)
            if was != where:
                yield where, cid, was


def first_repeat(store: IdStore) -> tuple[int, str, int] | None:
    """The repeat read first (``repeats``' smallest place), or None."""
    return min(repeats(store), default=None)


def compare(uploaded: IdStore, results: IdStore) -> tuple[list[tuple[int, str]], list[str]]:
    """(where, id) of each uploaded id with no result, and the result ids not uploaded
    (unsorted). Both stores are read bucket by bucket (the same hash puts an id in the same
    bucket of each)."""
    missing: list[tuple[int, str]] = []
    unexpected: list[str] = []
    for ours, theirs in _paired(uploaded, results):
        answered = set(theirs[0])
        asked = set(ours[0])
        if not asked <= answered:
            missing += [(w, c) for c, w in zip(*ours, strict=True) if c not in answered]
        unexpected += answered - asked
    return missing, unexpected


def _paired(
    a: IdStore, b: IdStore
) -> Iterator[tuple[tuple[list[str], list[int]], tuple[list[str], list[int]]]]:
    if not a.spilled and not b.spilled:
        yield (a.ids, a.at), (b.ids, b.at)
        return
    assert a.buckets == b.buckets and a.hash_id is b.hash_id
    a.spill()
    b.spill()
    yield from zip(a.parts(), b.parts(), strict=True)
