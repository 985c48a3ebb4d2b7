"""The fast paths of quoting give what the slow ones gave: result objects made by
``construct`` are those ``model_construct`` makes, and nothing cached for a price table is
ever answered for another table, date, request size or price file.

How fast is measured in bench/bench_quote.py; nothing here is timed.
"""

from __future__ import annotations

import json
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from costcalc import ModeQuote, PriceTable, Quote, Recommendation, Workload, quote
from costcalc.billing import split
from costcalc.calculator import resolve
from costcalc.delivery import cost_each, cost_modes
from costcalc.prices import load, load_price_table
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
    _same(construct(ModeQuote, values), ModeQuote.model_construct(**values))


def test_construct_gives_each_object_its_own_list_and_dict_defaults() -> None:
    a = construct(ModeQuote, {"mode": "flex", "available": False, "price_mode": "flex"})
    b = construct(ModeQuote, {"mode": "flex", "available": False, "price_mode": "flex"})
    a.notes.append("mine")
    a.rates["input"] = D(1)
    assert b.notes == [] and b.rates == {}
    assert ModeQuote.model_fields["notes"].default == []


def test_construct_refuses_an_object_without_a_required_field() -> None:
    with pytest.raises(TypeError, match="available, price_mode"):
        construct(ModeQuote, {"mode": "flex"})


def test_construct_makes_a_recommendation_as_model_construct_does() -> None:
    values = {"mode": "batch", "reason": "cheapest"}
    _same(construct(Recommendation, values), Recommendation.model_construct(**values))


SHAPES = [
    {"model": "gpt-4o"},
    {"model": "gpt-4o", "cancel": {"rate": D("0.3")}, "cached_share": D("0.5")},
    {"model": "gpt-4o", "deadline": "2h", "source": "web-ui"},
    {"model": "gpt-4o", "deadline": "1s"},
    {"model": "gpt-4o", "value_of_time": D("40"), "batch_wait": "typical"},
    {"model": "gemini-2.5-pro", "modes": ["flex", "batch", "request"], "rate_limited": False},
    {"model": "claude-haiku-4-5", "cache_write_share": D("0.2"), "cache_ttl": "1h"},
    {"model": "mistral:mistral-large-latest"},  # no speed: untimed
    {"model": "deepseek:deepseek-chat", "modes": ["batch", "request"]},  # batch unavailable
]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: ",".join(map(str, s.values())))
def test_a_quote_is_what_model_construct_makes_of_its_fields(shape: dict[str, Any]) -> None:
    w = Workload(requests=1000, input_tokens=800, output_tokens=200, as_of="2026-10-01", **shape)
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


# --- caches: never another table's, day's, size's or price file's answer --------------------


def _fresh_table() -> PriceTable:
    """A table nobody has quoted with yet (load_price_table keeps one per list of files)."""
    return load._load.__wrapped__(())


def _same_as_fresh(table: PriceTable, workloads: list[Workload]) -> None:
    """Quoting ``workloads`` in turn on ``table`` (its caches filling, and hit) gives what a
    fresh table gives for each of them alone."""
    for w in workloads:
        assert quote(w, table).to_json() == quote(w, _fresh_table()).to_json(), w


