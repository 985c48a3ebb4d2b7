"""Reconcile and validate compare custom_ids exactly whether they are held in memory or spilled
to disk in hash buckets, and whatever the hash does: a hash that puts every id in one bucket
(or several ids in the same) must neither hide nor invent a repeat, a missing or an unexpected
id, and reports stay in the order the lines were read."""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from costcalc.batch import idstore
from costcalc.batch.idstore import IdStore, compare, first_repeat, repeats
from costcalc.batch.reconcile import reconcile
from costcalc.batch.validate import validate_files
from costcalc.errors import CostcalcError

# (buffer, buckets, hash): in memory; spilled often; every id colliding; many colliding
SETTINGS = {
    "memory": (idstore.BUFFER, idstore.BUCKETS, idstore.ID_HASH),
    "spilled": (2, 4, hash),
    "one-bucket": (3, 2, lambda s: 0),
    "by-length": (1, 8, len),
}


@contextlib.contextmanager
def store_settings(name: str) -> Iterator[None]:
    buffer, buckets, hash_id = SETTINGS[name]
    with (
        mock.patch.object(idstore, "BUFFER", buffer),
        mock.patch.object(idstore, "BUCKETS", buckets),
        mock.patch.object(idstore, "ID_HASH", hash_id),
    ):
        yield


def naive_repeats(ids: list[str]) -> list[tuple[int, str, int]]:
    first: dict[str, int] = {}
    out = []
    for at, cid in enumerate(ids):
        if cid in first:
            out.append((at, cid, first[cid]))
        else:
            first[cid] = at
    return out


few_ids = st.lists(st.sampled_from(["a", "b", "ab", "ba", "", "\ud800", "a\nb", "é"]), max_size=30)


@pytest.mark.parametrize("name", SETTINGS)
@settings(max_examples=40, deadline=None)
@given(uploaded=few_ids, results=few_ids)
def test_the_store_finds_what_a_set_finds(
    name: str, uploaded: list[str], results: list[str]
) -> None:
    with store_settings(name), IdStore() as up, IdStore() as res:
        for at, cid in enumerate(uploaded):
            up.add(cid, at)
        for at, cid in enumerate(results):
            res.add(cid, at)
        assert sorted(repeats(up)) == naive_repeats(uploaded)
        assert first_repeat(res) == min(naive_repeats(results), default=None)
        assert len(up) == len(uploaded)
        missing, unexpected = compare(up, res)
        assert sorted(missing) == [(at, c) for at, c in enumerate(uploaded) if c not in results]
        assert sorted(unexpected) == sorted(set(results) - set(uploaded))


def openai_result(cid: str) -> str:
    return json.dumps({"custom_id": cid, "error": None, "response": {"status_code": 200,
        "body": {"model": "gpt-4o-mini", "usage": {"prompt_tokens": 10,
        "completion_tokens": 2}}}})  # fmt: skip


def openai_request(cid: str, **extra: object) -> str:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    return json.dumps({"custom_id": cid, "method": "POST", "url": "/v1/chat/completions",
        "body": body, **extra})  # fmt: skip


def write(path: Path, *lines: str) -> str:
    path.write_text("".join(line + "\n" for line in lines))
    return str(path)


@pytest.mark.parametrize("name", SETTINGS)
def test_reconcile_reports_the_same_ids_however_they_are_kept(tmp_path: Path, name: str) -> None:
    results = write(tmp_path / "r.jsonl", *(openai_result(c) for c in ["x", "a", "b", "ab", "z"]))
    more = write(tmp_path / "s.jsonl", openai_result("ba"))
    inputs = write(tmp_path / "in.jsonl", *(openai_request(c) for c in ["b", "q", "a", "ba", "p"]))
    with store_settings(name):
        got = reconcile([results, more], [inputs])
    assert got.missing == ["q", "p"]  # input order
    assert got.unexpected == ["ab", "x", "z"]
    assert got.input_requests == 5


