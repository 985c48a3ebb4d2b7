"""Edges of `costcalc audit` a hostile tester found: long stream names, files that start with
much whitespace, repeated spans, partial days, duplicated fields, records over a model's
context window, notes in every format, retired models, the config path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import costcalc
from costcalc.audit.records import UsageRecord
from tests.conftest import RunCli

T0 = 1_767_614_400.0  # 2026-01-05 12:00 UTC


def rec(service: str, t: float, *, i: int = 1000, o: int = 200, model: str = "gpt-4o",
        tier: str | None = None) -> UsageRecord:  # fmt: skip
    return UsageRecord("t.jsonl", 1, "otlp", t, t + 2.0, "openai", model, 1, i, 0, 0, o,
                       False, False, tier, {"service": service})  # fmt: skip


def attr(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": value}}


def span(t: float = T0, *, span_id: str = "00f067aa0ba902b7", extra: tuple[Any, ...] = (),
         **attrs: Any) -> dict[str, Any]:  # fmt: skip
    base = {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o",
            "gen_ai.usage.input_tokens": 1000, "gen_ai.usage.output_tokens": 200}  # fmt: skip
    base.update(attrs)
    return {"traceId": "4bf92f3577b34da6a3ce929d0e0e4736", "spanId": span_id, "name": "chat",
            "startTimeUnixNano": str(int(t * 1e9)), "endTimeUnixNano": str(int((t + 2) * 1e9)),
            "attributes": [attr(k, v) for k, v in base.items()] + list(extra)}  # fmt: skip


def otlp_line(spans: list[dict[str, Any]], service: str = "web") -> str:
    return json.dumps({"resourceSpans": [{
        "resource": {"attributes": [attr("service.name", service)]},
        "scopeSpans": [{"scope": {"name": "s"}, "spans": spans}]}]})  # fmt: skip


# --- 1. long stream names ------------------------------------------------------------------


def test_a_long_stream_name_is_cut_stably_and_uniquely() -> None:
    records = [rec("a" * 300 + end, T0) for end in "bc"] + [rec("a" * 190, T0)]
    report = costcalc.audit(records)
    names = [s.name for s in report.streams]
    assert all(len(n) <= 200 for n in names) and len(set(names)) == 3
    assert {s.key for s in report.streams} == {"a" * 300 + "b", "a" * 300 + "c", "a" * 190}
    assert names == [s.name for s in costcalc.audit(records).streams]  # stable
    assert all(n.endswith(" (gpt-4o)") for n in names)
    assert "workloads:" in report.config_text()


def test_cli_long_service_route_and_user_audit(run_cli: RunCli, tmp_path: Path) -> None:
    path = tmp_path / "route.jsonl"
    one = span(**{"url.path": "/" + "p" * 150, "enduser.id": "u" * 120})
    path.write_text(otlp_line([one], service="s" * 190) + "\n")
    out = run_cli("audit", str(path), "--group-by", "service,route,user", "--format", "json",
                  "--write-config", str(tmp_path / "c.yaml"))  # fmt: skip
    assert out.exit_code == 0, out.stderr
    (stream,) = json.loads(out.stdout)["streams"]
    assert len(stream["name"]) <= 200 and stream["key"].startswith("s" * 190 + "/")