def test_one_table_quoted_on_different_days_prices_each_day() -> None:
    table = _fresh_table()
    days = ["2024-09-01", "2024-11-01", "2024-09-01", "2025-07-01", "2024-10-01", "2024-10-02"]
    workloads = [
        Workload(model=m, requests=100, input_tokens=1000, output_tokens=200, as_of=d)
        for d in days
        for m in ("gpt-4o", "gpt-4o-2024-08-06", "o3")
        if not (m == "o3" and d < "2025-04-16")
    ]
    _same_as_fresh(table, workloads)
    before = quote(
        Workload(
            model="gpt-4o", requests=1000, input_tokens=1000, output_tokens=0, as_of="2024-10-01"
        ),
        table,
    )
    after = quote(
        Workload(
            model="gpt-4o", requests=1000, input_tokens=1000, output_tokens=0, as_of="2024-10-02"
        ),
        table,
    )
    assert (before.mode("request").cost, after.mode("request").cost) == (D("5.00"), D("2.50"))
    # a snapshot launched at the later prices is priced at them on the same day
    snapshot = Workload(
        model="gpt-4o-2024-08-06",
        requests=1000,
        input_tokens=1000,
        output_tokens=0,
        as_of="2024-09-01",
    )
    assert quote(snapshot, table).mode("request").cost == D("2.50")
    assert table.prices("gpt-4o", "2024-09-01").period.standard.input == D("5.00")
    # a name as typed is kept apart from the model it names, and from another model's name
    for _ in range(2):
        for name, price in [("GPT-4o", "5.00"), (" GPT-4O-2024-08-06", "2.50"), ("gpt-4o", "5.00")]:
            prices = table.prices(name, "2024-09-01")
            assert prices.period.standard.input == D(price), name


def test_today_is_the_day_of_each_quote(monkeypatch: pytest.MonkeyPatch) -> None:
    import datetime as real

    from costcalc import units

    class Day(real.date):
        now = real.date(2024, 9, 30)

        @classmethod
        def today(cls) -> real.date:
            return cls.now

    clock = [real.datetime(2024, 9, 30, 23, 59).timestamp()]
    monkeypatch.setattr(
        units,
        "dt",
        SimpleNamespace(date=Day, datetime=real.datetime, time=real.time, timedelta=real.timedelta),
    )
    monkeypatch.setattr(units, "time", SimpleNamespace(time=lambda: clock[0]))
    monkeypatch.setattr(units, "_TODAY", (0.0, 0.0, real.date.min))
    table = _fresh_table()
    w = Workload(model="gpt-4o", requests=1000, input_tokens=1000, output_tokens=0)
    assert quote(w, table).mode("request").cost == D("5.00")
    Day.now = real.date(2024, 10, 2)  # the clock has not left the day: the day is kept
    assert quote(w, table).prices_as_of == real.date(2024, 9, 30)
    clock[0] = real.datetime(2024, 10, 2, 0, 1).timestamp()  # midnight passed: the new prices
    assert quote(w, table).mode("request").cost == D("2.50")
    assert quote(w, table).prices_as_of == real.date(2024, 10, 2)
    Day.now = real.date(2024, 9, 30)
    clock[0] = real.datetime(2024, 9, 30, 12, 0).timestamp()  # the clock set back
    assert quote(w, table).prices_as_of == real.date(2024, 9, 30)


def test_each_request_size_gets_its_own_tier_from_one_table() -> None:
    table = _fresh_table()
    sizes = [1000, 250_000, 200_000, 200_001, 1000, 250_000]
    workloads = [
        Workload(
            model=m,
            requests=10,
            input_tokens=n,
            output_tokens=100,
            as_of="2025-10-01",
            modes=["request", "batch", "flex", "priority"],
        )
        for n in sizes
        for m in ("gemini-2.5-pro", "claude-sonnet-4-5")
    ]
    _same_as_fresh(table, workloads)
    small, large = (
        quote(
            Workload(
                model="gemini-2.5-pro",
                requests=1,
                input_tokens=n,
                output_tokens=0,
                as_of="2025-10-01",
            ),
            table,
        )
        for n in (200_000, 200_001)
    )
    assert small.mode("request").rates["input"] == D("1.25")
    assert large.mode("request").rates["input"] == D("2.50")
    # requests of both sizes in one workload: each group at its own prices, after both alone
    mixed = Workload(  # input_tokens: the sizes' mean, (3 x 1,000 + 300,000) / 4
        model="gemini-2.5-pro",
        requests=100,
        input_tokens=75_750,
        output_tokens=0,
        as_of="2025-10-01",
    )
    split = quote(mixed, table, input_sizes={1000: 3, 300_000: 1})
    fresh = quote(mixed, _fresh_table(), input_sizes={1000: 3, 300_000: 1})
    assert split.to_json() == fresh.to_json()
    assert any("above 200,000 input tokens" in n for n in split.mode("request").notes)


