"""The simulator's driver: one scenario through :class:`quorum.world.World` on SimPy.

The world (clocks, processes, links with redundant paths, storage copies with fences and resync
at the link's bandwidth, the performance of the core's actions) is the checker's too; this driver
adds the scenario's topology, its workload (every serving site writes ``write_rate`` bytes each
``write_interval``), the metrics, the lane samples for the plot and SimPy's event loop. The
invariant checkers of ``quorum.testing`` run inside every run; a safety violation does not stop it.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import simpy

from quorum.core import Mode, Role, Site
from quorum.testing.invariants import SAFETY, Violation
from quorum.testing.world import MESH, NODES, SITES, Event, SimPyScheduler, World, step_end
from sim.story import scenario as S

SITE_OF = {s.value: s for s in SITES}

# fields of the machines left out of ``Runner.quiet_key``: times and counters that move while nothing
# happens (the messages kept are in the key without their times: ``_unclocked``), and the constants
_SITE_CLOCKED = frozenset(
    {
        "cfg",
        "spec",
        "role_since",
        "lease_end",
        "hb_seq",
        "next_hb",
        "peer_last_rx",
        "peer_seq",
        "peer_state",
        "witness_last_rx",
        "witness_view",
        "check_failed_at",
    }
)
_WITNESS_CLOCKED = frozenset(
    {
        "cfg",
        "spec",
        "lease_expiry",
        "solo_since",
        "started",
        "first_request",
        "last_seen",
        "last_request",
        "pending_since",
        "alarmed",
        "refused",
    }
)


_GETTERS: dict[tuple[type, int], Callable[[Any], Any]] = {}


def _getter(obj: Any, skip: frozenset[str]) -> Callable[[Any], Any]:
    """``operator.attrgetter`` of every attribute of ``obj`` but ``skip`` (of a slotted dataclass: its
    fields), cached per class and attribute count (an attribute added later makes a new getter)."""
    own = getattr(obj, "__dict__", None)
    k = (type(obj), -1 if own is None else len(own))
    got = _GETTERS.get(k)
    if got is None:
        names = list(own) if own is not None else [f.name for f in dataclasses.fields(obj)]
        keep = [n for n in names if n not in skip]
        got = _GETTERS[k] = (
            operator.attrgetter(*keep) if len(keep) > 1 else (lambda o: (getattr(o, keep[0]),))
        )
    return got


_MESSAGE_CLOCKED = frozenset({"seq", "sent_at"})


def _unclocked(msg: Any) -> Any:
    """A kept message's fields without its sequence number and send time (``None`` stays ``None``)."""
    if msg is None:
        return None
    get = _MESSAGE_GETTERS.get(type(msg))
    if get is None:
        get = _MESSAGE_GETTERS[type(msg)] = _getter(msg, _MESSAGE_CLOCKED)
    return get(msg)


_MESSAGE_GETTERS: dict[type, Callable[[Any], Any]] = {}


@dataclass(frozen=True, slots=True)
class Sample:
    """Lane states at one workload tick, for the plot."""

    t: float
    serving: tuple[str, ...]
    up: tuple[str, ...]
    links: tuple[str, ...]
    stale: tuple[str, ...]
    split: bool = False  # both sites held solo write authority at some time since the last tick
    roles: tuple[str, ...] = ()  # role of A and of B ("down" while crashed)
    degraded: tuple[str, ...] = ()  # links still up with a path lost or one direction cut
    epochs: tuple[int, ...] = ()  # epoch of A and of B


@dataclass
class Metrics:
    duration_s: float = 0.0
    downtime_s: float = 0.0
    failovers: int = 0  # changes of the serving site
    solo_entries: int = 0  # entries into SOLO (a site going solo again at the next epoch counts too)
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


