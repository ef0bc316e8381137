"""One PostgreSQL server as quorum drives it: its binaries, its OS user, and the few operations the
storage adapter (``quorum.live.storage_pg``) and the lab need.

* **Binaries** are found, never assumed: the configured ``bin_dir``, then ``pg_ctl`` on ``PATH``,
  then ``pg_config --bindir``, then ``/usr/lib/postgresql/*/bin`` (newest first) and
  ``/usr/pgsql-*/bin``. A directory counts only if it holds every tool quorum runs.
* **OS user.** ``initdb`` and ``pg_ctl`` refuse root. When the agent (or the lab) runs as root, every
  tool runs as ``os_user`` (``subprocess``'s ``user=``), with ``/`` as working directory.
* **The managed file.** quorum writes the settings it owns into ``DATA/quorum.conf``, which
  ``postgresql.conf`` includes last (``include_if_exists = 'quorum.conf'``): the synchronous
  standby, ``primary_conninfo``, and two custom settings every session can read, ``quorum.site``
  and ``quorum.epoch`` (the epoch the server runs under, so that a row can record it). quorum never
  uses ``ALTER SYSTEM`` for these: a file can be written while the server is down, and on a standby.
  ``pg_rewind`` and ``pg_basebackup`` copy the source's file, so it is written again after both.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import pwd
import shutil
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TOOLS = ("initdb", "pg_ctl", "pg_rewind", "pg_basebackup", "postgres")
INSTALL_HINT = (
    "PostgreSQL server binaries (initdb, pg_ctl, pg_rewind, pg_basebackup) not found: install them"
    " (Debian/Ubuntu: apt-get install -y postgresql; RHEL: dnf install postgresql-server)"
    " or set storage.bin_dir"
)
CONF_FILE = "quorum.conf"
INCLUDE_LINE = f"include_if_exists = '{CONF_FILE}'"


class PgMissing(Exception):
    """No directory holds the PostgreSQL server binaries (the message says how to install them)."""


def _has_tools(d: Path) -> bool:
    return all((d / t).is_file() and os.access(d / t, os.X_OK) for t in TOOLS)


def find_bin_dir(configured: str | None = None) -> Path:
    """The directory of the PostgreSQL server binaries; raises ``PgMissing`` (with an install hint).

    A configured directory must hold every tool (it is never silently replaced by another one)."""
    if configured is not None:
        d = Path(configured)
        if not _has_tools(d):
            missing = [t for t in TOOLS if not (d / t).is_file()]
            raise PgMissing(f"storage.bin_dir {configured!r} lacks {', '.join(missing)}")
        return d
    candidates: list[Path] = []
    which = shutil.which("pg_ctl")
    if which is not None:
        candidates.append(Path(which).parent)
        candidates.append(Path(which).resolve().parent)
    pg_config = shutil.which("pg_config")
    if pg_config is not None:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10)
            if out.returncode == 0 and out.stdout.strip():
                candidates.append(Path(out.stdout.strip()))

    def version(p: str) -> tuple[int, ...]:
        digits = "".join(c if c.isdigit() else " " for c in p).split()
        return tuple(int(x) for x in digits)

    for pattern in ("/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin"):
        candidates.extend(Path(p) for p in sorted(glob.glob(pattern), key=version, reverse=True))
    for d in candidates:
        if _has_tools(d):
            return d
    raise PgMissing(INSTALL_HINT)


def conninfo(host: str, port: int, user: str, dbname: str, **extra: str | int) -> str:
    """A libpq key=value connection string (values quoted as libpq wants)."""

    def q(v: str | int) -> str:
        s = str(v)
        return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"

    items = {"host": host, "port": port, "user": user, "dbname": dbname, **extra}
    return " ".join(f"{k}={q(v)}" for k, v in items.items())


@dataclass
class ToolResult:
    rc: int | None  # None: timed out (the process was killed)
    output: str

    @property
    def ok(self) -> bool:
        return self.rc == 0


@dataclass
class PgServer:
    """One server: where its data lives, how to reach it, which OS user runs its tools."""

    bin_dir: Path
    data_dir: Path
    port: int
    host: str = "127.0.0.1"
    user: str = "postgres"  # the database role quorum connects as (a superuser: CHECKPOINT, pg_rewind)
    dbname: str = "postgres"
    os_user: str | None = None  # run the tools as this OS user (needed when running as root)
    log_file: Path | None = None
    extra: dict[str, str] = field(default_factory=dict)  # more libpq parameters (sslmode, passfile...)

    # ---- running tools -----------------------------------------------------------------------------
    def _user_kw(self) -> dict[str, Any]:
        if self.os_user is None or os.geteuid() != 0:
            return {}
        return {"user": self.os_user, "cwd": "/"}

    def chown(self, path: Path) -> None:
        """Give ``path`` to the server's OS user (when quorum runs as root)."""
        if self.os_user is None or os.geteuid() != 0:
            return
        pw = pwd.getpwnam(self.os_user)
        os.chown(path, pw.pw_uid, pw.pw_gid)

    def tool_sync(self, tool: str, *args: str, timeout: float = 60.0) -> ToolResult:
        """Run ``tool`` to completion (blocking: for the lab's set-up and the tests, not the agent)."""
        try:
            p = subprocess.run(
                [str(self.bin_dir / tool), *args],
                capture_output=True,
                text=True,
                timeout=timeout,
                stdin=subprocess.DEVNULL,
                **self._user_kw(),
            )
        except subprocess.TimeoutExpired as e:
            out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else str(e.stdout or "")
            return ToolResult(None, out + " (timed out)")
        return ToolResult(p.returncode, (p.stdout + p.stderr).strip())

    async def tool(self, tool: str, *args: str, timeout: float = 60.0) -> ToolResult:
        """Run ``tool`` without blocking the event loop; a timeout kills it (``rc`` None)."""
        proc = await asyncio.create_subprocess_exec(
            str(self.bin_dir / tool),
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
            **self._user_kw(),
        )
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), timeout)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
            return ToolResult(None, f"{tool} timed out after {timeout:g} s")
        return ToolResult(proc.returncode, out.decode(errors="replace").strip())

    def _log(self) -> str:
        return str(self.log_file or Path(str(self.data_dir) + ".log"))

    # ---- connections -------------------------------------------------------------------------------
    def dsn(self, **extra: str | int) -> str:
        return conninfo(self.host, self.port, self.user, self.dbname, **{**self.extra, **extra})

    async def sql(self, query: str, *, timeout: float = 2.0) -> list[tuple[Any, ...]]:
        """One statement in autocommit; its rows (``[]`` for none). Raises ``psycopg.Error`` / OSError."""
        import psycopg

        async with await psycopg.AsyncConnection.connect(
            # quorum's own statements never wait for a standby (a wait cut short would be a hazard)
            self.dsn(connect_timeout=max(1, int(timeout)), options="-c synchronous_commit=local"),
            autocommit=True,
        ) as conn:
            cur = await asyncio.wait_for(conn.execute(query.encode()), timeout)
            return list(await cur.fetchall()) if cur.description is not None else []

    async def state(self, timeout: float = 1.5) -> str:
        """``"primary"``, ``"standby"`` or ``"down"`` (not answering within ``timeout``)."""
        import psycopg

        try:
            rows = await self.sql("SELECT pg_is_in_recovery()", timeout=timeout)
        except (psycopg.Error, OSError, TimeoutError):
            return "down"
        return "standby" if rows and rows[0][0] else "primary"

    # ---- files -------------------------------------------------------------------------------------
    @property
    def standby_signal(self) -> Path:
        return self.data_dir / "standby.signal"

    def postmaster_pid(self) -> int | None:
        """The postmaster's pid from ``postmaster.pid`` if that process exists, else None."""
        try:
            pid = int((self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
            os.kill(pid, 0)
        except (OSError, ValueError):
            return None
        return pid

    def write_conf(self, settings: dict[str, str]) -> None:
        """Write the managed file atomically (owned by the server's OS user), and make sure
        ``postgresql.conf`` includes it."""
        lines = ["# written by quorum (storage adapter); every change is reloaded; do not edit"]
        lines += [f"{k} = '{v.replace(chr(39), chr(39) * 2)}'" for k, v in sorted(settings.items())]
        tmp = self.data_dir / (CONF_FILE + ".tmp")
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
        self.chown(tmp)
        tmp.replace(self.data_dir / CONF_FILE)
        main = self.data_dir / "postgresql.conf"
        text = main.read_text(encoding="utf-8")
        lines = text.rstrip("\n").split("\n")
        if lines[-1].strip() != INCLUDE_LINE:  # last, so that nothing after it overrides the file
            lines = [x for x in lines if x.strip() != INCLUDE_LINE] + [INCLUDE_LINE]
            main.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def mark_standby(self) -> None:
        self.standby_signal.write_text("")
        self.chown(self.standby_signal)

    # ---- server control ----------------------------------------------------------------------------
    async def start(self, timeout: float = 30.0) -> ToolResult:
        return await self.tool(
            "pg_ctl", "start", "-D", str(self.data_dir), "-w", "-t", str(int(timeout)), "-l", self._log(),
            timeout=timeout + 5,
        )  # fmt: skip

    async def stop_now(self, timeout: float = 10.0) -> ToolResult:
        """Immediate shutdown (SIGQUIT to the postmaster, as ``pg_ctl stop -m immediate``): every session
        ends at once, a commit waiting for its standby included (that client gets an error, never an
        acknowledgement). Waits until the postmaster is gone."""
        pid = self.postmaster_pid()
        if pid is None:
            return ToolResult(0, "not running")
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGQUIT)
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while loop.time() < end:
            if self.postmaster_pid() != pid:
                return ToolResult(0, f"stopped (postmaster {pid})")
            await asyncio.sleep(0.02)
        return ToolResult(None, f"postmaster {pid} still running {timeout:g} s after SIGQUIT")

    async def promote(self, timeout: float) -> ToolResult:
        return await self.tool(
            "pg_ctl", "promote", "-D", str(self.data_dir), "-w", "-t", str(max(1, int(timeout))),
            timeout=timeout + 5,
        )  # fmt: skip

    async def reload(self) -> None:
        """Reload the configuration (SQL if the server answers, else ``pg_ctl reload``)."""
        import psycopg

        try:
            await self.sql("SELECT pg_reload_conf()")
        except (psycopg.Error, OSError, TimeoutError):
            await self.tool("pg_ctl", "reload", "-D", str(self.data_dir), timeout=10)

    async def rewind(self, source: str, timeout: float) -> ToolResult:
        return await self.tool(
            "pg_rewind", "-D", str(self.data_dir), f"--source-server={source}", timeout=timeout
        )

    async def base_backup(self, source: str, timeout: float) -> ToolResult:
        """Replace the data directory's contents with a fresh copy of ``source`` (the fallback when
        ``pg_rewind`` cannot run). The directory itself stays (its owner and mode are kept)."""
        for child in self.data_dir.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
        return await self.tool(
            "pg_basebackup", "-D", str(self.data_dir), "-d", source, "-X", "stream", "-c", "fast",
            timeout=timeout,
        )  # fmt: skip
