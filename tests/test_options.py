"""Policies and options, each as a configuration choice with a visible, tested effect."""

from __future__ import annotations

from quorum.core import Mode, QuorumConfig, Role, Site
from quorum.testing import Driver, run_schedule
from quorum.testing.schedule import Crash, Cut, Heal, Restart, Schedule, SwitchoverStep, TakeoverStep


def drive(config: QuorumConfig, *steps: object, until: float) -> Driver:
    d = Driver(config, Schedule(seed=1, steps=tuple(steps)))  # type: ignore[arg-type]
    d.advance(until)
    assert not d.checker.violations, [v.as_dict() for v in d.checker.violations]
    return d


def solo_site(d: Driver) -> Site | None:
    solo = [s for s, m in d.sites.items() if m.role is Role.SOLO and d.up[s.value]]
    assert len(solo) <= 1
    return solo[0] if solo else None


def test_witness_preferred_gives_a_tie_to_the_preferred_site() -> None:
    d = drive(QuorumConfig(preferred_site="B"), Cut(at=2, src="A", dst="B"), until=30)
    assert solo_site(d) is Site.B


def test_witness_race_first_to_reach_the_witness_wins() -> None:
    """A's path to the witness is slow: B gets there first and wins, although A is preferred."""
    from quorum.testing.schedule import Degrade

    d = drive(
        QuorumConfig(policy="witness-race"),
        Degrade(at=0, src="A", dst="W", oneway=True, delay=1.5),
        Cut(at=2, src="A", dst="B"),
        until=30,
    )
    assert solo_site(d) is Site.B


def test_site_crash_fails_over_and_the_returning_site_is_resynchronised() -> None:
    d = drive(QuorumConfig(), Crash(at=2, node="A"), Restart(at=30, node="A"), until=60)
    assert {m.role for m in d.sites.values()} == {Role.MIRRORED}
    assert not d.copies[Site.A].lacks and not d.copies[Site.B].lacks  # both hold every acked write
    assert d.witness.d.mode is Mode.MIRRORED


def _failover_then_cut(config: QuorumConfig) -> Site | None:
    d = drive(
        config,
        Crash(at=2, node="A"),
        Restart(at=30, node="A"),
        Cut(at=70, src="A", dst="B"),
        until=100,
    )
    return solo_site(d)


def test_no_automatic_failback_by_default() -> None:
    """After a failover to B, A returns as a mirror; the next split goes to B, not back to A."""
    assert _failover_then_cut(QuorumConfig()) is Site.B


def test_auto_failback_returns_priority_to_the_preferred_site() -> None:
    assert _failover_then_cut(QuorumConfig(auto_failback=True)) is Site.A


def test_keep_active_partition_overrides_failback_for_ties() -> None:
    """With auto_failback the preferred site would win; keep-active-partition keeps B."""
    assert _failover_then_cut(QuorumConfig(auto_failback=True, keep_active_partition=True)) is Site.B


def test_keep_active_partition_after_a_planned_switchover() -> None:
    """A switchover to B does not move the preferred site; keep-active-partition does."""

    def after(config: QuorumConfig) -> Site | None:
        d = drive(config, SwitchoverStep(at=2, to="B"), Cut(at=40, src="A", dst="B"), until=70)
        return solo_site(d)

    assert after(QuorumConfig()) is Site.A
    assert after(QuorumConfig(keep_active_partition=True)) is Site.B


def test_pre_election_lets_the_preferred_site_survive_witness_loss_then_cut() -> None:
    """Witness down, then the inter-site link cut: without pre-election both stop; with it, A serves."""
    steps = (Crash(at=2, node="W"), Cut(at=20, src="A", dst="B"))
    without = drive(QuorumConfig(), *steps, until=50)
    assert solo_site(without) is None
    assert all(m.write_authority(without.local(s.value)) is None for s, m in without.sites.items())
    with_pre = drive(QuorumConfig(pre_election=True), *steps, until=50)
    assert solo_site(with_pre) is Site.A
    assert with_pre.sites[Site.B].role is not Role.SOLO


def test_pre_election_winner_keeps_serving_when_the_witness_returns() -> None:
    d = drive(
        QuorumConfig(pre_election=True),
        Crash(at=2, node="W"),
        Cut(at=20, src="A", dst="B"),
        Restart(at=40, node="W"),
        until=80,
    )
    assert solo_site(d) is Site.A
    assert d.witness.d.holder is Site.A


