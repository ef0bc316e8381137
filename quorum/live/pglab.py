"""The lab's PostgreSQL: two real servers (one per site), a workload of numbered commits, and the checker.

* **Servers.** ``PgPair`` makes two clusters in a temporary directory owned by the servers' OS user
  (``postgres`` when the lab runs as root: ``initdb`` refuses root), on 127.0.0.1 and free ports:
  site A's by ``initdb``, site B's as its standby by ``pg_basebackup``. Replication goes through the
  lab's fault proxy (links ``pg-A``, ``pg-B``: cutting the inter-site link cuts them too), and A's
  commits wait for B (``synchronous_standby_names``) from the start. ``close`` stops both at once.
* **Workload.** ``Workload`` runs writer threads committing numbered rows through whichever site
  serves (libpq with both hosts, ``target_session_attrs=read-write``). A row is *acknowledged* when
  its ``COMMIT`` returned success; each is recorded with what the server stamped on it: its site,
  the epoch it ran under (``quorum.site`` / ``quorum.epoch``, set by the agent) and its port. A
  commit whose outcome is unknown (an error, or still waiting at the end) is not counted. The
  writers never cancel a query (a cancelled synchronous-commit wait returns success).
* **Checker.** ``check`` reads the final primary once the pair is healed and resynchronised: every
  acknowledged row missing there is a lost acknowledged commit. ``split_brain``: acknowledged
  commits of two servers interleave in time (an acknowledgement by one server after another had
  begun acknowledging, and before it stopped), or a server acknowledged a commit carrying an older
  epoch after another server had acknowledged one at a newer epoch (a deposed primary's late commit).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import pwd
import shutil
import signal
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from quorum.live.pgserver import PgServer, conninfo, find_bin_dir
from quorum.live.proxy import FaultProxy
from quorum.live.storage_pg import app_name

WORKLOAD_TABLE = (
    "CREATE TABLE IF NOT EXISTS quorum_commits (id bigint PRIMARY KEY, writer int NOT NULL,"
    " site text NOT NULL DEFAULT current_setting('quorum.site'),"
    " epoch bigint NOT NULL DEFAULT current_setting('quorum.epoch')::bigint,"
    " port int NOT NULL DEFAULT inet_server_port(), at timestamptz NOT NULL DEFAULT clock_timestamp())"
)

SERVER_CONF = """
# quorum lab
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{sockets}'
wal_level = replica
wal_log_hints = on
max_wal_senders = 5
wal_keep_size = '512MB'
hot_standby = on
wal_sender_timeout = '3s'
wal_receiver_timeout = '3s'
wal_retrieve_retry_interval = '200ms'
wal_receiver_status_interval = '1s'
shared_buffers = '32MB'
max_connections = 40
log_line_prefix = '%m [%p] '
"""


def lab_os_user() -> str | None:
    """The OS user the lab's servers run as: ``postgres`` when running as root, else ourselves."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise RuntimeError(
            "running as root, and there is no 'postgres' OS user to run PostgreSQL as"
            " (initdb refuses root): create one (useradd -r postgres) or run as another user"
        ) from None
    return "postgres"


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


