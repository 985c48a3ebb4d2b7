"""The tokenizer of a curated model, looked up in pricing/compiled.json without building the
price table (``costcalc.shipped``), is the one the table gives, and is not used where the
table would give another (user price files, updated prices, an edited YAML file)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from costcalc import shipped
from costcalc.prices import forget_loaded, load_price_table
from costcalc.tokens.encodings import tokenizer_for


def test_every_curated_name_has_the_table_s_tokenizer() -> None:
    table = load_price_table()
    names = table.names()
    assert "gpt-4o" in names and "claude-sonnet-4-5" in names
    for name in names:
        assert shipped.shipped_tokenizer(name) == table.tokenizer_fields(name), name
        assert tokenizer_for(name) == tokenizer_for(name, table), name
    # estimates keep their calibration factor and reason
    claude = tokenizer_for("claude-sonnet-4-5")
    assert claude.estimate and claude.factor > 1 and "Claude" in claude.reason
    assert shipped.shipped_tokenizer("  GPT-4O ") == table.tokenizer_fields("gpt-4o")


def test_names_not_curated_go_to_the_table() -> None:
    # genai-prices' models, PROVIDER:MODEL and provider/model forms are found by the table
    assert shipped.shipped_tokenizer("openai:gpt-4o") is None
    assert tokenizer_for("openai:gpt-4o").model == "gpt-4o"
    assert tokenizer_for("openai/gpt-4o").model == "gpt-4o"


def test_user_prices_and_updated_prices_step_it_aside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, costcalc_home: Path
) -> None:
    assert shipped.shipped_tokenizer("gpt-4o") is not None
    monkeypatch.setenv("COSTCALC_PRICES", str(tmp_path / "mine.yaml"))
    assert shipped.shipped_tokenizer("gpt-4o") is None
    monkeypatch.delenv("COSTCALC_PRICES")
    (costcalc_home / shipped.UPDATE_FILE).write_text("{}")
    assert shipped.shipped_tokenizer("gpt-4o") is None  # loading the table says what is wrong


def test_a_compiled_copy_older_than_its_yaml_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "pricing"
    shutil.copytree(shipped.builtin_pricing_dir(), copy)
    openai = copy / "openai.yaml"
    openai.write_text(openai.read_text() + "\n")
    monkeypatch.setattr(shipped, "builtin_pricing_dir", lambda: copy)
    forget_loaded()
    try:
        assert shipped.compiled_document() is None
        assert shipped.shipped_tokenizer("gpt-4o") is None
        assert tokenizer_for("gpt-4o").context_limit == 128_000  # from the YAML
    finally:
        forget_loaded()