def test_workload_settings_are_never_taken_from_an_earlier_quote() -> None:
    table = _fresh_table()
    base = {"model": "gpt-4o", "requests": 50_000, "input_tokens": 3000, "output_tokens": 500}
    workloads = [
        Workload(**base),
        Workload(**base, tier="tier-1"),
        Workload(**base, rate_limits={"requests_per_minute": 60, "tokens_per_minute": 90_000}),
        Workload(**base, rate_limits={"requests_per_minute": 120, "tokens_per_minute": 90_000}),
        Workload(**base, cached_share=D("0.5"), cancel={"rate": D("0.25")}),
        Workload(**base, batch_wait="typical", deadline="2h"),
        Workload(**base, rate_limited=False, concurrency=4),
        Workload(**base),
    ]
    claude = {**base, "model": "claude-haiku-4-5", "as_of": "2026-11-26"}
    workloads += [
        Workload(**claude),
        Workload(**claude, cached_share=D("0.6")),  # cache reads do not count against its limits
        Workload(**claude, tier="tier-1", cached_share=D("0.6")),
        Workload(**claude, rate_limits={"batch_queue_requests": 10}, cached_share=D("0.6")),
        Workload(**claude, rate_limits={"batch_queue_requests": 20}, cached_share=D("0.6")),
        Workload(**claude, cache_write_share=D("0.2"), cache_ttl="1h"),
        Workload(**claude, tier="tier-1"),
        Workload(
            **claude, modes=["batch", "stream"], cancel={"rate": D("0.5"), "after_tokens": 20}
        ),
        Workload(**claude),
    ]
    _same_as_fresh(table, workloads)


def test_a_price_file_makes_a_table_of_its_own(write: Any) -> None:
    override = write(
        "cheap.yaml",
        """
        provider: openai
        models:
          - id: gpt-4o
            name: GPT-4o (negotiated)
            encoding: o200k_base
            context_window: 128000
            prices:
              - as_of: 2026-11-01
                source: https://example.com/our-contract
                standard: {input: 1.00, output: 4.00}
        """,
    )
    w = Workload(
        model="gpt-4o", requests=1000, input_tokens=1000, output_tokens=0, as_of="2026-11-26"
    )
    shipped = load_price_table()
    assert quote(w, shipped).mode("request").cost == D("2.50")
    ours = load_price_table([override])
    assert ours is not shipped
    assert quote(w, ours).mode("request").cost == D("1.00")
    assert quote(w, ours).mode("batch").cost == D("0.50")  # the provider's rule, on our price
    assert quote(w, shipped).mode("request").cost == D("2.50")
    assert shipped.prices("gpt-4o", "2026-11-26").model.name != "GPT-4o (negotiated)"


def test_a_price_file_edited_since_makes_a_new_table(write: Any) -> None:
    import os

    text = """
        provider: openai
        models:
          - id: gpt-4o
            name: GPT-4o (negotiated)
            encoding: o200k_base
            context_window: 128000
            prices:
              - as_of: 2026-11-01
                source: https://example.com/our-contract
                standard: {input: PRICE, output: 4.00}
        """
    path = write("ours.yaml", text.replace("PRICE", "1.00"))
    w = Workload(
        model="gpt-4o", requests=1000, input_tokens=1000, output_tokens=0, as_of="2026-11-26"
    )
    before = load_price_table([path])
    assert quote(w, before).mode("request").cost == D("1.00")
    assert load_price_table([path]) is before  # unchanged: the same table, its caches warm
    write("ours.yaml", text.replace("PRICE", "3.00"))
    stat = os.stat(path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))  # however coarse the clock
    after = load_price_table([path])
    assert after is not before
    assert quote(w, after).mode("request").cost == D("3.00")
    assert quote(w, before).mode("request").cost == D("1.00")  # a table is what it was read as


