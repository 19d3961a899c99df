"""The package's layering, read from its imports with ``ast``: the one written picture of it.

Each unit (a subpackage, or a module at the package root) sits in one layer of ``LAYERS``
and may import only from its own layer or the ones before it. Imports inside functions
count (a lazy import is still a dependency); only those under ``if TYPE_CHECKING:`` do not.
The README's "Architecture" section describes the same table.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "invariance"

#: Lowest first. A unit may import from its own layer and from the layers before it.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("base utilities", ("invariance", "errors", "config", "io", "yaml_io", "provenance", "backend", "seeding",
                        "ranges", "lazy")),
    ("transforms and data", ("transforms", "data")),
    ("models, augment and harness", ("models", "augment", "harness")),
    ("training, curves and analysis", ("training", "curves", "analysis")),
    ("the results folder", ("results",)),
    ("plots and report", ("plots", "report")),
    ("studies", ("study",)),
    ("the command line", ("cli",)),
]
MAX_LINES = 500

LAYER_OF = {unit: i for i, (_, units) in enumerate(LAYERS) for unit in units}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _unit(module: str) -> str:
    """``invariance.study.runner`` -> ``study``; the root package itself is ``invariance``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_nodes(tree: ast.AST):
    """Every import statement, at any depth, except those guarded by ``if TYPE_CHECKING:``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def _imports(module: str) -> list[tuple[str, str | None, int]]:
    """(imported module, imported name or None, line) for each import of the package in ``module``."""
    path = MODULES[module]
    out = []
    for node in _import_nodes(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            out.extend((a.name, None, node.lineno) for a in node.names if a.name.split(".")[0] == "invariance")
            continue
        base = node.module or ""
        if node.level:  # relative: resolve against this module's package
            package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
            package = package[:len(package) - node.level + 1]
            base = ".".join(package + ([node.module] if node.module else []))
        if base.split(".")[0] != "invariance":
            continue
        for alias in node.names:
            sub = f"{base}.{alias.name}"
            out.append((sub, None, node.lineno) if sub in MODULES else (base, alias.name, node.lineno))
    return out


IMPORTS = {module: _imports(module) for module in MODULES}


def _private(target: str, name: str | None) -> bool:
    parts = target.split(".")[1:] + ([name] if name else [])
    return any(p.startswith("_") and not p.startswith("__") for p in parts)


def test_every_unit_has_a_layer():
    units = sorted({_unit(m) for m in MODULES})
    assert [u for u in units if u not in LAYER_OF] == [], "add the new package or module to LAYERS"


def _upward(imports: dict[str, list[tuple[str, str | None, int]]]) -> list[str]:
    out = []
    for module, found in imports.items():
        here = LAYER_OF.get(_unit(module))
        for target, name, line in found:
            there = LAYER_OF.get(_unit(target))
            if here is not None and there is not None and there > here:
                what = f"{target}.{name}" if name else target
                out.append(f"{module}:{line} imports {what} ({LAYERS[there][0]} is above {LAYERS[here][0]})")
    return out


def test_imports_run_down_the_layers():
    assert _upward(IMPORTS) == []


def test_no_import_cycles():
    graph = {m: sorted({t for t, _, _ in imports if t in MODULES and t != m}) for m, imports in IMPORTS.items()}
    cycles = [sorted(c) for c in _strongly_connected(graph) if len(c) > 1]
    assert cycles == []


def test_no_private_name_crosses_a_package():
    crossing = [f"{module}:{line} imports {target}" + (f".{name}" if name else "")
                for module, imports in IMPORTS.items()
                for target, name, line in imports
                if _unit(target) != _unit(module) and _private(target, name)]
    assert crossing == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_stay_small(module):
    lines = MODULES[module].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{module} has {lines} lines; split it by job"


def _strongly_connected(graph: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (no recursion limit on a long import chain)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(graph[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph[child])))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                out.append(component)
    return out


def test_the_checks_find_what_they_look_for():
    graph = {"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}
    assert sorted(sorted(c) for c in _strongly_connected(graph) if len(c) > 1) == [["a", "b", "c"]]
    assert _private("invariance.cli._options", "parse_set") and _private("invariance.plots.x", "_k")
    assert not _private("invariance.models", "__version__") and not _private("invariance.models.io", "load_model")
    assert _unit("invariance.study.runner") == "study" and _unit("invariance") == "invariance"
    assert _upward({"invariance.study.loader": [("invariance.cli._options", "set_dotted", 29)],
                    "invariance.cli.run": [("invariance.study", "load_study", 3)]}) == [
        "invariance.study.loader:29 imports invariance.cli._options.set_dotted (the command line is above studies)"]


# ---------------------------------------------------------------------------------------------
# the light start: keras loads only when something needs it


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          cwd=PACKAGE.parent)


@pytest.mark.parametrize("module", ["invariance", "invariance.errors", "invariance.config", "invariance.cli",
                                    "invariance.study", "invariance.study.loader", "invariance.data",
                                    "invariance.models.presets"])
def test_importing_does_not_load_keras(module):
    heavy = ("keras", "tensorflow", "jax", "invariance.models.registry")
    proc = _run(f"import sys, {module}; loaded = [m for m in {heavy!r} if m in sys.modules]; assert not loaded, loaded")
    assert proc.returncode == 0, proc.stderr


def test_custom_layers_register_when_keras_loads():
    # The README's promise: after `import invariance`, plain keras.saving.load_model reads zoo models.
    proc = _run("import invariance, keras; from keras.saving import get_registered_object as g; "
                "assert g('invariance>BlurPool2D') is not None and g('invariance>TokenPooling') is not None")
    assert proc.returncode == 0, proc.stderr
