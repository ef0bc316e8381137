"""Years mode: random failures over a long horizon, with message-level fault episodes.

Theory. Components (the sites, the witness, every path of every link) fail and are repaired by
their laws. Each component's durations come from its own numpy streams, one per concern (``fail``: up
times; ``down``: probe delays and repairs, two chunked sequences of one generator), children of the run's
``SeedSequence`` keyed by a hash of the component's name and the concern, drawn in bulk (an array a call,
:class:`sim.years.laws.Stream`) and made at first use; the stationary start, each shock and the
corruptions have their own streams too. An event loop over a heap walks only the
change points of the down set: a failure, a probe noticing it (uniform within one ``monitoring_interval``),
a repair that starts when one of ``crews`` shared crews is free (a counter and a FIFO queue: the crew
queue is modelled exactly, the durations being consumed in the order each component needs them) and
ends after its repair law; a failure of a member of a ``common_cause`` list takes the whole group down,
a beta-factor group adds a shock stream (:mod:`sim.years.commoncause`), planned windows open and close
(:mod:`sim.years.calendar`). Between change points nothing happens: no heartbeat or event is spent
while every component is up. A run's figures depend only on its seed, never on the executor or on
the runs before it.

A *fault episode* runs from the first failure to the moment everything is up again. It is replayed
through the message-level :class:`sim.story.runner.Runner` (the core decides), with every interval of the
episode compressed to a *window* of at most :func:`window_length` seconds: the liveness bound, plus the
longest timer the configuration arms (``last_man_window`` for last-man-standing, the lease, the
pre-promote retry), plus five heartbeats. After the window no core timer started in it is still pending,
so the state at the window's end is the state of the rest of the real interval (its *steady tail*).
A window ends earlier once it is *quiet* (:class:`_Spans`): the runner's discrete state
(:meth:`sim.story.runner.Runner.quiet_key`) has not changed for :func:`quiet_span` seconds, the window
without its liveness bound, so every timer armed at or before the last change has fired and changed
nothing; the steady tail starts there (``stop_when_quiet=False`` runs every window to its end;
``tests/test_sim_quiet.py`` decides shapes both ways and finds the same end states).

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
import heapq
import itertools
import math
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import lru_cache, partial
from typing import Any

import numpy as np
import numpy.typing as npt

from quorum.core.config import Policy, QuorumConfig
from quorum.testing.world import step_end
from sim.story import scenario as S
from sim.story.runner import Runner
from sim.years.backups import account, distribution
from sim.years.calendar import MAINT, transition, window_process
from sim.years.laws import Stream, draw_many, stationary_state, uniform_many
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


def quiet_span(cfg: QuorumConfig) -> float:
    """Seconds without a change after which a span is over: the window without its liveness bound."""
    return window_length(cfg) - cfg.liveness_bound()


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


@dataclass(frozen=True, slots=True)
class _Entry:
    """One episode shape: the runner's outcome of each span (its intervals, then the recovery window unless
    open at the horizon) and what accounting it needs that does not depend on the real lengths."""

    outs: tuple[Outcome, ...]
    comps: tuple[float, ...]  # compressed seconds of each span (the recovery window: 0, nothing to stretch)
    window_runs: tuple[tuple[tuple[float, float, str], ...], ...]  # per span: down runs in its window, cause
    tail_cause: tuple[str | None, ...]  # per span: the cause of a steady tail that does not serve, else None
    planned: bool  # the episode holds a planned window
    bytes_move: bool  # some span has copy events or copies missing writes
    null: bool = False  # nothing to account: no downtime, split-brain, one-copy time, failover or bytes


# episode shapes by (scenario fingerprint, episode key, open at horizon): shared by every run of a process
_CACHE: dict[tuple[str, Key, bool], _Entry] = {}
_CACHE_LIMIT = 200_000


def _fingerprint(sc: S.Scenario, stop_when_steady: bool, stop_when_quiet: bool) -> str:
    body = sc.model_dump_json(exclude={"name", "description", "faults", "expect", "duration"})
    return hashlib.sha256(f"{stop_when_steady}:{stop_when_quiet}:{body}".encode()).hexdigest()


_MEMO: dict[tuple[int, bool, bool], tuple[S.Scenario, str, Any]] = {}


def _memo(
    sc: S.Scenario, stop_when_steady: bool, stop_when_quiet: bool = True
) -> tuple[S.Scenario, str, Any]:
    """Per scenario object: its fingerprint and structural rule (replications of one scenario share them)."""
    k = (id(sc), stop_when_steady, stop_when_quiet)
    got = _MEMO.get(k)
    if got is None or got[0] is not sc:
        if len(_MEMO) > 64:
            _MEMO.clear()
        got = _MEMO[k] = (sc, _fingerprint(sc, stop_when_steady, stop_when_quiet), rule(sc))
    return got


def _fingerprint_of(sc: S.Scenario, stop_when_steady: bool, stop_when_quiet: bool = True) -> str:
    return str(_memo(sc, stop_when_steady, stop_when_quiet)[1])


def _rule_of(sc: S.Scenario) -> Any:
    return _memo(sc, True)[2]


@dataclass(frozen=True)
class _Static:
    """What a years run derives from its scenario alone (shared by the replications of one scenario)."""

    laws: dict[str, tuple[S.Law, S.Law]]  # failing components, beta-factor members' laws scaled
    groups: dict[str, set[str]]  # list common causes: member -> whole group
    shocks: list[tuple[str, S.Law, frozenset[str]]]  # beta-factor shocks
    window: float
    bandwidth: float
    write_rate: float
    users: int


_STATIC: dict[int, tuple[S.Scenario, _Static]] = {}


def _static(sc: S.Scenario) -> _Static:
    got = _STATIC.get(id(sc))
    if got is not None and got[0] is sc:
        return got[1]
    from sim.years.commoncause import plan

    laws = failing_components(sc)

    def expand(name: str) -> list[str]:
        if name in laws or name in ("A", "B", "W"):
            return [name]
        for lk in sc.topology.links:
            if lk.name == name:
                return [f"{lk.name}#{i}" for i in range(lk.paths)]
        return []

    # common causes (sim.years.commoncause): list groups, beta-factor shocks and the members' scaled laws
    cc = plan(sc, laws, expand)
    st = _Static(
        laws=cc.laws,
        groups=cc.groups,
        shocks=cc.shocks,
        window=window_length(sc.quorum),
        bandwidth=max(
            (lk.bandwidth * lk.paths for lk in sc.topology.links if set(lk.between) == {"A", "B"}),
            default=1e9,
        ),
        write_rate=sum(v.write_rate for v in sc.volumes),
        users=sum(s.users for s in sc.topology.sites.values()),
    )
    if len(_STATIC) > 64:
        _STATIC.clear()
    _STATIC[id(sc)] = (sc, st)
    return st


@lru_cache(maxsize=4096)
def _stream_key(name: str, concern: str) -> int:
    """The spawn-key word of a stream: a hash of ``name:concern`` (stable across runs and processes)."""
    return int.from_bytes(hashlib.sha256(f"{name}:{concern}".encode()).digest()[:8], "big")


def _seed_sequence(seed: int) -> np.random.SeedSequence:
    """The root of a run's streams for an integer seed (a negative one too)."""
    s = int(seed)
    return np.random.SeedSequence(s if s >= 0 else [1, -s])