class Runner(World):
    """Run one scenario: ``Runner(scenario, seed).run()``; read ``metrics``, ``timeline``, ``samples``,
    ``violations`` (S1-S3 and L1 of ``quorum.testing``)."""

    def __init__(
        self, sc: S.Scenario, seed: int = 0, *, keep_samples: bool = True, lanes: bool = True
    ) -> None:
        self.sc = sc
        self.env = SimPyScheduler()  # SimPy's Environment, with the world's scheduler interface
        self.as_checker = sc.world == "checker"  # the world of `quorum check`: its parameters
        super().__init__(
            sc.quorum,
            self.env,
            seed=seed,
            links=MESH
            if self.as_checker
            else [(lk.name, *lk.between, lk.paths, lk.latency, lk.bandwidth) for lk in sc.topology.links],
            transit=() if self.as_checker else sc.transit,
            jitter=1.0 if self.as_checker else 0.2,
            resync_time=2.0 if self.as_checker else None,
            stop_on_safety=False,
        )
        self.steps = S.scenario_steps(sc)
        for step in self.steps:
            self.last_fault_at = max(self.last_fault_at, step_end(step))
        self.keep_samples = keep_samples
        self.keep_lanes = lanes  # False: samples hold the time, serving, up and stale lanes only (years)
        self.write_rate = sum(v.write_rate for v in sc.volumes)
        self.users = sum(s.users for s in sc.topology.sites.values())
        self.samples: list[Sample] = []
        self.metrics = Metrics()
        self.checks: list[tuple[S.ServingAt, tuple[str, ...]]] = []
        self.outage_run = 0.0
        self.disconnected = False
        self.redundant_at_end = False
        self._split_seen = 0
        self._interned: dict[tuple[Any, ...], tuple[Any, ...]] = {}  # one object per distinct lane state
        self.on_tick: Callable[[], None] | None = None  # called after every workload tick (years mode)
        if not self.as_checker:  # (the checker arms its timers after its faults and writes)
            for n in NODES:
                self._arm(n)

    @property
    def timeline(self) -> list[Event]:
        return self.trace

    @property
    def violations(self) -> list[Violation]:
        """S1-S3 and L1 of ``quorum.testing`` over this run (S1 from solo-authority intervals)."""
        return self.checker.violations

    def safety_violations(self) -> list[Violation]:
        return [v for v in self.checker.violations if v.property in SAFETY]

    def _tick(self) -> None:
        # (the hottest code of a run after the core: written for speed, with locals and no generators)
        dt = self.sc.write_interval
        serving = self.serving()
        if self.as_checker:  # the sites write on their own schedule (``World.writes``)
            acked_by = list(serving)
        else:
            size = self.write_rate * dt
            acked_by = [s for s, auth in serving.items() if self.write(s, auth, size)]
        m = self.metrics
        m.duration_s += dt
        if not acked_by:
            m.downtime_s += dt
            m.user_outage_s += dt * self.users
            self.outage_run += dt
            if self.outage_run >= self.sc.session_timeout and not self.disconnected:
                m.disconnections += self.users  # sessions time out: users must reconnect
                self.disconnected = True
        else:
            self.outage_run = 0.0
            self.disconnected = False
        up = self.up
        up_a, up_b = up["A"], up["B"]
        a, b = self.sites[Site.A], self.sites[Site.B]
        stale_a, stale_b = self.copies[Site.A].missing > 0, self.copies[Site.B].missing > 0
        if stale_a or stale_b or not (up_a and up_b):
            m.one_copy_s += dt
        if (up_a and not a.witness_up) or (up_b and not b.witness_up):
            m.witness_alarm_s += dt
        if self.keep_samples and not self.keep_lanes:
            n = len(acked_by)
            i = self._intern
            self.samples.append(
                Sample(
                    self.env.now,
                    () if n == 0 else ("A", "B") if n == 2 else i((acked_by[0].value,)),
                    i((("A",) if up_a else ()) + (("B",) if up_b else ()) + (("W",) if up["W"] else ())),
                    (),
                    i((("A",) if stale_a else ()) + (("B",) if stale_b else ())),
                )
            )
        elif self.keep_samples:
            ck = self.checker
            split = len(ck.overlaps) > self._split_seen or ck._overlap is not None
            self._split_seen = len(ck.overlaps)
            i = self._intern
            links, degraded = self.lanes()
            n = len(acked_by)
            self.samples.append(
                Sample(
                    self.env.now,
                    () if n == 0 else ("A", "B") if n == 2 else i((acked_by[0].value,)),
                    i((("A",) if up_a else ()) + (("B",) if up_b else ()) + (("W",) if up["W"] else ())),
                    links,
                    i((("A",) if stale_a else ()) + (("B",) if stale_b else ())),
                    split,
                    i((a.role.value if up_a else "down", b.role.value if up_b else "down")),
                    degraded,
                    i((a.epoch, b.epoch)),
                )
            )
        if self.on_tick is not None:
            self.on_tick()

    def _intern(self, t: tuple[Any, ...]) -> tuple[Any, ...]:
        """The same tuple object for equal lane states: a long run at a fine tick keeps one per state."""
        return self._interned.setdefault(t, t)

    def _check(self, want: S.ServingAt) -> None:
        self.checks.append((want, tuple(sorted(s.value for s in self.serving()))))

    def _ticker(self) -> None:
        """The workload tick, every ``write_interval``: a chain of ``at`` events (the next one scheduled
        after the tick, as a SimPy process's next timeout would be, without a process's resumption)."""
        self._tick()
        self.at(self.env.now + self.sc.write_interval, self._ticker)

    def accruing(self) -> frozenset[str]:
        """The sites whose copy misses every write acknowledged now: its peer serves alone and no resync
        to it runs (the copy falls further behind with every second of this state)."""
        out = set()
        for s, auth in self.serving().items():
            if auth.mirrored:
                continue
            rs = self.resyncs.get(s.peer)
            reach = self.up[s.peer.value] and self.path(s.value, s.peer.value)
            if not (rs is not None and rs.src is s and reach and self.copies[s.peer].fence <= auth.epoch):
                out.add(s.peer.value)
        return frozenset(out)

    def steady(self) -> bool:
        """Everything is up and healthy and the pair is mirrored at the witness's epoch, with nothing
        pending: without a new fault nothing can change any more (only heartbeats flow)."""
        if not all(self.up.values()) or any(self.env.now < t for t in self.paused_until.values()):
            return False
        if self.resyncs or any(c.missing > 0 for c in self.copies.values()):
            return False
        if not all(lk.pristine() for lk in self.links.values()):
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

    def quiet_key(self) -> tuple[Any, ...] | None:
        """The world's discrete state, for telling when a stretch of a run has gone quiet; ``None`` while
        something runs on a clock this key cannot see.

        The key holds every field of the three machines except the times and counters that move while
        nothing happens (heartbeat and request sequence numbers, receive times, lease ends, the next
        heartbeat; the last heartbeat, request and reply each machine keeps are in it without their
        sequence numbers and times), which nodes are up, every link path and direction, each copy's fence
        and whether it misses writes (not how many), and the witness's durable state. A change of any
        other field is a change of the key. ``None``: a resync is running, a process is paused, a site
        is unhealthy or vetoed for a while, maintenance mode is on, a link is degraded (losses land at
        random times), a clock drifts, or an operator action waits at the witness: each of those ends
        at a time the key does not show. (Flapping links are not seen: years mode never flaps.)

        Used by years mode (:mod:`sim.years.engine`): a window in which the key has not changed for the
        longest core timer plus five heartbeats is over (every timer armed at or before the last change
        has fired, and firing it changed nothing)."""
        now = self.env.now
        w = self.witness
        if self.resyncs or self.maintenance_until is not None or w.pending is not None:
            return None
        for until in (self.paused_until, self.unhealthy_until, self.veto_until):
            for t in until.values():
                if now < t:
                    return None
        for clock in self.clocks.values():
            if clock.rate != 1.0:
                return None
        key: list[Any] = [tuple(self.up.values())]
        for lk in self.links.values():
            key.append(tuple(lk.paths))
            for d in lk.dirs.values():
                if d.delay or d.loss or d.reorder or d.duplicate:
                    return None
                key.append(d.cut)
        for c in self.copies.values():
            key.append((c.fence, c.missing > 0, bool(c.lacks)))
        for m in self.sites.values():
            key.append(_getter(m, _SITE_CLOCKED)(m))
            key.append(m.lease_end is None)
            key.append(_unclocked(m.peer_state))
            key.append(_unclocked(m.witness_view))
        key.append(_getter(w, _WITNESS_CLOCKED)(w))
        key.append(w.lease_expiry is None)
        key.append(w.solo_since is None)
        key.append(tuple(w.first_request))
        key.append(tuple(w.last_seen))
        for s, r in w.last_request.items():
            key.append(s)
            key.append(_unclocked(r))
        key.append(tuple(w.alarmed.items()))
        key.append(tuple(w.refused.items()))
        return tuple(key)

    def run(self, stop: simpy.Event | None = None) -> Runner:
        """Run to the scenario's duration, or until ``stop`` (an event of ``self.env``) is triggered:
        years mode (:mod:`sim.years.engine`) ends an episode's run once it is over, ``metrics`` then
        cover less time. L1 is checked at the last fault's end plus the liveness bound, if the run gets
        there."""
        for step in self.steps:
            self.at(step.at, self.apply, step)
        if self.as_checker:  # in the order the checker's driver schedules them
            for i, s in enumerate(SITES):
                self.at(self.sc.write_interval * (0.25 + 0.5 * i), self.writes, s, self.sc.write_interval)
            for n in NODES:
                self._arm(n)
        for w in self.sc.expect.serving:
            self.at(w.at, self._check, w)
        check_at = self.last_fault_at + self.cfg.liveness_bound()
        if self.steps and check_at <= self.sc.duration:
            self.checker.liveness_check_at = check_at
            self.at(check_at, self.checker.check_liveness)
        self.at(self.env.now + self.sc.write_interval, self._ticker)
        if stop is None:
            self.env.run(until=self.sc.duration + 1e-9)
        else:
            self.env.run(until=self.env.timeout(self.sc.duration + 1e-9) | stop)
        self.checker.finish(self.env.now)
        m = self.metrics
        m.failovers, m.role_changes = self.failovers, self.role_changes
        m.solo_entries = self.solo_entries
        m.data_lost_bytes, m.stale_writes_rejected = self.data_lost_bytes, self.stale_writes_rejected
        m.resync_s, m.resyncs, m.written_bytes = self.resync_s, self.resyncs_done, self.written_bytes
        m.split_brain_s = round(self.checker.split_brain_s(0.0, self.env.now), 6)
        self.redundant_at_end = (
            all(self.up[s.value] for s in SITES)
            and all(c.missing == 0 for c in self.copies.values())
            and all(self.sites[s].role is Role.MIRRORED for s in SITES)
        )
        return self

    def at(self, t: float, fn: Callable[..., None], *args: Any) -> None:
        self.sched.at(t, fn, *args)


def run_scenario(sc: S.Scenario, seed: int = 0) -> Runner:
    return Runner(sc, seed).run()
