"""What is at an input's path: a Parquet folder's symlinks, FIFOs, devices and names that are
not UTF-8, and a device given as the input. Everything is made inside tmp_path (devices with
/dev/zero's numbers; we run as root, and the tests skip where mknod is refused)."""

from __future__ import annotations

import os
import stat
import threading
import warnings
from pathlib import Path

import pytest

import costcalc
from costcalc.errors import CostcalcError
from tests.conftest import RunCli, assert_one_line_error

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")


def _parquet(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"text": ["Hello world", "Second prompt"]}), path)
    return path


def _device(path: Path) -> None:
    """/dev/zero's numbers at ``path``: read, it never ends."""
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 5))
    except OSError as exc:  # not root, or a container without the capability
        pytest.skip(f"mknod refused: {exc}")


# the three commands that read a Parquet input, as the tester ran them
def _commands(name: str, out: Path) -> list[list[str]]:
    return [
        ["tokens", name, "--column", "text"],
        ["quote", "-m", "gpt-4o-mini", "-o", "10", "--input-file", name, "--input-column", "text"],
        ["batch", "build", name, "--column", "text", "-m", "gpt-4o-mini", "--out", str(out)],
    ]


def test_a_symlink_loop_in_a_parquet_folder_is_refused(tmp_path: Path, run_cli: RunCli) -> None:
    """pyarrow's listing followed pq/sub/up -> .. until the path was too long: every count 41
    times too large, exit 0. Spark follows symlinks too, so a loop is refused, naming it;
    a link to a folder elsewhere is read as Spark reads it."""
    lake = tmp_path / "pq"
    _parquet(lake / "part-0.parquet")
    (lake / "sub").mkdir()
    (lake / "sub" / "up").symlink_to("..")
    for argv in _commands(str(lake), tmp_path / "out"):
        assert_one_line_error(run_cli(*argv), f"{lake}/sub/up: is a symlink loop (to '..'")
    with pytest.raises(CostcalcError, match="sub/up: is a symlink loop"):
        costcalc.count_file(lake, column="text")
    with pytest.raises(CostcalcError, match="sub/up: is a symlink loop"):  # walked as local
        costcalc.count_file(lake.as_uri(), column="text")
    # two folders linking to each other: refused where the walk comes back
    (lake / "sub" / "up").unlink()
    (lake / "a").mkdir()
    (lake / "a" / "b").symlink_to(lake / "sub")
    (lake / "sub" / "a").symlink_to(lake / "a")
    assert_one_line_error(
        run_cli("tokens", str(lake), "--column", "text"), "a/b/a: is a symlink loop"
    )
    # a link to the folder above the table: the table is reached again below it, where
    # the loop is named (reading the link of up/tbl, which is none, was "invalid argument")
    (lake / "sub" / "a").unlink()
    (lake / "a" / "b").unlink()
    (lake / "back").symlink_to("..")
    assert_one_line_error(
        run_cli("tokens", str(lake), "--column", "text"),
        "pq/back/pq: is a symlink loop (a folder reached again through a symlink above it)",
    )
    (lake / "back").unlink()
    # a link to a folder outside (no loop) and one to a file are read, each file once
    _parquet(tmp_path / "elsewhere" / "part-9.parquet")
    (lake / "sub" / "more").symlink_to(tmp_path / "elsewhere")
    (lake / "part-1.parquet").symlink_to(tmp_path / "elsewhere" / "part-9.parquet")
    assert costcalc.count_file(lake, column="text").requests == 6


@pytest.mark.parametrize("kind", ["dangling", "fifo", "device"])
def test_a_part_that_is_not_a_regular_file_is_refused(
    tmp_path: Path, run_cli: RunCli, kind: str
) -> None:
    """A dangling link, a FIFO or a device among the parts was left out, exit 0."""
    lake = tmp_path / "pq3"
    _parquet(lake / "part-0.parquet")
    part = lake / "part-1.parquet"
    expected = {
        "dangling": "part-1.parquet: is a dangling symlink (to '/nonexistent')",
        "fifo": "part-1.parquet: is a FIFO, not a regular file",
        "device": "part-1.parquet: is a character device, not a regular file",
    }[kind]
    if kind == "dangling":
        part.symlink_to("/nonexistent")
    elif kind == "fifo":
        os.mkfifo(part)
    else:
        _device(part)
    for argv in _commands(str(lake), tmp_path / "out"):
        assert_one_line_error(run_cli(*argv), expected)
    from costcalc.tokens.parquet import require_parquet  # Spark's check before it starts

    with pytest.raises(CostcalcError, match=r"part-1\.parquet: is a"):
        require_parquet(str(lake))


