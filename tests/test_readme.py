"""The README's examples run as written (docs that match the code)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parent.parent / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


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

    text = README.read_text(encoding="utf-8")
    example = re.search(r'```json\n(\{"config".*?)```', text, flags=re.S)
    assert example is not None
    f = tmp_path / "example.json"
    f.write_text(example.group(1))
    result = replay(f)
    assert not result.violations


def test_the_two_site_walkthrough_works(tmp_path: Path, monkeypatch: Any) -> None:
    """The README's set-up block, run as written (free ports in place of 8443-8445): init commands,
    a witness and two agents as real processes, then `quorum status` sees both sites mirrored."""
    import json
    import os
    import shlex
    import signal
    import socket
    import subprocess
    import sys
    import time

    from quorum.cli import main

    text = README.read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"```sh\n(.*?)```", text, flags=re.S) if "quorum witness init" in b)
    ports = {}
    for p in ("8443", "8444", "8445"):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            ports[p] = str(s.getsockname()[1])
    monkeypatch.chdir(tmp_path)
    procs: list[subprocess.Popen[bytes]] = []
    status: list[str] = []
    try:
        for line in block.strip().splitlines():
            for old, new in ports.items():
                line = line.replace(old, new)
            argv = shlex.split(line.removesuffix("&").strip())
            assert argv[0] == "quorum"
            if line.endswith("&"):
                procs.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "quorum.cli", *argv[1:]],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                        start_new_session=True,
                    )
                )
            elif argv[1] == "status":
                status = [*argv[1:], "--json"]
            else:
                assert main(argv[1:]) == 0, line
        assert status, "the walkthrough ends with quorum status"
        end = time.time() + 60
        seen: dict[str, Any] = {}
        while time.time() < end:
            out = subprocess.run(
                [sys.executable, "-m", "quorum.cli", *status], capture_output=True, text=True, check=False
            )
            if out.returncode == 0:
                seen = json.loads(out.stdout)
                if {s: v["role"] for s, v in seen["sites"].items()} == {"A": "mirrored", "B": "mirrored"}:
                    break
            time.sleep(0.5)
        assert seen and seen["pair"] == "prod" and seen["durable"]["epoch"] == 1, seen
        assert {s: v["role"] for s, v in seen["sites"].items()} == {"A": "mirrored", "B": "mirrored"}
        assert all(p.poll() is None for p in procs), "a process of the walkthrough stopped"
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(5)
