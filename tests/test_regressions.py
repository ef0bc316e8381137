"""Counterexamples found by 20,000-schedule explorations (``make deep-test``), kept as fixed schedules.

Each ran into a violation before the rule named in its test was added to the core or the checker;
each must now run clean (no safety violation, and L1 where the policy promises it).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from quorum.core import QuorumConfig, Role, Site
from quorum.testing import run_schedule
from quorum.testing.schedule import (
    Crash,
    Cut,
    Degrade,
    Flap,
    Heal,
    HealAll,
    Restart,
    Schedule,
    Step,
    SwitchoverStep,
    TakeoverStep,
)

CASES: dict[str, tuple[QuorumConfig, tuple[Step, ...], str]] = {
    # A heard B only one way after the split; without a witness, A resumes alone instead of waiting
    # forever for a resynchronisation B can never acknowledge
    "static-preferred: one-way heal, preferred site restarted": (
        QuorumConfig(policy="static-preferred"),
        (
            Cut(at=0, src="A", dst="B"),
            Heal(at=3.1, src="B", dst="A", oneway=True),
            Crash(at=4.1, node="A"),
            Restart(at=4.1, node="A"),
        ),
        "resume alone",
    ),
    # B, fenced by the witness's denial (operator declared it fenced) but holding the only current copy,
    # resynchronises A once the witness is gone and the pending takeover with it
    "witness-race+pre-election: fenced holder of the latest copy recovers the pair": (
        QuorumConfig(policy="witness-race", pre_election=True),
        (
            Cut(at=0, src="A", dst="B"),
            Flap(at=2.1, src="A", dst="B", period=0.9, count=1),
            TakeoverStep(at=5.1, to="A", fence=True),
            Restart(at=5.2, node="B"),
            Crash(at=5.5, node="W"),
        ),
        "peer resynchronised",
    ),
    # W's grant to A never reached it (W->A cut); B restarted and still knows A holds epoch 2 (the
    # holder is persisted), so A resynchronises B and the pair mirrors at epoch 2
    "majority+keep-active-partition: lost grant, restarted peer": (
        QuorumConfig(policy="majority", keep_active_partition=True),
        (
            Cut(at=0, src="A", dst="B"),
            Cut(at=0, src="W", dst="A", oneway=True),
            Flap(at=6.8, src="A", dst="B", period=0.1, count=2),
            Crash(at=10.1, node="B"),
            Restart(at=14, node="B"),
        ),
        "peer resynchronised",
    ),
    "witness-preferred+auto-failback: lost grant, restarted peer": (
        QuorumConfig(auto_failback=True),
        (
            Cut(at=0, src="A", dst="B"),
            Cut(at=0, src="W", dst="A", oneway=True),
            Flap(at=2.1, src="A", dst="B", period=0.9, count=1),
            Crash(at=4.5, node="B"),
            Restart(at=4.5, node="B"),
        ),
        "peer resynchronised",
    ),
    # a switchover grant to B crossed B's commitment to A's pre-election; A, the pre-elected winner,
    # minted the same epoch itself: the witness adopts A as its holder (before: B later took the grant
    # on a stale copy, S2)
    "witness-preferred+pre-election: switchover grant crosses a pre-election": (
        QuorumConfig(pre_election=True),
        (
            Cut(at=5.1, src="A", dst="W"),
            SwitchoverStep(at=9.4, to="B"),
            Cut(at=11.1, src="A", dst="B"),
            HealAll(at=15.1),
        ),
        "adopted epoch 2 reported by A",
    ),
    # the preferred site flaps between solo and frozen on a link that stays lossy: faults have not
    # stopped, so L1 is not promised at one instant (an availability loss, not a violation)
    "static-preferred+pre-promote-check: link lossy to the end": (
        QuorumConfig(policy="static-preferred", pre_promote_check=True, pre_promote_retry=5),
        (Degrade(at=0.2, src="A", dst="B", loss=0.7),),
        "",
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_counterexample_now_runs_clean(name: str) -> None:
    config, steps, expected = CASES[name]
    result = run_schedule(config, Schedule(seed=0, steps=steps))
    assert not result.violations, result.timeline()
    assert expected in result.timeline()


def test_switchover_crossing_a_pre_election_leaves_one_holder() -> None:
    config, steps, _ = CASES["witness-preferred+pre-election: switchover grant crosses a pre-election"]
    result = run_schedule(config, Schedule(seed=0, steps=steps))
    solo = [e for e in result.trace if e.kind == "role" and f"-> {Role.SOLO.value} epoch 2" in e.text]
    assert [e.node for e in solo] == ["A"]


# A restarted witness ignored the tie rule (issue 14, item 1): it crashed at 50 s, the inter-site link
# was cut at 60.5 s while it was down (both sites froze and kept asking), and it came back at 70 s.
# A site its new incarnation had not heard yet counted as silent, so the split went to whichever site
# asked first (B in 30 of 50 network seeds) and the decision said "preferred site A silent for 4s"
# while A was alive and asking. The witness now measures silence from its start.
RESTART_THEN_CUT = (Crash(at=50, node="W"), Cut(at=60.5, src="A", dst="B"), Restart(at=70, node="W"))
TIE_POLICIES = ("witness-preferred", "majority", "last-man-standing")


@pytest.mark.parametrize("policy", TIE_POLICIES)
def test_restarted_witness_keeps_the_tie_rule(policy: str) -> None:
    """Witness down, link cut, witness back: the tie site A wins in every network seed, and every
    recorded reason is the tie rule (never a silence the restarted witness did not observe)."""
    config = QuorumConfig(policy=policy)
    for seed in range(50):
        result = run_schedule(config, Schedule(seed=seed, steps=RESTART_THEN_CUT))
        assert not result.violations, result.timeline()
        solo = [e for e in result.trace if e.kind == "role" and "-> solo" in e.text]
        assert [e.node for e in solo][:1] == ["A"], (seed, result.timeline())
        grants = [e.text for e in result.trace if e.kind == "decision" and " solo " in e.text]
        assert grants and all("silent" not in g and "not contending" not in g for g in grants), grants
        assert "A is the preferred site" in grants[0] or "tie-breaker: A" in grants[0], grants


@pytest.mark.parametrize("policy", TIE_POLICIES)
def test_restarted_witness_keeps_the_tie_rule_in_the_simulator(policy: str) -> None:
    """The same story in the simulator (scenarios/witness-restart-then-cut.yaml): A serves, B stops."""
    from pathlib import Path

    from sim.story.runner import run_scenario
    from sim.story.scenario import load_scenario

    sc = load_scenario(Path(__file__).parent.parent / "scenarios" / "witness-restart-then-cut.yaml")
    sc = sc.model_copy(update={"quorum": sc.quorum.model_copy(update={"policy": policy})})
    for seed in range(10):
        r = run_scenario(sc, seed=seed)
        solo = [e.node for e in r.timeline if e.kind == "role" and "-> solo" in e.text]
        assert solo[:1] == ["A"], (seed, [e.text for e in r.timeline if e.kind == "decision"])


def test_a_witness_judges_silence_only_after_a_detection_timeout_from_its_start() -> None:
    """Unit rule: a witness that never heard the tie site waits; once a detection timeout has passed
    since its start without a word from it, the other site is granted, and the reason says so."""
    from quorum.core import Verdict, WitnessMachine, WitnessRequest
    from quorum.core.config import Site
    from quorum.core.messages import Send, Want, WitnessReply

    config = QuorumConfig()
    w = WitnessMachine(config, now=100.0)
    req = WitnessRequest(
        site=Site.B, seq=1, sent_at=100.5, want=Want.SOLO, epoch=1, role=Role.FROZEN, current=True
    )

    def verdict(now: float) -> WitnessReply:
        reply = next(a.message for a in w.handle(now, req) if isinstance(a, Send))
        assert isinstance(reply, WitnessReply)
        return reply

    assert verdict(100.5).verdict is Verdict.WAIT
    late = verdict(100.0 + config.detection_timeout + 0.1)
    assert late.verdict is Verdict.GRANT_SOLO
    assert "not heard in the" in late.reason and "since the witness started" in late.reason


# The stateful kit raised a false L1 alarm (issue 14, item 4): a flap kept toggling the link after the
# teardown's heal_all (until about 41 s), and the teardown then moved the last fault back to "now", so
# liveness was judged while the link was still flapping. heal_all now stops pending flaps (checker and
# simulator) and the teardown never moves the last fault backwards.
def test_teardown_after_a_flap_raises_no_false_liveness_alarm() -> None:
    """make_state_machine(last-man-standing), seed 0, Flap(A, B, 5.8 s, x4) at 0, teardown: clean."""
    from quorum.testing import make_state_machine

    machine = make_state_machine(QuorumConfig(policy="last-man-standing"))()
    machine.seed_network(0)
    machine.driver.inject(Flap(at=0, src="A", dst="B", period=5.8, count=4))
    machine.teardown()
    assert not machine.driver.checker.violations


def test_heal_all_stops_a_pending_flap_in_the_checker() -> None:
    """After heal_all (and after a two-way heal) a flapping link stays up."""
    from quorum.testing.driver import Driver

    for heal in (HealAll(at=1.0), Heal(at=1.0, src="B", dst="A")):
        d = Driver(QuorumConfig(), Schedule(steps=(Flap(at=0, src="A", dst="B", period=5.8, count=4), heal)))
        for t in (0.5, 12.0, 24.0, 47.0):
            d.advance(t)
            assert d.path("A", "B") == (t > 1.0), (heal, t)


def test_a_heal_stops_a_pending_flap_in_the_simulator() -> None:
    """In a scenario, a whole-link heal ends a flap: the link stays up (and a replayed heal_all, which
    becomes a heal of every link, means the same as in the checker)."""
    from sim.story.runner import Runner
    from sim.story.scenario import parse_scenario

    sc = parse_scenario(
        "name: flap-then-heal\nduration: 60\nfaults:\n"
        "  - {at: 0, do: flap, link: ab, period: 5.8, count: 4}\n"
        "  - {at: 1, do: heal, link: ab}\n",
        "flap-then-heal",
    )
    r = Runner(sc, seed=0)
    for step in r.steps:
        r.at(step.at, r.apply, step)
    for t in (0.5, 12.0, 24.0, 47.0):
        r.env.run(until=t)
        assert r.path("A", "B") == (t > 1.0), t


def test_make_test_draws_the_same_examples_every_run() -> None:
    """The profile `make test` loads is derandomized: two runs of one property see the same schedules."""
    from hypothesis import given
    from hypothesis import settings as hsettings

    from quorum.testing import schedules

    assert hsettings.default.derandomize, "the fast profile must be derandomized"

    def draws() -> list[Schedule]:
        seen: list[Schedule] = []

        @hsettings(max_examples=10)
        @given(schedules(QuorumConfig()))
        def collect(schedule: Schedule) -> None:
            seen.append(schedule)

        collect()
        return seen

    assert draws() == draws()


# Counterexamples saved by `make deep-test` (tests/test_properties.py) land in tests/regressions/ as
# `quorum check --save` files; each replays clean here. A file may add {"expect": {"timeline_contains":
# TEXT, "timeline_lacks": TEXT}}; files named l2-* are replayed as L2 (no role change) schedules.
SAVED = sorted((Path(__file__).parent / "regressions").glob("*.json"))


@pytest.mark.parametrize("path", SAVED, ids=[p.stem for p in SAVED])
def test_saved_counterexample_now_runs_clean(path: Path) -> None:
    import json

    from quorum.testing.explore import load_replay

    config, schedule = load_replay(path)
    result = run_schedule(config, schedule, expect_no_role_change=path.name.startswith("l2-"))
    assert not result.violations, result.timeline()
    expect = json.loads(path.read_text()).get("expect", {})
    if "timeline_contains" in expect:
        assert expect["timeline_contains"] in result.timeline(), result.timeline()
    if "timeline_lacks" in expect:
        assert expect["timeline_lacks"] not in result.timeline(), result.timeline()


# The checker can crash a node between two actions (issue 14, item 3): `crash_after_persist` stops the
# node right after its next durable write and before it sends what follows. Before, only a live test
# reached the window "grant persisted, reply not sent" by timing, for one policy.
def test_witness_crash_between_persisting_a_grant_and_sending_it() -> None:
    """A dies; W persists epoch 2 for B and crashes before the reply: B does not serve until W is back,
    then W sends the persisted grant again and B serves alone at epoch 2 (never a second epoch 2)."""
    from quorum.testing.driver import Driver
    from quorum.testing.schedule import CrashAfterPersist

    steps = (
        CrashAfterPersist(at=0.5, node="W"),
        Crash(at=1.0, node="A"),
        Restart(at=30.0, node="W"),
    )
    d = Driver(QuorumConfig(), Schedule(seed=0, steps=steps))
    d.advance(29.0)
    assert not d.up["W"] and d.witness_store is not None
    assert d.witness_store.epoch == 2 and d.witness_store.holder is not None
    assert d.witness_store.holder.value == "B"
    assert 2 not in d.checker.grants  # persisted, never sent
    assert d.sites[Site.B].role is not Role.SOLO
    d.run()
    assert not d.checker.violations, "\n".join(e.text for e in d.trace)
    solo = [e for e in d.trace if e.kind == "role" and "-> solo" in e.text]
    assert [(e.node, "epoch 2" in e.text) for e in solo][:1] == [("B", True)]
    assert any("crash W after it persisted, before it sent" in e.text for e in d.trace)


@pytest.mark.parametrize("node", ["W", "A", "B"])
@pytest.mark.parametrize("policy", ["witness-preferred", "witness-race", "majority", "last-man-standing"])
def test_crash_after_persist_during_a_split_keeps_every_property(policy: str, node: str) -> None:
    """Each node crashes right after its first durable write of a split (a site freezing, the witness
    granting), then restarts: S1-S3 hold and some site serves again (L1)."""
    from quorum.testing.schedule import CrashAfterPersist

    steps = (
        CrashAfterPersist(at=1.0, node=node),
        Cut(at=2.0, src="A", dst="B"),
        Restart(at=25.0, node=node),
    )
    result = run_schedule(QuorumConfig(policy=policy), Schedule(seed=1, steps=steps))
    assert not result.violations, result.timeline()
    assert f"crash {node} after it persisted, before it sent" in result.timeline()


def test_the_strategies_draw_crashes_between_two_actions() -> None:
    """`schedules()` (what `quorum check` explores) includes crash_after_persist for every node."""
    from hypothesis import find

    from quorum.testing import fault_steps
    from quorum.testing.schedule import CrashAfterPersist

    for node in ("A", "B", "W"):
        step = find(
            fault_steps(QuorumConfig()), lambda s, n=node: isinstance(s, CrashAfterPersist) and s.node == n
        )
        assert isinstance(step, CrashAfterPersist)


def test_the_simulator_crashes_a_node_between_persisting_and_sending() -> None:
    """The same step in a scenario file: W persists the grant for B, crashes, and B serves once W is back."""
    from sim.story.runner import run_scenario
    from sim.story.scenario import parse_scenario

    sc = parse_scenario(
        "name: crash-after-persist\nduration: 120\nfaults:\n"
        "  - {at: 5, do: crash_after_persist, node: W}\n"
        "  - {at: 10, do: crash, node: A}\n"
        "  - {at: 40, do: restore, node: W}\n",
        "crash-after-persist",
    )
    r = run_scenario(sc, seed=0)
    texts = [(e.kind, e.node, e.text) for e in r.timeline]
    crash = texts.index(("fault", "W", "crash W after it persisted, before it sent"))
    solo = [i for i, (k, n, t) in enumerate(texts) if k == "role" and n == "B" and "-> solo" in t]
    assert solo and solo[0] > crash
    assert r.witness_store is not None and r.witness_store.epoch == 2


# Planned maintenance was not planned (issue 14, item 7): the switchover lasted about a second, A
# rejoined as a mirror at the next epoch with the tie still on A, so when A went down B froze and the
# witness granted it with "preferred site A silent for 4s": two failovers for one planned move. Now the
# maintained site shuts down as soon as the other serves alone.
def test_planned_maintenance_moves_service_once_without_a_freeze() -> None:
    """scenarios/maintenance.yaml up to B's crash: B goes solo once (the switchover), never freezes,
    the witness never grants on silence, and the metrics count one failover."""
    from sim.story.runner import run_scenario
    from sim.story.scenario import load_scenario

    sc = load_scenario(Path(__file__).parent.parent / "scenarios" / "maintenance.yaml")
    r = run_scenario(sc, seed=0)
    before_b_fails = [e for e in r.timeline if e.t < 200]
    roles = [(e.node, e.text.split(":")[0]) for e in before_b_fails if e.kind == "role"]
    assert roles == [("B", "mirrored -> solo epoch 2")], roles
    assert not [e for e in before_b_fails if e.kind == "decision" and "silent" in e.text]
    assert r.metrics.failovers == 1


# Metrics that say what they mean (issue 14, item 6).
def test_failovers_count_changes_of_the_serving_site_not_solo_entries() -> None:
    """A serves alone after a cut, its lease runs out while it cannot reach the witness, and it goes
    solo again: service never moved to B, so one failover; the two entries into SOLO are solo_entries
    (the old count). The JSON and the summary carry both."""
    from sim.story.report import as_json, summary
    from sim.story.runner import run_scenario
    from sim.story.scenario import parse_scenario

    sc = parse_scenario(
        "name: solo-again\nduration: 200\nfaults:\n  - {at: 10, do: cut, link: ab}\n"
        "  - {at: 60, do: cut, link: aw}\n  - {at: 90, do: heal, link: aw}\n",
        "solo-again",
    )
    r = run_scenario(sc, seed=0)
    assert (r.metrics.failovers, r.metrics.solo_entries) == (1, 2)
    doc = as_json(r, 0)
    assert (doc["failovers"], doc["solo_entries"]) == (1, 2)
    assert "2 entries into solo" in summary(r, 0)


def test_an_s1_violation_caused_by_drift_beyond_the_bound_says_so() -> None:
    """With clocks drifting beyond max_clock_drift, the S1 violation names the drift as its cause."""
    from quorum.testing.schedule import Drift, Isolate

    tight = QuorumConfig(
        consistency="bounded-loss", max_clock_drift=0.01, lease_margin=0.1, lease_duration=10
    )
    steps = (
        Drift(at=0, node="A", rate=0.8),
        Drift(at=0, node="W", rate=1.2),
        Cut(at=1, src="A", dst="B"),
        Isolate(at=15, node="A"),
    )
    v = run_schedule(tight, Schedule(steps=steps)).violations[0]
    assert v.property == "S1" and "caused by clock drift beyond max_clock_drift=0.01" in v.detail
    assert "A 0.8" in v.detail and "W 1.2" in v.detail


def test_serving_can_expect_exactly_one_of_two_sites() -> None:
    """`serving: {at, one_of: [A, B]}` passes when exactly one of them serves, fails when both or
    none do; giving both `sites` and `one_of` (or neither) is a validation error."""
    from sim.story.report import check_expect
    from sim.story.runner import run_scenario
    from sim.story.scenario import ScenarioError, parse_scenario

    text = (
        "name: race\nquorum: {policy: witness-race}\nduration: 150\nfaults:\n"
        "  - {at: 60, do: cut, link: ab}\nexpect:\n  serving:\n"
        "    - {at: 50, one_of: [A, B]}\n    - {at: 120, one_of: [A, B]}\n"
    )
    results = check_expect(run_scenario(parse_scenario(text, "race"), seed=0))
    assert [x["pass"] for x in results] == [False, True], results  # both serve at 50: not "one of"
    assert results[1]["expected"] == "exactly one of A and B"
    for bad in ("{at: 5, sites: [A], one_of: [A, B]}", "{at: 5}"):
        with pytest.raises(ScenarioError, match="one_of"):
            parse_scenario(f"name: x\nexpect:\n  serving:\n    - {bad}\n", "x")


@pytest.mark.parametrize("policy", ["witness-preferred", "witness-race", "majority", "last-man-standing"])
def test_a_site_that_served_alone_remembers_it_across_a_restart(policy: str) -> None:
    """Found by the derandomized stateful kit: B served alone at epoch 2 while A was down, its lease ran
    out (solo -> frozen, persisted as FROZEN), B crashed; all restarted with the witness down again.
    Rebuilt from its durable state B forgot it had served alone, took A's stale copy for current and
    mirrored with it (S2: writes acknowledged on both copies, earlier solo writes missing on A). A site
    whose durable record names it the holder of its epoch, and that was not mirrored since, served alone."""
    from quorum.testing.schedule import CrashAfterPersist, Isolate

    steps = (
        Crash(at=0.0, node="A"),
        Isolate(at=4.1, node="B"),
        Crash(at=11.5, node="B"),
        CrashAfterPersist(at=14.1, node="W"),
        HealAll(at=14.1),
        Restart(at=14.1, node="W"),
        Restart(at=14.1, node="A"),
        Restart(at=14.1, node="B"),
    )
    result = run_schedule(QuorumConfig(policy=policy), Schedule(seed=1, steps=steps))
    assert "frozen epoch 2: solo lease ran out" in result.timeline()
    assert not [v for v in result.violations if v.property in ("S1", "S2", "S3")], result.timeline()


@pytest.mark.parametrize("policy", ["witness-preferred", "witness-race"])
def test_a_pre_elected_epoch_mirrored_while_the_witness_was_away_is_adopted(policy: str) -> None:
    """Found by `make deep-test` (lying-site exploration, seed 777): with the witness away, A minted
    epoch 2 as the pre-elected winner, resynchronised B and mirrored at epoch 2; when A reached the
    witness again it reported epoch 2 *mirrored*, which the witness (at epoch 1) refused as
    unaccountable, so after a cut nobody could serve (L1). A current site reporting the next epoch with
    pre-election on is what a pre-elected winner leaves behind: it is adopted with that site as holder."""
    from quorum.testing.schedule import Isolate

    steps = (
        Isolate(at=0.4, node="W"),
        Flap(at=6.1, src="A", dst="B", period=4.0, count=1),
        Cut(at=14.1, src="A", dst="B"),
        Heal(at=14.1, src="A", dst="W"),
    )
    result = run_schedule(QuorumConfig(policy=policy, pre_election=True), Schedule(seed=0, steps=steps))
    assert "solo -> mirrored epoch 2" in result.timeline()
    assert not result.violations, result.timeline()
