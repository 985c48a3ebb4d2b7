"""The version of costcalc (read by hatch at build time), and where its data lives."""

from pathlib import Path

__version__ = "0.2.0"

PACKAGE_DIR = Path(__file__).resolve().parent
"""The installed package: its data files (price table, encodings, policy) sit beside the code.
A plain path rather than importlib.resources, whose import costs start-up time and which only
matters for zip imports, where the encodings could not be read anyway."""
