"""OpenAI batch lines: ``{"custom_id", "method": "POST", "url", "body": {model, messages,
max_tokens}}`` (the Responses API's body: ``{model, input, instructions, max_output_tokens}``);
a result line has ``response`` (status_code, body.usage) or ``error``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from costcalc.batch.formats.base import (
    MAX_USAGE_TOKENS,
    NO_TEXT,
    LineFormat,
    LineUsage,
    Outcome,
    RequestWriter,
    ResultLine,
    cached_part,
    is_object,
    message_problems,
    message_refusal,
    message_shape_problems,
    output_int,
    unknown_usage,
    usage_int,
    with_system,
)
from costcalc.errors import CostcalcError, RequestError, shown

if TYPE_CHECKING:
    from costcalc.batch.rows import Row

OPENAI_URLS = (
    "/v1/chat/completions",
    "/v1/responses",
    "/v1/embeddings",
    "/v1/completions",
    "/v1/moderations",
)
CHAT_URL = "/v1/chat/completions"
RESPONSES_URL = "/v1/responses"
NO_OUTPUT_URLS = ("/v1/embeddings", "/v1/moderations")
"""Endpoints whose requests write no output tokens (no output limit to give)."""
ERROR_OUTCOME: dict[str, Outcome] = {
    "batch_expired": "expired",
    "batch_cancelled": "cancelled",
}
"""Outcomes of failed lines by their error code (any other error: errored)."""
CHAT_ROLES = ("system", "developer", "user", "assistant", "tool", "function")
"""The roles of a Chat Completions message."""
CHAT_MESSAGE_KEYS = (
    "role",
    "content",
    "name",
    "tool_calls",
    "tool_call_id",
    "function_call",
    "refusal",
    "audio",
)
"""The keys of a Chat Completions message (of any role: each role takes some of them)."""
RESPONSES_ROLES = ("system", "developer", "user", "assistant")
"""The roles of a Responses API input message."""
RESPONSES_MESSAGE_KEYS = ("type", "role", "content", "id", "status")
"""The keys of a Responses API input message (an earlier output message has id, status)."""


class OpenAILines(LineFormat):
    name = "openai"
    body_key = "body"

    def writer(
        self, *, model: str, max_tokens: int, system: str | None, reasoning: bool = False
    ) -> RequestWriter:
        default_system = system
        # reasoning models take max_completion_tokens, not max_tokens
        limit = "max_completion_tokens" if reasoning else "max_tokens"

        def request(custom_id: str, row: Row) -> dict[str, Any]:
            system = row.system if row.system is not None else default_system
            messages = row.messages
            if refused := message_refusal(messages, CHAT_ROLES, CHAT_MESSAGE_KEYS, "OpenAI"):
                raise RequestError(refused)
            if system:
                messages = [{"role": "system", "content": system}, *messages]
            return {
                "custom_id": custom_id,
                "method": "POST",
                "url": CHAT_URL,
                "body": {"model": model, "messages": messages, limit: max_tokens},
            }

        return request

    def is_request(self, obj: Mapping[str, Any]) -> bool:
        return "body" in obj or "url" in obj or "method" in obj

    def is_result(self, obj: Mapping[str, Any]) -> bool:
        return "response" in obj or "error" in obj

    def keys_decide(self, keys: tuple[str, ...]) -> bool:
        return True

    def envelope_problems(
        self, obj: Mapping[str, Any], where: str, file: dict[str, Any]
    ) -> list[str]:
        problems = []
        if obj.get("method") != "POST":
            problems.append(f'{where}: method must be "POST", got {shown(obj.get("method"))}')
        url = file.get("url")  # the file's endpoint: its first line's
        line_url = obj.get("url")
        if line_url not in OPENAI_URLS:
            problems.append(
                f"{where}: url {shown(line_url)} is not a batch endpoint ({', '.join(OPENAI_URLS)})"
            )
        elif url is None:
            file["url"] = line_url
        elif line_url != url:
            problems.append(
                f"{where}: url {shown(line_url)} differs from {shown(url)} (one endpoint per file)"
            )
        return problems

    def body_problems(
        self, body: dict[str, Any], where: str, file: dict[str, Any]
    ) -> tuple[list[str], int]:
        problems: list[str] = []
        url = file.get("url")
        if url == RESPONSES_URL:
            limit = "max_output_tokens"
        else:
            limit = "max_completion_tokens" if "max_completion_tokens" in body else "max_tokens"
        mt = body.get(limit)
        max_tokens = mt if isinstance(mt, int) and not isinstance(mt, bool) else 0
        if mt is not None and not 1 <= max_tokens <= MAX_USAGE_TOKENS:  # optional, if given
            problems.append(f"{where}: body.{limit} must be a whole number from 1 to 100,000,000")
            max_tokens = 0
        if url == CHAT_URL:
            if not isinstance(body.get("messages"), list):
                problems.append(f"{where}: body.messages must be a list")
            else:
                problems += message_problems(body["messages"], f"{where}: body.messages")
        elif url == RESPONSES_URL:
            problems += _responses_input_problems(body, where)
        return problems, max_tokens

    def writes_output(self, file: dict[str, Any]) -> bool:
        return file.get("url") not in NO_OUTPUT_URLS

    def output_limit(self, file: dict[str, Any]) -> str:
        return "max_output_tokens" if file.get("url") == RESPONSES_URL else "max_tokens"

    def message_key_problems(self, body: Mapping[str, Any], where: str) -> list[str]:
        return message_shape_problems(
            body.get("messages"), f"{where}: body.messages", CHAT_MESSAGE_KEYS, CHAT_ROLES, "OpenAI"
        )

    def request_text(self, obj: Mapping[str, Any]) -> Any:
        body = obj.get("body")
        if isinstance(body, dict):
            if "messages" in body:
                return with_system(body["messages"])
            if "input" in body:  # the Responses API's text or messages; embeddings' texts
                return (
                    responses_messages(body) if obj.get("url") == RESPONSES_URL else body["input"]
                )
        return NO_TEXT

    def outcome(self, obj: Mapping[str, Any], where: str) -> ResultLine:
        error = obj.get("error")
        response = obj.get("response")
        if error:
            code = error.get("code") if is_object(error) else None
            return ERROR_OUTCOME.get(str(code), "errored"), None, None
        if not is_object(response):
            raise CostcalcError(f"{where}: response is missing")
        status = response.get("status_code")
        if not isinstance(status, int) or isinstance(status, bool):  # not a result, say so
            shown = "missing" if status is None else f"{type(status).__name__}, not a number"
            raise CostcalcError(f"{where}: response.status_code is {shown}")
        if status != 200:
            return "errored", None, None
        body = response.get("body")
        if not is_object(body) or not is_object(body.get("usage")):
            raise CostcalcError(f"{where}: response.body.usage is missing")
        return "succeeded", body["usage"], body.get("model")

    def plain_success(self, obj: dict[str, Any]) -> tuple[LineUsage, Any] | None:
        # a Chat Completions result: error null, status_code 200, whole counts in range
        if obj.get("error") is not None:
            return None
        response = obj.get("response")
        if type(response) is not dict:
            return None
        status = response.get("status_code")
        body = response.get("body")
        if type(status) is not int or status != 200 or type(body) is not dict:
            return None
        used = body.get("usage")
        if type(used) is not dict:
            return None
        prompt = used.get("prompt_tokens")
        output = used.get("completion_tokens")
        details = used.get("prompt_tokens_details") or {}
        cached = (details.get("cached_tokens", 0) or 0) if type(details) is dict else 0
        if (
            type(prompt) is int
            and type(output) is int
            and type(cached) is int
            and 0 <= cached <= prompt <= MAX_USAGE_TOKENS
            and 0 <= output <= MAX_USAGE_TOKENS
        ):
            return LineUsage(prompt - cached, cached, 0, 0, output), body.get("model")
        return None

    def usage(self, used: Mapping[str, Any], where: str) -> LineUsage:
        # Chat Completions (and embeddings): prompt_tokens, completion_tokens; Responses:
        # input_tokens, output_tokens. Each input count includes its cached tokens, each
        # output count its reasoning tokens (billed as output).
        if "prompt_tokens" in used:
            prompt_key, output_key, details_key, cached_key = _CHAT_USAGE
        elif "input_tokens" in used:
            prompt_key, output_key, details_key, cached_key = _RESPONSES_USAGE
        else:
            raise unknown_usage(
                used, where, "prompt_tokens (Chat Completions) or input_tokens (Responses)"
            )
        prompt = usage_int(used, prompt_key, where)
        details = used.get(details_key) or {}
        cached = usage_int(details, "cached_tokens", where) if is_object(details) else 0
        uncached, cached = cached_part(prompt, cached, where, prompt_key, cached_key)
        if output_key == "completion_tokens" and _embedding_usage(used, prompt):
            return LineUsage(uncached, cached, 0, 0, 0)
        return LineUsage(uncached, cached, 0, 0, output_int(used, output_key, where))


def _embedding_usage(used: Mapping[str, Any], prompt: int) -> bool:
    """An embeddings result's usage: prompt_tokens and total_tokens, the same count, and no
    completion count (an embedding has no output; any other usage without one lost it)."""
    return used.get("completion_tokens") is None and used.get("total_tokens") == prompt


_CHAT_USAGE = (
    "prompt_tokens",
    "completion_tokens",
    "prompt_tokens_details",
    "prompt_tokens_details.cached_tokens",
)
_RESPONSES_USAGE = (
    "input_tokens",
    "output_tokens",
    "input_tokens_details",
    "input_tokens_details.cached_tokens",
)
"""(input count, output count, the object holding the cached count, its name in problems)."""


def responses_messages(body: Mapping[str, Any]) -> Any:
    """A Responses API request's input as chat messages, counted as a chat request's are:
    text is one user message; a list is the messages (input items) as given; the
    ``instructions`` are a first system message."""
    given = body["input"]
    messages = [{"role": "user", "content": given}] if isinstance(given, str) else _items(given)
    instructions = body.get("instructions")
    return with_system(messages, instructions if isinstance(instructions, str) else None)


def _items(given: Any) -> Any:
    """A Responses input list with each item that is no message (a tool call, its output, a
    reasoning item: no role) as a user message of its compact JSON, counted as that text
    (its keys and ids too: a little more than the model reads, never less)."""
    import json

    if not isinstance(given, list):
        return given
    return [
        {"role": "user", "content": json.dumps(item, separators=(",", ":"), ensure_ascii=False)}
        if is_object(item) and "role" not in item
        else item
        for item in given
    ]


def _responses_input_problems(body: Mapping[str, Any], where: str) -> list[str]:
    """What the Responses API would refuse in a request's input and instructions (its input
    items take many shapes, messages and tool calls and their outputs: each must be an
    object; the counters say which they cannot count)."""
    from costcalc.requests import blank

    given = body.get("input")
    instructions = body.get("instructions")
    problems = []
    if instructions is not None and not isinstance(instructions, str):
        problems.append(f"{where}: body.instructions must be text")
    if isinstance(given, str):
        if blank(given):
            problems.append(f"{where}: body.input is empty")
    elif isinstance(given, list):
        if not given:
            problems.append(f"{where}: body.input is empty")
        problems += [
            f"{where}: body.input[{i}] must be an object (an input message or item)"
            for i, item in enumerate(given)
            if not is_object(item)
        ]
        if given and not problems:  # its messages as chat lines' are, by their index
            inputs = f"{where}: body.input"
            problems += message_problems(_items(given), inputs)
            messages = [m if "role" in m else None for m in given]
            problems += message_shape_problems(
                messages, inputs, RESPONSES_MESSAGE_KEYS, RESPONSES_ROLES, "OpenAI"
            )
    else:
        problems.append(f"{where}: body.input must be text or a list of input messages")
    return problems
