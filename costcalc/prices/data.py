"""Price data from outside the package, read from a file or, only when asked, a URL:
genai-prices' published ``data.json`` or LiteLLM's ``model_prices_and_context_window.json``,
detected by shape and compiled into the compact index (``costcalc.prices.genai``).

Fetching a URL (http or https only, with urllib, a timeout and a size cap) is the only
network access costcalc makes, and only ``costcalc prices update`` and ``prices audit
--against URL`` make it. Every way reading can fail is one line: a ``CostcalcError`` when
the source is wrong (not http, HTTP 4xx, not price data), an ``EnvironmentFailure`` when the
network is (no route, no name, a timeout, HTTP 5xx).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any, NamedTuple

from costcalc.errors import CostcalcError, EnvironmentFailure, InputFileError, open_input

GENAI = "genai-prices"
LITELLM = "litellm"
FORMAT_NAMES = {
    GENAI: "genai-prices data.json",
    LITELLM: "LiteLLM model_prices_and_context_window.json",
}
"""Each format's name, as the prices taken from it say where they came from."""
HOMES = {
    GENAI: "https://github.com/pydantic/genai-prices",
    LITELLM: "https://github.com/BerriAI/litellm/blob/main/model_prices_and_context_window.json",
}
"""Where each format's data is kept: cited by a price whose provider names no pricing page."""

DEFAULT_URL = (
    "https://raw.githubusercontent.com/pydantic/genai-prices/refs/heads/main/prices/"
    "new_data/v2/data.json"
)
"""genai-prices' published data, as its own auto-update fetches it (when the installed
genai-prices does not say: ``genai_prices.update_prices.DEFAULT_UPDATE_URL``)."""

TIMEOUT_S = 30.0
MAX_BYTES = 64 * 1024 * 1024
"""The published data.json is about 1 MB and LiteLLM's file about 2 MB: 64 MB is no real one."""

GENAI_SHAPE = "genai-prices' data.json (a JSON list of providers, each with models)"
LITELLM_SHAPE = (
    "LiteLLM's model_prices_and_context_window.json (a JSON object of model name -> prices)"
)


class PriceData(NamedTuple):
    """Price data read and compiled: its format, where it came from, the index."""

    kind: str
    """``genai-prices`` or ``litellm``."""
    where: str
    """The file (an absolute path) or URL it was read from."""
    compiled: dict[str, Any]
    """The compact index (``costcalc.prices.genai``)."""

    @property
    def format_name(self) -> str:
        return FORMAT_NAMES[self.kind]


def default_url() -> str:
    """genai-prices' published data.json (the URL its own auto-update fetches)."""
    try:
        from genai_prices.update_prices import DEFAULT_UPDATE_URL
    except Exception:  # pragma: no cover - an older or broken genai-prices: the known URL
        return DEFAULT_URL
    return str(DEFAULT_UPDATE_URL)


def is_url(source: str) -> bool:
    """Whether ``source`` names a URL (anything with a scheme) rather than a file."""
    return "://" in source


def fetch_url(url: str, timeout: float = TIMEOUT_S, max_bytes: int = MAX_BYTES) -> bytes:
    """The body of ``url`` (http or https only), at most ``max_bytes``, within ``timeout``
    seconds per network operation."""
    import urllib.error
    import urllib.request

    scheme = url.partition("://")[0].lower()
    if scheme not in ("http", "https"):
        raise CostcalcError(f"{url}: not an http or https URL (give a file path or an http URL)")
    request = urllib.request.Request(url, headers={"User-Agent": "costcalc prices update"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body: bytes = response.read(max_bytes + 1)
    except urllib.error.HTTPError as exc:
        reason = f"could not fetch it: HTTP {exc.code} {exc.reason}"
        if exc.code >= 500:  # the server failed, not the URL
            raise EnvironmentFailure(url, reason) from None
        raise CostcalcError(f"{url}: {reason}") from None
    except ValueError as exc:  # a malformed URL
        raise CostcalcError(f"{url}: could not fetch it: {exc or type(exc).__name__}") from None
    except (urllib.error.URLError, OSError) as exc:
        # no network, no name, refused, reset, timed out: the machine's, not the URL's
        why = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        raise EnvironmentFailure(url, f"could not fetch it: {why or type(exc).__name__}") from None
    if len(body) > max_bytes:
        raise CostcalcError(f"{url}: more than {max_bytes:,} bytes: not price data")
    return body


def read_source(source: str | Path) -> tuple[bytes, str]:
    """The bytes of a file or URL, and where they came from (an absolute path, or the URL)."""
    text = str(source)
    if is_url(text):
        return fetch_url(text), text
    path = Path(text).expanduser()
    with open_input(path, "price data file") as f:
        data = f.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise InputFileError(path, f"more than {MAX_BYTES:,} bytes: not price data")
    return data, str(path.resolve())


def parse_json(data: bytes, where: str) -> Any:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputFileError(where, "is not UTF-8 text: expected JSON") from None
    if not text.strip():
        raise InputFileError(where, f"is empty: expected {GENAI_SHAPE} or {LITELLM_SHAPE}")
    from costcalc.jsonlines import JsonError
    from costcalc.jsonlines import parse_json as parse

    try:
        return parse(text)
    except JsonError as exc:
        raise InputFileError(where, exc.reason, line=exc.line) from None


def detect(raw: Any) -> str | None:
    """The format of parsed data: ``genai-prices`` (a list of providers), ``litellm`` (an
    object of model name -> fields with prices), or None."""
    from costcalc.prices.litellm import looks_like_litellm

    if isinstance(raw, list) and all(isinstance(p, dict) and "id" in p for p in raw):
        return GENAI
    if looks_like_litellm(raw):
        return LITELLM
    return None


def compile_data(raw: Any, where: str, source: dict[str, Any]) -> PriceData:
    """The compact index of parsed price data, its format detected; ``source`` goes into the
    index (``where`` and the format are added)."""
    kind = detect(raw)
    if kind is None:
        raise InputFileError(where, f"is neither {GENAI_SHAPE} nor {LITELLM_SHAPE}")
    meta = {**source, "format": kind, "from": where, "url": HOMES[kind]}
    try:
        if kind == GENAI:
            from costcalc.prices.genai import index_from_raw

            index = index_from_raw(raw, meta)
        else:
            from costcalc.prices.litellm import index_from_litellm

            index = index_from_litellm(raw, meta, known=_known_providers())
    except CostcalcError:
        raise
    except ValueError as exc:
        raise InputFileError(where, f"{FORMAT_NAMES[kind]}: {exc}") from None
    return PriceData(kind, where, index)


def _known_providers() -> dict[str, Any]:
    """The providers of the shipped genai-prices index (names and makers' patterns)."""
    from costcalc.prices.genai import INDEX_FILE
    from costcalc.prices.load import builtin_pricing_dir

    try:
        index = json.loads((builtin_pricing_dir() / INDEX_FILE).read_text("utf-8"))
        providers: dict[str, Any] = index["providers"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return providers


def read_price_data(source: str | Path, read: dt.date | None = None) -> PriceData:
    """Read, detect and compile the price data in a file or at a URL; the index's source
    records where it came from, its format and the day it was read (``read``, default today)."""
    data, where = read_source(source)
    raw = parse_json(data, where)
    day = (read or dt.date.today()).isoformat()
    return compile_data(raw, where, {"read": day})
