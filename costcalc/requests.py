"""Which requests the providers accept: decided here, once.

``batch build`` (its input rows), ``batch validate`` (the messages of a batch line), ``queue
add`` (a task) and ``quote --input-file`` (a request to price) all read a request with
``input_request`` or check its chat messages with ``message_problem``, so they accept and
refuse the same requests. The token counters (``costcalc tokens``, ``count_file``) count
any request but report how many of them ``refused`` would call unacceptable.

A request is refused when a provider would reject it: a prompt with no text (empty, or only
white space and invisible characters: U+FEFF, zero-width spaces and joiners), text that is not
valid Unicode (a lone surrogate, which JSON can write as ``"\\ud800"`` but no encoder can send),
no messages, a message that is not an object with a role, a message whose
content has no text (``""``, ``"  "``, ``[]``, or only empty text parts), or only system
messages (nothing for the model to answer).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from typing import Any, NamedTuple

from costcalc.errors import EMPTY_PROMPT, CostcalcNote, RequestError, quoted

PROMPT_KEYS = ("prompt", "text", "input", "content")
"""Keys of a request object that may hold its prompt, in the order they are looked for."""

EXPECTED_PROMPT = 'expected a prompt: a string, {"prompt": ...}, {"messages": [...]}'
"""Why a value that is no request at all is refused."""

_SYSTEM_ROLES = frozenset({"system", "developer"})

_INVISIBLE = frozenset("\ufeff\u200b\u200c\u200d\u2060\u180e")
"""Characters that show nothing and are no white space to ``str.isspace``: a BOM left inside
a prompt, zero-width spaces, joiners. A prompt of these and white space has no text."""

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
"""Python keeps a JSON escape ``"\\ud800"`` as a lone surrogate, which UTF-8 cannot encode
(a valid pair becomes one character)."""

SURROGATE_REASON = "holds a lone surrogate ({}), which is not valid Unicode"


class Request(NamedTuple):
    """One request as it will be sent: chat messages, and a system prompt apart (if any)."""

    messages: list[dict[str, Any]]
    system: str | None = None
    prompt: str | None = None
    """The text, when the request was given as a bare prompt (one user message)."""


class MessageProblem(NamedTuple):
    """Why a list of chat messages would be refused."""

    message: int | None
    """The message refused (0-based), or None for the list as a whole."""
    reason: str
    """What is wrong, to follow the name of the message or list: ``has no content``."""


def blank(text: str) -> bool:
    """Whether a prompt or a message's text is empty or only white space and invisible
    characters (``_INVISIBLE``)."""
    if not text:
        return True
    first = text[0]  # most text starts visibly: one look decides (hot loop of a big build)
    if not (first.isspace() or first in _INVISIBLE):
        return False
    return text.isspace() or all(c.isspace() or c in _INVISIBLE for c in text)


def lone_surrogate(value: Any) -> str | None:
    """Why ``value`` (a text, or a list or object holding texts, as JSON parses it) is not
    valid Unicode: ``holds a lone surrogate (\\ud800), ...``; None if it is."""
    if isinstance(value, str):
        if value.isascii():  # O(1) in CPython: most text, and no surrogate in it
            return None
        found = _LONE_SURROGATE.search(value)
        return None if found is None else SURROGATE_REASON.format(repr(found[0])[1:-1])
    if isinstance(value, Mapping):
        value = [*value.keys(), *value.values()]
    if isinstance(value, list):
        for item in value:
            if type(item) is str:  # most items: ASCII, decided here without a call
                if item.isascii():
                    continue
            elif not isinstance(item, (str, list, Mapping)):
                continue
            if reason := lone_surrogate(item):
                return reason
    return None


def _has_text(content: Any) -> bool:
    if isinstance(content, str):
        return not blank(content)
    if isinstance(content, list):
        for part in content:
            if isinstance(part, str):
                if not blank(part):
                    return True
            elif isinstance(part, Mapping):
                text = part.get("text")
                if not isinstance(text, str) or not blank(text):
                    return True  # an image, a file, a tool result: content without text
        return False
    return False


def message_problem(messages: Any, surrogates: bool = True) -> MessageProblem | None:
    """Why a provider would refuse these chat messages, or None if it would take them.
    ``surrogates=False``: their texts are known to hold no lone surrogate (orjson read them:
    it refuses one), so none is looked for."""
    if not isinstance(messages, list):
        return MessageProblem(None, "must be a list of chat messages")
    if not messages:
        return MessageProblem(None, "is empty")
    for i, m in enumerate(messages):
        if not isinstance(m, Mapping) or not isinstance(m.get("role"), str):
            return MessageProblem(i, "must be an object with a role")
        if not _has_text(m.get("content")) and not _calls_a_tool(m):
            return MessageProblem(i, "has no content")
        if surrogates and (reason := lone_surrogate(m)):
            return MessageProblem(i, reason)
    if all(m["role"] in _SYSTEM_ROLES for m in messages):
        return MessageProblem(None, "holds only system messages (nothing to answer)")
    return None


def _calls_a_tool(message: Mapping[str, Any]) -> bool:
    """An assistant turn that calls tools (OpenAI's ``tool_calls``, the older
    ``function_call``): its content may be null or absent, and the request is taken."""
    return message.get("role") == "assistant" and bool(
        message.get("tool_calls") or message.get("function_call")
    )


def plain_prompt(obj: dict[str, Any]) -> str | None:
    """The prompt of a request object that is a prompt alone (``{"prompt": "..."}``; keys
    ``input_request`` ignores may be there) when a provider takes it, as ``input_request``
    reads it; None for any other object (``input_request`` then says what it holds or why it
    is refused). The common task of ``queue add``, read without the general steps."""
    prompt = obj.get("prompt")
    if type(prompt) is not str or not prompt or "messages" in obj or "system" in obj:
        return None
    first = prompt[0]
    if first.isspace() or first in _INVISIBLE:  # perhaps blank: decided the general way
        return None
    if not prompt.isascii() and _LONE_SURROGATE.search(prompt):
        return None
    return prompt


def unsent_keys(obj: Mapping[str, Any], kept: tuple[str, ...] = ()) -> list[str]:
    """The keys of a request object that ``input_request`` does not read, bar ``kept`` (a
    ``custom_id`` the queue keeps): a request is sent as its prompt or messages and its system
    alone, so a ``temperature`` or an export's metadata would be dropped without a word."""
    read = set(kept)
    if isinstance(obj.get("system"), str):
        read.add("system")
    if isinstance(obj.get("messages"), list):
        read.add("messages")
    elif (key := next((k for k in PROMPT_KEYS if isinstance(obj.get(k), str)), None)) is not None:
        read.add(key)
    return [k for k in obj if k not in read]