_FAIL, _PROBED, _REPAIRED, _SHOCK, _WINDOW = range(5)  # kinds of events of the years loop


class _Lazy:
    """A component's stream for one concern, created at its first use."""

    __slots__ = ("_concern", "_gen", "_name", "_years")

    def __init__(self, years: Years, name: str, concern: str) -> None:
        self._years, self._name, self._concern = years, name, concern
        self._gen: np.random.Generator | None = None

    def __call__(self) -> np.random.Generator:
        if self._gen is None:
            self._gen = self._years._stream(self._name, self._concern)
        return self._gen


def _uniform_fill(high: float, lazy: _Lazy, n: int) -> npt.NDArray[np.float64]:
    return uniform_many(high, n, lazy())


def _law_fill(law: S.Law, lazy: _Lazy, n: int) -> npt.NDArray[np.float64]:
    return draw_many(law, n, lazy())


def _seed_label(seed: int | np.random.SeedSequence) -> str:
    if isinstance(seed, np.random.SeedSequence):  # its entropy and spawn key name it
        return f"ss{seed.entropy}" + "".join(f"-{k}" for k in seed.spawn_key)
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


class _Spans:
    """Drives one episode shape through a :class:`sim.story.runner.Runner`, span by span.

    Span ``i`` starts with the transition from the previous down set to its own (the faults applied at
    once) and lasts its compressed length; the recovery window after the last span (all up again) lasts
    :func:`window_length` unless the runner is ``steady()`` at a tick before (``stop_when_steady``).

    A span whose real interval is at least a window long (its compressed length is the whole window)
    ends early once it is *quiet* (``stop_when_quiet``): :meth:`Runner.quiet_key` has not changed for
    :func:`quiet_span` seconds (the longest core timer plus five heartbeats, the window without its
    liveness bound). Every timer the core armed at or before the last change has then fired and changed
    nothing, and sites and witness exchange only heartbeats and requests, so the state is the state at the
    window's end: the steady tail starts there. The span ends at the first tick from then on that lies a
    whole number of ticks before the window's end (the next transition keeps its phase against the
    ticks). Not for the last span of an episode open at the horizon (its liveness check is at the
    liveness bound) nor for an episode with a planned window (the switchover runs on the witness's
    operator timeout)."""

    def __init__(self, y: Years, runner: Runner, key: Key, *, recovery: bool, quiet: bool) -> None:
        self.y, self.runner, self.key, self.recovery, self.quiet = y, runner, key, recovery, quiet
        self.n = len(key) + (1 if recovery else 0)
        self.quiet_for = quiet_span(runner.cfg)
        self.tick = runner.sc.write_interval
        self.bounds: list[tuple[float, float]] = []
        self.snaps: dict[int, tuple[frozenset[str], bool]] = {}
        self.comps: list[float] = []
        self.done = runner.env.event()
        self.i = -1  # the span under way
        self.start = self.natural_end = self.quiet_since = 0.0
        self.may_stop = self.watch_steady = False
        self.last_key: Any = None
        runner.on_tick = self.on_tick

    def begin(self, i: int) -> None:
        r = self.runner
        t = r.env.now
        prev = self.key[i - 1][0] if i > 0 else frozenset()
        ds, length = self.key[i] if i < len(self.key) else (frozenset(), self.y.window)
        faults = transition(prev, ds, t, self.y._fault)  # maintenance windows: sim.years.calendar
        if faults:
            steps = S.scenario_steps(r.sc.model_copy(update={"faults": tuple(faults)}))
            for step in steps:
                if step.at <= t:
                    r.apply(step)
                else:
                    r.at(step.at, r.apply, step)
                r.last_fault_at = max(r.last_fault_at, step_end(step))
        self.i, self.start, self.natural_end = i, t, t + length
        last = i == self.n - 1
        if last:  # liveness (L1) after the last fault, if the run gets there
            check_at = r.last_fault_at + r.cfg.liveness_bound()
            if check_at <= self.natural_end:
                r.checker.liveness_check_at = check_at
                r.at(check_at, r.checker.check_liveness)
        self.may_stop = self.quiet and i < len(self.key) and not last and length == self.y.window
        self.watch_steady = self.recovery and i == len(self.key) and self.y.stop_when_steady
        self.last_key = None
        r.at(self.natural_end, self.end, i, False)

    def on_tick(self) -> None:
        r = self.runner
        if self.watch_steady:
            if r.steady():
                self.watch_steady = False
                self.end(self.i, False)
            return
        if not self.may_stop:
            return
        now = r.env.now
        k = r.quiet_key()
        if k is None or k != self.last_key:
            self.last_key, self.quiet_since = k, now
            return
        if now - self.quiet_since >= self.quiet_for - 1e-9:
            self.may_stop = False
            whole = math.floor((self.natural_end - now) / self.tick + 1e-9)
            r.at(self.natural_end - whole * self.tick, self.end, self.i, True)

    def end(self, i: int, early: bool) -> None:
        """Span ``i`` ends now (``early``: it went quiet before its window's end)."""
        if i != self.i or len(self.bounds) > i:
            return  # ended already (early, or steady)
        r = self.runner
        now = r.env.now
        one_copy = any(c.missing > 0 for c in r.copies.values()) or not (r.up["A"] and r.up["B"])
        self.snaps[i] = (r.accruing(), one_copy)
        self.bounds.append((self.start, now))
        if i < len(self.key):
            self.comps.append(now - self.start if early else self.key[i][1])
        else:
            self.comps.append(0.0)  # the recovery window: real time, nothing to stretch
        if i + 1 < self.n:
            self.begin(i + 1)
        else:
            self.watch_steady = False
            self.done.succeed()


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
        stop_when_quiet: bool = True,
    ) -> None:
        if start not in STARTS:
            raise ValueError(f"start must be one of {', '.join(STARTS)} (got {start!r})")
        self.sc = sc
        self.start = start
        self.stop_when_steady = stop_when_steady
        self.stop_when_quiet = stop_when_quiet
        self.years = years
        self.seed = _seed_label(seed)
        self._root = seed if isinstance(seed, np.random.SeedSequence) else _seed_sequence(seed)
        self.now = 0.0
        self._heap: list[tuple[float, int, int, str]] = []  # (time, order, event kind, name)
        self._seq = 0
        self.crews_free = sc.crews
        self.queue: deque[tuple[str, float | None]] = deque()  # components waiting for a crew, FIFO
        self.waiting: set[str] = set()  # components whose failure clock waits for their repair
        st = _static(sc)
        self.window, self.laws, self.groups, self.shocks = st.window, st.laws, st.groups, st.shocks
        self.serves = _rule_of(sc)
        check_budget(sc, years, self.expected_events())
        self.down: frozenset[str] = frozenset()
        self.current = frozenset({"A", "B"})  # the structure's current copies
        self.struct_serving = True
        self.changed_at = 0.0
        self.episode: list[tuple[float, frozenset[str]]] = []
        self.r = YearsResult(sc.name, self.seed, years)
        self.outages: list[tuple[float, float]] = []
        self.keys: set[Key] = set()
        self.fingerprint = _fingerprint_of(sc, stop_when_steady, stop_when_quiet)
        self.bandwidth, self.write_rate, self.users = st.bandwidth, st.write_rate, st.users
        # called with (key, open at horizon, entry) for every shape this object decides (a disk store)
        self.on_new_shape: Callable[[Key, bool, _Entry], None] | None = None
        self.shapes_decided = 0  # episode shapes this object had the message-level runner decide
        # called with (time, down set) each time the structure goes from serving to not (an outage)
        self.on_outage: Callable[[float, frozenset[str]], None] | None = None

    def expected_events(self) -> float:
        """Failures, shocks and maintenance windows the run is expected to draw over its horizon."""
        horizon = self.years * YEAR
        n = sum(horizon / (fail.mean + repair.mean) for fail, repair in self.laws.values())
        n += sum(horizon / law.mean for _, law, _ in self.shocks)
        n += sum(horizon / S.PERIOD_S[w.every] for w in self.sc.maintenance)
        return n

    # ---- component histories -----------------------------------------------------------------------
    def _stream(self, name: str, concern: str) -> np.random.Generator:
        """The numpy stream of one component (or shock, or start) and concern: a child of the run's
        seed keyed by a hash of ``name:concern``, so adding a component changes no other's draws."""
        h = _stream_key(name, concern)
        ss = np.random.SeedSequence(self._root.entropy, spawn_key=(*self._root.spawn_key, h))
        return np.random.Generator(np.random.PCG64(ss))

    def _streams(self, horizon: float) -> None:
        """Every component's bulk draws, chunks sized for the horizon's expected count (the values depend
        only on the stream, not on the chunking): its up times (stream ``fail``), its probe delays and
        repairs (stream ``down``: two chunked sequences of one generator). Each generator is made at its
        first use: a short replication creates only those it needs (with a stationary start a component
        draws from ``fail`` only after its first repair), and creating one costs more than a chunk of
        draws."""
        m = self.sc.monitoring_interval
        self.up_draws: dict[str, Stream] = {}
        self.probe_draws: dict[str, Stream] = {}
        self.repair_draws: dict[str, Stream] = {}
        names = set(self.laws) | {c for g in self.groups.values() for c in g}
        names |= {c for _n, _l, members in self.shocks for c in members}
        for comp in sorted(names):
            fail, repair = self.laws.get(comp, (None, None))
            cycle = (fail.mean if fail is not None else YEAR) + (repair.mean if repair is not None else m)
            chunk = min(65536, 16 + int(1.2 * horizon / max(cycle, 1e-9)))
            if fail is not None:
                self.up_draws[comp] = Stream(partial(_law_fill, fail, _Lazy(self, comp, "fail")), chunk)
            down = _Lazy(self, comp, "down")
            self.probe_draws[comp] = Stream(partial(_uniform_fill, m, down), chunk)
            if repair is not None:
                self.repair_draws[comp] = Stream(partial(_law_fill, repair, down), chunk)
        self.shock_draws = [
            Stream(partial(draw_many, law, gen=self._stream(name, "fail")), 16 + int(horizon / law.mean))
            for name, law, _members in self.shocks
        ]

    def _at(self, t: float, kind: int, name: str) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (t, self._seq, kind, name))

    def _fails(self, comp: str) -> None:
        """A component's own failure clock fires (a member already down by a common cause draws a new
        up time; otherwise it fails, with its list group, and waits for its repair)."""
        if comp in self.down:
            self._at(self.now + self.up_draws[comp].next(), _FAIL, comp)
            return
        self.r.failures += 1
        newly = ({comp} | self.groups.get(comp, set())) - self.down
        self._change(self.down | newly)
        for c in sorted(newly):
            self._at(self.now + self.probe_draws[c].next(), _PROBED, c)  # noticed by a probe
        self.waiting.add(comp)  # its clock restarts when its repair ends

    def _shock(self, i: int) -> None:
        """A beta-factor common cause: takes down every member still up (sim.years.commoncause)."""
        _name, _law, members = self.shocks[i]
        self._at(self.now + self.shock_draws[i].next(), _SHOCK, str(i))
        newly = members - self.down
        if not newly:
            return
        self.r.failures += 1
        self._change(self.down | newly)
        for c in sorted(newly):
            self._at(self.now + self.probe_draws[c].next(), _PROBED, c)

    def _crew(self, comp: str, remaining: float | None = None) -> None:
        """Ask for a crew (FIFO queue when all are busy); ``remaining``: a repair under way at t=0."""
        if self.crews_free > 0:
            self.crews_free -= 1
            self._repair_starts(comp, remaining)
        else:
            self.queue.append((comp, remaining))

    def _repair_starts(self, comp: str, remaining: float | None) -> None:
        if remaining is None:
            d = self.repair_draws[comp].next() if comp in self.repair_draws else self.sc.monitoring_interval
        else:
            d = remaining
        self._at(self.now + d, _REPAIRED, comp)

    def _repaired(self, comp: str) -> None:
        """A repair ends: the crew goes to the first in the queue, the component is up, and its own
        failure clock restarts if it was waiting for this repair."""
        if self.queue:
            nxt, remaining = self.queue.popleft()
            self._repair_starts(nxt, remaining)
        else:
            self.crews_free += 1
        self._change(self.down - {comp})
        if comp in self.waiting:
            self.waiting.discard(comp)
            self._at(self.now + self.up_draws[comp].next(), _FAIL, comp)

    def _change(self, new: frozenset[str]) -> None:
        if new == self.down:
            return
        now = self.now
        if not self.struct_serving:
            self.r.structural_downtime_s += now - self.changed_at
        self.changed_at = now
        self.down = new
        was = self.struct_serving
        self.struct_serving, self.current = self.serves(new, self.current)
        if was and not self.struct_serving:
            self.r.structural_outages += 1
            if self.on_outage is not None:
                self.on_outage(now, new)
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

    def _entry(self, key: Key, intervals: list[tuple[frozenset[str], float]], is_open: bool) -> _Entry:
        """The cached shape of an episode: the runner's outcomes (simulated once per shape and process)
        and what the accounting needs that does not depend on the real lengths."""
        ck = (self.fingerprint, key, is_open)
        e = _CACHE.get(ck)
        if e is None:
            e = self._shape(key, is_open)
            self.shapes_decided += 1
            if len(_CACHE) > _CACHE_LIMIT:
                _CACHE.clear()
            _CACHE[ck] = e
            if self.on_new_shape is not None:
                self.on_new_shape(key, is_open, e)
        return e

    def prefetch(self, episodes: list[list[tuple[frozenset[str], float]]], executor: Any = None) -> int:
        """Decide, on ``executor`` (:mod:`sim.availability.executors`; None: here), every episode shape of
        ``episodes`` (closed episodes given by their real intervals) not yet in the cache, and cache them;
        returns how many were new. The cache then answers :meth:`replay` for each of them: the outcomes
        are the same whichever process decided them (a shape's outcome is a function of the scenario and
        the shape alone), so a seed gives the same figures with any executor and worker count."""
        w = self.window
        t0 = self.r.horizon_s
        todo: list[Key] = []
        seen: set[Key] = set()
        for intervals in episodes:
            if not intervals:
                continue
            # the key exactly as replay() makes it: lengths as differences of the accumulated times
            times = [t0]
            for _ds, real in intervals:
                times.append(times[-1] + real)
            key = tuple(
                (ds, b - a if b - a < w else w)
                for (ds, _r), a, b in zip(intervals, times, times[1:], strict=False)
            )
            if key in seen or (self.fingerprint, key, False) in _CACHE:
                continue
            seen.add(key)
            todo.append(key)
        if not todo:
            return 0
        workers = 1 if executor is None else max(1, int(getattr(executor, "workers", 1)))
        if workers == 1 or len(todo) < 2:
            entries = [self._shape(k, False) for k in todo]
        else:
            chunks = [todo[i::workers] for i in range(workers)]  # round robin: balanced, order kept below
            tasks = [(self.sc, self.stop_when_steady, self.stop_when_quiet, tuple(c)) for c in chunks if c]
            done = list(executor.map(_shapes_task, tasks))
            by_key = {
                k: e for chunk, es in zip(chunks, done, strict=False) for k, e in zip(chunk, es, strict=True)
            }
            entries = [by_key[k] for k in todo]
        for k, e in zip(todo, entries, strict=True):
            if len(_CACHE) > _CACHE_LIMIT:
                _CACHE.clear()
            _CACHE[(self.fingerprint, k, False)] = e
            if self.on_new_shape is not None:
                self.on_new_shape(k, False, e)
        self.shapes_decided += len(todo)
        return len(todo)

    def _shape(self, key: Key, is_open: bool) -> _Entry:
        """Decide one episode shape with the message-level runner, and what its accounting needs."""
        outs, comps = self._simulate(key, recovery=not is_open)
        planned = any(c.endswith(MAINT) for ds, _ in key for c in ds)
        causes = _causes(list(key), self.serves, planned, is_open)
        e = _Entry(
            outs=tuple(outs),
            comps=tuple(comps),
            window_runs=tuple(
                tuple((x, y, why) for x, y in o.down_runs) for o, (why, _) in zip(outs, causes, strict=True)
            ),
            tail_cause=tuple(
                None if o.serving_at_end else tail for o, (_, tail) in zip(outs, causes, strict=True)
            ),
            planned=planned,
            bytes_move=any(o.copy_events or o.accruing_at_end for o in outs),
            null=not planned
            and all(
                not (o.down_runs or o.violations or o.copy_events or o.accruing_at_end)
                and o.serving_at_end
                and not (o.split_in_window or o.split_at_end or o.one_copy_in_window or o.one_copy_at_end)
                and not (o.failovers or o.solo_entries)
                for o in outs
            ),
        )
        return e

    def _close_episode(self, horizon: float | None, end: float | None = None) -> None:
        """Account the episode in ``self.episode``. ``horizon``: the run ends at that time with the
        episode still open (its last interval lasts up to the horizon, no recovery window)."""
        ep = self.episode
        self.episode = []
        r = self.r
        r.episodes += 1
        last = horizon if horizon is not None else (end if end is not None else self.now)
        is_open = horizon is not None
        w = self.window
        if len(ep) == 2 and not is_open and not ep[1][1]:  # one interval, then all up: the common case
            real = ep[1][0] - ep[0][0]
            n = 1
            intervals = [(ep[0][1], real)]
            key: Key = ((ep[0][1], real if real < w else w),)
        else:
            n = len(ep)
            if not is_open and not ep[-1][1]:
                n -= 1  # the closing (all up) entry
            intervals = [(ep[i][1], (ep[i + 1][0] if i + 1 < len(ep) else last) - ep[i][0]) for i in range(n)]
            key = tuple((ds, real if real < w else w) for ds, real in intervals)
        e = self._entry(key, intervals, is_open)
        self.keys.add(key)
        if e.null:
            return
        outs = e.outs
        if outs[0].violations:
            r.violation_episodes += 1
            for p in sorted({v.split(":")[0] for v in outs[0].violations}):
                r.violations_by_property[p] = r.violations_by_property.get(p, 0) + 1
            if len(r.violation_examples) < 5:
                r.violation_examples.append(f"episode at {ep[0][0]:.0f} s: {outs[0].violations[0]}")
        behind = {"A": 0.0, "B": 0.0}  # bytes each copy misses beyond what the compressed run saw
        runs: list[tuple[float, float, str]] = []
        t = ep[0][0]
        rate = self.write_rate
        for i, o in enumerate(outs):
            comp = e.comps[i]
            real = intervals[i][1] if i < n else 0.0  # the recovery window: real time, nothing to stretch
            rest = real - comp if real > comp else 0.0
            # an episode under way at t=0 (stationary start) counts only what falls after t=0: a window
            # that ended before it not at all, a steady tail from t=0 on
            counted = t + comp > 0.0
            tail = rest if t >= 0.0 else min(rest, max(0.0, t + real))
            if e.window_runs[i]:
                runs.extend((t + x, t + y, why) for x, y, why in e.window_runs[i])
            why_tail = e.tail_cause[i]
            if why_tail is not None and rest > 0:
                runs.append((t + comp, t + real, why_tail))
            if counted:
                r.split_brain_s += o.split_in_window
                r.one_copy_s += o.one_copy_in_window
                r.failovers += o.failovers
                r.solo_entries += o.solo_entries
                r.split_brain_bytes += rate * o.split_in_window
            if o.split_at_end:
                r.split_brain_s += tail
                r.split_brain_bytes += rate * tail
            if o.one_copy_at_end:
                r.one_copy_s += tail
            if e.bytes_move:
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
                    behind[s] += rate * rest
            t += real
        if not runs:
            if e.planned:
                r.maintenance_episode_s.append(0.0)
            return
        if ep[0][0] < 0.0:
            runs = [(max(a, 0.0), b, why) for a, b, why in runs if b > 0.0]
        runs.sort()
        merged: list[list[float]] = []
        reach = -math.inf  # the part of each run no earlier run covers goes to its cause
        by_cause = r.downtime_by_cause_s
        for a, b, why in runs:
            own = b - (a if a > reach else reach)
            if own > 0:
                by_cause[why] = by_cause.get(why, 0.0) + own
            if b > reach:
                reach = b
            if merged and a <= merged[-1][1] + 1e-6:
                if b > merged[-1][1]:
                    merged[-1][1] = b
            else:
                merged.append([a, b])
        total = 0.0
        for a, b in merged:
            total += b - a
            if b - a >= self.sc.session_timeout:
                r.disconnections += self.users
            self.outages.append((a, b))
        if e.planned:  # an episode with a planned window
            r.maintenance_downtime_s += total
            r.maintenance_episode_s.append(total)
        r.downtime_s += total

    def _simulate(self, key: Key, *, recovery: bool) -> tuple[list[Outcome], list[float]]:
        """Run one episode shape through the message-level runner, span by span (:class:`_Spans`): the
        outcome of each span (then of the recovery window) and the compressed seconds of each span."""
        total = 1.0 + sum(length for _ds, length in key) + (self.window if recovery else 0.0)
        sub = self.sc.model_copy(update={"faults": (), "duration": total, "expect": S.Expect()})
        # outcomes are a function of the episode alone: shared across seeds; samples without the plot's lanes
        runner = Runner(sub, 0, lanes=False)
        planned = any(c.endswith(MAINT) for ds, _ in key for c in ds)
        spans = _Spans(self, runner, key, recovery=recovery, quiet=self.stop_when_quiet and not planned)
        runner.at(1.0, spans.begin, 0)
        r = runner.run(stop=spans.done)
        bounds, snaps = spans.bounds, spans.snaps
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
        return outs, spans.comps

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
        """One replication; ``progress(fraction)`` is called after each hundredth of the horizon if given.

        The event loop walks only the change points of the down set: each component's next failure, probe
        and repair end (durations from its bulk streams), the shocks, the planned windows; a heap orders
        them (ties in the order they were scheduled), a counter and a FIFO queue model the crews exactly."""
        horizon = self.years * YEAR
        self._streams(horizon)
        initial = self._initial_states()
        if initial:
            self._start_down(initial)
        for comp in sorted(self.laws):
            state = initial.get(comp)
            if state is None:
                self._at(self.up_draws[comp].next(), _FAIL, comp)
            elif state[0] == "up":
                self._at(state[1], _FAIL, comp)
            else:
                self.waiting.add(comp)
                self._crew(comp, remaining=state[1])
        windows = [window_process(self, w, horizon, CALENDAR_START) for w in self.sc.maintenance]
        for i, proc in enumerate(windows):  # planned windows (sim.years.calendar)
            at = next(proc, None)
            if at is not None:
                self._at(at, _WINDOW, str(i))
        for i in range(len(self.shocks)):
            self._at(self.shock_draws[i].next(), _SHOCK, str(i))
        heap = self._heap
        mark, step = (horizon / 100, horizon / 100) if progress is not None else (math.inf, 0.0)
        while heap and heap[0][0] < horizon:
            t, _seq, kind, name = heapq.heappop(heap)
            while t >= mark and progress is not None:
                progress(round(mark / horizon, 2))
                mark += step
            self.now = t
            if kind == _FAIL:
                self._fails(name)
            elif kind == _PROBED:
                self._crew(name)
            elif kind == _REPAIRED:
                self._repaired(name)
            elif kind == _SHOCK:
                self._shock(int(name))
            else:
                at = next(windows[int(name)], None)
                if at is not None:
                    self._at(max(at, t), _WINDOW, name)
        self.now = horizon
        while progress is not None and mark <= horizon * (1 + 1e-12):
            progress(min(1.0, round(mark / horizon, 2)))
            mark += step
        if not self.struct_serving:
            self.r.structural_downtime_s += horizon - self.changed_at
        if self.episode:  # an episode still open at the horizon counts up to the horizon
            self.r.open_at_horizon = True
            self._close_episode(horizon)
        # logical corruptions and restores (sim.years.backups), from their own stream
        gen = self._stream("corruption", "events") if self.sc.corruption is not None else None
        account(self, horizon, CALENDAR_START, gen)
        return self._finish(horizon)

    def _initial_states(self) -> dict[str, tuple[str, float, float]]:
        """Stationary start: each failing component's ``(state, residual, age)`` at t=0, drawn
        independently (one after the other, in name order, from the run's ``start`` stream:
        :func:`sim.years.laws.stationary_state`): up with probability
        ``MTTF / (MTTF + MDT)`` with the equilibrium residual of its failure law, else down with the
        residual and age of a down phase. Empty for ``start="new"`` (every component new at t=0).

        Exact for independent components (a crew each, no common cause): their joint stationary law is
        the product of these marginals, and MDT (half a probe period plus the mean repair) is their mean
        down time. With shared crews or common-cause groups the start is the independent approximation
        (queueing lengthens the real down time, a group couples the members); the process then relaxes
        towards its own stationary law, with an error of the order of the unavailability of a component
        times the share of the horizon that relaxation takes (one repair time)."""
        if self.start == "new":
            return {}
        m = self.sc.monitoring_interval
        gen = self._stream("components", "start")  # one stream for the start: read once, in name order
        return {comp: stationary_state(*self.laws[comp], m, gen) for comp in sorted(self.laws)}

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


def _shapes_task(task: tuple[S.Scenario, bool, bool, tuple[Key, ...]]) -> list[_Entry]:
    """Decide episode shapes in a worker (module level: executors pickle it)."""
    sc, steady, quiet, keys = task
    y = Years(sc, 1.0, 0, stop_when_steady=steady, stop_when_quiet=quiet)
    return [y._shape(k, False) for k in keys]


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
