"""Hypothesis strategies for fault schedules.

``schedules(config)`` draws any mix of the faults DESIGN section 4 lists; ``benign_schedules``
draws only loss and delay that stay below the detection timeout (for property L2). Every time is
on a 0.1 s grid and every draw shrinks towards fewer, earlier, simpler faults, so a failing
schedule shrinks to a short readable counterexample.

Example (a user's own property test)::

    from hypothesis import given
    from quorum.core import QuorumConfig
    from quorum.testing import run_schedule, schedules

    CONFIG = QuorumConfig(policy="witness-race", lease_duration=8.0)

    @given(schedules(CONFIG))
    def test_my_configuration_never_splits(schedule):
        result = run_schedule(CONFIG, schedule)
        assert not result.safety_violations, result.timeline()
"""

from __future__ import annotations

from hypothesis import strategies as st

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
SITES = ("A", "B")


def _times(horizon: float) -> st.SearchStrategy[float]:
    return st.integers(min_value=0, max_value=int(horizon * 10)).map(lambda n: n / 10)


def _link() -> st.SearchStrategy[tuple[str, str]]:
    return st.sampled_from([("A", "B"), ("A", "W"), ("B", "W"), ("B", "A"), ("W", "A"), ("W", "B")])


def fault_steps(
    config: QuorumConfig,
    *,
    horizon: float = 40.0,
    drift: str = "within",
    operator: bool = True,
) -> st.SearchStrategy[Step]:
    """One fault step at a time in ``[0, horizon]``.

    ``drift``: ``"within"`` draws clock rates inside ``1 ± max_clock_drift``, ``"beyond"`` draws
    rates up to 30 times that bound (or at least ±5%), ``"none"`` draws no drift at all.
    ``operator`` adds planned switchovers and forced takeovers.
    """
    at = _times(horizon)
    node = st.sampled_from(NODES)
    options: list[st.SearchStrategy[Step]] = [
        st.builds(Cut, at=at, src=st.just("A"), dst=st.just("B"), oneway=st.just(False)),
        st.builds(Crash, at=at, node=node),
        st.builds(Restart, at=at, node=node),
        _link().flatmap(
            lambda ln: st.builds(Cut, at=at, src=st.just(ln[0]), dst=st.just(ln[1]), oneway=st.booleans())
        ),
        _link().flatmap(
            lambda ln: st.builds(Heal, at=at, src=st.just(ln[0]), dst=st.just(ln[1]), oneway=st.booleans())
        ),
        st.builds(Isolate, at=at, node=node),
        st.builds(HealAll, at=at),
        _link().flatmap(
            lambda ln: st.builds(
                Flap,
                at=at,
                src=st.just(ln[0]),
                dst=st.just(ln[1]),
                period=st.integers(1, 80).map(lambda n: n / 10),
                count=st.integers(1, 6),
            )
        ),
        _link().flatmap(
            lambda ln: st.builds(
                Degrade,
                at=at,
                src=st.just(ln[0]),
                dst=st.just(ln[1]),
                oneway=st.booleans(),
                delay=st.integers(0, 60).map(lambda n: n / 10),
                loss=st.integers(0, 10).map(lambda n: n / 10),
                duplicate=st.integers(0, 5).map(lambda n: n / 10),
                reorder=st.integers(0, 30).map(lambda n: n / 10),
            )
        ),
        st.builds(Pause, at=at, node=node, duration=st.integers(1, 200).map(lambda n: n / 10)),
        # a crash between two actions: after the node persisted, before it sent (grant, role...)
        st.builds(CrashAfterPersist, at=at, node=node),
    ]
    rho = config.max_clock_drift
    if drift == "within":
        options.append(st.builds(Drift, at=at, node=node, rate=st.floats(1 - rho, 1 + rho)))
    elif drift == "beyond":
        big = max(30 * rho, 0.05)
        options.append(
            st.builds(
                Drift,
                at=at,
                node=node,
                rate=st.sampled_from([1 - big, 1 + big, 1 - big / 2, 1 + big / 2]),
            )
        )
    seconds = st.integers(1, 300).map(lambda n: n / 10)
    options.append(st.builds(Unhealthy, at=at, site=st.sampled_from(SITES), duration=seconds))
    if config.pre_promote_check:
        options.append(st.builds(Veto, at=at, site=st.sampled_from(SITES), duration=seconds))
    if operator:
        options.append(st.builds(MaintenanceStep, at=at, duration=seconds))
        options.append(st.builds(SwitchoverStep, at=at, to=st.sampled_from(SITES)))
        options.append(st.builds(TakeoverStep, at=at, to=st.sampled_from(SITES), fence=st.booleans()))
    return st.one_of(options)


