"""The two-site set-up block of the operations guide (docs/live.md, linked from the README), run as written with free ports in place of 8443-8445: the
``init`` commands in this process, the witness and the agents as real processes (``quorum.cli``)."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "live.md"


def free_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return str(s.getsockname()[1])


class ReadmeSetup:
    """Run from the directory the test chose (``monkeypatch.chdir``); ``close()`` stops every process."""

    def __init__(self) -> None:
        text = GUIDE.read_text(encoding="utf-8")
        self.block = next(
            b for b in re.findall(r"```sh\n(.*?)```", text, flags=re.S) if "quorum witness init" in b
        )
        self.ports = {p: free_port() for p in ("8443", "8444", "8445")}
        self.procs: dict[str, subprocess.Popen[bytes]] = {}  # by the config file each one runs
        self.status_argv: list[str] = []

    def run(self) -> None:
        """Every line of the block: init commands here, ``&`` lines as processes, ``status`` kept."""
        from quorum.cli import main

        for line in self.block.strip().splitlines():
            for old, new in self.ports.items():
                line = line.replace(old, new)
            argv = shlex.split(line.removesuffix("&").strip())
            assert argv[0] == "quorum"
            if line.endswith("&"):
                self.start(argv[1:])
            elif argv[1] == "status":
                self.status_argv = [*argv[1:], "--json"]
            else:
                assert main(argv[1:]) == 0, line
        assert self.status_argv, "the walkthrough ends with quorum status"

    def start(self, args: list[str]) -> subprocess.Popen[bytes]:
        """``quorum ARGS`` as a process of its own session, its output in ``<config>.log``."""
        config = args[args.index("--config") + 1]
        log = open(f"{config}.log", "ab")  # noqa: SIM115 - the process writes it until it stops
        p = subprocess.Popen(
            [sys.executable, "-m", "quorum.cli", *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.procs[config] = p
        return p

    def quorum(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """``quorum ARGS`` run to its end."""
        return subprocess.run(
            [sys.executable, "-m", "quorum.cli", *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )

    def status(self) -> dict[str, Any]:
        out = self.quorum(*self.status_argv)
        return json.loads(out.stdout) if out.returncode == 0 else {}

    def history(self) -> list[dict[str, Any]]:
        args = ["history" if a == "status" else a for a in self.status_argv]
        out = self.quorum(*args)
        assert out.returncode == 0, out.stderr
        result: list[dict[str, Any]] = json.loads(out.stdout)["history"]
        return result

    def wait_for(self, what: str, ok: Any, timeout: float = 60) -> Any:
        end = time.time() + timeout
        last: Any = None
        while time.time() < end:
            last = ok()
            if last:
                return last
            time.sleep(0.5)
        raise AssertionError(f"timed out waiting for {what} (last: {last})")

    def stop(self, config: str) -> int:
        """SIGTERM to the process running ``config``; its exit status."""
        p = self.procs.pop(config)
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
        try:
            return p.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            return p.wait(5)

    def close(self) -> None:
        for config in list(self.procs):
            self.stop(config)
