"""Local health checks report each configured check; failures name their reason."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

from quorum.live.health import HealthSettings, check_all


def test_checks_report_ok_and_failures(tmp_path: Path) -> None:
    """Disk, TCP, DNS and SQL checks: healthy ones say ok, a closed port and a failing command do not."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    port = srv.getsockname()[1]
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    dead = closed.getsockname()[1]
    closed.close()
    try:
        ok = asyncio.run(
            check_all(
                HealthSettings(
                    disk_path=str(tmp_path),
                    disk_min_free_mb=0,
                    tcp=f"127.0.0.1:{port}",
                    dns="localhost",
                    sql_command="true",
                )
            )
        )
        assert ok == {"host": "ok", "disk": "ok", "tcp": "ok", "dns": "ok", "sql": "ok"}
        bad = asyncio.run(check_all(HealthSettings(tcp=f"127.0.0.1:{dead}", sql_command="exit 3", timeout=2)))
        assert bad["tcp"].startswith("unreachable") and bad["sql"] == "exit 3"
    finally:
        srv.close()
