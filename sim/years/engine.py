"""Years mode: random failures over a long horizon, with message-level fault episodes.

Theory. Components (the sites, the witness, every path of every link) fail and are repaired by
their laws. A SimPy process per component draws its times from its own stream (seeded by the run's seed
and the component's name); repairs wait for one of ``crews`` shared crews (SimPy ``Resource``) and start
only once monitoring has noticed the failure (uniform within one ``monitoring_interval``); a failure of a
member of a ``common_cause`` list takes the whole group down, a beta-factor group adds a shock process
(:mod:`sim.years.commoncause`). Between failures nothing happens: no
heartbeat event is spent while every component is up.

A *fault episode* runs from the first failure to the moment everything is up again. It is replayed
through the message-level :class:`sim.story.runner.Runner` (the core decides), with every interval of the
episode compressed to a *window* of at most :func:`window_length` seconds: the liveness bound, plus the
longest timer the configuration arms (``last_man_window`` for last-man-standing, the lease, the
pre-promote retry), plus five heartbeats. After the window no core timer started in it is still pending,
so the state at the window's end is the state of the rest of the real interval (its *steady tail*).

Every figure is in real time: the compressed timeline is mapped back by stretching each interval's steady
tail to its real length. Seconds figures (downtime, split-brain, one-copy time) add the tail in the
window-end state; outages are real (start, end) spans, so their durations and the calendar months they
fall in are real. Bytes are stretched too: a copy that misses writes at a window's end (its peer serves
alone) misses ``write_rate`` bytes for every second of the tail, so the data lost at a forced promotion
and the length of a resync are the bytes a story-mode run of the same real episode gives. An episode
still open at the horizon is counted up to the horizon.

The window after the last repair is simulated too (a restarted site rejoining, a frozen pair resuming is
downtime); it ends early once the runner is ``steady()``. Episode outcomes depend only on the scenario
and the episode's (down set, compressed length) sequence, never on the seed, so they are kept in a cache
shared by every run in the process (replications of one worker reuse each other's episodes) and the
result of a run does not depend on which runs came before it.

What is not exact: a resync that the stretched bytes make longer than the sim's runs only in the tail's
arithmetic (a fault arriving during that extra resync time is decided as if the copy were current).
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import math
import random
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import lru_cache, partial
from typing import Any

import numpy as np
import simpy

from quorum.core.config import Policy, QuorumConfig
from sim.story import scenario as S
from sim.story.runner import Runner
from sim.years.backups import account, distribution
from sim.years.calendar import MAINT, transition, window_process
from sim.years.laws import down_phase, draw, draw_residual, up_probability
from sim.years.structure import failing_components, rule

YEAR = 365.25 * 86400.0
STARTS = ("steady", "new")  # a replication starts in the stationary regime, or with brand-new components
MAX_EVENTS = 5_000_000  # expected failures + windows of one years run (minutes at ~20k a second)


MAX_YEARS = 7000.0  # the calendar (months, maintenance windows) starts in 2027; datetime ends in 9999


def check_budget(sc: S.Scenario, years: float, events: float) -> None:
    """Refuse a run that would not end: the ratio of the horizon to the laws, not only their signs."""
    from quorum.inputs import InputError

    if not 0 < years <= MAX_YEARS:
        raise InputError(f"{sc.name}: {years:g} years: a years run covers at most {MAX_YEARS:,.0f} years")
    if events > MAX_EVENTS:
        raise InputError(
            f"{sc.name}: {years:g} years of these failure laws and windows is about {events:.3g} failures"
            f" and windows, more than {MAX_EVENTS:,}: shorten the run or lengthen the laws' means"
        )


CALENDAR_START = datetime(2027, 1, 1, tzinfo=UTC)  # month boundaries of every run (a Friday)

Key = tuple[tuple[frozenset[str], float], ...]


def window_length(cfg: QuorumConfig) -> float:
    """Seconds of each compressed interval: liveness bound + the longest core timer + five heartbeats."""
    longest = max(
        cfg.lease_duration,
        cfg.regrant_wait,
        cfg.detection_timeout,
        cfg.arbitration_window,
        cfg.last_man_window if cfg.policy is Policy.LAST_MAN_STANDING else 0.0,
        cfg.pre_promote_retry if cfg.pre_promote_check else 0.0,
    )
    return cfg.liveness_bound() + longest + 5 * cfg.heartbeat_interval


@lru_cache(maxsize=64)
def month_bounds(horizon_s: float, start: datetime = CALENDAR_START) -> tuple[float, ...]:
    """Seconds since ``start`` of every calendar-month boundary in ``[0, horizon_s]`` (both ends included)."""
    out = [0.0]
    y, m = start.year, start.month
    while out[-1] < horizon_s:
        m += 1
        if m > 12:
            y, m = y + 1, 1
        out.append(min(horizon_s, (datetime(y, m, 1, tzinfo=UTC) - start).total_seconds()))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the core made of one compressed interval (offsets in seconds from the window's start)."""

    down_runs: tuple[tuple[float, float], ...]  # spans with no site acknowledging writes
    serving_at_end: bool
    split_in_window: float
    split_at_end: bool
    one_copy_in_window: float
    one_copy_at_end: bool
    failovers: int  # changes of the serving site
    accruing_at_end: frozenset[str]  # copies that miss every write of the steady tail
    copy_events: tuple[tuple[str, str, float], ...]  # (kind, site, bytes in the compressed run)
    violations: tuple[str, ...] = ()  # properties of quorum.testing the episode broke (first window only)
    solo_entries: int = 0  # entries into SOLO (a site going solo again at the next epoch too)


