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
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict

RESULT_CONFIG = ConfigDict(defer_build=True, protected_namespaces=())
"""Result objects are made by costcalc from values it computed (``construct``, or
``model_construct``): their schemas are built only when JSON is written, not at every
start-up. ``Quote.model_name`` is a field, not pydantic's (older pydantic warns about the
``model_`` prefix otherwise)."""


R = TypeVar("R", bound=BaseModel)

_new = object.__new__
_setattr = object.__setattr__
_EVERY: dict[type[BaseModel], set[str]] = {}
"""Every field of a class, for ``adopt``."""
_TEMPLATES: dict[type[BaseModel], tuple[dict[str, Any], frozenset[str], frozenset[str]]] = {}


def construct(cls: type[R], values: dict[str, Any]) -> R:
    """``cls.model_construct(**values)`` for a result class, at a fraction of its cost: the
    same fields in the same order (JSON is written in that order), the same defaults for those
    not given (a fresh copy of a list or dict default), the same ``model_fields_set``. Values
    are not validated, as with ``model_construct``; a required field left out is an error.

    ``model_construct`` looks up every field's default, alias and factory at each call, which
    was most of a quote's time; the defaults of a class are looked up here once."""
    template = _TEMPLATES.get(cls)
    if template is None:
        template = _TEMPLATES[cls] = _template(cls)
    defaults, required, mutable = template
    if not required <= values.keys():
        missing = ", ".join(sorted(required - values.keys()))
        raise TypeError(f"{cls.__name__} needs {missing}")
    fields = defaults.copy()
    fields.update(values)
    if not mutable <= values.keys():
        for name in mutable - values.keys():
            fields[name] = fields[name].copy()
    obj = _new(cls)
    _setattr(obj, "__dict__", fields)
    _setattr(obj, "__pydantic_fields_set__", set(values))
    _setattr(obj, "__pydantic_extra__", None)
    _setattr(obj, "__pydantic_private__", None)
    return obj


def adopt(cls: type[R], fields: dict[str, Any]) -> R:
    """``construct(cls, fields)`` when ``fields`` gives every field of ``cls`` in the class's
    order: the object takes ``fields`` itself, with nothing copied or looked up (for the
    objects a quote makes every time; the caller's tests check the order)."""
    every = _EVERY.get(cls)
    if every is None:
        every = _EVERY[cls] = set(cls.model_fields)
    obj = _new(cls)
    _setattr(obj, "__dict__", fields)
    _setattr(obj, "__pydantic_fields_set__", every.copy())  # a copy is cheaper than set(fields)
    _setattr(obj, "__pydantic_extra__", None)
    _setattr(obj, "__pydantic_private__", None)
    return obj


def adopt_all(cls: type[R], objects: list[dict[str, Any]]) -> list[R]:
    """``[adopt(cls, fields) for fields in objects]``, with the class looked up once."""
    every = _EVERY.get(cls)
    if every is None:
        every = _EVERY[cls] = set(cls.model_fields)
    out = []
    for fields in objects:
        obj = _new(cls)
        _setattr(obj, "__dict__", fields)
        _setattr(obj, "__pydantic_fields_set__", every.copy())  # each its own: a user's to change
        _setattr(obj, "__pydantic_extra__", None)
        _setattr(obj, "__pydantic_private__", None)
        out.append(obj)
    return out


def _template(cls: type[BaseModel]) -> tuple[dict[str, Any], frozenset[str], frozenset[str]]:
    """Every field of ``cls`` in order with its default (None where it has none), the fields
    that must be given, and those whose default is a list or dict (copied per object)."""
    if cls.__pydantic_post_init__ or cls.model_config.get("extra") == "allow":
        raise TypeError(f"{cls.__name__} needs model_construct")  # not a plain result class
    defaults: dict[str, Any] = {}
    required: set[str] = set()
    mutable: list[str] = []
    for name, field in cls.model_fields.items():
        if field.default_factory is not None:
            raise TypeError(f"{cls.__name__}.{name} has a default factory")
        if field.is_required():
            required.add(name)
            defaults[name] = None
            continue
        defaults[name] = field.default
        if isinstance(field.default, list | dict | set):
            if field.default:  # pydantic deep-copies these: not worth doing here
                raise TypeError(f"{cls.__name__}.{name} has a default that is not empty")
            mutable.append(name)
    return defaults, frozenset(required), frozenset(mutable)


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
