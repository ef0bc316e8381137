"""The one world the core runs in, for the checker (``quorum.testing``) and the simulator (``sim``).

It is an *adapter*: it owns clocks, processes, links, storage and randomness, performs the core's
actions and feeds the invariant checker; every decision comes from ``SiteMachine`` /
``WitnessMachine``. Whatever one user needs and the other does not is a parameter, never a copy:

* **Scheduler.** One interface, :class:`Scheduler` (``now`` and ``at(t, fn, *args)``), one
  implementation: :class:`SimPyScheduler`, SimPy's ``Environment``, for the checker and the simulator
  alike. Same-time events run in the order they were scheduled.
* **Clocks.** Each process has a monotonic clock, piecewise linear in true time (``drift`` changes
  its rate). The core only ever sees its own clock's reading.
* **Processes** crash (volatile state lost), restart from what they persisted, and pause (GC, VM
  stun): everything addressed to a paused process waits until it resumes; the write it had in flight
  then reaches storage, which rejects it if its epoch is stale.
* **Links** join two nodes over ``paths`` redundant paths, each direction keyed by its sender: a
  direction carries messages while a path is up and it is not cut; ``degrade`` adds delay, loss,
  duplication and reordering. A message takes ``latency + delay`` plus a jitter drawn uniformly in
  ``[0, jitter * (max_message_delay - latency)]``; with ``transit`` nodes, messages may be relayed.
* **Storage.** Each site has a copy: the acknowledged writes it lacks, the bytes it misses and a fence
  (highest epoch seen). A MIRRORED site acknowledges a write once both copies take it; a SOLO site on its own
  copy. A write below a fence is rejected (``MirrorWriteFailed``); one that cannot reach the peer
  copy stalls. ``StartResync`` copies the source onto the destination after ``resync_time`` (or the
  missing bytes at the link's bandwidth), while the link holds and no fence above its epoch refuses.
* **Randomness.** One ``random.Random`` per concern, seeded from the run's seed.

Faults are the steps of :mod:`quorum.testing.schedule`; a scenario's ``faults:`` map onto them.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import simpy
from simpy.events import NORMAL

from quorum import core
from quorum.core import Action, Input, Message, Role, Site, WriteAuthority
from quorum.core.config import QuorumConfig
from quorum.testing import schedule as sch
from quorum.testing.invariants import Checker

NODES = ("A", "B", "W")
SITES = (Site.A, Site.B)
_GRANTS = (core.Verdict.GRANT_SOLO, core.Verdict.GRANT_MIRROR)
SITE_OF = {"A": Site.A, "B": Site.B}  # a site's node name to its Site (a dict lookup, not an enum call)
_EPS = 1e-9  # clocks map times back and forth: a time computed twice may differ by a rounding error


class Scheduler(Protocol):
    """What the world needs from an event loop: the true time and a callback at a later time."""

    @property
    def now(self) -> float: ...

    def at(self, t: float, fn: Callable[..., None], *args: Any) -> None: ...


class SimPyScheduler(simpy.Environment):
    """SimPy's ``Environment`` with the scheduler interface, the one event loop of the checker and the
    simulator. ``at(t, fn, *args)`` is one SimPy event at exactly ``t``; same-time events run in the
    order they were scheduled. The event is a light ``Event`` subclass, triggered when made as a
    ``Timeout`` is, whose one callback calls ``fn(*args)``: half the cost of a ``Timeout`` with a
    closure, which makes SimPy as fast as a bare heap for the checker (``python -m quorum.bench``
    prints both)."""

    def at(self, t: float, fn: Callable[..., None], *args: Any) -> None:
        now = self._now
        heapq.heappush(self._queue, (t if t > now else now, NORMAL, next(self._eid), _Call(self, fn, args)))

    def run_through(self, until: float, stop: Callable[[], bool]) -> None:
        """Process every event due at or before ``until`` (``run(until)`` would leave those due at
        ``until``), leaving early once ``stop()`` is true after an event; then the time is ``until``."""
        queue = self._queue
        while queue and queue[0][0] <= until:
            self.step()
            if stop():
                return
        if until > self._now:
            self._now = until


def _call(ev: _Call) -> None:
    ev.fn(*ev.args)


class _Call(simpy.Event):
    """One ``at`` of :class:`SimPyScheduler`, at SimPy's NORMAL priority (a ``Timeout``'s)."""

    __slots__ = ("args", "fn")

    def __init__(self, env: SimPyScheduler, fn: Callable[..., None], args: tuple[Any, ...]) -> None:
        self.env = env
        self.callbacks = [_call]
        self._ok = True
        self._value = None
        self.fn = fn
        self.args = args


@dataclass
class Clock:
    """A monotonic clock: ``local = base_local + rate * (t - base_true)``."""

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
class Direction:
    """One direction of a link (keyed by its sender): cut, or degraded."""

    cut: bool = False
    delay: float = 0.0
    loss: float = 0.0
    duplicate: float = 0.0
    reorder: float = 0.0

    def reset(self) -> None:
        self.cut, self.delay, self.loss, self.duplicate, self.reorder = False, 0.0, 0.0, 0.0, 0.0

    @property
    def degraded(self) -> bool:
        return bool(self.delay or self.loss or self.reorder)


@dataclass
class Link:
    name: str
    a: str
    b: str
    paths: list[bool]
    latency: float = 0.0
    bandwidth: float = 1e9  # bytes/s per path
    dirs: dict[str, Direction] = field(default_factory=dict)
    flaps: int = 0  # generation: a heal_all stops the pending flaps

    def __post_init__(self) -> None:
        self.dirs = {self.a: Direction(), self.b: Direction()}

    def carries(self, src: str) -> bool:
        return not self.dirs[src].cut and any(self.paths)

    def up(self) -> bool:
        return any(self.paths) and not all(d.cut for d in self.dirs.values())

    def whole(self) -> bool:
        """Every path up and neither direction cut."""
        return all(self.paths) and not any(d.cut for d in self.dirs.values())

    def pristine(self) -> bool:
        return all(self.paths) and not any(d.cut or d.degraded or d.duplicate for d in self.dirs.values())

    def heal(self) -> None:
        """Every path up, both directions clean; pending flaps stop (a healed link stays healed)."""
        self.paths = [True] * len(self.paths)
        self.flaps += 1
        for d in self.dirs.values():
            d.reset()


@dataclass
class Copy:
    """One site's copy of the volumes: the acknowledged writes it lacks (ids; not those recorded as
    lost), the bytes it misses, its fence. ``lacks`` is kept as writes are acknowledged, lost or
    resynchronised: S2 is checked at each write in constant time, not by set differences over the run.
    """

    lacks: set[int] = field(default_factory=set)
    fence: int = 1
    missing: float = 0.0


@dataclass
class Resync:
    src: Site
    dst: Site
    epoch: int
    start: float
    valid: bool = True


@dataclass(frozen=True, slots=True)
class Event:
    """One line of a run's timeline (flat record: drops into a DataFrame)."""

    t: float
    kind: str  # fault, role, decision, storage, violation, operator, hook, health, note
    node: str
    text: str


