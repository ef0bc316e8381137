"""The SimPy runner: drives the three state machines of ``quorum.core`` through a scenario.

It is an adapter, like the in-memory driver of ``quorum.testing``: it owns the clock (SimPy's),
the network (a networkx multigraph with one directed edge per physical path), the storage (one
copy per site and volume, with a fence epoch and the bytes it lacks) and the users; every role
decision comes from ``SiteMachine`` / ``WitnessMachine``.

Storage model: while a site serves alone, every volume's write rate accrues as out-of-sync bytes on
the other copy; a resynchronisation drains them at the inter-site link's bandwidth (only the
out-of-sync data moves); a copy promoted while it lacks acknowledged bytes counts them as lost;
promotion to a new epoch fences both copies where the storage path allows (persistent-reservation
style), so writes carrying an older epoch are rejected and counted.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import simpy

from quorum.core import (
    Action,
    Decision,
    ForcedTakeover,
    Input,
    Message,
    MirrorWriteFailed,
    PersistSite,
    PersistWitness,
    ResyncDone,
    ResyncFailed,
    Role,
    RoleChanged,
    Send,
    Site,
    SiteDurable,
    SiteMachine,
    StartResync,
    Switchover,
    WitnessDurable,
    WitnessMachine,
)
from sim.scenario import (
    DelayFault,
    DriftFault,
    FlapFault,
    LinkFault,
    MaintenanceFault,
    NodeFault,
    OperatorFault,
    PauseFault,
    Scenario,
)

IO_TIMEOUT_S = 30.0  # a guest whose disk I/O is frozen longer than this loses its sessions
NODES = ("A", "B", "W")
SITES = (Site.A, Site.B)
MB = 1_000_000


@dataclass
class Clock:
    base_true: float = 0.0
    base_local: float = 0.0
    rate: float = 1.0

    def local(self, t: float) -> float:
        return self.base_local + self.rate * (t - self.base_true)

    def true_at(self, local: float) -> float:
        return self.base_true + (local - self.base_local) / self.rate


@dataclass
class LinkState:
    name: str
    ends: tuple[str, str]
    paths_up: list[bool]
    blocked_from: set[str] = field(default_factory=set)  # one-way cuts: traffic *from* this end dropped
    extra_s: float = 0.0
    loss: float = 0.0
    latency_s: float = 0.001
    bandwidth_bps: float = 1e9


@dataclass
class CopyState:
    fence: int = 1
    lacking: dict[str, float] = field(default_factory=dict)  # volume -> acknowledged bytes missing


@dataclass(frozen=True, slots=True)
class Span:
    """One lane's state over an interval (flat record for plots and notebooks)."""

    lane: str
    start: float
    end: float
    state: str


@dataclass
class Metrics:
    duration_s: float = 0.0
    downtime_s: float = 0.0
    split_brain_s: float = 0.0
    failovers: int = 0
    data_lost_bytes: float = 0.0
    resync_s: float = 0.0
    resyncs_completed: int = 0
    disconnections: int = 0
    stale_writes_rejected: int = 0
    stale_writes_accepted: int = 0
    out_of_sync_peak_bytes: float = 0.0

    @property
    def availability(self) -> float:
        return 1.0 - self.downtime_s / self.duration_s if self.duration_s else 1.0


