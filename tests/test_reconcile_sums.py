"""batch reconcile sums tokens per price band and prices each band once: its total must be
the sum of every line's cost worked out by hand, line by line, from the price table."""

from __future__ import annotations

import json
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from costcalc.batch.reconcile import reconcile
from costcalc.prices import load_price_table

TABLE = load_price_table()
# (model, day): one without long-context prices, one in its 1M beta (above 200K input the
# rates change), and OpenAI's cached input
MODELS = [
    ("claude-haiku-4-5", "2026-04-01"),
    ("claude-sonnet-4-5", "2026-04-01"),
    ("gpt-4o-mini", "2026-04-01"),
]

tokens = st.integers(0, 400_000)
anthropic_usage = st.fixed_dictionaries(
    {"input_tokens": tokens, "output_tokens": st.integers(0, 10_000)},
    optional={
        "cache_read_input_tokens": tokens,
        "cache_creation_input_tokens": st.integers(0, 50_000),
        "one_hour": st.integers(0, 50_000),
    },
)
openai_usage = st.tuples(tokens, tokens, st.integers(0, 10_000))  # prompt, cached, completion
outcome = st.sampled_from(["succeeded", "succeeded", "succeeded", "errored", "expired"])


def by_hand(model: str, day: str, lines: list[tuple[int, ...]]) -> Decimal:
    """Each succeeded line at the batch rates of its own input's band, component by
    component: tokens x USD per 1M / 1M."""
    prices = TABLE.prices(model, day)
    total = Decimal(0)
    for line in lines:
        rates = prices.mode("batch", sum(line[:4]))
        for component, n in zip(
            ("input", "cached_input", "cache_write_5m", "cache_write_1h", "output"),
            line,
            strict=True,
        ):
            if n:
                rate = rates.rate(component) or rates.rate("input")
                assert rate is not None
                total += Decimal(n) * rate.usd_per_mtok / 1_000_000
    return total


def anthropic_line(
    model: str, i: int, kind: str, usage: dict[str, Any]
) -> tuple[str, tuple[int, ...] | None]:
    if kind != "succeeded":
        return json.dumps({"custom_id": f"r{i}", "result": {"type": kind}}), None
    written = usage.get("cache_creation_input_tokens", 0)
    one_hour = min(usage.pop("one_hour", 0), written)
    if "cache_creation_input_tokens" in usage:
        usage["cache_creation"] = {"ephemeral_1h_input_tokens": one_hour}
    line = json.dumps({"custom_id": f"r{i}", "result": {"type": "succeeded", "message": {
        "model": model, "usage": usage}}})  # fmt: skip
    billed = (
        usage["input_tokens"], usage.get("cache_read_input_tokens", 0), written - one_hour,
        one_hour, usage["output_tokens"],
    )  # fmt: skip
    return line, billed


def openai_line(
    i: int, kind: str, usage: tuple[int, int, int]
) -> tuple[str, tuple[int, ...] | None]:
    if kind != "succeeded":
        return json.dumps({"custom_id": f"r{i}", "response": None, "error": {"code": "x"}}), None
    prompt, cached, completion = usage
    cached = min(cached, prompt)
    line = json.dumps({"custom_id": f"r{i}", "error": None, "response": {"status_code": 200,
        "body": {"model": "gpt-4o-mini", "usage": {"prompt_tokens": prompt,
        "completion_tokens": completion, "prompt_tokens_details": {"cached_tokens": cached}}}}})  # fmt: skip
    return line, (prompt - cached, cached, 0, 0, completion)


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(MODELS),
    st.lists(st.tuples(outcome, anthropic_usage, openai_usage), min_size=1, max_size=40),
    st.booleans(),
)
def test_reconcile_total_is_the_sum_of_each_line_priced_by_hand(
    model_day: tuple[str, str],
    drawn: list[tuple[str, dict[str, Any], tuple[int, int, int]]],
    given_model: bool,
) -> None:
    """With the model given, or named by the lines (its bands are learned from the first)."""
    model, day = model_day
    made = [
        openai_line(i, kind, ou) if model.startswith("gpt") else anthropic_line(model, i, kind, au)
        for i, (kind, au, ou) in enumerate(drawn)
    ]
    billed = [b for _, b in made if b is not None]
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "results.jsonl"
        out.write_text("".join(line + "\n" for line, _ in made))
        if not billed and not given_model:
            return  # no line names the model: an error, tested elsewhere
        r = reconcile([str(out)], model=model if given_model else None, table=TABLE, as_of=day)
    assert r.actual_cost == by_hand(model, day, billed)
    assert r.outcomes["succeeded"] == len(billed)
    assert r.usage.input_tokens == sum(b[0] for b in billed)
    assert r.usage.cached_input_tokens == sum(b[1] for b in billed)
    assert r.usage.cache_write_tokens == sum(b[2] for b in billed)
    assert r.usage.cache_write_1h_tokens == sum(b[3] for b in billed)
    assert r.usage.output_tokens == sum(b[4] for b in billed)


