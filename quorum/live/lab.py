"""A lab on one machine: a witness and two agents as real processes on 127.0.0.1, a fresh CA and tokens,
every link through a fault-injecting TCP proxy, and an epoch-checking storage stub.

``Lab`` is used by ``quorum lab`` and by the fault tests; it only starts, observes and disturbs
processes. Roles are read from the agents' status files (written by the agents on every change).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import yaml

from quorum.live.auth import hash_token, new_token
from quorum.live.certs import init_certs
from quorum.live.proxy import FaultProxy
from quorum.live.storage import StorageStub
from quorum.live.trace import replay

FAULTS = (
    "kill-serving",
    "kill-postgres",
    "cut-link",
    "cut-witness",
    "pause-serving",
    "witness-restart",
    "flap-link",
    "lossy-link",
)

LINKS = ("A-W", "B-W", "A-B", "B-A")  # every directed link of the lab, each through the proxy

LAB_TIMINGS: dict[str, Any] = {
    "heartbeat_interval": 0.2,
    "miss_threshold": 3,
    "rise_threshold": 2,
    "max_message_delay": 0.1,
    "lease_duration": 2.0,
    "lease_margin": 0.5,
}

# Timings for the tests that assert outcomes, not timing: the same protocol, with a detector and a lease
# that tolerate a starved machine (CI runs several suites at once on 2 cores). Measured on such a machine
# (load ~20): a fresh agent's first heartbeat reaches its peer ~1.1 s after it started, past the 0.8 s
# detection timeout of ``LAB_TIMINGS``, so the pair failed over at start-up (epoch 3 instead of 1).
# Detection here is 2.6 s; the failover tests still fail over, only a little later.
TOLERANT_TIMINGS: dict[str, Any] = {**LAB_TIMINGS, "miss_threshold": 12, "lease_duration": 3.0}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Lab:
    def __init__(
        self,
        workdir: Path | None = None,
        quorum: dict[str, Any] | None = None,
        seed: int = 0,
        loss: float = 0.2,
        loss_window: float = 30.0,
        witness_env: dict[str, str] | None = None,
        agent_quorum: dict[str, dict[str, Any]] | None = None,
        no_witness: tuple[str, ...] = (),
        storage: str = "stand-in",
    ) -> None:
        self._tmp = None if workdir is not None else tempfile.TemporaryDirectory(prefix="quorum-lab-")
        self.dir = Path(workdir) if workdir is not None else Path(self._tmp.name)  # type: ignore[union-attr]
        self.dir.mkdir(parents=True, exist_ok=True)
        self.quorum = {**LAB_TIMINGS, **(quorum or {})}
        # per-site overrides of an agent's quorum settings (a misconfigured agent); the witness keeps
        # ``quorum``
        self.agent_quorum = agent_quorum or {}
        self.no_witness = no_witness  # agents configured without a witness
        self.t0 = time.time()
        self.timeline: list[tuple[float, str, str]] = []
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.proxy = FaultProxy()
        self.stub = StorageStub(enforce=True)
        self.tokens: dict[str, str] = {}
        self.last_roles: dict[str, tuple[str, int]] = {}
        self.observed: list[dict[str, Any]] = []
        self.seed = seed
        self.loss = loss  # the ``lossy-link`` fault: this loss on every link for ``loss_window`` seconds
        self.loss_window = loss_window
        self.fault_at: float | None = None  # time.monotonic() when the fault was applied
        self.witness_env = dict(witness_env or {})  # extra environment of the witness process
        if storage not in ("stand-in", "postgres"):
            raise ValueError(f"storage must be 'stand-in' or 'postgres' (got {storage!r})")
        self.storage = storage
        self.pg: Any = None  # quorum.live.pglab.PgPair when storage is postgres
        self.workload: Any = None  # quorum.live.pglab.Workload, started by the caller
        self._closed = False

    # ---- set-up ------------------------------------------------------------------------------------
    def note(self, who: str, text: str) -> None:
        self.timeline.append((time.time() - self.t0, who, text))

    def start(self, timeout: float = 30.0, wait: bool = True) -> None:
        certs = init_certs(self.dir / "certs", names=("server",))
        self.ca = str(certs["ca"])
        for k in ("A", "B", "operator", "peerA", "peerB"):
            self.tokens[k] = new_token()
        self.witness_port = free_port()
        self.agent_port = {"A": free_port(), "B": free_port()}
        w_via = {s: self.proxy.add(f"{s}-W", self.witness_port) for s in "AB"}
        # the link "A-B" carries A's heartbeats to B's endpoint; "B-A" the other way
        p_via = {
            "A": self.proxy.add("A-B", self.agent_port["B"]),
            "B": self.proxy.add("B-A", self.agent_port["A"]),
        }
        tls = {"cert": str(certs["server"]), "key": str(certs["server_key"])}
        if self.storage == "postgres":
            from quorum.live.pglab import PgPair

            self.pg = PgPair(self.proxy)
            self.pg.setup(timeout)
        wcfg = {
            "host": "127.0.0.1",
            "port": self.witness_port,
            "db": str(self.dir / "witness.db"),
            "tls": tls,
            "pairs": {
                "lab": {
                    "quorum": self.quorum,
                    "tokens": {k: hash_token(self.tokens[k]) for k in ("A", "B", "operator")},
                }
            },
        }
        (self.dir / "witness.yaml").write_text(yaml.safe_dump(wcfg))
        for s in "AB":
            peer = "B" if s == "A" else "A"
            acfg = {
                "site": s,
                "pair": "lab",
                "quorum": {**self.quorum, **self.agent_quorum.get(s, {})},
                "witness": {"url": f"https://127.0.0.1:{w_via[s]}", "token": self.tokens[s], "ca": self.ca},
                "peer": {
                    "url": f"https://127.0.0.1:{p_via[s]}",
                    "token": self.tokens[f"peer{s}"],
                    "ca": self.ca,
                },
                "port": self.agent_port[s],
                "tls": tls,
                "peer_token_hash": hash_token(self.tokens[f"peer{peer}"]),
                "state_db": str(self.dir / f"site{s}.db"),
                "trace": str(self.dir / f"trace{s}.jsonl"),
                "status_file": str(self.dir / f"status{s}.json"),
                "storage_url": self.stub.url,
                "write_interval": 0.05,
                "trust_env": False,
            }
            if self.pg is not None:
                del acfg["storage_url"]
                acfg["storage"] = self.pg.storage_settings(s)
            if s in self.no_witness:
                del acfg["witness"]
            if {**self.quorum, **self.agent_quorum.get(s, {})}.get("policy") == "both-continue":
                acfg["accept_split_brain"] = True  # the lab's unsafe runs are demonstrations
            (self.dir / f"agent{s}.yaml").write_text(yaml.safe_dump(acfg))
        self.start_witness()
        self.wait_for(self.witness_ready, timeout, "witness ready")
        for s in "AB":
            self.start_agent(s)
        if wait:
            self.wait_for(self.settled, timeout, "pair up")
            self.note("lab", f"pair mirrored at epoch {self.status('A')['epoch']}")  # type: ignore[index]

    def pair_up(self) -> bool:
        """Both agents mirrored at the same epoch, each seeing its peer and the witness."""
        a, b = self.status("A"), self.status("B")
        if a is None or b is None or a["epoch"] != b["epoch"]:
            return False
        return all(x["role"] == "mirrored" and x["peer_up"] and x["witness_up"] for x in (a, b))

    def in_contact(self) -> bool:
        """Each agent has heard its peer and the witness at least once (its trace holds a peer
        heartbeat and a witness reply). A fresh pair's status files say "peer up, witness up" from
        the first instant (the core starts a fresh pair with everything seen), before any message."""
        for s in "AB":
            path = self.dir / f"trace{s}.jsonl"
            text = path.read_text(encoding="utf-8") if path.exists() else ""
            if '"event":{"type":"PeerHeartbeat"' not in text or '"event":{"type":"WitnessReply"' not in text:
                return False
        return True

    def settled(self) -> bool:
        """The pair is up for real: both agents mirrored at one epoch having heard each other and the
        witness, and the witness has heard both and holds that epoch, mirrored (no arbitration of a
        start-up race still in flight)."""
        if not (self.pair_up() and self.in_contact()):
            return False
        import httpx

        try:
            st = self.operator("GET", "/v1/state", params={"pair": "lab"})
        except httpx.HTTPError:
            return False
        a = self.status("A") or {}
        return bool(
            not st["recovering"]
            and st["durable"]["mode"] == "mirrored"
            and st["durable"]["epoch"] == a.get("epoch")
            and set(st["sites"]) == {"A", "B"}
        )

    def _spawn(self, name: str, args: list[str], extra_env: dict[str, str] | None = None) -> None:
        log = open(self.dir / f"{name}.log", "ab")  # noqa: SIM115 (owned by the child)
        env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()} | (extra_env or {})
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", "quorum.cli", *args],
            stdout=log,
            stderr=log,
            env=env,
            start_new_session=True,
        )
        log.close()

    def start_witness(self, env: dict[str, str] | None = None) -> None:
        """Start the witness process (``env``: extra environment, default ``witness_env``)."""
        extra = self.witness_env if env is None else env
        self._spawn("W", ["witness", "serve", "--config", str(self.dir / "witness.yaml")], extra)
        self.note("W", "witness started")

    def start_agent(self, s: str) -> None:
        self._spawn(s, ["agent", "run", "--config", str(self.dir / f"agent{s}.yaml")])
        self.stub.copy_up[s] = True
        self.note(s, "agent started")

    def witness_ready(self) -> bool:
        import httpx

        try:
            r = httpx.get(f"https://127.0.0.1:{self.witness_port}/readyz", verify=self._ssl(), timeout=1.0)
            return r.status_code == 200
        except httpx.HTTPError:
            return False

    def _ssl(self) -> Any:
        import ssl

        return ssl.create_default_context(cafile=self.ca)

    def operator(self, method: str, path: str, **kw: Any) -> Any:
        import httpx

        r = httpx.request(
            method,
            f"https://127.0.0.1:{self.witness_port}{path}",
            verify=self._ssl(),
            timeout=5.0,
            headers={"authorization": f"Bearer {self.tokens['operator']}"},
            **kw,
        )
        r.raise_for_status()
        return r.json()

    # ---- observation ------------------------------------------------------------------------------
    def status(self, s: str) -> dict[str, Any] | None:
        try:
            data: dict[str, Any] = json.loads((self.dir / f"status{s}.json").read_text())
            return data
        except (OSError, ValueError):
            return None

    def role(self, s: str) -> str | None:
        st = self.status(s)
        return None if st is None else str(st["role"])

    def poll(self) -> None:
        """Record role changes seen in the status files (the timeline, and the split-brain check)."""
        for s in "AB":
            st = self.status(s)
            if st is None or not self.alive(s):
                continue
            key = (st["role"], int(st["epoch"]))
            if self.last_roles.get(s) != key:
                self.last_roles[s] = key
                self.note(s, f"{st['role']} at epoch {st['epoch']}")
                self.observed.append({"t": time.time(), "site": s, "role": st["role"], "epoch": st["epoch"]})

    def alive(self, name: str) -> bool:
        p = self.procs.get(name)
        return p is not None and p.poll() is None

    def wait_for(self, pred: Callable[[], bool], timeout: float, what: str) -> float:
        """Poll ``pred`` every 20 ms; returns the wall time it became true; raises TimeoutError."""
        end = time.time() + timeout
        while time.time() < end:
            self.poll()
            if pred():
                return time.time()
            time.sleep(0.02)
        raise TimeoutError(f"lab: timed out waiting for {what}")

    def settle(self, seconds: float) -> None:
        end = time.time() + seconds
        while time.time() < end:
            self.poll()
            time.sleep(0.02)

    # ---- faults --------------------------------------------------------------------------------------
    def kill(self, name: str) -> None:
        p = self.procs[name]
        with contextlib.suppress(ProcessLookupError):
            os.kill(p.pid, signal.SIGKILL)
        p.wait(10)
        if name in ("A", "B"):
            self.stub.copy_up[name] = False
        self.note(name, "kill -9")

    def pause(self, name: str) -> None:
        os.kill(self.procs[name].pid, signal.SIGSTOP)
        self.note(name, "SIGSTOP")

    def resume(self, name: str) -> None:
        os.kill(self.procs[name].pid, signal.SIGCONT)
        self.note(name, "SIGCONT")

    @property
    def links(self) -> tuple[str, ...]:
        """Every directed link of the lab (with PostgreSQL: the replication links ``pg-A``, ``pg-B`` too)."""
        return LINKS + (("pg-A", "pg-B") if self.pg is not None else ())

    def _with_pg(self, links: tuple[str, ...]) -> list[str]:
        """``links`` and the replication links they carry: "A-B" (A to B) carries A's connections to
        B's server (``pg-B``), "B-A" B's to A's (``pg-A``: B's standby streams from A through it)."""
        out = list(links)
        if self.pg is not None:
            out += [f"pg-{x[-1]}" for x in links if x in ("A-B", "B-A")]
        return out

    def cut(self, *links: str, up: bool = False) -> None:
        for link in self._with_pg(links):
            self.proxy.set(link, up)
        if {"A-B", "B-A"} & set(links):
            self.stub.link_up = up
        self.note("net", ("heal " if up else "cut ") + " ".join(links))

    def heal(self, *links: str) -> None:
        self.cut(*links, up=True)

    def lossy(self, p: float, *links: str) -> None:
        """Lose packets with probability ``p`` on ``links`` (0 heals): TCP retransmission delays."""
        for i, link in enumerate(self._with_pg(links)):
            self.proxy.set_loss(link, p, seed=self.seed * 1000 + i)
        self.note("net", f"loss {p:.0%} on " + " ".join(links) if p else "no loss on " + " ".join(links))

    def loss_stats(self) -> dict[str, dict[str, float]]:
        """Each link's proxy counters (``quorum.live.proxy.LinkStats``), delay rounded to milliseconds."""
        out: dict[str, dict[str, float]] = {}
        for name in self.proxy.links:
            st = asdict(self.proxy.stats(name))
            st["delay_s"] = round(st["delay_s"], 3)
            out[name] = st
        return out

    # ---- results -----------------------------------------------------------------------------------
    def split_brain(self) -> bool:
        """Two sites serving alone at once (seen in the status files), or the storage stub saw one."""
        rep = self.stub.report()
        if rep["split_brain_epochs"] or rep["stale_writes_accepted"]:
            return True
        state: dict[str, dict[str, Any]] = {}
        for ob in self.observed:
            state[ob["site"]] = ob
            solo = [o for o in state.values() if o["role"] == "solo"]
            if len(solo) == 2 and solo[0]["epoch"] == solo[1]["epoch"]:
                return True
        return False

    def _trace_actions(self, since: float | None) -> Iterator[tuple[float, dict[str, Any]]]:
        """``(now, encoded action)`` for every action in the agents' traces at or after ``since``."""
        for s in "AB":
            path = self.dir / f"trace{s}.jsonl"
            if not path.exists():
                continue
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    rec = json.loads(line)
                except ValueError:  # a line cut short by kill -9
                    continue
                if "init" in rec or (since is not None and float(rec["now"]) < since):
                    continue
                for a in rec["actions"]:
                    yield float(rec["now"]), a

    def role_changes(self, since: float | None = None) -> list[dict[str, Any]]:
        """Every ``RoleChanged`` in the agents' traces at or after ``since`` (``time.monotonic()``).

        The traces hold every call of the machines, so a role held for a millisecond is seen too
        (the status files are polled and may miss it). The agents' ``now`` is the same clock.
        """
        out = [
            {k: a[k] for k in ("site", "old", "new", "epoch", "reason")} | {"now": now}
            for now, a in self._trace_actions(since)
            if a.get("type") == "RoleChanged"
        ]
        return sorted(out, key=lambda r: float(r["now"]))

    def epochs_persisted(self, since: float | None = None) -> dict[str, set[int]]:
        """Per site, every epoch it persisted (``PersistSite``) at or after ``since``: an epoch change
        shows here even without a role change (a site that only learns of a new epoch)."""
        out: dict[str, set[int]] = {"A": set(), "B": set()}
        for _, a in self._trace_actions(since):
            if a.get("type") == "PersistSite":
                out[str(a["site"])].add(int(a["state"]["epoch"]))
        return out

    def replay_differences(self) -> int:
        n = 0
        for s in "AB":
            path = self.dir / f"trace{s}.jsonl"
            if path.exists():
                n += len(replay(path).differences)
        return n

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.workload is not None:
            self.workload.stop(wait=0.5)
        for p in self.procs.values():
            if p.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(p.pid, signal.SIGCONT)
                    p.terminate()
        for p in self.procs.values():
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        self.proxy.close()
        self.stub.close()
        if self.pg is not None:
            self.pg.close(keep_logs=self.dir)

    def cleanup(self) -> None:
        self.close()
        if self._tmp is not None:
            self._tmp.cleanup()


