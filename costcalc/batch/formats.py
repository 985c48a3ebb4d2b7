"""Provider line formats: how a request is written as one line of a batch file."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from costcalc.batch.rows import Row

if TYPE_CHECKING:
    pass


Provider = Literal["openai", "anthropic"]
ANTHROPIC_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
OPENAI_URLS = (
    "/v1/chat/completions",
    "/v1/responses",
    "/v1/embeddings",
    "/v1/completions",
    "/v1/moderations",
)

# --- provider lines ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LineFormat:
    provider: Provider
    model: str
    max_tokens: int
    system: str | None
    reasoning: bool
    """OpenAI reasoning models take max_completion_tokens, not max_tokens."""

    def request(self, custom_id: str, row: Row) -> dict[str, Any]:
        system = row.system if row.system is not None else self.system
        messages = row.messages
        if self.provider == "anthropic":
            # Anthropic takes the system prompt apart from the messages
            inline = [m for m in messages if m.get("role") == "system"]
            messages = [m for m in messages if m.get("role") != "system"]
            parts = [system] if system else []
            parts += [str(m.get("content", "")) for m in inline]
            params: dict[str, Any] = {
                "model": self.model,
                "max_tokens": self.max_tokens,
                "messages": messages,
            }
            if parts:
                params["system"] = "\n\n".join(parts)
            return {"custom_id": custom_id, "params": params}
        if system:
            messages = [{"role": "system", "content": system}, *messages]
        limit = "max_completion_tokens" if self.reasoning else "max_tokens"
        return {
            "custom_id": custom_id,
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {"model": self.model, "messages": messages, limit: self.max_tokens},
        }


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
