"""Offline token counting: tiktoken encodings shipped in the package, chat overhead, estimates.

tiktoken downloads its BPE files on first use and caches them under ``TIKTOKEN_CACHE_DIR``;
costcalc does neither. The two encodings it needs are files in ``costcalc/encodings``; they
are read here, checked against tiktoken's pinned SHA-256, and built into ``tiktoken.Encoding``
objects with the pattern strings and special tokens of ``tiktoken_ext.openai_public``. Beside
each, a ``.ranks`` file holds its tokens already decoded (checked against its own SHA-256),
which is read instead when it is sound.
Encodings are built lazily, once per process.

Models without a tiktoken encoding (Claude, Gemini) are counted with the provider's
``token_estimate`` (o200k_base times a calibration factor from the price table), and every
such count says it is an estimate and why.
"""

from __future__ import annotations

import binascii
import functools
import hashlib
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from costcalc._version import PACKAGE_DIR
from costcalc.errors import CostcalcError, CostcalcNote, CostcalcWarning, require_type
from costcalc.shipped import shipped_tokenizer

if TYPE_CHECKING:  # tiktoken is imported only when a count is needed (start-up time)
    import tiktoken

    from costcalc.prices import PriceTable

DEFAULT_MODEL = "gpt-4o"


# The pattern strings and special tokens are those of tiktoken_ext.openai_public; the hashes are
# tiktoken's expected_hash for each file.
_O200K_PATTERN = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)
_CL100K_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)


@dataclass(frozen=True)
class EncodingSpec:
    name: str
    sha256: str
    pattern: str
    special_tokens: Mapping[str, int]
    ranks_sha256: str
    """SHA-256 of ``<name>.ranks``, the file's tokens decoded (``ranks_file``)."""


ENCODINGS: dict[str, EncodingSpec] = {
    "o200k_base": EncodingSpec(
        "o200k_base",
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
        _O200K_PATTERN,
        {"<|endoftext|>": 199999, "<|endofprompt|>": 200018},
        "1a62b350fb0fd4dcf1ca79fa01f2c3319defddaae2995b0a8d900b99104fcffd",
    ),
    "cl100k_base": EncodingSpec(
        "cl100k_base",
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        _CL100K_PATTERN,
        {
            "<|endoftext|>": 100257,
            "<|fim_prefix|>": 100258,
            "<|fim_middle|>": 100259,
            "<|fim_suffix|>": 100260,
            "<|endofprompt|>": 100276,
        },
        "4dcdddb5b6920d80a0a91e4c1486f5398babc03b5180ac815477cf17185a0cb6",
    ),
}


def encoding_path(name: str) -> Path:
    return PACKAGE_DIR / "encodings" / f"{name}.tiktoken"


def ranks_path(name: str) -> Path:
    return PACKAGE_DIR / "encodings" / f"{name}.ranks"


def _read_ranks(spec: EncodingSpec) -> dict[bytes, int]:
    """Token -> rank of an encoding: from its ``.ranks`` file (the tokens decoded, in rank
    order: half the time of decoding the ``.tiktoken`` file's base64, which is a fifth of a
    short count's start-up), else from the ``.tiktoken`` file itself."""
    tokens = _decoded_tokens(spec)
    if tokens is None:
        tokens = _parsed_tokens(spec)
    return dict(zip(tokens, range(len(tokens)), strict=True))


def _decoded_tokens(spec: EncodingSpec) -> list[bytes] | None:
    """The ``.ranks`` file's tokens; None when it is missing, damaged or of a Python whose
    marshal cannot read it (the ``.tiktoken`` file is the source: it is read instead)."""
    import marshal

    try:
        data = ranks_path(spec.name).read_bytes()
        if hashlib.sha256(data).hexdigest() != spec.ranks_sha256:
            return None
        tokens = marshal.loads(data)
    except (OSError, ValueError, EOFError, TypeError):
        return None
    return tokens if type(tokens) is list else None


def _parsed_tokens(spec: EncodingSpec) -> list[bytes]:
    # Read and parse the file ourselves instead of tiktoken.load.load_tiktoken_bpe: that
    # function copies every file it reads into a cache directory (and honours
    # TIKTOKEN_CACHE_DIR); costcalc reads its own package data and writes nothing.
    path = encoding_path(spec.name)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CostcalcError(f"{path}: cannot read the shipped encoding ({exc.strerror})") from None
    if hashlib.sha256(data).hexdigest() != spec.sha256:
        raise CostcalcError(f"{path}: the shipped encoding is damaged (SHA-256 mismatch)")
    # "TOKEN RANK" lines, split all at once: a third faster than a loop of b64decode calls.
    # The checksum vouches for the layout: both files list ranks 0, 1, 2, ... in order
    # (tests/test_tokens.py reads them with tiktoken's own loader), so a token's rank is its
    # line's number, not parsed
    return list(map(binascii.a2b_base64, data.split()[0::2]))


def ranks_file(name: str) -> bytes:
    """What ``<name>.ranks`` holds: the ``.tiktoken`` file's tokens, decoded, in rank order
    (``marshal``: a list of bytes loads ten times faster than anything parsed in Python)."""
    import marshal

    return marshal.dumps(_parsed_tokens(ENCODINGS[name]))


