"""Reading recorded spans for `costcalc audit`: ``read_usage`` over N OTLP spans (JSON lines
as the OpenTelemetry Collector's file exporter writes them) against a raw ``json.loads`` loop
adding up the same usage.

Data (made here, cached under bench/data/audit/, git-ignored): N spans, 10 per export line
(one resource, one scope), of four services; 9 in 10 are GenAI chat spans (model, provider,
input, output and cache-read tokens, stream flag, operation; typed values, ``intValue`` as
strings, times as nanosecond strings), 1 in 10 an HTTP server span with no usage.

Both sides run as processes and sum requests, input, cached and output tokens over the usage
spans (and count the others); they must print the same sums. costcalc's side is the whole
command, `costcalc audit FILE --input-format otlp --format json`: reading, grouping into
streams, pricing each day, each mode's month, routing, the JSON report; its sums are read
from that report. Rounds alternate who goes first; the ratio of a round is baseline seconds
/ costcalc seconds (>= 1: as fast), reported as median, min, max. Memory is the peak RSS of
costcalc's process (bench/_measure.py): it must stay flat.

    python bench/bench_audit.py [--spans 10000000] [--rounds 3] [--quick] [--report FILE]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import finish, machine, result, run

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data" / "audit"
PY = sys.executable
PER_LINE = 10

SPAN = (
    '{{"traceId":"{t:032x}","spanId":"{s:016x}","parentSpanId":"","name":"chat {m}",'
    '"kind":3,"startTimeUnixNano":"{a}","endTimeUnixNano":"{b}","attributes":['
    '{{"key":"gen_ai.operation.name","value":{{"stringValue":"chat"}}}},'
    '{{"key":"gen_ai.provider.name","value":{{"stringValue":"openai"}}}},'
    '{{"key":"gen_ai.request.model","value":{{"stringValue":"{m}"}}}},'
    '{{"key":"gen_ai.response.model","value":{{"stringValue":"{r}"}}}},'
    '{{"key":"gen_ai.request.stream","value":{{"boolValue":{st}}}}},'
    '{{"key":"gen_ai.usage.input_tokens","value":{{"intValue":"{i}"}}}},'
    '{{"key":"gen_ai.usage.output_tokens","value":{{"intValue":"{o}"}}}},'
    '{{"key":"gen_ai.usage.cache_read.input_tokens","value":{{"intValue":"{c}"}}}},'
    '{{"key":"server.address","value":{{"stringValue":"api.openai.com"}}}}],'
    '"status":{{}}}}'
)
HTTP = (
    '{{"traceId":"{t:032x}","spanId":"{s:016x}","parentSpanId":"","name":"POST /chat",'
    '"kind":2,"startTimeUnixNano":"{a}","endTimeUnixNano":"{b}","attributes":['
    '{{"key":"http.route","value":{{"stringValue":"/chat"}}}},'
    '{{"key":"http.request.method","value":{{"stringValue":"POST"}}}},'
    '{{"key":"http.response.status_code","value":{{"intValue":"200"}}}}],"status":{{}}}}'
)
LINE = (
    '{{"resourceSpans":[{{"resource":{{"attributes":['
    '{{"key":"service.name","value":{{"stringValue":"{svc}"}}}},'
    '{{"key":"deployment.environment","value":{{"stringValue":"prod"}}}}]}},'
    '"scopeSpans":[{{"scope":{{"name":"opentelemetry.instrumentation.openai_v2",'
    '"version":"2.1b0"}},"spans":[{spans}]}}]}}]}}\n'
)
SERVICES = ("web-ui", "nightly-report", "webhooks", "search")
SNAPSHOTS = {"gpt-4o": "gpt-4o-2024-08-06", "gpt-4o-mini": "gpt-4o-mini-2024-07-18"}


def make_data(spans: int) -> Path:
    """N spans, made once (same seed, same bytes)."""
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"otlp-{spans}-v2.jsonl"
    if path.exists():
        return path
    rng = random.Random(spans)
    t0 = 1_767_600_000_000_000_000
    tmp = Path(str(path) + ".tmp")
    with tmp.open("w") as out:
        n = 0
        while n < spans:
            svc = SERVICES[rng.randrange(4)]
            batch = []
            for _ in range(min(PER_LINE, spans - n)):
                a = t0 + n * 7_000_000_000
                b = a + rng.randrange(10**8, 10**10)
                if n % 10 == 9:
                    batch.append(HTTP.format(t=n, s=n, a=a, b=b))
                else:
                    i = rng.randrange(100, 4000)
                    m = "gpt-4o-mini" if n % 3 else "gpt-4o"
                    batch.append(SPAN.format(
                        t=n, s=n, a=a, b=b, m=m, r=SNAPSHOTS[m],
                        st="true" if svc == "web-ui" else "false", i=i,
                        o=rng.randrange(1, 500), c=i // 2 if n % 4 == 0 else 0,
                    ))  # fmt: skip
                n += 1
            out.write(LINE.format(svc=svc, spans=",".join(batch)))
    tmp.replace(path)
    return path


# The baseline, run as `python -c RAW spans.jsonl`: no costcalc.
RAW = r"""
import json, sys
loads = json.loads
requests = inp = cached = out = other = 0
with open(sys.argv[1], "rb") as f:
    for raw in f:
        if not raw.strip():
            continue
        for rs in loads(raw)["resourceSpans"]:
            for ss in rs["scopeSpans"]:
                for span in ss["spans"]:
                    a = {kv["key"]: kv["value"] for kv in span["attributes"]}
                    i = a.get("gen_ai.usage.input_tokens")
                    if i is None:
                        other += 1
                        continue
                    requests += 1
                    inp += int(i["intValue"])
                    out += int(a["gen_ai.usage.output_tokens"]["intValue"])
                    c = a.get("gen_ai.usage.cache_read.input_tokens")
                    cached += int(c["intValue"]) if c else 0
