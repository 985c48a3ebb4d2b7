"""The count that merges: tallies of parts of an input add up to the tally of the whole, and
the TokenCount computed from a tally is the one count_file gives."""

from __future__ import annotations

import json
import re
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import costcalc
from costcalc import TokenCount, TokenTally, count_from_tally
from costcalc.billing import request_groups, tier_bounds
from costcalc.tokens.requests import CountSpec, request_refused, request_tokens
from costcalc.tokens.result import SampleInfo
from costcalc.tokens.sample import _estimate


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


# --- the merge law ------------------------------------------------------------------------

LONG_CONTEXT_MODEL = "gemini-2.5-pro"  # prices above 200,000 input tokens differ (a tier)
MODELS = ["gpt-4o", LONG_CONTEXT_MODEL, "claude-sonnet-4-5"]  # exact, estimated, estimated

words = st.sampled_from(["hello", "world", " ", "", "\u00e9t\u00e9", "42", "\n", "\t", "x" * 30])
texts = st.lists(words, max_size=12).map("".join)
requests = st.lists(st.tuples(st.booleans(), texts), max_size=24)
"""(as chat messages?, text): a blank text is a request a provider refuses."""


def _line(chat: bool, text: str) -> str:
    return json.dumps({"messages": [{"role": "user", "content": text}]} if chat else text)


def _write(folder: Path, name: str, items: list[tuple[bool, str]]) -> Path:
    path = folder / name
    path.write_text("".join(_line(*item) + "\n" for item in items), encoding="utf-8")
    return path


def _groups(count: TokenCount) -> tuple[object, ...]:
    prices = costcalc.load_price_table().prices(LONG_CONTEXT_MODEL)
    return request_groups(count.sizes(), tier_bounds(prices), max(count.requests, 1))


def _same_count(a: TokenCount, b: TokenCount) -> None:
    """Equal in everything but the names of what was counted."""
    assert a.model_dump(exclude={"inputs"}) == b.model_dump(exclude={"inputs"})
    assert a.sizes() == b.sizes()
    assert _groups(a) == _groups(b)


