"""PostgreSQL as the storage a site protects: the core's actions mapped onto a real server.

Two servers, one per site; one is the primary, the other its standby over streaming replication
(through the inter-site link). The adapter never decides: it makes the local server match the
core's role, and reports what failed. The mapping (README, "Protecting PostgreSQL"):

| core role | local server primary | local server standby | local server down |
|---|---|---|---|
| MIRRORED at N | synchronous to the peer (``synchronous_standby_names`` = the peer), epoch N recorded | follows the peer | restarted (standby, or primary unless the peer's server is primary: then it rejoins) |
| SOLO at N | epoch N recorded (committed locally), **then** the synchronous requirement dropped | promoted (``pg_ctl promote``), epoch N recorded | started, then as above |
| FROZEN | synchronous: commits wait (the I/O freeze); alone (no lease): **stopped at once** | unchanged | started as a standby if it is one |
| FENCED | **stopped at once**, then rejoins: ``CHECKPOINT`` on the peer, ``pg_rewind`` (``pg_basebackup`` if rewind fails), standby of the peer | follows the peer | rejoins the same way |
| STARTING | alone (no authority): stopped at once; synchronous: left waiting | unchanged | started as a standby if it is one |

* **Why it is safe.** While mirrored a commit returns only once the peer's server flushed it, so
  both copies hold every acknowledged commit. The survivor drops that requirement (or promotes)
  only in SOLO, i.e. once the core holds the solo epoch. A server acknowledging alone runs only
  under a lease: at the lease's end (the core's FROZEN) the adapter stops it, and independently the
  watchdog process (``quorum.live.pgwatchdog``) stops it at the deadline the agent last gave (the
  lease end while solo; ``watchdog_s`` while mirrored), so a killed or paused agent cannot leave a
  server acknowledging alone. A commit still waiting for its standby when its server is stopped
  gets an error, never an acknowledgement. quorum never cancels such a wait (a cancelled wait
  *returns success* to the client: PostgreSQL's documented hazard).
* **The epoch in the database.** Table ``quorum_epoch`` gets a row when a server starts serving at
  an epoch (committed locally: it never waits for the standby), and ``quorum.epoch`` /
  ``quorum.site`` are settings of the server that any row can record (``current_setting``): a
  commit made by a deposed primary carries its old epoch.
* **Failures are visible.** A promote that fails or times out, a start, rewind or base backup that
  fails: an ERROR log line, and the site reported unhealthy (``SiteHealth``: its status shows
  ``postgres: <why>``, and an unhealthy site never contends); the next check tries again.
  ``StartResync`` ends with ``ResyncDone`` only once the peer's server streams synchronously and has
  flushed everything committed before; otherwise ``ResyncFailed`` after ``resync_timeout``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from quorum.core import QuorumConfig, ResyncDone, ResyncFailed, Role, RoleChanged, SiteMachine, StartResync
from quorum.live.pgserver import PgServer, conninfo, find_bin_dir
from quorum.live.settings import PostgresStorage

log = logging.getLogger("quorum.postgres")

EPOCH_TABLE = (
    "CREATE TABLE IF NOT EXISTS quorum_epoch (epoch bigint NOT NULL, site text NOT NULL,"
    " role text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp(),"
    " lsn pg_lsn NOT NULL DEFAULT pg_current_wal_lsn(), PRIMARY KEY (epoch, site, role))"
)


def app_name(site: str) -> str:
    """The ``application_name`` a site's standby connects with (what ``synchronous_standby_names`` names)."""
    return f"quorum_{site}"


