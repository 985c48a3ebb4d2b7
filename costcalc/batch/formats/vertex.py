"""Google Vertex AI batch inference lines for Gemini (a batch prediction job's JSONL in Cloud
Storage).

A request line is ``{"request": {...}}``, the request a ``generateContent`` call takes::

    {"request": {"contents": [{"role": "user", "parts": [{"text": "..."}]}],
     "systemInstruction": {"parts": [{"text": "..."}]},
     "generationConfig": {"maxOutputTokens": 1024}, "labels": {"custom_id": "row-1"}}}

A result line repeats ``request`` and adds ``status`` (empty when the request succeeded),
``processed_time`` and, for a request that succeeded, ``response`` (a ``generateContent``
response: ``usageMetadata`` with ``promptTokenCount`` (cached tokens included),
``cachedContentTokenCount``, ``candidatesTokenCount`` and ``thoughtsTokenCount``, both billed
as output); a failed request has its error in ``status`` and no ``response``.

Where the id goes. The JSONL input of a Gemini batch job has no id field: each line is
"a request to the model, following the same format for Gemini API" (read 2026-12-01, stored
copy of https://cloud.google.com/vertex-ai/generative-ai/docs/multimodal/batch-prediction-from-cloud-storage),
and the job's output repeats each line's ``request``. The one place in a request for a value
of one's own is ``labels`` ("You can add custom metadata to generateContent ... API calls by
using labels", https://cloud.google.com/vertex-ai/generative-ai/docs/multimodal/add-labels-to-api-calls),
so ``custom_id`` is the label ``custom_id``, and results are matched to requests by it, as
other batch clients do (LiteLLM, ruby_llm and bifrost each write their id into
``request.labels``). A label value must be at most 63 characters, "lowercase letters,
numeric characters, underscores, and dashes" (international letters too), so costcalc's ids
for Vertex are lower case (``batch build --id-prefix`` is checked likewise); a request may
have up to 64 labels. Labels reach Cloud Billing, whose page says a label key with over 1,000
unique values over the billing account's lifetime may be deleted without notice: the key then
no longer breaks down the bill, which costcalc does not need (the output still holds it).

The model: "MODEL_PATH: the publisher model name, for example,
publishers/google/models/gemini-2.5-flash" is given when the job is created, so lines name
none: ``batch validate``, ``quote`` and ``reconcile`` take it from ``--model`` or from the
manifest ``batch build`` wrote beside the file. A response's ``modelVersion`` names a version
(``gemini-2.0-flash-001``), not the job's model, so ``outcome`` names no model.

Not supported: parts other than text (``inlineData``, ``fileData``: counted as no tokens),
tools, BigQuery input and output, and the Gemini Developer API's batch files (their lines
carry a ``key`` beside ``request``: not this format).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from costcalc.batch.formats.base import (
    NO_TEXT,
    LineFormat,
    LineUsage,
    RequestWriter,
    ResultLine,
    cached_part,
    message_refusal,
    message_shape_problems,
    output_int,
    unknown_usage,
    usage_int,
)
from costcalc.errors import CostcalcError, RequestError, UsageError, quoted, shown

if TYPE_CHECKING:
    from costcalc.batch.rows import Row

ID_LABEL = "custom_id"
"""The label of ``request.labels`` that holds a request's custom_id."""
LABEL_MAX = 63
"""Most characters of a label key or value."""
LABELS_MAX = 64
"""Most labels on one request (Google models)."""
ROLES = ("user", "model")
CONTENT_KEYS = ("role", "parts")
"""The keys of a content of ``contents``, as the writer makes them (text parts)."""
INPUT_ROLES = ("user", "assistant", "system")
"""The roles of the chat messages Gemini's lines are written from (system goes apart)."""
INPUT_KEYS = ("role", "content")
"""The keys of those messages: any other has no place in a content, and would be dropped."""


def label_ok(text: str, key: bool = False) -> bool:
    """Whether ``text`` is a label value (or key): at most 63 lower-case letters (any
    script), digits, ``_`` and ``-``; a key is not empty and starts with a letter."""
    if len(text) > LABEL_MAX or (key and (not text or not text[0].isalpha())):
        return False
    return all(c in "_-" or c.isdigit() or (c.isalpha() and not c.isupper()) for c in text)


def _parts(content: Any) -> list[dict[str, Any]]:
    """A chat message's content as Gemini parts (text only)."""
    if isinstance(content, str):
        return [{"text": content}]
    if isinstance(content, list):
        return [
            {"text": p["text"]} if isinstance(p, Mapping) and isinstance(p.get("text"), str)
            else {"text": str(p)}
            for p in content
        ]  # fmt: skip
    return [{"text": str(content)}]