print(requests, inp, cached, out, other)
"""

COSTCALC = str(Path(sys.executable).with_name("costcalc"))


def sums_of(report: str) -> str:
    """The baseline's line, from the audit's JSON report."""
    r = json.loads(report)
    cached = sum(s["cached_input_tokens"] for s in r["streams"])
    t = r["totals"]
    sums = (t["requests"], t["input_tokens"], cached, t["output_tokens"], r["skipped_records"])
    return " ".join(map(str, sums))


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--spans", type=int, default=10_000_000, help="spans (10,000,000)")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds (3)")
    ap.add_argument("--quick", action="store_true", help="20,000 spans, 2 rounds: a smoke test")
    ap.add_argument("--report", metavar="FILE", help="also write the result rows as JSON")
    args = ap.parse_args()
    spans, rounds = (20_000, 2) if args.quick else (args.spans, args.rounds)
    print(machine())
    path = make_data(spans)
    mb = path.stat().st_size / 2**20
    print(f"{spans:,} spans, {mb:,.0f} MiB: {path}")
    ours = [COSTCALC, "audit", str(path), "--input-format", "otlp", "--format", "json"]
    theirs = [PY, "-c", RAW, str(path)]
    ratios, mine, base, rss = [], [], [], []
    for i in range(rounds):
        if i % 2 == 0:
            a, b = run(ours), run(theirs)
        else:
            b, a = run(theirs), run(ours)
        if sums_of(a.stdout).split() != b.stdout.split():
            raise SystemExit(f"the sums differ: costcalc {sums_of(a.stdout)}, raw {b.stdout!r}")
        ratios.append(b.seconds / a.seconds)
        mine.append(a.seconds)
        base.append(b.seconds)
        rss.append(a.rss_mib)
        print(
            f"  round {i + 1}: costcalc audit {a.seconds:.2f}s, raw loop {b.seconds:.2f}s, "
            f"ratio {ratios[-1]:.2f}x, RSS {a.rss_mib:.0f} MiB (raw {b.rss_mib:.0f} MiB)"
        )
    label = f"costcalc audit, {spans:,} OTLP spans"
    rows = [
        result("bench_audit.py", f"{label}: speed vs raw json.loads loop",
               f"{statistics.median(mine):.2f} s", f"{statistics.median(base):.2f} s",
               ratios, ">= 0.50x", statistics.median(ratios) >= 0.5),
        result("bench_audit.py", f"{label}: peak RSS", f"{max(rss):.1f} MiB", "-", None,
               "<= 150 MiB", max(rss) <= 150),
    ]  # fmt: skip
    finish("bench_audit.py", rows, args.report)


if __name__ == "__main__":
    main()
