"""``request_count`` reads a request once for what ``request_tokens`` and ``request_refused``
say of it, and the counters' fast reading (orjson, no look for lone surrogates) changes no
count or refusal."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from costcalc.jsonlines import parse_json, plain_object
from costcalc.tokens import encodings
from costcalc.tokens.count import tokenizer_for
from costcalc.tokens.requests import CountSpec, request_count, request_refused, request_tokens

TOK = tokenizer_for("gpt-4o", None)
SPEC = CountSpec(TOK.encoding, TOK.overhead, None, "strict")

texts = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", " ", "\u200b", "\ud800", "a\udc80b", "\ud83d\ude00", "héllo", "日本"]),
)
messages = st.lists(
    st.fixed_dictionaries(
        {"role": st.sampled_from(["user", "system", "assistant", "tool", "Zé"]), "content": texts}
    ),
    max_size=4,
)
requests = st.one_of(
    texts,
    st.builds(lambda m: {"messages": m}, messages),
    st.builds(lambda p: {"prompt": p}, texts),
    st.builds(lambda m: {"custom_id": "a", "body": {"model": "gpt-4o", "messages": m}}, messages),
)


@settings(max_examples=300, deadline=None)
@given(obj=requests)
def test_request_count_is_request_tokens_and_request_refused(obj: object) -> None:
    try:
        expected = (*request_tokens(obj, SPEC), request_refused(obj, SPEC))
    except Exception as exc:  # the same refusal, raised the same way
        try:
            request_count(obj, SPEC)
        except Exception as again:
            assert type(again) is type(exc) and str(again) == str(exc)
            return
        raise AssertionError(f"request_count took what request_tokens refused: {exc}") from None
    assert request_count(obj, SPEC) == expected


@settings(max_examples=300, deadline=None)
@given(obj=requests)
def test_a_line_orjson_reads_counts_and_refuses_as_parse_json_reads_it(obj: object) -> None:
    raw = json.dumps(obj).encode()  # lone surrogates written as escapes, as JSON does
    fast = plain_object(raw)
    if fast is None:  # orjson refused it (a lone surrogate): the slow way is the only way
        return
    slow = parse_json(raw.decode())
    assert fast == slow
    try:
        expected = request_count(slow, SPEC)
    except Exception:
        return
    assert request_count(fast, SPEC, surrogates=False) == expected


def test_role_names_are_kept_once_each_and_no_more_than_the_cap() -> None:
    encoding = TOK.encoding
    encodings._ROLE_TOKENS.pop(encoding, None)
    overhead = TOK.overhead
    for i in range(encodings.MAX_ROLES_KEPT + 50):
        role = f"role number {i} with several words"
        counted = encodings.message_tokens_raw(encoding, [{"role": role, "content": "x"}], overhead)
        raw = encodings.count_raw(encoding, role) + encodings.count_raw(encoding, "x")
        assert counted == raw + overhead.per_message + overhead.reply
    assert len(encodings._ROLE_TOKENS[encoding]) == encodings.MAX_ROLES_KEPT
