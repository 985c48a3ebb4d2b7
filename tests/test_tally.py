"""The count that merges: tallies of parts of an input add up to the tally of the whole, and
the TokenCount computed from a tally is the one count_file gives."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

import costcalc
from costcalc import TokenTally, count_from_tally


def test_to_dict_round_trips_through_json() -> None:
    tally = TokenTally.empty("o200k_base", ["a.jsonl"])
    for raw in (3, 5, 5, 300_000):
        tally.add(raw)
    tally.add(0, refused=True, chat=True)
    again = TokenTally.from_dict(json.loads(json.dumps(tally.to_dict())))
    assert again == tally
    assert again.hist == Counter({3: 1, 5: 2, 300_000: 1, 0: 1})


def test_merging_different_encodings_is_refused() -> None:
    with pytest.raises(costcalc.CostcalcError, match=r"o200k_base.*cl100k_base"):
        TokenTally.empty("cl100k_base") + TokenTally.empty("o200k_base")


def test_count_from_tally_equals_count_file(tmp_path: Path) -> None:
    path = tmp_path / "p.txt"
    path.write_text("hello world\n\nsome more text here\n", encoding="utf-8")
    counted = costcalc.count_file(path, "gpt-4o", input_format="lines")
    again = count_from_tally(counted.tally(), "gpt-4o")
    assert again.model_dump() == counted.model_dump()
    assert again.sizes() == counted.sizes()