def test_a_part_whose_name_is_not_utf8_is_read(tmp_path: Path, run_cli: RunCli) -> None:
    """pyarrow's listing decoded names as UTF-8: an internal error (a raw UnicodeDecodeError
    from count_file). The local engine reads it (opened by its bytes) and names it escaped;
    Spark does not see such a file, so its check refuses it."""
    lake = tmp_path / "pq5"
    lake.mkdir()
    _parquet(tmp_path / "s.parquet").rename(lake / os.fsdecode(b"part-\xff.parquet"))
    assert costcalc.count_file(lake, column="text").requests == 2
    out = run_cli("tokens", str(lake), "--column", "text")
    assert out.exit_code == 0, out.stderr
    assert out.stdout.strip() == "4"
    (lake / os.fsdecode(b"z-\xfe")).write_text("not parquet")
    assert_one_line_error(run_cli("tokens", str(lake), "--column", "text"), "pq5/z-\\xfe: is not")
    (lake / os.fsdecode(b"z-\xfe")).unlink()
    from costcalc.tokens.parquet import require_parquet

    with pytest.raises(CostcalcError, match=r"part-\\xff.parquet: its name is not UTF-8"):
        require_parquet(str(lake))


def test_a_device_as_the_input_is_refused(tmp_path: Path, run_cli: RunCli) -> None:
    """/dev/zero as the input ran until killed (a text input is read whole); outputs already
    refused a device. A FIFO is still read."""
    zero = tmp_path / "z"
    _device(zero)
    out = tmp_path / "out"
    for argv in [
        ["tokens", str(zero)],
        ["tokens", str(zero), "--sample", "3"],
        ["tokens", str(zero), "--jobs", "2", "--input-format", "jsonl"],
        ["tokens", str(zero), "--column", "text", "--input-format", "parquet"],
        ["tokens", zero.as_uri()],
        ["quote", "-m", "gpt-4o-mini", "-o", "10", "--input-file", str(zero)],
        ["batch", "build", str(zero), "-m", "gpt-4o-mini", "--out", str(out)],
        ["batch", "build", str(zero), "--column", "text", "-m", "gpt-4o-mini", "--out", str(out)],
    ]:
        assert_one_line_error(run_cli(*argv), "/z: is a device, expected a file")
    with pytest.raises(CostcalcError, match="is a device, expected a file"):
        costcalc.count_file(zero)
    fifo = tmp_path / "f"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_text("Hello world"), daemon=True)
    writer.start()
    result = run_cli("tokens", str(fifo))
    writer.join(timeout=10)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "2"


def test_a_file_that_changes_while_it_is_read_is_said(tmp_path: Path) -> None:
    # truncated meanwhile, it was counted (or built) in part at exit 0 without a word
    path = tmp_path / "grows.txt"
    path.write_text("".join(f"prompt line {i} with a bit of text\n" for i in range(50_000)))

    def truncate(_read: int) -> None:
        if path.stat().st_size > 1000:
            os.truncate(path, 1000)

    with pytest.warns(costcalc.CostcalcWarning, match=r"grows.txt changed while it was read"):
        costcalc.count_file(path, input_format="lines", progress=truncate)
    path.write_text("".join(f"prompt line {i} with a bit of text\n" for i in range(50_000)))
    with pytest.warns(costcalc.CostcalcWarning, match=r"grows.txt changed while it was read"):
        costcalc.build_batch(str(path), "gpt-4o-mini", tmp_path / "out", progress=truncate)
    # a file left alone says nothing
    with warnings.catch_warnings():
        warnings.simplefilter("error", costcalc.CostcalcWarning)
        costcalc.count_file(path, input_format="lines")
