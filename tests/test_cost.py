"""The one pricing function: figures redone by hand, and the laws it must keep."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from costcalc.cost import component_costs, mode_costs, rate_of
from costcalc.prices import load_price_table

FIFTEEN = {"tokens": Decimal(15)}


@pytest.mark.parametrize(
    ("tokens", "rate", "cost"),
    [
        (1_000_000, "15", "15.00"),  # the lesson: 1M tokens at $15 per 1M
        (1_000_000, "7.50", "7.50"),  # ... and at the batch rate
        (1_000_000_000, "15", "15000.00"),  # 1M rows × 1,000 tokens
        (1_000_000_000, "7.5", "7500.00"),
        (800, "2.50", "0.002"),  # one gpt-4o request's input
        (0, "10", "0"),
    ],
)
def test_lesson_figures_by_hand(tokens: int, rate: str, cost: str) -> None:
    got = component_costs({"tokens": tokens}, {"tokens": Decimal(rate)})["tokens"]
    assert got == Decimal(cost)


def test_a_component_without_a_price_is_billed_at_input() -> None:
    table = load_price_table()
    batch = table.prices("gpt-4o", "2026-11-26").mode("batch")
    assert rate_of(batch, "cache_write_5m") == rate_of(batch, "input")
    costs = mode_costs({"input": 1_000_000, "cache_write_5m": 1_000_000, "output": 500}, batch)
    assert costs == {
        "input": Decimal("1.25"),
        "cache_write_5m": Decimal("1.25"),
        "output": Decimal("0.0025"),
    }


@given(
    st.integers(min_value=0, max_value=10**12),
    st.integers(min_value=0, max_value=10**12),
    st.decimals(min_value=0, max_value=100_000, places=4),
)
def test_cost_adds_up_over_any_split_of_the_tokens(a: int, b: int, price: Decimal) -> None:
    whole = component_costs({"t": a + b}, {"t": price})["t"]
    parts = (
        component_costs({"t": a}, {"t": price})["t"] + component_costs({"t": b}, {"t": price})["t"]
    )
    assert whole == parts >= 0


@given(
    st.sampled_from(sorted(m.id for _, m in load_price_table().models())),
    st.integers(min_value=0, max_value=10**9),
    st.integers(min_value=0, max_value=10**9),
)
def test_batch_never_costs_more_than_standard(model: str, inp: int, out: int) -> None:
    prices = load_price_table().prices(model, "2026-11-26")
    batch = prices.mode("batch")
    if not batch.available:
        return
    tokens = {"input": inp, "output": out}
    standard = sum(mode_costs(tokens, prices.mode("standard")).values())
    assert sum(mode_costs(tokens, batch).values()) <= standard