@dataclass
class YearsResult:
    """One replication's totals, in real seconds and bytes."""

    scenario: str
    seed: str
    years: float
    horizon_s: float = 0.0
    downtime_s: float = 0.0
    structural_downtime_s: float = 0.0  # what the structural rule alone gives on the same history
    structural_outages: int = 0  # times the structural rule went from serving to not (overlaps that carry U)
    downtime_by_cause_s: dict[str, float] = field(default_factory=dict)  # adds up to downtime_s (CAUSES)
    split_brain_bytes: float = 0.0  # bytes written while both sides accepted writes: to be reconciled
    split_brain_s: float = 0.0
    failovers: int = 0  # changes of the serving site
    solo_entries: int = 0  # entries into SOLO
    data_lost_bytes: float = 0.0
    one_copy_s: float = 0.0
    resync_s: float = 0.0
    disconnections: int = 0
    failures: int = 0
    episodes: int = 0
    episodes_distinct: int = 0
    open_at_horizon: bool = False
    outage_starts_s: list[float] = field(default_factory=list)
    outage_durations_s: list[float] = field(default_factory=list)
    month_downtime_s: list[float] = field(default_factory=list)
    month_length_s: list[float] = field(default_factory=list)
    maintenance_windows: int = 0  # planned windows performed (sim.years.calendar)
    maintenance_skipped: int = 0  # windows skipped: something was down when they opened
    maintenance_downtime_s: float = 0.0  # downtime of the episodes that contained a window
    maintenance_episode_s: list[float] = field(default_factory=list)  # downtime of each such episode
    corruptions: int = 0  # logical corruptions detected (sim.years.backups)
    corruptions_unrecoverable: int = 0  # detected after every retention: everything lost
    corruption_downtime_s: float = 0.0  # restore time not already inside another outage
    corruption_data_lost_bytes: float = 0.0
    rpo_s: list[float] = field(default_factory=list)  # per recoverable corruption: seconds of writes lost
    restore_s: list[float] = field(default_factory=list)  # per corruption: restore seconds
    violation_episodes: int = 0  # episodes in which S1-S3 or L1 of quorum.testing broke
    violations_by_property: dict[str, int] = field(default_factory=dict)  # episodes per property
    violation_examples: list[str] = field(default_factory=list)  # the first few, with their time

    @property
    def availability(self) -> float:
        return 1.0 - self.downtime_s / self.horizon_s if self.horizon_s > 0 else 1.0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["availability"] = self.availability
        return d


# episode outcomes by (scenario fingerprint, episode key, open at horizon): shared by every run of a process
_CACHE: dict[tuple[str, Key, bool], list[Outcome]] = {}
_CACHE_LIMIT = 200_000


def _fingerprint(sc: S.Scenario, stop_when_steady: bool) -> str:
    body = sc.model_dump_json(exclude={"name", "description", "faults", "expect", "duration"})
    return hashlib.sha256(f"{stop_when_steady}:{body}".encode()).hexdigest()


