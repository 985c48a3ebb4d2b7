"""Counting on Spark (pyspark local mode) gives exactly the local count of the same texts.

One SparkSession (local[2]) for the module: starting one costs seconds. Skipped, saying why,
where pyspark or Java is absent. The executors must not download an encoding: the tiktoken
cache is an empty folder for the whole module, and stays empty.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pyspark", reason='pyspark is not installed (pip install "costcalc[spark]")')
pytest.importorskip("pyarrow", reason='pyarrow is not installed (pip install "costcalc[spark]")')
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("Java is not installed: Spark needs Java 17", allow_module_level=True)

import costcalc
from costcalc.errors import InputFileError, UsageError
from costcalc.spark import count_dataframe, spark_session
from costcalc.tokens.encodings import get_encoding
from tests.conftest import RunCli, assert_one_line_error

TEXTS: list[str] = [
    "Hello world",
    "",
    "   ",
    "Summarise: the quarterly report shows growth in every region.",
    "naïve café — 東京 🚀 <|endoftext|> special tokens count as text",
    "word " * 2000,
    *(f"row {i}: {'lorem ipsum ' * (i % 17)}" for i in range(200)),
    "x " * 130_000,  # over gpt-4o's context window
]


@pytest.fixture(scope="module")
def tiktoken_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    cache = tmp_path_factory.mktemp("tiktoken-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TIKTOKEN_CACHE_DIR", str(cache))  # the executors inherit it (local mode)
        yield cache
    assert list(cache.iterdir()) == [], "an executor downloaded an encoding"


@pytest.fixture(scope="module")
def spark(tiktoken_cache: Path) -> Iterator[Any]:
    session = spark_session("local[2]")
    yield session
    session.stop()


def _local(tmp_path: Path, texts: list[str], model: str = "gpt-4o") -> costcalc.TokenCount:
    path = tmp_path / "texts.jsonl"
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), "utf-8")
    return costcalc.count_file(path, model)


def _same(a: costcalc.TokenCount, b: costcalc.TokenCount) -> None:
    assert a.model_dump(exclude={"inputs"}) == b.model_dump(exclude={"inputs"})
    assert a.sizes() == b.sizes()
    ta, tb = a.tally(), b.tally()  # the merged partitions' tally is the whole input's
    assert (ta.encoding, ta.hist, ta.chat, ta.refused) == (
        tb.encoding,
        tb.hist,
        tb.chat,
        tb.refused,
    )


def test_a_dataframe_counts_as_the_local_count_and_raw_tiktoken(spark: Any, tmp_path: Path) -> None:
    df = spark.createDataFrame([(t,) for t in TEXTS], "text string").repartition(3)
    count = count_dataframe(df, "text")
    _same(count, _local(tmp_path, TEXTS))
    encode = get_encoding("o200k_base").encode_ordinary
    assert count.tokens == sum(len(encode(t)) for t in TEXTS)
    assert count.requests == len(TEXTS)
    assert count.over_context == 1
    assert count.refused_requests == 2  # the empty and the blank text


@pytest.mark.filterwarnings("ignore:no chat overhead known")
def test_an_estimated_model_and_chat_messages(spark: Any, tmp_path: Path) -> None:
    chats = [
        json.dumps([{"role": "system", "content": "Be brief."}, {"role": "user", "content": t}])
        for t in TEXTS[:20]
    ]
    df = spark.createDataFrame([(c,) for c in chats], "messages string")
    count = count_dataframe(df, "messages", "claude-sonnet-4-5", messages=True)
    path = tmp_path / "chats.jsonl"
    path.write_text("".join(json.dumps({"messages": json.loads(c)}) + "\n" for c in chats))
    _same(count, costcalc.count_file(path, "claude-sonnet-4-5"))
    assert count.estimate


def test_a_parquet_folder_and_the_cli_print_the_local_count(
    spark: Any, tmp_path: Path, run_cli: RunCli
) -> None:
    folder = tmp_path / "prompts"
    rows = [(i, t) for i, t in enumerate(TEXTS)]
    spark.createDataFrame(rows, "id int, text string").repartition(4).write.parquet(str(folder))
    _same(costcalc.count_on_spark(folder, "text"), _local(tmp_path, TEXTS))

    local_file = tmp_path / "texts.jsonl"
    for fmt in ("plain", "json"):
        on_spark = run_cli(
            "tokens", "--engine", "spark", "--master", "local[2]", "--column", "text",
            "--format", fmt, str(folder),
        )  # fmt: skip
        here = run_cli("tokens", "--format", fmt, str(local_file))
        assert on_spark.exit_code == 0, on_spark.stderr
        expected = here.stdout.replace(str(local_file), str(folder))
        assert on_spark.stdout == expected
    # the same folder read on this machine (pyarrow, batch by batch): the same count
    read_here = costcalc.count_file(folder, "gpt-4o", column="text")
    on_spark_count = costcalc.count_on_spark(folder, "text")
    assert read_here.tally() == on_spark_count.tally()
    assert read_here.model_dump(exclude={"inputs"}) == on_spark_count.model_dump(exclude={"inputs"})
    # and a quote from it: the same workload priced from either count, request by request;
    # a request past gpt-4o's window is refused, as --input-file refuses it
    whole = costcalc.Workload(
        model="gpt-4o", requests=on_spark_count.requests,
        input_tokens=Decimal(on_spark_count.tokens) / on_spark_count.requests, output_tokens=100,
    )  # fmt: skip
    with pytest.raises(UsageError, match="input_sizes holds requests of 130,001 input tokens"):
        costcalc.quote(whole, input_sizes=on_spark_count.sizes())
    quotes = []
    for counted in (read_here, on_spark_count):
        sizes = {t: n for t, n in counted.sizes().items() if t <= 128_000}
        requests, tokens = sum(sizes.values()), sum(t * n for t, n in sizes.items())
        workload = costcalc.Workload(
            model="gpt-4o", requests=requests, input_tokens=Decimal(tokens) / requests,
            output_tokens=100,
        )  # fmt: skip
        quotes.append(costcalc.quote(workload, input_sizes=sizes))
    assert quotes[0].model_dump() == quotes[1].model_dump()
    batch = next(m for m in quotes[1].modes if m.mode == "batch")
    # gpt-4o batch: $1.25 input, $5.00 output per 1M tokens
    assert batch.cost == (Decimal(tokens) * Decimal("1.25")
                          + Decimal(requests * 100) * 5) / 1_000_000  # fmt: skip


def test_bad_columns_and_paths_say_so(spark: Any, tmp_path: Path, run_cli: RunCli) -> None:
    df = spark.createDataFrame([(1, "a")], "id int, text string")
    with pytest.raises(UsageError, match=r"'body': no such column \(columns: id, text\)"):
        count_dataframe(df, "body")
    with pytest.raises(UsageError, match="'id': expected a string column, found int"):
        count_dataframe(df, "id")
    with pytest.raises(UsageError, match="'text': not JSON"):
        count_dataframe(df, "text", messages=True)
    with pytest.raises(InputFileError, match="nope: no such file or folder"):
        costcalc.count_on_spark(tmp_path / "nope", "text")
    result = run_cli("tokens", "--engine", "spark", "--column", "text", str(tmp_path / "nope"))
    assert_one_line_error(result, "nope: no such file or folder")
    # bad input is exit 2, as the local count says it, not a Java stack (exit 4) or a failing
    # cluster (exit 3): a file that is not Parquet, a column of another type in one file, a
    # value over the request cap (a hostile trial's finds)
    import pyarrow as pa
    import pyarrow.parquet as pq

    lake = tmp_path / "lake"
    lake.mkdir()
    pq.write_table(pa.table({"text": ["hello world"] * 3}), lake / "a.parquet")
    (lake / "README.txt").write_text("not data")
    result = run_cli("tokens", "--engine", "spark", "--column", "text", str(lake))
    assert_one_line_error(result, f"{lake}/README.txt: is not a Parquet file")
    (lake / "README.txt").unlink()
    pq.write_table(pa.table({"text": [1, 2]}), lake / "b.parquet")
    with pytest.raises(UsageError, match="PARQUET_COLUMN_DATA_TYPE_MISMATCH"):
        costcalc.count_on_spark(lake, "text")
    (lake / "b.parquet").unlink()
    pq.write_table(pa.table({"text": ["x" * (33 * 2**20)]}), lake / "c.parquet")
    with pytest.raises(UsageError, match="request is larger than 32 MiB"):
        costcalc.count_on_spark(lake, "text")


def test_local_workers_run_this_python(spark: Any) -> None:
    """A local master's workers run the Python running costcalc (which has costcalc and
    pyarrow), not whatever "python3" is first on PATH: from a venv that is not activated,
    Spark's default made every count fail. PYSPARK_PYTHON is set only while the context is
    made, unless the caller chose one."""
    import sys

    assert spark.sparkContext.pythonExec == sys.executable
    assert "PYSPARK_PYTHON" not in os.environ
    ran = spark.sparkContext.parallelize([0], 1).mapPartitions(lambda _: [sys.executable])
    assert ran.collect() == [sys.executable]


def test_a_worker_failure_is_one_line_naming_its_cause() -> None:
    from pyspark.errors import PythonException

    from costcalc.errors import EnvironmentFailure
    from costcalc.spark import _worker_failure

    worker = PythonException(
        message="An exception was thrown from the Python worker: Traceback (most recent call "
        'last):\n  File "worker.py", line 9, in read_udfs\n    import pyarrow as pa\n    ^^^^^\n'
        "ModuleNotFoundError: No module named 'pyarrow'\n"
    )
    failure = _worker_failure(worker)
    assert isinstance(failure, EnvironmentFailure)
    assert str(failure) == (
        "spark: its Python workers failed (ModuleNotFoundError: No module named 'pyarrow'); "
        "they need a Python with costcalc[spark] installed: set PYSPARK_PYTHON to it"
    )
    other = ValueError("not the workers'")
    assert _worker_failure(other) is other


def test_a_job_failure_on_spark_is_one_line(tmp_path: Path) -> None:
    """Workers that cannot even start (PYSPARK_PYTHON names a program that is not Python)
    fail the job in Java: exit 3, costcalc's one line naming Spark's reason and the remedy,
    and none of Spark's stack traces (its JVM's start-up banner is Spark's own)."""
    import subprocess
    import sys

    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"text": ["hello", "world"]}), path)
    fake = tmp_path / "not-python"
    fake.write_text("#!/bin/sh\nexit 1\n")
    fake.chmod(0o755)
    args = ("tokens", "--engine", "spark", "--master", "local[1]", str(path), "--column", "text")
    out = subprocess.run(
        [sys.executable, "-m", "costcalc", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYSPARK_PYTHON": str(fake)},
    )
    assert out.returncode == 3, out.stderr[-2000:]
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("costcalc: error: spark: the count failed on Spark: "), last
    assert "pyspark.daemon" in last and last.endswith("set PYSPARK_PYTHON to it")
    assert "Traceback" not in out.stderr and "\tat " not in out.stderr, out.stderr[-2000:]
    assert out.stdout == ""


def test_without_a_master_local_workers_still_run_this_python(tmp_path: Path) -> None:
    """No --master: Spark's own choice here is local[*], and its workers run this Python, not
    the first python3 on PATH (made a program that is not Python for the test)."""
    import subprocess
    import sys

    import pyarrow as pa
    import pyarrow.parquet as pq

    texts = ["hello world", "naïve café — 東京", ""]
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"text": texts}), path)
    bogus = tmp_path / "bin"
    bogus.mkdir()
    for name in ("python3", "python"):
        (bogus / name).write_text("#!/bin/sh\nexit 1\n")
        (bogus / name).chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "PYSPARK_PYTHON"}
    env["PATH"] = f"{bogus}{os.pathsep}{env.get('PATH', '')}"
    out = subprocess.run(
        [
            *(sys.executable, "-m", "costcalc", "tokens", "--engine", "spark", str(path)),
            *("--column", "text", "--format", "json"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout)["tokens"] == costcalc.count_file(path, column="text").tokens


@pytest.mark.parametrize(
    ("java", "reason"),
    [
        (
            "org.apache.spark.SparkException: Job aborted due to stage failure: Task 0 in stage "
            "0.0 failed 1 times, most recent failure: Lost task 0.0 in stage 0.0 (TID 0) (192.0.2.2"
            " executor driver): org.apache.spark.SparkException: \nError from python worker:\n  "
            "not python\nPYTHONPATH was:\n  /x/pyspark.zip\norg.apache.spark.SparkException: "
            "EOFException occurred while reading the port number from pyspark.daemon's stdout.\n"
            "\tat org.apache.spark.errors.SparkCoreErrors$.eof(SparkCoreErrors.scala:55)\n"
            "Driver stacktrace:\n\tat org.apache.spark.scheduler.DAGScheduler.x(D.scala:1)",
            "Error from python worker: not python; EOFException occurred while reading the port "
            "number from pyspark.daemon's stdout",
        ),
        (
            "org.apache.spark.SparkException: Job aborted due to stage failure: Task 0 in stage "
            "0.0 failed 1 times, most recent failure: Lost task 0.0 in stage 0.0 (TID 0) (h "
            'executor driver): java.io.IOException: Cannot run program "/no/python3": error=2, '
            "No such file or directory\n\tat java.base/java.lang.ProcessBuilder.start(P.java:1)"
            "\nCaused by: java.io.IOException: error=2, No such file or directory\n\t... 28 more",
            'Cannot run program "/no/python3": error=2, No such file or directory',
        ),
        ("org.apache.spark.SparkException: Job 3 cancelled", "Job 3 cancelled"),
        ("", "no reason given"),
    ],
)
def test_a_failed_jobs_reason_is_its_task_failure_in_one_line(java: str, reason: str) -> None:
    from costcalc.spark import _java_reason

    assert _java_reason(java) == reason