def _wait_solo(lab: Lab, site: str, timeout: float) -> float:
    return lab.wait_for(lambda: lab.role(site) == "solo", timeout, f"{site} solo")


def apply_fault(lab: Lab, fault: str) -> float | None:
    """Apply ``fault`` to a mirrored lab pair; returns the failover time in seconds (None: no failover)."""
    long = 8 * float(lab.quorum["lease_duration"]) + 10
    lab.fault_at = time.monotonic()
    if fault == "kill-serving":
        t = time.time()
        lab.kill("A")
        return _wait_solo(lab, "B", long) - t
    if fault == "kill-postgres":
        if lab.pg is None:
            raise ValueError("kill-postgres needs the PostgreSQL lab (--storage postgres)")
        pid = lab.pg.kill_server("A")
        lab.note("A", f"kill -9 of the server (postmaster {pid})")
        lab.settle(2 * float(lab.quorum["lease_duration"]))
        return None
    if fault == "cut-link":
        t = time.time()
        lab.cut("A-B", "B-A")
        return _wait_solo(lab, "A", long) - t
    if fault == "pause-serving":
        t = time.time()
        lab.pause("A")
        took = _wait_solo(lab, "B", long) - t
        lab.settle(float(lab.quorum["lease_duration"]))
        lab.resume("A")
        lab.wait_for(lambda: (lab.status("A") or {}).get("epoch", 1) > 1, long, "A learns the new epoch")
        return took
    if fault == "cut-witness":
        lab.cut("A-W", "B-W")
        lab.settle(3 * float(lab.quorum["lease_duration"]))
        lab.heal("A-W", "B-W")
        return None
    if fault == "witness-restart":
        lab.kill("W")
        lab.settle(2 * float(lab.quorum["lease_duration"]))
        lab.start_witness()
        lab.wait_for(lab.witness_ready, 30, "witness back")
        return None
    if fault == "flap-link":
        hb = float(lab.quorum["heartbeat_interval"])
        for _ in range(6):
            lab.cut("A-B", "B-A")
            lab.settle(1.5 * hb)
            lab.heal("A-B", "B-A")
            lab.settle(3 * hb)
        return None
    if fault == "lossy-link":
        lab.lossy(lab.loss, *LINKS)
        lab.settle(lab.loss_window)
        lab.lossy(0.0, *LINKS)
        return None
    raise ValueError(f"unknown fault {fault!r}")


