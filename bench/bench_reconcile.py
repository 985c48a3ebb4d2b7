"""costcalc batch reconcile against a raw json.loads loop adding up the same usage fields.

Data (made here, cached under bench/data/reconcile/, git-ignored): OpenAI batch result lines
(``response.body.usage`` with prompt/completion/cached tokens; 3% errored, 1% expired) for
gpt-4o-mini, and the uploaded request lines they answer (short chat messages). Anthropic
result lines (claude-haiku-4-5, cache reads and writes) are a second result file.

Each measurement alternates the two sides (costcalc, then the baseline; the next round the
baseline first) for N rounds; the ratio of a round is baseline time / costcalc time (speed of
costcalc over speed of the baseline: >= 1 is as fast), reported as the median of the rounds with
min and max. Never best-of.

Baselines never import costcalc: "raw loop" reads the result file with ``json.loads`` line by
line, tallies the outcomes, adds up the usage fields and keeps the set of custom_ids (the
duplicate check costcalc makes); with ``--input`` it also reads the uploaded file with
``json.loads``, keeps its ids and counts its messages' text with raw tiktoken, built from the
shipped o200k_base file by tiktoken's own loader (pattern copied literally below).

Memory is ru_maxrss of the command (wait4 by a middleman, bench/_measure.py): reconcile is one
process with no children, so this is the whole process tree. The floor printed is the start-up
of ``costcalc --version`` and a bare ``python -c pass``.

``--memory-sizes 3000000 10000000`` adds, for each size, costcalc's peak RSS alone (openai
results, without and with ``--input``; one run each, no baseline, no speed verdict): memory
must stay flat as the files grow (ids beyond 65,536 are spilled to a temporary file).

    python bench/bench_reconcile.py [--rounds 5] [--quick] [--report FILE]
        [--memory-sizes N ...]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import finish, machine, run

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data" / "reconcile"
ENCODING_FILE = ROOT / "costcalc" / "encodings" / "o200k_base.tiktoken"
PY = sys.executable
COSTCALC = str(Path(sys.executable).with_name("costcalc"))

WORDS = [
    "the",
    "a",
    "printer",
    "is",
    "on",
    "fire",
    "please",
    "summarise",
    "this",
    "ticket",
    "about",
    "billing",
    "refund",
]


def make_data(lines: int) -> dict[str, Path]:
    """Result files (openai, anthropic) and the uploaded openai file for ``lines`` requests,
    made once (same seed, same bytes)."""
    DATA.mkdir(parents=True, exist_ok=True)
    paths = {
        "openai": DATA / f"openai-results-{lines}.jsonl",
        "anthropic": DATA / f"anthropic-results-{lines}.jsonl",
        "input": DATA / f"openai-input-{lines}.jsonl",
    }
    if all(p.exists() for p in paths.values()):
        return paths
    rng = random.Random(lines)
    dumps = json.dumps
    with (
        open(str(paths["openai"]) + ".tmp", "w") as oa,
        open(str(paths["anthropic"]) + ".tmp", "w") as an,
        open(str(paths["input"]) + ".tmp", "w") as inp,
    ):
        for i in range(lines):
            cid = f"req-{i:08d}"
            words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 30)))
            body = {"model": "gpt-4o-mini", "max_tokens": 200,
                    "messages": [{"role": "user", "content": words}]}  # fmt: skip
            request = {"custom_id": cid, "method": "POST", "url": "/v1/chat/completions"}
            inp.write(dumps({**request, "body": body}) + "\n")
            roll = rng.random()
            prompt = rng.randint(20, 4000)
            out = rng.randint(1, 200)
            if roll < 0.03:
                oa.write(dumps({"id": f"b{i}", "custom_id": cid, "response": None, "error": {
                    "code": "server_error", "message": "x"}}) + "\n")  # fmt: skip
                an.write(dumps({"custom_id": cid, "result": {"type": "errored", "error": {
                    "type": "invalid_request"}}}) + "\n")  # fmt: skip
            elif roll < 0.04:
                oa.write(dumps({"id": f"b{i}", "custom_id": cid, "response": None, "error": {
                    "code": "batch_expired", "message": "x"}}) + "\n")  # fmt: skip
                an.write(dumps({"custom_id": cid, "result": {"type": "expired"}}) + "\n")
            else:
                cached = rng.choice((0, 0, prompt // 2))
                oa.write(dumps({"id": f"b{i}", "custom_id": cid, "error": None, "response": {
                    "status_code": 200, "request_id": f"r{i}", "body": {
                        "id": f"chatcmpl-{i}", "object": "chat.completion",
                        "model": "gpt-4o-mini-2024-07-18", "usage": {
                            "prompt_tokens": prompt, "completion_tokens": out,
                            "total_tokens": prompt + out,
                            "prompt_tokens_details": {"cached_tokens": cached},
                }}}}) + "\n")  # fmt: skip
                write = rng.choice((0, 0, 0, rng.randint(1, 2000)))
                an.write(dumps({"custom_id": cid, "result": {"type": "succeeded", "message": {
                    "id": f"msg_{i}", "type": "message", "role": "assistant",
                    "model": "claude-haiku-4-5", "content": [{"type": "text", "text": "ok"}],
                    "usage": {"input_tokens": prompt, "output_tokens": out,
                              "cache_read_input_tokens": rng.choice((0, prompt)),
                              "cache_creation_input_tokens": write}}}}) + "\n")  # fmt: skip
    for p in paths.values():
        Path(str(p) + ".tmp").replace(p)
    return paths


# The baseline, run as `python -c RAW result.jsonl [input.jsonl]`: no costcalc.
RAW = r"""
import json, sys
loads = json.loads
outcomes = {}
usage = [0, 0, 0, 0, 0]
seen = set()
with open(sys.argv[1], "rb") as f:
    for raw in f:
        if not raw.strip():
            continue
        o = loads(raw)
        seen.add(o["custom_id"])
        if "result" in o:  # anthropic
            r = o["result"]
            kind = r["type"]
            outcomes[kind] = outcomes.get(kind, 0) + 1
            if kind == "succeeded":
                u = r["message"]["usage"]
                usage[0] += u.get("input_tokens") or 0
                usage[1] += u.get("cache_read_input_tokens") or 0
                usage[2] += u.get("cache_creation_input_tokens") or 0
                usage[4] += u.get("output_tokens") or 0
        elif o.get("error"):
            outcomes["errored"] = outcomes.get("errored", 0) + 1
        else:
            outcomes["succeeded"] = outcomes.get("succeeded", 0) + 1
            u = o["response"]["body"]["usage"]
            cached = (u.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
            usage[0] += (u.get("prompt_tokens") or 0) - cached
            usage[1] += cached
            usage[4] += u.get("completion_tokens") or 0
tokens = 0
ids = []
if len(sys.argv) > 3:
    import tiktoken
    from tiktoken.load import load_tiktoken_bpe
    enc = tiktoken.Encoding(
        name="o200k_base",
        pat_str="|".join([
            r'''[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?''',
            r'''[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?''',
            r'''\p{N}{1,3}''', r''' ?[^\s\p{L}\p{N}]+[\r\n/]*''', r'''\s*[\r\n]+''',
            r'''\s+(?!\S)''', r'''\s+''']),
        mergeable_ranks=load_tiktoken_bpe(sys.argv[3]),
        special_tokens={"<|endoftext|>": 199999, "<|endofprompt|>": 200018},
    )
    encode = enc.encode_ordinary
    with open(sys.argv[2], "rb") as f:
        for raw in f:
            if not raw.strip():
                continue
            o = loads(raw)
            ids.append(o["custom_id"])
            for m in o["body"]["messages"]:
                tokens += len(encode(m["role"])) + len(encode(m["content"])) + 3
            tokens += 3
missing = [c for c in ids if c not in seen]
print(outcomes, usage, tokens, len(missing))
"""


def costcalc_cmd(results: Path, inputs: Path | None) -> list[str]:
    cmd = [COSTCALC, "batch", "reconcile", str(results), "--format", "json"]
    return [*cmd, "--input", str(inputs)] if inputs else cmd


def raw_cmd(results: Path, inputs: Path | None) -> list[str]:
    cmd = [PY, "-c", RAW, str(results)]
    return [*cmd, str(inputs), str(ENCODING_FILE)] if inputs else cmd


def compare(rounds: int, ours: list[str], theirs: list[str]) -> dict[str, float]:
    """Alternating rounds (who goes first alternates): median/min/max of the per-round ratio
    (baseline seconds / costcalc seconds), median times, costcalc's peak RSS."""
    ratios, mine, base, rss, base_rss = [], [], [], [], []
    for i in range(rounds):
        if i % 2 == 0:
            a, b = run(ours), run(theirs)
        else:
            b, a = run(theirs), run(ours)
        ratios.append(b.seconds / a.seconds)
        mine.append(a.seconds)
        base.append(b.seconds)
        rss.append(a.rss_mib)
        base_rss.append(b.rss_mib)
    return {
        "ratio": statistics.median(ratios), "min": min(ratios), "max": max(ratios),
        "costcalc_s": statistics.median(mine), "baseline_s": statistics.median(base),
        "rss": max(rss), "baseline_rss": max(base_rss),
    }  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--rounds", type=int, default=5, help="alternating rounds (5)")
    ap.add_argument("--quick", action="store_true", help="20,000 lines, 2 rounds: a smoke test")
    ap.add_argument("--no-input", action="store_true", help="skip the --input runs")
    ap.add_argument("--report", metavar="FILE", help="also write the result rows as JSON")
    ap.add_argument(
        "--memory-sizes", type=int, nargs="*", default=[], metavar="N",
        help="also costcalc's peak RSS alone at these sizes (flat memory), e.g. 3000000",
    )  # fmt: skip
    args = ap.parse_args()
    sizes, rounds = ([20_000], 2) if args.quick else (args.sizes, args.rounds)
    print(machine())
    largest = max(sizes)

    floor = [run([PY, "-c", "pass"]) for _ in range(3)]
    version = [run([COSTCALC, "--version"]) for _ in range(3)]
    print(
        f"floor: python -c pass {statistics.median(r.seconds for r in floor):.3f}s; "
        f"costcalc --version {statistics.median(r.seconds for r in version):.3f}s, "
        f"{max(r.rss_mib for r in version):.1f} MiB"
    )
    rows = []
    head = f"{'lines':>9} {'case':22} {'costcalc':>9} {'raw loop':>9} {'ratio (min-max)':>20} "
    print(head + f"{'RSS':>9} {'raw RSS':>9}")
    cases = [("openai", False), ("anthropic", False)]
    if not args.no_input:
        cases.append(("openai", True))
    for lines in sizes:
        paths = make_data(lines)
        for kind, with_input in cases:
            inputs = paths["input"] if with_input else None
            r = compare(rounds, costcalc_cmd(paths[kind], inputs), raw_cmd(paths[kind], inputs))
            case = f"{kind}{' + --input' if with_input else ''}"
            print(
                f"{lines:>9,} {case:22} {r['costcalc_s']:>8.2f}s {r['baseline_s']:>8.2f}s "
                f"{r['ratio']:>6.2f}x ({r['min']:.2f}-{r['max']:.2f}) "
                f"{r['rss']:>5.0f} MiB {r['baseline_rss']:>5.0f} MiB"
            )
            label = f"reconcile {lines:,} {case} lines"
            speed_target = lines == largest and not with_input
            rows.append({
                "bench": "bench_reconcile.py",
                "metric": f"{label}: speed vs raw json loop"
                + (" (+ raw tiktoken)" if with_input else ""),
                "costcalc": f"{r['costcalc_s']:.2f} s", "baseline": f"{r['baseline_s']:.2f} s",
                "ratio": round(r["ratio"], 3), "min": round(r["min"], 3),
                "max": round(r["max"], 3),
                "target": ">= 0.70x" if speed_target else "scaling (no target)",
                "met": r["ratio"] >= 0.7 if speed_target else True,
            })  # fmt: skip
            rows.append({
                "bench": "bench_reconcile.py", "metric": f"{label}: peak RSS",
                "costcalc": f"{r['rss']:.1f} MiB", "baseline": f"{r['baseline_rss']:.1f} MiB",
                "ratio": None, "min": None, "max": None, "target": "<= 150 MiB",
                "met": r["rss"] <= 150,
            })  # fmt: skip
    for lines in [] if args.quick else args.memory_sizes:
        paths = make_data(lines)
        for with_input in (False, True):
            inputs = paths["input"] if with_input else None
            r1 = run(costcalc_cmd(paths["openai"], inputs))
            case = f"openai{' + --input' if with_input else ''}"
            print(f"{lines:>9,} {case:22} {r1.seconds:>8.2f}s {'(memory only)':>31} "
                  f"{r1.rss_mib:>5.0f} MiB")  # fmt: skip
            rows.append({
                "bench": "bench_reconcile.py",
                "metric": f"reconcile {lines:,} {case} lines: peak RSS (memory only)",
                "costcalc": f"{r1.rss_mib:.1f} MiB", "baseline": "-", "ratio": None,
                "min": None, "max": None, "target": "<= 150 MiB", "met": r1.rss_mib <= 150,
            })  # fmt: skip
    finish("bench_reconcile.py", rows, args.report)  # the table, and the rows as JSON


if __name__ == "__main__":
    main()
