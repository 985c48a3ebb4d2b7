"""`costcalc audit`: recorded LLM traffic (OpenTelemetry spans, OpenAI usage exports,
LiteLLM spend logs) read into usage records, grouped into streams and priced per delivery
mode."""

# --- readers (records.py, otlp.py, openai_usage.py, litellm.py) ---
from costcalc.audit.records import (
    FORMATS,
    BadRecord,
    ReadStats,
    UsageRecord,
    detect_format,
    read_usage,
)

__all__ = [
    # readers
    "FORMATS",
    "BadRecord",
    "ReadStats",
    "UsageRecord",
    "detect_format",
    "read_usage",
]