def run_lab(
    fault: str,
    workdir: Path | None = None,
    verbose: bool = True,
    *,
    loss: float = 0.2,
    loss_window: float = 30.0,
    seed: int = 0,
    quorum: dict[str, Any] | None = None,
    storage: str = "stand-in",
) -> dict[str, Any]:
    """One fresh lab, one fault; a dict of outcomes (``failover_s``, split brain, role changes, ...).

    ``lossy-link`` puts ``loss`` on every link (site↔site and sites↔witness) for ``loss_window``
    seconds with nobody killed; ``failover`` then says whether anything failed over anyway (an epoch
    change, or a site serving alone or fenced), and ``role_changes`` lists every role change the
    agents' traces show, freezes included.
    """
    if storage == "postgres":
        from quorum.live.pglab import run_pg_lab

        return run_pg_lab(
            fault, workdir, verbose, loss=loss, loss_window=loss_window, seed=seed, quorum=quorum
        )
    if fault == "kill-postgres":
        raise ValueError("kill-postgres needs the PostgreSQL lab (--storage postgres)")
    lab = Lab(workdir, quorum=quorum, seed=seed, loss=loss, loss_window=loss_window)
    try:
        lab.start()
        lab.settle(1.0)
        before = {s: int((lab.status(s) or {}).get("epoch", 0)) for s in "AB"}
        failover = apply_fault(lab, fault)
        lab.settle(3.0)
        final = {s: (lab.status(s) or {}).get("role") if lab.alive(s) else "down" for s in "AB"}
        epochs = {s: (lab.status(s) or {}).get("epoch") for s in "AB"}
        lab.close()
        changes = lab.role_changes(since=lab.fault_at)
        persisted = lab.epochs_persisted(since=lab.fault_at)
        failed_over = (
            any(rc["epoch"] != before[rc["site"]] or rc["new"] in ("solo", "fenced") for rc in changes)
            or any(persisted[s] - {before[s]} for s in "AB")
            or any(e is not None and int(e) != before[s] for s, e in epochs.items())
        )
        result = {
            "fault": fault,
            "failover_s": None if failover is None else round(failover, 3),
            "failover": failed_over,
            "role_changes": [
                {
                    "site": rc["site"],
                    "old": rc["old"],
                    "new": rc["new"],
                    "epoch": rc["epoch"],
                    "reason": rc["reason"],
                }
                for rc in changes
            ],
            "stale_writes_accepted": lab.stub.report()["stale_writes_accepted"],
            "split_brain": lab.split_brain(),
            "final_roles": final,
            "final_epochs": epochs,
            "storage": lab.stub.report(),
            "replay_differences": lab.replay_differences(),
            "timeline": [(round(t, 3), who, text) for t, who, text in lab.timeline],
        }
        if fault == "lossy-link":
            result["loss"] = {"p": loss, "window_s": loss_window, "seed": seed, "links": lab.loss_stats()}
        if verbose:
            for t, who, text in result["timeline"]:
                print(f"{t:8.3f}s  {who:<4} {text}")
            fo = "none" if failover is None else f"{failover:.3f} s"
            print(f"fault {fault}: failover {fo}; final roles {final}; epochs {epochs}")
            print(
                f"storage: {result['storage']}; split brain: {result['split_brain']};"
                f" replay differences: {result['replay_differences']}"
            )
            if fault == "lossy-link":
                rcs = ", ".join(f"{r['site']} {r['old']}->{r['new']}@{r['epoch']}" for r in changes) or "none"
                print(
                    f"loss {loss:.0%} for {loss_window:g} s on every link: failover {failed_over}; role changes: {rcs}"
                )
        return result
    finally:
        lab.cleanup()
