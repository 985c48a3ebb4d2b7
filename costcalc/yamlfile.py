"""Reading the YAML files users and the price table give us.

One place for the parts every YAML input shares: reading the file with errors that name it,
parsing with libyaml when present, numbers kept exact (floats become ``Decimal`` from their
own text, so ``0.075`` is 0.075 and not a binary approximation), and pydantic validation
errors turned into one line that names the file, the line and the field.

Every YAML file is read within bounds, whoever wrote it: at most ``MAX_YAML_BYTES`` of text,
at most ``MAX_YAML_NODES`` values once aliases are expanded (a "billion laughs" of nested
aliases is a few lines that expand to billions of values, and everything that walks the data
afterwards, validation and error messages included, would walk all of them), and integers of
at most ``MAX_INT_DIGITS`` digits.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from costcalc.errors import InputFileError, describe_error, field_path, open_input

MAX_YAML_BYTES = 16 * 1024 * 1024
"""The largest config, price, policy or workload file costcalc reads: hundreds of times any
real one (the shipped price files are a few KB), so only a broken or hostile file reaches it."""

MAX_YAML_NODES = 250_000
"""The most values (mappings, lists, keys and scalars) one YAML file may hold, each alias
counted as a copy of what it names: about 20,000 workloads of five fields. Reading, checking
and validating that many take a few seconds and at most about 500 MB; past it the file is
refused before it is built, since a million values took 2 GB and 20 seconds."""

MAX_INT_DIGITS = 30
"""The longest integer accepted in a YAML file (a 64-bit integer has 20 digits): longer is a
typo or an attack, and Python refuses to read past 4,300 digits anyway."""

TOO_LARGE = f"is larger than {MAX_YAML_BYTES // 2**20} MiB (costcalc's cap on a YAML file)"

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


class _NumberTooLong(yaml.constructor.ConstructorError):
    """An integer with more than ``MAX_INT_DIGITS`` digits, at ``problem_mark``."""


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    text = str(loader.construct_scalar(node))
    if len(text.lstrip("+-").replace("_", "")) > MAX_INT_DIGITS:
        raise _NumberTooLong(
            None, None, f"number too long (more than {MAX_INT_DIGITS} digits)", node.start_mark
        )
    return int(yaml.SafeLoader.construct_yaml_int(loader, node))


DecimalLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
DecimalLoader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)
DecimalLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
DecimalLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)

M = TypeVar("M", bound=BaseModel)


def read_text(path: Path | str, what: str = "file") -> str:
    """Read a UTF-8 text file, with a one-line error for every way it can fail."""
    p = Path(path)
    with open_input(p, what) as f:
        data = f.read(MAX_YAML_BYTES + 1)  # never more: /dev/zero or a FIFO has no end
    if len(data) > MAX_YAML_BYTES:
        raise InputFileError(p, TOO_LARGE)
    if b"\x00" in data[:8192]:
        raise InputFileError(p, f"is a binary file, expected a text {what}")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputFileError(p, "is not valid UTF-8 text", line=line) from None


def check_size(text: str, path: Path | str) -> None:
    """Refuse text over ``MAX_YAML_BYTES``, or whose values, aliases expanded, are more than
    ``MAX_YAML_NODES``, before anything is built from it: counting parser events takes
    constant memory where building the nodes takes hundreds of bytes each."""
    if len(text) > MAX_YAML_BYTES:  # text that did not come from read_text (git show)
        raise InputFileError(path, TOO_LARGE)
    with contextlib.suppress(yaml.YAMLError):  # a syntax error: yaml.load says where
        _count_values(yaml.parse(text, Loader=DecimalLoader), path)


def _line(event: yaml.Event | yaml.Node) -> int | None:
    return event.start_mark.line + 1 if event.start_mark is not None else None


def _count_values(events: Iterable[yaml.Event], path: Path | str) -> None:
    count = 0
    size: dict[str, int] = {}  # anchor -> values in the node it names, aliases expanded
    open_nodes: list[tuple[str | None, int]] = []  # (anchor, count at its start)
    for event in events:
        if isinstance(event, yaml.AliasEvent):
            anchor = str(event.anchor)
            if any(a == anchor for a, _ in open_nodes):
                raise InputFileError(
                    path, f"invalid YAML: alias *{anchor} is inside the node it names", _line(event)
                )
            count += size.get(anchor, 1)  # an undefined alias: yaml.load says so
        elif isinstance(event, yaml.CollectionStartEvent):
            count += 1
            open_nodes.append((event.anchor, count - 1))
        elif isinstance(event, yaml.ScalarEvent):
            count += 1
            if event.anchor is not None:
                size[event.anchor] = 1
        elif isinstance(event, yaml.CollectionEndEvent):
            named, start = open_nodes.pop()
            if named is not None:
                size[named] = count - start
        if count > MAX_YAML_NODES:
            cap = f"{MAX_YAML_NODES:,} YAML values, costcalc's cap on a YAML file"
            raise InputFileError(
                path,
                f"alias *{event.anchor} takes it past {cap} (an alias counts as a copy of "
                "what it names)"
                if isinstance(event, yaml.AliasEvent)
                else f"more than {cap}",
                _line(event),
            )


def path_at(text: str, line: int, column: int) -> tuple[int | str, ...]:
    """Where in the document the node that starts at (0-based) ``line``, ``column`` is, as a
    pydantic location: ``("workloads", 0, "requests_per_day")``; ``()`` when none does."""
    try:
        root = yaml.compose(text, Loader=DecimalLoader)
    except yaml.YAMLError:
        return ()
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, tuple[int | str, ...]]] = [(root, ())] if root else []
    while stack:
        node, loc = stack.pop()
        if id(node) in seen:  # an alias: its node was walked where the anchor is
            continue
        seen.add(id(node))
        mark = node.start_mark
        if mark is not None and (mark.line, mark.column) == (line, column):
            return loc
        children: list[tuple[yaml.Node, tuple[int | str, ...]]] = []
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                name = str(key.value) if isinstance(key, yaml.ScalarNode) else "?"
                children += [(key, (*loc, name)), (value, (*loc, name))]
        elif isinstance(node, yaml.SequenceNode):
            children = [(item, (*loc, i)) for i, item in enumerate(node.value)]
        stack.extend(reversed(children))
    return ()


def parse_yaml(text: str, path: Path | str) -> Any:
    """Parse one YAML document within the caps above; a syntax error names its line."""
    check_size(text, path)
    try:
        return yaml.load(text, Loader=DecimalLoader)
    except _NumberTooLong as exc:
        mark = exc.problem_mark
        assert mark is not None
        loc = path_at(text, mark.line, mark.column)
        where = f"{field_path(loc)}: " if loc else ""
        raise InputFileError(path, f"{where}{exc.problem}", line=mark.line + 1) from None
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
