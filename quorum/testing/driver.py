"""A deterministic in-memory driver: runs the three state machines of ``quorum.core`` over a schedule.

It is an *adapter*: it owns clocks, links, storage and randomness, and calls the core; it decides
nothing. Model:

* **Clocks.** Each process has a monotonic clock, piecewise linear in true time (``drift`` steps
  change its rate). The core only ever sees its own clock's reading.
* **Network.** Directed links carry messages with a random delay in ``[0, max_message_delay]``;
  ``degrade`` adds delay, loss, duplication and reordering; ``cut`` drops messages at send time.
* **Storage.** Each site has a copy: a set of acknowledged write ids and a fence (highest epoch
  seen). Every ``write_interval`` each site tries a write. A MIRRORED site acknowledges it only
  once both copies accept it (both links up, peer storage up, epoch not below either fence); a
  SOLO site acknowledges on its own copy. A write rejected by a fence is reported to the core
  as ``MirrorWriteFailed``; a write that cannot reach the peer copy stalls (not acknowledged).
* **Resync.** ``StartResync`` copies the source copy onto the destination after ``resync_time``
  while the link holds (writes meanwhile are mirrored); a fence above the resync epoch refuses it.
* **Randomness.** One ``random.Random`` per concern, seeded from the schedule's seed.

Invariants S1-S3 are checked after every event by ``quorum.testing.invariants``; L1 at the end.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from quorum.core import (
    Action,
    Alarm,
    CheckPromotion,
    Decision,
    ForcedTakeover,
    Input,
    Maintenance,
    Message,
    MirrorWriteFailed,
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
    Verdict,
    Want,
    WitnessDurable,
    WitnessMachine,
    WitnessReply,
    WitnessRequest,
)
from quorum.core.config import QuorumConfig
from quorum.testing.schedule import (
    Crash,
    CrashAfterPersist,
    Cut,
    Degrade,
    Drift,
    Flap,
    Heal,
    HealAll,
    Isolate,
    Lie,
    MaintenanceStep,
    Pause,
    Restart,
    Schedule,
    Step,
    SwitchoverStep,
    TakeoverStep,
    Unhealthy,
    Veto,
)

NODES = ("A", "B", "W")
SITES = (Site.A, Site.B)


def node_of(dst: Site | None) -> str:
    return "W" if dst is None else dst.value


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
class Link:
    up: bool = True
    delay: float = 0.0
    loss: float = 0.0
    duplicate: float = 0.0
    reorder: float = 0.0

    def reset(self) -> None:
        self.up, self.delay, self.loss, self.duplicate, self.reorder = True, 0.0, 0.0, 0.0, 0.0


@dataclass
class Copy:
    writes: set[int] = field(default_factory=set)
    fence: int = 0


@dataclass
class Resync:
    src: Site
    dst: Site
    epoch: int
    valid: bool = True


@dataclass(frozen=True, slots=True)
class TraceEntry:
    """One line of a run's timeline (flat record: drops into a DataFrame)."""

    t: float
    kind: str  # "fault", "role", "decision", "alarm", "violation", "operator", "note"
    node: str
    text: str