_MEMO: dict[tuple[int, bool], tuple[S.Scenario, str, Any]] = {}


def _memo(sc: S.Scenario, stop_when_steady: bool) -> tuple[S.Scenario, str, Any]:
    """Per scenario object: its fingerprint and structural rule (replications of one scenario share them)."""
    k = (id(sc), stop_when_steady)
    got = _MEMO.get(k)
    if got is None or got[0] is not sc:
        if len(_MEMO) > 64:
            _MEMO.clear()
        got = _MEMO[k] = (sc, _fingerprint(sc, stop_when_steady), rule(sc))
    return got


def _fingerprint_of(sc: S.Scenario, stop_when_steady: bool) -> str:
    return str(_memo(sc, stop_when_steady)[1])


def _rule_of(sc: S.Scenario) -> Any:
    return _memo(sc, True)[2]


def _seed_label(seed: int | np.random.SeedSequence) -> str:
    if isinstance(seed, np.random.SeedSequence):
        return "ss" + "-".join(str(int(x)) for x in seed.generate_state(4))
    return str(int(seed))


CAUSES = (
    "infrastructure:<component>",
    "patch_windows",
    "corruption_restores",
    "detection_and_failover",
    "waiting_for_operator",
    "resync",
)


def _causes(
    intervals: list[tuple[frozenset[str], float]],
    settle: Callable[[frozenset[str], frozenset[str]], tuple[bool, frozenset[str]]],
    planned: bool,
    is_open: bool,
) -> list[tuple[str, str]]:
    """What each interval's downtime is due to: ``(cause in its compressed window, cause in its steady
    tail)``, one pair per interval (plus the recovery window unless the episode is open).

    The attribution rule. An episode that holds a planned window is ``patch_windows`` throughout. Where
    the structural rule (:mod:`sim.years.structure`) says no copy can serve, the seconds are
    ``infrastructure:<c>``, ``c`` the component whose failure stopped the structure (the first, by name,
    of those that went down when it stopped; kept while it stays stopped); where only a stale copy is up
    (the rule would serve if every copy were current) they are ``waiting_for_operator``. Where the
    structure could serve and the quorum does not, the seconds in the compressed window after a change
    are ``detection_and_failover`` and those of the steady tail ``waiting_for_operator`` (the core holds
    on until someone acts). Downtime in the recovery window after the last repair (a site rejoining, a
    frozen pair resuming, a copy resynchronising) is ``resync``. Logical corruption restores are counted
    by :mod:`sim.years.backups` as ``corruption_restores``.
    """
    out: list[tuple[str, str]] = []
    both = frozenset({"A", "B"})
    current = both
    prev: frozenset[str] = frozenset()
    stopped_by: str | None = None
    for ds, _real in intervals:
        if planned:
            out.append(("patch_windows", "patch_windows"))
            prev = ds
            continue
        serving, current = settle(ds, current)
        if serving:
            stopped_by = None
            out.append(("detection_and_failover", "waiting_for_operator"))
        elif settle(ds, both)[0]:
            stopped_by = None
            out.append(("waiting_for_operator", "waiting_for_operator"))
        else:
            if stopped_by is None:
                new = sorted(ds - prev) or sorted(ds)
                stopped_by = f"infrastructure:{new[0]}"
            out.append((stopped_by, stopped_by))
        prev = ds
    if not is_open:
        out.append(("patch_windows", "patch_windows") if planned else ("resync", "resync"))
    return out