def test_last_man_standing_survives_a_later_witness_loss() -> None:
    """Alone long enough, the survivor keeps serving when the witness then goes away."""
    steps = (Crash(at=2, node="B"), Crash(at=40, node="W"))
    plain = drive(QuorumConfig(policy="majority"), *steps, until=70)
    assert solo_site(plain) is None
    lms = drive(QuorumConfig(policy="last-man-standing", last_man_window=20), *steps, until=70)
    assert solo_site(lms) is Site.A


def test_static_preferred_without_its_preferred_site_is_an_availability_loss() -> None:
    """The documented limitation: B never serves alone; reported as availability loss, not a violation."""
    r = run_schedule(QuorumConfig(policy="static-preferred"), Schedule(steps=(Crash(at=2, node="A"),)))
    assert not r.violations
    assert r.availability_loss is not None and "preferred site A is down" in r.availability_loss


def test_synchronous_mode_never_promotes_a_stale_copy() -> None:
    """A serves alone, then dies: B's copy is stale, so B waits (availability loss), no data lost."""
    sched = Schedule(steps=(Cut(at=2, src="A", dst="B"), Crash(at=20, node="A")))
    r = run_schedule(QuorumConfig(), sched)
    assert not r.violations and r.lost_writes == 0
    assert r.availability_loss is not None


def test_bounded_loss_promotes_the_lagging_copy_and_counts_the_loss() -> None:
    sched = Schedule(steps=(Cut(at=2, src="A", dst="B"), Crash(at=20, node="A")))
    r = run_schedule(QuorumConfig(consistency="bounded-loss"), sched)
    assert not r.violations
    assert r.availability_loss is None
    assert r.lost_writes > 0
    assert any("recorded data loss" in e.text for e in r.trace)


def test_forced_takeover_promotes_a_stale_copy_and_records_the_loss() -> None:
    sched = Schedule(steps=(Cut(at=2, src="A", dst="B"), Crash(at=20, node="A"), TakeoverStep(at=25, to="B")))
    r = run_schedule(QuorumConfig(), sched)
    assert not r.violations
    assert r.lost_writes > 0
    assert any(e.kind == "role" and e.node == "B" and "-> solo" in e.text for e in r.trace)


def test_forced_takeover_waits_out_the_holders_lease() -> None:
    """Even forced, B is not granted while A's lease may still run (A alive but cut off)."""
    sched = Schedule(
        steps=(Cut(at=2, src="A", dst="B"), Cut(at=15, src="A", dst="W"), TakeoverStep(at=16, to="B"))
    )
    r = run_schedule(QuorumConfig(), sched)
    assert not r.safety_violations
    grant = next(e for e in r.trace if e.kind == "role" and e.node == "B" and "-> solo" in e.text)
    a_stop = next(e for e in r.trace if e.kind == "role" and e.node == "A" and "solo -> frozen" in e.text)
    assert a_stop.t < grant.t


def test_planned_switchover_moves_service_without_loss() -> None:
    r = run_schedule(QuorumConfig(), Schedule(steps=(SwitchoverStep(at=3, to="B"),)))
    assert not r.violations and r.lost_writes == 0
    assert any(e.kind == "role" and e.node == "B" and "-> solo" in e.text for e in r.trace)


def test_heal_after_split_restores_the_mirror() -> None:
    d = drive(QuorumConfig(), Cut(at=2, src="A", dst="B"), Heal(at=20, src="A", dst="B"), until=50)
    assert {m.role for m in d.sites.values()} == {Role.MIRRORED}


def test_a_site_learns_the_tie_from_a_mirrored_reply() -> None:
    """A cannot reach the witness while B fails over and serves alone (the tie moves to B), then the
    pair mirrors again at epoch 3. A hears the new tie only in the witness's MIRRORED replies; it must
    take it from them, or after a witness loss both sites propose themselves in the pre-election,
    neither commits, and a cut leaves nobody serving. With the tie learnt, B is pre-elected and serves."""
    d = drive(
        QuorumConfig(pre_election=True),
        Cut(at=0, src="A", dst="W"),
        Crash(at=2, node="A"),
        Restart(at=30, node="A"),
        Heal(at=60, src="A", dst="W"),
        Crash(at=80, node="W"),
        Cut(at=100, src="A", dst="B"),
        until=140,
    )
    assert all(m.tie_site is Site.B for m in d.sites.values())
    assert solo_site(d) is Site.B
