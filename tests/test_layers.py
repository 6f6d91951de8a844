"""The house's floors, checked: every import runs down (or sideways within a package), never up.

Floors, lowest first: the ground (spec, errors, files); media; data and nets; tasks; run (one
run's machinery and the composition root); compare and bench (many runs); cli (argv and error
lines). The hydra plugins sit beside compare.
"""

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "seqlab"
FLOORS = {
    "spec": 0,
    "errors": 0,
    "files": 0,
    "media": 1,
    "data": 2,
    "nets": 2,
    "tasks": 3,
    "run": 4,
    "compare": 5,
    "bench": 5,
    "cli": 6,
}
MODULES = sorted(p for p in SRC.rglob("*.py"))


def part(module: str) -> str:
    """The package (or ground-floor module) a ``seqlab.x.y`` name belongs to."""
    return module.split(".")[1]


def imports(path: Path) -> list[tuple[str, int]]:
    """Every ``seqlab.*`` module ``path`` imports (at any depth), with its line."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            found += [(n, node.lineno) for n in names[:1] if n.startswith("seqlab.")]
            if node.module == "seqlab":
                found += [(f"seqlab.{a.name}", node.lineno) for a in node.names]
        elif isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names if a.name.startswith("seqlab.")]
    return found


def test_the_top_level_holds_at_most_eight_modules_and_every_part_has_a_floor():
    top = sorted(p.stem for p in SRC.glob("*.py"))
    assert len(top) <= 8, top
    parts = {p.stem for p in SRC.glob("*.py") if p.stem != "__init__"}
    parts |= {p.name for p in SRC.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert parts == set(FLOORS), parts ^ set(FLOORS)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_imports_never_run_up_a_floor(path: Path):
    mine = path.relative_to(SRC).parts[0].removesuffix(".py")
    if mine == "__init__":
        return
    for module, line in imports(path):
        theirs = part(module)
        assert FLOORS[theirs] <= FLOORS[mine], f"{path.name}:{line} imports {module} (up a floor)"
        if mine != "cli":
            assert theirs != "cli", f"{path.name}:{line} imports the command-line package"


@pytest.mark.parametrize("path", sorted((SRC / "tasks").glob("*.py")), ids=lambda p: p.name)
def test_no_task_imports_matplotlib_at_module_level(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        assert not any(n.startswith(("matplotlib", "seqlab.media")) for n in names), names
