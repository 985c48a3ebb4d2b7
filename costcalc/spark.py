"""Counting tokens on Spark: a DataFrame column counted on the executors, merged on the driver.

Each partition is counted where it lives (``mapInArrow``: Arrow record batches, no row
objects) with the encodings shipped inside costcalc, built once per Python worker process
(``get_encoding`` is cached per process and Spark reuses its Python workers), so executors
need no network and no tiktoken cache. A partition returns its ``Tally`` (the histogram of raw
tokens per request) as one small JSON row; the driver merges them and ``count_from_tally``
gives the same ``TokenCount`` a local count gives.

pyspark is an optional extra (``pip install "costcalc[spark]"``); it is imported only here.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from costcalc.errors import (
    CostcalcError,
    EnvironmentFailure,
    InputFileError,
    RequestError,
    UsageError,
    arg,
    path_arguments,
    require_type,
)
from costcalc.jsonlines import MAX_REQUEST_BYTES, TOO_LARGE, JsonError, parse_json
from costcalc.tokens.encodings import DEFAULT_MODEL, get_encoding, tokenizer_for
from costcalc.tokens.engine import count_texts
from costcalc.tokens.parquet import require_parquet
from costcalc.tokens.requests import CountSpec, request_count
from costcalc.tokens.result import TokenCount
from costcalc.tokens.tally import Tally, count_from_tally

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

    from costcalc.prices import PriceTable

_MISSING_EXTRA = 'counting on Spark needs pyspark: pip install "costcalc[spark]"'
_PART_SCHEMA = "part STRING"
"""What a partition returns: one row, the JSON of its tally (or of its first error)."""


def _require_pyspark() -> None:
    try:
        # mapInArrow refuses to run without pandas, though nothing here uses it
        import pandas  # noqa: F401
        import pyarrow  # noqa: F401
        import pyspark  # noqa: F401
    except ImportError:
        raise UsageError(_MISSING_EXTRA) from None


# --- on the executors -------------------------------------------------------------------------


def _count_batches(
    spec: CountSpec, messages: bool, batches: Iterator[pa.RecordBatch]
) -> Iterator[pa.RecordBatch]:
    """Count every value of a partition's one column; yield one row holding the result."""
    import pyarrow as pa
    import pyarrow.compute as pc

    get_encoding(spec.encoding)  # once per Python worker process (cached)
    tally = Tally.empty(spec.encoding)
    error: str | None = None
    for batch in batches:
        column = batch.column(0)
        if len(column) and column.null_count < len(column):  # the local count's cap, too
            longest = pc.max(pc.binary_length(column)).as_py()
            if longest is not None and longest > MAX_REQUEST_BYTES:
                error = f"a value of {longest:,} bytes: {TOO_LARGE}"
                break
        values: list[str | None] = column.to_pylist()
        if messages:
            try:
                for value in values:
                    obj = _request(value)
                    tokens, chat, refused = request_count(obj, spec)
                    tally.add(tokens, refused=refused, chat=chat)
            except (RequestError, CostcalcError) as exc:
                error = str(exc)
                break
        else:
            # a null is a request with no text, as an empty CSV cell: counted, and refused
            tally += count_texts(spec, [v if v is not None else "" for v in values])
    part = {"error": error} if error is not None else tally.to_dict()
    yield pa.RecordBatch.from_pylist([{"part": json.dumps(part)}])


def _request(value: str | None) -> Any:
    """One value read as a JSONL line is: chat messages or a request object."""
    if value is None:
        raise RequestError("found null, expected JSON chat messages or a request object")
    try:
        return parse_json(value)
    except JsonError as exc:
        raise RequestError(f"not JSON: {exc}") from None


# --- on the driver ----------------------------------------------------------------------------


def count_dataframe(
    df: DataFrame,
    column: str,
    model: str = DEFAULT_MODEL,
    *,
    table: PriceTable | None = None,
    messages: bool = False,
) -> TokenCount:
    """Count the string column ``column`` of a Spark DataFrame, one request per row, on the
    executors; the same ``TokenCount`` ``count_file`` gives for the same texts.

    With ``messages`` each value is JSON: chat messages or a request object (as a JSONL
    line is read). A null counts as an empty request (and as refused); with ``messages`` it
    is an error.
    """
    return _count_column(df, column, model, table, messages, [f"<DataFrame column {column}>"])


