"""The PostgreSQL watchdog: a separate process that stops the server at the agent's deadline.

The agent writes deadlines on this process's standard input, one line each: ``<t>`` (a
``time.monotonic()`` reading: CLOCK_MONOTONIC is one clock for every process of the host) or ``off``.
When ``t`` passes without a later line, the watchdog stops the server at once (SIGQUIT to the
postmaster: immediate shutdown, every session ends, no commit is acknowledged after it). When its
input closes (the agent died, was killed, or stopped), it keeps the last deadline: it fires then, and
exits. This is Patroni's watchdog made of a process rather than ``/dev/watchdog``: an agent that is
killed, paused (SIGSTOP) or starved cannot keep a server serving past the deadline it last gave.

Usage (started by the agent): ``python -m quorum.live.pgwatchdog DATA_DIR``.
"""

from __future__ import annotations

import os
import select
import signal
import sys
import time
from pathlib import Path


def fire(data_dir: Path, why: str) -> None:
    try:
        pid = int((data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
        os.kill(pid, signal.SIGQUIT)
        print(f"quorum watchdog: {why}: stopped the server (SIGQUIT to postmaster {pid})", file=sys.stderr)
    except (OSError, ValueError) as e:
        print(f"quorum watchdog: {why}: no server to stop ({e})", file=sys.stderr)
    sys.stderr.flush()


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m quorum.live.pgwatchdog DATA_DIR", file=sys.stderr)
        return 2
    data_dir = Path(argv[0])
    deadline: float | None = None
    fd = sys.stdin.fileno()
    buf = b""
    while True:
        timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            fire(data_dir, "the agent's deadline passed without renewal")
            deadline = None
            continue
        chunk = os.read(fd, 4096)
        if not chunk:  # the agent is gone: hold its last deadline
            if deadline is not None:
                time.sleep(max(0.0, deadline - time.monotonic()))
                fire(data_dir, "the agent is gone and its deadline passed")
            return 0
        buf += chunk
        *lines, buf = buf.split(b"\n")
        for line in lines:
            text = line.decode(errors="replace").strip()
            if text == "off":
                deadline = None
            elif text:
                try:
                    deadline = float(text)
                except ValueError:
                    print(f"quorum watchdog: ignored line {text!r}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