@settings(max_examples=40, deadline=None)
@given(items=requests, cut=st.integers(0, 24), model=st.sampled_from(MODELS))
def test_counting_two_files_and_merging_equals_counting_the_whole(
    items: list[tuple[bool, str]], cut: int, model: str
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        whole = _write(folder, "whole.jsonl", items)
        first = _write(folder, "a.jsonl", items[:cut])
        second = _write(folder, "b.jsonl", items[cut:])
        counted = costcalc.count_file(whole, model)
        halves = (
            costcalc.count_file(first, model).tally() + costcalc.count_file(second, model).tally()
        )
        merged = count_from_tally(halves, model)
        _same_count(merged, counted)
        assert merged.inputs == [str(first), str(second)]
        _same_count(costcalc.count_file([first, second], model), counted)
        # built line by line, as an engine that reads the requests itself does
        assert count_from_tally(_tally_of(items, model), model).model_dump(
            exclude={"inputs"}
        ) == counted.model_dump(exclude={"inputs"})


def _tally_of(items: list[tuple[bool, str]], model: str) -> TokenTally:
    tok = costcalc.tokenizer_for(model)
    spec = CountSpec(tok.encoding, tok.overhead, None, "strict")
    tally = TokenTally.empty(tok.encoding)
    for chat, text in items:
        obj = json.loads(_line(chat, text))
        raw, as_chat = request_tokens(obj, spec)
        tally.add(raw, refused=request_refused(obj, spec), chat=as_chat)
    return tally


def test_count_file_equals_the_tally_built_line_by_line(tmp_path: Path) -> None:
    items = [(False, "hello world"), (True, "été 42"), (True, ""), (False, " "), (False, "x")]
    path = _write(tmp_path, "p.jsonl", items)
    counted = costcalc.count_file(path, "gpt-4o")
    tally = _tally_of(items, "gpt-4o")
    assert counted.tally().hist == tally.hist and counted.tally().refused == tally.refused == 2
    assert counted.refused_requests == 2
    tally.inputs = [str(path)]
    assert count_from_tally(tally, "gpt-4o").model_dump() == counted.model_dump()


def test_a_long_request_in_one_half_keeps_the_long_context_split(tmp_path: Path) -> None:
    long_text = "hi " * 200_100  # over gemini-2.5-pro's 200,000-token tier
    items = [(False, "short"), (True, long_text), (False, "also short")]
    whole = costcalc.count_file(_write(tmp_path, "w.jsonl", items), LONG_CONTEXT_MODEL)
    a = costcalc.count_file(_write(tmp_path, "a.jsonl", items[:2]), LONG_CONTEXT_MODEL)
    b = costcalc.count_file(_write(tmp_path, "b.jsonl", items[2:]), LONG_CONTEXT_MODEL)
    merged = count_from_tally(b.tally() + a.tally(), LONG_CONTEXT_MODEL)
    _same_count(merged, whole)
    assert len(_groups(merged)) == 2  # short and long-context requests priced apart


raw_sizes = st.integers(0, 1_200_000)  # past the tier (200,000) and gemini's context
tallies = st.builds(
    lambda sizes, refused, chat, names: _built(sizes, refused, chat, names),
    st.lists(raw_sizes, max_size=30),
    st.lists(st.booleans(), max_size=30),
    st.booleans(),
    st.lists(st.sampled_from(["a", "b", "c"]), max_size=2),
)


def _built(sizes: list[int], refused: list[bool], chat: bool, names: list[str]) -> TokenTally:
    tally = TokenTally.empty("o200k_base", names)
    for i, raw in enumerate(sizes):
        tally.add(raw, refused=i < len(refused) and refused[i], chat=chat)
    return tally


@settings(max_examples=150, deadline=None)
@given(a=tallies, b=tallies, c=tallies)
def test_merge_is_associative_and_commutative(a: TokenTally, b: TokenTally, c: TokenTally) -> None:
    assert (a + b) + c == a + (b + c)
    assert a + b == b + a
    assert a + TokenTally.empty("o200k_base") == a.merge(TokenTally.empty("o200k_base"))
    before = a.to_dict()
    a + b
    assert a.to_dict() == before


@settings(max_examples=150, deadline=None)
@given(
    sizes=st.lists(raw_sizes, max_size=40), cut=st.integers(0, 40), model=st.sampled_from(MODELS)
)
def test_tallies_built_with_add_merge_to_the_whole(sizes: list[int], cut: int, model: str) -> None:
    refused = [s % 7 == 0 for s in sizes]
    whole = _built(sizes, refused, False, ["x"])
    halves = _built(sizes[:cut], refused[:cut], False, ["x"]) + _built(
        sizes[cut:], refused[cut:], False, ["x"]
    )
    assert halves == whole
    merged, counted = count_from_tally(halves, model), count_from_tally(whole, model)
    assert merged.model_dump() == counted.model_dump()
    assert merged.sizes() == counted.sizes() and _groups(merged) == _groups(counted)
    assert counted.requests == len(sizes) and counted.refused_requests == sum(refused)
    limit = counted.context_limit
    assert limit is not None
    assert counted.over_context == sum(
        1 for v, c in counted.sizes().items() for _ in range(c) if v > limit
    )


@settings(max_examples=100, deadline=None)
@given(tally=tallies)
def test_to_dict_from_dict_round_trips_any_tally(tally: TokenTally) -> None:
    assert TokenTally.from_dict(json.loads(json.dumps(tally.to_dict()))) == tally


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "a tally must be a mapping, got list"),
        ({"hist": []}, "encoding: expected an encoding name, got None"),
        ({"encoding": "o200k_base", "hist": [[1, -2]]}, "hist[0][1]: expected a whole number"),
        ({"encoding": "o200k_base", "hist": [[1.5, 2]]}, "hist[0][0]: expected a whole number"),
        ({"encoding": "o200k_base", "hist": [[1]]}, "hist[0]: expected [raw_tokens, requests]"),
        ({"encoding": "o200k_base", "hist": 3}, "hist: expected [raw_tokens, requests] pairs"),
        ({"encoding": "o200k_base", "refused": True}, "refused: expected a whole number"),
        ({"encoding": "o200k_base", "chat": "yes"}, "chat: expected true or false"),
        ({"encoding": "o200k_base", "inputs": "a"}, "inputs: expected a list of names"),
        ({"encoding": "o200k_base", "tokens": 3}, "tokens: unknown field of a tally"),
        # more refused than counted, an encoding costcalc does not ship (a hostile trial)
        (
            {"encoding": "o200k_base", "hist": [[3, 50]], "refused": 10**6},
            "refused: 1,000,000 refused of 50",
        ),
        ({"encoding": "nope_enc"}, "encoding: unknown encoding 'nope_enc'; costcalc ships"),
    ],
)
def test_from_dict_names_what_is_wrong(data: object, message: str) -> None:
    with pytest.raises(costcalc.CostcalcError) as info:
        TokenTally.from_dict(data)  # type: ignore[arg-type]
    assert message in str(info.value)


def test_sum_of_tallies_and_an_unknown_encoding() -> None:
    a, b = TokenTally.empty("o200k_base"), TokenTally.empty("o200k_base")
    a.add(5)
    b.add(7, refused=True)
    total = sum([a, b])
    assert isinstance(total, TokenTally) and total.hist == {5: 1, 7: 1} and total.refused == 1
    with pytest.raises(costcalc.CostcalcError, match="unknown encoding 'nope_enc'"):
        TokenTally.empty("nope_enc")


