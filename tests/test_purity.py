"""The core is sans-I/O: no sockets, asyncio, SimPy, SQLite, clock or randomness of its own."""

from __future__ import annotations

import ast
import time
from pathlib import Path

import pytest

import quorum.core
from quorum.core import QuorumConfig, Site, SiteMachine, WitnessMachine
from quorum.testing import run_schedule
from quorum.testing.schedule import Crash, Cut, Schedule

CORE = Path(quorum.core.__file__).parent
ROOT = CORE.parent.parent
FORBIDDEN = {
    "socket", "ssl", "asyncio", "simpy", "sqlite3", "time", "random", "datetime", "threading",
    "subprocess", "selectors", "http", "urllib", "os", "io", "secrets", "uuid", "multiprocessing",
    "quorum.live", "quorum.testing", "sim", "httpx", "fastapi", "uvicorn", "numpy",
}  # fmt: skip


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _forbidden(names: set[str]) -> set[str]:
    return {n for n in names if any(n == f or n.startswith(f + ".") for f in FORBIDDEN)}


@pytest.mark.parametrize("path", sorted(CORE.glob("*.py")), ids=lambda p: p.name)
def test_core_module_imports_nothing_that_does_io(path: Path) -> None:
    """No module of quorum.core imports I/O, a clock, randomness, SimPy, asyncio or an adapter."""
    assert not _forbidden(_imports(path))


def test_the_import_checker_can_fail() -> None:
    """The checker flags forbidden imports (so the test above is not vacuous)."""
    assert _forbidden({"time", "asyncio.events", "quorum.core.config"}) == {
        "time",
        "asyncio.events",
    }


def test_sim_never_imports_live() -> None:
    """Dependency direction: sim -> quorum.core, never quorum.live."""
    for path in (ROOT / "sim").rglob("*.py"):
        assert not {n for n in _imports(path) if n.startswith("quorum.live")}, path


def test_core_works_with_the_wall_clock_patched_to_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    """Exercising the core with every clock function patched to raise still works."""

    def boom(*_: object) -> float:
        raise AssertionError("the core read a clock")

    for name in ("time", "monotonic", "perf_counter", "time_ns", "monotonic_ns", "sleep"):
        monkeypatch.setattr(time, name, boom)
    cfg = QuorumConfig()
    site = SiteMachine(cfg, Site.A, 100.0)
    witness = WitnessMachine(cfg, 5.0)
    acts = site.handle_timer(100.0) + site.handle_timer(105.0)
    assert acts
    assert site.next_deadline() > 105.0
    assert witness.next_deadline() is None
    result = run_schedule(cfg, Schedule(seed=3, steps=(Cut(at=2, src="A", dst="B"), Crash(at=20, node="W"))))
    assert result.acknowledged_writes > 0
    assert not result.safety_violations


def test_same_inputs_give_same_outputs() -> None:
    """Determinism: the same schedule gives the same timeline, twice."""
    cfg = QuorumConfig(policy="witness-race")
    sched = Schedule(seed=9, steps=(Cut(at=3, src="A", dst="B"), Crash(at=15, node="A")))
    assert run_schedule(cfg, sched).trace == run_schedule(cfg, sched).trace


SIM_LAYERS = ("sim.story", "sim.years", "sim.availability", "sim.studies", "sim.cli")  # bottom to top


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _layer(module: str) -> int | None:
    for i, layer in enumerate(SIM_LAYERS):
        if module == layer or module.startswith(layer + "."):
            return i
    return None


def _import_graph(package: str) -> dict[str, set[str]]:
    """Module -> the modules of ``package`` it imports (at any depth of the file, type-checking blocks
    included: a circle that only type checking closes is still a circle for a reader)."""
    paths = sorted((ROOT / package.replace(".", "/")).rglob("*.py"))
    names = {_module_name(p) for p in paths}
    graph: dict[str, set[str]] = {}
    for path in paths:
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                deps.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # ``from pkg import mod`` imports the module pkg.mod (and runs pkg's __init__ first)
                subs = {f"{node.module}.{a.name}" for a in node.names} & names
                deps.update(subs or {node.module})
        graph[_module_name(path)] = {n for n in deps if n == package or n.startswith(package + ".")}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_sim_layers_import_only_downwards() -> None:
    """story < years < availability < studies < cli: no module of sim imports a layer above its own."""
    graph = _import_graph("sim")
    upward = [
        (mod, dep)
        for mod, deps in graph.items()
        for dep in deps
        if (lm := _layer(mod)) is not None and (ld := _layer(dep)) is not None and ld > lm
    ]
    assert not upward, upward
    assert len([p for p in (ROOT / "sim").glob("*.py")]) <= 8, "at most eight modules directly in sim/"


