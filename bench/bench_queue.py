"""Benchmark: `costcalc queue add` against a raw sqlite3 insert loop, and `queue flush` /
`queue status` with a big history against a small one.

Add: both sides read the same JSONL from stdin (one task a line, each with a custom_id, as a
producer that retries writes them), parse each line with ``json.loads``, and insert the same
rows (custom_id, the request as JSON text, a timestamp) in transactions of 10,000, printing
the custom_ids of each committed transaction. The raw loop (``RAW_LOOP`` below, no
``import costcalc``) uses plain ``executemany`` into a table like the queue's (an
AUTOINCREMENT id and a UNIQUE custom_id) with costcalc's settings: ``journal_mode=WAL`` and
``synchronous=FULL`` (a commit is on disk when it returns). costcalc also checks every
request as every command reads one and refuses a queued id with another request.

History: a queue with 1,000,000 flushed tasks and 1,000 pending against one with 1,000
flushed and the same 1,000 pending: ``queue status`` and ``queue flush`` should take the
same time (ratio = time with the small history / time with the big one; >= 0.8x).

The sides alternate for ``--rounds`` rounds (which goes first alternates too); the ratio is
that of speeds, costcalc / baseline, per round: the median with min and max. Memory is the
peak RSS of the whole process tree: each side runs as ``sh -c 'exec ...'`` (the shell
replaced by the one process doing the work) under bench/_measure.py's middleman, whose
``wait4`` gives the ru_maxrss of that process and its waited-for children.

    python bench/bench_queue.py [--quick] [--rounds 5] [--report FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import sqlite3
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import Run, finish, machine, run

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
COSTCALC = str(Path(sys.executable).with_name("costcalc"))
CHUNK = 10_000

RAW_LOOP = r"""
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("PRAGMA journal_mode = WAL")
db.execute("PRAGMA synchronous = FULL")
db.execute("CREATE TABLE IF NOT EXISTS tasks (id INTEGER PRIMARY KEY AUTOINCREMENT, "
           "custom_id TEXT UNIQUE, request TEXT NOT NULL, added_at TEXT NOT NULL)")
out = sys.stdout.write
rows = []
def commit():
    db.execute("BEGIN IMMEDIATE")
    db.executemany("INSERT INTO tasks (custom_id, request, added_at) VALUES (?, ?, ?) "
                   "ON CONFLICT (custom_id) DO NOTHING", rows)
    db.execute("COMMIT")
    out("".join(r[0] + "\n" for r in rows))
    rows.clear()
for line in sys.stdin.buffer:
    obj = json.loads(line)
    cid = obj.pop("custom_id")
    rows.append((cid, json.dumps(obj, ensure_ascii=False), "2026-12-01T00:00:00+00:00"))
    if len(rows) == 10000:
        commit()
if rows:
    commit()