def _count_column(
    df: DataFrame,
    column: str,
    model: str,
    table: PriceTable | None,
    messages: bool,
    inputs: list[str],
) -> TokenCount:
    _require_pyspark()
    from pyspark.sql import DataFrame

    require_type(df, DataFrame, "df", "count_dataframe", "a pyspark.sql.DataFrame")
    require_type(column, str, "column", "count_dataframe", "a column name (str)")
    require_type(messages, bool, "messages", "count_dataframe", "True or False")
    tok = tokenizer_for(model, table)
    _check_column(df, column)
    spec = CountSpec(tok.encoding, tok.overhead, None, "strict")

    def count_partition(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        return _count_batches(spec, messages, batches)

    with warnings.catch_warnings():
        # pyspark 4.0-4.3 warn that pandas 3 is not fully supported; mapInArrow uses no pandas
        warnings.filterwarnings("ignore", "PySpark does not yet fully support", FutureWarning)
        try:
            rows = df.select(column).mapInArrow(count_partition, _PART_SCHEMA).collect()
        except Exception as exc:
            raise _worker_failure(exc) from None
    total = Tally.empty(tok.encoding, inputs)
    for row in rows:
        part = json.loads(row["part"])
        if "error" in part:
            raise UsageError(f"{arg('column')} {column!r}: {part['error']}")
        total += Tally.from_dict(part)
    return count_from_tally(total, tok.model, table)


_WORKERS = "they need a Python with costcalc[spark] installed: set PYSPARK_PYTHON to it"


def _worker_failure(exc: Exception) -> Exception:
    """A count that failed on the executors, in one line, as an environment failure: their
    Python's own error (a worker without costcalc[spark]), or the job's (a worker that could
    not start, an executor lost); anything else is raised as it was."""
    from py4j.protocol import Py4JJavaError  # type: ignore[import-untyped,unused-ignore]
    from pyspark.errors import PythonException

    if isinstance(exc, PythonException):
        lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
        last = next((ln for ln in reversed(lines) if not ln.startswith(("File ", "^"))), "")
        return EnvironmentFailure(
            "spark", f"its Python workers failed ({last[:200] or 'no reason given'}); {_WORKERS}"
        )
    if isinstance(exc, Py4JJavaError):
        why = _java_reason(str(exc.java_exception or ""))
        if any(mark in why for mark in _BAD_DATA):  # the input's fault, not the cluster's
            return UsageError(f"Spark cannot read the input: {why}")
        workers = ("python worker", "pyspark.daemon", "cannot run program")
        hint = f"; {_WORKERS}" if any(w in why.lower() for w in workers) else ""
        return EnvironmentFailure("spark", f"the count failed on Spark: {why}{hint}")
    return exc


_BAD_DATA = (
    "PARQUET_COLUMN_DATA_TYPE_MISMATCH",
    "CANNOT_READ_FILE_FOOTER",
    "Could not read footer",
    "is not a Parquet file",
    "FAILED_READ_FILE",
    "UNABLE_TO_INFER_SCHEMA",
)
"""What Spark says of files it cannot read as the Parquet they claim to be: bad input
(exit 2), as the local count says of the same files, not a failing cluster (exit 3)."""

_JAVA_PREFIXES = ("org.apache.spark.SparkException:", "java.io.IOException:")


def _java_reason(text: str) -> str:
    """A failed job's reason in one line: the task's own failure (after Spark's "most recent
    failure: Lost task ... :"), without Java stack frames, the worker's PYTHONPATH or the
    exception class names."""
    _, found, rest = text.partition("most recent failure: ")
    if found:
        rest = rest.split("): ", 1)[-1]  # after "Lost task 0.0 in stage 0.0 (TID 0) (host ...)"
    words: list[str] = []
    skip = False
    for line in (rest if found else text).splitlines():
        line = line.strip()
        if line.startswith(("Driver stacktrace", "Caused by:")):
            break  # the driver's own frames, or the same failure again as its cause
        if skip or not line or line.startswith(("at ", "... ")):
            skip = False
            continue
        if line.startswith("PYTHONPATH was:"):
            skip = True  # the path on the next line says nothing of why
            continue
        for prefix in _JAVA_PREFIXES:
            line = line.removeprefix(prefix).strip()
        words.append(line.rstrip("."))
    why = ""
    for word in filter(None, words):  # "Error from python worker: not python; EOFException..."
        why += word if not why else (" " if why.endswith(":") else "; ") + word
    return why[:300] or "no reason given"


def _check_column(df: DataFrame, column: str) -> None:
    from pyspark.sql.types import StringType

    fields = {f.name: f for f in df.schema.fields}
    if column not in fields:
        raise UsageError(
            f"{arg('column')} {column!r}: no such column (columns: {', '.join(fields) or 'none'})"
        )
    kind = fields[column].dataType
    if not isinstance(kind, StringType):
        raise UsageError(
            f"{arg('column')} {column!r}: expected a string column, found {kind.simpleString()}"
        )


def spark_session(master: str | None = None) -> SparkSession:
    """The active Spark session, or a new one (``master``: a Spark master URL such as
    ``local[4]`` or ``spark://host:7077``; none: what spark-submit or the defaults say)."""
    _require_pyspark()
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        # else Spark's own launcher fails with a page of shell output
        raise EnvironmentFailure("java", "not found: Spark needs Java 17 (on PATH or JAVA_HOME)")
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.appName("costcalc tokens")
        # the count's output is the report: no progress bars drawn over it on stderr
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={_LOG4J}")
    )
    if master is not None:
        builder = builder.master(master)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "PySpark does not yet fully support", FutureWarning)
            session = builder.getOrCreate()
    except Exception as exc:  # Java missing or the master unreachable: raised as many types
        reason = " ".join(str(exc).split())[:300]
        raise EnvironmentFailure(master or "spark", f"cannot start Spark: {reason}") from None
    context = session.sparkContext
    if _is_local(context.master or "") and "PYSPARK_PYTHON" not in os.environ:
        # Local workers run this Python, which has costcalc, tiktoken and pyarrow: Spark's own
        # default is whatever "python3" is first on PATH (not this venv's, unless activated).
        # The master is the one Spark chose (local[*] when none is given), and the Python
        # functions made from here on take the context's (its conf key is not read for it)
        context.pythonExec = sys.executable
    # a failed job is costcalc's one line; Spark's own log of it (a page of Java stack
    # traces per task) only with COSTCALC_DEBUG
    session.sparkContext.setLogLevel("ERROR" if os.environ.get("COSTCALC_DEBUG") else "OFF")
    return session