class VertexLines(LineFormat):
    name = "vertex"
    body_key = "request"
    id_name = f"request.labels.{ID_LABEL}"
    names_model = False

    def writer(
        self, *, model: str, max_tokens: int, system: str | None, reasoning: bool = False
    ) -> RequestWriter:
        if "gemini" not in model.lower():
            # Claude and open models on Vertex AI take their own request bodies, not Gemini's
            raise UsageError(
                f"{model}: costcalc writes Vertex AI batch lines for Gemini models only (the "
                "request body differs per model family)"
            )
        config = {"maxOutputTokens": max_tokens}  # the same for every line: made once
        default_instruction = {"parts": [{"text": system}]} if system else None

        def request(custom_id: str, row: Row) -> dict[str, Any]:
            messages = row.messages
            if refused := message_refusal(messages, INPUT_ROLES, INPUT_KEYS, "Gemini"):
                raise RequestError(refused)  # a tool's answer is no user's; a key, no part
            inline: list[str] = []  # system messages: Gemini takes them apart, as Claude does
            if len(messages) == 1 and messages[0].get("role") == "user":  # a prompt
                contents = [{"role": "user", "parts": _parts(messages[0].get("content"))}]
            else:
                contents = []
                for m in messages:
                    role = m.get("role")
                    if role == "system":
                        inline.append(str(m.get("content", "")))
                    else:
                        role = "model" if role == "assistant" else "user"
                        contents.append({"role": role, "parts": _parts(m.get("content"))})
            own = row.system
            if inline or own is not None:  # the row's system prompt replaces the default
                first = own if own is not None else system
                texts = [first, *inline] if first else inline
                instruction = {"parts": [{"text": "\n\n".join(texts)}]} if texts else None
            else:
                instruction = default_instruction
            req: dict[str, Any] = {"contents": contents}
            if instruction is not None:
                req["systemInstruction"] = instruction
            req["generationConfig"] = config
            req["labels"] = {ID_LABEL: custom_id}
            return {"request": req}

        return request

    # --- recognising ---------------------------------------------------------------------

    def is_request(self, obj: Mapping[str, Any]) -> bool:
        return "request" in obj

    def is_result(self, obj: Mapping[str, Any]) -> bool:
        # "in" first: the Mapping check is slow, and most lines of other formats lack the key
        return (
            "request" in obj
            and isinstance(obj.get("request"), Mapping)
            and ("response" in obj or "status" in obj or "processed_time" in obj)
        )

    def keys_decide(self, keys: tuple[str, ...]) -> bool:
        return "request" not in keys  # the request's type decides too

    def custom_id_of(self, obj: Mapping[str, Any]) -> Any:
        req = obj.get("request")
        labels = req.get("labels") if isinstance(req, Mapping) else None
        return labels.get(ID_LABEL) if isinstance(labels, Mapping) else None

    def model_of(self, obj: Mapping[str, Any]) -> str | None:
        return None  # the job names the model

    # --- checking ------------------------------------------------------------------------

    def custom_id_problems(self, custom_id: str, where: str) -> list[str]:
        if not label_ok(custom_id):
            return [
                f"{where}: {self.id_name} {quoted(custom_id, 80)} must be at most 63 lower-case "
                "letters, digits, _ or - (a label value)"
            ]
        return []

    def body_problems(
        self, body: dict[str, Any], where: str, file: dict[str, Any]
    ) -> tuple[list[str], int]:
        problems = _contents_problems(body.get("contents"), f"{where}: request.contents")
        instruction = body.get("systemInstruction")
        if instruction is not None and not (
            isinstance(instruction, Mapping) and isinstance(instruction.get("parts"), list)
        ):
            problems.append(f"{where}: request.systemInstruction must be an object with parts")
        max_tokens = 0
        config = body.get("generationConfig")
        if config is not None:
            limit = config.get("maxOutputTokens") if isinstance(config, Mapping) else None
            if not isinstance(config, Mapping):
                problems.append(f"{where}: request.generationConfig must be an object")
            elif limit is not None:
                if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
                    problems.append(
                        f"{where}: request.generationConfig.maxOutputTokens must be a whole "
                        "number >= 1"
                    )
                else:
                    max_tokens = limit
        problems += _label_problems(body.get("labels"), f"{where}: request.labels")
        return problems, max_tokens

    def output_limit(self, file: dict[str, Any]) -> str:
        return "generationConfig.maxOutputTokens"

    def message_key_problems(self, body: Mapping[str, Any], where: str) -> list[str]:
        return message_shape_problems(
            body.get("contents"),
            f"{where}: request.contents",
            CONTENT_KEYS,
            None,
            "Gemini",
            "content",
        )

    # --- reading -------------------------------------------------------------------------

    def request_text(self, obj: Mapping[str, Any]) -> Any:
        req = obj.get("request")
        if not isinstance(req, dict) or "contents" not in req:
            return NO_TEXT
        contents = req["contents"]
        if not isinstance(contents, list):
            kind = type(contents).__name__ if contents is not None else "null"
            raise RequestError(f"request.contents must be a list of contents, got {kind}")
        # the text of every part, system instruction first, each counted as it is (no chat
        # overhead: Gemini's is not known)
        parts: list[Any] = []
        instruction = req.get("systemInstruction") or req.get("system_instruction")
        if isinstance(instruction, Mapping) and isinstance(instruction.get("parts"), list):
            parts += instruction["parts"]
        for content in contents:
            if isinstance(content, Mapping) and isinstance(content.get("parts"), list):
                parts += content["parts"]
        return [
            part["text"]
            for part in parts
            if isinstance(part, Mapping) and isinstance(part.get("text"), str)
        ]

    # --- results -------------------------------------------------------------------------

    def outcome(self, obj: Mapping[str, Any], where: str) -> ResultLine:
        response = obj.get("response")
        if isinstance(response, Mapping) and response:
            used = response.get("usageMetadata")
            if not isinstance(used, Mapping):
                raise CostcalcError(f"{where}: response.usageMetadata is missing")
            return "succeeded", used, None
        if obj.get("status"):  # the error of a request that failed
            return "errored", None, None
        raise CostcalcError(f"{where}: neither a response nor an error status")

    def usage(self, used: Mapping[str, Any], where: str) -> LineUsage:
        # promptTokenCount includes the cached tokens; thinking is billed as output
        if "promptTokenCount" not in used:
            raise unknown_usage(used, where, "promptTokenCount")
        prompt = usage_int(used, "promptTokenCount", where)
        cached = usage_int(used, "cachedContentTokenCount", where)
        thoughts = usage_int(used, "thoughtsTokenCount", where)
        if used.get("candidatesTokenCount") is None and _no_candidates(used, prompt + thoughts):
            output = thoughts
        else:
            output = output_int(used, "candidatesTokenCount", where) + thoughts
        uncached, cached = cached_part(
            prompt, cached, where, "promptTokenCount", "cachedContentTokenCount"
        )
        return LineUsage(uncached, cached, 0, 0, output)


