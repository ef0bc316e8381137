"""The SimPy adapter: drives the three core machines over a scenario's topology and fault story.

It owns clocks, the network (a networkx graph of links with redundant paths), storage (mirrored
volume copies with fences), the workload and the metrics; every role decision comes from
``SiteMachine`` / ``WitnessMachine``. Each machine has one SimPy timeout armed at ``next_deadline()``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import networkx as nx
import simpy

from quorum.core import (
    Action,
    CheckPromotion,
    Decision,
    ForcedTakeover,
    Input,
    Maintenance,
    Message,
    MirrorWriteFailed,
    Mode,
    PersistSite,
    PersistWitness,
    PromotionChecked,
    ResyncDone,
    ResyncFailed,
    Role,
    RoleChanged,
    Send,
    Site,
    SiteDurable,
    SiteHealth,
    SiteMachine,
    StartResync,
    Switchover,
    WitnessDurable,
    WitnessMachine,
    WriteAuthority,
)
from sim import scenario as S

NODES = ("A", "B", "W")
SITES = (Site.A, Site.B)
SITE_OF = {s.value: s for s in SITES}


@dataclass
class Clock:
    base_true: float = 0.0
    base_local: float = 0.0
    rate: float = 1.0

    def local(self, t: float) -> float:
        return self.base_local + self.rate * (t - self.base_true)

    def true_at(self, local: float) -> float:
        return self.base_true + (local - self.base_local) / self.rate

    def set_rate(self, t: float, rate: float) -> None:
        self.base_local = self.local(t)
        self.base_true = t
        self.rate = rate


@dataclass
class LinkState:
    spec: S.LinkSpec
    paths_up: list[bool]
    blocked_from: set[str] = field(default_factory=set)  # one-way: traffic sent by these ends is dropped
    extra: float = 0.0

    def up(self) -> bool:
        return any(self.paths_up)

    def bandwidth(self) -> float:
        return self.spec.bandwidth * sum(self.paths_up)


@dataclass
class CopyState:
    """One site's copy of every volume: its fence and the acknowledged bytes it misses."""

    fence: int = 1
    missing: float = 0.0


@dataclass(frozen=True, slots=True)
class Event:
    """One timeline record (flat: drops into a DataFrame)."""

    t: float
    kind: str  # fault, role, decision, storage, note
    node: str
    text: str


@dataclass(frozen=True, slots=True)
class Sample:
    """Lane states at one workload tick, for the plot."""

    t: float
    serving: tuple[str, ...]
    up: tuple[str, ...]
    links: tuple[str, ...]
    stale: tuple[str, ...]
    split: bool = False  # both sites acknowledged writes while at least one served alone
    roles: tuple[str, ...] = ()  # role of A and of B ("down" while crashed)
    degraded: tuple[str, ...] = ()  # links still up with a path lost or one direction cut
    epochs: tuple[int, ...] = ()  # epoch of A and of B


@dataclass
class Metrics:
    duration_s: float = 0.0
    downtime_s: float = 0.0
    failovers: int = 0
    split_brain_s: float = 0.0
    data_lost_bytes: float = 0.0
    resync_s: float = 0.0
    resyncs: int = 0
    disconnections: int = 0
    user_outage_s: float = 0.0
    stale_writes_rejected: int = 0
    witness_alarm_s: float = 0.0
    one_copy_s: float = 0.0
    written_bytes: float = 0.0
    role_changes: int = 0

    @property
    def availability(self) -> float:
        return 1.0 if self.duration_s <= 0 else 1.0 - self.downtime_s / self.duration_s