def test_sim_has_no_import_circle() -> None:
    """No two modules of sim import each other, directly or around a circle."""
    assert _cycles(_import_graph("sim")) == []


def test_the_layer_and_circle_checks_can_fail() -> None:
    """The checks above flag an upward import and a circle (so they are not vacuous)."""
    assert _layer("sim.studies.compare") == 3 and _layer("sim.story.runner") == 0
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_quorum_testing_is_the_public_kit() -> None:
    """quorum.testing imports neither quorum.live nor sim (users import it with the core alone)."""
    for path in (ROOT / "quorum" / "testing").rglob("*.py"):
        bad = {n for n in _imports(path) if n.startswith(("quorum.live", "sim.")) or n == "sim"}
        assert not bad, (path, bad)


def test_quorum_testing_has_no_import_circle() -> None:
    """The checker reads the world through a Protocol and never imports it; the world builds its checker:
    no circle (``invariants <-> world`` was one, closed by a type-checking import)."""
    assert _cycles(_import_graph("quorum.testing")) == []


def test_notebooks_import_the_simulator_from_sim_studies_only() -> None:
    """Notebooks call sim.studies (the documented entry points), never a lower layer or the CLI."""
    import json
    import re

    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        bad = re.findall(r"^\s*(?:from|import) (sim(?:\.\w+)*)", code, flags=re.M)
        assert all(m == "sim.studies" for m in bad), (nb.name, bad)
        assert "quorum.cli" not in code and "subprocess" not in code, nb.name


# what each package of the README's short tour may import of the project (beside itself)
_BELOW_SIM = {"quorum.core", "quorum.inputs", "quorum.testing"}
TOUR = {
    "quorum.core": set(),
    "quorum.inputs": set(),
    "quorum.progress": set(),
    "quorum.testing": {"quorum.core", "quorum.inputs"},
    "quorum.live": {"quorum.core", "quorum.inputs"},
    "sim.story": _BELOW_SIM,
    "sim.years": _BELOW_SIM | {"sim.story"},
    "sim.availability": _BELOW_SIM | {"sim.story", "sim.years"},
    "sim.studies": _BELOW_SIM | {"sim.story", "sim.years", "sim.availability"},
    "sim.cli": _BELOW_SIM | {"sim.story", "sim.years", "sim.availability", "sim.studies", "quorum.progress"},
}


def _package(module: str) -> str | None:
    """The short tour's package of ``module`` (``None``: not one the tour restricts)."""
    return next(
        (p for p in sorted(TOUR, key=len, reverse=True) if module == p or module.startswith(p + ".")), None
    )


def _tour_violations(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    """(module, project package it imports that its tour line does not allow)."""
    bad = []
    for mod, deps in graph.items():
        own = _package(mod)
        if own is None:
            continue
        for dep in deps:
            other = _package(dep) or ".".join(dep.split(".")[:2])  # quorum.cli.main -> quorum.cli
            if other != own and other not in TOUR[own]:
                bad.append((mod, other))
    return sorted(bad)


def test_each_package_imports_what_the_short_tour_says() -> None:
    """The README's short tour says, per package, what it may import: quorum.core, quorum.inputs and
    quorum.progress nothing of the project; quorum.testing and quorum.live only the core and inputs; each
    sim layer the layers below it and quorum.core/inputs/testing; sim.cli every layer (and the bar)."""
    cross: dict[str, set[str]] = {}
    for path in [*sorted((ROOT / "quorum").rglob("*.py")), *sorted((ROOT / "sim").rglob("*.py"))]:
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):  # type-checking blocks too
            if isinstance(node, ast.Import):
                names.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.update(f"{node.module}.{a.name}" for a in node.names)  # from quorum import core
                names.add(node.module)
        mod = _module_name(path)
        cross[mod] = {n for n in names if n.startswith(("quorum.", "sim."))}
    assert _tour_violations(cross) == []
    for package in TOUR:  # every line of the tour is a real package or module
        assert any(_package(m) == package for m in cross), package


def test_the_short_tour_check_can_fail() -> None:
    """An upward or sideways import is flagged (the live controller importing the checker's kit, the
    core importing anything of the project)."""
    assert _tour_violations({"quorum.live.agent": {"quorum.testing.world"}}) == [
        ("quorum.live.agent", "quorum.testing")
    ]
    assert _tour_violations({"quorum.core.site": {"quorum.inputs"}}) == [
        ("quorum.core.site", "quorum.inputs")
    ]
    assert _tour_violations({"sim.story.runner": {"sim.years.engine"}}) == [("sim.story.runner", "sim.years")]
    assert _tour_violations({"sim.cli": {"quorum.cli.UsageError"}}) == [("sim.cli", "quorum.cli")]