def test_the_cli_prices_with_the_file_given_after_a_quote_without_it(
    run_cli: Any, write: Any
) -> None:
    override = write(
        "cheap.yaml",
        """
        provider: openai
        models:
          - id: gpt-4o
            name: GPT-4o (negotiated)
            encoding: o200k_base
            context_window: 128000
            prices:
              - as_of: 2026-11-01
                source: https://example.com/our-contract
                standard: {input: 1.00, output: 4.00}
        """,
    )
    args = ["quote", "-m", "gpt-4o", "-n", "1000", "-i", "1000", "-o", "0", "--as-of", "2026-11-26",
            "--format", "json"]  # fmt: skip
    shipped = json.loads(run_cli(*args).stdout)
    ours = json.loads(run_cli(*args, "--prices", str(override)).stdout)
    again = json.loads(run_cli(*args).stdout)
    cost = [next(m["cost"] for m in r["workloads"][0]["modes"] if m["mode"] == "request")
            for r in (shipped, ours, again)]  # fmt: skip
    assert cost == ["2.50", "1.00", "2.50"]


def test_resolved_rates_cannot_be_changed_through_a_quote() -> None:
    table = _fresh_table()
    priced = table.priced("gpt-4o", "2026-11-26")
    rates = priced.mode("batch")
    assert rates is priced.mode("batch", 1000)  # one band: made once
    with pytest.raises(TypeError):
        rates.rates["input"] = None  # type: ignore[index]
    q = quote(
        Workload(
            model="gpt-4o", requests=1000, input_tokens=1000, output_tokens=0, as_of="2026-11-26"
        ),
        table,
    )
    q.mode("batch").rates["input"] = D(0)  # the quote's own copy
    again = quote(
        Workload(
            model="gpt-4o", requests=1000, input_tokens=1000, output_tokens=0, as_of="2026-11-26"
        ),
        table,
    )
    assert again.mode("batch").rates["input"] == D("1.25")
    assert again.mode("batch").cost == D("1.25")


def test_a_table_keeps_a_bounded_number_of_resolved_models(monkeypatch: pytest.MonkeyPatch) -> None:
    from costcalc.prices import table as table_module

    monkeypatch.setattr(table_module, "PRICED_KEPT", 3)
    table = _fresh_table()
    days = [f"2025-0{m}-01" for m in range(1, 10)]
    for day in days:
        table.prices("gpt-4o", day)
        table.prices(" GPT-4o-2024-08-06", day)  # kept under the name as given too
        assert len(table._priced) <= 3
    _same_as_fresh(
        table,
        [
            Workload(model=m, requests=1, input_tokens=1, output_tokens=0, as_of=d)
            for d in days
            for m in ("gpt-4o", "GPT-4o", "gpt-4o-2024-08-06", "GPT-4O-2024-08-06")
        ],
    )


# --- the plan: requests all billed alike, priced as group-by-group pricing prices them -------

