"""A fee per request (genai-prices' ``requests_kcount``; Perplexity's Sonar charges one on top
of its tokens): priced in every mode, every figure recomputed by hand, and the same as
``genai_prices.calc_price`` for the same usage.

The fee is USD per 1,000 requests; a request pays it whatever its tokens, cancelled or not;
a mode that lists no fee of its own is taken to charge standard's (marked assumed); a
long-context tier changes what tokens cost, not the fee, unless it lists its own.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from decimal import Decimal
from pathlib import Path

import pytest
from genai_prices import Usage, calc_price
from hypothesis import given, settings
from hypothesis import strategies as st

import costcalc
from costcalc.batch.reconcile import reconcile
from costcalc.prices import PriceTable, load_price_table
from costcalc.prices.audit import audit_prices
from tests.conftest import RunCli

pytestmark = pytest.mark.filterwarnings("ignore::costcalc.CostcalcWarning")

DAY = dt.date(2026, 12, 1)
AT = dt.datetime(2026, 12, 1, 12, tzinfo=dt.timezone.utc)
SONAR = ["sonar", "sonar-pro", "sonar-reasoning", "sonar-reasoning-pro"]

# a made-up provider whose models charge per request: a batch rule (50% off tokens), a flex
# rule (0.5x), a model whose batch lists no fee (standard's assumed), one whose batch lists
# its own, and one with a long-context tier that lists none (the period's applies)
PRICES = """\
provider: feeco
name: FeeCo
source: https://example.com/feeco/pricing
batch:
  discount: 0.5
  cache_discount_stacks: true
  max_requests: 1000
  max_bytes: 1000000
  completion_window_hours: 24
  typical_turnaround_hours: 24
  line_format: openai
  as_of: 2026-12-01
  source: https://example.com/feeco/batch