class PgPair:
    """Two servers for the lab (see the module doc). ``ports``: site -> the server's own port;
    ``via``: site -> the proxy port that reaches that server over the inter-site link."""

    def __init__(self, proxy: FaultProxy, bin_dir: str | None = None) -> None:
        from quorum.live.lab import free_port

        self.bin_dir = find_bin_dir(bin_dir)
        self.os_user = lab_os_user()
        self.root = Path(tempfile.mkdtemp(prefix="quorum-pg-"))
        os.chmod(self.root, 0o755)
        if self.os_user is not None:
            pw = pwd.getpwnam(self.os_user)
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        self.ports = {"A": free_port(), "B": free_port()}
        self.via = {s: proxy.add(f"pg-{s}", self.ports[s]) for s in "AB"}
        self.servers = {
            s: PgServer(
                self.bin_dir, self.root / s, self.ports[s], os_user=self.os_user, extra={"sslmode": "disable"}
            )
            for s in "AB"
        }

    def storage_settings(self, site: str) -> dict[str, Any]:
        """The agent's ``storage:`` block for ``site``."""
        peer = "B" if site == "A" else "A"
        out: dict[str, Any] = {
            "kind": "postgres",
            "data_dir": str(self.root / site),
            "bin_dir": str(self.bin_dir),
            "port": self.ports[site],
            "peer_host": "127.0.0.1",
            "peer_port": self.via[peer],
            "libpq": {"sslmode": "disable"},
            "check_interval": 0.1,
        }
        if self.os_user is not None:
            out["os_user"] = self.os_user
        return out

    def _conf(self, site: str, sync: bool) -> dict[str, str]:
        peer = "B" if site == "A" else "A"
        primary = conninfo(
            "127.0.0.1", self.via[peer], "postgres", "postgres",
            sslmode="disable", application_name=app_name(site), connect_timeout="2",
        )  # fmt: skip
        return {
            "port": str(self.ports[site]),
            "quorum.site": site,
            "quorum.epoch": "1",
            "synchronous_standby_names": f'"{app_name(peer)}"' if sync else "",
            "synchronous_commit": "on",
            "primary_conninfo": primary,
        }

    def setup(self, timeout: float = 60.0) -> None:
        """A primary at A, its synchronous standby at B, streaming; the workload's table created."""
        a, b = self.servers["A"], self.servers["B"]
        r = a.tool_sync(
            "initdb", "-D", str(a.data_dir), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync",
            timeout=timeout,
        )  # fmt: skip
        if not r.ok:
            raise RuntimeError(f"initdb failed: {r.output[-500:]}")
        with open(a.data_dir / "postgresql.conf", "a", encoding="utf-8") as f:
            f.write(SERVER_CONF.format(port=a.port, sockets=self.root))
        a.write_conf(self._conf("A", sync=True))
        r = _run(a.start(timeout))
        if not r.ok:
            raise RuntimeError(f"starting site A's server failed: {r.output[-500:]}")
        _run(a.sql(WORKLOAD_TABLE))
        r = b.tool_sync(
            "pg_basebackup", "-D", str(b.data_dir), "-d", a.dsn(), "-X", "stream", "-c", "fast",
            timeout=timeout,
        )  # fmt: skip
        if not r.ok:
            raise RuntimeError(f"pg_basebackup of site B failed: {r.output[-500:]}")
        b.write_conf(self._conf("B", sync=False))
        b.mark_standby()
        r = _run(b.start(timeout))
        if not r.ok:
            raise RuntimeError(f"starting site B's standby failed: {r.output[-500:]}")
        end = time.time() + timeout
        while time.time() < end:
            if self.sync_standby() is not None:
                return
            time.sleep(0.1)
        raise RuntimeError("site B's standby never became synchronous")

    def state(self, site: str) -> str:
        result: str = _run(self.servers[site].state())
        return result

    def primaries(self) -> list[str]:
        return [s for s in "AB" if self.state(s) == "primary"]

    def sync_standby(self) -> str | None:
        """The site whose standby is synchronous to the one primary, or None."""
        import psycopg

        prim = self.primaries()
        if len(prim) != 1:
            return None
        peer = "B" if prim[0] == "A" else "A"
        try:
            rows = _run(
                self.servers[prim[0]].sql(
                    "SELECT 1 FROM pg_stat_replication WHERE state = 'streaming' AND sync_state = 'sync'"
                    f" AND application_name = '{app_name(peer)}'"
                )
            )
        except (psycopg.Error, OSError, TimeoutError):
            return None
        return peer if rows else None

    def kill_server(self, site: str) -> int | None:
        """kill -9 of the site's postmaster; its pid (None: it was not running)."""
        pid = self.servers[site].postmaster_pid()
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
        return pid

    def client_dsn(self, first: str) -> str:
        order = [first, "B" if first == "A" else "A"]
        return (
            "host=127.0.0.1,127.0.0.1 port="
            + ",".join(str(self.ports[s]) for s in order)
            + " user=postgres dbname=postgres sslmode=disable target_session_attrs=read-write connect_timeout=2"
        )

    def close(self, keep_logs: Path | None = None) -> None:
        """Stop both servers at once and remove their files (their logs copied to ``keep_logs``)."""
        for s in "AB":
            pid = self.servers[s].postmaster_pid()
            if pid is not None:
                os.kill(pid, signal.SIGQUIT)
        end = time.time() + 10
        while time.time() < end and any(self.servers[s].postmaster_pid() for s in "AB"):
            time.sleep(0.05)
        for s in "AB":
            pid = self.servers[s].postmaster_pid()
            if pid is not None:
                os.kill(pid, signal.SIGKILL)
        if keep_logs is not None:
            for s in "AB":
                log = self.root / f"{s}.log"
                if log.exists():
                    shutil.copy(log, keep_logs / f"postgres{s}.log")
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass(frozen=True, slots=True)
class Ack:
    id: int
    site: str
    epoch: int
    port: int
    begin: float  # time.time() when the INSERT was sent
    at: float  # time.time() when COMMIT returned success


