"""The layout keeps its promises: no import cycle among costcalc's modules (imports inside
functions count too), no module too long to read, and commands that leave the choice of
output format to the render layer."""

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "costcalc"
MAX_LINES = 700


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _type_checking_only(tree: ast.AST) -> set[int]:
    """ids of import nodes under ``if TYPE_CHECKING:`` (never run)."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                skip.update(id(n) for n in ast.walk(child))
    return skip


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text("utf-8"))
        skip = _type_checking_only(tree)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                # `from costcalc.x import y` imports the submodule y when there is one
                targets = [
                    f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                    for a in node.names
                ]
            for target in targets:
                if target in modules and target not in ("costcalc", name):
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_graph_sees_imports_inside_functions() -> None:
    graph = import_graph()
    assert "costcalc.calculator" in graph["costcalc.lesson"]
    assert any(t.startswith("costcalc.tokens.") for t in graph["costcalc.batch.rows"])


def test_no_import_cycle_among_costcalc_modules() -> None:
    assert cycles(import_graph()) == []


def test_a_planted_cycle_is_found() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize("name", sorted(_modules()))
def test_no_module_is_longer_than_700_lines(name: str) -> None:
    lines = _modules()[name].read_text("utf-8").count("\n")
    assert lines <= MAX_LINES, f"{name} has {lines} lines"


FORMAT_CHOICE = re.compile(r"\bfmt\s*(==|!=|\bin\b|\bnot in\b)")


def test_commands_leave_the_output_format_to_the_render_layer() -> None:
    offenders = [
        f"{path.name}:{number}"
        for path in [PACKAGE / "cli.py", *sorted((PACKAGE / "commands").glob("*.py"))]
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1)
        if FORMAT_CHOICE.search(line)
    ]
    assert offenders == []


# What a command may import besides the public API (`import costcalc`): the CLI's own shared
# parts, the error family, the vocabularies click offers as choices, and the maintainers'
# hidden `prices compile`.
COMMAND_IMPORTS = {
    "costcalc.cli",
    "costcalc.commands.flags",
    "costcalc.errors",
    "costcalc.workload",
    "costcalc.atomic",
    "costcalc.prices",
}


def test_commands_call_the_public_api() -> None:
    graph = import_graph()
    for name in graph:
        if name.startswith("costcalc.commands."):
            internal = graph[name] - COMMAND_IMPORTS - {"costcalc"}
            assert internal == set(), f"{name} imports {sorted(internal)}"
    source = (PACKAGE / "commands" / "prices.py").read_text("utf-8")
    assert source.count("from costcalc.prices import") == 1  # compile only


def test_the_readme_layout_map_names_every_module() -> None:
    readme = (PACKAGE.parent / "README.md").read_text("utf-8")
    layout = readme[readme.index("## Layout") :]
    layout = layout[: layout.index("\n```\n", layout.index("```") + 3)]
    missing = [
        path.name if path.name != "__init__.py" else path.parent.name + "/"
        for path in PACKAGE.rglob("*.py")
        if path.name not in ("__main__.py", "_version.py")
        and (path.name if path.name != "__init__.py" else path.parent.name + "/") not in layout
    ]
    assert missing == []
