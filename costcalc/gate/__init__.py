"""The pull-request gate: every config checked (and compared with a base) in one result.

``gate_configs`` computes; ``costcalc.render.gate`` writes the comment, the job summary and
the annotations from it; ``ci``, ``comments``, ``github`` and ``gitlab`` post the comment.
"""

from __future__ import annotations

from costcalc.gate.configs import find_configs
from costcalc.gate.report import ConfigGate, GateIssue, GateReport, gate_configs, marker_for

__all__ = ["ConfigGate", "GateIssue", "GateReport", "find_configs", "gate_configs", "marker_for"]
