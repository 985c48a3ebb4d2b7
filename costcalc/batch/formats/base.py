"""What a batch line format is: the base class every format implements, and the pieces the
formats share (outcomes, billed usage, chat messages, the line encoder)."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Literal, NamedTuple, TypeGuard

from costcalc.errors import CostcalcError, quoted

if TYPE_CHECKING:
    from costcalc.batch.rows import Row
    from costcalc.prices import BatchRule, PriceTable

Outcome = Literal["succeeded", "errored", "expired", "cancelled"]
OUTCOMES: tuple[Outcome, ...] = ("succeeded", "errored", "expired", "cancelled")

RequestWriter = Callable[[str, "Row"], dict[str, Any]]
"""``(custom_id, row) -> the request line as a JSON object``."""

ResultLine = tuple[Outcome, "Mapping[str, Any] | None", "str | None"]
"""A result line's outcome, its usage (succeeded requests only) and the model it names."""


class LineUsage(NamedTuple):
    """One succeeded request's billed tokens: its price tier depends on its own input."""

    input: int
    cached_input: int
    cache_write_5m: int
    cache_write_1h: int
    output: int


class _NoText:
    def __repr__(self) -> str:
        return "NO_TEXT"


NO_TEXT: Any = _NoText()
"""What ``LineFormat.request_text`` returns for a line that is not a request of its format."""


class LineFormat(ABC):
    """One batch line format: how a request is written as one line of a batch file, how a
    line is checked before upload, where its model and text are, and how a result line of
    the provider's output file is read.

    A price file's ``batch.line_format`` names the format of its provider's batch files. To
    add one, subclass this, set ``name`` (and ``body_key``), implement the abstract methods
    and ``register()`` an instance (see ``costcalc.batch.formats``). Every line carries its
    request's id (``custom_id`` at its top level unless ``custom_id_of`` says otherwise, in
    request and result lines alike); the rest is the format's.
    """

    name: ClassVar[str]
    """What price files give as ``batch.line_format`` and ``batch build --provider`` takes."""
    body_key: ClassVar[str] = "body"
    """The key of a request line whose object holds the request: its model, messages and
    output limit (``batch validate`` names it in problems: ``body.model is missing``)."""
    id_name: ClassVar[str] = "custom_id"
    """Where a line holds its id, as problems name it (``recordId``,
    ``request.labels.custom_id``)."""
    names_model: ClassVar[bool] = True
    """Whether a request line names its model (``body_key`` + ``.model``). Formats whose
    batch job names the model instead (Bedrock, Vertex) set False: ``batch validate``,
    ``quote`` and ``reconcile`` then take the model from ``--model`` or from the manifest
    ``batch build`` wrote beside the file."""

    # --- writing -------------------------------------------------------------------------

    @abstractmethod
    def writer(
        self, *, model: str, max_tokens: int, system: str | None, reasoning: bool = False
    ) -> RequestWriter:
        """The function that writes each request line: ``(custom_id, row) -> object``.

        Made once per build or flush and called once per input row (a million times in a
        large build), so settle here everything that does not depend on the row. ``system``
        applies to rows that give none of their own (``row.system``); ``reasoning``: the
        model is a reasoning model (OpenAI limits its output with max_completion_tokens).
        """

    # --- recognising ---------------------------------------------------------------------

    @abstractmethod
    def is_request(self, obj: Mapping[str, Any]) -> bool:
        """Whether a parsed line of a batch file to upload is in this format."""

    @abstractmethod
    def is_result(self, obj: Mapping[str, Any]) -> bool:
        """Whether a parsed line of the provider's output file is in this format."""

    def keys_decide(self, keys: tuple[str, ...]) -> bool:
        """Whether ``is_result`` of a line with these keys depends on nothing else, so that
        the format found for one such line is that of the next (reconcile keeps it, rather
        than ask every format again for each of millions of lines). False unless the format
        says so (a subclass whose ``is_result`` reads more must say so again)."""
        return False

    def custom_id_of(self, obj: Mapping[str, Any]) -> Any:
        """A request or result line's id (any JSON value: the caller checks it is a string)."""
        return obj.get("custom_id")

    # --- checking (batch validate) -------------------------------------------------------
    # ``where`` is "file:line" to start each problem with; ``file`` is scratch state the
    # format may keep for the file being checked (a new dict for each file).

    def custom_id_problems(self, custom_id: str, where: str) -> list[str]:
        """Problems with the shape of a line's custom_id (its uniqueness is checked for you)."""
        return []

    def envelope_problems(
        self, obj: Mapping[str, Any], where: str, file: dict[str, Any]
    ) -> list[str]:
        """Problems with the keys of a line outside ``body_key`` (an endpoint, a method)."""
        return []

    @abstractmethod
    def body_problems(
        self, body: dict[str, Any], where: str, file: dict[str, Any]
    ) -> tuple[list[str], int]:
        """Problems with the request object (its model is checked for you), and the line's
        output limit to add up (0 when it gives none)."""

    def writes_output(self, file: dict[str, Any]) -> bool:
        """Whether the file's requests write output tokens (OpenAI's embeddings do not): a
        request that does and gives no output limit leaves its output size unknown, and
        ``batch quote`` asks for one rather than quote it at 0 tokens. ``file``: the scratch
        state of the checks, read after them."""
        return True

    def output_limit(self, file: dict[str, Any]) -> str:
        """The name of the request field that gives the file's output limit, as a message
        about a request without one names it. ``file``: the scratch state of the checks."""
        return "max_tokens"

    def message_key_problems(self, body: Mapping[str, Any], where: str) -> list[str]:
        """Keys (and roles, where ``body_problems`` does not check them) of the request's chat
        messages that the provider does not take; ``where`` names the line and its id
        (``message_shape_problems`` writes them)."""
        return []

    # --- reading (token counts, batch quote) ---------------------------------------------

    def model_of(self, obj: Mapping[str, Any]) -> str | None:
        """The model a request line names, or None."""
        holder = obj.get(self.body_key)
        if isinstance(holder, Mapping) and isinstance(holder.get("model"), str):
            return str(holder["model"])
        return None

    @abstractmethod
    def request_text(self, obj: Mapping[str, Any]) -> Any:
        """What to count as a request line's input: a string, a list of strings, or chat
        messages (``with_system`` puts a system prompt first); ``NO_TEXT`` when the line
        holds no request of this format. Raise ``RequestError`` (costcalc.errors)
        for a request that is malformed."""

    # --- results (batch reconcile) -------------------------------------------------------

    @abstractmethod
    def outcome(self, obj: Mapping[str, Any], where: str) -> ResultLine:
        """A result line's outcome, its usage object if it succeeded (else None) and the
        model it names; a line that cannot be read raises ``CostcalcError``."""

    @abstractmethod
    def usage(self, used: Mapping[str, Any], where: str) -> LineUsage:
        """The billed tokens of a succeeded result's usage object (``usage_int`` reads one)."""

    def plain_success(self, obj: dict[str, Any]) -> tuple[LineUsage, Any] | None:
        """The billed tokens and the model (any JSON value) of a succeeded result line of
        the usual shape, where every check ``outcome`` and ``usage`` make passes, as they
        give them; None for any other line, which they then read (and say what is wrong
        with). A quick way through the millions of lines reconcile reads; a format need not
        have one (tests/test_reconcile_sums.py checks each against the long way)."""
        return None

    # --- limits --------------------------------------------------------------------------

    def batch_rule(self, table: PriceTable) -> BatchRule | None:
        """The Batch API rule whose limits a file in this format is checked against when
        none are given: the provider named like the format, else the first provider whose
        price file names this format."""
        named = table.providers.get(self.name)
        if named is not None:
            return named.batch
        for prov in table.providers.values():
            if prov.batch is not None and prov.batch.line_format == self.name:
                return prov.batch
        return None