class Simulation:
    """One run of a scenario. ``run()`` returns itself; read ``metrics``, ``spans``, ``events``."""

    def __init__(self, scenario: Scenario, seed: int | None = None) -> None:
        self.sc = scenario
        self.cfg = scenario.quorum
        self.seed = scenario.seed if seed is None else seed
        self.rng_net = random.Random(f"{self.seed}:network")
        self.env = simpy.Environment()
        self.clocks = {n: Clock() for n in NODES}
        self.up = dict.fromkeys(NODES, True)
        self.paused_until = dict.fromkeys(NODES, 0.0)
        self.graph: nx.MultiDiGraph = nx.MultiDiGraph()
        self.graph.add_nodes_from(NODES)
        self.links: dict[str, LinkState] = {}
        for ln in scenario.topology.links:
            self.links[ln.name] = LinkState(
                ln.name,
                (ln.between[0], ln.between[1]),
                [True] * ln.paths,
                latency_s=ln.latency_ms / 1000,
                bandwidth_bps=ln.bandwidth_mbps * 1e6 / 8,
            )
        self._rebuild_graph()
        self.volumes = {v.name: v for v in scenario.volumes}
        self.copies = {s: CopyState(lacking=dict.fromkeys(self.volumes, 0.0)) for s in SITES}
        self.site_store: dict[Site, SiteDurable | None] = {
            s: SiteDurable(tie_site=self.cfg.preferred_site) for s in SITES
        }
        self.witness_store: WitnessDurable | None = None
        self.sites = {s: SiteMachine(self.cfg, s, 0.0) for s in SITES}
        self.witness = WitnessMachine(self.cfg, 0.0)
        self.timer_gen = dict.fromkeys(NODES, 0)
        self.resync: dict[Site, tuple[Site, int, float, int]] = {}  # dst -> (src, epoch, started, gen)
        self.resync_gen = 0
        self.metrics = Metrics()
        self.events: list[tuple[float, str, str, str]] = []
        self.spans: list[Span] = []
        self._lane_state: dict[str, tuple[str, float]] = {}
        self._last_t = 0.0
        self._serving: frozenset[Site] = frozenset(SITES)
        self._last_served: frozenset[Site] = frozenset(SITES)
        self._outage_since: float | None = None
        self._inflight: dict[Site, tuple[int, bool]] = {}
        self._rejected: set[tuple[Site, int]] = set()

    # ---- bookkeeping -------------------------------------------------------------------------------
    def note(self, kind: str, node: str, text: str) -> None:
        self.events.append((round(self.env.now, 6), kind, node, text))

    def _lane(self, lane: str, state: str) -> None:
        prev = self._lane_state.get(lane)
        now = self.env.now
        if prev is not None and prev[0] == state:
            return
        if prev is not None and now > prev[1]:
            self.spans.append(Span(lane, prev[1], now, prev[0]))
        self._lane_state[lane] = (state, now)

    def _close_lanes(self) -> None:
        for lane, (state, since) in self._lane_state.items():
            if self.env.now > since:
                self.spans.append(Span(lane, since, self.env.now, state))
        self._lane_state.clear()

    def local(self, node: str) -> float:
        return self.clocks[node].local(self.env.now)

    # ---- network -------------------------------------------------------------------------------------
    def _rebuild_graph(self) -> None:
        g = self.graph
        g.remove_edges_from(list(g.edges(keys=True)))
        for ln in self.links.values():
            a, b = ln.ends
            for i, ok in enumerate(ln.paths_up):
                if not ok:
                    continue
                if a not in ln.blocked_from:
                    g.add_edge(a, b, key=(ln.name, i), link=ln.name)
                if b not in ln.blocked_from:
                    g.add_edge(b, a, key=(ln.name, i), link=ln.name)

    def reachable(self, src: str, dst: str) -> bool:
        """Direct reachability: some path of a link between the two ends is up in that direction."""
        return bool(self.graph.has_edge(src, dst))

    def _link_between(self, a: str, b: str) -> LinkState:
        for ln in self.links.values():
            if set(ln.ends) == {a, b}:
                return ln
        raise KeyError((a, b))

    def _send(self, src: str, dst: str, msg: Message) -> None:
        if not self.up[src] or not self.reachable(src, dst):
            return
        ln = self._link_between(src, dst)
        if ln.loss and self.rng_net.random() < ln.loss:
            return
        delay = ln.latency_s + ln.extra_s + self.rng_net.uniform(0, 0.2 * self.cfg.max_message_delay)
        self._at(delay, lambda: self._deliver(dst, msg))

    def _at(self, delay: float, fn: Callable[[], None]) -> None:
        ev = self.env.timeout(max(0.0, delay))
        ev.callbacks.append(lambda _e: self._step(fn))

    def _step(self, fn: Callable[[], None]) -> None:
        self._integrate()
        fn()
        self._observe()

    # ---- core calls -----------------------------------------------------------------------------------
    def _deliver(self, node: str, msg: Input) -> None:
        if not self.up[node]:
            return
        if self.env.now < self.paused_until[node]:
            self._at(self.paused_until[node] - self.env.now, lambda: self._deliver(node, msg))
            return
        self._call(node, msg)

    def _call(self, node: str, event: Input | None) -> None:
        now = self.local(node)
        acts: list[Action]
        if node == "W":
            acts = self.witness.handle_timer(now) if event is None else self.witness.handle(now, event)
        else:
            m = self.sites[Site(node)]
            acts = m.handle_timer(now) if event is None else m.handle(now, event)
        self._perform(node, acts)
        self._arm(node)

    def _arm(self, node: str) -> None:
        if not self.up[node]:
            return
        deadline = self.witness.next_deadline() if node == "W" else self.sites[Site(node)].next_deadline()
        self.timer_gen[node] += 1
        if deadline is None:
            return
        gen = self.timer_gen[node]
        delay = max(1e-6, self.clocks[node].true_at(deadline) - self.env.now)
        self._at(delay, lambda: self._timer(node, gen))

    def _timer(self, node: str, gen: int) -> None:
        if gen != self.timer_gen[node] or not self.up[node]:
            return
        if self.env.now < self.paused_until[node]:
            self._at(self.paused_until[node] - self.env.now, lambda: self._timer(node, gen))
            return
        self._call(node, None)

    def _perform(self, node: str, acts: list[Action]) -> None:
        for a in acts:
            if isinstance(a, Send):
                self._send(node, "W" if a.dst is None else a.dst.value, a.message)
            elif isinstance(a, PersistWitness):
                self.witness_store = a.state
            elif isinstance(a, PersistSite):
                self.site_store[a.site] = a.state
            elif isinstance(a, RoleChanged):
                self._role_changed(a)
            elif isinstance(a, StartResync):
                self._start_resync(a)
            elif isinstance(a, Decision):
                self.note("decision", "W", f"epoch {a.epoch} {a.mode.value} holder {a.holder}: {a.reason}")
            else:
                self.note("operator", node, a.detail)

    def _role_changed(self, a: RoleChanged) -> None:
        self.note("role", a.site.value, f"{a.old.value} -> {a.new.value} epoch {a.epoch}: {a.reason}")
        mine, theirs = self.copies[a.site], self.copies[a.site.peer]
        if a.new in (Role.SOLO, Role.MIRRORED):
            mine.fence = max(mine.fence, a.epoch)
        if a.new is Role.SOLO:
            if self.up[a.site.peer.value] and self.reachable(a.site.value, a.site.peer.value):
                theirs.fence = max(theirs.fence, a.epoch)  # fence the other copy where reachable
            lost = sum(mine.lacking.values())
            if lost > 0:
                self.metrics.data_lost_bytes += lost
                self.note("data", a.site.value, f"promoted copy lacks {lost / MB:.1f} MB: counted as lost")
                for v in mine.lacking:
                    theirs.lacking[v] = max(theirs.lacking[v], mine.lacking[v])
                    mine.lacking[v] = 0.0
        if a.old is Role.SOLO and a.new is Role.FENCED and "both served alone" in a.reason:
            lost = sum(theirs.lacking.values())
            self.metrics.data_lost_bytes += lost
            self.note("data", a.site.value, f"split-brain writes discarded: {lost / MB:.1f} MB")

    # ---- storage ---------------------------------------------------------------------------------------
    def authority(self, site: Site) -> tuple[int, bool] | None:
        node = site.value
        if not self.up[node] or self.env.now < self.paused_until[node]:
            return None
        auth = self.sites[site].write_authority(self.local(node))
        if auth is None:
            return None
        if self.copies[site].fence > auth.epoch:
            return None
        if auth.mirrored:
            peer = site.peer.value
            if not (self.up[peer] and self.reachable(node, peer) and self.reachable(peer, node)):
                return None  # writes stall: the mirror cannot take them
            if self.copies[site.peer].fence > auth.epoch:
                if (site, auth.epoch) not in self._rejected:
                    self._rejected.add((site, auth.epoch))
                    self.metrics.stale_writes_rejected += 1
                    self.note(
                        "storage", site.peer.value, f"rejected a mirrored write with stale epoch {auth.epoch}"
                    )
                    self._at(0, lambda: self._call(node, MirrorWriteFailed("peer copy fenced")))
                return None
        return auth.epoch, auth.mirrored

    def _integrate(self) -> None:
        now = self.env.now
        dt = now - self._last_t
        if dt <= 0:
            return
        self._last_t = now
        m = self.metrics
        serving = self._serving
        solo = [s for s in serving if not self._mirrored.get(s, False)]
        if not serving:
            m.downtime_s += dt
        if len(solo) > 1:
            m.split_brain_s += dt
        for s in solo:
            other = s.peer
            rs = self.resync.get(other)
            mirrored_too = rs is not None and rs[0] is s and self.reachable(s.value, other.value)
            if mirrored_too:
                continue
            for v, spec in self.volumes.items():
                c = self.copies[other]
                c.lacking[v] = min(spec.size_gb * 1e9, c.lacking[v] + spec.write_mb_s * MB * dt)
        lacking = max(sum(c.lacking.values()) for c in self.copies.values())
        m.out_of_sync_peak_bytes = max(m.out_of_sync_peak_bytes, lacking)

    _mirrored: dict[Site, bool]

    def _observe(self) -> None:
        """After every event: who serves, failovers, disconnections, lanes."""
        now = self.env.now
        auths = {s: self.authority(s) for s in SITES}
        self._mirrored = {s: a[1] for s, a in auths.items() if a is not None}
        serving = frozenset(s for s, a in auths.items() if a is not None)
        if serving != self._serving:
            if serving:
                if len(serving) == 1 and serving != self._last_served and self._last_served:
                    self.metrics.failovers += 1
                # VMs of a site that stopped serving restart on the survivor: their users reconnect;
                # an I/O freeze longer than the guests' I/O timeout drops every session
                moved = self._last_served - serving
                stayed = serving & self._last_served
                if self._outage_since is not None and now - self._outage_since > IO_TIMEOUT_S:
                    moved = moved | stayed
                self.metrics.disconnections += sum(self._vms(s) for s in moved)
                self._outage_since = None
                self._last_served = serving
            elif self._outage_since is None:
                self._outage_since = now
            self._serving = serving
        for s in SITES:
            a = auths[s]
            role = self.sites[s].role
            if not self.up[s.value]:
                state = "down"
            elif now < self.paused_until[s.value]:
                state = "paused"
            elif a is None:
                state = "stalled" if role in (Role.MIRRORED, Role.SOLO) else role.value
            else:
                state = "mirrored" if a[1] else "solo"
            self._lane(f"site {s.value}", state)
            lack = sum(self.copies[s].lacking.values())
            self._lane(f"copy {s.value}", "stale" if lack > 0 else "current")
        self._lane("witness", "up" if self.up["W"] else "down")
        for ln in self.links.values():
            n = sum(ln.paths_up)
            st = (
                "down"
                if n == 0
                else ("one-way" if ln.blocked_from else ("degraded" if n < len(ln.paths_up) else "up"))
            )
            self._lane(f"link {ln.name}", st)

    def _vms(self, site: Site) -> int:
        spec = self.sc.topology.sites.get(site.value)
        return spec.vms if spec is not None else 0

    def _start_resync(self, a: StartResync) -> None:
        src, dst = a.src, a.dst
        self.resync_gen += 1
        gen = self.resync_gen
        self.resync[dst] = (src, a.epoch, self.env.now, gen)
        if self.copies[dst].fence > a.epoch:
            self._at(0, lambda: self._finish_resync(dst, gen, ok=False))
            return
        ln = self._link_between(src.value, dst.value)
        paths = max(1, sum(ln.paths_up))
        bandwidth = ln.bandwidth_bps * paths / len(ln.paths_up)
        todo = sum(self.copies[dst].lacking.values())
        self._at(todo / bandwidth, lambda: self._finish_resync(dst, gen, ok=True))

    def _finish_resync(self, dst: Site, gen: int, ok: bool) -> None:
        entry = self.resync.get(dst)
        if entry is None or entry[3] != gen:
            return
        src, epoch, started, _ = entry
        del self.resync[dst]
        node = src.value
        ok = (
            ok
            and self.up[node]
            and self.up[dst.value]
            and self.reachable(node, dst.value)
            and self.copies[dst].fence <= epoch
        )
        self.metrics.resync_s += self.env.now - started
        if ok:
            c = self.copies[dst]
            moved = sum(c.lacking.values())
            c.lacking = dict.fromkeys(self.volumes, 0.0)
            c.fence = max(c.fence, epoch)
            self.metrics.resyncs_completed += 1
            self.note("resync", dst.value, f"{moved / MB:.1f} MB resynchronised from {node}")
            if self.up[node]:
                self._deliver(node, ResyncDone(epoch))
        elif self.up[node]:
            self._deliver(node, ResyncFailed(epoch))

    # ---- faults ---------------------------------------------------------------------------------------
    def _fault(self, f: Any) -> None:
        self.note("fault", getattr(f, "target", "-"), describe_fault(f))
        if isinstance(f, NodeFault):
            if f.action == "crash":
                self._crash(f.target)
            elif f.action == "restore":
                self._restore(f.target)
            else:
                for ln in self.links.values():
                    if f.target in ln.ends:
                        ln.paths_up = [False] * len(ln.paths_up)
        elif isinstance(f, LinkFault):
            ln = self.links[f.target]
            if f.direction is not None:
                if f.action == "cut":
                    ln.blocked_from.add(f.direction)
                else:
                    ln.blocked_from.discard(f.direction)
            elif f.path is not None:
                ln.paths_up[f.path] = f.action == "heal"
            else:
                ln.paths_up = [f.action == "heal"] * len(ln.paths_up)
                if f.action == "heal":
                    ln.blocked_from.clear()
                    ln.extra_s, ln.loss = 0.0, 0.0
        elif isinstance(f, FlapFault):
            ln = self.links[f.target]
            for i in range(2 * f.count):
                up = i % 2 == 1

                def toggle(ln: LinkState = ln, up: bool = up) -> None:
                    ln.paths_up = [up] * len(ln.paths_up)
                    self._rebuild_graph()

                self._at(i * f.period, toggle)
        elif isinstance(f, DelayFault):
            ln = self.links[f.target]
            ln.extra_s, ln.loss = f.extra_ms / 1000, f.loss
        elif isinstance(f, PauseFault):
            self._pause(f.target, f.duration)
        elif isinstance(f, DriftFault):
            c = self.clocks[f.target]
            c.base_local, c.base_true, c.rate = c.local(self.env.now), self.env.now, f.rate
            self._arm(f.target)
        elif isinstance(f, MaintenanceFault):
            site = Site(f.target)
            if self.up["W"]:
                self._call("W", Switchover(site.peer))
            self._at(1.0, lambda: self._crash(f.target, planned=True))
            self._at(f.duration, lambda: self._restore(f.target))
        elif isinstance(f, OperatorFault):
            site = Site(f.target)
            if f.action == "takeover" and f.fence:
                self._crash(site.peer.value)
            if self.up["W"]:
                if f.action == "takeover":
                    self._call("W", ForcedTakeover(site, allow_data_loss=True, fence_confirmed=f.fence))
                else:
                    self._call("W", Switchover(site))
        self._rebuild_graph()

    def _fault_later(self, f: Any) -> Callable[[], None]:
        return lambda: self._fault(f)

    def _pause(self, node: str, duration: float) -> None:
        if not self.up[node]:
            return
        if node != "W":
            site = Site(node)
            a = self.authority(site)
            if a is not None:
                self._inflight[site] = a  # one write in flight, issued just before the stop
        self.paused_until[node] = self.env.now + duration
        self._at(duration, lambda: self._resume(node))

    def _resume(self, node: str) -> None:
        if node != "W":
            site = Site(node)
            inflight = self._inflight.pop(site, None)
            if inflight is not None and self.up[node]:
                epoch, mirrored = inflight
                targets = [site, site.peer] if mirrored else [site]
                newest = max(c.fence for c in self.copies.values())
                for t in targets:
                    if self.copies[t].fence > epoch:
                        self.metrics.stale_writes_rejected += 1
                        self.note("storage", t.value, f"rejected a write with stale epoch {epoch}")
                    elif epoch < newest:
                        self.metrics.stale_writes_accepted += 1
                        self.note("storage", t.value, f"ACCEPTED a write with stale epoch {epoch}")
        self._call(node, None)

    def _crash(self, node: str, planned: bool = False) -> None:
        if not self.up[node]:
            return
        self.up[node] = False
        self.timer_gen[node] += 1
        if planned:
            self.note("fault", node, "site stopped for maintenance")

    def _restore(self, node: str) -> None:
        if self.up[node]:
            return
        self.up[node] = True
        self.paused_until[node] = 0.0
        now = self.local(node)
        if node == "W":
            self.witness = WitnessMachine(self.cfg, now, self.witness_store)
        else:
            s = Site(node)
            self.sites[s] = SiteMachine(self.cfg, s, now, self.site_store[s])
        self._arm(node)

    # ---- run ---------------------------------------------------------------------------------------
    def run(self, until: float | None = None) -> Simulation:
        end = self.sc.duration if until is None else until
        self._mirrored = {}
        for f in self.sc.faults:
            self._at(f.at, self._fault_later(f))
        for n in NODES:
            self._arm(n)
        self._step(lambda: None)
        self.env.run(until=end)
        self._integrate()
        self.metrics.duration_s = end
        self._close_lanes()
        return self

    def serving_at(self, t: float) -> tuple[str, ...]:
        """Sites serving at time ``t`` (from the recorded lanes)."""
        out = []
        for s in SITES:
            for sp in self.spans:
                if (
                    sp.lane == f"site {s.value}"
                    and sp.start <= t < sp.end
                    and sp.state in ("solo", "mirrored")
                ):
                    out.append(s.value)
        return tuple(out)


def describe_fault(f: Any) -> str:
    if isinstance(f, LinkFault):
        what = f"path {f.path} of " if f.path is not None else ""
        way = f" (traffic from {f.direction} only)" if f.direction else ""
        return f"{f.action} {what}link {f.target}{way}"
    if isinstance(f, FlapFault):
        return f"flap link {f.target} every {f.period:g}s x{f.count}"
    if isinstance(f, DelayFault):
        return f"delay link {f.target} +{f.extra_ms:g} ms, loss {f.loss:.0%}"
    if isinstance(f, PauseFault):
        return f"pause {f.target} for {f.duration:g}s"
    if isinstance(f, DriftFault):
        return f"clock of {f.target} runs at rate {f.rate:g}"
    if isinstance(f, MaintenanceFault):
        return f"maintenance of site {f.target} for {f.duration:g}s"
    if isinstance(f, OperatorFault):
        return f"operator {f.action} to {f.target}" + (" (other site powered off)" if f.fence else "")
    return f"{f.action} {f.target}"