# --- the uploaded files: read once, counted as count_file counts them -------------------------


def _request(cid: str, content: str = "hi") -> bytes:
    return json.dumps({"custom_id": cid, "method": "POST", "url": "/v1/chat/completions",
        "body": {"model": "gpt-4o-mini", "max_tokens": 9,
        "messages": [{"role": "user", "content": content}]}}, ensure_ascii=False).encode()  # fmt: skip


_RESULT = json.dumps({"custom_id": "r0", "error": None, "response": {"status_code": 200, "body": {
    "model": "gpt-4o-mini", "usage": {"prompt_tokens": 10, "completion_tokens": 2}}}})  # fmt: skip

UPLOADED = {  # lines json.loads reads as the counter does, and lines it reads otherwise
    "plain": _request("r0") + b"\n" + _request("r1", "x" * 500) + b"\n\n",
    "non-ascii and CRLF": _request("r0", "héllo ✓") + b"\r\n" + _request("r1") + b"\r\n",
    "a BOM first": b"\xef\xbb\xbf" + _request("r0") + b"\n",
    "a string line": _request("r0") + b'\n"just text"\n',
    "a BOM inside": _request("r0") + b"\n\xef\xbb\xbf" + _request("r1") + b"\n",
    "an encoded surrogate": _request("r0") + b"\n" + _request("r1", "x").replace(b'"x"', b'"\xed\xa0\x80"'),
    "UTF-16": _request("r0") + b"\n" + _request("r1").decode().encode("utf-16-be") + b"\n",
    "not JSON": _request("r0") + b"\n{nope\n",
    "null": _request("r0") + b"\nnull\n",
}  # fmt: skip


def test_reconcile_counts_the_uploaded_lines_as_count_file_does() -> None:
    """The estimate's tokens, or the error, are count_file's, for every kind of line."""
    from costcalc.tokens.count import count_file

    with tempfile.TemporaryDirectory() as folder:
        out, inp = Path(folder) / "out.jsonl", Path(folder) / "in.jsonl"
        out.write_text(_RESULT + "\n")
        for kind, data in UPLOADED.items():
            inp.write_bytes(data)
            try:
                expected = f"{count_file([str(inp)], 'gpt-4o-mini', table=TABLE).tokens:,} input"
            except ValueError as exc:
                expected = str(exc)
            try:
                got = reconcile([str(out)], [str(inp)], table=TABLE).estimate_basis or ""
            except ValueError as exc:
                got = str(exc)
            assert got.startswith(expected), kind


def test_reconcile_input_errors_keep_their_order() -> None:
    """An id given twice is reported before a line that cannot be counted, even a line
    before it (the ids were read, and raised, before counting began)."""
    with tempfile.TemporaryDirectory() as folder:
        out, inp = Path(folder) / "out.jsonl", Path(folder) / "in.jsonl"
        out.write_text(_RESULT + "\n")
        inp.write_bytes(_request("r0") + b"\n{nope\n" + _request("r0") + b"\n")
        try:
            reconcile([str(out)], [str(inp)], table=TABLE)
        except ValueError as exc:
            assert str(exc) == (
                f"{inp}:3: custom_id 'r0' is in the input twice, first at {inp}:1 (is a file "
                "given twice?)"
            )
        else:
            raise AssertionError("no error")