# --- shared by the formats -------------------------------------------------------------------


def with_system(messages: Any, system: Any = None) -> Any:
    """Chat messages as counted, with ``system`` (if any) as a first system message."""
    if not isinstance(messages, list):  # a string here is a malformed request, not a prompt
        from costcalc.errors import RequestError

        kind = type(messages).__name__ if messages is not None else "null"
        raise RequestError(f"messages must be a list of chat messages, got {kind}")
    if system:
        return [{"role": "system", "content": system}, *messages]
    return messages


def message_problems(messages: list[Any], where: str) -> list[str]:
    """What a provider would reject in a list of chat messages (``costcalc.requests``
    decides, for every command that reads requests)."""
    from costcalc.requests import message_problem

    problem = message_problem(messages)
    if problem is None:
        return []
    if problem.message is None:
        return [f"{where} {problem.reason}"]
    return [f"{where}[{problem.message}] {problem.reason}"]


def _phrase(words: tuple[str, ...]) -> str:
    """``a, b and c``."""
    return " and ".join([", ".join(words[:-1]), words[-1]]) if len(words) > 1 else words[0]


def message_refusal(
    messages: list[dict[str, Any]], roles: tuple[str, ...], keys: tuple[str, ...], family: str
) -> str | None:
    """Why a provider (``family``: ``Claude``) would refuse a request for its messages' roles
    or keys (``batch build`` and ``queue flush`` refuse it, naming the message; dropping a key
    would change the request), or None. ``roles`` and ``keys``: those the format writes."""
    for i, m in enumerate(messages):
        role = m.get("role")
        if role not in roles:
            return (
                f"messages[{i}]: role {quoted(str(role))}: {family}'s batch requests take "
                f"{_phrase(roles)} messages only"
            )
        if len(m) != 2 or "content" not in m:  # else role and content: the common case
            key = next((k for k in m if k not in keys), None)
            if key is not None:
                return (
                    f"messages[{i}]: key {quoted(str(key))}: {family}'s batch requests take "
                    f"{_phrase(keys)} on a message only"
                )
    return None


