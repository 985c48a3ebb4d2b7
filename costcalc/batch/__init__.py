"""Batch files: line formats, one object per format, chosen by the provider's price file
(``formats``), input rows (``rows``), the part writer (``writer``), ``build``, ``validate``,
``quote``, ``reconcile`` and the SQLite ``queue``."""