def lie_steps(horizon: float = 40.0) -> st.SearchStrategy[Step]:
    """A lying or misconfigured site: one forged request to the witness with a site's credentials.

    The claims are about epochs, the witness's own currency: an epoch above the witness's
    (``ahead`` 1, the one a pre-elected winner may mint, or far above), or serving alone at the
    witness's epoch. What a site says about its mirror at the witness's epoch is not drawn: the
    witness cannot check a mirror and trusts a site's token for it (README, "What the witness
    trusts").
    """
    at = _times(horizon)
    site = st.sampled_from(SITES)
    maybe_site = st.one_of(st.none(), site)
    roles = st.sampled_from(["solo", "mirrored", "frozen", "fenced", "starting"])
    wants = st.sampled_from(["report", "solo", "renew", "mirror"])
    ahead = st.one_of(st.just(1), st.integers(2, 60))
    above = st.builds(
        Lie,
        at=at,
        site=site,
        ahead=ahead,
        role=roles,
        want=wants,
        current=st.booleans(),
        solo_holder=maybe_site,
        preelected=maybe_site,
    )
    same = st.builds(
        Lie,
        at=at,
        site=site,
        ahead=st.just(0),
        role=st.just("solo"),
        want=st.sampled_from(["report", "renew", "solo"]),
        current=st.booleans(),
        solo_holder=maybe_site,
        preelected=maybe_site,
    )
    return st.one_of(above, same)


def schedules(
    config: QuorumConfig,
    *,
    max_steps: int = 8,
    horizon: float = 40.0,
    drift: str = "within",
    operator: bool = True,
    lies: bool = False,
) -> st.SearchStrategy[Schedule]:
    """Whole fault schedules: up to ``max_steps`` faults, plus a seed for the network's draws.

    ``lies`` mixes in ``lie_steps``: a site whose claims to the witness are false.
    """
    step = fault_steps(config, horizon=horizon, drift=drift, operator=operator)
    if lies:
        step = st.one_of(step, lie_steps(horizon))
    return st.builds(
        Schedule,
        seed=st.integers(0, 2**16),
        steps=st.lists(step, max_size=max_steps).map(lambda xs: tuple(sorted(xs, key=lambda s: s.at))),
    )


def benign_schedules(
    config: QuorumConfig, *, max_bursts: int = 4, horizon: float = 40.0
) -> st.SearchStrategy[Schedule]:
    """Loss, delay, duplication and reordering that never reach the detection timeout (L2).

    Loss comes as one-way cuts of at most ``miss_threshold - 1`` heartbeat intervals, placed in
    separate 10 s slots so bursts never join up; duplication and reordering (within half of
    ``max_message_delay``) may last for the rest of the run.
    """
    blip_tenths = max(1, int(((config.miss_threshold - 1) * config.heartbeat_interval - 0.1) * 10))
    reorder = config.max_message_delay / 2
    slots = max(1, int(horizon // 10))
    burst = st.tuples(
        st.integers(0, slots - 1),
        _link(),
        st.integers(1, blip_tenths).map(lambda n: n / 10),
        st.booleans(),
    )

    def build(bursts: list[tuple[int, tuple[str, str], float, bool]]) -> tuple[Step, ...]:
        steps: list[Step] = []
        for slot, (src, dst), length, degrade in bursts:
            t0 = 2.0 + 10.0 * slot
            steps.append(Cut(at=t0, src=src, dst=dst, oneway=True))
            steps.append(Heal(at=round(t0 + length, 1), src=src, dst=dst, oneway=True))
            if degrade:
                steps.append(
                    Degrade(
                        at=round(t0 + length + 0.1, 1),
                        src=src,
                        dst=dst,
                        oneway=True,
                        duplicate=0.3,
                        reorder=reorder,
                    )
                )
        return tuple(sorted(steps, key=lambda s: s.at))

    return st.builds(
        Schedule,
        seed=st.integers(0, 2**16),
        steps=st.lists(burst, max_size=max_bursts, unique_by=lambda b: b[0]).map(build),
    )


__all__ = ["benign_schedules", "fault_steps", "lie_steps", "schedules"]
