"""Each layer imports only the layers below it (imports for type checking
aside): core < persistence < engine < actors < runner, config, control, CLI."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).parents[1] / "thespsys"
LAYERS = ("core", "persistence", "engine", "actors", "top")


def layer_of(module: str) -> str:
    parts = module.split(".")
    if parts[:2] == ["thespsys", "errors"]:
        return "core"
    if len(parts) > 1 and parts[1] in LAYERS[:-1]:
        return parts[1]
    return "top"


def runtime_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    type_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            type_only.update(id(child) for child in ast.walk(node))
    found = set()
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.split(".")[0] == "thespsys"}


def test_no_layer_imports_a_higher_one() -> None:
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        module = ".".join(relative.parts).removesuffix(".__init__")
        level = LAYERS.index(layer_of(module))
        for imported in runtime_imports(path):
            if LAYERS.index(layer_of(imported)) > level:
                upward.append(f"{module} ({layer_of(module)}) imports {imported}")
    assert upward == []


def test_the_layers_are_known() -> None:
    assert layer_of("thespsys.core.partitions") == "core"
    assert layer_of("thespsys.errors") == "core"
    assert layer_of("thespsys.persistence.tracking") == "persistence"
    assert layer_of("thespsys.engine.processor") == "engine"
    assert layer_of("thespsys.actors.master") == "actors"
    assert layer_of("thespsys.runner") == "top"
    assert layer_of("thespsys.cli.commands") == "top"