class PostgresAdapter:
    """Drives the local server from the core's role. Thread-unsafe; one per agent, on its event loop.

    ``report(detail)``: the agent's hook for storage problems (``None``: none); the agent turns it
    into ``SiteHealth``.
    """

    def __init__(
        self,
        settings: PostgresStorage,
        cfg: QuorumConfig,
        machine: SiteMachine,
        report: Callable[[str | None], None],
    ) -> None:
        self.s = settings
        self.cfg = cfg
        self.m = machine
        self.report = report
        site = machine.site.value
        bin_dir = find_bin_dir(settings.bin_dir)
        local = {"sslmode": "disable"} if "sslmode" not in settings.libpq else {}
        self.server = PgServer(
            bin_dir,
            Path(settings.data_dir),
            settings.port,
            settings.host,
            settings.user,
            settings.dbname,
            settings.os_user,
            Path(settings.log_file) if settings.log_file else None,
            {**local, **settings.libpq},
        )
        self.peer = PgServer(
            bin_dir,
            Path("/nonexistent"),  # the peer's files are not ours: only SQL reaches it
            settings.peer_port,
            settings.peer_host,
            settings.user,
            settings.dbname,
            None,
            None,
            dict(settings.libpq),
        )
        self.app, self.peer_app = app_name(site), app_name(machine.peer.value)
        self.state = "unknown"  # the local server as last seen: primary, standby, down
        self.resyncing = False
        self.recorded: set[tuple[int, str]] = set()
        self.problem: str | None = None
        self.wake = asyncio.Event()
        self.lock = asyncio.Lock()
        self.deadline: float | None = None
        self.watchdog: subprocess.Popen[bytes] | None = None
        self.window = settings.watchdog_s if settings.watchdog_s is not None else cfg.lease_duration
        if settings.watchdog:
            self.watchdog = subprocess.Popen(
                [sys.executable, "-m", "quorum.live.pgwatchdog", settings.data_dir],
                stdin=subprocess.PIPE,
                start_new_session=True,  # it outlives a kill -9 of the agent: that is its job
            )

    # ---- the managed configuration ------------------------------------------------------------------
    def _conf(self, sync: bool, epoch: int) -> dict[str, str]:
        primary = conninfo(
            self.s.peer_host,
            self.s.peer_port,
            self.s.user,
            self.s.dbname,
            **{**self.s.libpq, "application_name": self.app, "connect_timeout": "2"},
        )
        return {
            "port": str(self.s.port),  # pg_rewind and pg_basebackup copy the peer's postgresql.conf
            "quorum.site": self.m.site.value,
            "quorum.epoch": str(epoch),
            "synchronous_standby_names": f'"{self.peer_app}"' if sync else "",
            "synchronous_commit": "on",
            "primary_conninfo": primary,
        }

    def conf_sync(self) -> bool:
        """The managed file asks for a synchronous standby (commits wait for the peer)."""
        try:
            text = (self.server.data_dir / "quorum.conf").read_text(encoding="utf-8")
        except OSError:
            return True  # no file: postgresql.conf decides; treated as not alone
        return f"synchronous_standby_names = '\"{self.peer_app}\"'" in text

    async def _apply(self, sync: bool, epoch: int) -> None:
        want = self._conf(sync, epoch)
        path = self.server.data_dir / "quorum.conf"
        before = path.read_text(encoding="utf-8") if path.exists() else ""
        self.server.write_conf(want)
        if path.read_text(encoding="utf-8") != before and self.state != "down":
            await self.server.reload()
            log.info("server configuration: synchronous=%s epoch=%d (reloaded)", sync, epoch)

    # ---- problems ---------------------------------------------------------------------------------------
    def _fail(self, what: str) -> None:
        if what != self.problem:
            log.error("postgres: %s", what)
        self.problem = what
        self.report(what)

    def _ok(self) -> None:
        if self.problem is not None:
            log.info("postgres: recovered from: %s", self.problem)
            self.problem = None
            self.report(None)

    # ---- the watchdog -------------------------------------------------------------------------------
    def tick(self, now: float) -> None:
        """After every call of the core: give the watchdog the deadline the site may serve until.

        Solo: the lease's end. Mirrored (commits wait for the peer): ``now + watchdog_s``. Any other
        role with the server configured alone: the deadline is never moved later. Disarmed while the
        local server is a standby or down and nothing asks it to serve."""
        if self.watchdog is None or self.watchdog.stdin is None:
            return
        m = self.m
        if self.state in ("standby", "down") and m.role is not Role.SOLO:
            new: float | None = None
        elif m.role is Role.SOLO:
            new = now + self.window if m.sticky or m.lease_end is None else m.lease_end
        elif m.role is Role.MIRRORED or self.conf_sync():
            new = now + self.window
        else:
            new = min(self.deadline, now + self.window) if self.deadline is not None else now + self.window
        if new == self.deadline:
            return
        self.deadline = new
        with contextlib.suppress(OSError, ValueError):
            self.watchdog.stdin.write(b"off\n" if new is None else f"{new:.6f}\n".encode())
            self.watchdog.stdin.flush()

    # ---- role changes -------------------------------------------------------------------------------
    async def role_changed(self, a: RoleChanged) -> None:
        """Called before anything else the same core call asked for: a site that must stop serving
        alone stops its server now (FENCED; FROZEN or STARTING while configured alone)."""
        if a.new is Role.FENCED or (a.new in (Role.FROZEN, Role.STARTING) and not self.conf_sync()):
            if self.server.postmaster_pid() is not None and await self.server.state() != "standby":
                await self._stop(f"{a.new.value} at epoch {a.epoch}: {a.reason}")
        self.wake.set()

    async def _stop(self, why: str) -> None:
        t = time.monotonic()
        r = await self.server.stop_now()
        if r.ok:
            log.warning("postgres: stopped at once (%s) in %.3f s", why, time.monotonic() - t)
            self.state = "down"
        else:
            self._fail(f"immediate stop failed ({why}): {r.output}")

    # ---- the loop -----------------------------------------------------------------------------------
    async def run(self) -> None:
        """Check the server every ``check_interval`` (and at once on a role change) and act."""
        while True:
            # after a failure, the next attempt waits a second (a failing start is not retried in a loop)
            pause = self.s.check_interval if self.problem is None else max(1.0, self.s.check_interval)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), pause)
            self.wake.clear()
            try:
                async with self.lock:
                    await self.reconcile()
            except Exception as e:  # one bad pass must not end the loop: it is reported and retried
                self._fail(f"{type(e).__name__}: {e}")

    async def reconcile(self) -> None:
        """One pass: the local server made to match the core's role (see the module's table)."""
        m = self.m
        role, epoch = m.role, m.epoch
        self.state = await self.server.state()
        st = self.state
        if role is Role.SOLO:
            if st == "standby":
                await self._promote(epoch)
            elif st == "down":
                await self._start(sync=False, epoch=epoch)
            elif await self._record(epoch, "solo"):
                await self._apply(sync=self.resyncing and self.conf_sync(), epoch=epoch)
                self._ok()
        elif role is Role.MIRRORED:
            if st == "primary":
                await self._apply(sync=True, epoch=epoch)
                if await self._record(epoch, "mirrored"):
                    self._ok()
            elif st == "standby":
                await self._apply(sync=False, epoch=epoch)
                self._ok()
            elif self.server.standby_signal.exists():
                await self._start(sync=False, epoch=epoch)
            elif await self.peer.state() == "primary":
                await self._rejoin(epoch)
            else:
                await self._start(sync=True, epoch=epoch)
        elif role is Role.FENCED:
            if st == "primary":
                await self._stop(f"fenced at epoch {epoch}")
                st = self.state
            if st == "standby":
                await self._apply(sync=False, epoch=epoch)
                self._ok()
            elif self.server.standby_signal.exists():
                await self._start(sync=False, epoch=epoch)
            else:
                await self._rejoin(epoch)
        else:  # FROZEN, STARTING
            if st == "primary" and not self.conf_sync():
                await self._stop(f"{role.value}: configured alone without a lease")
            elif st == "down" and self.server.standby_signal.exists():
                await self._start(sync=False, epoch=epoch)

    async def _record(self, epoch: int, role: str) -> bool:
        """The epoch this primary serves at, as a row of ``quorum_epoch`` (committed locally)."""
        if (epoch, role) in self.recorded:
            return True
        import psycopg

        try:
            await self.server.sql(EPOCH_TABLE)
            await self.server.sql(
                f"INSERT INTO quorum_epoch (epoch, site, role) VALUES ({int(epoch)},"
                f" '{self.m.site.value}', '{role}') ON CONFLICT DO NOTHING"
            )
        except (psycopg.Error, OSError, TimeoutError) as e:
            self._fail(f"cannot record epoch {epoch} ({role}) in quorum_epoch: {e}")
            return False
        self.recorded.add((epoch, role))
        log.info("postgres: epoch %d (%s) recorded in quorum_epoch", epoch, role)
        return True

    async def _start(self, sync: bool, epoch: int) -> None:
        await self._apply(sync=sync, epoch=epoch)
        what = "standby" if self.server.standby_signal.exists() else "primary"
        t = time.monotonic()
        r = await self.server.start(self.s.start_timeout)
        self.state = await self.server.state()
        if not r.ok or self.state == "down":
            self._fail(f"start ({what}) failed: {r.output[-300:]}")
            return
        log.warning("postgres: started as %s in %.3f s", self.state, time.monotonic() - t)
        self._ok()

    async def _promote(self, epoch: int) -> None:
        """SOLO at ``epoch`` with a standby: no synchronous standby any more, promote, record."""
        await self._apply(sync=False, epoch=epoch)
        t = time.monotonic()
        r = await self.server.promote(self.s.promote_timeout)
        self.state = await self.server.state()
        if not r.ok or self.state != "primary":
            why = "timed out" if r.rc is None else f"failed (rc={r.rc})"
            self._fail(f"promote at epoch {epoch} {why}: {r.output[-300:]}")
            return
        log.warning("postgres: promoted at epoch %d in %.3f s", epoch, time.monotonic() - t)
        if await self._record(epoch, "solo"):
            self._ok()

    async def _rejoin(self, epoch: int) -> None:
        """A stale or deposed copy: stopped, rewound from the peer's primary (or copied afresh when
        rewind cannot run), started as its standby. Waits (quietly) while the peer is no primary."""
        import psycopg

        if self.server.postmaster_pid() is not None:
            await self._stop("rejoining the peer")
        if await self.peer.state() != "primary":
            return  # nothing to follow yet: checked again on the next pass
        try:
            # pg_rewind reads the timeline from the source's control file: after a promotion it is
            # the new one only after a checkpoint
            await self.peer.sql("CHECKPOINT", timeout=60)
        except (psycopg.Error, OSError, TimeoutError) as e:
            self._fail(f"rejoin: CHECKPOINT on the peer failed: {e}")
            return
        source = self.peer.dsn(application_name=self.app)
        t = time.monotonic()
        r = await self.server.rewind(source, self.s.rewind_timeout)
        how = "pg_rewind"
        if not r.ok:
            log.error("postgres: pg_rewind failed (%s): %s; taking a base backup", r.rc, r.output[-300:])
            how = "pg_basebackup"
            r = await self.server.base_backup(source, self.s.rewind_timeout)
            if not r.ok:
                self._fail(f"rejoin: pg_rewind and pg_basebackup failed: {r.output[-300:]}")
                return
        log.warning("postgres: %s from the peer done in %.3f s", how, time.monotonic() - t)
        log.info("postgres: %s said: %s", how, r.output[-500:])
        self.server.mark_standby()
        await self._start(sync=False, epoch=epoch)

    # ---- resynchronisation --------------------------------------------------------------------------
    async def resync(self, a: StartResync) -> ResyncDone | ResyncFailed:
        """The peer's server catches up: once it streams, commits wait for it again; ``ResyncDone``
        once it has flushed every WAL byte written before that (every acknowledged commit)."""
        import psycopg

        self.resyncing = True
        end = time.monotonic() + self.s.resync_timeout
        target: str | None = None
        last = "no standby connected"
        try:
            while time.monotonic() < end:
                try:
                    rows = await self.server.sql(
                        "SELECT state, sync_state FROM pg_stat_replication"
                        f" WHERE application_name = '{self.peer_app}'"
                    )
                    if rows and rows[0][0] == "streaming":
                        if not self.conf_sync():
                            async with self.lock:
                                await self._apply(sync=True, epoch=self.m.epoch)
                        if rows[0][1] == "sync" and target is None:
                            ((target,),) = await self.server.sql("SELECT pg_current_wal_lsn()::text")
                        if target is not None:
                            ((done,),) = await self.server.sql(
                                f"SELECT coalesce(bool_and(flush_lsn >= '{target}'::pg_lsn), false)"
                                f" FROM pg_stat_replication WHERE application_name = '{self.peer_app}'"
                                " AND sync_state = 'sync'"
                            )
                            if done:
                                log.warning("postgres: peer standby caught up (synchronous) at %s", target)
                                return ResyncDone(a.epoch)
                        last = f"standby streaming, {rows[0][1]}"
                    else:
                        last = "standby not streaming" if rows else "no standby connected"
                except (psycopg.Error, OSError, TimeoutError) as e:
                    last = f"{type(e).__name__}: {e}"
                await asyncio.sleep(0.2)
            log.error(
                "postgres: resync at epoch %d failed after %g s: %s", a.epoch, self.s.resync_timeout, last
            )
            return ResyncFailed(a.epoch)
        finally:
            self.resyncing = False
            self.wake.set()

    async def close(self) -> None:
        """The agent stops: the watchdog keeps the last deadline and fires at it (no agent, no
        primary serving past it)."""
        if self.watchdog is not None and self.watchdog.stdin is not None:
            with contextlib.suppress(OSError):
                self.watchdog.stdin.close()
