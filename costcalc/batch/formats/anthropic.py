"""Anthropic batch lines: ``{"custom_id", "params": {model, max_tokens, messages, system}}``
(the system prompt apart from the messages); a result line has ``result`` with its type."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from costcalc.batch.formats.base import (
    MAX_USAGE_TOKENS,
    NO_TEXT,
    LineFormat,
    LineUsage,
    RequestWriter,
    ResultLine,
    is_object,
    message_problems,
    message_refusal,
    message_shape_problems,
    output_int,
    unknown_usage,
    usage_int,
    with_system,
)
from costcalc.errors import CostcalcError, RequestError, quoted

if TYPE_CHECKING:
    from costcalc.batch.rows import Row

ANTHROPIC_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
"""The custom_ids Anthropic accepts (the strictest shape of the built-in formats)."""


class AnthropicLines(LineFormat):
    name = "anthropic"
    body_key = "params"

    def writer(
        self, *, model: str, max_tokens: int, system: str | None, reasoning: bool = False
    ) -> RequestWriter:
        default_system = system

        def request(custom_id: str, row: Row) -> dict[str, Any]:
            messages, system = claude_messages(row, default_system)
            params: dict[str, Any] = {
                "model": model,
                "max_tokens": max_tokens,
                "messages": messages,
            }
            if system is not None:
                params["system"] = system
            return {"custom_id": custom_id, "params": params}

        return request

    def is_request(self, obj: Mapping[str, Any]) -> bool:
        return "params" in obj

    def is_result(self, obj: Mapping[str, Any]) -> bool:
        return "result" in obj

    def keys_decide(self, keys: tuple[str, ...]) -> bool:
        return True

    def custom_id_problems(self, custom_id: str, where: str) -> list[str]:
        if not ANTHROPIC_ID.fullmatch(custom_id):
            shown_id = quoted(custom_id, 80)
            return [f"{where}: custom_id {shown_id} does not match ^[a-zA-Z0-9_-]{{1,64}}$"]
        return []

    def body_problems(
        self, body: dict[str, Any], where: str, file: dict[str, Any]
    ) -> tuple[list[str], int]:
        problems = []
        max_tokens = 0
        mt = body.get("max_tokens")
        if not isinstance(mt, int) or isinstance(mt, bool) or mt < 1:
            problems.append(f"{where}: params.max_tokens must be a whole number >= 1")
        else:
            max_tokens = mt
        if not isinstance(body.get("messages"), list):
            problems.append(f"{where}: params.messages must be a list")
        else:
            problems += message_problems(body["messages"], f"{where}: params.messages")
            problems += claude_role_problems(body["messages"], f"{where}: params.messages")
        if body.get("stream"):
            problems.append(f"{where}: params.stream is not allowed in a batch")
        return problems, max_tokens

    def message_key_problems(self, body: Mapping[str, Any], where: str) -> list[str]:
        return claude_key_problems(body.get("messages"), f"{where}: params.messages")

    def request_text(self, obj: Mapping[str, Any]) -> Any:
        params = obj.get("params")
        if isinstance(params, dict) and "messages" in params:
            return with_system(params["messages"], params.get("system"))
        return NO_TEXT

    def outcome(self, obj: Mapping[str, Any], where: str) -> ResultLine:
        result = obj["result"]
        if not is_object(result) or result.get("type") not in (
            "succeeded",
            "errored",
            "canceled",
            "expired",
        ):
            raise CostcalcError(
                f"{where}: result.type must be succeeded, errored, canceled or expired"
            )
        kind = result["type"]
        if kind != "succeeded":
            return ("cancelled" if kind == "canceled" else kind), None, None
        message = result.get("message")
        if not is_object(message) or not is_object(message.get("usage")):
            raise CostcalcError(f"{where}: result.message.usage is missing")
        return "succeeded", message["usage"], message.get("model")

    def plain_success(self, obj: dict[str, Any]) -> tuple[LineUsage, Any] | None:
        result = obj.get("result")
        if type(result) is not dict or result.get("type") != "succeeded":
            return None
        message = result.get("message")
        if type(message) is not dict:
            return None
        used = message.get("usage")
        if type(used) is not dict:
            return None
        try:
            return claude_usage(used, ""), message.get("model")
        except CostcalcError:  # the long way says what is wrong, and where
            return None

    def usage(self, used: Mapping[str, Any], where: str) -> LineUsage:
        return claude_usage(used, where)


CLAUDE_ROLES = ("user", "assistant")
"""The roles of Claude's ``messages`` (the system prompt goes apart, in ``system``)."""