def _no_candidates(used: Mapping[str, Any], billed: int) -> bool:
    """Gemini's JSON leaves out a zero count: a usage without candidatesTokenCount produced
    no candidate tokens when its totalTokenCount is the counts it has (prompt, thinking,
    tool-use prompt); without that total the output is unknown, not 0."""
    tool = used.get("toolUsePromptTokenCount") or 0
    total = used.get("totalTokenCount")
    return type(total) is int and type(tool) is int and total == billed + tool


def _contents_problems(contents: Any, where: str) -> list[str]:
    """What the API refuses in ``contents``: none, a content that is not an object, a role
    other than user or model, no parts."""
    if not isinstance(contents, list):
        return [f"{where} must be a list"]
    if not contents:
        return [f"{where} is empty"]
    for i, content in enumerate(contents):
        if not isinstance(content, Mapping):
            return [f"{where}[{i}] must be an object"]
        role = content.get("role")
        if role is not None and role not in ROLES:
            return [f"{where}[{i}].role must be user or model, got {shown(role)}"]
        parts = content.get("parts")
        if not isinstance(parts, list) or not parts:
            return [f"{where}[{i}] has no parts"]
    return []


def _label_problems(labels: Any, where: str) -> list[str]:
    if labels is None:
        return []
    if not isinstance(labels, Mapping):
        return [f"{where} must be an object"]
    problems = []
    if len(labels) > LABELS_MAX:
        problems.append(f"{where}: {len(labels)} labels, over the limit of {LABELS_MAX}")
    for key, value in labels.items():
        if key == ID_LABEL:
            continue  # checked as the line's id
        if not label_ok(key, key=True):
            problems.append(f"{where}: key {shown(key)} is not a label key")
        elif not isinstance(value, str) or not label_ok(value):
            problems.append(f"{where}.{key}: {shown(value)} is not a label value")
    return problems