"""


def make_tasks(n: int) -> Path:
    path = DATA / f"queue_tasks_{n}.jsonl"
    if path.exists():
        return path
    DATA.mkdir(exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w") as out:
        for i in range(n):
            prompt = f"Summarise ticket {i}: the export to CSV times out after {i % 97} rows"
            out.write(json.dumps({"custom_id": f"job-{i}", "prompt": prompt}) + "\n")
    tmp.rename(path)
    return path


def shell(cmd: list[str], stdin: Path) -> list[str]:
    line = f"exec {shlex.join(cmd)} < {shlex.quote(str(stdin))} > /dev/null"
    return ["sh", "-c", line]


def fresh(db: Path) -> Path:
    for name in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        name.unlink(missing_ok=True)
    return db


def durable(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def ratios(fast_side: list[float], base_side: list[float]) -> tuple[float, float, float]:
    """Median, min and max of the per-round speed ratios (baseline time / costcalc time)."""
    per_round = [b / c for c, b in zip(fast_side, base_side, strict=True)]
    return statistics.median(per_round), min(per_round), max(per_round)


def add_rounds(n: int, rounds: int, work: Path) -> dict[str, object]:
    tasks = make_tasks(n)
    raw = work / "raw.py"
    raw.write_text(RAW_LOOP)
    sides = {
        "costcalc": lambda: shell(
            [COSTCALC, "queue", "add", "--db", str(fresh(work / "c.db"))], tasks
        ),
        "raw": lambda: shell([sys.executable, str(raw), str(fresh(work / "r.db"))], tasks),
    }
    runs: dict[str, list[Run]] = {"costcalc": [], "raw": []}
    for i in range(rounds):
        order = ["costcalc", "raw"] if i % 2 == 0 else ["raw", "costcalc"]
        for side in order:
            runs[side].append(run(sides[side]()))
    mine = [r.seconds for r in runs["costcalc"]]
    base = [r.seconds for r in runs["raw"]]
    med, lo, hi = ratios(mine, base)
    with sqlite3.connect(work / "c.db") as check:
        assert check.execute("SELECT COUNT(*) FROM tasks").fetchone()[0] == n
    check.close()
    return {
        "n": n,
        "costcalc_s": statistics.median(mine),
        "raw_s": statistics.median(base),
        "ratio": med,
        "min": lo,
        "max": hi,
        "rss": max(r.rss_mib for r in runs["costcalc"]),
        "raw_rss": max(r.rss_mib for r in runs["raw"]),
    }


def history_db(path: Path, flushed: int, pending: int) -> Path:
    """A queue made by costcalc (one task added), then ``flushed`` tasks recorded as one done
    flush and ``pending`` tasks waiting, written straight into its tables (the set-up is not
    measured; a real flush of 1M tasks would write 1M batch lines first)."""
    if path.exists():
        # made by an older costcalc: opened once here, so its upgrade is not timed
        run(
            [
                "sh",
                "-c",
                f"exec {shlex.join([COSTCALC, 'queue', 'status', '--db', str(path)])} > /dev/null",
            ]
        )
        return path
    tmp = path.with_suffix(".tmp")
    for name in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        name.unlink(missing_ok=True)
    run(
        [
            "sh",
            "-c",
            f"exec {shlex.join([COSTCALC, 'queue', 'add', '--db', str(tmp), 'seed'])} > /dev/null",
        ]
    )
    db = sqlite3.connect(tmp, isolation_level=None)
    db.execute("BEGIN")
    db.execute("DELETE FROM tasks")
    db.execute(
        "INSERT INTO flushes (id, started_at, done_at, model, provider, out_dir, max_tokens, "
        "tasks, files, stem) VALUES (1, 't', 't', 'gpt-4o-mini', 'openai', '/nowhere', 1024, ?, "
        "'[]', 'flush-old-000001')",
        (flushed,),
    )
    request = json.dumps({"prompt": "an old task, flushed long ago"})
    db.executemany(
        "INSERT INTO tasks (custom_id, request, added_at, flush_id, flushed) "
        "VALUES (?, ?, 't', 1, 1)",
        ((f"old-{i}", request) for i in range(flushed)),
    )
    db.executemany(
        "INSERT INTO tasks (custom_id, request, added_at) VALUES (?, ?, 't')",
        ((f"new-{i}", json.dumps({"prompt": f"pending task {i}"})) for i in range(pending)),
    )
    columns = {r[1] for r in db.execute("PRAGMA table_info(costcalc_queue)")}
    if "unflushed_from" in columns:  # as the flush that recorded them would have left it
        db.execute(
            "UPDATE costcalc_queue SET unflushed_from = "
            "(SELECT MIN(id) FROM tasks WHERE flushed = 0)"
        )
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    tmp.rename(path)
    return path


def history_rounds(
    big: int, small: int, pending: int, rounds: int, work: Path
) -> list[dict[str, object]]:
    dbs = {
        "big": history_db(DATA / f"queue_history_{big}_{pending}.db", big, pending),
        "small": history_db(DATA / f"queue_history_{small}_{pending}.db", small, pending),
    }
    out = work / "flushed"
    results = []
    for what in ("status", "flush"):
        times: dict[str, list[float]] = {"big": [], "small": []}
        for i in range(rounds):
            order = ["big", "small"] if i % 2 == 0 else ["small", "big"]
            for side in order:
                db = fresh(work / f"{side}.db")
                shutil.copyfile(dbs[side], db)  # a flush changes it: each round from a copy
                # on disk before the clock starts, as a queue's history is: the flush's
                # checkpoint fsyncs the database, which would write the copy's dirty pages
                # (88 MB for the big history) inside the timed run
                durable(db)
                if what == "status":
                    cmd = [COSTCALC, "queue", "status", "--db", str(db), "--format", "json"]
                else:
                    shutil.rmtree(out, ignore_errors=True)
                    out.mkdir()
                    cmd = [
                        COSTCALC,
                        "queue",
                        "flush",
                        "--db",
                        str(db),
                        "--out",
                        str(out),
                        "-m",
                        "gpt-4o-mini",
                    ]
                line = f"exec {shlex.join(cmd)} > /dev/null 2>&1"
                times[side].append(run(["sh", "-c", line]).seconds)
        med, lo, hi = ratios(times["big"], times["small"])
        results.append(
            {
                "what": what,
                "big": statistics.median(times["big"]),
                "small": statistics.median(times["small"]),
                "ratio": med,
                "min": lo,
                "max": hi,
            }
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, 2 rounds")
    parser.add_argument("--rounds", type=int, help="rounds per size (default 5; 2 with --quick)")
    parser.add_argument("--sizes", help="comma-separated task counts (default 10k,100k,1M)")
    parser.add_argument("--report", type=Path, help="also write the result rows to FILE (JSON)")
    parser.add_argument("--only", choices=("add", "history"), help="run one part")
    args = parser.parse_args()
    rounds = args.rounds or (2 if args.quick else 5)
    sizes = [2_000, 20_000] if args.quick else [10_000, 100_000, 1_000_000]
    if args.sizes:
        sizes = [int(s) for s in args.sizes.split(",")]
    big, small, pending = (20_000, 1_000, 1_000) if args.quick else (1_000_000, 1_000, 1_000)
    print(f"{machine()}; SQLite {sqlite3.sqlite_version}")
    floor = min((run([COSTCALC, "--version"]) for _ in range(3)), key=lambda r: r.seconds)
    bare = min((run([sys.executable, "-c", "pass"]) for _ in range(3)), key=lambda r: r.seconds)
    print(
        f"floor: python -c pass {bare.seconds:.3f} s; costcalc --version {floor.seconds:.3f} s, "
        f"{floor.rss_mib:.1f} MiB"
    )
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        print(f"\nqueue add (transactions of {CHUNK:,}; WAL, synchronous=FULL; {rounds} rounds)")
        print(
            f"{'tasks':>10} | {'costcalc':>9} | {'raw loop':>9} | ratio (min-max)    | "
            f"peak RSS costcalc | raw"
        )
        for n in sizes if args.only != "history" else []:
            r = add_rounds(n, rounds, work)
            print(
                f"{n:>10,} | {r['costcalc_s']:>7.2f} s | {r['raw_s']:>7.2f} s | "
                f"{r['ratio']:.2f}x ({r['min']:.2f}-{r['max']:.2f}) | "
                f"{r['rss']:>13.1f} MiB | {r['raw_rss']:.1f} MiB"
            )
            rows.append(
                row(
                    f"queue add {n:,} tasks: speed vs raw sqlite loop",
                    f"{r['costcalc_s']:.2f} s",
                    f"{r['raw_s']:.2f} s",
                    r,
                    ">= 0.90x",
                )
            )
            target = 60.0
            rows.append(
                {
                    "bench": "bench_queue.py",
                    "metric": f"queue add {n:,} tasks: peak RSS",
                    "costcalc": f"{r['rss']:.1f} MiB",
                    "baseline": f"{r['raw_rss']:.1f} MiB",
                    "ratio": None,
                    "min": None,
                    "max": None,
                    "target": f"<= {target:.0f} MiB",
                    "met": float(str(r["rss"])) <= target,
                }
            )
        print(
            f"\nhistory: {big:,} flushed + {pending:,} pending against {small:,} flushed + "
            f"{pending:,} pending ({rounds} rounds; ratio = small-history time / big-history time)"
        )
        history = [] if args.only == "add" else history_rounds(big, small, pending, rounds, work)
        for h in history:
            print(
                f"  queue {h['what']:6} {h['big']:.3f} s (big) vs {h['small']:.3f} s (small): "
                f"{h['ratio']:.2f}x ({h['min']:.2f}-{h['max']:.2f})"
            )
            rows.append(
                row(
                    f"queue {h['what']} with {big:,} flushed: time vs {small:,} flushed",
                    f"{h['big']:.3f} s",
                    f"{h['small']:.3f} s",
                    h,
                    ">= 0.80x",
                )
            )
    finish("bench_queue.py", rows, str(args.report) if args.report else None)


def row(metric: str, mine: str, base: str, r: dict[str, object], target: str) -> dict[str, object]:
    ratio = float(str(r["ratio"]))
    return {
        "bench": "bench_queue.py",
        "metric": metric,
        "costcalc": mine,
        "baseline": base,
        "ratio": round(ratio, 3),
        "min": round(float(str(r["min"])), 3),
        "max": round(float(str(r["max"])), 3),
        "target": target,
        "met": ratio >= float(target.split()[1].rstrip("x")),
    }


if __name__ == "__main__":
    main()
