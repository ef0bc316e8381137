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
