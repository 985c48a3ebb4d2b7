"""The built wheel works on its own: installed into a fresh venv, run from another directory,
with every network connection refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# Loaded at start-up inside the test venv: any attempt to reach the network fails loudly.
NO_NETWORK = """
import socket

def _refuse(*args, **kwargs):
    raise OSError("network disabled by costcalc's wheel test")

socket.socket.connect = _refuse
socket.socket.connect_ex = _refuse
socket.getaddrinfo = _refuse
socket.create_connection = _refuse
"""


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(out), str(REPO)],
        check=True,
        capture_output=True,
        timeout=600,
    )  # fmt: skip
    (whl,) = out.glob("costcalc-*.whl")
    return whl


@pytest.fixture(scope="session")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding only the wheel; dependencies come from this interpreter's site."""
    env_dir = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=False).create(env_dir)
    py = env_dir / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True, capture_output=True, text=True, timeout=120,
        ).stdout.strip()
    )  # fmt: skip
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "--no-index",
         "-q", str(wheel)],
        check=True,
        capture_output=True,
        timeout=600,
    )  # fmt: skip
    # dependencies (pydantic, yaml, click, tiktoken) from the test interpreter, after our own
    (site / "zz_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    (site / "sitecustomize.py").write_text(NO_NETWORK)
    return env_dir


def test_wheel_ships_price_table_encodings_and_marker(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in (
        "costcalc/pricing/openai.yaml",
        "costcalc/pricing/anthropic.yaml",
        "costcalc/pricing/google.yaml",
        "costcalc/pricing/schema.json",
        "costcalc/encodings/o200k_base.tiktoken",
        "costcalc/encodings/cl100k_base.tiktoken",
        "costcalc/encodings/o200k_base.ranks",
        "costcalc/encodings/cl100k_base.ranks",
        "costcalc/py.typed",
    ):
        assert required in names, required


def test_installed_wheel_shows_prices_offline_from_another_directory(
    installed: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COSTCALC_", "PYTHON"))}
    env["COSTCALC_HOME"] = str(tmp_path / "home")  # never the real user data folder
    result = subprocess.run(
        [str(installed / "bin" / "costcalc"), "prices", "show", "gpt-4o", "--format", "json"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    modes = {m["mode"]: m for m in data["tiers"][0]["modes"]}
    standard = {p["component"]: p["usd_per_mtok"] for p in modes["standard"]["prices"]}
    batch = {p["component"]: p["usd_per_mtok"] for p in modes["batch"]["prices"]}
    assert standard["input"] == "2.50" and standard["output"] == "10.00"
    assert batch["input"] == "1.25" and batch["output"] == "5.00"

    where = subprocess.run(
        [str(installed / "bin" / "python"), "-c",
         "import costcalc.prices as p; print(p.builtin_pricing_dir())"],
        cwd=elsewhere, env=env, capture_output=True, text=True, check=True, timeout=120,
    ).stdout.strip()  # fmt: skip
    assert Path(where).is_relative_to(installed), where


def test_installed_wheel_counts_tokens_offline_without_a_tiktoken_cache(
    installed: Path, tmp_path: Path
) -> None:
    cache, tmp = tmp_path / "tiktoken-cache", tmp_path / "tmp"
    cache.mkdir()
    tmp.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COSTCALC_", "PYTHON"))}
    env["COSTCALC_HOME"] = str(tmp_path / "home")  # never the real user data folder
    env.update(TIKTOKEN_CACHE_DIR=str(cache), TMPDIR=str(tmp))
    messages = json.dumps(
        [{"role": "system", "content": "You are a helpful assistant."},
         {"role": "user", "name": "ann", "content": "Hello!"}]
    )  # fmt: skip
    batch = tmp_path / "batch.jsonl"
    batch.write_text(
        "".join(json.dumps({"body": {"model": "gpt-4", "messages": json.loads(messages)}}) + "\n"
                for _ in range(50))
    )  # fmt: skip
    costcalc = str(installed / "bin" / "costcalc")
    one = subprocess.run(
        [costcalc, "tokens", "--messages", "-m", "gpt-4", "--text", messages],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert one.returncode == 0, one.stderr
    # 3 + 3 + 1 (name) per the cookbook, plus the text of every value
    assert int(one.stdout) > 10
    many = subprocess.run(
        [costcalc, "tokens", str(batch), "--jobs", "2", "--format", "json"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert many.returncode == 0, many.stderr
    data = json.loads(many.stdout)
    assert data["tokens"] == 50 * int(one.stdout) and data["encoding"] == "cl100k_base"
    assert list(cache.iterdir()) == [] and list(tmp.iterdir()) == []


def test_wheel_ships_the_compiled_price_table(wheel: Path) -> None:
    assert "costcalc/pricing/compiled.json" in zipfile.ZipFile(wheel).namelist()
