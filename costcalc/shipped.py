"""The price files shipped with costcalc: where they are, and their compiled copy, read
without the price table's schema.

``pricing/compiled.json`` holds the shipped YAML files as JSON (``costcalc.prices.load``
reads the table from it) and, beside them, the tokenizer of every name of a curated model.
A command that only counts tokens (``costcalc tokens``) looks its model up there: building
the price table's pydantic models is a third of such a command's start-up, and a count
needs only the model's encoding, calibration factor and context limit. The lookup answers
only while those are what the full table would give: no user price file, no updated prices,
a compiled copy of exactly the files shipped; otherwise the caller loads the table.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from costcalc._version import PACKAGE_DIR
from costcalc.userdata import override_paths_from_env, user_data_dir

COMPILED = "compiled.json"
"""The shipped YAML files as JSON, with the SHA-256 of each file they came from.

Parsing JSON takes a millisecond where importing PyYAML and parsing the YAML takes twenty,
and a quote is a command people run in loops. The YAML stays the source: when a file's
hash differs from the one recorded (an edited checkout), the YAML is read instead.
"""
AUDIT_KNOWN = "audit-known.yaml"
"""pricing/audit-known.yaml: the disagreements with genai-prices that are explained (read by
``costcalc prices audit --known``); not a provider file."""
UPDATE_FILE = "prices-update.json"
"""The updated price data (``costcalc prices update``), in the user data folder: the compact
index of what was read, with where it came from, its format and the day it was read."""


def builtin_pricing_dir() -> Path:
    """The shipped price table: inside the package when installed, pricing/ in a checkout."""
    packaged = PACKAGE_DIR / "pricing"
    if packaged.is_dir():
        return packaged
    return PACKAGE_DIR.parent / "pricing"


def builtin_price_files() -> list[Path]:
    """The provider files of the shipped table."""
    return sorted(p for p in builtin_pricing_dir().glob("*.yaml") if p.name != AUDIT_KNOWN)


def normal_name(name: str) -> str:
    """A model name as the price table indexes it (``PriceTable.find``), and the compiled
    tokenizers are keyed."""
    return name.strip().lower()


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def compiled_document() -> dict[str, Any] | None:
    """``compiled.json``, if it was compiled from exactly the shipped files."""
    try:
        document: dict[str, Any] = json.loads((builtin_pricing_dir() / COMPILED).read_text("utf-8"))
        files = builtin_price_files()
        if document["sources"] != {f.name: file_sha256(f) for f in files}:
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return document


@functools.cache
def _compiled_tokenizers() -> dict[str, dict[str, Any]] | None:
    document = compiled_document()
    tokenizers = None if document is None else document.get("tokenizers")
    return tokenizers if isinstance(tokenizers, dict) else None


def shipped_tokenizer(name: str) -> dict[str, Any] | None:
    """The compiled tokenizer fields of a curated model's id, alias or snapshot id (what
    ``PriceTable.tokenizer_fields`` gives), while the shipped table is the one in effect;
    None otherwise (a user price file or updated prices are in effect, the compiled copy is
    stale, the name is not a curated model's exact name): the caller loads the table."""
    if override_paths_from_env() or os.path.lexists(user_data_dir() / UPDATE_FILE):
        return None
    tokenizers = _compiled_tokenizers()
    return None if tokenizers is None else tokenizers.get(normal_name(name))


def forget_compiled() -> None:
    """The compiled copy is read again (the files under it changed)."""
    _compiled_tokenizers.cache_clear()
