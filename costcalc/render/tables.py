"""Table helpers every renderer shares: aligned text, Markdown and CSV tables, user text made
safe for each (``plain``, ``md``), and a comment cut to GitHub's length limit."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

Row = Sequence[Any]

COMMENT_LIMIT = 65536
"""GitHub's limit on a comment's length (characters)."""
MAX_TEXT = 300
"""The longest user string shown; longer ones are cut (the JSON result has them whole)."""

_MD = re.compile(r"([\\`*_{}\[\]()#!~$])")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "|": "&#124;"}


def md(text: object) -> str:
    """``text`` (a workload name, a path, a message quoting them) as literal Markdown text,
    safe in a paragraph, a list item or a table cell: HTML and Markdown syntax written as
    text, newlines and control characters flattened, ``@mentions`` broken with a zero-width
    space, so a name can neither close a ``<details>``, add an image nor ping a team."""
    flat = "".join(c if c.isprintable() else " " for c in str(text))
    flat = " ".join(flat.split())
    if len(flat) > MAX_TEXT:
        flat = flat[: MAX_TEXT - 1] + "…"
    # Markdown's backslashes first: the entities' own "#" and ";" are not text to escape
    flat = _MD.sub(r"\\\1", flat)
    flat = "".join(_HTML.get(c, c) for c in flat)
    return flat.replace("@", "@\u200b")


def plain(text: object) -> str:
    """``text`` on one line for the terminal and CI logs, never read as a runner command:
    control characters flattened, a cell that starts with ``::`` quoted, and ``##[`` (a
    command anywhere in a line) broken, so a workload named ``::error::pwned`` cannot write
    an annotation."""
    flat = " ".join("".join(c if c.isprintable() else " " for c in str(text)).split())
    flat = flat.replace("##[", "#\u200b#[")
    return f'"{flat}"' if flat.startswith("::") else flat


def cut_to_fit(assemble: Callable[[int, str], str], keep: int, limit: int = COMMENT_LIMIT) -> str:
    """``assemble(keep, "")``, or when longer than ``limit`` characters, ``assemble`` with
    fewer lines of each list (halved until it fits) and a note saying so."""
    text = assemble(keep, "")
    while len(text) > limit and keep > 0:
        keep = keep // 2
        cut = f"_Cut to fit the {limit:,}-character comment limit: the first {keep:,} lines of "
        text = assemble(keep, cut + "each list shown. The JSON result has everything._")
    return text


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