def test_count_file_refuses_a_seed_without_a_sample_or_below_zero(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("hello\n")
    with pytest.raises(costcalc.CostcalcError, match="seed applies to sample only"):
        costcalc.count_file(path, seed=3)
    with pytest.raises(costcalc.CostcalcError, match="seed must be 0 or more, got -1"):
        costcalc.count_file(path, sample=5, seed=-1)


def test_from_dict_takes_a_json_object_histogram() -> None:
    tally = TokenTally.from_dict({"encoding": "o200k_base", "hist": {"12": 3, "0": 0}})
    assert tally.hist == Counter({12: 3}) and tally.requests == 3 and tally.raw_tokens == 36


def test_add_refuses_what_is_not_a_token_count() -> None:
    tally = TokenTally.empty("o200k_base")
    with pytest.raises(costcalc.CostcalcError, match="raw_tokens must be 0 or more, got -1"):
        tally.add(-1)
    with pytest.raises(TypeError, match=r"Tally\.add: raw_tokens must be a whole number"):
        tally.add(True)


def test_a_tally_counts_only_for_a_model_of_its_encoding() -> None:
    tally = TokenTally.empty("o200k_base")
    tally.add(5)
    with pytest.raises(costcalc.CostcalcError, match="gpt-4 counts in cl100k_base"):
        count_from_tally(tally, "gpt-4")


def test_a_sample_has_no_tally(tmp_path: Path) -> None:
    path = _write(tmp_path, "p.jsonl", [(False, f"request {i}") for i in range(50)])
    with pytest.raises(costcalc.CostcalcError, match="has no tally"):
        costcalc.count_file(path, "gpt-4o", sample=10, seed=1).tally()


@settings(max_examples=100, deadline=None)
@given(
    values=st.lists(st.one_of(st.none(), st.integers(0, 3000)), min_size=1, max_size=40),
    extra=st.integers(1, 10_000),
    model=st.sampled_from(MODELS),
)
def test_an_estimate_from_a_sample_tally_is_the_samples_estimate(
    values: list[int | None], extra: int, model: str
) -> None:
    """``count_from_tally(sample=...)`` gives what the sampler's own estimate gives (None: a
    blank line drawn, 0 tokens and no request)."""
    tok = costcalc.tokenizer_for(model)
    population = len(values) + extra
    expected = _estimate(tok, values, population, 7, ["p"], [])
    tally = TokenTally.empty(tok.encoding, ["p"])
    for v in values:
        if v is not None:
            tally.add(v)
    info = SampleInfo(size=len(values), population=population, seed=7)
    got = count_from_tally(tally, model, sample=info)
    assert got.model_dump() == expected.model_dump()
    assert got.sizes() == expected.sizes()


README = Path(__file__).resolve().parent.parent / "README.md"


def test_the_readme_example_prints_what_it_says(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The "Counts that merge" example is run; each `# -> ` line is what the print above says."""
    match = re.search(r"### Counts that merge.*?```python\n(.*?)```", README.read_text(), re.S)
    assert match is not None
    code = match.group(1)
    monkeypatch.chdir(README.parent)
    exec(compile(code, "README.md", "exec"), {})  # our own README
    expected = [line[5:] for line in code.splitlines() if line.startswith("# -> ")]
    assert capsys.readouterr().out.splitlines() == expected


def test_worker_processes_give_the_same_tally(tmp_path: Path) -> None:
    """--jobs counts blocks in worker processes, each a tally, merged in the parent."""
    items = [(i % 3 == 0, "hello world " * (i % 17)) for i in range(400)]
    path = _write(tmp_path, "p.jsonl", items)
    one = costcalc.count_file(path, "gpt-4o")
    two = costcalc.count_file(path, "gpt-4o", jobs=2)
    assert two.tally() == one.tally() and two.model_dump() == one.model_dump()
    assert costcalc.count_string("hello", "gpt-4o").tally().hist == Counter({1: 1})


def test_parquet_halves_merge_to_the_whole(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    texts = [f"prompt number {i} " * (i % 9) for i in range(300)]
    for name, rows in (("whole", texts), ("a", texts[:120]), ("b", texts[120:])):
        pq.write_table(pa.table({"text": rows}), tmp_path / f"{name}.parquet", row_group_size=50)
    whole = costcalc.count_file(tmp_path / "whole.parquet", "gpt-4o", column="text")
    halves = [costcalc.count_file(tmp_path / f"{n}.parquet", "gpt-4o", column="text") for n in "ab"]
    _same_count(count_from_tally(halves[0].tally() + halves[1].tally(), "gpt-4o"), whole)


def test_a_sample_estimate_recomputed_by_hand() -> None:
    """Four requests drawn from ten (one blank): 10, 20, 0, 30 tokens.

    mean 60 / 4 = 15, total 15 x 10 = 150; requests 10 x 3/4 = 7.5, rounded half to even: 8.
    variance ((10-15)^2 + (20-15)^2 + (0-15)^2 + (30-15)^2) / 3 = 500 / 3; standard error
    sqrt(500 / 3 / 4) = 6.455; finite-population correction sqrt(6 / 9) = 0.8165; t(3) = 3.182:
    half-width 3.182 x 6.455 x 0.8165 x 10 = 167.7, so the interval is [150 - 167.7 (but at
    least the 60 tokens seen), 150 + 167.7] = [60, 318]."""
    tally = TokenTally.empty("o200k_base", ["p"])
    for v in (10, 20, 30):
        tally.add(v)
    got = count_from_tally(tally, "gpt-4o", sample=SampleInfo(size=4, population=10, seed=1))
    assert (got.tokens, got.requests) == (150, 8)
    assert got.interval is not None
    assert (got.interval.low, got.interval.high) == (60, 318)