# (name, a, b, paths, latency, bandwidth): the checker's topology, one path each, no latency
MESH = (("ab", "A", "B", 1, 0.0, 1e9), ("aw", "A", "W", 1, 0.0, 1e9), ("bw", "B", "W", 1, 0.0, 1e9))
Route = tuple[float, float, float, float, float]  # latency incl. delay, base latency, loss, dup, reorder


class World:
    """Three processes, their links and storage, driving the core. Subclasses add the workload and
    the loop: :class:`quorum.testing.Driver` (checker) and :class:`sim.story.runner.Runner` (simulator)."""

    def __init__(
        self,
        config: QuorumConfig,
        sched: Scheduler,
        *,
        seed: int = 0,
        links: Iterable[tuple[str, str, str, int, float, float]] = MESH,
        transit: tuple[str, ...] = (),
        jitter: float = 1.0,
        resync_time: float | None = None,
        witness_forgets: bool = False,
        tracing: bool = True,
        stop_on_safety: bool = True,
        expect_no_role_change: bool = False,
    ) -> None:
        self.cfg = config
        self.sched = sched
        self.rng_net = random.Random(f"{seed}:network")
        self.jitter = jitter
        self.resync_time = resync_time
        self.witness_forgets = witness_forgets
        self.tracing = tracing
        self.transit = transit
        self.clocks = {n: Clock() for n in NODES}
        self.up = dict.fromkeys(NODES, True)
        self.paused_until = dict.fromkeys(NODES, 0.0)
        self.paused_auth: dict[str, WriteAuthority | None] = {}
        self.links = {n: Link(n, a, b, [True] * p, lat, bw) for n, a, b, p, lat, bw in links}
        self.between: dict[tuple[str, str], list[Link]] = {}
        for lk in self.links.values():
            self.between.setdefault((lk.a, lk.b), []).append(lk)
            self.between.setdefault((lk.b, lk.a), []).append(lk)
        self._routes: dict[tuple[str, str], Route | None] = {}
        # (links up, links up but not whole) for the simulator's lanes; None: to recompute
        self.link_lanes: tuple[tuple[str, ...], tuple[str, ...]] | None = None
        self.copies = {s: Copy() for s in SITES}
        self.site_store: dict[Site, core.SiteDurable | None] = {
            s: core.SiteDurable(tie_site=config.preferred_site) for s in SITES
        }
        self.witness_store: core.WitnessDurable | None = None
        self.sites: dict[Site, core.SiteMachine] = {s: core.SiteMachine(config, s, 0.0) for s in SITES}
        # a pair installed together: the witness starts from its initial durable state, not "lost"
        self.witness = core.WitnessMachine(config, 0.0, core.WitnessDurable(tie_site=config.preferred_site))
        self.alarms = 0
        self.timer_at: dict[str, float | None] = dict.fromkeys(NODES)
        self.last_fired: dict[str, float] = {}
        self.resyncs: dict[Site, Resync] = {}
        self.unhealthy_until = dict.fromkeys(SITES, 0.0)
        self.veto_until = dict.fromkeys(SITES, 0.0)
        self.maintenance_until: float | None = None  # maintenance mode is on until then
        # messages sent to a down node: no event each (a site down for hours gets thousands); the ones
        # still in flight when it restarts are scheduled then (what a delivery-time check would give)
        self.in_flight_to_down: dict[str, list[tuple[float, Message]]] = {n: [] for n in NODES}
        self.acked: set[int] = set()
        self.lost: set[int] = set()
        self.next_write = 1
        self.trace: list[Event] = []
        self.role_changes = 0
        self.failovers = 0  # changes of the serving site (service moved to the other site)
        self.solo_entries = 0  # every entry into SOLO, a site going solo again at the next epoch too
        self.failover_times: list[float] = []
        self.solo_entry_times: list[float] = []
        self.last_solo: Site | None = None  # the site that served alone last, until the pair mirrors
        self.stale_writes_rejected = 0
        self.data_lost_bytes = 0.0
        self.written_bytes = 0.0
        self.resync_s = 0.0
        self.resyncs_done = 0
        self.drift_beyond_bound = False
        self.last_fault_at = 0.0
        self.crash_after_persist: set[str] = set()  # nodes that crash right after their next persist
        self.stop_on_solo: dict[Site, str] = {}  # maintenance: once this site serves alone, stop that node
        # (time, copy's site, "lost" | "resync" | "resynced", bytes): what happened to each copy's
        # missing writes (years mode maps these to real time)
        self.copy_events: list[tuple[float, str, str, float]] = []
        self.checker: Checker = Checker(
            self, stop_on_safety=stop_on_safety, expect_no_role_change=expect_no_role_change
        )

    @property
    def now(self) -> float:
        return self.sched.now

    def note(self, kind: str, node: str, text: str) -> None:
        if self.tracing or kind == "violation":
            self.trace.append(Event(round(self.sched.now, 6), kind, node, text))

    def local(self, node: str) -> float:
        return self.clocks[node].local(self.sched.now)

    def running(self, node: str) -> bool:
        return self.up[node] and self.sched.now >= self.paused_until[node] - _EPS

    def _to(self, node: str, fn: Callable[..., None], *args: Any) -> None:
        """Run ``fn(*args)`` as an event of process ``node``: lost if it is down, deferred while paused."""
        if not self.up[node]:
            return
        if self.sched.now < self.paused_until[node] - _EPS:
            self.sched.at(self.paused_until[node], self._to, node, fn, *args)
            return
        fn(*args)

    def _deliver(self, node: str, msg: Message) -> None:
        """``_to(node, _call, node, msg)`` written out: the most frequent event of every run."""
        if not self.up[node]:
            return
        now = self.sched.now
        if now < self.paused_until[node] - _EPS:
            self.sched.at(self.paused_until[node], self._deliver, node, msg)
            return
        self._call(node, msg)

    # ---- calling the core ----------------------------------------------------------------------------
    def _call(self, node: str, event: Input | None) -> None:
        now = self.clocks[node].local(self.sched.now)
        if node == "W":
            acts = self.witness.handle_timer(now) if event is None else self.witness.handle(now, event)
            self._perform(node, acts)
        else:
            site = SITE_OF[node]
            machine = self.sites[site]
            acts = machine.handle_timer(now) if event is None else machine.handle(now, event)
            self._perform(node, acts)
            self.checker.site_changed(site)
        self._arm(node)

    def _arm(self, node: str) -> None:
        if not self.up[node]:
            return
        deadline = self.witness.next_deadline() if node == "W" else self.sites[SITE_OF[node]].next_deadline()
        if deadline is None:
            self.timer_at[node] = None
            return
        now = self.sched.now
        t = max(now, self.clocks[node].true_at(deadline))
        if self.timer_at[node] == t:
            return  # the pending timer already fires then
        if t <= self.last_fired.get(node, -1.0):
            t = self.last_fired[node] + 1e-6  # rounding between clocks: always make progress
        self.timer_at[node] = t
        self.sched.at(t, self._fire, node, t)

    def _fire(self, node: str, t: float) -> None:
        """A timer of ``node`` due at ``t`` (an event of that process: see ``_to``)."""
        if not self.up[node]:
            return
        if self.sched.now < self.paused_until[node] - _EPS:
            self.sched.at(self.paused_until[node], self._fire, node, t)
            return
        if t != self.timer_at[node]:
            return  # superseded
        self.timer_at[node] = None
        self.last_fired[node] = self.sched.now
        self._call(node, None)

    def _perform(self, node: str, acts: list[Action]) -> None:
        for a in acts:
            if isinstance(a, core.Send):
                self._send(node, "W" if a.dst is None else a.dst.value, a.message)
            elif isinstance(a, core.PersistWitness | core.PersistSite):
                if isinstance(a, core.PersistWitness):
                    self.checker.on_persist_witness(a.state)
                    self.witness_store = a.state
                else:
                    self.checker.on_persist_site(a.site, a.state)
                    self.site_store[a.site] = a.state
                if node in self.crash_after_persist:  # the write is durable; what follows is lost
                    self.crash_after_persist.discard(node)
                    self.note("fault", node, f"crash {node} after it persisted, before it sent")
                    self.last_fault_at = max(self.last_fault_at, self.sched.now)
                    self._crash(node)
                    return
            elif isinstance(a, core.RoleChanged):
                self._role_changed(a)
            elif isinstance(a, core.StartResync):
                self._start_resync(a)
            elif isinstance(a, core.CheckPromotion):
                self.note("hook", node, f"pre-promote check at epoch {a.epoch}")
                done = self.sched.now + self.cfg.heartbeat_interval / 2  # the hook takes half a beat
                self.sched.at(done, self._to, node, self._checked, node, a.epoch)
            elif isinstance(a, core.Decision):
                self.note("decision", "W", f"epoch {a.epoch} {a.mode.value} holder {a.holder}: {a.reason}")
            elif isinstance(a, core.Alarm):
                self.alarms += 1
                self.note("alarm", "W", a.detail)
            else:
                self.note("operator", node, a.detail)

    def _role_changed(self, a: core.RoleChanged) -> None:
        self.role_changes += 1
        cp = self.copies[a.site]
        if a.new in (Role.SOLO, Role.MIRRORED):
            cp.fence = max(cp.fence, a.epoch)
        if a.new is Role.SOLO and a.old is not Role.SOLO:
            self.solo_entries += 1
            self.solo_entry_times.append(self.sched.now)
            if self.last_solo is not a.site:  # service moved: from the pair, or from the other site
                self.failovers += 1
                self.failover_times.append(self.sched.now)
            self.last_solo = a.site
        elif a.new is Role.MIRRORED:
            self.last_solo = None  # the pair is whole again
        if a.new is Role.SOLO and a.data_loss:
            newly = set(cp.lacks)
            self.lost |= newly
            for c in self.copies.values():
                c.lacks -= newly
            lost = cp.missing
            self.data_lost_bytes += lost
            self.copy_events.append((self.sched.now, a.site.value, "lost", lost))
            other = self.copies[a.site.peer]
            other.missing = max(other.missing, lost)  # its divergent blocks are rewritten
            cp.missing = 0.0
            text = f"recorded data loss: {len(newly)} acknowledged writes ({lost:.0f} bytes)"
            self.note("storage", a.site.value, text)
        self.note("role", a.site.value, f"{a.old.value} -> {a.new.value} epoch {a.epoch}: {a.reason}")
        self.checker.on_role(a)
        if a.new is Role.SOLO and a.site in self.stop_on_solo:  # planned: the other site goes now,
            node = self.stop_on_solo.pop(a.site)  # before it could rejoin as a mirror
            self.note("fault", node, f"{node} shuts down for maintenance: {a.site.value} serves alone")
            self._crash(node)

    def _checked(self, node: str, epoch: int) -> None:
        """The pre-promote hook finished (it fails inside a ``veto`` window)."""
        ok = self.sched.now >= self.veto_until[Site(node)]
        if not ok:
            self.note("hook", node, f"pre-promote check fails at epoch {epoch}")
        self._call(node, core.PromotionChecked(epoch, ok, "" if ok else "pre-promote hook failed"))

    # ---- network --------------------------------------------------------------------------------------
    def route(self, src: str, dst: str) -> Route | None:
        """How a message from ``src`` reaches ``dst`` now (None: it cannot); cached until a change."""
        key = (src, dst)
        try:
            return self._routes[key]
        except KeyError:
            pass
        best: Route | None = None
        for lk in self.between.get(key, ()):
            if lk.carries(src):
                d = lk.dirs[src]
                r = (lk.latency + d.delay, lk.latency, d.loss, d.duplicate, d.reorder)
                if best is None or r[0] < best[0]:
                    best = r
        if best is None and self.transit:
            best = self._relayed(src, dst)
        self._routes[key] = best
        return best

    def _relayed(self, src: str, dst: str) -> Route | None:
        """Through one running transit node (the topologies have three nodes)."""
        best: Route | None = None
        for via in self.transit:
            if via in (src, dst) or not self.up[via]:
                continue
            r1 = self.route(src, via) if (src, via) in self.between else None
            r2 = self.route(via, dst) if (via, dst) in self.between else None
            if r1 is None or r2 is None:
                continue
            r = (
                r1[0] + r2[0],
                r1[1] + r2[1],
                1 - (1 - r1[2]) * (1 - r2[2]),
                max(r1[3], r2[3]),
                r1[4] + r2[4],
            )
            if best is None or r[0] < best[0]:
                best = r
        return best

    def _topology_changed(self) -> None:
        """A link, a path or a node changed: routes (and the lanes read from links) are recomputed."""
        self._routes.clear()
        self.link_lanes = None

    def lanes(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(the links up, the links up but with a path lost or one direction cut), cached."""
        if self.link_lanes is None:
            ups = tuple(k for k, lk in self.links.items() if lk.up())
            self.link_lanes = (ups, tuple(k for k in ups if not self.links[k].whole()))
        return self.link_lanes

    def path(self, a: str, b: str) -> bool:
        return self.route(a, b) is not None and self.route(b, a) is not None

    def clean(self, a: str, b: str) -> bool:
        """Both directions carry messages without delay, loss or reordering."""
        ra, rb = self.route(a, b), self.route(b, a)
        return ra is not None and rb is not None and not any(ra[2:]) and not any(rb[2:]) and ra[0] == ra[1]

    def degraded(self) -> bool:
        return any(d.degraded for lk in self.links.values() for d in lk.dirs.values())

    def bandwidth(self, a: str, b: str) -> float:
        bw = [lk.bandwidth * sum(lk.paths) for lk in self.between.get((a, b), ())]
        return max(bw, default=1e9)

    def _send(self, src: str, dst: str, msg: Message) -> None:
        if isinstance(msg, core.WitnessReply) and msg.verdict in _GRANTS:
            self.checker.on_grant(msg)
        if not self.up[src]:
            return
        r = self.route(src, dst)
        if r is None:
            return
        lat, base, loss, dup, reorder = r
        rng = self.rng_net
        if loss and rng.random() < loss:
            return
        copies = 2 if dup and rng.random() < dup else 1
        span = max(0.0, self.cfg.max_message_delay - base) * self.jitter
        for _ in range(copies):
            delay = span * rng.random() + lat  # rng.uniform(0, span), the same draw and value
            if reorder:
                delay += rng.uniform(0.0, reorder)
            if self.up[dst]:
                self.sched.at(self.sched.now + delay, self._deliver, dst, msg)
            else:  # held until dst restarts: delivered then if still in flight, else dropped unseen
                self.in_flight_to_down[dst].append((self.sched.now + delay, msg))

    # ---- storage ----------------------------------------------------------------------------------------
    def serving(self) -> dict[Site, WriteAuthority]:
        """The write authority of every running site that has one."""
        out = {}
        now = self.sched.now
        for s in SITES:
            n = s.value
            if self.up[n] and now >= self.paused_until[n] - _EPS:  # running(n)
                auth = self.sites[s].write_authority(self.clocks[n].local(now))
                if auth is not None:
                    out[s] = auth
        return out

    def writes(self, site: Site, interval: float) -> None:
        """The checker's workload: ``site`` tries one 0-byte write now and every ``interval``."""
        node = site.value
        if self.running(node):
            auth = self.sites[site].write_authority(self.local(node))
            if auth is not None:
                self.write(site, auth)
        self.sched.at(self.sched.now + interval, self.writes, site, interval)

    def write(self, site: Site, auth: WriteAuthority, size: float = 0.0) -> bool:
        """One write of ``size`` bytes by ``site`` under ``auth``; True if acknowledged."""
        node = site.value
        mine, peer = self.copies[site], self.copies[site.peer]
        if auth.epoch < mine.fence:
            self.stale_writes_rejected += 1
            self._call(node, core.MirrorWriteFailed("own copy holds a newer epoch"))
            return False
        reach = self.up[site.peer.value] and self.path(node, site.peer.value)
        if auth.mirrored:
            if not reach:
                return False  # stalls until the core decides
            if auth.epoch < peer.fence:
                self.stale_writes_rejected += 1
                self._call(node, core.MirrorWriteFailed(f"peer copy fenced at epoch {peer.fence}"))
                return False
            targets = [mine, peer]
        else:
            targets = [mine]
            rs = self.resyncs.get(site.peer)
            if rs is not None and rs.src is site and reach and peer.fence <= auth.epoch:
                targets.append(peer)  # written to both during a resync
            else:
                peer.missing += size
                if rs is not None and rs.src is site:
                    rs.valid = False
        wid = self.next_write
        self.next_write += 1
        self.checker.on_ack(site, auth, wid, targets if auth.mirrored else [mine])
        for c in targets:
            c.fence = max(c.fence, auth.epoch)
        if len(targets) == 1:  # the peer's copy misses it (targets is [mine] or [mine, peer])
            peer.lacks.add(wid)
        self.acked.add(wid)
        self.written_bytes += size
        return True

    def _start_resync(self, a: core.StartResync) -> None:
        missing = self.copies[a.dst].missing
        secs = self.resync_time
        bw = self.bandwidth(a.src.value, a.dst.value)
        if secs is None:
            # a link that went down since the core decided carries nothing: the resync fails at once
            secs = missing / bw + 0.1 if bw > 0 else 0.1
        self.resyncs[a.dst] = Resync(a.src, a.dst, a.epoch, self.sched.now, valid=bw > 0)
        self.copy_events.append((self.sched.now, a.dst.value, "resync", missing))
        self.note("storage", a.dst.value, f"resync of {missing:.0f} bytes from {a.src.value} ({secs:.1f}s)")
        self.sched.at(self.sched.now + secs, self._to, a.src.value, self._finish_resync, a.dst)

    def _finish_resync(self, dst: Site) -> None:
        rs = self.resyncs.pop(dst, None)
        if rs is None:
            return
        src, dst_copy = self.copies[rs.src], self.copies[dst]
        if (
            rs.valid
            and self.up[dst.value]
            and self.path(rs.src.value, dst.value)
            and dst_copy.fence <= rs.epoch
        ):
            dst_copy.lacks = set(src.lacks)
            dst_copy.missing = 0.0
            dst_copy.fence = max(dst_copy.fence, rs.epoch)
            self.resync_s += self.sched.now - rs.start
            self.resyncs_done += 1
            self.copy_events.append((self.sched.now, dst.value, "resynced", 0.0))
            self.note("storage", dst.value, f"copy resynchronised from {rs.src.value} at epoch {rs.epoch}")
            self._call(rs.src.value, core.ResyncDone(rs.epoch))
        else:
            self._call(rs.src.value, core.ResyncFailed(rs.epoch))

    # ---- faults -----------------------------------------------------------------------------------------
    def apply(self, step: sch.Step) -> None:
        """Perform one fault step now (its ``at`` is when it was scheduled)."""
        self._topology_changed()
        self.note("fault", getattr(step, "node", getattr(step, "site", "-")), sch.describe_step(step))
        now = self.sched.now
        if isinstance(step, sch.Crash):
            self._crash(step.node)
        elif isinstance(step, sch.Restart):
            self._restart(step.node)
        elif isinstance(step, sch.Cut | sch.Heal | sch.Degrade):
            for lk in self.between.get((step.src, step.dst), ())[:1]:
                self._link_step(lk, step)
        elif isinstance(step, sch.Isolate):
            for d in (d for lk in self.links.values() if step.node in (lk.a, lk.b) for d in lk.dirs.values()):
                d.cut = True
        elif isinstance(step, sch.HealAll):
            for lk in self.links.values():
                lk.heal()
        elif isinstance(step, sch.Flap):
            for lk in self.between.get((step.src, step.dst), ())[:1]:
                self._flap(lk, lk.flaps, step.period, 2 * step.count)
        elif isinstance(step, sch.Pause):
            n = step.node
            if self.up[n]:
                if n != "W" and n not in self.paused_auth:
                    self.paused_auth[n] = self.sites[Site(n)].write_authority(self.local(n))
                self.paused_until[n] = max(self.paused_until[n], now + step.duration)
                self.sched.at(self.paused_until[n], self._to, n, self._resume, n)
                if n != "W":
                    self.checker.site_changed(Site(n))
        elif isinstance(step, sch.Drift):
            self.clocks[step.node].set_rate(now, step.rate)
            if abs(step.rate - 1.0) > self.cfg.max_clock_drift + 1e-12:
                self.drift_beyond_bound = True
            self._arm(step.node)
            if step.node != "W":
                self.checker.site_changed(Site(step.node))
        elif isinstance(step, sch.SwitchoverStep):
            if step.stop_other:
                self.stop_on_solo[Site(step.to)] = Site(step.to).peer.value
            if self.up["W"]:
                self._call("W", core.Switchover(Site(step.to)))
        elif isinstance(step, sch.Unhealthy):
            site = Site(step.site)
            self.unhealthy_until[site] = max(self.unhealthy_until[site], now + step.duration)
            if self.up[step.site]:
                self._call(step.site, core.SiteHealth(False, "schedule: health check fails"))
            self.sched.at(self.unhealthy_until[site], self._to, step.site, self._healthy, site)
        elif isinstance(step, sch.Veto):
            site = Site(step.site)
            self.veto_until[site] = max(self.veto_until[site], now + step.duration)
        elif isinstance(step, sch.MaintenanceStep):
            if self.up["W"]:  # the operator reaches the witness, or the command fails
                self.maintenance_until = max(self.maintenance_until or 0.0, now + step.duration)
                self._call("W", core.Maintenance(True, step.reason or "schedule"))
                self.sched.at(self.maintenance_until, self._to, "W", self._maintenance_off)
        elif isinstance(step, sch.Lie):
            self._lie(step)
        elif isinstance(step, sch.CrashAfterPersist):
            if self.up[step.node]:
                self.crash_after_persist.add(step.node)
        elif isinstance(step, sch.TakeoverStep):
            if step.fence:
                self._crash(Site(step.to).peer.value)
            if self.up["W"]:
                op = core.ForcedTakeover(Site(step.to), allow_data_loss=True, fence_confirmed=step.fence)
                self._call("W", op)

    def _lie(self, step: sch.Lie) -> None:
        """A forged request with ``step.site``'s credentials; the witness's answer goes back to the
        forger (over its own connection), never to the real site. S1-S3 keep being checked on the
        honest processes, and a grant the forger receives still counts for S3."""
        if not self.running("W"):
            return
        req = core.WitnessRequest(
            site=Site(step.site),
            seq=0,
            sent_at=0.0,
            want=core.Want(step.want),
            epoch=self.witness.d.epoch + step.ahead,
            role=Role(step.role),
            current=step.current,
            solo_holder=Site(step.solo_holder) if step.solo_holder else None,
            preelected=Site(step.preelected) if step.preelected else None,
        )
        acts = self.witness.handle(self.local("W"), req)
        for a in acts:
            if isinstance(a, core.Send) and isinstance(a.message, core.WitnessReply):
                if a.message.verdict in (core.Verdict.GRANT_SOLO, core.Verdict.GRANT_MIRROR):
                    self.checker.on_grant(a.message)
                self.note("note", "W", f"answer to the forger: {a.message.verdict.value} {a.message.reason}")
        self._perform("W", [a for a in acts if not isinstance(a, core.Send)])
        self._arm("W")

    def _link_step(self, lk: Link, step: sch.Cut | sch.Heal | sch.Degrade) -> None:
        ends = [step.src] if step.oneway else [step.src, step.dst]
        if isinstance(step, sch.Degrade):
            for e in ends:
                d = lk.dirs[e]
                d.delay, d.loss, d.duplicate, d.reorder = step.delay, step.loss, step.duplicate, step.reorder
        elif step.path is not None:
            lk.paths[step.path] = isinstance(step, sch.Heal)
        elif isinstance(step, sch.Cut):
            for e in ends:
                lk.dirs[e].cut = True
        elif not step.oneway:
            lk.heal()
        else:
            lk.dirs[step.src].reset()

    def _flap(self, lk: Link, gen: int, period: float, remaining: int) -> None:
        if gen != lk.flaps:
            return  # a heal_all stopped it
        self._topology_changed()
        for d in lk.dirs.values():
            d.cut = remaining % 2 == 0
        if remaining > 1:
            self.sched.at(self.sched.now + period, self._flap, lk, gen, period, remaining - 1)

    def _resume(self, n: str) -> None:
        auth = self.paused_auth.pop(n, None)
        if auth is not None:  # the write in flight when the process stopped reaches storage now
            s = Site(n)
            fence = max(self.copies[s].fence, self.copies[s.peer].fence if auth.mirrored else 0)
            if auth.epoch < fence:
                self.stale_writes_rejected += 1
                self.note("storage", n, f"in-flight write at stale epoch {auth.epoch} rejected")
                self._call(n, core.MirrorWriteFailed("stale epoch rejected by storage"))
        self._call(n, None)

    def _healthy(self, site: Site) -> None:
        if self.sched.now >= self.unhealthy_until[site] - _EPS:
            self.note("health", site.value, "health checks pass again")
            self._call(site.value, core.SiteHealth(True))

    def _maintenance_off(self) -> None:
        if self.maintenance_until is not None and self.sched.now >= self.maintenance_until - _EPS:
            self.maintenance_until = None
            self._call("W", core.Maintenance(False, "window over"))

    def _crash(self, node: str) -> None:
        self.stop_on_solo = {k: v for k, v in self.stop_on_solo.items() if v != node}
        if not self.up[node]:
            return
        self._topology_changed()
        self.up[node] = False
        self.timer_at[node] = None
        self.paused_auth.pop(node, None)
        if node != "W":
            self.resyncs = {d: r for d, r in self.resyncs.items() if r.src.value != node and d.value != node}
            self.checker.site_changed(Site(node))

    def _restart(self, node: str) -> None:
        if self.up[node]:
            return
        self._topology_changed()
        self.up[node] = True
        self.paused_until[node] = 0.0
        held, self.in_flight_to_down[node] = self.in_flight_to_down[node], []
        for t, msg in held:
            if t >= self.sched.now:
                self.sched.at(t, self._deliver, node, msg)
        now = self.local(node)
        if node == "W":
            store = None if self.witness_forgets else self.witness_store
            self.witness = core.WitnessMachine(self.cfg, now, store)
            self._maintenance_off()  # an "off" that found the witness down is applied now
        else:
            site = Site(node)
            self.sites[site] = core.SiteMachine(self.cfg, site, now, self.site_store[site])
            self.checker.site_changed(site)
            if self.sched.now < self.unhealthy_until[site]:
                self._call(node, core.SiteHealth(False, "schedule: health check fails"))
        self._arm(node)


def step_end(step: sch.Step) -> float:
    """When a step's effect stops changing (a flap's last toggle, a pause's end)."""
    if isinstance(step, sch.Flap):
        return step.at + step.period * 2 * step.count
    if isinstance(step, sch.Pause | sch.Unhealthy | sch.Veto | sch.MaintenanceStep):
        return step.at + step.duration
    return step.at