class Workload:
    """Writer threads committing numbered rows through whichever site serves (see the module doc)."""

    def __init__(self, pair: PgPair, writers: int = 3, pause: float = 0.005) -> None:
        self.pair = pair
        self.pause = pause  # seconds each writer waits between commits (0: as fast as it can)
        self.writers = writers
        self.acks: list[Ack] = []
        self.failed = 0  # commits whose outcome was an error (not acknowledged)
        self.connect_failures = 0
        self.in_flight: set[int] = set()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for i in range(self.writers):
            t = threading.Thread(target=self._writer, args=(i,), name=f"writer-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    def _writer(self, i: int) -> None:
        import psycopg

        dsn = self.pair.client_dsn("A" if i % 2 == 0 else "B")
        while not self._stop.is_set():
            try:
                conn = psycopg.connect(dsn, autocommit=False)
            except psycopg.Error:
                with self._lock:
                    self.connect_failures += 1
                time.sleep(0.05)
                continue
            n = 0
            try:
                with conn:
                    while not self._stop.is_set():
                        with self._lock:
                            n = next(self._ids)
                            self.in_flight.add(n)
                        begin = time.time()
                        cur = conn.execute(
                            "INSERT INTO quorum_commits (id, writer) VALUES (%s, %s) RETURNING site, epoch, port",
                            (n, i),
                        )
                        row = cur.fetchone()
                        conn.commit()  # the acknowledgement
                        at = time.time()
                        assert row is not None
                        with self._lock:
                            self.in_flight.discard(n)
                            self.acks.append(Ack(n, str(row[0]), int(row[1]), int(row[2]), begin, at))
                        if self.pause:
                            time.sleep(self.pause)
            except psycopg.Error:
                with self._lock:
                    if n in self.in_flight:
                        self.in_flight.discard(n)
                        self.failed += 1
                time.sleep(0.05)

    def stop(self, wait: float = 3.0) -> None:
        self._stop.set()
        end = time.time() + wait
        for t in self._threads:
            t.join(max(0.0, end - time.time()))

    def snapshot(self) -> list[Ack]:
        with self._lock:
            return sorted(self.acks, key=lambda a: a.at)

    def rate(self, seconds: float) -> float:
        """Commits acknowledged per second over the next ``seconds``."""
        before = len(self.acks)
        time.sleep(seconds)
        return (len(self.acks) - before) / seconds


def split_brain(acks: list[Ack]) -> dict[str, Any]:
    """Overlaps of acknowledged commits between servers (see the module doc)."""
    runs: list[tuple[str, int, int]] = []  # (site, epoch, count) in acknowledgement order
    for a in sorted(acks, key=lambda a: a.at):
        if runs and runs[-1][:2] == (a.site, a.epoch):
            runs[-1] = (a.site, a.epoch, runs[-1][2] + 1)
        else:
            runs.append((a.site, a.epoch, 1))
    seen: set[str] = set()
    interleaved = 0
    for i, (site, _, _) in enumerate(runs):
        if site in seen and runs[i - 1][0] != site:
            interleaved += 1
        seen.add(site)
    # one server's own commits stamped with its previous epoch (released by the very change of epoch)
    # diverge from nothing; an older epoch acknowledged by one server after another server acknowledged
    # a newer one is a deposed primary's late commit
    stale = 0
    newest: dict[str, int] = {}
    for a in sorted(acks, key=lambda a: a.at):
        if any(e > a.epoch for s, e in newest.items() if s != a.site):
            stale += 1
        newest[a.site] = max(newest.get(a.site, 0), a.epoch)
    return {
        "split_brain": bool(interleaved or stale),
        "interleaved_runs": interleaved,
        "stale_epoch_commits": stale,
        "runs": [{"site": s, "epoch": e, "commits": n} for s, e, n in runs],
    }


def check(pair: PgPair, workload: Workload, fault_at: float | None) -> dict[str, Any]:
    """The ``storage`` block of the lab's result: read the final primary (see the module doc)."""
    import psycopg

    acks = workload.snapshot()
    prim = pair.primaries()
    out: dict[str, Any] = {
        "kind": "postgres",
        "acknowledged_commits": len(acks),
        "final_primary": prim[0] if len(prim) == 1 else None,
        "primaries_at_end": prim,
        "synchronous_standby_at_end": pair.sync_standby(),
        "failed_commits": workload.failed,
        "in_flight_at_end": len(workload.in_flight),
        "connect_failures": workload.connect_failures,
    }
    if len(prim) != 1:
        out["lost_acknowledged_commits"] = None
        out["error"] = f"{len(prim)} primaries at the end: the checker reads exactly one"
        return out
    server = pair.servers[prim[0]]
    try:
        rows = _run(server.sql("SELECT id FROM quorum_commits"))
        epochs = _run(server.sql("SELECT epoch, site, role FROM quorum_epoch ORDER BY epoch, at"))
    except (psycopg.Error, OSError, TimeoutError) as e:
        out["lost_acknowledged_commits"] = None
        out["error"] = f"cannot read the final primary: {e}"
        return out
    present = {int(r[0]) for r in rows}
    lost = sorted(a.id for a in acks if a.id not in present)
    out["lost_acknowledged_commits"] = len(lost)
    out["lost_ids"] = lost[:20]
    out["rows_on_final_primary"] = len(present)
    out["epochs_recorded"] = [{"epoch": int(e), "site": s, "role": r} for e, s, r in epochs]
    out["by_site_epoch"] = {
        f"{s}@{e}": sum(1 for a in acks if (a.site, a.epoch) == (s, e))
        for s, e in sorted({(a.site, a.epoch) for a in acks})
    }
    sb = split_brain(acks)
    out.update({k: v for k, v in sb.items() if k != "split_brain"})
    out["split_brain"] = sb["split_brain"]
    if fault_at is not None:
        after = [a.at for a in acks if a.at >= fault_at - 1.0]
        gaps = [b - a for a, b in itertools.pairwise(after)]
        out["longest_commit_gap_s"] = round(max(gaps), 3) if gaps else None
    return out


PG_FAULTS = (
    "kill-serving",
    "kill-postgres",
    "cut-link",
    "cut-witness",
    "pause-serving",
    "flap-link",
    "lossy-link",
)


def heal_and_resync(lab: Any, fault: str, timeout: float = 120.0) -> bool:
    """After ``fault``: undo it (restart a killed agent, heal a cut link) and wait until the pair is
    mirrored again with one primary whose standby is synchronous. False if that never happens."""
    if fault in ("kill-serving", "cut-link"):
        lab.settle(2.0)  # the survivor commits alone for a while: the other copy falls behind
    if fault == "kill-serving":
        lab.start_agent("A")
    if fault == "cut-link":
        lab.heal("A-B", "B-A")

    def resynced() -> bool:
        if not lab.pair_up():
            return False
        return bool(lab.pg.sync_standby() is not None)

    try:
        lab.wait_for(resynced, timeout, "pair mirrored again, standby synchronous")
    except TimeoutError:
        return False
    return True


def run_pg_lab(
    fault: str,
    workdir: Path | None = None,
    verbose: bool = True,
    *,
    loss: float = 0.2,
    loss_window: float = 30.0,
    seed: int = 0,
    quorum: dict[str, Any] | None = None,
    writers: int = 3,
) -> dict[str, Any]:
    """One fresh lab with two PostgreSQL servers, a workload, one fault, heal, resync, check.

    The result has the stand-in lab's keys (``failover_s``, ``split_brain``, ``replay_differences``,
    ...) and ``storage``: ``check``'s block. ``split_brain`` is the agents' view (two sites solo at
    one epoch) or the database's (acknowledged commits of two servers overlapping)."""
    from quorum.live.lab import Lab, apply_fault

    if fault not in PG_FAULTS:
        raise ValueError(f"fault must be one of {', '.join(PG_FAULTS)} (got {fault!r})")
    lab = Lab(workdir, quorum=quorum, seed=seed, loss=loss, loss_window=loss_window, storage="postgres")
    try:
        lab.start(timeout=90)
        lab.workload = Workload(lab.pg, writers)
        lab.workload.start()
        lab.settle(1.5)
        before = {s: int((lab.status(s) or {}).get("epoch", 0)) for s in "AB"}
        fault_wall = time.time()
        failover = apply_fault(lab, fault)
        resynced = heal_and_resync(lab, fault)
        lab.settle(1.0)
        lab.workload.stop()
        storage = check(lab.pg, lab.workload, fault_wall)
        storage["resynced"] = resynced
        final = {s: (lab.status(s) or {}).get("role") if lab.alive(s) else "down" for s in "AB"}
        epochs = {s: (lab.status(s) or {}).get("epoch") for s in "AB"}
        lab.close()
        changes = lab.role_changes(since=lab.fault_at)
        agents_split = lab.split_brain()
        result = {
            "fault": fault,
            "storage_kind": "postgres",
            "failover_s": None if failover is None else round(failover, 3),
            "failover": any(rc["epoch"] != before[rc["site"]] for rc in changes),
            "role_changes": [{k: rc[k] for k in ("site", "old", "new", "epoch", "reason")} for rc in changes],
            "stale_writes_accepted": storage.get("stale_epoch_commits", 0),
            "split_brain": bool(agents_split or storage.get("split_brain")),
            "final_roles": final,
            "final_epochs": epochs,
            "storage": storage,
            "replay_differences": lab.replay_differences(),
            "timeline": [(round(t, 3), who, text) for t, who, text in lab.timeline],
        }
        if verbose:
            for t, who, text in result["timeline"]:
                print(f"{t:8.3f}s  {who:<4} {text}")
            fo = "none" if failover is None else f"{failover:.3f} s"
            print(f"fault {fault}: failover {fo}; final roles {final}; epochs {epochs}")
            print(
                f"postgres: {storage['acknowledged_commits']} commits acknowledged,"
                f" {storage.get('lost_acknowledged_commits')} lost; final primary {storage['final_primary']};"
                f" resynced {resynced}; longest commit gap {storage.get('longest_commit_gap_s')} s;"
                f" split brain: {result['split_brain']}; replay differences: {result['replay_differences']}"
            )
        return result
    finally:
        lab.cleanup()
