"""Recorded traffic -> what it cost and what batch or flex would have saved (costcalc audit).

``costcalc.audit(...)`` is the function (``costcalc.audit.plan.audit``); this package is
callable too, so ``costcalc.audit(...)`` works whether ``costcalc.audit`` was reached as the
public function or, after ``import costcalc.audit.records``, as this package.
"""

from __future__ import annotations

import sys
import types
from typing import Any


class _CallablePackage(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from costcalc.audit.plan import audit

        return audit(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
