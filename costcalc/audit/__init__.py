"""Recorded traffic -> what it cost and what batch or flex would have saved (costcalc audit)."""
