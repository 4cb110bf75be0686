"""The public API for plugin authors: ``core.plugins`` (with ``__all__``) and its
testing kit are all a plugin imports of Caravan, the first-party plugins included."""

from __future__ import annotations

import ast
from pathlib import Path

import core.plugins

ROOT = Path(__file__).resolve().parents[2]
#: What a plugin may import of ``core``: the API and the testing kit.
ALLOWED = ("core.plugins", "core.plugins.testing")


def _core_imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and not node.level and node.module:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
    return [(line, name) for line, name in found if name == "core" or name.startswith("core.")]


def _allowed(module: str) -> bool:
    return module == "core.plugins" or module.startswith("core.plugins.testing")


def test_plugins_import_only_the_public_api_and_the_testing_kit() -> None:
    files = sorted((ROOT / "plugins").rglob("*.py"))
    assert len(files) > 20
    outside = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in files
        for line, module in _core_imports(path)
        if not _allowed(module)
    ]
    assert outside == []


def test_plugins_and_bench_do_not_import_the_core_test_suite() -> None:
    files = sorted([*(ROOT / "plugins").rglob("*.py"), *(ROOT / "bench").rglob("*.py")])
    found = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in files
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ImportFrom | ast.Import)
        and any(
            name == "tests" or name.startswith("tests.")
            for name in (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
            )
        )
    ]
    assert found == []


def test_every_public_name_is_exported_and_documented() -> None:
    names = core.plugins.__all__
    assert names == sorted(names, key=lambda n: (not n.isupper(), n))
    assert len(set(names)) == len(names)
    missing = [name for name in names if not hasattr(core.plugins, name)]
    assert missing == []
    for kind in ("PaymentProvider", "TaxProvider", "ShippingProvider", "AffiliateProvider"):
        assert kind in names
    for needed in ("hookimpl", "Manifest", "Capability", "Secret", "API_VERSION", "Money"):
        assert needed in names


def test_the_package_is_typed() -> None:
    assert (ROOT / "core" / "py.typed").is_file()
