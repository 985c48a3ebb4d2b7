"""``queue add``'s fast path (a prompt alone, perhaps a custom_id) gives what the general
reader gives: the same custom_id and request text, or the same error, for any task line.

How fast is measured in bench/bench_queue.py; nothing here is timed.
"""

from __future__ import annotations

import io
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from costcalc.batch.formats.anthropic import ANTHROPIC_ID
from costcalc.batch.queueadd import _not_automatic, _request, _to_json, parse_tasks
from costcalc.batch.queuedb import AUTO_ID
from costcalc.errors import UsageError
from costcalc.jsonlines import parse_json, string_object
from costcalc.requests import input_request, plain_prompt

TRICKY = " \t\n\u00a0\u2028\ufeff\u200b\ud800\udc00é\x1cA-_z9"
texts = st.one_of(st.text(alphabet=TRICKY, max_size=6), st.text(max_size=8))
ids = st.one_of(
    st.none(),
    st.sampled_from(["job-1", "task-5", "task-x", "-", "_", "a" * 64, "a" * 65, "", "a b"]),
    st.text(alphabet=TRICKY, max_size=5),
    st.integers(),
)
values = st.one_of(texts, st.integers(), st.none(), st.lists(texts, max_size=2))


@st.composite
def task_objects(draw: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    if (cid := draw(ids)) is not None:
        obj["custom_id"] = cid
    for key in draw(st.lists(st.sampled_from(["prompt", "text", "messages", "system", "x"]))):
        obj[key] = draw(values)
    if draw(st.booleans()):
        obj["prompt"] = draw(texts)
    return obj


def _general(line: str) -> tuple[str | None, str] | str:
    """What the general reader makes of one line: (custom_id, request text) or the error."""
    try:
        cid, request = _request(parse_json(line), "stdin:1")
        _not_automatic(cid, "stdin:1")
    except UsageError as exc:
        return str(exc)
    return cid, _to_json(request)


def _read(line: str) -> tuple[str | None, str] | str:
    try:
        ((_, cid, text),) = parse_tasks([line]).located
    except UsageError as exc:
        return str(exc)
    return cid, text


@settings(max_examples=400, deadline=None)
@given(task_objects())
def test_a_task_line_reads_as_the_general_reader_reads_it(obj: dict[str, Any]) -> None:
    line = json.dumps(obj, ensure_ascii=False)
    tasks = parse_tasks(io.BufferedReader(io.BytesIO(line.encode("utf-8", "surrogatepass"))))
    try:
        got: tuple[str | None, str] | str = next(tasks.located)[1:]
    except UsageError as exc:
        got = str(exc)
    assert got == _general(line)
    escaped = json.dumps(obj)  # surrogates and all non-ASCII as \\u escapes
    tasks = parse_tasks([escaped])
    try:
        got = next(tasks.located)[1:]
    except UsageError as exc:
        got = str(exc)
    assert got == _general(escaped)


@settings(max_examples=300, deadline=None)
@given(task_objects())
def test_plain_prompt_is_the_prompt_input_request_reads(obj: dict[str, Any]) -> None:
    prompt = plain_prompt(obj)
    if prompt is not None:
        sent = input_request(obj)
        assert (sent.prompt, sent.system) == (prompt, None)


@given(
    st.one_of(
        st.text(alphabet="aZ09_-é \n", max_size=66),
        st.sampled_from(["", "a" * 64, "task-12", "task-1x", "Task-1", "ok\n"]),
    )
)
def test_a_custom_id_is_accepted_as_the_pattern_accepts_it(cid: str) -> None:
    accepted = not isinstance(_read(json.dumps({"custom_id": cid, "prompt": "hi"})), str)
    assert accepted == bool(ANTHROPIC_ID.fullmatch(cid) and not AUTO_ID.fullmatch(cid))


ODD_LINES = [
    b'\xef\xbb\xbf{"prompt": "a"}', b'{"prompt": "a\xff"}', b'{"prompt": "\\ud800"}',
    b'\x00{\x00"', b'{"prompt": "a", "prompt": 1}', b'{"prompt": "a"}\x00', b"{}",
    b'{"n": "' + b"9" * 30 + b'"}', b'{"prompt": "x", "n": ' + b"9" * 30 + b"}",
]  # fmt: skip
line_bytes = st.one_of(
    st.builds(
        lambda obj, ascii_only: json.dumps(obj, ensure_ascii=ascii_only).encode(
            "utf-8", "surrogatepass"
        ),
        task_objects(),
        st.booleans(),
    ),
    st.binary(max_size=30),
    st.sampled_from(ODD_LINES),
)


@settings(max_examples=500, deadline=None)
@given(line_bytes)
def test_a_line_of_strings_alone_reads_as_json_loads_reads_it(raw: bytes) -> None:
    fast = string_object(raw)
    if fast is None:  # parse_json reads the line (or says what is wrong with it)
        return
    assert fast == json.loads(raw) == parse_json(raw)
    assert all(type(v) is str for v in fast.values())
