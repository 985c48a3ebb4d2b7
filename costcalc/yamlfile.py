"""Reading the YAML files users and the price table give us.

One place for the parts every YAML input shares: reading the file with errors that name it,
parsing with libyaml when present, numbers kept exact (floats become ``Decimal`` from their
own text, so ``0.075`` is 0.075 and not a binary approximation), and pydantic validation
errors turned into one line that names the file, the line and the field.
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from costcalc.errors import InputFileError, describe_error, field_path, open_input

_BaseLoader: type[yaml.SafeLoader]
try:  # libyaml is several times faster; fall back to the pure-Python parser when absent
    _BaseLoader = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _BaseLoader = yaml.SafeLoader


class DecimalLoader(_BaseLoader):  # type: ignore[misc,valid-type]
    """Safe loader whose floats are ``Decimal`` made from the literal text."""


def _construct_decimal(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Decimal | float:
    text = str(loader.construct_scalar(node)).replace("_", "")
    try:
        value = Decimal(text)
    except InvalidOperation:
        # .inf, .nan and sexagesimal forms: let YAML read them; validation rejects inf/nan
        return float(yaml.SafeLoader.construct_yaml_float(loader, node))
    if not value.is_finite():  # pragma: no cover - Decimal("inf") is not YAML syntax
        return math.nan
    return value


def _construct_timestamp(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    # an impossible date (2026-13-45) stays text, so validation can name its field and line
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        return str(loader.construct_scalar(node))


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> Any:
    # YAML keeps the last of two equal keys without a word; a second `requests:` is a typo
    first_line: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, (str, int, Decimal, bool)) or key is None:
            continue
        if key in first_line:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key {key!r} (first on line {first_line[key]})",
                key_node.start_mark,
            )
        first_line[key] = key_node.start_mark.line + 1
    return loader.construct_yaml_map(node)


DecimalLoader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)
DecimalLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
DecimalLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)

M = TypeVar("M", bound=BaseModel)


def read_text(path: Path | str, what: str = "file") -> str:
    """Read a UTF-8 text file, with a one-line error for every way it can fail."""
    p = Path(path)
    with open_input(p, what) as f:
        data = f.read()
    if b"\x00" in data[:8192]:
        raise InputFileError(p, f"is a binary file, expected a text {what}")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputFileError(p, "is not valid UTF-8 text", line=line) from None


def parse_yaml(text: str, path: Path | str) -> Any:
    """Parse one YAML document; a syntax error names its line."""
    try:
        return yaml.load(text, Loader=DecimalLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise InputFileError(path, f"invalid YAML: {problem}", line=line) from None
    except yaml.YAMLError as exc:
        raise InputFileError(path, f"invalid YAML: {exc}") from None
    except (ValueError, TypeError, RecursionError) as exc:  # a constructor gave up
        raise InputFileError(path, f"invalid YAML: {exc}") from None


def load_mapping(path: Path | str, what: str = "YAML file") -> tuple[dict[str, Any], str]:
    """Read and parse a YAML file whose top level must be a mapping."""
    text = read_text(path, what)
    data = parse_yaml(text, path)
    if data is None:
        raise InputFileError(path, f"is empty, expected a {what}")
    if not isinstance(data, dict):
        raise InputFileError(
            path, f"expected a mapping at the top level, found {type(data).__name__}", line=1
        )
    return data, text


def line_of(text: str, loc: tuple[int | str, ...]) -> int | None:
    """The 1-based line of the YAML node at ``loc`` (or of its nearest existing parent)."""
    try:
        node = yaml.compose(text, Loader=DecimalLoader)
    except yaml.YAMLError:
        return None
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            found = None
            for key_node, value_node in node.value:
                if getattr(key_node, "value", None) == part:
                    found = (key_node, value_node)
                    break
            if found is None:
                break
            key_node, node = found
            # a scalar sits on its key's line; a nested block starts on the next line
            line = key_node.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if not 0 <= part < len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def validate(
    model: type[M],
    data: Any,
    path: Path | str,
    text: str | None,
    error: type[InputFileError] = InputFileError,
    prefix: tuple[int | str, ...] = (),
) -> M:
    """Validate ``data`` as ``model``; the first error becomes ``path:line: field: message``."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        # a misspelt key also shows up as a missing field: name the misspelling first
        first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        loc = prefix + tuple(first["loc"])
        line = line_of(text, loc) if text is not None else None
        message = describe_error(first, model)
        raise error(path, f"{field_path(loc)}: {message}", line=line) from None
