"""The calculator, checked against figures computed by hand from the price table."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from costcalc import CostcalcError, Workload, quote
from costcalc.delivery import duration
from costcalc.lesson import exercise
from costcalc.money import per_hour
from costcalc.prices import load_price_table
from costcalc.units import parse_duration
from tests.conftest import RunCli

D = Decimal
DAY = dt.date(2026, 11, 26)


def q(**kw: Any) -> Any:
    kw.setdefault("as_of", DAY)
    return quote(Workload(**kw))


# --- cost, mode by mode -----------------------------------------------------------------------


def test_each_mode_for_gpt_4o() -> None:
    r = q(model="gpt-4o", requests=1000, input_tokens=800, output_tokens=200)
    # 800,000 input and 200,000 output tokens in all
    assert r.mode("request").cost == D("2.00") + D("2.00")  # x $2.50 and x $10.00 per 1M
    assert r.mode("stream").cost == D("4.00")  # same prices; nobody cancels
    assert r.mode("batch").cost == D("1.00") + D("1.00")  # x $1.25 and x $5.00 (published)
    assert r.mode("priority").cost == D("3.40") + D("3.40")  # x $4.25 and x $17.00
    flex = r.mode("flex")
    assert not flex.available and flex.cost is None and "no flex tier" in flex.reason
    assert r.mode("batch").assumed == []


def test_cached_input_and_batch_rule_for_cache() -> None:
    r = q(model="gpt-4o", requests=1000, input_tokens=800, output_tokens=200, cached_share=D("0.5"))
    req = r.mode("request")
    assert (req.input_cost, req.cached_input_cost, req.output_cost) == (
        D("1.00"),
        D("0.50"),
        D("2.00"),
    )
    assert req.cost == D("3.50")
    batch = r.mode("batch")
    # cached input in batch is not published: $1.25 x 50% = $0.625 by the rule
    assert batch.cached_input_cost == D("0.25") and batch.cost == D("1.75")
    assert batch.assumed == ["cached_input"]


def test_anthropic_cache_prices_stack_with_batch() -> None:
    kw = dict(model="claude-sonnet-4-5", requests=1000, input_tokens=10_000, output_tokens=1000,
              cached_share=D("0.6"), cache_write_share=D("0.2"))  # fmt: skip
    r = q(**kw)
    # 10M input: 2M plain x $3, 6M cached x $0.30, 2M written (5 min) x $3.75; 1M output x $15
    req = r.mode("request")
    assert (req.input_cost, req.cached_input_cost, req.cache_write_cost, req.output_cost) == (
        D("6"), D("1.80"), D("7.50"), D("15")
    )  # fmt: skip
    assert req.cost == D("30.30")
    batch = r.mode("batch")
    # every component at half price: 0.5 x (3, 0.30, 3.75, 15)
    assert (batch.input_cost, batch.cached_input_cost, batch.cache_write_cost, batch.output_cost) == (
        D("3"), D("0.90"), D("3.75"), D("7.50")
    )  # fmt: skip
    assert batch.cost == D("15.15")
    hour = q(**kw, cache_ttl="1h")
    assert hour.mode("request").cache_write_cost == D("12")  # 2M x $6.00
    assert hour.mode("batch").cache_write_cost == D("6")  # 2M x $3.00


def test_openai_cache_writes_bill_as_input() -> None:
    r = q(
        model="gpt-4o", requests=10, input_tokens=100_000, output_tokens=0, cache_write_share=D("1")
    )
    req = r.mode("request")
    assert req.cache_write_cost == D("2.50") and any(
        "cache writes billed as input" in n for n in req.notes
    )


def test_a_one_hour_write_without_its_own_price_bills_at_the_five_minute_price() -> None:
    # genai-prices lists only the 5-minute write for OpenRouter's Claude: a 1-hour write at the
    # input price ($3.00) would cost less than a 5-minute one ($3.75)
    model = "openrouter:anthropic/claude-sonnet-4.5"
    shape = dict(model=model, requests=1000, input_tokens=10_000, output_tokens=1)
    hour = q(**shape, cache_write_share=D("1"), cache_ttl="1h").mode("request")
    five = q(**shape, cache_write_share=D("1"), cache_ttl="5m").mode("request")
    assert hour.cache_write_cost == five.cache_write_cost == D("37.50")  # 10M x $3.75
    assert hour.rates["cache_write_1h"] == D("3.75")
    assert any("no 1-hour cache-write price" in n for n in hour.notes)


@pytest.mark.filterwarnings("ignore::costcalc.CostcalcWarning")  # retired models
def test_one_hour_writes_never_cost_less_than_five_minute_writes() -> None:
    table = load_price_table()
    for provider, model in table.models(everything=True):
        name = f"{provider.provider}:{model.id}"
        shape = dict(model=name, requests=10, input_tokens=1000, output_tokens=1)
        try:
            hour = q(**shape, cache_write_share=D("1"), cache_ttl="1h")
            five = q(**shape, cache_write_share=D("1"), cache_ttl="5m")
        except CostcalcError:
            continue
        for h, f in zip(hour.modes, five.modes, strict=True):
            if h.available:
                assert (h.cache_write_cost or 0) >= (f.cache_write_cost or 0), (name, h.mode)


def test_flex_and_priority() -> None:
    o3 = q(model="o3", requests=1000, input_tokens=1000, output_tokens=1000)
    assert o3.mode("request").cost == D("10")  # 1M x $2 + 1M x $8
    assert o3.mode("flex").cost == D("5")  # 1M x $1 + 1M x $4
    assert o3.mode("priority").cost == D("17.50")  # 1M x $3.50 + 1M x $14
    assert o3.mode("flex").time_to_complete_s > o3.mode("request").time_to_complete_s  # slower
    gpt5 = q(model="gpt-5", requests=10, input_tokens=100_000, output_tokens=100_000)
    assert gpt5.mode("request").cost == D("11.25")
    assert gpt5.mode("priority").cost == D("22.50")
    assert (
        not q(model="gpt-5-nano", requests=1, input_tokens=10, output_tokens=0)
        .mode("priority")
        .available
    )


BETA = dt.date(2026, 4, 1)  # Sonnet 4.5's 1M-token beta, retired 2026-04-30


def test_long_context_tiers() -> None:
    sonnet = q(model="claude-sonnet-4-5", requests=10, input_tokens=300_000, output_tokens=1000,
               as_of=BETA)  # fmt: skip
    # above 200K input tokens: $6 in, $22.50 out for the whole request
    assert sonnet.mode("request").cost == D("18") + D("0.225")
    assert sonnet.mode("batch").cost == D("9") + D("0.1125")  # half, by the rule
    assert sonnet.mode("batch").assumed == ["input", "output"]
    below = q(model="claude-sonnet-4-5", requests=10, input_tokens=200_000, output_tokens=1000,
              as_of=BETA)  # fmt: skip
    assert below.mode("request").cost == D("6") + D("0.15")
    pro = q(model="gemini-2.5-pro", requests=1, input_tokens=250_000, output_tokens=1000)
    assert pro.mode("request").cost == D("0.625") + D("0.015")  # $2.50 and $15 above 200K


def test_the_retired_1m_beta_refuses_long_requests_after_it_ended(tmp_path: Any) -> None:
    # genai-prices and LiteLLM give 200K: the 1M-token beta was retired on 2026-04-30
    with pytest.raises(CostcalcError, match="limit of 200,000 input tokens"):
        q(model="claude-sonnet-4-5", requests=1, input_tokens=300_000, output_tokens=10,
          as_of=dt.date(2026, 4, 30))  # fmt: skip
    path = tmp_path / "p.txt"
    path.write_text("hello" + " hello" * 179_999 + "\n", encoding="utf-8")
    with pytest.raises(CostcalcError, match="1 request over claude-sonnet-4-5's limit"):
        q(model="claude-sonnet-4-5", input_file=str(path), output_tokens=10)
    assert q(model="claude-sonnet-4-5", input_file=str(path), output_tokens=10, as_of=BETA)


def test_streaming_cancels() -> None:
    # the lesson: a 1,000-token answer cancelled after 5 tokens saves the other 995
    ideal = q(model="gpt-4o", requests=1, input_tokens=100, output_tokens=1000,
              cancel={"rate": 1, "after_tokens": 5, "billed_after_cancel": 0})  # fmt: skip
    assert ideal.mode("stream").output_tokens_saved_by_cancel == 995
    assert ideal.mode("stream").output_cost == D("0.00005")  # 5 tokens x $10 / 1M
    assert ideal.mode("request").output_cost == D("0.01")  # request/response bills all 1,000
    # by default 50 more tokens are billed before the server notices
    real = q(model="gpt-4o", requests=1000, input_tokens=100, output_tokens=1000,
             cancel={"rate": D("0.5"), "after_tokens": 5})  # fmt: skip
    stream = real.mode("stream")
    assert stream.output_tokens == 500 * 1000 + 500 * 55
    assert stream.output_tokens_billed_after_cancel == 500 * 50
    assert stream.cost == D("0.25") + D("5.275")  # 100k in x $2.50; 527,500 out x $10
    assert stream.savings == real.mode("request").cost - stream.cost


def test_model_without_published_batch_price_is_flagged_not_a_crash() -> None:
    r = q(model="gpt-4o-lesson", requests=1000, input_tokens=1000, output_tokens=0)
    assert r.mode("batch").cost == D("7.50")
    assert r.mode("batch").assumed == ["input", "output"]
    assert any("assumed from the provider's rule" in a for a in r.assumptions)


@pytest.mark.filterwarnings("ignore:no chat overhead known for claude")  # expected: an estimate
def test_long_context_prices_apply_per_request_when_measured_from_a_file(tmp_path: Any) -> None:
    # each line is sent as one user message: its text plus the cookbook's 7 tokens (3 per
    # message, 1 for "user", 3 to prime the reply). Line 1: 180,000 + 7 raw o200k tokens,
    # x1.16 for Claude = 208,808 (above 200K); line 2: 3 + 7 = 10 -> 11.6 -> 12. The big one
    # is billed at $6/$22.50, the small one at $3/$15.
    path = tmp_path / "prompts.txt"
    path.write_text("hello" + " hello" * 179_999 + "\nhello hello hello\n", encoding="utf-8")
    kw = dict(model="claude-sonnet-4-5", input_file=str(path), output_tokens=100, as_of=BETA)
    r = q(**kw, modes=["request", "batch"])
    assert r.requests == 2
    request = (
        D(208_808) * 6 / 10**6
        + D(12) * 3 / 10**6
        + D(100) * D("22.5") / 10**6
        + D(100) * 15 / 10**6
    )
    assert r.mode("request").cost == request == D("1.256634")
    assert r.mode("batch").cost == request / 2
    assert (
        "1 of 2 requests above 200,000 input tokens: long-context prices"
        in r.mode("request").notes[0]
    )
    # priced for more requests than the file holds: the same split, scaled
    assert q(**kw, requests=4, modes=["request"]).mode("request").cost == 2 * request


def test_text_input_file_is_one_request_per_line_as_batch_build_reads_it(tmp_path: Any) -> None:
    path = tmp_path / "prompts.txt"
    path.write_text("hello world\n\nhello hello world\n", encoding="utf-8")  # 2 + 3 tokens
    r = q(model="gpt-4o", input_file=str(path), output_tokens=10, modes=["request"])
    # each line is one user message: + 7 tokens of chat overhead, as batch build writes it
    assert r.requests == 2 and r.input_tokens_per_request == D("9.5")
    assert r.mode("request").cost == D(19) * D("2.5") / 10**6 + D(20) * 10 / 10**6
    assert "every request" in (r.input_measured or "")


def test_sample_of_an_input_file_is_repeatable_with_its_seed(tmp_path: Any) -> None:
    path = tmp_path / "prompts.txt"
    path.write_text("".join("hello " * (i % 17 + 1) + "\n" for i in range(500)), encoding="utf-8")
    kw = dict(model="gpt-4o", input_file=str(path), output_tokens=10, input_sample=20)
    first, again = q(**kw, input_seed=7), q(**kw, input_seed=7)
    assert first.input_tokens_per_request == again.input_tokens_per_request
    assert "seed 7" in (first.input_measured or "") and "an estimate" in (
        first.input_measured or ""
    )


def test_gemini_long_context_flex_keeps_cached_input_at_standard() -> None:
    # Google's flex, like its batch, does not discount cache reads: the listed 2.5 Pro flex
    # cached price is the standard one ($0.125), so above 200K it stays at $0.25
    r = q(model="gemini-2.5-pro", requests=1, input_tokens=1_000_000, output_tokens=0,
          cached_share=D("0.5"), modes=["request", "flex"])  # fmt: skip
    flex = r.mode("flex")
    assert flex.rates["cached_input"] == D("0.25") and flex.rates["input"] == D("1.25")
    assert flex.cost == D("0.125") + D("0.625")


def test_notes_on_pricing_show_in_table_and_markdown(run_cli: RunCli) -> None:
    args = ["quote", "-m", "gpt-4o-2024-05-13", "-n", "1000", "-i", "1000", "-o", "100",
            "--cached-share", "0.5"]  # fmt: skip
    note = "gpt-4o-2024-05-13 has no cached-input price: cached tokens billed as input"
    assert f"note: {note}" in run_cli(*args).stdout
    assert f"- note: {note}" in run_cli(*args, "--format", "markdown").stdout


# --- time -------------------------------------------------------------------------------------


def test_sync_wall_time_is_set_by_tokens_per_minute() -> None:
    r = q(model="gpt-4o", requests=1_000_000, input_tokens=800, output_tokens=200)
    # 1B tokens at tier-4's 2,000,000 tokens/min = 500 min
    assert r.mode("request").wait_s == 30_000
    assert "tokens per minute" in r.mode("request").limited_by
    one = D("0.39") + D(200) / D(81)
    assert r.mode("stream").time_to_first_token_s == D("0.39")
    assert r.mode("request").time_to_first_token_s == one == r.mode("request").time_to_complete_s


def test_batch_waits_for_the_queue() -> None:
    r = q(model="gpt-4o", requests=1_000_000, input_tokens=800, output_tokens=200)
    batch = r.mode("batch")
    # 800M input tokens through an 80M-token queue: 10 batches of up to 24 h
    assert batch.wait_s == 10 * 24 * 3600 and batch.worst_wait_s == 10 * 24 * 3600
    assert "10 batches" in batch.limited_by
    tier1 = q(model="gpt-4o", requests=1000, input_tokens=900, output_tokens=0, tier="tier-1")
    assert tier1.mode("batch").worst_wait_s == 10 * 24 * 3600  # 900k through a 90k queue
    free = q(
        model="gpt-4o", requests=1_000_000, input_tokens=800, output_tokens=0, rate_limited=False
    )
    assert free.mode("batch").worst_wait_s == 24 * 3600


def test_anthropic_typical_and_worst_batch_and_output_limit() -> None:
    r = q(model="claude-sonnet-4-5", requests=50_000, input_tokens=3000, output_tokens=500)
    batch = r.mode("batch")
    assert batch.wait_s == 3600 and batch.worst_wait_s == 24 * 3600
    # 150M input at 2M/min = 75 min; 25M output at 400k/min = 62.5 min
    assert r.mode("request").wait_s == 75 * 60
    typical = q(model="claude-sonnet-4-5", requests=50_000, input_tokens=3000, output_tokens=500,
                batch_wait="typical")  # fmt: skip
    assert typical.mode("batch").extra_wait_s == 0  # 1 h beats 75 min of rate-limited requests


def test_concurrency_bound() -> None:
    r = q(model="gpt-4o", requests=100, input_tokens=10, output_tokens=81, concurrency=10)
    one = D("0.39") + D(1)
    assert r.mode("request").wait_s == 100 * one / 10


# --- verdicts ---------------------------------------------------------------------------------


def test_lesson_verdict_in_words() -> None:
    r = q(model="gpt-4o-lesson", requests=1_000_000, input_tokens=1000, output_tokens=0, modes=["request", "batch"],
          rate_limited=False)  # fmt: skip
    rec = r.recommendation
    assert rec.mode == "batch"
    assert rec.reason == (
        "batch saves $7,500.00 (50.0%) against request for up to 24 h of waiting: "
        "worth it unless an hour of waiting costs you more than $312.50"
    )
    assert rec.break_even_mode == "batch" and per_hour(rec.break_even_usd_per_hour) == "$312.50"


def test_deadline_picks_the_cheapest_mode_that_meets_it() -> None:
    kw = dict(model="gpt-4o", requests=10_000, input_tokens=800, output_tokens=200)
    assert q(**kw).recommendation.mode == "batch"
    tight = q(**kw, deadline="2h")
    assert tight.recommendation.mode == "stream"  # same price as request, first token sooner
    assert "within the 2.0 s deadline" not in tight.recommendation.reason
    assert "batch may take longer" in tight.recommendation.reason
    loose = q(**kw, deadline=dt.timedelta(days=2))
    assert loose.recommendation.mode == "batch"
    impossible = q(**kw, deadline="1s")
    assert "no mode finishes within" in impossible.recommendation.reason


def test_someone_watching_gets_stream_and_is_told_what_batch_would_save() -> None:
    r = q(model="gpt-4o", requests=1000, input_tokens=800, output_tokens=200, source="web-ui")
    # request/stream $4.00 (800K in at $2.50, 200K out at $10); batch half
    assert r.recommendation.mode == "stream"
    assert r.recommendation.reason == (
        "someone is watching (source web-ui): stream shows the answer as it is written "
        "($4.00); batch would save $2.00 but takes up to 24 h"
    )
    assert q(model="gpt-4o", requests=1000, input_tokens=800, output_tokens=200,
             source="cron").recommendation.mode == "batch"  # fmt: skip


def test_missed_deadline_takes_the_cheapest_of_the_fastest_modes() -> None:
    # 1M gpt-5 requests take 10.4 h under tier-4 limits in every synchronous mode; flex is
    # half price and no slower here, so it wins the tie (not stream, first token soonest)
    kw = dict(model="gpt-5", requests=1_000_000, input_tokens=2000, output_tokens=500)
    late = q(**kw, deadline="10m")
    assert late.recommendation.mode == "flex"
    assert "stream, request, flex, priority finish first (10.4 h)" in late.recommendation.reason
    # with a value of time the money-plus-waiting comparison still decides
    valued = q(**kw, deadline="10m", value_of_time=D(1))
    assert valued.recommendation.mode == "flex"
    assert valued.recommendation.reason.startswith("no mode finishes within the 10 min deadline;")
    # the fastest is judged on the decision basis (batch at worst: 24 h), as the reason says
    haiku = q(model="claude-haiku-4-5", requests=400_000, input_tokens=6000, output_tokens=500,
              deadline="2h")  # fmt: skip
    assert haiku.fastest.mode == "stream"
    assert "stream, request finish first (10 h)" in haiku.recommendation.reason


def test_value_of_time_picks_the_lowest_money_plus_waiting() -> None:
    kw = dict(model="gpt-4o-lesson", requests=1_000_000, input_tokens=1000, output_tokens=0, modes=["request", "batch"],
              rate_limited=False)  # fmt: skip
    assert q(**kw, value_of_time=D(300)).recommendation.mode == "batch"  # 7,500 + 7,200 < 15,000
    dear = q(**kw, value_of_time=D(313))
    assert dear.recommendation.mode == "request"  # 7,500 + 7,512 > 15,000.0001
    assert "costs least all told" in dear.recommendation.reason


def test_savings_pct_and_extra_wait() -> None:
    r = q(model="gpt-4o", requests=1000, input_tokens=800, output_tokens=200)
    assert r.mode("batch").savings_pct == D("50.0")
    assert r.mode("priority").savings == D("-2.80")
    assert r.mode("request").extra_wait_s == 0
    assert r.cheapest.mode == "batch"


def test_baseline_can_be_chosen_and_must_be_available() -> None:
    r = q(model="gpt-4o", requests=1000, input_tokens=800, output_tokens=200, baseline="batch")
    assert r.mode("request").savings == D("-2.00")
    from costcalc.errors import UsageError

    with pytest.raises(UsageError, match="baseline flex is not available"):
        q(model="gpt-4o", requests=1, input_tokens=1, output_tokens=0, baseline="flex")


# --- properties -------------------------------------------------------------------------------

TABLE = load_price_table()
BATCH_MODELS = sorted(
    m.id for _, m in TABLE.models() if TABLE.prices(m.id, DAY).mode("batch").available
)
counts = st.integers(min_value=1, max_value=10**7)


def fits(model: str, i: int, o: int) -> bool:
    """Whether a request of i input and o output tokens is one the model accepts."""
    from costcalc.prices.schema import INPUT_WINDOWS

    prov, m = TABLE.find(model)
    window = m.context_window
    return (
        i + o > 0
        and i <= (m.max_input_tokens or m.context_window)
        and o <= (m.max_output_tokens or o)
        # the window holds the output too, but where the provider gives input's limit alone
        and (window is None or prov.provider in INPUT_WINDOWS or i + o <= window)
    )


tokens = st.integers(min_value=0, max_value=100_000)
shares = st.decimals(min_value=0, max_value=1, places=2)


@settings(max_examples=150, deadline=None)
@given(
    model=st.sampled_from(BATCH_MODELS), n=counts, i=tokens, o=tokens, cached=shares, written=shares
)
def test_batch_never_costs_more_than_request(
    model: str, n: int, i: int, o: int, cached: D, written: D
) -> None:
    assume(fits(model, i, o) and cached + written <= 1)
    r = q(model=model, requests=n, input_tokens=i, output_tokens=o, cached_share=cached,
          cache_write_share=written, modes=["request", "batch"])  # fmt: skip
    assert r.mode("batch").cost <= r.mode("request").cost


@settings(max_examples=150, deadline=None)
@given(model=st.sampled_from(BATCH_MODELS), n=counts, i=tokens, o=tokens, di=tokens, do=tokens)
def test_cost_is_monotonic_in_tokens(model: str, n: int, i: int, o: int, di: int, do: int) -> None:
    assume(fits(model, i, o) and fits(model, i + di, o + do))
    small = q(model=model, requests=n, input_tokens=i, output_tokens=o)
    big = q(model=model, requests=n, input_tokens=i + di, output_tokens=o + do)
    for a, b in zip(small.modes, big.modes, strict=True):
        if a.available and b.available:
            assert a.cost <= b.cost, a.mode


@settings(max_examples=100, deadline=None)
@given(model=st.sampled_from(BATCH_MODELS), n=counts, i=tokens, o=tokens,
       baseline=st.sampled_from(["stream", "request", "batch"]))  # fmt: skip
def test_savings_are_baseline_minus_mode(model: str, n: int, i: int, o: int, baseline: str) -> None:
    assume(fits(model, i, o))
    r = q(model=model, requests=n, input_tokens=i, output_tokens=o, baseline=baseline)
    base = r.mode(baseline).cost
    for m in r.available:
        assert m.savings == base - m.cost


@settings(max_examples=150, deadline=None)
@given(n=counts, o=st.integers(min_value=1, max_value=16_384), rate=shares,
       after=st.integers(min_value=0, max_value=200_000), lag=st.integers(min_value=0, max_value=5000))  # fmt: skip
def test_cancelling_never_raises_cost(n: int, o: int, rate: D, after: int, lag: int) -> None:
    plain = q(
        model="gpt-4o",
        requests=n,
        input_tokens=10,
        output_tokens=o,
        modes=["stream"],
        baseline="stream",
    )
    cancelled = q(model="gpt-4o", requests=n, input_tokens=10, output_tokens=o, modes=["stream"], baseline="stream",
                  cancel={"rate": rate, "after_tokens": after, "billed_after_cancel": lag})  # fmt: skip
    assert cancelled.mode("stream").cost <= plain.mode("stream").cost


# --- the exercise -----------------------------------------------------------------------------


def test_exercise_figures_exactly() -> None:
    ex = exercise()
    small, big = ex.scales
    assert (small.tokens, small.standard_cost, small.batch_cost, small.savings) == (
        1_000_000, D("15.00"), D("7.50"), D("7.50")
    )  # fmt: skip
    assert small.break_even_usd_per_hour == D("0.3125")  # $7.50 / 24 h
    assert (big.tokens, big.standard_cost, big.batch_cost, big.savings) == (
        1_000_000_000, D("15000"), D("7500"), D("7500")
    )  # fmt: skip
    assert big.break_even_usd_per_hour == D("312.50")  # $7,500 / 24 h
    assert ex.today_split == {"input_tokens": 800, "output_tokens": 200}
    # today: 800M x $2.50 + 200M x $10.00 = $4,000; batch $1.25 / $5.00 = $2,000
    assert ex.today.mode("request").cost == D("4000")
    assert ex.today.mode("batch").cost == D("2000")
    assert ex.today_break_even_usd_per_hour == D("83.3333")


def test_exercise_with_value_of_time_and_flags() -> None:
    ex = exercise(rows=20_000, tokens_per_row=3000, rate=D(10), value_of_time=D(50))
    small, big = ex.scales
    assert big.tokens == 60_000_000 and big.standard_cost == D(600) and big.savings == D(300)
    assert big.answer.startswith("no: at $50.00 an hour, 24 h of waiting costs $1,200.00")
    assert small.answer.startswith("no:")
    assert exercise(value_of_time=D(100)).scales[1].answer.startswith("yes:")


def test_exercise_cli_prints_every_assumption(run_cli: RunCli) -> None:
    result = run_cli("exercise")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    for text in ("$15.00", "$7.50", "$15,000.00", "$7,500.00", "$312.50", "$0.3125", "24 h",
                 "teaching rate", "assumed: OpenAI's batch rule", "800 input + 200 output"):  # fmt: skip
        assert text in out, text
    data = json.loads(run_cli("exercise", "--format", "json").stdout)
    assert data["scales"][1]["break_even_usd_per_hour"] == "312.50"
    assert data["today"]["modes"][2]["cost"] == "2000.00"
    md = run_cli("exercise", "--format", "markdown").stdout
    assert md.startswith("## The Batch Budgeter") and "```mermaid" in md


# --- formats ----------------------------------------------------------------------------------


def test_quote_json_shape(run_cli: RunCli) -> None:
    result = run_cli(
        "quote",
        "-m",
        "gpt-4o",
        "-n",
        "1000",
        "-i",
        "800",
        "-o",
        "200",
        "--as-of",
        "2026-11-26",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["currency"] == "USD" and data["prices_as_of"] == "2026-11-26"
    (w,) = data["workloads"]
    batch = next(m for m in w["modes"] if m["mode"] == "batch")
    for key in ("mode", "available", "cost", "input_cost", "output_cost", "time_to_first_token_s",
                "time_to_complete_s", "wait_s", "savings", "savings_pct"):  # fmt: skip
        assert key in batch, key
    assert batch["cost"] == "2.00" and batch["savings"] == "2.00" and batch["savings_pct"] == "50.0"
    flex = next(m for m in w["modes"] if m["mode"] == "flex")
    assert flex["available"] is False and flex["cost"] is None
    assert {"mode", "reason", "break_even_usd_per_hour"} <= set(w["recommendation"])


def test_quote_csv(run_cli: RunCli) -> None:
    out = run_cli(
        "quote", "-m", "gpt-4o", "-n", "1000", "-i", "800", "-o", "200", "--format", "csv"
    ).stdout
    lines = out.splitlines()
    assert lines[0].startswith("workload,model,mode,available,currency,cost")
    assert any(line.startswith("workload,gpt-4o,batch,true,USD,2.00,") for line in lines)


def test_duration_text() -> None:
    assert [duration(D(x)) for x in ("0.39", "45", "4500", "86400", "864000")] == [
        "0.4 s", "45 s", "75 min", "24 h", "10 d"
    ]  # fmt: skip
    assert [parse_duration(x) for x in ("24h", "1d", "90m", "2 hours", "1h30m", "1.5 days")] == [
        86400, 86400, 5400, 7200, 5400, 129600
    ]  # fmt: skip


def test_public_api_on_quote() -> None:
    r = q(model="gpt-4o", requests=1000, input_tokens=800, output_tokens=200)
    assert r.cheapest.mode == "batch" and r.recommendation.mode == "batch"
    assert json.loads(r.to_json())["workloads"][0]["model"] == "gpt-4o"
    assert r.to_markdown().startswith("### workload")


def test_speed_borrowed_from_the_provider_default_is_said_so() -> None:
    own = q(model="gpt-4o", requests=10, input_tokens=100, output_tokens=100)
    assert not any("no figure of its own" in a for a in own.assumptions)
    borrowed = q(model="o4-mini", requests=10, input_tokens=100, output_tokens=100)
    (line,) = [a for a in borrowed.assumptions if a.startswith("speed")]
    assert "o4-mini has no figure of its own, so OpenAI's default" in line
    assert "a reasoning model is slower" in line


def test_anthropic_cache_reads_do_not_count_against_input_tokens_per_minute() -> None:
    kw = dict(requests=100_000, input_tokens=10_000, output_tokens=500, cached_share=D("0.9"),
              modes=["request"])  # fmt: skip
    # Haiku 4.5 tier-4: 4M input and 800K output tokens/min; only the 100M uncached input
    # tokens count (25 min), so the 50M output tokens set the time: 62.5 min
    haiku = q(model="claude-haiku-4-5", **kw).mode("request")
    assert haiku.wait_s == D(3750) and haiku.limited_by.startswith("output tokens per minute")
    # Haiku 3.5 counts cache reads: all 1B input tokens at 400K/min = 2,500 min
    old = q(model="claude-3-5-haiku", **kw).mode("request")
    assert old.wait_s == D(150_000) and old.limited_by.startswith("input tokens per minute")


def test_tiny_savings_keep_their_break_even_and_token_counts_are_json_numbers() -> None:
    r = q(model="gpt-4o-mini", requests=3, input_tokens=25, output_tokens=5)
    # request: 75 x $0.15 + 15 x $0.60 per 1M = $0.00002025; batch half; 24 h at worst
    assert r.mode("batch").savings == D("0.000010125")
    assert r.recommendation.break_even_usd_per_hour == D("0.00000042")  # 0.000010125 / 24
    assert "more than $0.00000042" in r.recommendation.reason
    data = json.loads(r.to_json())["workloads"][0]
    assert data["input_tokens_per_request"] == 25 and data["modes"][1]["input_tokens"] == 75


def test_long_durations_have_thousands_separators() -> None:
    assert duration(D(86400) * 12345) == "12,345 d"


def test_exercise_takes_plain_numbers_and_text_from_python() -> None:
    ex = exercise(rate=15, value_of_time="$10", output_share=0.2, as_of="2026-11-26")
    assert ex.scales[0].standard_cost == D("15.00") and ex.value_of_time == D(10)
    assert ex == exercise(rate=D(15), value_of_time=D(10), as_of=DAY)


def test_asking_a_quote_for_a_mode_it_did_not_compare_names_the_modes() -> None:
    r = q(
        model="gpt-4o", requests=10, input_tokens=10, output_tokens=10, modes=["request", "batch"]
    )
    with pytest.raises(KeyError, match="'flex' is not among the modes of this quote"):
        r.mode("flex")


def test_small_amounts_in_a_table_share_one_precision(run_cli: RunCli) -> None:
    # Haiku 4.5: 1,000 in at $1 + 1,600 out at $5 per 1M = $0.009; batch half; the smallest
    # figure ($0.0005 of batch input) needs 5 places for two significant digits
    out = run_cli("quote", "-m", "claude-haiku-4-5", "-n", "1", "-i", "1000", "-o", "1600").stdout
    (request,) = [line for line in out.splitlines() if line.startswith("request ")]
    (batch,) = [line for line in out.splitlines() if line.startswith("batch ")]
    assert request.split()[1:4] == ["$0.00900", "$0.00100", "$0.00800"]
    assert batch.split()[1:5] == ["$0.00450", "$0.00050", "$0.00400", "saves"]
    assert "saves $0.00450 (50.0%)" in batch


def test_a_future_price_date_is_priced_at_the_latest_prices_with_a_warning() -> None:
    from costcalc.errors import CostcalcWarning

    with pytest.warns(CostcalcWarning, match="2099-01-01 is in the future: gpt-4o is priced at"):
        later = q(
            model="gpt-4o",
            requests=10,
            input_tokens=10,
            output_tokens=10,
            as_of=dt.date(2099, 1, 1),
        )
    assert (
        later.mode("request").cost
        == q(model="gpt-4o", requests=10, input_tokens=10, output_tokens=10).mode("request").cost
    )


def test_exercise_says_when_the_output_share_is_rounded_to_whole_tokens() -> None:
    ex = exercise(tokens_per_row=3, as_of=DAY)
    assert ex.today_split == {"input_tokens": 2, "output_tokens": 1}  # 20% of 3 = 0.6 -> 1
    assert any("rounded to whole tokens: 33.3%" in a for a in ex.assumptions)
    assert not any("rounded" in a for a in exercise(as_of=DAY).assumptions)


def test_web_ui_without_stream_gets_the_cheapest_mode_that_answers_while_they_wait() -> None:
    r = q(model="claude-haiku-4-5", requests=1000, input_tokens=4000, output_tokens=400,
          source="web-ui", modes=["request", "batch"])  # fmt: skip
    assert r.recommendation.mode == "request"
    # 4M in at $1 + 400K out at $5 = $6.00; batch half
    assert r.recommendation.reason == (
        "someone is watching (source web-ui): request is the cheapest mode that answers while "
        "they wait ($6.00); batch would save $3.00 but takes up to 24 h"
    )


def test_work_nobody_watches_takes_request_over_an_equal_stream() -> None:
    kw = dict(model="gpt-4.1-mini", requests=2_000_000, input_tokens=600, output_tokens=5,
              deadline="36h")  # fmt: skip
    # 1.2B input tokens against a 1B batch queue: two batches, 48 h at worst, past the deadline
    assert q(**kw).mode("batch").worst_wait_s == 48 * 3600
    assert q(**kw, source="cron").recommendation.mode == "request"
    assert q(**kw).recommendation.mode == "stream"  # no source: the earlier first token


def test_break_even_follows_the_choice() -> None:
    # 1M gpt-5 requests: every synchronous mode takes 10.4 h under tier-4 tokens/min, so flex
    # (batch rates) saves as much as batch with no extra wait: no trade-off to price
    big = q(model="gpt-5", requests=1_000_000, input_tokens=2000, output_tokens=500)
    assert big.recommendation.mode == "flex" and big.mode("flex").cost == big.mode("batch").cost
    assert big.recommendation.break_even_usd_per_hour is None
    # a small o3 job: flex is slower per request (2x), so its own break-even is given
    small = q(model="o3", requests=100, input_tokens=1000, output_tokens=100, rate_limited=False)
    rec = small.recommendation
    assert rec.mode == "flex" and rec.break_even_mode == "flex"
    assert rec.break_even_usd_per_hour == small.mode("flex").savings_per_hour_waited
    assert f"more than {per_hour(rec.break_even_usd_per_hour or D(0))}" in rec.reason


def test_the_reason_names_the_extra_wait_the_break_even_divides_by() -> None:
    r = q(model="claude-haiku-4-5", requests=100_000, input_tokens=4000, output_tokens=400,
          cached_share=D("0.9"), deadline="2h", batch_wait="typical")  # fmt: skip
    # request takes 50 min (40M output tokens at 800K/min), batch typically 60 min: $138 / (10/60 h)
    assert "for 10 min more waiting (60 min in all)" in r.recommendation.reason
    assert r.recommendation.break_even_usd_per_hour == D("828.00")


def test_assumptions_say_how_flex_is_timed_and_when_cancels_save_nothing() -> None:
    r = q(model="o3", requests=50, input_tokens=100, output_tokens=400,
          cancel={"rate": D("0.2"), "after_tokens": 1000})  # fmt: skip
    assert any(
        a.startswith("flex: each request takes 2x as long as standard") for a in r.assumptions
    )
    assert any("at or past the 400-token answer, so nothing is saved" in a for a in r.assumptions)
    assert r.mode("stream").cost == r.mode("request").cost


@pytest.mark.filterwarnings("ignore:no chat overhead known for gemini")  # expected: an estimate
def test_a_sampled_split_by_price_tier_is_called_an_estimate(tmp_path: Any) -> None:
    path = tmp_path / "mix.txt.gz"  # compressed: lines kept by size (reading them all)
    big, small = "hello" + " hello" * 210_000, "hello there"
    path.write_bytes(gzip.compress(("\n".join([big, small] * 5) + "\n").encode()))
    # 6 of 10: the 5 long lines are always kept, a short one stands for the short ones
    r = q(model="gemini-2.5-pro", input_file=str(path), output_tokens=10, input_sample=6,
          input_seed=1, modes=["request"])  # fmt: skip
    (note,) = r.mode("request").notes
    assert note.startswith("about ") and "(estimated from the sample) above 200,000" in note


def test_a_quote_from_a_sample_prices_the_samples_estimate(tmp_path: Any) -> None:
    # a sample kept by size weights its histogram otherwise than its total: a quote from
    # 2 of 100,000 rows priced 20,511 tokens a request beside an estimate of 13.7 (a trial)
    import random

    from costcalc.tokens.count import count_file

    rng = random.Random(3)
    rows = [
        "word " * (rng.randint(5_000, 9_000) if rng.random() < 0.01 else rng.randint(3, 9))
        for _ in range(3_000)
    ]
    path = tmp_path / "skew.txt.gz"
    path.write_bytes(gzip.compress("".join(r + "\n" for r in rows).encode()))
    for size in (2, 50, 400):
        counted = count_file(
            path, "gpt-4o-mini", input_format="lines", sample=size, seed=1,
            prompts_as_messages=True,
        )  # fmt: skip
        r = q(model="gpt-4o-mini", input_file=str(path), output_tokens=10, input_sample=size,
              input_seed=1, modes=["request"])  # fmt: skip
        mean = Decimal(counted.tokens) / counted.requests
        assert abs(r.input_tokens_per_request - mean) < Decimal("0.01"), size


def test_csv_keeps_a_workload_name_from_being_read_as_a_formula(run_cli: RunCli) -> None:
    out = run_cli(
        "quote",
        "-m",
        "gpt-4o",
        "-n",
        "5",
        "-i",
        "5",
        "-o",
        "0",
        "--name",
        "=cmd()",
        "--format",
        "csv",
    ).stdout
    assert out.splitlines()[1].startswith("'=cmd(),gpt-4o,stream,")


def test_exercise_rows_each_keep_their_own_precision() -> None:
    from costcalc.render.exercise import exercise_table

    table = exercise_table(exercise(rows=1, tokens_per_row=1, as_of=DAY))
    assert "$15.00       $7.50       $7.50" in table and "$0.0000150  $0.0000075" in table


def test_a_break_even_under_a_cent_keeps_two_significant_digits() -> None:
    r = q(model="gpt-4o", requests=10, input_tokens=100, output_tokens=10)
    # saves $0.00175 (half of 1,000 in at $2.50 and 100 out at $10) over ~24 h more waiting
    assert r.recommendation.break_even_usd_per_hour == D("0.000073")
    assert "more than $0.000073" in r.recommendation.reason


def test_without_request_the_first_mode_compared_is_the_baseline_and_deadlines_are_flagged() -> (
    None
):
    r = q(
        model="gpt-4o", requests=10, input_tokens=100, output_tokens=10, modes=["stream", "batch"]
    )
    assert r.baseline == "stream" and r.mode("batch").savings == r.mode("stream").cost / 2
    assert r.recommendation.meets_deadline is None
    late = q(
        model="gpt-5", requests=1_000_000, input_tokens=2000, output_tokens=500, deadline="10m"
    )
    assert late.recommendation.meets_deadline is False
    kept = q(model="gpt-4o", requests=10, input_tokens=100, output_tokens=10, deadline="2d")
    assert kept.recommendation.meets_deadline is True


@settings(max_examples=500, deadline=None)
@given(
    value=st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**12), max_value=10**12),
    places=st.integers(min_value=0, max_value=10),
)
def test_usd_writes_the_rounded_amount_with_thousands_and_its_sign(
    value: Decimal, places: int
) -> None:
    """usd() rounds half up to ``places`` (an amount below the step keeps two significant
    digits) and writes $1,234.50 / -$0.40: what Python's own ",.Nf" makes of the rounded
    amount, the sign before the dollar, and no minus on a zero."""
    from decimal import ROUND_HALF_UP

    from costcalc.money import usd

    shown = places
    rounded = value.quantize(Decimal(1).scaleb(-shown), ROUND_HALF_UP)
    if rounded == 0 and value != 0:
        shown = min(10, 1 - value.adjusted())
        rounded = value.quantize(Decimal(1).scaleb(-shown), ROUND_HALF_UP)
    sign = "-" if rounded < 0 else ""
    assert usd(value, places) == f"{sign}${abs(rounded):,.{shown}f}"


def test_a_day_before_undated_catalogue_prices_says_they_have_no_start() -> None:
    # genai-prices gives claude-opus-4-6 no release date or dated prices: a quote of 2020 uses
    # today's prices, and says the model may not have been sold then
    old = quote(Workload(model="claude-opus-4-6", requests=1, input_tokens=1000,
                         output_tokens=100, as_of=dt.date(2020, 1, 1)))  # fmt: skip
    assert "no start date" in old.assumptions[0]
    now = quote(Workload(model="claude-opus-4-6", requests=1, input_tokens=1000, output_tokens=100))
    assert not any("no start date" in a for a in now.assumptions)
    dated = q(model="gpt-4o", requests=1, input_tokens=1000, output_tokens=100)
    assert not any("no start date" in a for a in dated.assumptions)


def test_rounded_figures_that_do_not_add_up_say_so(run_cli: RunCli) -> None:
    # exact: request 0.745 (0.25 + 0.495), batch 0.3725 (0.125 + 0.2475), saving 0.3725;
    # shown at cents: $0.75, $0.37 = $0.13 + $0.25?, saves $0.37 = $0.75 - $0.37?
    args = ["quote", "-m", "gpt-4o", "-n", "100", "-i", "1000", "-o", "495", "--modes",
            "request,batch", "--as-of", "2026-11-26"]  # fmt: skip
    shown = run_cli(*args).stdout
    assert "$0.37  $0.13   $0.25  saves $0.37" in shown and "amounts are rounded" in shown
    assert "amounts are rounded" in run_cli(*args, "--format", "markdown").stdout
    exact = run_cli(*args[:6], "800", "-o", "200", *args[8:]).stdout  # $4.00 = $2.00 + $2.00
    assert "amounts are rounded" not in exact


def test_tokens_as_sent_counts_what_quote_measures(run_cli: RunCli, tmp_path: Any) -> None:
    csv = tmp_path / "t.csv"
    csv.write_text("id,body\n1,I was charged twice.\n2,How do I export my data to CSV?\n")
    raw = int(run_cli("tokens", str(csv), "--column", "body").stdout)
    sent = int(run_cli("tokens", str(csv), "--column", "body", "--as-sent").stdout)
    assert sent == raw + 2 * 7  # each a user message: 3 + 1 ("user") + 3 for the reply
    out = run_cli("quote", "-m", "gpt-4o", "--input-file", str(csv), "--input-column", "body",
                  "-o", "5", "--format", "json").stdout  # fmt: skip
    assert json.loads(out)["workloads"][0]["input_tokens_per_request"] == sent / 2


def test_tokens_as_sent_reads_a_text_file_as_quote_does(run_cli: RunCli, tmp_path: Any) -> None:
    # quote --input-file reads a text file one request per non-blank line; --as-sent too
    text = tmp_path / "lines.txt"
    text.write_text("How do I reset my password?\nI was charged twice.\n\nExport to CSV\n")
    out = run_cli("quote", "-m", "gpt-4o", "--input-file", str(text), "-o", "1",
                  "--format", "json").stdout  # fmt: skip
    quoted = json.loads(out)["workloads"][0]
    for args, stdin in (((str(text),), None), (("-",), text.read_text())):
        sent = json.loads(run_cli("tokens", *args, "-m", "gpt-4o", "--as-sent", "--format",
                                  "json", input=stdin).stdout)  # fmt: skip
        assert sent["requests"] == quoted["requests"] == 3
        assert sent["tokens"] == quoted["input_tokens_per_request"] * 3
    # an input format the user gives still rules: the whole file as one request
    whole = run_cli("tokens", str(text), "--as-sent", "--input-format", "text", "--format",
                    "json").stdout  # fmt: skip
    assert json.loads(whole)["requests"] == 1


def test_an_extra_cost_that_does_not_add_up_as_shown_says_so(run_cli: RunCli) -> None:
    # request $0.18 and priority $0.29 as shown, priority "costs $0.12 more" (exact figures)
    shown = run_cli("quote", "-m", "gpt-4o-mini", "-n", "999", "-i", "777", "-o", "99",
                    "--as-of", "2026-11-26").stdout  # fmt: skip
    assert "costs $0.12 more" in shown and "amounts are rounded" in shown


def test_prices_show_of_undated_prices_says_they_have_no_start(run_cli: RunCli) -> None:
    shown = run_cli("prices", "show", "claude-opus-4-6", "--as-of", "2020-01-01").stdout
    assert "no start date in the data" in shown and "since release" not in shown


def test_input_plus_output_past_the_window_is_refused_where_it_holds_both() -> None:
    """gpt-4o-mini's 128,000-token window holds the output: 128,000 in + 16,384 out is no
    request OpenAI takes (the audit refuses such a record alike); Gemini's 1,048,576 is the
    input's limit alone (Google gives the output's apart), so 1,000,000 + 60,000 is one."""
    from costcalc.errors import UsageError

    with pytest.raises(UsageError, match=r"128,000 \+ output_tokens 16,384 per request exceed "):
        q(model="gpt-4o-mini", requests=1, input_tokens=128_000, output_tokens=16_384)
    assert q(model="gpt-4o-mini", requests=1, input_tokens=111_616, output_tokens=16_384)
    assert q(model="gemini-2.5-pro", requests=1, input_tokens=1_000_000, output_tokens=60_000,
             as_of="2026-10-01")  # fmt: skip