flex: {multiplier: 0.5, source: https://example.com/feeco/flex}
speed: {time_to_first_token_s: 1, output_tokens_per_s: 50, as_of: 2026-12-01, source: https://example.com/speed}
rate_limits:
  default_tier: t1
  tiers: {t1: {requests_per_minute: 600, tokens_per_minute: 1000000}}
  as_of: 2026-12-01
  source: https://example.com/limits
models:
  - id: fee-plain
    name: Fee Plain
    encoding: o200k_base
    context_window: 32000
    prices:
      - as_of: 2026-12-01
        source: https://example.com/feeco/pricing
        standard: {input: 2.00, output: 8.00, per_1k_requests: 5.00}
        flex: {input: 1.00, output: 4.00}
  - id: fee-batch
    name: Fee Batch
    encoding: o200k_base
    context_window: 32000
    prices:
      - as_of: 2026-12-01
        source: https://example.com/feeco/pricing
        standard: {input: 2.00, output: 8.00, per_1k_requests: 5.00}
        batch: {input: 1.00, output: 4.00, per_1k_requests: 2.50}
  - id: fee-long
    name: Fee Long
    encoding: o200k_base
    context_window: 32000
    prices:
      - as_of: 2026-12-01
        source: https://example.com/feeco/pricing
        standard: {input: 2.00, output: 8.00, per_1k_requests: 5.00}
        tiers:
          - above_input_tokens: 1000
            standard: {input: 4.00, output: 16.00}
  - id: fee-tiered-batch
    name: Fee Tiered Batch
    encoding: o200k_base
    context_window: 32000
    prices:
      - as_of: 2026-12-01
        source: https://example.com/feeco/pricing
        standard: {input: 2.00, output: 8.00, per_1k_requests: 10.00}
        batch: {input: 1.00, output: 4.00, per_1k_requests: 4.00}
        tiers:
          - above_input_tokens: 1000
            standard: {input: 4.00, output: 16.00}
            batch: {input: 2.00, output: 8.00}
  - id: fee-flex-only
    name: Fee Flex Only
    encoding: o200k_base
    context_window: 32000
    prices:
      - as_of: 2026-12-01
        source: https://example.com/feeco/pricing
        standard: {input: 2.00, output: 8.00}
        flex: {input: 1.00, output: 5.00, per_1k_requests: 3.00}
"""


@pytest.fixture
def price_file(tmp_path: Path) -> Path:
    path = tmp_path / "feeco.yaml"
    path.write_text(PRICES)
    return path


@pytest.fixture
def table(price_file: Path) -> PriceTable:
    return load_price_table([price_file])


def _workload(model: str, requests: int, input_tokens: int, output_tokens: int, **kw: object):
    return costcalc.Workload(
        model=model,
        requests=requests,
        input_tokens=Decimal(input_tokens),
        output_tokens=Decimal(output_tokens),
        as_of=DAY,
        **kw,  # type: ignore[arg-type]
    )


# --- Perplexity's Sonar, from genai-prices ---------------------------------------------------


@pytest.mark.parametrize("model", SONAR)
@pytest.mark.parametrize("requests", [1, 7, 1000])
def test_sonar_costs_what_genai_prices_bills(model: str, requests: int) -> None:
    q = costcalc.quote(_workload(f"perplexity:{model}", requests, 400, 50))
    one = calc_price(
        Usage(input_tokens=400, output_tokens=50),
        model,
        provider_id="perplexity",
        genai_request_timestamp=AT,
    ).total_price
    assert q.mode("request").cost == one * requests
    assert q.mode("stream").cost == one * requests


def test_sonar_by_hand_and_named_in_the_rates() -> None:
    # 1,000 requests x 1,000 input + 100 output at $1/$1 per 1M and $12 per 1,000 requests
    q = costcalc.quote(_workload("perplexity:sonar", 1000, 1000, 100))
    m = q.mode("request")
    assert m.input_cost == Decimal("1.00")
    assert m.output_cost == Decimal("0.10")
    assert m.request_fee_cost == Decimal("12.00")
    assert m.cost == Decimal("13.10")
    assert m.rates["per_1k_requests"] == Decimal(12)
    # the fee is priced now: no note says it is left out
    assert not any("requests_kcount" in a for a in q.assumptions)


def test_a_model_without_a_fee_bills_none() -> None:
    q = costcalc.quote(_workload("gpt-4o-mini", 1000, 1000, 100))
    for m in q.available:
        assert m.request_fee_cost == Decimal(0)
        assert "per_1k_requests" not in m.rates


# --- every mode, by hand ---------------------------------------------------------------------


def test_each_mode_of_a_price_file_by_hand(table: PriceTable) -> None:
    q = costcalc.quote(_workload("fee-plain", 2000, 500, 200), table)
    request, batch, flex = q.mode("request"), q.mode("batch"), q.mode("flex")
    # request: 1M input x $2 + 400K output x $8 + 2,000 x $5 / 1,000
    assert (request.input_cost, request.output_cost) == (Decimal("2.00"), Decimal("3.20"))
    assert request.request_fee_cost == Decimal("10.00")
    assert request.cost == Decimal("15.20")
    assert request.assumed == []
    # batch: tokens 50% off; no batch fee listed, so standard's, assumed and said
    assert batch.cost == Decimal("1.00") + Decimal("1.60") + Decimal("10.00")
    assert batch.request_fee_cost == Decimal("10.00")
    assert "per_1k_requests" in batch.assumed
    # flex lists its token prices and no fee: standard's fee, assumed
    assert flex.cost == Decimal("1.00") + Decimal("1.60") + Decimal("10.00")
    assert "per_1k_requests" in flex.assumed and "input" not in flex.assumed
    assert batch.savings == request.cost - batch.cost


def test_a_batch_fee_of_its_own_is_published(table: PriceTable) -> None:
    q = costcalc.quote(_workload("fee-batch", 2000, 500, 200), table)
    batch = q.mode("batch")
    assert batch.request_fee_cost == Decimal("5.00")  # 2,000 x $2.50 / 1,000
    assert batch.rates["per_1k_requests"] == Decimal("2.50")
    assert "per_1k_requests" not in batch.assumed


def test_a_long_context_tier_keeps_the_periods_fee(table: PriceTable) -> None:
    q = costcalc.quote(_workload("fee-long", 100, 5000, 10), table)
    m = q.mode("request")
    # 500K input x $4 + 1K output x $16 + 100 x $5 / 1,000
    assert m.cost == Decimal("2.00") + Decimal("0.016") + Decimal("0.50")
    assert m.rates["per_1k_requests"] == Decimal(5)


def test_a_long_context_tier_keeps_the_modes_own_fee(table: PriceTable) -> None:
    # the tier lists batch token prices and no fee: batch's own $4, not standard's $10
    for input_tokens in (500, 5000):
        q = costcalc.quote(_workload("fee-tiered-batch", 1000, input_tokens, 10), table)
        batch = q.mode("batch")
        assert batch.request_fee_cost == Decimal("4.00"), input_tokens
        assert "per_1k_requests" not in batch.assumed
        assert q.mode("request").request_fee_cost == Decimal("10.00")


def test_a_fee_only_a_mode_lists_is_that_modes(table: PriceTable) -> None:
    q = costcalc.quote(_workload("fee-flex-only", 1000, 1000, 100), table)
    assert q.mode("flex").request_fee_cost == Decimal("3.00")
    assert q.mode("flex").cost == Decimal("1.00") + Decimal("0.50") + Decimal("3.00")
    assert q.mode("request").request_fee_cost == Decimal(0)
    assert "per_1k_requests" not in q.mode("request").rates


def test_cancelled_requests_still_pay_the_fee(table: PriceTable) -> None:
    w = _workload("fee-plain", 1000, 100, 1000, cancel={"rate": "0.5", "after_tokens": 100})
    q = costcalc.quote(w, table)
    stream, request = q.mode("stream"), q.mode("request")
    assert stream.output_cost is not None and request.output_cost is not None
    assert stream.output_cost < request.output_cost
    assert stream.request_fee_cost == request.request_fee_cost == Decimal("5.00")


def test_requests_of_several_price_bands_each_pay_the_fee(table: PriceTable) -> None:
    # 3 of 4 requests above the tier, measured sizes: the fee is per request in every band
    w = _workload("fee-long", 4, 3000, 10)
    q = costcalc.quote(w, table, input_sizes={500: 1, 3833: 3})
    m = q.mode("request")
    assert m.request_fee_cost == Decimal("0.02")  # 4 x $5 / 1,000
    parts = (m.input_cost, m.cached_input_cost, m.cache_write_cost, m.output_cost)
    assert m.cost == sum((p or Decimal(0) for p in parts), m.request_fee_cost)


@settings(max_examples=80, deadline=None)
@given(
    st.sampled_from(["fee-plain", "fee-batch", "fee-long"]),
    st.integers(1, 10**7),
    st.integers(1, 20_000),
    st.integers(0, 4_000),
)
def test_cost_is_its_parts_and_batch_never_costs_more(
    model: str, requests: int, input_tokens: int, output_tokens: int
) -> None:
    table = _shared_table()
    q = costcalc.quote(_workload(model, requests, input_tokens, output_tokens), table)
    for m in q.available:
        parts = (m.input_cost, m.cached_input_cost, m.cache_write_cost, m.output_cost)
        assert m.cost == sum((p or Decimal(0) for p in parts), m.request_fee_cost or Decimal(0))
        fee = m.rates["per_1k_requests"]
        assert m.request_fee_cost == fee * requests / 1000
    assert q.mode("batch").cost <= q.mode("request").cost  # type: ignore[operator]


_FILE = Path(__file__).parent / "data" / "feeco.yaml"


@functools.cache
def _shared_table() -> PriceTable:
    return load_price_table([_FILE])


def test_the_shared_price_file_is_this_ones() -> None:
    assert _FILE.read_text() == PRICES


# --- outputs ---------------------------------------------------------------------------------


def test_quote_table_csv_and_json_show_the_fee(run_cli: RunCli) -> None:
    args = ["quote", "-m", "perplexity:sonar", "--requests", "1000"]
    args += ["--input-tokens", "1000", "--output-tokens", "100"]
    text = run_cli(*args)
    assert text.exit_code == 0, text.output
    header = next(line for line in text.output.splitlines() if line.startswith("mode"))
    assert "request fees" in header
    row = next(line for line in text.output.splitlines() if line.startswith("request "))
    assert "$13.10" in row and "$12.00" in row
    data = json.loads(run_cli(*args, "--format", "json").output)
    modes = {m["mode"]: m for m in data["workloads"][0]["modes"]}
    assert modes["request"]["request_fee_cost"] == "12.00"
    assert modes["request"]["rates"]["per_1k_requests"] == "12.00"
    csv = run_cli(*args, "--format", "csv").output.splitlines()
    fields = csv[0].split(",")
    request = next(r.split(",") for r in csv[1:] if ",request," in r)
    assert request[fields.index("request_fee_cost")] == "12.00"


def test_a_quote_without_fees_has_no_fee_column(run_cli: RunCli) -> None:
    out = run_cli("quote", "-m", "gpt-4o-mini", "--requests", "10").output
    assert "request fees" not in out


def test_prices_show_and_list_name_the_fee(run_cli: RunCli, price_file: Path) -> None:
    shown = run_cli("prices", "show", "perplexity:sonar-pro").output
    assert "fee per request  $14.00 per 1,000 requests  published" in shown
    listed = run_cli("prices", "list", "--provider", "perplexity").output
    assert "sonar-pro $14.00" in listed
    csv = run_cli("prices", "list", "--provider", "perplexity", "--format", "csv").output
    rows = csv.splitlines()
    assert rows[0].split(",")[-1] == "per_1k_requests"
    assert any(r.startswith("perplexity,sonar,") and r.endswith(",12") for r in rows)
    batch = run_cli("prices", "show", "fee-plain", "--prices", str(price_file)).output
    assert "batch     fee per request  $5.00 per 1,000 requests  assumed (no batch fee" in batch


# --- reconcile and audit ---------------------------------------------------------------------


def _result(i: int, prompt: int, completion: int, ok: bool = True) -> str:
    if not ok:
        return json.dumps({"custom_id": f"r{i}", "response": None, "error": {"code": "x"}})
    return json.dumps({"custom_id": f"r{i}", "error": None, "response": {"status_code": 200,
        "body": {"model": "fee-batch", "usage": {"prompt_tokens": prompt,
        "completion_tokens": completion}}}})  # fmt: skip


def test_reconcile_bills_each_succeeded_request_its_fee(tmp_path: Path, table: PriceTable) -> None:
    out = tmp_path / "out.jsonl"
    lines = [_result(i, 1000, 100) for i in range(3)] + [_result(3, 0, 0, ok=False)]
    out.write_text("\n".join(lines) + "\n")
    r = reconcile([str(out)], table=table, as_of=DAY)
    # 3,000 input x $1 + 300 output x $4 per 1M, 3 succeeded x $2.50 / 1,000 (not the failed)
    assert r.actual_cost == Decimal("0.003") + Decimal("0.0012") + Decimal("0.0075")


def test_audit_reports_a_fee_that_differs(tmp_path: Path) -> None:
    data = [
        {
            "id": "feeco",
            "name": "FeeCo",
            "api_pattern": "feeco",
            "pricing_urls": ["https://example.com/feeco/pricing"],
            "models": [
                {
                    "id": "fee-plain",
                    "match": {"equals": "fee-plain"},
                    "context_window": 32000,
                    "prices": {"input_mtok": 2, "output_mtok": 8, "requests_kcount": 6},
                }
            ],
        }
    ]
    against = tmp_path / "data.json"
    against.write_text(json.dumps(data))
    price_file = tmp_path / "feeco.yaml"
    price_file.write_text(PRICES)
    report = audit_prices(load_price_table([price_file]), against, on=DAY, known=False)
    fee = [r for r in report.disagreements if "per 1k requests" in r.field]
    assert [(r.model, r.field, r.ours, r.theirs, r.exceeds) for r in fee] == [
        ("fee-plain", "per 1k requests", "5", "6", True)
    ]
    assert report.failed


def test_audit_fails_on_a_fee_only_the_other_data_lists(tmp_path: Path) -> None:
    # our gpt-4o charges no fee; data that bills one is a difference from $0, not one-sided
    from costcalc.prices.genai import raw_from_package

    raw = json.loads(json.dumps(raw_from_package()[0]))
    openai = next(p for p in raw if p["id"] == "openai")
    gpt4o = next(m for m in openai["models"] if m["id"] == "gpt-4o")
    prices = gpt4o["prices"]
    for p in prices if isinstance(prices, list) else [{"prices": prices}]:
        p["prices"]["requests_kcount"] = "5"
    against = tmp_path / "data.json"
    against.write_text(json.dumps(raw))
    report = audit_prices(None, against, on=DAY, known=True)
    fee = [r for r in report.disagreements if r.model == "gpt-4o" and r.field == "per 1k requests"]
    assert [(r.ours, r.theirs, r.exceeds, r.known) for r in fee] == [("0", "5", True, None)]
    assert report.failed


def test_an_update_that_changes_a_fee_diffs_it_and_quotes_at_it(
    tmp_path: Path, costcalc_home: Path
) -> None:
    from costcalc.prices.genai import raw_from_package

    raw = json.loads(json.dumps(raw_from_package()[0]))
    perplexity = next(p for p in raw if p["id"] == "perplexity")
    sonar = next(m for m in perplexity["models"] if m["id"] == "sonar")
    sonar["prices"]["requests_kcount"] = "10"  # $12 in the shipped data
    data = tmp_path / "data.json"
    data.write_text(json.dumps(raw))
    update = costcalc.update_prices(data)
    change = [(c.model, c.component, c.old, c.new) for c in update.changed if c.model == "sonar"]
    assert change == [("sonar", "per 1k requests", Decimal(12), Decimal(10))]
    q = costcalc.quote(_workload("perplexity:sonar", 1000, 1000, 100))
    assert q.mode("request").request_fee_cost == Decimal("10.00")
    costcalc.remove_price_update()


def test_traffic_audit_bills_each_recorded_request_its_fee() -> None:
    from costcalc.audit.records import UsageRecord

    t = dt.datetime(2026, 11, 2, 12, tzinfo=dt.timezone.utc).timestamp()

    # 2 records of 50 requests each, a record's tokens those of its requests together:
    # 100 requests x (1,000 in + 200 out) on sonar-pro
    def record(k: int) -> UsageRecord:
        return UsageRecord("trace.jsonl", k, "otlp", t + k, t + k + 2.0, "perplexity",
                           "sonar-pro", 50, 50_000, 0, 0, 10_000, False, False, None,
                           {"service": "search"})  # fmt: skip

    records = [record(1), record(2)]
    (stream,) = costcalc.audit(records).streams
    # 100K input x $3 + 20K output x $15 per 1M + 100 x $14 / 1,000
    assert stream.actual_cost == Decimal("0.30") + Decimal("0.30") + Decimal("1.40")


def test_a_litellm_fee_per_request_is_read_per_1000(tmp_path: Path, costcalc_home: Path) -> None:
    raw = {
        "perplexity/sonar-pro": {
            "litellm_provider": "perplexity",
            "mode": "chat",
            "input_cost_per_token": 3e-06,
            "output_cost_per_token": 1.5e-05,
            "input_cost_per_request": 0.013,  # $13 per 1,000 requests
        }
    }
    path = tmp_path / "model_prices_and_context_window.json"
    path.write_text(json.dumps(raw))
    update = costcalc.update_prices(path)
    change = [(c.component, c.old, c.new) for c in update.changed if c.model == "sonar-pro"]
    assert change == [("per 1k requests", Decimal(14), Decimal(13))]
    q = costcalc.quote(_workload("perplexity:sonar-pro", 1000, 1000, 100))
    assert q.mode("request").request_fee_cost == Decimal("13.00")
    costcalc.remove_price_update()
