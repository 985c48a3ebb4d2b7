"""AWS Bedrock batch inference lines (a model invocation job's JSONL in S3).

A request line is ``{"recordId": "<custom_id>", "modelInput": {...}}``: ``modelInput`` is the
``InvokeModel`` request body of the job's model. costcalc writes and checks the body of
Anthropic Claude (its Messages API on Bedrock)::

    {"recordId": "row-1", "modelInput": {"anthropic_version": "bedrock-2023-05-31",
     "max_tokens": 1024, "messages": [{"role": "user", "content": "..."}], "system": "..."}}

A result line repeats ``recordId`` and ``modelInput`` and adds ``modelOutput`` (the
``InvokeModel`` response body: for Claude a Messages response with ``usage``:
``input_tokens``, ``output_tokens``, ``cache_read_input_tokens``,
``cache_creation_input_tokens``), or, for a record that failed, ``error`` in place of
``modelOutput``: ``{"errorCode": 400, "errorMessage": "bad request"}``.

What the Bedrock user guide says (read 2026-12-01, stored copies of
https://docs.aws.amazon.com/bedrock/latest/userguide/batch-inference-data.html and
batch-inference-results.html):

- the record id: ``"recordId" : "string"`` (earlier versions of the page: "alphanumeric
  string", and before that "11 character alphanumeric string"; the examples are
  ``CALL0000001`` and ``3223593EFGH``). "If you omit the recordId field, Amazon Bedrock adds it
  in the output", and "the order of records in the output JSONL file is not guaranteed to match
  the order of records in the input": without ids of your own the results cannot be matched to
  the requests, so costcalc requires a non-empty string, unique across the files, and checks
  no character set (the page no longer states one);
- "You specify the model that you want to use when you create the batch inference job": lines
  name no model. ``batch validate``, ``quote`` and ``reconcile`` take it from ``--model`` or
  from the manifest ``batch build`` wrote beside the file, and a ``model`` key in
  ``modelInput`` is a problem (the Claude body has none; integrations that added one saw
  records refused with "Extra inputs are not permitted");
- the job's limits are account quotas (Service Quotas: minimum records per job, records per
  input file and per job, input file size, job size), not fixed figures: costcalc checks
  the request and byte limits per file the provider's price file gives (``batch``), and
  neither the minimum nor the job totals.

Not supported: the bodies of other model families (Amazon Nova and Titan, Meta Llama,
Mistral, Cohere, DeepSeek, OpenAI gpt-oss, ...), the ``Converse`` invocation type (a job
created with ``modelInvocationType: Converse`` takes Converse request bodies), content in S3
(``s3Location`` parts), and output lines of models whose response has no Claude ``usage``.
``batch validate`` reports a body without ``anthropic_version`` as not a Claude body.

The model in a Claude ``modelOutput`` is Anthropic's name for it (``claude-...``), not the
Bedrock model the job ran, and would price the results at another provider's rates:
``outcome`` names no model, and ``reconcile`` takes it from ``--model`` or the manifests of
``--input``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from costcalc.batch.formats.anthropic import (
    claude_key_problems,
    claude_messages,
    claude_role_problems,
    claude_usage,
)
from costcalc.batch.formats.base import (
    NO_TEXT,
    LineFormat,
    LineUsage,
    RequestWriter,
    ResultLine,
    message_problems,
    with_system,
)
from costcalc.errors import CostcalcError, UsageError

if TYPE_CHECKING:
    from costcalc.batch.rows import Row

ANTHROPIC_VERSION = "bedrock-2023-05-31"
"""The ``anthropic_version`` of every Claude request body on Bedrock."""


class BedrockLines(LineFormat):
    name = "bedrock"
    body_key = "modelInput"
    id_name = "recordId"
    names_model = False

    def writer(
        self, *, model: str, max_tokens: int, system: str | None, reasoning: bool = False
    ) -> RequestWriter:
        if "claude" not in model.lower():
            # each model family on Bedrock has its own body; costcalc writes Claude's only
            raise UsageError(
                f"{model}: costcalc writes Bedrock batch lines for Claude models only (the "
                "request body differs per model family)"
            )
        default_system = system

        def request(custom_id: str, row: Row) -> dict[str, Any]:
            messages, system = claude_messages(row, default_system)
            body: dict[str, Any] = {
                "anthropic_version": ANTHROPIC_VERSION,
                "max_tokens": max_tokens,
                "messages": messages,
            }
            if system is not None:
                body["system"] = system
            return {"recordId": custom_id, "modelInput": body}

        return request

    # --- recognising ---------------------------------------------------------------------

    def is_request(self, obj: Mapping[str, Any]) -> bool:
        return "modelInput" in obj or "recordId" in obj

    def is_result(self, obj: Mapping[str, Any]) -> bool:
        return "modelOutput" in obj or "modelInput" in obj or "recordId" in obj

    def keys_decide(self, keys: tuple[str, ...]) -> bool:
        return True

    def custom_id_of(self, obj: Mapping[str, Any]) -> Any:
        return obj.get("recordId")

    def model_of(self, obj: Mapping[str, Any]) -> str | None:
        return None  # the job names the model

    # --- checking ------------------------------------------------------------------------

    def body_problems(
        self, body: dict[str, Any], where: str, file: dict[str, Any]
    ) -> tuple[list[str], int]:
        problems = []
        if "model" in body:
            problems.append(
                f"{where}: modelInput.model is not allowed (the batch job names the model)"
            )
        if body.get("anthropic_version") != ANTHROPIC_VERSION:
            problems.append(
                f'{where}: modelInput.anthropic_version must be "{ANTHROPIC_VERSION}" '
                "(costcalc checks Anthropic Claude bodies only)"
            )
        max_tokens = 0
        mt = body.get("max_tokens")
        if not isinstance(mt, int) or isinstance(mt, bool) or mt < 1:
            problems.append(f"{where}: modelInput.max_tokens must be a whole number >= 1")
        else:
            max_tokens = mt
        if not isinstance(body.get("messages"), list):
            problems.append(f"{where}: modelInput.messages must be a list")
        else:
            problems += message_problems(body["messages"], f"{where}: modelInput.messages")
            problems += claude_role_problems(body["messages"], f"{where}: modelInput.messages")
        return problems, max_tokens

    def message_key_problems(self, body: Mapping[str, Any], where: str) -> list[str]:
        return claude_key_problems(body.get("messages"), f"{where}: modelInput.messages")

    # --- reading -------------------------------------------------------------------------

    def request_text(self, obj: Mapping[str, Any]) -> Any:
        body = obj.get("modelInput")
        if isinstance(body, dict) and "messages" in body:
            return with_system(body["messages"], body.get("system"))
        return NO_TEXT

    # --- results -------------------------------------------------------------------------

    def outcome(self, obj: Mapping[str, Any], where: str) -> ResultLine:
        if obj.get("error"):
            return "errored", None, None
        output = obj.get("modelOutput")
        if not isinstance(output, Mapping):
            raise CostcalcError(f"{where}: modelOutput is missing (and no error is given)")
        if not isinstance(output.get("usage"), Mapping):
            raise CostcalcError(
                f"{where}: modelOutput.usage is missing (costcalc reads Claude output only)"
            )
        return "succeeded", output["usage"], None

    def usage(self, used: Mapping[str, Any], where: str) -> LineUsage:
        return claude_usage(used, where)
