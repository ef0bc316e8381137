"""Years mode: random failures over a long horizon, with message-level fault episodes.

Theory. Components (the sites, the witness, every path of every link) fail and are repaired by
their laws. A SimPy process per component draws its times from its own stream
``random.Random(f"{seed}:{component}")``; repairs wait for one of ``crews`` shared crews (SimPy
``Resource``) and start only once monitoring has noticed the failure (uniform within one
``monitoring_interval``); a failure of a member of a ``common_cause`` group takes the whole group down.
Between failures nothing happens: no heartbeat event is spent while every component is up.

A *fault episode* runs from the first failure to the moment everything is up again. It is replayed
through the message-level :class:`sim.runner.Runner` (the core decides), with every interval of the
episode compressed to at most ``settle`` seconds (the liveness bound plus a lease: after it the core
has reached its steady decision). The downtime of an interval is the downtime seen in its compressed
window plus, if nothing served at the window's end, the rest of the real interval. Episode outcomes
are memoised by their sequence of (down set, compressed length): only aggregates are kept. The window
of ``settle`` seconds after the last repair is simulated too: the time the pair takes to come back
(a restarted site rejoining, a frozen pair resuming) counts as downtime. That window ends early once
the runner is ``steady()`` (all up, mirrored at the witness's epoch, nothing pending): from there on
nothing can change without a new fault, so the rest of the window would only repeat heartbeats.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import simpy

from sim import scenario as S
from sim.runner import Runner

YEAR = 365.25 * 86400.0
MAX_FAILURES = 5_000_000  # expected failures of one years run (about five minutes at ~18k a second)


def expected_failures(sc: S.Scenario, years: float) -> float:
    """Failures a years run is expected to draw: per component, the horizon over one fail+repair cycle."""
    per_cycle = [(cl.fail.mean + cl.repair.mean, 1) for cl in sc.topology.components.values()]
    per_cycle += [
        (lk.fail.mean + lk.repair.mean, lk.paths)
        for lk in sc.topology.links
        if lk.fail is not None and lk.repair is not None
    ]
    return sum(n * years * YEAR / cycle for cycle, n in per_cycle)


def check_budget(sc: S.Scenario, years: float) -> None:
    """Refuse a run that would not end: the ratio of horizon to failure laws, not only their signs."""
    from quorum.inputs import InputError

    n = expected_failures(sc, years)
    if n > MAX_FAILURES:
        raise InputError(
            f"{sc.name}: {years:g} years of these failure laws is about {n:.3g} failures, more than"
            f" {MAX_FAILURES:,}: shorten the run or lengthen the laws' means"
        )


def draw(law: S.Law, rng: random.Random) -> float:
    """One duration (seconds) from ``law``; ``mean`` is the law's mean for every kind."""
    if law.kind == "fixed":
        return law.mean
    if law.kind == "exponential":
        return rng.expovariate(1.0 / law.mean)
    if law.kind == "weibull":
        k = law.shape
        scale = law.mean / math.gamma(1.0 + 1.0 / k)
        return rng.weibullvariate(scale, k)
    sigma = law.shape  # lognormal with the given mean
    mu = math.log(law.mean) - sigma * sigma / 2.0
    return rng.lognormvariate(mu, sigma)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the core made of one compressed interval."""

    down_in_window: float
    serving_at_end: bool
    split_in_window: float
    split_at_end: bool
    failovers: int
    data_lost: float
    stale_at_end: bool


@dataclass
class Totals:
    horizon_s: float = 0.0
    downtime_s: float = 0.0
    split_brain_s: float = 0.0
    failovers: int = 0
    data_lost_bytes: float = 0.0
    one_copy_s: float = 0.0
    resync_s: float = 0.0
    episodes: int = 0
    failures: int = 0
    disconnections: int = 0
    simulated_episodes: int = 0
    cache: dict[tuple[tuple[frozenset[str], float], ...], list[Outcome]] = field(default_factory=dict)


class Years:
    """Run ``years`` of random failures for a scenario's topology; ``run()`` returns a JSON-able dict."""

    def __init__(self, sc: S.Scenario, years: float, seed: int = 0, *, stop_when_steady: bool = True) -> None:
        check_budget(sc, years)
        self.sc = sc
        self.stop_when_steady = stop_when_steady
        self.years = years
        self.seed = seed
        self.env = simpy.Environment()
        self.crews = simpy.Resource(self.env, capacity=sc.crews)
        cfg = sc.quorum
        self.settle = cfg.liveness_bound() + cfg.lease_duration + 5 * cfg.heartbeat_interval
        self.laws: dict[str, tuple[S.Law, S.Law]] = {}
        for node, cl in sc.topology.components.items():
            self.laws[node] = (cl.fail, cl.repair)
        for lk in sc.topology.links:
            if lk.fail is not None and lk.repair is not None:
                for i in range(lk.paths):
                    self.laws[f"{lk.name}#{i}"] = (lk.fail, lk.repair)
        self.groups: dict[str, set[str]] = {}
        for grp in sc.common_cause:
            members = {m for name in grp for m in self._expand(name)}
            for m in members:
                self.groups.setdefault(m, set()).update(members)
        self.down: set[str] = set()
        self.episode: list[tuple[float, frozenset[str]]] = []
        self.t = Totals()
        self.bandwidth = max(
            (lk.bandwidth for lk in sc.topology.links if set(lk.between) == {"A", "B"}), default=1e9
        )
        self.write_rate = sum(v.write_rate for v in sc.volumes)
        self.waiting: dict[str, simpy.Event] = {}
        self.repair_rng: dict[str, random.Random] = {}

    def _expand(self, name: str) -> list[str]:
        if name in self.laws or name in ("A", "B", "W"):
            return [name]
        for lk in self.sc.topology.links:
            if lk.name == name:
                return [f"{lk.name}#{i}" for i in range(lk.paths)]
        return []

    # ---- component processes --------------------------------------------------------------------
    def _life(self, comp: str) -> Any:
        fail, _ = self.laws[comp]
        rng = random.Random(f"{self.seed}:{comp}:fail")
        while True:
            yield self.env.timeout(draw(fail, rng))
            if comp in self.down:
                continue  # already down by a common cause; its repair is under way
            self.t.failures += 1
            hit = {comp} | self.groups.get(comp, set())
            newly = hit - self.down
            self._change(self.down | newly)
            for c in newly:
                self.env.process(self._repair(c))
            if comp in self.down:
                ev = self.env.event()
                self.waiting[comp] = ev
                yield ev  # one event: woken by the repair, no polling

    def _repair(self, comp: str) -> Any:
        law = self.laws.get(comp, (None, None))[1]
        rng = self.repair_rng.get(comp)
        if rng is None:
            rng = self.repair_rng[comp] = random.Random(f"{self.seed}:{comp}:repair")
        yield self.env.timeout(rng.uniform(0.0, self.sc.monitoring_interval))  # noticed by a probe
        with self.crews.request() as req:
            yield req
            yield self.env.timeout(draw(law, rng) if law is not None else self.sc.monitoring_interval)
        self._change(self.down - {comp})
        ev = self.waiting.pop(comp, None)
        if ev is not None:
            ev.succeed()

    def _change(self, new: set[str]) -> None:
        if new == self.down:
            return
        self.down = set(new)
        self.episode.append((self.env.now, frozenset(new)))
        if not new:
            self._close_episode()

    # ---- episodes ---------------------------------------------------------------------------------
    def _close_episode(self) -> None:
        ep = self.episode
        self.episode = []
        self.t.episodes += 1
        intervals: list[tuple[frozenset[str], float]] = []
        for (t0, ds), (t1, _) in itertools.pairwise(ep):
            intervals.append((ds, t1 - t0))
        key = tuple((ds, min(real, self.settle)) for ds, real in intervals)
        outs = self.t.cache.get(key)
        if outs is None:
            outs = self._simulate(key)
            self.t.cache[key] = outs
            self.t.simulated_episodes += 1
        *outs, tail = outs
        was_down = False
        for (_ds, real), (_, comp), o in zip(intervals, key, outs, strict=True):
            rest = real - comp
            down = o.down_in_window + (0.0 if o.serving_at_end else rest)
            self.t.downtime_s += down
            self.t.split_brain_s += o.split_in_window + (rest if o.split_at_end else 0.0)
            self.t.failovers += o.failovers
            self.t.data_lost_bytes += o.data_lost
            if o.stale_at_end:
                self.t.one_copy_s += real
                self.t.resync_s += real * self.write_rate / self.bandwidth
            if down >= self.sc.session_timeout and not was_down:
                self.t.disconnections += sum(s.users for s in self.sc.topology.sites.values())
            was_down = down > 0 and not o.serving_at_end
        # after the last repair the pair still has to come back (a restarted site rejoins, a frozen pair
        # resumes): that recovery, seen in the window after the repair, is downtime too
        self.t.downtime_s += tail.down_in_window
        self.t.split_brain_s += tail.split_in_window
        self.t.failovers += tail.failovers

    def _simulate(self, key: tuple[tuple[frozenset[str], float], ...]) -> list[Outcome]:
        faults: list[Any] = []
        prev: frozenset[str] = frozenset()
        at = 1.0
        bounds: list[tuple[float, float]] = []
        for ds, length in key:
            for c in sorted(ds - prev):
                faults.append(self._fault(c, at, down=True))
            for c in sorted(prev - ds):
                faults.append(self._fault(c, at, down=False))
            bounds.append((at, at + length))
            at += length
            prev = ds
        for c in sorted(prev):
            faults.append(self._fault(c, at, down=False))
        bounds.append((at, at + self.settle))  # the recovery window after the last repair
        sub = self.sc.model_copy(
            update={"faults": tuple(faults), "duration": at + self.settle, "expect": S.Expect()}
        )
        r = Runner(sub, self.seed).run(stop_when_steady_after=at if self.stop_when_steady else None)
        dt = sub.write_interval
        outs = []
        roles = [e for e in r.timeline if e.kind == "role"]
        lost = r.metrics.data_lost_bytes
        for i, (a, b) in enumerate(bounds):
            win = [s for s in r.samples if a < s.t <= b + 1e-9]
            last = win[-1] if win else None
            fo = sum(1 for e in roles if a <= e.t < b and "-> solo" in e.text and "solo ->" not in e.text)
            outs.append(
                Outcome(
                    down_in_window=dt * sum(1 for s in win if not s.serving),
                    serving_at_end=last is not None and bool(last.serving),
                    split_in_window=dt * sum(1 for s in win if s.split),
                    split_at_end=last is not None and last.split,
                    failovers=fo,
                    data_lost=lost if i == len(bounds) - 2 else 0.0,
                    stale_at_end=last is not None and bool(last.stale),
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

    def run(self, progress: Callable[[float], None] | None = None) -> dict[str, Any]:
        """Run the horizon; ``progress(fraction)`` is called after each hundredth of it when given."""
        horizon = self.years * YEAR
        for comp in sorted(self.laws):
            self.env.process(self._life(comp))
        if progress is None:
            self.env.run(until=horizon)
        else:
            for i in range(1, 101):
                self.env.run(until=horizon * i / 100)
                progress(i / 100)
        t = self.t
        t.horizon_s = horizon
        return {
            "scenario": self.sc.name,
            "mode": "years",
            "years": self.years,
            "seed": self.seed,
            "availability": 1.0 - t.downtime_s / horizon,
            "downtime_s": t.downtime_s,
            "failovers": t.failovers,
            "split_brain_s": t.split_brain_s,
            "data_lost_bytes": t.data_lost_bytes,
            "resync_s": t.resync_s,
            "one_copy_s": t.one_copy_s,
            "disconnections": t.disconnections,
            "failures": t.failures,
            "episodes": t.episodes,
            "episodes_simulated_message_level": t.simulated_episodes,
            "expect": [],
        }


def run_years(
    sc: S.Scenario, years: float, seed: int = 0, progress: Callable[[float], None] | None = None
) -> dict[str, Any]:
    return Years(sc, years, seed).run(progress)
