"""The layering of ARCHITECTURE.md, checked from the imports themselves (grimp).

``make lint`` runs import-linter's contracts (``pyproject.toml``); this test adds
what those contracts cannot say: no import cycle between any two modules, and
the named rules of the layering, so a break names the import that made it.
"""

from __future__ import annotations

import grimp
import pytest

PACKAGES = (
    "config",
    "quality",
    "vrdp",
    "exports",
    "assets",
    "sensors",
    "serving",
    "orchestration",
    "synthetic",
    "bench",
    "dashboard",
)


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph(*PACKAGES, cache_dir=None)


def _imports(graph, importer: str, imported: str) -> list[str]:
    chains = graph.find_shortest_chains(importer=importer, imported=imported, as_packages=True)
    return sorted(" -> ".join(c) for c in chains)


@pytest.mark.parametrize("package", ["assets", "quality", "sensors", "serving", "exports", "vrdp"])
def test_nothing_below_the_code_location_imports_it(graph, package):
    assert _imports(graph, package, "orchestration") == []


def test_the_api_imports_no_asset_and_no_asset_imports_the_api(graph):
    assert _imports(graph, "serving", "assets") == []
    assert _imports(graph, "assets", "serving") == []


def test_the_export_library_imports_neither_assets_nor_the_api(graph):
    assert _imports(graph, "exports", "assets") == []
    assert _imports(graph, "exports", "serving") == []


def test_configuration_imports_nothing_of_the_platform(graph):
    for other in PACKAGES:
        if other != "config":
            assert _imports(graph, "config", other) == [], other


def test_no_import_cycle_between_modules(graph):
    """Every direct import a -> b: b must not reach a again (through any chain)."""
    cycles = []
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            if graph.chain_exists(importer=imported, imported=importer):
                cycles.append(f"{importer} <-> {imported}")
    assert cycles == []


def test_the_contracts_cover_every_top_level_package():
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    config = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["importlinter"]
    packages = {
        p.name for p in root.iterdir() if (p / "__init__.py").exists() and p.name not in {"tests"}
    }
    assert packages == set(config["root_packages"])
    layers = config["contracts"][0]["layers"]
    named = {part.strip().split(".")[0] for layer in layers for part in layer.split("|")}
    assert named | {"synthetic"} == set(PACKAGES)
