"""The fast paths of quoting give what the slow ones gave: result objects made by
``construct`` are those ``model_construct`` makes, and nothing cached for a price table is
ever answered for another table, date, request size or price file.

How fast is measured in bench/bench_quote.py; nothing here is timed.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from costcalc import ModeQuote, Quote, Recommendation, Workload, quote
from costcalc.results import construct

D = Decimal


# --- construct: model_construct, made cheap ---------------------------------------------------


def _same(a: Any, b: Any) -> None:
    assert type(a) is type(b)
    assert list(a.__dict__) == list(b.__dict__)  # JSON is written in this order
    assert a.__dict__ == b.__dict__
    assert a.model_fields_set == b.model_fields_set
    assert a == b
    assert a.model_dump_json() == b.model_dump_json()


@pytest.mark.parametrize(
    "values",
    [
        {"mode": "flex", "available": False, "reason": "no flex tier", "price_mode": "flex"},
        {
            "savings": D("1.5"),  # given out of order
            "mode": "batch",
            "available": True,
            "price_mode": "batch",
            "cost": D("2.00"),
            "rates": {"input": D("1.25")},
            "notes": ["a note"],
            "wait_s": D(86400),
            "worst_wait_s": D(86400),
        },
    ],
)
def test_construct_makes_what_model_construct_makes(values: dict[str, Any]) -> None:
    _same(construct(ModeQuote, **values), ModeQuote.model_construct(**values))


def test_construct_gives_each_object_its_own_list_and_dict_defaults() -> None:
    a = construct(ModeQuote, mode="flex", available=False, price_mode="flex")
    b = construct(ModeQuote, mode="flex", available=False, price_mode="flex")
    a.notes.append("mine")
    a.rates["input"] = D(1)
    assert b.notes == [] and b.rates == {}
    assert ModeQuote.model_fields["notes"].default == []


def test_construct_refuses_an_object_without_a_required_field() -> None:
    with pytest.raises(TypeError, match="available, price_mode"):
        construct(ModeQuote, mode="flex")


def test_construct_makes_a_recommendation_as_model_construct_does() -> None:
    values = {"mode": "batch", "reason": "cheapest"}
    _same(construct(Recommendation, **values), Recommendation.model_construct(**values))


def test_a_quote_is_what_model_construct_makes_of_its_fields() -> None:
    w = Workload(model="gpt-4o", requests=1000, input_tokens=800, output_tokens=200)
    q = quote(w)
    again = Quote.model_construct(**q.__dict__)
    _same(q, again)
    assert q.model_fields_set == set(Quote.model_fields)
    for m in q.modes:
        _same(m, ModeQuote.model_construct(**{k: m.__dict__[k] for k in m.model_fields_set}))
    _same(
        q.recommendation,
        Recommendation.model_construct(
            **{k: q.recommendation.__dict__[k] for k in q.recommendation.model_fields_set}
        ),
    )
