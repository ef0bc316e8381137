"""The site agent: an asyncio adapter around one ``SiteMachine``.

* **One brain, one loop.** Every input (peer heartbeat, witness reply, storage report) goes through
  one queue to one coroutine that calls the machine with ``time.monotonic()`` and performs the
  actions in order; a single timer is armed at ``next_deadline()``. The agent decides nothing.
* **Channels.** Witness requests go out over HTTPS (httpx, TLS verified against the configured CA,
  proxy variables honoured); the reply comes back as an input. Peer heartbeats go agent → agent:
  each agent serves ``POST /v1/peer`` on its own small HTTPS endpoint (DESIGN §6 keeps the agents
  outbound-only towards the *witness*; the inter-site link is the replication network anyway).
  Each peer heartbeat goes out on ``peer_lanes`` (2) independent connections at once, and the peer's
  core ignores every copy after the first: TCP turns packet loss into retransmission delays of
  0.2 s, 0.6 s, 1.4 s..., and one delayed stream must not silence the peer for a detection timeout
  (measured: ``python -m quorum.live.bench --loss 0.2``).
* **Durability.** ``PersistSite`` is committed (fsync) before any later action of the same call.
* **Hooks.** On a role change the promote / demote / fence command runs with a timeout (environment:
  ``QUORUM_SITE``, ``QUORUM_OLD_ROLE``, ``QUORUM_NEW_ROLE``, ``QUORUM_EPOCH``, ``QUORUM_REASON``).
* **Journal.** Role changes and hook results are journalled locally and sent to the witness's
  ``/v1/events`` in order; the witness ignores a ``uid`` it has seen, so each event is recorded once.
* **Trace.** Every call of the machine is a line of the trace file (``quorum replay`` checks it).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import ssl
import time
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, HTTPException, Request

from quorum.core import (
    Action,
    CheckPromotion,
    Input,
    MirrorWriteFailed,
    PersistSite,
    PromotionChecked,
    QuorumConfig,
    Role,
    RoleChanged,
    Send,
    SiteHealth,
    SiteMachine,
    StartResync,
    WitnessReply,
    WitnessRequest,
)
from quorum.core.messages import PeerHeartbeat
from quorum.live.auth import verify
from quorum.live.models import (
    ConfigRefused,
    HeartbeatBody,
    HeartbeatReply,
    PeerHeartbeatModel,
    WitnessRequestModel,
)
from quorum.live.settings import AgentSettings, Endpoint
from quorum.live.storage import StandInAdapter, StorageAdapter
from quorum.live.store import SiteStore
from quorum.live.trace import TraceWriter

log = logging.getLogger("quorum.agent")


class SettingsChanged(Exception):
    """The state database was run with other settings: refused until ``quorum agent reset``."""


def run_settings(settings: AgentSettings, cfg: QuorumConfig) -> dict[str, Any]:
    """What a site's state database must keep running with: its site, its pair, its safety settings."""
    return {"site": settings.site.value, "pair": settings.pair, **cfg.safety_settings()}


