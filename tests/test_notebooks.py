"""The notebooks: committed without outputs, and each runs from a clean kernel at its small size,
opening with its question and ending with its answer drawn (a figure) and stated (an "Answer:" line)."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path
from types import ModuleType

import pytest

NOTEBOOK_DIR = Path(__file__).parent.parent / "notebooks"


def _runner() -> ModuleType:
    spec = importlib.util.spec_from_file_location("notebooks_run", NOTEBOOK_DIR / "run.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


RUN = _runner()
NOTEBOOKS = [NOTEBOOK_DIR / n for n in RUN.NOTEBOOKS]


def test_every_notebook_is_run_by_the_tests() -> None:
    """No notebook in notebooks/ escapes make test and make figures."""
    assert {p.name for p in NOTEBOOK_DIR.glob("*.ipynb")} == {p.name for p in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs(path: Path) -> None:
    """Diffs stay reviewable: no committed cell carries outputs or an execution count."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    dirty = [
        i
        for i, c in enumerate(nb["cells"])
        if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count") is not None)
    ]
    assert not dirty, f"{path.name}: cells {dirty} have outputs; clear them before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_runs_from_a_clean_kernel(path: Path) -> None:
    """Every cell runs at SIZE small; the first cell asks the question, the last draws and states the answer."""
    nb = RUN.execute(path, size="small", timeout=600)
    out = os.environ.get("QUORUM_NOTEBOOKS_OUT")  # make test: the docs site renders these
    if out:
        import nbformat

        Path(out).mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, Path(out) / path.name)
    assert nb.cells[0].cell_type == "markdown" and "**Question.**" in nb.cells[0].source
    last = [c for c in nb.cells if c.cell_type == "code"][-1]
    kinds = [o.output_type for o in last.outputs]
    assert "error" not in kinds
    assert any("image/png" in o.get("data", {}) for o in last.outputs), "the answer is not drawn"
    text = "".join(o.get("text", "") for o in last.outputs if o.output_type == "stream")
    assert "Answer:" in text, "the answer is not stated"