@pytest.mark.parametrize(
    ("uploaded_model", "given", "said"),
    [
        ("gpt-4o", None, "the input names gpt-4o, not gpt-4o-mini: priced as gpt-4o-mini, "
         "the model the results name"),
        ("gpt-4o", "gpt-4o-mini", "the model given"),
        ("gpt-4o-mini-2024-07-18", None, None),  # a snapshot of the model priced is it
        ("gpt-4o-mini", None, None),
    ],
)  # fmt: skip
def test_reconcile_says_when_the_input_names_another_model(
    uploaded_model: str, given: str | None, said: str | None
) -> None:
    """Results of one model reconciled against input files of another are priced as the
    results' (or the given) model, and the estimate says so: the files may not be one batch."""
    with tempfile.TemporaryDirectory() as folder:
        out, inp = Path(folder) / "out.jsonl", Path(folder) / "in.jsonl"
        out.write_text(_RESULT + "\n")
        inp.write_bytes(_request("r0").replace(b'"gpt-4o-mini"', f'"{uploaded_model}"'.encode()))
        basis = reconcile([str(out)], [str(inp)], model=given, table=TABLE).estimate_basis or ""
    if said is None:
        assert "the input names" not in basis
    else:
        assert said in basis


def test_a_model_given_over_the_one_the_results_name_is_noted() -> None:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "out.jsonl"
        out.write_text(_RESULT.replace("gpt-4o-mini", "gpt-4o") + "\n")
        r = reconcile([str(out)], model="gpt-4o-mini", table=TABLE)
        assert (r.model, r.notes) == (
            "gpt-4o-mini",
            ["the results name gpt-4o; priced as gpt-4o-mini, the model given"],
        )
        # a snapshot of the model given is that model
        out.write_text(_RESULT.replace("gpt-4o-mini", "gpt-4o-2024-08-06") + "\n")
        assert reconcile([str(out)], model="gpt-4o", table=TABLE).notes == []


def test_a_batch_day_to_come_or_past_a_retirement_warns_as_a_quote_does() -> None:
    import costcalc

    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "out.jsonl"
        out.write_text(_RESULT.replace("gpt-4o-mini", "gpt-4o") + "\n")
        with pytest.warns(costcalc.CostcalcWarning) as said:
            reconcile([str(out)], table=TABLE, as_of="2099-01-01")
        words = " | ".join(str(w.message) for w in said)
        assert "gpt-4o was retired on 2027-01-14" in words
        assert "2099-01-01 is in the future, when no batch has run" in words


# --- the quick way through a succeeded line agrees with the long way ------------------------

_odd = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 10**8 + 5), st.floats(allow_nan=False),
    st.text(max_size=3), st.lists(st.integers(0, 3), max_size=2),
    st.dictionaries(st.sampled_from(["cached_tokens", "x"]), st.integers(-1, 400), max_size=2),
)  # fmt: skip
_count = st.one_of(*[st.integers(0, 400_000)] * 4, _odd)


@st.composite
def _mutated(draw: st.DrawFn, usual: dict[str, Any], counts: list[str]) -> dict[str, Any]:
    """``usual`` (a succeeded line) with random counts, then a few of its values replaced
    by odd ones or dropped: mostly lines of the usual shape, some just off it."""
    line = json.loads(json.dumps(usual))

    def places(node: Any, path: tuple[str, ...]) -> list[tuple[str, ...]]:
        found = [path] if path else []
        if isinstance(node, dict):
            for k, v in node.items():
                found += places(v, (*path, k))
        return found

    for place in places(line, ()):
        if place[-1] in counts:
            holder = line
            for k in place[:-1]:
                holder = holder[k]
            holder[place[-1]] = draw(_count)
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.sampled_from(places(line, ())))
        holder = line
        for k in at[:-1]:
            if not isinstance(holder.get(k), dict):
                break
            holder = holder[k]
        else:
            if draw(st.booleans()):
                holder[at[-1]] = draw(_odd)
            else:
                holder.pop(at[-1], None)
    return line