def changed_settings(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """``field: was X, now Y`` for every field that differs, sorted by field name."""
    return [
        f"{k}: was {old[k]!r}, now {new[k]!r}"
        if k in old and k in new
        else f"{k}: {'new' if k in new else 'gone'}"
        for k in sorted(set(old) | set(new))
        if old.get(k) != new.get(k) or (k in old) != (k in new)
    ]


def check_run_settings(store: SiteStore, settings: AgentSettings, cfg: QuorumConfig) -> None:
    """Refuse to start on a state database that ran with other settings (``SettingsChanged``): a site
    restarted on other rules could serve alone beside its peer at the same epoch. The first start
    records them."""
    new = run_settings(settings, cfg)
    old = store.run_settings()
    if old is None:
        store.set_run_settings(new)
        return
    diffs = changed_settings(old, new)
    if diffs:
        raise SettingsChanged(
            f"state_db {settings.state_db!r} ran with other settings ({'; '.join(diffs)}): a site restarted"
            " on other rules can serve alone beside its peer, so the agent does not start"
        )


class AgentFailed(Exception):
    """The agent cannot do its job (its peer endpoint failed to listen or stopped): it stops, with the reason."""


def client_for(ep: Endpoint, settings: AgentSettings, timeout: float) -> httpx.AsyncClient:
    verify: ssl.SSLContext | bool = True
    if ep.ca is not None:
        verify = ssl.create_default_context(cafile=ep.ca)
    return httpx.AsyncClient(
        base_url=ep.url,
        verify=verify,
        timeout=httpx.Timeout(timeout),
        headers={"authorization": f"Bearer {ep.bearer()}", "content-type": "application/json"},
        trust_env=settings.trust_env,
    )


def hook_for(old: Role, new: Role) -> str:
    if new is Role.FENCED:
        return "fence"
    if new in (Role.SOLO, Role.MIRRORED):
        return "promote" if new is Role.SOLO or old not in (Role.SOLO, Role.MIRRORED) else "demote"
    return "demote"


class Agent:
    def __init__(self, settings: AgentSettings) -> None:
        self.s = settings
        self.cfg = settings.quorum
        if settings.hooks.pre_promote is not None and not self.cfg.pre_promote_check:
            # a pre-promote hook is the pre-promote check: the core waits for it before contending
            self.cfg = self.cfg.model_copy(update={"pre_promote_check": True})
        self.store = SiteStore(
            settings.state_db, settings.journal_max_age_days * 86400.0, settings.journal_max_rows
        )
        try:
            check_run_settings(self.store, settings, self.cfg)
        except SettingsChanged:
            self.store.close()
            raise
        durable = self.store.load()
        now = time.monotonic()
        self.machine = SiteMachine(self.cfg, settings.site, now, durable)
        self.trace = TraceWriter(settings.trace)
        self.trace.init(self.cfg, settings.site, now, durable)
        self.queue: asyncio.Queue[Input] = asyncio.Queue()
        t = self.cfg.detection_timeout  # sends are concurrent tasks: a slow TLS reconnect must not lose them
        self.witness = client_for(settings.witness, settings, t) if settings.witness else None
        # one client (one connection pool) per lane: each heartbeat goes out on every lane at once
        self.peers = [client_for(settings.peer, settings, t) for _ in range(settings.peer_lanes)]
        self.storage = httpx.AsyncClient(timeout=httpx.Timeout(1.0), trust_env=False)
        self.tasks: set[asyncio.Task[Any]] = set()
        self.write_seq = 0
        self.stats = {
            "witness_ok": 0,
            "witness_fail": 0,
            "witness_refused": 0,
            "peer_ok": 0,
            "peer_fail": 0,
            "writes": 0,
        }
        self.config_refused: str | None = None  # the witness's last 409 about our configuration
        self._last_status: dict[str, Any] | None = None
        self.health: dict[str, str] = {}
        self.failure: str | None = None  # why the agent stopped by itself (a listener that failed)
        self.storage_problem: str | None = None  # what the storage adapter last reported failing
        self.backend: StorageAdapter
        if settings.storage.kind == "postgres":
            from quorum.live.storage_pg import PostgresAdapter

            self.backend = PostgresAdapter(settings.storage, self.cfg, self.machine, self._storage_report)
        else:
            self.backend = StandInAdapter(self._resync_hook if settings.hooks.resync is not None else None)

    # ---- the loop ----------------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event | None = None) -> None:
        stop = stop or asyncio.Event()
        server = self._peer_server()
        where = f"{self.s.host}:{self.s.port}"

        async def listen() -> None:
            try:
                await server.serve()
            except SystemExit:  # uvicorn exits when it cannot bind; the agent must not go on without it
                raise RuntimeError(f"cannot listen on {where} (address in use or not permitted)") from None

        def listener_done(task: asyncio.Task[None]) -> None:
            if stop.is_set() or task.cancelled():
                return
            exc = task.exception()
            why = f"{exc}" if isinstance(exc, RuntimeError) else f"{type(exc).__name__}: {exc}"
            self.failure = f"its peer endpoint on {where} failed: {why if exc else 'it stopped'}"
            log.error("site %s: %s; stopping", self.s.site.value, self.failure)
            stop.set()

        listener = asyncio.create_task(listen())
        listener.add_done_callback(listener_done)
        bg = [
            listener,
            asyncio.create_task(self._journal_loop()),
            asyncio.create_task(self._health_loop()),
            asyncio.create_task(self.backend.run()),
        ]
        if self.s.storage_url:
            bg.append(asyncio.create_task(self._write_loop()))
        try:
            while not stop.is_set():
                timeout = max(0.0, self.machine.next_deadline() - time.monotonic())
                event: Input | None
                try:
                    event = await asyncio.wait_for(self.queue.get(), timeout)
                except TimeoutError:
                    event = None
                await self.step(event)
        finally:
            # the peer endpoint shuts down by itself once told to (cancelling it mid-lifespan made uvicorn
            # log a CancelledError traceback on every SIGTERM); cancelled only if it does not within 5 s
            server.should_exit = True
            if not listener.done():
                await asyncio.wait([listener], timeout=5.0)
            for t in bg:
                t.cancel()
            for t in list(self.tasks):
                t.cancel()
            await asyncio.gather(*bg, *self.tasks, return_exceptions=True)
            for c in (*([self.witness] if self.witness else []), *self.peers, self.storage):
                await c.aclose()
            await self.backend.close()
            self.trace.close()
            self.store.close()

    async def step(self, event: Input | None) -> None:
        """One call of the machine, traced, then its actions performed in order."""
        now = time.monotonic()
        acts = self.machine.handle_timer(now) if event is None else self.machine.handle(now, event)
        self.trace.call(now, event, acts)
        await self.perform(acts)
        self.backend.tick(time.monotonic())
        self.write_status()

    async def perform(self, acts: list[Action]) -> None:
        for a in acts:
            if isinstance(a, PersistSite):
                self.store.save(a.state)  # fsync before any action after it
            elif isinstance(a, Send):
                if a.dst is None and isinstance(a.message, WitnessRequest):
                    self._spawn(self._to_witness(a.message))
                elif isinstance(a.message, PeerHeartbeat):
                    for lane in self.peers:
                        self._spawn(self._to_peer(lane, a.message))
            elif isinstance(a, RoleChanged):
                log.warning(
                    "site %s: %s -> %s at epoch %d: %s", a.site, a.old.value, a.new.value, a.epoch, a.reason
                )
                detail: dict[str, Any] = {"old": a.old.value, "new": a.new.value, "reason": a.reason}
                if a.data_loss:
                    detail["data_loss"] = True
                self.store.journal("role", a.epoch, detail)
                await self.backend.role_changed(a)
                await self._hook(hook_for(a.old, a.new), a)
            elif isinstance(a, StartResync):
                self._spawn(self._resync(a))
            elif isinstance(a, CheckPromotion):
                self._spawn(self._pre_promote(a))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    # ---- channels ---------------------------------------------------------------------------------
    async def _to_witness(self, req: WitnessRequest) -> None:
        if self.witness is None:
            return
        m = self.machine
        # our settings travel until the witness has accepted their fingerprint, so that a refusal
        # names the fields that differ
        settings = self.cfg if m.accepted_config != m.fingerprint else None
        body = HeartbeatBody(pair=self.s.pair, request=WitnessRequestModel(**_fields(req)), settings=settings)
        try:
            r = await self.witness.post("/v1/heartbeat", content=body.model_dump_json())
            if r.status_code == 409:
                refused = ConfigRefused.model_validate_json(r.content)
                if refused.detail != self.config_refused:
                    log.error("witness REFUSED this site's configuration: %s", refused.detail)
                self.config_refused = refused.detail
                self.stats["witness_refused"] += 1
                await self.queue.put(refused.reply.to_core())
                return
            r.raise_for_status()
            self.config_refused = None
            reply = HeartbeatReply.model_validate_json(r.content).reply
        except (httpx.HTTPError, ValueError) as e:
            self.stats["witness_fail"] += 1
            n = self.stats["witness_fail"]
            if n & (n - 1) == 0:
                log.warning("witness unreachable (%d failures): %r", n, e)
            return
        self.stats["witness_ok"] += 1
        if reply is not None:
            await self.queue.put(reply.to_core())

    async def _to_peer(self, lane: httpx.AsyncClient, hb: PeerHeartbeat) -> None:
        """One copy of a heartbeat on one lane; the peer's core ignores the copies after the first."""
        try:
            r = await lane.post("/v1/peer", content=PeerHeartbeatModel.from_core(hb).model_dump_json())
            r.raise_for_status()
            self.stats["peer_ok"] += 1
        except httpx.HTTPError as e:
            self.stats["peer_fail"] += 1
            n = self.stats["peer_fail"]
            if n & (n - 1) == 0:  # log the 1st, 2nd, 4th, 8th... failure
                log.warning("peer unreachable (%d failures): %r", n, e)

    def _peer_server(self) -> Any:
        import uvicorn

        app = FastAPI(title=f"quorum agent {self.s.site.value}")

        @app.post("/v1/peer")
        async def peer(body: PeerHeartbeatModel, request: Request) -> dict[str, bool]:
            if self.s.peer_token_hash is not None:
                h = request.headers.get("authorization", "")
                if h[:7].lower() != "bearer " or not verify(h[7:].strip(), self.s.peer_token_hash):
                    raise HTTPException(401, "bad peer token")
            if body.src is self.s.site:
                raise HTTPException(400, "heartbeat from myself")
            await self.queue.put(body.to_core())
            return {"ok": True}

        @app.get("/v1/status")
        async def status() -> dict[str, Any]:
            return self.status()

        kw: dict[str, Any] = {}
        if not self.s.insecure_http:
            if self.s.tls is None:
                raise ValueError("TLS is on by default: give tls.cert and tls.key, or insecure_http: true")
            kw = {"ssl_certfile": self.s.tls.cert, "ssl_keyfile": self.s.tls.key}
        else:
            log.warning("INSECURE: peer endpoint serves plain HTTP")
        config = uvicorn.Config(app, host=self.s.host, port=self.s.port, log_level="warning", **kw)
        server = uvicorn.Server(config)
        # the agent owns SIGTERM/SIGINT (graceful stop); uvicorn must not install its own handlers
        setattr(server, "capture_signals", contextlib.nullcontext)  # noqa: B010
        return server

    # ---- journal: buffered while the witness is unreachable, replayed in order, once ----------------
    async def _journal_loop(self) -> None:
        while True:
            await asyncio.sleep(self.cfg.heartbeat_interval)
            rows = self.store.unsent()
            if not rows or self.witness is None:
                continue
            body = {"pair": self.s.pair, "site": self.s.site.value, "events": rows}
            try:
                r = await self.witness.post("/v1/events", json=body)
                r.raise_for_status()
            except httpx.HTTPError:
                continue
            self.store.mark_sent([row["uid"] for row in rows])

    # ---- local health: a core input (an unhealthy site never contends), journalled and shown ---------
    async def _health_loop(self) -> None:
        from quorum.live.health import check_all

        while True:
            res = await check_all(self.s.health)
            if res != self.health:
                bad = {k: v for k, v in res.items() if v != "ok"}
                self.store.journal("health", self.machine.epoch, {"failing": bad} if bad else {"all": "ok"})
                self.health = res
                self._push_health()
                self.write_status()
            await asyncio.sleep(self.s.health.interval)

    # ---- hooks and storage ---------------------------------------------------------------------------
    async def _run(self, cmd: str, env: dict[str, str]) -> tuple[int | None, str]:
        proc = await asyncio.create_subprocess_shell(
            cmd,
            env={**os.environ, **env},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), self.s.hooks.timeout)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, 9)
            await proc.wait()
            return None, "timed out"
        return proc.returncode, out.decode(errors="replace")[-500:]

    async def _hook(self, name: str, a: RoleChanged) -> None:
        cmd = getattr(self.s.hooks, name)
        if cmd is None:
            return
        env = {
            "QUORUM_SITE": a.site.value,
            "QUORUM_OLD_ROLE": a.old.value,
            "QUORUM_NEW_ROLE": a.new.value,
            "QUORUM_EPOCH": str(a.epoch),
            "QUORUM_REASON": a.reason,
            "QUORUM_HOOK": name,
        }
        rc, out = await self._run(cmd, env)
        self.store.journal("hook", a.epoch, {"hook": name, "rc": rc, "output": out.strip()[-200:]})
        if rc != 0:
            log.error("%s hook failed (rc=%s): %s", name, rc, out.strip())

    async def _pre_promote(self, a: CheckPromotion) -> None:
        """Run the pre-promote hook; its outcome goes back to the core (no hook: the check passes)."""
        cmd = self.s.hooks.pre_promote
        if cmd is None:
            await self.queue.put(PromotionChecked(a.epoch, True))
            return
        env = {"QUORUM_SITE": a.site.value, "QUORUM_EPOCH": str(a.epoch), "QUORUM_HOOK": "pre_promote"}
        rc, out = await self._run(cmd, env)
        self.store.journal("hook", a.epoch, {"hook": "pre_promote", "rc": rc, "output": out.strip()[-200:]})
        if rc != 0:
            log.error("pre_promote hook failed (rc=%s): promotion aborted: %s", rc, out.strip())
        detail = "" if rc == 0 else f"pre_promote hook exit {rc}: {out.strip()[-100:]}"
        await self.queue.put(PromotionChecked(a.epoch, rc == 0, detail))

    async def _resync(self, a: StartResync) -> None:
        """The storage resynchronises the peer; its outcome (``ResyncDone`` / ``ResyncFailed``) goes to the core."""
        await self.queue.put(await self.backend.resync(a))

    async def _resync_hook(self, a: StartResync) -> int | None:
        """The stand-in's resync: the ``resync`` hook's exit status (None: timed out)."""
        assert self.s.hooks.resync is not None
        env = {"QUORUM_SRC": a.src.value, "QUORUM_DST": a.dst.value, "QUORUM_EPOCH": str(a.epoch)}
        rc, _ = await self._run(self.s.hooks.resync, env)
        return rc

    def _storage_report(self, problem: str | None) -> None:
        """The storage adapter reports a failure (or its end): a health entry, and ``SiteHealth`` at once."""
        if problem == self.storage_problem:
            return
        self.storage_problem = problem
        self.store.journal("storage", self.machine.epoch, {"problem": problem} if problem else {"all": "ok"})
        self._push_health()

    def _push_health(self) -> None:
        bad = {k: v for k, v in self.health.items() if v != "ok"}
        if self.storage_problem is not None:
            bad["storage"] = self.storage_problem
        detail = "; ".join(f"{k}: {v}" for k, v in sorted(bad.items()))
        if (not bad) != self.machine.healthy or detail != self.machine.health_detail:
            self.queue.put_nowait(SiteHealth(not bad, detail))
        self._last_status = None

    async def _write_loop(self) -> None:
        """Lab workload: a write every ``write_interval`` under the core's current write authority."""
        assert self.s.storage_url is not None
        while True:
            await asyncio.sleep(self.s.write_interval)
            auth = self.machine.write_authority(time.monotonic())
            if auth is None:
                continue
            self.write_seq += 1
            body = {
                "site": auth.site.value,
                "epoch": auth.epoch,
                "mirrored": auth.mirrored,
                "seq": self.write_seq,
                "boot": self.machine.boot,
            }
            try:
                r = await self.storage.post(self.s.storage_url, json=body)
            except httpx.HTTPError:
                continue
            self.stats["writes"] += 1
            if r.status_code == 409:
                await self.queue.put(MirrorWriteFailed(f"storage fenced: {r.text[:100]}"))

    # ---- status ----------------------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        m = self.machine
        now = time.monotonic()
        unsent, sent = self.store.counts()
        return {
            "site": self.s.site.value,
            "pid": os.getpid(),
            "role": m.role.value,
            "epoch": m.epoch,
            "current": m.current,
            "boot": m.boot,
            "lease_left": None if m.lease_end is None else round(m.lease_end - now, 3),
            "peer_up": m.peer_up,
            "witness_up": m.witness_up,
            "journal_unsent": unsent,
            "journal_sent": sent,
            "health": self.health,
            "storage": {"kind": self.s.storage.kind, "problem": self.storage_problem}
            | ({"server": getattr(self.backend, "state", None)} if self.s.storage.kind == "postgres" else {}),
            "promotion_blocked": m.promotion_blocked(),
            "config": {
                "fingerprint": m.fingerprint,
                "accepted_by_witness": m.accepted_config == m.fingerprint,
                "refused": self.config_refused,
                "peer": m.peer_config,
            },
            **self.stats,
        }

    def write_status(self) -> None:
        if self.s.status_file is None:
            return
        st = self.status()
        key = {
            k: st[k]
            for k in (
                "role",
                "epoch",
                "peer_up",
                "witness_up",
                "journal_unsent",
                "promotion_blocked",
                "storage",
            )
        }
        if key == self._last_status:
            return
        self._last_status = key
        st["wall"] = time.time()
        tmp = Path(self.s.status_file + ".tmp")
        tmp.write_text(json.dumps(st))
        tmp.replace(self.s.status_file)


def _fields(obj: Any) -> dict[str, Any]:
    return {k: getattr(obj, k) for k in obj.__slots__}


def run_agent(settings: AgentSettings) -> None:
    """Run the agent until SIGTERM / SIGINT."""
    import signal

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if settings.insecure_http:
        log.warning("INSECURE: plain HTTP (--insecure-http)")

    agent: Agent | None = None

    async def main() -> None:
        nonlocal agent
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        agent = Agent(settings)
        await agent.run(stop)

    asyncio.run(main())
    if agent is not None and agent.failure is not None:
        raise AgentFailed(agent.failure)
    log.info("agent %s stopped", settings.site.value)


_ = WitnessReply  # re-exported type used in annotations of replies
