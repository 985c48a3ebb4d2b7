"""Table helpers every renderer shares: aligned text, Markdown and CSV tables."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

Row = Sequence[Any]


def capitalized(text: str) -> str:
    """The text with its first letter in upper case (the rest untouched, unlike str.capitalize)."""
    return text[:1].upper() + text[1:]


def text_table(headers: Row, rows: Iterable[Row], right: Iterable[int] = ()) -> str:
    """Aligned plain-text columns; ``right`` lists column indexes to right-align."""
    body = [[str(c) for c in r] for r in rows]
    head = [str(h) for h in headers]
    widths = [len(h) for h in head]
    for r in body:
        widths = [max(w, len(c)) for w, c in zip(widths, r, strict=True)]
    right_set = set(right)

    def line(cells: list[str]) -> str:
        out = [
            c.rjust(w) if i in right_set else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(out).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(head), rule, *(line(r) for r in body)]) + "\n"


def markdown_table(headers: Row, rows: Iterable[Row], right: Iterable[int] = ()) -> str:
    right_set = set(right)
    head = "| " + " | ".join(str(h) for h in headers) + " |"
    align = "|" + "|".join("---:" if i in right_set else "---" for i in range(len(headers))) + "|"
    body = ["| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join([head, align, *body]) + "\n"


def csv_text(headers: Row, rows: Iterable[Row]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(headers)
    writer.writerows(rows)
    return buf.getvalue()