_CLAUDE_INPUT_ROLES = (*CLAUDE_ROLES, "system")
"""The roles of the messages Claude's lines are written from (system messages go apart)."""
CLAUDE_MESSAGE_KEYS = ("role", "content")
"""The keys of a Claude message (``cache_control`` belongs on a content block, not here)."""


def claude_role_problems(messages: list[Any], where: str) -> list[str]:
    """Messages whose role Claude's Messages API refuses (a system or tool message among
    them), for ``batch validate``."""
    return [
        f"{where}[{i}].role {quoted(str(m.get('role')))}: Claude takes user and assistant "
        "messages (the system prompt apart, in system)"
        for i, m in enumerate(messages)
        if isinstance(m, Mapping) and m.get("role") not in CLAUDE_ROLES
    ]


def claude_key_problems(messages: Any, where: str) -> list[str]:
    """Keys of a Claude line's messages other than role and content, for ``batch validate``
    (``claude_role_problems`` reports the roles)."""
    return message_shape_problems(messages, where, CLAUDE_MESSAGE_KEYS, None, "Claude")


def claude_messages(row: Row, default_system: str | None) -> tuple[list[Any], str | None]:
    """A row's messages as Claude takes them (Anthropic's API, and Claude on Bedrock): the
    system prompt apart, the row's own or the default first, then any system messages of the
    row, joined by blank lines. A role Claude has no place for (tool), or a key of a message
    other than role and content (name, metadata), is a ``RequestError``."""
    system = row.system if row.system is not None else default_system
    if refused := message_refusal(row.messages, _CLAUDE_INPUT_ROLES, CLAUDE_MESSAGE_KEYS, "Claude"):
        raise RequestError(refused)
    inline = [m for m in row.messages if m.get("role") == "system"]
    messages = [m for m in row.messages if m.get("role") != "system"] if inline else row.messages
    parts = [system] if system else []
    parts += [str(m.get("content", "")) for m in inline]
    return messages, "\n\n".join(parts) if parts else None


def claude_usage(used: Mapping[str, Any], where: str) -> LineUsage:
    """The billed tokens of a Claude Messages usage object (Anthropic's API, and Claude on
    Bedrock): input_tokens excludes cache reads and writes; cache_creation splits the writes
    by lifetime."""
    get = used.get
    uncached, read = get("input_tokens"), get("cache_read_input_tokens", 0)
    written, output = get("cache_creation_input_tokens", 0), get("output_tokens")
    if (  # the common line (whole counts, no 1-hour split): no call per count, per line
        get("cache_creation") is None
        and type(uncached) is int
        and type(read) is int
        and type(written) is int
        and type(output) is int
        and 0 <= uncached <= MAX_USAGE_TOKENS
        and 0 <= read <= MAX_USAGE_TOKENS
        and 0 <= written <= MAX_USAGE_TOKENS
        and 0 <= output <= MAX_USAGE_TOKENS
    ):
        return LineUsage(uncached, read, written, 0, output)
    # else each count as usage_int reads it, in this order (the first bad one is reported)
    if "input_tokens" not in used:
        raise unknown_usage(used, where, "input_tokens")
    written = usage_int(used, "cache_creation_input_tokens", where)
    split = used.get("cache_creation")
    one_hour = usage_int(split, "ephemeral_1h_input_tokens", where) if is_object(split) else 0
    return LineUsage(  # by position: a third faster than by keyword, per result line
        usage_int(used, "input_tokens", where),
        usage_int(used, "cache_read_input_tokens", where),
        max(written - one_hour, 0),
        one_hour,
        output_int(used, "output_tokens", where),
    )
