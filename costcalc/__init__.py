"""costcalc: what an LLM API workload costs under each delivery mode, and how long it takes."""

__version__ = "0.1.0"
