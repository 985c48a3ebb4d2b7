"""Batch files: line formats per provider (``formats``), input rows (``rows``), the part
writer (``writer``), ``build``, ``validate``, ``quote``, ``reconcile`` and the SQLite ``queue``."""