class Years:
    """Run ``years`` of random failures for a scenario's topology: ``replication()`` gives a
    :class:`YearsResult`, ``run()`` the JSON-able dict of ``quorum sim run --years``."""

    def __init__(
        self,
        sc: S.Scenario,
        years: float,
        seed: int | np.random.SeedSequence = 0,
        *,
        stop_when_steady: bool = True,
        start: str = "steady",
    ) -> None:
        if start not in STARTS:
            raise ValueError(f"start must be one of {', '.join(STARTS)} (got {start!r})")
        self.sc = sc
        self.start = start
        self.stop_when_steady = stop_when_steady
        self.years = years
        self.seed = _seed_label(seed)
        self.env = simpy.Environment()
        self.crews = simpy.Resource(self.env, capacity=sc.crews)
        self.window = window_length(sc.quorum)
        self.laws = failing_components(sc)
        self.serves = _rule_of(sc)
        # common causes (sim.years.commoncause): list groups, beta-factor shocks and the members' scaled laws
        from sim.years.commoncause import plan

        cc = plan(sc, self.laws, self._expand)
        self.laws, self.groups, self.shocks = cc.laws, cc.groups, cc.shocks
        check_budget(sc, years, self.expected_events())
        self.down: frozenset[str] = frozenset()
        self.current = frozenset({"A", "B"})  # the structure's current copies
        self.struct_serving = True
        self.changed_at = 0.0
        self.episode: list[tuple[float, frozenset[str]]] = []
        self.r = YearsResult(sc.name, self.seed, years)
        self.outages: list[tuple[float, float]] = []
        self.keys: set[Key] = set()
        self.fingerprint = _fingerprint_of(sc, stop_when_steady)
        self.bandwidth = max(
            (lk.bandwidth * lk.paths for lk in sc.topology.links if set(lk.between) == {"A", "B"}),
            default=1e9,
        )
        self.write_rate = sum(v.write_rate for v in sc.volumes)
        self.users = sum(s.users for s in sc.topology.sites.values())
        self.waiting: dict[str, simpy.Event] = {}
        self.repair_rng: dict[str, random.Random] = {}

    def expected_events(self) -> float:
        """Failures, shocks and maintenance windows the run is expected to draw over its horizon."""
        horizon = self.years * YEAR
        n = sum(horizon / (fail.mean + repair.mean) for fail, repair in self.laws.values())
        n += sum(horizon / law.mean for _, law, _ in self.shocks)
        n += sum(horizon / S.PERIOD_S[w.every] for w in self.sc.maintenance)
        return n

    def _expand(self, name: str) -> list[str]:
        if name in self.laws or name in ("A", "B", "W"):
            return [name]
        for lk in self.sc.topology.links:
            if lk.name == name:
                return [f"{lk.name}#{i}" for i in range(lk.paths)]
        return []

    # ---- component processes --------------------------------------------------------------------
    def _life(self, comp: str, first: float | None = None, down_at_start: bool = False) -> Any:
        """``first``: the residual up time at t=0 (stationary start); ``down_at_start``: the component is
        in repair at t=0 and its life resumes when the repair ends."""
        fail, _ = self.laws[comp]
        rng = random.Random(f"{self.seed}:{comp}:fail")
        if down_at_start:
            ev = self.env.event()
            self.waiting[comp] = ev
            yield ev
        while True:
            yield self.env.timeout(draw(fail, rng) if first is None else first)
            first = None
            if comp in self.down:
                continue  # already down by a common cause; its repair is under way
            self.r.failures += 1
            hit = {comp} | self.groups.get(comp, set())
            newly = hit - self.down
            self._change(self.down | newly)
            for c in sorted(newly):
                self.env.process(self._repair(c))
            if comp in self.down:
                ev = self.env.event()
                self.waiting[comp] = ev
                yield ev  # one event: woken by the repair, no polling

    def _shock(self, name: str, law: S.Law, members: frozenset[str]) -> Any:
        """A beta-factor common cause: takes down every member still up (sim.years.commoncause)."""
        rng = random.Random(f"{self.seed}:{name}:fail")
        while True:
            yield self.env.timeout(draw(law, rng))
            newly = members - self.down
            if not newly:
                continue
            self.r.failures += 1
            self._change(self.down | newly)
            for c in sorted(newly):
                self.env.process(self._repair(c))

    def _repair(self, comp: str, remaining: float | None = None) -> Any:
        """Notice (a probe), wait for a crew, repair. ``remaining``: a repair under way at t=0 (stationary
        start) that ends after ``remaining`` seconds with a crew held."""
        law = self.laws.get(comp, (None, None))[1]
        rng = self.repair_rng.get(comp)
        if rng is None:
            rng = self.repair_rng[comp] = random.Random(f"{self.seed}:{comp}:repair")
        if remaining is None:
            yield self.env.timeout(rng.uniform(0.0, self.sc.monitoring_interval))  # noticed by a probe
        with self.crews.request() as req:
            yield req
            if remaining is not None:
                yield self.env.timeout(remaining)
            else:
                yield self.env.timeout(draw(law, rng) if law is not None else self.sc.monitoring_interval)
        self._change(self.down - {comp})
        ev = self.waiting.pop(comp, None)
        if ev is not None:
            ev.succeed()

    def _change(self, new: frozenset[str]) -> None:
        if new == self.down:
            return
        now = self.env.now
        if not self.struct_serving:
            self.r.structural_downtime_s += now - self.changed_at
        self.changed_at = now
        self.down = new
        was = self.struct_serving
        self.struct_serving, self.current = self.serves(new, self.current)
        if was and not self.struct_serving:
            self.r.structural_outages += 1
        self.episode.append((now, new))
        if not new:
            self._close_episode(None)

    # ---- episodes ---------------------------------------------------------------------------------
    def replay(
        self, intervals: list[tuple[frozenset[str], float]], *, open_at_end: bool = False
    ) -> YearsResult:
        """Add one episode given by its real intervals (down set, seconds), starting at the current
        total horizon; ``open_at_end``: the last interval runs to the horizon (no recovery window)."""
        t0 = self.r.horizon_s
        ep = []
        t = t0
        for ds, real in intervals:
            ep.append((t, ds))
            t += real
        self.episode = ep
        self._close_episode(t if open_at_end else None, end=t)
        return self._finish(t + (0.0 if open_at_end else self.window))

    def _close_episode(self, horizon: float | None, end: float | None = None) -> None:
        """Account the episode in ``self.episode``. ``horizon``: the run ends at that time with the
        episode still open (its last interval lasts up to the horizon, no recovery window)."""
        ep = self.episode
        self.episode = []
        self.r.episodes += 1
        last = horizon if horizon is not None else (end if end is not None else self.env.now)
        bounds = [t for t, _ in ep[1:]] + [last]
        intervals = [(ds, t1 - t0) for (t0, ds), t1 in zip(ep, bounds, strict=True)]
        if horizon is None:
            intervals = [iv for iv in intervals if iv[0]]  # the closing (all up) entry has length 0
        key: Key = tuple((ds, min(real, self.window)) for ds, real in intervals)
        is_open = horizon is not None
        ck = (self.fingerprint, key, is_open)
        outs = _CACHE.get(ck)
        if outs is None:
            outs = self._simulate(key, recovery=not is_open)
            if len(_CACHE) > _CACHE_LIMIT:
                _CACHE.clear()
            _CACHE[ck] = outs
        self.keys.add(key)
        r = self.r
        if outs[0].violations:
            r.violation_episodes += 1
            for p in sorted({v.split(":")[0] for v in outs[0].violations}):
                r.violations_by_property[p] = r.violations_by_property.get(p, 0) + 1
            if len(r.violation_examples) < 5:
                r.violation_examples.append(f"episode at {ep[0][0]:.0f} s: {outs[0].violations[0]}")
        behind = {"A": 0.0, "B": 0.0}  # bytes each copy misses beyond what the compressed run saw
        runs: list[tuple[float, float, str]] = []
        t = ep[0][0]
        spans = [(real, comp) for (_ds, real), (_, comp) in zip(intervals, key, strict=True)]
        if not is_open:
            spans.append((0.0, 0.0))  # the recovery window: real time, nothing to stretch
        planned = any(c.endswith(MAINT) for ds, _ in intervals for c in ds)
        causes = _causes(intervals, self.serves, planned, is_open)
        for (real, comp), o, (in_window, in_tail) in zip(spans, outs, causes, strict=True):
            rest = max(0.0, real - comp)
            # an episode under way at t=0 (stationary start) counts only what falls after t=0: a window
            # that ended before it not at all, a steady tail from t=0 on
            counted = t + comp > 0.0
            tail = min(rest, max(0.0, t + real))
            runs.extend((t + x, t + y, in_window) for x, y in o.down_runs)
            if not o.serving_at_end and rest > 0:
                runs.append((t + comp, t + real, in_tail))
            if counted:
                r.split_brain_s += o.split_in_window
                r.one_copy_s += o.one_copy_in_window
                r.failovers += o.failovers
                r.solo_entries += o.solo_entries
            r.split_brain_s += tail if o.split_at_end else 0.0
            r.split_brain_bytes += self.write_rate * (
                (o.split_in_window if counted else 0.0) + (tail if o.split_at_end else 0.0)
            )
            r.one_copy_s += tail if o.one_copy_at_end else 0.0
            for kind, site, nbytes in o.copy_events:
                peer = "B" if site == "A" else "A"
                if kind == "lost":
                    r.data_lost_bytes += (nbytes + behind[site]) if counted else 0.0
                    behind[peer] = max(behind[peer], behind[site])
                    behind[site] = 0.0
                elif kind == "resync":
                    real_s = (nbytes + behind[site]) / self.bandwidth + 0.1
                    if counted:
                        r.resync_s += real_s
                        r.one_copy_s += behind[site] / self.bandwidth
                    behind[site] = 0.0
            for s in o.accruing_at_end:
                behind[s] += self.write_rate * rest
            t += real
        runs = [(max(a, 0.0), b, why) for a, b, why in runs if b > 0.0]
        merged: list[tuple[float, float]] = []
        reach = -math.inf  # the part of each run no earlier run covers goes to its cause
        for a, b, why in sorted(runs):
            own = max(0.0, b - max(a, reach))
            if own > 0:
                r.downtime_by_cause_s[why] = r.downtime_by_cause_s.get(why, 0.0) + own
            reach = max(reach, b)
            if merged and a <= merged[-1][1] + 1e-6:
                merged[-1] = (merged[-1][0], max(merged[-1][1], b))
            else:
                merged.append((a, b))
        if planned:  # an episode with a planned window
            r.maintenance_downtime_s += sum(b - a for a, b in merged)
            r.maintenance_episode_s.append(sum(b - a for a, b in merged))
        for a, b in merged:
            r.downtime_s += b - a
            if b - a >= self.sc.session_timeout:
                r.disconnections += self.users
        self.outages.extend(merged)

    def _simulate(self, key: Key, *, recovery: bool) -> list[Outcome]:
        faults: list[Any] = []
        prev: frozenset[str] = frozenset()
        at = 1.0
        bounds: list[tuple[float, float]] = []
        for ds, length in key:
            faults.extend(transition(prev, ds, at, self._fault))  # maintenance windows: sim.years.calendar
            bounds.append((at, at + length))
            at += length
            prev = ds
        end = at
        if recovery:
            faults.extend(transition(prev, frozenset(), at, self._fault))
            end = at + self.window
            bounds.append((at, end))  # the recovery window after the last repair
        sub = self.sc.model_copy(update={"faults": tuple(faults), "duration": end, "expect": S.Expect()})
        runner = Runner(sub, 0)  # outcomes are a function of the episode alone: shared across seeds
        snaps: dict[int, tuple[frozenset[str], bool]] = {}

        def snap(i: int) -> None:
            one_copy = any(c.missing > 0 for c in runner.copies.values()) or not (
                runner.up["A"] and runner.up["B"]
            )
            snaps[i] = (runner.accruing(), one_copy)

        for i, (_a, b) in enumerate(bounds):
            runner.at(b - 1e-7, partial(snap, i))
        r = runner.run(stop_when_steady_after=at if (recovery and self.stop_when_steady) else None)
        dt = sub.write_interval
        outs = []
        broke = tuple(
            f"{v.property}: {v.detail}" for v in r.violations if v.property in ("S1", "S2", "S3", "L1")
        )
        samples = r.samples
        j = 0  # first sample after the current window's start
        before = None  # the last sample at or before the window's start: its state until the next one
        for i, (a, b) in enumerate(bounds):
            b_eff = min(b, r.env.now)
            while j < len(samples) and samples[j].t <= a:
                before = samples[j]
                j += 1
            pieces: list[tuple[float, float, Any]] = []  # (from, to, sample whose state holds there)
            prev_t = a
            while j < len(samples) and samples[j].t <= b + 1e-9:
                s = samples[j]
                lo = max(prev_t, s.t - dt)
                if lo > prev_t and before is not None:
                    pieces.append((prev_t, lo, before))
                pieces.append((lo, s.t, s))
                prev_t = s.t
                before = s
                j += 1
            if before is not None and b_eff > prev_t:  # up to the window's end: the last state holds
                pieces.append((prev_t, b_eff, before))
            down: list[tuple[float, float]] = []
            split = one = 0.0
            for lo, hi, s in pieces:
                if hi <= lo:
                    continue
                if not s.serving:
                    if down and lo - a <= down[-1][1] + 1e-9:
                        down[-1] = (down[-1][0], hi - a)
                    else:
                        down.append((lo - a, hi - a))
                if s.stale or not {"A", "B"} <= set(s.up):
                    one += hi - lo
            serving_end = before is not None and bool(before.serving)
            # split-brain from the solo-authority intervals of quorum.testing's S1 checker, not samples
            split = r.checker.split_brain_s(a, b_eff)
            split_end = r.checker.overlapping_at(b_eff)
            accruing, one_copy_end = snaps.get(i, (frozenset(), False))
            fo = sum(1 for t in r.failover_times if a <= t < b)  # changes of the serving site
            solo = sum(1 for t in r.solo_entry_times if a <= t < b)
            evs = tuple(
                (kind, site, nbytes)
                for t, site, kind, nbytes in r.copy_events
                if a <= t < b or (i == len(bounds) - 1 and t >= b)
            )
            outs.append(
                Outcome(
                    down_runs=tuple(down),
                    serving_at_end=serving_end,
                    split_in_window=split,
                    split_at_end=split_end,
                    one_copy_in_window=one,
                    one_copy_at_end=one_copy_end,
                    failovers=fo,
                    accruing_at_end=accruing,
                    copy_events=evs,
                    violations=broke if i == 0 else (),
                    solo_entries=solo,
                )
            )
        return outs

    def _fault(self, comp: str, at: float, down: bool) -> Any:
        if "#" in comp:
            link, _, path = comp.partition("#")
            if down:
                return S.Cut(at=at, do="cut", link=link, path=int(path))
            return S.Heal(at=at, do="heal", link=link, path=int(path))
        if down:
            return S.Crash(at=at, do="crash", node=comp)
        return S.Restore(at=at, do="restore", node=comp)

    # ---- runs -------------------------------------------------------------------------------------------
    def replication(self, progress: Callable[[float], None] | None = None) -> YearsResult:
        """One replication; ``progress(fraction)`` is called after each hundredth of the horizon if given."""
        horizon = self.years * YEAR
        initial = self._initial_states()
        if initial:
            self._start_down(initial)
        for comp in sorted(self.laws):
            state = initial.get(comp)
            if state is None:
                self.env.process(self._life(comp))
            elif state[0] == "up":
                self.env.process(self._life(comp, first=state[1]))
            else:
                self.env.process(self._life(comp, down_at_start=True))
                self.env.process(self._repair(comp, remaining=state[1]))
        for w in self.sc.maintenance:  # planned windows (sim.years.calendar)
            self.env.process(window_process(self, w, horizon, CALENDAR_START))
        for name, law, members in self.shocks:
            self.env.process(self._shock(name, law, members))
        if progress is None:
            self.env.run(until=horizon)
        else:
            for i in range(1, 101):
                self.env.run(until=horizon * i / 100)
                progress(i / 100)
        if not self.struct_serving:
            self.r.structural_downtime_s += horizon - self.changed_at
        if self.episode:  # an episode still open at the horizon counts up to the horizon
            self.r.open_at_horizon = True
            self._close_episode(horizon)
        account(self, horizon, CALENDAR_START)  # logical corruptions and restores (sim.years.backups)
        return self._finish(horizon)

    def _initial_states(self) -> dict[str, tuple[str, float, float]]:
        """Stationary start: each failing component's ``(state, residual, age)`` at t=0, drawn
        independently from its own stream: up with probability ``MTTF / (MTTF + MDT)`` with the
        equilibrium residual of its failure law, else down with the residual and age of a down phase
        (:func:`sim.years.laws.down_phase`). Empty for ``start="new"`` (every component new at t=0).

        Exact for independent components (a crew each, no common cause): their joint stationary law is
        the product of these marginals. With shared crews or common-cause groups the start is the
        independent approximation; the process then relaxes towards its own stationary law, with an
        error of the order of the unavailability of a component times the share of the horizon that
        relaxation takes (one repair time)."""
        if self.start == "new":
            return {}
        out: dict[str, tuple[str, float, float]] = {}
        for comp in sorted(self.laws):
            fail, repair = self.laws[comp]
            rng = random.Random(f"{self.seed}:{comp}:start")
            if rng.random() < up_probability(fail, repair, self.sc.monitoring_interval):
                out[comp] = ("up", draw_residual(fail, rng), 0.0)
            else:
                age, residual = down_phase(repair, self.sc.monitoring_interval, rng)
                out[comp] = ("down", residual, age)
        return out

    def _start_down(self, initial: dict[str, tuple[str, float, float]]) -> None:
        """Components down at t=0 failed ``age`` seconds before it: their episode starts then (the quorum
        has reacted to those failures before t=0) and only what falls after t=0 is counted."""
        downs = sorted((-age, comp) for comp, (state, _r, age) in initial.items() if state == "down")
        if not downs:
            return
        ds: frozenset[str] = frozenset()
        for at, comp in downs:
            ds = ds | {comp}
            self.episode.append((at, ds))
            self.struct_serving, self.current = self.serves(ds, self.current)
        self.down = ds
        self.r.structural_outages += not self.struct_serving  # an outage under way at t=0
        self.changed_at = 0.0

    def _finish(self, horizon: float) -> YearsResult:
        r = self.r
        r.horizon_s = horizon
        r.episodes_distinct = len(self.keys)
        r.outage_starts_s = [a for a, _ in self.outages]
        r.outage_durations_s = [b - a for a, b in self.outages]
        bounds = month_bounds(horizon)
        down = [0.0] * (len(bounds) - 1)
        for a, b in self.outages:
            i = max(0, bisect.bisect_right(bounds, a) - 1)
            while i < len(down) and a < b:
                cut = min(b, bounds[i + 1])
                down[i] += max(0.0, cut - a)
                a = cut
                i += 1
        r.month_downtime_s = down
        r.month_length_s = [b - a for a, b in itertools.pairwise(bounds)]
        return r

    def run(self, progress: Callable[[float], None] | None = None) -> dict[str, Any]:
        r = self.replication(progress)
        return {
            "scenario": self.sc.name,
            "mode": "years",
            "years": self.years,
            "seed": r.seed,
            "availability": r.availability,
            "downtime_s": r.downtime_s,
            "structural_downtime_s": r.structural_downtime_s,
            "outages": len(r.outage_durations_s),
            "failovers": r.failovers,
            "solo_entries": r.solo_entries,
            "split_brain_s": r.split_brain_s,
            "split_brain_bytes": r.split_brain_bytes,
            "downtime_by_cause_s": dict(sorted(r.downtime_by_cause_s.items())),
            "data_lost_bytes": r.data_lost_bytes,
            "resync_s": r.resync_s,
            "one_copy_s": r.one_copy_s,
            "disconnections": r.disconnections,
            "failures": r.failures,
            "episodes": r.episodes,
            "episodes_simulated_message_level": r.episodes_distinct,
            "open_at_horizon": r.open_at_horizon,
            "maintenance_windows": r.maintenance_windows,
            "maintenance_skipped": r.maintenance_skipped,
            "maintenance_downtime_s": r.maintenance_downtime_s,
            "maintenance_episode_downtime_s": distribution(r.maintenance_episode_s),
            "corruptions": r.corruptions,
            "corruptions_unrecoverable": r.corruptions_unrecoverable,
            "corruption_downtime_s": r.corruption_downtime_s,
            "corruption_data_lost_bytes": r.corruption_data_lost_bytes,
            "rpo_s": distribution(r.rpo_s),
            "restore_s": distribution(r.restore_s),
            "property_violations": {
                "policy": self.sc.quorum.policy.value,
                "episodes": r.violation_episodes,
                "by_property": r.violations_by_property,
                "first": r.violation_examples,
            },
            "expect": [],
        }


def run_replication(
    sc: S.Scenario,
    years: float,
    seed: int | np.random.SeedSequence,
    *,
    stop_when_steady: bool = True,
    start: str = "steady",
) -> YearsResult:
    """One independent replication of ``years`` years (component streams derived from ``seed``);
    ``start``: ``"steady"`` (every component in its stationary regime at t=0) or ``"new"`` (brand-new
    components: the years after commissioning)."""
    return Years(sc, years, seed, stop_when_steady=stop_when_steady, start=start).replication()


def run_years(
    sc: S.Scenario,
    years: float,
    seed: int = 0,
    progress: Callable[[float], None] | None = None,
    *,
    start: str = "steady",
) -> dict[str, Any]:
    return Years(sc, years, seed, start=start).run(progress)
