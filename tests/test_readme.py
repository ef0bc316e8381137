"""The examples of the README and the documentation pages run as written (docs that match the code)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in PAGES)


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", _text(), flags=re.S)


def test_the_own_property_test_example_runs(tmp_path: Path) -> None:
    import importlib.util

    block = next(b for b in _python_blocks() if "def test_my_configuration_never_splits" in b)
    path = tmp_path / "readme_example.py"
    path.write_text(block, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("readme_example", path)
    assert spec is not None and spec.loader is not None
    module: Any = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.test_my_configuration_never_splits()
    module.test_short_blips_cause_no_failover()
    assert hasattr(module.TestStateful, "runTest")


def test_the_schedule_file_example_replays(tmp_path: Path) -> None:
    from quorum.testing.explore import replay

    text = _text()
    example = re.search(r'```json\n(\{"config".*?)```', text, flags=re.S)
    assert example is not None
    f = tmp_path / "example.json"
    f.write_text(example.group(1))
    result = replay(f)
    assert not result.violations


def test_the_two_site_walkthrough_works(tmp_path: Path, monkeypatch: Any) -> None:
    """The set-up block of the operations guide (docs/live.md), run as written (free ports in place of 8443-8445): init commands,
    a witness and two agents as real processes, then `quorum status` sees both sites mirrored."""
    from tests.readme_setup import ReadmeSetup

    monkeypatch.chdir(tmp_path)
    setup = ReadmeSetup()
    try:
        setup.run()
        mirrored = {"A": "mirrored", "B": "mirrored"}

        def both_mirrored() -> dict[str, Any]:
            seen = setup.status()
            return seen if seen and {s: v["role"] for s, v in seen["sites"].items()} == mirrored else {}

        seen = setup.wait_for("both sites mirrored", both_mirrored)
        assert seen["pair"] == "prod" and seen["durable"]["epoch"] == 1, seen
        assert all(p.poll() is None for p in setup.procs.values()), "a process of the walkthrough stopped"
    finally:
        setup.close()