PLANNED_MODELS = {
    # model -> most input tokens a request may have
    "gpt-4o": 120_000,
    "o4-mini": 190_000,  # flex
    "claude-sonnet-4-5": 190_000,  # cache writes, 5-minute and 1-hour
    "gemini-2.5-pro": 900_000,  # long-context prices above 200,000 input tokens
    "mistral:mistral-large-latest": 120_000,  # no speed figures
    "deepseek:deepseek-chat": 60_000,  # no batch
}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    model=st.sampled_from(sorted(PLANNED_MODELS)),
    requests=st.integers(1, 10**7),
    share=st.floats(0, 1),
    output_tokens=st.integers(0, 4_000),
    cached=st.sampled_from(["0", "0.3", "0.05"]),
    written=st.sampled_from(["0", "0.2"]),
    cancel=st.sampled_from(["0", "0.25"]),
    ttl=st.sampled_from(["5m", "1h"]),
    # few lists of modes, so quotes in different bands and shares meet the same plans
    modes=st.sampled_from(
        [
            ["stream", "request", "batch", "flex", "priority"],
            ["batch", "stream", "request"],
            ["flex", "priority", "request", "stream"],
        ]
    ),
)
def test_the_plan_prices_as_group_by_group_pricing_does(
    model: str,
    requests: int,
    share: float,
    output_tokens: int,
    cached: str,
    written: str,
    cancel: str,
    ttl: str,
    modes: list[str],
) -> None:
    """``cost_modes`` prices requests all billed alike from a plan made once per model, day,
    modes and band; priced group by group (one group), they cost, bill and take the same, and
    say the same but for how a long-context band is worded."""
    input_tokens = int(share * PLANNED_MODELS[model])
    if D(cached) + D(written) > 1 or not input_tokens + output_tokens:
        return  # refused by Workload
    w = Workload(
        model=model,
        requests=requests,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cached_share=D(cached),
        cache_write_share=D(written),
        cache_ttl=ttl,
        cancel={"rate": D(cancel)},
        modes=modes,
        baseline=modes[0],
        as_of="2026-10-01",
    )
    job, _ = resolve(w, TABLE)
    planned, plan = cost_modes(job, w.modes)
    assert plan is not None  # every request alike
    each = cost_each(job, w.modes, split(job))
    assert [f["mode"] for f in planned] == [f["mode"] for f in each] == modes
    for a, b in zip(planned, each, strict=True):
        assert list(a) == list(b)  # the class's order
        long_a = [n for n in a["notes"] if "long-context" in n]
        long_b = [n for n in b["notes"] if "long-context" in n]
        assert bool(long_a) == bool(long_b), (a["notes"], b["notes"])
        assert {**a, "notes": None} == {**b, "notes": None}
        assert [n for n in a["notes"] if n not in long_a] == [
            n for n in b["notes"] if n not in long_b
        ]


TABLE = load_price_table()


def test_each_result_has_its_own_fields_set() -> None:
    """A quote's ``model_fields_set`` (and each mode's) is its own: a caller that changes one
    changes no other quote, made before or after (``exclude_unset`` reads it)."""
    a = quote(Workload(model="gpt-4o", requests=1000, input_tokens=800, output_tokens=200))
    a.model_fields_set.clear()
    a.modes[0].model_fields_set.clear()
    a.recommendation.model_fields_set.clear()
    b = quote(Workload(model="claude-sonnet-4-5", requests=5, input_tokens=100, output_tokens=10,
                       as_of="2026-10-01"))  # fmt: skip
    assert b.model_fields_set == set(Quote.model_fields)
    assert all(m.model_fields_set == set(ModeQuote.model_fields) for m in b.modes)
    assert b.recommendation.model_fields_set == set(Recommendation.model_fields)
    assert json.loads(b.modes[1].model_dump_json(exclude_unset=True))["mode"] == "request"


def test_modes_changed_in_place_are_checked_when_quoted() -> None:
    """The Workload refuses a mode listed twice; a list changed in place is refused by the
    quote, naming the mode, whichever way the modes are priced (all alike, or in groups)."""
    from costcalc.errors import UsageError

    for sizes in (None, {100: 5, 300_000: 5}):
        w = Workload(model="gemini-2.5-pro", requests=10, input_tokens=150_050, output_tokens=5,
                     modes=["stream", "batch"], as_of="2026-10-01")  # fmt: skip
        w.modes.append("stream")
        with pytest.raises(UsageError, match="modes lists stream twice"):
            quote(w, input_sizes=sizes)


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["quote", "-m", "gpt-4o", "-n", "10", "-i", "10", "-o", "5", "--tier", ""],
         "unknown rate-limit tier '' for gpt-4o"),
        (["tokens", "-m", "", "-"], "unknown model ''"),
    ],
)  # fmt: skip
def test_an_empty_tier_or_model_is_no_default(args: list[str], said: str, run_cli: Any) -> None:
    """``--tier ""`` and ``-m ""`` name nothing: refused, not read as the default."""
    out = run_cli(*args, input="hello\n")
    assert out.exit_code == 2 and said in out.stderr, out.stderr
