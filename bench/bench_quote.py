"""Start-up benchmark: `costcalc quote` end to end against `genai-prices -p calc`.

Both commands price the same model and tokens (gpt-4o, 1,000 input and 200 output tokens);
runs alternate in one session so both see the same machine load, and the script prints
median wall times side by side and their ratio (target: costcalc <= 0.6x genai-prices).

genai-prices is installed only into this benchmark's own venv (bench/.venv-genai-prices,
git-ignored), created on the first run from the package index. costcalc is the one
installed next to the Python running this script.

    python bench/bench_quote.py [--runs 30]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
GENAI_VENV = HERE / ".venv-genai-prices"


def genai_prices_command() -> list[str]:
    exe = GENAI_VENV / "bin" / "genai-prices"
    if not exe.exists():
        print(f"creating {GENAI_VENV} with genai-prices[cli] ...", file=sys.stderr)
        venv.EnvBuilder(with_pip=True, clear=True).create(GENAI_VENV)
        subprocess.run(
            [str(GENAI_VENV / "bin" / "python"), "-m", "pip", "install", "-q", "genai-prices[cli]"],
            check=True,
        )
    return [str(exe), "-p", "calc", "-i", "1000", "-o", "200", "gpt-4o"]


def costcalc_command() -> list[str]:
    exe = Path(sys.executable).parent / "costcalc"
    found = str(exe) if exe.exists() else shutil.which("costcalc")
    if found is None:
        sys.exit("costcalc is not installed next to this Python; pip install . first")
    return [found, "quote", "-m", "gpt-4o", "-n", "1", "-i", "1000", "-o", "200"]


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=os.environ.copy())
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    ours, theirs = costcalc_command(), genai_prices_command()
    timed(ours), timed(theirs)  # warm the file cache; not counted
    a: list[float] = []
    b: list[float] = []
    for _ in range(args.runs):
        a.append(timed(ours))
        b.append(timed(theirs))
    gp_python = str(GENAI_VENV / "bin" / "python")
    version = subprocess.run(
        [gp_python, "-c", "import genai_prices; print(genai_prices.__version__)"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, {args.runs} runs each")
    print(f"{'command':<48} {'median':>9} {'mean':>9} {'min':>9}")
    rows = (
        (" ".join(["costcalc", *ours[1:]]), a),
        (f"genai-prices {version} -p calc -i 1000 -o 200 gpt-4o", b),
    )
    for label, xs in rows:
        med, mean, low = (f(xs) * 1000 for f in (statistics.median, statistics.mean, min))
        print(f"{label:<48} {med:>7.0f}ms {mean:>7.0f}ms {low:>7.0f}ms")
    ratio = statistics.median(a) / statistics.median(b)
    verdict = "met" if ratio <= 0.6 else "NOT met"
    print(f"ratio costcalc / genai-prices (median): {ratio:.2f}x (target <= 0.60x: {verdict})")


if __name__ == "__main__":
    main()
