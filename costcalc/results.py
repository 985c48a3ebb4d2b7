"""What every result object shares, whatever it is: JSON, written one way, and the way to its
other formats.

JSON is the canonical form of every result (``model_dump_json``: money as decimal strings) and
``to_json`` is its one writer. The other formats are views of it in ``costcalc.render``,
reached here through ``importlib`` when one is asked for: result modules import this module,
never a renderer, and a JSON quote imports no renderer at all (start-up time).
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

RESULT_CONFIG = ConfigDict(defer_build=True, protected_namespaces=())
"""Result objects are made by costcalc from values it computed (model_construct): their
schemas are built only when JSON is written, not at every start-up. ``Quote.model_name`` is
a field, not pydantic's (older pydantic warns about the ``model_`` prefix otherwise)."""


class Note(str):
    """Text for stderr among a renderer's output: chatter the format has no room for (how to
    redraw a sample, the money a route decides), written in order with the text for stdout."""

    __slots__ = ()


def to_json(result: BaseModel | Sequence[BaseModel]) -> str:
    """A result as JSON indented by two, with a newline at the end; a list of results as a
    JSON array of them (each as ``model_dump_json`` writes it, not indented further)."""
    if isinstance(result, BaseModel):
        return result.model_dump_json(indent=2) + "\n"
    if isinstance(result, list | tuple):
        return "[\n" + ",\n".join(r.model_dump_json(indent=2) for r in result) + "\n]\n"
    raise TypeError(f"costcalc has no JSON for {type(result).__name__}: not a result object")


def render_parts(result: Any, fmt: str, **options: Any) -> list[str]:
    """The text of ``result`` in format ``fmt``, in parts: ``Note`` parts go to stderr, the
    others to stdout, in order. Options as for ``costcalc.render.render``."""
    if fmt == "json":  # the canonical form needs no renderer module
        return [to_json(result)]
    parts: list[str] = importlib.import_module("costcalc.render").render_parts(
        result, fmt, **options
    )
    return parts


def render_result(result: Any, fmt: str, **options: Any) -> str:
    """The text of ``result`` in format ``fmt`` ("table", "json", "markdown", "csv", "plain",
    as each result offers): what the command line writes to stdout for it. The public entry
    to ``costcalc.render.render`` (``costcalc.render_result``)."""
    if fmt == "json":
        return to_json(result)
    text: str = importlib.import_module("costcalc.render").render(result, fmt, **options)
    return text