def message_shape_problems(
    messages: Any,
    where: str,
    keys: tuple[str, ...],
    roles: tuple[str, ...] | None,
    family: str,
    item: str = "message",
) -> list[str]:
    """The keys (and, given ``roles``, the roles) of a request line's chat messages that the
    provider does not take, for ``batch validate`` (``where``: ``file:line: body.messages``;
    ``item``: what the list holds, as the provider calls it)."""
    if not isinstance(messages, list):
        return []  # reported as not a list by the format's body checks
    problems = []
    for i, m in enumerate(messages):
        if not isinstance(m, Mapping):
            continue
        role = m.get("role")
        if roles is not None and isinstance(role, str) and role not in roles:
            problems.append(
                f"{where}[{i}].role {quoted(role)}: {family} takes {_phrase(roles)} messages"
            )
        problems += [
            f"{where}[{i}] has key {quoted(str(k))}, which {family} does not take on a {item} "
            f"(it takes {_phrase(keys)})"
            for k in m
            if k not in keys
        ]
    return problems


def is_object(value: Any) -> TypeGuard[Mapping[str, Any]]:
    """Whether a parsed value is a JSON object (a dict, or any Mapping given by Python code).
    The dict is tested first: ``isinstance`` against the ``Mapping`` ABC costs several times
    more, and reconcile asks this a few times for each of millions of lines."""
    return type(value) is dict or isinstance(value, Mapping)


MAX_USAGE_TOKENS = 10**8
"""The most tokens one result may bill in one count (``workload.MAX_TOKENS_PER_REQUEST``): no
model takes 100 million tokens in a request, so a bigger count is a corrupt line, not a cost."""


def usage_int(usage: Mapping[str, Any], key: str, where: str) -> int:
    """A token count of a usage object (absent or null: 0)."""
    value = usage.get(key, 0) or 0
    if type(value) is int and 0 <= value <= MAX_USAGE_TOKENS:  # the common case first
        return value
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise CostcalcError(f"{where}: usage.{key} must be a whole number >= 0, got {value!r}")
    if value > MAX_USAGE_TOKENS:
        raise CostcalcError(
            f"{where}: usage.{key} is {value:,}, more tokens than any request bills (at most "
            f"{MAX_USAGE_TOKENS:,}): a corrupt result line?"
        )
    return value


def unknown_usage(
    used: Mapping[str, Any], where: str, expected: str, what: str = "tokens"
) -> CostcalcError:
    """The error of a succeeded result whose usage holds none of the counts its format reads
    (``expected`` names them; ``what`` says which tokens that leaves unknown): a request that
    succeeded is never billed as 0 tokens without a word."""
    from costcalc.errors import printable

    keys = ", ".join(printable(str(k), 40) for k in list(used)[:8]) or "none"
    return CostcalcError(
        f"{where}: usage has no {expected}, so its {what} are unknown (its keys: {keys}): "
        "a usage costcalc cannot read"
    )


def output_int(used: Mapping[str, Any], key: str, where: str) -> int:
    """The output count ``key`` of a succeeded result's usage, which must be there: absent
    (or null) it is unknown, not 0 (a usage that dropped it would bill the output as free)."""
    if used.get(key) is None:
        raise unknown_usage(used, where, key, "output tokens")
    return usage_int(used, key, where)


def cached_part(
    prompt: int, cached: int, where: str, prompt_key: str, cached_key: str
) -> tuple[int, int]:
    """(uncached, cached) input tokens of a usage whose prompt count includes its cached
    tokens; more cached than prompt tokens is a usage no provider bills."""
    if cached > prompt:
        raise CostcalcError(
            f"{where}: usage.{cached_key} ({cached:,}) exceeds usage.{prompt_key} ({prompt:,}), "
            "which includes it"
        )
    return prompt - cached, cached


def _compact_encoder() -> Callable[[Any], str]:
    """Compact, non-ASCII-escaping JSON, set up once: json.dumps and JSONEncoder.encode
    build their C encoder again on every call, a third of the cost of a short line."""
    slow = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - a Python without the C accelerator
        return slow

    def default(value: Any) -> Any:
        raise TypeError(f"cannot write {type(value).__name__} as JSON")

    try:
        fast = make(
            None, default, json.encoder.encode_basestring, None, ":", ",", False, False, True
        )
        if "".join(fast({"a": ["é", 1]}, 0)) != slow({"a": ["é", 1]}):
            return slow  # pragma: no cover - the private signature changed
    except TypeError:  # pragma: no cover - likewise
        return slow
    return lambda obj: "".join(fast(obj, 0))


_ENCODE = _compact_encoder()


def encode_line(obj: Mapping[str, Any]) -> bytes:
    """One compact JSONL line."""
    return (_ENCODE(obj) + "\n").encode("utf-8")
