"""The shape of the package: no import cycles, modules that import alone, short functions.

The import graph is read statically (every ``import`` statement, those inside functions
included), so a cycle hidden behind a function-level import is still a cycle here. Imports
under ``if TYPE_CHECKING:`` are left out: they never run.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from functools import cache
from pathlib import Path

import borderflow

PACKAGE = Path(borderflow.__file__).parent
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80

# Scripts that run only inside another program, not importable on their own.
NOT_IMPORTABLE = {
    "borderflow.__main__": "runs the CLI (and exits) when imported: `python -m borderflow`",
    "borderflow.observe.migrations.env": "Alembic's env script: needs Alembic's running context",
}

# Functions allowed over MAX_FUNCTION_LINES, with the reason; keyed "module:qualified name".
LONG_FUNCTIONS: dict[str, str] = {
    "borderflow.rules.flee_kernels:evolve_day": (
        "numba kernel: one day of every agent in one function on purpose; every numba call "
        "that receives arrays pays reference counting per array (see the module docstring)"
    ),
    # Pending (issue 11): long today, to be split by the work on these modules.
    "borderflow.scenario.flee_io:read_locations": "pending: locations.csv reader",
    "borderflow.web.app:create_app": "pending: the web app's wiring, with its hardening",
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def _modules() -> dict[str, Path]:
    """Every module of the package (migration versions included), by dotted name."""
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The borderflow module ``name`` refers to: itself, else its closest enclosing module."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _is_type_checking(node: ast.AST) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST):
    """Every import statement, at any depth, except those under ``if TYPE_CHECKING:``.

    Those never run: they name types for annotations, and create no import at run time.
    """
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif _is_type_checking(node):
            for other in node.orelse:
                yield from _import_nodes(ast.Module(body=[other], type_ignores=[]))
        else:
            yield from _import_nodes(node)


def _imports(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The borderflow modules that ``module`` imports, anywhere in its body."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in _import_nodes(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                prefix = ".".join([*base, *([node.module] if node.module else [])])
            else:
                prefix = node.module or ""
            # `from a import b` imports the module a.b when there is one, else a's name b
            names = [f"{prefix}.{alias.name}" for alias in node.names] + [prefix]
        for name in names:
            if name == "borderflow" or name.startswith("borderflow."):
                target = _resolve(name, modules)
                if target and target != module and target != "borderflow":
                    found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    return {m: _imports(m, p, modules) for m, p in modules.items()}


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle, as [a, b, ..., a], in each group of modules that import each other."""
    nodes = sorted(set(graph) | {n for targets in graph.values() for n in targets})
    reverse: dict[str, set[str]] = {n: set() for n in nodes}
    for a, targets in graph.items():
        for b in targets:
            reverse[b].add(a)

    def reach(start: str, edges: dict[str, set[str]]) -> set[str]:
        seen, todo = {start}, [start]
        while todo:
            for nxt in edges.get(todo.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    cycles, grouped = [], set()
    for node in nodes:
        if node in grouped:
            continue
        group = reach(node, graph) & reach(node, reverse)  # strongly connected with node
        grouped |= group
        if len(group) > 1:
            cycles.append(_cycle_through(node, group, graph))
    return cycles


def _cycle_through(node: str, group: set[str], graph: dict[str, set[str]]) -> list[str]:
    """A shortest path from ``node`` back to itself inside ``group`` (breadth-first)."""
    parent: dict[str, str] = {}
    todo = [node]
    while todo:
        current = todo.pop(0)
        for nxt in sorted(graph.get(current, ())):
            if nxt == node:
                path = [current]
                while path[-1] != node:
                    path.append(parent[path[-1]])
                return [*reversed(path), node]
            if nxt in group and nxt not in parent:
                parent[nxt] = current
                todo.append(nxt)
    raise AssertionError(f"{node} is in no cycle")


def test_find_cycles_finds_each():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a", "e"}, "e": {"d"}, "f": {"a"}}
    assert find_cycles(graph) == [["a", "b", "c", "a"], ["d", "e", "d"]]
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_the_graph_sees_imports_inside_functions_not_type_checking_ones():
    graph = import_graph()
    # the run folder imports the plotting of a run only inside the function that draws it
    assert "borderflow.report.plots.run" in graph["borderflow.report.run_folder"]
    # cli/calibrate.py names calibrate's types under TYPE_CHECKING, imports them in commands
    assert "borderflow.calibrate.workflow" in graph["borderflow.cli.calibrate"]
    assert "borderflow.calibrate.predictive" not in graph["borderflow.cli.calibrate"]


def test_no_import_cycle_between_modules():
    cycles = find_cycles(import_graph())
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


# Packages a module must not import from (prefix: forbidden prefixes), with the reason.
LAYERS = {
    # charts draw what the services hand over; the services import the charts
    "borderflow.report": ("borderflow.calibrate", "borderflow.ensemble", "borderflow.runs",
                          "borderflow.observe", "borderflow.web", "borderflow.cli"),
    # the CLI is a front end: nothing but its own modules and the entry point use it
    "borderflow.web": ("borderflow.cli",),
    "borderflow.calibrate": ("borderflow.cli", "borderflow.web"),
    "borderflow.ensemble": ("borderflow.cli", "borderflow.web"),
    "borderflow.observe": ("borderflow.cli", "borderflow.web"),
    "borderflow.runs": ("borderflow.cli", "borderflow.web"),
}  # fmt: skip


def test_modules_import_only_from_lower_layers():
    wrong = [
        f"{module} imports {target}"
        for module, targets in import_graph().items()
        for prefix, forbidden in LAYERS.items()
        if module == prefix or module.startswith(prefix + ".")
        for target in sorted(targets)
        if target.startswith(forbidden)
    ]
    outside = [
        m
        for m, targets in import_graph().items()
        if any(t.startswith("borderflow.cli") for t in targets)
        and not m.startswith("borderflow.cli")
        and m != "borderflow.__main__"
    ]
    assert not wrong, wrong
    assert not outside, f"only the entry points may import the CLI: {outside}"


def test_every_module_imports_on_its_own():
    """Each module, imported first in a fresh interpreter, imports without error.

    An interpreter per module would take a minute; instead one interpreter imports each
    module after removing every borderflow module from ``sys.modules``, so each is imported
    first, and imports the rest of borderflow in its own order. (Third-party modules stay:
    NumPy's cannot be loaded twice in one process.)
    """
    names = [m for m in _modules() if m not in NOT_IMPORTABLE and ".migrations.versions." not in m]
    code = (
        "import importlib, sys\n"
        "for name in sys.argv[1:]:\n"
        "    for m in [m for m in sys.modules if m.split('.')[0] == 'borderflow']:\n"
        "        del sys.modules[m]\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception as exc:\n"
        "        print(f'{name}: {type(exc).__name__}: {exc}')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *names], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout == "", "modules that fail to import on their own:\n" + done.stdout


# What a Flee run has no use for; each would add a large part of a short run's time.
NOT_FOR_A_FLEE_RUN = ("matplotlib", "sqlalchemy", "alembic", "fastapi", "uvicorn", "dask",
                      "distributed", "pandas", "SALib")  # fmt: skip
NOT_FOR_A_FLEE_RUN_OURS = ("borderflow.report.plots", "borderflow.observe", "borderflow.web.app",
                           "borderflow.ensemble", "borderflow.calibrate")  # fmt: skip


def test_a_flee_run_imports_nothing_it_does_not_use(tmp_path):
    """``borderflow run mali`` loads no plotting, database, web app, Dask, pandas or numba.

    The real command in a subprocess, with ``-X importtime`` listing every module imported
    (the writers' background imports included). The first run builds the kernel ahead of time
    where the cache has none (numba is imported then); the second must not need numba.
    """
    for k in range(2):
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "borderflow", "run", "mali", "--days",
             "2", "--out", str(tmp_path / f"run{k}")],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        assert (tmp_path / f"run{k}" / "out.csv").is_file()
    imported = {
        line.rpartition("|")[2].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "borderflow.rules.flee" in imported and "numpy" in imported  # the listing works
    top = {name.partition(".")[0] for name in imported}
    assert "numba" not in top and "llvmlite" not in top  # the kernel was compiled ahead of time
    assert not top & set(NOT_FOR_A_FLEE_RUN), sorted(top & set(NOT_FOR_A_FLEE_RUN))
    ours = sorted(m for m in imported if m.startswith(NOT_FOR_A_FLEE_RUN_OURS))
    assert not ours, ours


def test_no_module_over_the_line_limit():
    long = {
        m: n
        for m, p in _modules().items()
        if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert not long, f"modules over {MAX_MODULE_LINES} lines: {long}"


def _functions(tree: ast.AST, prefix: str = ""):
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield f"{prefix}{node.name}", node
            yield from _functions(node, f"{prefix}{node.name}.")
        elif isinstance(node, ast.ClassDef):
            yield from _functions(node, f"{prefix}{node.name}.")


def test_no_function_over_the_line_limit():
    long = {}
    for module, path in _modules().items():
        for name, node in _functions(ast.parse(path.read_text())):
            lines = node.end_lineno - node.lineno + 1  # from `def` (decorators not counted)
            if lines > MAX_FUNCTION_LINES and f"{module}:{name}" not in LONG_FUNCTIONS:
                long[f"{module}:{name}"] = lines
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines: {long}"


def test_the_allow_list_names_real_long_functions():
    """An entry of LONG_FUNCTIONS that is gone or has become short must leave the list."""
    present = {}
    for module, path in _modules().items():
        for name, node in _functions(ast.parse(path.read_text())):
            present[f"{module}:{name}"] = node.end_lineno - node.lineno + 1
    stale = [k for k in LONG_FUNCTIONS if present.get(k, 0) <= MAX_FUNCTION_LINES]
    assert not stale, f"no longer long (remove from LONG_FUNCTIONS): {stale}"