class Runner:
    """Run one scenario: ``Runner(scenario, seed).run()``; read ``metrics``, ``timeline``, ``samples``."""

    def __init__(self, sc: S.Scenario, seed: int = 0, *, keep_samples: bool = True) -> None:
        self.sc = sc
        self.cfg = sc.quorum
        self.env = simpy.Environment()
        self.rng_net = random.Random(f"{seed}:network")
        self.keep_samples = keep_samples
        self.clocks = {n: Clock() for n in NODES}
        self.up = dict.fromkeys(NODES, True)
        self.paused_until = dict.fromkeys(NODES, 0.0)
        self.paused_auth: dict[str, WriteAuthority | None] = {}
        self.links = {lk.name: LinkState(lk, [True] * lk.paths) for lk in sc.topology.links}
        self.flap_gen = {lk.name: 0 for lk in sc.topology.links}  # a whole-link heal stops its flaps
        self.crash_after_persist: set[str] = set()  # nodes that crash right after their next persist
        self.copies = {s: CopyState() for s in SITES}
        self.site_store: dict[Site, SiteDurable | None] = {
            s: SiteDurable(tie_site=self.cfg.preferred_site) for s in SITES
        }
        self.witness_store: WitnessDurable | None = None
        self.sites = {s: SiteMachine(self.cfg, s, 0.0) for s in SITES}
        self.witness = WitnessMachine(self.cfg, 0.0)
        self.timer_gen = dict.fromkeys(NODES, 0)
        self.armed: dict[str, float | None] = dict.fromkeys(NODES, None)  # pending timer's true time
        self.resync: dict[Site, tuple[Site, int, float, bool]] = {}  # dst -> (src, epoch, start, valid)
        self.unhealthy_until = dict.fromkeys(SITES, 0.0)
        self.veto_until = dict.fromkeys(SITES, 0.0)
        self.maintenance_until: float | None = None
        self.write_rate = sum(v.write_rate for v in sc.volumes)
        self.users = sum(s.users for s in sc.topology.sites.values())
        self.timeline: list[Event] = []
        self.samples: list[Sample] = []
        self.metrics = Metrics()
        self.checks: list[tuple[S.ServingAt, tuple[str, ...]]] = []
        self.outage_run = 0.0
        self._routes: dict[tuple[str, str], float | None] = {}
        self.disconnected = False
        self.redundant_at_end = False
        self._interned: dict[tuple[Any, ...], tuple[Any, ...]] = {}  # one object per distinct lane state
        # (time, copy's site, "lost" | "resync" | "resynced", bytes): what happened to each copy's missing
        # writes; years mode maps these to real time (``sim.years``)
        self.copy_events: list[tuple[float, str, str, float]] = []
        for n in NODES:
            self._arm(n)

    # ---- helpers -------------------------------------------------------------------------------------
    def note(self, kind: str, node: str, text: str) -> None:
        self.timeline.append(Event(round(self.env.now, 6), kind, node, text))

    def at(self, t: float, fn: Callable[[], None]) -> None:
        ev = self.env.timeout(max(0.0, t - self.env.now))
        ev.callbacks.append(lambda _e: fn())

    def local(self, node: str) -> float:
        return self.clocks[node].local(self.env.now)

    def _graph(self) -> nx.DiGraph:
        g = nx.DiGraph()
        g.add_nodes_from(n for n in NODES if self.up[n])
        for ls in self.links.values():
            if not ls.up():
                continue
            a, b = ls.spec.between
            if not (self.up[a] and self.up[b]):
                continue
            if a not in ls.blocked_from:
                g.add_edge(a, b, latency=ls.spec.latency + ls.extra)
            if b not in ls.blocked_from:
                g.add_edge(b, a, latency=ls.spec.latency + ls.extra)
        return g

    def route(self, src: str, dst: str) -> float | None:
        """One-way latency from ``src`` to ``dst`` over up links (only transit nodes relay), or None.

        Routes are cached until the topology changes (a fault, crash or restart)."""
        key = (src, dst)
        if key in self._routes:
            return self._routes[key]
        lat = self._route(src, dst)
        self._routes[key] = lat
        return lat

    def _route(self, src: str, dst: str) -> float | None:
        g = self._graph()
        keep = {src, dst, *self.sc.transit}
        sub = g.subgraph([n for n in g.nodes if n in keep])
        if src not in sub or dst not in sub:
            return None
        try:
            lat: float = nx.shortest_path_length(sub, src, dst, weight="latency")
        except nx.NetworkXNoPath:
            return None
        return lat

    def _path(self, a: str, b: str) -> bool:
        return self.route(a, b) is not None and self.route(b, a) is not None

    def _bandwidth(self, a: str, b: str) -> float:
        bw = [ls.bandwidth() for ls in self.links.values() if set(ls.spec.between) == {a, b}]
        return max(bw, default=1e9)

    # ---- core calls -----------------------------------------------------------------------------------
    def _call(self, node: str, event: Input | None) -> None:
        now = self.local(node)
        if node == "W":
            acts = self.witness.handle_timer(now) if event is None else self.witness.handle(now, event)
        else:
            m = self.sites[SITE_OF[node]]
            acts = m.handle_timer(now) if event is None else m.handle(now, event)
        self._perform(node, acts)
        self._arm(node)

    def _arm(self, node: str) -> None:
        if not self.up[node]:
            return
        dl = self.witness.next_deadline() if node == "W" else self.sites[SITE_OF[node]].next_deadline()
        t = None if dl is None else max(self.env.now + 1e-6, self.clocks[node].true_at(dl))
        if t is not None and t == self.armed[node]:
            return  # the pending timer already fires then: no new event
        self.timer_gen[node] += 1
        self.armed[node] = t
        if t is None:
            return
        gen = self.timer_gen[node]
        self.at(t, lambda: self._fire(node, gen))

    def _fire(self, node: str, gen: int) -> None:
        if gen != self.timer_gen[node] or not self.up[node]:
            return
        self.armed[node] = None
        if self.env.now < self.paused_until[node]:
            return  # re-armed on resume
        self._call(node, None)

    def _perform(self, node: str, acts: list[Action]) -> None:
        for a in acts:
            if isinstance(a, Send):
                self._send(node, "W" if a.dst is None else a.dst.value, a.message)
            elif isinstance(a, PersistWitness | PersistSite):
                if isinstance(a, PersistWitness):
                    self.witness_store = a.state
                else:
                    self.site_store[a.site] = a.state
                if node in self.crash_after_persist:  # the write is durable; what follows is lost
                    self.crash_after_persist.discard(node)
                    self.note("fault", node, f"crash {node} after it persisted, before it sent")
                    self._crash(node)
                    return
            elif isinstance(a, RoleChanged):
                self.metrics.role_changes += 1
                cp = self.copies[a.site]
                if a.new in (Role.SOLO, Role.MIRRORED):
                    cp.fence = max(cp.fence, a.epoch)
                if a.new is Role.SOLO and a.old is not Role.SOLO:
                    self.metrics.failovers += 1
                if a.new is Role.SOLO and a.data_loss:
                    lost = cp.missing
                    self.metrics.data_lost_bytes += lost
                    self.copy_events.append((self.env.now, a.site.value, "lost", lost))
                    other = self.copies[a.site.peer]
                    other.missing = max(other.missing, lost)  # its divergent blocks are rewritten
                    cp.missing = 0.0
                    self.note(
                        "storage", a.site.value, f"forced promotion loses {lost:.0f} acknowledged bytes"
                    )
                self.note("role", a.site.value, f"{a.old.value} -> {a.new.value} epoch {a.epoch}: {a.reason}")
            elif isinstance(a, StartResync):
                self._start_resync(a)
            elif isinstance(a, CheckPromotion):
                self.at(self.env.now + self.cfg.heartbeat_interval / 2, partial(self._checked, node, a.epoch))
            elif isinstance(a, Decision):
                self.note("decision", "W", f"epoch {a.epoch} {a.mode.value} holder {a.holder}: {a.reason}")
            else:
                self.note("operator", node, a.detail)

    def _send(self, src: str, dst: str, msg: Message) -> None:
        if not self.up[src]:
            return
        lat = self.route(src, dst)
        if lat is None:
            return
        jitter = self.rng_net.uniform(0.0, max(0.0, self.cfg.max_message_delay - lat) * 0.2)
        self.at(self.env.now + lat + jitter, lambda: self._deliver(dst, msg))

    def _deliver(self, dst: str, msg: Message) -> None:
        if not self.up[dst]:
            return
        if self.env.now < self.paused_until[dst]:
            self.at(self.paused_until[dst], lambda: self._deliver(dst, msg))
            return
        self._call(dst, msg)

    # ---- storage and workload -----------------------------------------------------------------------
    def _serving(self) -> dict[Site, WriteAuthority]:
        out = {}
        for s in SITES:
            n = s.value
            if self.up[n] and self.env.now >= self.paused_until[n]:
                auth = self.sites[s].write_authority(self.local(n))
                if auth is not None:
                    out[s] = auth
        return out

    def _tick(self) -> None:
        dt = self.sc.write_interval
        acked_by: list[Site] = []
        auths = self._serving()
        for s, auth in auths.items():
            if self._write(s, auth, self.write_rate * dt):
                acked_by.append(s)
        m = self.metrics
        m.duration_s += dt
        available = bool(acked_by)
        if not available:
            m.downtime_s += dt
            m.user_outage_s += dt * self.users
            self.outage_run += dt
            if self.outage_run >= self.sc.session_timeout and not self.disconnected:
                m.disconnections += self.users  # sessions time out: users must reconnect
                self.disconnected = True
        else:
            self.outage_run = 0.0
            self.disconnected = False
        solo = [s for s, a in auths.items() if not a.mirrored]
        if len(acked_by) == 2 and solo:
            m.split_brain_s += dt
        if any(c.missing > 0 for c in self.copies.values()) or not all(self.up[s.value] for s in SITES):
            m.one_copy_s += dt
        if any(self.up[s.value] and not self.sites[s].witness_up for s in SITES):
            m.witness_alarm_s += dt
        if self.keep_samples:
            i = self._intern
            self.samples.append(
                Sample(
                    self.env.now,
                    i(tuple(s.value for s in acked_by)),
                    i(tuple(n for n in NODES if self.up[n])),
                    i(tuple(k for k, ls in self.links.items() if ls.up())),
                    i(tuple(s.value for s in SITES if self.copies[s].missing > 0)),
                    len(acked_by) == 2 and bool(solo),
                    i(tuple(self.sites[s].role.value if self.up[s.value] else "down" for s in SITES)),
                    i(
                        tuple(
                            k
                            for k, ls in self.links.items()
                            if ls.up() and (not all(ls.paths_up) or ls.blocked_from)
                        )
                    ),
                    i(tuple(self.sites[s].epoch for s in SITES)),
                )
            )

    def _intern(self, t: tuple[Any, ...]) -> tuple[Any, ...]:
        """The same tuple object for equal lane states: a long run at a fine tick keeps one per state."""
        return self._interned.setdefault(t, t)

    def _write(self, s: Site, auth: WriteAuthority, size: float) -> bool:
        mine, peer = self.copies[s], self.copies[s.peer]
        if auth.epoch < mine.fence:
            self.metrics.stale_writes_rejected += 1
            self._call(s.value, MirrorWriteFailed("own copy holds a newer epoch"))
            return False
        reach = self.up[s.peer.value] and self._path(s.value, s.peer.value)
        if auth.mirrored:
            if not reach:
                return False  # stalls until the core decides
            if auth.epoch < peer.fence:
                self.metrics.stale_writes_rejected += 1
                self._call(s.value, MirrorWriteFailed(f"peer copy fenced at epoch {peer.fence}"))
                return False
            peer.fence = max(peer.fence, auth.epoch)
        else:
            rs = self.resync.get(s.peer)
            if rs is not None and rs[0] is s and reach and peer.fence <= auth.epoch:
                pass  # written to both during a resync
            else:
                peer.missing += size
                if rs is not None:
                    self.resync[s.peer] = (rs[0], rs[1], rs[2], False)
        mine.fence = max(mine.fence, auth.epoch)
        self.metrics.written_bytes += size
        return True

    def _start_resync(self, a: StartResync) -> None:
        missing = self.copies[a.dst].missing
        bw = self._bandwidth(a.src.value, a.dst.value)
        # a link that went down since the core decided carries nothing: the resync fails at once
        secs = missing / bw + 0.1 if bw > 0 else 0.1
        self.resync[a.dst] = (a.src, a.epoch, self.env.now, bw > 0)
        self.copy_events.append((self.env.now, a.dst.value, "resync", missing))
        self.note("storage", a.dst.value, f"resync of {missing:.0f} bytes from {a.src.value} ({secs:.1f}s)")
        self.at(self.env.now + secs, lambda: self._finish_resync(a.dst))

    def _finish_resync(self, dst: Site) -> None:
        rs = self.resync.pop(dst, None)
        if rs is None:
            return
        src, epoch, start, valid = rs
        cp = self.copies[dst]
        ok = valid and self.up[dst.value] and self._path(src.value, dst.value) and cp.fence <= epoch
        if not self.up[src.value]:
            return
        if ok:
            cp.missing = 0.0
            cp.fence = max(cp.fence, epoch)
            self.metrics.resync_s += self.env.now - start
            self.metrics.resyncs += 1
            self.copy_events.append((self.env.now, dst.value, "resynced", 0.0))
            self.note("storage", dst.value, f"copy resynchronised from {src.value}")
            self._call(src.value, ResyncDone(epoch))
        else:
            self._call(src.value, ResyncFailed(epoch))

    # ---- faults ------------------------------------------------------------------------------------------
    def _fault(self, f: Any) -> None:
        self._routes.clear()
        text = f.do + " " + " ".join(f"{k}={v}" for k, v in f.model_dump(exclude={"at", "do"}).items())
        self.note("fault", getattr(f, "node", getattr(f, "link", "-")), text.strip())
        if isinstance(f, S.Crash):
            self._crash(f.node)
        elif isinstance(f, S.Restore):
            self._restart(f.node)
        elif isinstance(f, S.Cut):
            ls = self.links[f.link]
            if f.src is not None:
                ls.blocked_from.add(f.src)
            elif f.path is not None:
                ls.paths_up[f.path] = False
            else:
                ls.paths_up = [False] * len(ls.paths_up)
        elif isinstance(f, S.Heal):
            ls = self.links[f.link]
            if f.path is not None:
                ls.paths_up[f.path] = True
            else:
                ls.paths_up = [True] * len(ls.paths_up)
                ls.blocked_from.clear()
                ls.extra = 0.0
                self.flap_gen[f.link] += 1  # pending toggles of a flap are dropped
        elif isinstance(f, S.Flap):
            self._flap(f.link, f.period, 2 * f.count, self.flap_gen[f.link])
        elif isinstance(f, S.Delay):
            self.links[f.link].extra = f.extra
        elif isinstance(f, S.Pause):
            if self.up[f.node]:
                n = f.node
                if n != "W":
                    self.paused_auth[n] = self.sites[Site(n)].write_authority(self.local(n))
                self.paused_until[n] = max(self.paused_until[n], self.env.now + f.duration)
                self.at(self.paused_until[n], lambda: self._resume(n))
        elif isinstance(f, S.Drift):
            self.clocks[f.node].set_rate(self.env.now, f.rate)
            self._arm(f.node)
        elif isinstance(f, S.Switchover):
            if self.up["W"]:
                self._call("W", Switchover(Site(f.to)))
        elif isinstance(f, S.Maintenance):
            other = Site(f.site).peer
            if self.up["W"]:
                self._call("W", Switchover(other))
            lead = self.cfg.detection_timeout + 2 * self.cfg.heartbeat_interval
            self.at(self.env.now + lead, lambda: self._crash(f.site))
            self.at(self.env.now + lead + f.duration, lambda: self._restart(f.site))
        elif isinstance(f, S.Unhealthy):
            s = Site(f.site)
            self.unhealthy_until[s] = max(self.unhealthy_until[s], self.env.now + f.duration)
            if self.up[f.site]:
                self._call(f.site, SiteHealth(False, "health check fails"))
            self.at(self.unhealthy_until[s], partial(self._healthy, f.site))
        elif isinstance(f, S.Veto):
            s = Site(f.site)
            self.veto_until[s] = max(self.veto_until[s], self.env.now + f.duration)
        elif isinstance(f, S.MaintenanceMode):
            if self.up["W"]:
                self.maintenance_until = max(self.maintenance_until or 0.0, self.env.now + f.duration)
                self._call("W", Maintenance(True, f.reason))
                self.at(self.maintenance_until, self._maintenance_off)
        elif isinstance(f, S.CrashAfterPersist):
            if self.up[f.node]:
                self.crash_after_persist.add(f.node)
        elif isinstance(f, S.Takeover):
            if f.fence:
                self._crash(Site(f.to).peer.value)
            if self.up["W"]:
                self._call("W", ForcedTakeover(Site(f.to), allow_data_loss=True, fence_confirmed=f.fence))

    def _resume(self, n: str) -> None:
        if not self.up[n] or self.env.now < self.paused_until[n]:
            return
        auth = self.paused_auth.pop(n, None)
        if auth is not None:  # the write in flight when the process stopped reaches storage now
            s = Site(n)
            stale = auth.epoch < self.copies[s].fence or (
                auth.mirrored and auth.epoch < self.copies[s.peer].fence
            )
            if stale:
                self.metrics.stale_writes_rejected += 1
                self.note("storage", n, f"in-flight write at stale epoch {auth.epoch} rejected")
                self._call(n, MirrorWriteFailed("stale epoch rejected by storage"))
        self._call(n, None)

    def _flap(self, link: str, period: float, remaining: int, gen: int) -> None:
        if gen != self.flap_gen[link]:
            return  # the link was healed meanwhile: the flap is over
        self._routes.clear()
        ls = self.links[link]
        ls.paths_up = [remaining % 2 == 1] * len(ls.paths_up)
        if remaining > 1:
            self.at(self.env.now + period, lambda: self._flap(link, period, remaining - 1, gen))

    def _checked(self, node: str, epoch: int) -> None:
        """The pre-promote hook finished (it fails inside a ``veto`` window)."""
        if not self.up[node] or self.env.now < self.paused_until[node]:
            return  # a stopped process runs no hook; the site asks again
        ok = self.env.now >= self.veto_until[SITE_OF[node]]
        if not ok:
            self.note("hook", node, f"pre-promote check fails at epoch {epoch}")
        self._call(node, PromotionChecked(epoch, ok, "" if ok else "pre-promote hook failed"))

    def _healthy(self, node: str) -> None:
        if self.up[node] and self.env.now >= self.unhealthy_until[SITE_OF[node]] - 1e-9:
            self.note("health", node, "health checks pass again")
            self._call(node, SiteHealth(True))

    def _maintenance_off(self) -> None:
        if self.maintenance_until is None or self.env.now < self.maintenance_until - 1e-9:
            return
        if self.up["W"]:
            self.maintenance_until = None
            self._call("W", Maintenance(False, "window over"))

    def _crash(self, node: str) -> None:
        if not self.up[node]:
            return
        self.up[node] = False
        self._routes.clear()
        self.timer_gen[node] += 1
        self.armed[node] = None
        if node != "W":
            self.resync = {d: r for d, r in self.resync.items() if r[0].value != node and d.value != node}

    def _restart(self, node: str) -> None:
        if self.up[node]:
            return
        self.up[node] = True
        self._routes.clear()
        self.paused_until[node] = 0.0
        now = self.local(node)
        if node == "W":
            self.witness = WitnessMachine(self.cfg, now, self.witness_store)
            self._maintenance_off()  # an "off" that found the witness down is applied now
        else:
            s = Site(node)
            self.sites[s] = SiteMachine(self.cfg, s, now, self.site_store[s])
            if self.env.now < self.unhealthy_until[s]:
                self._call(node, SiteHealth(False, "health check fails"))
        self._arm(node)

    # ---- run -----------------------------------------------------------------------------------------
    def _check(self, want: S.ServingAt) -> None:
        self.checks.append((want, tuple(sorted(s.value for s in self._serving()))))

    def _ticker(self) -> Any:
        while True:
            yield self.env.timeout(self.sc.write_interval)
            self._tick()

    def accruing(self) -> frozenset[str]:
        """The sites whose copy misses every write acknowledged now: its peer serves alone and no resync
        to it runs (the copy falls further behind with every second of this state)."""
        out = set()
        for s, auth in self._serving().items():
            if auth.mirrored:
                continue
            rs = self.resync.get(s.peer)
            reach = self.up[s.peer.value] and self._path(s.value, s.peer.value)
            if not (rs is not None and rs[0] is s and reach and self.copies[s.peer].fence <= auth.epoch):
                out.add(s.peer.value)
        return frozenset(out)

    def steady(self) -> bool:
        """Everything is up and healthy and the pair is mirrored at the witness's epoch, with nothing
        pending: without a new fault nothing can change any more (only heartbeats flow)."""
        if not all(self.up.values()) or any(self.env.now < t for t in self.paused_until.values()):
            return False
        if self.resync or any(c.missing > 0 for c in self.copies.values()):
            return False
        if any(not all(ls.paths_up) or ls.blocked_from or ls.extra for ls in self.links.values()):
            return False
        if any(c.rate != 1.0 for c in self.clocks.values()):
            return False
        w = self.witness
        if w.d.mode is not Mode.MIRRORED or w.d.maintenance or w.pending is not None:
            return False
        return all(
            m.role is Role.MIRRORED
            and m.epoch == w.d.epoch
            and m.peer_up
            and m.witness_up
            and m.healthy
            and not m.resyncing
            and m._mirror_settled()
            for m in self.sites.values()
        )

    def _until_steady(self, after: float, done: simpy.Event) -> Any:
        """Stop the run early once it is steady after ``after`` (the years mode's recovery window)."""
        yield self.env.timeout(max(0.0, after - self.env.now))
        while True:
            if self.steady():
                done.succeed()
                return
            yield self.env.timeout(self.sc.write_interval)

    def run(self, stop_when_steady_after: float | None = None) -> Runner:
        """Run to the scenario's duration; with ``stop_when_steady_after``, stop as soon as the system is
        ``steady()`` after that time (nothing can change any more): ``metrics`` then cover less time."""
        for f in sorted(self.sc.faults, key=lambda f: f.at):
            self.at(f.at, partial(self._fault, f))
        for w in self.sc.expect.serving:
            self.at(w.at, partial(self._check, w))
        self.env.process(self._ticker())
        if stop_when_steady_after is None:
            self.env.run(until=self.sc.duration + 1e-9)
        else:
            done = self.env.event()
            self.env.process(self._until_steady(stop_when_steady_after, done))
            self.env.run(until=self.env.timeout(self.sc.duration + 1e-9) | done)
        self.redundant_at_end = (
            all(self.up[s.value] for s in SITES)
            and all(c.missing == 0 for c in self.copies.values())
            and all(self.sites[s].role is Role.MIRRORED for s in SITES)
        )
        return self


def run_scenario(sc: S.Scenario, seed: int = 0) -> Runner:
    return Runner(sc, seed).run()
