"""Parquet, compressed and URI inputs (issue 14): counts equal raw tiktoken on the same texts,
read in bounded memory, bad archives and missing extras one line each."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import os
import subprocess
import sys
from pathlib import Path

import pytest

import costcalc
from costcalc.tokens.encodings import get_encoding
from costcalc.tokens.sources import open_source
from tests.conftest import RunCli, assert_one_line_error

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
zstandard = pytest.importorskip("zstandard")

TEXTS = [f"Summarise ticket {i}: " + "the printer is on fire again. " * (i % 9) for i in range(700)]
TEXTS += ["Ünïcödé 日本語 🙂", "  ", "x" * 5000]


def raw_count(texts: list[str | None]) -> int:
    """A raw tiktoken loop over the same strings (the encoding costcalc ships)."""
    enc = get_encoding("o200k_base")
    return sum(len(enc.encode_ordinary(t)) for t in texts if t is not None)


def jsonl_bytes(texts: list[str]) -> bytes:
    return "".join(json.dumps({"prompt": t}) + "\n" for t in texts).encode()


COMPRESSORS = {
    "gz": gzip.compress,
    "bz2": bz2.compress,
    "xz": lzma.compress,
    "zst": lambda b: zstandard.ZstdCompressor().compress(b),
}


def test_parquet_file_counts_as_raw_tiktoken(tmp_path: Path, run_cli: RunCli) -> None:
    path = tmp_path / "data.parquet"
    texts: list[str | None] = [*TEXTS, None]
    pq.write_table(pa.table({"id": range(len(texts)), "text": texts}), path, row_group_size=100)
    result = costcalc.count_file(path, "gpt-4o", column="text")
    assert result.tokens == raw_count(texts)
    assert result.requests == len(texts)
    assert result.refused_requests == 2  # the null and the blank string
    out = run_cli("tokens", str(path), "--column", "text", "-m", "gpt-4o")
    assert out.exit_code == 0, out.stderr
    assert out.stdout.strip() == str(raw_count(texts))


def test_parquet_folder_large_string_and_partitions(tmp_path: Path, run_cli: RunCli) -> None:
    folder = tmp_path / "table"
    (folder / "year=2024").mkdir(parents=True)
    schema = pa.schema([("text", pa.large_string())])
    pq.write_table(pa.table({"text": TEXTS[:300]}, schema=schema), folder / "part-0.parquet")
    pq.write_table(
        pa.table({"text": TEXTS[300:]}, schema=schema), folder / "year=2024" / "p.parquet"
    )
    (folder / "_SUCCESS").write_text("")
    (folder / ".part-0.parquet.crc").write_bytes(b"\0\1")
    result = costcalc.count_file(folder, "gpt-4o", column="text")
    assert (result.tokens, result.requests) == (raw_count(TEXTS), len(TEXTS))
    # a folder given without a suffix: recognised as Parquet, also through file:// URIs
    uri = costcalc.count_file(f"file://{folder}", "gpt-4o", column="text")
    assert uri.tokens == result.tokens
    one = run_cli("tokens", f"file://{folder}/part-0.parquet", "--column", "text")
    assert one.exit_code == 0 and one.stdout.strip() == str(raw_count(TEXTS[:300])), one.stderr


def test_parquet_is_read_in_batches_never_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"text": TEXTS}), path)
    calls: list[dict[str, object]] = []
    real = pq.ParquetFile.iter_batches

    def spy(self: object, *args: object, **kwargs: object) -> object:
        calls.append(kwargs)
        return real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pq.ParquetFile, "iter_batches", spy)
    monkeypatch.setattr(pq.ParquetFile, "read", lambda *a, **k: pytest.fail("whole table read"))
    monkeypatch.setattr(pq, "read_table", lambda *a, **k: pytest.fail("whole table read"))
    costcalc.count_file(path, column="text")
    assert calls and calls[0]["columns"] == ["text"]


def test_quote_and_batch_build_read_parquet(tmp_path: Path, run_cli: RunCli) -> None:
    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({"text": ["hello there", "second prompt"] * 5}), path)
    quote = run_cli(
        "quote",
        "-m",
        "gpt-4o-mini",
        "--input-file",
        str(path),
        "--input-column",
        "text",
        "-o",
        "10",
        "--format",
        "json",
    )
    assert quote.exit_code == 0, quote.stderr
    assert '"requests": 10' in quote.stdout
    built = run_cli(
        "batch",
        "build",
        str(path),
        "--column",
        "text",
        "-m",
        "gpt-4o-mini",
        "--out",
        str(tmp_path / "out"),
    )
    assert built.exit_code == 0, built.stderr
    lines = next((tmp_path / "out").glob("*-001.jsonl")).read_text().splitlines()
    assert [json.loads(x)["body"]["messages"][0]["content"] for x in lines[:2]] == [
        "hello there",
        "second prompt",
    ]
    # the manifest says what the number in each custom_id counts: a Parquet row, not a CSV row
    assert "custom_id = 'row-' + row of the Parquet input (1 = its first row)" in built.stdout


@pytest.mark.parametrize("ext", sorted(COMPRESSORS))
@pytest.mark.parametrize("inner", ["jsonl", "csv", "txt"])
def test_compressed_counts_as_plain(tmp_path: Path, ext: str, inner: str) -> None:
    texts = [t for t in TEXTS if t.strip()]
    if inner == "jsonl":
        data, kw, fmt = jsonl_bytes(texts), {}, None
    elif inner == "csv":
        buf = io.StringIO()
        import csv

        csv.writer(buf).writerows([["text"], *[[t] for t in texts]])
        data, kw, fmt = buf.getvalue().encode(), {"column": "text"}, None
    else:
        data, kw, fmt = "\n".join(texts).encode(), {}, "lines"
    plain = tmp_path / f"plain.{inner}"
    plain.write_bytes(data)
    packed = tmp_path / f"packed.{inner}.{ext}"
    packed.write_bytes(COMPRESSORS[ext](data))
    want = costcalc.count_file(plain, "gpt-4o", input_format=fmt, **kw)  # type: ignore[arg-type]
    got = costcalc.count_file(packed, "gpt-4o", input_format=fmt, **kw)  # type: ignore[arg-type]
    assert (got.tokens, got.requests) == (want.tokens, want.requests)
    if inner != "jsonl":
        assert want.tokens == raw_count(texts)


def test_compressed_recognised_by_content_and_multi_frame(tmp_path: Path, run_cli: RunCli) -> None:
    data = jsonl_bytes(TEXTS[:50])
    hidden = tmp_path / "data.jsonl"  # gzip named as plain JSONL
    hidden.write_bytes(gzip.compress(data[:1000]) + gzip.compress(data[1000:]))
    zst = tmp_path / "z.jsonl.zst"
    z = zstandard.ZstdCompressor()
    zst.write_bytes(z.compress(data[:777]) + z.compress(data[777:]))
    want = raw_count(TEXTS[:50])
    for path in (hidden, zst):
        out = run_cli("tokens", str(path), "-m", "gpt-4o", "--format", "json")
        assert out.exit_code == 0, out.stderr
        assert json.loads(out.stdout)["raw_tokens"] == want


@pytest.mark.parametrize("ext", sorted(COMPRESSORS))
def test_compressed_stdin_counts_as_plain(ext: str, run_cli: RunCli) -> None:
    """``cat x.jsonl.gz | costcalc tokens -``: stdin is recognised by its first bytes too."""
    data = jsonl_bytes(TEXTS[:50])
    args = ("tokens", "-", "--input-format", "jsonl", "-m", "gpt-4o", "--format", "json")
    out = run_cli(*args, input=COMPRESSORS[ext](data))
    assert out.exit_code == 0, out.stderr
    assert json.loads(out.stdout)["raw_tokens"] == raw_count(TEXTS[:50])


def test_jobs_on_a_compressed_file_notes_one_reader(tmp_path: Path, run_cli: RunCli) -> None:
    path = tmp_path / "r.jsonl.gz"
    path.write_bytes(gzip.compress(jsonl_bytes(TEXTS)))
    out = run_cli("tokens", str(path), "--jobs", "2", "-m", "gpt-4o", "--format", "json")
    assert out.exit_code == 0, out.stderr
    assert json.loads(out.stdout)["raw_tokens"] == raw_count([t for t in TEXTS])
    assert "costcalc: note:" in out.stderr and "cannot be split" in out.stderr


def test_decompression_bomb_stays_bounded(tmp_path: Path) -> None:
    """64 MiB of zeros with no newline, 64 KiB compressed: reading stops at the 32 MiB cap on
    one line, having decompressed about that much (never the whole stream at once)."""
    for ext, compress in (("gz", gzip.compress), ("zst", COMPRESSORS["zst"])):
        path = tmp_path / f"bomb.jsonl.{ext}"
        path.write_bytes(compress(b"0" * (64 * 2**20)))
        with pytest.raises(
            costcalc.CostcalcError, match=r"bomb\.jsonl\..*:1: request is larger than 32 MiB"
        ):
            costcalc.count_file(path)
    # the zstd reader yields bounded steps even for a stream of maximal blocks
    stream = open_source(str(path))
    assert len(stream.read(1024)) == 1024
    stream.close()


def test_zstd_reader_refuses_a_truncated_frame(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl.zst"
    path.write_bytes(COMPRESSORS["zst"](jsonl_bytes(TEXTS))[:-20])
    with pytest.raises(costcalc.CostcalcError, match="corrupt or truncated zstd data"):
        costcalc.count_file(path)


def test_pyarrow_missing_is_one_line_naming_the_extra(
    tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"text": ["a"]}), path)
    zst = tmp_path / "d.jsonl.zst"
    zst.write_bytes(COMPRESSORS["zst"](b'{"prompt": "x"}\n'))
    for name in ("pyarrow", "pyarrow.parquet", "pyarrow.fs", "zstandard"):
        monkeypatch.setitem(sys.modules, name, None)  # import fails as if not installed
    out = run_cli("tokens", str(path), "--column", "text")
    assert_one_line_error(
        out, "d.parquet: Parquet input needs pyarrow: pip install 'costcalc[parquet]'"
    )
    (tmp_path / "afolder").mkdir()  # a folder is read as a Parquet dataset: said
    out = run_cli("tokens", str(tmp_path / "afolder"))
    assert_one_line_error(out, "afolder: a folder, read as a Parquet dataset, which needs pyarrow")
    out = run_cli("tokens", str(zst))
    assert_one_line_error(
        out, "zstd input needs the parquet extra: pip install 'costcalc[parquet]'"
    )
    out = run_cli("tokens", "s3://bucket/x.jsonl")
    assert_one_line_error(out, "s3://bucket/x.jsonl: reading it needs pyarrow")


def test_parquet_bad_inputs_are_one_line(tmp_path: Path, run_cli: RunCli) -> None:
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"text": ["a", None], "n": [1, 2]}), path)
    # the report: a Parquet file was one 8.5M-token binary request, with a hint to
    # --errors replace; now it asks for the column and lists them
    out = run_cli("tokens", str(path))
    assert_one_line_error(out, "d.parquet: Parquet input needs --column NAME (columns: text, n)")
    assert "--errors" not in out.stderr
    out = run_cli("tokens", str(path), "--column", "body")
    assert_one_line_error(out, "d.parquet: no column 'body' (columns: text, n)")
    out = run_cli("tokens", str(path), "--column", "n")
    assert_one_line_error(out, "d.parquet: column 'n' holds int64, expected strings")
    out = run_cli(
        "batch",
        "build",
        str(path),
        "--column",
        "text",
        "-m",
        "gpt-4o-mini",
        "--out",
        str(tmp_path / "o"),
    )
    assert_one_line_error(out, "d.parquet: row 2: empty prompt")
    out = run_cli("quote", "-m", "gpt-4o-mini", "--input-file", str(path), "-o", "5")
    assert_one_line_error(out, "Parquet input needs input_column (--column NAME)")
    assert "(columns: " in out.stderr  # the names to choose from
    renamed = tmp_path / "d.bin"  # recognised by its magic bytes, whatever the name
    renamed.write_bytes(path.read_bytes())
    out = run_cli("tokens", str(renamed))
    assert_one_line_error(out, "d.bin: Parquet input needs --column NAME")
    empty = tmp_path / "empty"
    empty.mkdir()
    out = run_cli("tokens", str(empty), "--column", "text")
    assert_one_line_error(out, "empty: is a directory with no data files")


def test_a_folder_is_every_file_spark_reads(tmp_path: Path, run_cli: RunCli) -> None:
    # a file without a Parquet suffix (Hive's 000000_0) was left out of the local count,
    # which Spark counted; a file that is not Parquet is refused by both, naming it
    folder = tmp_path / "lake"
    folder.mkdir()
    pq.write_table(pa.table({"text": TEXTS[:300]}), folder / "000000_0")
    pq.write_table(pa.table({"text": TEXTS[300:]}), folder / "part-00001.parquet")
    (folder / "_SUCCESS").write_text("")
    result = costcalc.count_file(folder, "gpt-4o", column="text")
    assert (result.tokens, result.requests) == (raw_count(TEXTS), len(TEXTS))
    (folder / "README.txt").write_text("not data")
    out = run_cli("tokens", str(folder), "--column", "text")
    assert_one_line_error(
        out, f"{folder}/README.txt: is not a Parquet file (a folder is read as a Parquet table"
    )


def test_a_sample_of_parquet_or_compressed_input(tmp_path: Path) -> None:
    """--sample reads Parquet rows and compressed lines as it reads plain files: a sample as
    large as the input is the whole count; a smaller one is an estimate whose interval holds
    the true total (seeded; the one 5,000-character outlier is left out, as a sample of 300
    may miss it and that is sampling's known limit, not the reader's), the same sample
    whichever container holds the rows."""
    texts = [t for t in TEXTS if t.strip() and len(t) < 1000]
    pq.write_table(pa.table({"text": texts}), tmp_path / "data.parquet", row_group_size=100)
    inputs: list[tuple[Path, dict[str, str]]] = [(tmp_path / "data.parquet", {"column": "text"})]
    for kind in ("gz", "zst"):
        path = tmp_path / f"data.jsonl.{kind}"
        path.write_bytes(COMPRESSORS[kind](jsonl_bytes(texts)))
        inputs.append((path, {}))
    estimates = set()
    for path, options in inputs:
        whole = costcalc.count_file(path, "gpt-4o", **options)
        assert whole.tokens == raw_count(list(texts)), path
        everything = costcalc.count_file(path, "gpt-4o", sample=10_000, seed=1, **options)
        assert everything.tokens == whole.tokens and not everything.estimate
        some = costcalc.count_file(path, "gpt-4o", sample=300, seed=1, **options)
        assert some.estimate and some.requests == len(texts) and some.interval is not None
        assert some.interval.low <= whole.tokens <= some.interval.high, path
        if path.suffix != ".parquet":  # Parquet draws rows from its row groups (or not)
            estimates.add(some.tokens)
    assert len(estimates) == 1  # the same lines drawn from each compressed file


@pytest.mark.parametrize("row_group_size", [100, 20_000])  # row groups drawn; every row read
def test_a_parquet_sample_estimates_refused_rows(tmp_path: Path, row_group_size: int) -> None:
    """Empty texts (refused by the providers) are estimated from a Parquet sample, whether
    it draws row groups or reads every one."""
    texts = ["" if i % 4 == 0 else f"row {i} " * (1 + i % 5) for i in range(20_000)]
    path = tmp_path / "rows.parquet"
    pq.write_table(pa.table({"text": texts}), path, row_group_size=row_group_size)
    truth = costcalc.count_file(path, "gpt-4o", column="text").refused_requests
    assert truth == 5000
    got = costcalc.count_file(path, "gpt-4o", column="text", sample=2000, seed=3)
    assert got.estimate and 0.7 * truth <= got.refused_requests <= 1.3 * truth, got


# --- inputs that can be read once (a hostile trial's finds) ------------------------------------

SHORT = b'{"messages": [{"role": "user", "content": "hello world, short"}]}\n{"prompt": "there"}\n'


def _tokens_of(path: str, *args: str, pass_fds: tuple[int, ...] = ()) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "costcalc", "tokens", path, "--format", "json", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        pass_fds=pass_fds,
    )


def _total(proc: subprocess.Popen[bytes]) -> int:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return int(json.loads(out)["tokens"])


@pytest.mark.parametrize("compressed", [False, True])
@pytest.mark.parametrize("args", [[], ["--jobs", "2"]])
def test_a_pipe_is_read_once_from_its_start(
    tmp_path: Path, compressed: bool, args: list[str]
) -> None:
    # a shell's <(cat file) is /dev/fd/N: opened again to peek at its first bytes (format,
    # compression, model), the count lost them (0 tokens for a short file, JSONL cut
    # mid-line); a FIFO's second open waited for a writer that had gone
    data = gzip.compress(SHORT) if compressed else SHORT
    plain = tmp_path / "plain.jsonl"
    plain.write_bytes(SHORT)
    expected = _total(_tokens_of(str(plain)))
    r, w = os.pipe()
    # /dev/fd/N has no suffix to say JSONL
    proc = _tokens_of(f"/dev/fd/{r}", "--input-format", "jsonl", *args, pass_fds=(r,))
    os.close(r)
    os.write(w, data)  # far less than a pipe holds
    os.close(w)
    assert _total(proc) == expected

    fifo = tmp_path / "fifo.jsonl"
    os.mkfifo(fifo)
    proc = _tokens_of(str(fifo), *args)
    with open(fifo, "wb") as writer:  # opens once the count has opened it to read
        writer.write(data)
    assert _total(proc) == expected


def test_a_sample_of_a_pipe_is_refused(tmp_path: Path) -> None:
    r, w = os.pipe()
    os.close(w)
    proc = _tokens_of(f"/dev/fd/{r}", "--sample", "10", pass_fds=(r,))
    os.close(r)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2
    assert err.decode().strip() == (
        "costcalc: error: --sample reads its input twice, so it needs files, not stdin or a pipe"
    )


def test_batch_build_from_a_pipe_of_json_lines_is_refused_not_sent_as_prompts(
    tmp_path: Path,
) -> None:
    # a pipe has no suffix to say JSONL: each JSON line went into the batch file as a user's
    # prompt, at exit 0 (a retrial); lines of text still build
    for data, code in ((SHORT, 2), (b"hello\nworld\n", 0)):
        r, w = os.pipe()
        proc = subprocess.Popen(
            [sys.executable, "-m", "costcalc", "batch", "build", f"/dev/fd/{r}", "-m",
             "gpt-4o-mini", "--out", str(tmp_path / f"out{code}")],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, pass_fds=(r,),
        )  # fmt: skip
        os.close(r)
        os.write(w, data)
        os.close(w)
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == code, err
        if code:
            assert err.decode().count("\n") == 1 and "its lines look like JSON" in err.decode()