_openai_lines = _mutated(
    {"custom_id": "r-1", "error": None, "response": {"status_code": 200, "body": {
        "model": "gpt-4o-mini", "usage": {"prompt_tokens": 1, "completion_tokens": 1,
        "total_tokens": 2, "prompt_tokens_details": {"cached_tokens": 0}}}}},
    ["prompt_tokens", "completion_tokens", "total_tokens", "cached_tokens"],
)  # fmt: skip
_anthropic_lines = _mutated(
    {"custom_id": "r-1", "result": {"type": "succeeded", "message": {
        "model": "claude-haiku-4-5", "usage": {"input_tokens": 1, "output_tokens": 1,
        "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0,
        "cache_creation": {"ephemeral_1h_input_tokens": 0}}}}},
    ["input_tokens", "output_tokens", "cache_read_input_tokens",
     "cache_creation_input_tokens", "ephemeral_1h_input_tokens"],
)  # fmt: skip


@settings(max_examples=1500, deadline=None)
@given(_openai_lines)
def test_a_plain_success_is_what_outcome_and_usage_give(obj: dict[str, Any]) -> None:
    from costcalc.batch.formats import line_format
    from costcalc.errors import CostcalcError

    fmt = line_format("openai")
    plain = fmt.plain_success(obj)
    if plain is None:
        return  # the long way reads it
    outcome, used, model = fmt.outcome(obj, "f:1")
    assert (outcome, model) == ("succeeded", plain[1])
    assert used is not None
    try:
        assert fmt.usage(used, "f:1") == plain[0]
    except CostcalcError as exc:  # the quick way must not pass what the long way refuses
        raise AssertionError(f"the long way refuses {obj}: {exc}") from None


def test_a_format_whose_lines_are_told_apart_by_more_than_keys_is_asked_each_time() -> None:
    from costcalc.batch import formats
    from costcalc.batch.formats.openai import OpenAILines

    class Tagged(OpenAILines):
        """OpenAI's results whose id starts "t-", read as expired: a format whose lines
        differ from OpenAI's by a value, not by their keys."""

        name = "tagged"

        def is_result(self, obj: Any) -> bool:
            return str(obj.get("custom_id")).startswith("t-")

        def keys_decide(self, keys: tuple[str, ...]) -> bool:
            return False

        def outcome(self, obj: Any, where: str) -> Any:
            return "expired", None, None

    formats.register(Tagged())
    try:
        ok = {"custom_id": "a", "error": None, "response": {"status_code": 200, "body": {
            "model": "gpt-4o-mini", "usage": {"prompt_tokens": 10, "completion_tokens": 1}}}}  # fmt: skip
        tagged = {**ok, "custom_id": "t-b"}  # the same keys, and of the usual shape
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "out.jsonl"
            path.write_text(json.dumps(ok) + "\n" + json.dumps(tagged) + "\n")
            result = reconcile([str(path)], table=TABLE, as_of="2026-04-01")
        assert result.outcomes["succeeded"] == 1 and result.outcomes["expired"] == 1
    finally:
        formats.unregister("tagged")


@settings(max_examples=1500, deadline=None)
@given(_anthropic_lines)
def test_a_plain_claude_success_is_what_outcome_and_usage_give(obj: dict[str, Any]) -> None:
    from costcalc.batch.formats import line_format
    from costcalc.errors import CostcalcError

    fmt = line_format("anthropic")
    plain = fmt.plain_success(obj)
    if plain is None:
        return
    outcome, used, model = fmt.outcome(obj, "f:1")
    assert (outcome, model) == ("succeeded", plain[1])
    assert used is not None
    try:
        assert fmt.usage(used, "f:1") == plain[0]
    except CostcalcError as exc:
        raise AssertionError(f"the long way refuses {obj}: {exc}") from None
