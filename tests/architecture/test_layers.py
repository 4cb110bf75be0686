"""The layout's rules, read off every module's syntax tree (function bodies included).

Layers point one way: kernel → db → web → domains → plugin host → application →
the plugin testing kit (which builds applications to test plugins against).
A module may import its own layer and those below it, never one above. Imports
inside functions are for what cannot be imported at the top (a script run by a
tool, a heavy module only one command needs); each one is listed below with
its reason. ``pm.hook`` is called by the plugin host alone, and no module
outgrows 600 lines.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "core"

#: Layers, bottom first: a module's layer is the first whose prefix it starts with;
#: any other ``core`` module is a domain.
LAYERS = ("kernel", "db", "web", "domains", "plugins", "app", "kit")
PREFIXES = {
    "core.plugins.testing": "kit",  # the plugin testing kit runs whole applications
    "core.kernel": "kernel",
    "core.db": "db",
    "core.web": "web",
    "core.plugins": "plugins",
    "core.app": "app",
}
#: Not modules of a layer: Alembic runs its environment script and the versions.
SKIPPED = ("core/db/migrations/",)
MAX_LINES = 600
#: Modules over the limit today, with their length then: each may only shrink
#: until it is split by meaning.
OVERSIZED = {
    "core/db/engine.py": 676,
}

#: Function-local ``core`` imports that may stay, by (module, imported): why.
LOCAL_IMPORTS: dict[tuple[str, str], str] = {
    ("core.app.cli", "core.db.migrate"): (
        "Alembic and SQLAlchemy take about a second to import; only `caravan migrate` "
        "(and `demo`, through it) needs them"
    ),
}

#: Imports that point up a layer today, by (module, imported): what is to become of
#: each. The list only shrinks: a new upward import fails the test.
UPWARD_DEBT: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Import:
    module: str
    imported: str
    line: int
    local: bool


def layer_of(module: str) -> str:
    if module == "core":
        return "kernel"  # the package's root holds its version alone
    for prefix, layer in PREFIXES.items():
        if module == prefix or module.startswith(prefix + "."):
            return layer
    return "domains"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def core_modules() -> list[Path]:
    return sorted(
        p
        for p in CORE.rglob("*.py")
        if not any(p.relative_to(ROOT).as_posix().startswith(s) for s in SKIPPED)
    )


def imports_of(path: Path) -> list[Import]:
    tree = ast.parse(path.read_text(), str(path))
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[Import] = []

    def visit(node: ast.AST, local: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                for alias in child.names:
                    found.append(Import(name, alias.name, child.lineno, local))
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                for alias in child.names:
                    target = f"{base}.{alias.name}"
                    # ``from core.x import y``: y is a module or a name of core.x
                    is_module = (ROOT / target.replace(".", "/")).with_suffix(".py").exists() or (
                        ROOT / target.replace(".", "/")
                    ).is_dir()
                    found.append(Import(name, target if is_module else base, child.lineno, local))
            nested = local or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            visit(child, nested)

    visit(tree, False)
    return [i for i in found if i.imported == "core" or i.imported.startswith("core.")]


ALL_IMPORTS = [i for path in core_modules() for i in imports_of(path)]


def test_no_import_points_up_a_layer() -> None:
    upward = [
        i
        for i in ALL_IMPORTS
        if LAYERS.index(layer_of(i.imported)) > LAYERS.index(layer_of(i.module))
        and (i.module, i.imported) not in UPWARD_DEBT
    ]
    assert upward == [], "\n".join(
        f"{i.module}:{i.line} ({layer_of(i.module)}) imports {i.imported} ({layer_of(i.imported)})"
        for i in upward
    )


def test_the_upward_debt_is_still_owed() -> None:
    seen = {(i.module, i.imported) for i in ALL_IMPORTS}
    paid = [pair for pair in UPWARD_DEBT if pair not in seen]
    assert paid == [], f"no longer imported; remove from UPWARD_DEBT: {paid}"


def test_function_local_core_imports_are_listed_with_a_reason() -> None:
    local = [i for i in ALL_IMPORTS if i.local and (i.module, i.imported) not in LOCAL_IMPORTS]
    assert local == [], "\n".join(f"{i.module}:{i.line} imports {i.imported}" for i in local)


def test_only_the_plugin_host_calls_hooks() -> None:
    callers = [
        module_name(path)
        for path in core_modules()
        if ".hook." in path.read_text() and module_name(path) != "core.plugins.host"
    ]
    assert callers == []


@pytest.mark.parametrize("path", core_modules(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_modules_stay_small(path: Path) -> None:
    lines = len(path.read_text().splitlines())
    limit = OVERSIZED.get(path.relative_to(ROOT).as_posix(), MAX_LINES)
    assert lines <= limit, f"{lines} lines: split it by meaning"


def test_the_oversized_list_names_only_modules_still_over_the_limit() -> None:
    lengths = {name: len((ROOT / name).read_text().splitlines()) for name in OVERSIZED}
    assert all(length > MAX_LINES for length in lengths.values()), lengths