@pytest.mark.parametrize("name", SETTINGS)
def test_the_first_result_given_twice_is_reported_before_a_later_error(
    tmp_path: Path, name: str
) -> None:
    lines = [openai_result(c) for c in ["a", "b", "ab", "ba", "b", "a"]]
    later = write(tmp_path / "r.jsonl", *lines, "not json")
    earlier = write(tmp_path / "e.jsonl", lines[0], "not json", *lines[1:])
    other = write(tmp_path / "o.jsonl", openai_result("ba"))
    with store_settings(name):
        with pytest.raises(CostcalcError) as exc:
            reconcile([later], model="gpt-4o-mini")
        assert (
            str(exc.value)
            == f"{later}:5: custom_id 'b' has a result already (is a file given twice?)"
        )
        with pytest.raises(CostcalcError, match=r"e\.jsonl:2: invalid JSON"):
            reconcile([earlier], model="gpt-4o-mini")
        with pytest.raises(CostcalcError, match=r"o\.jsonl:1: custom_id 'ba' has a result"):
            reconcile([other, other, str(tmp_path / "absent.jsonl")], model="gpt-4o-mini")
        inputs = write(tmp_path / "in.jsonl", openai_request("q"), openai_request("b"))
        twice = write(tmp_path / "in2.jsonl", openai_request("zz"), openai_request("b"))
        with pytest.raises(CostcalcError) as exc:
            reconcile([other], [inputs, twice])
        assert (
            str(exc.value)
            == f"{twice}:2: custom_id 'b' is in the input twice, first at {inputs}:2 (is a file "
            "given twice?)"
        )


@pytest.mark.parametrize("name", SETTINGS)
def test_validate_puts_each_id_used_again_where_its_line_is_checked(
    tmp_path: Path, name: str
) -> None:
    a = write(
        tmp_path / "a.jsonl",
        openai_request("a"),
        openai_request("a", body=None),
        openai_request("b"),
        openai_request("b", body=None),
        openai_request("ab"),
        openai_request("a"),
    )
    b = write(tmp_path / "b.jsonl", openai_request("ab"), openai_request("ba"))
    with store_settings(name):
        report = validate_files([a, b])
    assert report.files[0].problems == [
        f"{a}:2: custom_id 'a' is also used at {a}:1",
        f"{a}:2: body is missing or not an object",
        f"{a}:4: custom_id 'b' is also used at {a}:3",
        f"{a}:4: body is missing or not an object",
        f"{a}:6: custom_id 'a' is also used at {a}:1",
    ]
    assert report.files[1].problems == [f"{b}:1: custom_id 'ab' is also used at {a}:5"]
    assert report.problems == 6


def test_spilled_ids_leave_no_file_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The store's file has no name (or loses it at once): nothing is left, even on an error."""
    spill = tmp_path / "tmp"
    spill.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spill))
    lines = [openai_result(str(i)) for i in range(50)]
    results = write(tmp_path / "r.jsonl", *lines, "not json")
    with store_settings("spilled"):
        with pytest.raises(CostcalcError, match="invalid JSON"):
            reconcile([results], model="gpt-4o-mini")
        with IdStore() as store:
            for i in range(10):
                store.add(str(i), i)
            assert store.spilled
            assert list(spill.iterdir()) == []
    assert list(spill.iterdir()) == []


def test_a_temp_folder_that_cannot_be_written_is_the_machine_failing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Simulated (root writes anywhere): the temp folder is a path under a regular file."""
    from costcalc.errors import EnvironmentFailure

    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setattr(tempfile, "tempdir", str(blocker / "tmp"))
    with (
        store_settings("spilled"),
        IdStore() as store,
        pytest.raises(EnvironmentFailure, match="temporary file of custom_ids"),
    ):
        for i in range(3):
            store.add(str(i), i)


def test_an_id_with_a_lone_surrogate_is_written_to_json(tmp_path: Path) -> None:
    """json.loads lets "\\ud800" through; the JSON report refused the whole result (exit 4)."""
    from costcalc.results import to_json

    results = write(tmp_path / "o.jsonl", openai_result("ok"), openai_result("got\udc00"))
    inputs = write(tmp_path / "i.jsonl", openai_request("ok"), openai_request("lost\ud800"))
    got = reconcile([results], [inputs])
    assert got.missing == ["lost\\ud800"] and got.unexpected == ["got\\udc00"]
    assert json.loads(to_json(got))["missing"] == ["lost\\ud800"]