_BUILT: dict[str, tiktoken.Encoding] = {}


def get_encoding(name: str) -> tiktoken.Encoding:
    """The tiktoken encoding ``name`` (o200k_base or cl100k_base), built once, offline."""
    built = _BUILT.get(name)
    if built is not None:
        return built
    spec = ENCODINGS.get(name)
    if spec is None:
        raise CostcalcError(f"unknown encoding {name!r}; costcalc ships {', '.join(ENCODINGS)}")
    built = _BUILT[name] = _encoding_type()(
        name=spec.name,
        pat_str=spec.pattern,
        mergeable_ranks=_read_ranks(spec),
        special_tokens=dict(spec.special_tokens),
    )
    return built


def encoding_built(name: str) -> bool:
    """Whether ``get_encoding(name)`` is at hand in this process (building it takes a fifth
    of a second or more: ``costcalc.tokens.forked`` builds it in another process instead)."""
    return name in _BUILT


LONGEST_RUN = 500_000
"""A run of whitespace at least this long is tokenized in parts of this length: tiktoken's
regex (fancy-regex's backtracking) gives up on a run of about 1,000,000 whitespace characters
with a Rust panic, which Python cannot catch as an Exception and which prints a backtrace
(openai/tiktoken#15, #245)."""


@functools.cache
def _encoding_type() -> type[tiktoken.Encoding]:
    import re

    import tiktoken

    whitespace = re.compile(r"\s+")  # linear: \s{N,} retries every start inside a shorter run

    class Encoding(tiktoken.Encoding):
        """tiktoken's, with ``encode_ordinary`` safe on long whitespace runs."""

        def encode_ordinary(self, text: str) -> list[int]:
            if len(text) >= LONGEST_RUN:
                cuts = [
                    cut
                    for run in whitespace.finditer(text)
                    if run.end() - run.start() >= LONGEST_RUN
                    for cut in range(run.start() + LONGEST_RUN, run.end(), LONGEST_RUN)
                ]
                if cuts:
                    return self._in_parts(text, cuts)
            try:  # tiktoken's own, as it has it (one call: this is the count's hot path)
                tokens: list[int] = self._core_bpe.encode_ordinary(text)
            except UnicodeEncodeError:  # a lone surrogate: tiktoken replaces it
                text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
                tokens = self._core_bpe.encode_ordinary(text)
            return tokens

        def _in_parts(self, text: str, cuts: list[int]) -> list[int]:
            warnings.warn(
                f"a text holds a run of {LONGEST_RUN:,} or more whitespace characters, more "
                "than tiktoken can tokenize whole (its regex gives up near 1,000,000): it was "
                f"counted in parts of {LONGEST_RUN:,}, which can differ from a whole count by "
                "a few tokens",
                CostcalcNote,
                stacklevel=2,
            )
            tokens: list[int] = []
            at = 0
            for cut in [*cuts, len(text)]:
                tokens += super().encode_ordinary(text[at:cut])
                at = cut
            return tokens

    return Encoding


# --- chat overhead --------------------------------------------------------------------------


@dataclass(frozen=True)
class ChatOverhead:
    """Tokens a chat request carries beyond its text (OpenAI cookbook, "How to count tokens
    with tiktoken"): every message is wrapped in 3, a name costs 1, and the reply is primed
    with 3 (<|start|>assistant<|message|>)."""

    per_message: int = 3
    per_name: int = 1
    reply: int = 3


COOKBOOK_OVERHEAD = ChatOverhead()

# Providers whose chat format the cookbook measured; others get the same figures, with a warning.
CHAT_OVERHEAD: dict[str, ChatOverhead] = {"openai": COOKBOOK_OVERHEAD}


# --- the tokenizer of a model ---------------------------------------------------------------


@dataclass(frozen=True)
class ModelTokenizer:
    """How one model's tokens are counted offline."""

    model: str
    encoding: str
    factor: Decimal
    estimate: bool
    reason: str
    overhead: ChatOverhead
    overhead_known: bool
    context_limit: int | None
    """Most input tokens of one request (None: not known)."""
    """Most input tokens one request may carry."""

    def scale(self, raw: int) -> int:
        """A raw encoding count as the model's own count (the calibration factor, rounded)."""
        if self.factor == 1:
            return raw
        return int((Decimal(raw) * self.factor).to_integral_value(rounding=ROUND_HALF_UP))

    def count(self, text: str) -> int:
        return self.scale(count_raw(self.encoding, text))

    def count_messages(self, messages: Sequence[Mapping[str, Any]]) -> int:
        return self.scale(message_tokens_raw(self.encoding, messages, self.overhead))

    def warn_if_overhead_unknown(self) -> None:
        if not self.overhead_known:
            _warn_once(
                f"no chat overhead known for {self.model}; using OpenAI's (3 tokens per message, "
                "1 per name, 3 to prime the reply)"
            )


@functools.cache
def _warn_once(message: str) -> None:
    warnings.warn(message, CostcalcWarning, stacklevel=3)