class Driver:
    """Runs one schedule. Construct, then ``run()``; read ``trace``, ``checker`` afterwards.

    ``witness_forgets`` makes the witness lose its durable state on restart (a deliberately broken
    store, to show that property S3 can fail). ``trace_messages`` records every message too.
    """

    def __init__(
        self,
        config: QuorumConfig,
        schedule: Schedule,
        *,
        write_interval: float = 1.0,
        resync_time: float = 2.0,
        witness_forgets: bool = False,
        trace: bool = True,
        expect_no_role_change: bool = False,
    ) -> None:
        from quorum.testing.invariants import (
            Checker,
        )  # late: invariants imports this module's types

        self.cfg = config
        self.schedule = schedule
        self.write_interval = write_interval
        self.resync_time = resync_time
        self.witness_forgets = witness_forgets
        self.tracing = trace
        seed = schedule.seed
        self.rng_net = random.Random(f"{seed}:network")
        self.now = 0.0
        self._seq = 0
        self._queue: list[tuple[float, int, str, Any]] = []
        self.clocks = {n: Clock() for n in NODES}
        self.up = dict.fromkeys(NODES, True)
        self.paused_until = dict.fromkeys(NODES, 0.0)
        self.links = {(a, b): Link() for a in NODES for b in NODES if a != b}
        self.flap_gen: dict[frozenset[str], int] = {}  # a heal of the link stops its pending flaps
        self.crash_after_persist: set[str] = set()  # nodes that crash right after their next persist
        self.copies = {s: Copy(fence=1) for s in SITES}
        self.site_store: dict[Site, SiteDurable | None] = dict.fromkeys(SITES)
        self.witness_store: WitnessDurable | None = None
        self.sites: dict[Site, SiteMachine] = {s: SiteMachine(config, s, 0.0) for s in SITES}
        # a pair installed together: the witness starts from its initial durable state, not "lost"
        self.witness = WitnessMachine(config, 0.0, WitnessDurable(tie_site=config.preferred_site))
        self.alarms = 0
        self.timer_at: dict[str, float | None] = dict.fromkeys(NODES)
        self.last_fired: dict[str, float] = {}
        self.resyncs: dict[Site, Resync] = {}
        self.unhealthy_until = dict.fromkeys(SITES, 0.0)
        self.veto_until = dict.fromkeys(SITES, 0.0)
        self.maintenance_until: float | None = None  # maintenance mode is on until then
        self.acked: set[int] = set()
        self.lost: set[int] = set()
        self.next_write = 1
        self.trace: list[TraceEntry] = []
        self.role_changes = 0
        self.drift_beyond_bound = False
        self.last_fault_at = 0.0
        self.end_time = 0.0
        self.checker = Checker(self, expect_no_role_change=expect_no_role_change)
        for s in SITES:
            self._apply_store(s, SiteDurable(tie_site=config.preferred_site))
        for step in schedule.sorted_steps():
            self._push(step.at, "fault", step)
            self.last_fault_at = max(self.last_fault_at, _step_end(step))
        for i, s in enumerate(SITES):
            self._push(self.write_interval * (0.25 + 0.5 * i), "write", s)
        for n in NODES:
            self._arm(n)

    # ---- queue -------------------------------------------------------------------------------------
    def _push(self, t: float, kind: str, payload: Any) -> None:
        self._seq += 1
        heapq.heappush(self._queue, (t, self._seq, kind, payload))

    def note(self, kind: str, node: str, text: str) -> None:
        if self.tracing or kind == "violation":
            self.trace.append(TraceEntry(round(self.now, 6), kind, node, text))

    def run(self, until: float | None = None) -> Driver:
        """Run to ``until`` (default: last fault + the liveness bound + one lease), then check L1.

        A ``crash_after_persist`` fires when the node next persists, maybe after the last scheduled
        fault: then the last fault moves to that crash and, by default, the run goes on with it.
        """
        explicit = until is not None
        if until is None:
            until = self.last_fault_at + self.cfg.liveness_bound() + self.cfg.lease_duration
        self.checker.liveness_check_at = self.last_fault_at + self.cfg.liveness_bound()
        self._push(self.checker.liveness_check_at, "liveness", None)
        self.advance(until)
        while not explicit and not self.checker.stop and not self.checker.liveness_checked:
            self.advance(self.last_fault_at + self.cfg.liveness_bound() + self.cfg.lease_duration)
        if not self.checker.stop:
            self.checker.at_end()
        return self

    def advance(self, until: float) -> None:
        """Process every event up to true time ``until`` (stops early on a safety violation)."""
        self.end_time = max(self.end_time, until)
        while self._queue and self._queue[0][0] <= until:
            t, _, kind, payload = heapq.heappop(self._queue)
            self.now = t
            self._dispatch(kind, payload)
            self.checker.after_event()
            if self.checker.stop:
                return
        self.now = max(self.now, until)

    def inject(self, step: Step) -> None:
        """Apply a fault step now (used by the stateful test, where faults arrive as rules)."""
        self._fault(step)
        self.last_fault_at = max(self.last_fault_at, self.now + _step_end(step) - step.at)
        self.checker.after_event()

    def _dispatch(self, kind: str, payload: Any) -> None:
        if kind == "fault":
            self._fault(payload)
            return
        if kind == "flap":
            self._flap(payload)
            return
        if kind == "write":
            self._write(payload)
            self._push(self.now + self.write_interval, "write", payload)
            return
        if kind == "liveness":
            due = self.last_fault_at + self.cfg.liveness_bound()
            if self.now < due - 1e-9:  # a crash after a persist came later than the schedule's end
                self.checker.liveness_check_at = due
                self._push(due, "liveness", None)
                return
            self.checker.check_liveness()
            return
        node: str = payload[0]
        if not self.up[node]:
            return
        if self.now < self.paused_until[node]:
            self._push(self.paused_until[node], kind, payload)  # deferred, order kept
            return
        if kind == "timer":
            if payload[1] != self.timer_at[node]:
                return  # superseded
            self.timer_at[node] = None
            self.last_fired[node] = self.now
            self._call(node, None)
        elif kind == "deliver":
            self._call(node, payload[1])
        elif kind == "resync":
            self._finish_resync(payload[1])
        elif kind == "resume":
            self._call(node, None)
        elif kind == "check":  # the pre-promote hook finished
            site = Site(node)
            ok = self.now >= self.veto_until[site]
            self._call(node, PromotionChecked(payload[1], ok, "" if ok else "pre-promote hook failed"))
        elif kind == "healthy":
            if self.now >= self.unhealthy_until[Site(node)]:
                self._call(node, SiteHealth(True))
        elif kind == "maintenance-off":
            if self.maintenance_until is not None and self.now >= self.maintenance_until:
                self.maintenance_until = None
                self._call(node, Maintenance(False, "window over"))

    # ---- calling the core --------------------------------------------------------------------------
    def local(self, node: str) -> float:
        return self.clocks[node].local(self.now)

    def _call(self, node: str, event: Input | None) -> None:
        now = self.local(node)
        if node == "W":
            acts = self.witness.handle_timer(now) if event is None else self.witness.handle(now, event)
        else:
            machine = self.sites[Site(node)]
            acts = machine.handle_timer(now) if event is None else machine.handle(now, event)
        self._perform(node, acts)
        self._arm(node)

    def _arm(self, node: str) -> None:
        if not self.up[node]:
            return
        if node == "W":
            deadline = self.witness.next_deadline()
        else:
            deadline = self.sites[Site(node)].next_deadline()
        if deadline is None:
            self.timer_at[node] = None
            return
        t = max(self.now, self.clocks[node].true_at(deadline))
        if self.timer_at[node] is not None and self.timer_at[node] == t:
            return
        if t <= self.last_fired.get(node, -1.0):
            t = self.last_fired[node] + 1e-6  # rounding between clocks: always make progress
        self.timer_at[node] = t
        self._push(t, "timer", (node, t))

    def _perform(self, node: str, acts: list[Action]) -> None:
        for a in acts:
            if isinstance(a, Send):
                self._send(node, node_of(a.dst), a.message)
            elif isinstance(a, PersistWitness | PersistSite):
                if isinstance(a, PersistWitness):
                    self.checker.on_persist_witness(a.state)
                    self.witness_store = a.state
                else:
                    self.checker.on_persist_site(a.site, a.state)
                    self._apply_store(a.site, a.state)
                if node in self.crash_after_persist:  # the write is durable; what follows is lost
                    self.crash_after_persist.discard(node)
                    self.note("fault", node, f"crash {node} after it persisted, before it sent")
                    self.last_fault_at = max(self.last_fault_at, self.now)
                    self._crash(node)
                    return
            elif isinstance(a, RoleChanged):
                self.role_changes += 1
                copy = self.copies[a.site]
                if a.new in (Role.SOLO, Role.MIRRORED):
                    copy.fence = max(copy.fence, a.epoch)
                if a.new is Role.SOLO and a.data_loss:
                    newly = self.acked - self.lost - copy.writes
                    self.lost |= newly
                    self.note(
                        "note",
                        a.site.value,
                        f"recorded data loss: {len(newly)} acknowledged writes",
                    )
                self.note(
                    "role",
                    a.site.value,
                    f"{a.old.value} -> {a.new.value} epoch {a.epoch}: {a.reason}",
                )
                self.checker.on_role(a)
            elif isinstance(a, StartResync):
                self._start_resync(a)
            elif isinstance(a, CheckPromotion):
                self.note("note", node, f"pre-promote check at epoch {a.epoch}")
                self._push(self.now + self.cfg.heartbeat_interval / 2, "check", (node, a.epoch))
            elif isinstance(a, Decision):
                self.note("decision", "W", f"epoch {a.epoch} {a.mode.value} holder {a.holder}: {a.reason}")
            elif isinstance(a, Alarm):
                self.alarms += 1
                self.note("alarm", "W", a.detail)
            else:
                self.note("operator", node, f"{a.detail}")

    def _apply_store(self, site: Site, state: SiteDurable) -> None:
        self.site_store[site] = state

    # ---- network -----------------------------------------------------------------------------------
    def _send(self, src: str, dst: str, msg: Message) -> None:
        if isinstance(msg, WitnessReply) and msg.verdict in (
            Verdict.GRANT_SOLO,
            Verdict.GRANT_MIRROR,
        ):
            self.checker.on_grant(msg)
        link = self.links[(src, dst)]
        if not link.up or not self.up[src]:
            return
        rng = self.rng_net
        if link.loss and rng.random() < link.loss:
            return
        copies = 2 if link.duplicate and rng.random() < link.duplicate else 1
        for _ in range(copies):
            delay = rng.uniform(0.0, self.cfg.max_message_delay) + link.delay
            if link.reorder:
                delay += rng.uniform(0.0, link.reorder)
            self._push(self.now + delay, "deliver", (dst, msg))

    def _path(self, a: str, b: str) -> bool:
        return self.links[(a, b)].up and self.links[(b, a)].up

    # ---- storage -------------------------------------------------------------------------------------
    def _write(self, site: Site) -> None:
        node = site.value
        if not self.up[node] or self.now < self.paused_until[node]:
            return
        auth = self.sites[site].write_authority(self.local(node))
        if auth is None:
            return
        mine = self.copies[site]
        peer = site.peer
        theirs = self.copies[peer]
        if auth.epoch < mine.fence:
            self._call(node, MirrorWriteFailed("own copy holds a newer epoch"))
            return
        wid = self.next_write
        if auth.mirrored:
            if not (self.up[peer.value] and self._path(node, peer.value)):
                return  # stalls: not acknowledged
            if auth.epoch < theirs.fence:
                self._call(node, MirrorWriteFailed(f"peer copy fenced at epoch {theirs.fence}"))
                return
            targets = [mine, theirs]
        else:
            targets = [mine]
            rs = self.resyncs.get(peer)
            if rs is not None and rs.src is site:
                if self.up[peer.value] and self._path(node, peer.value) and theirs.fence <= auth.epoch:
                    targets.append(theirs)
                else:
                    rs.valid = False
        self.next_write += 1
        self.checker.on_ack(site, auth, wid, targets if auth.mirrored else [mine])
        for c in targets:
            c.writes.add(wid)
            c.fence = max(c.fence, auth.epoch)
        self.acked.add(wid)

    def _start_resync(self, a: StartResync) -> None:
        self.resyncs[a.dst] = Resync(a.src, a.dst, a.epoch)
        self._push(self.now + self.resync_time, "resync", (a.src.value, a.dst))

    def _finish_resync(self, dst: Site) -> None:
        rs = self.resyncs.pop(dst, None)
        if rs is None:
            return
        src_copy, dst_copy = self.copies[rs.src], self.copies[dst]
        ok = (
            rs.valid
            and self.up[dst.value]
            and self._path(rs.src.value, dst.value)
            and dst_copy.fence <= rs.epoch
        )
        if ok:
            dst_copy.writes = set(src_copy.writes)
            dst_copy.fence = max(dst_copy.fence, rs.epoch)
            self.note("note", dst.value, f"copy resynchronised from {rs.src.value} at epoch {rs.epoch}")
            self._call(rs.src.value, ResyncDone(rs.epoch))
        else:
            self._call(rs.src.value, ResyncFailed(rs.epoch))

    # ---- faults ---------------------------------------------------------------------------------------
    def _fault(self, step: Step) -> None:
        from quorum.testing.schedule import describe_step

        self.note("fault", getattr(step, "node", "-"), describe_step(step))
        if isinstance(step, Crash):
            self._crash(step.node)
        elif isinstance(step, Restart):
            self._restart(step.node)
        elif isinstance(step, Cut | Heal):
            pairs = [(step.src, step.dst)] if step.oneway else [(step.src, step.dst), (step.dst, step.src)]
            for p in pairs:
                if p[0] == p[1]:
                    continue
                if isinstance(step, Cut):
                    self.links[p].up = False
                else:
                    self.links[p].reset()
            if isinstance(step, Heal) and not step.oneway:
                self._stop_flaps(frozenset((step.src, step.dst)))
        elif isinstance(step, Isolate):
            for (a, b), link in self.links.items():
                if step.node in (a, b):
                    link.up = False
        elif isinstance(step, HealAll):
            for link in self.links.values():
                link.reset()
            for key in list(self.flap_gen):
                self._stop_flaps(key)
        elif isinstance(step, Flap):
            gen = self.flap_gen.get(frozenset((step.src, step.dst)), 0)
            self._flap((step.src, step.dst, step.period, 2 * step.count, gen))
        elif isinstance(step, Degrade):
            pairs = [(step.src, step.dst)] if step.oneway else [(step.src, step.dst), (step.dst, step.src)]
            for p in pairs:
                if p[0] == p[1]:
                    continue
                link = self.links[p]
                link.delay, link.loss, link.duplicate, link.reorder = (
                    step.delay,
                    step.loss,
                    step.duplicate,
                    step.reorder,
                )
        elif isinstance(step, Pause):
            if self.up[step.node]:
                self.paused_until[step.node] = max(self.paused_until[step.node], self.now + step.duration)
                self._push(self.paused_until[step.node], "resume", (step.node,))
        elif isinstance(step, Drift):
            self.clocks[step.node].set_rate(self.now, step.rate)
            if abs(step.rate - 1.0) > self.cfg.max_clock_drift + 1e-12:
                self.drift_beyond_bound = True
            self._arm(step.node)
        elif isinstance(step, SwitchoverStep):
            if self.up["W"]:
                self._call("W", Switchover(Site(step.to)))
        elif isinstance(step, Unhealthy):
            site = Site(step.site)
            self.unhealthy_until[site] = max(self.unhealthy_until[site], self.now + step.duration)
            if self.up[step.site]:
                self._call(step.site, SiteHealth(False, "schedule: health check fails"))
            self._push(self.unhealthy_until[site], "healthy", (step.site,))
        elif isinstance(step, Veto):
            site = Site(step.site)
            self.veto_until[site] = max(self.veto_until[site], self.now + step.duration)
        elif isinstance(step, MaintenanceStep):
            if self.up["W"]:  # the operator reaches the witness, or the command fails
                end = self.now + step.duration
                self.maintenance_until = max(self.maintenance_until or 0.0, end)
                self._call("W", Maintenance(True, "schedule"))
                self._push(self.maintenance_until, "maintenance-off", ("W",))
        elif isinstance(step, CrashAfterPersist):
            if self.up[step.node]:
                self.crash_after_persist.add(step.node)
        elif isinstance(step, Lie):
            self._lie(step)
        elif isinstance(step, TakeoverStep):
            if step.fence:
                self._crash(Site(step.to).peer.value)
            if self.up["W"]:
                self._call(
                    "W",
                    ForcedTakeover(Site(step.to), allow_data_loss=True, fence_confirmed=step.fence),
                )

    def _lie(self, step: Lie) -> None:
        """A forged request with ``step.site``'s credentials; the witness's answer goes back to the
        forger (over its own connection), never to the real site. S1-S3 keep being checked on the
        honest processes, and a grant the forger receives still counts for S3."""
        if not self.up["W"] or self.now < self.paused_until["W"]:
            return
        req = WitnessRequest(
            site=Site(step.site),
            seq=0,
            sent_at=0.0,
            want=Want(step.want),
            epoch=self.witness.d.epoch + step.ahead,
            role=Role(step.role),
            current=step.current,
            solo_holder=Site(step.solo_holder) if step.solo_holder else None,
            preelected=Site(step.preelected) if step.preelected else None,
        )
        acts = self.witness.handle(self.local("W"), req)
        for a in acts:
            if isinstance(a, Send) and isinstance(a.message, WitnessReply):
                if a.message.verdict in (Verdict.GRANT_SOLO, Verdict.GRANT_MIRROR):
                    self.checker.on_grant(a.message)
                self.note("note", "W", f"answer to the forger: {a.message.verdict.value} {a.message.reason}")
        self._perform("W", [a for a in acts if not isinstance(a, Send)])
        self._arm("W")

    def _stop_flaps(self, key: frozenset[str]) -> None:
        """Pending toggles of a flapping link are dropped: a healed link stays healed."""
        self.flap_gen[key] = self.flap_gen.get(key, 0) + 1

    def _flap(self, payload: tuple[str, str, float, int, int]) -> None:
        src, dst, period, remaining, gen = payload
        key = frozenset((src, dst))
        if gen != self.flap_gen.setdefault(key, 0):
            return  # healed meanwhile
        if src != dst:
            up = remaining % 2 == 1
            for p in ((src, dst), (dst, src)):
                self.links[p].up = up
        if remaining > 1:
            self._push(self.now + period, "flap", (src, dst, period, remaining - 1, gen))

    def _crash(self, node: str) -> None:
        if not self.up[node]:
            return
        self.up[node] = False
        self.timer_at[node] = None
        if node != "W":
            self.resyncs = {d: r for d, r in self.resyncs.items() if r.src.value != node and d.value != node}
        self.checker.on_crash(node)

    def _restart(self, node: str) -> None:
        if self.up[node]:
            return
        self.up[node] = True
        self.paused_until[node] = 0.0
        now = self.local(node)
        if node == "W":
            store = None if self.witness_forgets else self.witness_store
            self.witness = WitnessMachine(self.cfg, now, store)
            if self.maintenance_until is not None and self.now >= self.maintenance_until:
                self.maintenance_until = None  # the operator's "off" failed while it was down: again
                self._call(node, Maintenance(False, "window over"))
        else:
            site = Site(node)
            self.sites[site] = SiteMachine(self.cfg, site, now, self.site_store[site])
            if self.now < self.unhealthy_until[site]:
                self._call(node, SiteHealth(False, "schedule: health check fails"))
        self._arm(node)


def _step_end(step: Step) -> float:
    if isinstance(step, Flap):
        return step.at + step.period * 2 * step.count
    if isinstance(step, Pause | Unhealthy | Veto | MaintenanceStep):
        return step.at + step.duration
    return step.at


Hook = Callable[[Driver], None]
