"""Recorded traffic -> what it cost and what batch or flex would have saved (costcalc audit):
OpenTelemetry spans, OpenAI usage exports and LiteLLM spend logs read into usage records
(records.py and a module per format), grouped into streams (streams.py) and priced per
delivery mode (plan.py).

``costcalc.audit(...)`` is the function (``costcalc.audit.plan.audit``); this package is
callable too, so ``costcalc.audit(...)`` works whether ``costcalc.audit`` was reached as the
public function or, after ``import costcalc.audit.records``, as this package.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from costcalc.audit.records import (
    FORMATS,
    BadRecord,
    ReadStats,
    UsageRecord,
    detect_format,
    read_usage,
)

__all__ = [
    "FORMATS",
    "BadRecord",
    "ReadStats",
    "UsageRecord",
    "detect_format",
    "read_usage",
]


class _CallablePackage(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from costcalc.audit.plan import audit

        return audit(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