def _is_local(master: str) -> bool:
    """Whether ``master`` runs Spark on this machine (``local``, ``local[4]``, ``local[*]``,
    ``local[2,3]``)."""
    return master == "local" or master.startswith("local[")


_LOG4J = Path(__file__).resolve().parent / "spark-log4j2.properties"
"""Spark's driver logs errors only while it starts (its default prints warnings about the host
name and native libraries on every start, on the stderr a user reads costcalc's messages
from), and nothing once started (``spark_session``)."""


def count_on_spark(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    column: str,
    model: str | None = None,
    *,
    master: str | None = None,
    messages: bool = False,
    table: PriceTable | None = None,
) -> TokenCount:
    """Count the column ``column`` of Parquet files or folders (any path Spark reads:
    ``s3a://``, ``abfss://``, ``dbfs:/``, local) on Spark; see ``count_dataframe``."""
    names = path_arguments(paths, "paths", "count_on_spark")
    if not names:
        raise UsageError("no input: give Parquet files or folders")
    if "-" in names:
        raise UsageError("Spark reads files, not stdin (-)")
    session = spark_session(master)  # first: a machine without pyspark or Java says so
    for name in names:  # a local file that is not Parquet, named (Spark's is a Java stack)
        if "://" not in name and not name.startswith("dbfs:"):  # any URI is Spark's to read
            require_parquet(name)
    df = _read_parquet(session, names)
    return _count_column(
        df, column, DEFAULT_MODEL if model is None else model, table, messages, names
    )


def _read_parquet(session: SparkSession, names: list[str]) -> Any:
    from py4j.protocol import Py4JJavaError  # type: ignore[import-untyped,unused-ignore]
    from pyspark.errors import AnalysisException

    try:
        return session.read.parquet(*names)
    except Py4JJavaError as exc:  # a footer Spark cannot read: a file that is not Parquet
        raise _worker_failure(exc) from None
    except AnalysisException as exc:
        message = " ".join(str(exc).split())
        for name in names:
            missing = "PATH_NOT_FOUND" in message or "does not exist" in message
            if missing and (name in message or os.path.basename(name.rstrip("/")) in message):
                raise InputFileError(name, "no such file or folder") from None
        shown = ", ".join(names)
        raise UsageError(f"{shown}: cannot read the Parquet input: {message[:300]}") from None