class UnsentKeys:
    """The keys requests held that are not sent (``unsent_keys``), gathered over a file or a
    stream of tasks and said in one note at its end: every key, how many requests had some,
    and where the first was."""

    def __init__(self) -> None:
        self.keys: dict[str, None] = {}  # in the order first met
        self.requests = 0
        self.first = ""

    def add(self, where: str, keys: list[str]) -> None:
        if keys:
            self.requests += 1
            self.first = self.first or where
            self.keys.update(dict.fromkeys(keys))

    def note(self) -> str | None:
        if not self.requests:
            return None
        keys = list(self.keys)
        named = ", ".join(quoted(k, 30) for k in keys[:8]) + (", ..." if len(keys) > 8 else "")
        many = f"{self.requests:,} requests, the first at " if self.requests > 1 else ""
        return (
            f"{named} not sent ({many}{self.first}): a request is its prompt or messages and "
            "system; the model, max_tokens and the rest come from the command"
        )

    def say(self) -> None:
        if (note := self.note()) is not None:
            warnings.warn(note, CostcalcNote, stacklevel=3)


def input_request(obj: Any, field_path: str | None = None) -> Request:
    """The request a parsed input row holds (a prompt string, ``{"prompt": ...}`` or another
    of ``PROMPT_KEYS``, ``{"messages": [...]}`` or a bare list of messages, each with an
    optional ``"system"``; ``field_path``: the dotted path to it), or ``RequestError`` saying
    why a provider would refuse it."""
    if field_path:
        for part in field_path.split("."):
            if isinstance(obj, Mapping) and part in obj:
                obj = obj[part]
            else:
                raise RequestError(f"no field {quoted(field_path)}")
    system = None
    if type(obj) is dict or isinstance(obj, Mapping):  # JSON gives dicts: the cheap test first
        given = obj.get("system")
        if isinstance(given, str):
            system = given
            if reason := lone_surrogate(system):
                raise RequestError(f"system {reason}")
        elif given is not None and not isinstance(given, list):  # (blocks: not sent, noted)
            raise RequestError(f"system must be text, got {type(given).__name__}")
        if isinstance(obj.get("messages"), list):
            obj = obj["messages"]
        else:
            for key in PROMPT_KEYS:  # a loop, not next(genexpr): the hot path of queue add
                if isinstance(text := obj.get(key), str):
                    obj = text
                    break
    if isinstance(obj, str):
        if blank(obj):
            raise RequestError(EMPTY_PROMPT)
        if reason := lone_surrogate(obj):
            raise RequestError(f"text {reason}")
        return Request([{"role": "user", "content": obj}], system, obj)
    if not isinstance(obj, list):
        raise RequestError(EXPECTED_PROMPT)
    # a list of texts is no request batch build writes (a counter may count one)
    texts = bool(obj) and all(isinstance(v, str) for v in obj)
    reason = EXPECTED_PROMPT if texts else refusal(obj)
    if reason is not None:
        raise RequestError(reason)
    return Request([dict(m) for m in obj], system)


def refusal(value: Any, surrogates: bool = True) -> str | None:
    """Why a provider would refuse what is sent as one request's input: text (empty or
    blank), a list of texts, or chat messages; None if it would take it. ``surrogates``
    as for ``message_problem``."""
    if isinstance(value, str):
        if blank(value):
            return EMPTY_PROMPT
        reason = lone_surrogate(value) if surrogates else None
        return None if reason is None else f"text {reason}"
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        if all(blank(v) for v in value):
            return EMPTY_PROMPT
        reason = lone_surrogate(value) if surrogates else None
        return None if reason is None else f"text {reason}"
    problem = message_problem(value, surrogates)
    if problem is None:
        return None
    if problem.message is None:
        return f"messages {problem.reason}"
    return f"message {problem.message + 1} {problem.reason}"


def refused(value: Any) -> bool:
    """Whether ``refusal`` refuses ``value``."""
    return refusal(value) is not None