def _check_model(model: object, table: object, function: str) -> None:
    """TypeError naming ``model`` or ``table`` when it is not a model name or a price table."""
    if model is not None:
        require_type(model, str, "model", function, "a model name (str)")
    if table is not None:
        from costcalc.prices import require_table

        require_table(table, function)


def tokenizer_for(model: str | None = None, table: PriceTable | None = None) -> ModelTokenizer:
    """The tokenizer of ``model`` (an id or alias from the price table; default gpt-4o)."""
    _check_model(model, table, "tokenizer_for")
    name = DEFAULT_MODEL if model is None else model
    # a curated model of the shipped table is looked up without building the table
    fields = shipped_tokenizer(name) if table is None else None
    if fields is None:
        from costcalc.prices import load_price_table

        fields = (table or load_price_table()).tokenizer_fields(name)
    overhead = CHAT_OVERHEAD.get(fields["provider"])
    return ModelTokenizer(
        model=fields["model"],
        encoding=fields["encoding"],
        factor=Decimal(fields["factor"]),
        estimate=fields["estimate"],
        reason=fields["reason"],
        overhead=overhead or COOKBOOK_OVERHEAD,
        overhead_known=overhead is not None,
        context_limit=fields["context_limit"],
    )


# --- counting -------------------------------------------------------------------------------


def count_raw(encoding: str, text: str) -> int:
    """Tokens of ``text`` in ``encoding``; special-token text counts as ordinary text."""
    return len(get_encoding(encoding).encode_ordinary(text))


def _value_text(value: Any) -> Iterable[str]:
    """The text in one message field: a string, or the text parts of a content list."""
    if value is None:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for part in value:
            if isinstance(part, str):
                yield part
            elif isinstance(part, Mapping):
                text = part.get("text")
                if isinstance(text, str):
                    yield text
                elif part.get("type") not in ("image", "image_url", "input_image", "file"):
                    yield _compact_json(part)
    else:
        yield _compact_json(value)


def _compact_json(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


_ROLE_TOKENS: dict[str, dict[str, int]] = {}
"""Tokens of each role name met, per encoding (every message names one of a few)."""
MAX_ROLES_KEPT = 64
"""Role names kept per encoding: a file of made-up roles cannot grow the cache."""


def message_tokens_raw(
    encoding: str, messages: Sequence[Mapping[str, Any]], overhead: ChatOverhead
) -> int:
    """The cookbook's count: every value of every message, plus the overhead.

    Text parts of multi-part content are counted; image parts are not (they are billed by
    size, which text counting cannot see). Other structured values count as compact JSON.
    """
    encode = get_encoding(encoding).encode_ordinary
    roles = _ROLE_TOKENS.setdefault(encoding, {})
    per_message, per_name = overhead.per_message, overhead.per_name
    total = overhead.reply
    for message in messages:
        if not isinstance(message, dict) and not isinstance(message, Mapping):
            raise CostcalcError(
                f"a chat message must be an object with role and content, got {message!r:.60}"
            )
        total += per_message
        for key, value in message.items():
            if type(value) is str:  # the common case, without the generator
                if key == "role":  # a handful of names, each encoded once
                    n = roles.get(value)
                    if n is None:
                        n = len(encode(value))
                        if len(roles) < MAX_ROLES_KEPT:
                            roles[value] = n
                    total += n
                else:
                    total += len(encode(value))
            else:
                for text in _value_text(value):
                    total += len(encode(text))
            if key == "name":
                total += per_name
    return total


def count_tokens(text: str, model: str = DEFAULT_MODEL, table: PriceTable | None = None) -> int:
    """Tokens in ``text`` for ``model``, offline (an estimate for non-OpenAI models).

    >>> count_tokens("Hello world", model="gpt-4o")
    2
    """
    require_type(text, str, "text", "count_tokens", "a str")
    _check_model(model, table, "count_tokens")
    return tokenizer_for(model, table).count(text)


def count_message_tokens(
    messages: Sequence[Mapping[str, Any]],
    model: str = DEFAULT_MODEL,
    table: PriceTable | None = None,
) -> int:
    """Tokens of a chat request (its messages plus the cookbook's overhead) for ``model``."""
    what = "a list of chat messages (dicts)"
    require_type(messages, (list, tuple), "messages", "count_message_tokens", what)
    for i, message in enumerate(messages):
        require_type(message, Mapping, f"messages[{i}]", "count_message_tokens", "a dict")
    _check_model(model, table, "count_message_tokens")
    tok = tokenizer_for(model, table)
    tok.warn_if_overhead_unknown()
    from costcalc.requests import message_problem

    # counted all the same (as `costcalc tokens` counts a file's), but said: a planning
    # script would otherwise price a request no provider takes (a role of 5, no content)
    if (problem := message_problem(list(messages))) is not None:
        where = "messages" if problem.message is None else f"messages[{problem.message}]"
        warnings.warn(
            f"{where} {problem.reason}: a provider would refuse this request (counted anyway)",
            CostcalcWarning,
            stacklevel=2,
        )
    return tok.count_messages(messages)
