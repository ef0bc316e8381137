"""Local health checks of a site: host, disk free, a TCP service port, DNS resolution, a SQL check command.

The results are reported (agent status, journal, witness history); they do not feed the core yet:
``quorum.core`` has no site-health input (see README, "Limits today").
"""

from __future__ import annotations

import asyncio
import shutil
import socket

from pydantic import BaseModel, ConfigDict, Field


class HealthSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    interval: float = Field(default=5.0, gt=0)
    timeout: float = Field(default=2.0, gt=0)
    disk_path: str | None = None
    disk_min_free_mb: float = Field(default=100.0, ge=0)
    tcp: str | None = Field(default=None, description="host:port of the local service")
    dns: str | None = Field(default=None, description="a name that must resolve")
    sql_command: str | None = Field(default=None, description="shell command; exit 0 = healthy")


async def check_all(h: HealthSettings) -> dict[str, str]:
    """``{check: "ok" | reason}`` for every configured check (the host check is always present)."""
    out: dict[str, str] = {"host": "ok"}
    if h.disk_path is not None:
        try:
            free = shutil.disk_usage(h.disk_path).free / 1e6
            out["disk"] = (
                "ok" if free >= h.disk_min_free_mb else f"{free:.0f} MB free < {h.disk_min_free_mb:.0f}"
            )
        except OSError as e:
            out["disk"] = f"error: {e.strerror}"
    if h.tcp is not None:
        host, _, port = h.tcp.rpartition(":")
        try:
            _, w = await asyncio.wait_for(asyncio.open_connection(host, int(port)), h.timeout)
            w.close()
            out["tcp"] = "ok"
        except (OSError, TimeoutError, ValueError) as e:
            out["tcp"] = f"unreachable: {e!r}"
    if h.dns is not None:
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(loop.getaddrinfo(h.dns, None, type=socket.SOCK_STREAM), h.timeout)
            out["dns"] = "ok"
        except (OSError, TimeoutError) as e:
            out["dns"] = f"no resolution: {e!r}"
    if h.sql_command is not None:
        proc = await asyncio.create_subprocess_shell(
            h.sql_command, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
        )
        try:
            rc = await asyncio.wait_for(proc.wait(), h.timeout)
            out["sql"] = "ok" if rc == 0 else f"exit {rc}"
        except TimeoutError:
            proc.kill()
            await proc.wait()
            out["sql"] = "timed out"
    return out
